//! Integration tests: publishing (attestations API, release asset, release notes).
//!
//! A stateful fake GitHub on 127.0.0.1 (wiremock with one routing responder) stores
//! attestations, a release with its notes and assets, GHES-style: the API under `/api/v3`,
//! uploads under `/api/uploads`. Failures are injected as higher-priority one-shot mocks in
//! front of it. Runs sign with a throwaway P-256 key (`sign: key`, offline). Retry waits are
//! shrunk with `SLSA_PROVENANCE_RETRY_BASE_MS` / `SLSA_PROVENANCE_RETRY_AFTER_SCALE`, so no
//! test sleeps for real seconds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::matchers::{any, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{test_signing_key, Outcome, Runner, Workspace};

const SHA: &str = "95baf27389e83e6a5c48f42e190d48d7abcea19e";
const TAG: &str = "v1.0.0";
const TOKEN: &str = "ghs_fakeTokenForTests123";
const RELEASE_ID: u64 = 42;
const MARKER: &str = "<!-- slsa-provenance-action:provenance -->";
const ASSET: &str = "app.tar.gz.intoto.jsonl";
const ATTESTATIONS: &str = "/api/v3/repos/octo/app/attestations";

#[derive(Debug, Clone)]
struct FakeAsset {
    id: u64,
    name: String,
    state: String,
    content: Vec<u8>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) uri: String,
    next_id: u64,
    attestations: Vec<(u64, Value)>,
    /// Delay the answer to a POST attestations after storing it (a "timeout" that took effect).
    attestation_answer_delay: Option<Duration>,
    release: Option<(String, bool)>,
    body: String,
    assets: Vec<FakeAsset>,
    /// Make the next upload leave a half-finished asset behind and answer 502.
    half_upload_next: bool,
    /// After answering the next read of the release, replace its notes with this: a
    /// maintainer editing them while the run is still publishing.
    edit_after_read: Option<String>,
    /// After answering the next read of the release, delete the release.
    delete_after_read: bool,
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn release_json(&self) -> Value {
        let (tag, draft) = self.release.clone().unwrap_or_default();
        json!({
            "id": RELEASE_ID,
            "tag_name": tag,
            "draft": draft,
            "body": self.body,
            "html_url": format!("https://github.com/octo/app/releases/tag/{tag}"),
            "upload_url": format!(
                "{}/api/uploads/repos/octo/app/releases/{RELEASE_ID}/assets{{?name,label}}",
                self.uri
            ),
        })
    }

    /// Answer a read of the release, then apply a pending edit of its notes.
    fn read_release(&mut self) -> ResponseTemplate {
        let answer = ResponseTemplate::new(200).set_body_json(self.release_json());
        if let Some(edit) = self.edit_after_read.take() {
            self.body = edit;
        }
        if std::mem::take(&mut self.delete_after_read) {
            self.release = None;
        }
        answer
    }

    fn asset_json(&self, a: &FakeAsset) -> Value {
        let tag = self.release.clone().unwrap_or_default().0;
        json!({
            "id": a.id,
            "name": a.name,
            "state": a.state,
            "size": a.content.len(),
            "browser_download_url":
                format!("https://github.com/octo/app/releases/download/{tag}/{}", a.name),
        })
    }
}

/// The routing responder: a tiny GitHub.
struct Router(Arc<Mutex<State>>);

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}))
}

impl Respond for Router {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().expect("state");
        let p = req.url.path().to_string();
        let seg: Vec<&str> = p.trim_start_matches('/').split('/').collect();
        match (req.method.as_str(), seg.as_slice()) {
            ("POST", ["api", "v3", "repos", "octo", "app", "attestations"]) => {
                let body: Value = req.body_json().expect("attestation body is JSON");
                let id = s.id();
                s.attestations.push((id, body["bundle"].clone()));
                let t = ResponseTemplate::new(201).set_body_json(json!({ "id": id }));
                match s.attestation_answer_delay {
                    Some(d) => t.set_delay(d),
                    None => t,
                }
            }
            ("GET", ["api", "v3", "repos", "octo", "app", "attestations", _digest]) => {
                let list: Vec<Value> = s
                    .attestations
                    .iter()
                    .map(|(id, b)| json!({"id": id, "bundle": b, "repository_id": 1}))
                    .collect();
                ResponseTemplate::new(200).set_body_json(json!({ "attestations": list }))
            }
            ("GET", ["api", "v3", "repos", "octo", "app", "releases", "tags", tag]) => {
                match &s.release {
                    Some((t, false)) if t == tag => s.read_release(),
                    _ => not_found(),
                }
            }
            ("GET", ["api", "v3", "repos", "octo", "app", "releases", id])
                if s.release.is_some() && *id == RELEASE_ID.to_string() =>
            {
                s.read_release()
            }
            ("PATCH", ["api", "v3", "repos", "octo", "app", "releases", "assets", id]) => {
                let body: Value = req.body_json().expect("rename body is JSON");
                let name = body["name"].as_str().expect("name").to_string();
                if s.assets
                    .iter()
                    .any(|a| a.name == name && a.id.to_string() != *id)
                {
                    return ResponseTemplate::new(422).set_body_json(
                        json!({"message": "Validation Failed", "errors": [{"code": "already_exists"}]}),
                    );
                }
                let Some(asset) = s.assets.iter_mut().find(|a| a.id.to_string() == *id) else {
                    return not_found();
                };
                asset.name = name;
                let asset = asset.clone();
                ResponseTemplate::new(200).set_body_json(s.asset_json(&asset))
            }
            ("PATCH", ["api", "v3", "repos", "octo", "app", "releases", _id])
                if s.release.is_some() =>
            {
                let body: Value = req.body_json().expect("patch body is JSON");
                s.body = body["body"].as_str().expect("body").to_string();
                ResponseTemplate::new(200).set_body_json(s.release_json())
            }
            ("GET", ["api", "v3", "repos", "octo", "app", "releases", _id, "assets"]) => {
                let page = req
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "page")
                    .map(|(_, v)| v.to_string())
                    .unwrap_or_else(|| "1".into());
                let list: Vec<Value> = if page == "1" {
                    s.assets.iter().map(|a| s.asset_json(a)).collect()
                } else {
                    Vec::new()
                };
                ResponseTemplate::new(200).set_body_json(list)
            }
            ("DELETE", ["api", "v3", "repos", "octo", "app", "releases", "assets", id]) => {
                let before = s.assets.len();
                s.assets.retain(|a| a.id.to_string() != *id);
                if s.assets.len() < before {
                    ResponseTemplate::new(204)
                } else {
                    not_found()
                }
            }
            ("POST", ["api", "uploads", "repos", "octo", "app", "releases", _id, "assets"])
                if s.release.is_some() =>
            {
                let name = req
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "name")
                    .map(|(_, v)| v.to_string())
                    .expect("name query");
                if s.assets.iter().any(|a| a.name == name) {
                    return ResponseTemplate::new(422)
                        .set_body_json(json!({"message": "Validation Failed", "errors": [{"code": "already_exists"}]}));
                }
                let id = s.id();
                let half = std::mem::take(&mut s.half_upload_next);
                let asset = FakeAsset {
                    id,
                    name,
                    state: if half { "starter" } else { "uploaded" }.into(),
                    content: if half { Vec::new() } else { req.body.clone() },
                };
                s.assets.push(asset.clone());
                if half {
                    return ResponseTemplate::new(502).set_body_string("Bad Gateway");
                }
                ResponseTemplate::new(201).set_body_json(s.asset_json(&asset))
            }
            _ => not_found(),
        }
    }
}

pub(crate) struct FakeGitHub {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    /// A fake with a published release for [`TAG`] whose notes are `body`.
    pub(crate) async fn with_release(body: &str) -> Self {
        let fake = Self::empty().await;
        {
            let mut s = fake.state();
            s.release = Some((TAG.into(), false));
            s.body = body.into();
        }
        fake
    }

    async fn empty() -> Self {
        // Not pooled: a test that leaves a delayed answer in flight must not share its server.
        let server = MockServer::builder().start().await;
        let state = Arc::new(Mutex::new(State {
            uri: server.uri(),
            ..Default::default()
        }));
        Mock::given(any())
            .respond_with(Router(state.clone()))
            .with_priority(10)
            .mount(&server)
            .await;
        Self { server, state }
    }

    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("state")
    }

    pub(crate) fn api_url(&self) -> String {
        format!("{}/api/v3", self.server.uri())
    }

    /// Answer the next `n` requests matching `method path` with `template`.
    async fn fail(&self, verb: &str, route: &str, n: u64, template: ResponseTemplate) {
        Mock::given(method(verb))
            .and(path(route))
            .respond_with(template)
            .up_to_n_times(n)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    async fn requests(&self, verb: &str, route_prefix: &str) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method.as_str() == verb && r.url.path().starts_with(route_prefix))
            .collect()
    }
}

/// One release file under `dist/`, committed.
fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("dist/app.tar.gz", b"tarball bytes");
    ws.init_git();
    ws
}

/// A signed release run against the fake, with retry waits shrunk to milliseconds.
fn run_against(ws: &Workspace, fake: &FakeGitHub, key_pem: &str) -> Runner {
    ws.runner()
        .release_event(TAG)
        .env("GITHUB_SHA", SHA)
        .env(
            "GITHUB_WORKFLOW_REF",
            format!("octo/app/.github/workflows/release.yml@refs/tags/{TAG}"),
        )
        .env("GITHUB_API_URL", fake.api_url())
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "0.001")
        .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "10000")
        .input("subject-path", "dist/*")
        .input("sign", "key")
        .input("signing-key", key_pem)
        .input("github-token", TOKEN)
}

fn key() -> String {
    test_signing_key().0
}

fn bundle(ws: &Workspace, out: &Outcome) -> Value {
    let rel = out.out("bundle-path").expect("bundle-path output");
    serde_json::from_str(&ws.read(rel)).expect("bundle is JSON")
}

/// The token appears in no log line except the runner's mask command.
fn assert_token_not_logged(out: &Outcome) {
    for line in out.stdout.lines().chain(out.stderr.lines()) {
        assert!(
            !line.contains(TOKEN) || line.starts_with("::add-mask::"),
            "token leaked: {line}"
        );
    }
}

#[tokio::test]
async fn attestation_asset_and_notes_are_published() {
    let fake = FakeGitHub::with_release("Fixes bugs.").await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_success();
    assert_token_not_logged(&out);
    let bundle = bundle(&ws, &out);

    // Attestation: the body carried our bundle, authenticated with the token.
    let posts = fake.requests("POST", ATTESTATIONS).await;
    assert_eq!(posts.len(), 1);
    let body: Value = posts[0].body_json().expect("json");
    assert_eq!(body, json!({ "bundle": bundle }));
    assert_eq!(
        posts[0]
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let id = out
        .out("attestation-id")
        .expect("attestation-id")
        .to_string();
    let url = format!("https://github.com/octo/app/attestations/{id}");
    assert_eq!(out.out("attestation-url"), Some(url.as_str()));
    assert!(
        out.summary.contains(&url),
        "summary links the attestation:\n{}",
        out.summary
    );

    // Asset: `<subject>.intoto.jsonl`, the bundle on one line, uploaded via upload_url.
    let s = fake.state();
    assert_eq!(s.assets.len(), 1);
    assert_eq!(s.assets[0].name, ASSET);
    assert_eq!(s.assets[0].content, format!("{bundle}\n").into_bytes());
    assert!(out
        .summary
        .contains(&format!("releases/download/{TAG}/{ASSET}")));

    // Notes: user text kept, one section with the statement digest and links.
    assert!(s.body.starts_with("Fixes bugs.\n\n"));
    assert_eq!(s.body.matches(MARKER).count(), 1);
    let sha = out.out("provenance-sha256").expect("sha");
    assert!(s.body.contains(sha));
    assert!(s.body.contains(&url));
    assert!(s.body.contains(ASSET));
    assert!(s.body.contains("/actions/runs/9228858953"));
}

#[tokio::test]
async fn second_run_replaces_the_asset_and_keeps_one_notes_section() {
    // Re-run of the same release job: the asset is replaced, the notes are not appended twice.
    let fake = FakeGitHub::with_release("Fixes bugs.").await;
    let ws = workspace();
    let key = key();
    run_against(&ws, &fake, &key).run().assert_success();
    let first_asset = fake.state().assets[0].id;
    let out = run_against(&ws, &fake, &key).run();
    out.assert_success();

    {
        let s = fake.state();
        assert_eq!(s.assets.len(), 1, "{:?}", s.assets);
        assert_ne!(s.assets[0].id, first_asset, "the old asset was replaced");
        assert_eq!(
            s.assets[0].content,
            format!("{}\n", bundle(&ws, &out)).into_bytes()
        );
        assert_eq!(s.body.matches(MARKER).count(), 1, "{}", s.body);
        assert_eq!(s.body.matches("Fixes bugs.").count(), 1);
        assert!(s.body.contains(out.out("provenance-sha256").expect("sha")));
    }
    assert_eq!(
        fake.requests("DELETE", "/api/v3/repos/octo/app/releases/assets/")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn plan_refusal_is_a_notice_and_the_run_goes_on() {
    let fake = FakeGitHub::with_release("").await;
    let refusal = json!({"message": "Feature not available for user-owned private repositories."});
    fake.fail(
        "POST",
        ATTESTATIONS,
        1,
        ResponseTemplate::new(403).set_body_json(refusal),
    )
    .await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_success();
    assert!(
        out.stdout
            .contains("::notice::the attestation was not stored"),
        "{}",
        out.stdout
    );
    assert!(
        out.summary.contains("attestations: write"),
        "{}",
        out.summary
    );
    assert_eq!(out.out("attestation-id"), None);
    // Not retried (a refusal, not a rate limit), and the release steps still ran.
    assert_eq!(fake.requests("POST", ATTESTATIONS).await.len(), 1);
    assert_eq!(fake.state().assets.len(), 1);
    assert_eq!(fake.state().body.matches(MARKER).count(), 1);
}

#[tokio::test]
async fn server_error_is_retried_after_checking_the_post_did_not_land() {
    let fake = FakeGitHub::with_release("").await;
    fake.fail("POST", ATTESTATIONS, 1, ResponseTemplate::new(502))
        .await;
    fake.fail(
        "GET",
        &format!("/api/v3/repos/octo/app/releases/tags/{TAG}"),
        1,
        ResponseTemplate::new(503),
    )
    .await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_success();
    assert_eq!(fake.requests("POST", ATTESTATIONS).await.len(), 2);
    assert_eq!(
        fake.requests("GET", ATTESTATIONS).await.len(),
        1,
        "checked once"
    );
    assert_eq!(fake.state().attestations.len(), 1);
    assert!(out.out("attestation-id").is_some());
    assert_eq!(
        fake.requests("GET", "/api/v3/repos/octo/app/releases/tags/")
            .await
            .len(),
        2
    );
    assert!(
        out.stdout
            .contains("HTTP 502; checking whether it took effect"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn rate_limit_retry_after_is_honored() {
    let fake = FakeGitHub::with_release("").await;
    fake.fail(
        "POST",
        ATTESTATIONS,
        1,
        ResponseTemplate::new(429)
            .insert_header("retry-after", "2")
            .set_body_json(json!({"message": "API rate limit exceeded"})),
    )
    .await;
    let ws = workspace();
    // retry-after 2s scaled by 0.1: a 200 ms wait, long enough to measure, short enough to run.
    let started = Instant::now();
    let out = run_against(&ws, &fake, &key())
        .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "0.1")
        .run();
    out.assert_success();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(
        out.stdout.contains("in 200ms (retry-after 2s)"),
        "{}",
        out.stdout
    );
    // A rate-limited POST was refused before processing: re-sent without a check.
    assert_eq!(fake.requests("POST", ATTESTATIONS).await.len(), 2);
    assert_eq!(fake.requests("GET", ATTESTATIONS).await.len(), 0);
}

#[tokio::test]
async fn timed_out_post_that_took_effect_is_not_sent_again() {
    // GitHub stored the attestation but answered after our timeout: exactly one POST.
    let fake = FakeGitHub::with_release("").await;
    // 1 s client timeout (margin for a loaded CI machine) against a 5 s answer.
    fake.state().attestation_answer_delay = Some(Duration::from_secs(5));
    let ws = workspace();
    let out = run_against(&ws, &fake, &key())
        .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "1000")
        .run();
    out.assert_success();
    assert_eq!(fake.requests("POST", ATTESTATIONS).await.len(), 1);
    assert_eq!(fake.state().attestations.len(), 1);
    assert_eq!(out.out("attestation-id"), Some("1"));
    // Either our deadline or the HTTP client's own read timeout may fire first on a loaded
    // machine; what matters is that the POST was checked, not re-sent.
    assert!(
        out.stdout
            .contains("checking whether it took effect before sending it again"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("it did; not sending it again"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn half_uploaded_asset_is_deleted_before_the_upload_is_retried() {
    let fake = FakeGitHub::with_release("").await;
    fake.state().half_upload_next = true;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_success();
    {
        let s = fake.state();
        assert_eq!(s.assets.len(), 1);
        assert_eq!(s.assets[0].state, "uploaded");
    }
    assert!(
        out.stdout.contains("deleting the half-uploaded asset"),
        "{}",
        out.stdout
    );
    assert_eq!(fake.requests("POST", "/api/uploads/").await.len(), 2);
}

#[tokio::test]
async fn draft_release_gets_the_asset_and_a_notice_for_its_notes() {
    let fake = FakeGitHub::empty().await;
    fake.state().release = Some((TAG.into(), true));
    let ws = workspace();
    let out = run_against(&ws, &fake, &key())
        .event(
            "release",
            json!({"action": "created", "release": {"id": RELEASE_ID, "tag_name": TAG, "draft": true}}),
        )
        .run();
    out.assert_success();
    assert!(
        out.stdout
            .contains("::notice::the release for tag v1.0.0 is a draft"),
        "{}",
        out.stdout
    );
    assert_eq!(fake.state().assets.len(), 1);
    assert_eq!(fake.state().body, "");
    let notes = format!("/api/v3/repos/octo/app/releases/{RELEASE_ID}");
    assert!(fake.requests("PATCH", &notes).await.is_empty());
}

#[tokio::test]
async fn missing_release_is_a_notice() {
    let fake = FakeGitHub::empty().await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_success();
    assert!(
        out.stdout
            .contains("::notice::no GitHub release for tag v1.0.0"),
        "{}",
        out.stdout
    );
    assert!(out.out("attestation-id").is_some());
}

#[tokio::test]
async fn switched_off_steps_make_no_requests() {
    let fake = FakeGitHub::with_release("").await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key())
        .input("attest", "false")
        .input("upload-release-asset", "false")
        .input("release-notes", "false")
        .run();
    out.assert_success();
    assert!(fake
        .server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
    assert_eq!(out.out("attestation-id"), None);
}

#[tokio::test]
async fn empty_token_skips_publishing_with_a_notice() {
    let fake = FakeGitHub::with_release("").await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key())
        .input("github-token", "")
        .run();
    out.assert_success();
    assert!(
        out.stdout
            .contains("::notice::input 'github-token' is empty"),
        "{}",
        out.stdout
    );
    assert!(fake
        .server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn attestation_failed_on_a_validation_error() {
    let fake = FakeGitHub::with_release("").await;
    fake.fail(
        "POST",
        ATTESTATIONS,
        1,
        ResponseTemplate::new(422).set_body_json(json!({"message": "Validation Failed"})),
    )
    .await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_failure("attestation_failed");
    assert!(
        out.stdout.contains("HTTP 422: Validation Failed"),
        "{}",
        out.stdout
    );
    assert_token_not_logged(&out);
}

#[tokio::test]
async fn attestation_failed_when_server_errors_persist() {
    // Bounded attempts: five 500s, each followed by a check, then a typed failure.
    let fake = FakeGitHub::with_release("").await;
    fake.fail("POST", ATTESTATIONS, 100, ResponseTemplate::new(500))
        .await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_failure("attestation_failed");
    assert!(out.stdout.contains("HTTP 500: "), "{}", out.stdout);
    assert!(out.stdout.contains("(after 5 attempts)"), "{}", out.stdout);
    assert_eq!(fake.requests("POST", ATTESTATIONS).await.len(), 5);
    assert_eq!(fake.requests("GET", ATTESTATIONS).await.len(), 4);
}

#[tokio::test]
async fn release_asset_failed_when_upload_is_refused() {
    let fake = FakeGitHub::with_release("").await;
    Mock::given(method("POST"))
        .and(path_regex("^/api/uploads/"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"message": "Bad Content-Length"})),
        )
        .with_priority(1)
        .mount(&fake.server)
        .await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_failure("release_asset_failed");
    assert!(out.stdout.contains(ASSET), "{}", out.stdout);
}

#[tokio::test]
async fn release_notes_failed_when_patch_is_refused() {
    let fake = FakeGitHub::with_release("").await;
    fake.fail(
        "PATCH",
        &format!("/api/v3/repos/octo/app/releases/{RELEASE_ID}"),
        1,
        ResponseTemplate::new(422).set_body_json(json!({"message": "body is too long"})),
    )
    .await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_failure("release_notes_failed");
}

#[tokio::test]
async fn github_api_failed_when_the_release_lookup_fails() {
    let fake = FakeGitHub::with_release("").await;
    fake.fail(
        "GET",
        &format!("/api/v3/repos/octo/app/releases/tags/{TAG}"),
        1,
        ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"})),
    )
    .await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key())
        .input("attest", "false")
        .run();
    out.assert_failure("github_api_failed");
    assert!(
        out.stdout.contains("HTTP 401: Bad credentials"),
        "{}",
        out.stdout
    );
}

// ---- Review fixes (issue 6): nothing published is lost, rate limits are failures, no panic.

const TEMP_ASSET: &str = "app.tar.gz.intoto.jsonl.uploading";
const ASSET_PATCH: &str = "/api/v3/repos/octo/app/releases/assets/";

fn asset_names(fake: &FakeGitHub) -> Vec<String> {
    fake.state().assets.iter().map(|a| a.name.clone()).collect()
}

#[tokio::test]
async fn failed_upload_keeps_the_previous_bundle_asset() {
    // Re-run whose upload is refused: the old asset used to be deleted first, leaving none.
    let fake = FakeGitHub::with_release("").await;
    let ws = workspace();
    let key = key();
    run_against(&ws, &fake, &key).run().assert_success();
    let before = fake.state().assets.clone();
    Mock::given(method("POST"))
        .and(path_regex("^/api/uploads/"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"message": "Bad Content-Length"})),
        )
        .with_priority(1)
        .mount(&fake.server)
        .await;
    let out = run_against(&ws, &fake, &key).run();
    out.assert_failure("release_asset_failed");
    assert!(
        out.stdout
            .contains("the previous asset, if any, is untouched"),
        "{}",
        out.stdout
    );
    let after = fake.state().assets.clone();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].id, before[0].id);
    assert_eq!(after[0].name, ASSET);
    assert_eq!(after[0].content, before[0].content);
    assert!(fake.requests("DELETE", ASSET_PATCH).await.is_empty());
}

#[tokio::test]
async fn rerun_uploads_under_a_temporary_name_before_deleting_the_old_asset() {
    // The order that makes a replacement safe: upload (temp name), delete old, rename.
    let fake = FakeGitHub::with_release("").await;
    let ws = workspace();
    let key = key();
    run_against(&ws, &fake, &key).run().assert_success();
    let old_id = fake.state().assets[0].id;
    let out = run_against(&ws, &fake, &key).run();
    out.assert_success();

    let all = fake.server.received_requests().await.unwrap_or_default();
    let second_run: Vec<&Request> = {
        let uploads: Vec<usize> = all
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.method.as_str() == "POST" && r.url.path().starts_with("/api/uploads/")
            })
            .map(|(i, _)| i)
            .collect();
        assert_eq!(uploads.len(), 2, "one upload per run");
        // From the first run's upload on, so the first run's rename is included: skip it.
        all[uploads[1]..].iter().collect()
    };
    let upload = second_run[0];
    assert!(upload
        .url
        .query_pairs()
        .any(|(k, v)| k == "name" && v == TEMP_ASSET));
    let delete_at = second_run
        .iter()
        .position(|r| r.method.as_str() == "DELETE")
        .expect("old asset deleted");
    assert!(second_run[delete_at]
        .url
        .path()
        .ends_with(&format!("/{old_id}")));
    let rename_at = second_run
        .iter()
        .position(|r| r.method.as_str() == "PATCH" && r.url.path().starts_with(ASSET_PATCH))
        .expect("new asset renamed");
    assert!(delete_at < rename_at, "delete, then rename");
    let rename: Value = second_run[rename_at].body_json().expect("json");
    assert_eq!(rename, json!({ "name": ASSET }));

    let s = fake.state();
    assert_eq!(s.assets.len(), 1, "{:?}", s.assets);
    assert_eq!(s.assets[0].name, ASSET);
    assert_eq!(
        s.assets[0].content,
        format!("{}\n", bundle(&ws, &out)).into_bytes()
    );
    assert!(s.body.contains(&format!("releases/download/{TAG}/{ASSET}")));
}

#[tokio::test]
async fn rename_failing_after_the_delete_is_retried() {
    // The old asset is gone and the rename answers 502 once: retried, the bundle ends up named.
    let fake = FakeGitHub::with_release("").await;
    let ws = workspace();
    let key = key();
    run_against(&ws, &fake, &key).run().assert_success();
    Mock::given(method("PATCH"))
        .and(path_regex("^/api/v3/repos/octo/app/releases/assets/"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake.server)
        .await;
    let renames_before = fake.requests("PATCH", ASSET_PATCH).await.len();
    let out = run_against(&ws, &fake, &key).run();
    out.assert_success();
    assert_eq!(
        fake.requests("PATCH", ASSET_PATCH).await.len() - renames_before,
        2
    );
    assert_eq!(asset_names(&fake), vec![ASSET.to_string()]);
}

#[tokio::test]
async fn leftover_temp_asset_from_a_failed_rename_is_cleaned_up_on_the_next_run() {
    // Run 1 cannot rename (GitHub keeps failing): it fails and leaves the temporary asset.
    // Run 2 removes that leftover and ends with exactly one bundle under the real name.
    let fake = FakeGitHub::with_release("").await;
    Mock::given(method("PATCH"))
        .and(path_regex("^/api/v3/repos/octo/app/releases/assets/"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(5)
        .with_priority(1)
        .mount(&fake.server)
        .await;
    let ws = workspace();
    let key = key();
    let out = run_against(&ws, &fake, &key).run();
    out.assert_failure("release_asset_failed");
    assert!(
        out.stdout
            .contains(&format!("renaming the uploaded release asset {TEMP_ASSET}")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("(after 5 attempts)"), "{}", out.stdout);
    assert_eq!(asset_names(&fake), vec![TEMP_ASSET.to_string()]);

    let out = run_against(&ws, &fake, &key).run();
    out.assert_success();
    assert!(
        out.stdout
            .contains("Removing the temporary asset left by an earlier run"),
        "{}",
        out.stdout
    );
    assert_eq!(asset_names(&fake), vec![ASSET.to_string()]);
    assert_eq!(
        fake.state().assets[0].content,
        format!("{}\n", bundle(&ws, &out)).into_bytes()
    );
}

#[tokio::test]
async fn notes_edited_while_the_asset_uploaded_are_kept() {
    // A maintainer edits the notes after our first read of the release: the PATCH used to be
    // built from that first read and overwrote the edit.
    let fake = FakeGitHub::with_release("Fixes bugs.").await;
    fake.state().edit_after_read = Some("Fixes bugs.\n\nAlso: a late note by a maintainer.".into());
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_success();
    let s = fake.state();
    assert!(
        s.body
            .starts_with("Fixes bugs.\n\nAlso: a late note by a maintainer.\n\n"),
        "{}",
        s.body
    );
    assert_eq!(s.body.matches(MARKER).count(), 1);
    assert!(s.body.contains(out.out("provenance-sha256").expect("sha")));
}

#[tokio::test]
async fn secondary_rate_limit_403_outlasting_the_retries_is_a_failure_not_a_plan_notice() {
    // Five 403 "secondary rate limit" answers used to end as the "not on this plan" notice.
    let fake = FakeGitHub::with_release("").await;
    fake.fail(
        "POST",
        ATTESTATIONS,
        100,
        ResponseTemplate::new(403).set_body_json(
            json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}),
        ),
    )
    .await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_failure("github_rate_limited");
    assert!(
        !out.stdout
            .contains("::notice::the attestation was not stored"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("still rate limited"), "{}", out.stdout);
    assert_eq!(fake.requests("POST", ATTESTATIONS).await.len(), 5);
    // Nothing after the attestation ran.
    assert!(fake.state().assets.is_empty());
}

#[tokio::test]
async fn permission_refusal_403_is_still_a_notice() {
    // GitHub's own permission answer (no rate-limit signal) stays a notice, sent once.
    let fake = FakeGitHub::with_release("").await;
    fake.fail(
        "POST",
        ATTESTATIONS,
        1,
        ResponseTemplate::new(403)
            .set_body_json(json!({"message": "Resource not accessible by integration"})),
    )
    .await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_success();
    assert!(
        out.stdout
            .contains("::notice::the attestation was not stored"),
        "{}",
        out.stdout
    );
    assert_eq!(fake.requests("POST", ATTESTATIONS).await.len(), 1);
}

#[tokio::test]
async fn retry_after_u64_max_ends_with_a_code_not_a_panic() {
    // `retry-after: 18446744073709551615` overflowed a Duration: exit 101, no failure-reason.
    let fake = FakeGitHub::with_release("").await;
    fake.fail(
        "POST",
        ATTESTATIONS,
        100,
        ResponseTemplate::new(429)
            .insert_header("retry-after", "18446744073709551615")
            .set_body_json(json!({"message": "API rate limit exceeded"})),
    )
    .await;
    let ws = workspace();
    for scale in ["1", "100", "0.001"] {
        let out = run_against(&ws, &fake, &key())
            .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", scale)
            .run();
        out.assert_failure("github_rate_limited");
        assert!(
            out.stdout.contains("longer than the retry budget"),
            "{}",
            out.stdout
        );
    }
}

#[tokio::test]
async fn bad_environment_knob_is_invalid_environment_not_invalid_input() {
    // A malformed SLSA_PROVENANCE_* variable used to be reported as a bad *input*, after
    // signing; it is refused first, with its own code, and nothing is sent or signed.
    let fake = FakeGitHub::with_release("").await;
    let ws = workspace();
    let cases = [
        ("SLSA_PROVENANCE_RETRY_BASE_MS", "-1"),
        ("SLSA_PROVENANCE_RETRY_BASE_MS", "NaN"),
        ("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "inf"),
        ("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "1e400"),
        ("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "18446744073709551615000"),
        ("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "1e300"),
        ("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "soon"),
    ];
    for (name, value) in cases {
        let out = run_against(&ws, &fake, &key()).env(name, value).run();
        out.assert_failure("invalid_environment");
        assert!(
            out.stdout.contains(&format!(
                "environment variable {name} must be a number from 0 to"
            )),
            "{name}={value}: {}",
            out.stdout
        );
        assert!(out.out("bundle-path").is_none(), "{name}={value}");
    }
    assert!(fake
        .server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn primary_rate_limit_403_with_a_far_reset_is_a_failure_not_a_plan_notice() {
    // Primary limit spent, resetting in an hour: beyond the budget, so a failure at once.
    let fake = FakeGitHub::with_release("").await;
    let reset = (chrono::Utc::now().timestamp() + 3600).to_string();
    fake.fail(
        "POST",
        ATTESTATIONS,
        100,
        ResponseTemplate::new(403)
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", reset.as_str())
            .set_body_json(json!({"message": "API rate limit exceeded for installation."})),
    )
    .await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key())
        .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "1")
        .run();
    out.assert_failure("github_rate_limited");
    assert!(
        !out.stdout
            .contains("::notice::the attestation was not stored"),
        "{}",
        out.stdout
    );
    assert_eq!(fake.requests("POST", ATTESTATIONS).await.len(), 1);
}

#[tokio::test]
async fn release_deleted_before_the_notes_are_written_is_a_notice() {
    // The re-read finds no release any more: nothing to write to, the run goes on.
    let fake = FakeGitHub::with_release("Fixes bugs.").await;
    fake.state().delete_after_read = true;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key())
        .input("upload-release-asset", "false")
        .run();
    out.assert_success();
    assert!(
        out.stdout
            .contains("::notice::the release for tag v1.0.0 was deleted while publishing"),
        "{}",
        out.stdout
    );
    let notes = format!("/api/v3/repos/octo/app/releases/{RELEASE_ID}");
    assert!(fake.requests("PATCH", &notes).await.is_empty());
}

#[tokio::test]
async fn ratelimit_reset_at_i64_min_is_retried_not_a_panic() {
    // `x-ratelimit-reset: -9223372036854775808` overflowed `reset - now`: exit 101.
    let fake = FakeGitHub::with_release("").await;
    fake.fail(
        "POST",
        ATTESTATIONS,
        1,
        ResponseTemplate::new(403)
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", "-9223372036854775808")
            .set_body_json(json!({"message": "API rate limit exceeded for installation."})),
    )
    .await;
    let ws = workspace();
    let out = run_against(&ws, &fake, &key()).run();
    out.assert_success();
    assert!(
        out.stdout.contains("(rate limit resets in 1s)"),
        "{}",
        out.stdout
    );
    assert_eq!(fake.requests("POST", ATTESTATIONS).await.len(), 2);
    assert!(out.out("attestation-id").is_some());
}
