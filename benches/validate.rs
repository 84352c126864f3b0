//! Validation benchmark: 1,000 artifacts and their 1,000 key-signed Sigstore bundles, verified
//! offline by us and, in the same run, by sigstore-js's `@sigstore/verify` in one warm Node
//! process (`tests/sigstore-mock/bench-verify.js`); bundles/s for both, the ratio, peak memory.
//!
//! Run: `cargo bench --bench validate` (1,000 bundles, best of 3) or
//! `cargo bench --bench validate -- --quick` (100 bundles, one run). Node's side needs
//! `scripts/setup-test-tools.sh` (it installs `@sigstore/verify` under tests/sigstore-mock/);
//! without it only our figures are printed.
//!
//! What "ours" runs, chosen by `--ours`:
//! - `binary` (default): ONE invocation of the binary cargo built for this bench (bench
//!   profile), `slsa-provenance-action validate` over the same files, offline
//!   ([`binary_command`]), timed and measured with `/usr/bin/time`: the product as a user runs it.
//! - `library`: a child process of this bench (`--verify-child`) verifies every bundle with
//!   `adapters::sigstore::verify_bundle`, the verifier the mode uses, binding each to its
//!   artifact's bytes; with all cores (rayon), and once more on one thread for an honest
//!   per-core figure.
//!
//! Both sides read every bundle and artifact from disk, verify the DSSE signature with the
//! public key and require the artifact's SHA-256 among the statement's subjects. Peak memory
//! is each process's high-water mark (our child's `VmHWM`; Node's `resourceUsage().maxRSS`).

// A benchmark's job is to print its table.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rayon::prelude::*;
use serde_json::json;
use sha2::{Digest, Sha256};
use slsa_provenance_action::adapters::sigstore::{
    sign_with_key, verify_bundle, Binding, Expected, SigningKey, TrustAnchor,
};
use slsa_provenance_action::domain::signing::LogPolicy;
use slsa_provenance_action::secret::Secret;

/// The builder id every bench statement records (and the binary is told to expect).
const BUILDER_ID: &str =
    "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1.0.0";

/// The target: at least 10x `@sigstore/verify`'s throughput.
const TARGET_RATIO: f64 = 10.0;

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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--verify-child") {
        let dir = args.get(i + 1).expect("--verify-child DIR");
        let single = args.iter().any(|a| a == "--single-thread");
        verify_child(Path::new(dir), single);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let ours = match args.iter().position(|a| a == "--ours") {
        Some(i) => args.get(i + 1).map(String::as_str).unwrap_or(""),
        None => "binary",
    };
    let plan = if quick { QUICK } else { FULL };
    if let Err(e) = run(&plan, quick, ours) {
        eprintln!("validate bench failed: {e}");
        std::process::exit(1);
    }
}

fn run(plan: &Plan, quick: bool, ours: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let root = dir.path();
    println!(
        "validate bench ({}): {} bundles, {} threads, ours = {ours}, temp dir {}",
        if quick { "quick" } else { "full" },
        plan.bundles,
        rayon::current_num_threads(),
        root.display()
    );
    let started = Instant::now();
    generate(root, plan)?;
    println!(
        "generated {} artifacts + key-signed bundles in {:.2} s",
        plan.bundles,
        started.elapsed().as_secs_f64()
    );

    let mut rows: Vec<(String, Measure)> = Vec::new();
    match ours {
        "library" => {
            rows.push((
                "ours: verify_bundle, all cores".into(),
                best(plan.runs, || library_child(root, false))?,
            ));
            rows.push((
                "ours: verify_bundle, one thread".into(),
                best(plan.runs, || library_child(root, true))?,
            ));
        }
        "binary" => rows.push((
            "ours: `slsa-provenance-action validate`, one invocation".into(),
            best(plan.runs, || binary(root, plan.bundles))?,
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
    let node = match node_side(root, plan) {
        Ok(m) => Some(m),
        Err(e) => {
            println!("@sigstore/verify: SKIPPED ({e})");
            None
        }
    };

    println!();
    println!("| verifier | bundles | best s | bundles/s | peak RSS | vs @sigstore/verify |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let rss = |m: &Measure| {
        m.peak_rss_kib
            .map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
            .unwrap_or_else(|| "n/a".into())
    };
    for (name, m) in &rows {
        let ratio = node
            .as_ref()
            .map(|n| {
                let r = m.per_second() / n.per_second();
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
    if let Some(n) = &node {
        println!(
            "| `@sigstore/verify` (one warm Node process) | {} | {:.3} | {:.0} | {} | 1.0x |",
            n.verified,
            n.seconds,
            n.per_second(),
            rss(n)
        );
    }
    Ok(())
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

/// `artifacts/a<i>.bin`, `bundles/a<i>.bin.sigstore.json`, `key.pem`, `key.pub` and `list.tsv`
/// (`bundle<TAB>artifact` per line).
fn generate(root: &Path, plan: &Plan) -> Result<(), String> {
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
    std::fs::create_dir_all(root.join("artifacts")).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(root.join("bundles")).map_err(|e| e.to_string())?;
    let list: Vec<String> = (0..plan.bundles)
        .into_par_iter()
        .map(|i| -> Result<String, String> {
            let name = format!("a{i:04}.bin");
            let mut data = vec![0u8; plan.artifact_bytes];
            rand::fill(&mut data[..]);
            let artifact = root.join("artifacts").join(&name);
            write(&artifact, &data)?;
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
            let signed = sign_with_key(&key, &bytes).map_err(|e| e.to_string())?;
            let bundle = root.join("bundles").join(format!("{name}.sigstore.json"));
            write(&bundle, &signed.json)?;
            Ok(format!("{}\t{}", bundle.display(), artifact.display()))
        })
        .collect::<Result<_, _>>()?;
    write(&root.join("list.tsv"), (list.join("\n") + "\n").as_bytes())
}

fn write(path: &Path, data: &[u8]) -> Result<(), String> {
    std::fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))
}

fn pairs(root: &Path) -> Vec<(PathBuf, PathBuf)> {
    let list = std::fs::read_to_string(root.join("list.tsv")).expect("list.tsv");
    list.lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(b, a)| (PathBuf::from(b), PathBuf::from(a)))
        .collect()
}

/// Child mode: verify every bundle in `root/list.tsv`, print `verified failed seconds vm_hwm`.
fn verify_child(root: &Path, single_thread: bool) {
    let pem = std::fs::read_to_string(root.join("key.pub")).expect("key.pub");
    let der = sigstore_types::DerPublicKey::from_pem(&pem).expect("public key");
    let anchor = TrustAnchor::embedded(sigstore_trust_root::SigstoreInstance::PublicGood)
        .expect("embedded root");
    let pairs = pairs(root);
    let one = |(bundle, artifact): &(PathBuf, PathBuf)| -> bool {
        let (Ok(json), Ok(data)) = (std::fs::read_to_string(bundle), std::fs::read(artifact))
        else {
            return false;
        };
        verify_bundle(
            &json,
            &Expected::PublicKey(&der),
            Binding::Artifact(&data),
            LogPolicy::TimestampsSuffice,
            &anchor,
        )
        .is_ok()
    };
    let started = Instant::now();
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

/// The one invocation of our binary that validates every artifact against its bundle, offline.
/// Input names are those `src/inputs/validate.rs` reads; `rekor-url: offline` keeps it off the
/// network, `expected-builder-id` names the builder (a key has no signing workflow to match).
fn binary_command(binary: &Path, root: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.current_dir(root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITHUB_WORKSPACE", root)
        .env("GITHUB_REPOSITORY", "octo/app")
        .env("GITHUB_OUTPUT", root.join("github_output"))
        .env("GITHUB_STEP_SUMMARY", root.join("summary.md"))
        .args(["validate", "--subject-path", "artifacts/*"])
        .args(["--provenance-path", "bundles/*.sigstore.json"])
        .args(["--public-key", "key.pub"])
        .args(["--source-repository", "octo/app"])
        .args(["--rekor-url", "offline"])
        .args(["--expected-builder-id", BUILDER_ID])
        .args(["--result-path", "validate-report.json"]);
    cmd
}

fn binary(root: &Path, expected: usize) -> Result<Measure, String> {
    // Cargo builds the package's binary for its benches, with the bench profile.
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_slsa-provenance-action"));
    let inner = binary_command(&binary, root);
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
    let report: serde_json::Value = std::fs::read(root.join("validate-report.json"))
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

fn node_side(root: &Path, plan: &Plan) -> Result<Measure, String> {
    let mock = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sigstore-mock");
    if !mock.join("node_modules/@sigstore/verify").is_dir() {
        return Err(
            "tests/sigstore-mock/node_modules is missing: run scripts/setup-test-tools.sh".into(),
        );
    }
    best(plan.runs, || {
        let out = Command::new("node")
            .arg(mock.join("bench-verify.js"))
            .arg(root.join("list.tsv"))
            .arg(root.join("key.pub"))
            .current_dir(&mock)
            .output()
            .map_err(|e| format!("node: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "node failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("node printed: {e}"))?;
        let n = |k: &str| v.get(k).and_then(serde_json::Value::as_f64).unwrap_or(0.0);
        if n("failed") > 0.0 {
            return Err(format!(
                "@sigstore/verify rejected {} bundles: {}",
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
