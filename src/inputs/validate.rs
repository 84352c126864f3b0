//! Typed inputs of `mode: validate`. Patterns and regular expressions are compiled here, so a
//! bad one fails with `invalid_input` before anything is read.

use std::path::PathBuf;

use super::provenance::parse_url;
use super::{parse_bool, RawInputs};
use crate::domain::provenance_doc::normalize_repository;
use crate::domain::verify::GITHUB_ACTIONS_ISSUER;
use crate::error::{Failure, FailureReason, Result};

/// Where the provenance comes from (first that applies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvenanceSource {
    /// `provenance-path`: files or globs in the workspace.
    Paths(Vec<String>),
    /// `run-id` (+ `artifact-name`): a workflow run's artifact.
    RunArtifact {
        run_id: u64,
        artifact_name: Option<String>,
    },
    /// Neither: the tag's release assets, then the attestations API.
    Release,
}

/// Whether old-format DSSE envelopes are looked up in Rekor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RekorLookup {
    Offline,
    Online(url::Url),
}

/// The public-good Rekor, for old-format DSSE envelopes when `rekor-url` is not given.
pub const PUBLIC_GOOD_REKOR: &str = "https://rekor.sigstore.dev";

#[derive(Debug)]
pub struct ValidateInputs {
    pub source: ProvenanceSource,
    pub subject_patterns: Vec<String>,
    pub subject_checksums: Option<String>,
    /// `subject-digest` lines, lower-case hex without `sha256:`.
    pub subject_digests: Vec<String>,
    pub allow_unsigned: bool,
    pub rekor: RekorLookup,
    pub trusted_root: Option<String>,
    /// A PEM public key, or a path to one.
    pub public_key: Option<String>,
    pub issuer: String,
    /// `owner/repo`, normalized; `None` means the current repository.
    pub source_repository: Option<String>,
    pub signer_workflow: Option<(String, Option<globset::GlobMatcher>)>,
    pub certificate_identity: Option<String>,
    pub certificate_identity_regexp: Option<regex::Regex>,
    pub deny_self_hosted_runners: bool,
    pub allow_predicate_v02: bool,
    pub expected_tag: Option<String>,
    /// The `tag` input (as in provenance mode): a default for `expected-tag` after the release
    /// event's tag.
    pub tag: Option<String>,
    pub expected_commit: Option<String>,
    pub expected_builder_id: Option<String>,
    pub builder_id_regexp: Option<regex::Regex>,
    pub fail_on_error: bool,
    /// Relative to the workspace; `None`: `<reports-dir>/<date>/validate_run_<run>.json`.
    pub result_path: Option<PathBuf>,
    pub reports_dir: PathBuf,
    /// For the run artifact, release assets and attestations sources, and the commit store.
    pub github_token: Option<crate::secret::Secret>,
    /// Where the validated run's entry is updated (`audit-store`, `audit-branch`).
    pub entry_store: super::entry_store::EntryStoreInputs,
    /// The Supabase edge function told the outcome, when `supabase-url` is set.
    pub supabase: Option<super::audit::SupabaseFunctionInputs>,
}

fn invalid(msg: String) -> Failure {
    Failure::new(FailureReason::InvalidInput, msg)
}

fn list(v: Option<&str>) -> Vec<String> {
    v.unwrap_or("")
        .split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn regex(name: &str, v: Option<&str>) -> Result<Option<regex::Regex>> {
    v.map(|s| {
        regex::RegexBuilder::new(s)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| invalid(format!("input '{name}' is not a regular expression: {e}")))
    })
    .transpose()
}

pub fn glob(name: &str, pattern: &str) -> Result<globset::GlobMatcher> {
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher())
        .map_err(|e| invalid(format!("input '{name}' is not a valid glob: {e}")))
}

/// `sha256:<hex>` lines (the prefix is optional), newline- or comma-separated.
pub fn parse_digests(v: Option<&str>) -> Result<Vec<String>> {
    list(v)
        .into_iter()
        .map(|d| {
            let hex = d.strip_prefix("sha256:").unwrap_or(&d).to_ascii_lowercase();
            if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(hex)
            } else {
                Err(invalid(format!(
                    "input 'subject-digest': {d:?} is not sha256:<64 hex digits>"
                )))
            }
        })
        .collect()
}

fn inside_workspace(name: &str, p: &str) -> Result<PathBuf> {
    let path = PathBuf::from(p);
    if path.is_absolute()
        || path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(invalid(format!(
            "input '{name}' must be a path inside the workspace, got {p:?}"
        )));
    }
    Ok(path)
}

impl ValidateInputs {
    /// Every input [`ValidateInputs::from_raw`] reads (`policy` is read before, by
    /// [`super::policy::PolicyInput`], as the policy fills in these).
    pub const READS: &'static [&'static str] = &[
        "subject-path",
        "subject-checksums",
        "subject-digest",
        "provenance-path",
        "run-id",
        "artifact-name",
        "rekor-url",
        "trusted-root",
        "public-key",
        "certificate-oidc-issuer",
        "source-repository",
        "signer-workflow",
        "certificate-identity",
        "certificate-identity-regexp",
        "deny-self-hosted-runners",
        "allow-predicate-v02",
        "allow-unsigned",
        "expected-tag",
        "tag",
        "expected-commit",
        "expected-builder-id",
        "builder-id-regexp",
        "fail-on-error",
        "result-path",
        "reports-dir",
        "github-token",
        "audit-store",
        "audit-branch",
        "supabase-url",
        "supabase-key",
        "supabase-validate-function",
        "supabase-table",
    ];

    pub fn from_raw(raw: &RawInputs) -> Result<Self> {
        let subject_patterns = list(raw.subject_path.as_deref());
        let subject_digests = parse_digests(raw.subject_digest.as_deref())?;
        if subject_patterns.is_empty()
            && raw.subject_checksums.is_none()
            && subject_digests.is_empty()
        {
            return Err(Failure::new(
                FailureReason::MissingSubjects,
                "no artifacts to validate: set 'subject-path' (globs), 'subject-checksums' \
                 (sha256sum lines) or 'subject-digest' (sha256:<hex> lines)",
            ));
        }
        let source = match (raw.provenance_path.as_deref(), raw.run_id.as_deref()) {
            (Some(p), _) => ProvenanceSource::Paths(list(Some(p))),
            (None, Some(id)) => ProvenanceSource::RunArtifact {
                run_id: id.parse().map_err(|_| {
                    invalid(format!(
                        "input 'run-id' must be a workflow run id, got {id:?}"
                    ))
                })?,
                artifact_name: raw.artifact_name.clone(),
            },
            (None, None) => ProvenanceSource::Release,
        };
        let rekor = match raw.rekor_url.as_deref() {
            Some("offline" | "none") => RekorLookup::Offline,
            other => RekorLookup::Online(
                parse_url("rekor-url", Some(other.unwrap_or(PUBLIC_GOOD_REKOR)))?
                    .ok_or_else(|| invalid("rekor-url".into()))?,
            ),
        };
        let signer_workflow = raw
            .signer_workflow
            .as_deref()
            .map(|s| {
                let s = s.split_once("://").map_or(s, |(_, rest)| rest);
                let s = s.strip_prefix("github.com/").unwrap_or(s);
                match s.split_once('@') {
                    Some((path, r)) => {
                        Ok::<_, Failure>((path.to_string(), Some(glob("signer-workflow", r)?)))
                    }
                    None => Ok((s.to_string(), None)),
                }
            })
            .transpose()?;
        if let Some((path, _)) = &signer_workflow {
            if path.split('/').filter(|p| !p.is_empty()).count() < 3 {
                return Err(invalid(format!(
                    "input 'signer-workflow' must be owner/repo/path[@ref], got {path:?}"
                )));
            }
        }
        let reports_dir = inside_workspace(
            "reports-dir",
            raw.reports_dir.as_deref().unwrap_or("docs/reports"),
        )?;
        let expected_tag = raw.expected_tag.clone();
        if let Some(t) = &expected_tag {
            glob("expected-tag", t)?;
        }
        Ok(Self {
            source,
            subject_patterns,
            subject_checksums: raw.subject_checksums.clone(),
            subject_digests,
            allow_unsigned: parse_bool("allow-unsigned", raw.allow_unsigned.as_deref(), false)?,
            rekor,
            trusted_root: raw.trusted_root.clone(),
            public_key: raw.public_key.clone(),
            issuer: raw
                .certificate_oidc_issuer
                .clone()
                .unwrap_or_else(|| GITHUB_ACTIONS_ISSUER.to_string()),
            source_repository: raw.source_repository.as_deref().map(normalize_repository),
            signer_workflow,
            certificate_identity: raw.certificate_identity.clone(),
            certificate_identity_regexp: regex(
                "certificate-identity-regexp",
                raw.certificate_identity_regexp.as_deref(),
            )?,
            deny_self_hosted_runners: parse_bool(
                "deny-self-hosted-runners",
                raw.deny_self_hosted_runners.as_deref(),
                false,
            )?,
            allow_predicate_v02: parse_bool(
                "allow-predicate-v02",
                raw.allow_predicate_v02.as_deref(),
                false,
            )?,
            expected_tag,
            tag: raw.tag.clone(),
            expected_commit: raw.expected_commit.as_deref().map(str::to_ascii_lowercase),
            expected_builder_id: raw.expected_builder_id.clone(),
            builder_id_regexp: regex("builder-id-regexp", raw.builder_id_regexp.as_deref())?,
            fail_on_error: parse_bool("fail-on-error", raw.fail_on_error.as_deref(), true)?,
            result_path: raw
                .result_path
                .as_deref()
                .map(|p| inside_workspace("result-path", p))
                .transpose()?,
            reports_dir,
            github_token: raw.github_token.clone(),
            entry_store: super::entry_store::EntryStoreInputs::from_raw(raw)?,
            supabase: super::audit::SupabaseFunctionInputs::from_raw(raw)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawInputs {
        RawInputs {
            subject_digest: Some(format!("sha256:{}", "A".repeat(64))),
            ..Default::default()
        }
    }

    #[test]
    fn subjects_are_required_and_digests_are_checked() {
        let e = ValidateInputs::from_raw(&RawInputs::default()).expect_err("none");
        assert_eq!(e.reason, FailureReason::MissingSubjects);
        let v = ValidateInputs::from_raw(&raw()).expect("ok");
        assert_eq!(v.subject_digests, vec!["a".repeat(64)]);
        assert_eq!(v.source, ProvenanceSource::Release);
        assert!(v.fail_on_error);
        let e = ValidateInputs::from_raw(&RawInputs {
            subject_digest: Some("sha256:abc".into()),
            ..Default::default()
        })
        .expect_err("short");
        assert_eq!(e.reason, FailureReason::InvalidInput);
    }

    #[test]
    fn bad_patterns_fail_early() {
        for r in [
            RawInputs {
                certificate_identity_regexp: Some("(".into()),
                ..raw()
            },
            RawInputs {
                builder_id_regexp: Some("[".into()),
                ..raw()
            },
            RawInputs {
                signer_workflow: Some("octo/app".into()),
                ..raw()
            },
            RawInputs {
                run_id: Some("abc".into()),
                ..raw()
            },
            RawInputs {
                result_path: Some("../x.json".into()),
                ..raw()
            },
        ] {
            let e = ValidateInputs::from_raw(&r).expect_err("invalid");
            assert_eq!(e.reason, FailureReason::InvalidInput, "{}", e.message);
        }
    }

    #[test]
    fn signer_workflow_splits_the_ref_pattern() {
        let v = ValidateInputs::from_raw(&RawInputs {
            signer_workflow: Some(
                "https://github.com/octo/app/.github/workflows/r.yml@refs/tags/*".into(),
            ),
            rekor_url: Some("offline".into()),
            ..raw()
        })
        .expect("ok");
        let (path, r) = v.signer_workflow.expect("set");
        assert_eq!(path, "octo/app/.github/workflows/r.yml");
        assert!(r.expect("ref").is_match("refs/tags/v1"));
        assert_eq!(v.rekor, RekorLookup::Offline);
    }
}
