//! Validation benchmark (issue 7): 1,000 artifacts and their 1,000 Sigstore bundles, verified
//! offline by us and, in the same run, by sigstore-js's `@sigstore/verify` in one warm Node
//! process (`tests/sigstore-mock/bench-verify.js`); bundles/s for both, the ratio, peak memory.
//!
//! Two cases, each its own comparison (`--case keyless|key`; both by default, keyless first):
//! - `keyless`: the issue's workload. 1,000 bundles signed keylessly against the local Sigstore
//!   (`tests/sigstore-mock/mock-server.js`: Fulcio with a CT log, Rekor v1) with a GitHub
//!   Actions-shaped OIDC token, one per artifact. Verifying one means the Fulcio certificate
//!   chain, its SCT, the Rekor entry (SET, inclusion proof when present), the DSSE signature,
//!   the certificate's identity (SAN) and OIDC issuer, and the artifact's digest among the
//!   statement's subjects.
//! - `key`: 1,000 offline key-signed bundles (the DSSE signature with a public key, the digest).
//!
//! Run: `cargo bench --bench validate` (1,000 bundles, best of 3) or
//! `cargo bench --bench validate -- --quick` (100 bundles, one run). Both sides need
//! `scripts/setup-test-tools.sh` (it installs `@sigstore/mock` and `@sigstore/verify` under
//! tests/sigstore-mock/); without them the keyless case cannot be generated and is skipped,
//! and the key case prints only our figures.
//!
//! Workloads are generated once and cached under `$CARGO_TARGET_DIR/bench-validate-<case>-
//! <bundles>x<bytes>-v<N>/` (setup is never timed; signing 1,000 bundles keylessly takes a
//! while): `workload.json`, written last, marks a complete one. `--regenerate` makes a new one.
//!
//! What "ours" runs, chosen by `--ours`:
//! - `binary` (default): ONE invocation of the binary cargo built for this bench (bench
//!   profile), `slsa-provenance-action validate` over the same files, offline
//!   ([`binary_command`]), timed and measured with `/usr/bin/time`: the product as a user runs
//!   it, process start, hashing and the report included.
//! - `library`: a child process of this bench (`--verify-child`) verifies every bundle with
//!   `adapters::sigstore::verify_bundle`, binding each to its artifact's bytes; with all cores
//!   (rayon), and once more on one thread for an honest per-core figure.
//!
//! Both sides read every bundle and artifact from disk. Peak memory is each process's
//! high-water mark (`/usr/bin/time`'s `%M` or our child's `VmHWM`; Node's
//! `resourceUsage().maxRSS`). The last stdout lines are one `BENCH-RESULT {json}` per case.

// A benchmark's job is to print its table.
#![allow(clippy::print_stdout)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{stream, StreamExt};
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rayon::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use slsa_provenance_action::adapters::sigstore::{
    sign_keyless, sign_with_key, verify_bundle, Binding, Expected, KeylessServices, SigningKey,
    TrustAnchor,
};
use slsa_provenance_action::domain::signing::LogPolicy;
use slsa_provenance_action::secret::Secret;

/// The builder id every bench statement records (and the binary is told to expect).
const BUILDER_ID: &str =
    "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1.0.0";
/// The workflow the keyless bundles are signed by: Fulcio's SAN for the token below.
const JOB_WORKFLOW_REF: &str = "octo/app/.github/workflows/release.yml@refs/tags/v1.0.0";
const IDENTITY: &str = "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1.0.0";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The issue's target: at least 10x `@sigstore/verify`'s throughput.
const TARGET_RATIO: f64 = 10.0;
/// Bump when the workload's format changes, so stale caches are not reused.
const WORKLOAD_VERSION: u32 = 1;
/// Keyless signings in flight at once (the mock is one Node process; this keeps it busy).
const SIGNING_CONCURRENCY: usize = 8;

struct Plan {
    bundles: usize,
    artifact_bytes: usize,
    runs: usize,
}

const FULL: Plan = Plan {
    bundles: 1_000,
    artifact_bytes: 16 * 1024,
    runs: 3,
};

const QUICK: Plan = Plan {
    bundles: 100,
    artifact_bytes: 1024,
    runs: 1,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Keyless,
    Key,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::Keyless => "keyless",
            Case::Key => "key",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "keyless" => Some(Case::Keyless),
            "key" => Some(Case::Key),
            _ => None,
        }
    }
}

/// One side's best run.
#[derive(Debug, Clone)]
struct Measure {
    verified: usize,
    failed: usize,
    seconds: f64,
    peak_rss_kib: Option<u64>,
}

impl Measure {
    fn per_second(&self) -> f64 {
        self.verified as f64 / self.seconds.max(1e-9)
    }
}

struct Options {
    quick: bool,
    ours: String,
    cases: Vec<Case>,
    regenerate: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--verify-child") {
        let dir = args.get(i + 1).expect("--verify-child DIR");
        let single = args.iter().any(|a| a == "--single-thread");
        verify_child(Path::new(dir), single);
        return;
    }
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| args.get(i + 1).cloned().unwrap_or_default())
    };
    let cases = match value("--case").as_deref() {
        None => vec![Case::Keyless, Case::Key],
        Some(c) => match Case::parse(c) {
            Some(c) => vec![c],
            None => {
                eprintln!("--case must be keyless or key, got {c:?}");
                std::process::exit(2);
            }
        },
    };
    let options = Options {
        quick: args.iter().any(|a| a == "--quick"),
        ours: value("--ours").unwrap_or_else(|| "binary".into()),
        cases,
        regenerate: args.iter().any(|a| a == "--regenerate"),
    };
    let plan = if options.quick { QUICK } else { FULL };
    let mut results = Vec::new();
    for case in &options.cases {
        match run_case(*case, &plan, &options) {
            Ok(Some(line)) => results.push(line),
            Ok(None) => {}
            Err(e) => {
                eprintln!("validate bench ({}) failed: {e}", case.name());
                std::process::exit(1);
            }
        }
    }
    // The contract: the BENCH-RESULT lines are the last lines on stdout.
    println!();
    for line in results {
        println!("BENCH-RESULT {line}");
    }
}

// ---------------------------------------------------------------------------------------------
// One case: workload, ours, Node, table, result line

fn run_case(case: Case, plan: &Plan, options: &Options) -> Result<Option<String>, String> {
    println!(
        "\n## validate bench, {} case ({}): {} bundles, {} threads, ours = {}",
        case.name(),
        if options.quick { "quick" } else { "full" },
        plan.bundles,
        rayon::current_num_threads(),
        options.ours
    );
    let root = match workload(case, plan, options.regenerate) {
        Ok(root) => root,
        Err(e) if case == Case::Keyless => {
            println!("{} case: SKIPPED ({e})", case.name());
            return Ok(None);
        }
        Err(e) => return Err(e),
    };

    let mut rows: Vec<(String, Measure)> = Vec::new();
    match options.ours.as_str() {
        "library" => {
            rows.push((
                "ours: verify_bundle, all cores".into(),
                best(plan.runs, || library_child(&root, false))?,
            ));
            rows.push((
                "ours: verify_bundle, one thread".into(),
                best(plan.runs, || library_child(&root, true))?,
            ));
        }
        "binary" => rows.push((
            "ours: `slsa-provenance-action validate`, one invocation".into(),
            best(plan.runs, || binary(case, &root, plan.bundles))?,
        )),
        other => return Err(format!("--ours must be library or binary, got {other:?}")),
    }
    for (name, m) in &rows {
        if m.failed > 0 || m.verified != plan.bundles {
            return Err(format!(
                "{name}: verified {} of {} ({} failed)",
                m.verified, plan.bundles, m.failed
            ));
        }
    }
    let node = match node_side(case, &root, plan) {
        Ok(m) => Some(m),
        Err(e) => {
            println!("@sigstore/verify: SKIPPED ({e})");
            None
        }
    };
    print_table(case, &rows, node.as_ref());
    let (_, ours) = &rows[0];
    Ok(Some(result_line(case, plan, options, ours, node.as_ref())))
}

/// Whether the issue's target judges `case`: its 10x (against ~65 bundles/s) is about keyless
/// bundles; the key-signed case is informational (both sides do one signature check).
fn judged(case: Case) -> bool {
    matches!(case, Case::Keyless)
}

fn print_table(case: Case, rows: &[(String, Measure)], node: Option<&Measure>) {
    println!();
    println!("| verifier | bundles | best s | bundles/s | peak RSS | vs @sigstore/verify |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let rss = |m: &Measure| {
        m.peak_rss_kib
            .map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
            .unwrap_or_else(|| "n/a".into())
    };
    for (name, m) in rows {
        let ratio = node
            .map(|n| {
                let r = n.seconds / m.seconds.max(1e-9);
                if !judged(case) {
                    return format!("**{r:.1}x** (informational)");
                }
                let verdict = if r >= TARGET_RATIO {
                    ""
                } else {
                    " BELOW TARGET"
                };
                format!("**{r:.1}x** (target >= {TARGET_RATIO}x){verdict}")
            })
            .unwrap_or_else(|| "n/a".into());
        println!(
            "| {name} | {} | {:.3} | {:.0} | {} | {ratio} |",
            m.verified,
            m.seconds,
            m.per_second(),
            rss(m)
        );
    }
    if let Some(n) = node {
        println!(
            "| `@sigstore/verify` (one warm Node process) | {} | {:.3} | {:.0} | {} | 1.0x |",
            n.verified,
            n.seconds,
            n.per_second(),
            rss(n)
        );
    }
}

/// The case's `BENCH-RESULT` JSON: ratio = reference seconds / our seconds for the same
/// bundles (both sides verified all of them, or the bench failed above).
fn result_line(
    case: Case,
    plan: &Plan,
    options: &Options,
    ours: &Measure,
    node: Option<&Measure>,
) -> String {
    let ratio = node.map(|n| n.seconds / ours.seconds.max(1e-9));
    json!({
        "bench": "validate",
        "case": case.name(),
        "ours_s": ours.seconds,
        "reference": "@sigstore/verify",
        "reference_s": node.map(|n| n.seconds),
        "ratio": ratio,
        "target": if judged(case) {
            format!(">= {TARGET_RATIO}x @sigstore/verify's bundles/s ({} bundles, one invocation vs one warm Node process)", plan.bundles)
        } else {
            "none (informational: the 10x target is the keyless workload's)".to_string()
        },
        "met": if judged(case) { ratio.map(|r| r >= TARGET_RATIO) } else { None },
        "ours_peak_rss_kib": ours.peak_rss_kib,
        "reference_peak_rss_kib": node.and_then(|n| n.peak_rss_kib),
        "extra": {
            "bundles": plan.bundles,
            "artifact_bytes": plan.artifact_bytes,
            "runs": plan.runs,
            "quick": options.quick,
            "ours": options.ours,
            "ours_bundles_per_s": ours.per_second(),
            "reference_bundles_per_s": node.map(Measure::per_second),
            "threads": rayon::current_num_threads(),
        }
    })
    .to_string()
}

fn best(runs: usize, mut f: impl FnMut() -> Result<Measure, String>) -> Result<Measure, String> {
    let mut best: Option<Measure> = None;
    for _ in 0..runs.max(1) {
        let m = f()?;
        if best.as_ref().is_none_or(|b| m.seconds < b.seconds) {
            best = Some(m);
        }
    }
    best.ok_or_else(|| "no run".into())
}

// ---------------------------------------------------------------------------------------------
// Workloads (generated once, cached)

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn mock_dir() -> PathBuf {
    project().join("tests/sigstore-mock")
}

/// `$CARGO_TARGET_DIR`, else the target dir this bench executable lives in
/// (`<target>/release/deps/validate-*`).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| project().join("target"))
}

/// The cached workload of a case and plan: `artifacts/a<i>.bin`, `bundles/a<i>.bin.sigstore.json`,
/// `list.tsv` (`bundle<TAB>artifact` per line, absolute), `key.pub` (key) or
/// `trusted_root.json` (keyless), then `workload.json`, written last.
fn workload(case: Case, plan: &Plan, regenerate: bool) -> Result<PathBuf, String> {
    let dir = target_dir().join(format!(
        "bench-validate-{}-{}x{}-v{WORKLOAD_VERSION}",
        case.name(),
        plan.bundles,
        plan.artifact_bytes
    ));
    let marker = dir.join("workload.json");
    let complete = marker.is_file()
        && pairs(&dir)
            .map(|p| p.len() == plan.bundles && p.iter().all(|(b, a)| b.is_file() && a.is_file()))
            .unwrap_or(false);
    if complete && !regenerate {
        println!("workload: cached in {}", dir.display());
        return Ok(dir);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    for sub in ["artifacts", "bundles"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let started = Instant::now();
    let list = match case {
        Case::Key => generate_key_signed(&dir, plan)?,
        Case::Keyless => generate_keyless(&dir, plan)?,
    };
    write(&dir.join("list.tsv"), (list.join("\n") + "\n").as_bytes())?;
    let about = json!({
        "case": case.name(),
        "bundles": plan.bundles,
        "artifact_bytes": plan.artifact_bytes,
        "identity": IDENTITY,
        "issuer": ISSUER,
    });
    write(&marker, about.to_string().as_bytes())?;
    println!(
        "workload: generated {} artifacts + {} bundles in {:.1} s (not timed), cached in {}",
        plan.bundles,
        case.name(),
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(dir)
}

/// Artifact `i`: random bytes, its file, and the statement naming its digest.
fn artifact(root: &Path, plan: &Plan, i: usize) -> Result<(String, PathBuf, Vec<u8>), String> {
    let name = format!("a{i:04}.bin");
    let mut data = vec![0u8; plan.artifact_bytes];
    rand::fill(&mut data[..]);
    let path = root.join("artifacts").join(&name);
    write(&path, &data)?;
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": hex::encode(Sha256::digest(&data))}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://github.com/slsa-provenance-action/bench",
                "externalParameters": {"workflow": {
                    "ref": "refs/tags/v1.0.0",
                    "repository": "https://github.com/octo/app",
                    "path": ".github/workflows/release.yml"
                }}
            },
            "runDetails": {"builder": {"id": BUILDER_ID}}
        }
    });
    let bytes = serde_json::to_vec(&statement).map_err(|e| e.to_string())?;
    Ok((name, path, bytes))
}

fn save_bundle(root: &Path, name: &str, artifact: &Path, json: &[u8]) -> Result<String, String> {
    let bundle = root.join("bundles").join(format!("{name}.sigstore.json"));
    write(&bundle, json)?;
    Ok(format!("{}\t{}", bundle.display(), artifact.display()))
}

fn generate_key_signed(root: &Path, plan: &Plan) -> Result<Vec<String>, String> {
    let secret = loop {
        // Almost every 32-byte string is a valid scalar; retry the rare one that is not.
        if let Ok(k) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
            break k;
        }
    };
    let private = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| e.to_string())?
        .to_string();
    let public = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| e.to_string())?;
    write(&root.join("key.pub"), public.as_bytes())?;
    let key = SigningKey::from_pem(&Secret::new(private), None).map_err(|e| e.to_string())?;
    (0..plan.bundles)
        .into_par_iter()
        .map(|i| {
            let (name, path, statement) = artifact(root, plan, i)?;
            let signed = sign_with_key(&key, &statement).map_err(|e| e.to_string())?;
            save_bundle(root, &name, &path, &signed.json)
        })
        .collect()
}

/// Keyless: the local Sigstore signs every statement (Fulcio certificate + Rekor entry), as
/// `mode: provenance` does with `sign: sigstore` on a public repository; the mock's trusted
/// root is kept beside the bundles. The mock is stopped afterwards.
fn generate_keyless(root: &Path, plan: &Plan) -> Result<Vec<String>, String> {
    let trusted_root = root.join("trusted_root.json");
    let mock = Mock::start(&trusted_root)?;
    let services = KeylessServices {
        fulcio_url: mock.url.clone(),
        rekor_url: Some(mock.url.clone()),
        tsa_url: None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))?;
    let signed: Vec<Result<String, String>> = runtime.block_on(
        stream::iter(0..plan.bundles)
            .map(|i| {
                let services = &services;
                async move {
                    let (name, path, statement) = artifact(root, plan, i)?;
                    let token = Secret::new(github_jwt());
                    let signed =
                        sign_keyless(services, &token, &statement, Duration::from_secs(60))
                            .await
                            .map_err(|e| format!("signing {name}: {e}"))?;
                    save_bundle(root, &name, &path, &signed.json)
                }
            })
            .buffered(SIGNING_CONCURRENCY)
            .collect(),
    );
    drop(mock);
    signed.into_iter().collect()
}

/// An unsigned JWT shaped like a GitHub Actions OIDC token of the release run (the mock's
/// Fulcio does not check token signatures; it derives the SAN from `job_workflow_ref`).
fn github_jwt() -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "iss": ISSUER,
        "aud": "sigstore",
        "sub": "repo:octo/app:ref:refs/tags/v1.0.0",
        "iat": now, "nbf": now, "exp": now + 600,
        "repository": "octo/app",
        "repository_id": "804070735",
        "repository_owner": "octo",
        "repository_owner_id": "16248153",
        "repository_visibility": "public",
        "event_name": "release",
        "ref": "refs/tags/v1.0.0",
        "ref_type": "tag",
        "sha": "0123456789abcdef0123456789abcdef01234567",
        "workflow": "release",
        "workflow_ref": JOB_WORKFLOW_REF,
        "job_workflow_ref": JOB_WORKFLOW_REF,
        "runner_environment": "github-hosted",
        "run_id": "9228858953",
        "run_attempt": "1",
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

/// `tests/sigstore-mock/mock-server.js` on a free 127.0.0.1 port; killed on drop.
struct Mock {
    child: Child,
    url: String,
}

impl Mock {
    fn start(trusted_root: &Path) -> Result<Self, String> {
        if !mock_dir().join("node_modules/@sigstore/mock").is_dir() {
            return Err(
                "tests/sigstore-mock/node_modules is missing: run scripts/setup-test-tools.sh"
                    .into(),
            );
        }
        let mut child = Command::new("node")
            .arg(mock_dir().join("mock-server.js"))
            .arg("0")
            .arg(trusted_root)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting node: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining (the mock logs every request) so it never blocks on a full pipe.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line.strip_prefix("READY ") {
                    let _ = tx.send(port.trim().to_string());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(port) => Ok(Self {
                child,
                url: format!("http://127.0.0.1:{port}"),
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                Err("the Sigstore mock did not report READY within 60 s".into())
            }
        }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write(path: &Path, data: &[u8]) -> Result<(), String> {
    std::fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))
}

fn pairs(root: &Path) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    let list = std::fs::read_to_string(root.join("list.tsv")).map_err(|e| format!("list: {e}"))?;
    Ok(list
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(b, a)| (PathBuf::from(b), PathBuf::from(a)))
        .collect())
}

fn case_of(root: &Path) -> Result<Case, String> {
    let about: Value = std::fs::read(root.join("workload.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("no readable workload.json")?;
    about["case"]
        .as_str()
        .and_then(Case::parse)
        .ok_or_else(|| format!("workload.json names no case: {about}"))
}

// ---------------------------------------------------------------------------------------------
// Ours: the library in a child process

/// Child mode: verify every bundle in `root/list.tsv`, print `verified failed seconds vm_hwm`.
fn verify_child(root: &Path, single_thread: bool) {
    let case = case_of(root).expect("workload");
    let pairs = pairs(root).expect("list.tsv");
    let key = match case {
        Case::Key => {
            let pem = std::fs::read_to_string(root.join("key.pub")).expect("key.pub");
            Some(sigstore_types::DerPublicKey::from_pem(&pem).expect("public key"))
        }
        Case::Keyless => None,
    };
    let started = Instant::now();
    // Part of the timed work, as it is of the binary's: the trusted root, once.
    let anchor = match case {
        Case::Key => TrustAnchor::embedded(sigstore_trust_root::SigstoreInstance::PublicGood),
        Case::Keyless => TrustAnchor::from_file(&root.join("trusted_root.json")),
    }
    .expect("trusted root");
    let (expected, policy) = match &key {
        Some(key) => (Expected::PublicKey(key), LogPolicy::TimestampsSuffice),
        None => (
            Expected::Identity {
                identity: IDENTITY,
                issuer: ISSUER,
            },
            LogPolicy::RequireTransparencyLog,
        ),
    };
    let one = |(bundle, artifact): &(PathBuf, PathBuf)| -> bool {
        let (Ok(json), Ok(data)) = (std::fs::read_to_string(bundle), std::fs::read(artifact))
        else {
            return false;
        };
        verify_bundle(&json, &expected, Binding::Artifact(&data), policy, &anchor).is_ok()
    };
    let ok = if single_thread {
        pairs.iter().filter(|p| one(p)).count()
    } else {
        pairs.par_iter().filter(|p| one(p)).count()
    };
    let seconds = started.elapsed().as_secs_f64();
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    println!("{ok} {} {seconds} {hwm}", pairs.len() - ok);
}

fn library_child(root: &Path, single_thread: bool) -> Result<Measure, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(me);
    cmd.arg("--verify-child").arg(root);
    if single_thread {
        cmd.arg("--single-thread");
    }
    let out = cmd.output().map_err(|e| format!("child: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    let num = |i: usize| -> Result<f64, String> {
        f.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| format!("child printed {text:?}"))
    };
    Ok(Measure {
        verified: num(0)? as usize,
        failed: num(1)? as usize,
        seconds: num(2)?,
        peak_rss_kib: Some(num(3)? as u64).filter(|k| *k > 0),
    })
}

// ---------------------------------------------------------------------------------------------
// Ours: one invocation of the binary

/// Files a run of the binary leaves in the workload folder, removed before the next.
const RUN_OUTPUTS: [&str; 5] = [
    "github_output",
    "summary.md",
    "validate-report.json",
    "time.txt",
    "docs",
];

/// The one invocation of our binary that validates every artifact against its bundle, offline,
/// with the inputs a user gives (`src/inputs/validate.rs`): `rekor-url: offline` keeps it off
/// the network; keyless names the trusted root, the signer's identity and OIDC issuer; key
/// names the public key. Both name the source repository and the builder.
fn binary_command(case: Case, binary: &Path, root: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.current_dir(root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITHUB_WORKSPACE", root)
        .env("GITHUB_REPOSITORY", "octo/app")
        .env("GITHUB_OUTPUT", root.join("github_output"))
        .env("GITHUB_STEP_SUMMARY", root.join("summary.md"))
        .args(["validate", "--subject-path", "artifacts/*"])
        .args(["--provenance-path", "bundles/*.sigstore.json"]);
    match case {
        Case::Keyless => cmd
            .args(["--trusted-root", "trusted_root.json"])
            .args(["--certificate-identity", IDENTITY])
            .args(["--certificate-oidc-issuer", ISSUER]),
        Case::Key => cmd.args(["--public-key", "key.pub"]),
    };
    cmd.args(["--source-repository", "octo/app"])
        .args(["--rekor-url", "offline"])
        .args(["--expected-builder-id", BUILDER_ID])
        .args(["--result-path", "validate-report.json"]);
    cmd
}

fn binary(case: Case, root: &Path, expected: usize) -> Result<Measure, String> {
    for name in RUN_OUTPUTS {
        let p = root.join(name);
        let _ = std::fs::remove_file(&p).or_else(|_| std::fs::remove_dir_all(&p));
    }
    // Cargo builds the package's binary for its benches, with the bench profile.
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_slsa-provenance-action"));
    let inner = binary_command(case, &binary, root);
    // `/usr/bin/time -f '%e %M'` gives wall seconds and peak RSS (KiB) of exactly that process.
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "%e %M", "-o"])
        .arg(root.join("time.txt"))
        .arg(inner.get_program())
        .args(inner.get_args())
        .current_dir(root)
        .env_clear()
        .envs(inner.get_envs().filter_map(|(k, v)| Some((k, v?))));
    let started = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("/usr/bin/time: {e} (apt-get install time)"))?;
    let wall = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "the binary failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let time = std::fs::read_to_string(root.join("time.txt")).unwrap_or_default();
    let rss = time
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse::<u64>().ok());
    // What the binary says it verified, from its JSON report (not assumed).
    let report: Value = std::fs::read(root.join("validate-report.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the binary wrote no readable validate-report.json")?;
    let verified = report["subjects_verified"].as_u64().unwrap_or(0) as usize;
    let total = report["subjects_total"].as_u64().unwrap_or(0) as usize;
    if total != expected {
        return Err(format!(
            "the binary saw {total} artifacts, expected {expected}"
        ));
    }
    Ok(Measure {
        verified,
        failed: total - verified,
        seconds: wall,
        peak_rss_kib: rss,
    })
}

// ---------------------------------------------------------------------------------------------
// The reference: @sigstore/verify in one warm Node process

fn node_side(case: Case, root: &Path, plan: &Plan) -> Result<Measure, String> {
    let mock = mock_dir();
    if !mock.join("node_modules/@sigstore/verify").is_dir() {
        return Err(
            "tests/sigstore-mock/node_modules is missing: run scripts/setup-test-tools.sh".into(),
        );
    }
    best(plan.runs, || {
        let mut cmd = Command::new("node");
        cmd.arg(mock.join("bench-verify.js"))
            .arg(root.join("list.tsv"))
            .current_dir(&mock);
        match case {
            Case::Keyless => cmd
                .arg("keyless")
                .arg(root.join("trusted_root.json"))
                .args([IDENTITY, ISSUER]),
            Case::Key => cmd.arg("key").arg(root.join("key.pub")),
        };
        let out = cmd.output().map_err(|e| format!("node: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "node failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let v: Value =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("node printed: {e}"))?;
        let n = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        if n("failed") > 0.0 || n("verified") as usize != plan.bundles {
            return Err(format!(
                "@sigstore/verify verified {} and rejected {} bundles: {}",
                n("verified"),
                n("failed"),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(Measure {
            verified: n("verified") as usize,
            failed: 0,
            seconds: n("seconds"),
            peak_rss_kib: Some(n("max_rss_kib") as u64),
        })
    })
}
