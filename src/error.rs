//! Stable failure codes and the typed error every mode returns.
//!
//! A [`FailureReason`] code is API: workflows branch on the `failure-reason` output, so a code
//! never changes meaning once released. Messages are for people and may change freely.
//! This module knows nothing about how failures are printed (that is `adapters::actions`).

use std::fmt;

/// Every way a run can fail, as a stable snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    /// An input has a value we cannot accept (bad boolean, bad enum, bad URL...).
    InvalidInput,
    /// A required input is missing or empty.
    MissingInput,
    /// The `mode` input names no mode.
    UnknownMode,
    /// The mode exists in the interface but is not built yet.
    ModeNotImplemented,
    /// A `GITHUB_*` variable the run needs is missing or malformed.
    MissingContext,
    /// `GITHUB_EVENT_PATH` could not be read or is not JSON.
    EventUnreadable,
    /// The resolved tag is not a valid, path-safe git tag name.
    InvalidTag,
    /// Neither `subject-path` nor `subject-checksums` was given.
    MissingSubjects,
    /// A `subject-path` pattern is malformed or escapes the workspace.
    InvalidSubjectPath,
    /// A `subject-path` pattern matched no file.
    SubjectPatternUnmatched,
    /// Two different files would be published under the same subject name.
    SubjectNameCollision,
    /// `subject-checksums` is not in `sha256sum` format or cannot be read.
    InvalidChecksums,
    /// A subject file could not be read while hashing.
    SubjectUnreadable,
    /// The OIDC token could not be obtained or decoded.
    OidcTokenFailed,
    /// An existing audit file (manifest, SHA-256 log) is corrupt; we refuse to overwrite it.
    AuditFileCorrupt,
    /// Writing an audit file or output failed.
    WriteFailed,
    /// `sign: auto` found neither OIDC nor a key: the workflow lacks `id-token: write`.
    MissingIdTokenPermission,
    /// The signing key or its password is wrong.
    SigningKeyInvalid,
    /// Fulcio, Rekor or the TSA refused or failed.
    SigningFailed,
    /// The bundle we just produced does not verify against the trusted root.
    SelfVerificationFailed,
    /// The trusted root given in `trusted-root` cannot be read.
    TrustedRootInvalid,
    /// The GitHub attestations API failed (other than a plan/permission refusal).
    AttestationFailed,
    /// Uploading the release asset failed.
    ReleaseAssetFailed,
    /// Updating the release notes failed.
    ReleaseNotesFailed,
    /// Any other GitHub API failure.
    GithubApiFailed,
    /// The workflow run has no artifact by that name (or the run does not exist).
    ArtifactMissing,
    /// The artifact existed but GitHub no longer keeps it (`expired`, or 410 on download).
    ArtifactRetentionMissing,
    /// A provenance source is unusable: an artifact archive that is unsafe to unpack (paths
    /// escaping the folder, a zip bomb, duplicate entries) or not an archive at all.
    MalformedProvenance,
}

impl FailureReason {
    /// Every code, for docs and tests.
    pub const ALL: &'static [FailureReason] = &[
        Self::InvalidInput,
        Self::MissingInput,
        Self::UnknownMode,
        Self::ModeNotImplemented,
        Self::MissingContext,
        Self::EventUnreadable,
        Self::InvalidTag,
        Self::MissingSubjects,
        Self::InvalidSubjectPath,
        Self::SubjectPatternUnmatched,
        Self::SubjectNameCollision,
        Self::InvalidChecksums,
        Self::SubjectUnreadable,
        Self::OidcTokenFailed,
        Self::AuditFileCorrupt,
        Self::WriteFailed,
        Self::MissingIdTokenPermission,
        Self::SigningKeyInvalid,
        Self::SigningFailed,
        Self::SelfVerificationFailed,
        Self::TrustedRootInvalid,
        Self::AttestationFailed,
        Self::ReleaseAssetFailed,
        Self::ReleaseNotesFailed,
        Self::GithubApiFailed,
        Self::ArtifactMissing,
        Self::ArtifactRetentionMissing,
        Self::MalformedProvenance,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::MissingInput => "missing_input",
            Self::UnknownMode => "unknown_mode",
            Self::ModeNotImplemented => "mode_not_implemented",
            Self::MissingContext => "missing_context",
            Self::EventUnreadable => "event_unreadable",
            Self::InvalidTag => "invalid_tag",
            Self::MissingSubjects => "missing_subjects",
            Self::InvalidSubjectPath => "invalid_subject_path",
            Self::SubjectPatternUnmatched => "subject_pattern_unmatched",
            Self::SubjectNameCollision => "subject_name_collision",
            Self::InvalidChecksums => "invalid_checksums",
            Self::SubjectUnreadable => "subject_unreadable",
            Self::OidcTokenFailed => "oidc_token_failed",
            Self::AuditFileCorrupt => "audit_file_corrupt",
            Self::WriteFailed => "write_failed",
            Self::MissingIdTokenPermission => "missing_id_token_permission",
            Self::SigningKeyInvalid => "signing_key_invalid",
            Self::SigningFailed => "signing_failed",
            Self::SelfVerificationFailed => "self_verification_failed",
            Self::TrustedRootInvalid => "trusted_root_invalid",
            Self::AttestationFailed => "attestation_failed",
            Self::ReleaseAssetFailed => "release_asset_failed",
            Self::ReleaseNotesFailed => "release_notes_failed",
            Self::GithubApiFailed => "github_api_failed",
            Self::ArtifactMissing => "artifact_missing",
            Self::ArtifactRetentionMissing => "artifact_retention_missing",
            Self::MalformedProvenance => "malformed_provenance",
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A failed run: a stable reason plus a message for people.
#[derive(Debug)]
pub struct Failure {
    pub reason: FailureReason,
    pub message: String,
}

impl Failure {
    pub fn new(reason: FailureReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

impl std::error::Error for Failure {}

pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// Attach a failure reason to any error, keeping its full chain in the message.
pub trait Context<T> {
    fn reason(self, reason: FailureReason, what: impl fmt::Display) -> Result<T>;
}

impl<T, E: Into<anyhow::Error>> Context<T> for std::result::Result<T, E> {
    fn reason(self, reason: FailureReason, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| {
            let e: anyhow::Error = e.into();
            Failure::new(reason, format!("{what}: {e:#}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for r in FailureReason::ALL {
            let c = r.code();
            assert!(seen.insert(c), "duplicate code {c}");
            assert!(
                c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                "{c}"
            );
        }
    }
}
