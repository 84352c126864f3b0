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
//! - No value off the wire or out of the environment can make this module panic: header
//!   numbers saturate (`retry-after: 18446744073709551615` is "too long", not an overflow), and
//!   the tuning knobs are parsed here ([`parse_knob`]) into bounded values.
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

/// Whether GitHub refused this request because of a (primary or secondary) rate limit. A
/// rate-limited answer left when the loop stops is a failure of its own, never a refusal.
pub fn is_rate_limited(observed: &Observed<'_>) -> bool {
    classify(observed) == Class::RateLimited
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
            let secs = u64::try_from(reset.saturating_sub(now.timestamp()))
                .unwrap_or(0)
                .saturating_add(1);
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
    // NaN is not in [0, 1]: `clamp` would keep it, and `mul_f64(NaN)` panics.
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    half.saturating_add(half.mul_f64(jitter))
}

/// `d * scale`, saturating at [`Duration::MAX`]; a negative or NaN scale counts as 0.
/// (`Duration::mul_f64` panics on overflow: `retry-after: 18446744073709551615` times 1.0
/// does not fit.)
fn scaled(d: Duration, scale: f64) -> Duration {
    let scale = if scale.is_nan() { 0.0 } else { scale.max(0.0) };
    Duration::try_from_secs_f64(d.as_secs_f64() * scale).unwrap_or(Duration::MAX)
}

/// The bounds of one `SLSA_PROVENANCE_*` tuning knob (an environment variable, not an input).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnobBounds {
    pub default: f64,
    /// Largest accepted value; bigger values are refused, not clamped.
    pub max: f64,
}

/// Milliseconds before the first backoff: default 1 s, at most 10 minutes.
pub const RETRY_BASE_MS: KnobBounds = KnobBounds {
    default: 1000.0,
    max: 600_000.0,
};
/// Factor on server-requested waits: default 1.0, at most 100.
pub const RETRY_AFTER_SCALE: KnobBounds = KnobBounds {
    default: 1.0,
    max: 100.0,
};
/// Milliseconds one HTTP request may take: default 30 s, at most an hour.
pub const HTTP_TIMEOUT_MS: KnobBounds = KnobBounds {
    default: 30_000.0,
    max: 3_600_000.0,
};

/// A knob's value: absent means the default; otherwise a finite number in `[0, max]`.
/// `Err` says what was expected (the caller names the variable).
pub fn parse_knob(raw: Option<&str>, bounds: KnobBounds) -> Result<f64, String> {
    let Some(raw) = raw else {
        return Ok(bounds.default);
    };
    let expected = || format!("a number from 0 to {}", bounds.max);
    match raw.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && (0.0..=bounds.max).contains(&n) => Ok(n),
        Ok(_) | Err(_) => Err(expected()),
    }
}

/// A non-negative, finite number of milliseconds as a [`Duration`], saturating (never panics).
pub fn millis(ms: f64) -> Duration {
    if ms.is_nan() || ms <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX)
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

#[cfg(test)]
mod regression {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .expect("date")
            .with_timezone(&Utc)
    }

    #[test]
    fn retry_after_u64_max_is_too_long_not_a_panic() {
        // `retry-after: 18446744073709551615` overflowed `Duration::mul_f64` (exit 101).
        let h = RateHeaders {
            retry_after: Some("18446744073709551615"),
            ..Default::default()
        };
        let o = Observed::Answer {
            status: 429,
            headers: h,
            body: "",
        };
        let at = Attempt {
            number: 1,
            elapsed: Duration::ZERO,
            now: now(),
            jitter: 0.5,
        };
        for scale in [1.0, 100.0, f64::MAX, f64::INFINITY] {
            let p = RetryPolicy {
                server_wait_scale: scale,
                ..Default::default()
            };
            assert!(
                matches!(
                    decide(&p, Idempotency::NonIdempotent, &o, at),
                    Decision::Stop(StopReason::WaitTooLong { .. })
                ),
                "{scale}"
            );
        }
    }

    #[test]
    fn ratelimit_reset_at_the_ends_of_i64_does_not_overflow() {
        // `x-ratelimit-reset: -9223372036854775808` overflowed `reset - now` (exit 101).
        let p = RetryPolicy::default();
        for reset in [i64::MIN.to_string(), i64::MAX.to_string()] {
            let o = Observed::Answer {
                status: 403,
                headers: RateHeaders {
                    retry_after: None,
                    ratelimit_remaining: Some("0"),
                    ratelimit_reset: Some(&reset),
                },
                body: "",
            };
            let d = decide(
                &p,
                Idempotency::Idempotent,
                &o,
                Attempt {
                    number: 1,
                    elapsed: Duration::ZERO,
                    now: now(),
                    jitter: 0.0,
                },
            );
            assert!(
                matches!(
                    d,
                    Decision::Retry { .. } | Decision::Stop(StopReason::WaitTooLong { .. })
                ),
                "{reset}: {d:?}"
            );
        }
    }

    #[test]
    fn nan_jitter_does_not_panic() {
        let p = RetryPolicy::default();
        assert_eq!(backoff(&p, 1, f64::NAN), Duration::from_millis(500));
    }

    #[test]
    fn knobs_refuse_negative_nan_inf_and_huge_values() {
        for bad in [
            "-1", "NaN", "inf", "-inf", "1e400", "600001", "soon", "", "0x10",
        ] {
            assert!(parse_knob(Some(bad), RETRY_BASE_MS).is_err(), "{bad:?}");
        }
        assert_eq!(parse_knob(None, RETRY_BASE_MS), Ok(1000.0));
        assert_eq!(parse_knob(Some(" 5 "), RETRY_BASE_MS), Ok(5.0));
        assert_eq!(parse_knob(Some("600000"), RETRY_BASE_MS), Ok(600_000.0));
        assert_eq!(parse_knob(Some("0.001"), RETRY_AFTER_SCALE), Ok(0.001));
        assert_eq!(
            parse_knob(Some("101"), RETRY_AFTER_SCALE),
            Err("a number from 0 to 100".to_string())
        );
    }

    #[test]
    fn millis_saturates() {
        assert_eq!(millis(250.0), Duration::from_millis(250));
        assert_eq!(millis(-1.0), Duration::ZERO);
        assert_eq!(millis(f64::NAN), Duration::ZERO);
        assert_eq!(millis(f64::INFINITY), Duration::MAX);
        assert_eq!(millis(1e300), Duration::MAX);
    }
}

#[cfg(test)]
mod props {
    //! Property tests: no header value, knob value, clock or attempt count panics, and every
    //! wait the policy asks for stays inside its budget.

    use super::*;
    use proptest::prelude::*;

    /// Header values as they may come off the wire: numbers of every size and sign, floats,
    /// things shaped like HTTP-dates (valid or not), and arbitrary text.
    fn header_value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<u64>().prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|n| n.to_string()),
            Just("18446744073709551615".to_string()),
            Just("18446744073709551616".to_string()),
            Just("-9223372036854775808".to_string()),
            "(Mon|Tue|Sat), [0-9]{1,2} (Jan|Nov|Dec) [0-9]{1,6} [0-9]{2}:[0-9]{2}:[0-9]{2} (GMT|[+-][0-9]{4})",
            ".{0,40}",
        ]
    }

    /// Any instant chrono can represent (about ±262,000 years).
    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        (-8_000_000_000_000i64..8_000_000_000_000i64)
            .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or_default())
    }

    fn policy() -> impl Strategy<Value = RetryPolicy> {
        (
            0u32..10,
            any::<f64>(),
            any::<f64>(),
            any::<u64>(),
            any::<f64>(),
        )
            .prop_map(
                |(max_attempts, base_ms, backoff_ms, total_s, scale)| RetryPolicy {
                    max_attempts,
                    base: millis(base_ms),
                    max_backoff: millis(backoff_ms),
                    max_total: Duration::from_secs(total_s),
                    server_wait_scale: scale,
                },
            )
    }

    proptest! {
        #[test]
        fn parse_retry_after_never_panics(v in header_value(), now in instant()) {
            let _ = parse_retry_after(&v, now);
        }

        #[test]
        fn numeric_retry_after_is_taken_as_seconds(n in any::<u64>(), now in instant()) {
            prop_assert_eq!(parse_retry_after(&n.to_string(), now), Some(Duration::from_secs(n)));
        }

        #[test]
        fn decide_never_panics_and_waits_within_budget(
            p in policy(),
            status in 100u16..600,
            retry_after in proptest::option::of(header_value()),
            remaining in proptest::option::of(prop_oneof![Just("0".to_string()), header_value()]),
            reset in proptest::option::of(header_value()),
            body in prop_oneof![Just("rate limit".to_string()), ".{0,20}"],
            number in any::<u32>(),
            elapsed_s in any::<u64>(),
            now in instant(),
            jitter in any::<f64>(),
            post in any::<bool>(),
        ) {
            let o = Observed::Answer {
                status,
                headers: RateHeaders {
                    retry_after: retry_after.as_deref(),
                    ratelimit_remaining: remaining.as_deref(),
                    ratelimit_reset: reset.as_deref(),
                },
                body: &body,
            };
            let idem = if post { Idempotency::NonIdempotent } else { Idempotency::Idempotent };
            let elapsed = Duration::from_secs(elapsed_s);
            let attempt = Attempt { number, elapsed, now, jitter };
            match decide(&p, idem, &o, attempt) {
                Decision::Retry { wait, .. } | Decision::CheckThenRetry { wait, .. } => {
                    prop_assert!(number < p.max_attempts);
                    prop_assert!(elapsed.saturating_add(wait) <= p.max_total);
                    prop_assert!(is_rate_limited(&o) || status >= 500);
                }
                Decision::Stop(_) => {}
            }
        }

        #[test]
        fn backoff_never_panics(p in policy(), n in any::<u32>(), jitter in any::<f64>()) {
            prop_assert!(backoff(&p, n, jitter) <= p.max_backoff);
        }

        #[test]
        fn knobs_accept_only_bounded_finite_values(
            raw in prop_oneof![
                any::<f64>().prop_map(|n| n.to_string()),
                any::<i64>().prop_map(|n| n.to_string()),
                Just("NaN".to_string()), Just("-inf".to_string()), Just("1e400".to_string()),
                ".{0,20}",
            ],
            which in 0usize..3,
        ) {
            let bounds = [RETRY_BASE_MS, RETRY_AFTER_SCALE, HTTP_TIMEOUT_MS][which];
            if let Ok(v) = parse_knob(Some(&raw), bounds) {
                prop_assert!(v.is_finite() && (0.0..=bounds.max).contains(&v), "{raw:?} -> {v}");
                prop_assert!(millis(v) <= Duration::from_secs(3600));
            }
        }

        #[test]
        fn millis_never_panics(ms in any::<f64>()) {
            let _ = millis(ms);
        }
    }
}
