//! `mode: report` run as the binary, the way a scheduled workflow runs it: the workspace's day
//! manifests, an organisation of 50 repositories behind a fake GitHub (Git Database API, ETags)
//! and a fake PostgREST for `source: supabase`, all on 127.0.0.1.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use wiremock::matchers::{any, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{sha256_hex, Runner, Workspace};

/// A manifest entry as `mode: provenance` writes it.
pub(crate) fn entry(run_id: u64, tag: &str, status: &str, ts: &str, ms: u64) -> Value {
    json!({"run_id": run_id, "tag": tag, "sha": "0123abc", "actor": "octocat",
        "artifact_url": if status == "success" { Some("https://github.com/x") } else { None },
        "timestamp": ts, "status": status, "governance_flag": "provenance-ready",
        "governance_flag_history": [], "release_url": null, "provenance_sha256": "ab",
        "duration_ms": ms})
}

pub(crate) fn manifest(entries: Vec<Value>) -> String {
    serde_json::to_string_pretty(&json!({"schema_version": 1, "entries": entries})).expect("json")
}

/// Three days: 4 runs, 1 failure (with an issue), durations 30/45/60/200 s.
pub(crate) fn write_history(ws: &Workspace) {
    let mut failed = entry(2, "v1.1", "failure", "2026-11-10T09:00:00Z", 200_000);
    failed["failure_reason"] = "subject_pattern_unmatched".into();
    failed["issue_number"] = 12.into();
    ws.write(
        "docs/reports/2026-11-09/manifest.json",
        manifest(vec![entry(
            1,
            "v1.0",
            "success",
            "2026-11-09T09:00:00Z",
            30_000,
        )]),
    );
    ws.write(
        "docs/reports/2026-11-10/manifest.json",
        manifest(vec![
            failed,
            entry(3, "v1.1", "success", "2026-11-10T10:00:00Z", 45_000),
        ]),
    );
    ws.write(
        "docs/reports/2026-11-16/manifest.json",
        manifest(vec![entry(
            4,
            "v1.2",
            "success",
            "2026-11-16T09:00:00Z",
            60_000,
        )]),
    );
}

fn report(ws: &Workspace) -> Runner {
    ws.runner()
        .event("schedule", json!({"schedule": "0 6 * * 1"}))
        .input("mode", "report")
}

#[test]
fn report_writes_dashboard_badges_and_outputs_as_a_scheduled_run() {
    let ws = Workspace::new();
    write_history(&ws);
    let out = report(&ws).run();
    out.assert_success();
    assert_eq!(out.out("runs"), Some("4"));
    assert_eq!(out.out("failures"), Some("1"));
    assert_eq!(out.out("success-rate"), Some("75.0"));
    // Nearest-rank p95 of 4 values is the 4th: 200 s.
    assert_eq!(out.out("p95-duration-ms"), Some("200000"));
    assert_eq!(
        out.out("dashboard-path"),
        Some("docs/reports/v_ops_slsa_status.md")
    );
    assert_eq!(
        out.out("badge-path"),
        Some("docs/reports/provenance-badge.json")
    );
    let md = ws.read("docs/reports/v_ops_slsa_status.md");
    assert!(
        md.contains("| Success rate | 75.0% (3/4) | 100% | ❌ fail |"),
        "{md}"
    );
    assert!(md.contains("xychart-beta"));
    assert!(md.contains("(https://github.com/octo/app/actions/runs/2)"));
    assert!(md.contains("(https://github.com/octo/app/issues/12)"));
    assert_eq!(
        out.summary.trim(),
        md.trim(),
        "the step summary is the dashboard"
    );
    let badge: Value =
        serde_json::from_str(&ws.read("docs/reports/provenance-badge.json")).expect("badge");
    assert_eq!(
        badge,
        json!({"schemaVersion": 1, "label": "provenance", "message": "failing 75%", "color": "red"})
    );
    let svg = ws.read("docs/reports/provenance-badge.svg");
    assert!(svg.starts_with("<svg") && svg.contains("failing 75%"));

    // Re-running changes nothing but the generation time.
    let again = report(&ws).input("badge-label", "SLSA").run();
    again.assert_success();
    assert!(ws
        .read("docs/reports/provenance-badge.svg")
        .contains(">SLSA<"));
}

#[test]
fn report_refuses_a_tampered_manifest_and_keeps_the_previous_dashboard() {
    // Scenario: someone hand-edits a day file and duplicates an entry; the weekly run must
    // not publish figures from it, and must not overwrite last week's dashboard.
    let ws = Workspace::new();
    write_history(&ws);
    ws.write(
        "docs/reports/2026-11-17/manifest.json",
        manifest(vec![
            entry(9, "v2", "success", "2026-11-17T09:00:00Z", 1),
            entry(9, "v2", "success", "2026-11-17T09:00:00Z", 1),
        ]),
    );
    ws.write("docs/reports/v_ops_slsa_status.md", "last week");
    let out = report(&ws).run();
    out.assert_failure("manifest_tampered");
    assert!(out.stdout.contains("2026-11-17"), "{}", out.stdout);
    assert_eq!(ws.read("docs/reports/v_ops_slsa_status.md"), "last week");
    assert!(!ws
        .path()
        .join("docs/reports/provenance-badge.json")
        .exists());
}

#[test]
fn report_refuses_a_manifest_that_does_not_parse() {
    let ws = Workspace::new();
    write_history(&ws);
    ws.write(
        "docs/reports/2026-11-18/manifest.json",
        "{\"schema_version\": 1, \"entries\": [",
    );
    report(&ws).run().assert_failure("manifest_tampered");
}

#[test]
fn report_refuses_an_emptied_day() {
    // Scenario: a failing day's entries are deleted to hide a failure; an empty file (which
    // `mode: provenance` never writes) must not read as "no runs that day".
    let ws = Workspace::new();
    write_history(&ws);
    ws.write("docs/reports/2026-11-10/manifest.json", "");
    let out = report(&ws).run();
    out.assert_failure("manifest_tampered");
    assert!(out.stdout.contains("no entries"), "{}", out.stdout);
}

#[test]
fn report_of_an_empty_history_says_no_runs() {
    let ws = Workspace::new();
    let out = report(&ws).run();
    out.assert_success();
    assert_eq!(out.out("runs"), Some("0"));
    assert_eq!(out.out("success-rate"), Some(""));
    assert!(ws
        .read("docs/reports/provenance-badge.json")
        .contains("no runs"));
}

// ---- source: supabase (a fake PostgREST) ----

#[tokio::test]
async fn report_from_supabase_reads_slsa_runs_with_the_key_in_headers() {
    let server = MockServer::start().await;
    // Rows as the sink writes them (`supabase/migrations/DDL_slsa_runs.sql`): the repository
    // and the whole manifest entry in `metadata`.
    let rows = json!([
        {"repository": "octo/app", "metadata": {"run_id": 1, "tag": "v1", "sha": "s", "actor": "a",
         "timestamp": "2026-11-16T09:00:00Z", "status": "success", "governance_flag": "f",
         "artifact_url": "https://a", "provenance_sha256": "ab", "duration_ms": 1000}},
        {"repository": "octo/app", "metadata": {"run_id": 2, "tag": "v2", "sha": "s", "actor": "a",
         "timestamp": "2026-11-17T09:00:00Z", "status": "failure", "governance_flag": "f",
         "artifact_url": null, "duration_ms": 3000, "notify_slack": true}},
        {"repository": "other/x", "metadata": {"run_id": 3, "tag": "v9", "sha": "s", "actor": "a",
         "timestamp": "2026-11-17T09:00:00Z", "status": "failure", "governance_flag": "f"}}
    ]);
    Mock::given(method("GET"))
        .and(path("/rest/v1/slsa_runs"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(rows))
        .mount(&server)
        .await;
    let ws = Workspace::new();
    let out = report(&ws)
        .input("source", "supabase")
        .input("supabase-url", server.uri())
        .input("supabase-key", "sb_secret_key_123")
        .input("repositories", "octo/*")
        .run();
    out.assert_success();
    assert_eq!(out.out("runs"), Some("2"), "other/x is filtered out");
    assert_eq!(out.out("success-rate"), Some("50.0"));
    assert_eq!(out.out("p95-duration-ms"), Some("3000"));
    let leaks: Vec<_> = out
        .stdout
        .lines()
        .filter(|l| l.contains("sb_secret_key_123") && !l.starts_with("::add-mask::"))
        .collect();
    assert!(
        leaks.is_empty(),
        "the key is masked, never printed: {leaks:?}"
    );
    let reqs = server.received_requests().await.unwrap_or_default();
    assert_eq!(reqs.len(), 1, "one short page");
    let r = &reqs[0];
    assert_eq!(
        r.headers.get("apikey").map(|v| v.as_bytes()),
        Some(&b"sb_secret_key_123"[..])
    );
    assert_eq!(
        r.headers.get("authorization").map(|v| v.as_bytes()),
        Some(&b"Bearer sb_secret_key_123"[..])
    );
    let select = r
        .url
        .query_pairs()
        .find(|(k, _)| k == "select")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    // The migration's columns: the repository and the whole entry (`metadata`).
    assert_eq!(select, "repository,metadata");
    assert!(ws
        .read("docs/reports/v_ops_slsa_status.md")
        .contains("source: supabase"));
}

#[tokio::test]
async fn supabase_failing_is_supabase_query_failed() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "Invalid API key"})),
        )
        .mount(&server)
        .await;
    let ws = Workspace::new();
    let out = report(&ws)
        .input("source", "supabase")
        .input("supabase-url", server.uri())
        .input("supabase-key", "wrong")
        .run();
    out.assert_failure("supabase_query_failed");
    assert!(out.stdout.contains("401"), "{}", out.stdout);
}

// ---- an organisation of 50 repositories (a fake GitHub) ----

const REPOS: usize = 50;

/// Routes -> bodies, answered with a strong ETag; `If-None-Match` with the same ETag gets 304.
struct FakeGitHub {
    routes: BTreeMap<String, String>,
    /// A tree listing answered 429 once (a rate limit), to check we wait and retry.
    rate_limited_once: String,
    limited: AtomicUsize,
    /// Tree listings answer after this delay, and their arrival times are kept, to measure
    /// how many are in flight at once.
    tree_delay: Option<Duration>,
    tree_arrivals: Arc<Mutex<Vec<Instant>>>,
}

impl Respond for FakeGitHub {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let tree = req.url.path().contains("/git/trees/");
        if tree {
            self.tree_arrivals
                .lock()
                .expect("lock")
                .push(Instant::now());
        }
        let answer = self.answer(req);
        match (tree, self.tree_delay) {
            (true, Some(d)) => answer.set_delay(d),
            _ => answer,
        }
    }
}

impl FakeGitHub {
    fn answer(&self, req: &Request) -> ResponseTemplate {
        let route = match req.url.query() {
            Some(q) => format!("{}?{q}", req.url.path()),
            None => req.url.path().to_string(),
        };
        if route.starts_with(&self.rate_limited_once)
            && self.limited.fetch_add(1, Ordering::SeqCst) == 0
        {
            return ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"message": "API rate limit exceeded"}));
        }
        let Some(body) = self.routes.get(&route) else {
            return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
        };
        let etag = format!("\"{}\"", &sha256_hex(body.as_bytes())[..16]);
        let held = req
            .headers
            .get("if-none-match")
            .and_then(|v| v.to_str().ok());
        if held == Some(etag.as_str()) {
            return ResponseTemplate::new(304).insert_header("etag", etag.as_str());
        }
        ResponseTemplate::new(200)
            .insert_header("etag", etag.as_str())
            .insert_header("content-type", "application/json")
            .set_body_string(body.clone())
    }
}

/// A content address like git's (40 hex digits; the fake does not need git's exact hash).
fn git_blob_sha(bytes: &[u8]) -> String {
    sha256_hex(bytes)[..40].to_string()
}

/// `octo/repo-00..49`: repo-13 is private to us (404 everywhere), repo-21 has a tampered day
/// when `tamper`; every other repository has `1 + i % 3` days of one or two runs.
fn organisation(tamper: bool) -> (BTreeMap<String, String>, usize) {
    let mut routes = BTreeMap::new();
    let mut listing = Vec::new();
    let mut blobs = 0;
    for i in 0..REPOS {
        let name = format!("octo/repo-{i:02}");
        listing.push(json!({"full_name": name, "default_branch": "main", "archived": false}));
        if i == 13 {
            continue;
        }
        let mut tree = vec![json!({"path": "README.md", "type": "blob", "sha": "0".repeat(40)})];
        for d in 0..(1 + i % 3) {
            let day = format!("2026-11-{:02}", 10 + d);
            let status = if (i + d) % 7 == 0 {
                "failure"
            } else {
                "success"
            };
            let mut entries = vec![entry(
                (i * 10 + d) as u64,
                "v1",
                status,
                &format!("{day}T09:00:00Z"),
                20_000 + i as u64 * 1000,
            )];
            if tamper && i == 21 && d == 0 {
                entries.push(entries[0].clone());
            }
            let text = manifest(entries);
            let sha = git_blob_sha(text.as_bytes());
            tree.push(json!({"path": format!("docs/reports/{day}"), "type": "tree", "sha": "1".repeat(40)}));
            tree.push(json!({"path": format!("docs/reports/{day}/manifest.json"), "type": "blob", "sha": sha}));
            // GitHub wraps base64 at 60 columns.
            let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
            let wrapped: Vec<String> = b64
                .as_bytes()
                .chunks(60)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            routes.insert(
                format!("/api/v3/repos/{name}/git/blobs/{sha}"),
                json!({"sha": sha, "encoding": "base64", "content": wrapped.join("\n")})
                    .to_string(),
            );
            blobs += 1;
        }
        routes.insert(
            format!("/api/v3/repos/{name}/git/trees/main?recursive=1"),
            json!({"sha": "t", "tree": tree, "truncated": false}).to_string(),
        );
    }
    routes.insert(
        "/api/v3/orgs/octo/repos?per_page=100&page=1".into(),
        Value::Array(listing).to_string(),
    );
    (routes, blobs)
}

async fn fake_github(tamper: bool) -> (MockServer, usize) {
    let server = MockServer::start().await;
    let (routes, blobs) = organisation(tamper);
    Mock::given(any())
        .respond_with(FakeGitHub {
            routes,
            rate_limited_once: "/api/v3/repos/octo/repo-07/git/trees/".into(),
            limited: AtomicUsize::new(0),
            tree_delay: None,
            tree_arrivals: Arc::default(),
        })
        .mount(&server)
        .await;
    (server, blobs)
}

fn org_report(ws: &Workspace, server: &MockServer) -> Runner {
    report(ws)
        .input("repositories", "octo/*")
        .input("github-token", "ghs_report_token")
        .env("GITHUB_API_URL", format!("{}/api/v3", server.uri()))
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "0.001")
}

#[tokio::test]
async fn organisation_report_of_50_repositories_costs_fewer_requests_when_repeated() {
    let (server, blobs) = fake_github(false).await;
    let ws = Workspace::new();

    let first = org_report(&ws, &server).run();
    first.assert_success();
    let reqs = server.received_requests().await.unwrap_or_default();
    // 1 listing + 50 trees (one 404) + 1 rate-limited retry + every manifest blob.
    assert_eq!(blobs, 97);
    assert_eq!(reqs.len(), 1 + REPOS + 1 + blobs, "first run");
    eprintln!("organisation of {REPOS}: first run {} requests", reqs.len());
    assert!(reqs
        .iter()
        .all(|r| r.headers.get("if-none-match").is_none()));
    assert!(reqs.iter().all(|r| r
        .headers
        .get("authorization")
        .is_some_and(|v| v.as_bytes() == b"Bearer ghs_report_token")));
    let md = ws.read("docs/reports/v_ops_slsa_status.md");
    assert!(md.contains("## Repositories"), "{md}");
    assert!(
        md.contains("| octo/repo\\-13 |") || md.contains("| octo/repo-13 |"),
        "{md}"
    );
    assert!(md.contains("unreadable"), "{md}");
    assert!(md.contains("49 of 50 read"), "{md}");
    assert!(
        first.stdout.contains("::warning::octo/repo-13"),
        "{}",
        first.stdout
    );
    let runs = first.out("runs").expect("runs").to_string();

    // The repeat: the listing and trees are revalidated (304), no blob is fetched again.
    let second = org_report(&ws, &server).run();
    second.assert_success();
    let all = server.received_requests().await.unwrap_or_default();
    let repeat = &all[reqs.len()..];
    assert_eq!(repeat.len(), 1 + REPOS, "second run: listing + trees only");
    eprintln!(
        "organisation of {REPOS}: repeated run {} requests",
        repeat.len()
    );
    assert!(repeat.iter().all(|r| !r.url.path().contains("/git/blobs/")));
    let conditional = repeat
        .iter()
        .filter(|r| r.headers.get("if-none-match").is_some())
        .count();
    assert_eq!(
        conditional,
        1 + REPOS - 1,
        "all but the unreadable one revalidate"
    );
    assert_eq!(second.out("runs"), Some(runs.as_str()));
}

#[tokio::test]
async fn organisation_report_lists_a_tampered_repository_then_fails() {
    let (server, _) = fake_github(true).await;
    let ws = Workspace::new();
    let out = org_report(&ws, &server).run();
    out.assert_failure("manifest_tampered");
    assert!(out.stdout.contains("octo/repo-21"), "{}", out.stdout);
    let md = ws.read("docs/reports/v_ops_slsa_status.md");
    assert!(
        md.contains("tampered"),
        "the dashboard is written and names it: {md}"
    );
}

#[test]
fn organisation_report_needs_a_token() {
    let ws = Workspace::new();
    report(&ws)
        .input("repositories", "octo/app")
        .run()
        .assert_failure("missing_input");
}

#[test]
fn bad_repositories_input_is_invalid_input() {
    let ws = Workspace::new();
    report(&ws)
        .input("repositories", "octo/../x")
        .input("github-token", "t")
        .run()
        .assert_failure("invalid_input");
}

#[tokio::test]
async fn user_wildcard_and_named_repositories_find_their_audit_branch() {
    // `alice` is a user, not an organisation (/orgs/alice/repos is 404); `octo/solo` is named,
    // so its default branch (`trunk`) comes from GET /repos/octo/solo.
    let text = manifest(vec![entry(
        1,
        "v1",
        "success",
        "2026-11-16T09:00:00Z",
        1_000,
    )]);
    let sha = git_blob_sha(text.as_bytes());
    let blob = json!({"encoding": "base64",
        "content": base64::engine::general_purpose::STANDARD.encode(text.as_bytes())})
    .to_string();
    let tree = json!({"truncated": false, "tree": [
        {"path": "docs/reports/2026-11-16/manifest.json", "type": "blob", "sha": sha}]})
    .to_string();
    let mut routes = BTreeMap::new();
    routes.insert(
        "/api/v3/users/alice/repos?per_page=100&page=1".to_string(),
        json!([{"full_name": "alice/tool", "default_branch": "main"}]).to_string(),
    );
    routes.insert(
        "/api/v3/repos/octo/solo".into(),
        json!({"full_name": "octo/solo", "default_branch": "trunk"}).to_string(),
    );
    for (repo, branch) in [("alice/tool", "main"), ("octo/solo", "trunk")] {
        routes.insert(
            format!("/api/v3/repos/{repo}/git/trees/{branch}?recursive=1"),
            tree.clone(),
        );
        routes.insert(
            format!("/api/v3/repos/{repo}/git/blobs/{sha}"),
            blob.clone(),
        );
    }
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(FakeGitHub {
            routes,
            rate_limited_once: "/never".into(),
            limited: AtomicUsize::new(0),
            tree_delay: None,
            tree_arrivals: Arc::default(),
        })
        .mount(&server)
        .await;
    let ws = Workspace::new();
    let out = org_report(&ws, &server)
        .input("repositories", "alice/*\nocto/solo")
        .run();
    out.assert_success();
    assert_eq!(out.out("runs"), Some("2"));
    let md = ws.read("docs/reports/v_ops_slsa_status.md");
    assert!(md.contains("2 of 2 read"), "{md}");
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert!(paths.contains(&"/api/v3/orgs/alice/repos".to_string()));
    assert!(paths.contains(&"/api/v3/repos/octo/solo/git/trees/trunk".to_string()));
}

#[tokio::test]
async fn organisation_report_reads_at_most_8_repositories_at_once() {
    // Each tree listing takes 100 ms to answer: listings that arrive within 100 ms of each
    // other were in flight together, so the largest such group bounds the concurrency from below.
    let server = MockServer::start().await;
    let (routes, _) = organisation(false);
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    Mock::given(any())
        .respond_with(FakeGitHub {
            routes,
            rate_limited_once: "/never".into(),
            limited: AtomicUsize::new(0),
            tree_delay: Some(Duration::from_millis(100)),
            tree_arrivals: arrivals.clone(),
        })
        .mount(&server)
        .await;
    let ws = Workspace::new();
    org_report(&ws, &server).run().assert_success();
    let mut t = arrivals.lock().expect("lock").clone();
    t.sort();
    assert_eq!(t.len(), REPOS);
    let window = Duration::from_millis(100);
    let most = (0..t.len())
        .map(|i| t[i..].iter().take_while(|x| **x - t[i] < window).count())
        .max()
        .unwrap_or(0);
    assert!(most <= 8, "{most} tree listings in flight at once");
    assert!(most >= 2, "repositories are read concurrently ({most})");
}
