//! Subject hashing benchmark: the action's own `adapters::files::hash_files` against
//! `openssl dgst -sha256` and `sha256sum`, on one large file and on many medium files.
//!
//! Run: `cargo bench --bench hashing` (1 GiB file + 2,000 x 512 KiB files, best of 3), or
//! `cargo bench --bench hashing -- --quick` (small sizes, for CI). Needs `openssl` and
//! `sha256sum` on PATH and about 2 GiB free in the temp dir for the full run.
//!
//! Peak memory is each process's maximum resident set size as GNU time (`/usr/bin/time -f %M`)
//! reports it: ours by re-running this binary as a child (`--peak-rss ROOT FILE...`) that hashes
//! the files with the action's code, the references as they are timed, each a fresh process.
//! Ratios are reference time / our time: above 1.0 means we are faster. The last stdout lines
//! are the `BENCH-RESULT` lines `bench/run.sh` collects (`common/bench_result.rs`).

// A benchmark's job is to print its table.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rand::Rng;
use slsa_provenance_action::adapters::files::hash_files;

#[path = "common/bench_result.rs"]
mod bench_result;
use bench_result::BenchResult;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// Targets the README promises.
const TARGET_LARGE_VS_OPENSSL: f64 = 1.0;
const TARGET_MANY_VS_SHA256SUM: f64 = 1.8;

struct Plan {
    big: u64,
    many: usize,
    each: u64,
    /// The smaller file for the peak-memory comparison (the larger one is `big`). Both are at
    /// or above the size where hashing switches to a reader thread, so they take one path.
    rss_small: u64,
    runs: usize,
}

const FULL: Plan = Plan {
    big: GIB,
    many: 2_000,
    each: 512 * KIB,
    rss_small: 64 * MIB,
    runs: 3,
};

const QUICK: Plan = Plan {
    big: 64 * MIB,
    many: 200,
    each: 64 * KIB,
    rss_small: 32 * MIB,
    runs: 2,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--peak-rss") {
        let root = args.get(i + 1).expect("--peak-rss needs a folder");
        peak_rss_child(Path::new(root), &args[i + 2..]);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let plan = if quick { QUICK } else { FULL };
    if let Err(e) = run(&plan, quick) {
        eprintln!("hashing bench failed: {e}");
        std::process::exit(1);
    }
}

fn run(plan: &Plan, quick: bool) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let root = dir.path();
    println!(
        "hashing bench ({}): {} threads, temp dir {}",
        if quick { "quick" } else { "full" },
        rayon::current_num_threads(),
        root.display()
    );

    let t = Instant::now();
    let big_name = "big.bin".to_string();
    generate(&root.join(&big_name), plan.big, 0)?;
    let small_name = "rss-small.bin".to_string();
    generate(&root.join(&small_name), plan.rss_small, 1)?;
    std::fs::create_dir_all(root.join("many")).map_err(|e| e.to_string())?;
    let many: Vec<String> = (0..plan.many)
        .map(|i| format!("many/f{i:05}.bin"))
        .collect();
    for (i, rel) in many.iter().enumerate() {
        generate(&root.join(rel), plan.each, 2 + i as u64)?;
    }
    println!(
        "generated {} + {} x {} in {:.1}s",
        human(plan.big),
        plan.many,
        human(plan.each),
        t.elapsed().as_secs_f64()
    );

    // Same digests as the references, or the comparison means nothing.
    let ours = hash_files(root, std::slice::from_ref(&big_name), 1e9, &|_| {})
        .map_err(|(p, e)| format!("hashing {p}: {e}"))?;
    let theirs = first_hex(&tool(root, "openssl", &["dgst", "-sha256"], &[&big_name])?)?;
    if ours[0] != theirs {
        return Err(format!(
            "digest mismatch on {big_name}: {} vs openssl {theirs}",
            ours[0]
        ));
    }
    let ours = hash_files(root, &many[..1], 1e9, &|_| {}).map_err(|(p, e)| format!("{p}: {e}"))?;
    let theirs = first_hex(&tool(root, "sha256sum", &[], &[&many[0]])?)?;
    if ours[0] != theirs {
        return Err(format!(
            "digest mismatch on {}: sha256sum {theirs}",
            many[0]
        ));
    }

    let many_refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let big_bytes = plan.big;
    let many_bytes = plan.each * plan.many as u64;
    let mut large = [Duration::MAX; 2];
    let mut lots = [Duration::MAX; 3];
    // Interleave the tools in each round so none profits from running last.
    for _ in 0..plan.runs {
        large[0] = large[0].min(time(|| {
            hash_files(root, std::slice::from_ref(&big_name), 1e9, &|_| {})
                .map(drop)
                .map_err(|(p, e)| format!("{p}: {e}"))
        })?);
        large[1] = large[1].min(time(|| {
            tool(root, "openssl", &["dgst", "-sha256"], &[&big_name]).map(drop)
        })?);
        lots[0] = lots[0].min(time(|| {
            hash_files(root, &many, 1e9, &|_| {})
                .map(drop)
                .map_err(|(p, e)| format!("{p}: {e}"))
        })?);
        lots[1] = lots[1].min(time(|| tool(root, "sha256sum", &[], &many_refs).map(drop))?);
        lots[2] = lots[2].min(time(|| {
            tool(root, "openssl", &["dgst", "-sha256"], &many_refs).map(drop)
        })?);
    }

    let large_label = format!("1 file x {}", human(plan.big));
    let many_label = format!("{} files x {}", plan.many, human(plan.each));
    println!();
    println!(
        "{:<22} {:<40} {:>9} {:>9} {:>13}",
        "workload", "hasher", "best s", "MB/s", "ours vs this"
    );
    let row = |w: &str, name: &str, d: Duration, bytes: u64, ours: Option<Duration>| {
        let secs = d.as_secs_f64();
        let ratio = ours
            .map(|o| format!("{:.2}x", secs / o.as_secs_f64()))
            .unwrap_or_default();
        println!(
            "{w:<22} {name:<40} {secs:>9.3} {:>9.0} {ratio:>13}",
            bytes as f64 / 1e6 / secs
        );
    };
    row(&large_label, "ours (hash_files)", large[0], big_bytes, None);
    row(
        "",
        "openssl dgst -sha256 FILE",
        large[1],
        big_bytes,
        Some(large[0]),
    );
    row(
        &many_label,
        "ours (hash_files, rayon)",
        lots[0],
        many_bytes,
        None,
    );
    row(
        "",
        "sha256sum FILES... (1 process)",
        lots[1],
        many_bytes,
        Some(lots[0]),
    );
    row(
        "",
        "openssl dgst -sha256 FILES... (1 proc)",
        lots[2],
        many_bytes,
        Some(lots[0]),
    );

    let rss_small = peak_rss(root, std::slice::from_ref(&small_name))?;
    let rss_big = peak_rss(root, std::slice::from_ref(&big_name))?;
    let rss_many = peak_rss(root, &many)?;
    let rss_openssl_big = tool_rss(root, "openssl", &["dgst", "-sha256"], &[&big_name])?;
    let rss_sha256sum_many = tool_rss(root, "sha256sum", &[], &many_refs)?;
    let rss_openssl_many = tool_rss(root, "openssl", &["dgst", "-sha256"], &many_refs)?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!();
    println!(
        "peak RSS hashing {}: {:.1} MiB; hashing {}: {:.1} MiB ({:+.1} MiB); {}: {:.1} MiB",
        human(plan.rss_small),
        mib(rss_small),
        human(plan.big),
        mib(rss_big),
        mib(rss_big) - mib(rss_small),
        many_label,
        mib(rss_many)
    );
    println!(
        "peak RSS of the references: openssl (1 file) {:.1} MiB; sha256sum (many) {:.1} MiB; \
         openssl (many) {:.1} MiB",
        mib(rss_openssl_big),
        mib(rss_sha256sum_many),
        mib(rss_openssl_many)
    );

    let r_large = large[1].as_secs_f64() / large[0].as_secs_f64();
    let r_many = lots[1].as_secs_f64() / lots[0].as_secs_f64();
    println!();
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "target: large file >= {TARGET_LARGE_VS_OPENSSL:.1}x openssl: {r_large:.2}x ({})",
        verdict(r_large >= TARGET_LARGE_VS_OPENSSL)
    );
    println!(
        "target: many files >= {TARGET_MANY_VS_SHA256SUM:.1}x sha256sum: {r_many:.2}x ({})",
        verdict(r_many >= TARGET_MANY_VS_SHA256SUM)
    );
    if quick {
        println!("(quick run: sizes too small for the targets to be meaningful)");
    }

    let secs = |d: Duration| d.as_secs_f64();
    let sizes = |files: usize, bytes: u64| {
        serde_json::json!({"files": files, "bytes": bytes, "runs": plan.runs,
                           "threads": rayon::current_num_threads()})
    };
    let results = [
        BenchResult::faster_than(
            "hashing",
            &large_label,
            secs(large[0]),
            "openssl dgst -sha256",
            secs(large[1]),
        )
        .at_least(TARGET_LARGE_VS_OPENSSL)
        .rss(Some(rss_big), Some(rss_openssl_big))
        .extra(sizes(1, big_bytes)),
        BenchResult::faster_than(
            "hashing",
            &many_label,
            secs(lots[0]),
            "sha256sum (1 process)",
            secs(lots[1]),
        )
        .at_least(TARGET_MANY_VS_SHA256SUM)
        .rss(Some(rss_many), Some(rss_sha256sum_many))
        .extra(sizes(plan.many, many_bytes)),
        BenchResult::faster_than(
            "hashing",
            &many_label,
            secs(lots[0]),
            "openssl dgst -sha256 (1 process)",
            secs(lots[2]),
        )
        .rss(Some(rss_many), Some(rss_openssl_many))
        .extra(sizes(plan.many, many_bytes)),
    ];
    println!();
    bench_result::print_all(&results);
    Ok(())
}

/// Child mode: hash files (relative to `root`) with the action's code, print the digests.
fn peak_rss_child(root: &Path, files: &[String]) {
    let digests = hash_files(root, files, 1e9, &|_| {}).expect("hash");
    println!("{}", digests.len());
}

/// Peak RSS in KiB of a fresh process hashing `files` with the action's code.
fn peak_rss(root: &Path, files: &[String]) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.arg("--peak-rss").arg(root).args(files);
    max_rss_kib(cmd, "peak-rss child")
}

/// Peak RSS in KiB of a reference tool run on `files`.
fn tool_rss(root: &Path, program: &str, args: &[&str], files: &[&str]) -> Result<u64, String> {
    let mut cmd = Command::new(program);
    cmd.args(args).args(files).current_dir(root);
    max_rss_kib(cmd, program)
}

/// Run `cmd` under GNU time (`/usr/bin/time -f %M`), stdout discarded; its peak RSS in KiB.
fn max_rss_kib(cmd: Command, what: &str) -> Result<u64, String> {
    let rss_file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(rss_file.path())
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdout(std::process::Stdio::null());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    let out = wrapped
        .output()
        .map_err(|e| format!("{what}: cannot run /usr/bin/time (install GNU time): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::read_to_string(rss_file.path())
        .map_err(|e| e.to_string())?
        .lines()
        .rev()
        .find_map(|l| l.trim().parse::<u64>().ok())
        .ok_or_else(|| format!("{what}: GNU time printed no peak RSS"))
}

/// `len` bytes of pseudo-random content: one random 1 MiB block, each copy stamped with the
/// seed and its index so no two blocks (or files) are alike. Fast enough to write 2 GiB.
fn generate(path: &Path, len: u64, seed: u64) -> Result<(), String> {
    thread_local! {
        static BLOCK: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new({
            let mut b = vec![0u8; MIB as usize];
            rand::rng().fill_bytes(&mut b);
            b
        });
    }
    let f = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut w = std::io::BufWriter::with_capacity(MIB as usize, f);
    BLOCK.with(|b| {
        let mut block = b.borrow_mut();
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
    })
}

fn time(f: impl FnOnce() -> Result<(), String>) -> Result<Duration, String> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed())
}

/// Run a reference tool in `root` on relative paths; its stdout.
fn tool(root: &Path, program: &str, args: &[&str], files: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .args(files)
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first 64-hex-digit word of a tool's output (`sha256sum` and `openssl dgst` forms).
fn first_hex(text: &str) -> Result<String, String> {
    text.split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 64)
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| format!("no digest in {text:?}"))
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
