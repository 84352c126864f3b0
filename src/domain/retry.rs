//! When to call GitHub again, and how long to wait first. Pure.
//!
//! The adapter (`adapters::github`) sends a request, describes what came back as an
//! [`Observed`], and asks [`decide`] what to do next. Everything that varies (the clock, the
//! jitter, the time spent so far) is an argument, so every decision is a unit test.
//!
//! Rules, in order:
//! - 2xx/3xx and non-retryable answers (4xx other than rate limits, 501) stop the loop.
//! - 429, and 403 that carries rate-limit signals (`retry-after`, `x-ratelimit-remaining: 0`
//!   or a "rate limit" message), are *rate limits*: GitHub refused the request before doing
//!   anything, so even a POST may be sent again. Wait `retry-after`, else until
//!   `x-ratelimit-reset`, else at least a minute for a secondary limit (GitHub's advice).
//! - 5xx, timeouts and transport errors are *server trouble*: an idempotent call is repeated
//!   after exponential backoff with jitter; a non-idempotent one (POST) may have taken effect,
//!   so the caller must first check whether it did ([`Decision::CheckThenRetry`]).
//! - Never more than `max_attempts` sends, and never a wait that would end after `max_total`.
//!
//! What this module does not do: it does not sleep, read headers off the wire, or know which
//! GitHub endpoint is being called.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Bounds and time scales of the retry loop.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Sends at most this many times (the first send included).
    pub max_attempts: u32,
    /// The first backoff; doubles on each retry.
    pub base: Duration,
    /// No single backoff is longer than this.
    pub max_backoff: Duration,
    /// No wait may end later than this after the first send.
    pub max_total: Duration,
    /// Multiplies waits the *server* asks for (`retry-after`, `x-ratelimit-reset`, the
    /// secondary-limit minute). 1.0 in production; tests shrink it so they never sleep seconds.
    pub server_wait_scale: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_total: Duration::from_secs(180),
            server_wait_scale: 1.0,
        }
    }
}

/// Whether sending a request twice can do something twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// GET, PUT, PATCH with a full value, DELETE.
    Idempotent,
    /// POST that creates something (an attestation, a release asset).
    NonIdempotent,
}

/// The rate-limit headers of an answer, as strings off the wire.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateHeaders<'a> {
    pub retry_after: Option<&'a str>,
    pub ratelimit_remaining: Option<&'a str>,
    pub ratelimit_reset: Option<&'a str>,
}

/// What one send produced.
#[derive(Debug, Clone, Copy)]
pub enum Observed<'a> {
    Answer {
        status: u16,
        headers: RateHeaders<'a>,
        /// The body, or its start: only searched for "rate limit".
        body: &'a str,
    },
    /// No answer within the HTTP timeout: the request may or may not have been processed.
    Timeout,
    /// Connection refused or reset, TLS failure...: the request may or may not have arrived.
    Transport,
}

/// Where we are in the loop.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    /// Sends made so far, this one included (1 after the first send).
    pub number: u32,
    /// Time since the first send started.
    pub elapsed: Duration,
    pub now: DateTime<Utc>,
    /// A random number in `[0, 1)`, drawn by the caller.
    pub jitter: f64,
}

/// Why we wait.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitReason {
    /// The server's `retry-after` (its value, before scaling).
    RetryAfter(Duration),
    /// Until `x-ratelimit-reset` (the server's time until then, before scaling).
    RateLimitReset(Duration),
    /// A secondary rate limit without headers: GitHub asks for at least a minute.
    SecondaryRateLimit,
    /// Exponential backoff with jitter.
    Backoff,
}

/// Why the loop ends without another send.
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    /// Success, or a failure sending again cannot fix.
    Final,
    /// `max_attempts` sends made.
    AttemptsExhausted,
    /// The wait needed would end after `max_total`.
    WaitTooLong { wanted: Duration },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Stop(StopReason),
    /// Send again after `wait`.
    Retry {
        wait: Duration,
        reason: WaitReason,
    },
    /// The request may have taken effect: look first; if it did not, send again after `wait`.
    CheckThenRetry {
        wait: Duration,
        reason: WaitReason,
    },
}

/// How an outcome is classified before any timing is considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Final,
    RateLimited,
    ServerTrouble,
}

fn classify(observed: &Observed<'_>) -> Class {
    match *observed {
        Observed::Timeout | Observed::Transport => Class::ServerTrouble,
        Observed::Answer {
            status,
            headers,
            body,
        } => match status {
            429 => Class::RateLimited,
            403 if is_rate_limit_403(&headers, body) => Class::RateLimited,
            501 => Class::Final,
            500..=599 => Class::ServerTrouble,
            _ => Class::Final,
        },
    }
}

/// A 403 is a rate limit (not a permission refusal) when GitHub says so.
pub fn is_rate_limit_403(headers: &RateHeaders<'_>, body: &str) -> bool {
    headers.retry_after.is_some()
        || headers.ratelimit_remaining.map(str::trim) == Some("0")
        || body.to_ascii_lowercase().contains("rate limit")
}

/// The server's requested wait, if the answer carries one.
fn server_wait(observed: &Observed<'_>, now: DateTime<Utc>) -> Option<(Duration, WaitReason)> {
    let Observed::Answer { headers, .. } = observed else {
        return None;
    };
    if let Some(d) = headers.retry_after.and_then(|v| parse_retry_after(v, now)) {
        return Some((d, WaitReason::RetryAfter(d)));
    }
    if headers.ratelimit_remaining.map(str::trim) == Some("0") {
        if let Some(reset) = headers
            .ratelimit_reset
            .and_then(|v| v.trim().parse::<i64>().ok())
        {
            // One extra second: the reset instant is truncated to whole seconds.
            let secs = (reset - now.timestamp()).max(0) as u64 + 1;
            let d = Duration::from_secs(secs);
            return Some((d, WaitReason::RateLimitReset(d)));
        }
    }
    None
}

/// `retry-after` is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// `base * 2^(n-1)`, capped, then "equal jitter": half fixed, half random.
pub fn backoff(policy: &RetryPolicy, retry_number: u32, jitter: f64) -> Duration {
    let exp = retry_number.saturating_sub(1).min(20);
    let full = policy
        .base
        .saturating_mul(1u32 << exp)
        .min(policy.max_backoff);
    let half = full / 2;
    half + half.mul_f64(jitter.clamp(0.0, 1.0))
}

fn scaled(d: Duration, scale: f64) -> Duration {
    d.mul_f64(scale.max(0.0))
}

/// The next step after one send. See the module docs for the rules.
pub fn decide(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    observed: &Observed<'_>,
    attempt: Attempt,
) -> Decision {
    let class = classify(observed);
    if class == Class::Final {
        return Decision::Stop(StopReason::Final);
    }
    if attempt.number >= policy.max_attempts {
        return Decision::Stop(StopReason::AttemptsExhausted);
    }
    let backoff = backoff(policy, attempt.number, attempt.jitter);
    let (wait, reason) = match (class, server_wait(observed, attempt.now)) {
        (_, Some((d, reason))) => (scaled(d, policy.server_wait_scale), reason),
        (Class::RateLimited, None) => (
            scaled(Duration::from_secs(60), policy.server_wait_scale).max(backoff),
            WaitReason::SecondaryRateLimit,
        ),
        _ => (backoff, WaitReason::Backoff),
    };
    if attempt.elapsed.saturating_add(wait) > policy.max_total {
        return Decision::Stop(StopReason::WaitTooLong { wanted: wait });
    }
    match (class, idempotency) {
        (Class::ServerTrouble, Idempotency::NonIdempotent) => {
            Decision::CheckThenRetry { wait, reason }
        }
        _ => Decision::Retry { wait, reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .expect("date")
            .with_timezone(&Utc)
    }

    fn at(number: u32) -> Attempt {
        Attempt {
            number,
            elapsed: Duration::ZERO,
            now: now(),
            jitter: 0.0,
        }
    }

    fn answer(status: u16, headers: RateHeaders<'_>) -> Observed<'_> {
        Observed::Answer {
            status,
            headers,
            body: "",
        }
    }

    const GET: Idempotency = Idempotency::Idempotent;
    const POST: Idempotency = Idempotency::NonIdempotent;

    #[test]
    fn success_and_client_errors_are_final() {
        let p = RetryPolicy::default();
        for status in [200, 201, 204, 400, 401, 404, 422, 501] {
            assert_eq!(
                decide(&p, GET, &answer(status, RateHeaders::default()), at(1)),
                Decision::Stop(StopReason::Final),
                "{status}"
            );
        }
    }

    #[test]
    fn plain_403_is_a_refusal_not_a_rate_limit() {
        let p = RetryPolicy::default();
        let o = Observed::Answer {
            status: 403,
            headers: RateHeaders::default(),
            body: r#"{"message":"Feature not available for this plan"}"#,
        };
        assert_eq!(
            decide(&p, POST, &o, at(1)),
            Decision::Stop(StopReason::Final)
        );
    }

    #[test]
    fn server_errors_back_off_exponentially_with_jitter() {
        let p = RetryPolicy::default();
        let o = answer(502, RateHeaders::default());
        let wait = |n, jitter| match decide(&p, GET, &o, Attempt { jitter, ..at(n) }) {
            Decision::Retry {
                wait,
                reason: WaitReason::Backoff,
            } => wait,
            other => panic!("{other:?}"),
        };
        assert_eq!(wait(1, 0.0), Duration::from_millis(500));
        assert_eq!(wait(1, 1.0), Duration::from_secs(1));
        assert_eq!(wait(2, 0.0), Duration::from_secs(1));
        assert_eq!(wait(3, 0.5), Duration::from_secs(3));
        // Capped at max_backoff however many retries.
        assert_eq!(backoff(&p, 30, 1.0), p.max_backoff);
    }

    #[test]
    fn post_after_server_trouble_must_check_first() {
        let p = RetryPolicy::default();
        for o in [
            answer(500, RateHeaders::default()),
            Observed::Timeout,
            Observed::Transport,
        ] {
            assert!(
                matches!(decide(&p, POST, &o, at(1)), Decision::CheckThenRetry { .. }),
                "{o:?}"
            );
            assert!(
                matches!(decide(&p, GET, &o, at(1)), Decision::Retry { .. }),
                "{o:?}"
            );
        }
    }

    #[test]
    fn rate_limited_post_is_sent_again_without_checking() {
        // GitHub refused it before doing anything: no duplicate is possible.
        let p = RetryPolicy::default();
        let h = RateHeaders {
            retry_after: Some("2"),
            ..Default::default()
        };
        assert_eq!(
            decide(&p, POST, &answer(429, h), at(1)),
            Decision::Retry {
                wait: Duration::from_secs(2),
                reason: WaitReason::RetryAfter(Duration::from_secs(2))
            }
        );
    }

    #[test]
    fn retry_after_wins_and_is_scaled() {
        let p = RetryPolicy {
            server_wait_scale: 0.001,
            ..Default::default()
        };
        let h = RateHeaders {
            retry_after: Some("7"),
            ratelimit_remaining: Some("0"),
            ratelimit_reset: Some("0"),
        };
        assert_eq!(
            decide(&p, GET, &answer(403, h), at(1)),
            Decision::Retry {
                wait: Duration::from_millis(7),
                reason: WaitReason::RetryAfter(Duration::from_secs(7))
            }
        );
    }

    #[test]
    fn retry_after_as_http_date() {
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 10:00:30 GMT", now()),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 09:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now()), None);
    }

    #[test]
    fn exhausted_primary_limit_waits_until_reset() {
        let p = RetryPolicy::default();
        let reset = (now().timestamp() + 20).to_string();
        let h = RateHeaders {
            retry_after: None,
            ratelimit_remaining: Some("0"),
            ratelimit_reset: Some(&reset),
        };
        assert_eq!(
            decide(&p, GET, &answer(403, h), at(1)),
            Decision::Retry {
                wait: Duration::from_secs(21),
                reason: WaitReason::RateLimitReset(Duration::from_secs(21))
            }
        );
    }

    #[test]
    fn secondary_limit_without_headers_waits_a_minute() {
        let p = RetryPolicy::default();
        let o = Observed::Answer {
            status: 403,
            headers: RateHeaders::default(),
            body: r#"{"message":"You have exceeded a secondary rate limit."}"#,
        };
        assert_eq!(
            decide(&p, POST, &o, at(1)),
            Decision::Retry {
                wait: Duration::from_secs(60),
                reason: WaitReason::SecondaryRateLimit
            }
        );
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy::default();
        let o = answer(503, RateHeaders::default());
        assert!(matches!(decide(&p, GET, &o, at(4)), Decision::Retry { .. }));
        assert_eq!(
            decide(&p, GET, &o, at(5)),
            Decision::Stop(StopReason::AttemptsExhausted)
        );
    }

    #[test]
    fn total_time_is_bounded() {
        // An hour until the primary limit resets: give up now, do not hang the job.
        let p = RetryPolicy::default();
        let h = RateHeaders {
            retry_after: Some("3600"),
            ..Default::default()
        };
        assert_eq!(
            decide(&p, GET, &answer(429, h), at(1)),
            Decision::Stop(StopReason::WaitTooLong {
                wanted: Duration::from_secs(3600)
            })
        );
        let late = Attempt {
            elapsed: Duration::from_millis(179_500),
            ..at(2)
        };
        assert!(matches!(
            decide(&p, GET, &answer(502, RateHeaders::default()), late),
            Decision::Stop(StopReason::WaitTooLong { .. })
        ));
    }
}
