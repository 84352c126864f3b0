//! The row a manifest entry becomes in the Supabase table (`supabase/migrations/DDL_slsa_runs.sql`)
//! and the payload of the seed's `provenance-validate` function (seed 002 §1.5).
//!
//! Pure. The upsert key is (`tag`, `run_id`), the manifest's own key, so a re-run updates its row.

use serde_json::{json, Value};

use super::manifest::ManifestEntry;

/// `repository` is `owner/repo`: one table can serve an organisation's report.
pub fn row(entry: &ManifestEntry, repository: &str) -> Value {
    let status: String = entry.status.clone().into();
    json!({
        "repository": repository,
        "tag": entry.tag,
        "run_id": entry.run_id,
        "run_attempt": entry.run_attempt,
        "sha": entry.sha,
        "actor": entry.actor,
        "status": status,
        "governance_flag": entry.governance_flag,
        "artifact_url": entry.artifact_url,
        "release_url": entry.release_url,
        "provenance_sha256": entry.provenance_sha256,
        "validation_status": entry.validation_status,
        "failure_reason": entry.failure_reason,
        "manifest_hash": entry.entry_hash,
        "rollback_of": entry.rollback_of,
        "recorded_at": entry.timestamp,
        "metadata": serde_json::to_value(entry).unwrap_or(Value::Null),
    })
}

/// `{tag, run_id, status, verified_at}` plus `failure_reason` on failure.
pub fn validate_payload(
    tag: &str,
    run_id: u64,
    status: &str,
    verified_at: &str,
    failure_reason: Option<&str>,
) -> Value {
    let mut v = json!({"tag": tag, "run_id": run_id, "status": status, "verified_at": verified_at});
    if let Some(r) = failure_reason {
        v["failure_reason"] = r.into();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::manifest::{test_entry, RunStatus};

    #[test]
    fn row_carries_the_key_the_hash_and_the_whole_entry() {
        let mut e = test_entry("v1", 7, RunStatus::Failure);
        e.failure_reason = Some("signing_failed".into());
        e.entry_hash = Some("d".repeat(64));
        let r = row(&e, "octo/app");
        assert_eq!(r["tag"], "v1");
        assert_eq!(r["repository"], "octo/app");
        assert_eq!(r["run_id"], 7);
        assert_eq!(r["status"], "failure");
        assert_eq!(r["failure_reason"], "signing_failed");
        assert_eq!(r["manifest_hash"], "d".repeat(64));
        assert_eq!(r["metadata"]["actor"], "octocat");
    }

    #[test]
    fn validate_payload_names_the_failure_only_on_failure() {
        let ok = validate_payload("v1", 7, "passed", "2026-01-01T00:00:00Z", None);
        assert!(ok.get("failure_reason").is_none());
        let bad = validate_payload("v1", 7, "failed", "t", Some("digest_mismatch"));
        assert_eq!(bad["failure_reason"], "digest_mismatch");
    }
}
