//! The Supabase sink: PostgREST upserts of manifest rows and the `provenance-validate` edge
//! function (seed 001 §5, seed 002 §1.5).
//!
//! `POST /rest/v1/<table>?on_conflict=tag,run_id` with `Prefer: resolution=merge-duplicates`:
//! idempotent, so a 5xx, a 429 or a lost answer is simply sent again (at most [`ATTEMPTS`] sends,
//! backoff from `SLSA_PROVENANCE_RETRY_BASE_MS`). The key travels in `apikey` and
//! `Authorization` headers marked sensitive, and only over https or to a loopback address
//! (checked by `inputs::audit`). The caller turns a failure into a warning: the manifest in Git
//! is the source of truth.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

use crate::secret::Secret;

pub const ATTEMPTS: u32 = 3;

/// The key as PostgREST / Supabase's gateway want it, in `apikey` and `Authorization: Bearer`,
/// both marked sensitive. Shared by the sink and the report's reader (`supabase_query`).
pub(crate) fn key_headers(key: &Secret) -> Result<HeaderMap, String> {
    let invalid = || "input 'supabase-key' is not a valid HTTP header value".to_string();
    let mut apikey = HeaderValue::from_str(key.expose()).map_err(|_| invalid())?;
    apikey.set_sensitive(true);
    let mut bearer =
        HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| invalid())?;
    bearer.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert("apikey", apikey);
    headers.insert(AUTHORIZATION, bearer);
    Ok(headers)
}

/// An HTTP client with the per-request timeout.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| format!("building the HTTP client: {e}"))
}

pub struct Supabase {
    client: reqwest::Client,
    base: url::Url,
    headers: HeaderMap,
    backoff_base: Duration,
}

impl Supabase {
    pub fn new(
        base: &url::Url,
        key: &Secret,
        timeout: Duration,
        backoff_base: Duration,
    ) -> Result<Self, String> {
        let mut headers = key_headers(key)?;
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let client = client(timeout)?;
        Ok(Self {
            client,
            base: base.clone(),
            headers,
            backoff_base,
        })
    }

    fn url(&self, path: &str) -> Result<url::Url, String> {
        let mut base = self.base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        base.join(path).map_err(|e| format!("{path}: {e}"))
    }

    async fn post(&self, url: url::Url, prefer: Option<&str>, body: &Value) -> Result<(), String> {
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let mut req = self
                .client
                .post(url.clone())
                .headers(self.headers.clone())
                .body(body.to_string());
            if let Some(p) = prefer {
                req = req.header("Prefer", p);
            }
            match req.send().await {
                Ok(resp) if resp.status().is_success() => {
                    // PostgREST (and a function) answer JSON or nothing; anything else (a
                    // gateway's or login page's HTML) is not their answer: nothing landed.
                    let status = resp.status().as_u16();
                    let text = resp.text().await.unwrap_or_default();
                    if text.trim().is_empty() || serde_json::from_str::<Value>(&text).is_ok() {
                        return Ok(());
                    }
                    let start: String = text.chars().take(120).collect();
                    last = format!("HTTP {status} with an answer that is not JSON: {start}");
                    break;
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let text: String = resp
                        .text()
                        .await
                        .unwrap_or_default()
                        .chars()
                        .take(300)
                        .collect();
                    last = format!("HTTP {status}: {text}");
                    // A rate limit (429) passes like a 5xx: the upsert is idempotent.
                    if status < 500 && status != 429 {
                        break;
                    }
                }
                Err(e) => last = format!("no answer: {e}"),
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(self.backoff_base * (1 << (attempt - 1))).await;
            }
        }
        Err(format!("POST {}: {last}", url.path()))
    }

    /// Insert or update the row of (`tag`, `run_id`).
    pub async fn upsert(&self, table: &str, row: &Value) -> Result<(), String> {
        let mut url = self.url(&format!("rest/v1/{table}"))?;
        url.query_pairs_mut()
            .append_pair("on_conflict", "tag,run_id");
        self.post(url, Some("resolution=merge-duplicates,return=minimal"), row)
            .await
    }

    /// `POST /functions/v1/<name>`.
    pub async fn call_function(&self, name: &str, payload: &Value) -> Result<(), String> {
        let url = self.url(&format!("functions/v1/{name}"))?;
        self.post(url, None, payload).await
    }
}
