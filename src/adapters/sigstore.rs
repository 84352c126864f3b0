//! Sigstore: sign a statement as a DSSE envelope in a bundle v0.3, and verify Sigstore bundles.
//!
//! Owns the wire: Fulcio (certificate for an ephemeral key), Rekor v1 (`dsse` entry), an
//! RFC 3161 TSA, trusted roots, signing-key files (PKCS#8 PEM, SEC1 PEM and cosign's encrypted
//! `ENCRYPTED SIGSTORE PRIVATE KEY`), and verification through `sigstore-verify`. It does not
//! decide which instance a run signs with (that is `domain::signing::plan_keyless`), and it knows
//! nothing about GitHub, inputs or outputs.
//!
//! [`verify_bundle`] is the one verification entry point; `mode: provenance` uses it to check
//! its own bundle, and `mode: validate` is meant to use it for bundles it is given. Every way
//! it can fail is a [`VerifyError`] variant a caller can branch on. It passes the Sigstore
//! client conformance suite's `bundle-verify` cases (`tests/integration/conformance.rs`),
//! message-signature bundles included, with every check done by `sigstore-verify` except the
//! offline managed-key case, which that crate refuses as malformed.
//!
//! What [`verify_bundle`] does NOT check: what the statement says (subjects, builder, source).
//! It checks who signed which bytes, when, and (optionally) that those bytes are exactly the
//! statement the caller expects or mention a given subject digest (or, for an artifact
//! [`Binding`], are the artifact itself). Judging the provenance is `domain`'s job.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use sigstore_sign::bundle::{BundleV03, VerificationMaterialV03};
use sigstore_sign::crypto::{KeyPair, SigningScheme};
use sigstore_sign::fulcio::FulcioClient;
use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::rekor::{DsseEntry, RekorClient};
use sigstore_sign::tsa::TimestampClient;
use sigstore_sign::types::bundle::{SignatureContent, VerificationMaterialContent};
use sigstore_sign::types::{
    Artifact, Bundle, DerCertificate, DerPublicKey, DsseEnvelope, DsseSignature, KeyId,
    KindVersion, PayloadBytes, Sha256Hash, SignatureBytes,
};
use sigstore_trust_root::{SigstoreInstance, TrustedRoot};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

pub use crate::domain::signing::{KeylessServices, LogPolicy};
use crate::secret::Secret;

/// The DSSE payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The in-toto statement type a key-signed provenance must carry.
pub const IN_TOTO_STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The media type of the bundles we write.
pub const BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Connecting to a Sigstore service gives up after this long at most (each whole call after
/// the `SLSA_PROVENANCE_HTTP_TIMEOUT_MS` timeout the caller passes).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The standard RFC 3161 endpoint path of Sigstore's timestamp authorities.
const TSA_PATH: &str = "/api/v1/timestamp";

// ---------------------------------------------------------------------------------------------
// Trusted roots

/// Why a trusted root cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustedRootError {
    #[error("cannot read trusted root {path}: {source}")]
    Unreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("trusted root {origin} is not a Sigstore trusted root: {detail}")]
    Malformed { origin: String, detail: String },
    #[error("trusted root {origin} cannot be used for verification: {detail}")]
    Unusable { origin: String, detail: String },
}

/// A trusted root ready to verify with, and where it came from (for messages).
pub struct TrustAnchor {
    pub origin: String,
    pub root: TrustedRoot,
    pub(crate) verifier: Verifier,
}

impl std::fmt::Debug for TrustAnchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustAnchor")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl TrustAnchor {
    /// A snapshot of a well-known instance's root that ships inside the binary.
    pub fn embedded(instance: SigstoreInstance) -> Result<Self, TrustedRootError> {
        let origin = format!("embedded {instance:?}");
        let root =
            TrustedRoot::from_embedded(instance).map_err(|e| TrustedRootError::Malformed {
                origin: origin.clone(),
                detail: e.to_string(),
            })?;
        Self::from_root(origin, root)
    }

    /// A `trusted_root.json` file.
    pub fn from_file(path: &Path) -> Result<Self, TrustedRootError> {
        let origin = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| TrustedRootError::Unreadable {
                path: origin.clone(),
                source,
            })?;
        Self::from_json(origin, &text)
    }

    pub fn from_json(origin: String, json: &str) -> Result<Self, TrustedRootError> {
        let root = TrustedRoot::from_json(json).map_err(|e| TrustedRootError::Malformed {
            origin: origin.clone(),
            detail: e.to_string(),
        })?;
        Self::from_root(origin, root)
    }

    fn from_root(origin: String, root: TrustedRoot) -> Result<Self, TrustedRootError> {
        let verifier = Verifier::new(&root).map_err(|e| TrustedRootError::Unusable {
            origin: origin.clone(),
            detail: e.to_string(),
        })?;
        Ok(Self {
            origin,
            root,
            verifier,
        })
    }

    /// Instances without certificate transparency (GitHub's) issue certificates with no SCT.
    pub(crate) fn has_ct_logs(&self) -> bool {
        !self.root.ctlogs.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Signing keys

/// Why a `signing-key` cannot be used. Never carries key material or the password.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the signing key is not PEM text")]
    NotPem,
    #[error("unsupported PEM block '{0}': expected PRIVATE KEY (PKCS#8), EC PRIVATE KEY or ENCRYPTED SIGSTORE PRIVATE KEY (cosign)")]
    UnsupportedPemType(String),
    #[error("the signing key is not a P-256 (ECDSA) private key: {0}")]
    NotP256(String),
    #[error("the cosign-encrypted signing key is malformed: {0}")]
    EncryptedKeyMalformed(String),
    #[error("the cosign-encrypted signing key does not open with the given password (wrong 'signing-key-password'?)")]
    WrongPassword,
    /// The key file asks for a key derivation so costly it would exhaust memory or time: an
    /// attacker-supplied file must not be able to do that to the runner.
    #[error("the cosign-encrypted signing key asks for scrypt parameters beyond the accepted bounds ({0}); cosign writes N=32768, r=8, p=1")]
    KdfTooCostly(String),
}

/// The most costly scrypt a cosign key may ask for: log2 N <= 20 (cosign uses 15)...
const MAX_SCRYPT_LOG_N: u32 = 20;
/// ... r * p <= 64 (cosign uses 8 * 1) ...
const MAX_SCRYPT_R_TIMES_P: u64 = 64;
/// ... and at most 256 MiB of scrypt memory (128 * r * N bytes; cosign's key takes 32 MiB).
const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;

/// Refuse scrypt parameters that would exhaust memory or time before deriving anything.
fn bounded_scrypt_params(n: u64, r: u32, p: u32) -> Result<scrypt::Params, KeyError> {
    if !n.is_power_of_two() || n < 2 {
        return Err(KeyError::EncryptedKeyMalformed(
            "scrypt N is not a power of two".into(),
        ));
    }
    let log_n = n.trailing_zeros();
    let too_costly = |what: String| Err(KeyError::KdfTooCostly(what));
    if log_n > MAX_SCRYPT_LOG_N {
        return too_costly(format!("log2 N = {log_n} > {MAX_SCRYPT_LOG_N}"));
    }
    if r == 0 || p == 0 {
        return Err(KeyError::EncryptedKeyMalformed(
            "scrypt r and p must be positive".into(),
        ));
    }
    let rp = u64::from(r) * u64::from(p);
    if rp > MAX_SCRYPT_R_TIMES_P {
        return too_costly(format!("r * p = {rp} > {MAX_SCRYPT_R_TIMES_P}"));
    }
    let memory = 128u64.saturating_mul(u64::from(r)).saturating_mul(n);
    if memory > MAX_SCRYPT_MEMORY {
        return too_costly(format!(
            "{memory} bytes of scrypt memory > {MAX_SCRYPT_MEMORY}"
        ));
    }
    let log_n = u8::try_from(log_n).map_err(|_| KeyError::KdfTooCostly("log2 N".into()))?;
    scrypt::Params::new(log_n, r, p, 32)
        .map_err(|e| KeyError::EncryptedKeyMalformed(format!("scrypt parameters: {e}")))
}

/// A P-256 signing key loaded from `signing-key`.
pub struct SigningKey {
    /// Signs with deterministic ECDSA (RFC 6979: the nonce is derived from the key and the
    /// message), so a key-signed run draws no randomness: the first random draw from aws-lc
    /// seeds its CPU-jitter entropy source, about 50-150 ms of CPU per process, which was most
    /// of what a key-signed run spent beyond hashing (benches/provenance.rs).
    ecdsa: p256::ecdsa::SigningKey,
    public_key: DerPublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("hint", &self.hint())
            .finish_non_exhaustive()
    }
}

/// The scrypt + NaCl secretbox envelope cosign writes inside `ENCRYPTED SIGSTORE PRIVATE KEY`.
#[derive(serde::Deserialize)]
struct CosignEncrypted {
    kdf: CosignKdf,
    cipher: CosignCipher,
    ciphertext: String,
}

#[derive(serde::Deserialize)]
struct CosignKdf {
    name: String,
    params: CosignScryptParams,
    salt: String,
}

#[derive(serde::Deserialize)]
struct CosignScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(serde::Deserialize)]
struct CosignCipher {
    name: String,
    nonce: String,
}

impl SigningKey {
    /// Parse PEM text. `password` only matters for cosign-encrypted keys; cosign's own default
    /// for an unset password is the empty string, and so is ours.
    pub fn from_pem(pem_text: &Secret, password: Option<&Secret>) -> Result<Self, KeyError> {
        use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
        let (label, der) = pem_block(pem_text.expose())?;
        let secret = match label.as_str() {
            "PRIVATE KEY" => p256::SecretKey::from_pkcs8_der(&der)
                .map_err(|e| KeyError::NotP256(e.to_string()))?,
            "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(&der)
                .map_err(|e| KeyError::NotP256(e.to_string()))?,
            "ENCRYPTED SIGSTORE PRIVATE KEY" | "ENCRYPTED COSIGN PRIVATE KEY" => {
                let plain = open_cosign_key(&der, password.map(Secret::expose).unwrap_or(""))?;
                p256::SecretKey::from_pkcs8_der(&plain)
                    .map_err(|e| KeyError::NotP256(e.to_string()))?
            }
            other => return Err(KeyError::UnsupportedPemType(other.to_string())),
        };
        let pkcs8 = secret
            .to_pkcs8_der()
            .map_err(|e| KeyError::NotP256(e.to_string()))?;
        let key_pair = KeyPair::from_pkcs8_der(pkcs8.as_bytes())
            .map_err(|e| KeyError::NotP256(e.to_string()))?;
        let public_key = key_pair
            .public_key_der()
            .map_err(|e| KeyError::NotP256(e.to_string()))?;
        Ok(Self {
            ecdsa: p256::ecdsa::SigningKey::from(&secret),
            public_key,
        })
    }

    pub fn public_key(&self) -> &DerPublicKey {
        &self.public_key
    }

    /// ECDSA P-256 over SHA-256 of `message`, DER-encoded (what `KeyPair::sign` produces), with
    /// the RFC 6979 nonce instead of a random one (see [`SigningKey::ecdsa`]).
    fn sign(&self, message: &[u8]) -> Result<SignatureBytes, SignError> {
        let signature: p256::ecdsa::Signature =
            p256::ecdsa::signature::Signer::try_sign(&self.ecdsa, message)
                .map_err(|e| SignError::Crypto(e.to_string()))?;
        Ok(SignatureBytes::new(signature.to_der().as_bytes().to_vec()))
    }

    /// The bundle's `publicKey.hint`: the hex SHA-256 of the DER public key, so a verifier can
    /// tell which key to use without the bundle carrying the key itself.
    pub fn hint(&self) -> String {
        key_hint(&self.public_key)
    }
}

pub fn key_hint(public_key: &DerPublicKey) -> String {
    sigstore_sign::crypto::sha256(public_key.as_bytes()).to_hex()
}

fn pem_block(text: &str) -> Result<(String, Vec<u8>), KeyError> {
    // Secrets pasted into a repository secret often gain `\r` or surrounding blank lines.
    let normalized = text.replace('\r', "");
    let block = pem::parse(normalized.trim()).map_err(|_| KeyError::NotPem)?;
    // Encapsulated headers (`Proc-Type: ...`) mean legacy OpenSSL encryption: unsupported.
    if block.headers().iter().next().is_some() {
        return Err(KeyError::UnsupportedPemType(format!(
            "{} (with headers)",
            block.tag()
        )));
    }
    Ok((block.tag().to_string(), block.into_contents()))
}

fn open_cosign_key(json_bytes: &[u8], password: &str) -> Result<Vec<u8>, KeyError> {
    use crypto_secretbox::aead::{Aead, KeyInit};
    let bad = |s: &str| KeyError::EncryptedKeyMalformed(s.to_string());
    let env: CosignEncrypted =
        serde_json::from_slice(json_bytes).map_err(|e| bad(&format!("not cosign's JSON: {e}")))?;
    if env.kdf.name != "scrypt" {
        return Err(bad(&format!("unsupported kdf {:?}", env.kdf.name)));
    }
    if env.cipher.name != "nacl/secretbox" {
        return Err(bad(&format!("unsupported cipher {:?}", env.cipher.name)));
    }
    let b64 = |s: &str, what: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|_| bad(&format!("{what} is not base64")))
    };
    let salt = b64(&env.kdf.salt, "salt")?;
    let nonce = b64(&env.cipher.nonce, "nonce")?;
    let ciphertext = b64(&env.ciphertext, "ciphertext")?;
    let params = bounded_scrypt_params(env.kdf.params.n, env.kdf.params.r, env.kdf.params.p)?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key)
        .map_err(|e| bad(&format!("scrypt: {e}")))?;
    if nonce.len() != 24 {
        return Err(bad("the secretbox nonce is not 24 bytes"));
    }
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
    let nonce = crypto_secretbox::Nonce::from_slice(&nonce);
    cipher
        .decrypt(nonce, ciphertext.as_slice())
        .map_err(|_| KeyError::WrongPassword)
}

// ---------------------------------------------------------------------------------------------
// Signing

/// Why signing failed, per service, so a message says who refused.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the OIDC token cannot be used for Sigstore: {0}")]
    Token(String),
    #[error("Fulcio ({url}) did not issue a certificate: {detail}")]
    Fulcio { url: String, detail: String },
    #[error("Rekor ({url}) did not log the signature: {detail}")]
    Rekor { url: String, detail: String },
    #[error("the timestamp authority ({url}) did not timestamp the signature: {detail}")]
    Timestamp { url: String, detail: String },
    #[error("the statement is not an in-toto statement: {0}")]
    Statement(String),
    #[error("signing failed: {0}")]
    Crypto(String),
}

/// A bundle we just produced, plus what the summary says about it.
#[derive(Debug)]
pub struct SignedBundle {
    pub bundle: Bundle,
    pub json: Vec<u8>,
    /// Rekor log index, when the signature was logged.
    pub log_index: Option<u64>,
}

fn http_client(timeout: Duration) -> Result<sigstore_sign::reqwest::Client, SignError> {
    sigstore_sign::reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .user_agent(concat!(
            "slsa-provenance-action/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .map_err(|e| SignError::Crypto(format!("building the HTTP client: {e}")))
}

/// The TSA endpoint for a URL: an origin alone gets Sigstore's standard path.
pub fn tsa_endpoint(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.path() == "/" || u.path().is_empty() => {
            format!("{}{TSA_PATH}", url.trim_end_matches('/'))
        }
        _ => url.to_string(),
    }
}

/// What we sign must be what our verifier accepts: an in-toto statement with at least one
/// SHA-256 subject (the binding `verify_bundle` checks). Found by the `statement_roundtrip`
/// fuzz target: a statement whose only digest was `sha255` was signed, then never verified.
fn check_statement(statement: &[u8]) -> Result<(), SignError> {
    let parsed = serde_json::from_slice::<sigstore_sign::types::Statement>(statement)
        .map_err(|e| SignError::Statement(e.to_string()))?;
    // What the verifier refuses, the signer refuses first: never sign what no one can verify.
    if parsed.type_ != IN_TOTO_STATEMENT_V1 {
        return Err(SignError::Statement(format!(
            "statement _type {:?}, expected {IN_TOTO_STATEMENT_V1}",
            parsed.type_
        )));
    }
    if !parsed.subject.iter().any(|s| s.digest.sha256.is_some()) {
        return Err(SignError::Statement(
            "no subject has a SHA-256 digest".into(),
        ));
    }
    Ok(())
}

fn envelope(statement: &[u8], signature: SignatureBytes) -> DsseEnvelope {
    DsseEnvelope::new(
        IN_TOTO_PAYLOAD_TYPE,
        PayloadBytes::new(statement.to_vec()),
        DsseSignature::new(signature, KeyId::default()),
    )
}

fn finish(bundle: Bundle, log_index: Option<u64>) -> Result<SignedBundle, SignError> {
    let json = bundle
        .to_json_pretty()
        .map_err(|e| SignError::Crypto(format!("serializing the bundle: {e}")))?;
    Ok(SignedBundle {
        bundle,
        json: json.into_bytes(),
        log_index,
    })
}

/// Keyless: an ephemeral key, a Fulcio certificate for the OIDC identity, the DSSE signature
/// over the exact statement bytes, then a Rekor `dsse` entry and/or an RFC 3161 timestamp.
/// Each call gives up after `timeout` and is not retried (a Rekor entry is not sent twice).
pub async fn sign_keyless(
    services: &KeylessServices,
    id_token: &Secret,
    statement: &[u8],
    timeout: Duration,
) -> Result<SignedBundle, SignError> {
    check_statement(statement)?;
    let token =
        IdentityToken::from_jwt(id_token.expose()).map_err(|e| SignError::Token(e.to_string()))?;
    let http = http_client(timeout)?;

    let key_pair = KeyPair::generate_ecdsa_p256().map_err(|e| SignError::Crypto(e.to_string()))?;
    let fulcio_err = |detail: String| SignError::Fulcio {
        url: services.fulcio_url.clone(),
        detail,
    };
    let fulcio = FulcioClient::builder(services.fulcio_url.trim_end_matches('/'))
        .with_http_client(http.clone())
        .build()
        .map_err(|e| fulcio_err(e.to_string()))?;
    let certificate: DerCertificate = fulcio
        .create_signing_certificate(&token, &key_pair)
        .await
        .map_err(|e| fulcio_err(e.to_string()))?
        .leaf_certificate()
        .clone();

    let pae = sigstore_sign::types::pae(IN_TOTO_PAYLOAD_TYPE, statement);
    let signature = key_pair
        .sign(&pae)
        .map_err(|e| SignError::Crypto(e.to_string()))?;
    let dsse = envelope(statement, signature.clone());

    let mut log_index = None;
    let mut builder = BundleV03::with_certificate_and_dsse(certificate.clone(), dsse.clone());
    if let Some(rekor_url) = &services.rekor_url {
        let rekor_err = |detail: String| SignError::Rekor {
            url: rekor_url.clone(),
            detail,
        };
        let rekor = RekorClient::builder(rekor_url.trim_end_matches('/'))
            .with_http_client(http.clone())
            .build()
            .map_err(|e| rekor_err(e.to_string()))?;
        let entry = DsseEntry::new(&dsse, &certificate).map_err(|e| rekor_err(e.to_string()))?;
        let logged = rekor
            .create_dsse_entry(entry)
            .await
            .map_err(|e| rekor_err(e.to_string()))?;
        log_index = Some(logged.log_index.get());
        let tlog = logged
            .to_bundle_entry(KindVersion::DsseV001)
            .map_err(|e| rekor_err(format!("unusable answer: {e}")))?;
        builder = builder.with_tlog_entry(tlog);
    }
    if let Some(tsa_url) = &services.tsa_url {
        let endpoint = tsa_endpoint(tsa_url);
        let tsa_err = |detail: String| SignError::Timestamp {
            url: endpoint.clone(),
            detail,
        };
        let tsa = TimestampClient::builder(endpoint.clone())
            .with_http_client(http.clone())
            .build()
            .map_err(|e| tsa_err(e.to_string()))?;
        let token = tsa
            .timestamp_signature(&signature)
            .await
            .map_err(|e| tsa_err(e.to_string()))?;
        builder = builder.with_rfc3161_timestamp(token);
    }
    finish(builder.into_bundle(), log_index)
}

/// Key-based: the DSSE signature with a managed key, a bundle whose verification material is
/// the key's hint. Offline: no transparency log and no timestamp, so the bundle's only trust
/// is the key itself (as with `cosign sign-blob --tlog-upload=false`).
pub fn sign_with_key(key: &SigningKey, statement: &[u8]) -> Result<SignedBundle, SignError> {
    check_statement(statement)?;
    let pae = sigstore_sign::types::pae(IN_TOTO_PAYLOAD_TYPE, statement);
    let signature = key.sign(&pae)?;
    let bundle = BundleV03::new(
        VerificationMaterialV03::PublicKey { hint: key.hint() },
        SignatureContent::DsseEnvelope(envelope(statement, signature)),
    )
    .into_bundle();
    finish(bundle, None)
}

// ---------------------------------------------------------------------------------------------
// Verification

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Expected<'a> {
    /// A Fulcio certificate whose SAN equals `identity` and whose OIDC issuer equals `issuer`.
    Identity { identity: &'a str, issuer: &'a str },
    /// A managed key.
    PublicKey(&'a DerPublicKey),
}

/// What the signed payload must be about.
///
/// `Statement` and `SubjectSha256` are for provenance: they accept only a DSSE envelope holding
/// an in-toto statement. `Artifact` and `ArtifactSha256` are for any Sigstore-signed artifact:
/// they also accept a plain message signature (`hashedrekord`), which binds the artifact's
/// digest directly rather than through a statement.
#[derive(Debug, Clone, Copy)]
pub enum Binding<'a> {
    /// The DSSE payload must be exactly these bytes (our own statement).
    Statement(&'a [u8]),
    /// The statement must list a subject with this SHA-256 (hex).
    SubjectSha256(&'a str),
    /// The artifact's bytes: a message signature must be over them, or an in-toto statement
    /// must list their digest as a subject.
    Artifact(&'a [u8]),
    /// Only the artifact's SHA-256 (hex), for when its bytes are not at hand; binds as
    /// [`Binding::Artifact`] does.
    ArtifactSha256(&'a str),
}

/// Why a bundle does not verify. Detail strings are for people; branch on the variant.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("not a Sigstore bundle: {0}")]
    Malformed(String),
    #[error("the bundle uses something this verifier does not support: {0}")]
    Unsupported(String),
    #[error("the bundle is signed with a {found}, but a {expected} was expected")]
    WrongMaterial {
        expected: &'static str,
        found: &'static str,
    },
    #[error("signer identity mismatch: expected {expected}, the certificate says {}", actual.as_deref().unwrap_or("nothing"))]
    IdentityMismatch {
        expected: String,
        actual: Option<String>,
    },
    #[error("OIDC issuer mismatch: expected {expected}, the certificate says {}", actual.as_deref().unwrap_or("nothing"))]
    IssuerMismatch {
        expected: String,
        actual: Option<String>,
    },
    #[error("the signature does not verify: {0}")]
    SignatureInvalid(String),
    #[error("the signed payload is not the expected statement: {0}")]
    PayloadMismatch(String),
    #[error("the signing certificate is not trusted: {0}")]
    Certificate(String),
    #[error("the transparency log evidence does not verify: {0}")]
    TransparencyLog(String),
    #[error("no trusted signing time: {0}")]
    Timestamp(String),
    #[error("the trusted root cannot verify this bundle: {0}")]
    TrustedRoot(String),
}

/// What a verified bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The certificate SAN, or the key hint for a managed key.
    pub signer_identity: String,
    pub issuer: Option<String>,
    /// `(log index, RFC 3339 integrated time)` of each verified Rekor entry.
    pub log_entries: Vec<(u64, String)>,
    /// RFC 3339 times of the verified RFC 3161 timestamps.
    pub timestamps: Vec<String>,
}

impl From<sigstore_verify::Error> for VerifyError {
    fn from(e: sigstore_verify::Error) -> Self {
        use sigstore_verify::Error as E;
        let detail = e.to_string();
        match e {
            E::IdentityMismatch { expected, actual } => Self::IdentityMismatch {
                expected: expected.to_string(),
                actual: actual.map(|a| a.as_str().to_string()),
            },
            E::IssuerMismatch { expected, actual } => Self::IssuerMismatch { expected, actual },
            E::SignatureInvalid(_) | E::Crypto(_) => Self::SignatureInvalid(detail),
            E::ArtifactMismatch(_) | E::UnsupportedArtifact(_) => Self::PayloadMismatch(detail),
            E::Certificate(_) | E::TrustedCertificate(_) => Self::Certificate(detail),
            E::TransparencyLog(_) => Self::TransparencyLog(detail),
            E::Timestamp(_) => Self::Timestamp(detail),
            E::InvalidBundle(_) | E::Types(_) | E::Bundle(_) => Self::Malformed(detail),
            E::UnsupportedBundle(_) => Self::Unsupported(detail),
            E::InvalidTrustRoot(_) | E::TrustRoot(_) => Self::TrustedRoot(detail),
            // `ArtifactRead` cannot happen for in-memory digests; `Error` is non-exhaustive.
            _ => Self::Unsupported(detail),
        }
    }
}

/// Parse a bundle: a JSON object, or the first line of a JSON-lines file.
pub fn parse_bundle(json: &str) -> Result<Bundle, VerifyError> {
    let text = json.trim();
    match Bundle::from_json(text) {
        Ok(b) => Ok(b),
        // JSON lines only when the first line is a JSON value of its own; otherwise a
        // pretty-printed bundle's real error would be masked by its lone `{` line.
        Err(first) => match text.lines().next() {
            Some(line)
                if line.len() < text.len()
                    && serde_json::from_str::<serde_json::Value>(line).is_ok() =>
            {
                Bundle::from_json(line).map_err(|e| VerifyError::Malformed(e.to_string()))
            }
            _ => Err(VerifyError::Malformed(first.to_string())),
        },
    }
}

/// Verify a Sigstore bundle against a trusted root: a DSSE in-toto statement, or (with an
/// artifact [`Binding`]) a message signature over the artifact.
///
/// `log_policy` only matters for a bundle without a transparency log entry: a log entry that is
/// present is always verified (inclusion proof, checkpoint, and SET when there is one).
pub fn verify_bundle(
    bundle_json: &str,
    expected: &Expected<'_>,
    binding: Binding<'_>,
    log_policy: LogPolicy,
    anchor: &TrustAnchor,
) -> Result<Verified, VerifyError> {
    let bundle = parse_bundle(bundle_json)?;
    let artifact = bound_artifact(&bundle.content, binding)?;
    let material = &bundle.verification_material;
    let has_log = !material.tlog_entries.is_empty();
    let has_timestamps = !material
        .timestamp_verification_data
        .rfc3161_timestamps
        .is_empty();
    if log_policy == LogPolicy::RequireTransparencyLog && !has_log {
        return Err(VerifyError::TransparencyLog(
            "the bundle has no transparency log entry, and this trust domain requires one".into(),
        ));
    }
    let result = match expected {
        Expected::Identity { identity, issuer } => {
            // v0.1/v0.2 bundles carry the leaf in an `x509CertificateChain`.
            if !matches!(
                material.content,
                VerificationMaterialContent::Certificate(_)
                    | VerificationMaterialContent::X509CertificateChain { .. }
            ) {
                return Err(VerifyError::WrongMaterial {
                    expected: "Fulcio certificate",
                    found: material_kind(&material.content),
                });
            }
            let mut policy = VerificationPolicy::new(*identity, *issuer);
            if log_policy == LogPolicy::TimestampsSuffice && !has_log {
                policy = policy.skip_tlog_unsafe();
            }
            if !anchor.has_ct_logs() {
                policy = policy.skip_sct();
            }
            anchor.verifier.verify(artifact, &bundle, &policy)?
        }
        Expected::PublicKey(key) => {
            if !matches!(material.content, VerificationMaterialContent::PublicKey(_)) {
                return Err(VerifyError::WrongMaterial {
                    expected: "public key",
                    found: material_kind(&material.content),
                });
            }
            if !has_log && !has_timestamps {
                // Offline managed-key bundle (what `sign: key` writes, as with `cosign
                // sign-blob --tlog-upload=false`): the key is the only trust. Checked by hand
                // because `sigstore-verify` rejects a bundle with neither a log entry nor a
                // timestamp as malformed.
                verify_offline_dsse(&bundle.content, key, binding)?;
                return Ok(Verified {
                    signer_identity: key_hint(key),
                    issuer: None,
                    log_entries: Vec::new(),
                    timestamps: Vec::new(),
                });
            }
            let mut policy = PublicKeyVerificationPolicy::new((*key).clone());
            if !has_log {
                policy = policy.skip_tlog_unsafe();
            }
            anchor.verifier.verify(artifact, &bundle, &policy)?
        }
    };
    let log_entries = if result.tlog_verified() {
        material
            .tlog_entries
            .iter()
            .map(|e| {
                let time = e.integrated_time.map(|t| t.to_string()).unwrap_or_default();
                (e.log_index.get(), time)
            })
            .collect()
    } else {
        Vec::new()
    };
    let integrated = result.integrated_time();
    let timestamps = if has_timestamps {
        result
            .verified_timestamps()
            .iter()
            .filter(|t| Some(**t) != integrated)
            .map(|t| t.to_string())
            .collect()
    } else {
        Vec::new()
    };
    let signer_identity = match expected {
        Expected::PublicKey(key) => key_hint(key),
        Expected::Identity { .. } => result
            .identity()
            .map(|i| i.as_str().to_string())
            .unwrap_or_default(),
    };
    Ok(Verified {
        signer_identity,
        issuer: result.issuer().map(String::from),
        log_entries,
        timestamps,
    })
}

fn material_kind(content: &VerificationMaterialContent) -> &'static str {
    match content {
        VerificationMaterialContent::Certificate(_) => "Fulcio certificate",
        VerificationMaterialContent::PublicKey(_) => "public key",
        _ => "certificate chain",
    }
}

/// Check that the bundle's content suits the caller's binding, and return what
/// `sigstore-verify` binds the signature to.
fn bound_artifact<'a>(
    content: &SignatureContent,
    binding: Binding<'a>,
) -> Result<Artifact<'a>, VerifyError> {
    let sha256 = |hex: &str| {
        Sha256Hash::from_hex(&hex.to_ascii_lowercase())
            .map(Artifact::from)
            .map_err(|e| VerifyError::PayloadMismatch(format!("artifact digest {hex:?}: {e}")))
    };
    match binding {
        Binding::Artifact(bytes) => Ok(Artifact::from(bytes)),
        Binding::ArtifactSha256(hex) => sha256(hex),
        Binding::SubjectSha256(hex) => {
            in_toto_payload(content)?;
            sha256(hex)
        }
        Binding::Statement(expected) => {
            let payload = in_toto_payload(content)?;
            if payload != expected {
                return Err(VerifyError::PayloadMismatch(
                    "the DSSE payload differs from the statement that was signed".into(),
                ));
            }
            let statement: sigstore_sign::types::Statement = serde_json::from_slice(payload)
                .map_err(|e| VerifyError::Malformed(format!("in-toto statement: {e}")))?;
            statement
                .subject
                .iter()
                .find_map(|s| s.digest.sha256)
                .map(Artifact::from)
                .ok_or_else(|| VerifyError::Unsupported("no subject has a SHA-256 digest".into()))
        }
    }
}

/// The statement bytes of a DSSE envelope holding an in-toto statement: the only content a
/// provenance binding accepts.
pub(crate) fn in_toto_payload(content: &SignatureContent) -> Result<&[u8], VerifyError> {
    let SignatureContent::DsseEnvelope(dsse) = content else {
        return Err(VerifyError::Unsupported(
            "the bundle signs a message digest, not a DSSE in-toto statement".into(),
        ));
    };
    if dsse.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(VerifyError::Unsupported(format!(
            "DSSE payload type {:?}",
            dsse.payload_type
        )));
    }
    Ok(dsse.payload.as_bytes())
}

/// The signature over the PAE with `key`, and the statement's binding to the artifact.
fn verify_offline_dsse(
    content: &SignatureContent,
    key: &DerPublicKey,
    binding: Binding<'_>,
) -> Result<(), VerifyError> {
    let SignatureContent::DsseEnvelope(dsse) = content else {
        return Err(VerifyError::Unsupported(
            "a managed-key message signature with neither a log entry nor a timestamp".into(),
        ));
    };
    let scheme = SigningScheme::EcdsaP256Sha256;
    sigstore_sign::crypto::verify_signature(key, &dsse.pae(), &dsse.signature.sig, scheme)
        .map_err(|e| VerifyError::SignatureInvalid(e.to_string()))?;
    // What `sigstore-verify` checks on the certificate path, checked here too: a key signature
    // over anything but an in-toto Statement v1 is not provenance, however valid.
    if dsse.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(VerifyError::Unsupported(format!(
            "DSSE payload type {:?}, expected {IN_TOTO_PAYLOAD_TYPE}",
            dsse.payload_type
        )));
    }
    let statement: sigstore_sign::types::Statement =
        serde_json::from_slice(dsse.payload.as_bytes())
            .map_err(|e| VerifyError::Malformed(format!("in-toto statement: {e}")))?;
    if statement.type_ != IN_TOTO_STATEMENT_V1 {
        return Err(VerifyError::Malformed(format!(
            "statement _type {:?}, expected {IN_TOTO_STATEMENT_V1}",
            statement.type_
        )));
    }
    if statement.subject.is_empty() {
        return Err(VerifyError::Malformed(
            "the statement has no subject".into(),
        ));
    }
    let subject = match binding {
        // `bound_artifact` already compared the payload with the statement byte for byte.
        Binding::Statement(_) => return Ok(()),
        Binding::SubjectSha256(hex) | Binding::ArtifactSha256(hex) => {
            Sha256Hash::from_hex(&hex.to_ascii_lowercase())
                .map_err(|e| VerifyError::PayloadMismatch(format!("digest {hex:?}: {e}")))?
        }
        Binding::Artifact(bytes) => sigstore_sign::crypto::sha256(bytes),
    };
    if !statement.matches_sha256(&subject) {
        return Err(VerifyError::PayloadMismatch(
            "no subject of the statement has the artifact's SHA-256".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_pem() -> Secret {
        use p256::pkcs8::{EncodePrivateKey, LineEnding};
        let secret = p256::SecretKey::from_slice(&[7u8; 32]).expect("scalar");
        Secret::new(
            secret
                .to_pkcs8_pem(LineEnding::LF)
                .expect("pem")
                .to_string(),
        )
    }

    const STATEMENT: &[u8] = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}"#;

    fn no_root() -> TrustAnchor {
        TrustAnchor::embedded(SigstoreInstance::PublicGood).expect("embedded root")
    }

    // Fuzz regression (statement_roundtrip): a statement with no SHA-256 subject was signed,
    // producing a bundle our own verifier can never accept.
    #[test]
    fn key_signing_refuses_a_statement_without_a_sha256_subject() {
        let key = SigningKey::from_pem(&key_pem(), None).expect("key");
        let statement = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha255":"aa"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}"#;
        let e = sign_with_key(&key, statement).expect_err("no sha256 subject");
        assert!(matches!(e, SignError::Statement(_)), "{e:?}");
    }

    // Fuzz regression (statement_roundtrip, found by `.ci/run` after the merge that made the
    // verifier require in-toto Statement v1): a statement with another `_type` was signed,
    // producing a bundle our own verifier refuses.
    #[test]
    fn key_signing_refuses_a_statement_that_is_not_in_toto_v1() {
        let key = SigningKey::from_pem(&key_pem(), None).expect("key");
        let statement = br#"{"_type":"https://in-toto.io/Sta$tement/v1","subject":[{"name":"a","digest":{"sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}"#;
        let e = sign_with_key(&key, statement).expect_err("not in-toto v1");
        assert!(matches!(e, SignError::Statement(_)), "{e:?}");
    }

    #[test]
    fn sigstore_key_bundle_round_trips_and_rejects_another_key() {
        let key = SigningKey::from_pem(&key_pem(), None).expect("key");
        let signed = sign_with_key(&key, STATEMENT).expect("signed");
        let json = String::from_utf8(signed.json).expect("utf8");
        assert!(json.contains(BUNDLE_V03_MEDIA_TYPE), "{json}");
        assert!(json.contains(&key.hint()));
        let root = no_root();
        let ok = verify_bundle(
            &json,
            &Expected::PublicKey(key.public_key()),
            Binding::Statement(STATEMENT),
            LogPolicy::TimestampsSuffice,
            &root,
        )
        .expect("verifies");
        assert_eq!(ok.signer_identity, key.hint());

        let other = p256::SecretKey::from_slice(&[9u8; 32]).expect("scalar");
        let other_pem = {
            use p256::pkcs8::{EncodePrivateKey, LineEnding};
            Secret::new(other.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string())
        };
        let other = SigningKey::from_pem(&other_pem, None).expect("key");
        let e = verify_bundle(
            &json,
            &Expected::PublicKey(other.public_key()),
            Binding::Statement(STATEMENT),
            LogPolicy::TimestampsSuffice,
            &root,
        )
        .expect_err("wrong key");
        assert!(matches!(e, VerifyError::SignatureInvalid(_)), "{e}");

        let e = verify_bundle(
            &json,
            &Expected::PublicKey(key.public_key()),
            Binding::Statement(b"{}"),
            LogPolicy::TimestampsSuffice,
            &root,
        )
        .expect_err("other statement");
        assert!(matches!(e, VerifyError::PayloadMismatch(_)), "{e}");

        let e = verify_bundle(
            &json,
            &Expected::Identity {
                identity: "x",
                issuer: "y",
            },
            Binding::Statement(STATEMENT),
            LogPolicy::TimestampsSuffice,
            &root,
        )
        .expect_err("no certificate");
        assert!(matches!(e, VerifyError::WrongMaterial { .. }), "{e}");
    }

    // Regression (benches/provenance.rs): a key-signed run spent 130-190 ms seeding aws-lc's
    // CPU-jitter entropy for one random ECDSA nonce, more than hashing 64 MiB. The nonce is
    // now RFC 6979's: the same key and statement give the same bundle, and the signature is
    // plain ECDSA P-256/SHA-256 that an independent implementation accepts.
    #[test]
    fn key_signature_is_deterministic_and_standard_ecdsa() {
        use p256::ecdsa::signature::Verifier as _;
        let key = SigningKey::from_pem(&key_pem(), None).expect("key");
        let first = sign_with_key(&key, STATEMENT).expect("signed").json;
        let second = sign_with_key(&key, STATEMENT).expect("signed").json;
        assert_eq!(first, second, "RFC 6979: no random nonce");

        let bundle: serde_json::Value = serde_json::from_slice(&first).expect("json");
        let sig_b64 = bundle["dsseEnvelope"]["signatures"][0]["sig"]
            .as_str()
            .expect("signature");
        let der = base64::engine::general_purpose::STANDARD
            .decode(sig_b64)
            .expect("base64");
        let signature = p256::ecdsa::Signature::from_der(&der).expect("DER ECDSA signature");
        let secret = p256::SecretKey::from_slice(&[7u8; 32]).expect("scalar");
        let verifying = p256::ecdsa::VerifyingKey::from(secret.public_key());
        let pae = sigstore_sign::types::pae(IN_TOTO_PAYLOAD_TYPE, STATEMENT);
        verifying
            .verify(&pae, &signature)
            .expect("verifies with RustCrypto's p256");
        assert!(verifying.verify(b"other", &signature).is_err());
    }

    #[test]
    fn sigstore_offline_key_bundle_checks_the_subject_digest() {
        // Regression: an offline `sign: key` bundle verified with `SubjectSha256` (or an
        // artifact binding) was accepted whatever the digest, as only the signature was checked.
        let key = SigningKey::from_pem(&key_pem(), None).expect("key");
        let json =
            String::from_utf8(sign_with_key(&key, STATEMENT).expect("signed").json).expect("utf8");
        let root = no_root();
        let verify = |binding| {
            verify_bundle(
                &json,
                &Expected::PublicKey(key.public_key()),
                binding,
                LogPolicy::TimestampsSuffice,
                &root,
            )
        };
        let subject = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
        verify(Binding::SubjectSha256(subject)).expect("listed subject");
        verify(Binding::ArtifactSha256(subject)).expect("listed subject as artifact digest");
        verify(Binding::Artifact(b"a")).expect("the subject's bytes");
        for binding in [
            Binding::SubjectSha256(&"0".repeat(64)),
            Binding::ArtifactSha256(&"0".repeat(64)),
            Binding::Artifact(b"b"),
        ] {
            let e = verify(binding).expect_err("another artifact");
            assert!(matches!(e, VerifyError::PayloadMismatch(_)), "{e}");
        }
    }

    #[test]
    fn sigstore_pretty_bundle_error_is_not_masked_by_json_lines() {
        // Regression: a pretty-printed bundle that failed to parse was retried as JSON lines,
        // so the error said "EOF at line 1" (its lone `{`) instead of what was wrong.
        let text =
            "{\n  \"mediaType\": \"application/vnd.dev.sigstore.bundle.v0.3+json\",\n  \"x\": !\n}";
        let e = parse_bundle(text).expect_err("malformed");
        assert!(!e.to_string().contains("line 1 column 1"), "{e}");
    }

    #[test]
    fn sigstore_key_errors_are_typed_and_secret_free() {
        let e = SigningKey::from_pem(&Secret::new("hello"), None).expect_err("not pem");
        assert_eq!(e, KeyError::NotPem);
        let e = SigningKey::from_pem(
            &Secret::new("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            None,
        )
        .expect_err("cert");
        assert!(matches!(e, KeyError::UnsupportedPemType(_)));
        let e = SigningKey::from_pem(
            &Secret::new("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            None,
        )
        .expect_err("garbage");
        assert!(matches!(e, KeyError::NotP256(_)));
    }

    /// A key-signed bundle over `payload` with `payload_type`, signed for real.
    fn key_bundle_over(key: &SigningKey, payload_type: &str, payload: &[u8]) -> String {
        let pae = sigstore_sign::types::pae(payload_type, payload);
        let sig = key.sign(&pae).expect("sign");
        let bundle = BundleV03::new(
            VerificationMaterialV03::PublicKey { hint: key.hint() },
            SignatureContent::DsseEnvelope(DsseEnvelope::new(
                payload_type,
                PayloadBytes::new(payload.to_vec()),
                DsseSignature::new(sig, KeyId::default()),
            )),
        )
        .into_bundle();
        bundle.to_json_pretty().expect("json")
    }

    #[test]
    fn offline_key_bundle_with_a_foreign_payload_type_is_rejected() {
        // Regression: an offline key bundle was accepted with any DSSE payload type when bound
        // to an artifact, where the certificate path refuses anything but in-toto.
        let key = SigningKey::from_pem(&key_pem(), None).expect("key");
        let json = key_bundle_over(&key, "text/plain", STATEMENT);
        let e = verify_bundle(
            &json,
            &Expected::PublicKey(key.public_key()),
            Binding::Artifact(b"a"),
            LogPolicy::TimestampsSuffice,
            &no_root(),
        )
        .expect_err("not in-toto");
        assert!(matches!(e, VerifyError::Unsupported(_)), "{e}");
    }

    #[test]
    fn offline_key_bundle_over_a_non_v1_statement_is_rejected() {
        // Regression: an offline key bundle whose payload was not an in-toto Statement v1 (an
        // old `Statement/v0.1`, or not a statement at all) verified by signature alone.
        let key = SigningKey::from_pem(&key_pem(), None).expect("key");
        let old = String::from_utf8(STATEMENT.to_vec())
            .expect("utf8")
            .replace("Statement/v1", "Statement/v0.1");
        for payload in [old.as_bytes(), b"{\"hello\":1}".as_slice()] {
            let json = key_bundle_over(&key, IN_TOTO_PAYLOAD_TYPE, payload);
            let e = verify_bundle(
                &json,
                &Expected::PublicKey(key.public_key()),
                Binding::Artifact(b"a"),
                LogPolicy::TimestampsSuffice,
                &no_root(),
            )
            .expect_err("not a v1 statement");
            assert!(matches!(e, VerifyError::Malformed(_)), "{e}");
        }
    }

    #[test]
    fn cosign_key_with_absurd_scrypt_cost_is_refused_before_deriving() {
        // Regression: a cosign key file asking for N = 2^40 made the runner allocate terabytes.
        let e = bounded_scrypt_params(1 << 40, 8, 1).expect_err("log2 N 40");
        assert!(matches!(e, KeyError::KdfTooCostly(_)), "{e}");
        let e = bounded_scrypt_params(1 << 21, 8, 1).expect_err("log2 N 21");
        assert!(matches!(e, KeyError::KdfTooCostly(_)), "{e}");
        let e = bounded_scrypt_params(1 << 10, 1 << 20, 1 << 20).expect_err("r * p");
        assert!(matches!(e, KeyError::KdfTooCostly(_)), "{e}");
        let e = bounded_scrypt_params(1 << 20, 64, 1).expect_err("memory");
        assert!(matches!(e, KeyError::KdfTooCostly(_)), "{e}");
        let e = bounded_scrypt_params(1000, 8, 1).expect_err("not a power of two");
        assert!(matches!(e, KeyError::EncryptedKeyMalformed(_)), "{e}");
        bounded_scrypt_params(32768, 8, 1).expect("cosign's own parameters");
        bounded_scrypt_params(65536, 8, 1).expect("cosign generate-key-pair's");
    }

    #[test]
    fn sigstore_windows_line_endings_in_a_pasted_key_are_fine() {
        let pem = key_pem().expose().replace('\n', "\r\n");
        SigningKey::from_pem(&Secret::new(format!("\n{pem}\n")), None).expect("key");
    }

    #[test]
    fn sigstore_tsa_origin_gets_the_standard_path() {
        assert_eq!(
            tsa_endpoint("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/api/v1/timestamp"
        );
        assert_eq!(
            tsa_endpoint("https://timestamp.githubapp.com/api/v1/timestamp"),
            "https://timestamp.githubapp.com/api/v1/timestamp"
        );
    }

    #[test]
    fn sigstore_embedded_roots_load() {
        TrustAnchor::embedded(SigstoreInstance::PublicGood).expect("public good");
        TrustAnchor::embedded(SigstoreInstance::GitHub).expect("github");
    }

    #[test]
    fn sigstore_invalid_trusted_root_is_typed() {
        let e = TrustAnchor::from_json("t".into(), "{}").expect_err("not a root");
        assert!(matches!(e, TrustedRootError::Malformed { .. }), "{e}");
        let e = TrustAnchor::from_file(Path::new("/nonexistent/trusted_root.json"))
            .expect_err("missing");
        assert!(matches!(e, TrustedRootError::Unreadable { .. }), "{e}");
    }
}
