//! Integration tests: `mode: notify` against a fake Slack, a fake notify webhook and a fake
//! GitHub (issues), all on 127.0.0.1.
//!
//! The fake GitHub is stateful (issues with bodies, labels, comments, state), so a second run
//! sees what the first one did. Slack answers are scripted in order. Retry waits are shrunk with
//! `SLSA_PROVENANCE_RETRY_BASE_MS` / `SLSA_PROVENANCE_RETRY_AFTER_SCALE`: no test sleeps seconds.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{Runner, Workspace};

const RUN: u64 = 9228858953;
const TAG: &str = "v1.0.0";
pub(crate) const TOKEN: &str = "ghs_fakeNotifyToken123";
const HOOK_SECRET: &str = "T000/B000/SENTINELHOOKSECRET";
const DAY: &str = "docs/reports/2026-11-21/manifest.json";

#[derive(Debug, Clone)]
pub(crate) struct FakeIssue {
    number: u64,
    title: String,
    body: String,
    labels: Vec<String>,
    open: bool,
    comments: Vec<String>,
}

#[derive(Debug, Default)]
struct GhState {
    issues: Vec<FakeIssue>,
    /// Answer every request with this status (GitHub down / no permission).
    down: Option<u16>,
}

struct GhRouter(Arc<Mutex<GhState>>);

impl Respond for GhRouter {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().expect("state");
        if let Some(status) = s.down {
            return ResponseTemplate::new(status).set_body_json(json!({"message": "down"}));
        }
        assert_eq!(
            req.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        let p = req.url.path().to_string();
        let seg: Vec<&str> = p.trim_start_matches('/').split('/').collect();
        let q = |k: &str| {
            req.url
                .query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.to_string())
        };
        match (req.method.as_str(), seg.as_slice()) {
            ("GET", ["repos", "octo", "app", "issues"]) => {
                assert_eq!(q("state").as_deref(), Some("open"));
                let label = q("labels").expect("listed by label");
                let list: Vec<Value> = s
                    .issues
                    .iter()
                    .filter(|i| i.open && i.labels.contains(&label))
                    .map(|i| json!({"number": i.number, "body": i.body, "state": "open"}))
                    .collect();
                ResponseTemplate::new(200).set_body_json(list)
            }
            ("POST", ["repos", "octo", "app", "issues"]) => {
                let b: Value = req.body_json().expect("json");
                let number = 100 + s.issues.len() as u64;
                s.issues.push(FakeIssue {
                    number,
                    title: b["title"].as_str().expect("title").into(),
                    body: b["body"].as_str().expect("body").into(),
                    labels: b["labels"]
                        .as_array()
                        .expect("labels")
                        .iter()
                        .map(|l| l.as_str().expect("label").to_string())
                        .collect(),
                    open: true,
                    comments: Vec::new(),
                });
                ResponseTemplate::new(201).set_body_json(json!({
                    "number": number,
                    "html_url": format!("https://github.com/octo/app/issues/{number}"),
                }))
            }
            ("POST", ["repos", "octo", "app", "issues", n, "comments"]) => {
                let b: Value = req.body_json().expect("json");
                match s.issues.iter_mut().find(|i| i.number.to_string() == *n) {
                    Some(i) => {
                        i.comments.push(b["body"].as_str().expect("body").into());
                        ResponseTemplate::new(201).set_body_json(json!({"id": 1}))
                    }
                    None => {
                        ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}))
                    }
                }
            }
            ("PATCH", ["repos", "octo", "app", "issues", n]) => {
                let b: Value = req.body_json().expect("json");
                match s.issues.iter_mut().find(|i| i.number.to_string() == *n) {
                    Some(i) => {
                        i.open = b["state"] != "closed";
                        ResponseTemplate::new(200).set_body_json(json!({"number": i.number}))
                    }
                    None => {
                        ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}))
                    }
                }
            }
            _ => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
        }
    }
}

pub(crate) struct FakeGitHub {
    pub(crate) server: MockServer,
    state: Arc<Mutex<GhState>>,
}

impl FakeGitHub {
    pub(crate) async fn start() -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(GhState::default()));
        Mock::given(any())
            .respond_with(GhRouter(state.clone()))
            .mount(&server)
            .await;
        Self { server, state }
    }

    pub(crate) fn issues(&self) -> Vec<FakeIssue> {
        self.state.lock().expect("state").issues.clone()
    }
}

/// Answers in order; the last one repeats.
struct Script(Mutex<VecDeque<ResponseTemplate>>);

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut q = self.0.lock().expect("script");
        if q.len() > 1 {
            q.pop_front().expect("answer")
        } else {
            q.front().cloned().expect("answer")
        }
    }
}

pub(crate) async fn slack(answers: Vec<ResponseTemplate>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Script(Mutex::new(answers.into())))
        .mount(&server)
        .await;
    server
}

pub(crate) fn text(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_string(body)
}

/// A workspace whose manifest has a failed entry for [`RUN`].
fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write(DAY, fixture_manifest());
    ws
}

/// The unchained (schema 1) manifest [`workspace`] starts from.
fn fixture_manifest() -> String {
    serde_json::to_string_pretty(&json!({"schema_version": 1, "entries": [{
        "run_id": RUN, "tag": TAG, "sha": "95baf27389e83e6a5c48f42e190d48d7abcea19e",
        "artifact_url": "https://github.com/octo/app/releases/download/v1.0.0/app.tar.gz",
        "actor": "octocat", "timestamp": "2026-11-21T10:00:00Z", "status": "failure",
        "governance_flag": "provenance-missing", "governance_flag_history": [],
        "release_url": null, "failure_reason": "signing_failed"
    }]}))
    .expect("json")
}

fn notify(ws: &Workspace, gh: Option<&FakeGitHub>) -> Runner {
    let r = ws
        .runner()
        .input("mode", "notify")
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "0.001")
        .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "3000");
    match gh {
        Some(gh) => r
            .env("GITHUB_API_URL", gh.server.uri())
            .input("github-token", TOKEN),
        None => r,
    }
}

fn hook_url(server: &MockServer) -> String {
    format!("{}/services/{HOOK_SECRET}", server.uri())
}

/// The secret appears on a line other than the `::add-mask::` that tells the runner to hide it.
fn leaked(stdout: &str, secret: &str) -> bool {
    stdout
        .lines()
        .any(|l| l.contains(secret) && !l.starts_with("::add-mask::"))
}

fn entry(ws: &Workspace) -> Value {
    let m: Value = serde_json::from_str(&ws.read(DAY)).expect("manifest");
    m["entries"][0].clone()
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| r.body_json().expect("json body"))
        .collect()
}

#[tokio::test]
async fn incoming_webhook_ok_delivers_block_kit_and_records_notify_slack() {
    let ws = workspace();
    let hook = slack(vec![text(200, "ok")]).await;
    let gh = FakeGitHub::start().await;
    let out = notify(&ws, Some(&gh))
        .input("slack-webhook-url", hook_url(&hook))
        .run();
    out.assert_success();
    assert_eq!(out.out("slack-delivered"), Some("true"));
    assert_eq!(out.out("channel"), Some("slack"));
    assert_eq!(out.out("issue-number"), Some(""));
    assert!(gh.issues().is_empty(), "delivered: no issue");
    let sent = bodies(&hook).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["blocks"][0]["type"], "header");
    assert!(sent[0]["text"]
        .as_str()
        .expect("fallback")
        .contains(&format!("run {RUN}")));
    assert!(!leaked(&out.stdout, "SENTINELHOOKSECRET"), "{}", out.stdout);
    let e = entry(&ws);
    assert_eq!(e["notify_slack"], true);
    assert!(e.get("issue_number").is_none(), "{e}");
}

#[tokio::test]
async fn chat_post_message_sends_token_and_channel() {
    let ws = workspace();
    let api = slack(vec![
        ResponseTemplate::new(200).set_body_json(json!({"ok": true}))
    ])
    .await;
    let out = notify(&ws, None)
        .env("SLSA_PROVENANCE_SLACK_API_URL", api.uri())
        .input("slack-token", "xoxb-SENTINELSLACKTOKEN")
        .input("slack-channel", "#releases")
        .run();
    out.assert_success();
    assert_eq!(out.out("channel"), Some("slack"));
    let reqs = api.received_requests().await.unwrap_or_default();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].url.path(), "/chat.postMessage");
    assert_eq!(
        reqs[0]
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer xoxb-SENTINELSLACKTOKEN")
    );
    let body: Value = reqs[0].body_json().expect("json");
    assert_eq!(body["channel"], "#releases");
    assert!(!leaked(&out.stdout, "SENTINELSLACKTOKEN"));
}

#[tokio::test]
async fn each_slack_error_class_is_permanent_and_sent_once() {
    let cases: Vec<(&str, ResponseTemplate)> = vec![
        ("invalid_payload", text(400, "invalid_payload")),
        ("invalid_blocks", text(400, "invalid_blocks")),
        ("channel_not_found", text(404, "channel_not_found")),
        ("channel_is_archived", text(410, "channel_is_archived")),
        ("action_prohibited", text(403, "action_prohibited")),
        ("no_service", text(404, "no_service")),
    ];
    for (error, answer) in cases {
        let ws = workspace();
        let hook = slack(vec![answer]).await;
        let out = notify(&ws, None)
            .input("slack-webhook-url", hook_url(&hook))
            .input("issue-on", "never")
            .run();
        out.assert_failure("notify_failed");
        assert!(out.stdout.contains(error), "{error}: {}", out.stdout);
        assert_eq!(
            hook.received_requests().await.unwrap_or_default().len(),
            1,
            "{error} retried"
        );
        assert_eq!(entry(&ws)["notify_slack"], false);
    }
    // chat.postMessage says it in JSON with HTTP 200.
    let ws = workspace();
    let api = slack(vec![
        ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "invalid_auth"}))
    ])
    .await;
    let out = notify(&ws, None)
        .env("SLSA_PROVENANCE_SLACK_API_URL", api.uri())
        .input("slack-token", "xoxb-1")
        .input("slack-channel", "C1")
        .input("issue-on", "never")
        .run();
    out.assert_failure("notify_failed");
    assert!(out.stdout.contains("invalid_auth"), "{}", out.stdout);
    assert_eq!(api.received_requests().await.unwrap_or_default().len(), 1);
}

#[tokio::test]
async fn rate_limit_429_waits_retry_after_then_delivers() {
    let ws = workspace();
    let hook = slack(vec![
        text(429, "rate_limited").insert_header("retry-after", "30"),
        text(503, "rollup_error"),
        text(200, "ok"),
    ])
    .await;
    let started = std::time::Instant::now();
    let out = notify(&ws, None)
        .input("slack-webhook-url", hook_url(&hook))
        .run();
    out.assert_success();
    assert_eq!(hook.received_requests().await.unwrap_or_default().len(), 3);
    // 30 s scaled by 0.001: the wait was honoured without sleeping for real.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(out.stdout.contains("attempt 2/"), "{}", out.stdout);
}

#[tokio::test]
async fn slack_down_opens_an_issue_with_marker_and_labels() {
    let ws = workspace();
    let hook = slack(vec![text(503, "down")]).await;
    let gh = FakeGitHub::start().await;
    let out = notify(&ws, Some(&gh))
        .input("slack-webhook-url", hook_url(&hook))
        .run();
    out.assert_success();
    assert_eq!(out.out("channel"), Some("issue"));
    assert_eq!(out.out("slack-delivered"), Some("false"));
    assert_eq!(out.out("issue-number"), Some("100"));
    assert_eq!(
        out.out("issue-url"),
        Some("https://github.com/octo/app/issues/100")
    );
    let issues = gh.issues();
    assert_eq!(issues.len(), 1);
    let i = &issues[0];
    assert!(
        i.body.starts_with(&format!(
            "<!-- slsa-provenance-action:notify repo=octo/app tag=v1.0.0 run={RUN} -->"
        )),
        "{}",
        i.body
    );
    assert!(i.title.contains(TAG));
    assert_eq!(
        i.labels,
        [
            "slsa-provenance",
            "automated",
            "ops-alert",
            "provenance-failure"
        ]
    );
    assert!(i.body.contains("signing_failed") && i.body.contains("gh run rerun"));
    assert!(
        hook.received_requests().await.unwrap_or_default().len() > 1,
        "5xx is retried"
    );
    assert_eq!(entry(&ws)["issue_number"], 100);
    assert!(!leaked(&out.stdout, "SENTINELHOOKSECRET"));
}

#[tokio::test]
async fn notify_webhook_delivered_false_opens_issue_and_sets_slack_retry() {
    let ws = workspace();
    let fun = slack(vec![
        ResponseTemplate::new(200).set_body_json(json!({"delivered": false}))
    ])
    .await;
    let gh = FakeGitHub::start().await;
    let out = notify(&ws, Some(&gh))
        .input("notify-webhook-url", hook_url(&fun))
        .input("failure-reason", "predicate_mismatch")
        .run();
    out.assert_success();
    assert_eq!(out.out("channel"), Some("issue"));
    let sent = bodies(&fun).await;
    assert_eq!(sent.len(), 1, "delivered=false is an answer, not retried");
    assert_eq!(sent[0]["run_id"], RUN);
    assert_eq!(sent[0]["status"], "failure");
    assert!(gh.issues()[0]
        .labels
        .contains(&"security-backcompat".to_string()));
    let e = entry(&ws);
    assert_eq!(e["slack_retry"], 1);
    assert_eq!(e["notify_slack"], false);
    assert_eq!(e["issue_number"], 100);
}

#[tokio::test]
async fn second_notify_for_the_same_run_comments_instead_of_opening_a_twin() {
    let ws = workspace();
    let gh = FakeGitHub::start().await;
    notify(&ws, Some(&gh)).run().assert_success();
    // The manifest is back to the fixture, without issue_number (editing the sealed file
    // would be tampering, refused): the marker alone must find the issue.
    assert!(ws.read(DAY).contains("\"issue_number\": 100"));
    ws.write(DAY, fixture_manifest());
    let out = notify(&ws, Some(&gh)).run();
    out.assert_success();
    let issues = gh.issues();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(issues[0].comments.len(), 1);
    assert_eq!(out.out("issue-number"), Some("100"));
}

#[tokio::test]
async fn later_success_for_the_same_tag_comments_and_closes_the_issue() {
    let ws = workspace();
    let gh = FakeGitHub::start().await;
    notify(&ws, Some(&gh)).run().assert_success();
    let out = notify(&ws, Some(&gh))
        .input("status", "success")
        .input("run-id", "9228858999")
        .input("tag", TAG)
        .run();
    out.assert_success();
    let issues = gh.issues();
    assert_eq!(issues.len(), 1);
    assert!(!issues[0].open, "closed");
    assert!(
        issues[0].comments[0].contains("9228858999"),
        "{:?}",
        issues[0].comments
    );
}

#[tokio::test]
async fn slack_and_github_both_down_fail_with_notify_failed_naming_both() {
    let ws = workspace();
    let hook = slack(vec![text(404, "no_service")]).await;
    let gh = FakeGitHub::start().await;
    gh.state.lock().expect("state").down = Some(403);
    let out = notify(&ws, Some(&gh))
        .input("slack-webhook-url", hook_url(&hook))
        .run();
    out.assert_failure("notify_failed");
    assert!(out.stdout.contains("no_service"), "{}", out.stdout);
    assert!(out.stdout.contains("HTTP 403"), "{}", out.stdout);
    // What was learnt is still recorded.
    assert_eq!(entry(&ws)["notify_slack"], false);
}

#[tokio::test]
async fn status_auto_without_manifest_entry_is_invalid_input() {
    let ws = Workspace::new();
    let out = ws.runner().input("mode", "notify").run();
    out.assert_failure("invalid_input");
}

#[tokio::test]
async fn slack_api_url_in_clear_text_is_refused_before_the_token_is_sent() {
    let ws = workspace();
    let out = notify(&ws, None)
        .env(
            "SLSA_PROVENANCE_SLACK_API_URL",
            "http://slack.example.com/api",
        )
        .input("slack-token", "xoxb-SENTINELSLACKTOKEN")
        .input("slack-channel", "C1")
        .run();
    out.assert_failure("invalid_input");
    assert!(!leaked(&out.stdout, "SENTINELSLACKTOKEN"));
}

#[tokio::test]
async fn issue_on_always_opens_an_issue_even_when_slack_delivered() {
    let ws = workspace();
    let hook = slack(vec![text(200, "ok")]).await;
    let gh = FakeGitHub::start().await;
    let out = notify(&ws, Some(&gh))
        .input("slack-webhook-url", hook_url(&hook))
        .input("issue-on", "always")
        .run();
    out.assert_success();
    assert_eq!(out.out("channel"), Some("both"));
    assert_eq!(gh.issues().len(), 1);
    assert_eq!(entry(&ws)["notify_slack"], true);
}
