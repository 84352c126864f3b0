//! `source: supabase`: the history from the `slsa_runs` table instead of the files.

use std::time::Duration;

use crate::adapters::context::RunEnv;
use crate::adapters::github::GitHubConfig;
use crate::adapters::supabase_query::Supabase;
use crate::domain::kpi::{self, RepoHistory};
use crate::domain::retry::RetryPolicy;
use crate::error::{Failure, FailureReason, Result};
use crate::inputs::Repositories;
use crate::secret::Secret;

pub async fn histories(
    env: &RunEnv,
    url: &url::Url,
    key: &Secret,
    repositories: &Repositories,
) -> Result<Vec<RepoHistory>> {
    // The same retry and timeout knobs as the GitHub client.
    let (policy, timeout) = GitHubConfig::from_env(env)
        .map(|c| (c.policy, c.timeout))
        .unwrap_or((RetryPolicy::default(), Duration::from_secs(30)));
    let fail = |e: String| Failure::new(FailureReason::SupabaseQueryFailed, e);
    let client = Supabase::new(url.clone(), key, policy, timeout).map_err(fail)?;
    let (only, owners): (Vec<String>, Vec<String>) = match repositories {
        Repositories::Workspace => (
            env.get("GITHUB_REPOSITORY")
                .map(|r| vec![r.to_string()])
                .unwrap_or_default(),
            Vec::new(),
        ),
        Repositories::Listed { repos, owners } => (repos.clone(), owners.clone()),
    };
    // With owners to match, fetch everything and filter here (PostgREST's `in` cannot glob).
    let filter = if owners.is_empty() {
        only.clone()
    } else {
        Vec::new()
    };
    let rows = client.runs(&filter).await.map_err(fail)?;
    let wanted = |repo: &str| {
        (only.is_empty() && owners.is_empty())
            || only.iter().any(|r| r == repo)
            || owners
                .iter()
                .any(|o| repo.split_once('/').is_some_and(|(owner, _)| owner == o))
    };
    let rows: Vec<_> = rows.into_iter().filter(|(repo, _)| wanted(repo)).collect();
    let mut by_repo = kpi::days_from_rows(rows);
    let mut out: Vec<RepoHistory> = Vec::new();
    // Named repositories with no rows are shown with no runs, not dropped.
    for r in &only {
        by_repo.entry(r.clone()).or_default();
    }
    for (repo, days) in by_repo {
        out.push(RepoHistory {
            repo,
            days: Ok(days),
        });
    }
    Ok(out)
}
