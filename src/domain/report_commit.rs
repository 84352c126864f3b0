//! The report's commit through the audit store (`audit-store: commit`): what counts as "no
//! change" for its files, the commit message, and the side branch of a protected branch's pull
//! request. Pure; `adapters::store::files` applies it.

use super::kpi::Kpis;

/// The dashboard's first paragraph starts `Generated <when> UTC from ...`
/// (`render::dashboard::header`); a tested contract, see below.
const STAMP_START: &str = "Generated ";
const STAMP_END: &str = " UTC";

/// The dashboard without its generation time: the first line starting `Generated ` loses what
/// lies between that word and ` UTC`. Any other text is returned as is.
fn without_stamp(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = false;
    for line in text.split_inclusive('\n') {
        if !done {
            if let Some(rest) = line.strip_prefix(STAMP_START) {
                if let Some(end) = rest.find(STAMP_END) {
                    out.push_str(STAMP_START);
                    out.push_str(&rest[end..]);
                    done = true;
                    continue;
                }
            }
        }
        out.push_str(line);
    }
    out
}

/// Whether our copy of a report file says the same as the branch's: byte-identical, except that
/// the dashboard's generation time alone is not a change (a re-run of an unchanged history
/// commits nothing; the branch keeps the time its figures were first published).
pub fn same_content(is_dashboard: bool, ours: &[u8], theirs: &[u8]) -> bool {
    if ours == theirs {
        return true;
    }
    if !is_dashboard {
        return false;
    }
    match (std::str::from_utf8(ours), std::str::from_utf8(theirs)) {
        (Ok(a), Ok(b)) => without_stamp(a) == without_stamp(b),
        _ => false,
    }
}

/// `report: 75.0% success, 4 runs, 1 failure` + the run that made it.
pub fn commit_message(totals: &Kpis, run_id: &str) -> String {
    let rate = totals.success_rate.value().map_or_else(
        || "no runs".to_string(),
        |v| format!("{:.1}% success", v * 100.0),
    );
    format!(
        "report: {rate}, {} run{}, {} failure{}\n\nThe KPI dashboard and badges of the audit trail, by mode: report (run {run_id}).",
        totals.runs,
        if totals.runs == 1 { "" } else { "s" },
        totals.failures,
        if totals.failures == 1 { "" } else { "s" },
    )
}

/// The side branch prefix of a protected branch's pull request (the store appends the short
/// commit): `slsa-report/<run id>`.
pub fn pr_branch_prefix(run_id: &str) -> String {
    let clean: String = run_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("slsa-report/{clean}")
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::kpi::{self, Targets};
    use crate::domain::render::dashboard;

    fn dashboard_at(hour: u32, minute: u32, history: &[kpi::RepoHistory]) -> String {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 17, hour, minute, 0)
            .single()
            .expect("time");
        let report = kpi::build(history, now, &Targets::default());
        dashboard::render(
            &report,
            &dashboard::Context {
                server_url: "https://github.com".into(),
                source: "manifest".into(),
            },
        )
    }

    fn history(runs: u64) -> Vec<kpi::RepoHistory> {
        let entries: Vec<serde_json::Value> = (1..=runs)
            .map(|i| {
                serde_json::json!({"run_id": i, "tag": format!("v{i}"), "sha": "a",
                    "artifact_url": "https://x", "actor": "o",
                    "timestamp": "2026-11-16T09:00:00Z", "status": "success",
                    "governance_flag": "provenance-ready"})
            })
            .collect();
        let text = serde_json::json!({"schema_version": 1, "entries": entries}).to_string();
        vec![kpi::RepoHistory {
            repo: "octo/app".into(),
            days: Ok(vec![kpi::DayManifest::from_bytes(
                "2026-11-16",
                text.into_bytes(),
            )]),
        }]
    }

    #[test]
    fn a_dashboard_differing_only_in_its_generation_time_is_the_same() {
        // The contract with `render::dashboard`: a later render of the same history differs
        // in the stamp only.
        let a = dashboard_at(6, 0, &history(2));
        let b = dashboard_at(7, 31, &history(2));
        assert_ne!(a, b, "the stamp is in the dashboard");
        assert!(same_content(true, a.as_bytes(), b.as_bytes()));
        // The badges have no stamp: any byte counts.
        assert!(!same_content(false, a.as_bytes(), b.as_bytes()));
    }

    #[test]
    fn a_dashboard_with_other_figures_is_a_change() {
        let a = dashboard_at(6, 0, &history(2));
        let b = dashboard_at(6, 0, &history(3));
        assert!(!same_content(true, a.as_bytes(), b.as_bytes()));
        // Text with no stamp is compared as is.
        assert!(!same_content(
            true,
            b"Generated nothing",
            b"Generated other"
        ));
        assert!(same_content(true, b"\xff", b"\xff"));
        assert!(!same_content(true, b"\xff", b"\xfe"));
    }

    #[test]
    fn message_and_side_branch() {
        let mut k = Kpis {
            runs: 4,
            failures: 1,
            ..Kpis::default()
        };
        k.success_rate = kpi::Ratio { num: 3, den: 4 };
        let m = commit_message(&k, "77");
        assert!(
            m.starts_with("report: 75.0% success, 4 runs, 1 failure\n\n"),
            "{m}"
        );
        assert!(m.contains("run 77"));
        assert!(commit_message(&Kpis::default(), "1").starts_with("report: no runs, 0 runs"));
        assert_eq!(pr_branch_prefix("77"), "slsa-report/77");
        assert_eq!(pr_branch_prefix("7 7/.."), "slsa-report/7-7---");
    }
}
