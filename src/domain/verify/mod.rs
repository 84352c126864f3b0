//! `mode: validate`'s decisions: the six checks of issue 7 as pure rules over verified facts.
//!
//! The Sigstore adapter proves who signed which statement bytes and when ([`SignatureEvidence`]);
//! `provenance_doc` reads what the statement claims ([`StatementFacts`]). This module decides,
//! for each artifact, whether some provenance covers it and passes every check, in the order
//! the codes rank: signature, signer, predicate type, subject, source (repository, tag, commit),
//! builder. Every check is reported, passed, failed or skipped (nothing to compare against).
//!
//! Architecture invariant: no I/O, no clock, no environment. Defaults that come from the run
//! (the current repository, the tag being released, the commit it points to) are resolved by
//! the mode and arrive here as plain values in [`Policy`].

pub mod checks;
pub mod policy;
pub mod report;

use serde::Serialize;

use crate::domain::provenance_doc::StatementFacts;
use crate::error::FailureReason;

pub use checks::{build_checks, CheckId};
pub use policy::{AllOf, AnyOf, Mismatch, Outcome, Rule};

/// GitHub Actions' OIDC issuer: the default `certificate-oidc-issuer`.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// What the certificate (or key) behind a verified signature says about the signer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SignerFacts {
    /// The certificate's SAN (the signing workflow), or `key <hint>` for a managed key.
    pub identity: String,
    /// `true` when a managed key signed (no certificate, no issuer, no Fulcio extensions).
    pub key: bool,
    pub issuer: Option<String>,
    /// Fulcio's source repository (new `.1.12` URI or old `.1.5` `owner/repo`).
    pub source_repository: Option<String>,
    pub source_ref: Option<String>,
    pub source_digest: Option<String>,
    /// `github-hosted` / `self-hosted` (`.1.11`), absent on older certificates.
    pub runner_environment: Option<String>,
    pub build_signer_uri: Option<String>,
    /// Unix seconds of the verified signing time (log entry or timestamp), when there is one.
    pub signed_at: Option<i64>,
}

/// What the cryptography concluded about one provenance document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureEvidence {
    /// The signature, certificate chain and log/timestamp evidence verified.
    Verified(SignerFacts),
    /// A bare statement: no signature at all.
    Unsigned,
    /// Verification failed: `SignatureInvalid` or `LogProofMissing`, with what the certificate
    /// claimed if it could be read (unproven, shown for diagnosis only).
    Failed {
        reason: FailureReason,
        detail: String,
        claimed: Option<SignerFacts>,
    },
}

impl SignatureEvidence {
    pub fn verified_signer(&self) -> Option<&SignerFacts> {
        match self {
            Self::Verified(s) => Some(s),
            _ => None,
        }
    }
}

/// Everything a rule may look at: one provenance, one artifact.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub signature: &'a SignatureEvidence,
    pub statement: &'a StatementFacts,
    pub artifact_sha256: &'a str,
}

/// How the signing workflow (SAN) is restricted beyond the source repository.
#[derive(Debug, Clone, Default)]
pub struct IdentityPolicy {
    /// `signer-workflow`: `owner/repo/path` and an optional glob over the ref after `@`.
    pub signer_workflow: Option<(String, Option<globset::GlobMatcher>)>,
    /// `certificate-identity`: the SAN exactly.
    pub exact: Option<String>,
    /// `certificate-identity-regexp`: searched in the SAN, as cosign does (anchor it yourself).
    pub regexp: Option<regex::Regex>,
}

impl IdentityPolicy {
    pub fn is_empty(&self) -> bool {
        self.signer_workflow.is_none() && self.exact.is_none() && self.regexp.is_none()
    }
}

/// What the builder id must be.
#[derive(Debug, Clone, Default)]
pub struct BuilderPolicy {
    pub exact: Option<String>,
    pub regexp: Option<regex::Regex>,
}

/// An expected tag: an exact name or a glob (`v2.*`).
#[derive(Debug, Clone)]
pub struct TagExpectation {
    pub pattern: String,
    pub matcher: globset::GlobMatcher,
}

/// Everything the checks compare against, defaults already resolved by the mode.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub issuer: String,
    /// `owner/repo`, normalized; `None` when neither given nor known (then skipped).
    pub source_repository: Option<String>,
    pub identity: IdentityPolicy,
    pub deny_self_hosted_runners: bool,
    pub allow_predicate_v02: bool,
    pub allow_unsigned: bool,
    pub tag: Option<TagExpectation>,
    pub commit: Option<String>,
    pub builder: BuilderPolicy,
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Passed,
    Failed,
    Skipped,
}

/// One check's line in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub check: CheckId,
    pub status: CheckStatus,
    /// The failure code, for a failed check.
    pub reason: Option<&'static str>,
    pub expected: Option<String>,
    pub found: Option<String>,
    pub detail: Option<String>,
}

impl CheckResult {
    fn from_outcome(check: CheckId, outcome: Outcome) -> Self {
        match outcome {
            Outcome::Pass { expected, found } => Self {
                check,
                status: CheckStatus::Passed,
                reason: None,
                expected: Some(expected).filter(|e| !e.is_empty()),
                found: Some(found),
                detail: None,
            },
            Outcome::Fail(m) => Self {
                check,
                status: CheckStatus::Failed,
                reason: Some(m.reason.code()),
                expected: Some(m.expected),
                found: m.found,
                detail: Some(m.detail),
            },
            Outcome::Skip { why } => Self {
                check,
                status: CheckStatus::Skipped,
                reason: None,
                expected: None,
                found: None,
                detail: Some(why),
            },
        }
    }
}

/// One provenance document, as the mode hands it over: where it came from, what it claims,
/// what its signature proved.
#[derive(Debug, Clone)]
pub struct JudgedDocument {
    pub origin: String,
    pub statement: StatementFacts,
    pub signature: SignatureEvidence,
}

/// An artifact to validate: by file (name = path) or by digest alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Artifact {
    pub name: String,
    pub sha256: String,
}

/// The verdict for one artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactVerdict {
    pub name: String,
    pub sha256: String,
    pub verified: bool,
    pub failure_reason: Option<&'static str>,
    /// The provenance the checks below were run on: the one that passed, or the closest.
    pub provenance: Option<String>,
    pub predicate_type: Option<String>,
    pub builder_id: Option<String>,
    pub signer_identity: Option<String>,
    pub tag: Option<String>,
    pub commit: Option<String>,
    pub checks: Vec<CheckResult>,
}

/// Run every check of one document for one artifact, in report order.
pub fn check_document(
    checks: &[(CheckId, Box<dyn Rule>)],
    doc: &JudgedDocument,
    artifact: &Artifact,
) -> Vec<CheckResult> {
    let evidence = Evidence {
        signature: &doc.signature,
        statement: &doc.statement,
        artifact_sha256: &artifact.sha256,
    };
    checks
        .iter()
        .map(|(id, rule)| CheckResult::from_outcome(*id, rule.evaluate(&evidence)))
        .collect()
}

/// How far a document got: the index of its first failed check (all passed = len).
fn progress(results: &[CheckResult]) -> usize {
    results
        .iter()
        .position(|r| r.status == CheckStatus::Failed)
        .unwrap_or(results.len())
}

/// Judge one artifact against every document: the first document that passes every check
/// covers it; otherwise the verdict shows the document that got furthest.
pub fn judge_artifact(
    checks: &[(CheckId, Box<dyn Rule>)],
    docs: &[JudgedDocument],
    artifact: &Artifact,
) -> ArtifactVerdict {
    verdict(artifact, furthest(checks, docs.iter(), artifact))
}

/// Judge every artifact, with the same verdicts as [`judge_artifact`] for each, in linear
/// rather than quadratic time: a document can only pass every check for an artifact whose
/// SHA-256 it lists (the subject check), so each artifact first tries, in document order, the
/// documents that list its digest; only an artifact none of them covers is judged against
/// every document, to show the one that got furthest.
pub fn judge_artifacts(
    checks: &[(CheckId, Box<dyn Rule>)],
    docs: &[JudgedDocument],
    artifacts: &[Artifact],
) -> Vec<ArtifactVerdict> {
    let index = subject_index(docs);
    artifacts
        .iter()
        .map(|artifact| {
            let listing = index
                .get(artifact.sha256.as_str())
                .map(|ids| ids.iter().map(|&i| &docs[i]));
            let covered = listing
                .and_then(|candidates| furthest(checks, candidates, artifact))
                .filter(|(passed, _, _)| *passed == checks.len());
            verdict(
                artifact,
                covered.or_else(|| furthest(checks, docs.iter(), artifact)),
            )
        })
        .collect()
}

/// The positions of the documents that list each SHA-256, in document order, once each.
fn subject_index(docs: &[JudgedDocument]) -> std::collections::HashMap<&str, Vec<usize>> {
    let mut index: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    for (i, doc) in docs.iter().enumerate() {
        for sha in doc
            .statement
            .subjects
            .iter()
            .filter_map(|s| s.sha256.as_deref())
        {
            let ids = index.entry(sha).or_default();
            if ids.last() != Some(&i) {
                ids.push(i);
            }
        }
    }
    index
}

/// The first document that passes every check, else the one that got furthest (the first of
/// equals), with how many checks it passed before its first failure and every result.
fn furthest<'d>(
    checks: &[(CheckId, Box<dyn Rule>)],
    docs: impl IntoIterator<Item = &'d JudgedDocument>,
    artifact: &Artifact,
) -> Option<(usize, &'d JudgedDocument, Vec<CheckResult>)> {
    let mut best: Option<(usize, &JudgedDocument, Vec<CheckResult>)> = None;
    for doc in docs {
        let results = check_document(checks, doc, artifact);
        let p = progress(&results);
        let better = best.as_ref().is_none_or(|(bp, _, _)| p > *bp);
        if better {
            best = Some((p, doc, results));
        }
        if p == checks.len() {
            break;
        }
    }
    best
}

fn verdict(
    artifact: &Artifact,
    best: Option<(usize, &JudgedDocument, Vec<CheckResult>)>,
) -> ArtifactVerdict {
    let Some((_, doc, results)) = best else {
        return ArtifactVerdict {
            name: artifact.name.clone(),
            sha256: artifact.sha256.clone(),
            verified: false,
            failure_reason: Some(FailureReason::ProvenanceNotFound.code()),
            provenance: None,
            predicate_type: None,
            builder_id: None,
            signer_identity: None,
            tag: None,
            commit: None,
            checks: Vec::new(),
        };
    };
    let failure_reason = results.iter().find_map(|r| r.reason);
    let signer = match &doc.signature {
        SignatureEvidence::Verified(s) => Some(s.identity.clone()),
        _ => None,
    };
    ArtifactVerdict {
        name: artifact.name.clone(),
        sha256: artifact.sha256.clone(),
        verified: failure_reason.is_none(),
        failure_reason,
        provenance: Some(doc.origin.clone()),
        predicate_type: Some(doc.statement.predicate_type.clone()),
        builder_id: doc.statement.builder_id.clone(),
        signer_identity: signer,
        tag: doc.statement.tags.first().cloned(),
        commit: doc.statement.commit.clone(),
        checks: results,
    }
}

/// Every failure code of a run, in rank order without duplicates: the artifacts' check
/// failures by check order, then `extra` (malformed documents, sources that failed).
pub fn failure_reasons(verdicts: &[ArtifactVerdict], extra: &[FailureReason]) -> Vec<&'static str> {
    let mut ranked: Vec<(usize, &'static str)> = Vec::new();
    for v in verdicts {
        for r in &v.checks {
            if let Some(code) = r.reason {
                ranked.push((r.check.rank(), code));
            }
        }
        if v.checks.is_empty() {
            if let Some(code) = v.failure_reason {
                ranked.push((usize::MAX - 1, code));
            }
        }
    }
    ranked.extend(extra.iter().map(|r| (usize::MAX, r.code())));
    ranked.sort_by_key(|(rank, _)| *rank);
    let mut codes = Vec::new();
    for (_, code) in ranked {
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// Only the signer check (rank 2) of `policy` over one verified signature: what
/// `mode: provenance`'s self-check asks of its own bundle, with the rule `validate` applies.
pub fn check_signer(
    policy: &Policy,
    signature: &SignatureEvidence,
    statement: &StatementFacts,
) -> Outcome {
    let evidence = Evidence {
        signature,
        statement,
        artifact_sha256: "",
    };
    build_checks(policy)
        .into_iter()
        .find(|(id, _)| *id == CheckId::Signer)
        .map(|(_, rule)| rule.evaluate(&evidence))
        .unwrap_or(Outcome::Skip {
            why: "no signer check".into(),
        })
}
