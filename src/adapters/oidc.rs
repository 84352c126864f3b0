//! The runner's OIDC token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`), as `@actions/core`'s
//! `getIDToken` uses it: GET `<url>&audience=<aud>` with the request token as bearer, answer
//! `{"value": "<jwt>"}`.
//!
//! [`decode_claims`] reads the JWT's payload without verifying its signature: the token came
//! straight from the runner over TLS, and Fulcio verifies it when it is used for signing.

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

use crate::adapters::context::OidcRequest;
use crate::domain::retry::{
    self, Attempt, Decision, Idempotency, Observed, RateHeaders, RetryPolicy,
};
use crate::error::{Failure, FailureReason, Result};
use crate::secret::Secret;

/// GET the token. The request is idempotent, so it is retried as `domain::retry` decides for
/// any idempotent call (5xx, 429, timeout, lost connection), each send bounded by `timeout`;
/// an answer we cannot read is final.
pub async fn request_token(
    req: &OidcRequest,
    audience: &str,
    policy: &RetryPolicy,
    timeout: Duration,
) -> Result<Secret> {
    // Checked when the environment was read: https://, or http:// to a loopback host.
    let mut url = req.url.clone();
    url.query_pairs_mut().append_pair("audience", audience);
    let client = reqwest::Client::builder()
        .timeout(timeout)
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
    let started = Instant::now();
    let mut number = 0u32;
    loop {
        number += 1;
        let sent = client
            .get(url.clone())
            .header(http::header::AUTHORIZATION, auth.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await;
        let attempt = Attempt {
            number,
            elapsed: started.elapsed(),
            now: chrono::Utc::now(),
            jitter: rand::random::<f64>(),
        };
        let (detail, decision) = match sent {
            Ok(resp) if resp.status().is_success() => {
                let body: Value = resp
                    .json()
                    .await
                    .map_err(|e| fail(e.without_url().to_string()))?;
                return body
                    .get("value")
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty())
                    .map(Secret::new)
                    .ok_or_else(|| fail("the answer has no 'value'".into()));
            }
            Ok(resp) => {
                let status = resp.status();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                let body = resp.text().await.unwrap_or_default();
                let observed = Observed::Answer {
                    status: status.as_u16(),
                    headers: RateHeaders {
                        retry_after: retry_after.as_deref(),
                        ..RateHeaders::default()
                    },
                    body: &body,
                };
                let decision = retry::decide(policy, Idempotency::Idempotent, &observed, attempt);
                (format!("HTTP {status}"), decision)
            }
            Err(e) => {
                let observed = if e.is_timeout() {
                    Observed::Timeout
                } else {
                    Observed::Transport
                };
                let decision = retry::decide(policy, Idempotency::Idempotent, &observed, attempt);
                (e.without_url().to_string(), decision)
            }
        };
        match decision {
            Decision::Retry { wait, .. } | Decision::CheckThenRetry { wait, .. } => {
                tokio::time::sleep(wait).await;
            }
            Decision::Stop(_) if number > 1 => {
                return Err(fail(format!("{detail} (after {number} attempts)")));
            }
            Decision::Stop(_) => return Err(fail(detail)),
        }
    }
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
