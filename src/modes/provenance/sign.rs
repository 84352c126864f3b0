//! Signing step of `mode: provenance`: keyless Sigstore or key-based DSSE signing of the
//! statement bytes, followed by verification of our own bundle with the same trusted root and
//! the same verifier and signer rule as `mode: validate`.
//!
//! Which Sigstore instance a keyless signature goes to is decided by the pure
//! `domain::signing::plan_keyless`.

use serde_json::Value;
use sigstore_trust_root::SigstoreInstance;

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::oidc;
use crate::adapters::sigstore::{self, Expected, SignedBundle, SigningKey, TrustAnchor, Verified};
use crate::adapters::sigstore_provenance::{self, LogRequirement};
use crate::domain::signing::{
    plan_keyless, tlog_entry_text, visibility, Instance, LogPolicy, Overrides, RootSource,
    SigningMethod, MISSING_ID_TOKEN,
};
use crate::domain::statement::BuildContext;
use crate::domain::summary::SigningFacts;
use crate::domain::{provenance_doc, verify};
use crate::error::{Failure, FailureReason, Result};
use crate::inputs::ProvenanceInputs;
use crate::secret::Secret;

pub struct SignRequest<'a> {
    pub method: SigningMethod,
    pub inputs: &'a ProvenanceInputs,
    pub env: &'a RunEnv,
    pub context: &'a BuildContext,
    /// The OIDC token already fetched (audience `sigstore`) when the runner offers one.
    pub id_token: Option<Secret>,
    /// The exact statement bytes: the DSSE payload.
    pub statement: &'a [u8],
    pub actions: &'a Actions,
}

pub struct Signed {
    /// Sigstore bundle v0.3 JSON.
    pub bundle_json: Vec<u8>,
    pub facts: SigningFacts,
}

pub async fn sign(req: SignRequest<'_>) -> Result<Option<Signed>> {
    match req.method {
        SigningMethod::Unsigned => {
            req.actions
                .warning("sign: none: the provenance is unsigned and does not meet SLSA Build L2+");
            Ok(None)
        }
        SigningMethod::Key => sign_with_key(&req).map(Some),
        SigningMethod::Keyless => sign_keyless(&req).await.map(Some),
    }
}

// ---------------------------------------------------------------------------------------------
// Key

fn sign_with_key(req: &SignRequest<'_>) -> Result<Signed> {
    let pem = req.inputs.signing_key.as_ref().ok_or_else(|| {
        Failure::new(
            FailureReason::MissingInput,
            "input 'signing-key' is required when signing with a key",
        )
    })?;
    // The key and its password were masked (line by line) when the inputs were read.
    let key = SigningKey::from_pem(pem, req.inputs.signing_key_password.as_ref())
        .map_err(|e| Failure::new(FailureReason::SigningKeyInvalid, e.to_string()))?;
    let signed = sigstore::sign_with_key(&key, req.statement)
        .map_err(|e| Failure::new(FailureReason::SigningFailed, e.to_string()))?;
    // No trusted root is involved in an offline key signature; any root will do for the API.
    let anchor = TrustAnchor::embedded(SigstoreInstance::PublicGood)
        .map_err(|e| Failure::new(FailureReason::TrustedRootInvalid, e.to_string()))?;
    let verified = self_verify(
        &signed,
        &Expected::PublicKey(key.public_key()),
        LogPolicy::TimestampsSuffice,
        req.statement,
        &anchor,
    )?;
    req.actions.info(&format!(
        "Signed with key {} (DSSE, bundle v0.3)",
        key.hint()
    ));
    Ok(Signed {
        bundle_json: signed.json,
        facts: SigningFacts {
            method: "key".into(),
            signer_identity: format!("key {}", verified.signer_identity),
            issuer: None,
            tlog_entry: None,
            timestamp: None,
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Keyless

async fn sign_keyless(req: &SignRequest<'_>) -> Result<Signed> {
    let token = req
        .id_token
        .as_ref()
        .ok_or_else(|| Failure::new(FailureReason::MissingIdTokenPermission, MISSING_ID_TOKEN))?;
    let claims = oidc::decode_claims(token)?;
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Failure::new(
                FailureReason::OidcTokenFailed,
                "the OIDC token has no 'iss' claim",
            )
        })?
        .to_string();
    let url = |u: &Option<url::Url>| {
        u.as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_string())
    };
    let (fulcio, rekor, tsa) = (
        url(&req.inputs.fulcio_url),
        url(&req.inputs.rekor_url),
        url(&req.inputs.tsa_url),
    );
    let overrides = Overrides {
        fulcio_url: fulcio.as_deref(),
        rekor_url: rekor.as_deref(),
        tsa_url: tsa.as_deref(),
        trusted_root: req
            .inputs
            .trusted_root
            .as_deref()
            .map(|p| req.env.workspace.join(p)),
    };
    let vis = visibility(&claims, req.env.event.as_ref());
    let plan = plan_keyless(vis, &overrides);
    for w in &plan.warnings {
        req.actions.warning(w);
    }
    // Load the root before talking to any service: a bad root must not cost a log entry.
    let anchor = match &plan.root {
        RootSource::Embedded(i) => TrustAnchor::embedded(embedded(*i)),
        RootSource::File(p) => TrustAnchor::from_file(p),
    }
    .map_err(|e| Failure::new(FailureReason::TrustedRootInvalid, e.to_string()))?;
    req.actions.info(&format!(
        "Signing with Sigstore ({} instance: Fulcio {}, {}{})",
        plan.instance,
        plan.services.fulcio_url,
        match &plan.services.rekor_url {
            Some(r) => format!("Rekor {r}"),
            None => "no transparency log".into(),
        },
        match &plan.services.tsa_url {
            Some(t) => format!(", TSA {}", sigstore::tsa_endpoint(t)),
            None => String::new(),
        }
    ));

    // A hung Sigstore service costs one `SLSA_PROVENANCE_HTTP_TIMEOUT_MS`, as every call does.
    let (_, timeout) = crate::adapters::github::knobs(req.env)?;
    let signed = sigstore::sign_keyless(&plan.services, token, req.statement, timeout)
        .await
        .map_err(|e| Failure::new(FailureReason::SigningFailed, e.to_string()))?;
    let identity = req.context.builder_id();
    let verified = self_verify(
        &signed,
        &Expected::Identity {
            identity: &identity,
            issuer: &issuer,
        },
        plan.log_policy,
        req.statement,
        &anchor,
    )?;
    let tlog_entry = match (&plan.services.rekor_url, signed.log_index) {
        (Some(r), Some(i)) => Some(tlog_entry_text(r, i)),
        _ => None,
    };
    let timestamp = verified.timestamps.first().cloned();
    req.actions.info(&format!(
        "Signed by {} (issuer {issuer}){}{}",
        verified.signer_identity,
        tlog_entry
            .as_deref()
            .map(|t| format!(", {t}"))
            .unwrap_or_default(),
        timestamp
            .as_deref()
            .map(|t| format!(", timestamped {t}"))
            .unwrap_or_default(),
    ));
    Ok(Signed {
        bundle_json: signed.json,
        facts: SigningFacts {
            method: format!("sigstore (keyless, {} instance)", plan.instance),
            signer_identity: verified.signer_identity,
            issuer: verified.issuer.or(Some(issuer)),
            tlog_entry,
            timestamp,
        },
    })
}

fn embedded(i: Instance) -> SigstoreInstance {
    match i {
        Instance::PublicGood => SigstoreInstance::PublicGood,
        Instance::GitHub => SigstoreInstance::GitHub,
    }
}

/// Verify our own bundle exactly as `mode: validate` verifies anyone's: the same adapter
/// (`sigstore_provenance`, which proves who signed and when), the same domain signer rule, and
/// the DSSE payload must be the statement we wrote, byte for byte.
fn self_verify(
    signed: &SignedBundle,
    expected: &Expected<'_>,
    log_policy: LogPolicy,
    statement: &[u8],
    anchor: &TrustAnchor,
) -> Result<Verified> {
    let failed = |detail: String| {
        Failure::new(
            FailureReason::SelfVerificationFailed,
            format!(
                "the bundle we just signed does not verify against trusted root {}: {detail}",
                anchor.origin
            ),
        )
    };
    let json = String::from_utf8_lossy(&signed.json);
    let key = match expected {
        Expected::PublicKey(k) => Some(*k),
        Expected::Identity { .. } => None,
    };
    let proven = sigstore_provenance::verify_provenance_bundle(
        &json,
        key,
        std::slice::from_ref(anchor),
        LogRequirement::Policy(log_policy),
    )
    .map_err(|e| failed(e.to_string()))?;
    if proven.statement != statement {
        return Err(failed(
            "the DSSE payload differs from the statement that was signed".into(),
        ));
    }
    if let Expected::Identity { identity, issuer } = expected {
        let policy = verify::Policy {
            issuer: issuer.to_string(),
            identity: verify::IdentityPolicy {
                exact: Some(identity.to_string()),
                ..Default::default()
            },
            ..Default::default()
        };
        let facts = provenance_doc::read_statement(statement).map_err(|e| failed(e.to_string()))?;
        let evidence = verify::SignatureEvidence::Verified(proven.signer.clone());
        if let verify::Outcome::Fail(m) = verify::check_signer(&policy, &evidence, &facts) {
            return Err(failed(format!(
                "signer check: expected {}, found {}",
                m.expected,
                m.found.as_deref().unwrap_or("nothing")
            )));
        }
    }
    let signer_identity = match key {
        Some(k) => sigstore::key_hint(k),
        None => proven.signer.identity.clone(),
    };
    Ok(Verified {
        signer_identity,
        issuer: proven.signer.issuer.clone(),
        log_entries: Vec::new(),
        timestamps: proven.timestamps,
    })
}
