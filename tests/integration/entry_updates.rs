//! Every mode that learns something about a run updates that run's entry through the audit
//! store (`modes::entry_store`): the workspace files re-sealed (the day and every later day),
//! or the audit branch by the run record's compare-and-swap. Fakes: the Git Database API of
//! `audit_store`, a webhook on 127.0.0.1 for notify.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::audit_store::{
    chained_days, day_of, manifest_at, run_against, verify_files, workspace, FakeGit, TOKEN,
};
use crate::common::{Runner, Workspace};

async fn webhook() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"delivered": true})),
        )
        .mount(&server)
        .await;
    server
}

fn notify(ws: &Workspace, hook: &MockServer, run_id: u64, tag: &str) -> Runner {
    ws.runner()
        .input("mode", "notify")
        .input("run-id", run_id.to_string())
        .input("tag", tag)
        .input("notify-webhook-url", format!("{}/hook", hook.uri()))
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "5000")
}

fn entry_of(dir: &Path, day: &str, run_id: u64) -> Value {
    let m: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(day).join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    m["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["run_id"] == run_id)
        .cloned()
        .expect("entry")
}

fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    ["2026-03-01", "2026-03-02", "2026-03-03"]
        .iter()
        .map(|d| {
            (
                d.to_string(),
                std::fs::read_to_string(dir.join(d).join("manifest.json")).expect("r"),
            )
        })
        .collect()
}

#[tokio::test]
async fn notify_of_an_earlier_days_run_re_links_every_later_day_and_the_chain_stays_valid() {
    // Run 1 is on 2026-03-01; 03-02 and 03-03 follow. Re-sealing 03-01 changes its head, so
    // the later days are re-linked: verify-manifest still passes.
    let ws = Workspace::new();
    let dir = ws.path().join("docs/reports");
    chained_days(&dir);
    let before = snapshot(&dir);
    let hook = webhook().await;
    let out = notify(&ws, &hook, 1, "v1.1")
        .input("audit-store", "workspace")
        .run();
    out.assert_success();
    assert_eq!(entry_of(&dir, "2026-03-01", 1)["notify_slack"], true);
    let after = snapshot(&dir);
    assert!(
        before.iter().all(|(d, t)| after[d] != *t),
        "the day and both later days are re-sealed"
    );
    ws.runner()
        .arg("verify-manifest")
        .arg("docs/reports")
        .run()
        .assert_success();
}

#[tokio::test]
async fn hand_edited_manifest_makes_notify_and_recover_fail_with_manifest_tampered_without_writing()
{
    // Someone edits an entry of 2026-03-01 by hand; an update must not re-seal (launder) it.
    let ws = Workspace::new();
    let dir = ws.path().join("docs/reports");
    chained_days(&dir);
    let day1 = dir.join("2026-03-01/manifest.json");
    let text = std::fs::read_to_string(&day1).expect("r");
    std::fs::write(&day1, text.replace("\"octocat\"", "\"mallory\"")).expect("w");
    let before = snapshot(&dir);
    let hook = webhook().await;
    let out = notify(&ws, &hook, 5, "v1.5")
        .input("audit-store", "workspace")
        .run();
    out.assert_failure("manifest_tampered");
    assert!(out.stdout.contains("2026-03-01"), "{}", out.stdout);
    let out = ws
        .runner()
        .input("mode", "recover")
        .input("run-id", "5")
        .input("tag", "v1.5")
        .input("github-token", TOKEN)
        .input("audit-store", "workspace")
        .run();
    out.assert_failure("manifest_tampered");
    assert_eq!(snapshot(&dir), before, "nothing was written");
    assert!(
        hook.received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "notify stopped before it told anyone"
    );
}

#[tokio::test]
async fn commit_store_provenance_then_notify_updates_the_entry_on_the_branch() {
    // A provenance run commits its record; notify then updates that entry by a fast-forward
    // commit of its own on the audit branch.
    let fake = FakeGit::start().await;
    let ws = workspace();
    run_against(&ws, &fake, "v1.0.0", 101)
        .run()
        .assert_success();
    let hook = webhook().await;
    let out = notify(&ws, &hook, 101, "v1.0.0")
        .env("GITHUB_API_URL", fake.api_url())
        .input("audit-store", "commit")
        .input("github-token", TOKEN)
        .run();
    out.assert_success();
    let g = fake.git();
    let history = g.history("main");
    assert_eq!(history.len(), 3, "initial, provenance, notify");
    assert!(
        history[0].1.starts_with("notify: v1.0.0 run 101"),
        "{}",
        history[0].1
    );
    assert_eq!(out.out("audit-commit"), Some(history[0].0.as_str()));
    let files = g.files("main");
    let m = manifest_at(&files);
    assert_eq!(m["entries"][0]["notify_slack"], true);
    assert_eq!(
        m["entries"][0]["status"], "success",
        "the run's own fields stay"
    );
    drop(g);
    verify_files(&fake.git().files("main")).assert_success();
    // The workspace copy says the same.
    let day = day_of(&files);
    assert_eq!(
        entry_of(&ws.path().join("docs/reports"), &day, 101)["notify_slack"],
        true
    );
}

#[tokio::test]
async fn concurrent_commit_while_notify_updates_is_re_read_and_retried() {
    // Another writer commits between notify's read and its ref update (422 not a fast
    // forward): notify re-reads the head, re-applies its update, and lands on top.
    let fake = FakeGit::start().await;
    let ws = workspace();
    run_against(&ws, &fake, "v1.0.0", 202)
        .run()
        .assert_success();
    fake.git().race = Some(BTreeMap::from([(
        "OTHER.md".to_string(),
        b"theirs".to_vec(),
    )]));
    let hook = webhook().await;
    let out = notify(&ws, &hook, 202, "v1.0.0")
        .env("GITHUB_API_URL", fake.api_url())
        .input("audit-store", "commit")
        .input("github-token", TOKEN)
        .run();
    out.assert_success();
    assert!(
        out.stdout.contains("moved while we wrote"),
        "{}",
        out.stdout
    );
    let g = fake.git();
    let history: Vec<String> = g.history("main").into_iter().map(|(_, m)| m).collect();
    assert_eq!(history.len(), 4, "{history:?}");
    assert!(history[0].starts_with("notify:"), "{history:?}");
    let files = g.files("main");
    assert!(files.contains_key("OTHER.md"), "their commit is kept");
    assert_eq!(manifest_at(&files)["entries"][0]["notify_slack"], true);
    drop(g);
    verify_files(&fake.git().files("main")).assert_success();
}

#[test]
fn report_refuses_an_edited_sealed_day_that_only_the_hash_chain_catches() {
    // A sealed entry's run_id is edited by hand (still unique, ordered, non-empty: only the
    // hash chain sees it); report must fail with manifest_tampered and write no dashboard.
    let ws = Workspace::new();
    let dir = ws.path().join("docs/reports");
    chained_days(&dir);
    let day = dir.join("2026-03-02/manifest.json");
    let text = std::fs::read_to_string(&day).expect("r");
    std::fs::write(&day, text.replace("\"run_id\": 4", "\"run_id\": 44")).expect("w");
    let out = ws
        .runner()
        .event("schedule", serde_json::json!({"schedule": "0 6 * * 1"}))
        .input("mode", "report")
        .run();
    out.assert_failure("manifest_tampered");
    assert!(out.stdout.contains("2026-03-02"), "{}", out.stdout);
    assert!(!dir.join("v_ops_slsa_status.md").exists());
}

fn verify_workspace(ws: &Workspace) {
    ws.runner()
        .arg("verify-manifest")
        .arg("docs/reports")
        .run()
        .assert_success();
}

/// The one entry of the workspace trail (a single run).
fn only_entry(ws: &Workspace) -> Value {
    let dir = ws.path().join("docs/reports");
    let day = std::fs::read_dir(&dir)
        .expect("reports")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|d| dir.join(d).join("manifest.json").is_file())
        .expect("a day");
    let m: Value =
        serde_json::from_str(&ws.read(&format!("docs/reports/{day}/manifest.json"))).expect("json");
    m["entries"][0].clone()
}

#[tokio::test]
async fn workspace_store_provenance_then_validate_then_notify_keeps_every_modes_fields_and_the_chain(
) {
    // One run: provenance records it, validate and notify each add their fields; the chain
    // verifies after every step.
    let (ws, bundle, _) = crate::validate::signed_release();
    verify_workspace(&ws);
    let run_id = only_entry(&ws)["run_id"].as_u64().expect("run id");
    crate::validate::validate_own(&ws, &bundle)
        .input("audit-store", "workspace")
        .run()
        .assert_success();
    assert_eq!(only_entry(&ws)["validation_status"], "passed");
    verify_workspace(&ws);
    let hook = webhook().await;
    notify(&ws, &hook, run_id, "v1.0.0")
        .input("audit-store", "workspace")
        .run()
        .assert_success();
    let e = only_entry(&ws);
    assert_eq!(e["notify_slack"], true);
    assert_eq!(e["validation_status"], "passed", "validate's field stays");
    assert_eq!(e["status"], "success", "provenance's field stays");
    verify_workspace(&ws);
}

#[test]
fn hand_edited_manifest_makes_validate_fail_with_manifest_tampered_without_writing() {
    // The run's entry is edited by hand after provenance sealed it; validate must refuse.
    let (ws, bundle, _) = crate::validate::signed_release();
    let dir = ws.path().join("docs/reports");
    let day = std::fs::read_dir(&dir)
        .expect("reports")
        .filter_map(Result::ok)
        .map(|e| e.path().join("manifest.json"))
        .find(|p| p.is_file())
        .expect("manifest");
    let text = std::fs::read_to_string(&day).expect("r");
    let edited = text.replacen("\"success\"", "\"failure\"", 1);
    assert_ne!(edited, text);
    std::fs::write(&day, &edited).expect("w");
    let out = crate::validate::validate_own(&ws, &bundle)
        .input("audit-store", "workspace")
        .run();
    out.assert_failure("manifest_tampered");
    assert_eq!(std::fs::read_to_string(&day).expect("r"), edited);
}

#[tokio::test]
async fn validate_tells_the_supabase_validate_function_and_its_failure_is_only_a_warning() {
    // After validate records the outcome, the seed's edge function gets {tag, run_id, status,
    // verified_at}; a 500 from it warns and the validation still passes.
    let (ws, bundle, _) = crate::validate::signed_release();
    let run_id = only_entry(&ws)["run_id"].as_u64().expect("run id");
    let supabase = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500).set_body_string("down"))
        .mount(&supabase)
        .await;
    let out = crate::validate::validate_own(&ws, &bundle)
        .input("audit-store", "workspace")
        .input("supabase-url", supabase.uri())
        .input("supabase-key", "sb_test_key_123")
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .run();
    out.assert_success();
    assert!(
        out.stdout.contains("::warning::Supabase validate function"),
        "{}",
        out.stdout
    );
    let sent = supabase.received_requests().await.unwrap_or_default();
    // The updated entry's row went to the table first (its failure only warns too).
    assert!(
        sent.iter().any(|r| r.url.path() == "/rest/v1/slsa_runs"),
        "{sent:?}"
    );
    assert!(out.stdout.contains("::warning::Supabase sink failed"));
    let req = sent
        .iter()
        .find(|r| r.url.path() == "/functions/v1/provenance-validate")
        .expect("the function was called");
    assert_eq!(req.method.as_str(), "POST");
    let body: Value = req.body_json().expect("json");
    assert_eq!(body["tag"], "v1.0.0");
    assert_eq!(body["run_id"], run_id);
    assert_eq!(body["status"], "passed");
    assert!(body["verified_at"].is_string());
    assert!(body.get("failure_reason").is_none());
}

#[tokio::test]
async fn commit_store_update_on_a_protected_branch_opens_a_pull_request() {
    // The run is on main; main becomes protected before notify: the update goes to a side
    // branch with a pull request, main is untouched.
    let fake = FakeGit::start().await;
    let ws = workspace();
    run_against(&ws, &fake, "v1.0.0", 303)
        .run()
        .assert_success();
    fake.git().protected.insert("main".into());
    let hook = webhook().await;
    let out = notify(&ws, &hook, 303, "v1.0.0")
        .env("GITHUB_API_URL", fake.api_url())
        .input("audit-store", "commit")
        .input("github-token", TOKEN)
        .run();
    out.assert_success();
    let g = fake.git();
    assert_eq!(g.history("main").len(), 2, "main is untouched");
    assert_eq!(g.pulls.len(), 1);
    let side = g.pulls[0]["head"].as_str().expect("head").to_string();
    assert!(side.starts_with("provenance/v1.0.0-303-notify-"), "{side}");
    assert_eq!(out.out("audit-commit"), Some(g.refs[&side].as_str()));
    let files = g.files(&side);
    assert_eq!(manifest_at(&files)["entries"][0]["notify_slack"], true);
    drop(g);
    verify_files(&fake.git().files(&side)).assert_success();
}

#[tokio::test]
async fn commit_store_refuses_to_update_a_tampered_trail_at_the_branch_head() {
    // Someone edits the committed manifest on main (not the workspace copy): notify fails
    // with manifest_tampered and makes no commit.
    let fake = FakeGit::start().await;
    let ws = workspace();
    run_against(&ws, &fake, "v1.0.0", 404)
        .run()
        .assert_success();
    let files = fake.git().files("main");
    let day = day_of(&files);
    let path = format!("docs/reports/{day}/manifest.json");
    let edited = String::from_utf8(files[&path].clone())
        .expect("utf8")
        .replace("\"success\"", "\"failure\"");
    fake.git()
        .commit_on_main(BTreeMap::from([(path, edited.into_bytes())]), "hand edit");
    let hook = webhook().await;
    let out = notify(&ws, &hook, 404, "v1.0.0")
        .env("GITHUB_API_URL", fake.api_url())
        .input("audit-store", "commit")
        .input("github-token", TOKEN)
        .run();
    out.assert_failure("manifest_tampered");
    assert_eq!(
        fake.git().history("main").len(),
        3,
        "no commit after the edit"
    );
    assert!(
        entry_of(&ws.path().join("docs/reports"), &day, 404)
            .get("notify_slack")
            .is_none(),
        "the workspace copy is not updated either"
    );
}
