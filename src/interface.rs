//! The action's interface as the code knows it: the outputs any mode may set (the inputs are
//! `inputs::KNOWN_INPUTS`). `Actions::set_output` checks every name against [`OUTPUTS`] in
//! debug builds, so a mode that sets an undeclared output fails the test suite; a unit test
//! holds both lists equal to `action.yml`'s, in both directions.

/// Every output the binary can set, in `action.yml` order.
pub const OUTPUTS: &[&str] = &[
    // mode provenance
    "skipped",
    "skip-reason",
    "tag",
    "tag-source",
    "subjects",
    "provenance-path",
    "provenance-sha256",
    "bundle-path",
    "attestation-id",
    "attestation-url",
    "manifest-path",
    "audit-commit",
    "audit-pull-request",
    "manifest-queued",
    "queued-manifest-path",
    "sink-failed",
    // every mode (set by main on failure; validate with fail-on-error: false)
    "failure-reason",
    // mode validate
    "verified",
    "predicate-type",
    "builder-id",
    "signer-identity",
    "commit",
    "subjects-verified",
    "governance-overrides",
    "result-path",
    // mode notify
    "issue-number",
    "issue-url",
    "slack-delivered",
    "channel",
    // mode recover
    "action",
    "new-run-id",
    "run-url",
    // mode report
    "runs",
    "failures",
    "success-rate",
    "p95-duration-ms",
    "dashboard-path",
    "badge-path",
];

/// Whether `name` is a declared output (the debug-build check of `Actions::set_output`).
pub fn is_output(name: &str) -> bool {
    OUTPUTS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::{RawInputs, KNOWN_INPUTS};

    fn action_yml_keys(section: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
        let text = std::fs::read_to_string(path).expect("action.yml");
        let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("action.yml is YAML");
        doc[section]
            .as_mapping()
            .unwrap_or_else(|| panic!("action.yml has no '{section}'"))
            .keys()
            .map(|k| k.as_str().expect("string key").to_string())
            .collect()
    }

    fn same_both_ways(what: &str, code: &[&str], yml: &[String]) {
        let missing: Vec<&&str> = code
            .iter()
            .filter(|c| !yml.iter().any(|y| y == *c))
            .collect();
        let unused: Vec<&String> = yml.iter().filter(|y| !code.contains(&y.as_str())).collect();
        assert!(
            missing.is_empty(),
            "{what} the code uses but action.yml lacks: {missing:?}"
        );
        assert!(
            unused.is_empty(),
            "{what} action.yml documents but the code does not know: {unused:?}"
        );
        let mut dedup = code.to_vec();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(
            dedup.len(),
            code.len(),
            "{what}: duplicates in the code's list"
        );
    }

    #[test]
    fn action_yml_outputs_are_exactly_the_outputs_the_code_sets() {
        same_both_ways("outputs", OUTPUTS, &action_yml_keys("outputs"));
    }

    #[test]
    fn action_yml_inputs_are_exactly_the_inputs_the_code_reads() {
        same_both_ways("inputs", KNOWN_INPUTS, &action_yml_keys("inputs"));
    }

    #[test]
    fn every_known_input_lands_in_a_raw_inputs_field() {
        // Each known input, set alone, fills exactly one field of `RawInputs` (a name in the
        // list that no field reads would be silently dropped by the deserializer).
        let args: [&str; 0] = [];
        let empty = format!(
            "{:?}",
            RawInputs::collect(Vec::<(String, String)>::new(), &args)
                .expect("empty")
                .0
        );
        assert!(!empty.contains("Some("), "{empty}");
        for name in KNOWN_INPUTS {
            let vars = vec![(
                format!("INPUT_{}", name.to_ascii_uppercase()),
                "1".to_string(),
            )];
            let (raw, _) = RawInputs::collect(vars, &args).expect("collect");
            assert!(raw.unknown.is_empty(), "{name}: {:?}", raw.unknown);
            let debug = format!("{raw:?}");
            assert_eq!(
                debug.matches("Some(").count(),
                1,
                "input '{name}' fills no field: {debug}"
            );
            let field = name.replace('-', "_");
            assert!(
                debug.contains(&format!("{field}: Some(")),
                "{name}: {debug}"
            );
        }
    }

    #[test]
    fn set_output_rejects_an_undeclared_name_in_debug_builds() {
        assert!(is_output("verified"));
        assert!(!is_output("verifed"));
        let result = std::panic::catch_unwind(|| {
            let mut a = crate::adapters::actions::Actions::from_env();
            let _ = a.set_output("not-an-output", "x");
        });
        assert_eq!(result.is_err(), cfg!(debug_assertions));
    }
}
