//! GitHub's REST API: the client core (transport, retries, errors), one file per resource.
//!
//! Resources: [`releases`] (releases, assets, notes), [`attestations`] (the attestations API),
//! [`git_data`] (refs, trees, blobs, commits, pull requests: the audit store's commit).
//! [`repos`] (repository listings), [`git_trees`] (Git Database trees and blobs, conditional GETs).
//! [`artifacts`] (a workflow run's artifacts).
//!
//! `octocrab` is the HTTP transport (its retry layer is deliberately not compiled in); this
//! module builds every request itself, applies the retry policy of `domain::retry`, and turns
//! answers into plain values ([`Release`], [`Asset`], [`ApiError`]).
//!
//! - Every send has a timeout (`SLSA_PROVENANCE_HTTP_TIMEOUT_MS`); the whole loop is bounded by
//!   the policy's attempts and total time.
//! - A call GitHub is still rate-limiting when the budget is spent ends as
//!   [`ApiError::RateLimited`], never as a plain status, so no caller can take a rate-limit 403
//!   for a plan or permission refusal.
//! - A POST is never sent again blindly: after a timeout or 5xx the caller-supplied check runs
//!   first (does the attestation/asset exist now?), and only if it did not land is it re-sent.
//! - The token travels only in an `Authorization` header marked sensitive, set by us on each
//!   request (octocrab's own token header is not marked sensitive, so we do not use it). The
//!   token is optional for reads of public data ([`GitHub::with_optional_token`]), and it never
//!   follows a redirect: a download's storage URL gets a request without it.
//! - Bodies are read as bytes, bounded (`MAX_BODY_BYTES`), so binary downloads share the loop.
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
use http_body_util::BodyExt;
use octocrab::Octocrab;
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
/// A binary download's timeout is the request timeout times this (5 minutes by default).
const DOWNLOAD_TIMEOUT_FACTOR: u32 = 10;
/// No answer body we read (API JSON or a downloaded archive) may be larger than this.
pub const MAX_BODY_BYTES: usize = 1 << 30;

#[derive(Debug, Clone)]
pub struct GitHubConfig {
    /// `GITHUB_API_URL`, without a trailing slash.
    pub api_url: String,
    pub timeout: Duration,
    pub policy: RetryPolicy,
}

/// The retry policy and request timeout from the `SLSA_PROVENANCE_*` knobs. The mode calls
/// this at start-up, so a bad knob is refused before anything is signed or written.
pub fn knobs(env: &RunEnv) -> Result<(RetryPolicy, Duration)> {
    let knob = |name: &str, bounds: retry::KnobBounds| -> Result<f64> {
        let raw = env.get(name);
        retry::parse_knob(raw, bounds).map_err(|expected| {
            Failure::new(
                FailureReason::InvalidEnvironment,
                format!(
                    "environment variable {name} must be {expected}, got {:?}",
                    raw.unwrap_or_default()
                ),
            )
        })
    };
    let policy = RetryPolicy {
        base: retry::millis(knob(ENV_RETRY_BASE_MS, retry::RETRY_BASE_MS)?),
        server_wait_scale: knob(ENV_RETRY_AFTER_SCALE, retry::RETRY_AFTER_SCALE)?,
        ..RetryPolicy::default()
    };
    // At least 1 ms: a zero timeout would fail every request without sending it.
    let timeout = retry::millis(knob(ENV_HTTP_TIMEOUT_MS, retry::HTTP_TIMEOUT_MS)?.max(1.0));
    Ok((policy, timeout))
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
        // The token travels on it: TLS unless loopback (`domain::transport`).
        crate::domain::transport::check_token_url(&parsed).map_err(|why| {
            Failure::new(
                FailureReason::MissingContext,
                format!(
                    "GITHUB_API_URL {why}, got {}",
                    crate::domain::transport::shown(&parsed)
                ),
            )
        })?;
        let (policy, timeout) = knobs(env)?;
        Ok(Self {
            api_url,
            timeout,
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
    /// GitHub was still rate-limiting the call when the retry budget ran out: either the
    /// attempts were used up, or the wait it asked for (`wanted`) would not fit in the time
    /// left. Never a refusal about the repository or plan.
    RateLimited {
        status: u16,
        message: String,
        attempts: u32,
        wanted: Option<Duration>,
    },
    /// A success answer we cannot read.
    BadAnswer(String),
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } | Self::RateLimited { status, .. } => Some(*status),
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
            Self::RateLimited {
                status,
                message,
                attempts,
                wanted: Some(wanted),
            } => write!(
                f,
                "HTTP {status}: rate limited ({message}); GitHub asks to wait {}s, longer than \
                 the retry budget{}",
                wanted.as_secs(),
                tries(attempts)
            ),
            Self::RateLimited {
                status,
                message,
                attempts,
                wanted: None,
            } => write!(
                f,
                "HTTP {status}: still rate limited ({message}) when the retry budget ran out{}",
                tries(attempts)
            ),
            Self::BadAnswer(what) => write!(f, "unexpected answer: {what}"),
        }
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

pub mod artifacts;
pub mod attestations;
pub mod git_data;
pub mod git_trees;
pub mod issues;
pub mod releases;
pub mod repos;
pub mod runs;

pub use artifacts::RunArtifact;
pub use attestations::{ListedAttestation, StoredAttestation};
pub use releases::{Asset, Release};

/// One HTTP answer, fully read.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: String,
    /// The raw body of a successful binary download (`Request::binary`); empty otherwise.
    bytes: Vec<u8>,
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

    /// GitHub's `message`, or the body's start.
    fn message(&self) -> String {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(String::from))
            .unwrap_or_else(|| self.body.chars().take(200).collect())
    }

    fn into_error(self) -> ApiError {
        let message = self.message();
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
    /// A conditional GET: the ETag of the answer we hold (GitHub answers 304, which does not
    /// count against the rate limit).
    if_none_match: Option<String>,
    /// The `Accept` header.
    accept: &'static str,
    /// A GitHub API request (token and API version headers). `false` for a URL GitHub
    /// redirected us to (a storage host): it gets neither.
    api: bool,
    /// Keep the successful body as bytes (an archive, an asset) instead of text.
    binary: bool,
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
    auth: Option<HeaderValue>,
    timeout: Duration,
    policy: RetryPolicy,
    log: Log<'a>,
}

impl<'a> GitHub<'a> {
    pub fn new(config: &GitHubConfig, token: &Secret, log: Log<'a>) -> Result<Self> {
        Self::with_optional_token(config, Some(token), log)
    }

    /// A client that sends no `Authorization` header when `token` is `None` (public reads:
    /// a public release's assets, a public repository's attestations).
    pub fn with_optional_token(
        config: &GitHubConfig,
        token: Option<&Secret>,
        log: Log<'a>,
    ) -> Result<Self> {
        let auth = match token {
            None => None,
            Some(token) => {
                let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| {
                        Failure::new(
                            FailureReason::InvalidInput,
                            "input 'github-token' is not a valid HTTP header value",
                        )
                    })?;
                auth.set_sensitive(true);
                Some(auth)
            }
        };
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

    /// Write a line to the log this client was given (retry notes and the like).
    pub fn note(&self, line: &str) {
        (self.log)(line)
    }

    /// The same client, sending each request at most `max_attempts` times (the first send
    /// included) instead of the configured policy's count.
    pub fn with_attempts(&self, max_attempts: u32) -> GitHub<'a> {
        GitHub {
            crab: self.crab.clone(),
            api_url: self.api_url.clone(),
            auth: self.auth.clone(),
            timeout: self.timeout,
            policy: RetryPolicy {
                max_attempts: max_attempts.max(1),
                ..self.policy.clone()
            },
            log: self.log,
        }
    }

    fn api(&self, method: Method, route: &str, body: Body) -> Request {
        let path = route.split('?').next().unwrap_or(route);
        Request {
            label: format!("{method} {path}"),
            method,
            url: format!("{}{route}", self.api_url),
            body,
            if_none_match: None,
            accept: "application/vnd.github+json",
            api: true,
            binary: false,
        }
    }

    /// A GET of an absolute URL on the API's own origin (a `Link: rel="next"` page). `None`
    /// when the URL points elsewhere: the token is never sent to another host.
    fn api_url_get(&self, url: &str) -> Option<Request> {
        let ours = url::Url::parse(&self.api_url).ok()?;
        let theirs = url::Url::parse(url).ok()?;
        if ours.origin() != theirs.origin() || !theirs.path().starts_with(ours.path()) {
            return None;
        }
        Some(Request {
            label: format!("GET {}", theirs.path()),
            method: Method::GET,
            url: url.to_string(),
            body: Body::None,
            accept: "application/vnd.github+json",
            api: true,
            binary: false,
            if_none_match: None,
        })
    }

    /// GET a binary resource at an API route, following one redirect (GitHub answers archive
    /// and asset downloads with a 302 to a short-lived storage URL). The storage request
    /// carries no token. Returns the final non-redirect answer.
    async fn download(&self, route: &str, accept: &'static str) -> ApiResult<Answer> {
        let mut first = self.api(Method::GET, route, Body::None);
        first.accept = accept;
        first.binary = true;
        let a = self.fetch(&first).await?;
        if !matches!(a.status, 301 | 302 | 303 | 307 | 308) {
            return Ok(a);
        }
        let location = a
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::BadAnswer(format!("HTTP {} without a Location header", a.status))
            })?;
        let target = url::Url::parse(&first.url)
            .and_then(|base| base.join(location))
            .map_err(|e| ApiError::BadAnswer(format!("redirect to a bad URL ({e})")))?;
        if !matches!(target.scheme(), "http" | "https") {
            return Err(ApiError::BadAnswer(format!(
                "redirect to a non-http URL ({})",
                target.scheme()
            )));
        }
        let storage = Request {
            label: format!(
                "GET {} (redirected from {})",
                target.host_str().unwrap_or("?"),
                first.label
            ),
            method: Method::GET,
            url: target.to_string(),
            body: Body::None,
            accept,
            api: false,
            binary: true,
            if_none_match: None,
        };
        let b = self.fetch(&storage).await?;
        if matches!(b.status, 301 | 302 | 303 | 307 | 308) {
            return Err(ApiError::BadAnswer(format!(
                "{}: redirected again (HTTP {})",
                storage.label, b.status
            )));
        }
        Ok(b)
    }

    /// One send, with the timeout around the whole exchange (body included).
    async fn send(&self, req: &Request) -> std::result::Result<Answer, SendError> {
        let mut builder = http::Request::builder()
            .method(req.method.clone())
            .uri(req.url.as_str())
            .header(ACCEPT, req.accept);
        if req.api {
            builder = builder.header("X-GitHub-Api-Version", API_VERSION);
            if let Some(auth) = &self.auth {
                builder = builder.header(AUTHORIZATION, auth.clone());
            }
        }
        if let Some(etag) = &req.if_none_match {
            builder = builder.header(http::header::IF_NONE_MATCH, etag.as_str());
        }
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
            let response = self
                .crab
                .execute(request)
                .await
                .map_err(|e| error_chain(&e))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let raw = http_body_util::Limited::new(response.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| format!("reading the answer: {e}"))?
                .to_bytes()
                .to_vec();
            let (body, bytes) = if req.binary && (200..300).contains(&status) {
                (String::new(), raw)
            } else {
                (String::from_utf8_lossy(&raw).into_owned(), Vec::new())
            };
            Ok::<_, String>(Answer {
                status,
                headers,
                body,
                bytes,
                attempts: 1,
            })
        };
        // A download (an artifact archive, a release asset) may take longer than an API call.
        let limit = if req.binary {
            self.timeout.saturating_mul(DOWNLOAD_TIMEOUT_FACTOR)
        } else {
            self.timeout
        };
        match tokio::time::timeout(limit, exchange).await {
            Err(_) => Err(SendError::Timeout(limit)),
            Ok(Err(e)) => Err(SendError::Transport(e)),
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
                    let rate_limited = retry::is_rate_limited(&observed);
                    return match (sent, stop) {
                        (Ok(a), StopReason::Final) => Ok(Landed::Answered(a)),
                        // Budget spent while GitHub still rate-limits us: never hand this 403
                        // or 429 to the caller as if it were GitHub's final word.
                        (Ok(a), stop) if rate_limited => Err(ApiError::RateLimited {
                            status: a.status,
                            message: a.message(),
                            attempts: number,
                            wanted: match stop {
                                StopReason::WaitTooLong { wanted } => Some(wanted),
                                _ => None,
                            },
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
}

/// The `rel="next"` URL of a `Link` header (GitHub's pagination), if any.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(http::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_string())
    })
}

/// Percent-encode a path made of segments, keeping `/` between them.
pub(crate) fn encode_path(s: &str) -> String {
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
    fn next_link_is_found_among_the_relations() {
        let mut h = HeaderMap::new();
        assert_eq!(next_link(&h), None);
        h.insert(
            http::header::LINK,
            HeaderValue::from_static(
                "<https://api.example/x?after=A>; rel=\"prev\", <https://api.example/x?after=B>; rel=\"next\"",
            ),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.example/x?after=B")
        );
        h.insert(
            http::header::LINK,
            HeaderValue::from_static("<https://api.example/x?page=1>; rel=\"first\""),
        );
        assert_eq!(next_link(&h), None);
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
        let auth = gh.auth.as_ref().expect("a token header");
        assert!(auth.is_sensitive());
        assert!(!format!("{auth:?}").contains("ghs_secret"));
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
        assert_eq!(e.reason, FailureReason::InvalidEnvironment);
        assert!(e.message.contains(ENV_HTTP_TIMEOUT_MS), "{}", e.message);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever the three knobs hold, reading them never panics: a value is accepted and
            /// yields bounded durations, or it is refused as `invalid_environment` naming it.
            #[test]
            fn any_knob_values_are_accepted_bounded_or_refused(
                values in proptest::collection::vec(
                    prop_oneof![
                        any::<f64>().prop_map(|n| n.to_string()),
                        any::<u64>().prop_map(|n| format!("{n}000")),
                        Just("-0".to_string()),
                        Just("1e400".to_string()),
                        Just("NaN".to_string()),
                        ".{0,12}",
                    ],
                    3,
                ),
            ) {
                let names = [ENV_RETRY_BASE_MS, ENV_RETRY_AFTER_SCALE, ENV_HTTP_TIMEOUT_MS];
                let vars = names
                    .iter()
                    .zip(&values)
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect();
                let env = RunEnv::from_vars(vars, ".".into()).expect("env");
                match knobs(&env) {
                    Ok((policy, timeout)) => {
                        prop_assert!(policy.base <= Duration::from_secs(600));
                        prop_assert!(policy.server_wait_scale.is_finite());
                        prop_assert!((0.0..=100.0).contains(&policy.server_wait_scale));
                        prop_assert!(timeout >= Duration::from_millis(1));
                        prop_assert!(timeout <= Duration::from_secs(3600));
                    }
                    Err(e) => {
                        prop_assert_eq!(e.reason, FailureReason::InvalidEnvironment);
                        prop_assert!(names.iter().any(|n| e.message.contains(n)));
                    }
                }
            }
        }
    }
}
