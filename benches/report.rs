//! Report benchmark: `mode: report` over 365 days x 100 entries in one repository (read every
//! day manifest, check integrity, aggregate, render, write the dashboard and badges), beside
//! `jq -c . FILES > /dev/null` merely parsing the same files, in the same run.
//!
//! Run: `cargo bench --bench report` (365 x 100, best of 3) or `cargo bench --bench report --
//! --quick` (60 x 100, for CI). Needs `jq` and GNU `time` (`/usr/bin/time`, for peak RSS)
//! on the machine: `scripts/setup-test-tools.sh` installs both.
//! Both sides are whole processes, timed wall-clock; ratio = jq time / report time (above 1.0
//! means the whole report is faster than jq's parse alone). Peak memory is each process's
//! maximum resident set size as GNU time reports it. The last stdout line is the
//! `BENCH-RESULT` line `bench/run.sh` collects (`common/bench_result.rs`).

// A benchmark's job is to print its table.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "common/bench_result.rs"]
mod bench_result;
use bench_result::BenchResult;

const TARGET_VS_JQ: f64 = 1.0;

struct Plan {
    days: usize,
    entries: usize,
    runs: usize,
}

const FULL: Plan = Plan {
    days: 365,
    entries: 100,
    runs: 3,
};
const QUICK: Plan = Plan {
    days: 60,
    entries: 100,
    runs: 2,
};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let plan = if quick { QUICK } else { FULL };
    if let Err(e) = run(&plan, quick) {
        eprintln!("bench report: {e}");
        std::process::exit(1);
    }
}

/// Day manifests like `mode: provenance` writes them: 95% successes, durations 20-140 s,
/// some re-runs, validations, notifications and issues.
fn generate(workspace: &Path, plan: &Plan) -> Result<Vec<PathBuf>, String> {
    let start = chrono::NaiveDate::from_ymd_opt(2025, 11, 23).ok_or("date")?;
    let mut files = Vec::new();
    for d in 0..plan.days {
        let date = start + chrono::Duration::days(d as i64);
        let mut entries = Vec::with_capacity(plan.entries);
        for i in 0..plan.entries {
            let n = d * plan.entries + i;
            let failed = n % 20 == 7;
            let mut entry = serde_json::json!({
                "run_id": 9_000_000_000u64 + n as u64,
                "tag": format!("v{}.{}.{}", 1 + d / 100, d % 100, i),
                "sha": format!("{:040x}", n * 7919),
                "artifact_url": if failed { None } else { Some(format!("https://github.com/octo/app/actions/runs/{n}/artifacts/1")) },
                "actor": "release-bot",
                "timestamp": format!("{date}T{:02}:{:02}:00Z", i % 24, i % 60),
                "status": if failed { "failure" } else { "success" },
                "governance_flag": if failed { "provenance-missing" } else { "provenance-ready" },
                "governance_flag_history": [{"flag": "provenance-ready", "timestamp": format!("{date}T00:00:00Z")}],
                "release_url": format!("https://github.com/octo/app/releases/tag/v{n}"),
                "failure_reason": if failed { Some("subject_pattern_unmatched") } else { None },
                "run_attempt": 1 + u32::from(n % 50 == 3),
                "provenance_path": format!("docs/reports/{date}/provenance-{n}.json"),
                "provenance_sha256": format!("{:064x}", n),
                "subjects": 3,
                "duration_ms": 20_000 + (n * 7_919) % 120_000,
                "validation_status": if n % 30 == 1 { "failed" } else { "passed" },
                "notify_slack": failed.then_some(true),
                "issue_number": failed.then_some(n as u64),
            });
            // As the action writes them: an absent field is left out, never `null` (the
            // manifest schema refuses null).
            if let Some(o) = entry.as_object_mut() {
                o.retain(|_, v| !v.is_null());
            }
            entries.push(entry);
        }
        let text = serde_json::to_string_pretty(
            &serde_json::json!({"schema_version": 1, "entries": entries}),
        )
        .map_err(|e| e.to_string())?;
        let file = workspace
            .join("docs/reports")
            .join(date.to_string())
            .join("manifest.json");
        std::fs::create_dir_all(file.parent().ok_or("parent")?).map_err(|e| e.to_string())?;
        std::fs::write(&file, text).map_err(|e| e.to_string())?;
        files.push(file);
    }
    Ok(files)
}

/// Run `cmd` under GNU time; returns (wall time, peak RSS in KiB).
fn timed(cmd: Command, what: &str) -> Result<(Duration, u64), String> {
    let rss_file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(rss_file.path())
        .arg(program)
        .args(args)
        .envs(
            cmd.get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .stdout(std::process::Stdio::null());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    let started = Instant::now();
    let status = wrapped
        .status()
        .map_err(|e| format!("{what}: cannot run /usr/bin/time (install GNU time): {e}"))?;
    let took = started.elapsed();
    if !status.success() {
        return Err(format!("{what} failed: {status}"));
    }
    let rss = std::fs::read_to_string(rss_file.path())
        .map_err(|e| e.to_string())?
        .lines()
        .rev()
        .find_map(|l| l.trim().parse::<u64>().ok())
        .ok_or_else(|| format!("{what}: GNU time printed no peak RSS"))?;
    Ok((took, rss))
}

fn best(plan: &Plan, what: &str, make: impl Fn() -> Command) -> Result<(Duration, u64), String> {
    let mut best: Option<(Duration, u64)> = None;
    for _ in 0..plan.runs {
        let (t, rss) = timed(make(), what)?;
        best = Some(match best {
            Some((bt, brss)) => (bt.min(t), brss.max(rss)),
            None => (t, rss),
        });
    }
    best.ok_or_else(|| "no runs".into())
}

fn run(plan: &Plan, quick: bool) -> Result<(), String> {
    let ws = tempfile::tempdir().map_err(|e| e.to_string())?;
    let files = generate(ws.path(), plan)?;
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "report benchmark: {} days x {} entries = {} entries, {:.1} MiB of manifests, best of {}",
        plan.days,
        plan.entries,
        plan.days * plan.entries,
        bytes as f64 / 1024.0 / 1024.0,
        plan.runs
    );

    let bin = env!("CARGO_BIN_EXE_slsa-provenance-action");
    let out_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let ours = best(plan, "slsa-provenance-action report", || {
        let mut c = Command::new(bin);
        c.arg("report")
            .current_dir(ws.path())
            .env_clear()
            .env("GITHUB_WORKSPACE", ws.path())
            .env("GITHUB_REPOSITORY", "octo/app")
            .env("GITHUB_OUTPUT", out_dir.path().join("out"))
            .env("GITHUB_STEP_SUMMARY", out_dir.path().join("summary"));
        c
    })?;
    let md = std::fs::read_to_string(ws.path().join("docs/reports/v_ops_slsa_status.md"))
        .map_err(|e| format!("the report wrote no dashboard: {e}"))?;
    let expected_runs = format!("| Runs | {} (", plan.days * plan.entries);
    if !md.contains(&expected_runs) {
        return Err(format!(
            "the dashboard does not count every entry ({expected_runs})"
        ));
    }
    let jq = best(plan, "jq -c . FILES", || {
        let mut c = Command::new("jq");
        c.arg("-c").arg(".").args(&files);
        c
    })?;

    let row = |name: &str, (t, rss): (Duration, u64)| {
        println!(
            "  {name:<48} {:>8.3} s {:>8.1} MiB/s  peak RSS {:>7.1} MiB",
            t.as_secs_f64(),
            bytes as f64 / 1024.0 / 1024.0 / t.as_secs_f64(),
            rss as f64 / 1024.0
        );
    };
    row("report (read, check, aggregate, render, write)", ours);
    row("jq -c . FILES > /dev/null (parse only)", jq);
    let ratio = jq.0.as_secs_f64() / ours.0.as_secs_f64();
    println!();
    println!(
        "target: report >= {TARGET_VS_JQ:.1}x jq's parse: {ratio:.2}x ({})",
        if ratio >= TARGET_VS_JQ {
            "met"
        } else {
            "MISSED"
        }
    );
    if quick {
        println!("(quick run: 60 days, for CI)");
    }
    println!();
    let result = BenchResult::faster_than(
        "report",
        &format!("{} days x {} entries", plan.days, plan.entries),
        ours.0.as_secs_f64(),
        "jq -c . FILES (parse only)",
        jq.0.as_secs_f64(),
    )
    .at_least(TARGET_VS_JQ)
    .rss(Some(ours.1), Some(jq.1))
    .extra(serde_json::json!({"manifest_bytes": bytes, "runs": plan.runs}));
    bench_result::print_all(&[result]);
    Ok(())
}
