//! Storing a run's audit record once its workspace files are written: the `commit` store
//! (draining a given queue in the same commit), the queue when Git says no, and the Supabase
//! sink. Shared by every mode that records a run.
//!
//! Nothing here fails the run: the provenance exists whatever happens to its record. A refused
//! commit becomes `out/provenance/queued-manifest.json` + `manifest-queued=true` + a warning; a
//! failed sink becomes `sink-failed=true` + a warning.

use std::path::Path;
use std::time::Duration;

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::github::{GitHub, GitHubConfig};
use crate::adapters::store::commit::{CommitStore, Stored, DEFAULT_CAS_ATTEMPTS, ENV_CAS_ATTEMPTS};
use crate::adapters::store::workspace;
use crate::adapters::supabase::Supabase;
use crate::domain::audit_record::{enqueue, AuditRecord};
use crate::domain::manifest::{Manifest, ManifestEntry};
use crate::domain::sink_row;
use crate::inputs::audit::SupabaseInputs;
use crate::inputs::{AuditInputs, AuditStore};
use crate::secret::Secret;

/// Where a refused record waits, relative to the workspace.
pub const QUEUE_PATH: &str = "out/provenance/queued-manifest.json";

pub struct StoreRequest<'a> {
    pub env: &'a RunEnv,
    pub inputs: &'a AuditInputs,
    pub token: Option<&'a Secret>,
    pub repository: &'a str,
    pub record: AuditRecord,
}

/// Store the record per `audit-store`, then send it to Supabase when configured.
pub async fn store_run(req: StoreRequest<'_>, actions: &mut Actions) {
    if req.inputs.store == AuditStore::None {
        return;
    }
    let mut sunk: Vec<AuditRecord> = vec![req.record.clone()];
    if req.inputs.store == AuditStore::Commit {
        let drained = drain(&req, actions);
        sunk.extend(drained.iter().cloned());
        commit(&req, &drained, actions).await;
    }
    sink(&req, &sunk, actions).await;
}

/// The records of the `queued-manifest` input. A file we cannot read is left alone (warned).
fn drain(req: &StoreRequest<'_>, actions: &Actions) -> Vec<AuditRecord> {
    let Some(rel) = &req.inputs.queued_manifest else {
        return Vec::new();
    };
    match workspace::read_queue(&req.env.workspace.join(rel)) {
        Ok(Some(q)) => {
            actions.info(&format!(
                "queued-manifest: {} queued entr{} to record in this run's commit",
                q.records.len(),
                if q.records.len() == 1 { "y" } else { "ies" }
            ));
            q.records
        }
        Ok(None) => {
            actions.notice(&format!(
                "queued-manifest {} does not exist: nothing to drain",
                rel.display()
            ));
            Vec::new()
        }
        Err(e) => {
            actions.warning(&format!(
                "queued-manifest cannot be read, so it is not drained: {e}"
            ));
            Vec::new()
        }
    }
}

/// A positive number from a `SLSA_PROVENANCE_*` knob, else `default`.
pub(crate) fn number_env(env: &RunEnv, name: &str, default: u32) -> u32 {
    env.get(name)
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

async fn commit(req: &StoreRequest<'_>, drained: &[AuditRecord], actions: &mut Actions) {
    let stored = match req.token {
        None => Stored::Refused {
            reason: "no github-token to commit with".into(),
        },
        Some(token) => match GitHubConfig::from_env(req.env) {
            Err(e) => Stored::Refused {
                reason: e.to_string(),
            },
            Ok(config) => {
                let notes = std::sync::Mutex::new(Vec::<String>::new());
                let log = |m: &str| {
                    if let Ok(mut n) = notes.lock() {
                        n.push(m.to_string());
                    }
                };
                let stored = match GitHub::new(&config, token, &log) {
                    Err(e) => Stored::Refused {
                        reason: e.to_string(),
                    },
                    Ok(gh) => {
                        let store = CommitStore {
                            gh: &gh,
                            repository: req.repository,
                            branch: req.inputs.branch.as_deref(),
                            attempts: number_env(req.env, ENV_CAS_ATTEMPTS, DEFAULT_CAS_ATTEMPTS),
                            backoff_base: config.policy.base,
                            log: &log,
                        };
                        store.store(&req.record, drained).await
                    }
                };
                for n in notes.into_inner().unwrap_or_default() {
                    actions.info(&n);
                }
                stored
            }
        },
    };
    match stored {
        Stored::Committed {
            branch,
            commit,
            attempts,
        } => {
            actions.info(&format!(
                "Audit trail committed to {branch}: {commit} ({attempts} attempt{})",
                if attempts == 1 { "" } else { "s" }
            ));
            let _ = actions.set_output("audit-commit", &commit);
            let _ = actions.set_output("manifest-queued", "false");
        }
        Stored::PullRequest {
            branch,
            commit,
            url,
        } => {
            actions.notice(&format!(
                "The audit branch is protected: the audit trail is on {branch} ({commit}), pull request {url}"
            ));
            let _ = actions.set_output("audit-commit", &commit);
            let _ = actions.set_output("audit-pull-request", &url);
            let _ = actions.set_output("manifest-queued", "false");
        }
        Stored::Refused { reason } => {
            let mut all = drained.to_vec();
            all.push(req.record.clone());
            queue(req.env.workspace.as_path(), &all, &reason, actions);
        }
    }
}

/// Add the records to the workspace's queue file (never losing what it already holds).
fn queue(ws: &Path, records: &[AuditRecord], reason: &str, actions: &mut Actions) {
    let path = ws.join(QUEUE_PATH);
    let existing = match workspace::read_queue(&path) {
        Ok(q) => q,
        Err(e) => {
            actions.warning(&format!(
                "the audit commit failed ({reason}) and the queue file cannot be read ({e}); the entry is only in the workspace manifest"
            ));
            let _ = actions.set_output("manifest-queued", "false");
            return;
        }
    };
    let q = enqueue(existing, records);
    match workspace::write_queue(&path, &q, crate::adapters::files::Owner::of(ws).ok()) {
        Ok(()) => {
            actions.warning(&format!(
                "The audit trail could not be committed ({reason}); the entry is queued in {QUEUE_PATH} (upload it as an artifact and pass it as 'queued-manifest' to a later run)"
            ));
            let _ = actions.set_output("manifest-queued", "true");
            let _ = actions.set_output("queued-manifest-path", QUEUE_PATH);
        }
        Err(e) => {
            actions.warning(&format!(
                "The audit trail could not be committed ({reason}) nor queued ({e})"
            ));
            let _ = actions.set_output("manifest-queued", "false");
        }
    }
}

/// The sealed entry as the workspace manifest holds it (it carries `entry_hash`), else the
/// record's own.
fn sealed_entry(ws: &Path, r: &AuditRecord) -> ManifestEntry {
    let path = ws.join(r.day_dir()).join("manifest.json");
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| Manifest::parse(&t).ok())
        .and_then(|m| {
            m.entries
                .into_iter()
                .find(|e| e.tag == r.entry.tag && e.run_id == r.entry.run_id)
        })
        .unwrap_or_else(|| r.entry.clone())
}

async fn sink(req: &StoreRequest<'_>, records: &[AuditRecord], actions: &mut Actions) {
    let Some(s) = &req.inputs.supabase else {
        return;
    };
    let rows: Vec<(String, serde_json::Value)> = records
        .iter()
        .map(|r| {
            (
                format!("{} run {}", r.entry.tag, r.entry.run_id),
                sink_row::row(&sealed_entry(&req.env.workspace, r), req.repository),
            )
        })
        .collect();
    let ok = sink_rows(req.env, s, &rows, actions).await;
    let _ = actions.set_output("sink-failed", if ok { "false" } else { "true" });
}

/// Upsert `rows` (a label for messages, the row) into the Supabase table. Never fails the
/// run: the manifest in Git is the record; a failure warns. Whether every row was stored.
pub(crate) async fn sink_rows(
    env: &RunEnv,
    s: &SupabaseInputs,
    rows: &[(String, serde_json::Value)],
    actions: &mut Actions,
) -> bool {
    let timeout = Duration::from_millis(u64::from(number_env(
        env,
        crate::adapters::github::ENV_HTTP_TIMEOUT_MS,
        30_000,
    )));
    let base = Duration::from_millis(u64::from(number_env(
        env,
        crate::adapters::github::ENV_RETRY_BASE_MS,
        1000,
    )));
    let client = match Supabase::new(&s.url, &s.key, timeout, base) {
        Ok(c) => c,
        Err(e) => {
            actions.warning(&format!("Supabase sink: {e}"));
            return false;
        }
    };
    let mut failed = Vec::new();
    for (label, row) in rows {
        if let Err(e) = client.upsert(&s.table, row).await {
            failed.push(format!("{label}: {e}"));
        }
    }
    if failed.is_empty() {
        actions.info(&format!(
            "Supabase sink: {} row(s) upserted into {}",
            rows.len(),
            s.table
        ));
        true
    } else {
        actions.warning(&format!(
            "Supabase sink failed (the manifest in Git is the record): {}",
            failed.join("; ")
        ));
        false
    }
}
