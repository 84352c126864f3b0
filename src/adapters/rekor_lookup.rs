//! Rekor v1 lookup for old-format DSSE envelopes, as slsa-verifier does: search the log's
//! index by the payload's SHA-256, fetch each entry found, and verify the envelope with that
//! entry attached (its SET against the trusted root's Rekor key, its body against the
//! envelope, the certificate at the entry's integrated time).
//!
//! Only wire translation happens here: the entry becomes the `tlogEntries` of a v0.1 bundle
//! around the envelope, and `sigstore_provenance::verify_provenance_bundle` does every
//! cryptographic check. Nothing found, or Rekor unreachable, is
//! [`ProvenanceError::NoLogProof`]: never a pass.

use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

use super::sigstore::TrustAnchor;
use super::sigstore_provenance::{
    legacy_signer, verify_provenance_bundle, LogRequirement, Proven, ProvenanceError,
};
use crate::domain::provenance_doc::LegacyEnvelope;

/// At most this many index hits are fetched (a payload is normally logged once).
const MAX_ENTRIES: usize = 8;
const TIMEOUT: Duration = Duration::from_secs(30);

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn no_proof(detail: String) -> ProvenanceError {
    ProvenanceError::NoLogProof {
        detail,
        claimed: None,
    }
}

/// Verify an old-format envelope with its Rekor entry looked up at `rekor`.
pub async fn verify_envelope_online(
    rekor: &url::Url,
    env: &LegacyEnvelope,
    anchors: &[TrustAnchor],
) -> Result<Proven, ProvenanceError> {
    // The signature must hold with the envelope's own certificate before we ask anyone.
    let (cert, claimed) = legacy_signer(env)?;
    let with_claims = |e: ProvenanceError| match e {
        ProvenanceError::NoLogProof { detail, .. } => ProvenanceError::NoLogProof {
            detail,
            claimed: Some(Box::new(claimed.clone())),
        },
        other => other,
    };
    let base = rekor.as_str().trim_end_matches('/').to_string();
    let http = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .user_agent(concat!(
            "slsa-provenance-action/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .map_err(|e| no_proof(format!("HTTP client: {e}")))?;
    let payload_hash = hex::encode(sha2::Sha256::digest_bytes(&env.payload));
    let uuids: Vec<String> = http
        .post(format!("{base}/api/v1/index/retrieve"))
        .json(&json!({ "hash": format!("sha256:{payload_hash}") }))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| with_claims(no_proof(format!("Rekor {base} index search failed: {e}"))))?
        .json()
        .await
        .map_err(|e| with_claims(no_proof(format!("Rekor {base} index answer: {e}"))))?;
    if uuids.is_empty() {
        return Err(with_claims(no_proof(format!(
            "Rekor {base} has no entry for this envelope (payload sha256:{payload_hash})"
        ))));
    }
    let mut last = None;
    for uuid in uuids.iter().take(MAX_ENTRIES) {
        let entry: Value = match http
            .get(format!("{base}/api/v1/log/entries/{uuid}"))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
        {
            Ok(r) => match r.json().await {
                Ok(v) => v,
                Err(e) => {
                    last = Some(no_proof(format!("Rekor entry {uuid}: {e}")));
                    continue;
                }
            },
            Err(e) => {
                last = Some(no_proof(format!("Rekor entry {uuid}: {e}")));
                continue;
            }
        };
        let bundle = match bundle_with_entry(env, cert.as_bytes(), &entry) {
            Ok(b) => b,
            Err(detail) => {
                last = Some(ProvenanceError::Invalid(
                    super::sigstore::VerifyError::TransparencyLog(detail),
                ));
                continue;
            }
        };
        match verify_provenance_bundle(&bundle, None, anchors, LogRequirement::TrustRootDecides) {
            Ok(p) => return Ok(p),
            Err(e) => last = Some(e),
        }
    }
    Err(with_claims(last.unwrap_or_else(|| {
        no_proof(format!("Rekor {base}: no usable entry"))
    })))
}

/// A v0.1 bundle around the envelope with the Rekor entry (`{uuid: {body, integratedTime,
/// logID, logIndex, verification}}`) as its transparency-log entry.
pub fn bundle_with_entry(
    env: &LegacyEnvelope,
    cert_der: &[u8],
    answer: &Value,
) -> Result<String, String> {
    let entry = answer
        .as_object()
        .and_then(|m| m.values().next())
        .ok_or("the Rekor answer holds no entry")?;
    let body = entry
        .get("body")
        .and_then(Value::as_str)
        .ok_or("the Rekor entry has no body")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "the Rekor entry's body is not base64")?;
    let kind: Value = serde_json::from_slice(&decoded).map_err(|_| "the Rekor body is not JSON")?;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    let number = |k: &str| entry.get(k).and_then(Value::as_i64);
    let log_id = text(entry, "logID").ok_or("the Rekor entry has no logID")?;
    let log_id = hex::decode(&log_id).map_err(|_| "the Rekor logID is not hex")?;
    let set = entry
        .pointer("/verification/signedEntryTimestamp")
        .and_then(Value::as_str)
        .ok_or("the Rekor entry has no signed entry timestamp")?;
    let signature = env
        .signatures
        .first()
        .ok_or("the envelope has no signature")?;
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": {
            "x509CertificateChain": {"certificates": [{"rawBytes": b64(cert_der)}]},
            "tlogEntries": [{
                "logIndex": number("logIndex").ok_or("the Rekor entry has no logIndex")?.to_string(),
                "logId": {"keyId": b64(&log_id)},
                "kindVersion": {
                    "kind": text(&kind, "kind").ok_or("the Rekor body has no kind")?,
                    "version": text(&kind, "apiVersion").ok_or("the Rekor body has no apiVersion")?,
                },
                "integratedTime": number("integratedTime").ok_or("the Rekor entry has no integratedTime")?.to_string(),
                "inclusionPromise": {"signedEntryTimestamp": set},
                "canonicalizedBody": body,
            }],
        },
        "dsseEnvelope": {
            "payload": b64(&env.payload),
            "payloadType": env.payload_type,
            "signatures": [{"sig": b64(&signature.sig), "keyid": ""}],
        },
    });
    Ok(bundle.to_string())
}

/// SHA-256 over bytes, in one call.
trait DigestBytes {
    fn digest_bytes(bytes: &[u8]) -> Vec<u8>;
}

impl DigestBytes for sha2::Sha256 {
    fn digest_bytes(bytes: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        sha2::Sha256::digest(bytes).to_vec()
    }
}
