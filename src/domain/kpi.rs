//! The KPIs of the audit trail (design seed 000 "成功指標", phases 3.1/3.2; seed 001 §2.5;
//! seed 002 §1-§4 metrics), computed from the per-day manifests of one or more repositories.
//!
//! Definitions (where the seeds are silent, the choice is written here and in the README):
//! - A *run* is a manifest entry. `success` counts as a success; `failure` and `blocked` (a
//!   re-run that failed again) as failures; `rollback` entries and statuses this version does
//!   not know are counted in `runs` but are neither.
//! - Success rate = successes / (successes + failures). Mean and p95 (nearest rank) run time
//!   over the entries that record `duration_ms`.
//! - Artifact generation rate = successes with an `artifact_url` / successes. Audit-save rate =
//!   successes that recorded their provenance file (`provenance_path` or `provenance_sha256`) /
//!   successes. Notification delivery rate = failures that reached people (`notify_slack:
//!   true` or an `issue_number`) / failures.
//! - Missing-artifact rate = entries without `artifact_url` / entries. Validation pass rate =
//!   `validation_status: passed` / entries with a validation status. A re-run is an entry with
//!   `run_attempt > 1`. Time to resolution: from the first failure of a tag to its next success
//!   (per repository), unresolved streaks are counted. Rollback lead time: from the first
//!   failure (else the first entry) of the rolled-back tag to the `rollback` entry. Slack
//!   success ratio = `notify_slack: true` / entries with `notify_slack` set.
//! - Weeks start on Monday (UTC); a run belongs to the week of its `timestamp` (the day
//!   directory's date when the timestamp does not parse).
//!
//! Pure: the clock comes in as `now`, files come in as strings.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::manifest::{natural_cmp, Manifest, ManifestEntry, RunStatus};

/// One day's `manifest.json`, as read.
#[derive(Debug, Clone)]
pub struct DayManifest {
    /// `YYYY-MM-DD`, the directory the file sits in.
    pub date: String,
    /// The file's text (the chain check hashes these bytes); empty for rows from Supabase.
    pub raw: String,
    /// The parse result: a file that does not parse is reported by [`check_integrity`].
    pub parsed: Result<Manifest, String>,
}

impl DayManifest {
    pub fn parse(date: impl Into<String>, raw: String) -> Self {
        let parsed = Manifest::parse(&raw);
        Self {
            date: date.into(),
            raw,
            parsed,
        }
    }

    /// From the file's bytes: text that is not UTF-8 is a day that does not parse.
    pub fn from_bytes(date: impl Into<String>, bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => Self::parse(date, text),
            Err(_) => Self {
                date: date.into(),
                raw: String::new(),
                parsed: Err("the file is not UTF-8 text".into()),
            },
        }
    }

    /// A day assembled from rows of another store (no file bytes).
    pub fn from_manifest(date: impl Into<String>, manifest: Manifest) -> Self {
        Self {
            date: date.into(),
            raw: String::new(),
            parsed: Ok(manifest),
        }
    }
}

/// Why a history cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tampered {
    /// The day (directory) at fault.
    pub day: String,
    pub detail: String,
}

impl fmt::Display for Tampered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.day, self.detail)
    }
}

/// The integrity check of a repository's history, as ONE call: every day parses and follows
/// the schema and has entries, days are valid dates in strictly increasing order, and within a
/// day the entries
/// are unique by `tag` + `run_id` and in the merge policy's order (what `manifest::merge` always
/// writes). Then, for days read from files, the audit chain (`audit_chain::verify_days`: schema,
/// entry hashes, day links), the same check `verify-manifest` runs.
pub fn check_integrity(days: &[DayManifest]) -> Result<(), Tampered> {
    check_days(days)?;
    // Rows from Supabase carry no file text, so no chain to check.
    if days.iter().any(|d| d.raw.is_empty()) {
        return Ok(());
    }
    let files: Vec<super::audit_chain::DayFile> = days
        .iter()
        .map(|d| super::audit_chain::DayFile {
            date: d.date.clone(),
            label: d.date.clone(),
            text: d.raw.clone(),
        })
        .collect();
    super::audit_chain::verify_days(&files)
        .map(|_| ())
        .map_err(|t| Tampered {
            day: t.file,
            detail: match t.entry {
                Some(e) => format!("entry {e}: {}", t.problem),
                None => t.problem,
            },
        })
}

/// The checks the chain does not make: valid increasing dates, a parse, no empty day, unique
/// and ordered entries.
fn check_days(days: &[DayManifest]) -> Result<(), Tampered> {
    let mut previous: Option<NaiveDate> = None;
    for day in days {
        let bad = |detail: String| Tampered {
            day: day.date.clone(),
            detail,
        };
        let date = NaiveDate::parse_from_str(&day.date, "%Y-%m-%d")
            .map_err(|_| bad("the directory name is not a YYYY-MM-DD date".into()))?;
        if let Some(p) = previous {
            if date <= p {
                return Err(bad(format!(
                    "day comes after {p}: duplicated or out of order"
                )));
            }
        }
        previous = Some(date);
        let manifest = day
            .parsed
            .as_ref()
            .map_err(|e| bad(format!("manifest.json does not parse: {e}")))?;
        if manifest.schema_version == 0 {
            return Err(bad("schema_version 0 is not a manifest version".into()));
        }
        // A run creates the day's file with its entry; an empty day was emptied afterwards.
        if manifest.entries.is_empty() {
            return Err(bad("manifest.json has no entries (emptied?)".into()));
        }
        for pair in manifest.entries.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            match natural_cmp(&a.tag, &b.tag).then(a.run_id.cmp(&b.run_id)) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => {
                    return Err(bad(format!(
                        "entry tag {:?} run {} appears twice",
                        a.tag, a.run_id
                    )))
                }
                std::cmp::Ordering::Greater => {
                    return Err(bad(format!(
                        "entries out of order: tag {:?} run {} before tag {:?} run {}",
                        a.tag, a.run_id, b.tag, b.run_id
                    )))
                }
            }
        }
    }
    Ok(())
}

/// KPI targets. Defaults are the seed's (000 "成功指標"); a policy file may override them.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    pub success_rate: f64,
    pub mean_duration_ms: u64,
    pub p95_duration_ms: u64,
    pub artifact_rate: f64,
    pub audit_save_rate: f64,
    pub notification_rate: f64,
    /// The badge is yellow from here up to `success_rate`, red below.
    pub badge_warn_rate: f64,
}

impl Default for Targets {
    fn default() -> Self {
        Self {
            success_rate: 1.0,
            mean_duration_ms: 120_000,
            p95_duration_ms: 120_000,
            artifact_rate: 1.0,
            audit_save_rate: 1.0,
            notification_rate: 1.0,
            badge_warn_rate: 0.9,
        }
    }
}

/// A count over a count; no value when the denominator is zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ratio {
    pub num: u64,
    pub den: u64,
}

impl Ratio {
    pub fn value(self) -> Option<f64> {
        (self.den > 0).then(|| self.num as f64 / self.den as f64)
    }

    fn add(&mut self, hit: bool) {
        self.den += 1;
        self.num += u64::from(hit);
    }
}

/// A set of durations: mean and max.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub count: u64,
    pub mean_ms: Option<u64>,
    pub max_ms: Option<u64>,
}

impl Span {
    fn of(ms: &[u64]) -> Self {
        let count = ms.len() as u64;
        Self {
            count,
            mean_ms: mean(ms),
            max_ms: ms.iter().copied().max(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kpis {
    pub runs: u64,
    pub successes: u64,
    /// `failure` + `blocked`.
    pub failures: u64,
    pub success_rate: Ratio,
    /// Entries that record `duration_ms`.
    pub timed_runs: u64,
    pub mean_duration_ms: Option<u64>,
    pub p95_duration_ms: Option<u64>,
    pub artifact_rate: Ratio,
    pub audit_save_rate: Ratio,
    pub notification_rate: Ratio,
    /// Day manifests read.
    pub days: u64,
    pub entries_per_day_max: u64,
    pub missing_artifact_rate: Ratio,
    pub validation_pass_rate: Ratio,
    pub reruns: u64,
    pub rerun_success_rate: Ratio,
    pub resolution: Span,
    pub unresolved: u64,
    pub rollbacks: u64,
    pub rollback_lead: Span,
    pub slack_success: Ratio,
    pub issues_opened: u64,
}

impl Kpis {
    pub fn entries_per_day(&self) -> Option<f64> {
        (self.days > 0).then(|| self.runs as f64 / self.days as f64)
    }
}

/// Pass/fail of one KPI against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    /// Nothing to measure (no runs, no failures to notify about...).
    NoData,
}

fn at_least(v: Option<f64>, target: f64) -> Verdict {
    match v {
        None => Verdict::NoData,
        // A rate is a ratio of counts: compare with a tolerance for 0.1 + 0.2 style noise.
        Some(v) if v + 1e-9 >= target => Verdict::Pass,
        Some(_) => Verdict::Fail,
    }
}

fn below(v: Option<u64>, limit: u64) -> Verdict {
    match v {
        None => Verdict::NoData,
        Some(v) if v < limit => Verdict::Pass,
        Some(_) => Verdict::Fail,
    }
}

/// The seed's KPI table, each with its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdicts {
    pub success_rate: Verdict,
    pub mean_duration: Verdict,
    pub p95_duration: Verdict,
    pub artifact_rate: Verdict,
    pub audit_save_rate: Verdict,
    pub notification_rate: Verdict,
}

pub fn verdicts(k: &Kpis, t: &Targets) -> Verdicts {
    Verdicts {
        success_rate: at_least(k.success_rate.value(), t.success_rate),
        mean_duration: below(k.mean_duration_ms, t.mean_duration_ms),
        p95_duration: below(k.p95_duration_ms, t.p95_duration_ms),
        artifact_rate: at_least(k.artifact_rate.value(), t.artifact_rate),
        audit_save_rate: at_least(k.audit_save_rate.value(), t.audit_save_rate),
        notification_rate: at_least(k.notification_rate.value(), t.notification_rate),
    }
}

/// One entry with where it came from and its parsed time.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    pub repo: &'a str,
    pub day: &'a str,
    pub entry: &'a ManifestEntry,
    pub at: Option<DateTime<Utc>>,
}

impl Run<'_> {
    fn is_failure(&self) -> bool {
        matches!(self.entry.status, RunStatus::Failure | RunStatus::Blocked)
    }

    fn is_success(&self) -> bool {
        self.entry.status == RunStatus::Success
    }

    /// The run's calendar day: its timestamp's, else the directory's.
    fn date(&self) -> Option<NaiveDate> {
        self.at
            .map(|t| t.date_naive())
            .or_else(|| NaiveDate::parse_from_str(self.day, "%Y-%m-%d").ok())
    }
}

/// Flatten parsed days into runs (days that did not parse contribute nothing: check first).
pub fn runs_of<'a>(repo: &'a str, days: &'a [DayManifest]) -> Vec<Run<'a>> {
    days.iter()
        .filter_map(|d| d.parsed.as_ref().ok().map(|m| (d.date.as_str(), m)))
        .flat_map(|(day, m)| {
            m.entries.iter().map(move |entry| Run {
                repo,
                day,
                entry,
                at: DateTime::parse_from_rfc3339(&entry.timestamp)
                    .ok()
                    .map(|t| t.with_timezone(&Utc)),
            })
        })
        .collect()
}

/// The mean, summed wide so no manifest value can overflow it.
fn mean(values: &[u64]) -> Option<u64> {
    let sum: u128 = values.iter().map(|v| u128::from(*v)).sum();
    (!values.is_empty()).then(|| (sum / values.len() as u128) as u64)
}

/// Nearest-rank percentile of unsorted values.
pub fn percentile(values: &mut [u64], p: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    Some(values[rank.clamp(1, values.len()) - 1])
}

fn millis(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<u64> {
    u64::try_from((to - from).num_milliseconds()).ok()
}

/// Aggregate runs (of any number of repositories) over `days` day manifests.
pub fn aggregate(runs: &[Run<'_>], days: u64, day_sizes: impl Iterator<Item = u64>) -> Kpis {
    let mut k = Kpis {
        runs: runs.len() as u64,
        days,
        entries_per_day_max: day_sizes.max().unwrap_or(0),
        ..Kpis::default()
    };
    let mut durations = Vec::new();
    let mut issues = BTreeSet::new();
    for r in runs {
        let e = r.entry;
        if r.is_success() {
            k.successes += 1;
            k.success_rate.add(true);
            k.artifact_rate.add(e.artifact_url.is_some());
            k.audit_save_rate
                .add(e.provenance_path.is_some() || e.provenance_sha256.is_some());
        } else if r.is_failure() {
            k.failures += 1;
            k.success_rate.add(false);
            k.notification_rate
                .add(e.notify_slack == Some(true) || e.issue_number.is_some());
        } else if e.status == RunStatus::Rollback {
            k.rollbacks += 1;
        }
        if let Some(d) = e.duration_ms {
            durations.push(d);
        }
        k.missing_artifact_rate.add(e.artifact_url.is_none());
        if let Some(v) = &e.validation_status {
            k.validation_pass_rate.add(v == "passed");
        }
        if e.run_attempt.is_some_and(|a| a > 1) {
            k.reruns += 1;
            if r.is_success() || r.is_failure() {
                k.rerun_success_rate.add(r.is_success());
            }
        }
        if let Some(s) = e.notify_slack {
            k.slack_success.add(s);
        }
        if let Some(n) = e.issue_number {
            issues.insert((r.repo, n));
        }
    }
    k.issues_opened = issues.len() as u64;
    k.timed_runs = durations.len() as u64;
    k.mean_duration_ms = mean(&durations);
    k.p95_duration_ms = percentile(&mut durations, 95.0);

    let timelines = timelines(runs);
    let (resolutions, unresolved) = resolutions(&timelines);
    k.resolution = Span::of(&resolutions);
    k.unresolved = unresolved;
    k.rollback_lead = Span::of(&rollback_leads(runs, &timelines));
    k
}

type Timelines<'r, 'a> = HashMap<(&'a str, &'a str), Vec<&'r Run<'a>>>;

/// Timed runs per (repository, tag), oldest first.
fn timelines<'r, 'a>(runs: &'r [Run<'a>]) -> Timelines<'r, 'a> {
    let mut by_tag: Timelines<'r, 'a> = HashMap::new();
    for r in runs.iter().filter(|r| r.at.is_some()) {
        by_tag.entry((r.repo, &r.entry.tag)).or_default().push(r);
    }
    for v in by_tag.values_mut() {
        v.sort_by_key(|r| (r.at, r.entry.run_id));
    }
    by_tag
}

/// Failure -> next success of the same tag, in ms; and the streaks still open.
fn resolutions(timelines: &Timelines<'_, '_>) -> (Vec<u64>, u64) {
    let mut done = Vec::new();
    let mut open = 0;
    for runs in timelines.values() {
        let mut first_failure: Option<DateTime<Utc>> = None;
        for r in runs {
            match (r.is_failure(), r.is_success(), first_failure, r.at) {
                (true, _, None, at) => first_failure = at,
                (_, true, Some(from), Some(to)) => {
                    done.extend(millis(from, to));
                    first_failure = None;
                }
                _ => {}
            }
        }
        open += u64::from(first_failure.is_some());
    }
    (done, open)
}

fn rollback_leads(runs: &[Run<'_>], timelines: &Timelines<'_, '_>) -> Vec<u64> {
    let mut out = Vec::new();
    for rb in runs
        .iter()
        .filter(|r| r.entry.status == RunStatus::Rollback)
    {
        let (Some(of), Some(at)) = (rb.entry.rollback_of.as_deref(), rb.at) else {
            continue;
        };
        let Some(history) = timelines.get(&(rb.repo, of)) else {
            continue;
        };
        let before: Vec<_> = history.iter().filter(|r| r.at <= Some(at)).collect();
        let start = before
            .iter()
            .find(|r| r.is_failure())
            .or(before.first())
            .and_then(|r| r.at);
        if let Some(from) = start {
            out.extend(millis(from, at));
        }
    }
    out
}

/// One week of the weekly table.
#[derive(Debug, Clone, PartialEq)]
pub struct Week {
    /// The Monday.
    pub start: NaiveDate,
    pub runs: u64,
    pub failures: u64,
    pub success_rate: Ratio,
    pub p95_duration_ms: Option<u64>,
}

/// The last `count` weeks up to and including the week of `today`, oldest first.
pub fn weekly(runs: &[Run<'_>], today: NaiveDate, count: usize) -> Vec<Week> {
    let this_monday =
        today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let mut weeks: Vec<(Week, Vec<u64>)> = (0..count)
        .rev()
        .map(|i| {
            let start = this_monday - chrono::Duration::weeks(i as i64);
            (
                Week {
                    start,
                    runs: 0,
                    failures: 0,
                    success_rate: Ratio::default(),
                    p95_duration_ms: None,
                },
                Vec::new(),
            )
        })
        .collect();
    let Some(first) = weeks.first().map(|(w, _)| w.start) else {
        return Vec::new();
    };
    for r in runs {
        let Some(date) = r.date() else { continue };
        let offset = (date - first).num_days();
        if offset < 0 {
            continue;
        }
        let Some((w, durations)) = weeks.get_mut((offset / 7) as usize) else {
            continue;
        };
        w.runs += 1;
        if r.is_success() || r.is_failure() {
            w.success_rate.add(r.is_success());
        }
        w.failures += u64::from(r.is_failure());
        durations.extend(r.entry.duration_ms);
    }
    weeks
        .into_iter()
        .map(|(mut w, mut d)| {
            w.p95_duration_ms = percentile(&mut d, 95.0);
            w
        })
        .collect()
}

/// A recent failure, for the dashboard's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureRow {
    pub repo: String,
    pub tag: String,
    pub run_id: u64,
    pub timestamp: String,
    pub reason: Option<String>,
    pub issue_number: Option<u64>,
}

/// The `limit` most recent failures, newest first.
pub fn latest_failures(runs: &[Run<'_>], limit: usize) -> Vec<FailureRow> {
    let mut failed: Vec<&Run<'_>> = runs.iter().filter(|r| r.is_failure()).collect();
    failed.sort_by_key(|r| (Reverse(r.at), Reverse(r.day), Reverse(r.entry.run_id)));
    failed
        .into_iter()
        .take(limit)
        .map(|r| FailureRow {
            repo: r.repo.to_string(),
            tag: r.entry.tag.clone(),
            run_id: r.entry.run_id,
            timestamp: r.entry.timestamp.clone(),
            reason: r.entry.failure_reason.clone(),
            issue_number: r.entry.issue_number,
        })
        .collect()
}

/// One repository as the report received it.
#[derive(Debug, Clone)]
pub struct RepoHistory {
    /// `owner/repo`.
    pub repo: String,
    /// The days, or why they could not be read (no access, no audit branch...).
    pub days: Result<Vec<DayManifest>, String>,
}

/// A repository's line in the organisation table.
#[derive(Debug, Clone, PartialEq)]
pub enum RepoState {
    Read(Box<Kpis>),
    Unreadable(String),
    Tampered(Tampered),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RepoRow {
    pub repo: String,
    pub state: RepoState,
    pub last_run: Option<String>,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub generated_at: DateTime<Utc>,
    pub totals: Kpis,
    pub verdicts: Verdicts,
    pub targets: Targets,
    pub weekly: Vec<Week>,
    pub latest_failures: Vec<FailureRow>,
    /// One row per repository (the organisation table; one row for a single repository).
    pub repos: Vec<RepoRow>,
}

impl Report {
    pub fn tampered(&self) -> Vec<(&str, &Tampered)> {
        self.repos
            .iter()
            .filter_map(|r| match &r.state {
                RepoState::Tampered(t) => Some((r.repo.as_str(), t)),
                _ => None,
            })
            .collect()
    }
}

pub const WEEKS: usize = 12;
pub const LATEST_FAILURES: usize = 10;

/// The whole report. Each repository's history is checked with [`check_integrity`] first; a
/// tampered or unreadable repository is listed as such and left out of the totals.
pub fn build(histories: &[RepoHistory], now: DateTime<Utc>, targets: &Targets) -> Report {
    let mut all_runs = Vec::new();
    let mut repos = Vec::new();
    let mut days = 0;
    let mut sizes = Vec::new();
    for h in histories {
        let state_days = match &h.days {
            Err(why) => Err(RepoState::Unreadable(why.clone())),
            Ok(d) => check_integrity(d).map(|()| d).map_err(RepoState::Tampered),
        };
        let (state, last_run) = match state_days {
            Err(state) => (state, None),
            Ok(d) => {
                let runs = runs_of(&h.repo, d);
                let day_sizes: Vec<u64> = d
                    .iter()
                    .filter_map(|x| x.parsed.as_ref().ok())
                    .map(|m| m.entries.len() as u64)
                    .collect();
                let k = aggregate(&runs, d.len() as u64, day_sizes.iter().copied());
                let last = runs
                    .iter()
                    .max_by_key(|r| (r.at, r.day))
                    .map(|r| r.entry.timestamp.clone());
                days += d.len() as u64;
                sizes.extend(day_sizes);
                all_runs.extend(runs);
                (RepoState::Read(Box::new(k)), last)
            }
        };
        repos.push(RepoRow {
            repo: h.repo.clone(),
            state,
            last_run,
        });
    }
    repos.sort_by(|a, b| a.repo.cmp(&b.repo));
    let totals = aggregate(&all_runs, days, sizes.into_iter());
    Report {
        generated_at: now,
        verdicts: verdicts(&totals, targets),
        targets: targets.clone(),
        weekly: weekly(&all_runs, now.date_naive(), WEEKS),
        latest_failures: latest_failures(&all_runs, LATEST_FAILURES),
        totals,
        repos,
    }
}

/// Group rows of another store (Supabase) into day manifests: by the `timestamp`'s UTC date,
/// entries in the merge policy's order, per repository.
pub fn days_from_rows(rows: Vec<(String, ManifestEntry)>) -> BTreeMap<String, Vec<DayManifest>> {
    let mut by_repo: BTreeMap<String, BTreeMap<String, Vec<ManifestEntry>>> = BTreeMap::new();
    for (repo, entry) in rows {
        let day = DateTime::parse_from_rfc3339(&entry.timestamp)
            .map(|t| t.with_timezone(&Utc).format("%Y-%m-%d").to_string())
            .unwrap_or_else(|_| entry.timestamp.chars().take(10).collect());
        by_repo
            .entry(repo)
            .or_default()
            .entry(day)
            .or_default()
            .push(entry);
    }
    by_repo
        .into_iter()
        .map(|(repo, days)| {
            let days = days
                .into_iter()
                .map(|(date, mut entries)| {
                    entries
                        .sort_by(|a, b| natural_cmp(&a.tag, &b.tag).then(a.run_id.cmp(&b.run_id)));
                    entries.dedup_by(|a, b| a.tag == b.tag && a.run_id == b.run_id);
                    DayManifest::from_manifest(
                        date,
                        Manifest {
                            schema_version: super::manifest::MANIFEST_SCHEMA_VERSION,
                            previous_day: None,
                            entries,
                        },
                    )
                })
                .collect();
            (repo, days)
        })
        .collect()
}

/// The day of a tree path that is a day manifest: `<reports_dir>/<day>/manifest.json`, exactly
/// one directory below the reports directory (the same files a workspace report reads).
pub fn manifest_day<'p>(path: &'p str, reports_dir: &str) -> Option<&'p str> {
    let dir = reports_dir.trim_matches('/');
    let rest = if dir.is_empty() || dir == "." {
        path
    } else {
        path.strip_prefix(dir)?.strip_prefix('/')?
    };
    let day = rest.strip_suffix("/manifest.json")?;
    (!day.is_empty() && !day.contains('/')).then_some(day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_day_manifests_one_level_down_are_picked() {
        assert_eq!(
            manifest_day("docs/reports/2026-11-16/manifest.json", "docs/reports/"),
            Some("2026-11-16")
        );
        assert_eq!(
            manifest_day("docs/reports/a/b/manifest.json", "docs/reports"),
            None
        );
        assert_eq!(
            manifest_day("docs/reports/manifest.json", "docs/reports"),
            None
        );
        assert_eq!(
            manifest_day("docs/reportsX/d/manifest.json", "docs/reports"),
            None
        );
        assert_eq!(manifest_day("d/manifest.json", "."), Some("d"));
    }

    fn entry(v: serde_json::Value) -> ManifestEntry {
        let mut base = json!({
            "run_id": 1, "tag": "v1", "sha": "s", "artifact_url": "https://a", "actor": "a",
            "timestamp": "2026-11-16T10:00:00Z", "status": "success",
            "governance_flag": "provenance-ready", "provenance_sha256": "ab", "duration_ms": 1000
        });
        for (k, val) in v.as_object().expect("object") {
            base[k] = val.clone();
        }
        serde_json::from_value(base).expect("entry")
    }

    fn day(date: &str, entries: Vec<ManifestEntry>) -> DayManifest {
        let m = Manifest {
            schema_version: 1,
            previous_day: None,
            entries,
        };
        DayManifest::parse(date, m.render())
    }

    fn report(days: Vec<DayManifest>, now: &str) -> Report {
        build(
            &[RepoHistory {
                repo: "octo/app".into(),
                days: Ok(days),
            }],
            DateTime::parse_from_rfc3339(now)
                .expect("now")
                .with_timezone(&Utc),
            &Targets::default(),
        )
    }

    #[test]
    fn empty_history_has_no_rates_and_no_verdicts() {
        let r = report(vec![], "2026-11-22T00:00:00Z");
        assert_eq!(r.totals.runs, 0);
        assert_eq!(r.totals.success_rate.value(), None);
        assert_eq!(r.totals.p95_duration_ms, None);
        assert_eq!(r.totals.entries_per_day(), None);
        assert_eq!(r.verdicts.success_rate, Verdict::NoData);
        assert_eq!(r.verdicts.p95_duration, Verdict::NoData);
        assert_eq!(r.weekly.len(), WEEKS);
        assert!(r.weekly.iter().all(|w| w.runs == 0));
        assert!(r.latest_failures.is_empty());
    }

    #[test]
    fn one_run_passes_every_target() {
        let r = report(
            vec![day("2026-11-16", vec![entry(json!({}))])],
            "2026-11-22T00:00:00Z",
        );
        let k = &r.totals;
        assert_eq!((k.runs, k.successes, k.failures), (1, 1, 0));
        assert_eq!(k.success_rate.value(), Some(1.0));
        assert_eq!(
            (k.mean_duration_ms, k.p95_duration_ms),
            (Some(1000), Some(1000))
        );
        assert_eq!(k.artifact_rate, Ratio { num: 1, den: 1 });
        assert_eq!(k.audit_save_rate, Ratio { num: 1, den: 1 });
        assert_eq!(
            k.notification_rate.value(),
            None,
            "no failure to notify about"
        );
        assert_eq!(k.entries_per_day(), Some(1.0));
        assert_eq!(r.verdicts.success_rate, Verdict::Pass);
        assert_eq!(r.verdicts.p95_duration, Verdict::Pass);
        assert_eq!(r.verdicts.notification_rate, Verdict::NoData);
        // 2026-11-16 is a Monday: the last week of the table.
        let last = r.weekly.last().expect("week");
        assert_eq!(last.start.to_string(), "2026-11-16");
        assert_eq!((last.runs, last.success_rate.value()), (1, Some(1.0)));
    }

    #[test]
    fn all_failures_fail_the_rates_and_list_latest_first() {
        let days = vec![
            day(
                "2026-11-10",
                vec![entry(
                    json!({"status": "failure", "run_id": 1, "artifact_url": null,
                    "failure_reason": "artifacts_missing", "timestamp": "2026-11-10T08:00:00Z",
                    "notify_slack": true}),
                )],
            ),
            day(
                "2026-11-11",
                vec![entry(
                    json!({"status": "blocked", "run_id": 2, "run_attempt": 2,
                    "timestamp": "2026-11-11T08:00:00Z", "issue_number": 42,
                    "notify_slack": false, "slack_retry": 1}),
                )],
            ),
        ];
        let r = report(days, "2026-11-22T00:00:00Z");
        let k = &r.totals;
        assert_eq!((k.successes, k.failures), (0, 2));
        assert_eq!(k.success_rate.value(), Some(0.0));
        assert_eq!(
            k.artifact_rate.value(),
            None,
            "no success: no artifact rate"
        );
        assert_eq!(k.notification_rate, Ratio { num: 2, den: 2 });
        assert_eq!(k.slack_success, Ratio { num: 1, den: 2 });
        assert_eq!(k.missing_artifact_rate, Ratio { num: 1, den: 2 });
        assert_eq!(
            (k.reruns, k.rerun_success_rate),
            (1, Ratio { num: 0, den: 1 })
        );
        assert_eq!(k.issues_opened, 1);
        assert_eq!(k.unresolved, 1, "v1 never recovered");
        assert_eq!(r.verdicts.success_rate, Verdict::Fail);
        let tags: Vec<_> = r.latest_failures.iter().map(|f| f.run_id).collect();
        assert_eq!(tags, vec![2, 1]);
    }

    #[test]
    fn arithmetic_by_hand() {
        // 20 runs over two days: durations 1..=20 s; p95 (nearest rank) = ceil(0.95*20) = 19th
        // = 19 s; mean = 210/20 = 10.5 s -> 10500 ms. 3 failures -> 17/20 = 85%.
        let mut a = Vec::new();
        let mut b = Vec::new();
        for i in 1..=20u64 {
            let status = if i <= 3 { "failure" } else { "success" };
            let e = entry(
                json!({"run_id": i, "tag": format!("v{i:02}"), "status": status,
                "duration_ms": i * 1000, "timestamp": "2026-11-17T00:00:00Z"}),
            );
            if i <= 10 {
                a.push(e)
            } else {
                b.push(e)
            }
        }
        let r = report(
            vec![day("2026-11-17", a), day("2026-11-18", b)],
            "2026-11-22T00:00:00Z",
        );
        let k = &r.totals;
        assert_eq!(k.success_rate, Ratio { num: 17, den: 20 });
        assert_eq!(k.mean_duration_ms, Some(10_500));
        assert_eq!(k.p95_duration_ms, Some(19_000));
        assert_eq!((k.days, k.entries_per_day_max), (2, 10));
        assert_eq!(k.entries_per_day(), Some(10.0));
        assert_eq!(percentile(&mut [5, 1, 3], 95.0), Some(5));
        assert_eq!(percentile(&mut [7], 50.0), Some(7));
        assert_eq!(mean(&[u64::MAX, u64::MAX]), Some(u64::MAX), "no overflow");
    }

    #[test]
    fn resolution_and_rollback_lead_time_by_hand() {
        let days = vec![day(
            "2026-11-16",
            vec![
                // v1 fails at 10:00, fails again at 10:30, succeeds at 11:00: 60 min.
                entry(json!({"tag": "v1", "run_id": 1, "status": "failure",
                    "timestamp": "2026-11-16T10:00:00Z"})),
                entry(json!({"tag": "v1", "run_id": 2, "status": "failure",
                    "timestamp": "2026-11-16T10:30:00Z"})),
                entry(json!({"tag": "v1", "run_id": 3, "status": "success",
                    "timestamp": "2026-11-16T11:00:00Z"})),
                // v2 fails at 12:00 and is rolled back at 12:15: lead time 15 min.
                entry(json!({"tag": "v2", "run_id": 4, "status": "failure",
                    "timestamp": "2026-11-16T12:00:00Z"})),
                entry(
                    json!({"tag": "v2-rollback", "run_id": 5, "status": "rollback",
                    "rollback_of": "v2", "timestamp": "2026-11-16T12:15:00Z"}),
                ),
            ],
        )];
        let k = report(days, "2026-11-22T00:00:00Z").totals;
        assert_eq!(k.resolution.mean_ms, Some(3_600_000));
        assert_eq!(k.resolution.count, 1);
        assert_eq!(k.unresolved, 1, "v2 is still failing");
        assert_eq!(k.rollbacks, 1);
        assert_eq!(k.rollback_lead.mean_ms, Some(900_000));
        assert_eq!(
            k.success_rate,
            Ratio { num: 1, den: 4 },
            "rollback not counted"
        );
    }

    #[test]
    fn a_week_with_no_runs_has_no_rate() {
        let days = vec![
            day(
                "2026-11-02",
                vec![entry(json!({"timestamp": "2026-11-02T09:00:00Z"}))],
            ),
            day(
                "2026-11-16",
                vec![entry(
                    json!({"status": "failure", "timestamp": "2026-11-16T09:00:00Z"}),
                )],
            ),
        ];
        let r = report(days, "2026-11-20T00:00:00Z");
        let w: Vec<_> = r
            .weekly
            .iter()
            .rev()
            .take(3)
            .map(|w| (w.start.to_string(), w.runs, w.success_rate.value()))
            .collect();
        assert_eq!(
            w,
            vec![
                ("2026-11-16".to_string(), 1, Some(0.0)),
                ("2026-11-09".to_string(), 0, None),
                ("2026-11-02".to_string(), 1, Some(1.0)),
            ]
        );
    }

    #[test]
    fn an_edited_entry_of_a_sealed_day_fails_the_chain_check() {
        // The entry is edited after sealing: the weaker checks pass, the audit chain does not.
        let sealed = crate::domain::audit_chain::seal(
            Manifest {
                schema_version: 2,
                previous_day: None,
                entries: vec![entry(json!({"run_id": 7}))],
            },
            None,
        );
        let good = DayManifest::parse("2026-11-16", sealed.render());
        check_integrity(std::slice::from_ref(&good)).expect("a sealed day verifies");
        let edited = DayManifest::parse(
            "2026-11-16",
            sealed.render().replace("\"run_id\": 7", "\"run_id\": 8"),
        );
        let t = check_integrity(&[edited]).expect_err("edited");
        assert_eq!(t.day, "2026-11-16");
        assert!(t.detail.contains("entry_hash"), "{t}");
    }

    #[test]
    fn a_tampered_day_is_reported_and_left_out_of_the_totals() {
        let good = day("2026-11-16", vec![entry(json!({}))]);
        let mut dup = day(
            "2026-11-17",
            vec![entry(json!({"run_id": 5})), entry(json!({"run_id": 5}))],
        );
        let t = check_integrity(&[good.clone(), dup.clone()]).expect_err("duplicate");
        assert_eq!(t.day, "2026-11-17");
        assert!(t.detail.contains("appears twice"), "{t}");

        dup.parsed = Err("not JSON".into());
        let t = check_integrity(&[good.clone(), dup]).expect_err("unparsable");
        assert!(t.detail.contains("does not parse"), "{t}");

        let swapped = day(
            "2026-11-18",
            vec![
                entry(json!({"tag": "v1.10"})),
                entry(json!({"tag": "v1.9"})),
            ],
        );
        let t = check_integrity(&[good.clone(), swapped]).expect_err("order");
        assert!(t.detail.contains("out of order"), "{t}");

        let emptied = DayManifest::parse("2026-11-19", String::new());
        let t = check_integrity(&[good.clone(), emptied]).expect_err("emptied");
        assert!(t.detail.contains("no entries"), "{t}");

        let binary = DayManifest::from_bytes("2026-11-20", vec![0xff, 0xfe, b'{']);
        let t = check_integrity(&[good.clone(), binary]).expect_err("not text");
        assert!(t.detail.contains("UTF-8"), "{t}");

        let t = check_integrity(&[good.clone(), good.clone()]).expect_err("same day twice");
        assert!(t.detail.contains("duplicated or out of order"), "{t}");

        let r = build(
            &[
                RepoHistory {
                    repo: "octo/bad".into(),
                    days: Ok(vec![DayManifest::parse("2026-11-16", "{".into())]),
                },
                RepoHistory {
                    repo: "octo/good".into(),
                    days: Ok(vec![good]),
                },
                RepoHistory {
                    repo: "octo/private".into(),
                    days: Err("HTTP 404".into()),
                },
            ],
            Utc::now(),
            &Targets::default(),
        );
        assert_eq!(r.totals.runs, 1);
        assert_eq!(r.tampered().len(), 1);
        assert!(matches!(r.repos[2].state, RepoState::Unreadable(_)));
    }

    #[test]
    fn supabase_rows_become_ordered_days() {
        let rows = vec![
            (
                "o/a".to_string(),
                entry(json!({"tag": "v1.10", "timestamp": "2026-11-16T23:00:00+00:00"})),
            ),
            (
                "o/a".to_string(),
                entry(json!({"tag": "v1.9", "timestamp": "2026-11-16T01:00:00Z"})),
            ),
            (
                "o/a".to_string(),
                entry(json!({"tag": "v2", "timestamp": "2026-11-17T01:00:00Z"})),
            ),
        ];
        let days = days_from_rows(rows);
        let a = &days["o/a"];
        assert_eq!(a.len(), 2);
        check_integrity(a).expect("rows make a valid history");
        let tags: Vec<_> = a[0]
            .parsed
            .as_ref()
            .expect("parsed")
            .entries
            .iter()
            .map(|e| e.tag.as_str())
            .collect();
        assert_eq!(tags, vec!["v1.9", "v1.10"]);
    }
}
