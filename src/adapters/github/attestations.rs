//! The attestations API: store a bundle, find one stored for a subject digest.

use http::Method;
use serde_json::Value;

use super::{encode_path, ApiResult, Body, GitHub, Idempotency, Landed, PER_PAGE};

/// An attestation as the API reports it.
#[derive(Debug, Clone)]
pub struct StoredAttestation {
    /// Absent when we only found it by listing and the listing carried no id.
    pub id: Option<u64>,
}

impl GitHub<'_> {
    /// `POST /repos/{owner}/{repo}/attestations` with `{"bundle": ...}`.
    pub async fn create_attestation(
        &self,
        repository: &str,
        bundle: &Value,
        subject_sha256: &str,
    ) -> ApiResult<StoredAttestation> {
        let body = serde_json::json!({ "bundle": bundle }).to_string();
        let req = self.api(
            Method::POST,
            &format!("/repos/{}/attestations", encode_path(repository)),
            Body::Json(body),
        );
        let check = || self.find_attestation(repository, bundle, subject_sha256);
        match self.call(&req, Idempotency::NonIdempotent, check).await? {
            Landed::AlreadyDone(found) => Ok(found),
            Landed::Answered(a) if a.success() => {
                let v: Value = a.json()?;
                Ok(StoredAttestation {
                    id: v.get("id").and_then(Value::as_u64),
                })
            }
            Landed::Answered(a) => Err(a.into_error()),
        }
    }

    /// The attestation with exactly this bundle, among those stored for the subject digest.
    pub async fn find_attestation(
        &self,
        repository: &str,
        bundle: &Value,
        subject_sha256: &str,
    ) -> ApiResult<Option<StoredAttestation>> {
        let req = self.api(
            Method::GET,
            &format!(
                "/repos/{}/attestations/sha256:{subject_sha256}?per_page={PER_PAGE}",
                encode_path(repository)
            ),
            Body::None,
        );
        let a = self.fetch(&req).await?;
        if a.status == 404 {
            return Ok(None);
        }
        if !a.success() {
            return Err(a.into_error());
        }
        let v: Value = a.json()?;
        let found = v
            .get("attestations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|item| item.get("bundle").is_some_and(|b| same_bundle(b, bundle)));
        Ok(found.map(|item| StoredAttestation {
            id: item.get("id").and_then(Value::as_u64),
        }))
    }
}

/// Whether a bundle GitHub lists is the one we posted: equal JSON, or (should GitHub have
/// re-serialized it) the same DSSE payload and signature, which no other signing produces.
fn same_bundle(listed: &Value, ours: &Value) -> bool {
    if listed == ours {
        return true;
    }
    let key = |b: &Value| {
        let payload = b.pointer("/dsseEnvelope/payload")?.as_str()?.to_string();
        let sig = b
            .pointer("/dsseEnvelope/signatures/0/sig")?
            .as_str()?
            .to_string();
        Some((payload, sig))
    };
    matches!((key(listed), key(ours)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_bundle_matches_on_signature_when_reserialized() {
        let ours = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": "k"}},
            "dsseEnvelope": {"payload": "cGF5", "payloadType": "application/vnd.in-toto+json",
                             "signatures": [{"sig": "c2ln", "keyid": ""}]}
        });
        let mut listed = ours.clone();
        listed["verificationMaterial"] =
            serde_json::json!({"publicKey": {"hint": "k"}, "tlogEntries": []});
        assert!(same_bundle(&listed, &ours));
        listed["dsseEnvelope"]["signatures"][0]["sig"] = "b3RoZXI=".into();
        assert!(!same_bundle(&listed, &ours));
        assert!(!same_bundle(
            &serde_json::json!({}),
            &serde_json::json!({"a": 1})
        ));
    }
}
