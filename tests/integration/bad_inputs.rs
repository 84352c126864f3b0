//! Bad input, every input in turn (issue 11): for each mode, each input it reads (the code's
//! own table, `inputs::by_mode::reads`) is given a malformed value on a workspace that already
//! holds an audit trail. Each row asserts exit 1 (never a panic's 101), an `::error::` line
//! naming the input, the stable `failure-reason`, and no partial write: every file of the
//! workspace byte-identical and no `.tmp-*` file left. Free-text inputs (no value is malformed)
//! are listed, so a new input must be placed in one table or the other.
//!
//! Then what is not an input: huge and binary event payloads, invalid policy YAML, non-UTF-8
//! file names among the subjects, a read-only workspace and a full disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use slsa_provenance_action::inputs::by_mode::{name, reads, ALL_MODES};

use crate::common::{Outcome, Runner, Workspace};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const TAG: &str = "v1.2.0";
const RUN_ID: &str = "9228858953";
const LOOPBACK_DB: &str = "http://127.0.0.1:9";

/// One malformed value of an input, in the modes that read it (`modes` empty: all of them).
struct Bad {
    input: &'static str,
    /// `None`: the input left unset while `with` makes it required.
    value: Option<&'static str>,
    /// Other inputs the malformation needs (e.g. `supabase-table` is only read with a URL).
    with: &'static [(&'static str, &'static str)],
    modes: &'static [&'static str],
    code: &'static str,
    /// What the `::error::` line must contain; empty: the input's name in quotes.
    names: &'static str,
}

const fn bad(input: &'static str, value: &'static str, code: &'static str) -> Bad {
    Bad {
        input,
        value: Some(value),
        with: &[],
        modes: &[],
        code,
        names: "",
    }
}

const SUPABASE: &[(&str, &str)] = &[("supabase-url", LOOPBACK_DB), ("supabase-key", "k")];

const BAD: &[Bad] = &[
    bad("mode", "deploy", "unknown_mode"),
    // booleans
    bad("attest", "yes please", "invalid_input"),
    bad("upload-release-asset", "yes please", "invalid_input"),
    bad("release-notes", "yes please", "invalid_input"),
    bad("allow-unsigned", "yes please", "invalid_input"),
    bad("deny-self-hosted-runners", "yes please", "invalid_input"),
    bad("allow-predicate-v02", "yes please", "invalid_input"),
    bad("fail-on-error", "yes please", "invalid_input"),
    bad("wait", "yes please", "invalid_input"),
    // enums
    bad("sign", "maybe", "invalid_input"),
    bad("audit-store", "git", "invalid_input"),
    bad("status", "maybe", "invalid_input"),
    bad("issue-on", "sometimes", "invalid_input"),
    bad("source", "mysql", "invalid_input"),
    // paths escaping the workspace, relative and absolute
    bad("reports-dir", "../outside", "invalid_input"),
    bad("reports-dir", "/tmp/outside", "invalid_input"),
    bad(
        "queued-manifest",
        "../queued-manifest.json",
        "invalid_input",
    ),
    bad("result-path", "../report.json", "invalid_input"),
    bad("result-path", "/tmp/report.json", "invalid_input"),
    bad("dashboard-path", "../dashboard.md", "invalid_input"),
    bad("cache-dir", "/tmp/cache", "invalid_input"),
    bad("policy", "../policy.yml", "invalid_input"),
    bad("policy", "/etc/policy.yml", "invalid_input"),
    bad("workflow", "../release.yml", "invalid_input"),
    // globs and regular expressions
    bad("expected-tag", "[", "invalid_input"),
    bad("certificate-identity-regexp", "(", "invalid_input"),
    bad("builder-id-regexp", "[", "invalid_input"),
    bad("signer-workflow", "octo/app@[", "invalid_input"),
    // URLs (tokens travel on them: TLS unless loopback)
    bad("fulcio-url", "http://fulcio.example.com", "invalid_input"),
    bad("rekor-url", "http://rekor.example.com", "invalid_input"),
    bad("tsa-url", "not a url", "invalid_input"),
    bad(
        "slack-webhook-url",
        "http://hooks.example.com/T0/B0",
        "invalid_input",
    ),
    bad("notify-webhook-url", "not a url", "invalid_input"),
    Bad {
        modes: &["notify"],
        ..bad("runbook-url", "not a url", "invalid_input")
    },
    // names, numbers, durations, digests
    bad("audit-branch", "main..x", "invalid_input"),
    bad("rollback-of", "v1 v2", "invalid_input"),
    Bad {
        // validate reads run-id only without provenance-path (empty: unset)
        with: &[("provenance-path", "")],
        ..bad("run-id", "12x", "invalid_input")
    },
    bad("max-attempts", "0", "invalid_input"),
    bad("retry-interval", "soon", "invalid_input"),
    bad("wait-timeout", "5d", "invalid_input"),
    bad("subject-digest", "sha256:abc", "invalid_input"),
    Bad {
        modes: &["notify"],
        ..bad("issue-labels", ", ,", "invalid_input")
    },
    bad("repositories", "octo", "invalid_input"),
    Bad {
        modes: &["provenance"],
        names: "tag \"v1..2\" (from input)",
        ..bad("tag", "v1..2", "invalid_tag")
    },
    // inputs that go together
    Bad {
        input: "supabase-url",
        value: Some("http://db.example.com"),
        with: &[("supabase-key", "k"), ("source", "supabase")],
        modes: &[],
        code: "invalid_input",
        names: "",
    },
    Bad {
        input: "supabase-key",
        value: None,
        with: &[("supabase-url", LOOPBACK_DB), ("source", "supabase")],
        modes: &[],
        code: "missing_input",
        names: "",
    },
    Bad {
        input: "supabase-table",
        value: Some("runs; drop table runs"),
        with: SUPABASE,
        modes: &[],
        code: "invalid_input",
        names: "",
    },
    Bad {
        input: "supabase-validate-function",
        value: Some("Validate Me"),
        with: SUPABASE,
        modes: &[],
        code: "invalid_input",
        names: "",
    },
    Bad {
        input: "slack-token",
        value: Some("xoxb-1"),
        with: &[],
        modes: &[],
        code: "missing_input",
        names: "",
    },
    Bad {
        input: "slack-channel",
        value: Some("#ops"),
        with: &[],
        modes: &[],
        code: "missing_input",
        names: "",
    },
    Bad {
        input: "signing-key",
        value: None,
        with: &[("sign", "key")],
        modes: &[],
        code: "missing_input",
        names: "",
    },
];

/// Inputs no value of which is refused before the run starts, per mode: free text, secrets,
/// and inputs checked against the world once the run has started (subjects, keys, roots),
/// whose failures are recorded (the tests below and the modes' own files cover those).
const FREE: &[(&str, &[&str])] = &[
    (
        "provenance",
        &[
            "subject-path",
            "subject-checksums",
            "signing-key-password",
            "trusted-root",
            "github-token",
        ],
    ),
    (
        "validate",
        &[
            "subject-path",
            "subject-checksums",
            "provenance-path",
            "artifact-name",
            "trusted-root",
            "public-key",
            "certificate-oidc-issuer",
            "source-repository",
            "certificate-identity",
            "tag",
            "expected-commit",
            "expected-builder-id",
            "github-token",
        ],
    ),
    (
        "notify",
        &["tag", "artifact-url", "failure-reason", "github-token"],
    ),
    (
        "recover",
        &[
            "tag",
            "reason",
            "ref",
            "dispatch-token",
            "github-token",
            "issue-labels",
            "runbook-url",
        ],
    ),
    ("report", &["badge-label", "github-token"]),
];

fn applies(b: &Bad, mode: &str) -> bool {
    reads_of(mode).contains(&b.input) && (b.modes.is_empty() || b.modes.contains(&mode))
}

fn reads_of(mode: &str) -> Vec<&'static str> {
    ALL_MODES
        .iter()
        .find(|m| name(**m) == mode)
        .map(|m| reads(*m))
        .unwrap_or_default()
}

fn free(mode: &str) -> &'static [&'static str] {
    FREE.iter()
        .find(|(m, _)| *m == mode)
        .map(|(_, list)| *list)
        .unwrap_or_default()
}

/// Every file under `root` (but `.git`), with its bytes.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.insert(
                    p.strip_prefix(root).expect("below root").to_path_buf(),
                    bytes,
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn temp_files(snap: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<&PathBuf> {
    snap.keys()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp-"))
        })
        .collect()
}

/// Release files and the audit trail of one successful unsigned run for `TAG`.
fn seeded() -> Workspace {
    let ws = Workspace::new();
    ws.write("dist/app.tar.gz", b"tarball bytes");
    ws.write("dist/app.zip", b"zip bytes");
    provenance(&ws).run().assert_success();
    ws
}

/// An unsigned `workflow_dispatch` run for the `tag` input (so a malformed `tag` is the one
/// read: a release event's tag would win over it).
fn provenance(ws: &Workspace) -> Runner {
    ws.runner()
        .env("GITHUB_SHA", SHA)
        .input("tag", TAG)
        .input("sign", "none")
        .input("subject-path", "dist/*")
}

/// A run of `mode` that, given good inputs, gets past input parsing.
fn baseline(ws: &Workspace, mode: &str) -> Runner {
    let r = ws
        .runner()
        .env("GITHUB_SHA", SHA)
        .release_event(TAG)
        .input("mode", mode);
    match mode {
        "provenance" => provenance(ws).input("mode", mode),
        "validate" => r
            .input("subject-path", "dist/*")
            .input("provenance-path", "docs/reports/**/provenance.json")
            .input("allow-unsigned", "true")
            .input("rekor-url", "offline"),
        "notify" => r.input("run-id", RUN_ID).input("status", "failure"),
        "recover" => r.input("tag", TAG),
        _ => r,
    }
}

fn with_bad(mut r: Runner, b: &Bad) -> Runner {
    for (k, v) in b.with {
        r = r.input(k, *v);
    }
    match b.value {
        Some(v) => r.input(b.input, v),
        None => r.remove(&format!("INPUT_{}", b.input.to_uppercase())),
    }
}

fn error_lines(out: &Outcome) -> Vec<&str> {
    out.stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect()
}

/// Exit 1, the code, an `::error::` line containing `names`.
fn assert_refused(out: &Outcome, code: &str, names: &str, what: &str) {
    assert_eq!(out.code, Some(1), "{what}: exit code\n{out:#?}");
    assert_eq!(out.out("failure-reason"), Some(code), "{what}\n{out:#?}");
    let lines = error_lines(out);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("::error title={code}::")) && l.contains(names)),
        "{what}: no ::error:: line naming {names}: {lines:#?}"
    );
}

fn assert_untouched(ws: &Workspace, before: &BTreeMap<PathBuf, Vec<u8>>, what: &str) {
    let after = snapshot(ws.path());
    let changed: Vec<&PathBuf> = before
        .iter()
        .filter(|(p, b)| after.get(*p) != Some(*b))
        .map(|(p, _)| p)
        .chain(after.keys().filter(|p| !before.contains_key(*p)))
        .collect();
    assert!(
        changed.is_empty(),
        "{what}: files written or changed: {changed:?}"
    );
}

#[test]
fn every_input_of_every_mode_is_in_the_bad_table_or_the_free_list() {
    let mut missing = Vec::new();
    for m in ALL_MODES {
        let mode = name(m);
        for input in reads(m) {
            let covered = BAD.iter().any(|b| b.input == input && applies(b, mode));
            let is_free = free(mode).contains(&input);
            if covered == is_free {
                missing.push(format!(
                    "{mode}: '{input}' {}",
                    if covered {
                        "is in both tables"
                    } else {
                        "is in neither table"
                    }
                ));
            }
        }
        for input in free(mode) {
            assert!(
                reads(m).contains(input),
                "{mode} does not read free '{input}'"
            );
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn every_input_malformed_in_turn_fails_cleanly_and_writes_nothing() {
    let mut failures = Vec::new();
    for m in ALL_MODES {
        let mode = name(m);
        let ws = seeded();
        let mut before = snapshot(ws.path());
        assert!(
            before.keys().any(|p| p.ends_with("manifest.json")),
            "{before:?}"
        );
        for b in BAD.iter().filter(|b| applies(b, mode)) {
            let what = format!("{mode}: {} = {:?} with {:?}", b.input, b.value, b.with);
            let out = with_bad(baseline(&ws, mode), b).run();
            let names = if b.input == "mode" {
                "deploy".to_string()
            } else if !b.names.is_empty() {
                b.names.to_string()
            } else {
                format!("'{}'", b.input)
            };
            let result = std::panic::catch_unwind(|| {
                assert_refused(&out, b.code, &names, &what);
                assert_untouched(&ws, &before, &what);
            });
            if let Err(e) = result {
                // A row that wrote must not make the next rows fail too.
                before = snapshot(ws.path());
                failures.push(
                    e.downcast_ref::<String>()
                        .cloned()
                        .unwrap_or_else(|| what.clone()),
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// `Runner::run` through a wrapper program (`prefix`), which then execs the binary.
fn run_wrapped(r: Runner, prefix: &[&str]) -> Outcome {
    let out = std::process::Command::new(prefix[0])
        .args(&prefix[1..])
        .arg(crate::common::bin())
        .args(&r.args)
        .env_clear()
        .envs(&r.env)
        .current_dir(&r.cwd)
        .output()
        .expect("run wrapped binary");
    let outputs_text = std::fs::read_to_string(&r.output).unwrap_or_default();
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        outputs: crate::common::parse_outputs(&outputs_text),
        outputs_text,
        summary: std::fs::read_to_string(&r.summary).unwrap_or_default(),
    }
}

/// The trail still verifies, the seeded run's files are byte-identical, no `.tmp-*` is left.
fn assert_trail_intact(ws: &Workspace, before: &BTreeMap<PathBuf, Vec<u8>>, what: &str) {
    let after = snapshot(ws.path());
    assert!(
        temp_files(&after).is_empty(),
        "{what}: {:?}",
        temp_files(&after)
    );
    for (p, bytes) in before {
        let appended_to = p.ends_with("manifest.json") || p.ends_with("PROVENANCE_SHA256.txt");
        if !appended_to {
            assert_eq!(after.get(p), Some(bytes), "{what}: {} changed", p.display());
        }
    }
    ws.runner()
        .arg("verify-manifest")
        .arg("docs/reports")
        .run()
        .assert_success();
}

#[test]
fn huge_and_binary_event_payloads_are_event_unreadable_in_every_mode() {
    // Regression: a 30 MiB payload (larger than any GitHub sends) was read whole and accepted.
    let ws = seeded();
    let before = snapshot(ws.path());
    let huge = ws.runner_temp.path().join("huge-event.json");
    let mut text = String::from("{\"action\":\"published\",\"padding\":\"");
    text.push_str(&"x".repeat(30 * 1024 * 1024));
    text.push_str("\"}");
    std::fs::write(&huge, text).expect("huge event");
    let binary = ws.runner_temp.path().join("binary-event.json");
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&binary, bytes).expect("binary event");
    for m in ALL_MODES {
        for payload in [&huge, &binary] {
            let what = format!("{} with {}", name(m), payload.display());
            let out = baseline(&ws, name(m))
                .env("GITHUB_EVENT_PATH", payload.to_string_lossy())
                .run();
            assert_refused(&out, "event_unreadable", "GITHUB_EVENT_PATH", &what);
            assert_untouched(&ws, &before, &what);
        }
    }
}

#[test]
fn invalid_policy_yaml_is_policy_invalid_naming_line_and_field() {
    let ws = seeded();
    for (text, names) in [
        // YAML that does not parse: the line is named
        ("version: 1\nreleases:\n  - tag-pattern: [v1\n", "line"),
        // a field the schema does not have: the field is named
        (
            "version: 1\nkpi-targets:\n  succes-rate: 99\n",
            "succes-rate",
        ),
    ] {
        ws.write(".github/slsa-policy.yml", text);
        let before = snapshot(ws.path());
        for mode in ["validate", "report"] {
            let what = format!("{mode} with policy {text:?}");
            let out = baseline(&ws, mode).run();
            assert_refused(&out, "policy_invalid", names, &what);
            assert!(
                error_lines(&out)
                    .iter()
                    .any(|l| l.contains(".github/slsa-policy.yml")),
                "{what}: {out:#?}"
            );
            assert_untouched(&ws, &before, &what);
        }
    }
}

#[cfg(unix)]
#[test]
fn non_utf8_file_names_among_the_subjects_fail_cleanly() {
    use std::os::unix::ffi::OsStrExt;
    let ws = seeded();
    let before = snapshot(ws.path());
    let odd = ws
        .path()
        .join("dist")
        .join(std::ffi::OsStr::from_bytes(b"app-\xff.bin"));
    std::fs::write(&odd, b"bytes").expect("non-UTF-8 name");
    let out = provenance(&ws)
        .input("tag", "v1.3.0")
        .env("GITHUB_RUN_ID", "9228858954")
        .run();
    eprintln!("{out:#?}");
    assert_refused(
        &out,
        "subject_unreadable",
        "dist/",
        "provenance, non-UTF-8 name",
    );
    assert_trail_intact(&ws, &before, "provenance, non-UTF-8 name");
}

/// Runs the binary so that file permissions bind it: as root (CI), with every capability
/// dropped (`CAP_DAC_OVERRIDE` would write through a read-only mode).
fn without_root_powers() -> Vec<&'static str> {
    let probe = tempfile::NamedTempFile::new().expect("probe");
    let root = std::os::unix::fs::MetadataExt::uid(&probe.as_file().metadata().expect("meta")) == 0;
    if root {
        vec!["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"]
    } else {
        vec!["env"]
    }
}

fn set_read_only(root: &Path, read_only: bool) {
    use std::os::unix::fs::PermissionsExt;
    for entry in walkdir(root) {
        let mode = match (entry.is_dir(), read_only) {
            (true, true) => 0o555,
            (true, false) => 0o755,
            (false, true) => 0o444,
            (false, false) => 0o644,
        };
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
}

fn walkdir(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        if out[i].is_dir() {
            if let Ok(rd) = std::fs::read_dir(&out[i]) {
                out.extend(rd.flatten().map(|e| e.path()));
            }
        }
        i += 1;
    }
    out
}

#[cfg(unix)]
#[test]
fn read_only_workspace_fails_with_write_failed_and_leaves_the_trail() {
    let ws = seeded();
    let before = snapshot(ws.path());
    set_read_only(ws.path(), true);
    let wrapper = without_root_powers();
    let runs = [
        (
            "provenance",
            provenance(&ws)
                .input("tag", "v1.3.0")
                .env("GITHUB_RUN_ID", "9228858954"),
        ),
        ("report", baseline(&ws, "report")),
        ("validate", baseline(&ws, "validate")),
    ];
    let mut outcomes = Vec::new();
    for (mode, r) in runs {
        outcomes.push((mode, run_wrapped(r, &wrapper)));
    }
    set_read_only(ws.path(), false);
    for (mode, out) in outcomes {
        let what = format!("{mode} on a read-only workspace");
        assert_refused(&out, "write_failed", "Permission denied", &what);
        assert!(
            error_lines(&out)
                .iter()
                .any(|l| l.contains(" docs/reports/")),
            "{what}: {out:#?}"
        );
        assert_untouched(&ws, &before, &what);
    }
}

#[cfg(unix)]
#[test]
fn full_disk_fails_with_write_failed_and_leaves_no_temporary_file() {
    // The file-size limit stands for a full disk: writes past 4 KiB fail (EFBIG; SIGXFSZ is
    // ignored as a full disk sends no signal).
    let ws = seeded();
    for i in 0..80 {
        ws.write(
            &format!("dist/many/part-{i:03}-with-a-long-name.bin"),
            format!("{i}"),
        );
    }
    let before = snapshot(ws.path());
    let r = provenance(&ws)
        .input("subject-path", "dist/many/*")
        .input("tag", "v1.3.0")
        .env("GITHUB_RUN_ID", "9228858954");
    let out = run_wrapped(
        r,
        &[
            "prlimit",
            "--fsize=4096",
            "--",
            "env",
            "--ignore-signal=XFSZ",
        ],
    );
    assert_refused(
        &out,
        "write_failed",
        "provenance.json: File too large",
        "full disk",
    );
    assert_trail_intact(&ws, &before, "full disk");
}

#[test]
fn bad_globs_and_escaping_subject_paths_fail_once_started_and_keep_the_trail() {
    // Inputs checked once the run has started (the free list above): provenance records the
    // failure in its trail, validate writes nothing.
    let rows: &[(&str, &str, &str, &str)] = &[
        ("provenance", "subject-path", "[", "invalid_subject_path"),
        (
            "provenance",
            "subject-path",
            "../outside/*",
            "invalid_subject_path",
        ),
        (
            "provenance",
            "subject-path",
            "/etc/passwd",
            "invalid_subject_path",
        ),
        ("validate", "subject-path", "[", "invalid_subject_path"),
        ("validate", "provenance-path", "[", "invalid_input"),
        (
            "validate",
            "provenance-path",
            "../outside.json",
            "invalid_input",
        ),
    ];
    let mut failures = Vec::new();
    for (mode, input, value, code) in rows {
        let ws = seeded();
        let before = snapshot(ws.path());
        let what = format!("{mode}: {input} = {value:?}");
        let r = baseline(&ws, mode)
            .input(input, *value)
            .env("GITHUB_RUN_ID", "9228858954");
        let out = r.run();
        let result = std::panic::catch_unwind(|| {
            // Regression: provenance's pattern errors did not name the input.
            assert_refused(&out, code, &format!("'{input}'"), &what);
            if *mode == "provenance" {
                assert_trail_intact(&ws, &before, &what);
            } else {
                assert_untouched(&ws, &before, &what);
            }
        });
        if result.is_err() {
            failures.push(format!("{what}: {}", error_lines(&out).join(" | ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
