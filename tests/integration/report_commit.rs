//! `mode: report` with `audit-store: commit`, run as a scheduled workflow runs it: the
//! dashboard and both badges go to the audit branch in one commit through the stateful fake of
//! GitHub's Git Database API of `audit_store` (127.0.0.1), and are written to the workspace too.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::audit_store::{FakeGit, TOKEN};
use crate::common::{Outcome, Runner, Workspace};
use crate::report::{entry, manifest, write_history};

const DASHBOARD: &str = "docs/reports/v_ops_slsa_status.md";
const BADGE_JSON: &str = "docs/reports/provenance-badge.json";
const BADGE_SVG: &str = "docs/reports/provenance-badge.svg";
const FILES: [&str; 3] = [DASHBOARD, BADGE_JSON, BADGE_SVG];

/// The weekly job: a `schedule` event, the commit store, the job's token, the fake's API.
fn weekly(ws: &Workspace, fake: &FakeGit) -> Runner {
    ws.runner()
        .event("schedule", json!({"schedule": "0 6 * * 1"}))
        .env("GITHUB_API_URL", fake.api_url())
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "5")
        .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "20000")
        .input("mode", "report")
        .input("audit-store", "commit")
        .input("github-token", TOKEN)
}

fn history_workspace() -> Workspace {
    let ws = Workspace::new();
    write_history(&ws);
    ws
}

/// (method, path below `/api/v3/repos/octo/app`) of every request that arrived.
async fn calls(fake: &FakeGit) -> Vec<(String, String)> {
    fake.requests()
        .await
        .iter()
        .map(|r| {
            let path = r.url.path();
            (
                r.method.to_string(),
                path.strip_prefix("/api/v3/repos/octo/app")
                    .unwrap_or(path)
                    .to_string(),
            )
        })
        .collect()
}

fn workspace_bytes(ws: &Workspace) -> BTreeMap<String, Vec<u8>> {
    FILES
        .iter()
        .map(|p| {
            (
                p.to_string(),
                std::fs::read(ws.path().join(p)).expect("workspace file"),
            )
        })
        .collect()
}

fn assert_branch_holds_workspace_files(fake: &FakeGit, branch: &str, ws: &Workspace) {
    let files = fake.git().files(branch);
    for (path, bytes) in workspace_bytes(ws) {
        assert_eq!(
            files.get(&path),
            Some(&bytes),
            "{path} on {branch} is the workspace's"
        );
    }
}

fn warned_not_committed(out: &Outcome) -> bool {
    out.stdout
        .lines()
        .any(|l| l.starts_with("::warning::") && l.contains("could not be committed"))
}

#[tokio::test]
async fn report_commits_its_files_in_one_commit() {
    let fake = FakeGit::start().await;
    let ws = history_workspace();
    let out = weekly(&ws, &fake).run();
    out.assert_success();
    assert_eq!(out.out("runs"), Some("4"));

    // The requests (the README quotes the count): repo (default branch), ref, commit, root
    // tree (no docs/ yet: no blob to read), 3 blobs, tree, commit, ref update.
    let calls = calls(&fake).await;
    assert_eq!(calls.len(), 10, "{calls:?}");
    let count = |m: &str, p: &str| calls.iter().filter(|(a, b)| a == m && b == p).count();
    assert_eq!(count("POST", "/git/commits"), 1, "{calls:?}");
    assert_eq!(count("POST", "/git/trees"), 1, "{calls:?}");
    assert_eq!(count("POST", "/git/blobs"), 3, "{calls:?}");
    assert_eq!(count("PATCH", "/git/refs/heads/main"), 1, "{calls:?}");
    let requests = fake.requests().await;
    let tree_request = requests
        .iter()
        .find(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/git/trees"))
        .expect("a tree request");
    let body: Value = serde_json::from_slice(&tree_request.body).expect("json");
    let mut paths: Vec<&str> = body["tree"]
        .as_array()
        .expect("tree entries")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    paths.sort_unstable();
    let mut want = FILES.to_vec();
    want.sort_unstable();
    assert_eq!(paths, want);
    let patch = requests
        .iter()
        .find(|r| r.method.as_str() == "PATCH")
        .expect("ref update");
    let patch: Value = serde_json::from_slice(&patch.body).expect("json");
    assert_eq!(patch["force"], false, "a fast forward only");

    // The branch: one commit on top of the initial one, holding the workspace's bytes.
    let g = fake.git();
    let history = g.history("main");
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(out.out("audit-commit"), Some(history[0].0.as_str()));
    assert!(
        history[0]
            .1
            .starts_with("report: 75.0% success, 4 runs, 1 failure"),
        "{}",
        history[0].1
    );
    assert!(
        g.files("main").contains_key("README.md"),
        "built on the head"
    );
    drop(g);
    assert_branch_holds_workspace_files(&fake, "main", &ws);
    assert_eq!(out.out("audit-pull-request"), None);
}

#[tokio::test]
async fn report_unchanged_second_run_makes_no_commit() {
    // Scenario: the weekly job re-runs with no new run in the trail; the dashboard differs
    // only in its generation time, so the branch gets no noise commit.
    let fake = FakeGit::start().await;
    let ws = history_workspace();
    weekly(&ws, &fake).run().assert_success();
    let before = calls(&fake).await.len();

    let again = weekly(&ws, &fake).run();
    again.assert_success();
    assert_eq!(fake.git().history("main").len(), 2, "no second commit");
    assert_eq!(again.out("audit-commit"), None);
    assert!(again.stdout.contains("no commit"), "{}", again.stdout);
    let second: Vec<(String, String)> = calls(&fake).await.split_off(before);
    assert!(
        second.iter().all(|(m, _)| m == "GET"),
        "an unchanged run only reads: {second:?}"
    );
    // repo, ref, commit, the root, docs and reports trees, the three files' blobs.
    assert_eq!(second.len(), 9, "{second:?}");

    // A new run in the trail is a change: one more commit.
    ws.write(
        "docs/reports/2026-11-17/manifest.json",
        manifest(vec![entry(
            5,
            "v1.3",
            "success",
            "2026-11-17T09:00:00Z",
            50_000,
        )]),
    );
    let third = weekly(&ws, &fake).run();
    third.assert_success();
    let history = fake.git().history("main");
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(third.out("audit-commit"), Some(history[0].0.as_str()));
    assert_branch_holds_workspace_files(&fake, "main", &ws);
}

#[tokio::test]
async fn report_branch_moved_underneath_is_reread_and_retried() {
    // Another writer commits between our read and our ref update: GitHub answers 422 (not a
    // fast forward), we re-read the new head and commit on top of it, keeping their file.
    let fake = FakeGit::start().await;
    fake.git().race = Some(BTreeMap::from([(
        "OTHER.md".to_string(),
        b"theirs".to_vec(),
    )]));
    let ws = history_workspace();
    let out = weekly(&ws, &fake).run();
    out.assert_success();
    assert!(
        out.stdout.contains("moved while we wrote"),
        "{}",
        out.stdout
    );
    let patches = calls(&fake)
        .await
        .iter()
        .filter(|(m, _)| m == "PATCH")
        .count();
    assert_eq!(patches, 2, "refused once, then the fast forward");
    let g = fake.git();
    let history: Vec<String> = g.history("main").into_iter().map(|(_, m)| m).collect();
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[1], "another writer");
    assert!(history[0].starts_with("report: "), "{history:?}");
    assert_eq!(g.files("main")["OTHER.md"], b"theirs");
    assert_eq!(out.out("audit-commit"), Some(g.refs["main"].as_str()));
    drop(g);
    assert_branch_holds_workspace_files(&fake, "main", &ws);
}

#[tokio::test]
async fn report_on_a_protected_branch_opens_a_pull_request() {
    let fake = FakeGit::start().await;
    fake.git().protected.insert("main".into());
    let ws = history_workspace();
    let out = weekly(&ws, &fake).input("audit-branch", "main").run();
    out.assert_success();
    let g = fake.git();
    assert_eq!(g.history("main").len(), 1, "main is untouched");
    assert_eq!(g.pulls.len(), 1);
    let side = g.pulls[0]["head"].as_str().expect("head").to_string();
    assert!(side.starts_with("slsa-report/9228858953-"), "{side}");
    assert_eq!(g.pulls[0]["base"], "main");
    assert_eq!(
        out.out("audit-pull-request"),
        g.pulls[0]["html_url"].as_str()
    );
    assert_eq!(out.out("audit-commit"), Some(g.refs[&side].as_str()));
    assert!(out.stdout.contains("::notice::"), "{}", out.stdout);
    drop(g);
    assert_branch_holds_workspace_files(&fake, &side, &ws);
}

#[tokio::test]
async fn report_commit_refused_is_a_warning_and_the_workspace_files_stay() {
    // Scenario: the weekly job's token lacks `contents: write`; every write is 403.
    let fake = FakeGit::start().await;
    fake.git().read_only = true;
    let ws = history_workspace();
    let out = weekly(&ws, &fake).run();
    out.assert_success();
    assert!(warned_not_committed(&out), "{}", out.stdout);
    assert_eq!(out.out("audit-commit"), None);
    assert_eq!(fake.git().history("main").len(), 1);
    let md = ws.read(DASHBOARD);
    assert!(md.contains("| Success rate | 75.0% (3/4)"), "{md}");
    assert_eq!(out.summary.trim(), md.trim());
    assert!(ws.path().join(BADGE_JSON).exists() && ws.path().join(BADGE_SVG).exists());
}

#[tokio::test]
async fn scheduled_report_with_the_default_store_commits_to_the_default_branch() {
    // No audit-store and no audit-branch input: commit (every mode's default) to the
    // repository's default branch, looked up once.
    let fake = FakeGit::start().await;
    let ws = history_workspace();
    let out = ws
        .runner()
        .event("schedule", json!({"schedule": "0 6 * * 1"}))
        .env("GITHUB_API_URL", fake.api_url())
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "5")
        .input("mode", "report")
        .input("github-token", TOKEN)
        // The harness defaults to the workspace store; the action's default is commit.
        .remove("INPUT_AUDIT-STORE")
        .run();
    out.assert_success();
    let calls = calls(&fake).await;
    assert_eq!(
        calls.first(),
        Some(&("GET".to_string(), String::new())),
        "{calls:?}\n{}",
        out.stdout
    );
    assert_eq!(fake.git().history("main").len(), 2);
    assert_branch_holds_workspace_files(&fake, "main", &ws);
}

#[tokio::test]
async fn report_workspace_and_none_stores_make_no_request() {
    for store in ["workspace", "none"] {
        let fake = FakeGit::start().await;
        let ws = history_workspace();
        let out = weekly(&ws, &fake).input("audit-store", store).run();
        out.assert_success();
        assert!(fake.requests().await.is_empty(), "{store}");
        assert_eq!(out.out("audit-commit"), None, "{store}");
        assert!(ws.path().join(DASHBOARD).exists(), "{store}");
    }
}

#[test]
fn report_without_a_token_warns_and_keeps_the_workspace_files() {
    let ws = history_workspace();
    let out = ws
        .runner()
        .event("schedule", json!({"schedule": "0 6 * * 1"}))
        .input("mode", "report")
        .input("audit-store", "commit")
        .run();
    out.assert_success();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("::warning::") && l.contains("no github-token")),
        "{}",
        out.stdout
    );
    assert!(ws.path().join(DASHBOARD).exists());
}

#[test]
fn report_with_an_unknown_store_is_invalid_input() {
    let ws = history_workspace();
    ws.runner()
        .input("mode", "report")
        .input("audit-store", "git")
        .run()
        .assert_failure("invalid_input");
    assert!(!ws.path().join(DASHBOARD).exists());
}
