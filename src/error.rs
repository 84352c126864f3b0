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
    /// An existing audit file (manifest, SHA-256 log) exists but cannot be read (not a
    /// corrupt file: a read error, e.g. a folder in its place or an I/O error).
    AuditFileUnreadable,
    /// The async runtime could not start (threads or I/O driver refused by the system).
    RuntimeFailed,
    /// A `SLSA_PROVENANCE_*` tuning variable of the environment (not an input) is malformed
    /// or out of range.
    InvalidEnvironment,
    /// GitHub still rate-limited a call when the retry budget (attempts or time) ran out.
    GithubRateLimited,
    /// A manifest fails its schema, hash chain, order or day links (`verify-manifest`).
    ManifestTampered,
    /// `mode: notify`: the notice reached nobody (no chat channel and no issue).
    NotifyFailed,
    /// `mode: recover`: GitHub cannot re-run the run and a dispatch does not replace it (the
    /// run is still running, or an unexplained refusal).
    RerunRefused,
    /// `mode: recover`: the workflow dispatch failed (422 after every attempt, or refused).
    DispatchFailed,
    /// `mode: recover`: GitHub rejected the dispatch token (401, or 403 bad credentials).
    DispatchTokenRejected,
    /// `mode: recover`: the recovered run failed again; the entry is `blocked`.
    RecoveryBlocked,
    /// A provenance's signature, certificate chain or log proof does not verify.
    SignatureInvalid,
    /// The provenance was signed by another identity, issuer, repository or runner than required.
    IdentityMismatch,
    /// The provenance's predicate type is not SLSA v1 (v0.2 only with `allow-predicate-v02`).
    PredicateMismatch,
    /// No provenance lists the artifact's SHA-256 among its subjects.
    SubjectMismatch,
    /// The provenance was built from another source repository.
    SourceMismatch,
    /// The provenance records another tag than expected.
    TagMismatch,
    /// The provenance records another source commit than expected.
    CommitMismatch,
    /// The provenance claims another builder than expected (or than its signer).
    BuilderMismatch,
    /// A signature has no transparency-log proof of when it was made (old DSSE envelope offline).
    LogProofMissing,
    /// The workflow run has no artifact with the requested name.
    ArtifactMissing,
    /// The workflow run's artifact expired (retention elapsed).
    ArtifactRetentionMissing,
    /// No provenance was found where it was looked for.
    ProvenanceNotFound,
    /// A provenance file is not a bundle, DSSE envelope or in-toto statement.
    MalformedProvenance,
    /// `mode: report` with `source: supabase`: the PostgREST query failed or answered rows we
    /// cannot read.
    SupabaseQueryFailed,
    /// The governance policy file (`policy` input) is not valid: its line and field are named.
    PolicyInvalid,
    /// `mode: recover` with `audit-store: commit`: the audit branch did not take the
    /// `rerun_in_progress` claim (protected, 403, no token, no entry there, retries
    /// exhausted), so the recover did nothing rather than act unclaimed.
    ClaimRefused,
}

impl FailureReason {
    /// Every code, for docs and tests.
    pub const ALL: &'static [FailureReason] = &[
        Self::InvalidInput,
        Self::MissingInput,
        Self::UnknownMode,
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
        Self::AuditFileUnreadable,
        Self::RuntimeFailed,
        Self::InvalidEnvironment,
        Self::GithubRateLimited,
        Self::ManifestTampered,
        Self::NotifyFailed,
        Self::RerunRefused,
        Self::DispatchFailed,
        Self::DispatchTokenRejected,
        Self::RecoveryBlocked,
        Self::SignatureInvalid,
        Self::IdentityMismatch,
        Self::PredicateMismatch,
        Self::SubjectMismatch,
        Self::SourceMismatch,
        Self::TagMismatch,
        Self::CommitMismatch,
        Self::BuilderMismatch,
        Self::LogProofMissing,
        Self::ArtifactMissing,
        Self::ArtifactRetentionMissing,
        Self::ProvenanceNotFound,
        Self::MalformedProvenance,
        Self::SupabaseQueryFailed,
        Self::PolicyInvalid,
        Self::ClaimRefused,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::MissingInput => "missing_input",
            Self::UnknownMode => "unknown_mode",
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
            Self::AuditFileUnreadable => "audit_file_unreadable",
            Self::RuntimeFailed => "runtime_failed",
            Self::InvalidEnvironment => "invalid_environment",
            Self::GithubRateLimited => "github_rate_limited",
            Self::ManifestTampered => "manifest_tampered",
            Self::NotifyFailed => "notify_failed",
            Self::RerunRefused => "rerun_refused",
            Self::DispatchFailed => "dispatch_failed",
            Self::DispatchTokenRejected => "dispatch_token_rejected",
            Self::RecoveryBlocked => "recovery_blocked",
            Self::SignatureInvalid => "signature_invalid",
            Self::IdentityMismatch => "identity_mismatch",
            Self::PredicateMismatch => "predicate_mismatch",
            Self::SubjectMismatch => "subject_mismatch",
            Self::SourceMismatch => "source_mismatch",
            Self::TagMismatch => "tag_mismatch",
            Self::CommitMismatch => "commit_mismatch",
            Self::BuilderMismatch => "builder_mismatch",
            Self::LogProofMissing => "log_proof_missing",
            Self::ArtifactMissing => "artifact_missing",
            Self::ArtifactRetentionMissing => "artifact_retention_missing",
            Self::ProvenanceNotFound => "provenance_not_found",
            Self::MalformedProvenance => "malformed_provenance",
            Self::SupabaseQueryFailed => "supabase_query_failed",
            Self::PolicyInvalid => "policy_invalid",
            Self::ClaimRefused => "claim_refused",
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

    #[test]
    fn every_code_is_documented_in_readme_and_action_yml() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for file in ["README.md", "action.yml"] {
            let text = std::fs::read_to_string(root.join(file)).expect(file);
            for r in FailureReason::ALL {
                assert!(text.contains(r.code()), "{file} does not list {}", r.code());
            }
        }
    }
}
