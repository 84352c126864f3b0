//! The manifest's published JSON Schema (`schemas/manifest.schema.json`), compiled once, and the
//! check every write and every verification runs.
//!
//! Pure: the schema is compiled into the binary (no file or network resolution: the `jsonschema`
//! crate is built without its resolvers).

use std::sync::OnceLock;

use serde_json::Value;

/// The schema file, as published in the repository.
pub const SCHEMA_TEXT: &str = include_str!("../../schemas/manifest.schema.json");

fn validator() -> Result<&'static jsonschema::Validator, String> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let schema: Value = serde_json::from_str(SCHEMA_TEXT)
                .map_err(|e| format!("the built-in manifest schema is not JSON: {e}"))?;
            jsonschema::validator_for(&schema)
                .map_err(|e| format!("the built-in manifest schema does not compile: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// `Ok` when `manifest` matches the schema; otherwise up to five problems, each with its place
/// (`/entries/3/run_id: "x" is not of type "integer"`).
pub fn validate(manifest: &Value) -> Result<(), Vec<String>> {
    let v = validator().map_err(|e| vec![e])?;
    let errors: Vec<String> = v
        .iter_errors(manifest)
        .take(5)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_string() } else { at };
            format!("{at}: {e}")
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit_chain;
    use crate::domain::manifest::{test_entry, DayLink, FlagChange, Manifest, RunStatus};

    /// Every optional field set, so the serialized entry shows every key the type can write.
    fn full_manifest() -> Manifest {
        let mut e = test_entry("v1.2.3", 42, RunStatus::Rollback);
        e.governance_flag = "rollback".into();
        e.governance_flag_history = vec![FlagChange {
            flag: "rollback".into(),
            timestamp: "2026-01-01T00:00:00Z".into(),
        }];
        e.release_url = Some("https://github.com/o/r/releases/tag/v1.2.3".into());
        e.failure_reason = Some("signing_failed".into());
        e.tag_source = Some("input".into());
        e.provenance_path =
            Some("docs/reports/2026-01-01/provenance_run_42/provenance.json".into());
        e.provenance_sha256 = Some("a".repeat(64));
        e.bundle_sha256 = Some("b".repeat(64));
        e.signer_identity =
            Some("https://github.com/o/r/.github/workflows/r.yml@refs/tags/v1".into());
        e.duration_ms = Some(1234);
        e.validation_status = Some("passed".into());
        e.validated_at = Some("2026-01-01T00:01:00Z".into());
        e.notify_slack = Some(true);
        e.slack_retry = Some(1);
        e.issue_number = Some(7);
        e.requeue = Some(false);
        e.rerun_in_progress = Some(false);
        e.rollback_of = Some("v1.2.2".into());
        let m = Manifest {
            entries: vec![e],
            ..Manifest::default()
        };
        audit_chain::seal(
            m,
            Some(DayLink {
                date: "2025-12-31".into(),
                head: "c".repeat(64),
            }),
        )
    }

    fn schema() -> Value {
        serde_json::from_str(SCHEMA_TEXT).expect("schema is JSON")
    }

    #[test]
    fn fully_populated_manifest_matches_the_schema() {
        let v = serde_json::to_value(full_manifest()).expect("value");
        validate(&v).expect("valid");
    }

    #[test]
    fn schema_properties_and_struct_fields_are_the_same_set() {
        let full = serde_json::to_value(full_manifest()).expect("value");
        let entry_keys: std::collections::BTreeSet<String> = full["entries"][0]
            .as_object()
            .expect("obj")
            .keys()
            .cloned()
            .collect();
        let s = schema();
        let schema_keys: std::collections::BTreeSet<String> = s["$defs"]["entry"]["properties"]
            .as_object()
            .expect("props")
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            entry_keys, schema_keys,
            "ManifestEntry and the schema disagree"
        );
        let top: std::collections::BTreeSet<String> =
            full.as_object().expect("obj").keys().cloned().collect();
        let schema_top: std::collections::BTreeSet<String> = s["properties"]
            .as_object()
            .expect("props")
            .keys()
            .cloned()
            .collect();
        assert_eq!(top, schema_top, "Manifest and the schema disagree");
        let required: Vec<&str> = s["$defs"]["entry"]["required"]
            .as_array()
            .expect("req")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        // A minimal entry (all options unset) still carries every required key.
        let minimal = serde_json::to_value(test_entry("v1", 1, RunStatus::Success)).expect("v");
        for k in required {
            assert!(
                minimal.get(k).is_some(),
                "required {k} is optional in the type"
            );
        }
    }

    #[test]
    fn wrong_types_and_missing_chain_are_refused() {
        let mut v = serde_json::to_value(full_manifest()).expect("value");
        v["entries"][0]["run_id"] = "x".into();
        let e = validate(&v).expect_err("bad type");
        assert!(e[0].starts_with("/entries/0/run_id"), "{e:?}");

        let mut v = serde_json::to_value(full_manifest()).expect("value");
        v["entries"][0]
            .as_object_mut()
            .expect("o")
            .remove("entry_hash");
        assert!(validate(&v).is_err(), "v2 entries must carry the chain");
        v["schema_version"] = 1.into();
        v["entries"][0]
            .as_object_mut()
            .expect("o")
            .remove("prev_hash");
        v.as_object_mut().expect("o").remove("previous_day");
        validate(&v).expect("a v1 file has no chain");
    }

    #[test]
    fn unknown_fields_are_allowed() {
        let mut v = serde_json::to_value(full_manifest()).expect("value");
        v["entries"][0]["written_by_another_tool"] = serde_json::json!({"k": 1});
        validate(&v).expect("kept verbatim");
    }
}
