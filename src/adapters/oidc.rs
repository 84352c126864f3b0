//! The runner's OIDC token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`), as `@actions/core`'s
//! `getIDToken` uses it: GET `<url>&audience=<aud>` with the request token as bearer, answer
//! `{"value": "<jwt>"}`.
//!
//! [`decode_claims`] reads the JWT's payload without verifying its signature: the token came
//! straight from the runner over TLS, and Fulcio verifies it when it is used for signing.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use crate::adapters::context::OidcRequest;
use crate::error::{Failure, FailureReason, Result};
use crate::secret::Secret;

pub async fn request_token(req: &OidcRequest, audience: &str) -> Result<Secret> {
    // Checked when the environment was read: https://, or http:// to a loopback host.
    let mut url = req.url.clone();
    url.query_pairs_mut().append_pair("audience", audience);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Failure::new(FailureReason::OidcTokenFailed, e.to_string()))?;
    let mut auth = http::HeaderValue::from_str(&format!("Bearer {}", req.bearer.expose()))
        .map_err(|_| {
            Failure::new(
                FailureReason::OidcTokenFailed,
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN is not a valid header value",
            )
        })?;
    auth.set_sensitive(true);
    let fail = |what: String| {
        Failure::new(
            FailureReason::OidcTokenFailed,
            format!("requesting the OIDC token failed: {what}"),
        )
    };
    let resp = client
        .get(url)
        .header(http::header::AUTHORIZATION, auth)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| fail(e.without_url().to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(fail(format!("HTTP {status}")));
    }
    let body: Value = resp.json().await.map_err(|e| fail(e.to_string()))?;
    body.get("value")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(Secret::new)
        .ok_or_else(|| fail("the answer has no 'value'".into()))
}

/// The claims of a JWT (its middle part), unverified.
pub fn decode_claims(jwt: &Secret) -> Result<Value> {
    let bad = |why: &str| {
        Failure::new(
            FailureReason::OidcTokenFailed,
            format!("the OIDC token is not a JWT: {why}"),
        )
    };
    let payload = jwt
        .expose()
        .split('.')
        .nth(1)
        .ok_or_else(|| bad("no payload part"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| bad("payload is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| bad("payload is not JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_decode_from_the_middle_part() {
        let p = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"repo:o/r"}"#);
        let jwt = Secret::new(format!("e30.{p}.sig"));
        assert_eq!(decode_claims(&jwt).expect("ok")["sub"], "repo:o/r");
        assert!(decode_claims(&Secret::new("nodots")).is_err());
    }
}
