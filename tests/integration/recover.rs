//! Integration tests: `mode: recover` against a stateful fake GitHub on 127.0.0.1 (runs,
//! re-runs, workflow dispatches, the runs list, issues). Dispatch retry intervals and polling
//! are shrunk with `retry-interval` and `SLSA_PROVENANCE_POLL_MS`: no test sleeps seconds.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{Runner, Workspace};

pub(crate) const RUN: u64 = 9228858953;
pub(crate) const TAG: &str = "v1.0.0";
const TOKEN: &str = "ghs_fakeRecoverToken123";
const PAT: &str = "github_pat_SENTINELDISPATCH";
pub(crate) const DAY: &str = "docs/reports/2026-11-21/manifest.json";
const WORKFLOW: &str = "/repos/octo/app/actions/workflows/slsa-provenance.yml";

#[derive(Debug, Clone)]
pub(crate) struct FakeRun {
    id: u64,
    status: String,
    conclusion: Option<String>,
    created_at: chrono::DateTime<Utc>,
    attempt: u32,
    dispatched: bool,
}

#[derive(Debug)]
pub(crate) struct State {
    runs: Vec<FakeRun>,
    /// GitHub's answer to rerun-failed-jobs instead of doing it.
    rerun_refusal: Option<(u16, String)>,
    /// The conclusion a re-run or dispatched run ends with.
    next_conclusion: String,
    /// Statuses for successive dispatches (the last repeats); 2xx creates a run.
    dispatch_script: VecDeque<u16>,
    return_run_details: bool,
    pub(crate) reruns: Vec<u64>,
    pub(crate) dispatches: Vec<(Value, String)>,
    issues: Vec<(u64, String, Vec<String>)>,
    rerun_delay: Option<Duration>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            runs: Vec::new(),
            rerun_refusal: None,
            next_conclusion: "success".into(),
            dispatch_script: VecDeque::from([200]),
            return_run_details: true,
            reruns: Vec::new(),
            dispatches: Vec::new(),
            issues: Vec::new(),
            rerun_delay: None,
        }
    }
}

fn run_json(r: &FakeRun) -> Value {
    json!({
        "id": r.id, "status": r.status, "conclusion": r.conclusion,
        "created_at": r.created_at.to_rfc3339(), "run_attempt": r.attempt,
        "html_url": format!("https://github.com/octo/app/actions/runs/{}", r.id),
    })
}

fn msg(status: u16, m: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"message": m}))
}

/// The runs API of one repository; also below `/api/v3` (next to `audit_store::FakeGit`).
pub(crate) struct Router(pub(crate) Arc<Mutex<State>>);

impl Respond for Router {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().expect("state");
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let p = req.url.path();
        let p = p.strip_prefix("/api/v3").unwrap_or(p);
        let seg: Vec<&str> = p.trim_start_matches('/').split('/').collect();
        match (req.method.as_str(), seg.as_slice()) {
            ("GET", ["repos", "octo", "app", "actions", "runs", id]) => {
                match s.runs.iter().find(|r| r.id.to_string() == *id) {
                    Some(r) => ResponseTemplate::new(200).set_body_json(run_json(r)),
                    None => msg(404, "Not Found"),
                }
            }
            ("POST", ["repos", "octo", "app", "actions", "runs", id, "rerun-failed-jobs"]) => {
                if let Some((status, m)) = s.rerun_refusal.clone() {
                    return msg(status, &m);
                }
                let id: u64 = id.parse().expect("id");
                s.reruns.push(id);
                let conclusion = s.next_conclusion.clone();
                if let Some(r) = s.runs.iter_mut().find(|r| r.id == id) {
                    r.attempt += 1;
                    r.status = "completed".into();
                    r.conclusion = Some(conclusion);
                }
                let t = ResponseTemplate::new(201).set_body_json(json!({}));
                match s.rerun_delay {
                    Some(d) => t.set_delay(d),
                    None => t,
                }
            }
            (
                "POST",
                ["repos", "octo", "app", "actions", "workflows", "slsa-provenance.yml", "dispatches"],
            ) => {
                let status = if s.dispatch_script.len() > 1 {
                    s.dispatch_script.pop_front().expect("status")
                } else {
                    *s.dispatch_script.front().expect("status")
                };
                s.dispatches.push((req.body_json().expect("json"), auth));
                match status {
                    200..=299 => {
                        let id = 7000 + s.runs.len() as u64;
                        let conclusion = s.next_conclusion.clone();
                        s.runs.push(FakeRun {
                            id,
                            status: "completed".into(),
                            conclusion: Some(conclusion),
                            created_at: Utc::now(),
                            attempt: 1,
                            dispatched: true,
                        });
                        if s.return_run_details {
                            ResponseTemplate::new(200).set_body_json(json!({
                                "workflow_run_id": id,
                                "run_url": format!("https://api.github.com/repos/octo/app/actions/runs/{id}"),
                                "html_url": format!("https://github.com/octo/app/actions/runs/{id}"),
                            }))
                        } else {
                            ResponseTemplate::new(204)
                        }
                    }
                    401 => msg(401, "Bad credentials"),
                    422 => msg(422, "Workflow does not have 'workflow_dispatch' trigger"),
                    other => msg(other, "refused"),
                }
            }
            (
                "GET",
                ["repos", "octo", "app", "actions", "workflows", "slsa-provenance.yml", "runs"],
            ) => {
                let list: Vec<Value> = s
                    .runs
                    .iter()
                    .filter(|r| r.dispatched)
                    .map(run_json)
                    .collect();
                ResponseTemplate::new(200)
                    .set_body_json(json!({"total_count": list.len(), "workflow_runs": list}))
            }
            ("GET", ["repos", "octo", "app", "issues"]) => ResponseTemplate::new(200)
                .set_body_json(
                    s.issues
                        .iter()
                        .map(|(n, b, _)| json!({"number": n, "body": b}))
                        .collect::<Vec<_>>(),
                ),
            ("POST", ["repos", "octo", "app", "issues"]) => {
                let b: Value = req.body_json().expect("json");
                let n = 200 + s.issues.len() as u64;
                let labels = b["labels"]
                    .as_array()
                    .expect("labels")
                    .iter()
                    .map(|l| l.as_str().expect("label").to_string())
                    .collect();
                s.issues
                    .push((n, b["body"].as_str().expect("body").to_string(), labels));
                ResponseTemplate::new(201).set_body_json(json!({"number": n, "html_url": ""}))
            }
            _ => msg(404, "Not Found"),
        }
    }
}

pub(crate) struct Fake {
    pub(crate) server: MockServer,
    state: Arc<Mutex<State>>,
}

impl Fake {
    /// A fake with the failed run [`RUN`], created `days_ago`, at attempt `attempt`.
    pub(crate) async fn with_failed_run(days_ago: i64, attempt: u32) -> Self {
        let server = MockServer::start().await;
        let state = failed_run(days_ago, attempt);
        Mock::given(any())
            .respond_with(Router(state.clone()))
            .mount(&server)
            .await;
        Self { server, state }
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("state"))
    }

    async fn paths(&self, verb: &str) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.method.as_str() == verb)
            .map(|r| r.url.path().to_string())
            .collect()
    }
}

/// The runs API's state with the failed run `RUN`, created `days_ago`, at attempt `attempt`.
pub(crate) fn failed_run(days_ago: i64, attempt: u32) -> Arc<Mutex<State>> {
    let state = Arc::new(Mutex::new(State::default()));
    state.lock().expect("state").runs.push(FakeRun {
        id: RUN,
        status: "completed".into(),
        conclusion: Some("failure".into()),
        created_at: Utc::now() - chrono::Duration::days(days_ago),
        attempt,
        dispatched: false,
    });
    state
}

pub(crate) fn workspace(status: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write(
        DAY,
        serde_json::to_string_pretty(&json!({"schema_version": 1, "entries": [{
            "run_id": RUN, "tag": TAG, "sha": "95baf27389e83e6a5c48f42e190d48d7abcea19e",
            "artifact_url": null, "actor": "octocat", "timestamp": "2026-11-21T10:00:00Z",
            "status": status, "governance_flag": "provenance-missing",
            "governance_flag_history": [], "release_url": null, "failure_reason": "signing_failed"
        }]}))
        .expect("json"),
    );
    ws
}

fn entry(ws: &Workspace) -> Value {
    let m: Value = serde_json::from_str(&ws.read(DAY)).expect("manifest");
    m["entries"][0].clone()
}

pub(crate) fn recover(ws: &Workspace, fake: &Fake) -> Runner {
    ws.runner()
        .input("mode", "recover")
        .input("github-token", TOKEN)
        .input("retry-interval", "10ms")
        .env("GITHUB_API_URL", fake.server.uri())
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "0.001")
        .env("SLSA_PROVENANCE_POLL_MS", "10")
}

#[tokio::test]
async fn recent_failed_run_is_rerun_and_the_marker_cleared() {
    let ws = workspace("failure");
    let fake = Fake::with_failed_run(1, 1).await;
    let out = recover(&ws, &fake).input("run-id", RUN.to_string()).run();
    out.assert_success();
    assert_eq!(out.out("action"), Some("rerun"));
    assert_eq!(out.out("new-run-id"), Some(RUN.to_string().as_str()));
    assert_eq!(fake.with(|s| s.reruns.clone()), [RUN]);
    assert!(fake.with(|s| s.dispatches.is_empty()));
    assert!(
        entry(&ws).get("rerun_in_progress").is_none(),
        "cleared after acting"
    );
}

#[tokio::test]
async fn rerun_refused_as_month_old_dispatches_the_workflow_for_the_tag() {
    let ws = workspace("failure");
    let fake = Fake::with_failed_run(1, 1).await;
    fake.with(|s| {
        s.rerun_refusal = Some((
            403,
            "Unable to retry this workflow run because it was created over a month ago".into(),
        ))
    });
    let out = recover(&ws, &fake).input("run-id", RUN.to_string()).run();
    out.assert_success();
    assert_eq!(out.out("action"), Some("dispatch"));
    assert_eq!(out.out("new-run-id"), Some("7001"));
    assert_eq!(
        out.out("run-url"),
        Some("https://github.com/octo/app/actions/runs/7001")
    );
    assert!(out.stdout.contains("older than a month"), "{}", out.stdout);
    let (body, auth) = fake.with(|s| s.dispatches[0].clone());
    assert_eq!(body["inputs"]["tag"], TAG);
    assert_eq!(body["return_run_details"], true);
    assert_eq!(body["ref"], "main");
    assert_eq!(auth, format!("Bearer {TOKEN}"));
}

#[tokio::test]
async fn rerun_limit_reached_dispatches_without_asking_for_a_rerun() {
    let ws = workspace("failure");
    let fake = Fake::with_failed_run(1, 50).await;
    let out = recover(&ws, &fake).input("run-id", RUN.to_string()).run();
    out.assert_success();
    assert_eq!(out.out("action"), Some("dispatch"));
    assert!(out.stdout.contains("re-run limit"), "{}", out.stdout);
    assert!(!fake
        .paths("POST")
        .await
        .iter()
        .any(|p| p.ends_with("rerun-failed-jobs")));
}

#[tokio::test]
async fn still_running_run_is_refused_and_says_so() {
    let ws = workspace("failure");
    let fake = Fake::with_failed_run(0, 1).await;
    fake.with(|s| s.runs[0].status = "in_progress".into());
    let out = recover(&ws, &fake).input("run-id", RUN.to_string()).run();
    out.assert_failure("rerun_refused");
    assert!(out.stdout.contains("still running"), "{}", out.stdout);
    assert!(
        entry(&ws).get("rerun_in_progress").is_none(),
        "cleared after failing too"
    );
}

#[tokio::test]
async fn dispatch_answered_422_is_retried_after_the_interval_then_succeeds() {
    let ws = Workspace::new();
    let fake = Fake::with_failed_run(1, 1).await;
    fake.with(|s| s.dispatch_script = VecDeque::from([422, 200]));
    let out = recover(&ws, &fake)
        .input("tag", TAG)
        .input("dispatch-token", PAT)
        .run();
    out.assert_success();
    assert_eq!(out.out("action"), Some("dispatch"));
    let d = fake.with(|s| s.dispatches.clone());
    assert_eq!(d.len(), 2);
    assert_eq!(d[1].1, format!("Bearer {PAT}"), "dispatched with the PAT");
    assert!(!out
        .stdout
        .lines()
        .any(|l| l.contains("SENTINELDISPATCH") && !l.starts_with("::add-mask::")));
}

#[tokio::test]
async fn dispatch_422_on_every_attempt_fails_with_dispatch_failed() {
    let ws = Workspace::new();
    let fake = Fake::with_failed_run(1, 1).await;
    fake.with(|s| s.dispatch_script = VecDeque::from([422]));
    let out = recover(&ws, &fake)
        .input("tag", TAG)
        .input("max-attempts", "3")
        .run();
    out.assert_failure("dispatch_failed");
    assert_eq!(fake.with(|s| s.dispatches.len()), 3);
}

#[tokio::test]
async fn dispatch_answered_204_finds_the_new_run_in_the_runs_list() {
    let ws = Workspace::new();
    let fake = Fake::with_failed_run(1, 1).await;
    fake.with(|s| s.return_run_details = false);
    let out = recover(&ws, &fake).input("tag", TAG).run();
    out.assert_success();
    assert_eq!(out.out("new-run-id"), Some("7001"));
    assert!(fake
        .paths("GET")
        .await
        .iter()
        .any(|p| p == &format!("{WORKFLOW}/runs")));
}

#[tokio::test]
async fn guard_skips_a_tag_that_already_succeeded_and_a_run_in_progress() {
    let ws = workspace("success");
    let fake = Fake::with_failed_run(1, 1).await;
    let out = recover(&ws, &fake).input("run-id", RUN.to_string()).run();
    out.assert_success();
    assert_eq!(out.out("action"), Some("skipped"));
    assert!(
        out.summary.contains("already has a successful run"),
        "{}",
        out.summary
    );

    let ws = workspace("failure");
    let text = ws.read(DAY).replace(
        "\"status\": \"failure\"",
        "\"status\": \"failure\", \"rerun_in_progress\": true",
    );
    ws.write(DAY, text);
    let out = recover(&ws, &fake).input("run-id", RUN.to_string()).run();
    assert_eq!(out.out("action"), Some("skipped"));
    assert!(fake
        .server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn two_recovers_at_once_only_one_acts() {
    // Both start while the first re-run request is still in flight: the lock lets one act.
    let ws = workspace("failure");
    let fake = Fake::with_failed_run(1, 1).await;
    fake.with(|s| s.rerun_delay = Some(Duration::from_millis(800)));
    let a = recover(&ws, &fake).input("run-id", RUN.to_string());
    let b = recover(&ws, &fake).input("run-id", RUN.to_string());
    // Each runner writes its own output file.
    let b = b
        .env(
            "GITHUB_OUTPUT",
            ws.runner_temp.path().join("out-b.txt").to_string_lossy(),
        )
        .env(
            "GITHUB_STEP_SUMMARY",
            ws.runner_temp.path().join("sum-b.md").to_string_lossy(),
        );
    std::fs::write(ws.runner_temp.path().join("out-b.txt"), "").expect("w");
    let tb = std::thread::spawn(move || b.run());
    let oa = a.run();
    let ob = tb.join().expect("thread");
    let ob_out = crate::common::parse_outputs(
        &std::fs::read_to_string(ws.runner_temp.path().join("out-b.txt")).expect("out b"),
    );
    let mut actions = vec![
        oa.out("action").unwrap_or_default().to_string(),
        ob_out.get("action").cloned().unwrap_or_default(),
    ];
    actions.sort();
    assert_eq!(actions, ["rerun", "skipped"], "{oa:#?}\n{ob:#?}");
    assert_eq!(fake.with(|s| s.reruns.len()), 1);
}

#[tokio::test]
async fn expired_dispatch_token_flags_the_entry_and_opens_the_issue() {
    let ws = workspace("failure");
    let fake = Fake::with_failed_run(40, 1).await;
    fake.with(|s| s.dispatch_script = VecDeque::from([401]));
    let out = recover(&ws, &fake)
        .input("run-id", RUN.to_string())
        .input("dispatch-token", PAT)
        .run();
    out.assert_failure("dispatch_token_rejected");
    let e = entry(&ws);
    assert_eq!(e["governance_flag"], "dispatch-token-expired");
    assert_eq!(
        e["governance_flag_history"]
            .as_array()
            .expect("history")
            .last()
            .expect("last")["flag"],
        "dispatch-token-expired"
    );
    let issues = fake.with(|s| s.issues.clone());
    assert_eq!(issues.len(), 1);
    assert!(
        issues[0].1.contains("dispatch_token_rejected"),
        "{}",
        issues[0].1
    );
    assert!(issues[0].2.contains(&"ops-alert".to_string()));
    assert_eq!(e["issue_number"], 200);
}

#[tokio::test]
async fn recovered_run_failing_again_blocks_the_entry_and_opens_the_issue() {
    let ws = workspace("failure");
    let fake = Fake::with_failed_run(1, 1).await;
    fake.with(|s| s.next_conclusion = "failure".into());
    let out = recover(&ws, &fake)
        .input("run-id", RUN.to_string())
        .input("wait", "true")
        .run();
    out.assert_failure("recovery_blocked");
    assert_eq!(out.out("action"), Some("blocked"));
    assert_eq!(
        out.outputs_text.matches("\naction<<").count()
            + usize::from(out.outputs_text.starts_with("action<<")),
        1,
        "set once"
    );
    let e = entry(&ws);
    assert_eq!(e["status"], "blocked");
    assert!(e.get("rerun_in_progress").is_none());
    let issues = fake.with(|s| s.issues.clone());
    assert_eq!(issues.len(), 1);
    assert!(
        issues[0].1.contains("failure-recovery.md#rollback"),
        "{}",
        issues[0].1
    );
    assert!(issues[0].2.contains(&"ops-alert".to_string()));
}
