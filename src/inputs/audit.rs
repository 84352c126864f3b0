//! Typed inputs of the audit trail, shared by every mode that records a run: where the trail
//! is stored, the queue to drain, a rollback's target, and the optional Supabase sink.

use std::path::PathBuf;

use super::provenance::parse_url;
use super::RawInputs;
use crate::error::{Failure, FailureReason, Result};
use crate::secret::Secret;

/// `audit-store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditStore {
    /// One atomic commit per run on `audit-branch` through the Git Database API.
    Commit,
    /// Files in the workspace only, for workflows that commit themselves.
    Workspace,
    /// No manifest or SHA-256 log.
    None,
}

impl AuditStore {
    /// The `audit-store` input; every mode's default is `commit`.
    pub fn parse(v: Option<&str>) -> Result<Self> {
        match v.unwrap_or("commit") {
            "commit" => Ok(Self::Commit),
            "workspace" => Ok(Self::Workspace),
            "none" => Ok(Self::None),
            other => Err(invalid(format!(
                "input 'audit-store' must be commit, workspace or none, got {other:?}"
            ))),
        }
    }
}

/// The Supabase sink: every recorded (provenance) or updated (validate, notify, recover) entry
/// is upserted into `table`.
#[derive(Debug, Clone)]
pub struct SupabaseInputs {
    pub url: url::Url,
    pub key: Secret,
    pub table: String,
}

/// validate's Supabase edge function, told each validation outcome.
#[derive(Debug)]
pub struct SupabaseFunctionInputs {
    pub url: url::Url,
    pub key: Secret,
    pub function: String,
}

#[derive(Debug)]
pub struct AuditInputs {
    pub store: AuditStore,
    /// `None`: the repository's default branch.
    pub branch: Option<String>,
    /// Workspace-relative path of a queue file to drain.
    pub queued_manifest: Option<PathBuf>,
    pub rollback_of: Option<String>,
    pub supabase: Option<SupabaseInputs>,
}

fn invalid(msg: String) -> Failure {
    Failure::new(FailureReason::InvalidInput, msg)
}

/// A SQL/PostgREST identifier or function name we put in a URL path.
fn identifier(name: &str, v: &str) -> Result<String> {
    let ok = !v.is_empty()
        && v.len() <= 63
        && v.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(v.to_string())
    } else {
        Err(invalid(format!(
            "input '{name}' must be a lower-case name ([a-z_][a-z0-9_-]*), got {v:?}"
        )))
    }
}

/// `audit-store` (shared by every mode that writes the trail).
pub(crate) fn store(raw: &RawInputs) -> Result<AuditStore> {
    AuditStore::parse(raw.audit_store.as_deref())
}

/// `audit-branch`; `None`: the repository's default branch.
pub(crate) fn branch(raw: &RawInputs) -> Result<Option<String>> {
    if let Some(b) = &raw.audit_branch {
        let bad = b.starts_with('/')
            || b.ends_with('/')
            || b.contains("..")
            || b.chars()
                .any(|c| c.is_whitespace() || "~^:?*[\\".contains(c));
        if bad {
            return Err(invalid(format!(
                "input 'audit-branch' is not a branch name: {b:?}"
            )));
        }
    }
    Ok(raw.audit_branch.clone())
}

/// `supabase-url` + `supabase-key`: the project, when a URL is set.
fn supabase_project(raw: &RawInputs) -> Result<Option<(url::Url, Secret)>> {
    let Some(url) = parse_url("supabase-url", raw.supabase_url.as_deref())? else {
        return Ok(None);
    };
    let loopback = matches!(
        url.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback()
    ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost");
    if url.scheme() != "https" && !loopback {
        return Err(invalid(format!(
            "input 'supabase-url' must be https (the key is sent with it), got {url}"
        )));
    }
    let key = raw.supabase_key.clone().ok_or_else(|| {
        Failure::new(
            FailureReason::MissingInput,
            "input 'supabase-key' is required when 'supabase-url' is set",
        )
    })?;
    Ok(Some((url, key)))
}

impl SupabaseInputs {
    pub fn from_raw(raw: &RawInputs) -> Result<Option<Self>> {
        let Some((url, key)) = supabase_project(raw)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            url,
            key,
            table: identifier(
                "supabase-table",
                raw.supabase_table.as_deref().unwrap_or("slsa_runs"),
            )?,
        }))
    }
}

impl SupabaseFunctionInputs {
    /// Every input [`SupabaseFunctionInputs::from_raw`] reads.
    pub const READS: &'static [&'static str] =
        &["supabase-url", "supabase-key", "supabase-validate-function"];

    pub fn from_raw(raw: &RawInputs) -> Result<Option<Self>> {
        let Some((url, key)) = supabase_project(raw)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            url,
            key,
            function: identifier(
                "supabase-validate-function",
                raw.supabase_validate_function
                    .as_deref()
                    .unwrap_or("provenance-validate"),
            )?,
        }))
    }
}

impl AuditInputs {
    /// Every input [`AuditInputs::from_raw`] reads (the run record of `mode: provenance`).
    pub const READS: &'static [&'static str] = &[
        "audit-store",
        "audit-branch",
        "queued-manifest",
        "rollback-of",
        "supabase-url",
        "supabase-key",
        "supabase-table",
    ];

    pub fn from_raw(raw: &RawInputs) -> Result<Self> {
        let store = store(raw)?;
        let branch = branch(raw)?;
        let queued_manifest = match &raw.queued_manifest {
            Some(p) => {
                let path = PathBuf::from(p);
                if path.is_absolute()
                    || path
                        .components()
                        .any(|c| matches!(c, std::path::Component::ParentDir))
                {
                    return Err(invalid(format!(
                        "input 'queued-manifest' must be a path inside the workspace, got {p:?}"
                    )));
                }
                Some(path)
            }
            None => None,
        };
        if let Some(t) = &raw.rollback_of {
            if t.chars().any(char::is_whitespace) {
                return Err(invalid(format!("input 'rollback-of' is not a tag: {t:?}")));
            }
        }
        Ok(Self {
            store,
            branch,
            queued_manifest,
            rollback_of: raw.rollback_of.clone(),
            supabase: SupabaseInputs::from_raw(raw)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawInputs {
        let env: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (format!("INPUT_{}", k.to_uppercase()), v.to_string()))
            .collect();
        RawInputs::collect(env, &[] as &[&str]).expect("collect").0
    }

    #[test]
    fn defaults() {
        let a = AuditInputs::from_raw(&raw(&[])).expect("ok");
        assert_eq!(a.store, AuditStore::Commit);
        assert!(a.branch.is_none() && a.supabase.is_none() && a.queued_manifest.is_none());
    }

    #[test]
    fn bad_values_are_invalid_input() {
        for pairs in [
            vec![("audit-store", "git")],
            vec![("audit-branch", "main..x")],
            vec![("queued-manifest", "../elsewhere.json")],
            vec![("rollback-of", "v1 v2")],
            vec![
                ("supabase-url", "http://db.example.com"),
                ("supabase-key", "k"),
            ],
            vec![
                ("supabase-url", "https://x.supabase.co"),
                ("supabase-key", "k"),
                ("supabase-table", "runs; drop table x"),
            ],
        ] {
            let e = AuditInputs::from_raw(&raw(&pairs)).expect_err("invalid");
            assert_eq!(e.reason, FailureReason::InvalidInput, "{pairs:?}");
        }
    }

    #[test]
    fn supabase_needs_a_key_and_allows_plain_http_only_to_loopback() {
        let e = AuditInputs::from_raw(&raw(&[("supabase-url", "https://x.supabase.co")]))
            .expect_err("no key");
        assert_eq!(e.reason, FailureReason::MissingInput);
        let a = AuditInputs::from_raw(&raw(&[
            ("supabase-url", "http://127.0.0.1:3000"),
            ("supabase-key", "secret-key"),
        ]))
        .expect("loopback");
        let s = a.supabase.expect("sink");
        assert_eq!(s.table, "slsa_runs");
        let f = SupabaseFunctionInputs::from_raw(&raw(&[
            ("supabase-url", "http://127.0.0.1:3000"),
            ("supabase-key", "secret-key"),
        ]))
        .expect("loopback")
        .expect("function");
        assert_eq!(f.function, "provenance-validate");
        assert!(!format!("{:?}", s.key).contains("secret-key"));
    }
}
