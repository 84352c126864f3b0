//! `mode: validate`: the security-CI gate. The short script from provenance files to verdict.
//!
//! Gather (artifacts to check, provenance documents from a source) -> prove (the Sigstore
//! adapter verifies each signature and says who signed and when) -> decide
//! (`domain::verify`: every check for every artifact) -> apply (report at `result-path`,
//! outputs, step summary, the validated run's manifest entry). A failed check fails the step
//! unless `fail-on-error: false`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sigstore_trust_root::SigstoreInstance;
use sigstore_types::DerPublicKey;

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::sigstore::TrustAnchor;
use crate::adapters::sigstore_provenance::{self as prove, ProvenanceError};
use crate::adapters::{files, git, rekor_lookup};
use crate::domain::manifest::ManifestEntry;
use crate::domain::provenance_doc::{self, Document, DocumentKind, StatementFacts};
use crate::domain::validation_record::{self, ValidatedRun, ValidationOutcome};
use crate::domain::verify::report::{self, DocumentRecord, ValidationReport};
use crate::domain::verify::{
    self, Artifact, BuilderPolicy, IdentityPolicy, JudgedDocument, Policy, SignatureEvidence,
    TagExpectation,
};
use crate::error::{Context, Failure, FailureReason, Result};
use crate::inputs::validate::{self as validate_inputs, RekorLookup, ValidateInputs};
use crate::inputs::RawInputs;
use crate::modes::entry_store::{self, EntryRequest};

pub mod sources;

pub use sources::ProvenanceDocument;

pub async fn run(
    raw: &RawInputs,
    env: &RunEnv,
    actions: &mut Actions,
    now: DateTime<Utc>,
) -> Result<()> {
    // 1. Inputs, under them the governance policy, and trust: bad ones fail before anything
    //    is read.
    let loaded = super::policy::load(
        &crate::inputs::policy::PolicyInput::from_raw(raw)?,
        &env.workspace,
    )?;
    let rule_tag = raw
        .expected_tag
        .clone()
        .or_else(|| env.release_tag())
        .or_else(|| raw.tag.clone())
        .or_else(|| env.ref_tag());
    let raw = &super::policy::apply_to_validate(raw, loaded.as_ref(), rule_tag.as_deref(), actions);
    let inputs = ValidateInputs::from_raw(raw)?;
    // The chain check of the trail this run is about to update: a tampered trail fails here,
    // before anything is read or written.
    entry_store::check_trail(env, &inputs.entry_store, &inputs.reports_dir)?;
    let anchors = trust_anchors(&inputs, &env.workspace)?;
    let key = public_key(&inputs, &env.workspace)?;
    let policy = policy(&inputs, env)?;

    // 2. What to check, and the provenance to check it against.
    let artifacts = artifacts(&inputs, &env.workspace, actions)?;
    let digests: Vec<String> = artifacts.iter().map(|a| a.sha256.clone()).collect();
    let release_tag = exact_tag(&inputs, env);
    let net = sources::Network {
        env,
        repository: policy.source_repository.as_deref(),
        tag: release_tag.as_deref(),
        digests: &digests,
        token: inputs.github_token.as_ref(),
    };
    let documents = sources::gather(&inputs, &env.workspace, &net, actions).await?;

    // 3. Prove each document's signature, read its statement.
    let (judged, records) = prove_documents(&documents, &inputs, key.as_ref(), &anchors).await;

    // 4. Decide.
    let checks = verify::build_checks(&policy);
    let verdicts = verify::judge_artifacts(&checks, &judged, &artifacts);
    let problems: Vec<FailureReason> = records
        .iter()
        .filter_map(|r| r.problem)
        .filter_map(|code| {
            FailureReason::ALL
                .iter()
                .copied()
                .find(|r| r.code() == code)
        })
        .collect();
    let reasons = verify::failure_reasons(&verdicts, &problems);
    let overrides = overrides_used(&inputs, &judged, &verdicts);
    let validated_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let report = ValidationReport::new(validated_at, records, verdicts, reasons, overrides);

    // 5. Apply: report file, outputs, summary, manifest.
    let result_path = write_report(&inputs, env, &report, now)?;
    write_outputs(actions, &report, &result_path)?;
    let _ = actions.append_summary(&report::render_summary(&report));
    record_in_manifest(&inputs, env, &policy, &report, actions).await?;

    if report.verified {
        actions.info(&format!(
            "Validation passed: {} artifact(s) verified",
            report.subjects_verified
        ));
        return Ok(());
    }
    let code = report.failure_reason.unwrap_or("provenance_not_found");
    let reason = FailureReason::ALL
        .iter()
        .copied()
        .find(|r| r.code() == code)
        .unwrap_or(FailureReason::ProvenanceNotFound);
    let message = failure_message(&report);
    if !inputs.fail_on_error {
        actions.warning(&format!(
            "{code}: {message} (fail-on-error: false, the step passes)"
        ));
        set(actions, "failure-reason", code)?;
        return Ok(());
    }
    Err(Failure::new(reason, message))
}

fn set(actions: &mut Actions, name: &str, value: &str) -> Result<()> {
    actions.set_output(name, value).reason(
        FailureReason::WriteFailed,
        format!("writing output '{name}'"),
    )
}

fn failure_message(report: &ValidationReport) -> String {
    let failed: Vec<String> = report
        .artifacts
        .iter()
        .filter(|a| !a.verified)
        .take(5)
        .map(|a| {
            let check = a
                .checks
                .iter()
                .find(|c| c.reason.is_some())
                .map(|c| {
                    format!(
                        "{} check failed (expected {}, found {}): {}",
                        c.check.as_str(),
                        c.expected.as_deref().unwrap_or("-"),
                        c.found.as_deref().unwrap_or("nothing"),
                        c.detail.as_deref().unwrap_or("")
                    )
                })
                .unwrap_or_else(|| "no provenance covers it".into());
            format!("{}: {check}", a.name)
        })
        .collect();
    let mut msg = format!(
        "{} of {} artifact(s) verified; all failures: {}",
        report.subjects_verified,
        report.subjects_total,
        report.failure_reasons.join(", ")
    );
    for f in failed {
        msg.push_str("; ");
        msg.push_str(&f);
    }
    if let Some(d) = report.documents.iter().find(|d| d.problem.is_some()) {
        msg.push_str(&format!(
            "; {} is unusable: {}",
            d.origin,
            d.detail.as_deref().unwrap_or("")
        ));
    }
    msg
}

/// `trusted-root`, or the embedded public-good and GitHub roots (tried in that order).
fn trust_anchors(inputs: &ValidateInputs, workspace: &Path) -> Result<Vec<TrustAnchor>> {
    let invalid = |e: crate::adapters::sigstore::TrustedRootError| {
        Failure::new(FailureReason::TrustedRootInvalid, e.to_string())
    };
    match &inputs.trusted_root {
        Some(p) => Ok(vec![
            TrustAnchor::from_file(&workspace.join(p)).map_err(invalid)?
        ]),
        None => Ok(vec![
            TrustAnchor::embedded(SigstoreInstance::PublicGood).map_err(invalid)?,
            TrustAnchor::embedded(SigstoreInstance::GitHub).map_err(invalid)?,
        ]),
    }
}

/// `public-key`: PEM text, or a workspace file holding it.
fn public_key(inputs: &ValidateInputs, workspace: &Path) -> Result<Option<DerPublicKey>> {
    let Some(value) = &inputs.public_key else {
        return Ok(None);
    };
    let pem = if value.contains("-----BEGIN") {
        value.clone()
    } else {
        std::fs::read_to_string(workspace.join(value)).map_err(|e| {
            Failure::new(
                FailureReason::InvalidInput,
                format!("cannot read public-key file {value:?}: {e}"),
            )
        })?
    };
    DerPublicKey::from_pem(pem.trim()).map(Some).map_err(|e| {
        Failure::new(
            FailureReason::InvalidInput,
            format!("input 'public-key' is not a PEM public key: {e}"),
        )
    })
}

/// The tag this run validates when `expected-tag` is not given: resolved as provenance mode
/// does (release event, the `tag` input, then a tag ref).
fn run_tag(inputs: &ValidateInputs, env: &RunEnv) -> Option<String> {
    env.release_tag()
        .or_else(|| inputs.tag.clone())
        .or_else(|| env.ref_tag())
}

/// The tag whose release holds the provenance: `expected-tag` when it is not a pattern, else
/// the run's tag.
fn exact_tag(inputs: &ValidateInputs, env: &RunEnv) -> Option<String> {
    match &inputs.expected_tag {
        Some(t) if !t.contains(['*', '?', '[', '{']) => Some(t.clone()),
        _ => run_tag(inputs, env),
    }
}

/// The domain policy: inputs, with the run's defaults filled in.
fn policy(inputs: &ValidateInputs, env: &RunEnv) -> Result<Policy> {
    let tag_pattern = inputs.expected_tag.clone().or_else(|| run_tag(inputs, env));
    let tag = tag_pattern
        .map(|p| {
            Ok::<_, Failure>(TagExpectation {
                matcher: validate_inputs::glob("expected-tag", &p)?,
                pattern: p,
            })
        })
        .transpose()?;
    // The commit the tag points to, when the tag is exact and the workspace knows it.
    let commit = inputs.expected_commit.clone().or_else(|| {
        let t = tag.as_ref()?;
        let exact = !t.pattern.contains(['*', '?', '[', '{']);
        exact
            .then(|| git::tag_commit(&env.workspace, &t.pattern))
            .flatten()
    });
    Ok(Policy {
        issuer: inputs.issuer.clone(),
        source_repository: inputs.source_repository.clone().or_else(|| {
            env.get("GITHUB_REPOSITORY")
                .map(provenance_doc::normalize_repository)
        }),
        identity: IdentityPolicy {
            signer_workflow: inputs.signer_workflow.clone(),
            exact: inputs.certificate_identity.clone(),
            regexp: inputs.certificate_identity_regexp.clone(),
        },
        deny_self_hosted_runners: inputs.deny_self_hosted_runners,
        allow_predicate_v02: inputs.allow_predicate_v02,
        allow_unsigned: inputs.allow_unsigned,
        tag,
        commit,
        builder: BuilderPolicy {
            exact: inputs.expected_builder_id.clone(),
            regexp: inputs.builder_id_regexp.clone(),
        },
    })
}

/// The artifacts: `subject-path` / `subject-checksums` (as provenance mode reads them) and
/// `subject-digest` lines (named by their digest).
fn artifacts(
    inputs: &ValidateInputs,
    workspace: &Path,
    actions: &Actions,
) -> Result<Vec<Artifact>> {
    let mut out: Vec<Artifact> = Vec::new();
    if !inputs.subject_patterns.is_empty() || inputs.subject_checksums.is_some() {
        let subjects = super::provenance::collect_subjects(
            workspace,
            &inputs.subject_patterns,
            inputs.subject_checksums.as_ref(),
            actions,
        )?;
        out.extend(subjects.into_iter().map(|s| Artifact {
            name: s.name,
            sha256: s.sha256,
        }));
    }
    for hex in &inputs.subject_digests {
        if !out.iter().any(|a| &a.sha256 == hex) {
            out.push(Artifact {
                name: format!("sha256:{hex}"),
                sha256: hex.clone(),
            });
        }
    }
    Ok(out)
}

fn origin_of(doc: &ProvenanceDocument, d: &Document) -> String {
    match d.line {
        Some(l) => format!("{}:{l}", doc.origin),
        None => doc.origin.clone(),
    }
}

/// A document's statement and signature evidence; `Err` means malformed (not forged).
type Proof = std::result::Result<(StatementFacts, SignatureEvidence), String>;

/// Where a document stands on its way to a record: a file that held no document, a document
/// proven offline, or an old-format envelope still to be looked up in Rekor.
enum Step<'i> {
    Unparsable {
        origin: String,
        detail: String,
    },
    Proven {
        origin: String,
        kind: &'static str,
        proof: Box<Proof>,
    },
    LookUp {
        origin: String,
        document: Document,
        rekor: &'i url::Url,
    },
}

/// Parse and prove every document. Unusable ones become records with a problem code.
///
/// Order matters only for the output: records and judged documents come out in file order
/// (the first document that passes covers an artifact). Proving is independent per document,
/// so everything that needs no network is proven in parallel across cores.
async fn prove_documents<'i>(
    documents: &[ProvenanceDocument],
    inputs: &'i ValidateInputs,
    key: Option<&DerPublicKey>,
    anchors: &[TrustAnchor],
) -> (Vec<JudgedDocument>, Vec<DocumentRecord>) {
    use rayon::prelude::*;

    // 1. Parse every file into its documents.
    let parsed: Vec<std::result::Result<(String, Document), Step<'i>>> = documents
        .iter()
        .flat_map(|doc| match provenance_doc::parse_document(&doc.bytes) {
            Ok(ds) => ds
                .into_iter()
                .map(|d| Ok((origin_of(doc, &d), d)))
                .collect(),
            Err(e) => vec![Err(Step::Unparsable {
                origin: doc.origin.clone(),
                detail: e.to_string(),
            })],
        })
        .collect();

    // 2. Prove offline, in parallel (file order kept): all but the envelopes for Rekor.
    let steps: Vec<Step<'i>> = parsed
        .into_par_iter()
        .map(|p| match p {
            Ok((origin, document)) => prove_offline(origin, document, inputs, key, anchors),
            Err(step) => step,
        })
        .collect();

    // 3. The Rekor lookups, one after another, and every document's record in file order.
    let mut judged = Vec::new();
    let mut records = Vec::new();
    let malformed = |origin: String, kind: Option<&'static str>, detail: String| DocumentRecord {
        origin,
        kind,
        problem: Some(FailureReason::MalformedProvenance.code()),
        detail: Some(detail),
    };
    for step in steps {
        let (origin, kind, proof) = match step {
            Step::Unparsable { origin, detail } => {
                records.push(malformed(origin, None, detail));
                continue;
            }
            Step::Proven {
                origin,
                kind,
                proof,
            } => (origin, kind, *proof),
            Step::LookUp {
                origin,
                document,
                rekor,
            } => {
                let proof = prove_online(&document, rekor, anchors).await;
                (origin, document.kind.as_str(), proof)
            }
        };
        match proof {
            Ok((statement, signature)) => {
                records.push(DocumentRecord {
                    origin: origin.clone(),
                    kind: Some(kind),
                    problem: None,
                    detail: None,
                });
                judged.push(JudgedDocument {
                    origin,
                    statement,
                    signature,
                });
            }
            Err(detail) => records.push(malformed(origin, Some(kind), detail)),
        }
    }
    (judged, records)
}

fn read_statement(bytes: &[u8]) -> std::result::Result<StatementFacts, String> {
    provenance_doc::read_statement(bytes).map_err(|e| e.to_string())
}

/// One document proven without the network, or, for an old-format envelope when `rekor-url`
/// is set, the lookup still to do.
fn prove_offline<'i>(
    origin: String,
    document: Document,
    inputs: &'i ValidateInputs,
    key: Option<&DerPublicKey>,
    anchors: &[TrustAnchor],
) -> Step<'i> {
    let proof = match document.kind {
        DocumentKind::Statement => {
            read_statement(document.json.as_bytes()).map(|st| (st, SignatureEvidence::Unsigned))
        }
        DocumentKind::Bundle => prove_bundle(&document.json, key, anchors),
        DocumentKind::DsseEnvelope => match &inputs.rekor {
            RekorLookup::Online(rekor) => {
                return Step::LookUp {
                    origin,
                    document,
                    rekor,
                }
            }
            RekorLookup::Offline => provenance_doc::parse_envelope(&document.json)
                .map_err(|e| e.to_string())
                .and_then(|env| {
                    let evidence = prove::check_legacy_envelope_offline(&env)
                        .map(SignatureEvidence::Verified)
                        .unwrap_or_else(failed_evidence);
                    envelope_proof(&env, evidence)
                }),
        },
    };
    Step::Proven {
        origin,
        kind: document.kind.as_str(),
        proof: Box::new(proof),
    }
}

/// An old-format envelope proven by its Rekor entry.
async fn prove_online(d: &Document, rekor: &url::Url, anchors: &[TrustAnchor]) -> Proof {
    let env = provenance_doc::parse_envelope(&d.json).map_err(|e| e.to_string())?;
    let evidence = rekor_lookup::verify_envelope_online(rekor, &env, anchors)
        .await
        .map(|p| SignatureEvidence::Verified(p.signer))
        .unwrap_or_else(failed_evidence);
    envelope_proof(&env, evidence)
}

/// A Sigstore bundle: its signature proven, then its statement read.
fn prove_bundle(json: &str, key: Option<&DerPublicKey>, anchors: &[TrustAnchor]) -> Proof {
    match prove::verify_provenance_bundle(
        json,
        key,
        anchors,
        prove::LogRequirement::TrustRootDecides,
    ) {
        Ok(proven) => Ok((
            read_statement(&proven.statement)?,
            SignatureEvidence::Verified(proven.signer),
        )),
        Err(ProvenanceError::Malformed(e)) => Err(e),
        Err(e) => {
            // The claims of an unproven statement are shown for diagnosis only.
            let statement = prove::unverified_bundle_payload(json)
                .and_then(|p| provenance_doc::read_statement(&p).ok())
                .unwrap_or_default();
            Ok((statement, failed_evidence(e)))
        }
    }
}

/// An old-format envelope's statement beside the evidence its signature gave.
fn envelope_proof(env: &provenance_doc::LegacyEnvelope, evidence: SignatureEvidence) -> Proof {
    // A forged payload that is not even a statement is reported as forged, not malformed.
    let statement = match (read_statement(&env.payload), &evidence) {
        (Ok(st), _) => st,
        (Err(_), SignatureEvidence::Failed { reason, .. })
            if *reason == FailureReason::SignatureInvalid =>
        {
            StatementFacts::default()
        }
        (Err(e), _) => return Err(e),
    };
    Ok((statement, evidence))
}

fn failed_evidence(e: ProvenanceError) -> SignatureEvidence {
    match e {
        ProvenanceError::NoLogProof { detail, claimed } => SignatureEvidence::Failed {
            reason: FailureReason::LogProofMissing,
            detail,
            claimed: claimed.map(|c| *c),
        },
        other => SignatureEvidence::Failed {
            reason: FailureReason::SignatureInvalid,
            detail: other.to_string(),
            claimed: None,
        },
    }
}

/// The governance overrides a verified artifact actually relied on.
fn overrides_used(
    inputs: &ValidateInputs,
    judged: &[JudgedDocument],
    verdicts: &[verify::ArtifactVerdict],
) -> Vec<&'static str> {
    // The documents that cover a verified artifact, looked up by origin (not one scan each).
    let covering: std::collections::HashSet<&str> = verdicts
        .iter()
        .filter(|v| v.verified)
        .filter_map(|v| v.provenance.as_deref())
        .collect();
    let used = |pred: &dyn Fn(&JudgedDocument) -> bool| {
        judged
            .iter()
            .any(|j| covering.contains(j.origin.as_str()) && pred(j))
    };
    let mut out = Vec::new();
    if inputs.allow_predicate_v02
        && used(&|j| j.statement.predicate_type == provenance_doc::SLSA_V02)
    {
        out.push("allow-predicate-v02");
    }
    if inputs.allow_unsigned && used(&|j| j.signature == SignatureEvidence::Unsigned) {
        out.push("allow-unsigned");
    }
    out
}

fn write_report(
    inputs: &ValidateInputs,
    env: &RunEnv,
    report: &ValidationReport,
    now: DateTime<Utc>,
) -> Result<PathBuf> {
    let rel = inputs.result_path.clone().unwrap_or_else(|| {
        let run = env.get("GITHUB_RUN_ID").unwrap_or("local");
        inputs
            .reports_dir
            .join(now.format("%Y-%m-%d").to_string())
            .join(format!("validate_run_{run}.json"))
    });
    files::write_atomic(
        &env.workspace.join(&rel),
        report.to_json().as_bytes(),
        files::Owner::of(&env.workspace).ok(),
    )
    .reason(
        FailureReason::WriteFailed,
        format!("writing the validation report {}", rel.display()),
    )?;
    Ok(rel)
}

fn write_outputs(actions: &mut Actions, report: &ValidationReport, result: &Path) -> Result<()> {
    let head = report.headline();
    let field =
        |f: fn(&verify::ArtifactVerdict) -> Option<String>| head.and_then(f).unwrap_or_default();
    set(
        actions,
        "verified",
        if report.verified { "true" } else { "false" },
    )?;
    set(
        actions,
        "predicate-type",
        &field(|a| a.predicate_type.clone()),
    )?;
    set(actions, "builder-id", &field(|a| a.builder_id.clone()))?;
    set(actions, "tag", &field(|a| a.tag.clone()))?;
    set(actions, "commit", &field(|a| a.commit.clone()))?;
    set(
        actions,
        "signer-identity",
        &field(|a| a.signer_identity.clone()),
    )?;
    set(
        actions,
        "subjects-verified",
        &report.subjects_verified.to_string(),
    )?;
    set(actions, "governance-overrides", &report.overrides.join(","))?;
    set(
        actions,
        "result-path",
        &super::provenance::rel_string(result),
    )
}

/// Record the outcome on the validated run's manifest entry (the `run-id` input's, else the
/// latest for the tag) through the audit store (`modes::entry_store`), then tell the seed's
/// Supabase validate function when `supabase-url` is set (a failure there is a warning).
async fn record_in_manifest(
    inputs: &ValidateInputs,
    env: &RunEnv,
    policy: &Policy,
    report: &ValidationReport,
    actions: &mut Actions,
) -> Result<()> {
    let run = match (&inputs.source, &policy.tag) {
        (crate::inputs::validate::ProvenanceSource::RunArtifact { run_id, .. }, _) => {
            ValidatedRun::RunId(*run_id)
        }
        (_, Some(t)) => ValidatedRun::Tag(&t.pattern),
        _ => return Ok(()),
    };
    let status = match (
        report.verified,
        report.overrides.contains(&"allow-unsigned"),
    ) {
        (true, true) => "unsigned",
        (true, false) => "passed",
        (false, _) => "failed",
    };
    let outcome = ValidationOutcome {
        status,
        validated_at: &report.validated_at,
        failure_reason: report.failure_reason,
    };
    let req = EntryRequest {
        env,
        inputs: &inputs.entry_store,
        token: inputs.github_token.as_ref(),
        reports_dir: &inputs.reports_dir,
        target: validation_record::target(&run),
        what: "validate",
    };
    let apply = |e: &mut ManifestEntry| validation_record::apply(e, &outcome);
    let entry = entry_store::update_entry(&req, &apply, actions).await?;
    if entry.is_none() {
        actions.debug("no manifest entry for the validated run: nothing recorded");
    }
    if let Some(s) = &inputs.supabase {
        let (tag, run_id) = match (&entry, &run) {
            (Some(e), _) => (Some(e.tag.clone()), Some(e.run_id)),
            (None, ValidatedRun::RunId(id)) => (None, Some(*id)),
            (None, ValidatedRun::Tag(t)) => (Some((*t).to_string()), None),
        };
        let payload = validation_record::function_payload(tag, run_id, &outcome);
        let sent = match supabase_client(env, s) {
            Ok(c) => c.call_function(&s.function, &payload).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => actions.info(&format!(
                "Supabase: /functions/v1/{} told the validation outcome",
                s.function
            )),
            Err(e) => actions.warning(&format!(
                "Supabase validate function {} failed (the manifest is the record): {e}",
                s.function
            )),
        }
    }
    Ok(())
}

fn supabase_client(
    env: &RunEnv,
    s: &crate::inputs::audit::SupabaseFunctionInputs,
) -> std::result::Result<crate::adapters::supabase::Supabase, String> {
    let ms = |name: &str, default: u64| {
        env.get(name)
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
    };
    let timeout =
        std::time::Duration::from_millis(ms(crate::adapters::github::ENV_HTTP_TIMEOUT_MS, 30_000));
    let base =
        std::time::Duration::from_millis(ms(crate::adapters::github::ENV_RETRY_BASE_MS, 1000));
    crate::adapters::supabase::Supabase::new(&s.url, &s.key, timeout, base)
        .map_err(|e| e.to_string())
}
