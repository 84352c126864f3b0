//! The Markdown dashboard (`docs/reports/v_ops_slsa_status.md`, also the step summary): the
//! seed's KPI table with targets and verdicts, the audit metrics, a per-repository table (an
//! organisation report), the last 12 weeks as Mermaid `xychart-beta` charts with the table as
//! the fallback, and the latest failures with run and issue links.
//!
//! Every string from a manifest goes through [`escape_md`]; links are built from numbers and
//! repository names we validated, so no manifest can inject Markdown or HTML.

use std::fmt::Write;

use super::escape_md;
use crate::domain::kpi::{Kpis, Ratio, RepoState, Report, Verdict};

/// What the links need and the header says.
#[derive(Debug, Clone)]
pub struct Context {
    /// `GITHUB_SERVER_URL`, e.g. `https://github.com`.
    pub server_url: String,
    /// `manifest` or `supabase`.
    pub source: String,
}

pub fn pct(r: Ratio) -> String {
    match r.value() {
        None => "n/a".into(),
        Some(v) => format!("{:.1}% ({}/{})", v * 100.0, r.num, r.den),
    }
}

fn pct_target(v: f64) -> String {
    format!("{}%", (v * 1000.0).round() / 10.0)
}

/// `850 ms`, `10.5 s`, `2m 05s`, `3h 20m`, `2d 4h`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..=3_599_999 => format!("{}m {:02}s", ms / 60_000, ms % 60_000 / 1000),
        3_600_000..=86_399_999 => format!("{}h {:02}m", ms / 3_600_000, ms % 3_600_000 / 60_000),
        _ => format!("{}d {}h", ms / 86_400_000, ms % 86_400_000 / 3_600_000),
    }
}

fn opt_duration(ms: Option<u64>) -> String {
    ms.map(duration).unwrap_or_else(|| "n/a".into())
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅ pass",
        Verdict::Fail => "❌ fail",
        Verdict::NoData => "➖ no data",
    }
}

/// The whole dashboard.
pub fn render(r: &Report, ctx: &Context) -> String {
    let mut o = String::new();
    header(&mut o, r, ctx);
    kpi_table(&mut o, r);
    audit_metrics(&mut o, &r.totals);
    if r.repos.len() > 1
        || r.repos
            .iter()
            .any(|x| !matches!(x.state, RepoState::Read(_)))
    {
        repositories(&mut o, r);
    }
    weekly(&mut o, r);
    failures(&mut o, r, ctx);
    o
}

fn header(o: &mut String, r: &Report, ctx: &Context) {
    let repos = r.repos.len();
    let _ = writeln!(o, "# SLSA provenance status\n");
    let _ = writeln!(
        o,
        "Generated {} from {} day manifest{} of {} repositor{} (source: {}). \
         Every figure comes from the audit trail; see the README for the definitions.\n",
        r.generated_at.format("%Y-%m-%d %H:%M UTC"),
        r.totals.days,
        if r.totals.days == 1 { "" } else { "s" },
        repos,
        if repos == 1 { "y" } else { "ies" },
        escape_md(&ctx.source),
    );
}

fn kpi_table(o: &mut String, r: &Report) {
    let (k, t, v) = (&r.totals, &r.targets, &r.verdicts);
    let _ = writeln!(o, "## KPIs\n");
    let _ = writeln!(
        o,
        "| KPI | Value | Target | Status |\n| --- | --- | --- | --- |"
    );
    let rows = [
        (
            "Success rate",
            pct(k.success_rate),
            pct_target(t.success_rate),
            v.success_rate,
        ),
        (
            "Mean run time",
            opt_duration(k.mean_duration_ms),
            format!("< {}", duration(t.mean_duration_ms)),
            v.mean_duration,
        ),
        (
            "p95 run time",
            opt_duration(k.p95_duration_ms),
            format!("< {}", duration(t.p95_duration_ms)),
            v.p95_duration,
        ),
        (
            "Artifact generation rate",
            pct(k.artifact_rate),
            pct_target(t.artifact_rate),
            v.artifact_rate,
        ),
        (
            "Audit-save rate",
            pct(k.audit_save_rate),
            pct_target(t.audit_save_rate),
            v.audit_save_rate,
        ),
        (
            "Notification delivery rate",
            pct(k.notification_rate),
            pct_target(t.notification_rate),
            v.notification_rate,
        ),
    ];
    for (name, value, target, verdict_) in rows {
        let _ = writeln!(o, "| {name} | {value} | {target} | {} |", verdict(verdict_));
    }
    let _ = writeln!(o);
}

fn audit_metrics(o: &mut String, k: &Kpis) {
    let _ = writeln!(o, "## Audit metrics\n");
    let _ = writeln!(o, "| Metric | Value |\n| --- | --- |");
    let per_day = k
        .entries_per_day()
        .map(|v| format!("{v:.1} (max {}, {} days)", k.entries_per_day_max, k.days))
        .unwrap_or_else(|| "n/a".into());
    let span = |s: crate::domain::kpi::Span| {
        if s.count == 0 {
            "n/a".to_string()
        } else {
            format!(
                "mean {}, max {} ({})",
                opt_duration(s.mean_ms),
                opt_duration(s.max_ms),
                s.count
            )
        }
    };
    let rows = [
        (
            "Runs",
            format!(
                "{} ({} succeeded, {} failed, {} timed)",
                k.runs, k.successes, k.failures, k.timed_runs
            ),
        ),
        ("Entries per day", per_day),
        ("Missing-artifact rate", pct(k.missing_artifact_rate)),
        ("Validation pass rate", pct(k.validation_pass_rate)),
        (
            "Re-runs",
            format!("{} (success rate {})", k.reruns, pct(k.rerun_success_rate)),
        ),
        (
            "Time to resolution",
            format!("{}; {} unresolved", span(k.resolution), k.unresolved),
        ),
        (
            "Rollbacks",
            format!("{} (lead time {})", k.rollbacks, span(k.rollback_lead)),
        ),
        ("Slack success ratio", pct(k.slack_success)),
        ("Issues opened", k.issues_opened.to_string()),
    ];
    for (name, value) in rows {
        let _ = writeln!(o, "| {name} | {value} |");
    }
    let _ = writeln!(o);
}

fn repositories(o: &mut String, r: &Report) {
    let _ = writeln!(o, "## Repositories\n");
    let _ = writeln!(
        o,
        "| Repository | Runs | Success rate | p95 run time | Failures | Last run | State |\n\
         | --- | --- | --- | --- | --- | --- | --- |"
    );
    for row in &r.repos {
        let name = escape_md(&row.repo);
        let last = row
            .last_run
            .as_deref()
            .map(escape_md)
            .unwrap_or_else(|| "n/a".into());
        match &row.state {
            RepoState::Read(k) => {
                let _ = writeln!(
                    o,
                    "| {name} | {} | {} | {} | {} | {last} | read |",
                    k.runs,
                    pct(k.success_rate),
                    opt_duration(k.p95_duration_ms),
                    k.failures
                );
            }
            RepoState::Unreadable(why) => {
                let _ = writeln!(o, "| {name} | | | | | | unreadable: {} |", escape_md(why));
            }
            RepoState::Tampered(t) => {
                let _ = writeln!(
                    o,
                    "| {name} | | | | | | ⚠️ tampered: {} |",
                    escape_md(&t.to_string())
                );
            }
        }
    }
    let read = r
        .repos
        .iter()
        .filter(|x| matches!(x.state, RepoState::Read(_)))
        .count();
    let _ = writeln!(
        o,
        "| **Total** ({read} of {} read) | {} | {} | {} | {} | | |\n",
        r.repos.len(),
        r.totals.runs,
        pct(r.totals.success_rate),
        opt_duration(r.totals.p95_duration_ms),
        r.totals.failures
    );
}

fn weekly(o: &mut String, r: &Report) {
    let _ = writeln!(o, "## Weekly (last {} weeks)\n", r.weekly.len());
    let label = |w: &&crate::domain::kpi::Week| format!("\"{}\"", w.start.format("%m-%d"));
    // Weeks without a value are left out of a chart rather than drawn as 0 (a false dip).
    let rated: Vec<_> = r
        .weekly
        .iter()
        .filter(|w| w.success_rate.value().is_some())
        .collect();
    let timed: Vec<_> = r
        .weekly
        .iter()
        .filter(|w| w.p95_duration_ms.is_some())
        .collect();
    if !rated.is_empty() {
        let labels: Vec<String> = rated.iter().map(label).collect();
        let values: Vec<String> = rated
            .iter()
            .map(|w| format!("{:.1}", w.success_rate.value().unwrap_or(0.0) * 100.0))
            .collect();
        let _ = writeln!(
            o,
            "```mermaid\nxychart-beta\n    title \"Weekly success rate (%)\"\n    x-axis [{}]\n    \
             y-axis \"Success rate (%)\" 0 --> 100\n    line [{}]\n```\n",
            labels.join(", "),
            values.join(", ")
        );
    }
    if !timed.is_empty() {
        let labels: Vec<String> = timed.iter().map(label).collect();
        let values: Vec<String> = timed
            .iter()
            .map(|w| format!("{:.1}", w.p95_duration_ms.unwrap_or(0) as f64 / 1000.0))
            .collect();
        let top = timed
            .iter()
            .filter_map(|w| w.p95_duration_ms)
            .max()
            .unwrap_or(0)
            .max(r.targets.p95_duration_ms) as f64
            / 1000.0;
        let _ = writeln!(
            o,
            "```mermaid\nxychart-beta\n    title \"Weekly p95 run time (s)\"\n    x-axis [{}]\n    \
             y-axis \"p95 run time (s)\" 0 --> {}\n    bar [{}]\n```\n",
            labels.join(", "),
            top.ceil(),
            values.join(", ")
        );
    }
    if rated.is_empty() && timed.is_empty() {
        let _ = writeln!(o, "No runs in these weeks: nothing to chart.\n");
    } else if rated.len() < r.weekly.len() || timed.len() < r.weekly.len() {
        let _ = writeln!(
            o,
            "Weeks without runs are left out of the charts; the table lists every week.\n"
        );
    }
    let _ = writeln!(
        o,
        "| Week of | Runs | Failures | Success rate | p95 run time |\n| --- | --- | --- | --- | --- |"
    );
    for w in &r.weekly {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            w.start,
            w.runs,
            w.failures,
            pct(w.success_rate),
            opt_duration(w.p95_duration_ms)
        );
    }
    let _ = writeln!(o);
}

fn failures(o: &mut String, r: &Report, ctx: &Context) {
    let _ = writeln!(o, "## Latest failures\n");
    if r.latest_failures.is_empty() {
        let _ = writeln!(o, "No failures recorded.");
        return;
    }
    let org = r.repos.len() > 1;
    let _ = writeln!(
        o,
        "| When |{} Tag | Reason | Run | Issue |\n| --- |{} --- | --- | --- | --- |",
        if org { " Repository |" } else { "" },
        if org { " --- |" } else { "" }
    );
    let server = ctx.server_url.trim_end_matches('/');
    for f in &r.latest_failures {
        let repo_link = repo_path(&f.repo);
        let run = format!(
            "[#{}]({server}/{repo_link}/actions/runs/{})",
            f.run_id, f.run_id
        );
        let issue = f
            .issue_number
            .map(|n| format!("[#{n}]({server}/{repo_link}/issues/{n})"))
            .unwrap_or_else(|| "none".into());
        let repo = if org {
            format!(" {} |", escape_md(&f.repo))
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "| {} |{repo} {} | {} | {run} | {issue} |",
            chrono::DateTime::parse_from_rfc3339(&f.timestamp)
                .map(|t| t
                    .with_timezone(&chrono::Utc)
                    .format("%Y-%m-%d %H:%M")
                    .to_string())
                .unwrap_or_else(|_| escape_md(&f.timestamp)),
            escape_md(&f.tag),
            f.reason
                .as_deref()
                .map(escape_md)
                .unwrap_or_else(|| "not recorded".into()),
        );
    }
}

/// `owner/repo` for a URL path: only GitHub's name characters survive, the rest is
/// percent-encoded, so a crafted name cannot leave the link.
pub fn repo_path(repo: &str) -> String {
    let mut o = String::with_capacity(repo.len());
    for b in repo.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kpi::{build, DayManifest, RepoHistory, Targets};
    use crate::domain::manifest::Manifest;
    use chrono::{DateTime, Utc};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T06:00:00Z")
            .expect("now")
            .with_timezone(&Utc)
    }

    fn fixture_days() -> Vec<DayManifest> {
        let day = |date: &str, entries: serde_json::Value| {
            let m: Manifest = serde_json::from_value(serde_json::json!({
                "schema_version": 1, "entries": entries
            }))
            .expect("manifest");
            // As Supabase rows (no file text, so no chain to check): hostile values such as
            // the one injected below can only arrive that way, files must match the schema.
            let mut d = DayManifest::parse(date, m.render());
            d.raw = String::new();
            d
        };
        let e = |run: u64, tag: &str, status: &str, ts: &str, ms: u64| {
            serde_json::json!({"run_id": run, "tag": tag, "sha": "abc", "actor": "octocat",
                "artifact_url": if status == "success" { Some("https://a") } else { None },
                "timestamp": ts, "status": status, "governance_flag": "provenance-ready",
                "provenance_sha256": "00", "duration_ms": ms, "validation_status": "passed"})
        };
        let mut inject = e(
            30,
            "v1.3|<script>alert(1)</script>",
            "failure",
            "2026-11-18T10:00:00Z",
            150_000,
        );
        inject["failure_reason"] = "artifacts missing [click](https://evil)".into();
        inject["issue_number"] = 77.into();
        inject["notify_slack"] = true.into();
        vec![
            day(
                "2026-10-06",
                serde_json::json!([e(10, "v1.0", "success", "2026-10-06T09:00:00Z", 60_000)]),
            ),
            day(
                "2026-11-02",
                serde_json::json!([
                    e(20, "v1.1", "failure", "2026-11-02T09:00:00Z", 30_000),
                    e(21, "v1.1", "success", "2026-11-02T11:30:00Z", 45_000),
                ]),
            ),
            day(
                "2026-11-18",
                serde_json::json!([
                    e(31, "v1.2", "success", "2026-11-18T09:00:00Z", 95_000),
                    inject,
                ]),
            ),
        ]
    }

    fn ctx() -> Context {
        Context {
            server_url: "https://github.com".into(),
            source: "manifest".into(),
        }
    }

    #[test]
    fn dashboard_snapshot_one_repository() {
        let r = build(
            &[RepoHistory {
                repo: "octo/app".into(),
                days: Ok(fixture_days()),
            }],
            now(),
            &Targets::default(),
        );
        let md = render(&r, &ctx());
        assert!(!md.contains("<script>"), "HTML is escaped");
        assert!(!md.contains("[click](https://evil)"), "links are escaped");
        assert!(md.contains("(https://github.com/octo/app/actions/runs/30)"));
        assert!(md.contains("(https://github.com/octo/app/issues/77)"));
        insta::assert_snapshot!("dashboard_one_repository", md);
    }

    #[test]
    fn dashboard_snapshot_organisation() {
        let r = build(
            &[
                RepoHistory {
                    repo: "octo/app".into(),
                    days: Ok(fixture_days()),
                },
                RepoHistory {
                    repo: "octo/lib".into(),
                    days: Ok(fixture_days()[..1].to_vec()),
                },
                RepoHistory {
                    repo: "octo/secret".into(),
                    days: Err("HTTP 404: Not Found".into()),
                },
            ],
            now(),
            &Targets::default(),
        );
        insta::assert_snapshot!("dashboard_organisation", render(&r, &ctx()));
    }

    #[test]
    fn an_empty_history_draws_no_chart_and_says_so() {
        let r = build(&[], now(), &Targets::default());
        let md = render(&r, &ctx());
        assert!(
            !md.contains("```mermaid"),
            "xychart-beta cannot draw zero points"
        );
        assert!(md.contains("nothing to chart"));
        assert!(md.contains("No failures recorded."));
        assert!(
            md.contains("| Success rate | n/a | 100% | ➖ no data |"),
            "{md}"
        );
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(10_500), "10.5 s");
        assert_eq!(duration(125_000), "2m 05s");
        assert_eq!(duration(3_600_000), "1h 00m");
        assert_eq!(duration(90_000_000), "1d 1h");
    }
}
