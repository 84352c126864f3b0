//! Sigstore verification for `mode: validate`: prove who signed a provenance and when, and
//! return exactly that, for `domain::verify` to judge.
//!
//! Only cryptography happens here: the bundle's signature, certificate chain (at the verified
//! signing time), SCT, Rekor inclusion proof / SET and RFC 3161 timestamps, through the same
//! `sigstore-verify` [`TrustAnchor`] that `mode: provenance` checks its own bundles with. No
//! identity is required at this layer (`VerificationPolicy::any_identity`): which issuer,
//! repository, workflow or runner is acceptable is the domain's [`Policy`] decision, made on
//! the [`SignerFacts`] returned here (SAN, issuer, Fulcio extensions, new and old OIDs).
//!
//! An old-format DSSE envelope (slsa-github-generator's `.intoto.jsonl`) carries its Fulcio
//! certificate but no log entry: offline, its signature is checked with the certificate's key
//! and the answer is [`ProvenanceError::NoLogProof`], never a pass.
//!
//! [`Policy`]: crate::domain::verify::Policy

use sigstore_sign::crypto::{parse_certificate_info, CertificateInfo, SigningScheme};
use sigstore_sign::types::bundle::VerificationMaterialContent;
use sigstore_sign::types::{Artifact, DerCertificate, DerPublicKey, SignatureBytes};
use sigstore_verify::VerificationPolicy;

use super::sigstore::{
    in_toto_payload, key_hint, parse_bundle, verify_bundle, Binding, Expected, LogPolicy,
    TrustAnchor, VerifyError, IN_TOTO_PAYLOAD_TYPE,
};
use crate::domain::provenance_doc::LegacyEnvelope;
use crate::domain::verify::SignerFacts;

/// What a verified provenance proves.
#[derive(Debug, Clone)]
pub struct Proven {
    /// The exact statement bytes that were signed.
    pub statement: Vec<u8>,
    pub payload_type: String,
    pub signer: SignerFacts,
    /// RFC 3339 times of the verified RFC 3161 timestamps (other than the log's).
    pub timestamps: Vec<String>,
}

/// When a bundle without a transparency-log entry is acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogRequirement {
    /// `mode: validate`: a trust root with a log requires an entry; one without a log (GitHub's
    /// private instance) accepts signed timestamps.
    TrustRootDecides,
    /// `mode: provenance`'s self-check: the signing plan's policy.
    Policy(LogPolicy),
}

/// Why a provenance is not proven.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    /// Not a Sigstore bundle at all (the document is malformed, not forged).
    #[error("not a Sigstore bundle: {0}")]
    Malformed(String),
    /// Signed, but nothing proves when: the short-lived certificate cannot be checked.
    #[error("no transparency-log proof of the signing time: {detail}")]
    NoLogProof {
        detail: String,
        /// What the certificate claims (unproven), for the report.
        claimed: Option<Box<SignerFacts>>,
    },
    /// The signature, certificate, log entry or timestamp does not verify.
    #[error(transparent)]
    Invalid(#[from] VerifyError),
}

fn signer_facts(
    identity: String,
    issuer: Option<String>,
    cert: Option<&CertificateInfo>,
    signed_at: Option<i64>,
) -> SignerFacts {
    let mut facts = SignerFacts {
        identity,
        issuer,
        signed_at,
        ..Default::default()
    };
    if let Some(cert) = cert {
        let c = &cert.ci_claims;
        let old = &c.deprecated_github;
        facts.source_repository = c
            .source_repository_uri
            .clone()
            .or_else(|| old.workflow_repository.clone());
        facts.source_ref = c
            .source_repository_ref
            .clone()
            .or_else(|| old.workflow_ref.clone());
        facts.source_digest = c
            .source_repository_digest
            .clone()
            .or_else(|| old.workflow_sha.clone());
        facts.runner_environment = c.runner_environment.clone();
        facts.build_signer_uri = c.build_signer_uri.clone();
        if facts.issuer.is_none() {
            facts.issuer = cert.issuer.clone();
        }
    }
    facts
}

/// The statement's first SHA-256 subject: what `sigstore-verify` binds a DSSE signature to.
/// Which artifacts the statement covers is judged later, per artifact, by the domain.
fn own_subject(payload: &[u8]) -> Result<String, VerifyError> {
    let statement: sigstore_sign::types::Statement = serde_json::from_slice(payload)
        .map_err(|e| VerifyError::Malformed(format!("in-toto statement: {e}")))?;
    statement
        .subject
        .iter()
        .find_map(|s| s.digest.sha256)
        .map(|h| h.to_hex())
        .ok_or_else(|| VerifyError::Unsupported("no subject has a SHA-256 digest".into()))
}

/// Verify a Sigstore bundle (v0.1-v0.3) holding a DSSE in-toto statement against the first
/// anchor that accepts it. `key` verifies managed-key bundles; certificate bundles need none.
pub fn verify_provenance_bundle(
    json: &str,
    key: Option<&DerPublicKey>,
    anchors: &[TrustAnchor],
    log: LogRequirement,
) -> Result<Proven, ProvenanceError> {
    let bundle = parse_bundle(json).map_err(|e| ProvenanceError::Malformed(e.to_string()))?;
    let payload = in_toto_payload(&bundle.content)?.to_vec();
    let subject = own_subject(&payload)?;
    let material = &bundle.verification_material;

    if let VerificationMaterialContent::PublicKey(_) = material.content {
        let Some(key) = key else {
            return Err(VerifyError::WrongMaterial {
                expected: "Fulcio certificate (give public-key for key-signed provenance)",
                found: "public key",
            }
            .into());
        };
        let anchor = anchors
            .first()
            .ok_or_else(|| VerifyError::TrustedRoot("no trusted root".into()))?;
        let verified = verify_bundle(
            json,
            &Expected::PublicKey(key),
            Binding::SubjectSha256(&subject),
            match log {
                LogRequirement::Policy(p) => p,
                LogRequirement::TrustRootDecides => LogPolicy::TimestampsSuffice,
            },
            anchor,
        )?;
        return Ok(Proven {
            statement: payload,
            payload_type: IN_TOTO_PAYLOAD_TYPE.into(),
            signer: SignerFacts {
                identity: format!("key {}", key_hint(key)),
                key: true,
                ..Default::default()
            },
            timestamps: verified.timestamps,
        });
    }

    let has_log = !material.tlog_entries.is_empty();
    let has_timestamps = !material
        .timestamp_verification_data
        .rfc3161_timestamps
        .is_empty();
    if !has_log && !has_timestamps {
        return Err(ProvenanceError::NoLogProof {
            detail: "the bundle has neither a transparency-log entry nor a signed timestamp".into(),
            claimed: leaf_of(&material.content).map(|c| Box::new(claimed_facts(&c))),
        });
    }
    let artifact_hash = sigstore_sign::types::Sha256Hash::from_hex(&subject)
        .map_err(|e| VerifyError::Malformed(e.to_string()))?;
    let mut first_error = None;
    for anchor in anchors {
        // A bundle without a log entry is acceptable only to a trust domain without a log
        // (GitHub's private instance); a public-good verifier must refuse it.
        let require_log = match log {
            LogRequirement::TrustRootDecides => !anchor.root.tlogs.is_empty(),
            LogRequirement::Policy(p) => p == LogPolicy::RequireTransparencyLog,
        };
        if !has_log && require_log {
            first_error.get_or_insert(VerifyError::TransparencyLog(format!(
                "the bundle has no transparency-log entry, which trusted root {} requires",
                anchor.origin
            )));
            continue;
        }
        let mut policy = VerificationPolicy::any_identity();
        if !has_log {
            policy = policy.skip_tlog_unsafe();
        }
        if !anchor.has_ct_logs() {
            policy = policy.skip_sct();
        }
        match anchor
            .verifier
            .verify(Artifact::from(artifact_hash), &bundle, &policy)
        {
            Ok(result) => {
                let signed_at = result
                    .integrated_time()
                    .or_else(|| result.verified_timestamps().first().copied())
                    .map(|t| t.as_second());
                let identity = result
                    .identity()
                    .map(|i| i.as_str().to_string())
                    .unwrap_or_default();
                let integrated = result.integrated_time();
                let timestamps = result
                    .verified_timestamps()
                    .iter()
                    .filter(|t| Some(**t) != integrated)
                    .map(|t| t.to_string())
                    .collect();
                return Ok(Proven {
                    statement: payload,
                    payload_type: IN_TOTO_PAYLOAD_TYPE.into(),
                    timestamps,
                    signer: signer_facts(
                        identity,
                        result.issuer().map(String::from),
                        result.certificate(),
                        signed_at,
                    ),
                });
            }
            Err(e) => {
                first_error.get_or_insert(VerifyError::from(e));
            }
        }
    }
    Err(first_error
        .unwrap_or_else(|| VerifyError::TrustedRoot("no trusted root".into()))
        .into())
}

fn leaf_of(content: &VerificationMaterialContent) -> Option<DerCertificate> {
    match content {
        VerificationMaterialContent::Certificate(c) => Some(c.raw_bytes.clone()),
        VerificationMaterialContent::X509CertificateChain { certificates } => {
            certificates.first().map(|c| c.raw_bytes.clone())
        }
        _ => None,
    }
}

fn claimed_facts(cert: &DerCertificate) -> SignerFacts {
    match parse_certificate_info(cert) {
        Ok(info) => signer_facts(
            info.identity
                .as_ref()
                .map(|i| i.as_str().to_string())
                .unwrap_or_default(),
            info.issuer.clone(),
            Some(&info),
            None,
        ),
        Err(_) => SignerFacts::default(),
    }
}

/// Offline check of an old-format DSSE envelope: the signature must verify with the key of
/// the certificate it carries; then, as nothing proves when it was made, [`NoLogProof`].
///
/// [`NoLogProof`]: ProvenanceError::NoLogProof
pub fn check_legacy_envelope_offline(env: &LegacyEnvelope) -> Result<SignerFacts, ProvenanceError> {
    let (_, info) = legacy_signer(env)?;
    Err(ProvenanceError::NoLogProof {
        detail: "an old-format DSSE envelope carries no transparency-log entry; give rekor-url \
                 (network) to look it up, as slsa-verifier does"
            .into(),
        claimed: Some(Box::new(info)),
    })
}

/// The envelope's certificate and what it claims, once the signature verified with its key.
pub fn legacy_signer(
    env: &LegacyEnvelope,
) -> Result<(DerCertificate, SignerFacts), ProvenanceError> {
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(
            VerifyError::Unsupported(format!("DSSE payload type {:?}", env.payload_type)).into(),
        );
    }
    let signature = env
        .signatures
        .first()
        .ok_or_else(|| VerifyError::SignatureInvalid("no signature".into()))?;
    let pem = signature.cert_pem.as_deref().ok_or_else(|| {
        VerifyError::Certificate("the envelope's signature carries no certificate".into())
    })?;
    let cert = DerCertificate::from_pem(pem)
        .map_err(|e| VerifyError::Certificate(format!("the envelope's certificate: {e}")))?;
    let info = parse_certificate_info(&cert)
        .map_err(|e| VerifyError::Certificate(format!("the envelope's certificate: {e}")))?;
    let pae = sigstore_sign::types::pae(&env.payload_type, &env.payload);
    sigstore_sign::crypto::verify_signature(
        &info.public_key,
        &pae,
        &SignatureBytes::from_bytes(&signature.sig),
        SigningScheme::EcdsaP256Sha256,
    )
    .map_err(|e| VerifyError::SignatureInvalid(e.to_string()))?;
    Ok((cert.clone(), claimed_facts(&cert)))
}

/// The statement bytes of a bundle that did not verify, for diagnosis in the report only.
pub fn unverified_bundle_payload(json: &str) -> Option<Vec<u8>> {
    let bundle = parse_bundle(json).ok()?;
    in_toto_payload(&bundle.content).ok().map(<[u8]>::to_vec)
}
