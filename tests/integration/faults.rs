//! Fault injection (issue 11): every call of a run failing in turn.
//!
//! A clean run is recorded first through [`fault_proxy`](crate::fault_proxy) proxies in front
//! of every service it talks to; then the run is repeated once per (call index, fault kind)
//! with that one call faulted (5xx, 429 `Retry-After: 0`, no answer within the HTTP timeout,
//! connection reset, a truncated JSON answer of a request that took effect, a 200 HTML page).
//! Every row must end with exit 0 or 1 (never a panic or a signal), a failure code from the
//! set expected for the faulted service with its `::error::` line, success where the retry
//! policy (README, "Publishing and the GitHub API" and the Supabase sink) says the call is
//! retried, and an intact audit trail: the branch's chain verifies (`verify-manifest`), the
//! earlier run's entry is untouched, this run's entry is on the branch or in the queue file
//! (never lost, never twice), the Supabase row is there unless `sink-failed`, and no `.tmp-*`
//! file is left in the workspace. Rows run on a few threads; retry waits are shrunk by the
//! `SLSA_PROVENANCE_*` knobs, and a hang costs one `SLSA_PROVENANCE_HTTP_TIMEOUT_MS`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::Value;

use crate::audit_store::{verify_files, FakeGit};
use crate::common::{Outcome, Workspace};
use crate::fault_proxy::{upstream_addr, Call, Fault, FaultProxy, Plan};
use crate::publish::FakeGitHub;
use crate::signing::{github_jwt, OidcServer, SigstoreMock};
use crate::supabase::{jwt, Stack, JWT_SECRET};

const TAG: &str = "v1.0.0";
const TOKEN: &str = "ghs_fakeTokenForTests123";
const OIDC_BEARER: &str = "runner-request-token-faults";
const REPO_API: &str = "/api/v3/repos/octo/app";
/// Per-request timeout of every client in a row: what a hanging call costs. Long enough that a
/// clean call never times out on a loaded machine (Sigstore calls are not retried).
const HTTP_TIMEOUT_MS: &str = "3000";
const WORKERS: usize = 4;

/// The fault kinds of the table. 5xx alternates between 500 and 503 by call index.
fn kinds(index: usize) -> [Fault; 6] {
    [
        Fault::Status(if index % 2 == 0 { 500 } else { 503 }),
        Fault::RateLimited,
        Fault::Hang,
        Fault::Reset,
        Fault::Truncated,
        Fault::Html,
    ]
}

// ---------------------------------------------------------------------------------------------
// Provenance: keyless signing, publishing, `audit-store: commit`, the Supabase sink.

/// What the services of a provenance row are, shared by every row (stateless enough: each row
/// has its own run id, so its Rekor entry and Supabase row are its own).
struct Shared {
    sigstore: SigstoreMock,
    supabase: Stack,
    key: String,
    workspace_sha: String,
}

/// One row's fakes, behind one plan's proxies.
struct Fakes {
    git: FakeGit,
    _github: FakeGitHub,
    plan: Plan,
    github_proxy: FaultProxy,
    sigstore_proxy: FaultProxy,
    oidc_proxy: FaultProxy,
    supabase_proxy: FaultProxy,
    _oidc: OidcServer,
}

/// The Git Database routes (and the repository itself) go to the commit store's fake; the
/// rest (releases, uploads, attestations) to the publishing fake.
fn is_git_route(path: &str) -> bool {
    match path.strip_prefix(REPO_API) {
        Some(rest) => rest.is_empty() || rest.starts_with("/git/") || rest.starts_with("/pulls"),
        None => false,
    }
}

impl Fakes {
    fn start(
        rt: &tokio::runtime::Runtime,
        shared: &Shared,
        plan: Plan,
        seed: &BTreeMap<String, Vec<u8>>,
        run_id: u64,
    ) -> Self {
        let git = rt.block_on(FakeGit::start());
        if !seed.is_empty() {
            git.git().commit_on_main(seed.clone(), "earlier run");
        }
        let github = rt.block_on(FakeGitHub::with_release("Release notes.\n"));
        let git_addr = upstream_addr(&git.api_url());
        let gh_addr = upstream_addr(&github.api_url());
        let github_proxy = FaultProxy::routed("github", &plan, move |path| {
            if is_git_route(path) {
                git_addr
            } else {
                gh_addr
            }
        });
        // Uploads go to the release's own upload_url: through the proxy too.
        github.state().uri = github_proxy.url();
        let oidc = OidcServer::start(run_jwt(&shared.workspace_sha, run_id));
        let oidc_proxy = FaultProxy::start("oidc", &oidc.url, &plan);
        let sigstore_proxy = FaultProxy::start("sigstore", &shared.sigstore.url, &plan);
        let supabase_proxy = FaultProxy::start("supabase", &shared.supabase.url(), &plan);
        Self {
            git,
            _github: github,
            plan,
            github_proxy,
            sigstore_proxy,
            oidc_proxy,
            supabase_proxy,
            _oidc: oidc,
        }
    }
}

/// The signing test's OIDC token, for run `run_id` (the run's facts come from its claims).
fn run_jwt(sha: &str, run_id: u64) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = github_jwt(sha, "public");
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&b64.decode(parts[1]).expect("base64")).expect("claims");
    claims["run_id"] = Value::String(run_id.to_string());
    format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    )
}

fn provenance_workspace() -> (Workspace, String) {
    let ws = Workspace::new();
    ws.write("dist/app.tar.gz", b"tarball bytes");
    let sha = ws.init_git();
    (ws, sha)
}

/// The provenance run of one row: run `run_id` of [`TAG`], signed keylessly, published,
/// recorded by commit and sunk to Supabase, every service behind its proxy.
fn provenance_run(ws: &Workspace, shared: &Shared, fakes: &Fakes, run_id: u64) -> Outcome {
    let sigstore = fakes.sigstore_proxy.url();
    ws.runner()
        .release_event(TAG)
        .env("GITHUB_SHA", shared.workspace_sha.clone())
        .env(
            "GITHUB_WORKFLOW_REF",
            format!("octo/app/.github/workflows/release.yml@refs/tags/{TAG}"),
        )
        .env("GITHUB_RUN_ID", run_id.to_string())
        .env(
            "GITHUB_API_URL",
            format!("{}/api/v3", fakes.github_proxy.url()),
        )
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}/token?api-version=2.0", fakes.oidc_proxy.url()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", OIDC_BEARER)
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "0.001")
        .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", HTTP_TIMEOUT_MS)
        .input("subject-path", "dist/*")
        .input("audit-store", "commit")
        .input("sign", "sigstore")
        .input("fulcio-url", sigstore.clone())
        .input("rekor-url", sigstore)
        .input("trusted-root", shared.sigstore.root().to_string_lossy())
        .input("github-token", TOKEN)
        .input("supabase-url", fakes.supabase_proxy.url())
        .input("supabase-key", shared.key.clone())
        .run()
}

/// Every object in `v` (at any depth) that is a manifest entry of run `run_id`.
fn entries_of(v: &Value, run_id: u64, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if m.get("run_id").and_then(Value::as_u64) == Some(run_id)
                && m.get("tag").and_then(Value::as_str) == Some(TAG)
            {
                out.push(v.clone());
            }
            m.values().for_each(|x| entries_of(x, run_id, out));
        }
        Value::Array(a) => a.iter().for_each(|x| entries_of(x, run_id, out)),
        _ => {}
    }
}

/// The entries of `run_id` in every day manifest of a branch's files.
fn branch_entries(files: &BTreeMap<String, Vec<u8>>, run_id: u64) -> Vec<Value> {
    let mut out = Vec::new();
    for (path, bytes) in files {
        if path.starts_with("docs/reports/") && path.ends_with("/manifest.json") {
            let v: Value = serde_json::from_slice(bytes)
                .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
            entries_of(&v, run_id, &mut out);
        }
    }
    out
}

/// `.tmp-*` files anywhere in the workspace (outside `.git`).
fn leftovers(dir: &Path) -> Vec<String> {
    walk(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".tmp-"))
        })
        .map(|p| p.display().to_string())
        .collect()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The failure codes a fault of `call` may end a provenance run with. Empty: the run must
/// succeed whatever the fault (the audit store and the sink never fail a run).
fn provenance_codes(call: &Call) -> &'static [&'static str] {
    match call.service {
        "oidc" => &["oidc_token_failed"],
        "sigstore" => &["signing_failed"],
        "supabase" => &[],
        _ if is_git_route(&call.path) => &[],
        _ if call.path.ends_with("/attestations") => &["attestation_failed", "github_rate_limited"],
        _ if call.path.contains("/releases/assets/") || call.path.starts_with("/api/uploads/") => {
            &["release_asset_failed", "github_rate_limited"]
        }
        _ if call.method == "PATCH" => &["release_notes_failed", "github_rate_limited"],
        _ => &[
            "github_api_failed",
            "release_asset_failed",
            "release_notes_failed",
            "attestation_failed",
            "github_rate_limited",
        ],
    }
}

/// Whether our retry policy heals `fault` on `call` (README: GitHub calls are retried on 5xx,
/// 429 and network errors, a POST only after its check; the Supabase upsert is idempotent and
/// retried on 5xx, 429 and lost answers; the OIDC token GET is retried like any idempotent
/// call). Sigstore calls are not retried (a Rekor entry is never sent twice).
fn provenance_heals(call: &Call, fault: Fault) -> bool {
    fault.is_transient() && matches!(call.service, "github" | "supabase" | "oidc")
}

struct Row {
    index: usize,
    fault: Fault,
    run_id: u64,
}

/// Every (call index, fault kind) of a recorded run of `calls` calls; run ids from `first_run`.
fn table(calls: usize, first_run: u64) -> Vec<Row> {
    (0..calls)
        .flat_map(|index| {
            kinds(index)
                .into_iter()
                .enumerate()
                .map(move |(k, fault)| Row {
                    index,
                    fault,
                    run_id: first_run + (index * 10 + k) as u64,
                })
        })
        .collect()
}

/// Run `check` on every row, [`WORKERS`] at a time; what went wrong, all rows together.
fn run_rows(rows: &[Row], check: impl Fn(&Row) -> Vec<String> + Sync) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let problems = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(row) = rows.get(i) else { break };
                let wrong = check(row);
                problems.lock().expect("problems").extend(wrong);
            });
        }
    });
    problems.into_inner().expect("problems")
}

/// Exit 0, or 1 with a code from `codes` and its `::error::` line; never a panic or signal.
fn check_exit(out: &Outcome, codes: &[&str], call: &Call) -> Vec<String> {
    let mut wrong = Vec::new();
    let code = out.out("failure-reason").unwrap_or_default();
    match out.code {
        Some(0) => {}
        Some(1) => {
            if !codes.contains(&code) {
                wrong.push(format!("failure-reason {code:?} not expected for {call}"));
            }
            if !out.stdout.contains(&format!("::error title={code}::")) {
                wrong.push("no ::error:: line".into());
            }
        }
        other => wrong.push(format!(
            "exit {other:?} (a panic or a signal); stderr: {}",
            out.stderr
        )),
    }
    wrong
}

/// A healed transient fault was healed by sending again: the row made more calls than the
/// clean run (so the fault was injected, and retried, not skipped).
fn check_retried(plan: &Plan, clean_calls: usize, row: &Row) -> Vec<String> {
    let made = plan.calls().len();
    match plan.faulted() {
        Some(call) if row.fault.is_transient() && made <= clean_calls => vec![format!(
            "[{call} {} @{}] healed in {made} calls, the clean run made {clean_calls}: not retried",
            row.fault.label(),
            row.index
        )],
        _ => Vec::new(),
    }
}

/// The workspace's trail verifies and holds no `.tmp-*` file.
fn check_workspace_trail(ws: &Workspace) -> Vec<String> {
    let mut wrong = Vec::new();
    if ws.path().join("docs/reports").is_dir() {
        let v = ws.runner().arg("verify-manifest").arg("docs/reports").run();
        if v.code != Some(0) {
            wrong.push(format!(
                "verify-manifest on the workspace failed: {}",
                v.stdout
            ));
        }
    }
    let tmp = leftovers(ws.path());
    if !tmp.is_empty() {
        wrong.push(format!("temporary files left: {tmp:?}"));
    }
    wrong
}

/// Run one row and return what is wrong with it (empty: the row holds).
fn provenance_row(
    rt: &tokio::runtime::Runtime,
    shared: &Shared,
    seed: &BTreeMap<String, Vec<u8>>,
    seed_entry: &Value,
    seed_run: u64,
    clean_calls: usize,
    row: &Row,
) -> Vec<String> {
    let (ws, _) = provenance_workspace();
    let fakes = Fakes::start(
        rt,
        shared,
        Plan::fault(row.index, row.fault),
        seed,
        row.run_id,
    );
    let out = provenance_run(&ws, shared, &fakes, row.run_id);
    let Some(call) = fakes.plan.faulted() else {
        return vec![format!(
            "call {} was never made (the run made {} calls)",
            row.index,
            fakes.plan.calls().len()
        )];
    };
    let mut wrong = check_exit(&out, provenance_codes(&call), &call);
    let code = out.out("failure-reason").unwrap_or_default().to_string();
    let heals = provenance_heals(&call, row.fault);
    if heals {
        let retried = check_retried(&fakes.plan, clean_calls, row);
        if !retried.is_empty() {
            wrong.push("the fault was not retried (no more calls than the clean run)".into());
        }
        if out.code != Some(0) {
            wrong.push(format!(
                "the retry policy should heal it, but the run failed with {code:?}"
            ));
        }
        if call.service == "github"
            && is_git_route(&call.path)
            && out.out("manifest-queued") != Some("false")
        {
            wrong.push(format!(
                "the commit store should heal it, but manifest-queued={:?}",
                out.out("manifest-queued")
            ));
        }
        if call.service == "supabase" && out.out("sink-failed") != Some("false") {
            wrong.push(format!(
                "the sink should heal it, but sink-failed={:?}",
                out.out("sink-failed")
            ));
        }
    }

    // The audit trail: the branch verifies, the earlier entry is untouched, ours is there once.
    let files = fakes.git.git().files("main");
    let verified = verify_files(&files);
    if verified.code != Some(0) {
        wrong.push(format!(
            "verify-manifest on the branch failed: {}",
            verified.stdout
        ));
    }
    let earlier = branch_entries(&files, seed_run);
    if earlier.len() != 1 || earlier[0] != *seed_entry {
        wrong.push(format!(
            "the earlier run's entry changed or went: {earlier:?}"
        ));
    }
    let ours_on_branch = branch_entries(&files, row.run_id).len();
    let mut queued = Vec::new();
    if let Ok(text) = std::fs::read_to_string(ws.path().join("out/provenance/queued-manifest.json"))
    {
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => entries_of(&v, row.run_id, &mut queued),
            Err(e) => wrong.push(format!("the queue file does not parse: {e}")),
        }
    }
    if ours_on_branch > 1 {
        wrong.push(format!(
            "this run's entry is on the branch {ours_on_branch} times"
        ));
    }
    if ours_on_branch + queued.len() == 0 {
        wrong.push("this run's entry is lost (neither committed nor queued)".into());
    }
    if out.out("manifest-queued") == Some("true") && queued.is_empty() {
        wrong.push("manifest-queued=true but the queue file holds no entry of this run".into());
    }
    wrong.extend(check_workspace_trail(&ws));
    if out.out("sink-failed") == Some("false") {
        let n = shared.supabase.sql(&format!(
            "select count(*) from slsa_runs where tag = '{TAG}' and run_id = {}",
            row.run_id
        ));
        if n != "1" {
            wrong.push(format!("sink-failed=false but {n} Supabase rows"));
        }
    }
    wrong
        .into_iter()
        .map(|w| format!("[{} {} @{}] {w}", call, row.fault.label(), row.index))
        .collect()
}

/// Every call of a keyless, published, commit-stored, Supabase-sunk provenance run faulted in
/// turn with every fault kind.
#[test]
fn provenance_every_call_failing_in_turn_ends_with_its_code_or_heals_and_loses_no_entry() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (_, workspace_sha) = provenance_workspace();
    let shared = Shared {
        sigstore: SigstoreMock::start(),
        supabase: rt.block_on(Stack::start()),
        key: jwt("slsa_manifest_service", JWT_SECRET),
        workspace_sha,
    };
    // Every row passes this one commit as GITHUB_SHA and in its OIDC token, so they agree.

    // 1. The earlier run: its branch is every row's starting point.
    let seed_run = 100;
    let (ws0, _) = provenance_workspace();
    let first = Fakes::start(&rt, &shared, Plan::record(), &BTreeMap::new(), seed_run);
    let out = provenance_run(&ws0, &shared, &first, seed_run);
    out.assert_success();
    assert_eq!(out.out("manifest-queued"), Some("false"), "{out:#?}");
    assert_eq!(out.out("sink-failed"), Some("false"), "{out:#?}");
    let seed = first.git.git().files("main");
    let seed_entry = branch_entries(&seed, seed_run).pop().unwrap_or_else(|| {
        let text: Vec<String> = seed
            .iter()
            .map(|(p, b)| format!("{p}: {}", String::from_utf8_lossy(b)))
            .collect();
        panic!(
            "no entry of run {seed_run} on the branch:\n{}",
            text.join("\n")
        )
    });

    // 2. Record the calls of a clean run on top of it.
    let (ws1, _) = provenance_workspace();
    let recording = Fakes::start(&rt, &shared, Plan::record(), &seed, 101);
    let out = provenance_run(&ws1, &shared, &recording, 101);
    out.assert_success();
    assert_eq!(out.out("manifest-queued"), Some("false"), "{out:#?}");
    let calls = recording.plan.calls();
    for service in ["github", "sigstore", "oidc", "supabase"] {
        assert!(
            calls.iter().any(|c| c.service == service),
            "the clean run made no {service} call: {calls:#?}"
        );
    }

    // 3. Every call, every fault.
    let rows = table(calls.len(), 1000);
    let problems = run_rows(&rows, |row| {
        provenance_row(&rt, &shared, &seed, &seed_entry, seed_run, calls.len(), row)
    });
    assert!(
        problems.is_empty(),
        "{} of {} rows went wrong (calls: {:#?}):\n{}",
        problems.len(),
        rows.len(),
        calls.iter().map(ToString::to_string).collect::<Vec<_>>(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Notify: Slack's incoming webhook, the notify webhook and a GitHub issue (`issue-on: always`).

const NOTIFY_RUN: u64 = 9228858953;
const NOTIFY_DAY: &str = "docs/reports/2026-11-21/manifest.json";

/// A workspace whose trail holds run [`NOTIFY_RUN`]'s failed entry.
fn notify_workspace() -> Workspace {
    let ws = Workspace::new();
    let manifest = serde_json::json!({"schema_version": 1, "entries": [{
        "run_id": NOTIFY_RUN, "tag": TAG, "sha": "95baf27389e83e6a5c48f42e190d48d7abcea19e",
        "artifact_url": "https://github.com/octo/app/releases/download/v1.0.0/app.tar.gz",
        "actor": "octocat", "timestamp": "2026-11-21T10:00:00Z", "status": "failure",
        "governance_flag": "provenance-missing", "governance_flag_history": [],
        "release_url": null, "failure_reason": "signing_failed"
    }]});
    ws.write(
        NOTIFY_DAY,
        serde_json::to_string_pretty(&manifest).expect("json"),
    );
    ws
}

struct NotifyFakes {
    github: crate::notify::FakeGitHub,
    _hook: wiremock::MockServer,
    _webhook: wiremock::MockServer,
    plan: Plan,
    github_proxy: FaultProxy,
    hook_proxy: FaultProxy,
    webhook_proxy: FaultProxy,
}

impl NotifyFakes {
    fn start(rt: &tokio::runtime::Runtime, plan: Plan) -> Self {
        use crate::notify::{slack, text};
        let github = rt.block_on(crate::notify::FakeGitHub::start());
        let hook = rt.block_on(slack(vec![text(200, "ok")]));
        let webhook = rt.block_on(slack(vec![wiremock::ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"delivered": true}))]));
        Self {
            github_proxy: FaultProxy::start("github", &github.server.uri(), &plan),
            hook_proxy: FaultProxy::start("slack", &hook.uri(), &plan),
            webhook_proxy: FaultProxy::start("webhook", &webhook.uri(), &plan),
            github,
            _hook: hook,
            _webhook: webhook,
            plan,
        }
    }

    fn run(&self, ws: &Workspace) -> Outcome {
        ws.runner()
            .input("mode", "notify")
            .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
            .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "0.001")
            .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", HTTP_TIMEOUT_MS)
            .env("GITHUB_API_URL", self.github_proxy.url())
            .input("github-token", crate::notify::TOKEN)
            .input(
                "slack-webhook-url",
                format!("{}/services/T000/B000/FAULTS", self.hook_proxy.url()),
            )
            .input(
                "notify-webhook-url",
                format!("{}/notify", self.webhook_proxy.url()),
            )
            .input("issue-on", "always")
            .run()
    }
}

/// What a notify run reports: compared between the clean run and a healed row.
fn notify_result(out: &Outcome) -> Vec<Option<String>> {
    ["slack-delivered", "channel", "issue-number"]
        .iter()
        .map(|k| out.out(k).map(String::from))
        .collect()
}

/// Every call of a notify run (Slack webhook, notify webhook, the issue list and create)
/// faulted in turn: one failing channel never fails the run (the others deliver), a transient
/// fault heals to the clean run's result (Slack and the webhook retry 5xx, 429 and network
/// errors; GitHub's list retries, its create checks for the marker first), never two issues,
/// and the run's entry is updated in a trail that still verifies.
#[test]
fn notify_every_call_failing_in_turn_still_notifies_once_and_keeps_the_entry() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let clean = NotifyFakes::start(&rt, Plan::record());
    let ws = notify_workspace();
    let out = clean.run(&ws);
    out.assert_success();
    assert_eq!(out.out("channel"), Some("both"), "{out:#?}");
    assert_eq!(clean.github.issues().len(), 1);
    let expected = notify_result(&out);
    let calls = clean.plan.calls();
    for service in ["github", "slack", "webhook"] {
        assert!(
            calls.iter().any(|c| c.service == service),
            "the clean run made no {service} call: {calls:#?}"
        );
    }

    let rows = table(calls.len(), NOTIFY_RUN);
    let problems = run_rows(&rows, |row| {
        let fakes = NotifyFakes::start(&rt, Plan::fault(row.index, row.fault));
        let ws = notify_workspace();
        let out = fakes.run(&ws);
        let Some(call) = fakes.plan.faulted() else {
            return vec![format!("call {} was never made", row.index)];
        };
        let mut wrong = check_exit(&out, &[], &call);
        let retried = check_retried(&fakes.plan, calls.len(), row);
        if !retried.is_empty() {
            wrong.push("the fault was not retried (no more calls than the clean run)".into());
        }
        if row.fault.is_transient() && notify_result(&out) != expected {
            wrong.push(format!(
                "a transient fault should heal to {expected:?}, got {:?}",
                notify_result(&out)
            ));
        }
        let issues = fakes.github.issues().len();
        if issues > 1 {
            wrong.push(format!("{issues} issues opened for one run"));
        }
        let manifest: Value = match serde_json::from_str(&ws.read(NOTIFY_DAY)) {
            Ok(v) => v,
            Err(e) => return vec![format!("the manifest does not parse: {e}")],
        };
        let mut entries = Vec::new();
        entries_of(&manifest, NOTIFY_RUN, &mut entries);
        if entries.len() != 1 {
            wrong.push(format!("the run's entry is there {} times", entries.len()));
        }
        wrong.extend(check_workspace_trail(&ws));
        wrong
            .into_iter()
            .map(|w| format!("[{} {} @{}] {w}", call, row.fault.label(), row.index))
            .collect()
    });
    assert!(
        problems.is_empty(),
        "{} of {} rows went wrong (calls: {:#?}):\n{}",
        problems.len(),
        rows.len(),
        calls.iter().map(ToString::to_string).collect::<Vec<_>>(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Report: an organisation's repositories (listing, trees, blobs) and `source: supabase`.

/// A GitHub of fixed routes (path + query -> JSON body).
struct Routes(BTreeMap<String, String>);

impl wiremock::Respond for Routes {
    fn respond(&self, req: &wiremock::Request) -> wiremock::ResponseTemplate {
        let route = match req.url.query() {
            Some(q) => format!("{}?{q}", req.url.path()),
            None => req.url.path().to_string(),
        };
        match self.0.get(&route) {
            Some(body) => wiremock::ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string(body.clone()),
            None => wiremock::ResponseTemplate::new(404)
                .set_body_json(serde_json::json!({"message": "Not Found"})),
        }
    }
}

/// `octo/a` (two days), `octo/b` and `octo/c` (one day each), every day one or two runs.
fn organisation_routes() -> BTreeMap<String, String> {
    use base64::Engine;
    use serde_json::json;
    let mut routes = BTreeMap::new();
    let mut listing = Vec::new();
    let mut n = 0u64;
    for (repo, days) in [("a", 2), ("b", 1), ("c", 1)] {
        let name = format!("octo/{repo}");
        listing.push(json!({"full_name": name, "default_branch": "main", "archived": false}));
        let mut tree = Vec::new();
        for d in 0..days {
            let day = format!("2026-11-{:02}", 10 + d);
            let entries: Vec<Value> = (0..2)
                .map(|k| {
                    n += 1;
                    json!({"run_id": n, "tag": format!("v{n}"), "sha": "0123abc",
                        "actor": "octocat", "timestamp": format!("{day}T09:0{k}:00Z"),
                        "status": if n % 3 == 0 { "failure" } else { "success" },
                        "governance_flag": "provenance-ready", "governance_flag_history": [],
                        "release_url": null, "artifact_url": "https://github.com/x",
                        "duration_ms": 20_000 + n * 1000})
                })
                .collect();
            let text =
                serde_json::to_string_pretty(&json!({"schema_version": 1, "entries": entries}))
                    .expect("json");
            let sha = crate::common::sha256_hex(text.as_bytes())[..40].to_string();
            tree.push(json!({"path": format!("docs/reports/{day}/manifest.json"), "type": "blob", "sha": sha}));
            routes.insert(
                format!("/api/v3/repos/{name}/git/blobs/{sha}"),
                json!({"sha": sha, "encoding": "base64",
                       "content": base64::engine::general_purpose::STANDARD.encode(text)})
                .to_string(),
            );
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
    routes
}

fn report_runner(ws: &Workspace) -> crate::common::Runner {
    ws.runner()
        .event("schedule", serde_json::json!({"schedule": "0 6 * * 1"}))
        .input("mode", "report")
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "0.001")
        .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", HTTP_TIMEOUT_MS)
}

/// The figures a report run publishes: compared between the clean run and a healed row.
fn report_figures(out: &Outcome) -> Vec<Option<String>> {
    ["runs", "success-rate", "p95-duration-ms"]
        .iter()
        .map(|k| out.out(k).map(String::from))
        .collect()
}

/// Check one report row: exit and code, healing, and that a failed run published no figures.
fn report_row(
    out: &Outcome,
    ws: &Workspace,
    call: &Call,
    row: &Row,
    clean: &[Option<String>],
    codes: &[&str],
) -> Vec<String> {
    let mut wrong = check_exit(out, codes, call);
    if row.fault.is_transient() && (out.code != Some(0) || report_figures(out) != clean) {
        wrong.push(format!(
            "a transient fault should heal to {clean:?}, got exit {:?} {:?}",
            out.code,
            report_figures(out)
        ));
    }
    if out.code == Some(0) && report_figures(out) != clean {
        // A repository it could not read is listed as unreadable, never counted wrong.
        let unreadable = out.stdout.contains("unreadable") || out.stdout.contains("::warning");
        if !unreadable {
            wrong.push(format!(
                "other figures {:?} than the clean run's {clean:?} without a warning",
                report_figures(out)
            ));
        }
    }
    let tmp = leftovers(ws.path());
    if !tmp.is_empty() {
        wrong.push(format!("temporary files left: {tmp:?}"));
    }
    wrong
        .into_iter()
        .map(|w| format!("[{} {} @{}] {w}", call, row.fault.label(), row.index))
        .collect()
}

/// Every call of an organisation report (the listing, each tree, each blob) faulted in turn:
/// GETs retried per the client core's policy heal to the clean figures; what cannot be read is
/// a warning or `github_api_failed`/`github_rate_limited`, never wrong figures or a panic.
#[test]
fn report_organisation_every_call_failing_in_turn_heals_or_fails_cleanly() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let start = |plan: &Plan| {
        let server = rt.block_on(wiremock::MockServer::start());
        rt.block_on(
            wiremock::Mock::given(wiremock::matchers::any())
                .respond_with(Routes(organisation_routes()))
                .mount(&server),
        );
        let proxy = FaultProxy::start("github", &server.uri(), plan);
        (server, proxy)
    };
    let run = |ws: &Workspace, proxy: &FaultProxy| {
        report_runner(ws)
            .input("repositories", "octo/*")
            .input("github-token", "ghs_report_token")
            .env("GITHUB_API_URL", format!("{}/api/v3", proxy.url()))
            .run()
    };
    let plan = Plan::record();
    let (_server, proxy) = start(&plan);
    let ws = Workspace::new();
    let out = run(&ws, &proxy);
    out.assert_success();
    assert_eq!(out.out("runs"), Some("8"), "{out:#?}");
    let clean = report_figures(&out);
    let calls = plan.calls();
    assert!(calls.len() >= 8, "{calls:#?}");

    let rows = table(calls.len(), 0);
    let problems = run_rows(&rows, |row| {
        let plan = Plan::fault(row.index, row.fault);
        let (_server, proxy) = start(&plan);
        let ws = Workspace::new();
        let out = run(&ws, &proxy);
        let Some(call) = plan.faulted() else {
            return vec![format!("call {} was never made", row.index)];
        };
        let mut wrong = check_retried(&plan, calls.len(), row);
        wrong.extend(report_row(
            &out,
            &ws,
            &call,
            row,
            &clean,
            &["github_api_failed", "github_rate_limited"],
        ));
        wrong
    });
    assert!(
        problems.is_empty(),
        "{} of {} rows went wrong:\n{}",
        problems.len(),
        rows.len(),
        problems.join("\n")
    );
}

/// `source: supabase` against the real PostgREST, its one page faulted with every kind: the
/// idempotent GET heals transient faults; an answer it cannot read is `supabase_query_failed`.
#[test]
fn report_from_supabase_failing_in_turn_heals_or_is_supabase_query_failed() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let stack = rt.block_on(Stack::start());
    let key = jwt("slsa_manifest_service", JWT_SECRET);
    // Rows as the sink writes them: two unsigned runs.
    for run_id in [8001, 8002] {
        let (ws, _) = provenance_workspace();
        ws.runner()
            .release_event(TAG)
            .env("GITHUB_RUN_ID", run_id.to_string())
            .input("subject-path", "dist/*")
            .input("sign", "none")
            .input("supabase-url", stack.url())
            .input("supabase-key", key.clone())
            .run()
            .assert_success();
    }
    let run = |ws: &Workspace, proxy: &FaultProxy| {
        report_runner(ws)
            .input("source", "supabase")
            .input("supabase-url", proxy.url())
            .input("supabase-key", key.clone())
            .run()
    };
    let plan = Plan::record();
    let proxy = FaultProxy::start("supabase", &stack.url(), &plan);
    let ws = Workspace::new();
    let out = run(&ws, &proxy);
    out.assert_success();
    assert_eq!(out.out("runs"), Some("2"), "{out:#?}");
    let clean = report_figures(&out);
    let calls = plan.calls();

    let rows = table(calls.len(), 0);
    let problems = run_rows(&rows, |row| {
        let plan = Plan::fault(row.index, row.fault);
        let proxy = FaultProxy::start("supabase", &stack.url(), &plan);
        let ws = Workspace::new();
        let out = run(&ws, &proxy);
        let Some(call) = plan.faulted() else {
            return vec![format!("call {} was never made", row.index)];
        };
        let mut wrong = check_retried(&plan, calls.len(), row);
        wrong.extend(report_row(
            &out,
            &ws,
            &call,
            row,
            &clean,
            &["supabase_query_failed"],
        ));
        wrong
    });
    assert!(
        problems.is_empty(),
        "{} of {} rows went wrong:\n{}",
        problems.len(),
        rows.len(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Validate: provenance from a run's artifact, and from the attestations API.

/// Provenance mode's key-signed bundle (one JSON line), removed from the workspace so only the
/// network has it; the workspace keeps the run's manifest entry, which validate updates.
fn validate_workspace() -> (Workspace, Vec<u8>, Value) {
    let (ws, bundle, _) = crate::validate::signed_release();
    let value: Value = serde_json::from_str(&ws.read(&bundle)).expect("bundle");
    std::fs::remove_file(ws.path().join(&bundle)).expect("remove");
    (ws, format!("{value}\n").into_bytes(), value)
}

fn zip_of(name: &str, data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(name, zip::write::SimpleFileOptions::default())
        .expect("start");
    w.write_all(data).expect("write");
    w.finish().expect("finish").into_inner()
}

/// The fake GitHub of one validate source: `artifact` (a run's artifact, its 302 to storage)
/// or the attestations API (a release without provenance assets, then each digest).
fn validate_fake(
    rt: &tokio::runtime::Runtime,
    artifact: bool,
    bundle: &[u8],
    bundle_json: &Value,
) -> wiremock::MockServer {
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    rt.block_on(async {
        let server = wiremock::MockServer::start().await;
        let mount = |route: String, answer: ResponseTemplate| {
            Mock::given(method("GET"))
                .and(path(route))
                .respond_with(answer)
                .mount(&server)
        };
        if artifact {
            mount(
                "/api/v3/repos/octo/app/actions/runs/99/artifacts".into(),
                ResponseTemplate::new(200).set_body_json(json!({"total_count": 1,
                    "artifacts": [{"id": 7, "name": "provenance", "size_in_bytes": 10,
                    "expired": false, "archive_download_url": "https://api.example/zip/7"}]})),
            )
            .await;
            // The storage URL is relative: the redirect stays on the proxy.
            mount(
                "/api/v3/repos/octo/app/actions/artifacts/7/zip".into(),
                ResponseTemplate::new(302).insert_header("location", "/storage/artifact-7.zip"),
            )
            .await;
            mount(
                "/storage/artifact-7.zip".into(),
                ResponseTemplate::new(200).set_body_bytes(zip_of("app.intoto.jsonl", bundle)),
            )
            .await;
        } else {
            mount(
                "/api/v3/repos/octo/app/releases/tags/v1.0.0".into(),
                ResponseTemplate::new(200).set_body_json(json!({
                    "id": 42, "tag_name": "v1.0.0", "draft": false,
                    "upload_url": "https://uploads.example/{?name,label}"})),
            )
            .await;
            mount(
                "/api/v3/repos/octo/app/releases/42/assets".into(),
                ResponseTemplate::new(200).set_body_json(
                    json!([{"id": 1, "name": "app-1.0.0.tar.gz", "state": "uploaded", "size": 3}]),
                ),
            )
            .await;
            for content in [&b"the release archive"[..], b"the other archive"] {
                mount(
                    format!(
                        "/api/v3/repos/octo/app/attestations/sha256:{}",
                        crate::common::sha256_hex(content)
                    ),
                    ResponseTemplate::new(200).set_body_json(
                        json!({"attestations": [{"id": 5, "bundle": bundle_json.clone()}]}),
                    ),
                )
                .await;
            }
        }
        server
    })
}

fn validate_run(ws: &Workspace, proxy: &FaultProxy, artifact: bool) -> Outcome {
    let r = crate::validate::validate(ws)
        .release_event(TAG)
        .env("GITHUB_API_URL", format!("{}/api/v3", proxy.url()))
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "0.001")
        .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", HTTP_TIMEOUT_MS)
        .input("subject-path", "dist/*")
        .input("public-key", "public.pem");
    if artifact {
        r.input("run-id", "99")
            .input("artifact-name", "provenance")
            .input("github-token", "ghs_fakeNetworkToken")
            .run()
    } else {
        r.run()
    }
}

/// The codes a validate run may end with when the source answered something unreadable.
const VALIDATE_CODES: &[&str] = &[
    "github_api_failed",
    "github_rate_limited",
    "malformed_provenance",
    "artifact_missing",
    "provenance_not_found",
];

fn validate_table(artifact: bool) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (ws, bundle, bundle_json) = validate_workspace();
    let server = validate_fake(&rt, artifact, &bundle, &bundle_json);
    let plan = Plan::record();
    let proxy = FaultProxy::start("github", &server.uri(), &plan);
    let out = validate_run(&ws, &proxy, artifact);
    out.assert_success();
    assert_eq!(out.out("subjects-verified"), Some("2"), "{out:#?}");
    let calls = plan.calls();
    drop(server);

    let rows = table(calls.len(), 0);
    let problems = run_rows(&rows, |row| {
        let (ws, bundle, bundle_json) = validate_workspace();
        let server = validate_fake(&rt, artifact, &bundle, &bundle_json);
        let plan = Plan::fault(row.index, row.fault);
        let proxy = FaultProxy::start("github", &server.uri(), &plan);
        let out = validate_run(&ws, &proxy, artifact);
        let Some(call) = plan.faulted() else {
            return vec![format!("call {} was never made", row.index)];
        };
        let mut wrong = check_exit(&out, VALIDATE_CODES, &call);
        if row.fault.is_transient() && out.code != Some(0) {
            wrong.push("a transient fault of a GET should heal".into());
        }
        if !check_retried(&plan, calls.len(), row).is_empty() {
            wrong.push("the fault was not retried (no more calls than the clean run)".into());
        }
        if out.code == Some(0) && out.out("subjects-verified") != Some("2") {
            wrong.push(format!(
                "passed with subjects-verified={:?}",
                out.out("subjects-verified")
            ));
        }
        let mut entries = Vec::new();
        for p in walk(&ws.path().join("docs/reports")) {
            if p.ends_with("manifest.json") {
                match serde_json::from_str::<Value>(
                    &std::fs::read_to_string(&p).unwrap_or_default(),
                ) {
                    Ok(v) => entries_of(&v, 9228858953, &mut entries),
                    Err(e) => wrong.push(format!("{} does not parse: {e}", p.display())),
                }
            }
        }
        if entries.len() != 1 {
            wrong.push(format!("the run's entry is there {} times", entries.len()));
        }
        wrong.extend(check_workspace_trail(&ws));
        wrong
            .into_iter()
            .map(|w| format!("[{} {} @{}] {w}", call, row.fault.label(), row.index))
            .collect()
    });
    assert!(
        problems.is_empty(),
        "{} of {} rows went wrong (calls: {:#?}):\n{}",
        problems.len(),
        rows.len(),
        calls.iter().map(ToString::to_string).collect::<Vec<_>>(),
        problems.join("\n")
    );
}

/// A run's artifact: the listing, the archive's 302 and the storage download, each faulted:
/// every GET is retried (transient faults heal); an unreadable answer ends with its code.
#[test]
fn validate_run_artifact_every_call_failing_in_turn_heals_or_ends_with_its_code() {
    validate_table(true);
}

/// The release (no provenance asset), then the attestations API for both digests, each call
/// faulted in turn, with the same expectations.
#[test]
fn validate_attestations_every_call_failing_in_turn_heals_or_ends_with_its_code() {
    validate_table(false);
}

// ---------------------------------------------------------------------------------------------
// Recover: re-run a failed run, and dispatch the provenance workflow for a tag.

/// The codes a recover run may end with when GitHub answered something it cannot use.
const RECOVER_CODES: &[&str] = &[
    "github_api_failed",
    "github_rate_limited",
    "rerun_refused",
    "dispatch_failed",
];

fn recover_table(rerun: bool) {
    use crate::recover::{recover, workspace, Fake, DAY, RUN};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let run = |ws: &Workspace, fake: &Fake, proxy: &FaultProxy| {
        let r = recover(ws, fake)
            .env("GITHUB_API_URL", proxy.url())
            .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", HTTP_TIMEOUT_MS);
        if rerun {
            r.input("run-id", RUN.to_string()).run()
        } else {
            r.input("tag", TAG).run()
        }
    };
    let fake = rt.block_on(Fake::with_failed_run(1, 1));
    let plan = Plan::record();
    let proxy = FaultProxy::start("github", &fake.server.uri(), &plan);
    let ws = workspace("failure");
    let out = run(&ws, &fake, &proxy);
    out.assert_success();
    let clean_action = out.out("action").map(String::from);
    assert_eq!(
        clean_action.as_deref(),
        Some(if rerun { "rerun" } else { "dispatch" }),
        "{out:#?}"
    );
    let calls = plan.calls();

    let rows = table(calls.len(), 0);
    let problems = run_rows(&rows, |row| {
        let fake = rt.block_on(Fake::with_failed_run(1, 1));
        let plan = Plan::fault(row.index, row.fault);
        let proxy = FaultProxy::start("github", &fake.server.uri(), &plan);
        let ws = workspace("failure");
        let out = run(&ws, &fake, &proxy);
        let Some(call) = plan.faulted() else {
            return vec![format!("call {} was never made", row.index)];
        };
        let mut wrong = check_exit(&out, RECOVER_CODES, &call);
        if row.fault.is_transient()
            && (out.code != Some(0) || out.out("action").map(String::from) != clean_action)
        {
            wrong.push(format!(
                "a transient fault should heal to action {clean_action:?}, got exit {:?} action {:?}",
                out.code,
                out.out("action")
            ));
        }
        if !check_retried(&plan, calls.len(), row).is_empty() {
            wrong.push("the fault was not retried (no more calls than the clean run)".into());
        }
        // Never twice: a POST that may have landed is checked before it is sent again.
        let (reruns, dispatches) = fake.with(|s| (s.reruns.len(), s.dispatches.len()));
        if reruns > 1 || dispatches > 1 {
            wrong.push(format!("{reruns} re-runs and {dispatches} dispatches"));
        }
        match serde_json::from_str::<Value>(&ws.read(DAY)) {
            Ok(m) => {
                let mut entries = Vec::new();
                entries_of(&m, RUN, &mut entries);
                if entries.len() != 1 {
                    wrong.push(format!("the run's entry is there {} times", entries.len()));
                } else if entries[0].get("rerun_in_progress").is_some() {
                    wrong.push("rerun_in_progress is left set".into());
                }
            }
            Err(e) => wrong.push(format!("the manifest does not parse: {e}")),
        }
        if ws.path().join("docs/reports/.recover.lock").exists() {
            wrong.push("the recover lock is left behind".into());
        }
        wrong.extend(check_workspace_trail(&ws));
        wrong
            .into_iter()
            .map(|w| format!("[{} {} @{}] {w}", call, row.fault.label(), row.index))
            .collect()
    });
    assert!(
        problems.is_empty(),
        "{} of {} rows went wrong (calls: {:#?}):\n{}",
        problems.len(),
        rows.len(),
        calls.iter().map(ToString::to_string).collect::<Vec<_>>(),
        problems.join("\n")
    );
}

/// The run lookup and `rerun-failed-jobs`, each faulted: the GET is retried, the POST is
/// re-sent only after checking it did not land; never two re-runs, the marker always cleared.
#[test]
fn recover_rerun_every_call_failing_in_turn_reruns_once_or_fails_with_its_code() {
    recover_table(true);
}

/// The workflow dispatch (and what follows it), each faulted: never two dispatches.
#[test]
fn recover_dispatch_every_call_failing_in_turn_dispatches_once_or_fails_with_its_code() {
    recover_table(false);
}

// ---------------------------------------------------------------------------------------------
// Regressions the table found (each one row, named after what broke).

/// An unsigned release run of `run_id`, its audit trail committed through `github_api`.
fn unsigned_commit_run(ws: &Workspace, github_api: &str, run_id: u64) -> crate::common::Runner {
    ws.runner()
        .release_event(TAG)
        .env("GITHUB_SHA", crate::audit_store::SHA)
        .env("GITHUB_RUN_ID", run_id.to_string())
        .env("GITHUB_API_URL", github_api)
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .env("SLSA_PROVENANCE_RETRY_AFTER_SCALE", "0.001")
        .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", HTTP_TIMEOUT_MS)
        .input("audit-store", "commit")
        .input("subject-path", "dist/*")
        .input("sign", "none")
        .input("github-token", TOKEN)
}

// Scenario: the ref update is answered 200 with an HTML page and the branch did not move; the
// run reported a commit that never landed and its entry was neither committed nor queued.
#[test]
fn ref_update_answered_by_an_html_page_queues_the_entry_instead_of_losing_it() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let git = rt.block_on(FakeGit::start());
    let plan = Plan::fault_matching("github", "PATCH", "/git/refs/heads/main", Fault::Html);
    let proxy = FaultProxy::start("github", &git.api_url(), &plan);
    let (ws, _) = provenance_workspace();
    let out = unsigned_commit_run(&ws, &format!("{}/api/v3", proxy.url()), 7001).run();
    out.assert_success();
    assert!(plan.faulted().is_some(), "{:?}", plan.calls());
    assert_eq!(out.out("manifest-queued"), Some("true"), "{out:#?}");
    assert_eq!(out.out("audit-commit"), None, "{out:#?}");
    let queue: Value =
        serde_json::from_str(&ws.read("out/provenance/queued-manifest.json")).expect("queue");
    let mut queued = Vec::new();
    entries_of(&queue, 7001, &mut queued);
    assert_eq!(queued.len(), 1, "{queue}");
    assert_eq!(
        git.git().history("main").len(),
        1,
        "the branch did not move"
    );
}

// Scenario: the same, but the ref did move and only its answer was cut: it is a commit.
#[test]
fn ref_update_with_a_truncated_answer_is_confirmed_by_reading_the_branch() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let git = rt.block_on(FakeGit::start());
    let plan = Plan::fault_matching("github", "PATCH", "/git/refs/heads/main", Fault::Truncated);
    let proxy = FaultProxy::start("github", &git.api_url(), &plan);
    let (ws, _) = provenance_workspace();
    let out = unsigned_commit_run(&ws, &format!("{}/api/v3", proxy.url()), 7002).run();
    out.assert_success();
    assert!(plan.faulted().is_some(), "{:?}", plan.calls());
    assert_eq!(out.out("manifest-queued"), Some("false"), "{out:#?}");
    let history = git.git().history("main");
    assert_eq!(out.out("audit-commit"), Some(history[0].0.as_str()));
    let last = plan.calls().pop().expect("calls");
    assert_eq!(
        last.method, "GET",
        "the head was read after the cut answer: {last}"
    );
}

// Scenario: the Supabase upsert is answered 200 with an HTML page (a gateway's login page); the
// run said sink-failed=false although no row landed.
#[test]
fn sink_answered_by_an_html_page_is_a_failed_sink_not_a_row() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let stack = rt.block_on(Stack::start());
    let plan = Plan::fault_matching("supabase", "POST", "/rest/v1/slsa_runs", Fault::Html);
    let proxy = FaultProxy::start("supabase", &stack.url(), &plan);
    let (ws, _) = provenance_workspace();
    let out = ws
        .runner()
        .release_event(TAG)
        .env("GITHUB_RUN_ID", "7003")
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .input("subject-path", "dist/*")
        .input("sign", "none")
        .input("supabase-url", proxy.url())
        .input("supabase-key", jwt("slsa_manifest_service", JWT_SECRET))
        .run();
    out.assert_success();
    assert!(plan.faulted().is_some(), "{:?}", plan.calls());
    assert_eq!(out.out("sink-failed"), Some("true"), "{out:#?}");
    assert_eq!(stack.sql("select count(*) from slsa_runs"), "0");
}

// Scenario: Supabase rate-limits the upsert once (429); the idempotent upsert was given up.
#[test]
fn sink_rate_limited_once_is_sent_again() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let stack = rt.block_on(Stack::start());
    let plan = Plan::fault_matching("supabase", "POST", "/rest/v1/slsa_runs", Fault::RateLimited);
    let proxy = FaultProxy::start("supabase", &stack.url(), &plan);
    let (ws, _) = provenance_workspace();
    let out = ws
        .runner()
        .release_event(TAG)
        .env("GITHUB_RUN_ID", "7004")
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .input("subject-path", "dist/*")
        .input("sign", "none")
        .input("supabase-url", proxy.url())
        .input("supabase-key", jwt("slsa_manifest_service", JWT_SECRET))
        .run();
    out.assert_success();
    assert!(plan.faulted().is_some(), "{:?}", plan.calls());
    assert_eq!(out.out("sink-failed"), Some("false"), "{out:#?}");
    assert_eq!(
        stack.sql("select count(*) from slsa_runs where run_id = 7004"),
        "1"
    );
}

// Scenario: the runner's OIDC endpoint answers 503 once; the run failed with oidc_token_failed
// although the GET is idempotent (and hung for 30 s, whatever the timeout knob said).
#[test]
fn oidc_endpoint_failing_once_is_asked_again() {
    for fault in [Fault::Status(503), Fault::Hang, Fault::Reset] {
        let oidc = OidcServer::start(run_jwt("0123", 7005));
        let plan = Plan::fault_matching("oidc", "GET", "/token", fault);
        let proxy = FaultProxy::start("oidc", &oidc.url, &plan);
        let (ws, _) = provenance_workspace();
        let out = ws
            .runner()
            .release_event(TAG)
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                format!("{}/token?api-version=2.0", proxy.url()),
            )
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", OIDC_BEARER)
            .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
            .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", HTTP_TIMEOUT_MS)
            .input("subject-path", "dist/*")
            .input("sign", "none")
            .run();
        out.assert_success();
        assert!(plan.faulted().is_some(), "{fault:?}: {:?}", plan.calls());
        assert_eq!(plan.calls().len(), 2, "{fault:?}: one retry");
    }
}

// Scenario: a malformed token answer is final: oidc_token_failed after one send.
#[test]
fn oidc_endpoint_answering_html_is_oidc_token_failed_without_a_retry() {
    let oidc = OidcServer::start(run_jwt("0123", 7006));
    let plan = Plan::fault_matching("oidc", "GET", "/token", Fault::Html);
    let proxy = FaultProxy::start("oidc", &oidc.url, &plan);
    let (ws, _) = provenance_workspace();
    let out = ws
        .runner()
        .release_event(TAG)
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}/token?api-version=2.0", proxy.url()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", OIDC_BEARER)
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .input("subject-path", "dist/*")
        .input("sign", "none")
        .run();
    out.assert_failure("oidc_token_failed");
    assert_eq!(plan.calls().len(), 1);
}
