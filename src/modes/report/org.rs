//! The organisation report's gathering: which repositories, then per repository one recursive
//! tree listing of the audit branch and the day-manifest blobs, 8 repositories at a time,
//! through the GitHub client core (its retry policy handles rate limits) and the disk cache
//! (blobs by SHA, ETag revalidation), so a repeated run costs fewer requests.

use futures_util::stream::{self, StreamExt};

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::github::git_trees::ResponseCache;
use crate::adapters::github::{ApiError, GitHub, GitHubConfig};
use crate::adapters::reports::DiskCache;
use crate::domain::kpi::{self, DayManifest, RepoHistory};
use crate::error::{Failure, FailureReason, Result};
use crate::inputs::ReportInputs;

/// Repositories read at once.
pub const CONCURRENCY: usize = 8;

pub async fn histories(
    inputs: &ReportInputs,
    env: &RunEnv,
    actions: &Actions,
    repos: &[String],
    owners: &[String],
) -> Result<Vec<RepoHistory>> {
    let token = inputs.github_token.as_ref().ok_or_else(|| {
        Failure::new(
            FailureReason::MissingInput,
            "input 'github-token' is required",
        )
    })?;
    let config = GitHubConfig::from_env(env)?;
    let log = |m: &str| actions.info(m);
    let gh = GitHub::new(&config, token, &log)?;
    let cache = DiskCache::new(
        env.workspace.join(&inputs.cache_dir),
        crate::adapters::files::Owner::of(&env.workspace).ok(),
    );

    // 1. Which repositories: the named ones, then every one of each owner.
    let mut targets: Vec<(String, Option<String>)> =
        repos.iter().map(|r| (r.clone(), None)).collect();
    for owner in owners {
        let listed = gh.owner_repos(owner, &cache).await.map_err(|e| {
            Failure::new(
                FailureReason::GithubApiFailed,
                format!("listing the repositories of {owner}: {e}"),
            )
        })?;
        for r in listed {
            if !targets
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case(&r.full_name))
            {
                targets.push((r.full_name, r.default_branch));
            }
        }
    }
    actions.info(&format!(
        "report: reading {} repositories, {CONCURRENCY} at a time",
        targets.len()
    ));

    // 2. Each repository's days.
    let reports_dir = inputs.reports_dir.to_string_lossy().into_owned();
    let histories = stream::iter(targets)
        .map(|(repo, branch)| {
            let (gh, cache, reports_dir) = (&gh, &cache, reports_dir.as_str());
            async move {
                let days = days_of(gh, cache, &repo, branch, inputs, reports_dir).await;
                RepoHistory { repo, days }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    Ok(histories)
}

/// One repository's day manifests, or why they could not be read.
async fn days_of(
    gh: &GitHub<'_>,
    cache: &dyn ResponseCache,
    repo: &str,
    default_branch: Option<String>,
    inputs: &ReportInputs,
    reports_dir: &str,
) -> std::result::Result<Vec<DayManifest>, String> {
    let unreadable = |e: ApiError| match e.status() {
        Some(404) => "not found, or the token cannot read it (HTTP 404)".to_string(),
        Some(409) => "empty repository (HTTP 409)".to_string(),
        _ => e.to_string(),
    };
    let branch = match (&inputs.audit_branch, default_branch) {
        (Some(b), _) => b.clone(),
        (None, Some(b)) => b,
        (None, None) => match gh.repo_info(repo, cache).await.map_err(unreadable)? {
            None => {
                return Err(unreadable(ApiError::Status {
                    status: 404,
                    message: String::new(),
                    attempts: 1,
                }))
            }
            Some(info) => info.default_branch.unwrap_or_else(|| "main".into()),
        },
    };
    let tree = gh
        .cached_tree(repo, &branch, cache)
        .await
        .map_err(|e| match e.status() {
            Some(404) => format!("no branch {branch:?}, or the token cannot read it (HTTP 404)"),
            _ => unreadable(e),
        })?;
    if tree.truncated {
        return Err(format!(
            "the tree of {branch:?} is too large for one listing (truncated by GitHub)"
        ));
    }
    let mut days = Vec::new();
    for entry in tree.tree.iter().filter(|e| e.kind == "blob") {
        let Some(day) = kpi::manifest_day(&entry.path, reports_dir) else {
            continue;
        };
        let bytes = gh
            .cached_blob(repo, &entry.sha, cache)
            .await
            .map_err(unreadable)?;
        days.push(DayManifest::from_bytes(day, bytes));
    }
    days.sort_by(|a, b| a.date.cmp(&b.date));
    Ok(days)
}
