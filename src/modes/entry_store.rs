//! The one path for "update the entry of run R with this pure update" through the audit store
//! (`audit-store`), shared by validate, notify and recover (issue 8: every mode that learns
//! something about a run updates that run's entry through the same store, by the same
//! compare-and-swap).
//!
//! - `workspace`: the day files below `reports-dir`, re-sealed by `domain::entry_update` (the
//!   day and every later day), each written atomically and owned by the workspace's owner.
//! - `commit`: the branch, then the workspace copy as above when it holds the entry (later
//!   steps of the job read it). The branch: `adapters::store::commit::CommitStore::update_entry`, the run
//!   record's compare-and-swap loop (422 -> re-read, re-apply, retry), protected branch -> pull
//!   request. A refused commit is a warning: the update is in the workspace copy only.
//! - `none`: nothing.
//!
//! A trail that fails its chain check is never re-sealed: `manifest_tampered`, nothing written.

use std::path::Path;

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::files;
use crate::adapters::github::{GitHub, GitHubConfig};
use crate::adapters::store::commit::{
    CommitStore, EntryChange, EntryStored, Stored, DEFAULT_CAS_ATTEMPTS, ENV_CAS_ATTEMPTS,
};
use crate::adapters::store::workspace;
use crate::domain::audit_chain;
use crate::domain::entry_update::{self, Target, UpdateError};
use crate::domain::manifest::ManifestEntry;
use crate::error::{Failure, FailureReason, Result};
use crate::inputs::entry_store::EntryStoreInputs;
use crate::inputs::AuditStore;
use crate::secret::Secret;

/// One update request: which run, by which mode, in which store.
pub struct EntryRequest<'a> {
    pub env: &'a RunEnv,
    pub inputs: &'a EntryStoreInputs,
    pub token: Option<&'a Secret>,
    /// Workspace-relative (and branch-relative) folder of the day folders.
    pub reports_dir: &'a Path,
    pub target: Target,
    /// The mode, for messages, the commit message and a pull request's branch.
    pub what: &'a str,
}

fn tampered(e: impl std::fmt::Display) -> Failure {
    Failure::new(
        FailureReason::ManifestTampered,
        format!("the audit trail fails its check, so nothing was written: {e}"),
    )
}

/// The chain check a mode runs before it acts: the workspace's trail below `reports_dir`
/// (none is fine). `audit-store: none` checks nothing (the mode writes no audit file).
pub fn check_trail(env: &RunEnv, inputs: &EntryStoreInputs, reports_dir: &Path) -> Result<()> {
    if inputs.store == AuditStore::None {
        return Ok(());
    }
    let dir = env.workspace.join(reports_dir);
    let days = workspace::read_trail(&dir).map_err(|e| {
        tampered(format!(
            "reading the manifests below {}: {e}",
            dir.display()
        ))
    })?;
    audit_chain::verify_days(&days).map_err(tampered)?;
    Ok(())
}

/// Update the entry `req.target` names with `update`. `Ok(None)`: no entry to update (nothing
/// written), or `audit-store: none`.
pub async fn update_entry(
    req: &EntryRequest<'_>,
    update: &(dyn Fn(&mut ManifestEntry) + Sync),
    actions: &mut Actions,
) -> Result<Option<ManifestEntry>> {
    if req.inputs.store == AuditStore::None {
        return Ok(None);
    }
    if req.inputs.store == AuditStore::Workspace {
        return update_workspace(req, update, actions);
    }
    // The branch first: a tampered trail there fails the mode before the workspace copy changes.
    let committed = update_branch(req, update, actions).await?;
    let local = update_workspace(req, update, actions)?;
    Ok(committed.or(local))
}

/// The workspace's files.
fn update_workspace(
    req: &EntryRequest<'_>,
    update: &(dyn Fn(&mut ManifestEntry) + Sync),
    actions: &Actions,
) -> Result<Option<ManifestEntry>> {
    let dir = req.env.workspace.join(req.reports_dir);
    let days = workspace::read_trail(&dir).map_err(|e| {
        Failure::new(
            FailureReason::WriteFailed,
            format!("reading the manifests below {}: {e}", dir.display()),
        )
    })?;
    match entry_update::update_entry(&days, &req.target, |e| update(e)) {
        Ok(up) => {
            if up.writes.is_empty() {
                actions.debug(&format!(
                    "{}: the entry of {} already says so",
                    req.what, req.target
                ));
                return Ok(Some(up.entry));
            }
            workspace::write_days(&dir, &up.writes, files::Owner::of(&req.env.workspace).ok())
                .map_err(|e| Failure::new(FailureReason::WriteFailed, format!("writing {e}")))?;
            actions.info(&format!(
                "{}: updated the entry of {} in {} ({} day file{} re-sealed)",
                req.what,
                req.target,
                dir.display(),
                up.writes.len(),
                if up.writes.len() == 1 { "" } else { "s" }
            ));
            Ok(Some(up.entry))
        }
        Err(UpdateError::Tampered(t)) => Err(tampered(t)),
        Err(UpdateError::NotFound) => {
            actions.debug(&format!(
                "{}: no entry of {} below {}",
                req.what,
                req.target,
                dir.display()
            ));
            Ok(None)
        }
        Err(UpdateError::Invalid(e)) => Err(Failure::new(FailureReason::WriteFailed, e)),
    }
}

fn number_env(env: &RunEnv, name: &str, default: u32) -> u32 {
    env.get(name)
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// The audit branch, by the run record's compare-and-swap.
async fn update_branch(
    req: &EntryRequest<'_>,
    update: &(dyn Fn(&mut ManifestEntry) + Sync),
    actions: &mut Actions,
) -> Result<Option<ManifestEntry>> {
    let Some(token) = req.token else {
        actions.warning(&format!(
            "{}: no github-token, so the update of {} is not committed (audit-store: commit); it is in the workspace copy only",
            req.what, req.target
        ));
        return Ok(None);
    };
    let config = GitHubConfig::from_env(req.env)?;
    let Some(repository) = req.env.get("GITHUB_REPOSITORY").map(str::to_string) else {
        return Err(Failure::new(
            FailureReason::MissingContext,
            "GITHUB_REPOSITORY is not set",
        ));
    };
    let reports = req.reports_dir.to_string_lossy().replace('\\', "/");
    let notes = std::sync::Mutex::new(Vec::<String>::new());
    let log = |m: &str| {
        if let Ok(mut n) = notes.lock() {
            n.push(m.to_string());
        }
    };
    let outcome = match GitHub::new(&config, token, &log) {
        Err(e) => EntryStored::Refused(e.to_string()),
        Ok(gh) => {
            let store = CommitStore {
                gh: &gh,
                repository: &repository,
                branch: req.inputs.branch.as_deref(),
                attempts: number_env(req.env, ENV_CAS_ATTEMPTS, DEFAULT_CAS_ATTEMPTS),
                backoff_base: config.policy.base,
                log: &log,
            };
            let change = EntryChange {
                reports_dir: reports.trim_matches('/'),
                target: &req.target,
                what: req.what,
                update,
            };
            store.update_entry(&change).await
        }
    };
    for n in notes.into_inner().unwrap_or_default() {
        actions.info(&n);
    }
    match outcome {
        EntryStored::Stored(
            Stored::Committed {
                branch,
                commit,
                attempts,
            },
            entry,
        ) => {
            actions.info(&format!(
                "{}: the update of {} is committed to {branch}: {commit} ({attempts} attempt{})",
                req.what,
                req.target,
                if attempts == 1 { "" } else { "s" }
            ));
            let _ = actions.set_output("audit-commit", &commit);
            Ok(Some(*entry))
        }
        EntryStored::Stored(
            Stored::PullRequest {
                branch,
                commit,
                url,
            },
            entry,
        ) => {
            actions.notice(&format!(
                "The audit branch is protected: the update of {} is on {branch} ({commit}), pull request {url}",
                req.target
            ));
            let _ = actions.set_output("audit-commit", &commit);
            let _ = actions.set_output("audit-pull-request", &url);
            Ok(Some(*entry))
        }
        EntryStored::Stored(Stored::Refused { reason }, _) | EntryStored::Refused(reason) => {
            actions.warning(&format!(
                "{}: the update of {} could not be committed ({reason}); it is in the workspace copy only",
                req.what, req.target
            ));
            Ok(None)
        }
        EntryStored::Unchanged => Ok(None),
        EntryStored::NotApplied(UpdateError::Tampered(t)) => Err(tampered(t)),
        EntryStored::NotApplied(UpdateError::NotFound) => {
            actions.notice(&format!(
                "{}: the audit branch has no entry of {}: nothing committed",
                req.what, req.target
            ));
            Ok(None)
        }
        EntryStored::NotApplied(UpdateError::Invalid(e)) => {
            Err(Failure::new(FailureReason::WriteFailed, e))
        }
    }
}
