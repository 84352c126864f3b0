//! Shared harness: run the real binary the way the runner does.
//!
//! The environment is scrubbed (`env_clear`) so nothing from the developer's shell or from CI's
//! own `GITHUB_*`/`RUNNER_*`/`ACTIONS_*`/`INPUT_*` leaks in; each test sets what it needs.
//! `GITHUB_OUTPUT` is parsed by the runner's rules (heredoc `name<<DELIM` blocks and
//! `name=value` lines).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_slsa-provenance-action"))
}

/// A temporary workspace (optionally a git repository) plus the runner's files.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub runner_temp: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
            runner_temp: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, content).expect("write");
        p
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel))
            .unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.email=ci@example.com", "-c", "user.name=CI"])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(["-c", "tag.gpgsign=false"])
            .args(args)
            .current_dir(self.path())
            .env_remove("GIT_DIR")
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `git init` + commit everything; returns the commit id.
    pub fn init_git(&self) -> String {
        self.git(&["init", "-q"]);
        self.commit_all("initial")
    }

    pub fn commit_all(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// A runner-like invocation with the usual `GITHUB_*` context of a release run.
    pub fn runner(&self) -> Runner {
        let output = self.runner_temp.path().join("output.txt");
        let summary = self.runner_temp.path().join("summary.md");
        std::fs::write(&output, "").expect("output file");
        std::fs::write(&summary, "").expect("summary file");
        let mut env = BTreeMap::new();
        for (k, v) in [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            (
                "HOME",
                self.runner_temp.path().to_string_lossy().into_owned(),
            ),
            ("GITHUB_ACTIONS", "true".into()),
            (
                "GITHUB_WORKSPACE",
                self.path().to_string_lossy().into_owned(),
            ),
            ("GITHUB_OUTPUT", output.to_string_lossy().into_owned()),
            (
                "GITHUB_STEP_SUMMARY",
                summary.to_string_lossy().into_owned(),
            ),
            ("GITHUB_SERVER_URL", "https://github.com".into()),
            ("GITHUB_API_URL", "http://127.0.0.1:9/api".into()),
            ("GITHUB_REPOSITORY", "octo/app".into()),
            ("GITHUB_REPOSITORY_ID", "804070735".into()),
            ("GITHUB_REPOSITORY_OWNER_ID", "16248153".into()),
            ("GITHUB_RUN_ID", "9228858953".into()),
            ("GITHUB_RUN_ATTEMPT", "1".into()),
            ("GITHUB_ACTOR", "octocat".into()),
            ("GITHUB_REF", "refs/heads/main".into()),
            ("GITHUB_REF_NAME", "main".into()),
            ("GITHUB_REF_TYPE", "branch".into()),
            (
                "GITHUB_WORKFLOW_REF",
                "octo/app/.github/workflows/release.yml@refs/heads/main".into(),
            ),
            ("GITHUB_EVENT_NAME", "workflow_dispatch".into()),
            ("RUNNER_ENVIRONMENT", "github-hosted".into()),
            // The audit trail stays in the workspace unless a test exercises the commit store.
            ("INPUT_AUDIT-STORE", "workspace".into()),
            (
                "RUNNER_TEMP",
                self.runner_temp.path().to_string_lossy().into_owned(),
            ),
        ] {
            env.insert(k.to_string(), v);
        }
        Runner {
            env,
            args: Vec::new(),
            cwd: self.path().to_path_buf(),
            output,
            summary,
            event_dir: self.runner_temp.path().to_path_buf(),
        }
    }
}

pub struct Runner {
    pub env: BTreeMap<String, String>,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    pub output: PathBuf,
    pub summary: PathBuf,
    event_dir: PathBuf,
}

impl Runner {
    pub fn env(mut self, k: &str, v: impl Into<String>) -> Self {
        self.env.insert(k.to_string(), v.into());
        self
    }

    pub fn remove(mut self, k: &str) -> Self {
        self.env.remove(k);
        self
    }

    /// Set an input the way the runner does: `INPUT_` + upper-cased name, hyphens kept.
    pub fn input(self, name: &str, v: impl Into<String>) -> Self {
        let k = format!("INPUT_{}", name.to_uppercase().replace(' ', "_"));
        self.env(&k, v)
    }

    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_string());
        self
    }

    /// Write an event payload and point `GITHUB_EVENT_NAME`/`GITHUB_EVENT_PATH` at it.
    pub fn event(self, name: &str, payload: serde_json::Value) -> Self {
        let p = self.event_dir.join("event.json");
        std::fs::write(&p, payload.to_string()).expect("event");
        let p = p.to_string_lossy().into_owned();
        self.env("GITHUB_EVENT_NAME", name)
            .env("GITHUB_EVENT_PATH", p)
    }

    /// A release event for `tag` (the runner also sets the tag ref).
    pub fn release_event(self, tag: &str) -> Self {
        self.event(
            "release",
            serde_json::json!({"action": "published", "release": {"tag_name": tag, "draft": false}}),
        )
        .env("GITHUB_REF", format!("refs/tags/{tag}"))
        .env("GITHUB_REF_NAME", tag)
        .env("GITHUB_REF_TYPE", "tag")
    }

    pub fn run(self) -> Outcome {
        let out = Command::new(bin())
            .env_clear()
            .envs(&self.env)
            .args(&self.args)
            .current_dir(&self.cwd)
            .output()
            .expect("run binary");
        let outputs_text = std::fs::read_to_string(&self.output).unwrap_or_default();
        let outputs = parse_outputs(&outputs_text);
        record_outputs(&self.mode(), &outputs);
        Outcome {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs,
            outputs_text,
            summary: std::fs::read_to_string(&self.summary).unwrap_or_default(),
        }
    }

    /// The mode this run asks for, as `lib::run` reads it (a subcommand's name for those).
    pub fn mode(&self) -> String {
        let from_env = ["INPUT_MODE", "INPUT_mode"]
            .iter()
            .find_map(|k| self.env.get(*k))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        match self.args.first() {
            Some(a) if !a.starts_with("--") => a.trim().to_string(),
            _ => from_env.unwrap_or_else(|| "provenance".into()),
        }
    }
}

/// The ledger `outputs_coverage` reads: when `SLSA_TEST_OUTPUTS_LEDGER` names a file, every
/// run appends one `<mode> <output>` line per output it set.
pub const OUTPUTS_LEDGER: &str = "SLSA_TEST_OUTPUTS_LEDGER";

fn record_outputs(mode: &str, outputs: &BTreeMap<String, String>) {
    use std::io::Write;
    let Some(path) = std::env::var_os(OUTPUTS_LEDGER) else {
        return;
    };
    let lines: String = outputs.keys().map(|o| format!("{mode} {o}\n")).collect();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("outputs ledger");
    // One write per run: concurrent tests' lines do not interleave.
    f.write_all(lines.as_bytes()).expect("outputs ledger");
}

#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
    pub outputs_text: String,
    pub summary: String,
}

impl Outcome {
    pub fn out(&self, name: &str) -> Option<&str> {
        self.outputs.get(name).map(String::as_str)
    }

    pub fn assert_success(&self) -> &Self {
        assert_eq!(self.code, Some(0), "expected success:\n{self:#?}");
        self
    }

    /// Exit 1, `failure-reason` = `code`, and an `::error title=<code>::` line.
    pub fn assert_failure(&self, code: &str) -> &Self {
        assert_eq!(self.code, Some(1), "expected failure {code}:\n{self:#?}");
        assert_eq!(self.out("failure-reason"), Some(code), "{self:#?}");
        assert!(
            self.stdout.contains(&format!("::error title={code}::")),
            "no ::error:: line for {code}:\n{}",
            self.stdout
        );
        self
    }
}

/// Parse a `GITHUB_OUTPUT` file by the runner's rules. Panics on malformed content, which is
/// itself a test failure: the runner would reject the step.
pub fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            loop {
                let l = lines
                    .next()
                    .unwrap_or_else(|| panic!("unterminated heredoc for {name}"));
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        } else {
            panic!("malformed GITHUB_OUTPUT line: {line:?}");
        }
    }
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A fresh P-256 key pair for `sign: key` tests: (PKCS#8 private key PEM, SPKI public key PEM).
pub fn test_signing_key() -> (String, String) {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let secret = loop {
        // Almost every 32-byte string is a valid scalar; retry the rare one that is not.
        if let Ok(k) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
            break k;
        }
    };
    let private = secret
        .to_pkcs8_pem(LineEnding::LF)
        .expect("pkcs8 pem")
        .to_string();
    let public = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("public pem");
    (private, public)
}
