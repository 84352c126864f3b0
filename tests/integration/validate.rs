//! Integration tests: `mode: validate` and `verify-bundle`, driving the real binary.
//!
//! Real provenance made by other builders (`tests/fixtures/real-world/`) validates with the
//! inputs a user would give and is rejected, with the right code, for a wrong artifact,
//! repository, tag, builder or identity. slsa-github-generator's old DSSE envelopes are
//! `log_proof_missing` offline and verify against a fake Rekor on 127.0.0.1 whose entry we
//! sign with a test log key placed in a custom trusted root. What `mode: provenance` signs
//! with a key validates, and a flipped byte is `signature_invalid`. `verify-bundle` runs over
//! every Sigstore conformance case, by file and by digest.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{bin, sha256_hex, test_signing_key, Outcome, Runner, Workspace};

const RUNNER_BUILDER: &str = "https://github.com/actions/runner/github-hosted";
const GENERATOR_V122: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.2.2";
const GENERATOR_V210: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A workspace holding copies of the real-world fixtures (the validate inputs are paths in
/// the workspace, as in a workflow).
fn real_world() -> Workspace {
    let ws = Workspace::new();
    for sub in ["github-cli", "slsa-github-generator"] {
        let dir = fixtures().join("real-world").join(sub);
        for entry in std::fs::read_dir(&dir).expect("fixtures") {
            let p = entry.expect("entry").path();
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            ws.write(&format!("{sub}/{name}"), std::fs::read(&p).expect("read"));
        }
    }
    ws
}

pub(crate) fn validate(ws: &Workspace) -> Runner {
    ws.runner()
        .arg("validate")
        .input("result-path", "validate-report.json")
        .input("rekor-url", "offline")
}

pub(crate) fn report(ws: &Workspace) -> Value {
    serde_json::from_str(&ws.read("validate-report.json")).expect("report JSON")
}

/// The failing checks' codes of the report's first artifact, in order.
fn failed_checks(ws: &Workspace) -> Vec<String> {
    report(ws)["artifacts"][0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| c["reason"].as_str().expect("reason").to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// actions/attest-build-provenance, public-good

fn attest_public_good(ws: &Workspace) -> Runner {
    validate(ws)
        .input(
            "provenance-path",
            "github-cli/reusable-workflow-attestation.sigstore.json",
        )
        .input("subject-path", "github-cli/reusable-workflow-artifact")
        .input("source-repository", "malancas/attest-demo")
        .input("expected-builder-id", RUNNER_BUILDER)
}

#[test]
fn attest_build_provenance_public_good_validates_with_user_inputs() {
    let ws = real_world();
    let out = attest_public_good(&ws)
        .input(
            "signer-workflow",
            "github/artifact-attestations-workflows/.github/workflows/attest.yml",
        )
        .run();
    out.assert_success();
    assert_eq!(out.out("verified"), Some("true"));
    assert_eq!(out.out("subjects-verified"), Some("1"));
    assert_eq!(
        out.out("predicate-type"),
        Some("https://slsa.dev/provenance/v1")
    );
    assert_eq!(out.out("builder-id"), Some(RUNNER_BUILDER));
    assert_eq!(
        out.out("commit"),
        Some("95baf27389e83e6a5c48f42e190d48d7abcea19e")
    );
    assert!(out
        .out("signer-identity")
        .unwrap_or_default()
        .starts_with("https://github.com/github/artifact-attestations-workflows/"));
    assert_eq!(out.out("result-path"), Some("validate-report.json"));
    let r = report(&ws);
    assert_eq!(r["verified"], true);
    // No tag given and none resolvable: the tag check is skipped, not passed.
    let tag = r["artifacts"][0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["check"] == "tag")
        .cloned()
        .expect("tag check");
    assert_eq!(tag["status"], "skipped");
    assert!(out
        .summary
        .contains("| `reusable-workflow-artifact` | subject | passed"));
}

#[test]
fn attest_build_provenance_rejected_for_a_wrong_artifact() {
    let ws = real_world();
    ws.write("other.bin", b"not the attested artifact");
    attest_public_good(&ws)
        .input("subject-path", "other.bin")
        .run()
        .assert_failure("subject_mismatch");
    assert_eq!(report(&ws)["failure_reason"], "subject_mismatch");
}

#[test]
fn attest_build_provenance_rejected_for_a_wrong_repository() {
    let ws = real_world();
    let out = attest_public_good(&ws)
        .input("source-repository", "evil/attest-demo")
        .run();
    out.assert_failure("identity_mismatch");
    // The certificate's repository fails first, the statement's repository is listed too.
    assert_eq!(
        failed_checks(&ws),
        vec!["identity_mismatch", "source_mismatch"]
    );
}

#[test]
fn attest_build_provenance_rejected_for_a_wrong_builder_or_none_named() {
    let ws = real_world();
    attest_public_good(&ws)
        .input("expected-builder-id", "https://github.com/evil/builder")
        .run()
        .assert_failure("builder_mismatch");
    // Without a named builder, the claimed builder must be the signing workflow: it is not.
    validate(&ws)
        .input(
            "provenance-path",
            "github-cli/reusable-workflow-attestation.sigstore.json",
        )
        .input("subject-path", "github-cli/reusable-workflow-artifact")
        .input("source-repository", "malancas/attest-demo")
        .run()
        .assert_failure("builder_mismatch");
    attest_public_good(&ws)
        .input("builder-id-regexp", "^https://github\\.com/actions/runner/")
        .remove("INPUT_EXPECTED-BUILDER-ID")
        .run()
        .assert_success();
}

#[test]
fn attest_build_provenance_rejected_for_a_wrong_identity() {
    let ws = real_world();
    attest_public_good(&ws)
        .input(
            "certificate-identity",
            "https://github.com/evil/workflows/.github/workflows/attest.yml@refs/heads/main",
        )
        .run()
        .assert_failure("identity_mismatch");
    attest_public_good(&ws)
        .input(
            "signer-workflow",
            "github/artifact-attestations-workflows/.github/workflows/attest.yml@refs/tags/*",
        )
        .run()
        .assert_failure("identity_mismatch");
    attest_public_good(&ws)
        .input(
            "certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com/hammer-time",
        )
        .run()
        .assert_failure("identity_mismatch");
}

#[test]
fn attest_build_provenance_rejected_for_a_wrong_tag_or_commit() {
    let ws = real_world();
    attest_public_good(&ws)
        .input("expected-tag", "v1.*")
        .run()
        .assert_failure("tag_mismatch");
    attest_public_good(&ws)
        .input(
            "expected-commit",
            "0000000000000000000000000000000000000000",
        )
        .run()
        .assert_failure("commit_mismatch");
    attest_public_good(&ws)
        .input(
            "expected-commit",
            "95baf27389e83e6a5c48f42e190d48d7abcea19e",
        )
        .run()
        .assert_success();
}

#[test]
fn attest_build_provenance_enterprise_issuer_validates_with_its_issuer() {
    let ws = real_world();
    let run = || {
        validate(&ws)
            .input("provenance-path", "github-cli/custom-issuer.sigstore.json")
            .input("subject-path", "github-cli/custom-issuer-artifact")
            .input("source-repository", "too-legit/attest")
    };
    run()
        .input(
            "certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com/hammer-time",
        )
        .run()
        .assert_success();
    run().run().assert_failure("identity_mismatch");
}

#[test]
fn attest_build_provenance_githubs_private_instance_validates() {
    // GitHub's own Sigstore instance: no log entry, an RFC 3161 timestamp; embedded root.
    let ws = real_world();
    let out = validate(&ws)
        .input(
            "provenance-path",
            "github-cli/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl",
        )
        .input(
            "subject-path",
            "github-cli/github_provenance_demo-0.0.12-py3-none-any.whl",
        )
        .input("source-repository", "actions/attest-demo")
        .input("expected-builder-id", RUNNER_BUILDER)
        .run();
    out.assert_success();
}

#[test]
fn bundle_with_an_invalid_signature_is_signature_invalid() {
    let ws = real_world();
    validate(&ws)
        .input(
            "provenance-path",
            "github-cli/sigstoreBundle-invalid-signature.json",
        )
        .input("subject-digest", format!("sha256:{}", "0".repeat(64)))
        .run()
        .assert_failure("signature_invalid");
}

// ---------------------------------------------------------------------------------------------
// slsa-github-generator

fn generator_v14(ws: &Workspace) -> Runner {
    validate(ws)
        .input(
            "provenance-path",
            "slsa-github-generator/gha_generic-v2.1.0-binary-linux-amd64-push-v14.intoto.jsonl",
        )
        .input("source-repository", "slsa-framework/example-package")
        .input("expected-tag", "v14")
        .input("expected-builder-id", GENERATOR_V210)
        .input("allow-predicate-v02", "true")
}

#[test]
fn slsa_generator_bundle_validates_by_digest_without_the_file() {
    let ws = real_world();
    let out = generator_v14(&ws)
        .input(
            "subject-digest",
            "sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa",
        )
        .run();
    out.assert_success();
    assert_eq!(out.out("tag"), Some("v14"));
    assert_eq!(out.out("governance-overrides"), Some("allow-predicate-v02"));
    assert_eq!(report(&ws)["overrides"], json!(["allow-predicate-v02"]));
    assert!(
        out.summary.contains("Governance override"),
        "{}",
        out.summary
    );
}

#[test]
fn slsa_generator_bundle_rejects_the_wrong_artifact() {
    // The README's case 3: everything valid but the subject.
    let ws = real_world();
    generator_v14(&ws)
        .input(
            "subject-path",
            "slsa-github-generator/binary-linux-amd64-multi-subject-second",
        )
        .run()
        .assert_failure("subject_mismatch");
}

#[test]
fn slsa_generator_v02_needs_the_governance_override() {
    let ws = real_world();
    generator_v14(&ws)
        .input(
            "subject-digest",
            "sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa",
        )
        .remove("INPUT_ALLOW-PREDICATE-V02")
        .run()
        .assert_failure("predicate_mismatch");
}

#[test]
fn slsa_generator_bundle_rejected_for_a_wrong_tag_repository_or_builder() {
    let ws = real_world();
    let digest = "sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa";
    generator_v14(&ws)
        .input("subject-digest", digest)
        .input("expected-tag", "v15")
        .run()
        .assert_failure("tag_mismatch");
    generator_v14(&ws)
        .input("subject-digest", digest)
        .input("source-repository", "slsa-framework/other")
        .run()
        .assert_failure("identity_mismatch");
    generator_v14(&ws)
        .input("subject-digest", digest)
        .input("expected-builder-id", GENERATOR_V122)
        .run()
        .assert_failure("builder_mismatch");
}

fn annotated_tag(ws: &Workspace) -> Runner {
    validate(ws)
        .input(
            "provenance-path",
            "slsa-github-generator/annotated-tag.intoto.jsonl",
        )
        .input("subject-path", "slsa-github-generator/annotated-tag")
        .input("source-repository", "asraa/slsa-on-github-test")
        .input("expected-tag", "v1.5.0")
        .input("expected-builder-id", GENERATOR_V122)
        .input("allow-predicate-v02", "true")
}

#[test]
fn old_dsse_envelope_offline_is_log_proof_missing_never_a_pass() {
    let ws = real_world();
    let out = annotated_tag(&ws).run();
    out.assert_failure("log_proof_missing");
    assert!(out.stdout.contains("rekor-url"), "{}", out.stdout);
    let out = validate(&ws)
        .input(
            "provenance-path",
            "slsa-github-generator/workflow-inputs.intoto.jsonl",
        )
        .input("subject-path", "slsa-github-generator/workflow-inputs")
        .input("source-repository", "laurentsimon/slsa-on-github-test")
        .input("allow-predicate-v02", "true")
        .run();
    out.assert_failure("log_proof_missing");
}

// ---------------------------------------------------------------------------------------------
// Fake Rekor for the old envelopes

/// A Rekor log key of our own, and a trusted root that trusts it (plus public-good Fulcio/CT).
struct TestLog {
    key: p256::ecdsa::SigningKey,
    log_id: Vec<u8>,
}

impl TestLog {
    fn new() -> Self {
        use p256::pkcs8::EncodePublicKey;
        let key = p256::ecdsa::SigningKey::from_slice(&[42u8; 32]).expect("key");
        let spki = key
            .verifying_key()
            .to_public_key_der()
            .expect("spki")
            .into_vec();
        let log_id = hex::decode(sha256_hex(&spki)).expect("hex");
        Self { key, log_id }
    }

    fn trusted_root(&self, url: &str) -> String {
        use p256::pkcs8::EncodePublicKey;
        let mut root: Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures().join("real-world/github-cli/trusted_root.json"))
                .expect("root"),
        )
        .expect("json");
        let spki = self
            .key
            .verifying_key()
            .to_public_key_der()
            .expect("spki")
            .into_vec();
        root["tlogs"] = json!([{
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": b64(&spki),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": "2020-01-01T00:00:00Z"}
            },
            "logId": {"keyId": b64(&self.log_id)}
        }]);
        root.to_string()
    }

    /// Rekor's answer for one intoto v0.0.2 entry of `envelope`, its SET signed by our key.
    fn entry(&self, envelope: &Value, integrated_time: i64) -> (String, Value) {
        use p256::ecdsa::signature::Signer;
        let payload = base64::engine::general_purpose::STANDARD
            .decode(envelope["payload"].as_str().expect("payload"))
            .expect("b64");
        let sig = &envelope["signatures"][0];
        let cert_pem = sig["cert"].as_str().expect("cert");
        // Keys in canonical (sorted) order; Rekor double-encodes sig and publicKey.
        let body = json!({
            "apiVersion": "0.0.2",
            "kind": "intoto",
            "spec": {"content": {
                "envelope": {
                    "payloadType": envelope["payloadType"],
                    "signatures": [{
                        "publicKey": b64(cert_pem.as_bytes()),
                        "sig": b64(sig["sig"].as_str().expect("sig").as_bytes()),
                    }],
                },
                "hash": {"algorithm": "sha256", "value": sha256_hex(envelope.to_string().as_bytes())},
                "payloadHash": {"algorithm": "sha256", "value": sha256_hex(&payload)},
            }},
        });
        let body = b64(body.to_string().as_bytes());
        let log_index = 7_000_001_i64;
        let set_payload = json!({
            "body": body,
            "integratedTime": integrated_time,
            "logID": hex::encode(&self.log_id),
            "logIndex": log_index,
        });
        let signature: p256::ecdsa::Signature = self.key.sign(set_payload.to_string().as_bytes());
        let uuid = sha256_hex(body.as_bytes());
        let answer = json!({ uuid.clone(): {
            "body": body,
            "integratedTime": integrated_time,
            "logID": hex::encode(&self.log_id),
            "logIndex": log_index,
            "verification": {"signedEntryTimestamp": b64(signature.to_der().as_bytes())},
        }});
        (uuid, answer)
    }
}

/// 2023-02-01T23:15:00Z: inside the annotated-tag certificate's ten minutes.
const INSIDE_CERT_VALIDITY: i64 = 1_675_293_300;

async fn fake_rekor(uuid: &str, answer: &Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/index/retrieve"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([uuid])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/log/entries/{uuid}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(&server)
        .await;
    server
}

fn annotated_envelope() -> Value {
    serde_json::from_str(
        std::fs::read_to_string(
            fixtures().join("real-world/slsa-github-generator/annotated-tag.intoto.jsonl"),
        )
        .expect("envelope")
        .trim(),
    )
    .expect("json")
}

#[tokio::test]
async fn old_dsse_envelope_verifies_with_its_rekor_entry() {
    let log = TestLog::new();
    let envelope = annotated_envelope();
    let (uuid, answer) = log.entry(&envelope, INSIDE_CERT_VALIDITY);
    let rekor = fake_rekor(&uuid, &answer).await;
    let ws = real_world();
    ws.write("root.json", log.trusted_root(&rekor.uri()));
    let out = annotated_tag(&ws)
        .input("rekor-url", rekor.uri())
        .input("trusted-root", "root.json")
        .run();
    out.assert_success();
    assert_eq!(out.out("signer-identity"), Some(GENERATOR_V122));
    // The search asked for the payload's digest, then the entry was fetched.
    let requests = rekor.received_requests().await.expect("recorded");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().expect("payload"))
        .expect("b64");
    let search: Value = requests[0].body_json().expect("json");
    assert_eq!(search["hash"], format!("sha256:{}", sha256_hex(&payload)));
    assert_eq!(
        requests[1].url.path(),
        format!("/api/v1/log/entries/{uuid}")
    );
}

#[tokio::test]
async fn old_dsse_envelope_with_a_tampered_rekor_entry_is_rejected() {
    // The log answers with an entry whose integrated time was moved: its SET no longer holds.
    let log = TestLog::new();
    let (uuid, mut answer) = log.entry(&annotated_envelope(), INSIDE_CERT_VALIDITY);
    answer[&uuid]["integratedTime"] = json!(INSIDE_CERT_VALIDITY + 60);
    let rekor = fake_rekor(&uuid, &answer).await;
    let ws = real_world();
    ws.write("root.json", log.trusted_root(&rekor.uri()));
    annotated_tag(&ws)
        .input("rekor-url", rekor.uri())
        .input("trusted-root", "root.json")
        .run()
        .assert_failure("signature_invalid");
}

#[tokio::test]
async fn old_dsse_envelope_logged_outside_the_certificate_validity_is_rejected() {
    // A genuine SET, but the entry was integrated after the ten-minute certificate expired.
    let log = TestLog::new();
    let (uuid, answer) = log.entry(&annotated_envelope(), INSIDE_CERT_VALIDITY + 3600);
    let rekor = fake_rekor(&uuid, &answer).await;
    let ws = real_world();
    ws.write("root.json", log.trusted_root(&rekor.uri()));
    annotated_tag(&ws)
        .input("rekor-url", rekor.uri())
        .input("trusted-root", "root.json")
        .run()
        .assert_failure("signature_invalid");
}

#[tokio::test]
async fn old_dsse_envelope_absent_from_rekor_is_log_proof_missing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/index/retrieve"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let ws = real_world();
    annotated_tag(&ws)
        .input("rekor-url", server.uri())
        .run()
        .assert_failure("log_proof_missing");
}

// ---------------------------------------------------------------------------------------------
// What mode: provenance produces

pub(crate) fn signed_release() -> (Workspace, String, String) {
    let ws = Workspace::new();
    ws.write("dist/app-1.0.0.tar.gz", b"the release archive");
    ws.write("dist/app-1.0.0.zip", b"the other archive");
    ws.init_git();
    let (private, public) = test_signing_key();
    let out = ws
        .runner()
        .release_event("v1.0.0")
        .input("subject-path", "dist/*")
        .input("attest", "false")
        .input("upload-release-asset", "false")
        .input("release-notes", "false")
        .input("sign", "key")
        .input("signing-key", private)
        .run();
    out.assert_success();
    let bundle = out.out("bundle-path").expect("bundle-path").to_string();
    ws.write("public.pem", public);
    (
        ws,
        bundle,
        out.out("provenance-path").expect("path").to_string(),
    )
}

pub(crate) fn validate_own(ws: &Workspace, bundle: &str) -> Runner {
    validate(ws)
        .release_event("v1.0.0")
        .input("provenance-path", bundle)
        .input("subject-path", "dist/*")
        .input("public-key", "public.pem")
}

#[test]
fn key_signed_provenance_of_provenance_mode_validates() {
    let (ws, bundle, _) = signed_release();
    let out = validate_own(&ws, &bundle).run();
    out.assert_success();
    assert_eq!(out.out("subjects-verified"), Some("2"));
    assert_eq!(out.out("tag"), Some("v1.0.0"));
    // The tag came from the release event, as in provenance mode, and was compared.
    let r = report(&ws);
    let tag = &r["artifacts"][0]["checks"][5];
    assert_eq!(tag["check"], "tag");
    assert_eq!(tag["status"], "passed");
    // The day's manifest entry records the validation.
    let manifest_rel = format!(
        "{}/manifest.json",
        Path::new(&bundle)
            .parent()
            .and_then(Path::parent)
            .expect("day")
            .display()
    );
    let manifest: Value = serde_json::from_str(&ws.read(&manifest_rel)).expect("manifest");
    let entry = &manifest["entries"][0];
    assert_eq!(entry["validation_status"], "passed");
    assert!(entry["validated_at"].is_string());
}

#[test]
fn key_signed_provenance_with_a_flipped_byte_is_rejected() {
    let (ws, bundle_rel, _) = signed_release();
    let original: Value = serde_json::from_str(&ws.read(&bundle_rel)).expect("bundle");
    let flip = |b64_text: &str| {
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(b64_text)
            .expect("b64");
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x01;
        b64(&bytes)
    };
    for (field, code) in [
        ("payload", "signature_invalid"),
        ("signature", "signature_invalid"),
    ] {
        let mut tampered = original.clone();
        match field {
            "payload" => {
                let p = flip(tampered["dsseEnvelope"]["payload"].as_str().expect("p"));
                tampered["dsseEnvelope"]["payload"] = json!(p);
            }
            _ => {
                let s = flip(
                    tampered["dsseEnvelope"]["signatures"][0]["sig"]
                        .as_str()
                        .expect("sig"),
                );
                tampered["dsseEnvelope"]["signatures"][0]["sig"] = json!(s);
            }
        }
        ws.write("tampered.sigstore.json", tampered.to_string());
        let out = validate_own(&ws, "tampered.sigstore.json").run();
        out.assert_failure(code);
        assert_eq!(out.out("verified"), Some("false"), "{field}");
    }
    // Another key: signature_invalid too.
    let (_, other_public) = test_signing_key();
    ws.write("other.pem", other_public);
    validate_own(&ws, &bundle_rel)
        .input("public-key", "other.pem")
        .run()
        .assert_failure("signature_invalid");
}

#[test]
fn tampered_artifact_is_subject_mismatch_and_fail_on_error_false_passes_the_step() {
    let (ws, bundle, _) = signed_release();
    ws.write("dist/app-1.0.0.zip", b"a swapped archive");
    validate_own(&ws, &bundle)
        .run()
        .assert_failure("subject_mismatch");
    let r = report(&ws);
    assert_eq!(r["subjects_verified"], 1);
    assert_eq!(r["subjects_total"], 2);
    let out = validate_own(&ws, &bundle)
        .input("fail-on-error", "false")
        .run();
    out.assert_success();
    assert_eq!(out.out("verified"), Some("false"));
    assert_eq!(out.out("failure-reason"), Some("subject_mismatch"));
}

#[test]
fn unsigned_statement_needs_allow_unsigned() {
    let (ws, _, statement) = signed_release();
    validate_own(&ws, &statement)
        .run()
        .assert_failure("signature_invalid");
    let out = validate_own(&ws, &statement)
        .input("allow-unsigned", "true")
        .run();
    out.assert_success();
    assert_eq!(report(&ws)["overrides"], json!(["allow-unsigned"]));
}

#[test]
fn malformed_or_missing_provenance_has_its_code() {
    let ws = real_world();
    ws.write("junk.json", b"{\"hello\": \"world\"}");
    validate(&ws)
        .input("provenance-path", "junk.json")
        .input("subject-path", "github-cli/reusable-workflow-artifact")
        .run()
        .assert_failure("provenance_not_found");
    let r = report(&ws);
    assert_eq!(
        r["failure_reasons"],
        json!(["provenance_not_found", "malformed_provenance"])
    );
    validate(&ws)
        .input("provenance-path", "nothing/*.jsonl")
        .input("subject-path", "github-cli/reusable-workflow-artifact")
        .run()
        .assert_failure("provenance_not_found");
}

#[test]
fn validate_report_matches_its_json_schema() {
    let (ws, bundle, _) = signed_release();
    ws.write("dist/app-1.0.0.zip", b"a swapped archive");
    validate_own(&ws, &bundle).run();
    let schema =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/validate-report.schema.json");
    let python = std::env::var_os("SLSA_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/slsa-provenance-action/venv/bin/python")
        });
    let check = |report: &Path| {
        Command::new(&python)
            .args([
                "-c",
                "import json,sys,jsonschema; jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))",
            ])
            .arg(&schema)
            .arg(report)
            .output()
            .expect("python with jsonschema (scripts/setup-test-tools.sh)")
    };
    let out = check(&ws.path().join("validate-report.json"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The schema is not vacuous: a report with an unknown code is refused.
    let mut bad = report(&ws);
    bad["failure_reason"] = json!("no_such_code");
    ws.write("bad-report.json", bad.to_string());
    assert!(!check(&ws.path().join("bad-report.json")).status.success());
}

#[test]
fn cosign_key_with_an_absurd_scrypt_cost_is_signing_key_invalid() {
    // Regression: a key file asking for scrypt N = 2^30 would have exhausted the runner's memory.
    let ws = Workspace::new();
    ws.write("dist/a.txt", b"a");
    ws.init_git();
    let body = json!({
        "kdf": {"name": "scrypt", "params": {"N": 1u64 << 30, "r": 8, "p": 1}, "salt": b64(&[1u8; 32])},
        "cipher": {"name": "nacl/secretbox", "nonce": b64(&[2u8; 24])},
        "ciphertext": b64(&[3u8; 64]),
    });
    let pem = format!(
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
        b64(body.to_string().as_bytes())
    );
    let out = ws
        .runner()
        .release_event("v1.0.0")
        .input("subject-path", "dist/*")
        .input("attest", "false")
        .input("upload-release-asset", "false")
        .input("release-notes", "false")
        .input("sign", "key")
        .input("signing-key", pem)
        .run();
    out.assert_failure("signing_key_invalid");
    assert!(out.stdout.contains("scrypt"), "{}", out.stdout);
}

// ---------------------------------------------------------------------------------------------
// verify-bundle over the conformance suite

fn verify_bundle_cli(case: &Path, artifact_arg: &str) -> Outcome {
    let mut cmd = Command::new(bin());
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .arg("verify-bundle")
        .arg("--bundle")
        .arg(case.join("bundle.sigstore.json"));
    if case.join("key.pub").is_file() {
        cmd.arg("--key").arg(case.join("key.pub"));
    } else {
        let read_or = |name: &str, default: &str| {
            std::fs::read_to_string(case.join(name))
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| default.to_string())
        };
        cmd.arg("--certificate-identity")
            .arg(read_or("identity", "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"))
            .arg("--certificate-oidc-issuer")
            .arg(read_or("issuer", "https://token.actions.githubusercontent.com"));
    }
    if case.join("trusted_root.json").is_file() {
        cmd.arg("--trusted-root")
            .arg(case.join("trusted_root.json"));
    }
    let out = cmd.arg(artifact_arg).output().expect("run verify-bundle");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        outputs: Default::default(),
        outputs_text: String::new(),
        summary: String::new(),
    }
}

#[test]
fn verify_bundle_cli_passes_every_conformance_case_by_file_and_by_digest() {
    let suite = fixtures().join("sigstore-conformance/bundle-verify");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&suite)
        .expect("suite")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let mut wrong = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let artifact = match case.join("artifact") {
            own if own.is_file() => own,
            _ => suite.join("a.txt"),
        };
        let digest = format!(
            "sha256:{}",
            sha256_hex(&std::fs::read(&artifact).expect("artifact"))
        );
        let must_verify = !name.ends_with("_fail");
        for arg in [artifact.to_string_lossy().into_owned(), digest] {
            let out = verify_bundle_cli(case, &arg);
            if (out.code == Some(0)) != must_verify {
                wrong.push(format!(
                    "{name} given {arg}: exit {:?}, {}",
                    out.code,
                    out.stdout
                        .lines()
                        .find(|l| l.starts_with("::error"))
                        .unwrap_or("")
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Keyless provenance from the local Sigstore

/// Flip one bit in the middle of a base64 field.
fn flip_b64(value: &Value) -> Value {
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(value.as_str().expect("base64 string"))
        .expect("base64");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    json!(b64(&bytes))
}

#[test]
fn keyless_provenance_validates_and_any_flipped_byte_is_rejected() {
    use crate::signing::{
        github_jwt, release_run, release_workspace, with_oidc, OidcServer, SigstoreMock,
    };
    let mock = SigstoreMock::start();
    let (ws, sha) = release_workspace();
    let oidc = OidcServer::start(github_jwt(&sha, "public"));
    let out = with_oidc(release_run(&ws), &oidc)
        .input("sign", "sigstore")
        .input("fulcio-url", mock.url.clone())
        .input("rekor-url", mock.url.clone())
        .input("trusted-root", mock.root().to_string_lossy())
        .run();
    out.assert_success();
    let bundle_rel = out.out("bundle-path").expect("bundle-path").to_string();
    ws.write("root.json", std::fs::read(mock.root()).expect("root"));
    let check = |provenance: &str| {
        validate(&ws)
            .release_event("v1.0.0")
            .input("provenance-path", provenance)
            .input("subject-path", "dist/*")
            .input("trusted-root", "root.json")
            .input(
                "signer-workflow",
                "octo/app/.github/workflows/release.yml@refs/tags/v*",
            )
            .run()
    };
    let ok = check(&bundle_rel);
    ok.assert_success();
    assert_eq!(ok.out("subjects-verified"), Some("2"));
    assert_eq!(
        ok.out("signer-identity"),
        Some("https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1.0.0")
    );

    let original: Value = serde_json::from_str(&ws.read(&bundle_rel)).expect("bundle");
    let tampers: [(&str, &str); 5] = [
        ("payload", "/dsseEnvelope/payload"),
        ("signature", "/dsseEnvelope/signatures/0/sig"),
        ("certificate", "/verificationMaterial/certificate/rawBytes"),
        (
            "log entry body",
            "/verificationMaterial/tlogEntries/0/canonicalizedBody",
        ),
        (
            "log entry SET",
            "/verificationMaterial/tlogEntries/0/inclusionPromise/signedEntryTimestamp",
        ),
    ];
    for (what, pointer) in tampers {
        let mut tampered = original.clone();
        let field = tampered
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{what}: {pointer}"));
        *field = flip_b64(field);
        ws.write("tampered.sigstore.json", tampered.to_string());
        let out = check("tampered.sigstore.json");
        assert_eq!(
            out.out("failure-reason"),
            Some("signature_invalid"),
            "{what}: {out:#?}"
        );
        assert_eq!(out.code, Some(1), "{what}");
    }
    // A log entry moved in time: its SET no longer covers it.
    let mut tampered = original.clone();
    let t = tampered["verificationMaterial"]["tlogEntries"][0]["integratedTime"]
        .as_str()
        .expect("integratedTime")
        .parse::<i64>()
        .expect("number");
    tampered["verificationMaterial"]["tlogEntries"][0]["integratedTime"] =
        json!((t - 1).to_string());
    ws.write("tampered.sigstore.json", tampered.to_string());
    check("tampered.sigstore.json").assert_failure("signature_invalid");
}

#[test]
fn own_provenance_from_another_repository_is_source_mismatch() {
    let (ws, bundle, _) = signed_release();
    validate_own(&ws, &bundle)
        .input("source-repository", "octo/other-app")
        .run()
        .assert_failure("source_mismatch");
}

#[test]
fn a_malformed_file_beside_valid_provenance_fails_the_run() {
    // Every artifact is covered, but one of the given files is not provenance at all.
    let (ws, bundle, _) = signed_release();
    ws.write("junk.intoto.jsonl", b"not json\n");
    let out = validate_own(&ws, &format!("{bundle}\njunk.intoto.jsonl")).run();
    out.assert_failure("malformed_provenance");
    assert_eq!(out.out("subjects-verified"), Some("2"));
}

#[test]
fn tag_input_is_the_expected_tag_when_there_is_no_release_event() {
    let (ws, bundle, _) = signed_release();
    let run = |tag: &str| {
        validate(&ws)
            .input("provenance-path", bundle.as_str())
            .input("subject-path", "dist/*")
            .input("public-key", "public.pem")
            .input("tag", tag)
            .run()
    };
    run("v1.0.0").assert_success();
    run("v2.0.0").assert_failure("tag_mismatch");
}

#[test]
fn old_dsse_envelope_with_a_flipped_payload_byte_is_signature_invalid_even_offline() {
    // The certificate's key is checked before the missing log proof: forged beats unproven.
    let ws = real_world();
    let mut envelope = annotated_envelope();
    envelope["payload"] = flip_b64(&envelope["payload"]);
    ws.write("forged.intoto.jsonl", format!("{envelope}\n"));
    annotated_tag(&ws)
        .input("provenance-path", "forged.intoto.jsonl")
        .run()
        .assert_failure("signature_invalid");
}

#[test]
fn old_dsse_envelope_whose_forged_payload_is_not_json_is_signature_invalid() {
    // Regression: a forged payload that no longer parsed was reported as malformed, not forged.
    let ws = real_world();
    let mut envelope = annotated_envelope();
    envelope["payload"] = json!(b64(b"{ this is not the signed statement"));
    ws.write("forged.intoto.jsonl", format!("{envelope}\n"));
    annotated_tag(&ws)
        .input("provenance-path", "forged.intoto.jsonl")
        .run()
        .assert_failure("signature_invalid");
}

#[test]
fn deny_self_hosted_runners_accepts_a_hosted_certificate_and_refuses_unproven_ones() {
    let ws = real_world();
    attest_public_good(&ws)
        .input("deny-self-hosted-runners", "true")
        .run()
        .assert_success();
    // A key signature says nothing about the runner: refused when hosted runners are required.
    let (ws, bundle, _) = signed_release();
    validate_own(&ws, &bundle)
        .input("deny-self-hosted-runners", "true")
        .run()
        .assert_failure("identity_mismatch");
}

#[test]
fn keyless_private_repository_provenance_validates_against_a_root_without_a_log() {
    // GitHub's own instance (private repositories) has Fulcio and a TSA but no public log: the
    // timestamped bundle validates against such a root, and never against one with a log.
    use crate::signing::{
        github_jwt, release_run, release_workspace, with_oidc, OidcServer, SigstoreMock,
    };
    let mock = SigstoreMock::start();
    let (ws, sha) = release_workspace();
    let oidc = OidcServer::start(github_jwt(&sha, "private"));
    let out = with_oidc(release_run(&ws), &oidc)
        .input("sign", "sigstore")
        .input("fulcio-url", mock.url.clone())
        .input("tsa-url", mock.url.clone())
        .input("trusted-root", mock.root().to_string_lossy())
        .run();
    out.assert_success();
    let bundle = out.out("bundle-path").expect("bundle-path").to_string();
    let mut root: Value =
        serde_json::from_str(&std::fs::read_to_string(mock.root()).expect("root")).expect("json");
    ws.write("root-with-log.json", root.to_string());
    root["tlogs"] = json!([]);
    ws.write("root-without-log.json", root.to_string());
    let check = |root: &str| {
        validate(&ws)
            .release_event("v1.0.0")
            .input("provenance-path", bundle.as_str())
            .input("subject-path", "dist/*")
            .input("trusted-root", root)
            .run()
    };
    check("root-without-log.json").assert_success();
    check("root-with-log.json").assert_failure("signature_invalid");
}
