//! Typed inputs of `mode: report`.

use std::path::{Component, Path, PathBuf};

use super::{AuditStore, RawInputs};
use crate::error::{Failure, FailureReason, Result};
use crate::secret::Secret;

/// Where the history comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportSource {
    /// The day manifests: in the workspace, or (with `repositories`) through the Git Database API.
    Manifest,
    /// The `slsa_runs` table, through PostgREST.
    Supabase { url: url::Url, key: Secret },
}

/// The `repositories` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repositories {
    /// Unset: this workspace's `reports-dir`.
    Workspace,
    /// Named repositories and whole owners (`owner/*`).
    Listed {
        repos: Vec<String>,
        owners: Vec<String>,
    },
}

#[derive(Debug)]
pub struct ReportInputs {
    pub reports_dir: PathBuf,
    pub repositories: Repositories,
    pub source: ReportSource,
    pub badge_label: String,
    /// Workspace-relative.
    pub dashboard_path: PathBuf,
    pub badge_json_path: PathBuf,
    pub badge_svg_path: PathBuf,
    /// The branch holding the audit trail in other repositories; each one's default branch when
    /// unset. Also the branch `audit-store: commit` commits the report's files to (this
    /// repository's default branch when unset).
    pub audit_branch: Option<String>,
    /// `commit` (default, as every mode): the three files also go to the audit branch in one
    /// commit; `workspace` and `none`: the workspace files only.
    pub store: AuditStore,
    /// Workspace-relative; GitHub answers (blobs by SHA, ETags) are kept here between runs.
    pub cache_dir: PathBuf,
    pub github_token: Option<Secret>,
    /// Which governance policy file sets the KPI targets.
    pub policy: super::policy::PolicyInput,
}

fn inside_workspace(name: &str, v: &str) -> Result<PathBuf> {
    let p = PathBuf::from(v);
    if p.is_absolute() || p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(Failure::new(
            FailureReason::InvalidInput,
            format!("input '{name}' must be a path inside the workspace, got {v:?}"),
        ));
    }
    Ok(p)
}

/// A GitHub owner or repository name: letters, digits, `-`, `_`, `.`; not `.` or `..`.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub fn parse_repositories(v: Option<&str>) -> Result<Repositories> {
    let Some(v) = v else {
        return Ok(Repositories::Workspace);
    };
    let mut repos = Vec::new();
    let mut owners = Vec::new();
    for item in v
        .split(['\n', ',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let bad = || {
            Failure::new(
                FailureReason::InvalidInput,
                format!("input 'repositories': {item:?} is not owner/repo or owner/*"),
            )
        };
        let (owner, name) = item.split_once('/').ok_or_else(bad)?;
        if !valid_name(owner) {
            return Err(bad());
        }
        if name == "*" {
            if !owners.iter().any(|o| o == owner) {
                owners.push(owner.to_string());
            }
        } else if valid_name(name) {
            if !repos.iter().any(|r| r == item) {
                repos.push(item.to_string());
            }
        } else {
            return Err(bad());
        }
    }
    if repos.is_empty() && owners.is_empty() {
        return Ok(Repositories::Workspace);
    }
    Ok(Repositories::Listed { repos, owners })
}

impl ReportInputs {
    /// Every input [`ReportInputs::from_raw`] reads.
    pub const READS: &'static [&'static str] = &[
        "reports-dir",
        "dashboard-path",
        "cache-dir",
        "source",
        "supabase-url",
        "supabase-key",
        "repositories",
        "github-token",
        "audit-branch",
        "audit-store",
        "badge-label",
        "policy",
    ];

    pub fn from_raw(raw: &RawInputs) -> Result<Self> {
        let reports_dir = inside_workspace(
            "reports-dir",
            raw.reports_dir.as_deref().unwrap_or("docs/reports"),
        )?;
        let dashboard_path = match raw.dashboard_path.as_deref() {
            Some(p) => inside_workspace("dashboard-path", p)?,
            None => reports_dir.join("v_ops_slsa_status.md"),
        };
        let cache_dir = inside_workspace(
            "cache-dir",
            raw.cache_dir.as_deref().unwrap_or(".slsa-report-cache"),
        )?;
        let source = match raw.source.as_deref().unwrap_or("manifest") {
            "manifest" => ReportSource::Manifest,
            "supabase" => {
                let url =
                    super::provenance::parse_url("supabase-url", raw.supabase_url.as_deref())?
                        .ok_or_else(|| {
                            Failure::new(
                            FailureReason::MissingInput,
                            "source: supabase needs 'supabase-url' (https://<project>.supabase.co)",
                        )
                        })?;
                let key = raw.supabase_key.clone().ok_or_else(|| {
                    Failure::new(
                        FailureReason::MissingInput,
                        "source: supabase needs 'supabase-key' (a key that can read slsa_runs)",
                    )
                })?;
                if url.scheme() != "https" && !is_loopback(&url) {
                    return Err(Failure::new(
                        FailureReason::InvalidInput,
                        "input 'supabase-url' must be https (plain http only to 127.0.0.1/localhost): the key travels with every request",
                    ));
                }
                ReportSource::Supabase { url, key }
            }
            other => {
                return Err(Failure::new(
                    FailureReason::InvalidInput,
                    format!("input 'source' must be manifest or supabase, got {other:?}"),
                ))
            }
        };
        let repositories = parse_repositories(raw.repositories.as_deref())?;
        let github_token = raw.github_token.clone();
        if matches!(repositories, Repositories::Listed { .. })
            && source == ReportSource::Manifest
            && github_token.is_none()
        {
            return Err(Failure::new(
                FailureReason::MissingInput,
                "input 'repositories' reads other repositories through the GitHub API: set 'github-token'",
            ));
        }
        if let Some(b) = raw.audit_branch.as_deref() {
            if b.contains("..") || b.starts_with('/') || b.chars().any(char::is_whitespace) {
                return Err(Failure::new(
                    FailureReason::InvalidInput,
                    format!("input 'audit-branch' is not a branch name: {b:?}"),
                ));
            }
        }
        let badge_dir = reports_dir.clone();
        Ok(Self {
            badge_json_path: badge_dir.join("provenance-badge.json"),
            badge_svg_path: badge_dir.join("provenance-badge.svg"),
            reports_dir,
            repositories,
            source,
            badge_label: raw
                .badge_label
                .clone()
                .unwrap_or_else(|| crate::domain::render::badge::DEFAULT_LABEL.into()),
            dashboard_path,
            audit_branch: raw.audit_branch.clone(),
            store: AuditStore::parse(raw.audit_store.as_deref())?,
            cache_dir,
            github_token,
            policy: super::policy::PolicyInput::from_raw(raw)?,
        })
    }

    pub fn paths(&self) -> [&Path; 3] {
        [
            &self.dashboard_path,
            &self.badge_json_path,
            &self.badge_svg_path,
        ]
    }
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_accept_names_and_owner_wildcards() {
        assert_eq!(
            parse_repositories(None).expect("ok"),
            Repositories::Workspace
        );
        let r = parse_repositories(Some("octo/app, octo/*\nacme/lib octo/app")).expect("ok");
        assert_eq!(
            r,
            Repositories::Listed {
                repos: vec!["octo/app".into(), "acme/lib".into()],
                owners: vec!["octo".into()],
            }
        );
        for bad in ["octo", "octo/a/b", "../x", "octo/..", "o c/x", "octo/"] {
            let e = parse_repositories(Some(bad)).expect_err(bad);
            assert_eq!(e.reason, FailureReason::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn audit_store_defaults_to_commit_like_every_mode() {
        let i = ReportInputs::from_raw(&RawInputs::default()).expect("defaults");
        assert_eq!(i.store, AuditStore::Commit);
        for (v, want) in [
            ("workspace", AuditStore::Workspace),
            ("none", AuditStore::None),
        ] {
            let raw = RawInputs {
                audit_store: Some(v.into()),
                ..RawInputs::default()
            };
            assert_eq!(ReportInputs::from_raw(&raw).expect(v).store, want);
        }
        let raw = RawInputs {
            audit_store: Some("git".into()),
            ..RawInputs::default()
        };
        let e = ReportInputs::from_raw(&raw).expect_err("unknown store");
        assert_eq!(e.reason, FailureReason::InvalidInput);
    }

    #[test]
    fn supabase_needs_url_and_key_and_https() {
        let raw = RawInputs {
            source: Some("supabase".into()),
            ..RawInputs::default()
        };
        let e = ReportInputs::from_raw(&raw).expect_err("no url");
        assert_eq!(e.reason, FailureReason::MissingInput);
        let raw = RawInputs {
            source: Some("supabase".into()),
            supabase_url: Some("http://db.example.com".into()),
            supabase_key: Some(Secret::new("k")),
            ..RawInputs::default()
        };
        let e = ReportInputs::from_raw(&raw).expect_err("plain http");
        assert_eq!(e.reason, FailureReason::InvalidInput);
        let raw = RawInputs {
            source: Some("supabase".into()),
            supabase_url: Some("http://127.0.0.1:5432".into()),
            supabase_key: Some(Secret::new("k")),
            ..RawInputs::default()
        };
        let i = ReportInputs::from_raw(&raw).expect("loopback http is fine");
        assert!(matches!(i.source, ReportSource::Supabase { .. }));
        assert_eq!(
            i.dashboard_path,
            PathBuf::from("docs/reports/v_ops_slsa_status.md")
        );
    }
}
