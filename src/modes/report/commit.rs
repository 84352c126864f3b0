//! `audit-store: commit` for the report: its three files (dashboard, badge JSON, badge SVG) on
//! the audit branch in one commit through `adapters::store::files` (`CommitStore::put_files`),
//! after they are written to the workspace. No commit when the branch already holds the same
//! files (`domain::report_commit::same_content`: the dashboard's generation time aside).
//!
//! Never fails the report: a refused commit (no token, 403, retries exhausted) is a warning and
//! the workspace files stand. `workspace` and `none` commit nothing (the report writes no audit
//! trail file, so for it both mean "the workspace files only").

use crate::modes::audit_trail::number_env;
use std::path::{Component, Path};

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::github::{GitHub, GitHubConfig};
use crate::adapters::store::commit::{CommitStore, Stored, DEFAULT_CAS_ATTEMPTS, ENV_CAS_ATTEMPTS};
use crate::adapters::store::files::{FileSet, FilesStored};
use crate::domain::audit_record::{safe_relative, FileWrite};
use crate::domain::kpi::Kpis;
use crate::domain::report_commit;
use crate::error::Result;
use crate::inputs::{AuditStore, ReportInputs};

/// What the commit needs, settled before anything is written (a bad `GITHUB_API_URL` or retry
/// knob fails the run at start-up, as in every mode). `None`: nothing to commit.
pub struct Plan {
    config: GitHubConfig,
}

pub fn prepare(inputs: &ReportInputs, env: &RunEnv, actions: &Actions) -> Result<Option<Plan>> {
    if inputs.store != AuditStore::Commit {
        return Ok(None);
    }
    if inputs.github_token.is_none() {
        actions.warning(
            "report: no github-token, so the dashboard and badges are not committed (audit-store: commit); they are in the workspace only",
        );
        return Ok(None);
    }
    Ok(Some(Plan {
        config: GitHubConfig::from_env(env)?,
    }))
}

/// `a/b/c` from a workspace-relative path (inputs already refused absolute and `..` paths).
fn branch_path(rel: &Path) -> Option<String> {
    let parts: Vec<&str> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    let joined = parts.join("/");
    safe_relative(&joined).then_some(joined)
}

/// Commit the files (already in the workspace) to the audit branch; outputs `audit-commit` and,
/// on a protected branch, `audit-pull-request`.
pub async fn commit_files(
    plan: Plan,
    inputs: &ReportInputs,
    env: &RunEnv,
    actions: &mut Actions,
    files: &[(&std::path::PathBuf, String)],
    totals: &Kpis,
) {
    let refused = |actions: &Actions, reason: &str| {
        actions.warning(&format!(
            "report: the dashboard and badges could not be committed ({reason}); they are in the workspace only"
        ));
    };
    // The token is checked by `prepare`; the repository and the paths here.
    let Some(token) = inputs.github_token.as_ref() else {
        return;
    };
    let Some(repository) = env.get("GITHUB_REPOSITORY").map(str::to_string) else {
        return refused(actions, "GITHUB_REPOSITORY is not set");
    };
    let mut writes = Vec::with_capacity(files.len());
    for (rel, text) in files {
        let Some(path) = branch_path(rel) else {
            return refused(actions, &format!("{} is not a branch path", rel.display()));
        };
        writes.push(FileWrite {
            path,
            bytes: text.as_bytes().to_vec(),
        });
    }
    let dashboard = branch_path(&inputs.dashboard_path);
    let same = |path: &str, ours: &[u8], theirs: &[u8]| {
        report_commit::same_content(dashboard.as_deref() == Some(path), ours, theirs)
    };
    let run_id = env.get("GITHUB_RUN_ID").unwrap_or("0").to_string();
    let message = report_commit::commit_message(totals, &run_id);
    let side_prefix = report_commit::pr_branch_prefix(&run_id);

    let notes = std::sync::Mutex::new(Vec::<String>::new());
    let log = |m: &str| {
        if let Ok(mut n) = notes.lock() {
            n.push(m.to_string());
        }
    };
    let outcome = match GitHub::new(&plan.config, token, &log) {
        Err(e) => FilesStored::Stored(Stored::Refused {
            reason: e.to_string(),
        }),
        Ok(gh) => {
            let store = CommitStore {
                gh: &gh,
                repository: &repository,
                branch: inputs.audit_branch.as_deref(),
                attempts: number_env(env, ENV_CAS_ATTEMPTS, DEFAULT_CAS_ATTEMPTS),
                backoff_base: plan.config.policy.base,
                log: &log,
            };
            let set = FileSet {
                files: &writes,
                message: &message,
                side_prefix: &side_prefix,
                same: &same,
            };
            store.put_files(&set).await
        }
    };
    for n in notes.into_inner().unwrap_or_default() {
        actions.info(&n);
    }
    match outcome {
        FilesStored::Unchanged { branch } => actions.info(&format!(
            "report: {branch} already holds these figures: no commit"
        )),
        FilesStored::Stored(Stored::Committed {
            branch,
            commit,
            attempts,
        }) => {
            actions.info(&format!(
                "report: the dashboard and badges are committed to {branch}: {commit} ({attempts} attempt{})",
                if attempts == 1 { "" } else { "s" }
            ));
            let _ = actions.set_output("audit-commit", &commit);
        }
        FilesStored::Stored(Stored::PullRequest {
            branch,
            commit,
            url,
        }) => {
            actions.notice(&format!(
                "The audit branch is protected: the dashboard and badges are on {branch} ({commit}), pull request {url}"
            ));
            let _ = actions.set_output("audit-commit", &commit);
            let _ = actions.set_output("audit-pull-request", &url);
        }
        FilesStored::Stored(Stored::Refused { reason }) => refused(actions, &reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_paths_are_slash_joined_and_relative() {
        assert_eq!(
            branch_path(Path::new("./docs/reports/x.md")).as_deref(),
            Some("docs/reports/x.md")
        );
        assert_eq!(branch_path(Path::new(".")), None);
    }
}
