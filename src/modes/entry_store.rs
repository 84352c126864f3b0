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
//!
//! "Update if" (`update_entry_if`): the update may decline on the entry as the store read it
//! (`Conditional::Declined`, nothing written anywhere). The `commit` store re-applies it to the
//! entry it re-reads after every lost race, so the condition holds on the state the commit
//! replaces: that is what makes recover's claim exclusive across runners. An update that only
//! counts on the branch itself (`BranchWrite::Required`, the claim) is never turned into a pull
//! request or a workspace-only warning: it comes back `Conditional::NotCommitted` and nothing
//! is written.

use std::path::Path;

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::files;
use crate::adapters::github::{GitHub, GitHubConfig};
use crate::adapters::store::commit::{
    CommitStore, Decide, EntryChange, EntryStored, Stored, DEFAULT_CAS_ATTEMPTS, ENV_CAS_ATTEMPTS,
};
use crate::adapters::store::workspace;
use crate::domain::entry_update::{self, Target, UpdateError};
use crate::domain::manifest::ManifestEntry;
use crate::domain::{audit_chain, sink_row};
use crate::error::{Failure, FailureReason, Result};
use crate::inputs::entry_store::EntryStoreInputs;
use crate::inputs::AuditStore;
use crate::modes::audit_trail::{self, number_env};
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
    let always = |e: &mut ManifestEntry, _: &[ManifestEntry]| {
        update(e);
        Ok(())
    };
    Ok(
        match update_entry_if(req, &always, BranchWrite::Lenient, actions).await? {
            Conditional::Applied(entry) => entry.map(|e| *e),
            // An update that never declines, in lenient mode: neither happens.
            Conditional::Declined(_) | Conditional::NotCommitted(_) => None,
        },
    )
}

/// How a conditional update takes a `commit` store that does not take the commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchWrite {
    /// A refused commit warns and the workspace copy carries the update; a protected branch
    /// gets a pull request; no entry on the branch: the workspace copy only.
    Lenient,
    /// The update counts only on the audit branch itself (recover's claim): anything but a
    /// commit on the branch is `Conditional::NotCommitted`, and nothing is written anywhere.
    Required,
}

/// What a conditional update came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Conditional {
    /// Written: the entry as written (`None`: no entry to update, or `audit-store: none`).
    Applied(Option<Box<ManifestEntry>>),
    /// The update declined on the entry as the store read it (the reason): nothing written.
    Declined(String),
    /// `BranchWrite::Required` and the audit branch did not take the commit (the reason):
    /// nothing written.
    NotCommitted(String),
}

/// "Update if": `decide` sees the entry and the whole trail as the store read them and either
/// changes the entry or declines. With `audit-store: commit` the branch decides first (its
/// compare-and-swap re-applies `decide` to what it re-reads); the workspace copy follows only
/// when the branch took the update. An applied update is then synced to the Supabase table
/// when one is configured (the row follows the entry; a failure only warns).
pub async fn update_entry_if(
    req: &EntryRequest<'_>,
    decide: &Decide<'_>,
    mode: BranchWrite,
    actions: &mut Actions,
) -> Result<Conditional> {
    let done = store_update(req, decide, mode, actions).await?;
    if let (Conditional::Applied(Some(entry)), Some(s)) = (&done, &req.inputs.supabase) {
        let repository = req.env.get("GITHUB_REPOSITORY").unwrap_or_default();
        let rows = [(
            format!("{} run {}", entry.tag, entry.run_id),
            sink_row::row(entry, repository),
        )];
        // A warning only (`sink-failed` is the run record's output, provenance's).
        audit_trail::sink_rows(req.env, s, &rows, actions).await;
    }
    Ok(done)
}

/// The update in the store `audit-store` names (see [`update_entry_if`]).
async fn store_update(
    req: &EntryRequest<'_>,
    decide: &Decide<'_>,
    mode: BranchWrite,
    actions: &mut Actions,
) -> Result<Conditional> {
    match req.inputs.store {
        AuditStore::None => Ok(Conditional::Applied(None)),
        AuditStore::Workspace => update_workspace(req, decide, actions),
        AuditStore::Commit => {
            // The branch first: a tampered trail there fails the mode before the workspace
            // copy changes; a declined or refused update there writes nothing here either.
            let committed = match update_branch(req, decide, mode, actions).await? {
                Conditional::Applied(entry) => entry,
                other => return Ok(other),
            };
            let local = match update_workspace(req, decide, actions) {
                Ok(Conditional::Applied(entry)) => entry,
                // The branch is the store: a stale workspace copy does not undo its update.
                Ok(Conditional::Declined(why) | Conditional::NotCommitted(why)) => {
                    actions.info(&format!(
                        "{}: the workspace copy of {} is not updated ({why}); the audit branch is",
                        req.what, req.target
                    ));
                    None
                }
                // An update that counts on the branch (a claim) is taken: its caller must go
                // on (and release it), so the workspace copy's failure is only a warning.
                Err(f) if mode == BranchWrite::Required => {
                    actions.warning(&format!(
                        "{}: the audit branch took the update of {}, its workspace copy failed: {}",
                        req.what, req.target, f.message
                    ));
                    None
                }
                Err(f) => return Err(f),
            };
            Ok(Conditional::Applied(committed.or(local)))
        }
    }
}

/// The workspace's files.
fn update_workspace(
    req: &EntryRequest<'_>,
    decide: &Decide<'_>,
    actions: &Actions,
) -> Result<Conditional> {
    let dir = req.env.workspace.join(req.reports_dir);
    let days = workspace::read_trail(&dir).map_err(|e| {
        Failure::new(
            FailureReason::WriteFailed,
            format!("reading the manifests below {}: {e}", dir.display()),
        )
    })?;
    match entry_update::update_entry_if(&days, &req.target, |e, all| decide(e, all)) {
        Ok(up) => {
            if up.writes.is_empty() {
                actions.debug(&format!(
                    "{}: the entry of {} already says so",
                    req.what, req.target
                ));
                return Ok(Conditional::Applied(Some(Box::new(up.entry))));
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
            Ok(Conditional::Applied(Some(Box::new(up.entry))))
        }
        Err(UpdateError::Tampered(t)) => Err(tampered(t)),
        Err(UpdateError::NotFound) => {
            actions.debug(&format!(
                "{}: no entry of {} below {}",
                req.what,
                req.target,
                dir.display()
            ));
            Ok(Conditional::Applied(None))
        }
        Err(UpdateError::Declined(why)) => Ok(Conditional::Declined(why)),
        Err(UpdateError::Invalid(e)) => Err(Failure::new(FailureReason::WriteFailed, e)),
    }
}

/// The audit branch, by the run record's compare-and-swap.
async fn update_branch(
    req: &EntryRequest<'_>,
    decide: &Decide<'_>,
    mode: BranchWrite,
    actions: &mut Actions,
) -> Result<Conditional> {
    let Some(token) = req.token else {
        if mode == BranchWrite::Required {
            return Ok(Conditional::NotCommitted(
                "no github-token to commit to the audit branch with".into(),
            ));
        }
        actions.warning(&format!(
            "{}: no github-token, so the update of {} is not committed (audit-store: commit); it is in the workspace copy only",
            req.what, req.target
        ));
        return Ok(Conditional::Applied(None));
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
                update: decide,
                pull_request_when_protected: mode == BranchWrite::Lenient,
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
            Ok(Conditional::Applied(Some(entry)))
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
            Ok(Conditional::Applied(Some(entry)))
        }
        EntryStored::Stored(Stored::Refused { reason }, _) | EntryStored::Refused(reason) => {
            if mode == BranchWrite::Required {
                return Ok(Conditional::NotCommitted(reason));
            }
            actions.warning(&format!(
                "{}: the update of {} could not be committed ({reason}); it is in the workspace copy only",
                req.what, req.target
            ));
            Ok(Conditional::Applied(None))
        }
        EntryStored::Unchanged => Ok(Conditional::Applied(None)),
        EntryStored::NotApplied(UpdateError::Tampered(t)) => Err(tampered(t)),
        EntryStored::NotApplied(UpdateError::Declined(why)) => Ok(Conditional::Declined(why)),
        EntryStored::NotApplied(UpdateError::NotFound) => {
            if mode == BranchWrite::Required {
                return Ok(Conditional::NotCommitted(format!(
                    "the audit branch has no entry of {}",
                    req.target
                )));
            }
            actions.notice(&format!(
                "{}: the audit branch has no entry of {}: nothing committed",
                req.what, req.target
            ));
            Ok(Conditional::Applied(None))
        }
        EntryStored::NotApplied(UpdateError::Invalid(e)) => {
            Err(Failure::new(FailureReason::WriteFailed, e))
        }
    }
}
