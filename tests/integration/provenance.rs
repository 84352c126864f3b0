//! Integration tests: `mode: provenance`, unsigned core (`sign: none`).
//!
//! Every test runs the real binary in a scrubbed environment (see `common`), then checks what a
//! workflow would see: exit code, `GITHUB_OUTPUT`, the step summary, stdout, and the audit files
//! written into the workspace. Signing and publishing have their own modules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::{sha256_hex, Outcome, Runner, Workspace};

const SHA: &str = "95baf27389e83e6a5c48f42e190d48d7abcea19e";
const RUN_ID: &str = "9228858953";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A runner with `sign: none` and a built commit: the baseline of every run here.
fn unsigned(ws: &Workspace) -> Runner {
    ws.runner().input("sign", "none").env("GITHUB_SHA", SHA)
}

/// An unsigned run for a published release of `tag`, workflow running on the tag ref.
fn release(ws: &Workspace, tag: &str) -> Runner {
    unsigned(ws).release_event(tag).env(
        "GITHUB_WORKFLOW_REF",
        format!("octo/app/.github/workflows/release.yml@refs/tags/{tag}"),
    )
}

/// Two release files under `dist/`.
fn dist(ws: &Workspace) {
    ws.write("dist/app.tar.gz", b"tarball bytes");
    ws.write("dist/app.zip", b"zip bytes");
}

fn statement(ws: &Workspace, out: &Outcome) -> Value {
    let rel = out.out("provenance-path").expect("provenance-path output");
    serde_json::from_str(&ws.read(rel)).expect("statement is JSON")
}

fn manifest(ws: &Workspace, out: &Outcome) -> Value {
    let rel = out.out("manifest-path").expect("manifest-path output");
    serde_json::from_str(&ws.read(rel)).expect("manifest is JSON")
}

/// `docs/reports/<day>` of a run, from its `manifest-path` output.
fn day_dir(out: &Outcome) -> String {
    let m = out.out("manifest-path").expect("manifest-path output");
    m.strip_suffix("/manifest.json")
        .expect("manifest.json")
        .to_string()
}

/// Subject names and digests of a statement, in statement order.
fn subjects(stmt: &Value) -> Vec<(String, String)> {
    stmt["subject"]
        .as_array()
        .expect("subject array")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().expect("name").to_string(),
                s["digest"]["sha256"].as_str().expect("sha256").to_string(),
            )
        })
        .collect()
}

/// Every regular file below `root`, relative, `/`-separated, sorted.
fn files_below(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("below root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Today's and tomorrow's (UTC) report directories: a run started around midnight uses either.
fn report_days() -> Vec<String> {
    let now = chrono::Utc::now();
    [now, now + chrono::Duration::days(1)]
        .iter()
        .map(|d| format!("docs/reports/{}", d.format("%Y-%m-%d")))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Where the tag comes from

#[test]
fn release_event_tag_produces_provenance_for_subjects() {
    let ws = Workspace::new();
    dist(&ws);
    let out = release(&ws, "v1.2.0").input("subject-path", "dist/*").run();
    out.assert_success();
    assert_eq!(out.out("skipped"), Some("false"));
    assert_eq!(out.out("tag"), Some("v1.2.0"));
    assert_eq!(out.out("tag-source"), Some("release-event"));
    assert_eq!(out.out("subjects"), Some("2"));
    assert_eq!(out.out("failure-reason"), None);
    let stmt = statement(&ws, &out);
    assert_eq!(
        subjects(&stmt),
        vec![
            ("app.tar.gz".to_string(), sha256_hex(b"tarball bytes")),
            ("app.zip".to_string(), sha256_hex(b"zip bytes")),
        ]
    );
    let g = &stmt["predicate"]["buildDefinition"]["internalParameters"]["github"];
    assert_eq!(g["tag"], "v1.2.0");
    assert_eq!(g["tag_source"], "release-event");
    let m = manifest(&ws, &out);
    let e = &m["entries"][0];
    assert_eq!(e["tag"], "v1.2.0");
    assert_eq!(e["status"], "success");
    assert_eq!(e["governance_flag"], "provenance-ready");
    assert_eq!(e["run_id"], 9228858953u64);
    assert_eq!(e["sha"], SHA);
    assert_eq!(e["actor"], "octocat");
    assert_eq!(e["subjects"], 2);
    assert_eq!(
        e["release_url"],
        "https://github.com/octo/app/releases/tag/v1.2.0"
    );
    assert!(
        out.stdout.contains("sign: none"),
        "unsigned warning:\n{}",
        out.stdout
    );
}

#[test]
fn dispatch_tag_input_is_used_and_dispatch_inputs_are_recorded() {
    let ws = Workspace::new();
    dist(&ws);
    // The workflow passes `tag: ${{ inputs.tag }}`, so the runner sets INPUT_TAG.
    let out = unsigned(&ws)
        .event(
            "workflow_dispatch",
            json!({"inputs": {"tag": "v2.0.0", "dry_run": "false"}, "ref": "refs/heads/main"}),
        )
        .input("tag", "v2.0.0")
        .input("subject-path", "dist/*")
        .run();
    out.assert_success();
    assert_eq!(out.out("tag"), Some("v2.0.0"));
    assert_eq!(out.out("tag-source"), Some("input"));
    let stmt = statement(&ws, &out);
    let ext = &stmt["predicate"]["buildDefinition"]["externalParameters"];
    assert_eq!(ext["inputs"], json!({"dry_run": "false", "tag": "v2.0.0"}));
    assert_eq!(
        stmt["predicate"]["buildDefinition"]["internalParameters"]["github"]["event_name"],
        "workflow_dispatch"
    );
}

#[test]
fn tag_ref_run_uses_ref_name() {
    let ws = Workspace::new();
    dist(&ws);
    let out = unsigned(&ws)
        .env("GITHUB_REF", "refs/tags/v3.1.0")
        .env("GITHUB_REF_NAME", "v3.1.0")
        .env("GITHUB_REF_TYPE", "tag")
        .input("subject-path", "dist/*")
        .run();
    out.assert_success();
    assert_eq!(out.out("tag"), Some("v3.1.0"));
    assert_eq!(out.out("tag-source"), Some("ref"));
}

#[test]
fn git_describe_finds_lightweight_tag_on_head() {
    let ws = Workspace::new();
    dist(&ws);
    let head = ws.init_git();
    ws.git(&["tag", "v4.0.0"]);
    // No GITHUB_SHA: a local run describes HEAD and records HEAD as the commit.
    let out = ws
        .runner()
        .input("sign", "none")
        .input("subject-path", "dist/*")
        .run();
    out.assert_success();
    assert_eq!(out.out("tag"), Some("v4.0.0"));
    assert_eq!(out.out("tag-source"), Some("git-describe"));
    let stmt = statement(&ws, &out);
    let bd = &stmt["predicate"]["buildDefinition"];
    assert_eq!(
        bd["resolvedDependencies"][0]["digest"]["gitCommit"],
        head.as_str()
    );
    assert_eq!(
        bd["internalParameters"]["github"]["tag_commit"],
        head.as_str()
    );
}

#[test]
fn git_describe_uses_github_sha_not_head() {
    let ws = Workspace::new();
    dist(&ws);
    let built = ws.init_git();
    ws.git(&["tag", "v5.0.0"]);
    ws.write("later.txt", "a commit after the build");
    let head = ws.commit_all("later");
    assert_ne!(built, head);
    let out = ws
        .runner()
        .input("sign", "none")
        .env("GITHUB_SHA", &built)
        .input("subject-path", "dist/*")
        .run();
    out.assert_success();
    assert_eq!(out.out("tag"), Some("v5.0.0"));
    assert_eq!(out.out("tag-source"), Some("git-describe"));
    let stmt = statement(&ws, &out);
    assert_eq!(
        stmt["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"],
        built.as_str()
    );
}

#[test]
fn git_describe_finds_annotated_tag_and_peels_it_to_the_commit() {
    let ws = Workspace::new();
    dist(&ws);
    let head = ws.init_git();
    ws.git(&["tag", "-a", "v6.0.0", "-m", "release 6"]);
    let out = unsigned(&ws)
        .env("GITHUB_SHA", &head)
        .input("subject-path", "dist/*")
        .run();
    out.assert_success();
    assert_eq!(out.out("tag"), Some("v6.0.0"));
    assert_eq!(out.out("tag-source"), Some("git-describe"));
    let stmt = statement(&ws, &out);
    // The tag object id must not leak in as the commit.
    assert_eq!(
        stmt["predicate"]["buildDefinition"]["internalParameters"]["github"]["tag_commit"],
        head.as_str()
    );
}

#[test]
fn no_tag_anywhere_skips_with_no_tag_reason() {
    let ws = Workspace::new();
    dist(&ws);
    ws.init_git();
    let out = unsigned(&ws).input("subject-path", "dist/*").run();
    out.assert_success();
    assert_eq!(out.out("skipped"), Some("true"));
    assert_eq!(out.out("skip-reason"), Some("no-tag"));
    assert_eq!(out.out("provenance-path"), None);
    assert!(
        !ws.path().join("docs").exists(),
        "a skipped run writes no audit files"
    );
    assert!(out.summary.contains("no-tag"), "{}", out.summary);
}

#[test]
fn push_event_skips_and_writes_nothing_else() {
    let ws = Workspace::new();
    dist(&ws);
    let before = files_below(ws.path());
    let out = unsigned(&ws)
        .event("push", json!({"ref": "refs/tags/v1.0.0"}))
        .env("GITHUB_REF_TYPE", "tag")
        .env("GITHUB_REF_NAME", "v1.0.0")
        .input("subject-path", "dist/*")
        .run();
    out.assert_success();
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        vec!["SKIP: push event"]
    );
    assert_eq!(
        out.outputs,
        BTreeMap::from([
            ("skipped".to_string(), "true".to_string()),
            ("skip-reason".to_string(), "push-event".to_string()),
        ])
    );
    assert_eq!(out.summary, "");
    assert!(!ws.path().join("docs").exists());
    assert_eq!(files_below(ws.path()), before);
}

#[test]
fn unsafe_tags_fail_with_invalid_tag() {
    for bad in ["../x", "v1\nrm", "/v1"] {
        let ws = Workspace::new();
        dist(&ws);
        let out = unsigned(&ws)
            .input("tag", bad)
            .input("subject-path", "dist/*")
            .run();
        out.assert_failure("invalid_tag");
        assert_eq!(out.out("tag"), None, "{bad:?}");
        assert!(
            !ws.path().join("docs").exists(),
            "{bad:?} must not reach any path"
        );
    }
    // The same rules apply to a release event's tag.
    let ws = Workspace::new();
    dist(&ws);
    release(&ws, "../x")
        .input("subject-path", "dist/*")
        .run()
        .assert_failure("invalid_tag");
}

// ---------------------------------------------------------------------------------------------
// Subjects

#[test]
fn unmatched_pattern_fails_naming_the_pattern() {
    let ws = Workspace::new();
    dist(&ws);
    let out = release(&ws, "v1.2.0")
        .input("subject-path", "dist/*.tar.gz\ndist/*.msi")
        .run();
    out.assert_failure("subject_pattern_unmatched");
    assert!(out.stdout.contains("dist/*.msi"), "{}", out.stdout);
    assert!(out.summary.contains("dist/*.msi"), "{}", out.summary);
    assert!(
        out.summary.contains("subject_pattern_unmatched"),
        "{}",
        out.summary
    );
}

#[test]
fn no_subject_inputs_fail_with_missing_subjects() {
    let ws = Workspace::new();
    release(&ws, "v1.2.0")
        .run()
        .assert_failure("missing_subjects");
}

#[test]
fn failure_after_tag_is_known_is_recorded_in_manifest() {
    let ws = Workspace::new();
    let out = release(&ws, "v1.2.0")
        .input("subject-path", "dist/*.msi")
        .run();
    out.assert_failure("subject_pattern_unmatched");
    assert_eq!(out.out("tag"), Some("v1.2.0"));
    let m = manifest(&ws, &out);
    let entries = m["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e["status"], "failure");
    assert_eq!(e["failure_reason"], "subject_pattern_unmatched");
    assert_eq!(e["governance_flag"], "provenance-missing");
    assert_eq!(e["tag"], "v1.2.0");
    assert_eq!(e["run_id"], 9228858953u64);
    assert!(e.get("provenance_sha256").is_none(), "{e:#}");
}

#[test]
fn checksums_file_supplies_subjects() {
    let ws = Workspace::new();
    let a = sha256_hex(b"a");
    let b = sha256_hex(b"b");
    ws.write(
        "dist/SHA256SUMS",
        format!("{a}  app-linux.tar.gz\n{b} *app-windows.zip\n"),
    );
    let out = release(&ws, "v1.2.0")
        .input("subject-checksums", "dist/SHA256SUMS")
        .run();
    out.assert_success();
    assert_eq!(out.out("subjects"), Some("2"));
    assert_eq!(
        subjects(&statement(&ws, &out)),
        vec![
            ("app-linux.tar.gz".to_string(), a),
            ("app-windows.zip".to_string(), b)
        ]
    );
}

#[test]
fn inline_checksums_with_binary_marker_supply_subjects() {
    let ws = Workspace::new();
    let a = sha256_hex(b"a");
    let out = release(&ws, "v1.2.0")
        .input(
            "subject-checksums",
            format!("{a} *app.bin\n{EMPTY_SHA256}  empty.txt\n"),
        )
        .run();
    out.assert_success();
    assert_eq!(
        subjects(&statement(&ws, &out)),
        vec![
            ("app.bin".to_string(), a),
            ("empty.txt".to_string(), EMPTY_SHA256.to_string())
        ]
    );
}

#[test]
fn malformed_checksums_fail_with_invalid_checksums() {
    let ws = Workspace::new();
    release(&ws, "v1.2.0")
        .input("subject-checksums", "not a checksum\nline")
        .run()
        .assert_failure("invalid_checksums");
}

#[test]
fn exclusions_and_double_star_select_subjects() {
    let ws = Workspace::new();
    ws.write("dist/app.zip", "1");
    ws.write("dist/app-debug.zip", "2");
    ws.write("dist/linux/amd64/app.tar.gz", "3");
    ws.write("dist/linux/amd64/app.txt", "4");
    ws.write("dist/darwin/app-darwin.tar.gz", "5");
    let out = release(&ws, "v1.2.0")
        .input(
            "subject-path",
            "dist/*.zip, dist/**/*.tar.gz\n!dist/*-debug.zip",
        )
        .run();
    out.assert_success();
    let names: Vec<String> = subjects(&statement(&ws, &out))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, vec!["app-darwin.tar.gz", "app.tar.gz", "app.zip"]);
}

#[test]
fn same_basename_with_different_content_is_a_collision() {
    let ws = Workspace::new();
    ws.write("dist/linux/app", "linux build");
    ws.write("dist/darwin/app", "darwin build");
    let out = release(&ws, "v1.2.0")
        .input("subject-path", "dist/**/app")
        .run();
    out.assert_failure("subject_name_collision");
    assert!(out.stdout.contains("dist/darwin/app"), "{}", out.stdout);
    assert!(out.stdout.contains("dist/linux/app"), "{}", out.stdout);
}

#[test]
fn same_basename_with_same_content_is_one_subject() {
    let ws = Workspace::new();
    ws.write("dist/a/README", "same");
    ws.write("dist/b/README", "same");
    let out = release(&ws, "v1.2.0")
        .input("subject-path", "dist/**/README")
        .run();
    out.assert_success();
    assert_eq!(out.out("subjects"), Some("1"));
}

#[test]
fn ten_thousand_subjects_are_all_in_the_statement() {
    let ws = Workspace::new();
    for i in 0..10_000 {
        ws.write(&format!("dist/f{i:05}.bin"), i.to_string());
    }
    let out = release(&ws, "v1.2.0")
        .input("subject-path", "dist/*.bin")
        .run();
    out.assert_success();
    assert_eq!(out.out("subjects"), Some("10000"));
    let s = subjects(&statement(&ws, &out));
    assert_eq!(s.len(), 10_000);
    assert_eq!(s[0], ("f00000.bin".to_string(), sha256_hex(b"0")));
    assert_eq!(s[9_999], ("f09999.bin".to_string(), sha256_hex(b"9999")));
    assert_eq!(manifest(&ws, &out)["entries"][0]["subjects"], 10_000);
}

#[test]
fn absolute_subject_path_inside_workspace_works() {
    let ws = Workspace::new();
    dist(&ws);
    let abs = format!("{}/dist/*.zip", ws.path().display());
    let out = release(&ws, "v1.2.0").input("subject-path", abs).run();
    out.assert_success();
    assert_eq!(out.out("subjects"), Some("1"));
}

#[test]
fn subject_path_escaping_workspace_is_refused() {
    let ws = Workspace::new();
    release(&ws, "v1.2.0")
        .input("subject-path", "../*")
        .run()
        .assert_failure("invalid_subject_path");
}

// ---------------------------------------------------------------------------------------------
// Audit trail

#[test]
fn rerun_of_same_run_id_updates_its_manifest_entry_and_log_line() {
    let ws = Workspace::new();
    dist(&ws);
    let first = release(&ws, "v1.2.0").input("subject-path", "dist/*").run();
    first.assert_success();
    let second = release(&ws, "v1.2.0")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .input("subject-path", "dist/*")
        .run();
    second.assert_success();
    let sha1 = first.out("provenance-sha256").expect("sha1");
    let sha2 = second.out("provenance-sha256").expect("sha2");
    assert_ne!(sha1, sha2, "attempt 2 has another invocationId");

    let m = manifest(&ws, &second);
    let entries = m["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{m:#}");
    assert_eq!(entries[0]["run_attempt"], 2);
    assert_eq!(entries[0]["provenance_sha256"], sha2);

    let log = ws.read(&format!("{}/PROVENANCE_SHA256.txt", day_dir(&second)));
    assert_eq!(
        log,
        format!("{sha2}  provenance_run_{RUN_ID}/provenance.json\n"),
        "one line for the run, updated"
    );

    // Another run of the same release is a new entry and a new line.
    let third = release(&ws, "v1.2.0")
        .env("GITHUB_RUN_ID", "9228858999")
        .input("subject-path", "dist/*")
        .run();
    third.assert_success();
    assert_eq!(
        manifest(&ws, &third)["entries"]
            .as_array()
            .expect("e")
            .len(),
        2
    );
    let log = ws.read(&format!("{}/PROVENANCE_SHA256.txt", day_dir(&third)));
    assert_eq!(log.lines().count(), 2, "{log}");
}

#[test]
fn rerun_after_failure_turns_the_entry_into_success() {
    let ws = Workspace::new();
    let failed = release(&ws, "v1.2.0").input("subject-path", "dist/*").run();
    failed.assert_failure("subject_pattern_unmatched");
    dist(&ws);
    let ok = release(&ws, "v1.2.0")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .input("subject-path", "dist/*")
        .run();
    ok.assert_success();
    let m = manifest(&ws, &ok);
    let entries = m["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{m:#}");
    let e = &entries[0];
    assert_eq!(e["status"], "success");
    assert!(e.get("failure_reason").is_none(), "{e:#}");
    let flags: Vec<&str> = e["governance_flag_history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|f| f["flag"].as_str().expect("flag"))
        .collect();
    assert_eq!(flags, vec!["provenance-missing", "provenance-ready"]);
}

#[test]
fn corrupt_manifest_is_refused_and_left_byte_for_byte() {
    let truncated: &[u8] = b"{\"schema_version\": 1, \"entries\": [ {\"run_id\": 1,\n";
    // Regression: bytes that are not UTF-8 were reported as write_failed, after provenance.json
    // and the SHA-256 log line had already been written.
    let not_utf8: &[u8] = b"{\"schema_version\": 1, \"entries\": []}\xff\xfe";
    for corrupt in [truncated, not_utf8] {
        let ws = Workspace::new();
        dist(&ws);
        let days = report_days();
        for d in &days {
            ws.write(&format!("{d}/manifest.json"), corrupt);
        }
        let out = release(&ws, "v1.2.0").input("subject-path", "dist/*").run();
        out.assert_failure("audit_file_corrupt");
        assert!(out.stdout.contains("manifest.json"), "{}", out.stdout);
        for d in &days {
            let now = std::fs::read(ws.path().join(format!("{d}/manifest.json"))).expect("read");
            assert_eq!(now, corrupt.to_vec(), "{d}/manifest.json must be untouched");
            // Nothing else of the audit trail is written for a day we cannot record.
            assert_eq!(
                files_below(&ws.path().join(d)),
                vec!["manifest.json".to_string()]
            );
        }
    }
}

#[test]
fn outputs_are_workspace_relative_and_files_exist() {
    let ws = Workspace::new();
    dist(&ws);
    let mut runner = release(&ws, "v1.2.0").input("subject-path", "dist/*");
    // Run from elsewhere: paths must still be relative to GITHUB_WORKSPACE.
    runner.cwd = std::env::temp_dir();
    let out = runner.run();
    out.assert_success();
    let ws_str = ws.path().to_string_lossy().into_owned();
    for name in ["provenance-path", "manifest-path"] {
        let v = out.out(name).unwrap_or_else(|| panic!("{name} output"));
        assert!(!v.starts_with('/') && !v.contains(&ws_str), "{name}={v}");
        assert!(v.starts_with("docs/reports/"), "{name}={v}");
        assert!(
            ws.path().join(v).is_file(),
            "{name}={v} exists in the workspace"
        );
    }
    let day = day_dir(&out);
    assert_eq!(
        out.out("provenance-path"),
        Some(format!("{day}/provenance_run_{RUN_ID}/provenance.json").as_str())
    );
}

#[test]
fn reports_dir_input_moves_the_audit_trail() {
    let ws = Workspace::new();
    dist(&ws);
    let out = release(&ws, "v1.2.0")
        .input("subject-path", "dist/*")
        .input("reports-dir", "audit/provenance")
        .run();
    out.assert_success();
    let p = out.out("provenance-path").expect("path");
    assert!(p.starts_with("audit/provenance/"), "{p}");
    assert!(!ws.path().join("docs").exists());
}

#[test]
fn statement_file_bytes_hash_to_the_provenance_sha256_output() {
    let ws = Workspace::new();
    dist(&ws);
    let out = release(&ws, "v1.2.0").input("subject-path", "dist/*").run();
    out.assert_success();
    let bytes = std::fs::read(ws.path().join(out.out("provenance-path").expect("p"))).expect("r");
    let sha = out.out("provenance-sha256").expect("sha");
    assert_eq!(sha256_hex(&bytes), sha);
    assert_eq!(manifest(&ws, &out)["entries"][0]["provenance_sha256"], sha);
    let log = ws.read(&format!("{}/PROVENANCE_SHA256.txt", day_dir(&out)));
    assert_eq!(
        log,
        format!("{sha}  provenance_run_{RUN_ID}/provenance.json\n")
    );
    assert!(
        bytes.ends_with(b"}\n"),
        "pretty JSON with a trailing newline"
    );
}

#[test]
fn statement_has_the_fields_attest_build_provenance_emits() {
    let ws = Workspace::new();
    dist(&ws);
    let out = release(&ws, "v1.2.0").input("subject-path", "dist/*").run();
    out.assert_success();
    let j = statement(&ws, &out);
    let p = &j["predicate"];
    assert_eq!(j["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(j["predicateType"], "https://slsa.dev/provenance/v1");
    let bd = &p["buildDefinition"];
    assert_eq!(
        bd["buildType"],
        "https://actions.github.io/buildtypes/workflow/v1"
    );
    let w = &bd["externalParameters"]["workflow"];
    assert_eq!(w["ref"], "refs/tags/v1.2.0");
    assert_eq!(w["repository"], "https://github.com/octo/app");
    assert_eq!(w["path"], ".github/workflows/release.yml");
    let g = &bd["internalParameters"]["github"];
    assert_eq!(g["event_name"], "release");
    assert_eq!(g["repository_id"], "804070735");
    assert_eq!(g["repository_owner_id"], "16248153");
    assert_eq!(g["runner_environment"], "github-hosted");
    let d = &bd["resolvedDependencies"][0];
    assert_eq!(d["uri"], "git+https://github.com/octo/app@refs/tags/v1.2.0");
    assert_eq!(d["digest"]["gitCommit"], SHA);
    assert_eq!(
        p["runDetails"]["builder"]["id"],
        "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1.2.0"
    );
    let md = &p["runDetails"]["metadata"];
    assert_eq!(
        md["invocationId"],
        format!("https://github.com/octo/app/actions/runs/{RUN_ID}/attempts/1")
    );
    for k in ["startedOn", "finishedOn"] {
        let t = md[k].as_str().unwrap_or_else(|| panic!("{k}"));
        assert!(
            chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z'),
            "{k}={t}"
        );
    }
    assert!(
        bd["externalParameters"].get("inputs").is_none(),
        "inputs only for workflow_dispatch"
    );
}

// ---------------------------------------------------------------------------------------------
// Step summary

#[test]
fn summary_shows_tag_commit_subjects_hash_and_files_written() {
    let ws = Workspace::new();
    dist(&ws);
    let out = release(&ws, "v1.2.0").input("subject-path", "dist/*").run();
    out.assert_success();
    let s = &out.summary;
    assert!(s.contains("`v1.2.0` (from release-event)"), "{s}");
    assert!(s.contains(SHA), "{s}");
    assert!(s.contains("| Name | SHA-256 |"), "{s}");
    assert!(
        s.contains(&format!("| `app.zip` | `{}` |", sha256_hex(b"zip bytes"))),
        "{s}"
    );
    assert!(
        s.contains(out.out("provenance-sha256").expect("sha")),
        "{s}"
    );
    assert!(s.contains("### Files written"), "{s}");
    for f in [
        out.out("provenance-path").expect("p").to_string(),
        out.out("manifest-path").expect("m").to_string(),
        format!("{}/PROVENANCE_SHA256.txt", day_dir(&out)),
    ] {
        assert!(s.contains(&format!("- `{f}`")), "{f} missing from:\n{s}");
    }
}

#[test]
fn summary_lists_fifty_subjects_and_counts_the_rest() {
    let ws = Workspace::new();
    for i in 0..57 {
        ws.write(&format!("dist/pkg-{i:02}.tgz"), i.to_string());
    }
    let out = release(&ws, "v1.2.0").input("subject-path", "dist/*").run();
    out.assert_success();
    let rows = out
        .summary
        .lines()
        .filter(|l| l.starts_with("| `pkg-"))
        .count();
    assert_eq!(rows, 50, "{}", out.summary);
    assert!(
        out.summary.contains("and 7 more subjects"),
        "{}",
        out.summary
    );
    assert!(out.summary.contains("| Subjects | 57 |"), "{}", out.summary);
}

// ---------------------------------------------------------------------------------------------
// Inputs and context

#[test]
fn underscore_input_spelling_from_a_shell_works() {
    let ws = Workspace::new();
    dist(&ws);
    let out = release(&ws, "v1.2.0")
        .env("INPUT_SUBJECT_PATH", "dist/*.zip")
        .run();
    out.assert_success();
    assert_eq!(out.out("subjects"), Some("1"));
}

#[test]
fn cli_flags_select_mode_and_inputs() {
    let ws = Workspace::new();
    dist(&ws);
    let out = ws
        .runner()
        .release_event("v1.2.0")
        .env("GITHUB_SHA", SHA)
        .arg("provenance")
        .arg("--subject-path")
        .arg("dist/*.tar.gz")
        .arg("--sign")
        .arg("none")
        .run();
    out.assert_success();
    assert_eq!(out.out("subjects"), Some("1"));
    assert_eq!(subjects(&statement(&ws, &out))[0].0, "app.tar.gz");
}

#[test]
fn unknown_mode_fails_with_unknown_mode() {
    let ws = Workspace::new();
    let out = unsigned(&ws).input("mode", "deploy").run();
    out.assert_failure("unknown_mode");
    assert!(
        out.stdout.contains("provenance, validate"),
        "{}",
        out.stdout
    );
}

#[test]
fn non_yaml_boolean_fails_with_invalid_input() {
    let ws = Workspace::new();
    dist(&ws);
    let out = release(&ws, "v1.2.0")
        .input("subject-path", "dist/*")
        .env("INPUT_ATTEST", "yes")
        .run();
    out.assert_failure("invalid_input");
    assert!(out.stdout.contains("attest"), "{}", out.stdout);
}

#[test]
fn missing_run_id_fails_with_missing_context() {
    let ws = Workspace::new();
    dist(&ws);
    let out = release(&ws, "v1.2.0")
        .remove("GITHUB_RUN_ID")
        .input("subject-path", "dist/*")
        .run();
    out.assert_failure("missing_context");
    assert!(out.stdout.contains("GITHUB_RUN_ID"), "{}", out.stdout);
}

#[test]
fn unreadable_event_file_fails_with_event_unreadable() {
    let ws = Workspace::new();
    dist(&ws);
    let missing = ws.runner_temp.path().join("no-such-event.json");
    unsigned(&ws)
        .env("GITHUB_EVENT_NAME", "release")
        .env("GITHUB_EVENT_PATH", missing.to_string_lossy())
        .input("subject-path", "dist/*")
        .run()
        .assert_failure("event_unreadable");

    let not_json: PathBuf = ws.runner_temp.path().join("event.json");
    std::fs::write(&not_json, "{ not json").expect("write");
    unsigned(&ws)
        .env("GITHUB_EVENT_NAME", "release")
        .env("GITHUB_EVENT_PATH", not_json.to_string_lossy())
        .input("subject-path", "dist/*")
        .run()
        .assert_failure("event_unreadable");
}

#[test]
fn github_token_never_appears_in_outputs_logs_or_files() {
    const TOKEN: &str = "ghs_SECRETVALUE";
    let ws = Workspace::new();
    dist(&ws);
    let ok = release(&ws, "v1.2.0")
        .input("github-token", TOKEN)
        .input("subject-path", "dist/*")
        .run();
    ok.assert_success();
    let failed = release(&ws, "v1.2.1")
        .env("GITHUB_RUN_ID", "9228858999")
        .input("github-token", TOKEN)
        .input("subject-path", "dist/*.msi")
        .run();
    failed.assert_failure("subject_pattern_unmatched");
    for out in [&ok, &failed] {
        // The one allowed appearance: the `::add-mask::` command the runner consumes.
        let mask = format!("::add-mask::{TOKEN}");
        assert!(
            out.stdout.lines().any(|l| l == mask),
            "token not masked:\n{}",
            out.stdout
        );
        let logged: String = out
            .stdout
            .lines()
            .filter(|l| *l != mask)
            .collect::<Vec<_>>()
            .join("\n");
        for (what, text) in [
            ("stdout", &logged),
            ("stderr", &out.stderr),
            ("outputs", &out.outputs_text),
            ("summary", &out.summary),
        ] {
            assert!(!text.contains(TOKEN), "token leaked into {what}:\n{text}");
        }
    }
    for rel in files_below(ws.path()) {
        let bytes = std::fs::read(ws.path().join(&rel)).expect("read");
        assert!(
            !String::from_utf8_lossy(&bytes).contains(TOKEN),
            "token leaked into {rel}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// action.yml agrees with the binary: `src/interface.rs` (the code's own input and output
// lists against action.yml, both directions; `set_output` checks names in debug builds).

// ---------------------------------------------------------------------------------------------
// Failure codes that only the environment can produce.

#[test]
fn sign_key_without_signing_key_is_missing_input() {
    let ws = Workspace::new();
    dist(&ws);
    let out = release(&ws, "v1.0.0")
        .input("subject-path", "dist/*")
        .input("sign", "key")
        .run();
    out.assert_failure("missing_input");
    assert!(out.stdout.contains("signing-key"), "{}", out.stdout);
}

#[test]
fn subject_that_fails_to_read_is_subject_unreadable() {
    // A listed regular file whose read fails: /proc/self/mem errors (EIO) at offset 0.
    let ws = Workspace::new();
    dist(&ws);
    std::os::unix::fs::symlink("/proc/self/mem", ws.path().join("dist/broken.bin"))
        .expect("symlink");
    let out = release(&ws, "v1.0.0").input("subject-path", "dist/*").run();
    out.assert_failure("subject_unreadable");
    assert!(out.stdout.contains("dist/broken.bin"), "{}", out.stdout);
}

#[test]
fn oidc_endpoint_that_does_not_answer_is_oidc_token_failed() {
    let ws = Workspace::new();
    dist(&ws);
    let out = release(&ws, "v1.0.0")
        .input("subject-path", "dist/*")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "http://127.0.0.1:9/token?x=1",
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-secret")
        // The token GET is retried on network errors: keep the backoff to milliseconds.
        .env("SLSA_PROVENANCE_RETRY_BASE_MS", "1")
        .run();
    out.assert_failure("oidc_token_failed");
    let stdout_without_masks: String = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect();
    assert!(!stdout_without_masks.contains("request-token-secret"));
}

#[test]
fn audit_directory_blocked_by_a_file_is_write_failed() {
    // `docs/reports` exists as a file: the day's directory cannot be created.
    let ws = Workspace::new();
    dist(&ws);
    ws.write("docs/reports", b"not a directory");
    let out = release(&ws, "v1.0.0").input("subject-path", "dist/*").run();
    out.assert_failure("write_failed");
    assert_eq!(ws.read("docs/reports"), "not a directory");
}
