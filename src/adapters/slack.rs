//! Slack and the notify webhook: send one payload, retrying as `domain::notify::next_step`
//! says, and report what the last answer meant ([`SlackOutcome`]).
//!
//! Webhook URLs are secrets (the URL *is* the credential) and so is the token: both are
//! [`Secret`], sent only over TLS or to loopback (checked when the inputs are read), and no
//! message built here contains them (`reqwest` errors are stripped of their URL). The token
//! travels in an `Authorization` header marked sensitive. This module decides nothing.

use std::time::{Duration, Instant};

use http::HeaderValue;
use serde_json::Value;

use crate::domain::notify::{classify_slack, next_step, SlackApi, SlackOutcome};
use crate::domain::retry::{Attempt, Decision, RetryPolicy};
use crate::secret::Secret;

/// Test/tuning knob: the Slack Web API base (default `https://slack.com/api`).
pub const ENV_SLACK_API_URL: &str = "SLSA_PROVENANCE_SLACK_API_URL";
pub const DEFAULT_SLACK_API_URL: &str = "https://slack.com/api";

/// Where one payload goes.
pub enum Target<'a> {
    IncomingWebhook(&'a Secret),
    PostMessage {
        api_url: &'a str,
        token: &'a Secret,
        channel: &'a str,
    },
    NotifyWebhook(&'a Secret),
}

impl Target<'_> {
    fn api(&self) -> SlackApi {
        match self {
            Self::IncomingWebhook(_) => SlackApi::IncomingWebhook,
            Self::PostMessage { .. } => SlackApi::PostMessage,
            Self::NotifyWebhook(_) => SlackApi::NotifyWebhook,
        }
    }

    /// For log lines: never the URL.
    pub fn label(&self) -> &'static str {
        match self {
            Self::IncomingWebhook(_) => "Slack incoming webhook",
            Self::PostMessage { .. } => "Slack chat.postMessage",
            Self::NotifyWebhook(_) => "notify webhook",
        }
    }
}

pub struct Slack<'a> {
    http: reqwest::Client,
    policy: RetryPolicy,
    log: &'a (dyn Fn(&str) + Sync),
}

impl<'a> Slack<'a> {
    pub fn new(
        timeout: Duration,
        policy: RetryPolicy,
        log: &'a (dyn Fn(&str) + Sync),
    ) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("building the HTTP client: {}", e.without_url()))?;
        Ok(Self { http, policy, log })
    }

    async fn send_once(&self, target: &Target<'_>, payload: &Value) -> SlackOutcome {
        let request = match target {
            Target::IncomingWebhook(url) | Target::NotifyWebhook(url) => {
                self.http.post(url.expose()).json(payload)
            }
            Target::PostMessage {
                api_url,
                token,
                channel,
            } => {
                let mut auth = match HeaderValue::from_str(&format!("Bearer {}", token.expose())) {
                    Ok(h) => h,
                    Err(_) => {
                        return SlackOutcome::Permanent {
                            error: "invalid_auth".into(),
                        }
                    }
                };
                auth.set_sensitive(true);
                let mut body = payload.clone();
                body["channel"] = Value::String((*channel).to_string());
                self.http
                    .post(format!(
                        "{}/chat.postMessage",
                        api_url.trim_end_matches('/')
                    ))
                    .header(http::header::AUTHORIZATION, auth)
                    .json(&body)
            }
        };
        match request.send().await {
            Err(e) => SlackOutcome::Transient {
                detail: if e.is_timeout() {
                    "no answer in time".to_string()
                } else {
                    format!("no answer: {}", e.without_url())
                },
            },
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                let body = resp.text().await.unwrap_or_default();
                classify_slack(target.api(), status, &body, retry_after.as_deref())
            }
        }
    }

    /// Send until delivered, refused for good, or the retry budget is spent.
    pub async fn deliver(&self, target: &Target<'_>, payload: &Value) -> (SlackOutcome, u32) {
        let started = Instant::now();
        let mut number = 0;
        loop {
            number += 1;
            let outcome = self.send_once(target, payload).await;
            let decision = next_step(
                &self.policy,
                &outcome,
                Attempt {
                    number,
                    elapsed: started.elapsed(),
                    now: chrono::Utc::now(),
                    jitter: rand::random::<f64>(),
                },
            );
            let wait = match decision {
                Decision::Stop(_) => return (outcome, number),
                Decision::Retry { wait, .. } | Decision::CheckThenRetry { wait, .. } => wait,
            };
            (self.log)(&format!(
                "{}: {outcome:?}; attempt {}/{} in {}ms",
                target.label(),
                number + 1,
                self.policy.max_attempts,
                wait.as_millis()
            ));
            tokio::time::sleep(wait).await;
        }
    }
}
