//! The bodies of the `cargo fuzz` targets (`fuzz/fuzz_targets/*.rs` call these), so the same
//! code replays every saved crash as a regression test on stable
//! (`tests/integration/fuzz_regressions.rs` over `tests/fixtures/fuzz-regressions/<target>/`).
//!
//! Each function takes arbitrary bytes and must return normally: a panic is the bug. Where a
//! target can check more than "no panic", it asserts a property (documented on the function).
//! Not used by the action itself.

use std::io;
use std::sync::OnceLock;

use crate::adapters::sigstore::{
    parse_bundle, sign_with_key, verify_bundle, Binding, Expected, SigningKey, TrustAnchor,
};
use crate::adapters::zip_unpack::{self, Limits};
use crate::domain::provenance_doc::{self, DocumentKind};
use crate::domain::signing::LogPolicy;
use crate::secret::Secret;
use sigstore_trust_root::SigstoreInstance;

/// A target's body: arbitrary bytes in, a panic on a bug.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz/fuzz_targets/<name>.rs` and regression folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("bundle_json", bundle_json),
    ("bundle_verify", bundle_verify),
    ("statement_roundtrip", statement_roundtrip),
    ("zip_unpack", zip_unpack),
    ("document", document),
];

/// A throwaway P-256 key (made for these targets; it signs nothing real).
const FUZZ_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgdskPODMoapNrG4J7
e5zklHk6b/VFg353s+PHewQM7tyhRANCAARBlAhWdfx5JD1M2HzLrWHoBF9Et6UB
Eak9zERAJLw44fPwfXqPom+RwIQq36uT+RQj37X2CFcD1UvAeIEPl35U
-----END PRIVATE KEY-----
";

fn fuzz_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SigningKey::from_pem(&Secret::new(FUZZ_KEY_PEM), None).expect("the fuzz key parses")
    })
}

fn public_good() -> &'static TrustAnchor {
    static ROOT: OnceLock<TrustAnchor> = OnceLock::new();
    ROOT.get_or_init(|| TrustAnchor::embedded(SigstoreInstance::PublicGood).expect("embedded root"))
}

/// Bundle JSON, or JSON lines whose first line is a bundle (`.intoto.jsonl`).
pub fn bundle_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = parse_bundle(&text);
    for line in text.lines().take(16) {
        let _ = parse_bundle(line);
    }
}

/// A bundle through the whole verifier: DSSE envelope decoding, PAE, the statement's subjects,
/// certificates against the public-good root, log entries. The first byte picks the signer
/// and binding so all paths are reached.
pub fn bundle_verify(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let json = String::from_utf8_lossy(rest);
    let digest = "a".repeat(64);
    let key = fuzz_key().public_key();
    let expected = if pick & 1 == 0 {
        Expected::PublicKey(key)
    } else {
        Expected::Identity {
            identity: "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1",
            issuer: "https://token.actions.githubusercontent.com",
        }
    };
    let binding = match (pick >> 1) % 4 {
        0 => Binding::SubjectSha256(&digest),
        1 => Binding::ArtifactSha256(&digest),
        2 => Binding::Artifact(rest),
        _ => Binding::Statement(rest),
    };
    let policy = if pick & 0x10 == 0 {
        LogPolicy::TimestampsSuffice
    } else {
        LogPolicy::RequireTransparencyLog
    };
    let _ = verify_bundle(&json, &expected, binding, policy, public_good());
}

/// Arbitrary bytes as a statement: if we sign them, our own verifier must accept the result
/// for exactly those bytes (and for each SHA-256 subject they declare), and reject it for other
/// bytes. Exercises in-toto statement parsing on both sides.
pub fn statement_roundtrip(data: &[u8]) {
    let key = fuzz_key();
    let Ok(signed) = sign_with_key(key, data) else {
        return;
    };
    let json = String::from_utf8_lossy(&signed.json).into_owned();
    let expected = Expected::PublicKey(key.public_key());
    let verify = |binding| {
        verify_bundle(
            &json,
            &expected,
            binding,
            LogPolicy::TimestampsSuffice,
            public_good(),
        )
    };
    if let Err(e) = verify(Binding::Statement(data)) {
        panic!("a bundle we signed does not verify for its own statement: {e}");
    }
    let mut other = data.to_vec();
    other.push(b' ');
    assert!(
        verify(Binding::Statement(&other)).is_err(),
        "a bundle verified for bytes it does not sign"
    );
    let subjects = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v.get("subject").cloned())
        .and_then(|s| s.as_array().cloned())
        .unwrap_or_default();
    for s in subjects.iter().take(4) {
        let Some(hex) = s.pointer("/digest/sha256").and_then(|h| h.as_str()) else {
            continue;
        };
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            if let Err(e) = verify(Binding::SubjectSha256(hex)) {
                panic!("a declared subject {hex} does not verify: {e}");
            }
        }
    }
}

/// An untrusted archive, unpacked into a sink with small bounds. Every path it would write
/// is relative and free of `..`.
pub fn zip_unpack(data: &[u8]) {
    let _ = zip_unpack::declared_entry_count(data);
    let limits = Limits {
        max_entries: 64,
        max_total_bytes: 1 << 20,
    };
    let mut paths = Vec::new();
    let _ = zip_unpack::unpack_with(io::Cursor::new(data), limits, |path, _| {
        paths.push(path.to_path_buf());
        Ok(io::sink())
    });
    for p in paths {
        assert!(p.is_relative(), "{p:?} is not relative");
        assert!(
            p.components()
                .all(|c| matches!(c, std::path::Component::Normal(_))),
            "{p:?} has a non-plain component"
        );
    }
}

/// A provenance file as `mode: validate` reads it (`provenance_doc::parse_document`: one
/// bundle / DSSE envelope / statement, or JSON lines of them, told apart by keys). Every
/// document it returns is a JSON object of the kind it was classified as, carries a line
/// number exactly when the file was JSON lines, and goes on through the parser its kind leads
/// to (`parse_envelope`, `read_statement`) without panicking.
pub fn document(data: &[u8]) {
    let Ok(docs) = provenance_doc::parse_document(data) else {
        return;
    };
    assert!(!docs.is_empty(), "Ok with no document");
    let lines = docs.iter().filter(|d| d.line.is_some()).count();
    assert!(
        lines == 0 && docs.len() == 1 || lines == docs.len(),
        "one value without a line number, or JSON lines all numbered"
    );
    for d in docs {
        let value: serde_json::Value =
            serde_json::from_str(&d.json).expect("a document's JSON text parses again");
        let map = value.as_object().expect("a document is a JSON object");
        match d.kind {
            DocumentKind::Bundle => assert!(map.contains_key("mediaType")),
            DocumentKind::DsseEnvelope => {
                assert!(map.contains_key("payloadType") && map.contains_key("signatures"));
                if let Ok(envelope) = provenance_doc::parse_envelope(&d.json) {
                    let _ = provenance_doc::read_statement(&envelope.payload);
                }
            }
            DocumentKind::Statement => {
                assert!(map.contains_key("_type") && map.contains_key("subject"));
                let _ = provenance_doc::read_statement(d.json.as_bytes());
            }
        }
    }
}
