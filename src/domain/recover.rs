//! `mode: recover` decisions: whether to act at all, re-run or dispatch, what a refusal or a
//! dispatch answer means, and what the followed run's end means for the entry. Pure.
//!
//! - Guard: an entry marked `rerun_in_progress`, or a tag that already has a successful run,
//!   means another recovery is under way or nothing is left to recover: skip. A run whose
//!   provenance then failed validation is not a successful run. The guard is
//!   applied as a claim (`claim`): a conditional update the audit store re-evaluates on the
//!   entry it read inside its compare-and-swap, so two recovers cannot both act.
//! - GitHub re-runs a run's failed jobs only within a month of its creation and up to a limit of
//!   attempts (50), and not while it runs. Too old or at the limit -> dispatch the provenance
//!   workflow for the same tag instead; still running -> refuse and say so.
//! - A dispatch GitHub answers 422 for (a workflow file it does not know yet, seed 000 §1.2) is
//!   retried after the configured interval, up to `max-attempts`; 401, or 403 "Bad
//!   credentials", means the dispatch token is expired or revoked (seed 001 §2.4).
//!
//! What this module does not do: call GitHub, sleep, or read the clock (`now` is an argument).

use chrono::{DateTime, Duration, Utc};

use super::manifest::{ManifestEntry, RunStatus};

/// GitHub's re-run window.
pub const RERUN_WINDOW_DAYS: i64 = 30;
/// GitHub's limit of attempts of one run.
pub const MAX_RUN_ATTEMPTS: u32 = 50;
/// The flag set on an entry whose dispatch token GitHub rejected (seed 001 §2.4).
pub const FLAG_TOKEN_EXPIRED: &str = "dispatch-token-expired";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    Proceed,
    Skip(String),
}

/// Whether recover may act for `run_id` of `tag`. `entry` is the run's entry, `tag_entries`
/// every entry of the tag.
pub fn guard(entry: Option<&ManifestEntry>, tag_entries: &[ManifestEntry], tag: &str) -> Guard {
    if entry.and_then(|e| e.rerun_in_progress) == Some(true) {
        return Guard::Skip(format!(
            "run {} is already being recovered (rerun_in_progress)",
            entry.map(|e| e.run_id).unwrap_or_default()
        ));
    }
    if let Some(ok) = tag_entries.iter().find(|e| e.tag == tag && succeeded(e)) {
        return Guard::Skip(format!(
            "tag {tag} already has a successful run ({})",
            ok.run_id
        ));
    }
    Guard::Proceed
}

/// A run that nothing is left to recover for: it succeeded, and its provenance did not fail a
/// validation since (a release whose artifact no longer matches its provenance is the failure
/// `mode: validate` reports and recover is called for).
fn succeeded(e: &ManifestEntry) -> bool {
    e.status == RunStatus::Success && e.validation_status.as_deref() != Some("failed")
}

/// The claim, as a conditional entry update (`domain::entry_update::update_entry_if`): on the
/// entry and the trail as the store read them, run the guard; proceed -> mark the entry
/// `rerun_in_progress`, skip -> decline with the guard's reason. A store retrying a lost
/// compare-and-swap calls this again on what it re-read, so of two recovers that both read
/// "not in progress", the one whose write lands second sees the first one's mark and declines.
pub fn claim(entry: &mut ManifestEntry, trail: &[ManifestEntry]) -> Result<(), String> {
    let tag = entry.tag.clone();
    let of_tag: Vec<ManifestEntry> = trail.iter().filter(|e| e.tag == tag).cloned().collect();
    match guard(Some(entry), &of_tag, &tag) {
        Guard::Skip(why) => Err(why),
        Guard::Proceed => {
            entry.rerun_in_progress = Some(true);
            Ok(())
        }
    }
}

/// Release the claim (after acting, whatever happened).
pub fn release(entry: &mut ManifestEntry) {
    entry.rerun_in_progress = None;
}

/// What GitHub says about the failed run.
#[derive(Debug, Clone)]
pub struct RunFacts {
    /// `queued`, `in_progress`, `completed`, ...
    pub status: String,
    pub conclusion: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub run_attempt: u32,
}

/// Why a re-run is not possible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    OlderThanAMonth,
    AttemptLimit,
    StillRunning,
}

impl Refusal {
    pub fn explain(self) -> &'static str {
        match self {
            Self::OlderThanAMonth => "the run is older than a month, so GitHub cannot re-run it",
            Self::AttemptLimit => "the run has reached GitHub's re-run limit",
            Self::StillRunning => "the run is still running; wait for it to finish",
        }
    }

    /// Whether dispatching the workflow for the same tag replaces the re-run.
    pub fn dispatch_instead(self) -> bool {
        matches!(self, Self::OlderThanAMonth | Self::AttemptLimit)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Rerun,
    Refused(Refusal),
}

/// Decide before asking: what we know of the run already rules some re-runs out.
pub fn plan(run: &RunFacts, now: DateTime<Utc>) -> Plan {
    if run.status != "completed" {
        return Plan::Refused(Refusal::StillRunning);
    }
    if run
        .created_at
        .is_some_and(|c| now - c > Duration::days(RERUN_WINDOW_DAYS))
    {
        return Plan::Refused(Refusal::OlderThanAMonth);
    }
    if run.run_attempt >= MAX_RUN_ATTEMPTS {
        return Plan::Refused(Refusal::AttemptLimit);
    }
    Plan::Rerun
}

/// Read GitHub's refusal of `rerun-failed-jobs` (HTTP 403/409/422 with a message).
pub fn classify_refusal(status: u16, message: &str) -> Option<Refusal> {
    if !matches!(status, 403 | 409 | 422) {
        return None;
    }
    let m = message.to_ascii_lowercase();
    if m.contains("month") || m.contains("too old") || m.contains("30 days") {
        Some(Refusal::OlderThanAMonth)
    } else if m.contains("maximum") || m.contains("limit") || m.contains("attempts") {
        Some(Refusal::AttemptLimit)
    } else if m.contains("running") || m.contains("in progress") || m.contains("in_progress") {
        Some(Refusal::StillRunning)
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchStep {
    Done,
    /// 422: GitHub does not know the workflow (yet); wait the interval and send again.
    RetryLater,
    /// 401 or 403 "Bad credentials": the dispatch token is expired or revoked.
    TokenRejected,
    /// Anything else, or 422 on the last attempt.
    Fail,
}

/// The next step after a dispatch answer. `attempt` counts from 1.
pub fn dispatch_step(status: u16, message: &str, attempt: u32, max_attempts: u32) -> DispatchStep {
    match status {
        200..=299 => DispatchStep::Done,
        401 => DispatchStep::TokenRejected,
        403 if message.to_ascii_lowercase().contains("bad credentials") => {
            DispatchStep::TokenRejected
        }
        422 if attempt < max_attempts => DispatchStep::RetryLater,
        _ => DispatchStep::Fail,
    }
}

/// A run as the runs list shows it.
#[derive(Debug, Clone)]
pub struct ListedRun {
    pub id: u64,
    pub created_at: Option<DateTime<Utc>>,
}

/// The run a dispatch answered 204 for: the newest run of the workflow created at or after the
/// dispatch (less `skew` for clock differences) that is not the failed run.
pub fn find_dispatched(
    runs: &[ListedRun],
    dispatched_at: DateTime<Utc>,
    skew: Duration,
    not: Option<u64>,
) -> Option<u64> {
    runs.iter()
        .filter(|r| Some(r.id) != not)
        .filter(|r| r.created_at.is_some_and(|c| c >= dispatched_at - skew))
        .max_by_key(|r| (r.created_at, r.id))
        .map(|r| r.id)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    Succeeded,
    /// The recovered run failed again: the entry becomes `blocked`, a human is told.
    Blocked,
    StillRunning,
}

pub fn followed(status: &str, conclusion: Option<&str>) -> Followed {
    match (status, conclusion) {
        ("completed", Some("success")) => Followed::Succeeded,
        ("completed", _) => Followed::Blocked,
        _ => Followed::StillRunning,
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

    fn entry(tag: &str, run: u64, status: RunStatus) -> ManifestEntry {
        serde_json::from_value(serde_json::json!({
            "run_id": run, "tag": tag, "sha": "x", "artifact_url": null, "actor": "a",
            "timestamp": "t", "status": String::from(status), "governance_flag": "f"
        }))
        .expect("entry")
    }

    #[test]
    fn guard_skips_in_progress_and_already_succeeded_tags() {
        let mut e = entry("v1", 1, RunStatus::Failure);
        assert_eq!(guard(Some(&e), &[e.clone()], "v1"), Guard::Proceed);
        let ok = entry("v1", 2, RunStatus::Success);
        assert!(
            matches!(guard(Some(&e), &[e.clone(), ok], "v1"), Guard::Skip(r) if r.contains("successful run (2)"))
        );
        e.rerun_in_progress = Some(true);
        assert!(
            matches!(guard(Some(&e), &[], "v1"), Guard::Skip(r) if r.contains("rerun_in_progress"))
        );
        let other = entry("v2", 3, RunStatus::Success);
        assert_eq!(guard(None, &[other], "v1"), Guard::Proceed);
    }

    #[test]
    fn recover_after_failed_validation_is_not_skipped_as_already_succeeded() {
        // Regression (issue 11's lifecycle): validate failed the release run's provenance,
        // recover was called for that run, and skipped it: "tag already has a successful run".
        let mut e = entry("v1", 1, RunStatus::Success);
        e.validation_status = Some("failed".into());
        assert_eq!(guard(Some(&e), &[e.clone()], "v1"), Guard::Proceed);
        // A validated (or not yet validated) success of the tag still means nothing to do.
        let mut passed = entry("v1", 2, RunStatus::Success);
        passed.validation_status = Some("passed".into());
        assert!(
            matches!(guard(Some(&e), &[e.clone(), passed], "v1"), Guard::Skip(r) if r.contains("successful run (2)"))
        );
        let unvalidated = entry("v1", 3, RunStatus::Success);
        assert!(matches!(
            guard(Some(&e), &[e.clone(), unvalidated], "v1"),
            Guard::Skip(_)
        ));
    }

    #[test]
    fn a_claim_marks_the_entry_and_a_second_claim_on_the_marked_entry_declines() {
        let mut e = entry("v1", 1, RunStatus::Failure);
        let trail = [e.clone(), entry("v2", 9, RunStatus::Success)];
        assert_eq!(claim(&mut e, &trail), Ok(()));
        assert_eq!(e.rerun_in_progress, Some(true));
        // The second recover re-reads the entry the first one marked.
        let marked = [e.clone()];
        let mut again = e.clone();
        let why = claim(&mut again, &marked).expect_err("already claimed");
        assert!(why.contains("rerun_in_progress"), "{why}");
        release(&mut e);
        assert_eq!(e.rerun_in_progress, None);
        // A successful run of the same tag anywhere in the trail declines too.
        let mut failed = entry("v1", 1, RunStatus::Failure);
        let ok = [failed.clone(), entry("v1", 2, RunStatus::Success)];
        let why = claim(&mut failed, &ok).expect_err("tag succeeded");
        assert!(why.contains("successful run (2)"), "{why}");
        assert_eq!(failed.rerun_in_progress, None, "declined: unchanged");
    }

    #[test]
    fn plan_rules_out_old_running_and_exhausted_runs() {
        let run = |status: &str, days: i64, attempt: u32| RunFacts {
            status: status.into(),
            conclusion: Some("failure".into()),
            created_at: Some(now() - Duration::days(days)),
            run_attempt: attempt,
        };
        assert_eq!(plan(&run("completed", 2, 1), now()), Plan::Rerun);
        assert_eq!(
            plan(&run("completed", 31, 1), now()),
            Plan::Refused(Refusal::OlderThanAMonth)
        );
        assert_eq!(
            plan(&run("completed", 2, 50), now()),
            Plan::Refused(Refusal::AttemptLimit)
        );
        assert_eq!(
            plan(&run("in_progress", 0, 1), now()),
            Plan::Refused(Refusal::StillRunning)
        );
        assert!(Refusal::OlderThanAMonth.dispatch_instead());
        assert!(!Refusal::StillRunning.dispatch_instead());
    }

    #[test]
    fn refusals_are_read_from_github_messages() {
        assert_eq!(
            classify_refusal(
                403,
                "Unable to retry this workflow run because it was created over a month ago"
            ),
            Some(Refusal::OlderThanAMonth)
        );
        assert_eq!(
            classify_refusal(
                403,
                "This workflow run has reached the maximum number of attempts"
            ),
            Some(Refusal::AttemptLimit)
        );
        assert_eq!(
            classify_refusal(403, "This workflow is already running"),
            Some(Refusal::StillRunning)
        );
        assert_eq!(
            classify_refusal(403, "Resource not accessible by integration"),
            None
        );
        assert_eq!(classify_refusal(500, "month"), None);
    }

    #[test]
    fn dispatch_retries_422_then_gives_up_and_spots_rejected_tokens() {
        assert_eq!(dispatch_step(204, "", 1, 3), DispatchStep::Done);
        assert_eq!(
            dispatch_step(
                422,
                "Workflow does not have 'workflow_dispatch' trigger",
                1,
                3
            ),
            DispatchStep::RetryLater
        );
        assert_eq!(dispatch_step(422, "", 3, 3), DispatchStep::Fail);
        assert_eq!(
            dispatch_step(401, "Bad credentials", 1, 3),
            DispatchStep::TokenRejected
        );
        assert_eq!(
            dispatch_step(403, "Bad credentials", 1, 3),
            DispatchStep::TokenRejected
        );
        assert_eq!(
            dispatch_step(
                403,
                "Resource not accessible by personal access token",
                1,
                3
            ),
            DispatchStep::Fail
        );
    }

    #[test]
    fn dispatched_run_is_the_newest_after_the_dispatch() {
        let at = |s: i64| Some(now() + Duration::seconds(s));
        let runs = [
            ListedRun {
                id: 1,
                created_at: at(-3600),
            },
            ListedRun {
                id: 7,
                created_at: at(2),
            },
            ListedRun {
                id: 8,
                created_at: at(5),
            },
        ];
        assert_eq!(
            find_dispatched(&runs, now(), Duration::seconds(10), None),
            Some(8)
        );
        assert_eq!(
            find_dispatched(&runs, now(), Duration::seconds(10), Some(8)),
            Some(7)
        );
        assert_eq!(
            find_dispatched(&runs[..1], now(), Duration::seconds(10), None),
            None
        );
    }

    #[test]
    fn a_recovered_run_that_fails_again_is_blocked() {
        assert_eq!(followed("completed", Some("success")), Followed::Succeeded);
        assert_eq!(followed("completed", Some("failure")), Followed::Blocked);
        assert_eq!(followed("in_progress", None), Followed::StillRunning);
    }
}
