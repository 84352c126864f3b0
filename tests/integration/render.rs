//! The dashboard's charts and the SVG badge, checked as a person would see them: the binary
//! writes the report, then `tests/render/render.js` renders its Mermaid blocks with the
//! `mermaid` package in headless Chromium (Debian's `chromium`, driven by playwright-core) and
//! fails on any parse or render error. Needs `scripts/setup-test-tools.sh` (node modules,
//! chromium); without them this test FAILS with what to install, it does not skip.
//! `SLSA_UPDATE_SCREENSHOT=1` also copies the screenshot to `docs/images/dashboard.png`.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::common::Workspace;

fn manifest(day: &str, runs: &[(u64, &str, &str, u64)]) -> String {
    let entries: Vec<_> = runs
        .iter()
        .map(|(run_id, tag, status, ms)| {
            let mut e = json!({"run_id": run_id, "tag": tag, "sha": "0123abc", "actor": "octocat",
                "artifact_url": (*status == "success").then_some("https://github.com/x"),
                "timestamp": format!("{day}T09:{:02}:00Z", run_id % 60), "status": status,
                "governance_flag": "provenance-ready", "provenance_sha256": "ab",
                "duration_ms": ms});
            if *status == "failure" {
                e["failure_reason"] = "subject_pattern_unmatched".into();
                e["issue_number"] = (*run_id).into();
                e["notify_slack"] = true.into();
            }
            e
        })
        .collect();
    serde_json::to_string_pretty(&json!({"schema_version": 1, "entries": entries})).expect("json")
}

#[test]
fn dashboard_charts_and_badge_render_in_chromium() {
    let render_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/render");
    assert!(
        render_dir.join("node_modules/mermaid").is_dir()
            && render_dir.join("node_modules/playwright-core").is_dir(),
        "tests/render/node_modules is missing: run scripts/setup-test-tools.sh (npm ci in tests/render)"
    );
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium is missing: run scripts/setup-test-tools.sh (apt-get install chromium)"
    );

    // Twelve weeks up to today, as the weekly workflow sees them.
    let ws = Workspace::new();
    let today = chrono::Utc::now().date_naive();
    for week in 0..12u64 {
        if week == 4 {
            continue; // a week with no runs
        }
        let day = today - chrono::Duration::weeks(week as i64);
        let status = if week % 3 == 1 { "failure" } else { "success" };
        let runs = [
            (week * 10 + 1, "v1.0", "success", 40_000 + week * 5_000),
            (week * 10 + 2, "v1.1", status, 70_000 + week * 9_000),
        ];
        ws.write(
            &format!("docs/reports/{day}/manifest.json"),
            manifest(&day.to_string(), &runs),
        );
    }
    ws.runner()
        .event("schedule", json!({"schedule": "0 6 * * 1"}))
        .input("mode", "report")
        .run()
        .assert_success();

    let png = ws.runner_temp.path().join("dashboard.png");
    let out = Command::new("node")
        .arg(render_dir.join("render.js"))
        .arg(ws.path().join("docs/reports/v_ops_slsa_status.md"))
        .arg(ws.path().join("docs/reports/provenance-badge.svg"))
        .arg(&png)
        .current_dir(&render_dir)
        .output()
        .expect("node is missing: install Node.js (the Sigstore mock needs it too)");
    assert!(
        out.status.success(),
        "rendering failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let shot = std::fs::read(&png).expect("screenshot");
    assert!(
        shot.starts_with(b"\x89PNG") && shot.len() > 10_000,
        "a real screenshot"
    );
    if std::env::var("SLSA_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        let dest = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/images/dashboard.png");
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&png, dest).expect("copy screenshot");
    }
}
