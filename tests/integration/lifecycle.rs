//! The whole lifecycle, end to end (issue 11): the user's flow played on one temp git repository
//! with the REAL binary for every step, each step reading what the previous ones wrote (the
//! workspace, and the audit branch of the fake GitHub), the way a workflow would:
//!
//! baseline release v0.9.0 -> release v1.0.0: provenance (keyless against the local Sigstore,
//! release asset + attestation + notes published, audit committed to the fake branch, row synced
//! to the real PostgREST) -> validate the downloaded release asset passes (offline, the mock's
//! trusted root) -> the artifact is swapped -> validate fails `subject_mismatch` and records it
//! -> notify (Slack webhook down) opens exactly one issue; a second notify comments -> recover
//! re-runs the failed jobs of the run -> the re-run (validate, attempt 2) fails again -> the
//! entry is `blocked` and the issue gets the escalation -> a rollback release v1.0.1
//! (`rollback-of: v1.0.0`) is recorded and validated (validate fetching the release's asset
//! itself) -> report: KPIs, the failure, the rollback
//! on the dashboard and the badge. At the end every entry is checked field by field, the
//! workspace trail equals the branch's, and `verify-manifest` passes on both.
//!
//! Fakes: `fake_github.rs` (one stateful GitHub), a Slack incoming webhook answering 404
//! `no_service` (a removed webhook), the Sigstore mock and OIDC endpoint of `signing.rs`, the
//! PostgreSQL + PostgREST stack of `supabase.rs`. Missing tools fail the test with the set-up
//! instruction (as in `supabase.rs` and `signing.rs`); nothing is skipped.

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{sha256_hex, Outcome, Runner, Workspace};
use crate::fake_github::FakeGitHub;
use crate::signing::{with_oidc, OidcServer, SigstoreMock};
use crate::supabase::{jwt, Stack, JWT_SECRET};

const TOKEN: &str = "ghs_lifecycleToken0123456789";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const WORKFLOW: &str = "octo/app/.github/workflows/release.yml";
const BASELINE_RUN: u64 = 1000;
const RELEASE_RUN: u64 = 1001;
const ROLLBACK_RUN: u64 = 1003;
const GOOD_V1: &[u8] = b"app 1.0.0, as built by the release workflow";
const GOOD_V09: &[u8] = b"app 0.9.0, the last good build";
const SWAPPED: &[u8] = b"app 1.0.0, swapped after it was built";

/// A GitHub Actions OIDC token (unsigned; the mock Fulcio reads its claims) for a release run.
fn release_jwt(tag: &str, sha: &str, run_id: u64) -> String {
    let now = chrono::Utc::now().timestamp();
    let workflow_ref = format!("{WORKFLOW}@refs/tags/{tag}");
    let claims = json!({
        "iss": ISSUER, "aud": "sigstore",
        "sub": format!("repo:octo/app:ref:refs/tags/{tag}"),
        "iat": now, "nbf": now, "exp": now + 600,
        "repository": "octo/app", "repository_id": "804070735",
        "repository_owner": "octo", "repository_owner_id": "16248153",
        "repository_visibility": "public",
        "event_name": "release", "ref": format!("refs/tags/{tag}"), "ref_type": "tag",
        "sha": sha, "workflow": "release",
        "workflow_ref": workflow_ref, "job_workflow_ref": workflow_ref,
        "runner_environment": "github-hosted",
        "run_id": run_id.to_string(), "run_attempt": "1", "actor": "octocat",
    });
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.{}",
        b64(br#"{"alg":"RS256","typ":"JWT","kid":"mock"}"#),
        b64(claims.to_string().as_bytes()),
        b64(b"not-a-signature")
    )
}

fn signer(tag: &str) -> String {
    format!("https://github.com/{WORKFLOW}@refs/tags/{tag}")
}

/// Everything the flow talks to.
struct World {
    ws: Workspace,
    github: FakeGitHub,
    sigstore: SigstoreMock,
    db: Stack,
    db_key: String,
    slack: MockServer,
}

impl World {
    /// A step of a workflow run of this repository: the runner's context, the fake GitHub, the
    /// commit store on `main`, retry waits shrunk to milliseconds.
    fn step(&self, run_id: u64, attempt: u32) -> Runner {
        let sha = self.ws.git(&["rev-parse", "HEAD"]);
        self.ws
            .runner()
            .env("GITHUB_SHA", sha)
            .env("GITHUB_RUN_ID", run_id.to_string())
            .env("GITHUB_RUN_ATTEMPT", attempt.to_string())
            .env("GITHUB_API_URL", self.github.api_url())
            .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
            .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "0.001")
            .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "20000")
            .env("SLSA_PROVENANCE_POLL_MS", "20")
            .input("audit-store", "commit")
            .input("github-token", TOKEN)
    }

    /// `mode: provenance` for a published release of `tag`, keyless, publishing everything,
    /// committing the audit trail and syncing the row.
    fn provenance(&self, tag: &str, run_id: u64, oidc: &OidcServer) -> Runner {
        let r = self
            .step(run_id, 1)
            .release_event(tag)
            .env("GITHUB_WORKFLOW_REF", format!("{WORKFLOW}@refs/tags/{tag}"))
            .input("subject-path", "dist/*")
            .input("sign", "sigstore")
            .input("fulcio-url", self.sigstore.url.clone())
            .input("rekor-url", self.sigstore.url.clone())
            .input("trusted-root", self.sigstore.root().to_string_lossy())
            .input("supabase-url", self.db.url())
            .input("supabase-key", self.db_key.clone());
        with_oidc(r, oidc)
    }

    /// `mode: validate` of the release asset downloaded from the fake, by file, offline.
    fn validate(&self, tag: &str, run_id: u64, attempt: u32) -> Runner {
        let release = self.github.release(tag);
        let asset = release
            .assets
            .iter()
            .find(|a| a.name == "app.tar.gz.intoto.jsonl")
            .unwrap_or_else(|| panic!("{tag} has no provenance asset: {release:?}"));
        self.ws
            .write("release-assets/app.tar.gz.intoto.jsonl", &asset.content);
        self.step(run_id, attempt)
            .input("mode", "validate")
            .input("provenance-path", "release-assets/*.intoto.jsonl")
            .input("subject-path", "dist/app.tar.gz")
            .input("expected-tag", tag)
            .input("signer-workflow", format!("{WORKFLOW}@refs/tags/v*"))
            .input("trusted-root", "trusted_root.json")
            .input("rekor-url", "offline")
            .input("supabase-url", self.db.url())
            .input("supabase-key", self.db_key.clone())
    }

    /// `mode: notify` as the security-ci composite calls it after a failed validation.
    fn notify(&self, run_id: u64, reason: &str) -> Runner {
        self.step(4000, 1)
            .input("mode", "notify")
            .input("status", "failure")
            .input("run-id", run_id.to_string())
            .input("tag", "v1.0.0")
            .input("failure-reason", reason)
            .input(
                "slack-webhook-url",
                format!("{}/services/T0/B0/x", self.slack.uri()),
            )
    }

    /// The workspace's manifest of `day`.
    fn manifest(&self, day: &str) -> Value {
        serde_json::from_str(&self.ws.read(&format!("docs/reports/{day}/manifest.json")))
            .expect("manifest")
    }

    /// The manifest of `day` at the head of the fake's `main`.
    fn branch_manifest(&self, day: &str) -> Value {
        let files = self.github.state().git.files("main");
        let bytes = files
            .get(&format!("docs/reports/{day}/manifest.json"))
            .unwrap_or_else(|| panic!("no manifest for {day} on main"));
        serde_json::from_slice(bytes).expect("manifest on main")
    }

    fn slack_requests(&self) -> usize {
        futures_block(self.slack.received_requests()).len()
    }
}

/// A step of another job running at the same time: its own `GITHUB_OUTPUT` and
/// `GITHUB_STEP_SUMMARY` (the harness's are per workspace and emptied by each `runner()`).
fn in_own_job(mut r: Runner, dir: &std::path::Path) -> Runner {
    r.output = dir.join("output.txt");
    r.summary = dir.join("summary.md");
    std::fs::write(&r.output, "").expect("output file");
    std::fs::write(&r.summary, "").expect("summary file");
    let (o, s) = (r.output.clone(), r.summary.clone());
    r.env("GITHUB_OUTPUT", o.to_string_lossy())
        .env("GITHUB_STEP_SUMMARY", s.to_string_lossy())
}

/// Await a wiremock future from synchronous test code (the servers run on their own threads).
fn futures_block<T>(f: impl std::future::Future<Output = Option<Vec<T>>>) -> Vec<T> {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
        .unwrap_or_default()
}

fn entry(manifest: &Value, run_id: u64) -> &Value {
    manifest["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["run_id"] == run_id)
        .unwrap_or_else(|| panic!("no entry for run {run_id}: {manifest:#}"))
}

fn day_of(out: &Outcome) -> String {
    let m = out.out("manifest-path").expect("manifest-path");
    m.strip_prefix("docs/reports/")
        .and_then(|r| r.strip_suffix("/manifest.json"))
        .unwrap_or_else(|| panic!("manifest-path {m}"))
        .to_string()
}

/// The token never appears in a log line, except in the runner's mask command.
fn assert_no_secret_logged(out: &Outcome, secrets: &[&str]) {
    for line in out.stdout.lines().chain(out.stderr.lines()) {
        for s in secrets {
            assert!(
                !line.contains(s) || line.starts_with("::add-mask::"),
                "secret leaked: {line}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_release_validate_tamper_notify_recover_block_rollback_report() {
    let db = Stack::start().await;
    let db_key = jwt("slsa_manifest_service", JWT_SECRET);
    let slack = MockServer::builder().start().await;
    // A removed incoming webhook: Slack answers 404 `no_service`, a final answer (sent once).
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .mount(&slack)
        .await;
    let world = World {
        ws: Workspace::new(),
        github: FakeGitHub::start().await,
        sigstore: SigstoreMock::start(),
        db,
        db_key,
        slack,
    };
    let ws = &world.ws;
    let gh = &world.github;
    // The validating job checks out the repository with the instance's trusted root in it.
    ws.write(
        "trusted_root.json",
        std::fs::read(world.sigstore.root()).expect("mock root"),
    );
    ws.write(".gitignore", "release-assets/\n");

    // ---- 1. Baseline: v0.9.0 is released with provenance (the last good release).
    ws.write("dist/app.tar.gz", GOOD_V09);
    let sha09 = ws.init_git();
    gh.create_release("v0.9.0", "The first release.");
    let oidc = OidcServer::start(release_jwt("v0.9.0", &sha09, BASELINE_RUN));
    let out = world.provenance("v0.9.0", BASELINE_RUN, &oidc).run();
    out.assert_success();
    let day = day_of(&out);

    // ---- 2. Release v1.0.0: provenance, keyless, published, committed, synced.
    ws.write("dist/app.tar.gz", GOOD_V1);
    let sha1 = ws.commit_all("v1.0.0");
    let notes = "## What's new\n\n- faster";
    gh.create_release("v1.0.0", notes);
    gh.add_run(RELEASE_RUN, "in_progress", None);
    let oidc = OidcServer::start(release_jwt("v1.0.0", &sha1, RELEASE_RUN));
    let before = gh.requests().await.len();
    let out = world.provenance("v1.0.0", RELEASE_RUN, &oidc).run();
    out.assert_success();
    assert_no_secret_logged(&out, &[TOKEN, &world.db_key]);
    assert_eq!(out.out("tag"), Some("v1.0.0"));
    assert_eq!(out.out("tag-source"), Some("release-event"));
    assert_eq!(out.out("subjects"), Some("1"));
    assert_eq!(out.out("sink-failed"), Some("false"), "{out:#?}");
    assert_eq!(out.out("manifest-queued"), Some("false"), "{out:#?}");
    let bundle_rel = out.out("bundle-path").expect("bundle-path").to_string();
    let statement_rel = out
        .out("provenance-path")
        .expect("provenance-path")
        .to_string();
    let bundle_bytes = std::fs::read(ws.path().join(&bundle_rel)).expect("bundle");
    let statement_bytes = std::fs::read(ws.path().join(&statement_rel)).expect("statement");
    let bundle: Value = serde_json::from_slice(&bundle_bytes).expect("bundle json");
    assert!(
        bundle["verificationMaterial"]["certificate"].is_object()
            && bundle["verificationMaterial"]["tlogEntries"][0].is_object(),
        "keyless: a Fulcio certificate and a Rekor entry: {bundle:#}"
    );
    let statement: Value = serde_json::from_slice(&statement_bytes).expect("statement json");
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        sha256_hex(GOOD_V1)
    );
    // Published: the bundle as the release asset, the same bundle as an attestation, the notes
    // section appended below the maintainer's text.
    let release = gh.release("v1.0.0");
    let asset = release
        .assets
        .iter()
        .find(|a| a.name == "app.tar.gz.intoto.jsonl")
        .expect("provenance asset");
    assert_eq!(
        serde_json::from_slice::<Value>(&asset.content).expect("asset json"),
        bundle
    );
    assert!(release.body.starts_with(notes), "{}", release.body);
    for marker in [
        "<!-- slsa-provenance-action:provenance -->",
        "<!-- /slsa-provenance-action:provenance -->",
    ] {
        assert_eq!(
            release.body.matches(marker).count(),
            1,
            "one marked section: {}",
            release.body
        );
    }
    assert!(
        release.body.contains(&sha256_hex(&statement_bytes)),
        "{}",
        release.body
    );
    let attested: Vec<Value> = gh
        .state()
        .attestations
        .iter()
        .map(|(_, b)| b.clone())
        .collect();
    assert_eq!(attested.len(), 2, "one attestation per release so far");
    assert_eq!(attested[1], bundle);
    assert_eq!(
        out.out("attestation-id").map(str::to_string),
        Some(gh.state().attestations[1].0.to_string())
    );
    // Committed: one fast-forward commit on main holding the run folder, the log, the manifest.
    let requests = gh.requests().await[before..].to_vec();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("PATCH /api/v3/repos/octo/app/git/refs/heads/main"))
            .count(),
        1,
        "{requests:#?}"
    );
    let files = gh.state().git.files("main");
    assert_eq!(files[&statement_rel], statement_bytes);
    assert_eq!(files[&bundle_rel], bundle_bytes);
    let log =
        String::from_utf8(files[&format!("docs/reports/{day}/PROVENANCE_SHA256.txt")].clone())
            .expect("log");
    assert!(
        log.contains(&format!("{}  ", sha256_hex(&statement_bytes))),
        "{log}"
    );
    let e = entry(&world.branch_manifest(&day), RELEASE_RUN).clone();
    assert_eq!(e["status"], "success");
    assert_eq!(e["signer_identity"], signer("v1.0.0"));
    // Synced: the row in PostgreSQL through PostgREST, with the committed entry's hash.
    assert_eq!(
        world.db.sql(&format!(
            "select tag, status, manifest_hash from slsa_runs where run_id = {RELEASE_RUN}"
        )),
        format!("v1.0.0|success|{}", e["entry_hash"].as_str().expect("hash"))
    );

    // ---- 3. The provenance workflow's validate job: the downloaded release asset passes.
    let out = world.validate("v1.0.0", RELEASE_RUN, 1).run();
    out.assert_success();
    assert_eq!(out.out("verified"), Some("true"), "{out:#?}");
    assert_eq!(out.out("subjects-verified"), Some("1"));
    assert_eq!(out.out("signer-identity"), Some(signer("v1.0.0").as_str()));
    let e = entry(&world.branch_manifest(&day), RELEASE_RUN).clone();
    assert_eq!(e["validation_status"], "passed");
    assert_eq!(entry(&world.manifest(&day), RELEASE_RUN), &e);

    // ---- 4. The artifact is swapped after it was built: validate fails, and records it.
    ws.write("dist/app.tar.gz", SWAPPED);
    let out = world.validate("v1.0.0", RELEASE_RUN, 1).run();
    out.assert_failure("subject_mismatch");
    assert_eq!(out.out("verified"), Some("false"));
    let e = entry(&world.branch_manifest(&day), RELEASE_RUN).clone();
    assert_eq!(e["validation_status"], "failed");
    assert_eq!(e["failure_reason"], "subject_mismatch");
    assert_eq!(e["status"], "success", "provenance itself succeeded");
    assert_eq!(entry(&world.manifest(&day), RELEASE_RUN), &e);
    // The workflow run (provenance job passed, validate job failed) concluded failure.
    gh.complete_run(RELEASE_RUN, "failure");
    // The Supabase validate function heard both validations.
    let calls = world.db.function_calls();
    let statuses: Vec<(String, Value, Value)> = calls
        .iter()
        .map(|(name, b)| {
            (
                name.clone(),
                b["status"].clone(),
                b["failure_reason"].clone(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            (
                "provenance-validate".to_string(),
                json!("passed"),
                Value::Null
            ),
            (
                "provenance-validate".to_string(),
                json!("failed"),
                json!("subject_mismatch")
            ),
        ],
        "{calls:#?}"
    );

    // ---- 5. notify: Slack is down, so exactly one issue is opened.
    let out = world.notify(RELEASE_RUN, "subject_mismatch").run();
    out.assert_success();
    assert_no_secret_logged(&out, &[TOKEN, &world.slack.uri()]);
    assert_eq!(out.out("slack-delivered"), Some("false"));
    assert_eq!(out.out("channel"), Some("issue"));
    assert_eq!(out.out("issue-number"), Some("1"));
    assert_eq!(
        world.slack_requests(),
        1,
        "a final Slack answer is not re-sent"
    );
    {
        let s = gh.state();
        assert_eq!(s.issues.len(), 1);
        let i = &s.issues[0];
        assert!(i.open);
        assert_eq!(
            i.labels,
            [
                "slsa-provenance",
                "automated",
                "ops-alert",
                "provenance-failure"
            ]
        );
        assert!(
            i.body.contains(&format!(
                "<!-- slsa-provenance-action:notify repo=octo/app tag=v1.0.0 run={RELEASE_RUN} -->"
            )),
            "{}",
            i.body
        );
        assert!(i.body.contains("subject_mismatch"), "{}", i.body);
    }
    let e = entry(&world.branch_manifest(&day), RELEASE_RUN).clone();
    assert_eq!(e["notify_slack"], false);
    assert_eq!(e["issue_number"], 1);

    // ---- 6. A second notify for the same run comments; no second issue.
    let out = world.notify(RELEASE_RUN, "subject_mismatch").run();
    out.assert_success();
    assert_eq!(out.out("issue-number"), Some("1"));
    {
        let s = gh.state();
        assert_eq!(s.issues.len(), 1, "still one issue");
        assert_eq!(s.issues[0].comments.len(), 1, "{:?}", s.issues[0].comments);
        assert!(s.issues[0].comments[0].starts_with("Notified again"));
    }
    assert_eq!(gh.count("POST", "/issues").await, 1);

    // ---- 7. recover re-runs the failed jobs and follows the run; the re-run (the validate
    // job, attempt 2, on the same swapped artifact) fails again -> blocked + escalation.
    let recover_job = tempfile::tempdir().expect("tempdir");
    let recover = in_own_job(world.step(5000, 1), recover_job.path())
        .input("mode", "recover")
        .input("run-id", RELEASE_RUN.to_string())
        .input("tag", "v1.0.0")
        .input("reason", "subject_mismatch")
        .input("wait", "true")
        .input("wait-timeout", "5m");
    let recovering = std::thread::spawn(move || recover.run());
    let deadline = Instant::now() + Duration::from_secs(120);
    while gh.state().reruns.is_empty() {
        assert!(
            !recovering.is_finished(),
            "recover ended before re-running: {:#?}",
            recovering.join().expect("recover thread")
        );
        assert!(Instant::now() < deadline, "recover never re-ran the run");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(gh.state().reruns, vec![RELEASE_RUN]);
    let run = gh.run(RELEASE_RUN);
    assert_eq!((run.status.as_str(), run.attempt), ("in_progress", 2));
    // While the re-run is under way, the entry says so (on the branch and in the workspace).
    assert_eq!(
        entry(&world.branch_manifest(&day), RELEASE_RUN)["rerun_in_progress"],
        true
    );
    let rerun = world.validate("v1.0.0", RELEASE_RUN, 2).run();
    rerun.assert_failure("subject_mismatch");
    gh.complete_run(RELEASE_RUN, "failure");
    let out = tokio::task::spawn_blocking(move || recovering.join().expect("recover thread"))
        .await
        .expect("join");
    out.assert_failure("recovery_blocked");
    assert_eq!(out.out("action"), Some("blocked"));
    assert_eq!(
        out.out("new-run-id"),
        Some(RELEASE_RUN.to_string().as_str()),
        "{out:#?}"
    );
    {
        let s = gh.state();
        assert_eq!(s.issues.len(), 1, "the escalation goes to the run's issue");
        let i = &s.issues[0];
        assert!(i.labels.iter().any(|l| l == "ops-alert"), "{:?}", i.labels);
        assert_eq!(i.comments.len(), 2, "{:?}", i.comments);
        assert!(
            i.comments[1].contains("recovery_blocked"),
            "{}",
            i.comments[1]
        );
        assert!(
            i.comments[1].contains("docs/ops/failure-recovery.md#rollback"),
            "the escalation links the rollback runbook: {}",
            i.comments[1]
        );
        assert!(s.dispatches.is_empty(), "a re-run, not a dispatch");
    }
    let e = entry(&world.branch_manifest(&day), RELEASE_RUN).clone();
    assert_eq!(e["status"], "blocked");
    assert_eq!(e["failure_reason"], "recovery_blocked");
    assert!(e.get("rerun_in_progress").is_none(), "{e:#}");

    // ---- 8. The rollback: v1.0.1 re-releases v0.9.0's code, recorded as a rollback of v1.0.0,
    // then validated (seed 002 §4: a rollback is re-validated).
    ws.write("dist/app.tar.gz", GOOD_V09);
    let sha_rb = ws.commit_all("revert to 0.9.0");
    gh.create_release("v1.0.1", "Rollback of v1.0.0.");
    let oidc = OidcServer::start(release_jwt("v1.0.1", &sha_rb, ROLLBACK_RUN));
    let out = world
        .provenance("v1.0.1", ROLLBACK_RUN, &oidc)
        .input("rollback-of", "v1.0.0")
        .run();
    out.assert_success();
    assert_eq!(out.out("sink-failed"), Some("false"));
    // This time validate fetches the provenance itself: the release's `*.intoto.jsonl` asset.
    let before = gh.requests().await.len();
    let out = world
        .step(ROLLBACK_RUN, 1)
        .input("mode", "validate")
        .input("subject-path", "dist/app.tar.gz")
        .input("expected-tag", "v1.0.1")
        .input("signer-workflow", format!("{WORKFLOW}@refs/tags/v*"))
        .input("trusted-root", "trusted_root.json")
        .input("rekor-url", "offline")
        .run();
    out.assert_success();
    assert_eq!(out.out("verified"), Some("true"), "{out:#?}");
    let asset_id = gh.release("v1.0.1").assets[0].id;
    let fetched = gh.requests().await[before..].to_vec();
    assert!(
        fetched.contains(&format!(
            "GET /api/v3/repos/octo/app/releases/assets/{asset_id}"
        )),
        "{fetched:#?}"
    );

    // ---- 9. The report: KPIs, the failure and the rollback.
    let out = world.step(6000, 1).input("mode", "report").run();
    out.assert_success();
    assert_eq!(out.out("runs"), Some("3"), "{out:#?}");
    assert_eq!(out.out("failures"), Some("1"));
    assert_eq!(out.out("success-rate"), Some("50.0"));
    let dashboard = ws.read("docs/reports/v_ops_slsa_status.md");
    assert_eq!(out.summary.trim(), dashboard.trim());
    for needle in [
        "| Success rate | 50.0% (1/2) | 100% | ❌ fail |",
        "| Notification delivery rate | 100.0% (1/1) |",
        "| Runs | 3 (1 succeeded, 1 failed",
        "| Validation pass rate | 50.0% (1/2) |",
        "| Rollbacks | 1 (lead time",
        "| Issues opened | 1 |",
        // The latest failure: the blocked release, its run and its issue (Markdown-escaped).
        r"| v1.0.0 | recovery\_blocked | [#1001](https://github.com/octo/app/actions/runs/1001) | [#1](https://github.com/octo/app/issues/1) |",
    ] {
        assert!(
            dashboard.contains(needle),
            "{needle:?} not in:\n{dashboard}"
        );
    }
    let badge: Value =
        serde_json::from_str(&ws.read("docs/reports/provenance-badge.json")).expect("badge");
    assert_eq!(badge["schemaVersion"], 1);
    assert_eq!(badge["message"], "failing 50%");
    assert_eq!(badge["color"], "red");
    let svg = ws.read("docs/reports/provenance-badge.svg");
    assert!(svg.contains("failing 50%"), "{svg}");

    // ---- 10. Every entry, field by field; the chain; the branch equals the workspace.
    let m = world.manifest(&day);
    assert_eq!(m, world.branch_manifest(&day), "workspace and branch agree");
    let entries = m["entries"].as_array().expect("entries");
    let order: Vec<(String, u64)> = entries
        .iter()
        .map(|e| {
            (
                e["tag"].as_str().expect("tag").to_string(),
                e["run_id"].as_u64().expect("run id"),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("v0.9.0", BASELINE_RUN),
            ("v1.0.0", RELEASE_RUN),
            ("v1.0.1", ROLLBACK_RUN)
        ]
        .map(|(t, r)| (t.to_string(), r))
    );
    let files = gh.state().git.files("main");
    for (e, (tag, sha, status, flag)) in entries.iter().zip([
        ("v0.9.0", &sha09, "success", "provenance-ready"),
        ("v1.0.0", &sha1, "blocked", "provenance-ready"),
        ("v1.0.1", &sha_rb, "rollback", "rollback"),
    ]) {
        let run = e["run_id"].as_u64().expect("run");
        assert_eq!(e["tag"], tag);
        assert_eq!(e["sha"], sha.as_str(), "{e:#}");
        assert_eq!(e["status"], status, "{e:#}");
        assert_eq!(e["governance_flag"], flag, "{e:#}");
        assert_eq!(e["actor"], "octocat");
        assert_eq!(e["run_attempt"], 1);
        assert_eq!(e["tag_source"], "release-event");
        assert_eq!(e["subjects"], 1);
        assert_eq!(
            e["release_url"],
            format!("https://github.com/octo/app/releases/tag/{tag}")
        );
        assert_eq!(e["signer_identity"], signer(tag));
        let dir = format!("docs/reports/{day}/provenance_run_{run}");
        assert_eq!(e["provenance_path"], format!("{dir}/provenance.json"));
        // The hashes are those of the files, in the workspace and on the branch.
        for (field, file) in [
            ("provenance_sha256", "provenance.json"),
            ("bundle_sha256", "provenance.sigstore.json"),
        ] {
            let rel = format!("{dir}/{file}");
            let on_disk = std::fs::read(ws.path().join(&rel)).expect("audit file");
            assert_eq!(e[field], sha256_hex(&on_disk), "{field} of run {run}");
            assert_eq!(files[&rel], on_disk, "{rel} on main");
        }
        assert!(e["duration_ms"].as_u64().is_some(), "{e:#}");
        assert!(e.get("rerun_in_progress").is_none(), "{e:#}");
    }
    let (base, v1, rb) = (&entries[0], &entries[1], &entries[2]);
    assert!(base.get("validation_status").is_none(), "{base:#}");
    assert!(base.get("failure_reason").is_none(), "{base:#}");
    assert!(base.get("rollback_of").is_none(), "{base:#}");
    assert_eq!(v1["validation_status"], "failed");
    assert!(v1["validated_at"].as_str().is_some(), "{v1:#}");
    assert_eq!(v1["failure_reason"], "recovery_blocked");
    assert_eq!(v1["notify_slack"], false);
    assert_eq!(v1["issue_number"], 1);
    assert!(v1.get("rollback_of").is_none(), "{v1:#}");
    assert_eq!(rb["rollback_of"], "v1.0.0");
    assert_eq!(rb["validation_status"], "passed");
    assert!(rb.get("failure_reason").is_none(), "{rb:#}");
    // The chain: each entry links to the one before it; the day starts a fresh trail.
    assert!(m["previous_day"].is_null(), "{m:#}");
    for pair in entries.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["entry_hash"], "{m:#}");
    }
    // The SHA-256 log lists each run's statement once.
    let log = ws.read(&format!("docs/reports/{day}/PROVENANCE_SHA256.txt"));
    for e in entries {
        assert_eq!(
            log.matches(e["provenance_sha256"].as_str().expect("sha"))
                .count(),
            1,
            "{log}"
        );
    }
    // verify-manifest passes on the workspace and on the branch's files.
    ws.runner()
        .arg("verify-manifest")
        .arg("docs/reports")
        .run()
        .assert_success();
    let branch_copy = Workspace::new();
    for (p, b) in &files {
        branch_copy.write(p, b);
    }
    branch_copy
        .runner()
        .arg("verify-manifest")
        .arg("docs/reports")
        .run()
        .assert_success();
    // The audit branch moved only by fast forwards: the initial commit is still its root.
    let history = gh.state().git.history("main");
    assert_eq!(history.last().map(String::as_str), Some("initial"));
    // The sink holds one row per provenance run (its copy: the entry updates are in Git).
    assert_eq!(
        world
            .db
            .sql("select string_agg(tag || '/' || run_id || '/' || status, ',' order by run_id) from slsa_runs"),
        "v0.9.0/1000/success,v1.0.0/1001/success,v1.0.1/1003/rollback"
    );
    // What arrived, in all: one attestation per release, one re-run and no dispatch, two
    // issue-creating notifies answered by one issue, and Slack asked once per notify (its
    // `no_service` is final; recover's escalation goes to the issue only).
    assert_eq!(gh.count("POST", "/attestations").await, 3);
    assert_eq!(
        gh.count(
            "POST",
            &format!("/actions/runs/{RELEASE_RUN}/rerun-failed-jobs")
        )
        .await,
        1
    );
    assert_eq!(gh.state().dispatches.len(), 0);
    assert_eq!(gh.count("POST", "/issues").await, 1);
    assert_eq!(gh.count("POST", "/issues/1/comments").await, 2);
    assert_eq!(world.slack_requests(), 2);
    // Only our token ever reached the fake GitHub.
    for a in gh.authorizations().await {
        assert_eq!(a, format!("Bearer {TOKEN}"));
    }
}
