//! Integration tests: signing.
//!
//! `sign: key` runs offline. Keyless runs go to a local Sigstore (`tests/sigstore-mock`:
//! `@sigstore/mock`'s Fulcio, Rekor v1 and TSA on 127.0.0.1 with a matching trusted root) and a
//! local OIDC token endpoint serving `ACTIONS_ID_TOKEN_REQUEST_URL`. Each keyless bundle is
//! checked by three independent verifiers: ours, sigstore-js (`@sigstore/verify`) and
//! sigstore-python, each with the right identity (accepted) and a wrong one (rejected).
//! Our verifier is also run against real bundles made on GitHub (`tests/fixtures/real-world`).
//!
//! Tools (set up by `scripts/test.sh`): `npm ci --prefix tests/sigstore-mock` and a venv with
//! `pip install sigstore` at `$HOME/.cache/slsa-provenance-action/venv` (or `SLSA_TEST_PYTHON`).
//! A missing tool fails the test with that instruction; nothing is skipped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use slsa_provenance_action::adapters::sigstore::{
    verify_bundle, Binding, Expected, LogPolicy, SigningKey, TrustAnchor, VerifyError,
};
use slsa_provenance_action::secret::Secret;

use crate::common::{sha256_hex, test_signing_key, Outcome, Runner, Workspace};

const ISSUER: &str = "https://token.actions.githubusercontent.com";
const TAG: &str = "v1.0.0";
const JOB_WORKFLOW_REF: &str = "octo/app/.github/workflows/release.yml@refs/tags/v1.0.0";
const BUILDER_ID: &str =
    "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1.0.0";
const WRONG_IDENTITY: &str =
    "https://github.com/evil/app/.github/workflows/release.yml@refs/tags/v1.0.0";
const OIDC_BEARER: &str = "runner-request-token-5ecret";

const SETUP: &str = "run scripts/test.sh once (it runs `npm ci --prefix tests/sigstore-mock` and \
                     creates the Python venv with `pip install sigstore`)";

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------------------------
// Tools

fn mock_dir() -> PathBuf {
    let dir = project().join("tests/sigstore-mock");
    assert!(
        dir.join("node_modules/@sigstore/mock").is_dir()
            && dir.join("node_modules/@sigstore/verify").is_dir(),
        "tests/sigstore-mock/node_modules is missing: {SETUP}"
    );
    dir
}

fn python() -> PathBuf {
    let p = match std::env::var_os("SLSA_TEST_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME"))
            .join(".cache/slsa-provenance-action/venv/bin/python"),
    };
    let ok = Command::new(&p)
        .args(["-c", "import sigstore"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{} cannot import sigstore: {SETUP} (or point SLSA_TEST_PYTHON at a Python with sigstore)",
        p.display()
    );
    p
}

/// `@sigstore/mock` on a free 127.0.0.1 port; killed on drop.
pub(crate) struct SigstoreMock {
    child: Child,
    pub(crate) url: String,
    dir: tempfile::TempDir,
}

impl SigstoreMock {
    pub(crate) fn start() -> Self {
        let mock = mock_dir();
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("trusted_root.json");
        let mut child = Command::new("node")
            .arg(mock.join("mock-server.js"))
            .arg("0")
            .arg(&root)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting node: {e}; {SETUP}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if let Some(port) = line.strip_prefix("READY ") {
                    let _ = tx.send(port.trim().to_string());
                }
                // Keep draining so the server never blocks on a full pipe.
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(p) => p,
            Err(_) => {
                let _ = child.kill();
                panic!("the Sigstore mock did not report READY; {SETUP}");
            }
        };
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.dir.path().join("trusted_root.json")
    }

    /// sigstore-python's `--trust-config`: the mock's root plus a signing config naming it.
    fn python_trust_config(&self) -> PathBuf {
        let root: Value =
            serde_json::from_str(&std::fs::read_to_string(self.root()).expect("root"))
                .expect("json");
        let service = |url: String| json!([{"url": url, "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "sigstore.mock"}]);
        let config = json!({
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": root,
            "signingConfig": {
                "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
                "caUrls": service(self.url.clone()),
                "oidcUrls": [],
                "rekorTlogUrls": service(self.url.clone()),
                "tsaUrls": service(format!("{}/api/v1/timestamp", self.url)),
                "rekorTlogConfig": {"selector": "ANY"},
                "tsaConfig": {"selector": "ANY"}
            }
        });
        let p = self.dir.path().join("trust_config.json");
        std::fs::write(&p, config.to_string()).expect("write");
        p
    }
}

impl Drop for SigstoreMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The runner's OIDC token endpoint: answers every request with `{"value": <jwt>}` and
/// records the request lines and authorization headers it saw.
pub(crate) struct OidcServer {
    pub(crate) url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl OidcServer {
    pub(crate) fn start(jwt: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let text = String::from_utf8_lossy(&head).to_string();
                log.lock().expect("lock").push(text);
                let body = json!({ "value": jwt }).to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}/token?api-version=2.0"),
            seen,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }
}

/// An unsigned JWT shaped like a GitHub Actions OIDC token for the release run.
pub(crate) fn github_jwt(sha: &str, visibility: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "iss": ISSUER,
        "aud": "sigstore",
        "sub": format!("repo:octo/app:ref:refs/tags/{TAG}"),
        "iat": now, "nbf": now, "exp": now + 600,
        "repository": "octo/app",
        "repository_id": "804070735",
        "repository_owner": "octo",
        "repository_owner_id": "16248153",
        "repository_visibility": visibility,
        "event_name": "release",
        "ref": format!("refs/tags/{TAG}"),
        "ref_type": "tag",
        "sha": sha,
        "workflow": "release",
        "workflow_ref": JOB_WORKFLOW_REF,
        "job_workflow_ref": JOB_WORKFLOW_REF,
        "runner_environment": "github-hosted",
        "run_id": "9228858953",
        "run_attempt": "1",
        "actor": "octocat",
    });
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.{}",
        b64(br#"{"alg":"RS256","typ":"JWT","kid":"mock"}"#),
        b64(claims.to_string().as_bytes()),
        b64(b"not-a-signature")
    )
}

// ---------------------------------------------------------------------------------------------
// Runs

pub(crate) fn release_workspace() -> (Workspace, String) {
    let ws = Workspace::new();
    ws.write("dist/app-1.0.0.tar.gz", b"the release archive");
    ws.write("dist/app-1.0.0.zip", b"the other archive");
    let sha = ws.init_git();
    (ws, sha)
}

pub(crate) fn release_run(ws: &Workspace) -> Runner {
    ws.runner()
        .release_event(TAG)
        .input("subject-path", "dist/*")
        .input("attest", "false")
        .input("upload-release-asset", "false")
        .input("release-notes", "false")
}

pub(crate) fn with_oidc(r: Runner, oidc: &OidcServer) -> Runner {
    r.env("ACTIONS_ID_TOKEN_REQUEST_URL", oidc.url.clone())
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", OIDC_BEARER)
}

struct Produced {
    bundle_path: PathBuf,
    bundle: Value,
    statement: Vec<u8>,
}

fn produced(ws: &Workspace, out: &Outcome) -> Produced {
    let bundle_rel = out.out("bundle-path").expect("bundle-path output");
    assert!(
        bundle_rel.ends_with("/provenance.sigstore.json"),
        "{bundle_rel}"
    );
    let bundle_path = ws.path().join(bundle_rel);
    let bundle: Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle_path).expect("bundle"))
            .expect("json");
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        bundle["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().expect("payload"))
        .expect("base64");
    // The DSSE payload is the statement file, byte for byte, and its digest is the output.
    let statement = std::fs::read(ws.path().join(out.out("provenance-path").expect("path")))
        .expect("statement");
    assert_eq!(payload, statement);
    assert_eq!(
        Some(sha256_hex(&payload).as_str()),
        out.out("provenance-sha256")
    );
    Produced {
        bundle_path,
        bundle,
        statement,
    }
}

fn first_subject(statement: &[u8]) -> String {
    let v: Value = serde_json::from_slice(statement).expect("statement");
    v["subject"][0]["digest"]["sha256"]
        .as_str()
        .expect("digest")
        .to_string()
}

fn ours(p: &Produced, root: &Path, identity: &str, policy: LogPolicy) -> Result<(), VerifyError> {
    let anchor = TrustAnchor::from_file(root).expect("root");
    verify_bundle(
        &std::fs::read_to_string(&p.bundle_path).expect("bundle"),
        &Expected::Identity {
            identity,
            issuer: ISSUER,
        },
        Binding::Statement(&p.statement),
        policy,
        &anchor,
    )
    .map(|_| ())
}

fn js(p: &Produced, root: &Path, identity: &str, tlog_threshold: &str) -> (bool, String) {
    let out = Command::new("node")
        .arg(mock_dir().join("verify.js"))
        .arg(&p.bundle_path)
        .arg(root)
        .args([
            identity,
            ISSUER,
            &first_subject(&p.statement),
            tlog_threshold,
        ])
        .output()
        .expect("node");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn py(p: &Produced, mock: &SigstoreMock, identity: &str) -> (bool, String) {
    let out = Command::new(python())
        .args(["-m", "sigstore", "--trust-config"])
        .arg(mock.python_trust_config())
        .args(["verify", "identity", "--offline", "--bundle"])
        .arg(&p.bundle_path)
        .args(["--cert-identity", identity, "--cert-oidc-issuer", ISSUER])
        .arg(format!("sha256:{}", first_subject(&p.statement)))
        .output()
        .expect("python");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Key

fn key_run(ws: &Workspace, key_pem: &str) -> Runner {
    release_run(ws)
        .input("sign", "key")
        .input("signing-key", key_pem)
}

fn verify_with_key(p: &Produced, public_pem: &str) -> Result<(), VerifyError> {
    let key = sigstore_verify::types::DerPublicKey::from_pem(public_pem).expect("public pem");
    let anchor = TrustAnchor::from_json(
        "unused".into(),
        sigstore_trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT,
    )
    .expect("root");
    verify_bundle(
        &std::fs::read_to_string(&p.bundle_path).expect("bundle"),
        &Expected::PublicKey(&key),
        Binding::Statement(&p.statement),
        LogPolicy::TimestampsSuffice,
        &anchor,
    )
    .map(|_| ())
}

fn assert_not_leaked(out: &Outcome, secret: &str) {
    for (what, text) in [
        ("stdout", &out.stdout),
        ("stderr", &out.stderr),
        ("outputs", &out.outputs_text),
        ("summary", &out.summary),
    ] {
        let visible = text
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            !visible.contains(secret),
            "secret leaked into {what}:\n{text}"
        );
    }
}

#[test]
fn key_signed_bundle_verifies_with_its_public_key_and_not_another() {
    let (ws, _) = release_workspace();
    let (private, public) = test_signing_key();
    let out = key_run(&ws, &private).run();
    out.assert_success();
    let p = produced(&ws, &out);
    assert!(
        p.bundle["verificationMaterial"]["publicKey"]["hint"].is_string(),
        "{}",
        p.bundle
    );
    verify_with_key(&p, &public).expect("verifies with its key");
    let (_, other_public) = test_signing_key();
    let e = verify_with_key(&p, &other_public).expect_err("another key");
    assert!(matches!(e, VerifyError::SignatureInvalid(_)), "{e}");
    // The key line is masked before anything else is printed, and never printed in clear.
    let body_line = private.lines().nth(1).expect("pem body");
    assert!(
        out.stdout.contains(&format!("::add-mask::{body_line}")),
        "{}",
        out.stdout
    );
    for line in private.lines().filter(|l| !l.starts_with("-----")) {
        assert_not_leaked(&out, line);
    }
    assert!(out.summary.contains("| Signed | key |"), "{}", out.summary);
    assert!(out.summary.contains("| Signer | `key "), "{}", out.summary);
}

/// cosign's `ENCRYPTED SIGSTORE PRIVATE KEY`: scrypt over the password, NaCl secretbox over the
/// PKCS#8 DER. Small scrypt cost so the test stays fast; the reader takes cost from the file.
pub(crate) fn cosign_encrypt(pkcs8_pem: &str, password: &str) -> String {
    use crypto_secretbox::aead::{Aead, KeyInit};
    use p256::pkcs8::DecodePrivateKey;
    let secret = p256::SecretKey::from_pkcs8_pem(pkcs8_pem).expect("pkcs8");
    let der = {
        use p256::pkcs8::EncodePrivateKey;
        secret.to_pkcs8_der().expect("der").as_bytes().to_vec()
    };
    let salt: [u8; 32] = rand::random();
    let nonce: [u8; 24] = rand::random();
    let mut key = [0u8; 32];
    scrypt::scrypt(
        password.as_bytes(),
        &salt,
        &scrypt::Params::new(10, 8, 1, 32).expect("params"),
        &mut key,
    )
    .expect("scrypt");
    let ct = crypto_secretbox::XSalsa20Poly1305::new(&key.into())
        .encrypt(crypto_secretbox::Nonce::from_slice(&nonce), der.as_slice())
        .expect("seal");
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let body = json!({
        "kdf": {"name": "scrypt", "params": {"N": 1024, "r": 8, "p": 1}, "salt": b64(&salt)},
        "cipher": {"name": "nacl/secretbox", "nonce": b64(&nonce)},
        "ciphertext": b64(&ct),
    })
    .to_string();
    let wrapped = b64(body.as_bytes())
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    format!("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{wrapped}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
}

#[test]
fn cosign_encrypted_key_signs_with_the_right_password_only() {
    let (ws, _) = release_workspace();
    let (private, public) = test_signing_key();
    let password = "correct horse battery staple";
    let encrypted = cosign_encrypt(&private, password);

    let out = key_run(&ws, &encrypted)
        .input("signing-key-password", password)
        .run();
    out.assert_success();
    verify_with_key(&produced(&ws, &out), &public).expect("verifies");
    assert!(out.stdout.contains(&format!("::add-mask::{password}")));
    assert_not_leaked(&out, password);

    let out = key_run(&ws, &encrypted)
        .input("signing-key-password", "wrong password")
        .run();
    out.assert_failure("signing_key_invalid");
    assert!(out.stdout.contains("password"), "{}", out.stdout);
    assert_not_leaked(&out, "wrong password");
}

/// A key written by cosign itself (`cosign generate-key-pair` with an empty password; public
/// test data of conforma/cli, `internal/validate/vsa/attest_test.go`).
const COSIGN_GENERATED_EMPTY_PASSWORD: &str = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjo2NTUzNiwiciI6
OCwicCI6MX0sInNhbHQiOiJLYU9OQzduQVJLOVgxM1FoaWFucjAwTTBGYys2Sitr
dnAxN1FuanpiVk9nPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiJVOHZqWWtqMlZOUFZGdlZFZWZ3bXZ5VGloUERrelBoaCJ9LCJj
aXBoZXJ0ZXh0IjoidWNWMnQ4TTZVNFJvb29FOXc0d3dkc3E1RDYrS2RKY245dERT
KzFwRDRGN040SVJOWEgzSTBua3h1a3NackFOUHR1emIvTkVYQ201dUp3Zjh3Qzl1
VlprbXdwNU5jRUZ6b3ZNS3JCZmNvdXdjaEkrMzkrQ0NhbVZPbzBucmRnZjhvcmpK
dXdrWDBYL1phY0RUTERGaUxyc1laMWVMMmlqMGU1MVRpZmVQNTl4WXNPK1FnM1Jv
OURRVjNQMk9ndDFDaVFHeGg1VXhUZytGc3c9PSJ9
-----END ENCRYPTED SIGSTORE PRIVATE KEY-----
";

#[test]
fn key_generated_by_cosign_opens_with_its_password() {
    let key = Secret::new(COSIGN_GENERATED_EMPTY_PASSWORD);
    SigningKey::from_pem(&key, None).expect("empty password is cosign's default");
    let e = SigningKey::from_pem(&key, Some(&Secret::new("nope"))).expect_err("wrong password");
    assert!(e.to_string().contains("password"), "{e}");
}

#[test]
fn malformed_signing_key_is_signing_key_invalid() {
    let (ws, _) = release_workspace();
    let out = key_run(
        &ws,
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
    )
    .run();
    out.assert_failure("signing_key_invalid");
    let out = key_run(&ws, "just some text").run();
    out.assert_failure("signing_key_invalid");
    assert!(out.out("bundle-path").is_none());
}

// ---------------------------------------------------------------------------------------------
// Keyless

#[test]
fn sigstore_without_id_token_permission_fails_with_attest_wording() {
    let (ws, _) = release_workspace();
    let out = release_run(&ws).input("sign", "sigstore").run();
    out.assert_failure("missing_id_token_permission");
    assert!(out.stdout.contains("id-token: write"), "{}", out.stdout);
}

#[test]
fn keyless_public_repository_is_logged_and_verifies_with_three_verifiers() {
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
    let req = oidc.requests();
    assert!(
        req.iter().any(|r| r.contains("audience=sigstore")),
        "{req:?}"
    );
    assert!(req.iter().any(|r| r.contains(OIDC_BEARER)), "{req:?}");
    assert_not_leaked(&out, OIDC_BEARER);

    let p = produced(&ws, &out);
    let tlog = &p.bundle["verificationMaterial"]["tlogEntries"];
    assert_eq!(tlog.as_array().map(Vec::len), Some(1), "{}", p.bundle);
    assert_eq!(tlog[0]["kindVersion"]["kind"], "dsse");

    ours(
        &p,
        &mock.root(),
        BUILDER_ID,
        LogPolicy::RequireTransparencyLog,
    )
    .expect("ours verifies");
    let e = ours(
        &p,
        &mock.root(),
        WRONG_IDENTITY,
        LogPolicy::RequireTransparencyLog,
    )
    .expect_err("wrong identity");
    assert!(matches!(e, VerifyError::IdentityMismatch { .. }), "{e}");

    let (ok, log) = js(&p, &mock.root(), BUILDER_ID, "1");
    assert!(ok, "sigstore-js rejected our bundle: {log}");
    let (ok, log) = js(&p, &mock.root(), WRONG_IDENTITY, "1");
    assert!(!ok, "sigstore-js accepted a wrong identity: {log}");

    let (ok, log) = py(&p, &mock, BUILDER_ID);
    assert!(ok, "sigstore-python rejected our bundle: {log}");
    let (ok, log) = py(&p, &mock, WRONG_IDENTITY);
    assert!(!ok, "sigstore-python accepted a wrong identity: {log}");

    assert!(
        out.summary
            .contains(&format!("| Signer | `{BUILDER_ID}` |")),
        "{}",
        out.summary
    );
    assert!(
        out.summary.contains(&format!("| Issuer | `{ISSUER}` |")),
        "{}",
        out.summary
    );
    assert!(
        out.summary
            .contains("| Transparency log | Rekor log index "),
        "{}",
        out.summary
    );
}

#[test]
fn keyless_private_repository_is_timestamped_and_never_logged() {
    let mock = SigstoreMock::start();
    let (ws, sha) = release_workspace();
    let oidc = OidcServer::start(github_jwt(&sha, "private"));
    let out = with_oidc(release_run(&ws), &oidc)
        .input("sign", "sigstore")
        .input("fulcio-url", mock.url.clone())
        // Given, but refused: a private repository's name must not reach a public log.
        .input("rekor-url", mock.url.clone())
        .input("tsa-url", mock.url.clone())
        .input("trusted-root", mock.root().to_string_lossy())
        .run();
    out.assert_success();
    assert!(
        out.stdout.contains("::warning::rekor-url"),
        "{}",
        out.stdout
    );
    let p = produced(&ws, &out);
    let material = &p.bundle["verificationMaterial"];
    assert!(
        material["tlogEntries"].as_array().is_none_or(Vec::is_empty),
        "a private repository was logged: {}",
        p.bundle
    );
    assert_eq!(
        material["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{}",
        p.bundle
    );

    ours(&p, &mock.root(), BUILDER_ID, LogPolicy::TimestampsSuffice).expect("ours verifies");
    let e = ours(
        &p,
        &mock.root(),
        BUILDER_ID,
        LogPolicy::RequireTransparencyLog,
    )
    .expect_err("no log entry");
    assert!(matches!(e, VerifyError::TransparencyLog(_)), "{e}");
    let e = ours(
        &p,
        &mock.root(),
        WRONG_IDENTITY,
        LogPolicy::TimestampsSuffice,
    )
    .expect_err("wrong identity");
    assert!(matches!(e, VerifyError::IdentityMismatch { .. }), "{e}");

    let (ok, log) = js(&p, &mock.root(), BUILDER_ID, "0");
    assert!(ok, "sigstore-js rejected our bundle: {log}");
    let (ok, log) = js(&p, &mock.root(), WRONG_IDENTITY, "0");
    assert!(!ok, "sigstore-js accepted a wrong identity: {log}");

    // sigstore-python (4.x) cannot verify any bundle without exactly one log entry, so it
    // cannot verify GitHub-instance bundles at all; when it learns to, this starts failing.
    let (ok, log) = py(&p, &mock, BUILDER_ID);
    assert!(
        !ok && log.contains("expected exactly one log entry"),
        "sigstore-python's handling of log-less bundles changed; verify with it here: {log}"
    );

    assert!(out.summary.contains("| Timestamp | "), "{}", out.summary);
    assert!(
        !out.summary.contains("| Transparency log |"),
        "{}",
        out.summary
    );
}

#[test]
fn fulcio_refusing_is_signing_failed() {
    // Nothing listens on a port we bound and released.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let (ws, sha) = release_workspace();
    let oidc = OidcServer::start(github_jwt(&sha, "public"));
    let out = with_oidc(release_run(&ws), &oidc)
        .input("sign", "sigstore")
        .input("fulcio-url", format!("http://127.0.0.1:{closed}"))
        .input("rekor-url", format!("http://127.0.0.1:{closed}"))
        .run();
    out.assert_failure("signing_failed");
    assert!(out.stdout.contains("Fulcio"), "{}", out.stdout);
    assert!(out.out("bundle-path").is_none());
}

#[test]
fn unreadable_trusted_root_is_trusted_root_invalid_before_any_signing() {
    let (ws, sha) = release_workspace();
    ws.write("root.json", "{}");
    let oidc = OidcServer::start(github_jwt(&sha, "public"));
    for root in ["root.json", "missing.json"] {
        let out = with_oidc(release_run(&ws), &oidc)
            .input("sign", "sigstore")
            .input("fulcio-url", "http://127.0.0.1:9")
            .input("trusted-root", root)
            .run();
        out.assert_failure("trusted_root_invalid");
    }
}

#[test]
fn bundle_that_does_not_chain_to_the_trusted_root_is_self_verification_failed() {
    // Signed by the mock, checked against the embedded public-good root (no trusted-root).
    let mock = SigstoreMock::start();
    let (ws, sha) = release_workspace();
    let oidc = OidcServer::start(github_jwt(&sha, "public"));
    let out = with_oidc(release_run(&ws), &oidc)
        .input("sign", "sigstore")
        .input("fulcio-url", mock.url.clone())
        .input("rekor-url", mock.url.clone())
        .run();
    out.assert_failure("self_verification_failed");
    assert!(out.out("bundle-path").is_none());
}

// ---------------------------------------------------------------------------------------------
// Our verifier against real bundles

fn fixture(name: &str) -> PathBuf {
    let dir = project().join("tests/fixtures/real-world/github-cli");
    assert!(
        dir.is_dir(),
        "{} is missing: the fixtures are part of the checkout (tests/fixtures)",
        dir.display()
    );
    dir.join(name)
}

fn verify_fixture(
    bundle: &str,
    artifact: &str,
    identity: &str,
    issuer: &str,
    policy: LogPolicy,
    anchor: &TrustAnchor,
) -> Result<(), VerifyError> {
    let digest = sha256_hex(&std::fs::read(fixture(artifact)).expect("artifact"));
    verify_bundle(
        &std::fs::read_to_string(fixture(bundle)).expect("bundle"),
        &Expected::Identity { identity, issuer },
        Binding::SubjectSha256(&digest),
        policy,
        anchor,
    )
    .map(|_| ())
}

#[test]
fn real_github_bundles_verify_with_the_right_identity_only() {
    let public = TrustAnchor::from_file(&fixture("trusted_root.json")).expect("root");
    let reusable = "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d";
    let require = LogPolicy::RequireTransparencyLog;
    verify_fixture(
        "reusable-workflow-attestation.sigstore.json",
        "reusable-workflow-artifact",
        reusable,
        ISSUER,
        require,
        &public,
    )
    .expect("reusable workflow bundle");
    let e = verify_fixture(
        "reusable-workflow-attestation.sigstore.json",
        "reusable-workflow-artifact",
        WRONG_IDENTITY,
        ISSUER,
        require,
        &public,
    )
    .expect_err("wrong identity");
    assert!(matches!(e, VerifyError::IdentityMismatch { .. }), "{e}");
    let e = verify_fixture(
        "reusable-workflow-attestation.sigstore.json",
        "custom-issuer-artifact",
        reusable,
        ISSUER,
        require,
        &public,
    )
    .expect_err("another artifact");
    assert!(matches!(e, VerifyError::PayloadMismatch(_)), "{e}");

    let custom =
        "https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main";
    let hammer = "https://token.actions.githubusercontent.com/hammer-time";
    verify_fixture(
        "custom-issuer.sigstore.json",
        "custom-issuer-artifact",
        custom,
        hammer,
        require,
        &public,
    )
    .expect("custom issuer bundle");
    let e = verify_fixture(
        "custom-issuer.sigstore.json",
        "custom-issuer-artifact",
        custom,
        ISSUER,
        require,
        &public,
    )
    .expect_err("wrong issuer");
    assert!(matches!(e, VerifyError::IssuerMismatch { .. }), "{e}");

    // GitHub's own instance (private repositories): no log entry, one RFC 3161 timestamp.
    let github =
        TrustAnchor::embedded(sigstore_trust_root::SigstoreInstance::GitHub).expect("github root");
    let demo =
        "https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main";
    let bundle = "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl";
    let wheel = "github_provenance_demo-0.0.12-py3-none-any.whl";
    verify_fixture(
        bundle,
        wheel,
        demo,
        ISSUER,
        LogPolicy::TimestampsSuffice,
        &github,
    )
    .expect("GitHub instance bundle");
    let e = verify_fixture(
        bundle,
        wheel,
        WRONG_IDENTITY,
        ISSUER,
        LogPolicy::TimestampsSuffice,
        &github,
    )
    .expect_err("wrong identity");
    assert!(matches!(e, VerifyError::IdentityMismatch { .. }), "{e}");
    let e = verify_fixture(
        bundle,
        wheel,
        demo,
        ISSUER,
        LogPolicy::RequireTransparencyLog,
        &github,
    )
    .expect_err("log required");
    assert!(matches!(e, VerifyError::TransparencyLog(_)), "{e}");
}

#[test]
fn bundle_with_an_invalid_signature_is_rejected() {
    let public = TrustAnchor::from_file(&fixture("trusted_root.json")).expect("root");
    // The fixture signs a `text/plain` DSSE payload: rejected before its signature matters,
    // because a provenance verifier must only accept in-toto statements.
    let text =
        std::fs::read_to_string(fixture("sigstoreBundle-invalid-signature.json")).expect("bundle");
    let e = verify_bundle(
        &text,
        &Expected::Identity {
            identity: "brian@dehamer.com",
            issuer: "https://github.com/login/oauth",
        },
        Binding::SubjectSha256(&"0".repeat(64)),
        LogPolicy::RequireTransparencyLog,
        &public,
    )
    .expect_err("invalid signature");
    assert!(matches!(e, VerifyError::Unsupported(_)), "{e}");

    // A real in-toto bundle whose signature was altered in one byte.
    let mut v: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("reusable-workflow-attestation.sigstore.json"))
            .expect("bundle"),
    )
    .expect("json");
    let sig = &mut v["dsseEnvelope"]["signatures"][0]["sig"];
    let mut raw = base64::engine::general_purpose::STANDARD
        .decode(sig.as_str().expect("sig"))
        .expect("base64");
    let last = raw.len() - 1;
    raw[last] ^= 1;
    *sig = Value::String(base64::engine::general_purpose::STANDARD.encode(raw));
    let digest =
        sha256_hex(&std::fs::read(fixture("reusable-workflow-artifact")).expect("artifact"));
    let e = verify_bundle(
        &v.to_string(),
        &Expected::Identity {
            identity: "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d",
            issuer: ISSUER,
        },
        Binding::SubjectSha256(&digest),
        LogPolicy::RequireTransparencyLog,
        &public,
    )
    .expect_err("altered signature");
    assert!(
        matches!(
            e,
            VerifyError::SignatureInvalid(_) | VerifyError::TransparencyLog(_)
        ),
        "{e}"
    );
}
