//! Supabase's PostgREST: the `slsa_runs` rows the report needs, as manifest entries.
//!
//! `GET {url}/rest/v1/slsa_runs?select=repository,metadata&order=recorded_at.asc,run_id.asc&limit=1000&offset=N`
//! with the key in `apikey` and `Authorization: Bearer` (both marked sensitive), page by page
//! until a short page. Retries follow `domain::retry` (a GET is idempotent). Each row's
//! `metadata` (the whole entry, as the sink wrote it) becomes a [`ManifestEntry`]: a missing or
//! null text field reads as empty, unknown fields are kept in `extra`.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use serde_json::Value;

use crate::domain::manifest::ManifestEntry;
use crate::domain::retry::{
    self, Attempt, Decision, Idempotency, Observed, RateHeaders, RetryPolicy,
};
use crate::secret::Secret;

/// The columns read (`supabase/migrations/DDL_slsa_runs.sql`): the repository and `metadata`,
/// the whole manifest entry as the sink wrote it, so the report sees every field the manifest has.
pub const SELECT: &str = "repository,metadata";
pub const PAGE: usize = 1000;
const MAX_PAGES: usize = 10_000;

pub struct Supabase {
    client: reqwest::Client,
    base: url::Url,
    headers: HeaderMap,
    policy: RetryPolicy,
}

impl Supabase {
    pub fn new(
        base: url::Url,
        key: &Secret,
        policy: RetryPolicy,
        timeout: Duration,
    ) -> Result<Self, String> {
        let mut headers = super::supabase::key_headers(key)?;
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let client = super::supabase::client(timeout)?;
        Ok(Self {
            client,
            base,
            headers,
            policy,
        })
    }

    /// Every row, optionally only of these repositories (`repository=in.(...)`).
    pub async fn runs(&self, only: &[String]) -> Result<Vec<(String, ManifestEntry)>, String> {
        let mut rows = Vec::new();
        for page in 0..MAX_PAGES {
            let mut url = self
                .base
                .join("rest/v1/slsa_runs")
                .map_err(|e| format!("supabase-url: {e}"))?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("select", SELECT);
                if !only.is_empty() {
                    let quoted: Vec<String> = only.iter().map(|r| format!("\"{r}\"")).collect();
                    q.append_pair("repository", &format!("in.({})", quoted.join(",")));
                }
                q.append_pair("order", "recorded_at.asc,run_id.asc");
                q.append_pair("limit", &PAGE.to_string());
                q.append_pair("offset", &(page * PAGE).to_string());
            }
            let body = self.get(url).await?;
            let items: Vec<Value> = serde_json::from_str(&body)
                .map_err(|e| format!("slsa_runs rows are not a JSON array: {e}"))?;
            let n = items.len();
            for (i, item) in items.into_iter().enumerate() {
                rows.push(
                    row(item).map_err(|e| format!("slsa_runs row {}: {e}", page * PAGE + i))?,
                );
            }
            if n < PAGE {
                break;
            }
        }
        Ok(rows)
    }

    async fn get(&self, url: url::Url) -> Result<String, String> {
        let started = Instant::now();
        let mut number = 0;
        let path = url.path().to_string();
        loop {
            number += 1;
            let sent = self
                .client
                .get(url.clone())
                .headers(self.headers.clone())
                .send()
                .await;
            let (status, headers, body, what) = match sent {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let headers = r.headers().clone();
                    let body = r.text().await.unwrap_or_default();
                    (Some(status), headers, body, format!("HTTP {status}"))
                }
                Err(e) => (None, HeaderMap::new(), String::new(), e.to_string()),
            };
            if let Some(s) = status {
                if (200..300).contains(&s) {
                    return Ok(body);
                }
            }
            let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
            let observed = match status {
                Some(status) => Observed::Answer {
                    status,
                    headers: RateHeaders {
                        retry_after: h("retry-after"),
                        ratelimit_remaining: None,
                        ratelimit_reset: None,
                    },
                    body: &body,
                },
                None => Observed::Transport,
            };
            let decision = retry::decide(
                &self.policy,
                Idempotency::Idempotent,
                &observed,
                Attempt {
                    number,
                    elapsed: started.elapsed(),
                    now: chrono::Utc::now(),
                    jitter: rand::random::<f64>(),
                },
            );
            match decision {
                Decision::Retry { wait, .. } | Decision::CheckThenRetry { wait, .. } => {
                    tokio::time::sleep(wait).await
                }
                Decision::Stop(_) => {
                    let detail: String = body.chars().take(200).collect();
                    let tries = if number > 1 {
                        format!(" (after {number} attempts)")
                    } else {
                        String::new()
                    };
                    return Err(format!("GET {path}: {what}{tries} {detail}")
                        .trim_end()
                        .to_string());
                }
            }
        }
    }
}

/// One row as `(repository, entry)`.
pub fn row(mut v: Value) -> Result<(String, ManifestEntry), String> {
    let obj = v.as_object_mut().ok_or("not an object")?;
    let repo = match obj.remove("repository") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err("no repository".into()),
    };
    let mut v = match obj.remove("metadata") {
        Some(m @ Value::Object(_)) => m,
        _ => return Err("no metadata (the manifest entry)".into()),
    };
    let obj = v.as_object_mut().ok_or("not an object")?;
    for k in [
        "sha",
        "actor",
        "timestamp",
        "status",
        "governance_flag",
        "tag",
    ] {
        if obj.get(k).is_none_or(Value::is_null) {
            obj.insert(k.into(), Value::String(String::new()));
        }
    }
    obj.retain(|_, val| !val.is_null());
    let entry: ManifestEntry = serde_json::from_value(v).map_err(|e| e.to_string())?;
    Ok((repo, entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_nulls_become_entries() {
        let (repo, e) = row(serde_json::json!({
            "repository": "octo/app", "metadata": {"run_id": 7, "tag": "v1", "sha": null,
            "status": "failure", "timestamp": "2026-11-16T10:00:00Z", "duration_ms": 5,
            "notify_slack": null, "extra_col": 1}
        }))
        .expect("row");
        assert_eq!(repo, "octo/app");
        assert_eq!(e.sha, "");
        assert_eq!(e.duration_ms, Some(5));
        assert_eq!(e.notify_slack, None);
        assert!(
            row(serde_json::json!({"run_id": 1})).is_err(),
            "no repository"
        );
        assert!(
            row(serde_json::json!({"repository": "o/a", "metadata": {"run_id": "x"}})).is_err()
        );
        assert!(
            row(serde_json::json!({"repository": "o/a", "run_id": 1})).is_err(),
            "no metadata"
        );
    }
}
