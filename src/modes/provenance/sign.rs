//! Signing step of `mode: provenance`: keyless Sigstore or key-based DSSE signing of the
//! statement bytes, followed by verification of our own bundle with the same trusted root.
//!
//! Which Sigstore instance a keyless signature goes to is decided here by the pure
//! [`plan_keyless`], like `actions/attest`: public repositories use the public-good instance
//! (Fulcio + Rekor), private and internal ones GitHub's instance (Fulcio + TSA, no public
//! log), so a private repository's name never reaches a public transparency log. The inputs
//! `fulcio-url`, `rekor-url`, `tsa-url` and `trusted-root` override single pieces (GHES,
//! staging, tests); `rekor-url` is refused for non-public repositories for the same reason.

use std::path::PathBuf;

use serde_json::Value;
use sigstore_trust_root::SigstoreInstance;

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::oidc;
use crate::adapters::sigstore::{
    self, Binding, Expected, KeylessServices, LogPolicy, SignedBundle, SigningKey, TrustAnchor,
    Verified,
};
use crate::domain::signing::{SigningMethod, MISSING_ID_TOKEN};
use crate::domain::statement::BuildContext;
use crate::domain::summary::SigningFacts;
use crate::error::{Failure, FailureReason, Result};
use crate::inputs::ProvenanceInputs;
use crate::secret::Secret;

pub const PUBLIC_GOOD_FULCIO: &str = "https://fulcio.sigstore.dev";
pub const PUBLIC_GOOD_REKOR: &str = "https://rekor.sigstore.dev";
pub const GITHUB_FULCIO: &str = "https://fulcio.githubapp.com";
pub const GITHUB_TSA: &str = "https://timestamp.githubapp.com/api/v1/timestamp";
const PUBLIC_GOOD_SEARCH: &str = "https://search.sigstore.dev/?logIndex=";

pub struct SignRequest<'a> {
    pub method: SigningMethod,
    pub inputs: &'a ProvenanceInputs,
    pub env: &'a RunEnv,
    pub context: &'a BuildContext,
    /// The OIDC token already fetched (audience `sigstore`) when the runner offers one.
    pub id_token: Option<Secret>,
    /// The exact statement bytes: the DSSE payload.
    pub statement: &'a [u8],
    pub actions: &'a Actions,
}

pub struct Signed {
    /// Sigstore bundle v0.3 JSON.
    pub bundle_json: Vec<u8>,
    pub facts: SigningFacts,
}

pub async fn sign(req: SignRequest<'_>) -> Result<Option<Signed>> {
    match req.method {
        SigningMethod::Unsigned => {
            req.actions
                .warning("sign: none: the provenance is unsigned and does not meet SLSA Build L2+");
            Ok(None)
        }
        SigningMethod::Key => sign_with_key(&req).map(Some),
        SigningMethod::Keyless => sign_keyless(&req).await.map(Some),
    }
}

// ---------------------------------------------------------------------------------------------
// Key

fn sign_with_key(req: &SignRequest<'_>) -> Result<Signed> {
    let pem = req.inputs.signing_key.as_ref().ok_or_else(|| {
        Failure::new(
            FailureReason::MissingInput,
            "input 'signing-key' is required when signing with a key",
        )
    })?;
    // The key and its password were masked (line by line) when the inputs were read.
    let key = SigningKey::from_pem(pem, req.inputs.signing_key_password.as_ref())
        .map_err(|e| Failure::new(FailureReason::SigningKeyInvalid, e.to_string()))?;
    let signed = sigstore::sign_with_key(&key, req.statement)
        .map_err(|e| Failure::new(FailureReason::SigningFailed, e.to_string()))?;
    // No trusted root is involved in an offline key signature; any root will do for the API.
    let anchor = TrustAnchor::embedded(SigstoreInstance::PublicGood)
        .map_err(|e| Failure::new(FailureReason::TrustedRootInvalid, e.to_string()))?;
    let verified = self_verify(
        &signed,
        &Expected::PublicKey(key.public_key()),
        LogPolicy::TimestampsSuffice,
        req.statement,
        &anchor,
    )?;
    req.actions.info(&format!(
        "Signed with key {} (DSSE, bundle v0.3)",
        key.hint()
    ));
    Ok(Signed {
        bundle_json: signed.json,
        facts: SigningFacts {
            method: "key".into(),
            signer_identity: format!("key {}", verified.signer_identity),
            issuer: None,
            tlog_entry: None,
            timestamp: None,
            bundle_path: String::new(),
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Keyless

/// A repository's visibility as the token or event reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    /// Private or internal.
    NotPublic,
    Unknown,
}

/// The OIDC claim `repository_visibility`, else the event's `repository.visibility`, else its
/// `repository.private`.
pub fn visibility(claims: &Value, event: Option<&Value>) -> Visibility {
    let word = |v: &str| match v {
        "public" => Visibility::Public,
        "private" | "internal" => Visibility::NotPublic,
        _ => Visibility::Unknown,
    };
    if let Some(v) = claims.get("repository_visibility").and_then(Value::as_str) {
        return word(v);
    }
    let repo = event.and_then(|e| e.get("repository"));
    if let Some(v) = repo
        .and_then(|r| r.get("visibility"))
        .and_then(Value::as_str)
    {
        return word(v);
    }
    match repo.and_then(|r| r.get("private")).and_then(Value::as_bool) {
        Some(false) => Visibility::Public,
        Some(true) => Visibility::NotPublic,
        None => Visibility::Unknown,
    }
}

/// Where the trusted root comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSource {
    Embedded(SigstoreInstance),
    File(PathBuf),
}

/// Everything a keyless signature needs to know, decided from plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeylessPlan {
    /// `public-good`, `GitHub` or `custom`: for the summary.
    pub instance: &'static str,
    pub services: KeylessServices,
    pub root: RootSource,
    pub log_policy: LogPolicy,
    /// Said to the user as a warning (an override that was refused).
    pub warnings: Vec<String>,
}

/// The overrides a workflow may give (`fulcio-url`, `rekor-url`, `tsa-url`, `trusted-root`).
#[derive(Debug, Clone, Default)]
pub struct Overrides<'a> {
    pub fulcio_url: Option<&'a str>,
    pub rekor_url: Option<&'a str>,
    pub tsa_url: Option<&'a str>,
    /// Already resolved against the workspace.
    pub trusted_root: Option<PathBuf>,
}

/// Pick the instance like `actions/attest` (only a *public* repository goes to the public-good
/// instance; unknown visibility is treated as private), then apply the overrides.
pub fn plan_keyless(visibility: Visibility, o: &Overrides<'_>) -> KeylessPlan {
    let public = visibility == Visibility::Public;
    let mut warnings = Vec::new();
    let custom = o.fulcio_url.is_some() || o.trusted_root.is_some();
    let (instance, fulcio, rekor, tsa, root) = if public {
        (
            "public-good",
            PUBLIC_GOOD_FULCIO,
            Some(PUBLIC_GOOD_REKOR.to_string()),
            None,
            SigstoreInstance::PublicGood,
        )
    } else {
        (
            "GitHub",
            GITHUB_FULCIO,
            None,
            Some(GITHUB_TSA.to_string()),
            SigstoreInstance::GitHub,
        )
    };
    let rekor_url = match (public, o.rekor_url) {
        (true, Some(r)) => Some(r.to_string()),
        (true, None) => rekor,
        (false, Some(r)) => {
            warnings.push(format!(
                "rekor-url {r} is ignored: this repository is not public (or its visibility is \
                 unknown), and a transparency log would publish its name; it is timestamped instead"
            ));
            None
        }
        (false, None) => None,
    };
    let tsa_url = o.tsa_url.map(String::from).or(tsa);
    KeylessPlan {
        instance: if custom { "custom" } else { instance },
        log_policy: if rekor_url.is_some() {
            LogPolicy::RequireTransparencyLog
        } else {
            LogPolicy::TimestampsSuffice
        },
        services: KeylessServices {
            fulcio_url: o.fulcio_url.unwrap_or(fulcio).to_string(),
            rekor_url,
            tsa_url,
        },
        root: o
            .trusted_root
            .clone()
            .map(RootSource::File)
            .unwrap_or(RootSource::Embedded(root)),
        warnings,
    }
}

/// `Rekor log index N (url)`: the public-good log has a search UI, others the raw API.
pub fn tlog_entry_text(rekor_url: &str, index: u64) -> String {
    let url = if rekor_url.trim_end_matches('/') == PUBLIC_GOOD_REKOR {
        format!("{PUBLIC_GOOD_SEARCH}{index}")
    } else {
        format!(
            "{}/api/v1/log/entries?logIndex={index}",
            rekor_url.trim_end_matches('/')
        )
    };
    format!("Rekor log index {index} ({url})")
}

async fn sign_keyless(req: &SignRequest<'_>) -> Result<Signed> {
    let token = req
        .id_token
        .as_ref()
        .ok_or_else(|| Failure::new(FailureReason::MissingIdTokenPermission, MISSING_ID_TOKEN))?;
    let claims = oidc::decode_claims(token)?;
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Failure::new(
                FailureReason::OidcTokenFailed,
                "the OIDC token has no 'iss' claim",
            )
        })?
        .to_string();
    let url = |u: &Option<url::Url>| {
        u.as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_string())
    };
    let (fulcio, rekor, tsa) = (
        url(&req.inputs.fulcio_url),
        url(&req.inputs.rekor_url),
        url(&req.inputs.tsa_url),
    );
    let overrides = Overrides {
        fulcio_url: fulcio.as_deref(),
        rekor_url: rekor.as_deref(),
        tsa_url: tsa.as_deref(),
        trusted_root: req
            .inputs
            .trusted_root
            .as_deref()
            .map(|p| req.env.workspace.join(p)),
    };
    let vis = visibility(&claims, req.env.event.as_ref());
    let plan = plan_keyless(vis, &overrides);
    for w in &plan.warnings {
        req.actions.warning(w);
    }
    // Load the root before talking to any service: a bad root must not cost a log entry.
    let anchor = match &plan.root {
        RootSource::Embedded(i) => TrustAnchor::embedded(*i),
        RootSource::File(p) => TrustAnchor::from_file(p),
    }
    .map_err(|e| Failure::new(FailureReason::TrustedRootInvalid, e.to_string()))?;
    req.actions.info(&format!(
        "Signing with Sigstore ({} instance: Fulcio {}, {}{})",
        plan.instance,
        plan.services.fulcio_url,
        match &plan.services.rekor_url {
            Some(r) => format!("Rekor {r}"),
            None => "no transparency log".into(),
        },
        match &plan.services.tsa_url {
            Some(t) => format!(", TSA {}", sigstore::tsa_endpoint(t)),
            None => String::new(),
        }
    ));

    let signed = sigstore::sign_keyless(&plan.services, token, req.statement)
        .await
        .map_err(|e| Failure::new(FailureReason::SigningFailed, e.to_string()))?;
    let identity = req.context.builder_id();
    let verified = self_verify(
        &signed,
        &Expected::Identity {
            identity: &identity,
            issuer: &issuer,
        },
        plan.log_policy,
        req.statement,
        &anchor,
    )?;
    let tlog_entry = match (&plan.services.rekor_url, signed.log_index) {
        (Some(r), Some(i)) => Some(tlog_entry_text(r, i)),
        _ => None,
    };
    let timestamp = verified.timestamps.first().cloned();
    req.actions.info(&format!(
        "Signed by {} (issuer {issuer}){}{}",
        verified.signer_identity,
        tlog_entry
            .as_deref()
            .map(|t| format!(", {t}"))
            .unwrap_or_default(),
        timestamp
            .as_deref()
            .map(|t| format!(", timestamped {t}"))
            .unwrap_or_default(),
    ));
    Ok(Signed {
        bundle_json: signed.json,
        facts: SigningFacts {
            method: format!("sigstore (keyless, {} instance)", plan.instance),
            signer_identity: verified.signer_identity,
            issuer: verified.issuer.or(Some(issuer)),
            tlog_entry,
            timestamp,
            bundle_path: String::new(),
        },
    })
}

fn self_verify(
    signed: &SignedBundle,
    expected: &Expected<'_>,
    log_policy: LogPolicy,
    statement: &[u8],
    anchor: &TrustAnchor,
) -> Result<Verified> {
    let json = String::from_utf8_lossy(&signed.json);
    sigstore::verify_bundle(
        &json,
        expected,
        Binding::Statement(statement),
        log_policy,
        anchor,
    )
    .map_err(|e| {
        Failure::new(
            FailureReason::SelfVerificationFailed,
            format!(
                "the bundle we just signed does not verify against trusted root {}: {e}",
                anchor.origin
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn visibility_prefers_the_token_claim_then_the_event() {
        let event = json!({"repository": {"visibility": "public", "private": false}});
        assert_eq!(
            visibility(&json!({"repository_visibility": "internal"}), Some(&event)),
            Visibility::NotPublic
        );
        assert_eq!(visibility(&json!({}), Some(&event)), Visibility::Public);
        assert_eq!(
            visibility(&json!({}), Some(&json!({"repository": {"private": true}}))),
            Visibility::NotPublic
        );
        assert_eq!(visibility(&json!({}), None), Visibility::Unknown);
    }

    #[test]
    fn public_repositories_use_public_good_with_rekor() {
        let p = plan_keyless(Visibility::Public, &Overrides::default());
        assert_eq!(p.instance, "public-good");
        assert_eq!(p.services.fulcio_url, PUBLIC_GOOD_FULCIO);
        assert_eq!(p.services.rekor_url.as_deref(), Some(PUBLIC_GOOD_REKOR));
        assert_eq!(p.services.tsa_url, None);
        assert_eq!(p.root, RootSource::Embedded(SigstoreInstance::PublicGood));
        assert_eq!(p.log_policy, LogPolicy::RequireTransparencyLog);
    }

    #[test]
    fn private_and_unknown_repositories_never_reach_a_transparency_log() {
        for v in [Visibility::NotPublic, Visibility::Unknown] {
            let p = plan_keyless(
                v,
                &Overrides {
                    rekor_url: Some("http://127.0.0.1:1"),
                    ..Default::default()
                },
            );
            assert_eq!(p.services.fulcio_url, GITHUB_FULCIO);
            assert_eq!(p.services.rekor_url, None);
            assert_eq!(p.services.tsa_url.as_deref(), Some(GITHUB_TSA));
            assert_eq!(p.root, RootSource::Embedded(SigstoreInstance::GitHub));
            assert_eq!(p.log_policy, LogPolicy::TimestampsSuffice);
            assert_eq!(p.warnings.len(), 1);
        }
    }

    #[test]
    fn overrides_replace_single_services() {
        let p = plan_keyless(
            Visibility::Public,
            &Overrides {
                fulcio_url: Some("http://127.0.0.1:9"),
                rekor_url: Some("http://127.0.0.1:9"),
                tsa_url: Some("http://127.0.0.1:9"),
                trusted_root: Some("/r.json".into()),
            },
        );
        assert_eq!(p.instance, "custom");
        assert_eq!(p.services.rekor_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(p.services.tsa_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(p.root, RootSource::File("/r.json".into()));
    }

    #[test]
    fn tlog_entry_links_to_search_for_public_good() {
        assert_eq!(
            tlog_entry_text(PUBLIC_GOOD_REKOR, 7),
            "Rekor log index 7 (https://search.sigstore.dev/?logIndex=7)"
        );
        assert_eq!(
            tlog_entry_text("http://127.0.0.1:5/", 1),
            "Rekor log index 1 (http://127.0.0.1:5/api/v1/log/entries?logIndex=1)"
        );
    }
}
