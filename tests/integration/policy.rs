//! The governance policy file (`policy` input, default `.github/slsa-policy.yml`) as the binary
//! applies it: a policy turns a passing validation into a failure and an input overrides it
//! back; an invalid file is `policy_invalid` naming its line and field before anything is
//! written; report judges against the policy's KPI targets.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::common::{Runner, Workspace};

const GENERATOR_V122: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.2.2";
const GENERATOR_V210: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0";
const V14_DIGEST: &str = "sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa";

/// A workspace holding slsa-github-generator's real v14 provenance (SLSA v0.2).
fn generator_workspace() -> Workspace {
    let ws = Workspace::new();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real-world/slsa-github-generator");
    let name = "gha_generic-v2.1.0-binary-linux-amd64-push-v14.intoto.jsonl";
    ws.write(name, std::fs::read(dir.join(name)).expect("fixture"));
    ws
}

/// Validate v14 by digest; builder and v0.2 override left to the test (input or policy).
fn validate_v14(ws: &Workspace) -> Runner {
    ws.runner()
        .arg("validate")
        .input("result-path", "validate-report.json")
        .input("rekor-url", "offline")
        .input(
            "provenance-path",
            "gha_generic-v2.1.0-binary-linux-amd64-push-v14.intoto.jsonl",
        )
        .input("source-repository", "slsa-framework/example-package")
        .input("expected-tag", "v14")
        .input("subject-digest", V14_DIGEST)
}

fn policy(builder: &str, allow_v02: bool) -> String {
    let types = if allow_v02 {
        "[https://slsa.dev/provenance/v1, https://slsa.dev/provenance/v0.2]"
    } else {
        "[https://slsa.dev/provenance/v1]"
    };
    format!(
        "version: 1\nallowed-predicate-types: {types}\nreleases:\n  - tag-pattern: 'v*'\n    builder-id: {builder}\n  - tag-pattern: '*'\n    builder-id: https://example.com/never\n"
    )
}

#[test]
fn policy_builder_rule_fails_a_passing_validation_and_an_input_overrides_it() {
    let ws = generator_workspace();
    // Without a policy, the inputs pass.
    validate_v14(&ws)
        .input("expected-builder-id", GENERATOR_V210)
        .input("allow-predicate-v02", "true")
        .run()
        .assert_success();
    // The default policy file expects another builder for v* tags: builder_mismatch.
    ws.write(".github/slsa-policy.yml", policy(GENERATOR_V122, true));
    let out = validate_v14(&ws).run();
    out.assert_failure("builder_mismatch");
    assert!(
        out.summary.contains(&format!(
            "| `expected-builder-id` | `{GENERATOR_V122}` | policy |"
        )),
        "{}",
        out.summary
    );
    assert!(
        out.summary.contains("Release rule 0 applies"),
        "{}",
        out.summary
    );
    // The input wins over the file.
    let out = validate_v14(&ws)
        .input("expected-builder-id", GENERATOR_V210)
        .run();
    out.assert_success();
    assert!(
        out.summary.contains(&format!(
            "| `expected-builder-id` | `{GENERATOR_V210}` | input |"
        )),
        "{}",
        out.summary
    );
    // `policy: none` ignores the file.
    validate_v14(&ws)
        .input("policy", "none")
        .input("allow-predicate-v02", "true")
        .run()
        .assert_success();
}

#[test]
fn policy_predicate_types_decide_the_v02_override_unless_an_input_does() {
    let ws = generator_workspace();
    // A policy named by the input that does not list v0.2: predicate_mismatch.
    ws.write("ops/policy.yml", policy(GENERATOR_V210, false));
    validate_v14(&ws)
        .input("policy", "ops/policy.yml")
        .run()
        .assert_failure("predicate_mismatch");
    // The input override allows it again.
    validate_v14(&ws)
        .input("policy", "ops/policy.yml")
        .input("allow-predicate-v02", "true")
        .run()
        .assert_success();
    // A policy listing v0.2 allows it without the input.
    ws.write("ops/policy.yml", policy(GENERATOR_V210, true));
    let out = validate_v14(&ws).input("policy", "ops/policy.yml").run();
    out.assert_success();
    assert!(
        out.summary
            .contains("| `allow-predicate-v02` | `true` | policy |"),
        "{}",
        out.summary
    );
}

#[test]
fn policy_self_hosted_rule_and_identity_issuer_apply() {
    let ws = generator_workspace();
    // The issuer the policy requires is not the one that signed: identity_mismatch.
    ws.write(
        ".github/slsa-policy.yml",
        format!(
            "{}identity:\n  issuer: https://issuer.example.com\nrunners:\n  allow-self-hosted: false\n",
            policy(GENERATOR_V210, true)
        ),
    );
    let out = validate_v14(&ws).run();
    out.assert_failure("identity_mismatch");
    assert!(
        out.summary
            .contains("| `deny-self-hosted-runners` | `true` | policy |"),
        "{}",
        out.summary
    );
    assert!(
        out.summary
            .contains("| `certificate-oidc-issuer` | `https://issuer.example.com` | policy |"),
        "{}",
        out.summary
    );
}

#[test]
fn invalid_policy_is_policy_invalid_naming_line_and_field_and_writes_nothing() {
    let ws = generator_workspace();
    // A typo on line 4.
    ws.write(
        ".github/slsa-policy.yml",
        "version: 1\nreleases:\n  - tag-pattern: 'v*'\n    builder-idd: x\n",
    );
    let out = validate_v14(&ws).run();
    out.assert_failure("policy_invalid");
    assert!(out.stdout.contains("line 4"), "{}", out.stdout);
    assert!(out.stdout.contains("builder-idd"), "{}", out.stdout);
    assert!(!ws.path().join("validate-report.json").exists());
    // A semantic error: a role without what its mode needs, named by its line.
    ws.write(
        ".github/slsa-policy.yml",
        "version: 1\nroles:\n  validator:\n    modes: [validate]\n    permissions:\n      contents: read\n",
    );
    let out = validate_v14(&ws).run();
    out.assert_failure("policy_invalid");
    assert!(out.stdout.contains("line 5"), "{}", out.stdout);
    assert!(
        out.stdout.contains("roles.validator.permissions"),
        "{}",
        out.stdout
    );
    // A named file that does not exist, and one that is not YAML.
    validate_v14(&ws)
        .input("policy", "missing.yml")
        .run()
        .assert_failure("policy_invalid");
    ws.write("bad.yml", [0xff, 0xfe, 0x00]);
    validate_v14(&ws)
        .input("policy", "bad.yml")
        .run()
        .assert_failure("policy_invalid");
    validate_v14(&ws)
        .input("policy", "../outside.yml")
        .run()
        .assert_failure("invalid_input");
}

fn entry(run_id: u64, status: &str, ms: u64) -> Value {
    json!({"run_id": run_id, "tag": format!("v1.{run_id}"), "sha": "0123abc", "actor": "octocat",
        "artifact_url": if status == "success" { Some("https://github.com/x") } else { None },
        "timestamp": format!("2026-11-10T0{run_id}:00:00Z"), "status": status,
        "governance_flag": "provenance-ready", "governance_flag_history": [],
        "release_url": null, "provenance_sha256": "ab", "duration_ms": ms})
}

#[test]
fn report_judges_against_the_policy_kpi_targets() {
    let ws = Workspace::new();
    let mut failed = entry(4, "failure", 50_000);
    failed["failure_reason"] = "subject_pattern_unmatched".into();
    failed["issue_number"] = 12.into();
    let manifest = json!({"schema_version": 1, "entries": [
        entry(1, "success", 30_000), entry(2, "success", 40_000),
        entry(3, "success", 45_000), failed]});
    ws.write(
        "docs/reports/2026-11-10/manifest.json",
        serde_json::to_string_pretty(&manifest).expect("json"),
    );
    let report = || {
        ws.runner()
            .event("schedule", json!({"schedule": "0 6 * * 1"}))
            .input("mode", "report")
    };
    // Default targets (100%): 75% fails, the badge is red.
    report().run().assert_success();
    let badge = || -> Value {
        serde_json::from_str(&ws.read("docs/reports/provenance-badge.json")).expect("badge")
    };
    assert_eq!(badge()["color"], "red");
    // The policy's 70% target: 75% passes.
    ws.write(
        ".github/slsa-policy.yml",
        "version: 1\nkpi-targets:\n  success-rate: 0.7\n  badge-warn-rate: 0.5\n",
    );
    let out = report().run();
    out.assert_success();
    let md = ws.read("docs/reports/v_ops_slsa_status.md");
    let row = md
        .lines()
        .find(|l| l.starts_with("| Success rate |"))
        .expect("success row");
    assert!(row.contains("70%"), "{row}");
    assert!(!row.contains("fail"), "{row}");
    assert_ne!(badge()["color"], "red");
    assert!(out.summary.contains("Effective policy"), "{}", out.summary);
    assert!(out.summary.contains("success rate 0.7"), "{}", out.summary);
}
