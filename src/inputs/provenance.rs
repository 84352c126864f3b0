//! Typed inputs of `mode: provenance`.

use std::path::PathBuf;

use super::{parse_bool, RawInputs};
use crate::domain::transport;
use crate::error::{Failure, FailureReason, Result};
use crate::secret::Secret;

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

pub(crate) fn parse_url(name: &str, v: Option<&str>) -> Result<Option<url::Url>> {
    v.map(|s| {
        let u = url::Url::parse(s).map_err(|e| {
            Failure::new(
                FailureReason::InvalidInput,
                format!("input '{name}' is not a URL ({e}): {s:?}"),
            )
        })?;
        // The OIDC token (Fulcio) and signatures travel on these: TLS unless loopback.
        transport::check_token_url(&u).map_err(|why| {
            Failure::new(
                FailureReason::InvalidInput,
                format!("input '{name}' {why}, got {}", transport::shown(&u)),
            )
        })?;
        Ok(u)
    })
    .transpose()
}

impl ProvenanceInputs {
    /// Every input [`ProvenanceInputs::from_raw`] reads (the run record's are `AuditInputs::READS`).
    pub const READS: &'static [&'static str] = &[
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
            signing_key: raw.signing_key.clone(),
            signing_key_password: raw.signing_key_password.clone(),
            fulcio_url: parse_url("fulcio-url", raw.fulcio_url.as_deref())?,
            rekor_url: parse_url("rekor-url", raw.rekor_url.as_deref())?,
            tsa_url: parse_url("tsa-url", raw.tsa_url.as_deref())?,
            trusted_root: raw.trusted_root.clone(),
            github_token: raw.github_token.clone(),
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

    #[test]
    fn sigstore_urls_in_clear_text_are_accepted_only_for_loopback() {
        for name in ["fulcio-url", "rekor-url", "tsa-url"] {
            let e = parse_url(name, Some("http://fulcio.example.com/api")).expect_err(name);
            assert_eq!(e.reason, FailureReason::InvalidInput);
            assert!(
                e.message.contains(&format!("input '{name}'")),
                "{}",
                e.message
            );
            let e = parse_url(name, Some("http://127.0.0.1.evil.com/")).expect_err(name);
            assert_eq!(e.reason, FailureReason::InvalidInput);
        }
        for ok in [
            "https://fulcio.example.com",
            "http://127.0.0.1:3000",
            "http://[::1]:8080",
            "http://localhost:1",
        ] {
            assert!(parse_url("fulcio-url", Some(ok)).expect(ok).is_some());
        }
        let e = parse_url("tsa-url", Some("ftp://127.0.0.1/")).expect_err("ftp");
        assert_eq!(e.reason, FailureReason::InvalidInput);
    }
}
