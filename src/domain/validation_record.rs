//! Record a validation on the validated run's manifest entry: `validation_status`,
//! `validated_at`, `failure_reason` (seed 002 §1). Pure; the mode reads and writes the files.
//! Kept in one function so the committed audit store can re-route it.

use super::manifest::{Manifest, ManifestEntry};

/// Which entry was validated: a workflow run, or else the latest entry for a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidatedRun<'a> {
    RunId(u64),
    Tag(&'a str),
}

/// The outcome to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationOutcome<'a> {
    /// `passed`, `failed` or `unsigned` (passed, but only thanks to `allow-unsigned`).
    pub status: &'a str,
    pub validated_at: &'a str,
    pub failure_reason: Option<&'a str>,
}

/// Update the matching entry (the last one, the most recent attempt); `false` if none matches.
/// A failed validation sets `failure_reason`; a passed one leaves the provenance run's own.
pub fn record_validation(
    manifest: &mut Manifest,
    run: &ValidatedRun<'_>,
    outcome: &ValidationOutcome<'_>,
) -> bool {
    let entry = manifest.entries.iter_mut().rev().find(|e| match run {
        ValidatedRun::RunId(id) => e.run_id == *id,
        ValidatedRun::Tag(tag) => e.tag == *tag,
    });
    let Some(entry) = entry else {
        return false;
    };
    apply(entry, outcome);
    true
}

/// Write the outcome into the validated entry (the update `modes::entry_store` applies).
pub fn apply(entry: &mut ManifestEntry, outcome: &ValidationOutcome<'_>) {
    entry.validation_status = Some(outcome.status.to_string());
    entry.validated_at = Some(outcome.validated_at.to_string());
    if let Some(reason) = outcome.failure_reason {
        entry.failure_reason = Some(reason.to_string());
    }
}

/// The seed's `/functions/v1/provenance-validate` payload: `{tag, run_id, status,
/// verified_at}`, plus `failure_reason` on a failure.
pub fn function_payload(
    tag: Option<String>,
    run_id: Option<u64>,
    outcome: &ValidationOutcome<'_>,
) -> serde_json::Value {
    let mut v = serde_json::json!({
        "tag": tag,
        "run_id": run_id,
        "status": outcome.status,
        "verified_at": outcome.validated_at,
    });
    if let (Some(reason), Some(map)) = (outcome.failure_reason, v.as_object_mut()) {
        map.insert("failure_reason".into(), reason.into());
    }
    v
}

/// The entry store's target for a validated run.
pub fn target(run: &ValidatedRun<'_>) -> super::entry_update::Target {
    match run {
        ValidatedRun::RunId(id) => super::entry_update::Target::Run {
            run_id: *id,
            tag: None,
        },
        ValidatedRun::Tag(t) => super::entry_update::Target::LatestOfTag((*t).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::parse(
            r#"{"schema_version":1,"entries":[
            {"run_id":1,"tag":"v1","sha":"a","artifact_url":null,"actor":"o","timestamp":"t","status":"success","governance_flag":"provenance-ready"},
            {"run_id":2,"tag":"v2","sha":"b","artifact_url":null,"actor":"o","timestamp":"t","status":"success","governance_flag":"provenance-ready"}]}"#,
        )
        .expect("manifest")
    }

    #[test]
    fn records_on_the_run_or_the_tag() {
        let mut m = manifest();
        let failed = ValidationOutcome {
            status: "failed",
            validated_at: "2026-01-01T00:00:00Z",
            failure_reason: Some("subject_mismatch"),
        };
        assert!(record_validation(&mut m, &ValidatedRun::RunId(2), &failed));
        assert_eq!(m.entries[1].validation_status.as_deref(), Some("failed"));
        assert_eq!(
            m.entries[1].failure_reason.as_deref(),
            Some("subject_mismatch")
        );
        let passed = ValidationOutcome {
            status: "passed",
            validated_at: "2026-01-02T00:00:00Z",
            failure_reason: None,
        };
        assert!(record_validation(&mut m, &ValidatedRun::Tag("v1"), &passed));
        assert_eq!(
            m.entries[0].validated_at.as_deref(),
            Some("2026-01-02T00:00:00Z")
        );
        assert_eq!(m.entries[0].failure_reason, None);
        assert!(!record_validation(
            &mut m,
            &ValidatedRun::Tag("v9"),
            &passed
        ));
    }
}
