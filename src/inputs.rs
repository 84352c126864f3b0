//! Inputs in two steps, like ripgrep's low/high args: first collect strings with no validation
//! ([`RawInputs`]), then turn them into typed per-mode inputs ([`ProvenanceInputs`]).
//!
//! The runner sets `INPUT_<NAME>` upper-cased with spaces turned to `_` and hyphens kept
//! (`subject-path` -> `INPUT_SUBJECT-PATH`). People running from a shell cannot export a hyphen,
//! so `INPUT_SUBJECT_PATH` is accepted too (the runner's spelling wins if both are set), and so
//! are `--subject-path value` arguments (which win over both). Values are trimmed; empty means
//! unset. The runner does not enforce `required: true`: we do, here.
//! This module reads nothing but what it is handed: `main` passes the environment and argv.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::error::{Failure, FailureReason, Result};
use crate::secret::Secret;

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

/// How `mode: provenance` signs the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignMode {
    /// Keyless when OIDC is available, else key when `signing-key` is set, else fail.
    Auto,
    Sigstore,
    Key,
    /// Unsigned statement only: not SLSA-compliant, for local inspection.
    None,
}

#[derive(Debug)]
pub struct ProvenanceInputs {
    /// `subject-path` patterns, in order (newline- or comma-separated).
    pub subject_patterns: Vec<String>,
    pub subject_checksums: Option<String>,
    pub tag: Option<String>,
    /// Relative to the workspace.
    pub reports_dir: PathBuf,
    pub sign: SignMode,
    pub signing_key: Option<Secret>,
    pub signing_key_password: Option<Secret>,
    pub fulcio_url: Option<url::Url>,
    pub rekor_url: Option<url::Url>,
    pub tsa_url: Option<url::Url>,
    pub trusted_root: Option<String>,
    pub github_token: Option<Secret>,
    pub attest: bool,
    pub upload_release_asset: bool,
    pub release_notes: bool,
}

fn parse_url(name: &str, v: Option<&str>) -> Result<Option<url::Url>> {
    v.map(|s| {
        let u = url::Url::parse(s).map_err(|e| {
            Failure::new(
                FailureReason::InvalidInput,
                format!("input '{name}' is not a URL ({e}): {s:?}"),
            )
        })?;
        if !matches!(u.scheme(), "https" | "http") {
            return Err(Failure::new(
                FailureReason::InvalidInput,
                format!("input '{name}' must be an http(s) URL, got {s:?}"),
            ));
        }
        Ok(u)
    })
    .transpose()
}

impl ProvenanceInputs {
    pub fn from_raw(raw: &RawInputs) -> Result<Self> {
        let subject_patterns: Vec<String> = raw
            .subject_path
            .as_deref()
            .unwrap_or("")
            .split(['\n', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if subject_patterns.is_empty() && raw.subject_checksums.is_none() {
            return Err(Failure::new(
                FailureReason::MissingSubjects,
                "no subjects: set 'subject-path' (globs of release files) or 'subject-checksums' \
                 (sha256sum-format lines or a file of them)",
            ));
        }
        if subject_patterns.iter().all(|p| p.starts_with('!')) && !subject_patterns.is_empty() {
            return Err(Failure::new(
                FailureReason::InvalidSubjectPath,
                "'subject-path' has only exclusions (!pattern); add at least one pattern to include",
            ));
        }
        let reports_dir = PathBuf::from(raw.reports_dir.as_deref().unwrap_or("docs/reports"));
        if reports_dir.is_absolute()
            || reports_dir
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(Failure::new(
                FailureReason::InvalidInput,
                format!(
                    "input 'reports-dir' must be a path inside the workspace, got {:?}",
                    reports_dir
                ),
            ));
        }
        let sign = match raw.sign.as_deref().unwrap_or("auto") {
            "auto" => SignMode::Auto,
            "sigstore" => SignMode::Sigstore,
            "key" => SignMode::Key,
            "none" => SignMode::None,
            other => {
                return Err(Failure::new(
                    FailureReason::InvalidInput,
                    format!("input 'sign' must be auto, sigstore, key or none, got {other:?}"),
                ))
            }
        };
        if sign == SignMode::Key && raw.signing_key.is_none() {
            return Err(Failure::new(
                FailureReason::MissingInput,
                "input 'signing-key' is required when 'sign' is 'key'",
            ));
        }
        Ok(Self {
            subject_patterns,
            subject_checksums: raw.subject_checksums.clone(),
            tag: raw.tag.clone(),
            reports_dir,
            sign,
            signing_key: raw.signing_key.clone().map(Secret::new),
            signing_key_password: raw.signing_key_password.clone().map(Secret::new),
            fulcio_url: parse_url("fulcio-url", raw.fulcio_url.as_deref())?,
            rekor_url: parse_url("rekor-url", raw.rekor_url.as_deref())?,
            tsa_url: parse_url("tsa-url", raw.tsa_url.as_deref())?,
            trusted_root: raw.trusted_root.clone(),
            github_token: raw.github_token.clone().map(Secret::new),
            attest: parse_bool("attest", raw.attest.as_deref(), true)?,
            upload_release_asset: parse_bool(
                "upload-release-asset",
                raw.upload_release_asset.as_deref(),
                true,
            )?,
            release_notes: parse_bool("release-notes", raw.release_notes.as_deref(), true)?,
        })
    }
}

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

    #[test]
    fn subjects_are_required() {
        let e = ProvenanceInputs::from_raw(&RawInputs::default()).expect_err("missing");
        assert_eq!(e.reason, FailureReason::MissingSubjects);
    }

    #[test]
    fn subject_paths_split_on_newlines_and_commas() {
        let raw = RawInputs {
            subject_path: Some("dist/*.tar.gz, dist/*.zip\n!dist/*-debug.zip\n".into()),
            ..Default::default()
        };
        let p = ProvenanceInputs::from_raw(&raw).expect("ok");
        assert_eq!(
            p.subject_patterns,
            vec!["dist/*.tar.gz", "dist/*.zip", "!dist/*-debug.zip"]
        );
        assert_eq!(p.sign, SignMode::Auto);
        assert!(p.attest);
    }

    #[test]
    fn reports_dir_must_stay_inside_workspace() {
        let raw = RawInputs {
            subject_path: Some("a".into()),
            reports_dir: Some("../elsewhere".into()),
            ..Default::default()
        };
        let e = ProvenanceInputs::from_raw(&raw).expect_err("escape");
        assert_eq!(e.reason, FailureReason::InvalidInput);
    }
}
