//! Integration tests: our verifier against the Sigstore client conformance suite.
//!
//! Every folder of `tests/fixtures/sigstore-conformance/bundle-verify/` is one test, named
//! after the folder, run through [`verify_bundle`] as the suite's README describes: a folder
//! ending in `_fail` must be rejected, every other one must verify, both given the artifact's
//! bytes ([`Binding::Artifact`]) and given only its SHA-256 ([`Binding::ArtifactSha256`]).
//! `every_case_folder_has_a_test` keeps the table in step with the folders.
//!
//! Log policy: a conformance client verifies against the public-good instance (or a root shaped
//! like it), where a transparency log entry is mandatory, so every case runs with
//! [`LogPolicy::RequireTransparencyLog`], as `mode: provenance` does for public repositories.
//! Every case carries a log entry: Rekor v1 entries give the signing time through their SET,
//! Rekor v2 (`rekor2-*`) entries have no integrated time and take it from an RFC 3161
//! timestamp instead (hence `rekor2-no-timestamp_fail`). [`LogPolicy::TimestampsSuffice`]
//! would only differ for a bundle with no log entry at all, which a public-good verifier must
//! refuse; it is used below only for GitHub's own instance, whose trust domain has no log.
//!
//! The real GitHub bundles (`real-world/github-cli/`) also run here, through the artifact
//! bindings; `signing.rs` covers them with identities, issuers and subject digests.

use std::path::{Path, PathBuf};

use sigstore_trust_root::SigstoreInstance;
use sigstore_types::DerPublicKey;
use slsa_provenance_action::adapters::sigstore::{
    verify_bundle, Binding, Expected, LogPolicy, TrustAnchor, VerifyError,
};

use crate::common::sha256_hex;

const BEACON_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn conformance_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sigstore-conformance/bundle-verify");
    assert!(
        dir.is_dir(),
        "{} is missing: the fixtures are part of the repository (tests/fixtures)",
        dir.display()
    );
    dir
}

fn github_cli_dir() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-world/github-cli");
    assert!(
        dir.is_dir(),
        "{} is missing: the fixtures are part of the repository (tests/fixtures)",
        dir.display()
    );
    dir
}

/// Who must have signed, owned so a case can be built from files.
enum Signer {
    Identity { identity: String, issuer: String },
    Key(DerPublicKey),
}

impl Signer {
    fn expected(&self) -> Expected<'_> {
        match self {
            Self::Identity { identity, issuer } => Expected::Identity { identity, issuer },
            Self::Key(key) => Expected::PublicKey(key),
        }
    }
}

/// What a case must end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Verified,
    Rejected,
}

/// One bundle to verify, with everything the verifier is given.
struct Case {
    name: String,
    bundle: PathBuf,
    artifact: Vec<u8>,
    /// A trusted root that cannot be loaded is itself a rejection (a `_fail` case may test it).
    anchor: Result<TrustAnchor, String>,
    /// A key that cannot be parsed is a rejection too: a client must refuse to verify with it.
    signer: Result<Signer, String>,
    log_policy: LogPolicy,
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn read_text(path: &Path) -> String {
    String::from_utf8(read(path)).unwrap_or_else(|e| panic!("{} is not UTF-8: {e}", path.display()))
}

/// A conformance folder, read by the suite's rules (see the fixtures README).
fn conformance_case(folder: &str) -> Case {
    let root = conformance_dir();
    let dir = root.join(folder);
    assert!(dir.is_dir(), "{} is missing", dir.display());
    let artifact = match dir.join("artifact") {
        own if own.is_file() => read(&own),
        _ => read(&root.join("a.txt")),
    };
    let anchor = match dir.join("trusted_root.json") {
        own if own.is_file() => TrustAnchor::from_file(&own),
        _ => TrustAnchor::embedded(SigstoreInstance::PublicGood),
    }
    .map_err(|e| e.to_string());
    let signer = match dir.join("key.pub") {
        key if key.is_file() => DerPublicKey::from_pem(&read_text(&key))
            .map(Signer::Key)
            .map_err(|e| format!("key.pub: {e}")),
        _ => {
            let file_or = |name: &str, default: &str| match dir.join(name) {
                f if f.is_file() => read_text(&f).trim().to_string(),
                _ => default.to_string(),
            };
            Ok(Signer::Identity {
                identity: file_or("identity", BEACON_IDENTITY),
                issuer: file_or("issuer", GITHUB_ISSUER),
            })
        }
    };
    Case {
        name: folder.to_string(),
        bundle: dir.join("bundle.sigstore.json"),
        artifact,
        anchor,
        signer,
        log_policy: LogPolicy::RequireTransparencyLog,
    }
}

/// The suite's rule: `_fail` folders are rejected, all others verify.
fn required_outcome(folder: &str) -> Outcome {
    if folder.ends_with("_fail") {
        Outcome::Rejected
    } else {
        Outcome::Verified
    }
}

fn run(case: &Case, binding: Binding<'_>) -> Result<(), String> {
    let anchor = case
        .anchor
        .as_ref()
        .map_err(|e| format!("trusted root: {e}"))?;
    let signer = case.signer.as_ref().map_err(Clone::clone)?;
    verify_bundle(
        &read_text(&case.bundle),
        &signer.expected(),
        binding,
        case.log_policy,
        anchor,
    )
    .map(|_| ())
    .map_err(|e: VerifyError| format!("{e:?}"))
}

/// Verify given the bytes and given only the digest; both must end in `want`.
fn assert_outcome(case: &Case, want: Outcome) {
    let digest = sha256_hex(&case.artifact);
    let tries = [
        ("artifact bytes", Binding::Artifact(&case.artifact)),
        ("artifact sha256", Binding::ArtifactSha256(&digest)),
    ];
    let wrong: Vec<String> = tries
        .into_iter()
        .filter_map(|(how, binding)| {
            let got = run(case, binding);
            let outcome = if got.is_ok() {
                Outcome::Verified
            } else {
                Outcome::Rejected
            };
            (outcome != want).then(|| format!("given the {how}: {outcome:?} ({got:?})"))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{}: expected {want:?}, but\n  {}",
        case.name,
        wrong.join("\n  ")
    );
}

fn check(folder: &str) {
    assert_outcome(&conformance_case(folder), required_outcome(folder));
}

/// One test per conformance folder, named after it.
macro_rules! conformance_cases {
    ($($test:ident => $folder:literal,)*) => {
        const FOLDERS: &[&str] = &[$($folder),*];
        $(
            #[test]
            fn $test() {
                check($folder);
            }
        )*
    };
}

conformance_cases! {
    bundle_empty_certificate_chain_fail => "bundle-empty-certificate-chain_fail",
    bundle_from_wrong_instance_fail => "bundle-from-wrong-instance_fail",
    bundle_invalid_base64_signature_fail => "bundle-invalid-base64-signature_fail",
    bundle_malformed_json_fail => "bundle-malformed-json_fail",
    bundle_negative_log_index_fail => "bundle-negative-log-index_fail",
    bundle_unknown_version_fail => "bundle-unknown-version_fail",
    bundle_with_root_cert_fail => "bundle-with-root-cert_fail",
    bundle_with_sct_with_extensions => "bundle-with-sct-with-extensions",
    checkpoint_bad_keyhint_fail => "checkpoint-bad-keyhint_fail",
    checkpoint_wrong_roothash_fail => "checkpoint-wrong-roothash_fail",
    dsse_invalid_sig_fail => "dsse-invalid-sig_fail",
    dsse_mismatch_envelope_fail => "dsse-mismatch-envelope_fail",
    dsse_mismatch_sig_fail => "dsse-mismatch-sig_fail",
    happy_path_intoto_in_dsse_v3 => "happy-path-intoto-in-dsse-v3",
    happy_path_v0_1 => "happy-path-v0.1",
    happy_path_v0_2 => "happy-path-v0.2",
    happy_path_v0_3_new_mediatype => "happy-path-v0.3-new-mediaType",
    happy_path_v0_3 => "happy-path-v0.3",
    inclusion_proof_corrupted_hash_fail => "inclusion-proof-corrupted-hash_fail",
    incorrect_public_key_fail => "incorrect-public-key_fail",
    integrated_time_in_future_fail => "integrated-time-in-future_fail",
    intoto_expired_certificate_fail => "intoto-expired-certificate_fail",
    intoto_log_entry_mismatch_fail => "intoto-log-entry-mismatch_fail",
    intoto_missing_inclusion_proof_fail => "intoto-missing-inclusion-proof_fail",
    intoto_set_outside_signing_cert_validity_fail => "intoto-set-outside-signing-cert-validity_fail",
    intoto_tsa_timestamp_outside_cert_validity_fail => "intoto-tsa-timestamp-outside-cert-validity_fail",
    intoto_with_custom_trust_root => "intoto-with-custom-trust-root",
    invalid_checkpoint_signature_fail => "invalid-checkpoint-signature_fail",
    invalid_ct_key_fail => "invalid-ct-key_fail",
    invalid_inclusion_proof_fail => "invalid-inclusion-proof_fail",
    managed_key_and_trusted_root => "managed-key-and-trusted-root",
    managed_key_happy_path => "managed-key-happy-path",
    managed_key_no_key_fail => "managed-key-no-key_fail",
    managed_key_wrong_key_fail => "managed-key-wrong-key_fail",
    message_digest_mismatch_fail => "message-digest-mismatch_fail",
    rekor2_checkpoint_cosigned => "rekor2-checkpoint-cosigned",
    rekor2_checkpoint_missing_log_signature_fail => "rekor2-checkpoint-missing-log-signature_fail",
    rekor2_checkpoint_missing_origin_fail => "rekor2-checkpoint-missing-origin_fail",
    rekor2_checkpoint_missing_root_hash_fail => "rekor2-checkpoint-missing-root-hash_fail",
    rekor2_checkpoint_missing_size_fail => "rekor2-checkpoint-missing-size_fail",
    rekor2_checkpoint_multiple_cosigs => "rekor2-checkpoint-multiple-cosigs",
    rekor2_checkpoint_no_matching_signature_fail => "rekor2-checkpoint-no-matching-signature_fail",
    rekor2_checkpoint_origin_not_first => "rekor2-checkpoint-origin-not-first",
    rekor2_checkpoint_two_sigs_cosigned => "rekor2-checkpoint-two-sigs-cosigned",
    rekor2_checkpoint_two_sigs_from_origin => "rekor2-checkpoint-two-sigs-from-origin",
    rekor2_dsse_happy_path => "rekor2-dsse-happy-path",
    rekor2_dsse_invalid_sig_fail => "rekor2-dsse-invalid-sig_fail",
    rekor2_dsse_mismatch_envelope_fail => "rekor2-dsse-mismatch-envelope_fail",
    rekor2_dsse_mismatch_sig_fail => "rekor2-dsse-mismatch-sig_fail",
    rekor2_happy_path => "rekor2-happy-path",
    rekor2_no_inclusion_proof_fail => "rekor2-no-inclusion-proof_fail",
    rekor2_no_timestamp_fail => "rekor2-no-timestamp_fail",
    rekor2_timestamp_outside_trust_root_tsa_validity_fail => "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
    rekor2_timestamp_outside_tsa_cert_validity_fail => "rekor2-timestamp-outside-tsa-cert-validity_fail",
    rekor2_timestamp_payload_mismatch_fail => "rekor2-timestamp-payload-mismatch_fail",
    rekor2_timestamp_untrusted_tsa_with_embedded_cert_fail => "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
    rekor2_timestamp_untrusted_tsa_without_embedded_cert_fail => "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
    rekor2_timestamp_with_embedded_cert => "rekor2-timestamp-with-embedded-cert",
    rekor2_timestamp_with_expired_cert_chain => "rekor2-timestamp-with-expired-cert-chain",
    rekor2_timestamp_with_incorrect_time_fail => "rekor2-timestamp-with-incorrect-time_fail",
    rekor2_timestamp_without_embedded_cert => "rekor2-timestamp-without-embedded-cert",
    set_invalid_signature_fail => "set-invalid-signature_fail",
    signature_mismatch_fail => "signature-mismatch_fail",
    trust_root_tlog_missing_validity_start_fail => "trust-root-tlog-missing-validity-start_fail",
    trust_root_tlog_validity_end_inclusive => "trust-root-tlog-validity-end-inclusive",
    trust_root_tsa_validity_end_inclusive => "trust-root-tsa-validity-end-inclusive",
    wrong_hashedrekord_artifact_fail => "wrong-hashedrekord-artifact_fail",
    wrong_hashedrekord_cert_and_sig_fail => "wrong-hashedrekord-cert-and-sig_fail",
    wrong_hashedrekord_entry_fail => "wrong-hashedrekord-entry_fail",
    wrong_material_fail => "wrong-material_fail",
}

#[test]
fn every_case_folder_has_a_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir(conformance_dir())
        .expect("bundle-verify")
        .map(|e| e.expect("entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut tabled: Vec<String> = FOLDERS.iter().map(|f| f.to_string()).collect();
    tabled.sort();
    assert_eq!(
        on_disk, tabled,
        "add a line to `conformance_cases!` per new folder"
    );
}

// ---------------------------------------------------------------------------------------------
// Real bundles made on GitHub, through the artifact bindings

fn github_cli_case(bundle: &str, artifact: &str, identity: &str, issuer: &str) -> Case {
    let dir = github_cli_dir();
    Case {
        name: bundle.to_string(),
        bundle: dir.join(bundle),
        artifact: read(&dir.join(artifact)),
        anchor: TrustAnchor::from_file(&dir.join("trusted_root.json")).map_err(|e| e.to_string()),
        signer: Ok(Signer::Identity {
            identity: identity.to_string(),
            issuer: issuer.to_string(),
        }),
        log_policy: LogPolicy::RequireTransparencyLog,
    }
}

#[test]
fn github_cli_reusable_workflow_attestation() {
    let case = github_cli_case(
        "reusable-workflow-attestation.sigstore.json",
        "reusable-workflow-artifact",
        "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d",
        GITHUB_ISSUER,
    );
    assert_outcome(&case, Outcome::Verified);
}

#[test]
fn github_cli_custom_issuer_attestation() {
    let case = github_cli_case(
        "custom-issuer.sigstore.json",
        "custom-issuer-artifact",
        "https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main",
        "https://token.actions.githubusercontent.com/hammer-time",
    );
    assert_outcome(&case, Outcome::Verified);
}

#[test]
fn github_cli_private_instance_attestation() {
    // GitHub's own instance has no transparency log: its trust domain is timestamps only.
    let mut case = github_cli_case(
        "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl",
        "github_provenance_demo-0.0.12-py3-none-any.whl",
        "https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main",
        GITHUB_ISSUER,
    );
    case.anchor = TrustAnchor::embedded(SigstoreInstance::GitHub).map_err(|e| e.to_string());
    case.log_policy = LogPolicy::TimestampsSuffice;
    assert_outcome(&case, Outcome::Verified);
}
