//! Outputs declared but never set (issue 11). The modes' own tests run again, in a child copy
//! of this test binary, with the harness recording every output each run set
//! (`common::OUTPUTS_LEDGER`): their happy and failing paths together must set every output
//! their mode declares (`interface::outputs_of`, and `failure-reason`), so an output that no
//! path of its mode sets any more fails here, and `action.yml` stops promising it.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use slsa_provenance_action::inputs::by_mode::{name, ALL_MODES};
use slsa_provenance_action::interface::{outputs_of, EVERY_MODE_OUTPUTS};

use crate::audit_store::{run_against, workspace, FakeGit, TOKEN};
use crate::common::{Outcome, Runner, Workspace, OUTPUTS_LEDGER};

/// The test modules whose runs exercise the modes' paths (run by test-name filter), and this
/// file's own paths (`path_*`) that no other module takes.
const MODULES: &[&str] = &[
    "provenance::",
    "audit_store::",
    "publish::",
    "supabase::",
    "validate::",
    "entry_updates::",
    "notify::",
    "recover::",
    "report::",
    "report_commit::",
    "recover_race::",
    "outputs_coverage::path_",
];

#[test]
fn every_output_a_mode_declares_is_set_by_one_of_its_tests() {
    let ledger = tempfile::NamedTempFile::new().expect("ledger");
    let exe = std::env::current_exe().expect("this test binary");
    let child = Command::new(exe)
        .args(MODULES)
        .args(["--skip", "outputs_coverage::every_output"])
        .env(OUTPUTS_LEDGER, ledger.path())
        .output()
        .expect("run the modes' tests");
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let text = std::fs::read_to_string(ledger.path()).expect("ledger");
    for line in text.lines() {
        if let Some((mode, output)) = line.split_once(' ') {
            seen.entry(mode.to_string())
                .or_default()
                .insert(output.to_string());
        }
    }
    let mut never = Vec::new();
    for m in ALL_MODES {
        let set = seen.get(name(m)).cloned().unwrap_or_default();
        for output in outputs_of(m).iter().chain(EVERY_MODE_OUTPUTS) {
            if !set.contains(*output) {
                never.push(format!("{}: {output}", name(m)));
            }
        }
    }
    let tail = |b: &[u8]| {
        let s = String::from_utf8_lossy(b);
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    };
    assert!(
        never.is_empty(),
        "declared outputs no run of the mode set:\n{}\n(child tests {}:\n{})",
        never.join("\n"),
        child.status,
        tail(&child.stdout)
    );
}

/// The pull request the fake opened for the update, and its branch's head.
fn pull_request(fake: &FakeGit) -> (String, String) {
    let g = fake.git();
    assert_eq!(g.pulls.len(), 1, "{:?}", g.pulls);
    let side = g.pulls[0]["head"].as_str().expect("head").to_string();
    (
        g.refs[&side].clone(),
        g.pulls[0]["html_url"].as_str().expect("url").to_string(),
    )
}

fn on_commit_store(r: Runner, fake: &FakeGit) -> Runner {
    r.env("GITHUB_API_URL", fake.api_url())
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "5")
        .input("audit-store", "commit")
        .input("github-token", TOKEN)
}

fn assert_updated_by_pull_request(out: &Outcome, fake: &FakeGit) {
    let (commit, url) = pull_request(fake);
    assert_eq!(out.out("audit-commit"), Some(commit.as_str()), "{out:#?}");
    assert_eq!(
        out.out("audit-pull-request"),
        Some(url.as_str()),
        "{out:#?}"
    );
}

#[tokio::test]
async fn path_validate_on_a_protected_audit_branch_updates_the_entry_by_pull_request() {
    // No other test validated with the commit store: validate's audit-commit and
    // audit-pull-request were declared but never set by any run.
    let fake = FakeGit::start().await;
    let ws: Workspace = workspace();
    let first = run_against(&ws, &fake, "v1.0.0", 501).run();
    first.assert_success();
    fake.git().protected.insert("main".into());
    let statement = first.out("provenance-path").expect("statement").to_string();
    let out = on_commit_store(crate::validate::validate(&ws), &fake)
        .release_event("v1.0.0")
        .input("provenance-path", statement)
        .input("subject-path", "dist/*")
        .input("allow-unsigned", "true")
        .run();
    out.assert_success();
    assert_updated_by_pull_request(&out, &fake);
}

#[tokio::test]
async fn path_recover_whose_branch_is_protected_after_its_claim_releases_it_by_pull_request() {
    // The failed run is recorded on main. recover claims it on main (a claim is never a pull
    // request), main is then protected, GitHub (here only the Git Database API) refuses the
    // re-run, and the release of the claim goes to a pull request.
    let fake = FakeGit::start().await;
    let ws = workspace();
    run_against(&ws, &fake, "v2.0.0", 601)
        .input("subject-path", "nothing/*")
        .run()
        .assert_failure("subject_pattern_unmatched");
    let before = fake.git().refs["main"].clone();
    fake.git().protect_after = Some(1);
    let out = on_commit_store(ws.runner().input("mode", "recover"), &fake)
        .input("run-id", "601")
        .run();
    let code = out
        .out("failure-reason")
        .expect("failure-reason")
        .to_string();
    out.assert_failure(&code);
    let g = fake.git();
    assert_ne!(
        g.refs["main"], before,
        "the claim is committed on main: {out:#?}"
    );
    assert_eq!(g.pulls.len(), 1, "the release only: {out:#?}");
    let heads: Vec<&str> = g
        .pulls
        .iter()
        .map(|p| g.refs[p["head"].as_str().expect("head")].as_str())
        .collect();
    let urls: Vec<&str> = g
        .pulls
        .iter()
        .map(|p| p["html_url"].as_str().expect("url"))
        .collect();
    assert!(
        out.out("audit-commit").is_some_and(|c| heads.contains(&c)),
        "{out:#?} {heads:?}"
    );
    assert!(
        out.out("audit-pull-request")
            .is_some_and(|u| urls.contains(&u)),
        "{out:#?} {urls:?}"
    );
}
