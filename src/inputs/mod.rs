//! Inputs in two steps, like ripgrep's low/high args: first collect strings with no validation
//! ([`RawInputs`]), then turn them into typed per-mode inputs (one file per mode: [`provenance`]).
//!
//! The runner sets `INPUT_<NAME>` upper-cased with spaces turned to `_` and hyphens kept
//! (`subject-path` -> `INPUT_SUBJECT-PATH`). People running from a shell cannot export a hyphen,
//! so `INPUT_SUBJECT_PATH` is accepted too (the runner's spelling wins if both are set), and so
//! are `--subject-path value` arguments (which win over both). Values are trimmed; empty means
//! unset. The runner does not enforce `required: true`: we do, here.
//! This module reads nothing but what it is handed: `main` passes the environment and argv as
//! the OS gave them (`OsString`), so a value that is not UTF-8 is an `invalid_input` naming the
//! input or argument, never a panic. Secret inputs (`signing-key`, `signing-key-password`,
//! `github-token`) are held as [`Secret`] from here on: `RawInputs`' `Debug` cannot show them.
//! Each typed parser lists the inputs it reads (`READS`); [`by_mode`] composes them per mode
//! and its tests hold every table to its parser's behaviour.

use std::collections::BTreeMap;
use std::ffi::OsStr;

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
    "audit-store",
    "audit-branch",
    "queued-manifest",
    "rollback-of",
    "supabase-url",
    "supabase-key",
    "supabase-table",
    "supabase-validate-function",
    // mode: notify
    "status",
    "run-id",
    "artifact-url",
    "failure-reason",
    "issue-on",
    "issue-labels",
    "slack-webhook-url",
    "slack-token",
    "slack-channel",
    "notify-webhook-url",
    "runbook-url",
    // mode: recover
    "reason",
    "workflow",
    "ref",
    "max-attempts",
    "retry-interval",
    "wait",
    "wait-timeout",
    "dispatch-token",
    "provenance-path",
    "subject-digest",
    "allow-unsigned",
    "public-key",
    "certificate-oidc-issuer",
    "source-repository",
    "signer-workflow",
    "certificate-identity",
    "certificate-identity-regexp",
    "deny-self-hosted-runners",
    "allow-predicate-v02",
    "expected-tag",
    "expected-commit",
    "expected-builder-id",
    "builder-id-regexp",
    "fail-on-error",
    "result-path",
    "artifact-name",
    // mode: report
    "repositories",
    "source",
    "badge-label",
    "dashboard-path",
    "cache-dir",
    "policy",
];

/// The modes of the interface, built or not.
pub const MODES: &[&str] = &["provenance", "validate", "notify", "recover", "report"];

/// Strings as collected, nothing validated. Field names are the kebab-case input names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawInputs {
    pub mode: Option<String>,
    pub subject_path: Option<String>,
    pub subject_checksums: Option<String>,
    pub tag: Option<String>,
    pub reports_dir: Option<String>,
    pub sign: Option<String>,
    pub signing_key: Option<Secret>,
    pub signing_key_password: Option<Secret>,
    pub fulcio_url: Option<String>,
    pub rekor_url: Option<String>,
    pub tsa_url: Option<String>,
    pub trusted_root: Option<String>,
    pub github_token: Option<Secret>,
    pub attest: Option<String>,
    pub upload_release_asset: Option<String>,
    pub release_notes: Option<String>,
    pub audit_store: Option<String>,
    pub audit_branch: Option<String>,
    pub queued_manifest: Option<String>,
    pub rollback_of: Option<String>,
    pub supabase_url: Option<String>,
    pub supabase_key: Option<Secret>,
    pub supabase_table: Option<String>,
    pub supabase_validate_function: Option<String>,
    // mode: notify (the webhook URLs are credentials: `Secret`)
    pub status: Option<String>,
    pub run_id: Option<String>,
    pub artifact_url: Option<String>,
    pub failure_reason: Option<String>,
    pub issue_on: Option<String>,
    pub issue_labels: Option<String>,
    pub slack_webhook_url: Option<Secret>,
    pub slack_token: Option<Secret>,
    pub slack_channel: Option<String>,
    pub notify_webhook_url: Option<Secret>,
    pub runbook_url: Option<String>,
    // mode: recover
    pub reason: Option<String>,
    pub workflow: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub max_attempts: Option<String>,
    pub retry_interval: Option<String>,
    pub wait: Option<String>,
    pub wait_timeout: Option<String>,
    pub dispatch_token: Option<Secret>,
    pub provenance_path: Option<String>,
    pub subject_digest: Option<String>,
    pub allow_unsigned: Option<String>,
    pub public_key: Option<String>,
    pub certificate_oidc_issuer: Option<String>,
    pub source_repository: Option<String>,
    pub signer_workflow: Option<String>,
    pub certificate_identity: Option<String>,
    pub certificate_identity_regexp: Option<String>,
    pub deny_self_hosted_runners: Option<String>,
    pub allow_predicate_v02: Option<String>,
    pub expected_tag: Option<String>,
    pub expected_commit: Option<String>,
    pub expected_builder_id: Option<String>,
    pub builder_id_regexp: Option<String>,
    pub fail_on_error: Option<String>,
    pub result_path: Option<String>,
    pub artifact_name: Option<String>,
    // mode: report
    pub repositories: Option<String>,
    pub source: Option<String>,
    pub badge_label: Option<String>,
    pub dashboard_path: Option<String>,
    pub cache_dir: Option<String>,
    // governance policy (validate, report)
    pub policy: Option<String>,
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
    /// Every secret input given, whatever the mode: `lib::run` masks them all before it logs
    /// anything, so a mode that ignores an input cannot echo it either.
    pub fn secrets(&self) -> impl Iterator<Item = &Secret> {
        [
            &self.github_token,
            &self.signing_key,
            &self.signing_key_password,
            &self.supabase_key,
            &self.slack_webhook_url,
            &self.slack_token,
            &self.notify_webhook_url,
            &self.dispatch_token,
        ]
        .into_iter()
        .flatten()
    }

    /// Collect from `INPUT_*` variables and argv (`[mode] --name value | --name=value`).
    /// Variables other than `INPUT_*` are ignored here (see `adapters::context`).
    pub fn collect<K, V, A>(
        env: impl IntoIterator<Item = (K, V)>,
        args: &[A],
    ) -> Result<(Self, Invocation)>
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
        A: AsRef<OsStr>,
    {
        // Pass 1: the runner's hyphenated spelling; pass 2: underscores only fill gaps.
        let mut hyphenated = BTreeMap::new();
        let mut underscored = BTreeMap::new();
        for (k, v) in env {
            let (k, v) = (k.as_ref(), v.as_ref());
            let Some(k) = k.to_str() else {
                if k.to_string_lossy().starts_with("INPUT_") {
                    return Err(Failure::new(
                        FailureReason::InvalidInput,
                        format!(
                            "the name of the variable {:?} is not valid UTF-8",
                            k.to_string_lossy()
                        ),
                    ));
                }
                continue;
            };
            let Some(name) = k.strip_prefix("INPUT_") else {
                continue;
            };
            // Never echo the value: it may be a secret.
            let v = v.to_str().ok_or_else(|| {
                Failure::new(
                    FailureReason::InvalidInput,
                    format!("input '{}' ({k}) is not valid UTF-8", normalize(name)),
                )
            })?;
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

        let args = args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                a.as_ref().to_str().map(String::from).ok_or_else(|| {
                    Failure::new(
                        FailureReason::InvalidInput,
                        format!("command-line argument {} is not valid UTF-8", i + 1),
                    )
                })
            })
            .collect::<Result<Vec<String>>>()?;
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

pub mod audit;
pub mod by_mode;
pub mod entry_store;
pub mod notify;
pub mod policy;
pub mod provenance;
pub mod recover;
pub mod report;
pub mod validate;

pub use audit::{AuditInputs, AuditStore};
pub use notify::NotifyInputs;
pub use provenance::{ProvenanceInputs, SignMode};
pub use recover::RecoverInputs;
pub use report::{ReportInputs, ReportSource, Repositories};
pub use validate::ValidateInputs;

#[cfg(test)]
mod tests {
    use super::*;

    const NO_ARGS: &[&str] = &[];

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
            NO_ARGS,
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
            &["provenance", "--tag", "b"],
        )
        .expect("collect");
        assert_eq!(raw.subject_path.as_deref(), Some("y"));
        assert_eq!(raw.tag.as_deref(), Some("b"));
        assert_eq!(raw.mode.as_deref(), Some("provenance"));
    }

    #[test]
    fn empty_means_unset_and_unknown_is_reported() {
        let (raw, _) = RawInputs::collect(
            env(&[("INPUT_TAG", "   "), ("INPUT_COLOUR", "red")]),
            NO_ARGS,
        )
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
    fn debug_of_raw_inputs_shows_no_secret() {
        let (raw, _) = RawInputs::collect(
            env(&[
                (
                    "INPUT_SIGNING-KEY",
                    "-----BEGIN PRIVATE KEY-----\nSENTINELKEYBODY\n",
                ),
                ("INPUT_SIGNING_KEY_PASSWORD", "SENTINELPASSWORD"),
                ("INPUT_TAG", "v1.0.0"),
            ]),
            &["--github-token", "SENTINELTOKEN"],
        )
        .expect("collect");
        let shown = format!("{raw:?} {raw:#?}");
        for secret in ["SENTINELKEYBODY", "SENTINELPASSWORD", "SENTINELTOKEN"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("v1.0.0"),
            "non-secret inputs stay visible: {shown}"
        );
        assert_eq!(
            raw.github_token.as_ref().map(Secret::expose),
            Some("SENTINELTOKEN")
        );
        assert_eq!(
            raw.signing_key_password.as_ref().map(Secret::expose),
            Some("SENTINELPASSWORD")
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_input_value_is_invalid_input_naming_it_without_echoing_it() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let value = OsString::from_vec(b"v1.0\xff-SENTINEL".to_vec());
        let e = RawInputs::collect([(OsString::from("INPUT_TAG"), value)], NO_ARGS)
            .expect_err("not UTF-8");
        assert_eq!(e.reason, FailureReason::InvalidInput);
        assert!(e.message.contains("'tag'"), "{}", e.message);
        assert!(!e.message.contains("SENTINEL"), "{}", e.message);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_argument_is_invalid_input_naming_its_position() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let args = [
            OsString::from("provenance"),
            OsString::from("--tag"),
            OsString::from_vec(b"\xfe\xff".to_vec()),
        ];
        let e = RawInputs::collect(env(&[]), &args).expect_err("not UTF-8");
        assert_eq!(e.reason, FailureReason::InvalidInput);
        assert!(e.message.contains("argument 3"), "{}", e.message);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_variables_that_are_not_inputs_are_ignored_here() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let (raw, _) = RawInputs::collect(
            [
                (OsString::from("LS_COLORS"), OsString::from_vec(vec![0xff])),
                (OsString::from_vec(vec![0xff]), OsString::from("x")),
                (OsString::from("INPUT_TAG"), OsString::from("v2")),
            ],
            NO_ARGS,
        )
        .expect("collect");
        assert_eq!(raw.tag.as_deref(), Some("v2"));
    }
}
