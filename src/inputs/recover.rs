//! Typed inputs of `mode: recover`.

use std::path::PathBuf;
use std::time::Duration;

use super::notify::{reports_dir, run_id};
use super::{parse_bool, RawInputs};
use crate::error::{Failure, FailureReason, Result};
use crate::secret::Secret;

pub const DEFAULT_WORKFLOW: &str = "slsa-provenance.yml";

#[derive(Debug)]
pub struct RecoverInputs {
    /// The failed run; `None`: dispatch the provenance workflow for `tag`.
    pub run_id: Option<u64>,
    pub tag: Option<String>,
    pub reason: Option<String>,
    pub workflow: String,
    /// The ref to dispatch on; `None`: the repository's default branch (`GITHUB_REF_NAME`).
    pub git_ref: Option<String>,
    /// Dispatch sends (the seed's 3).
    pub max_attempts: u32,
    /// Between dispatch sends answered 422 (the seed's 5 minutes).
    pub retry_interval: Duration,
    pub wait: bool,
    pub wait_timeout: Duration,
    pub dispatch_token: Option<Secret>,
    pub github_token: Option<Secret>,
    pub reports_dir: PathBuf,
    pub issue_labels: Option<String>,
    pub runbook_url: Option<String>,
    /// Where the run's entry is updated (`audit-store`, `audit-branch`).
    pub entry_store: super::entry_store::EntryStoreInputs,
}

fn invalid(msg: String) -> Failure {
    Failure::new(FailureReason::InvalidInput, msg)
}

/// `300`, `300s`, `5m`, `1h`, `250ms`.
pub fn parse_duration(name: &str, v: Option<&str>, default: Duration) -> Result<Duration> {
    let Some(v) = v else { return Ok(default) };
    let (num, unit) = match v.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&v[..i], v[i..].trim()),
        None => (v, "s"),
    };
    let n: u64 = num.parse().map_err(|_| {
        invalid(format!(
            "input '{name}' must be a duration like 300, 300s, 5m or 250ms, got {v:?}"
        ))
    })?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => {
            return Err(invalid(format!(
                "input '{name}' must be a duration like 300, 300s, 5m or 250ms, got {v:?}"
            )))
        }
    };
    Ok(d)
}

impl RecoverInputs {
    /// Every input [`RecoverInputs::from_raw`] reads.
    pub const READS: &'static [&'static str] = &[
        "run-id",
        "tag",
        "reason",
        "workflow",
        "ref",
        "max-attempts",
        "retry-interval",
        "wait",
        "wait-timeout",
        "dispatch-token",
        "github-token",
        "reports-dir",
        "issue-labels",
        "runbook-url",
        "audit-store",
        "audit-branch",
        "supabase-url",
        "supabase-key",
        "supabase-table",
    ];

    pub fn from_raw(raw: &RawInputs) -> Result<Self> {
        let run_id = run_id(raw)?;
        if run_id.is_none() && raw.tag.is_none() {
            return Err(Failure::new(
                FailureReason::MissingInput,
                "mode 'recover' needs 'run-id' (re-run a failed run) or 'tag' (dispatch the \
                 provenance workflow for it)",
            ));
        }
        let max_attempts = match raw.max_attempts.as_deref() {
            None => 3,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=20).contains(n))
                .ok_or_else(|| {
                    invalid(format!("input 'max-attempts' must be 1 to 20, got {v:?}"))
                })?,
        };
        let workflow = raw.workflow.clone().unwrap_or(DEFAULT_WORKFLOW.into());
        if workflow.contains('/') || workflow.contains("..") {
            return Err(invalid(format!(
                "input 'workflow' is a workflow file name (like {DEFAULT_WORKFLOW}), got {workflow:?}"
            )));
        }
        Ok(Self {
            run_id,
            tag: raw.tag.clone(),
            reason: raw.reason.clone(),
            workflow,
            git_ref: raw.git_ref.clone(),
            max_attempts,
            retry_interval: parse_duration(
                "retry-interval",
                raw.retry_interval.as_deref(),
                Duration::from_secs(300),
            )?,
            wait: parse_bool("wait", raw.wait.as_deref(), false)?,
            wait_timeout: parse_duration(
                "wait-timeout",
                raw.wait_timeout.as_deref(),
                Duration::from_secs(3600),
            )?,
            dispatch_token: raw.dispatch_token.clone(),
            github_token: raw.github_token.clone(),
            reports_dir: reports_dir(raw)?,
            issue_labels: raw.issue_labels.clone(),
            runbook_url: raw.runbook_url.clone(),
            entry_store: super::entry_store::EntryStoreInputs::from_raw(raw)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_defaults() {
        let d = |v: &str| parse_duration("x", Some(v), Duration::ZERO);
        assert_eq!(d("300").expect("s"), Duration::from_secs(300));
        assert_eq!(d("5m").expect("m"), Duration::from_secs(300));
        assert_eq!(d("250ms").expect("ms"), Duration::from_millis(250));
        assert_eq!(
            d("soon").expect_err("bad").reason,
            FailureReason::InvalidInput
        );
        assert_eq!(
            d("5d").expect_err("bad").reason,
            FailureReason::InvalidInput
        );
        let raw = RawInputs {
            tag: Some("v1".into()),
            ..Default::default()
        };
        let r = RecoverInputs::from_raw(&raw).expect("ok");
        assert_eq!(
            (r.max_attempts, r.retry_interval),
            (3, Duration::from_secs(300))
        );
        assert_eq!(r.workflow, DEFAULT_WORKFLOW);
    }

    #[test]
    fn needs_run_or_tag_and_a_sane_workflow() {
        let e = RecoverInputs::from_raw(&RawInputs::default()).expect_err("nothing");
        assert_eq!(e.reason, FailureReason::MissingInput);
        let raw = RawInputs {
            tag: Some("v1".into()),
            workflow: Some("../x.yml".into()),
            ..Default::default()
        };
        assert_eq!(
            RecoverInputs::from_raw(&raw).expect_err("path").reason,
            FailureReason::InvalidInput
        );
    }
}
