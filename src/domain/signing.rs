//! Signing decisions, pure: which method a run uses (`sign` input + what the environment
//! offers), and for keyless signing which Sigstore instance, like `actions/attest`: public
//! repositories use the public-good instance (Fulcio + Rekor), private and internal ones GitHub's
//! instance (Fulcio + TSA, no public log), so a private repository's name never reaches a public
//! transparency log. The inputs `fulcio-url`, `rekor-url`, `tsa-url` and `trusted-root` override
//! single pieces (GHES, staging, tests); `rekor-url` is refused for non-public repositories.

use std::path::PathBuf;

use serde_json::Value;

use crate::error::{Failure, FailureReason};
use crate::inputs::SignMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningMethod {
    Keyless,
    Key,
    Unsigned,
}

/// `actions/attest`'s wording for a workflow without `id-token: write`.
pub const MISSING_ID_TOKEN: &str = "Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable: \
     missing \"id-token\" permission. Please add \"permissions: id-token: write\" to your workflow.";

pub fn choose(sign: SignMode, has_oidc: bool, has_key: bool) -> Result<SigningMethod, Failure> {
    match sign {
        SignMode::None => Ok(SigningMethod::Unsigned),
        SignMode::Key => Ok(SigningMethod::Key),
        SignMode::Sigstore if has_oidc => Ok(SigningMethod::Keyless),
        SignMode::Auto if has_oidc => Ok(SigningMethod::Keyless),
        SignMode::Auto if has_key => Ok(SigningMethod::Key),
        SignMode::Sigstore | SignMode::Auto => Err(Failure::new(
            FailureReason::MissingIdTokenPermission,
            MISSING_ID_TOKEN,
        )),
    }
}

pub const PUBLIC_GOOD_FULCIO: &str = "https://fulcio.sigstore.dev";
pub const PUBLIC_GOOD_REKOR: &str = "https://rekor.sigstore.dev";
pub const GITHUB_FULCIO: &str = "https://fulcio.githubapp.com";
pub const GITHUB_TSA: &str = "https://timestamp.githubapp.com/api/v1/timestamp";
const PUBLIC_GOOD_SEARCH: &str = "https://search.sigstore.dev/?logIndex=";

/// The embedded trusted roots we ship (through `sigstore-trust-root`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    PublicGood,
    GitHub,
}

/// Which Sigstore services a keyless signature uses. Decided by [`plan_keyless`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeylessServices {
    pub fulcio_url: String,
    /// Rekor v1 base URL; `None` means no transparency log (GitHub's private instance).
    pub rekor_url: Option<String>,
    /// Full RFC 3161 endpoint; a URL with no path gets Sigstore's `/api/v1/timestamp`.
    pub tsa_url: Option<String>,
}

/// Whether a transparency-log entry is required. Trust domains without a log (GitHub's
/// private instance) are verified from RFC 3161 timestamps alone; that must be a choice of
/// the caller, never inferred from the bundle, or stripping the log entry would downgrade
/// verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogPolicy {
    RequireTransparencyLog,
    TimestampsSuffice,
}

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
    Embedded(Instance),
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
            Instance::PublicGood,
        )
    } else {
        (
            "GitHub",
            GITHUB_FULCIO,
            None,
            Some(GITHUB_TSA.to_string()),
            Instance::GitHub,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn auto_prefers_keyless_then_key_then_fails_with_attest_wording() {
        assert_eq!(
            choose(SignMode::Auto, true, true).ok(),
            Some(SigningMethod::Keyless)
        );
        assert_eq!(
            choose(SignMode::Auto, false, true).ok(),
            Some(SigningMethod::Key)
        );
        let e = choose(SignMode::Auto, false, false).expect_err("no way to sign");
        assert_eq!(e.reason, FailureReason::MissingIdTokenPermission);
        assert!(e.message.contains("id-token: write"));
        assert!(choose(SignMode::Sigstore, false, true).is_err());
        assert_eq!(
            choose(SignMode::None, true, true).ok(),
            Some(SigningMethod::Unsigned)
        );
    }

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
        assert_eq!(p.root, RootSource::Embedded(Instance::PublicGood));
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
            assert_eq!(p.root, RootSource::Embedded(Instance::GitHub));
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
