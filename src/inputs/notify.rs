//! Typed inputs of `mode: notify`.
//!
//! Webhook URLs are credentials: they stay [`Secret`], are checked for TLS (or loopback) here,
//! and no message built here shows them (only their scheme, never host or path).

use std::path::PathBuf;

use super::RawInputs;
use crate::domain::notify::IssueOn;
use crate::domain::transport;
use crate::error::{Failure, FailureReason, Result};
use crate::secret::Secret;

/// `status` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusInput {
    Success,
    Failure,
    /// Read from the run's manifest entry.
    Auto,
}

pub const DEFAULT_ISSUE_LABELS: &str = "slsa-provenance,automated";

#[derive(Debug)]
pub struct NotifyInputs {
    pub status: StatusInput,
    /// `None`: the current run (`GITHUB_RUN_ID`).
    pub run_id: Option<u64>,
    pub tag: Option<String>,
    pub artifact_url: Option<String>,
    pub failure_reason: Option<String>,
    pub issue_on: IssueOn,
    pub issue_labels: Vec<String>,
    pub slack_webhook_url: Option<Secret>,
    pub slack_token: Option<Secret>,
    pub slack_channel: Option<String>,
    pub notify_webhook_url: Option<Secret>,
    pub runbook_url: Option<String>,
    pub github_token: Option<Secret>,
    pub reports_dir: PathBuf,
    /// Where the run's entry is updated (`audit-store`, `audit-branch`).
    pub entry_store: super::entry_store::EntryStoreInputs,
}

fn invalid(msg: String) -> Failure {
    Failure::new(FailureReason::InvalidInput, msg)
}

/// A URL that is itself a secret: parse and check it without ever echoing it.
pub(crate) fn secret_url(name: &str, v: Option<&Secret>) -> Result<Option<Secret>> {
    let Some(v) = v else { return Ok(None) };
    let u = url::Url::parse(v.expose())
        .map_err(|e| invalid(format!("input '{name}' is not a URL ({e})")))?;
    transport::check_token_url(&u)
        .map_err(|why| invalid(format!("input '{name}' {why}, got a {}:// URL", u.scheme())))?;
    Ok(Some(v.clone()))
}

pub(crate) fn reports_dir(raw: &RawInputs) -> Result<PathBuf> {
    let dir = PathBuf::from(raw.reports_dir.as_deref().unwrap_or("docs/reports"));
    if dir.is_absolute()
        || dir
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(invalid(format!(
            "input 'reports-dir' must be a path inside the workspace, got {dir:?}"
        )));
    }
    Ok(dir)
}

pub(crate) fn run_id(raw: &RawInputs) -> Result<Option<u64>> {
    raw.run_id
        .as_deref()
        .map(|v| {
            v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                invalid(format!(
                    "input 'run-id' must be a run id (a positive number), got {v:?}"
                ))
            })
        })
        .transpose()
}

impl NotifyInputs {
    /// Every input [`NotifyInputs::from_raw`] reads.
    pub const READS: &'static [&'static str] = &[
        "status",
        "run-id",
        "tag",
        "artifact-url",
        "failure-reason",
        "issue-on",
        "issue-labels",
        "slack-webhook-url",
        "slack-token",
        "slack-channel",
        "notify-webhook-url",
        "runbook-url",
        "github-token",
        "reports-dir",
        "audit-store",
        "audit-branch",
        "supabase-url",
        "supabase-key",
        "supabase-table",
    ];

    pub fn from_raw(raw: &RawInputs) -> Result<Self> {
        let status = match raw.status.as_deref().unwrap_or("auto") {
            "success" => StatusInput::Success,
            "failure" => StatusInput::Failure,
            "auto" => StatusInput::Auto,
            other => {
                return Err(invalid(format!(
                    "input 'status' must be success, failure or auto, got {other:?}"
                )))
            }
        };
        let issue_on = match raw.issue_on.as_deref().unwrap_or("failure") {
            "failure" => IssueOn::Failure,
            "always" => IssueOn::Always,
            "never" => IssueOn::Never,
            other => {
                return Err(invalid(format!(
                    "input 'issue-on' must be failure, always or never, got {other:?}"
                )))
            }
        };
        let issue_labels: Vec<String> = raw
            .issue_labels
            .as_deref()
            .unwrap_or(DEFAULT_ISSUE_LABELS)
            .split([',', '\n'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        if issue_labels.is_empty() {
            return Err(invalid(
                "input 'issue-labels' needs at least one label (issues are found by it)".into(),
            ));
        }
        if raw.slack_token.is_some() != raw.slack_channel.is_some() {
            return Err(Failure::new(
                FailureReason::MissingInput,
                "inputs 'slack-token' and 'slack-channel' go together: set both or neither",
            ));
        }
        if let Some(u) = raw.runbook_url.as_deref() {
            url::Url::parse(u)
                .map_err(|e| invalid(format!("input 'runbook-url' is not a URL ({e}): {u:?}")))?;
        }
        Ok(Self {
            status,
            run_id: run_id(raw)?,
            tag: raw.tag.clone(),
            artifact_url: raw.artifact_url.clone(),
            failure_reason: raw.failure_reason.clone(),
            issue_on,
            issue_labels,
            slack_webhook_url: secret_url("slack-webhook-url", raw.slack_webhook_url.as_ref())?,
            slack_token: raw.slack_token.clone(),
            slack_channel: raw.slack_channel.clone(),
            notify_webhook_url: secret_url("notify-webhook-url", raw.notify_webhook_url.as_ref())?,
            runbook_url: raw.runbook_url.clone(),
            github_token: raw.github_token.clone(),
            reports_dir: reports_dir(raw)?,
            entry_store: super::entry_store::EntryStoreInputs::from_raw(raw)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let n = NotifyInputs::from_raw(&RawInputs::default()).expect("ok");
        assert_eq!(n.status, StatusInput::Auto);
        assert_eq!(n.issue_on, IssueOn::Failure);
        assert_eq!(n.issue_labels, ["slsa-provenance", "automated"]);
        assert_eq!(n.reports_dir, PathBuf::from("docs/reports"));
    }

    #[test]
    fn webhook_url_in_clear_text_is_refused_without_echoing_it() {
        let raw = RawInputs {
            slack_webhook_url: Some(Secret::new(
                "http://hooks.example.com/services/T0/B0/SENTINEL",
            )),
            ..Default::default()
        };
        let e = NotifyInputs::from_raw(&raw).expect_err("clear text");
        assert_eq!(e.reason, FailureReason::InvalidInput);
        assert!(e.message.contains("'slack-webhook-url'"), "{}", e.message);
        assert!(
            !e.message.contains("SENTINEL") && !e.message.contains("hooks.example"),
            "{}",
            e.message
        );
        let raw = RawInputs {
            notify_webhook_url: Some(Secret::new("not a url SENTINEL")),
            ..Default::default()
        };
        let e = NotifyInputs::from_raw(&raw).expect_err("not a url");
        assert!(!e.message.contains("SENTINEL"), "{}", e.message);
    }

    #[test]
    fn bad_enums_and_half_slack_token_are_refused() {
        for raw in [
            RawInputs {
                status: Some("ok".into()),
                ..Default::default()
            },
            RawInputs {
                issue_on: Some("sometimes".into()),
                ..Default::default()
            },
            RawInputs {
                run_id: Some("12x".into()),
                ..Default::default()
            },
        ] {
            assert_eq!(
                NotifyInputs::from_raw(&raw).expect_err("bad").reason,
                FailureReason::InvalidInput
            );
        }
        let raw = RawInputs {
            slack_token: Some(Secret::new("xoxb-1")),
            ..Default::default()
        };
        assert_eq!(
            NotifyInputs::from_raw(&raw).expect_err("half").reason,
            FailureReason::MissingInput
        );
    }
}
