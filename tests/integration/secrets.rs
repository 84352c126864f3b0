//! Integration tests: secrets stay secret, tokens never travel in clear text, and no argument or
//! environment value can panic the binary (issue 6, items 9-11).
//!
//! A fake `git` first on `PATH` records the environment the binary gives its child process. A
//! recording HTTP proxy on 127.0.0.1 (`HTTP_PROXY`) catches any clear-text request that would
//! have gone to a remote host. Non-UTF-8 values are passed as raw `OsString`s, which the common
//! harness (string maps) cannot express.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::common::{parse_outputs, test_signing_key, Outcome, Runner, Workspace};

const SHA: &str = "95baf27389e83e6a5c48f42e190d48d7abcea19e";

/// One sentinel per secret the runner or the workflow can hand the action.
const SENTINELS: &[(&str, &str)] = &[
    ("INPUT_SIGNING-KEY", "SENTINEL0KEY0INPUT"),
    ("INPUT_SIGNING-KEY-PASSWORD", "SENTINEL0KEY0PASSWORD"),
    ("INPUT_GITHUB-TOKEN", "SENTINEL0GITHUB0TOKEN0INPUT"),
    ("INPUT_GITHUB_TOKEN", "SENTINEL0GITHUB0TOKEN0SHELL"),
    ("GITHUB_TOKEN", "SENTINEL0GITHUB0TOKEN0ENV"),
    (
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "SENTINEL0ID0TOKEN0REQUEST",
    ),
    ("ACTIONS_RUNTIME_TOKEN", "SENTINEL0RUNTIME0TOKEN"),
];

/// An unsigned run of a release of `v1.0.0` with one subject.
fn unsigned_release(ws: &Workspace) -> Runner {
    ws.write("dist/app.tar.gz", b"tarball bytes");
    ws.runner()
        .release_event("v1.0.0")
        .env("GITHUB_SHA", SHA)
        .input("subject-path", "dist/*")
        .input("sign", "none")
}

/// Run like `Runner::run`, plus environment values and arguments that need not be UTF-8.
fn run_os(r: Runner, extra_env: &[(OsString, OsString)], args: &[OsString]) -> Outcome {
    let out = Command::new(crate::common::bin())
        .env_clear()
        .envs(&r.env)
        .envs(extra_env.iter().map(|(k, v)| (k, v)))
        .args(args)
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

/// Log lines a reader of the job log sees (the mask commands themselves excluded).
fn visible(out: &Outcome) -> String {
    [&out.stdout, &out.stderr, &out.outputs_text, &out.summary]
        .iter()
        .flat_map(|t| t.lines())
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn os(s: &str) -> OsString {
    OsString::from(s)
}

fn not_utf8(prefix: &str) -> OsString {
    let mut bytes = prefix.as_bytes().to_vec();
    bytes.extend([0xff, 0xfe]);
    OsString::from_vec(bytes)
}

// ---------------------------------------------------------------------------------------------
// The git child process

/// A `git` that appends its arguments and environment to `dump`, answers `describe` with a tag
/// and `rev-parse` with a commit, like a repository where `v1.0.0` points at `SHA`.
fn fake_git(dir: &Path, dump: &Path) -> PathBuf {
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let script = format!(
        "#!/bin/sh\n\
         {{ echo \"ARGS: $*\"; env; echo '--END--'; }} >> '{dump}'\n\
         case \"$*\" in\n\
           *describe*) echo v1.0.0 ;;\n\
           *rev-parse*) echo {SHA} ;;\n\
           *) exit 1 ;;\n\
         esac\n",
        dump = dump.display()
    );
    let git = bin.join("git");
    std::fs::write(&git, script).expect("write fake git");
    std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

#[test]
fn secrets_in_the_environment_never_reach_git() {
    // Regression: git inherited the whole environment (tokens, INPUT_* secrets) and the locale.
    let ws = Workspace::new();
    ws.write("dist/app.tar.gz", b"tarball bytes");
    let dump = ws.runner_temp.path().join("git-env.txt");
    let bin = fake_git(ws.runner_temp.path(), &dump);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // No release event and a branch ref: the tag comes from `git describe`, then the tag's
    // commit from `git rev-parse`; the sentinel key then fails to open.
    let mut r = ws
        .runner()
        .env("PATH", path)
        .env("GITHUB_SHA", SHA)
        .env("LANG", "de_DE.UTF-8")
        .env("LC_ALL", "de_DE.UTF-8")
        .env("GIT_DIR", "/nonexistent/redirected")
        .input("subject-path", "dist/*")
        .input("sign", "key");
    for (k, v) in SENTINELS {
        r = r.env(k, *v);
    }
    let out = r.run();
    out.assert_failure("signing_key_invalid");

    let seen = std::fs::read_to_string(&dump).expect("git was run");
    let calls: Vec<&str> = seen
        .split("--END--")
        .filter(|c| !c.trim().is_empty())
        .collect();
    assert!(
        calls
            .iter()
            .any(|c| c.contains("ARGS: ") && c.contains("describe")),
        "git describe was run:\n{seen}"
    );
    assert!(
        calls.iter().any(|c| c.contains("rev-parse")),
        "git rev-parse was run:\n{seen}"
    );
    for call in &calls {
        for (name, secret) in SENTINELS {
            assert!(!call.contains(secret), "{name} reached git:\n{call}");
        }
        let vars: Vec<&str> = call
            .lines()
            .filter(|l| !l.starts_with("ARGS: "))
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .collect();
        for v in &vars {
            assert!(
                !v.starts_with("INPUT_")
                    && !v.starts_with("ACTIONS_")
                    && !v.starts_with("GITHUB_")
                    && *v != "GIT_DIR",
                "{v} reached git:\n{call}"
            );
        }
        assert!(call.lines().any(|l| l == "LC_ALL=C"), "LC_ALL=C:\n{call}");
        assert!(
            !call.contains("LANG="),
            "the caller's locale reached git:\n{call}"
        );
        assert!(call.lines().any(|l| l.starts_with("PATH=")), "{call}");
        assert!(call.lines().any(|l| l.starts_with("HOME=")), "{call}");
    }
    let log = visible(&out);
    for (name, secret) in SENTINELS {
        assert!(!log.contains(secret), "{name} was logged:\n{log}");
    }
}

// ---------------------------------------------------------------------------------------------
// Clear-text URLs

/// A recording HTTP server on 127.0.0.1, used as `HTTP_PROXY`: a clear-text request to any host
/// lands here with its headers. Answers like the runner's token endpoint.
struct Recorder {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                log.lock()
                    .expect("lock")
                    .push(String::from_utf8_lossy(&head).into_owned());
                let body = r#"{"value":"e30.e30.sig"}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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

#[test]
fn oidc_request_url_in_clear_text_to_a_remote_host_sends_no_token() {
    // Regression: an http:// ACTIONS_ID_TOKEN_REQUEST_URL got the request token in clear text.
    let proxy = Recorder::start();
    let ws = Workspace::new();
    let out = unsigned_release(&ws)
        .env("HTTP_PROXY", proxy.url.clone())
        .env("http_proxy", proxy.url.clone())
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "http://token.actions.example.com/idtoken?api-version=2.0",
        )
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "SENTINEL0ID0TOKEN0REQUEST",
        )
        .run();
    assert_eq!(proxy.requests(), Vec::<String>::new(), "nothing was sent");
    out.assert_failure("missing_context");
    assert!(
        out.stdout
            .contains("ACTIONS_ID_TOKEN_REQUEST_URL must be an https:// URL"),
        "{}",
        out.stdout
    );
    assert!(!visible(&out).contains("SENTINEL0ID0TOKEN0REQUEST"));
}

#[test]
fn oidc_request_url_lookalike_of_loopback_is_refused() {
    // Regression: a prefix check would take 127.0.0.1.evil.example for this machine.
    let ws = Workspace::new();
    let out = unsigned_release(&ws)
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "http://127.0.0.1.evil.example/idtoken",
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t")
        .run();
    out.assert_failure("missing_context");
}

#[test]
fn oidc_request_url_on_loopback_in_clear_text_is_used() {
    // Tests and local demos run the token endpoint on 127.0.0.1 over plain http.
    let endpoint = Recorder::start();
    let ws = Workspace::new();
    let out = unsigned_release(&ws)
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}/idtoken?api-version=2.0", endpoint.url),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token")
        .run();
    // The recorder's token has no claims: the request went out, the answer is not usable.
    out.assert_failure("oidc_token_failed");
    let seen = endpoint.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with("GET /idtoken?"), "{}", seen[0]);
}

#[test]
fn sigstore_urls_in_clear_text_to_a_remote_host_are_invalid_input_naming_the_input() {
    // Regression: http:// Fulcio/Rekor/TSA URLs were accepted for any host.
    for name in ["fulcio-url", "rekor-url", "tsa-url"] {
        let ws = Workspace::new();
        let out = unsigned_release(&ws)
            .input(name, "http://sigstore.example.com/api")
            .run();
        out.assert_failure("invalid_input");
        assert!(
            out.stdout
                .contains(&format!("input '{name}' must be an https:// URL")),
            "{name}: {}",
            out.stdout
        );
    }
}

#[test]
fn sigstore_urls_in_clear_text_to_loopback_are_accepted() {
    let ws = Workspace::new();
    let out = unsigned_release(&ws)
        .input("fulcio-url", "http://127.0.0.1:9/")
        .input("rekor-url", "http://[::1]:9/")
        .input("tsa-url", "http://localhost:9/api/v1/timestamp")
        .run();
    out.assert_success();
}

#[test]
fn github_api_url_in_clear_text_to_a_remote_host_is_missing_context() {
    // Regression: GITHUB_API_URL=http://<remote> would have carried the token in clear text.
    // (octocrab ignores HTTP_PROXY, so a recorder cannot observe it; the code is the witness.)
    let ws = Workspace::new();
    ws.write("dist/app.tar.gz", b"tarball bytes");
    let out = ws
        .runner()
        .release_event("v1.0.0")
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_API_URL", "http://ghes.example.com/api/v3")
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .input("subject-path", "dist/*")
        .input("sign", "key")
        .input("signing-key", test_signing_key().0)
        .input("github-token", "ghs_SENTINEL0TOKEN")
        .run();
    out.assert_failure("missing_context");
    assert!(
        out.stdout
            .contains("GITHUB_API_URL must be an https:// URL"),
        "{}",
        out.stdout
    );
    assert!(!visible(&out).contains("ghs_SENTINEL0TOKEN"));
}

// ---------------------------------------------------------------------------------------------
// Non-UTF-8 arguments and environment values

#[test]
fn non_utf8_argument_is_invalid_input_not_a_panic() {
    // Regression: `std::env::args()` panicked (exit 101, no failure-reason) on non-UTF-8 argv.
    let ws = Workspace::new();
    let out = run_os(
        unsigned_release(&ws),
        &[],
        &[os("provenance"), os("--tag"), not_utf8("v1")],
    );
    out.assert_failure("invalid_input");
    assert!(
        out.stdout.contains("argument 3 is not valid UTF-8"),
        "{}",
        out.stdout
    );
}

#[test]
fn non_utf8_input_value_is_invalid_input_not_a_panic() {
    // Regression: a non-UTF-8 INPUT_ value was silently mangled into U+FFFD.
    let ws = Workspace::new();
    let out = run_os(
        unsigned_release(&ws),
        &[(os("INPUT_TAG"), not_utf8("v1"))],
        &[],
    );
    out.assert_failure("invalid_input");
    assert!(out.stdout.contains("input 'tag'"), "{}", out.stdout);
}

#[test]
fn non_utf8_context_variable_is_missing_context() {
    let ws = Workspace::new();
    let out = run_os(
        unsigned_release(&ws),
        &[(os("GITHUB_WORKFLOW_REF"), not_utf8("octo/app/x.yml@"))],
        &[],
    );
    out.assert_failure("missing_context");
    assert!(out.stdout.contains("GITHUB_WORKFLOW_REF"), "{}", out.stdout);
}

#[test]
fn non_utf8_variable_the_action_does_not_read_is_ignored() {
    let ws = Workspace::new();
    let out = run_os(
        unsigned_release(&ws),
        &[
            (os("LS_COLORS"), not_utf8("di=")),
            (OsString::from_vec(vec![b'X', 0xff]), os("1")),
        ],
        &[],
    );
    out.assert_success();
}
