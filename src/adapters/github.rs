//! GitHub's REST API for publishing: the attestations API and release assets and notes.
//!
//! `octocrab` is the HTTP transport (its retry layer is deliberately not compiled in); this
//! module builds every request itself, applies the retry policy of `domain::retry`, and turns
//! answers into plain values ([`Release`], [`Asset`], [`ApiError`]).
//!
//! - Every send has a timeout (`SLSA_PROVENANCE_HTTP_TIMEOUT_MS`); the whole loop is bounded by
//!   the policy's attempts and total time.
//! - A POST is never sent again blindly: after a timeout or 5xx the caller-supplied check runs
//!   first (does the attestation/asset exist now?), and only if it did not land is it re-sent.
//! - The token travels only in an `Authorization` header marked sensitive, set by us on each
//!   request (octocrab's own token header is not marked sensitive, so we do not use it).
//! - URLs are absolute: `GITHUB_API_URL` plus the route, and a release's own `upload_url` for
//!   uploads (that is what makes GHES and a fake server on 127.0.0.1 work). octocrab's base URI
//!   is only the API's origin, because it would prefix a base *path* (GHES `/api/v3`) to the
//!   absolute upload URL too.
//!
//! This module decides nothing about what to publish or what a failure means for the run.

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method};
use octocrab::Octocrab;
use serde::Deserialize;
use serde_json::Value;

use crate::adapters::context::RunEnv;
use crate::domain::retry::{self, Attempt, Decision, Idempotency, Observed, RateHeaders};
use crate::domain::retry::{RetryPolicy, StopReason, WaitReason};
use crate::error::{Failure, FailureReason, Result};
use crate::secret::Secret;

/// Test/tuning knob: the first backoff in milliseconds (default 1000).
pub const ENV_RETRY_BASE_MS: &str = "SLSA_PROVENANCE_RETRY_BASE_MS";
/// Test/tuning knob: multiplies server-requested waits (`retry-after`...; default 1.0).
pub const ENV_RETRY_AFTER_SCALE: &str = "SLSA_PROVENANCE_RETRY_AFTER_SCALE";
/// Test/tuning knob: timeout of one HTTP request in milliseconds (default 30000).
pub const ENV_HTTP_TIMEOUT_MS: &str = "SLSA_PROVENANCE_HTTP_TIMEOUT_MS";

const API_VERSION: &str = "2022-11-28";
const PER_PAGE: usize = 100;
/// GitHub allows 1000 assets per release: 10 pages of 100.
const MAX_ASSET_PAGES: usize = 10;

#[derive(Debug, Clone)]
pub struct GitHubConfig {
    /// `GITHUB_API_URL`, without a trailing slash.
    pub api_url: String,
    pub timeout: Duration,
    pub policy: RetryPolicy,
}

impl GitHubConfig {
    pub fn from_env(env: &RunEnv) -> Result<Self> {
        let api_url = env
            .get("GITHUB_API_URL")
            .unwrap_or("https://api.github.com")
            .trim_end_matches('/')
            .to_string();
        let parsed = url::Url::parse(&api_url).map_err(|e| {
            Failure::new(
                FailureReason::MissingContext,
                format!("GITHUB_API_URL is not a URL ({e}): {api_url:?}"),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(Failure::new(
                FailureReason::MissingContext,
                format!("GITHUB_API_URL must be an http(s) URL, got {api_url:?}"),
            ));
        }
        let number = |name: &str, default: f64| -> Result<f64> {
            match env.get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && *n >= 0.0)
                    .ok_or_else(|| {
                        Failure::new(
                            FailureReason::InvalidInput,
                            format!("{name} must be a non-negative number, got {v:?}"),
                        )
                    }),
            }
        };
        let policy = RetryPolicy {
            base: Duration::from_secs_f64(number(ENV_RETRY_BASE_MS, 1000.0)? / 1000.0),
            server_wait_scale: number(ENV_RETRY_AFTER_SCALE, 1.0)?,
            ..RetryPolicy::default()
        };
        let timeout_ms = number(ENV_HTTP_TIMEOUT_MS, 30_000.0)?.max(1.0);
        Ok(Self {
            api_url,
            timeout: Duration::from_secs_f64(timeout_ms / 1000.0),
            policy,
        })
    }
}

/// A failed call, after retries.
#[derive(Debug)]
pub enum ApiError {
    /// GitHub answered with a status that is not a success.
    Status {
        status: u16,
        /// GitHub's `message` (or the body's start).
        message: String,
        attempts: u32,
    },
    /// No answer: timeout or transport error.
    NoAnswer { detail: String, attempts: u32 },
    /// The server asked us to wait longer than the retry budget allows.
    WaitTooLong { status: u16, wanted: Duration },
    /// A success answer we cannot read.
    BadAnswer(String),
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } | Self::WaitTooLong { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tries = |n: &u32| {
            if *n > 1 {
                format!(" (after {n} attempts)")
            } else {
                String::new()
            }
        };
        match self {
            Self::Status {
                status,
                message,
                attempts,
            } => write!(f, "HTTP {status}: {message}{}", tries(attempts)),
            Self::NoAnswer { detail, attempts } => write!(f, "{detail}{}", tries(attempts)),
            Self::WaitTooLong { status, wanted } => write!(
                f,
                "HTTP {status}: rate limited; GitHub asks to wait {}s, longer than the retry budget",
                wanted.as_secs()
            ),
            Self::BadAnswer(what) => write!(f, "unexpected answer: {what}"),
        }
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    pub id: u64,
    #[serde(default)]
    pub tag_name: String,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub body: Option<String>,
    /// `https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}`.
    pub upload_url: String,
    #[serde(default)]
    pub html_url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Asset {
    pub id: u64,
    pub name: String,
    /// `uploaded` when complete; `starter`/`new` for a half-finished upload.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub browser_download_url: String,
}

/// An attestation as the API reports it.
#[derive(Debug, Clone)]
pub struct StoredAttestation {
    /// Absent when we only found it by listing and the listing carried no id.
    pub id: Option<u64>,
}

/// One HTTP answer, fully read.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: String,
    /// Sends it took to get this answer.
    attempts: u32,
}

impl Answer {
    fn success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn json<T: serde::de::DeserializeOwned>(&self) -> ApiResult<T> {
        serde_json::from_str(&self.body).map_err(|e| {
            ApiError::BadAnswer(format!(
                "HTTP {} body is not what we expect: {e}",
                self.status
            ))
        })
    }

    fn into_error(self) -> ApiError {
        let message = serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(String::from))
            .unwrap_or_else(|| self.body.chars().take(200).collect());
        ApiError::Status {
            status: self.status,
            message,
            attempts: self.attempts,
        }
    }
}

enum SendError {
    Timeout(Duration),
    Transport(String),
}

/// What a request carries.
enum Body {
    None,
    Json(String),
    Bytes {
        content_type: &'static str,
        data: Vec<u8>,
    },
}

struct Request {
    method: Method,
    url: String,
    body: Body,
    /// `POST /repos/o/r/attestations`: for log lines (no query, no host).
    label: String,
}

/// The result of a call that may have been confirmed by a check instead of an answer.
enum Landed<T> {
    Answered(Answer),
    AlreadyDone(T),
}

/// Where retry notes go (the mode passes the job log).
pub type Log<'a> = &'a (dyn Fn(&str) + Sync);

pub struct GitHub<'a> {
    crab: Octocrab,
    api_url: String,
    auth: HeaderValue,
    timeout: Duration,
    policy: RetryPolicy,
    log: Log<'a>,
}

impl<'a> GitHub<'a> {
    pub fn new(config: &GitHubConfig, token: &Secret, log: Log<'a>) -> Result<Self> {
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                Failure::new(
                    FailureReason::InvalidInput,
                    "input 'github-token' is not a valid HTTP header value",
                )
            })?;
        auth.set_sensitive(true);
        let origin = url::Url::parse(&config.api_url)
            .map(|u| u.origin().ascii_serialization())
            .map_err(|e| Failure::new(FailureReason::MissingContext, e.to_string()))?;
        let fail = |e: octocrab::Error| {
            Failure::new(
                FailureReason::GithubApiFailed,
                format!("building the GitHub client: {}", error_chain(&e)),
            )
        };
        let crab = Octocrab::builder()
            .base_uri(origin)
            .map_err(fail)?
            .set_connect_timeout(Some(config.timeout))
            .set_read_timeout(Some(config.timeout))
            .set_write_timeout(Some(config.timeout))
            .build()
            .map_err(fail)?;
        Ok(Self {
            crab,
            api_url: config.api_url.clone(),
            auth,
            timeout: config.timeout,
            policy: config.policy.clone(),
            log,
        })
    }

    fn api(&self, method: Method, route: &str, body: Body) -> Request {
        let path = route.split('?').next().unwrap_or(route);
        Request {
            label: format!("{method} {path}"),
            method,
            url: format!("{}{route}", self.api_url),
            body,
        }
    }

    /// One send, with the timeout around the whole exchange (body included).
    async fn send(&self, req: &Request) -> std::result::Result<Answer, SendError> {
        let mut builder = http::Request::builder()
            .method(req.method.clone())
            .uri(req.url.as_str())
            .header(ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .header(AUTHORIZATION, self.auth.clone());
        let body: octocrab::OctoBody = match &req.body {
            Body::None => octocrab::OctoBody::empty(),
            Body::Json(s) => {
                builder = builder.header(CONTENT_TYPE, "application/json");
                s.clone().into()
            }
            Body::Bytes { content_type, data } => {
                builder = builder.header(CONTENT_TYPE, *content_type);
                data.clone().into()
            }
        };
        let request = builder
            .body(body)
            .map_err(|e| SendError::Transport(format!("building {}: {e}", req.label)))?;
        let exchange = async {
            let response = self.crab.execute(request).await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = self.crab.body_to_string(response).await?;
            Ok::<_, octocrab::Error>(Answer {
                status,
                headers,
                body,
                attempts: 1,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => Err(SendError::Timeout(self.timeout)),
            Ok(Err(e)) => Err(SendError::Transport(error_chain(&e))),
            Ok(Ok(answer)) => Ok(answer),
        }
    }

    /// Send until the policy says stop. For a non-idempotent request, `check` runs after a
    /// timeout or 5xx and before any re-send; `Some` means the request did take effect.
    async fn call<T, F, Fut>(
        &self,
        req: &Request,
        idempotency: Idempotency,
        mut check: F,
    ) -> ApiResult<Landed<T>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<Option<T>>>,
    {
        let started = Instant::now();
        let mut number = 0;
        loop {
            number += 1;
            let sent = self.send(req).await.map(|a| Answer {
                attempts: number,
                ..a
            });
            let header = |name: &str| {
                let a = sent.as_ref().ok()?;
                a.headers.get(name).and_then(|v| v.to_str().ok())
            };
            let (observed, what) = match &sent {
                Ok(a) => (
                    Observed::Answer {
                        status: a.status,
                        headers: RateHeaders {
                            retry_after: header("retry-after"),
                            ratelimit_remaining: header("x-ratelimit-remaining"),
                            ratelimit_reset: header("x-ratelimit-reset"),
                        },
                        body: &a.body,
                    },
                    format!("HTTP {}", a.status),
                ),
                Err(SendError::Timeout(d)) => (
                    Observed::Timeout,
                    format!("no answer within {}ms", d.as_millis()),
                ),
                Err(SendError::Transport(e)) => (Observed::Transport, e.clone()),
            };
            let decision = retry::decide(
                &self.policy,
                idempotency,
                &observed,
                Attempt {
                    number,
                    elapsed: started.elapsed(),
                    now: chrono::Utc::now(),
                    jitter: rand::random::<f64>(),
                },
            );
            let (wait, reason, check_first) = match decision {
                Decision::Stop(stop) => {
                    return match (sent, stop) {
                        (Ok(a), StopReason::WaitTooLong { wanted }) => Err(ApiError::WaitTooLong {
                            status: a.status,
                            wanted,
                        }),
                        (Ok(a), _) => Ok(Landed::Answered(a)),
                        (Err(_), _) => Err(ApiError::NoAnswer {
                            detail: format!("{}: {what}", req.label),
                            attempts: number,
                        }),
                    };
                }
                Decision::Retry { wait, reason } => (wait, reason, false),
                Decision::CheckThenRetry { wait, reason } => (wait, reason, true),
            };
            let why = match reason {
                WaitReason::RetryAfter(d) => format!("retry-after {}s", d.as_secs()),
                WaitReason::RateLimitReset(d) => format!("rate limit resets in {}s", d.as_secs()),
                WaitReason::SecondaryRateLimit => "secondary rate limit".to_string(),
                WaitReason::Backoff => "backoff".to_string(),
            };
            if check_first {
                (self.log)(&format!(
                    "GitHub API: {}: {what}; checking whether it took effect before sending it again",
                    req.label
                ));
                if let Some(done) = check().await? {
                    (self.log)(&format!(
                        "GitHub API: {}: it did; not sending it again",
                        req.label
                    ));
                    return Ok(Landed::AlreadyDone(done));
                }
            }
            (self.log)(&format!(
                "GitHub API: {}: {what}; attempt {}/{} in {}ms ({why})",
                req.label,
                number + 1,
                self.policy.max_attempts,
                wait.as_millis()
            ));
            tokio::time::sleep(wait).await;
        }
    }

    /// An idempotent call: retried freely, answer returned whatever its status.
    async fn fetch(&self, req: &Request) -> ApiResult<Answer> {
        match self
            .call::<(), _, _>(req, Idempotency::Idempotent, || async { Ok(None) })
            .await?
        {
            Landed::Answered(a) => Ok(a),
            Landed::AlreadyDone(()) => Err(ApiError::BadAnswer("unreachable check".into())),
        }
    }

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

    /// `GET /repos/{owner}/{repo}/releases/tags/{tag}`; `None` on 404 (no release, or a draft).
    pub async fn release_by_tag(&self, repository: &str, tag: &str) -> ApiResult<Option<Release>> {
        let route = format!(
            "/repos/{}/releases/tags/{}",
            encode_path(repository),
            encode_path(tag)
        );
        self.get_optional(&route).await
    }

    /// `GET /repos/{owner}/{repo}/releases/{id}` (finds drafts too); `None` on 404.
    pub async fn release_by_id(&self, repository: &str, id: u64) -> ApiResult<Option<Release>> {
        let route = format!("/repos/{}/releases/{id}", encode_path(repository));
        self.get_optional(&route).await
    }

    async fn get_optional<T: serde::de::DeserializeOwned>(
        &self,
        route: &str,
    ) -> ApiResult<Option<T>> {
        let a = self
            .fetch(&self.api(Method::GET, route, Body::None))
            .await?;
        match a.status {
            404 => Ok(None),
            _ if a.success() => a.json().map(Some),
            _ => Err(a.into_error()),
        }
    }

    /// Every asset of a release (paged).
    pub async fn list_assets(&self, repository: &str, release_id: u64) -> ApiResult<Vec<Asset>> {
        let mut all = Vec::new();
        for page in 1..=MAX_ASSET_PAGES {
            let route = format!(
                "/repos/{}/releases/{release_id}/assets?per_page={PER_PAGE}&page={page}",
                encode_path(repository)
            );
            let a = self
                .fetch(&self.api(Method::GET, &route, Body::None))
                .await?;
            if !a.success() {
                return Err(a.into_error());
            }
            let assets: Vec<Asset> = a.json()?;
            let n = assets.len();
            all.extend(assets);
            if n < PER_PAGE {
                break;
            }
        }
        Ok(all)
    }

    /// `DELETE /repos/{owner}/{repo}/releases/assets/{id}`; an asset already gone is fine.
    pub async fn delete_asset(&self, repository: &str, asset_id: u64) -> ApiResult<()> {
        let route = format!(
            "/repos/{}/releases/assets/{asset_id}",
            encode_path(repository)
        );
        let a = self
            .fetch(&self.api(Method::DELETE, &route, Body::None))
            .await?;
        if a.success() || a.status == 404 {
            Ok(())
        } else {
            Err(a.into_error())
        }
    }

    /// POST the content to the release's own `upload_url`. After a timeout or 5xx, a complete
    /// asset of that name and size is taken as ours; a half-finished one (state `starter` or
    /// `new`, which GitHub leaves behind) is deleted before sending again.
    pub async fn upload_asset(
        &self,
        repository: &str,
        release: &Release,
        name: &str,
        content: Vec<u8>,
    ) -> ApiResult<Asset> {
        let template = release
            .upload_url
            .split('{')
            .next()
            .unwrap_or(&release.upload_url);
        let mut url = url::Url::parse(template).map_err(|e| {
            ApiError::BadAnswer(format!("release upload_url {template:?} is not a URL: {e}"))
        })?;
        url.query_pairs_mut().clear().append_pair("name", name);
        let size = content.len() as u64;
        let req = Request {
            label: format!("POST {}", url.path()),
            method: Method::POST,
            url: url.to_string(),
            body: Body::Bytes {
                content_type: "application/octet-stream",
                data: content,
            },
        };
        let check = || async move {
            let assets = self.list_assets(repository, release.id).await?;
            for a in assets.into_iter().filter(|a| a.name == name) {
                if a.state == "uploaded" && a.size == size {
                    return Ok(Some(a));
                }
                (self.log)(&format!(
                    "GitHub API: deleting the half-uploaded asset {name} (state {:?})",
                    a.state
                ));
                self.delete_asset(repository, a.id).await?;
            }
            Ok(None)
        };
        match self.call(&req, Idempotency::NonIdempotent, check).await? {
            Landed::AlreadyDone(asset) => Ok(asset),
            Landed::Answered(a) if a.success() => a.json(),
            Landed::Answered(a) => Err(a.into_error()),
        }
    }

    /// `PATCH /repos/{owner}/{repo}/releases/{id}` with the whole new body: idempotent.
    pub async fn update_release_body(
        &self,
        repository: &str,
        release_id: u64,
        body: &str,
    ) -> ApiResult<Release> {
        let route = format!("/repos/{}/releases/{release_id}", encode_path(repository));
        let json = serde_json::json!({ "body": body }).to_string();
        let a = self
            .fetch(&self.api(Method::PATCH, &route, Body::Json(json)))
            .await?;
        if a.success() {
            a.json()
        } else {
            Err(a.into_error())
        }
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

/// Percent-encode a path made of segments, keeping `/` between them.
fn encode_path(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// An error and its sources on one line (octocrab's own Display omits the cause).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
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

    #[test]
    fn paths_are_encoded_but_keep_slashes() {
        assert_eq!(encode_path("octo/app"), "octo/app");
        assert_eq!(encode_path("release/v1 rc+1"), "release/v1%20rc%2B1");
    }

    #[test]
    fn token_header_is_sensitive_and_never_printed() {
        let env = RunEnv::from_vars(Default::default(), ".".into()).expect("env");
        let config = GitHubConfig::from_env(&env).expect("config");
        let log = |_: &str| {};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        let gh = rt
            .block_on(async { GitHub::new(&config, &Secret::new("ghs_secret"), &log) })
            .expect("client");
        assert!(gh.auth.is_sensitive());
        assert!(!format!("{:?}", gh.auth).contains("ghs_secret"));
    }

    #[test]
    fn knobs_are_read_and_validated() {
        let vars = [
            (ENV_RETRY_BASE_MS, "5"),
            (ENV_RETRY_AFTER_SCALE, "0.01"),
            (ENV_HTTP_TIMEOUT_MS, "250"),
            ("GITHUB_API_URL", "https://ghes.example/api/v3/"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let env = RunEnv::from_vars(vars, ".".into()).expect("env");
        let c = GitHubConfig::from_env(&env).expect("config");
        assert_eq!(c.api_url, "https://ghes.example/api/v3");
        assert_eq!(c.policy.base, Duration::from_millis(5));
        assert_eq!(c.policy.server_wait_scale, 0.01);
        assert_eq!(c.timeout, Duration::from_millis(250));

        let vars = [(ENV_HTTP_TIMEOUT_MS.to_string(), "soon".to_string())].into();
        let env = RunEnv::from_vars(vars, ".".into()).expect("env");
        let e = GitHubConfig::from_env(&env).expect_err("bad knob");
        assert_eq!(e.reason, FailureReason::InvalidInput);
    }
}
