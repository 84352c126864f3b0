//! The attestations API: store a bundle, find one stored for a subject digest, list all of a
//! digest's attestations (paged by the `Link` header's `after` cursor).

use http::Method;
use serde_json::Value;

use super::PER_PAGE;
use super::{encode_path, next_link, ApiError, ApiResult, Body, GitHub, Idempotency, Landed};

/// A digest rarely has more than a handful of attestations; 20 pages of 100 bounds the walk.
const MAX_ATTESTATION_PAGES: usize = 20;

/// An attestation found by subject digest.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedAttestation {
    pub id: Option<u64>,
    /// The Sigstore bundle, as JSON. `None` when GitHub only gave a `bundle_url`.
    pub bundle: Option<Value>,
    /// Where GitHub serves the bundle instead (newer answers), when it says so.
    pub bundle_url: Option<String>,
}

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

impl GitHub<'_> {
    /// Every attestation stored for a subject digest:
    /// `GET /repos/{owner}/{repo}/attestations/sha256:{hex}`, following `Link: rel="next"`
    /// (GitHub pages it with an `after` cursor). 404 (none, or no access) is an empty list.
    pub async fn list_attestations(
        &self,
        repository: &str,
        subject_sha256: &str,
    ) -> ApiResult<Vec<ListedAttestation>> {
        let route = format!(
            "/repos/{}/attestations/sha256:{}?per_page={PER_PAGE}",
            encode_path(repository),
            encode_path(subject_sha256)
        );
        let mut req = self.api(Method::GET, &route, Body::None);
        let mut all = Vec::new();
        for page in 1..=MAX_ATTESTATION_PAGES {
            let a = self.fetch(&req).await?;
            if a.status == 404 && page == 1 {
                return Ok(all);
            }
            if !a.success() {
                return Err(a.into_error());
            }
            let v: Value = a.json()?;
            let items = v
                .get("attestations")
                .and_then(Value::as_array)
                .ok_or_else(|| ApiError::BadAnswer("no 'attestations' list".into()))?;
            let got = items.len();
            all.extend(items.iter().map(|item| {
                ListedAttestation {
                    id: item.get("id").and_then(Value::as_u64),
                    bundle: item.get("bundle").filter(|b| !b.is_null()).cloned(),
                    bundle_url: item
                        .get("bundle_url")
                        .and_then(Value::as_str)
                        .map(String::from),
                }
            }));
            let next = match next_link(&a.headers) {
                Some(next) if got > 0 => next,
                _ => break,
            };
            req = self.api_url_get(&next).ok_or_else(|| {
                ApiError::BadAnswer(format!(
                    "the next page of attestations is on another host ({next})"
                ))
            })?;
        }
        Ok(all)
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
