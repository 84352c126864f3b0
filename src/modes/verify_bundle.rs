//! `slsa-provenance-action verify-bundle`: the verification half of the Sigstore client
//! conformance protocol, on the same verifier as the modes.
//!
//! `verify-bundle --bundle F (--certificate-identity I --certificate-oidc-issuer U | --key K)
//! [--trusted-root R] FILE|sha256:<hex>`; success only when the bundle verifies. A rejection
//! is `signature_invalid` (exit 1).

use std::path::Path;

use sigstore_trust_root::SigstoreInstance;
use sigstore_types::DerPublicKey;

use crate::adapters::actions::Actions;
use crate::adapters::sigstore::{verify_bundle, Binding, Expected, LogPolicy, TrustAnchor};
use crate::error::{Failure, FailureReason, Result};

pub const USAGE: &str = "usage: slsa-provenance-action verify-bundle --bundle FILE \
(--certificate-identity IDENTITY --certificate-oidc-issuer URL | --key PEM_FILE) \
[--trusted-root FILE] FILE|sha256:<hex>";

#[derive(Debug, Default, PartialEq, Eq)]
struct Args {
    bundle: Option<String>,
    identity: Option<String>,
    issuer: Option<String>,
    key: Option<String>,
    trusted_root: Option<String>,
    artifact: Option<String>,
}

fn invalid(msg: impl Into<String>) -> Failure {
    Failure::new(
        FailureReason::InvalidInput,
        format!("{}; {USAGE}", msg.into()),
    )
}

fn parse(args: &[String]) -> Result<Args> {
    let mut a = Args::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let slot = match flag {
            "--bundle" => &mut a.bundle,
            "--certificate-identity" => &mut a.identity,
            "--certificate-oidc-issuer" => &mut a.issuer,
            "--key" => &mut a.key,
            "--trusted-root" => &mut a.trusted_root,
            f if f.starts_with("--") => return Err(invalid(format!("unknown option {f}"))),
            _ => {
                if a.artifact.replace(arg.clone()).is_some() {
                    return Err(invalid("more than one artifact given"));
                }
                continue;
            }
        };
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| invalid(format!("{flag} needs a value")))?,
        };
        *slot = Some(value);
    }
    Ok(a)
}

fn read(path: &str, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| invalid(format!("cannot read {what} {path:?}: {e}")))
}

/// `args` as the OS gave them: one that is not UTF-8 is refused (`invalid_input`), never a panic.
pub fn run(args: &[std::ffi::OsString], cwd: &Path, actions: &Actions) -> Result<()> {
    let args = args
        .iter()
        .enumerate()
        .map(|(i, a)| {
            a.clone().into_string().map_err(|_| {
                invalid(format!(
                    "verify-bundle argument {} is not valid UTF-8",
                    i + 1
                ))
            })
        })
        .collect::<Result<Vec<String>>>()?;
    let a = parse(&args)?;
    let resolve = |p: &str| cwd.join(p).to_string_lossy().into_owned();
    let bundle_path = a
        .bundle
        .as_deref()
        .ok_or_else(|| invalid("--bundle is required"))?;
    let bundle = String::from_utf8(read(&resolve(bundle_path), "bundle")?)
        .map_err(|_| Failure::new(FailureReason::SignatureInvalid, "the bundle is not UTF-8"))?;
    let artifact = a
        .artifact
        .as_deref()
        .ok_or_else(|| invalid("no artifact given"))?;
    let anchor = match &a.trusted_root {
        Some(p) => TrustAnchor::from_file(Path::new(&resolve(p))),
        None => TrustAnchor::embedded(SigstoreInstance::PublicGood),
    }
    .map_err(|e| Failure::new(FailureReason::TrustedRootInvalid, e.to_string()))?;
    let key = match &a.key {
        Some(p) => {
            let pem = String::from_utf8_lossy(&read(&resolve(p), "key")?).into_owned();
            Some(DerPublicKey::from_pem(pem.trim()).map_err(|e| {
                Failure::new(FailureReason::SignatureInvalid, format!("--key: {e}"))
            })?)
        }
        None => None,
    };
    let expected =
        match (&key, &a.identity, &a.issuer) {
            (Some(k), None, None) => Expected::PublicKey(k),
            (None, Some(identity), Some(issuer)) => Expected::Identity { identity, issuer },
            _ => return Err(invalid(
                "give either --key, or both --certificate-identity and --certificate-oidc-issuer",
            )),
        };
    let artifact_bytes;
    let binding = match artifact.strip_prefix("sha256:") {
        Some(hex) => Binding::ArtifactSha256(hex),
        None => {
            artifact_bytes = read(&resolve(artifact), "artifact")?;
            Binding::Artifact(&artifact_bytes)
        }
    };
    // A conformance client verifies as for the public-good instance: a log entry is required.
    let verified = verify_bundle(
        &bundle,
        &expected,
        binding,
        LogPolicy::RequireTransparencyLog,
        &anchor,
    )
    .map_err(|e| Failure::new(FailureReason::SignatureInvalid, e.to_string()))?;
    actions.info(&format!(
        "OK: verified, signed by {}",
        verified.signer_identity
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn conformance_arguments_parse() {
        let a = parse(&s(&[
            "--bundle",
            "b.json",
            "--certificate-identity=id",
            "--certificate-oidc-issuer",
            "iss",
            "sha256:ab",
        ]))
        .expect("parses");
        assert_eq!(a.bundle.as_deref(), Some("b.json"));
        assert_eq!(a.identity.as_deref(), Some("id"));
        assert_eq!(a.artifact.as_deref(), Some("sha256:ab"));
        for bad in [&["--bundle"][..], &["--nope", "x"], &["a", "b"]] {
            let e = parse(&s(bad)).expect_err("invalid");
            assert_eq!(e.reason, FailureReason::InvalidInput);
        }
    }
}
