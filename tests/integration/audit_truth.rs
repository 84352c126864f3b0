//! Integration tests: the audit trail tells the truth (issue 6, items 1-5 and 13).
//!
//! After any run, success or failure, first run or re-run: every manifest entry's hashes are
//! the SHA-256 of the files it points at, every bundle on disk signs the statement beside it,
//! nothing is left half-written, and what a root container writes belongs to the workspace's
//! owner with modes the runner user can use. Fakes (the runner's OIDC endpoint, a Fulcio that
//! refuses) are small recording HTTP servers on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use base64::Engine;
use serde_json::{json, Value};
use slsa_provenance_action::adapters::sigstore::{
    verify_bundle, Binding, Expected, LogPolicy, TrustAnchor,
};

use crate::common::{parse_outputs, sha256_hex, test_signing_key, Outcome, Runner, Workspace};

const SHA: &str = "95baf27389e83e6a5c48f42e190d48d7abcea19e";
const RUN_ID: &str = "9228858953";
const TAG: &str = "v1.0.0";
const OIDC_BEARER: &str = "runner-request-token-5ecret";

// ---------------------------------------------------------------------------------------------
// Fakes

/// A 127.0.0.1 HTTP server answering every request with one fixed response, recording each
/// request line.
struct Recorder {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start(status: u16, body: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                let mut length = 0usize;
                let mut line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => {
                            let lower = line.to_ascii_lowercase();
                            if let Some(v) = lower.strip_prefix("content-length:") {
                                length = v.trim().parse().unwrap_or(0);
                            }
                        }
                    }
                }
                let mut body_in = vec![0u8; length];
                let _ = reader.read_exact(&mut body_in);
                log.lock()
                    .expect("lock")
                    .push(request_line.trim().to_string());
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            seen,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }
}

/// An unsigned JWT shaped like a GitHub Actions OIDC token for this run (`attempt`).
fn github_jwt(attempt: u32) -> String {
    let now = chrono::Utc::now().timestamp();
    let wf = format!("octo/app/.github/workflows/release.yml@refs/tags/{TAG}");
    let claims = json!({
        "iss": "https://token.actions.githubusercontent.com",
        "aud": "sigstore",
        "sub": format!("repo:octo/app:ref:refs/tags/{TAG}"),
        "iat": now, "nbf": now, "exp": now + 600,
        "repository": "octo/app",
        "repository_id": "804070735",
        "repository_owner": "octo",
        "repository_owner_id": "16248153",
        "repository_visibility": "public",
        "event_name": "release",
        "ref": format!("refs/tags/{TAG}"),
        "ref_type": "tag",
        "sha": SHA,
        "workflow": "release",
        "workflow_ref": wf,
        "job_workflow_ref": wf,
        "runner_environment": "github-hosted",
        "run_id": RUN_ID,
        "run_attempt": attempt.to_string(),
        "actor": "octocat",
    });
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.{}",
        b64(br#"{"alg":"RS256","typ":"JWT","kid":"mock"}"#),
        b64(claims.to_string().as_bytes()),
        b64(b"not-a-signature")
    )
}

/// The runner's token endpoint, serving `github_jwt(attempt)`.
fn oidc(attempt: u32) -> Recorder {
    Recorder::start(200, json!({ "value": github_jwt(attempt) }).to_string())
}

// ---------------------------------------------------------------------------------------------
// Runs

fn dist(ws: &Workspace) {
    ws.write("dist/app.tar.gz", b"tarball bytes");
    ws.write("dist/app.zip", b"zip bytes");
}

/// A release run of `TAG` on attempt `attempt`, publishing nothing.
fn release(ws: &Workspace, attempt: u32) -> Runner {
    ws.runner()
        .release_event(TAG)
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_RUN_ATTEMPT", attempt.to_string())
        .env(
            "GITHUB_WORKFLOW_REF",
            format!("octo/app/.github/workflows/release.yml@refs/tags/{TAG}"),
        )
        .input("subject-path", "dist/*")
        .input("attest", "false")
        .input("upload-release-asset", "false")
        .input("release-notes", "false")
}

fn key_signed(ws: &Workspace, attempt: u32, key_pem: &str) -> Runner {
    release(ws, attempt)
        .input("sign", "key")
        .input("signing-key", key_pem)
}

/// Keyless, with a token endpoint and a Fulcio/Rekor that answers `fulcio`.
fn keyless(ws: &Workspace, attempt: u32, token: &Recorder, fulcio: &Recorder) -> Runner {
    release(ws, attempt)
        .input("sign", "sigstore")
        .input("fulcio-url", fulcio.url.clone())
        .input("rekor-url", fulcio.url.clone())
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}/token?api-version=2.0", token.url),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", OIDC_BEARER)
}

/// Run the binary like `Runner::run`, but under `umask 077`: modes must not depend on it.
/// (bash, not sh: dash drops the runner's `INPUT_SUBJECT-PATH` spelling from the environment.)
fn run_with_umask_077(r: Runner) -> Outcome {
    let out = Command::new("bash")
        .arg("-c")
        .arg("umask 077 && exec \"$0\" \"$@\"")
        .arg(crate::common::bin())
        .args(&r.args)
        .env_clear()
        .envs(&r.env)
        .current_dir(&r.cwd)
        .output()
        .expect("run binary");
    let outputs_text = std::fs::read_to_string(&r.output).unwrap_or_default();
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        outputs: parse_outputs(&outputs_text),
        outputs_text,
        summary: std::fs::read_to_string(&r.summary).unwrap_or_default(),
    }
}

/// Today's and tomorrow's (UTC) report folders: a run started around midnight uses either.
fn report_days() -> Vec<String> {
    let now = chrono::Utc::now();
    [now, now + chrono::Duration::days(1)]
        .iter()
        .map(|d| format!("docs/reports/{}", d.format("%Y-%m-%d")))
        .collect()
}

/// The day folder a run wrote into (the one holding a manifest).
fn day_dir(ws: &Workspace) -> PathBuf {
    report_days()
        .into_iter()
        .map(|d| ws.path().join(d))
        .find(|d| d.join("manifest.json").is_file())
        .expect("a manifest in today's or tomorrow's report folder")
}

fn manifest_entries(ws: &Workspace) -> Vec<Value> {
    let text = std::fs::read_to_string(day_dir(ws).join("manifest.json")).expect("manifest");
    let m: Value = serde_json::from_str(&text).expect("manifest JSON");
    m["entries"].as_array().expect("entries").clone()
}

/// Every path below `root` (files and folders), sorted.
fn everything_below(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("ls") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Bundle verified with one of `public_keys` against the statement file beside it.
fn bundle_signs_statement(bundle: &Path, public_keys: &[String]) -> bool {
    let statement = std::fs::read(bundle.with_file_name("provenance.json")).expect("statement");
    let json = std::fs::read_to_string(bundle).expect("bundle");
    let anchor = TrustAnchor::from_json(
        "unused".into(),
        sigstore_trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT,
    )
    .expect("root");
    public_keys.iter().any(|pem| {
        let key = sigstore_verify::types::DerPublicKey::from_pem(pem).expect("public pem");
        verify_bundle(
            &json,
            &Expected::PublicKey(&key),
            Binding::Statement(&statement),
            LogPolicy::TimestampsSuffice,
            &anchor,
        )
        .is_ok()
    })
}

/// The invariant: every manifest entry's hashes are those of the files it points at (a
/// bundle is recorded exactly when one is on disk), every SHA-256 log line matches its file,
/// every bundle on disk signs the statement beside it, and no temporary file is left.
fn assert_audit_truth(ws: &Workspace, public_keys: &[String]) {
    let day = day_dir(ws);
    for e in manifest_entries(ws) {
        let Some(rel) = e["provenance_path"].as_str() else {
            assert!(
                e["bundle_sha256"].is_null(),
                "bundle without statement: {e}"
            );
            continue;
        };
        let statement = std::fs::read(ws.path().join(rel)).expect("statement of the entry");
        assert_eq!(
            e["provenance_sha256"].as_str(),
            Some(sha256_hex(&statement).as_str()),
            "manifest provenance_sha256 vs {rel}"
        );
        let bundle = ws
            .path()
            .join(rel)
            .with_file_name("provenance.sigstore.json");
        match e["bundle_sha256"].as_str() {
            Some(h) => assert_eq!(
                h,
                sha256_hex(&std::fs::read(&bundle).expect("bundle of the entry")),
                "manifest bundle_sha256 vs {}",
                bundle.display()
            ),
            None => assert!(!bundle.exists(), "unrecorded bundle {}", bundle.display()),
        }
    }
    if let Ok(log) = std::fs::read_to_string(day.join("PROVENANCE_SHA256.txt")) {
        for line in log.lines() {
            let (hex, path) = line.split_once("  ").expect("sha256sum line");
            let bytes = std::fs::read(day.join(path)).expect("logged file");
            assert_eq!(hex, sha256_hex(&bytes), "log line for {path}");
        }
    }
    for p in everything_below(&ws.path().join("docs")) {
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        assert!(!name.starts_with(".tmp-"), "temporary file left: {p:?}");
        if name == "provenance.sigstore.json" {
            assert!(
                bundle_signs_statement(&p, public_keys),
                "{} does not sign the statement beside it",
                p.display()
            );
        }
    }
}

fn run_folder_bytes(ws: &Workspace) -> Vec<(PathBuf, Vec<u8>)> {
    everything_below(&day_dir(ws))
        .into_iter()
        .filter(|p| p.is_file())
        .filter(|p| p.file_name().is_some_and(|n| n != "manifest.json"))
        .map(|p| {
            let b = std::fs::read(&p).expect("read");
            (p, b)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. File modes and owner

/// Our effective uid, as the owner of a file we just created (no `unsafe` for `geteuid`).
fn euid() -> u32 {
    let f = tempfile::NamedTempFile::new().expect("tmp");
    f.as_file().metadata().expect("meta").uid()
}

/// Give the workspace to 4242:4343 when we are root (as in the action's container); the
/// expected owner of everything the action creates.
fn foreign_owned_workspace() -> (Workspace, (u32, u32)) {
    let ws = Workspace::new();
    let owner = if euid() == 0 {
        std::os::unix::fs::chown(ws.path(), Some(4242), Some(4343)).expect("chown workspace");
        (4242, 4343)
    } else {
        let m = std::fs::metadata(ws.path()).expect("meta");
        (m.uid(), m.gid())
    };
    (ws, owner)
}

fn assert_modes_and_owner(ws: &Workspace, owner: (u32, u32)) {
    let docs = ws.path().join("docs");
    let all = everything_below(&docs);
    assert!(all.len() >= 3, "{all:?}");
    for p in std::iter::once(docs).chain(all) {
        let m = std::fs::symlink_metadata(&p).expect("meta");
        let want = if m.is_dir() { 0o755 } else { 0o644 };
        assert_eq!(
            m.permissions().mode() & 0o7777,
            want,
            "mode of {}",
            p.display()
        );
        assert_eq!((m.uid(), m.gid()), owner, "owner of {}", p.display());
    }
}

#[test]
fn audit_files_written_as_root_belong_to_the_workspace_owner_not_root_0600() {
    // Regression: files came out 0600 and owned by root, so the runner user's later steps
    // could not read, `git add` or delete them.
    let (ws, owner) = foreign_owned_workspace();
    dist(&ws);
    let (private, _) = test_signing_key();
    let out = run_with_umask_077(key_signed(&ws, 1, &private));
    out.assert_success();
    assert!(out.out("bundle-path").is_some());
    let names: Vec<String> = everything_below(&ws.path().join("docs"))
        .iter()
        .map(|p| p.file_name().expect("n").to_string_lossy().into_owned())
        .collect();
    for want in [
        "reports",
        "manifest.json",
        "PROVENANCE_SHA256.txt",
        "provenance.json",
        "provenance.sigstore.json",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    assert_modes_and_owner(&ws, owner);
}

#[test]
fn failure_entry_written_as_root_belongs_to_the_workspace_owner() {
    // Regression: the failure path's manifest (and the folders made for it) were root's 0600.
    let (ws, owner) = foreign_owned_workspace();
    dist(&ws);
    let out = run_with_umask_077(
        release(&ws, 1)
            .input("sign", "none")
            .input("subject-path", "nothing/*"),
    );
    out.assert_failure("subject_pattern_unmatched");
    assert_eq!(manifest_entries(&ws)[0]["status"], "failure");
    assert_modes_and_owner(&ws, owner);
}

// ---------------------------------------------------------------------------------------------
// 2. Re-run atomicity

#[test]
fn failed_signing_on_rerun_no_longer_leaves_files_disagreeing_with_the_manifest() {
    // Regression: attempt 2 overwrote provenance.json before signing; when signing failed the
    // manifest kept attempt 1's hashes beside a bundle that did not sign the new statement.
    let ws = Workspace::new();
    dist(&ws);
    let (key1, pub1) = test_signing_key();
    let (key2, pub2) = test_signing_key();
    let keys = [pub1, pub2];

    // Attempt 1 signs. Its files are the reference from now on.
    let first = key_signed(&ws, 1, &key1).run();
    first.assert_success();
    assert_audit_truth(&ws, &keys[..1]);
    let files_after_1 = run_folder_bytes(&ws);

    // The subjects change, so attempt 2's statement differs from attempt 1's.
    ws.write("dist/app.zip", b"rebuilt zip bytes");

    // Attempt 2: the key is unusable.
    let out = key_signed(&ws, 2, "not a key").run();
    out.assert_failure("signing_key_invalid");
    assert_audit_truth(&ws, &keys[..1]);
    assert_eq!(run_folder_bytes(&ws), files_after_1);
    let entry = &manifest_entries(&ws)[0];
    assert_eq!(entry["status"], "failure");
    assert_eq!(entry["failure_reason"], "signing_key_invalid");

    // Attempt 3: keyless, and Fulcio refuses after the statement was built.
    let (token, fulcio) = (oidc(3), Recorder::start(500, "{}".into()));
    let out = keyless(&ws, 3, &token, &fulcio).run();
    out.assert_failure("signing_failed");
    assert!(!fulcio.requests().is_empty(), "Fulcio was asked");
    assert_audit_truth(&ws, &keys[..1]);
    assert_eq!(run_folder_bytes(&ws), files_after_1);
    assert!(out.out("bundle-path").is_none());

    // Attempt 4 signs with another key: the new pair replaces the old one, together.
    let out = key_signed(&ws, 4, &key2).run();
    out.assert_success();
    assert_audit_truth(&ws, &keys[1..]);
    let entry = &manifest_entries(&ws)[0];
    assert_eq!(entry["status"], "success");
    assert_eq!(entry["run_attempt"], 4);
    assert_eq!(
        entry["provenance_sha256"].as_str(),
        out.out("provenance-sha256")
    );

    // Attempt 5 signs, then publishing fails: the new pair is on disk, so the failure entry
    // records its hashes.
    ws.write("dist/app.zip", b"zip bytes, third build");
    let github = Recorder::start(422, json!({"message": "Validation Failed"}).to_string());
    let out = key_signed(&ws, 5, &key2)
        .input("attest", "true")
        .input("github-token", "ghs_test_token_0000")
        .env("GITHUB_API_URL", github.url.clone())
        .run();
    out.assert_failure("attestation_failed");
    assert!(!github.requests().is_empty(), "the attestation was posted");
    assert_audit_truth(&ws, &keys[1..]);
    let entry = &manifest_entries(&ws)[0];
    assert_eq!(entry["status"], "failure");
    let statement =
        std::fs::read(day_dir(&ws).join(format!("provenance_run_{RUN_ID}/provenance.json")))
            .expect("statement");
    assert!(
        String::from_utf8_lossy(&statement).contains(&sha256_hex(b"zip bytes, third build")),
        "attempt 5's statement is in place"
    );

    // Attempt 6 is unsigned: attempt 5's bundle signs another statement, so it goes.
    let out = release(&ws, 6).input("sign", "none").run();
    out.assert_success();
    assert_audit_truth(&ws, &keys);
    let entry = &manifest_entries(&ws)[0];
    assert!(entry["bundle_sha256"].is_null(), "{entry}");
    assert!(entry["signer_identity"].is_null(), "{entry}");
    assert!(
        entry["duration_ms"].is_u64(),
        "duration_ms recorded: {entry}"
    );
    assert_eq!(manifest_entries(&ws).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 3. Zero subjects

#[test]
fn zero_subjects_fail_with_missing_subjects_before_anything_is_signed() {
    // Regression: every match excluded (or an empty checksums file) made an empty statement,
    // which keyless signing wrote to the public transparency log before failing.
    // A blank inline value is refused with the inputs, before the tag is known: no entry.
    for (name, patterns, checksums, recorded) in [
        ("all excluded", Some("dist/*\n!dist/*"), None, true),
        ("empty checksums file", None, Some("SHA256SUMS"), true),
        ("blank inline checksums", None, Some("\n \n"), false),
    ] {
        let ws = Workspace::new();
        dist(&ws);
        ws.write("SHA256SUMS", b"");
        let (token, sigstore) = (oidc(1), Recorder::start(500, "{}".into()));
        let mut r = keyless(&ws, 1, &token, &sigstore).remove("INPUT_SUBJECT-PATH");
        if let Some(p) = patterns {
            r = r.input("subject-path", p);
        }
        if let Some(c) = checksums {
            r = r.input("subject-checksums", c);
        }
        let out = r.run();
        out.assert_failure("missing_subjects");
        assert_eq!(sigstore.requests(), Vec::<String>::new(), "{name}");
        if !recorded {
            assert!(!ws.path().join("docs").exists(), "{name}");
            continue;
        }
        let entries = manifest_entries(&ws);
        assert_eq!(entries[0]["failure_reason"], "missing_subjects", "{name}");
        assert!(entries[0]["provenance_path"].is_null(), "{name}");
        let files = everything_below(&day_dir(&ws));
        assert!(
            !files.iter().any(|p| p.ends_with("provenance.json")),
            "{name}: {files:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Failures before the run is set up

#[test]
fn missing_id_token_permission_is_recorded_in_the_manifest() {
    // Regression: this failure happened after the tag was known but left no manifest entry.
    let ws = Workspace::new();
    dist(&ws);
    let out = release(&ws, 1).input("sign", "sigstore").run();
    out.assert_failure("missing_id_token_permission");
    let entries = manifest_entries(&ws);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["status"], "failure");
    assert_eq!(entries[0]["failure_reason"], "missing_id_token_permission");
    assert_eq!(entries[0]["tag"], TAG);
    assert_eq!(entries[0]["run_id"].as_u64(), RUN_ID.parse().ok());
    assert_eq!(entries[0]["governance_flag"], "provenance-missing");
    assert!(entries[0]["duration_ms"].is_u64(), "{}", entries[0]);
    assert!(out.out("manifest-path").is_some());
}

#[test]
fn oidc_token_failure_is_recorded_in_the_manifest() {
    // Regression: the runner's token endpoint failing left no manifest entry.
    let ws = Workspace::new();
    dist(&ws);
    let token = Recorder::start(500, "{\"message\":\"nope\"}".into());
    let out = release(&ws, 1)
        .input("sign", "sigstore")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}/token?api-version=2.0", token.url),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", OIDC_BEARER)
        // The token GET is retried on 5xx: keep the backoff to milliseconds.
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .run();
    out.assert_failure("oidc_token_failed");
    assert!(!token.requests().is_empty());
    let entries = manifest_entries(&ws);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["status"], "failure");
    assert_eq!(entries[0]["failure_reason"], "oidc_token_failed");
    assert_eq!(entries[0]["sha"], SHA);
    assert_eq!(entries[0]["actor"], "octocat");
}

// ---------------------------------------------------------------------------------------------
// 5. Codes mean what they say

#[test]
fn unreadable_audit_file_is_audit_file_unreadable_not_write_failed() {
    // Regression: an audit file that exists but cannot be read was reported as `write_failed`.
    for blocked in ["manifest.json", "PROVENANCE_SHA256.txt"] {
        let ws = Workspace::new();
        dist(&ws);
        // A folder where the file should be: it exists, and reading it fails (EISDIR).
        for day in report_days() {
            ws.write(&format!("{day}/{blocked}/keep"), b"kept");
        }
        let out = release(&ws, 1).input("sign", "none").run();
        out.assert_failure("audit_file_unreadable");
        assert!(out.stdout.contains(blocked), "{}", out.stdout);
        for day in report_days() {
            assert_eq!(ws.read(&format!("{day}/{blocked}/keep")), "kept");
            let files = everything_below(&ws.path().join(&day));
            assert!(
                !files.iter().any(|p| p.ends_with("provenance.json")),
                "{blocked}: {files:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 13. Checksums lines are never echoed

#[test]
fn malformed_checksums_line_is_reported_by_number_without_echoing_its_content() {
    // Regression: the error quoted the line, so pointing `subject-checksums` at a file of
    // secrets (e.g. /proc/self/environ) printed one into the public log.
    let secret = "ghs_Zx8PqL2vR7tY1uW9sK4mN6bC3dF5gH0jA2eQ";
    let ws = Workspace::new();
    let h = sha256_hex(b"x");
    ws.write(
        "env.txt",
        format!("{h}  app.tar.gz\nGITHUB_TOKEN={secret}\n"),
    );
    let out = release(&ws, 1)
        .input("sign", "none")
        .remove("INPUT_SUBJECT-PATH")
        .input("subject-checksums", "env.txt")
        .run();
    out.assert_failure("invalid_checksums");
    assert!(out.stdout.contains("line 2"), "{}", out.stdout);
    for (what, text) in [
        ("stdout", &out.stdout),
        ("stderr", &out.stderr),
        ("outputs", &out.outputs_text),
        ("summary", &out.summary),
    ] {
        assert!(!text.contains(secret), "line content leaked into {what}");
        assert!(
            !text.contains("GITHUB_TOKEN="),
            "line content leaked into {what}"
        );
    }
}

#[test]
fn every_failure_code_is_documented_in_readme_and_action_yml() {
    // Regression: new codes (`audit_file_unreadable`, `runtime_failed`) must reach the
    // documents workflows branch on, not only the binary.
    use slsa_provenance_action::error::FailureReason;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root.join("action.yml")).expect("yml"))
            .expect("action.yml is YAML");
    let described = action["outputs"]["failure-reason"]["description"]
        .as_str()
        .expect("failure-reason description");
    let words: Vec<&str> = described
        .split(|c: char| !(c.is_ascii_lowercase() || c == '_'))
        .collect();
    for r in FailureReason::ALL {
        let code = r.code();
        assert!(
            readme.contains(&format!("`{code}`")),
            "{code} not in README"
        );
        assert!(
            words.contains(&code),
            "{code} not in action.yml failure-reason"
        );
    }
}
