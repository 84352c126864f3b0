//! Inputs in two steps, like ripgrep's low/high args: first collect strings with no validation
//! ([`RawInputs`]), then turn them into typed per-mode inputs (one file per mode: [`provenance`]).
//!
//! The runner sets `INPUT_<NAME>` upper-cased with spaces turned to `_` and hyphens kept
//! (`subject-path` -> `INPUT_SUBJECT-PATH`). People running from a shell cannot export a hyphen,
//! so `INPUT_SUBJECT_PATH` is accepted too (the runner's spelling wins if both are set), and so
//! are `--subject-path value` arguments (which win over both). Values are trimmed; empty means
//! unset. The runner does not enforce `required: true`: we do, here.
//! This module reads nothing but what it is handed: `main` passes the environment and argv.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Failure, FailureReason, Result};

/// Every input name the action knows, in `action.yml` order.
pub const KNOWN_INPUTS: &[&str] = &[
    "mode",
    "subject-path",
    "subject-checksums",
    "tag",
    "reports-dir",
    "sign",
    "signing-key",
    "signing-key-password",
    "fulcio-url",
    "rekor-url",
    "tsa-url",
    "trusted-root",
    "github-token",
    "attest",
    "upload-release-asset",
    "release-notes",
    "repositories",
    "source",
    "badge-label",
    "dashboard-path",
    "audit-branch",
    "cache-dir",
    "supabase-url",
    "supabase-key",
];

/// The modes of the interface, built or not.
pub const MODES: &[&str] = &["provenance", "validate", "notify", "recover", "report"];

/// Strings as collected, nothing validated. Field names are the kebab-case input names.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawInputs {
    pub mode: Option<String>,
    pub subject_path: Option<String>,
    pub subject_checksums: Option<String>,
    pub tag: Option<String>,
    pub reports_dir: Option<String>,
    pub sign: Option<String>,
    pub signing_key: Option<String>,
    pub signing_key_password: Option<String>,
    pub fulcio_url: Option<String>,
    pub rekor_url: Option<String>,
    pub tsa_url: Option<String>,
    pub trusted_root: Option<String>,
    pub github_token: Option<String>,
    pub attest: Option<String>,
    pub upload_release_asset: Option<String>,
    pub release_notes: Option<String>,
    pub repositories: Option<String>,
    pub source: Option<String>,
    pub badge_label: Option<String>,
    pub dashboard_path: Option<String>,
    pub audit_branch: Option<String>,
    pub cache_dir: Option<String>,
    pub supabase_url: Option<String>,
    pub supabase_key: Option<String>,
    /// Input names we do not know (warned about, like the runner does).
    #[serde(skip)]
    pub unknown: Vec<String>,
}

/// What the command line asked for besides inputs.
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    Run,
    Help,
}

/// Normalize an input name: lower-case, `_` and spaces to `-`.
fn normalize(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', ' '], "-")
}

impl RawInputs {
    /// Collect from `INPUT_*` variables and argv (`[mode] --name value | --name=value`).
    pub fn collect(
        env: impl IntoIterator<Item = (String, String)>,
        args: &[String],
    ) -> Result<(Self, Invocation)> {
        // Pass 1: the runner's hyphenated spelling; pass 2: underscores only fill gaps.
        let mut hyphenated = BTreeMap::new();
        let mut underscored = BTreeMap::new();
        for (k, v) in env {
            let Some(name) = k.strip_prefix("INPUT_") else {
                continue;
            };
            let v = v.trim().to_string();
            if v.is_empty() {
                continue;
            }
            if name.contains('-') || !name.contains('_') {
                hyphenated.insert(normalize(name), v);
            } else {
                underscored.insert(normalize(name), v);
            }
        }
        let mut map = underscored;
        map.extend(hyphenated);

        let mut invocation = Invocation::Run;
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "--help" || a == "-h" {
                invocation = Invocation::Help;
            } else if let Some(flag) = a.strip_prefix("--") {
                let (name, value) = match flag.split_once('=') {
                    Some((n, v)) => (n.to_string(), v.to_string()),
                    None => {
                        i += 1;
                        let v = args.get(i).ok_or_else(|| {
                            Failure::new(
                                FailureReason::InvalidInput,
                                format!("--{flag} needs a value"),
                            )
                        })?;
                        (flag.to_string(), v.clone())
                    }
                };
                let v = value.trim().to_string();
                if v.is_empty() {
                    map.remove(&normalize(&name));
                } else {
                    map.insert(normalize(&name), v);
                }
            } else if i == 0 {
                map.insert("mode".into(), a.trim().to_string());
            } else {
                return Err(Failure::new(
                    FailureReason::InvalidInput,
                    format!(
                        "unexpected argument {a:?}; inputs are given as --<input-name> <value>"
                    ),
                ));
            }
            i += 1;
        }

        let unknown: Vec<String> = map
            .keys()
            .filter(|k| !KNOWN_INPUTS.contains(&k.as_str()))
            .cloned()
            .collect();
        let mut raw: RawInputs = envy::from_iter(map).map_err(|e| {
            Failure::new(FailureReason::InvalidInput, format!("reading inputs: {e}"))
        })?;
        raw.unknown = unknown;
        Ok((raw, invocation))
    }
}

/// Parse a boolean exactly as the runner's `core.getBooleanInput` does (YAML 1.2 core schema).
pub fn parse_bool(name: &str, value: Option<&str>, default: bool) -> Result<bool> {
    match value {
        None => Ok(default),
        Some("true" | "True" | "TRUE") => Ok(true),
        Some("false" | "False" | "FALSE") => Ok(false),
        Some(other) => Err(Failure::new(
            FailureReason::InvalidInput,
            format!(
                "input '{name}' must be a boolean (true|True|TRUE|false|False|FALSE), got {other:?}"
            ),
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Provenance,
    Validate,
    Notify,
    Recover,
    Report,
}

pub fn parse_mode(value: Option<&str>) -> Result<Mode> {
    match value.unwrap_or("provenance") {
        "provenance" => Ok(Mode::Provenance),
        "validate" => Ok(Mode::Validate),
        "notify" => Ok(Mode::Notify),
        "recover" => Ok(Mode::Recover),
        "report" => Ok(Mode::Report),
        other => Err(Failure::new(
            FailureReason::UnknownMode,
            format!("unknown mode {other:?}; valid modes: {}", MODES.join(", ")),
        )),
    }
}

pub mod provenance;
pub mod report;

pub use provenance::{ProvenanceInputs, SignMode};
pub use report::{ReportInputs, ReportSource, Repositories};

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn runner_and_shell_spellings_both_work() {
        let (raw, _) = RawInputs::collect(
            env(&[
                ("INPUT_SUBJECT-PATH", " dist/* "),
                ("INPUT_REPORTS_DIR", "out"),
            ]),
            &[],
        )
        .expect("collect");
        assert_eq!(raw.subject_path.as_deref(), Some("dist/*"));
        assert_eq!(raw.reports_dir.as_deref(), Some("out"));
    }

    #[test]
    fn runner_spelling_wins_and_argv_wins_over_both() {
        let (raw, _) = RawInputs::collect(
            env(&[
                ("INPUT_TAG", "a"),
                ("INPUT_SUBJECT_PATH", "x"),
                ("INPUT_SUBJECT-PATH", "y"),
            ]),
            &["provenance".into(), "--tag".into(), "b".into()],
        )
        .expect("collect");
        assert_eq!(raw.subject_path.as_deref(), Some("y"));
        assert_eq!(raw.tag.as_deref(), Some("b"));
        assert_eq!(raw.mode.as_deref(), Some("provenance"));
    }

    #[test]
    fn empty_means_unset_and_unknown_is_reported() {
        let (raw, _) =
            RawInputs::collect(env(&[("INPUT_TAG", "   "), ("INPUT_COLOUR", "red")]), &[])
                .expect("collect");
        assert_eq!(raw.tag, None);
        assert_eq!(raw.unknown, vec!["colour".to_string()]);
    }

    #[test]
    fn booleans_accept_only_yaml_core_spellings() {
        assert!(parse_bool("x", Some("True"), false).expect("ok"));
        assert!(!parse_bool("x", Some("FALSE"), true).expect("ok"));
        assert!(parse_bool("x", None, true).expect("ok"));
        let e = parse_bool("x", Some("yes"), true).expect_err("yes is not a boolean");
        assert_eq!(e.reason, FailureReason::InvalidInput);
    }

    #[test]
    fn unknown_mode_lists_valid_ones() {
        let e = parse_mode(Some("deploy")).expect_err("unknown");
        assert_eq!(e.reason, FailureReason::UnknownMode);
        assert!(e
            .message
            .contains("provenance, validate, notify, recover, report"));
    }
}
