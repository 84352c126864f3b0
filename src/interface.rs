//! The action's interface as the code knows it: the outputs any mode may set (the inputs are
//! `inputs::KNOWN_INPUTS`). `Actions::set_output` checks every name against [`OUTPUTS`] in
//! debug builds, so a mode that sets an undeclared output fails the test suite; a unit test
//! holds both lists equal to `action.yml`'s, in both directions.
//!
//! Per mode: [`outputs_of`] (which `Actions::set_output` also checks in debug builds once the
//! mode is known) and `inputs::by_mode::reads` (the typed parsers' own tables). Their unions
//! are held equal to [`OUTPUTS`] and `KNOWN_INPUTS`, and `action.yml`'s descriptions that name
//! modes (`notify: ...`, `mode report: ...`) to the modes that really read each input.

use crate::inputs::Mode;

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

/// Outputs any mode may set: `main` sets `failure-reason` whenever a run fails.
pub const EVERY_MODE_OUTPUTS: &[&str] = &["failure-reason"];

/// The commit store's outputs, set by every mode that writes the audit trail through it.
const AUDIT_COMMIT_OUTPUTS: [&str; 2] = ["audit-commit", "audit-pull-request"];

pub const PROVENANCE_OUTPUTS: &[&str] = &[
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
    AUDIT_COMMIT_OUTPUTS[0],
    AUDIT_COMMIT_OUTPUTS[1],
    "manifest-queued",
    "queued-manifest-path",
    "sink-failed",
];

pub const VALIDATE_OUTPUTS: &[&str] = &[
    // also with fail-on-error: false, when the run does not fail
    "failure-reason",
    "verified",
    "predicate-type",
    "builder-id",
    "tag",
    "commit",
    "signer-identity",
    "subjects-verified",
    "governance-overrides",
    "result-path",
    AUDIT_COMMIT_OUTPUTS[0],
    AUDIT_COMMIT_OUTPUTS[1],
];

pub const NOTIFY_OUTPUTS: &[&str] = &[
    "slack-delivered",
    "issue-number",
    "issue-url",
    "channel",
    AUDIT_COMMIT_OUTPUTS[0],
    AUDIT_COMMIT_OUTPUTS[1],
];

pub const RECOVER_OUTPUTS: &[&str] = &[
    "action",
    "new-run-id",
    "run-url",
    // a recovered run that fails again opens the notify issue (`notify::run_with`)
    "slack-delivered",
    "issue-number",
    "issue-url",
    "channel",
    AUDIT_COMMIT_OUTPUTS[0],
    AUDIT_COMMIT_OUTPUTS[1],
];

pub const REPORT_OUTPUTS: &[&str] = &[
    "success-rate",
    "p95-duration-ms",
    "runs",
    "failures",
    "badge-path",
    "dashboard-path",
    AUDIT_COMMIT_OUTPUTS[0],
    AUDIT_COMMIT_OUTPUTS[1],
];

/// The outputs `mode` declares (besides [`EVERY_MODE_OUTPUTS`]).
pub fn outputs_of(mode: Mode) -> &'static [&'static str] {
    match mode {
        Mode::Provenance => PROVENANCE_OUTPUTS,
        Mode::Validate => VALIDATE_OUTPUTS,
        Mode::Notify => NOTIFY_OUTPUTS,
        Mode::Recover => RECOVER_OUTPUTS,
        Mode::Report => REPORT_OUTPUTS,
    }
}

/// Whether `mode` may set `name`: the debug-build check of `Actions::set_output` once the
/// mode is known.
pub fn mode_sets(mode: Mode, name: &str) -> bool {
    outputs_of(mode).contains(&name) || EVERY_MODE_OUTPUTS.contains(&name)
}

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
    fn the_modes_outputs_together_are_exactly_the_declared_outputs() {
        use crate::inputs::by_mode::ALL_MODES;
        let mut union: Vec<&str> = EVERY_MODE_OUTPUTS.to_vec();
        for m in ALL_MODES {
            let list = outputs_of(m);
            let mut dedup = list.to_vec();
            dedup.sort_unstable();
            dedup.dedup();
            assert_eq!(dedup.len(), list.len(), "{m:?}: duplicates");
            union.extend(list);
        }
        union.sort_unstable();
        union.dedup();
        let mut declared = OUTPUTS.to_vec();
        declared.sort_unstable();
        assert_eq!(union, declared, "union of the modes' outputs vs OUTPUTS");
        assert!(mode_sets(Mode::Report, "failure-reason"));
        assert!(!mode_sets(Mode::Report, "verified"));
    }

    #[test]
    fn the_modes_inputs_together_are_exactly_action_yml_inputs() {
        use crate::inputs::by_mode::{reads, ALL_MODES};
        let mut union: Vec<&str> = ALL_MODES.iter().flat_map(|m| reads(*m)).collect();
        union.sort_unstable();
        union.dedup();
        same_both_ways(
            "inputs (union of the modes')",
            &union,
            &action_yml_keys("inputs"),
        );
    }

    /// The modes a description names as labels: `notify: ...`, `mode report: ...`,
    /// `mode report with repositories: ...`, `modes validate and report: ...`, `` `mode: validate` ``.
    fn labelled_modes(description: &str) -> Vec<String> {
        let m = "(provenance|validate|notify|recover|report)";
        let label = regex::Regex::new(&format!(
            r"(?:^|[\s(.`])(?:modes? )?({m}(?:(?:, | and ){m})*)(?: with [^:.]*)?:(?:\s|$)"
        ))
        .expect("label regex");
        let inline = regex::Regex::new(&format!(r"mode: {m}\b")).expect("inline regex");
        let word = regex::Regex::new(m).expect("word regex");
        let mut out: Vec<String> = Vec::new();
        for c in label.captures_iter(description) {
            out.extend(word.find_iter(&c[1]).map(|w| w.as_str().to_string()));
        }
        for c in inline.captures_iter(description) {
            out.push(c[1].to_string());
        }
        out.sort();
        out.dedup();
        out
    }

    /// Whether the description is a mode's own: it opens with a mode label.
    fn starts_with_label(description: &str) -> bool {
        let m = "(?:provenance|validate|notify|recover|report)";
        regex::Regex::new(&format!(
            r"^(?:modes? )?{m}(?:(?:, | and ){m})*(?: with [^:.]*)?:(?:\s|$)"
        ))
        .expect("head regex")
        .is_match(description)
    }

    #[test]
    fn labels_are_read_from_descriptions() {
        assert!(starts_with_label("notify: the run"));
        assert!(starts_with_label("mode report with repositories: where"));
        assert!(!starts_with_label(
            "Path to a root. validate: the only root"
        ));
        assert_eq!(
            labelled_modes("notify: the run. recover: the failed run. validate: take it"),
            ["notify", "recover", "validate"]
        );
        assert_eq!(
            labelled_modes("modes validate and report: the policy"),
            ["report", "validate"]
        );
        assert_eq!(
            labelled_modes("Default. mode report with repositories: the branch"),
            ["report"]
        );
        assert_eq!(
            labelled_modes("The edge function `mode: validate` calls"),
            ["validate"]
        );
        assert!(labelled_modes("for key-signed bundles (sign: key); a report (x)").is_empty());
    }

    #[test]
    fn action_yml_descriptions_name_the_modes_that_read_each_input() {
        // A mode a description names must read the input; an input documented as a mode's own
        // (its description starts with a mode label) must not be read by an unnamed mode.
        use crate::inputs::by_mode::{name, reads, ALL_MODES};
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
        let text = std::fs::read_to_string(path).expect("action.yml");
        let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("action.yml is YAML");
        let inputs = doc["inputs"].as_mapping().expect("inputs");
        let mut wrong = Vec::new();
        for (key, spec) in inputs {
            let input = key.as_str().expect("input name");
            let description = spec["description"].as_str().unwrap_or_default();
            let readers: Vec<&str> = ALL_MODES
                .iter()
                .filter(|m| reads(**m).contains(&input))
                .map(|m| name(*m))
                .collect();
            let labels = labelled_modes(description);
            for l in &labels {
                if !readers.contains(&l.as_str()) {
                    wrong.push(format!("'{input}' names mode {l}, which does not read it"));
                }
            }
            let mode_specific = starts_with_label(description);
            if mode_specific {
                for r in &readers {
                    if !labels.iter().any(|l| l == r) {
                        wrong.push(format!(
                            "'{input}' is documented for {labels:?} only, but mode {r} reads it"
                        ));
                    }
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "action.yml vs the code:\n{}",
            wrong.join("\n")
        );
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

    #[test]
    fn set_output_rejects_another_modes_output_in_debug_builds() {
        assert!(mode_sets(Mode::Report, "runs") && mode_sets(Mode::Report, "failure-reason"));
        assert!(!mode_sets(Mode::Report, "verified"));
        // Only where the check panics before anything is written (the unit tests may run with
        // a real GITHUB_OUTPUT).
        if cfg!(debug_assertions) {
            let result = std::panic::catch_unwind(|| {
                let mut a = crate::adapters::actions::Actions::from_env();
                a.set_mode(Mode::Report);
                let _ = a.set_output("verified", "true");
            });
            assert!(result.is_err());
        }
    }
}
