//! Integration tests: `mode: validate` over many provenance files at once, as the validate
//! benchmark runs it. Documents are proven in parallel and artifacts judged through a subject
//! index; neither may change what the report says: records in file order, each artifact
//! covered by the first document in file order that passes every check for it.

use base64::Engine;
use serde_json::{json, Value};
use slsa_provenance_action::adapters::sigstore::{sign_with_key, SigningKey};
use slsa_provenance_action::secret::Secret;

use crate::common::{sha256_hex, test_signing_key, Workspace};
use crate::validate::{report, validate};

const BUILDER_ID: &str =
    "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1.0.0";

fn statement(name: &str, data: &[u8]) -> Vec<u8> {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": sha256_hex(data)}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://github.com/slsa-provenance-action/test",
                "externalParameters": {"workflow": {
                    "ref": "refs/tags/v1.0.0",
                    "repository": "https://github.com/octo/app",
                    "path": ".github/workflows/release.yml"
                }}
            },
            "runDetails": {"builder": {"id": BUILDER_ID}}
        }
    })
    .to_string()
    .into_bytes()
}

/// The bundle with one byte of its DSSE payload flipped: a forgery.
fn forged(bundle: &[u8]) -> String {
    let mut v: Value = serde_json::from_slice(bundle).expect("bundle");
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut payload = b64
        .decode(v["dsseEnvelope"]["payload"].as_str().expect("payload"))
        .expect("base64");
    let mid = payload.len() / 2;
    payload[mid] ^= 0x01;
    v["dsseEnvelope"]["payload"] = json!(b64.encode(&payload));
    v.to_string()
}

#[test]
fn many_documents_proven_in_parallel_keep_file_order_and_first_passing_cover() {
    // 30 artifacts, one key-signed bundle each (`prov/b<i>`), except that b07 is forged and a
    // later file (`prov/z07`) covers a07 properly, and a junk file sits between them.
    let ws = Workspace::new();
    let (private, public) = test_signing_key();
    let key = SigningKey::from_pem(&Secret::new(private), None).expect("key");
    ws.write("public.pem", public);
    for i in 0..30 {
        let name = format!("a{i:02}.bin");
        let data = format!("artifact number {i}").into_bytes();
        ws.write(&format!("dist/{name}"), &data);
        let signed = sign_with_key(&key, &statement(&name, &data)).expect("sign");
        if i == 7 {
            ws.write("prov/b07.sigstore.json", forged(&signed.json));
            ws.write("prov/z07.sigstore.json", &signed.json);
        } else {
            ws.write(&format!("prov/b{i:02}.sigstore.json"), &signed.json);
        }
    }
    ws.write("prov/m-junk.sigstore.json", b"not json at all");

    let out = validate(&ws)
        .input("provenance-path", "prov/*")
        .input("subject-path", "dist/*")
        .input("public-key", "public.pem")
        .input("expected-builder-id", BUILDER_ID)
        .run();
    // Every artifact is covered, but a malformed file fails the run.
    out.assert_failure("malformed_provenance");
    assert_eq!(out.out("subjects-verified"), Some("30"));

    let r = report(&ws);
    let origins: Vec<&str> = r["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| d["origin"].as_str().expect("origin"))
        .collect();
    let mut sorted = origins.clone();
    sorted.sort();
    assert_eq!(origins, sorted, "records in file order");
    assert_eq!(origins.len(), 32);
    let problems: Vec<(&str, &str)> = r["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .filter_map(|d| Some((d["origin"].as_str()?, d["problem"].as_str()?)))
        .collect();
    assert_eq!(
        problems,
        vec![("prov/m-junk.sigstore.json", "malformed_provenance")]
    );
    for a in r["artifacts"].as_array().expect("artifacts") {
        let name = a["name"].as_str().expect("name");
        let i = &name[name.len() - 6..name.len() - 4];
        let expected = if i == "07" {
            "prov/z07.sigstore.json".to_string()
        } else {
            format!("prov/b{i}.sigstore.json")
        };
        assert_eq!(a["verified"], true, "{a}");
        assert_eq!(a["provenance"], expected.as_str(), "{a}");
    }
}
