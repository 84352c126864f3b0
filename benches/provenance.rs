//! End-to-end provenance benchmark: the REAL binary (the one cargo builds for this bench, bench
//! profile) producing key-signed provenance with `audit-store: workspace` and no token
//! (publishing skipped, no network), timed beside the pure hashing of the same files.
//!
//! Run: `cargo bench --bench provenance` (2,000 x 512 KiB subjects, then one 1 GiB file, best
//! of 3; 200 push-guard start-ups) or `cargo bench --bench provenance -- --quick` (200 x 64 KiB,
//! one 64 MiB file, best of 2; 50 start-ups). Needs GNU time (`/usr/bin/time`) for peak RSS.
//!
//! Cases (one `BENCH-RESULT` line each, `common/bench_result.rs`):
//! - `e2e`: one whole `provenance` run (start-up, listing, hashing, statement, signing and its
//!   self-verification, the run folder, log and sealed manifest written atomically) against
//!   the reference: a fresh process of this bench (`--hash-child WS`) hashing the same files
//!   with the same code the binary uses (`adapters::files::hash_files`, rayon on every core).
//!   That is the honest floor: `sha256sum` runs about 10x slower than our hashing on many files
//!   (see the hashing bench), so a ratio to it would hide any overhead we add. Here the ratio is
//!   ours_s / reference_s and the target is under 1.2x. Both sides read the same files, which
//!   stay in the page cache (the runs are interleaved, best of N); `extra` holds the run's
//!   variants (`sign: none` / `audit-store: none`) so a miss shows where the time goes.
//! - `startup`: N invocations of the binary on a push event (it stops at the push guard, writing
//!   two outputs) against N of `/bin/true`: the per-invocation time, the overhead, the ratio.
//! - `api requests`: a publishing run (attestation, release asset, notes, `audit-store: commit`)
//!   against a recording fake GitHub on 127.0.0.1 (`common/fake_github.rs`), then its re-run
//!   (attempt 2: the asset is replaced, the day folder exists): the requests by kind.
//!
//! Test data is generated once into `$CARGO_TARGET_DIR/bench-data/provenance-{full,quick}/`
//! (random bytes, each 1 MiB block stamped so no two are alike) and reused by later runs; the
//! folders are the runs' workspaces (their `docs/` is removed before each run), so two
//! instances of this bench must not run at once.

// A benchmark's job is to print its table.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rand::Rng;
use slsa_provenance_action::adapters::files::hash_files;

#[path = "common/bench_result.rs"]
mod bench_result;
#[path = "common/fake_github.rs"]
mod fake_github;
use bench_result::BenchResult;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// The target: a whole run within 1.2x of hashing its subjects.
const TARGET_E2E: f64 = 1.2;
const TAG: &str = "v1.0.0";
const SHA: &str = "95baf27389e83e6a5c48f42e190d48d7abcea19e";
const TOKEN: &str = "ghs_benchFakeToken0123456789";
/// Bump when the generated data changes shape, so old caches are regenerated.
const DATA_VERSION: u32 = 1;

struct Plan {
    name: &'static str,
    many: usize,
    each: u64,
    big: u64,
    runs: usize,
    startups: usize,
}

const FULL: Plan = Plan {
    name: "full",
    many: 2_000,
    each: 512 * KIB,
    big: GIB,
    runs: 3,
    startups: 200,
};

const QUICK: Plan = Plan {
    name: "quick",
    many: 200,
    each: 64 * KIB,
    big: 64 * MIB,
    runs: 2,
    startups: 50,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--hash-child") {
        let ws = args.get(i + 1).expect("--hash-child WORKSPACE");
        hash_child(Path::new(ws));
        return;
    }
    let plan = if args.iter().any(|a| a == "--quick") {
        QUICK
    } else {
        FULL
    };
    if let Err(e) = run(&plan) {
        eprintln!("provenance bench failed: {e}");
        std::process::exit(1);
    }
}

fn run(plan: &Plan) -> Result<(), String> {
    let data = data_dir(plan)?;
    println!(
        "provenance bench ({}): binary {}, {} threads, data {}",
        plan.name,
        bin().display(),
        rayon::current_num_threads(),
        data.display()
    );
    let scratch = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let key = signing_key();
    let mut results = Vec::new();

    // 1. The subjects, generated once per plan and reused.
    let many = prepare(&data.join("many"), plan.many, plan.each)?;
    let big = prepare(&data.join("big"), 1, plan.big)?;

    // 2. End to end, beside the pure hashing of the same files.
    let many_case = format!("e2e {} subjects x {}", plan.many, human(plan.each));
    results.push(end_to_end(plan, &many, scratch.path(), &key, &many_case)?);
    let big_case = format!("e2e 1 subject x {}", human(plan.big));
    results.push(end_to_end(plan, &big, scratch.path(), &key, &big_case)?);

    // 3. Start-up to the push guard's skip.
    results.push(startup(plan, scratch.path())?);

    // 4. GitHub API requests of a publishing run and its re-run.
    results.extend(api_requests(scratch.path(), &key)?);

    println!();
    bench_result::print_all(&results);
    Ok(())
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_slsa-provenance-action"))
}

/// `$CARGO_TARGET_DIR/bench-data/provenance-<plan>/`: the target folder from the environment,
/// else from this bench's own path (`<target>/release/deps/provenance-<hash>`).
fn data_dir(plan: &Plan) -> Result<PathBuf, String> {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
            exe.ancestors()
                .nth(3)
                .map(Path::to_path_buf)
                .ok_or_else(|| format!("no target folder above {}", exe.display()))?
        }
    };
    let dir = target
        .join("bench-data")
        .join(format!("provenance-{}", plan.name));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// A workspace `ws` holding `count` files of `each` bytes under `dist/`; generated unless a
/// previous run left exactly those (its stamp and every file's size agree).
fn prepare(ws: &Path, count: usize, each: u64) -> Result<PathBuf, String> {
    let stamp = ws.join(".bench-data");
    let want = format!("v{DATA_VERSION} {count} x {each}\n");
    let names: Vec<PathBuf> = (0..count)
        .map(|i| ws.join("dist").join(format!("app-{i:05}.bin")))
        .collect();
    let intact = std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str())
        && names
            .iter()
            .all(|p| std::fs::metadata(p).is_ok_and(|m| m.len() == each));
    if intact {
        println!("reusing {count} x {} in {}", human(each), ws.display());
        return Ok(ws.to_path_buf());
    }
    let t = Instant::now();
    let _ = std::fs::remove_file(&stamp);
    let _ = std::fs::remove_dir_all(ws.join("dist"));
    std::fs::create_dir_all(ws.join("dist")).map_err(|e| format!("{}: {e}", ws.display()))?;
    for (i, p) in names.iter().enumerate() {
        generate(p, each, i as u64)?;
    }
    std::fs::write(&stamp, want).map_err(|e| format!("{}: {e}", stamp.display()))?;
    println!(
        "generated {count} x {} in {} ({:.1} s)",
        human(each),
        ws.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(ws.to_path_buf())
}

/// `len` bytes of pseudo-random content: one random 1 MiB block, each copy stamped with the
/// seed and its index so no two blocks (or files) are alike.
fn generate(path: &Path, len: u64, seed: u64) -> Result<(), String> {
    let mut block = vec![0u8; MIB as usize];
    rand::rng().fill_bytes(&mut block);
    let f = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut w = std::io::BufWriter::with_capacity(MIB as usize, f);
    let mut left = len;
    let mut i = 0u64;
    while left > 0 {
        block[..8].copy_from_slice(&seed.to_le_bytes());
        block[8..16].copy_from_slice(&i.to_le_bytes());
        let n = left.min(MIB) as usize;
        w.write_all(&block[..n]).map_err(|e| e.to_string())?;
        left -= n as u64;
        i += 1;
    }
    w.flush().map_err(|e| e.to_string())
}

/// A throwaway P-256 key, PKCS#8 PEM, as `signing-key` takes it.
fn signing_key() -> String {
    let secret = loop {
        if let Ok(k) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
            break k;
        }
    };
    secret
        .to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .unwrap_or_default()
}

/// The runner's files for one invocation, in `scratch`.
struct RunnerFiles {
    output: PathBuf,
    summary: PathBuf,
    event: PathBuf,
    home: PathBuf,
}

impl RunnerFiles {
    fn new(scratch: &Path) -> Result<Self, String> {
        let files = Self {
            output: scratch.join("output.txt"),
            summary: scratch.join("summary.md"),
            event: scratch.join("event.json"),
            home: scratch.join("home"),
        };
        let event = serde_json::json!({"action": "published", "release": {"tag_name": TAG, "draft": false}});
        std::fs::write(&files.event, event.to_string()).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&files.home).map_err(|e| e.to_string())?;
        files.reset()?;
        Ok(files)
    }

    /// Empty output and summary files, as the runner hands each step.
    fn reset(&self) -> Result<(), String> {
        std::fs::write(&self.output, "").map_err(|e| e.to_string())?;
        std::fs::write(&self.summary, "").map_err(|e| e.to_string())
    }

    /// The outputs the last invocation set (`name=value` and `name<<DELIM` blocks).
    fn outputs(&self) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(&self.output).unwrap_or_default();
        let mut out = BTreeMap::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if let Some((name, delim)) = line.split_once("<<") {
                let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
                out.insert(name.to_string(), value.join("\n"));
            } else if let Some((name, value)) = line.split_once('=') {
                out.insert(name.to_string(), value.to_string());
            }
        }
        out
    }
}

/// The binary as the runner starts it for a release of [`TAG`] in workspace `ws`: a scrubbed
/// environment with the `GITHUB_*` context and the given `INPUT_*`s.
fn action(ws: &Path, rf: &RunnerFiles, inputs: &[(&str, &str)]) -> Command {
    let mut c = Command::new(bin());
    c.env_clear()
        .current_dir(ws)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &rf.home)
        .env("RUNNER_TEMP", &rf.home)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", ws)
        .env("GITHUB_OUTPUT", &rf.output)
        .env("GITHUB_STEP_SUMMARY", &rf.summary)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "octo/app")
        .env("GITHUB_REPOSITORY_ID", "804070735")
        .env("GITHUB_REPOSITORY_OWNER_ID", "16248153")
        .env("GITHUB_RUN_ID", "9228858953")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env("GITHUB_ACTOR", "octocat")
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_REF", format!("refs/tags/{TAG}"))
        .env("GITHUB_REF_NAME", TAG)
        .env("GITHUB_REF_TYPE", "tag")
        .env(
            "GITHUB_WORKFLOW_REF",
            format!("octo/app/.github/workflows/release.yml@refs/tags/{TAG}"),
        )
        .env("GITHUB_EVENT_NAME", "release")
        .env("GITHUB_EVENT_PATH", &rf.event)
        .env("RUNNER_ENVIRONMENT", "github-hosted");
    for (name, value) in inputs {
        c.env(format!("INPUT_{}", name.to_uppercase()), value);
    }
    c
}

/// Run `cmd` under GNU time (`/usr/bin/time -f %M`): wall time, peak RSS in KiB, and its
/// output. A failed run is an error carrying the end of its log.
fn timed(cmd: &Command, what: &str) -> Result<(Duration, u64, Output), String> {
    let rss_file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(rss_file.path())
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null());
    // A command given its own environment gets only that (the action's are scrubbed).
    let envs: Vec<_> = cmd.get_envs().collect();
    if !envs.is_empty() {
        wrapped.env_clear();
        for (k, v) in envs {
            if let Some(v) = v {
                wrapped.env(k, v);
            }
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    let started = Instant::now();
    let out = wrapped
        .output()
        .map_err(|e| format!("{what}: cannot run /usr/bin/time (install GNU time): {e}"))?;
    let took = started.elapsed();
    if !out.status.success() {
        let log = String::from_utf8_lossy(&out.stdout);
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        return Err(format!(
            "{what} failed ({}):\n{}\n{}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let rss = std::fs::read_to_string(rss_file.path())
        .map_err(|e| e.to_string())?
        .lines()
        .rev()
        .find_map(|l| l.trim().parse::<u64>().ok())
        .ok_or_else(|| format!("{what}: GNU time printed no peak RSS"))?;
    Ok((took, rss, out))
}

/// The reference child: hash every file under `WS/dist` with the action's own hashing, on every
/// core, and print `digest  name` lines (what `sha256sum` prints).
fn hash_child(ws: &Path) {
    let mut rels: Vec<String> = std::fs::read_dir(ws.join("dist"))
        .expect("dist")
        .filter_map(|e| e.ok())
        .map(|e| format!("dist/{}", e.file_name().to_string_lossy()))
        .collect();
    rels.sort();
    let digests = hash_files(ws, &rels, 1e9, &|_| {}).expect("hash");
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (d, r) in digests.iter().zip(&rels) {
        let _ = writeln!(out, "{d}  {r}");
    }
}

/// Best (wall time) of one measured side, and the largest peak RSS seen.
#[derive(Debug, Clone, Copy, Default)]
struct Best {
    secs: Option<f64>,
    rss_kib: u64,
}

impl Best {
    fn add(&mut self, took: Duration, rss: u64) {
        let s = took.as_secs_f64();
        self.secs = Some(self.secs.map_or(s, |b| b.min(s)));
        self.rss_kib = self.rss_kib.max(rss);
    }

    fn secs(&self) -> f64 {
        self.secs.unwrap_or(f64::NAN)
    }
}

/// The ways the run is timed: the product's configuration first, then two variants that
/// leave a part out, so the difference shows what that part costs.
const VARIANTS: [(&str, &str, &str); 3] = [
    ("sign: key, audit-store: workspace", "key", "workspace"),
    ("sign: key, audit-store: none", "key", "none"),
    ("sign: none, audit-store: none", "none", "none"),
];

fn end_to_end(
    plan: &Plan,
    ws: &Path,
    scratch: &Path,
    key: &str,
    case: &str,
) -> Result<BenchResult, String> {
    let rf = RunnerFiles::new(scratch)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut reference_cmd = Command::new(exe);
    reference_cmd.arg("--hash-child").arg(ws);
    let run_cmd = |sign: &str, store: &str| {
        action(
            ws,
            &rf,
            &[
                ("subject-path", "dist/*"),
                ("sign", sign),
                ("signing-key", key),
                ("audit-store", store),
            ],
        )
    };
    let mut reference = Best::default();
    let mut ours = [Best::default(); VARIANTS.len()];
    // Untimed warm-up of both sides: the files come into the page cache once for both.
    timed(&reference_cmd, "hash child")?;
    let mut reference_digests = String::new();
    for round in 0..plan.runs {
        // The reference runs first in even rounds and last in odd ones, so neither side
        // profits from its place.
        if round % 2 == 0 {
            reference_digests = hash_once(&reference_cmd, &mut reference)?;
        }
        for (i, (_, sign, store)) in VARIANTS.iter().enumerate() {
            clean(ws)?;
            rf.reset()?;
            let (took, rss, _) = timed(&run_cmd(sign, store), "provenance run")?;
            ours[i].add(took, rss);
            if round == 0 && i == 0 {
                check_run(ws, &rf, &reference_digests)?;
            }
        }
        if round % 2 == 1 {
            hash_once(&reference_cmd, &mut reference)?;
        }
    }
    clean(ws)?;

    let ratio = ours[0].secs() / reference.secs();
    println!();
    println!("{case} (best of {}):", plan.runs);
    println!(
        "  {:<56} {:>8.3} s  peak RSS {:>7.1} MiB",
        "reference: hash_files in a fresh process",
        reference.secs(),
        reference.rss_kib as f64 / 1024.0
    );
    for ((name, _, _), b) in VARIANTS.iter().zip(&ours) {
        println!(
            "  {:<56} {:>8.3} s  peak RSS {:>7.1} MiB  {:.3}x hashing",
            format!("provenance run, {name}"),
            b.secs(),
            b.rss_kib as f64 / 1024.0,
            b.secs() / reference.secs()
        );
    }
    println!(
        "  target: run < {TARGET_E2E:.1}x hashing: {ratio:.3}x ({})",
        if ratio < TARGET_E2E { "met" } else { "MISSED" }
    );
    let variants: serde_json::Map<String, serde_json::Value> = VARIANTS
        .iter()
        .zip(&ours)
        .map(|((name, _, _), b)| (name.to_string(), serde_json::json!(b.secs())))
        .collect();
    Ok(BenchResult {
        bench: "provenance".into(),
        case: case.into(),
        ours_s: ours[0].secs(),
        reference: "hash_files, same files, fresh process".into(),
        reference_s: Some(reference.secs()),
        ratio: Some(ratio),
        target: format!("< {TARGET_E2E:.1}x (ratio = ours_s / reference_s)"),
        met: Some(ratio < TARGET_E2E),
        ours_peak_rss_kib: Some(ours[0].rss_kib),
        reference_peak_rss_kib: Some(reference.rss_kib),
        extra: serde_json::json!({
            "runs": plan.runs,
            "threads": rayon::current_num_threads(),
            "variants_s": variants,
        }),
    })
}

/// One timed run of the reference; its `digest  name` lines.
fn hash_once(cmd: &Command, best: &mut Best) -> Result<String, String> {
    let (took, rss, out) = timed(cmd, "hash child")?;
    best.add(took, rss);
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Remove what a previous run wrote into the workspace, so each run starts on a fresh day.
fn clean(ws: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(ws.join("docs")) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cleaning {}: {e}", ws.display())),
    }
}

/// The measured run did the whole job: a signed statement whose subjects are exactly the
/// reference's digests (or the comparison means nothing), a bundle, a manifest.
fn check_run(ws: &Path, rf: &RunnerFiles, reference: &str) -> Result<(), String> {
    let outputs = rf.outputs();
    let get = |name: &str| {
        outputs
            .get(name)
            .ok_or_else(|| format!("the run set no '{name}' output: {outputs:?}"))
    };
    let statement: serde_json::Value = serde_json::from_slice(
        &std::fs::read(ws.join(get("provenance-path")?)).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("provenance.json: {e}"))?;
    let mut ours: Vec<(String, String)> = statement["subject"]
        .as_array()
        .ok_or("the statement has no subject list")?
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default().to_string(),
                s["digest"]["sha256"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let mut theirs: Vec<(String, String)> = reference
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(d, p)| (p.trim_start_matches("dist/").to_string(), d.to_string()))
        .collect();
    ours.sort();
    theirs.sort();
    if ours.is_empty() || ours != theirs {
        return Err(format!(
            "the statement's {} subjects differ from the reference's {} digests",
            ours.len(),
            theirs.len()
        ));
    }
    for name in ["bundle-path", "manifest-path"] {
        let path = ws.join(get(name)?);
        if !path.is_file() {
            return Err(format!("{name} {} was not written", path.display()));
        }
    }
    Ok(())
}

/// N push-event invocations (the push guard's skip) against N of `/bin/true`.
fn startup(plan: &Plan, scratch: &Path) -> Result<BenchResult, String> {
    let ws = scratch.join("push-ws");
    std::fs::create_dir_all(&ws).map_err(|e| e.to_string())?;
    let rf = RunnerFiles::new(scratch)?;
    let mut ours_cmd = action(&ws, &rf, &[]);
    ours_cmd.env("GITHUB_EVENT_NAME", "push");
    let truth = Command::new("/bin/true");

    // The binary really stops at the guard (and nothing else): its two outputs.
    let (_, ours_rss, _) = timed(&ours_cmd, "push-event run")?;
    let outputs = rf.outputs();
    if outputs.get("skip-reason").map(String::as_str) != Some("push-event") {
        return Err(format!("the push event was not skipped: {outputs:?}"));
    }
    let (_, true_rss, _) = timed(&truth, "/bin/true")?;

    let n = plan.startups;
    let batch = |cmd: &mut Command| -> Result<Duration, String> {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let t = Instant::now();
        for _ in 0..n {
            let status = cmd.status().map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("{:?} failed: {status}", cmd.get_program()));
            }
        }
        Ok(t.elapsed())
    };
    let mut ours_cmd = ours_cmd;
    let mut truth = truth;
    let mut ours = Duration::MAX;
    let mut reference = Duration::MAX;
    for _ in 0..plan.runs {
        rf.reset()?;
        ours = ours.min(batch(&mut ours_cmd)?);
        reference = reference.min(batch(&mut truth)?);
    }
    let per = |d: Duration| d.as_secs_f64() / n as f64;
    let (o, r) = (per(ours), per(reference));
    println!();
    println!(
        "start-up to the push guard's skip, {n} invocations (best of {}):",
        plan.runs
    );
    println!(
        "  {:<40} {:>8.2} ms each  peak RSS {:>6.1} MiB",
        "slsa-provenance-action (push event)",
        o * 1e3,
        ours_rss as f64 / 1024.0
    );
    println!(
        "  {:<40} {:>8.2} ms each  peak RSS {:>6.1} MiB",
        "/bin/true",
        r * 1e3,
        true_rss as f64 / 1024.0
    );
    println!(
        "  overhead {:.2} ms per invocation ({:.1}x /bin/true)",
        (o - r) * 1e3,
        o / r
    );
    Ok(BenchResult {
        bench: "provenance".into(),
        case: "start-up to the push-guard skip (per invocation)".into(),
        ours_s: o,
        reference: "/bin/true".into(),
        reference_s: Some(r),
        ratio: Some(o / r),
        target: "none (ratio = ours_s / reference_s)".into(),
        met: None,
        ours_peak_rss_kib: Some(ours_rss),
        reference_peak_rss_kib: Some(true_rss),
        extra: serde_json::json!({
            "invocations": n,
            "overhead_ms": (o - r) * 1e3,
        }),
    })
}

/// The five kinds of call, from the fake's finer kinds.
fn group(kind: &str) -> &'static str {
    match kind {
        "release lookup" => "release lookup",
        "asset list" | "asset upload" | "asset rename" | "asset delete" => "asset upload",
        "attestation" => "attestation",
        "release re-read (notes)" | "release notes update" => "notes",
        k if k.starts_with("audit commit") => "audit commit",
        _ => "other",
    }
}

/// A publishing run against the recording fake, then its re-run: requests by kind.
fn api_requests(scratch: &Path, key: &str) -> Result<Vec<BenchResult>, String> {
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let fake = rt.block_on(fake_github::FakeGitHub::start(TAG));
    let ws = scratch.join("api-ws");
    std::fs::create_dir_all(ws.join("dist")).map_err(|e| e.to_string())?;
    std::fs::write(ws.join("dist/app.tar.gz"), b"release tarball").map_err(|e| e.to_string())?;
    let rf = RunnerFiles::new(scratch)?;
    let api = fake.api_url();
    let mut results = Vec::new();
    let mut seen = 0;
    for (attempt, case) in [
        ("1", "api requests: publishing run (first of the day)"),
        ("2", "api requests: its re-run (asset replaced, day exists)"),
    ] {
        rf.reset()?;
        let mut cmd = action(
            &ws,
            &rf,
            &[
                ("subject-path", "dist/*"),
                ("sign", "key"),
                ("signing-key", key),
                ("github-token", TOKEN),
                ("audit-store", "commit"),
            ],
        );
        cmd.env("GITHUB_API_URL", &api)
            .env("GITHUB_RUN_ATTEMPT", attempt)
            .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
            .env("SLSA_PROVENANCE_HTTP_TIMEOUT_MS", "20000");
        let (took, rss, _) = timed(&cmd, "publishing run")?;
        let all = rt.block_on(fake.requests());
        let this_run = &all[seen..];
        seen = all.len();

        // Everything was published and committed, or the count is of a different run.
        let (attestations, assets, commits, notes) = fake.published();
        let n: u64 = attempt.parse().unwrap_or(0);
        if attestations != n || assets != 1 || commits as u64 != n || !notes {
            return Err(format!(
                "run {attempt} did not publish everything: {attestations} attestations, \
                 {assets} assets, {commits} audit commits, notes section {notes}"
            ));
        }
        let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
        let mut by_group: BTreeMap<&str, u64> = BTreeMap::new();
        for (method, path) in this_run {
            let k = fake_github::kind(method, path);
            *by_kind.entry(k).or_default() += 1;
            *by_group.entry(group(k)).or_default() += 1;
        }
        if let Some(other) = by_kind.get("other") {
            return Err(format!("{other} requests of an unknown kind: {this_run:?}"));
        }
        println!();
        println!(
            "{case}: {} requests in {:.3} s",
            this_run.len(),
            took.as_secs_f64()
        );
        for (g, c) in &by_group {
            println!("  {g:<16} {c:>3}");
        }
        for (k, c) in &by_kind {
            println!("    {k:<44} {c:>3}");
        }
        results.push(BenchResult {
            bench: "provenance".into(),
            case: case.into(),
            ours_s: took.as_secs_f64(),
            reference: "none (request count)".into(),
            reference_s: None,
            ratio: None,
            target: "none (requests by kind in extra)".into(),
            met: None,
            ours_peak_rss_kib: Some(rss),
            reference_peak_rss_kib: None,
            extra: serde_json::json!({
                "requests": this_run.len(),
                "by_group": by_group,
                "by_kind": by_kind,
            }),
        });
    }
    Ok(results)
}

fn human(bytes: u64) -> String {
    if bytes >= GIB && bytes % GIB == 0 {
        format!("{} GiB", bytes / GIB)
    } else if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes / KIB)
    }
}
