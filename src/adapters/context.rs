//! The run's context as the runner hands it over: `GITHUB_*`, `RUNNER_*` and `ACTIONS_*`
//! variables and the event payload file.
//!
//! Turns them into plain values ([`RunEnv`]) and, when there is no OIDC token to read claims
//! from, into a [`BuildContext`]. Reads the environment map it is given, never `std::env`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use crate::domain::statement::{BuildContext, ContextSource};
use crate::error::{Failure, FailureReason, Result};
use crate::secret::Secret;

/// Where to ask the runner for an OIDC token.
#[derive(Debug, Clone)]
pub struct OidcRequest {
    pub url: String,
    pub bearer: Secret,
}

#[derive(Debug, Clone)]
pub struct RunEnv {
    pub vars: BTreeMap<String, String>,
    pub workspace: PathBuf,
    pub event_name: Option<String>,
    pub event: Option<Value>,
    pub oidc: Option<OidcRequest>,
}

impl RunEnv {
    pub fn from_vars(vars: BTreeMap<String, String>, cwd: PathBuf) -> Result<Self> {
        let get = |k: &str| vars.get(k).filter(|v| !v.trim().is_empty()).cloned();
        let workspace = get("GITHUB_WORKSPACE").map(PathBuf::from).unwrap_or(cwd);
        let event = match get("GITHUB_EVENT_PATH") {
            None => None,
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|e| {
                    Failure::new(
                        FailureReason::EventUnreadable,
                        format!("cannot read the event payload GITHUB_EVENT_PATH={p}: {e}"),
                    )
                })?;
                Some(serde_json::from_str(&text).map_err(|e| {
                    Failure::new(
                        FailureReason::EventUnreadable,
                        format!("the event payload {p} is not JSON: {e}"),
                    )
                })?)
            }
        };
        let oidc = match (
            get("ACTIONS_ID_TOKEN_REQUEST_URL"),
            get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        ) {
            (Some(url), Some(token)) => Some(OidcRequest {
                url,
                bearer: Secret::new(token),
            }),
            _ => None,
        };
        Ok(Self {
            event_name: get("GITHUB_EVENT_NAME"),
            workspace,
            event,
            oidc,
            vars,
        })
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn server_url(&self) -> String {
        self.get("GITHUB_SERVER_URL")
            .unwrap_or("https://github.com")
            .trim_end_matches('/')
            .to_string()
    }

    /// `release.tag_name` from a release event payload.
    pub fn release_tag(&self) -> Option<String> {
        self.event
            .as_ref()?
            .pointer("/release/tag_name")?
            .as_str()
            .map(String::from)
    }

    /// `inputs` of a `workflow_dispatch` payload.
    pub fn dispatch_inputs(&self) -> Option<&serde_json::Map<String, Value>> {
        if self.event_name.as_deref() != Some("workflow_dispatch") {
            return None;
        }
        self.event.as_ref()?.get("inputs")?.as_object()
    }

    /// `GITHUB_REF_NAME` when the run was triggered by a tag.
    pub fn ref_tag(&self) -> Option<String> {
        if self.get("GITHUB_REF_TYPE") == Some("tag") {
            return self.get("GITHUB_REF_NAME").map(String::from);
        }
        None
    }

    /// The build facts from `GITHUB_*` alone (no OIDC token). `sha` is passed in because it
    /// may come from git when `GITHUB_SHA` is unset (local runs).
    ///
    /// Differences from the OIDC claims: `job_workflow_ref` is not in the environment, so the
    /// builder id falls back to `GITHUB_WORKFLOW_REF` (the caller workflow, not a reusable one).
    pub fn build_context(&self, sha: String) -> Result<BuildContext> {
        let need = |k: &str| {
            self.get(k).map(String::from).ok_or_else(|| {
                Failure::new(
                    FailureReason::MissingContext,
                    format!("{k} is not set; run inside GitHub Actions or export it"),
                )
            })
        };
        let repository = need("GITHUB_REPOSITORY")?;
        let git_ref = need("GITHUB_REF")?;
        let workflow_ref = need("GITHUB_WORKFLOW_REF")?;
        let run_id = need("GITHUB_RUN_ID")?;
        if run_id.parse::<u64>().is_err() {
            return Err(Failure::new(
                FailureReason::MissingContext,
                format!("GITHUB_RUN_ID must be a number, got {run_id:?}"),
            ));
        }
        Ok(BuildContext {
            source: ContextSource::Environment,
            server_url: self.server_url(),
            repository_id: self.get("GITHUB_REPOSITORY_ID").unwrap_or("").to_string(),
            repository_owner_id: self
                .get("GITHUB_REPOSITORY_OWNER_ID")
                .unwrap_or("")
                .to_string(),
            event_name: self.event_name.clone().unwrap_or_default(),
            git_ref,
            sha,
            job_workflow_ref: workflow_ref.clone(),
            workflow_ref,
            runner_environment: self.get("RUNNER_ENVIRONMENT").map(String::from),
            run_id,
            run_attempt: self.get("GITHUB_RUN_ATTEMPT").unwrap_or("1").to_string(),
            actor: self
                .get("GITHUB_TRIGGERING_ACTOR")
                .or(self.get("GITHUB_ACTOR"))
                .unwrap_or("")
                .to_string(),
            repository,
        })
    }
}
