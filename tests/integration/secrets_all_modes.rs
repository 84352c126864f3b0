//! Integration tests (issue 11): every mode runs with a sentinel in every secret input and in the
//! runner's token variables, and no sentinel appears anywhere it does not belong.
//!
//! The secret inputs are the `Secret` fields of `RawInputs` (`grep Secret src/inputs`):
//! `github-token`, `signing-key`, `signing-key-password`, `supabase-key`, `slack-webhook-url`,
//! `slack-token`, `notify-webhook-url`, `dispatch-token`; the runner's are `GITHUB_TOKEN`,
//! `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, `ACTIONS_RUNTIME_TOKEN` (and the OIDC token the first one
//! buys). After each run the test reads stdout, stderr, `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`,
//! `GITHUB_ENV`, every file under the workspace and `RUNNER_TEMP` (and, for the commit store,
//! every file committed), and every request each fake on 127.0.0.1 received: URL, headers and
//! body. A sentinel may appear only where it belongs: a GitHub token in `Authorization` to the
//! GitHub API (never to the storage a download is redirected to), the Slack token in
//! `Authorization` to Slack, a webhook URL only as its request's target, the Supabase key only in
//! `apikey`/`Authorization` to PostgREST, the OIDC request token only to the runner's token
//! endpoint, the OIDC token only to Fulcio. Failing paths are included: error messages are where
//! secrets leak.
//!
//! `GITHUB_ACTIONS` is unset in the scans, so no `::add-mask::` line (which legitimately carries
//! the secret) is printed; `every_mode_masks_every_secret_input_first_and_only_inside_actions` holds
//! the other half: inside Actions every secret input is masked, in every mode.

use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{test_signing_key, Outcome, Runner, Workspace};

const RUN: u64 = 9228858953;
const GH_TOKEN: &str = "ghs_SENTINEL0GH0TOKEN0INPUT";
const GH_TOKEN_ENV: &str = "ghs_SENTINEL0GH0TOKEN0ENV";
const ID_REQUEST_TOKEN: &str = "SENTINEL0ID0TOKEN0REQUEST";
const RUNTIME_TOKEN: &str = "SENTINEL0RUNTIME0TOKEN";
const SIGNING_KEY_TEXT: &str = "SENTINEL0SIGNING0KEY";
const KEY_PASSWORD: &str = "SENTINEL0KEY0PASSWORD";
const SLACK_TOKEN: &str = "xoxb-SENTINEL0SLACK0TOKEN";
const SLACK_HOOK: &str = "SENTINEL0SLACK0HOOK";
const NOTIFY_HOOK: &str = "SENTINEL0NOTIFY0HOOK";
const DISPATCH_TOKEN: &str = "github_pat_SENTINEL0DISPATCH";
const SUPABASE_KEY: &str = "SENTINEL0SUPABASE0KEY";
/// The signature segment of the OIDC token the fake token endpoint hands out.
const JWT_MARK: &str = "SENTINEL0OIDC0JWT";

/// Which fake a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    GitHub,
    Slack,
    NotifyHook,
    Supabase,
    Oidc,
    Fulcio,
}

/// Where in a request a sentinel was found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Url,
    Header(String),
    Body,
}

/// Whether `sentinel` may appear at `place` of a request to `role` for `path`.
fn belongs(sentinel: &str, role: Role, place: &Place, path: &str) -> bool {
    let header = |names: &[&str]| matches!(place, Place::Header(h) if names.contains(&h.as_str()));
    match sentinel {
        GH_TOKEN | DISPATCH_TOKEN => {
            role == Role::GitHub && header(&["authorization"]) && !path.starts_with("/storage")
        }
        ID_REQUEST_TOKEN => role == Role::Oidc && header(&["authorization"]),
        JWT_MARK => role == Role::Fulcio,
        SLACK_TOKEN => role == Role::Slack && header(&["authorization"]),
        SLACK_HOOK => role == Role::Slack && *place == Place::Url,
        NOTIFY_HOOK => role == Role::NotifyHook && *place == Place::Url,
        SUPABASE_KEY => role == Role::Supabase && header(&["apikey", "authorization"]),
        // The runner's own token, the runtime token, the key and its password go nowhere.
        _ => false,
    }
}

/// A fake on 127.0.0.1 answering with `answer`; every request is kept by wiremock.
struct Fake {
    role: Role,
    server: MockServer,
}

impl Fake {
    async fn start(
        role: Role,
        answer: impl Fn(&Request) -> ResponseTemplate + Send + Sync + 'static,
    ) -> Self {
        let server = MockServer::start().await;
        Mock::given(any()).respond_with(answer).mount(&server).await;
        Self { role, server }
    }

    fn uri(&self) -> String {
        self.server.uri()
    }

    async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// Requests whose `header` carries `value`.
    async fn carrying(&self, header: &str, value: &str) -> usize {
        carrying(&self.requests().await, header, value)
    }
}

/// Requests whose `header` carries `value`.
fn carrying(requests: &[Request], header: &str, value: &str) -> usize {
    requests
        .iter()
        .filter(|r| {
            r.headers
                .get(header)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains(value))
        })
        .count()
}

/// Every request the fakes received, with the role of the fake.
async fn recorded(fakes: &[&Fake]) -> Vec<(Role, Request)> {
    let mut all = Vec::new();
    for f in fakes {
        all.extend(f.requests().await.into_iter().map(|r| (f.role, r)));
    }
    all
}

fn status(code: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(body)
}

/// Every sentinel a run is given, and the key lines when a real key is used.
struct Sentinels {
    values: Vec<String>,
}

impl Sentinels {
    fn new(key_pem: Option<&str>) -> Self {
        let mut values: Vec<String> = [
            GH_TOKEN,
            GH_TOKEN_ENV,
            ID_REQUEST_TOKEN,
            RUNTIME_TOKEN,
            SIGNING_KEY_TEXT,
            KEY_PASSWORD,
            SLACK_TOKEN,
            SLACK_HOOK,
            NOTIFY_HOOK,
            DISPATCH_TOKEN,
            SUPABASE_KEY,
            JWT_MARK,
        ]
        .map(String::from)
        .to_vec();
        if let Some(pem) = key_pem {
            values.extend(
                pem.lines()
                    .filter(|l| !l.starts_with("-----") && l.len() > 16)
                    .map(String::from),
            );
        }
        Self { values }
    }
}

/// Every secret input and runner token set to its sentinel; `GITHUB_ACTIONS` unset so nothing
/// is masked (and so nothing legitimately prints a secret).
fn with_sentinels(r: Runner, ws: &Workspace, slack: &Fake, hook: &Fake, supabase: &Fake) -> Runner {
    r.remove("GITHUB_ACTIONS")
        .env(
            "GITHUB_ENV",
            ws.runner_temp.path().join("env.txt").to_string_lossy(),
        )
        .env("GITHUB_TOKEN", GH_TOKEN_ENV)
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", ID_REQUEST_TOKEN)
        .env("ACTIONS_RUNTIME_TOKEN", RUNTIME_TOKEN)
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "0.001")
        .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "5000")
        .env("SLSA_PROVENANCE_SLACK_API_URL", slack.uri())
        .input("github-token", GH_TOKEN)
        .input("signing-key", SIGNING_KEY_TEXT)
        .input("signing-key-password", KEY_PASSWORD)
        .input(
            "slack-webhook-url",
            format!("{}/services/T0/B0/{SLACK_HOOK}", slack.uri()),
        )
        .input("slack-token", SLACK_TOKEN)
        .input("slack-channel", "#releases")
        .input(
            "notify-webhook-url",
            format!("{}/hooks/{NOTIFY_HOOK}", hook.uri()),
        )
        .input("dispatch-token", DISPATCH_TOKEN)
        .input("supabase-url", supabase.uri())
        .input("supabase-key", SUPABASE_KEY)
}

/// Every file under `dir` (the repository's own `.git` excluded: git compresses objects).
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git")
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().display().to_string(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect()
}

/// Fail if a sentinel is anywhere it does not belong. `extra` are more texts to scan (files a
/// fake received as commits).
async fn assert_no_leak(
    ws: &Workspace,
    out: &Outcome,
    sentinels: &Sentinels,
    fakes: &[&Fake],
    extra: &[(String, Vec<u8>)],
) {
    assert_no_leak_in(ws, out, sentinels, &recorded(fakes).await, extra);
}

/// [`assert_no_leak`] over requests already collected.
fn assert_no_leak_in(
    ws: &Workspace,
    out: &Outcome,
    sentinels: &Sentinels,
    requests: &[(Role, Request)],
    extra: &[(String, Vec<u8>)],
) {
    assert!(
        !out.stdout.contains("::add-mask::"),
        "outside Actions no mask is printed:\n{}",
        out.stdout
    );
    let mut texts: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), out.stdout.clone().into_bytes()),
        ("stderr".into(), out.stderr.clone().into_bytes()),
    ];
    texts.extend(files_under(ws.path()));
    texts.extend(files_under(ws.runner_temp.path()));
    texts.extend(extra.iter().cloned());
    for (what, bytes) in &texts {
        let text = String::from_utf8_lossy(bytes);
        for s in &sentinels.values {
            assert!(
                !text.contains(s.as_str()),
                "sentinel {s} leaked into {what}:\n{text}\n--- stdout:\n{}",
                out.stdout
            );
        }
    }
    for (role, req) in requests {
        {
            let path = req.url.path().to_string();
            let mut places = vec![(Place::Url, req.url.to_string())];
            for (name, value) in req.headers.iter() {
                places.push((
                    Place::Header(name.as_str().to_ascii_lowercase()),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                ));
            }
            places.push((Place::Body, String::from_utf8_lossy(&req.body).into_owned()));
            for (place, text) in &places {
                for s in &sentinels.values {
                    if text.contains(s.as_str()) {
                        assert!(
                            belongs(s, *role, place, &path),
                            "sentinel {s} sent to {role:?} {} {path} in {place:?}: {text}",
                            req.method
                        );
                    }
                }
            }
        }
    }
}

/// The fakes every run has beside its GitHub: Slack, the notify webhook, PostgREST.
struct Others {
    slack: Fake,
    hook: Fake,
    supabase: Fake,
}

impl Others {
    async fn start() -> Self {
        Self {
            slack: Fake::start(Role::Slack, |r: &Request| {
                if r.url.path().ends_with("chat.postMessage") {
                    status(200, json!({"ok": false, "error": "invalid_auth"}))
                } else {
                    ResponseTemplate::new(200).set_body_string("ok")
                }
            })
            .await,
            hook: Fake::start(Role::NotifyHook, |_: &Request| {
                status(200, json!({"delivered": false}))
            })
            .await,
            supabase: Fake::start(Role::Supabase, |r: &Request| match r.method.as_str() {
                "GET" => status(401, json!({"message": "JWT expired"})),
                _ => status(500, json!({"message": "database down"})),
            })
            .await,
        }
    }

    fn all<'a>(&'a self, github: &'a Fake) -> [&'a Fake; 4] {
        [github, &self.slack, &self.hook, &self.supabase]
    }
}

/// A GitHub that knows nothing: every call is a 404 with GitHub's body.
async fn empty_github() -> Fake {
    Fake::start(Role::GitHub, |_: &Request| {
        status(404, json!({"message": "Not Found"}))
    })
    .await
}

/// A notify/recover workspace whose manifest has a failed entry for [`RUN`].
fn failed_run_workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write(
        "docs/reports/2026-11-21/manifest.json",
        serde_json::to_string_pretty(&json!({"schema_version": 1, "entries": [{
            "run_id": RUN, "tag": "v1.0.0", "sha": "95baf27389e83e6a5c48f42e190d48d7abcea19e",
            "artifact_url": null, "actor": "octocat", "timestamp": "2026-11-21T10:00:00Z",
            "status": "failure", "governance_flag": "provenance-missing",
            "governance_flag_history": [], "release_url": null, "failure_reason": "signing_failed"
        }]}))
        .expect("json"),
    );
    ws
}

// ---------------------------------------------------------------------------------------------
// provenance

/// The runner's OIDC token for the release of `sha` (as the signing tests shape it), its
/// signature segment a sentinel.
fn oidc_jwt(sha: &str) -> String {
    let jwt = crate::signing::github_jwt(sha, "public");
    let (signed, _) = jwt.rsplit_once('.').expect("three segments");
    format!("{signed}.{JWT_MARK}")
}

#[tokio::test]
async fn provenance_keyless_failing_at_fulcio_leaks_no_secret() {
    let ws = crate::audit_store::workspace();
    let others = Others::start().await;
    let github = empty_github().await;
    let jwt = oidc_jwt(&ws.git(&["rev-parse", "HEAD"]));
    let oidc = Fake::start(Role::Oidc, move |_: &Request| {
        status(200, json!({"value": jwt}))
    })
    .await;
    let fulcio = Fake::start(Role::Fulcio, |_: &Request| {
        status(500, json!({"message": "fulcio is down"}))
    })
    .await;
    let out = with_sentinels(
        ws.runner().release_event("v1.0.0"),
        &ws,
        &others.slack,
        &others.hook,
        &others.supabase,
    )
    .env("GITHUB_API_URL", github.uri())
    .env(
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        format!("{}/token?api-version=2.0", oidc.uri()),
    )
    .input("subject-path", "dist/*")
    .input("sign", "sigstore")
    .input("fulcio-url", fulcio.uri())
    .input("rekor-url", fulcio.uri())
    .input("tsa-url", fulcio.uri())
    .run();
    out.assert_failure("signing_failed");
    assert!(
        oidc.carrying("authorization", ID_REQUEST_TOKEN).await > 0,
        "the request token went to the token endpoint"
    );
    assert!(
        !fulcio.requests().await.is_empty(),
        "the OIDC token was offered to Fulcio"
    );
    assert!(
        others.supabase.carrying("apikey", SUPABASE_KEY).await > 0,
        "the failed run was sunk to Supabase with its key"
    );
    let [a, b, c, d] = others.all(&github);
    assert_no_leak(
        &ws,
        &out,
        &Sentinels::new(None),
        &[a, b, c, d, &oidc, &fulcio],
        &[],
    )
    .await;
}

#[tokio::test]
async fn provenance_key_signed_committed_and_published_leaks_no_secret() {
    let ws = crate::audit_store::workspace();
    let (private, _) = test_signing_key();
    let encrypted = crate::signing::cosign_encrypt(&private, KEY_PASSWORD);
    let mut others = Others::start().await;
    // The sink accepts this run's row: the success path of the Supabase copy.
    others.supabase = Fake::start(Role::Supabase, |_: &Request| ResponseTemplate::new(201)).await;
    let git = crate::audit_store::FakeGit::start().await;
    let out = with_sentinels(
        ws.runner().release_event("v1.0.0"),
        &ws,
        &others.slack,
        &others.hook,
        &others.supabase,
    )
    .env("GITHUB_API_URL", git.api_url())
    .env("GITHUB_SHA", crate::audit_store::SHA)
    .input("audit-store", "commit")
    .input("subject-path", "dist/*")
    .input("sign", "key")
    .input("signing-key", encrypted.clone())
    .run();
    // The release and attestation calls find nothing on this GitHub: notices, not failures.
    out.assert_success();
    assert!(out.out("bundle-path").is_some(), "{out:#?}");
    let committed: Vec<(String, Vec<u8>)> = git
        .git()
        .files("main")
        .into_iter()
        .map(|(p, b)| (format!("committed {p}"), b))
        .collect();
    assert!(
        committed.iter().any(|(p, _)| p.ends_with("manifest.json")),
        "the run was committed"
    );
    let git_requests = git.requests().await;
    assert!(carrying(&git_requests, "authorization", GH_TOKEN) > 0);
    assert_eq!(out.out("sink-failed"), Some("false"), "{out:#?}");
    assert!(others.supabase.carrying("apikey", SUPABASE_KEY).await > 0);
    let mut requests = recorded(&[&others.slack, &others.hook, &others.supabase]).await;
    requests.extend(git_requests.into_iter().map(|r| (Role::GitHub, r)));
    assert_no_leak_in(
        &ws,
        &out,
        &Sentinels::new(Some(&encrypted)),
        &requests,
        &committed,
    );
}

#[tokio::test]
async fn provenance_key_with_a_wrong_password_leaks_no_secret() {
    let ws = crate::audit_store::workspace();
    let (private, _) = test_signing_key();
    let encrypted = crate::signing::cosign_encrypt(&private, "the right password");
    let others = Others::start().await;
    let github = empty_github().await;
    let out = with_sentinels(
        ws.runner().release_event("v1.0.0"),
        &ws,
        &others.slack,
        &others.hook,
        &others.supabase,
    )
    .env("GITHUB_API_URL", github.uri())
    .input("subject-path", "dist/*")
    .input("sign", "key")
    .input("signing-key", encrypted.clone())
    .run();
    out.assert_failure("signing_key_invalid");
    let [a, b, c, d] = others.all(&github);
    assert_no_leak(
        &ws,
        &out,
        &Sentinels::new(Some(&encrypted)),
        &[a, b, c, d],
        &[],
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// validate

fn zip_of(name: &str, data: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(name, zip::write::SimpleFileOptions::default())
        .expect("start");
    w.write_all(data).expect("write");
    w.finish().expect("finish").into_inner()
}

#[tokio::test]
async fn validate_from_a_run_artifact_redirected_to_storage_leaks_no_secret() {
    let (ws, bundle, _) = crate::validate::signed_release();
    let line = format!(
        "{}\n",
        serde_json::from_str::<Value>(&ws.read(&bundle)).expect("bundle")
    );
    std::fs::remove_file(ws.path().join(&bundle)).expect("only the network has it");
    let zip = zip_of("app.intoto.jsonl", line.as_bytes());
    let server = MockServer::start().await;
    let storage = format!("{}/storage/artifact-7.zip", server.uri());
    Mock::given(any())
        .respond_with(move |r: &Request| match r.url.path() {
            "/api/v3/repos/octo/app/actions/runs/99/artifacts" => status(
                200,
                json!({"total_count": 1, "artifacts": [{"id": 7, "name": "provenance",
                    "size_in_bytes": 10, "expired": false,
                    "archive_download_url": "https://api.example/zip/7"}]}),
            ),
            "/api/v3/repos/octo/app/actions/artifacts/7/zip" => {
                ResponseTemplate::new(302).insert_header("location", storage.as_str())
            }
            "/storage/artifact-7.zip" => ResponseTemplate::new(200).set_body_bytes(zip.clone()),
            _ => status(404, json!({"message": "Not Found"})),
        })
        .mount(&server)
        .await;
    let github = Fake {
        role: Role::GitHub,
        server,
    };
    let others = Others::start().await;
    let out = with_sentinels(
        crate::validate::validate(&ws).release_event("v1.0.0"),
        &ws,
        &others.slack,
        &others.hook,
        &others.supabase,
    )
    .env("GITHUB_API_URL", format!("{}/api/v3", github.uri()))
    .input("subject-path", "dist/*")
    .input("public-key", "public.pem")
    .input("run-id", "99")
    .input("artifact-name", "provenance")
    .run();
    out.assert_success();
    let paths: Vec<String> = github
        .requests()
        .await
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert!(
        paths.iter().any(|p| p == "/storage/artifact-7.zip"),
        "{paths:?}"
    );
    assert!(github.carrying("authorization", GH_TOKEN).await > 0);
    let [a, b, c, d] = others.all(&github);
    assert_no_leak(&ws, &out, &Sentinels::new(None), &[a, b, c, d], &[]).await;
}

#[tokio::test]
async fn validate_from_release_assets_and_the_attestations_api_failing_leaks_no_secret() {
    let (ws, bundle, _) = crate::validate::signed_release();
    std::fs::remove_file(ws.path().join(&bundle)).expect("only the network has it");
    let github = Fake::start(Role::GitHub, |r: &Request| {
        if r.url.path().contains("/attestations/") {
            status(500, json!({"message": "attestations are down"}))
        } else {
            status(404, json!({"message": "Not Found"}))
        }
    })
    .await;
    let others = Others::start().await;
    let out = with_sentinels(
        crate::validate::validate(&ws).release_event("v1.0.0"),
        &ws,
        &others.slack,
        &others.hook,
        &others.supabase,
    )
    .env("GITHUB_API_URL", format!("{}/api/v3", github.uri()))
    .input("subject-path", "dist/*")
    .input("public-key", "public.pem")
    .run();
    assert_eq!(out.code, Some(1), "{out:#?}");
    let paths: Vec<String> = github
        .requests()
        .await
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert!(
        paths.iter().any(|p| p.contains("/attestations/sha256:")),
        "{paths:?}"
    );
    let [a, b, c, d] = others.all(&github);
    assert_no_leak(&ws, &out, &Sentinels::new(None), &[a, b, c, d], &[]).await;
}

#[tokio::test]
async fn validate_with_a_broken_policy_file_leaks_no_secret() {
    let (ws, bundle, _) = crate::validate::signed_release();
    ws.write(
        ".github/slsa-policy.yml",
        "version: 1\nreleases:\n  - tag-pattern: 'v*'\n    builder-idd: x\n",
    );
    let github = empty_github().await;
    let others = Others::start().await;
    let out = with_sentinels(
        crate::validate::validate_own(&ws, &bundle),
        &ws,
        &others.slack,
        &others.hook,
        &others.supabase,
    )
    .env("GITHUB_API_URL", github.uri())
    .input("public-key", "public.pem")
    .run();
    out.assert_failure("policy_invalid");
    let [a, b, c, d] = others.all(&github);
    assert_no_leak(&ws, &out, &Sentinels::new(None), &[a, b, c, d], &[]).await;
}

// ---------------------------------------------------------------------------------------------
// notify

/// A GitHub with no open issue that accepts a new one, or one that is down.
async fn issues_github(down: bool) -> Fake {
    Fake::start(Role::GitHub, move |r: &Request| {
        if down {
            return status(503, json!({"message": "down"}));
        }
        match r.method.as_str() {
            "GET" => status(200, json!([])),
            _ => status(
                201,
                json!({"number": 100, "html_url": "https://github.com/octo/app/issues/100"}),
            ),
        }
    })
    .await
}

fn notify_run(ws: &Workspace, github: &Fake, others: &Others) -> Runner {
    with_sentinels(
        ws.runner(),
        ws,
        &others.slack,
        &others.hook,
        &others.supabase,
    )
    .input("mode", "notify")
    .input("run-id", RUN.to_string())
    .env("GITHUB_API_URL", github.uri())
}

#[tokio::test]
async fn notify_through_every_channel_and_an_issue_leaks_no_secret() {
    let ws = failed_run_workspace();
    let github = issues_github(false).await;
    let others = Others::start().await;
    let out = notify_run(&ws, &github, &others)
        .input("issue-on", "always")
        .run();
    out.assert_success();
    let slack_paths: Vec<String> = others
        .slack
        .requests()
        .await
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert!(
        slack_paths.iter().any(|p| p.contains(SLACK_HOOK))
            || slack_paths.iter().any(|p| p.ends_with("chat.postMessage")),
        "{slack_paths:?}"
    );
    assert!(github.carrying("authorization", GH_TOKEN).await > 0);
    let [a, b, c, d] = others.all(&github);
    assert_no_leak(&ws, &out, &Sentinels::new(None), &[a, b, c, d], &[]).await;
}

#[tokio::test]
async fn notify_with_slack_and_github_down_leaks_no_secret() {
    let ws = failed_run_workspace();
    let github = issues_github(true).await;
    let mut others = Others::start().await;
    others.slack = Fake::start(Role::Slack, |_: &Request| {
        ResponseTemplate::new(500).set_body_string("slack is down")
    })
    .await;
    others.hook = Fake::start(Role::NotifyHook, |_: &Request| {
        ResponseTemplate::new(500).set_body_string("hook is down")
    })
    .await;
    let out = notify_run(&ws, &github, &others).run();
    out.assert_failure("notify_failed");
    let [a, b, c, d] = others.all(&github);
    assert_no_leak(&ws, &out, &Sentinels::new(None), &[a, b, c, d], &[]).await;
}

// ---------------------------------------------------------------------------------------------
// recover

#[tokio::test]
async fn recover_dispatching_with_the_dispatch_token_leaks_no_secret() {
    let ws = failed_run_workspace();
    let created = (chrono::Utc::now() - chrono::Duration::days(40)).to_rfc3339();
    let github = Fake::start(Role::GitHub, move |r: &Request| {
        let p = r.url.path();
        match r.method.as_str() {
            "GET" if p.ends_with(&format!("/actions/runs/{RUN}")) => status(
                200,
                json!({"id": RUN, "status": "completed", "conclusion": "failure",
                    "created_at": created, "run_attempt": 1,
                    "html_url": format!("https://github.com/octo/app/actions/runs/{RUN}")}),
            ),
            "POST" if p.ends_with("/rerun-failed-jobs") => status(
                403,
                json!({"message": "Unable to retry this workflow run because it was created over a month ago"}),
            ),
            "POST" if p.ends_with("/dispatches") => {
                status(401, json!({"message": "Bad credentials"}))
            }
            "GET" => status(200, json!([])),
            _ => status(
                201,
                json!({"number": 100, "html_url": "https://github.com/octo/app/issues/100"}),
            ),
        }
    })
    .await;
    let others = Others::start().await;
    let out = with_sentinels(
        ws.runner(),
        &ws,
        &others.slack,
        &others.hook,
        &others.supabase,
    )
    .input("mode", "recover")
    .input("run-id", RUN.to_string())
    .input("retry-interval", "10ms")
    .env("SLSA_PROVENANCE_POLL_MS", "10")
    .env("GITHUB_API_URL", github.uri())
    .run();
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert!(
        github.carrying("authorization", DISPATCH_TOKEN).await > 0,
        "the dispatch went with the dispatch token: {:?}",
        github
            .requests()
            .await
            .iter()
            .map(|r| r.url.path().to_string())
            .collect::<Vec<_>>()
    );
    let [a, b, c, d] = others.all(&github);
    assert_no_leak(&ws, &out, &Sentinels::new(None), &[a, b, c, d], &[]).await;
}

// ---------------------------------------------------------------------------------------------
// report

#[tokio::test]
async fn report_over_repositories_with_github_refusing_leaks_no_secret() {
    let ws = Workspace::new();
    let github = Fake::start(Role::GitHub, |_: &Request| {
        status(401, json!({"message": "Bad credentials"}))
    })
    .await;
    let others = Others::start().await;
    let out = with_sentinels(
        ws.runner(),
        &ws,
        &others.slack,
        &others.hook,
        &others.supabase,
    )
    .remove("INPUT_SUPABASE-URL")
    .input("mode", "report")
    .input("repositories", "octo/app, octo/lib")
    .env("GITHUB_API_URL", github.uri())
    .run();
    // A repository that cannot be read is a row of the dashboard, not a failed report.
    out.assert_success();
    assert!(out.summary.contains("Bad credentials"), "{}", out.summary);
    assert!(github.carrying("authorization", GH_TOKEN).await > 0);
    let [a, b, c, d] = others.all(&github);
    assert_no_leak(&ws, &out, &Sentinels::new(None), &[a, b, c, d], &[]).await;
}

#[tokio::test]
async fn report_from_supabase_refusing_the_key_leaks_no_secret() {
    let ws = Workspace::new();
    let github = empty_github().await;
    let others = Others::start().await;
    let out = with_sentinels(
        ws.runner(),
        &ws,
        &others.slack,
        &others.hook,
        &others.supabase,
    )
    .input("mode", "report")
    .input("source", "supabase")
    .env("GITHUB_API_URL", github.uri())
    .run();
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert!(others.supabase.carrying("apikey", SUPABASE_KEY).await > 0);
    let [a, b, c, d] = others.all(&github);
    assert_no_leak(&ws, &out, &Sentinels::new(None), &[a, b, c, d], &[]).await;
}

// ---------------------------------------------------------------------------------------------
// masks

#[tokio::test]
async fn every_mode_masks_every_secret_input_first_and_only_inside_actions() {
    // Regression: validate masked nothing, and each other mode masked only the secrets it used,
    // so an ignored secret input (a signing key given to notify) could be echoed unmasked.
    let secret_inputs = [
        GH_TOKEN,
        SIGNING_KEY_TEXT,
        KEY_PASSWORD,
        SLACK_TOKEN,
        DISPATCH_TOKEN,
        SUPABASE_KEY,
    ];
    for mode in ["provenance", "validate", "notify", "recover", "report"] {
        let ws = failed_run_workspace();
        let others = Others::start().await;
        let github = empty_github().await;
        let base = with_sentinels(
            ws.runner(),
            &ws,
            &others.slack,
            &others.hook,
            &others.supabase,
        )
        .input("mode", mode)
        .env("GITHUB_API_URL", github.uri());
        let inside = base.env("GITHUB_ACTIONS", "true").run();
        let masked: Vec<&str> = inside
            .stdout
            .lines()
            .filter_map(|l| l.strip_prefix("::add-mask::"))
            .collect();
        for s in secret_inputs {
            assert!(
                masked.contains(&s),
                "{mode}: {s} is not masked:\n{}",
                inside.stdout
            );
        }
        for url in [SLACK_HOOK, NOTIFY_HOOK] {
            assert!(
                masked.iter().any(|m| m.contains(url)),
                "{mode}: the webhook URL is not masked:\n{}",
                inside.stdout
            );
        }
        let first = inside.stdout.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("::add-mask::"),
            "{mode}: masks come before anything else is logged:\n{}",
            inside.stdout
        );

        let ws = failed_run_workspace();
        let outside = with_sentinels(
            ws.runner(),
            &ws,
            &others.slack,
            &others.hook,
            &others.supabase,
        )
        .input("mode", mode)
        .env("GITHUB_API_URL", github.uri())
        .run();
        let [a, b, c, d] = others.all(&github);
        assert_no_leak(&ws, &outside, &Sentinels::new(None), &[a, b, c, d], &[]).await;
    }
}
