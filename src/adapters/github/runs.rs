//! Workflow runs: get one, re-run its failed jobs, dispatch a workflow, list a workflow's runs.

use chrono::{DateTime, Utc};
use http::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{encode_path, ApiResult, Body, GitHub, Idempotency, Landed};
use crate::domain::recover::ListedRun;

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRun {
    pub id: u64,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub run_attempt: Option<u32>,
    #[serde(default)]
    pub html_url: String,
}

/// A dispatch's answer: the new run when GitHub says (`return_run_details`), else nothing (204).
#[derive(Debug, Clone, Default)]
pub struct Dispatched {
    pub run_id: Option<u64>,
    pub html_url: Option<String>,
}

/// A refused call: status and GitHub's message (the mode classifies them in `domain::recover`).
#[derive(Debug, Clone)]
pub struct Refused {
    pub status: u16,
    pub message: String,
}

impl GitHub<'_> {
    /// `GET /repos/{owner}/{repo}/actions/runs/{id}`; `None` on 404.
    pub async fn get_run(&self, repository: &str, id: u64) -> ApiResult<Option<WorkflowRun>> {
        let route = format!("/repos/{}/actions/runs/{id}", encode_path(repository));
        self.get_optional(&route).await
    }

    /// `POST .../actions/runs/{id}/rerun-failed-jobs`. `Ok(Err(refused))` is GitHub's 4xx.
    /// After a timeout or 5xx the run is looked at first: queued or in progress means it landed.
    pub async fn rerun_failed_jobs(
        &self,
        repository: &str,
        id: u64,
    ) -> ApiResult<Result<(), Refused>> {
        let req = self.api(
            Method::POST,
            &format!(
                "/repos/{}/actions/runs/{id}/rerun-failed-jobs",
                encode_path(repository)
            ),
            Body::None,
        );
        let check = || async {
            let run = self.get_run(repository, id).await?;
            Ok(run
                .filter(|r| r.status.as_deref() != Some("completed"))
                .map(|_| ()))
        };
        match self.call(&req, Idempotency::NonIdempotent, check).await? {
            Landed::AlreadyDone(()) => Ok(Ok(())),
            Landed::Answered(a) if a.success() => Ok(Ok(())),
            Landed::Answered(a) if (400..500).contains(&a.status) => {
                let status = a.status;
                let message = match a.into_error() {
                    super::ApiError::Status { message, .. } => message,
                    other => other.to_string(),
                };
                Ok(Err(Refused { status, message }))
            }
            Landed::Answered(a) => Err(a.into_error()),
        }
    }

    /// `POST .../actions/workflows/{workflow}/dispatches` with `return_run_details: true`.
    /// One send: the mode owns the 422 retries (minutes apart) and a 5xx is not re-sent blindly
    /// (the caller looks in the runs list). `Ok(Err(refused))` is any non-success answer.
    pub async fn dispatch_workflow(
        &self,
        repository: &str,
        workflow: &str,
        git_ref: &str,
        inputs: &Value,
    ) -> ApiResult<Result<Dispatched, Refused>> {
        let req = self.api(
            Method::POST,
            &format!(
                "/repos/{}/actions/workflows/{}/dispatches",
                encode_path(repository),
                encode_path(workflow)
            ),
            Body::Json(
                json!({"ref": git_ref, "inputs": inputs, "return_run_details": true}).to_string(),
            ),
        );
        // Checked by the mode through the runs list: here, a 5xx or timeout stops the loop.
        let check = || async { Ok(Some(Dispatched::default())) };
        match self.call(&req, Idempotency::NonIdempotent, check).await? {
            Landed::AlreadyDone(d) => Ok(Ok(d)),
            Landed::Answered(a) if a.status == 204 || a.body.trim().is_empty() && a.success() => {
                Ok(Ok(Dispatched::default()))
            }
            Landed::Answered(a) if a.success() => {
                let v: Value = a.json()?;
                Ok(Ok(Dispatched {
                    run_id: v.get("workflow_run_id").and_then(Value::as_u64),
                    html_url: v.get("html_url").and_then(Value::as_str).map(String::from),
                }))
            }
            Landed::Answered(a) => {
                let status = a.status;
                let message = match a.into_error() {
                    super::ApiError::Status { message, .. } => message,
                    other => other.to_string(),
                };
                Ok(Err(Refused { status, message }))
            }
        }
    }

    /// `GET .../actions/workflows/{workflow}/runs?event=workflow_dispatch` (first page, newest
    /// first: a run dispatched moments ago is on it).
    pub async fn list_dispatch_runs(
        &self,
        repository: &str,
        workflow: &str,
    ) -> ApiResult<Vec<ListedRun>> {
        let route = format!(
            "/repos/{}/actions/workflows/{}/runs?event=workflow_dispatch&per_page=30",
            encode_path(repository),
            encode_path(workflow)
        );
        let a = self
            .fetch(&self.api(Method::GET, &route, Body::None))
            .await?;
        if !a.success() {
            return Err(a.into_error());
        }
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            workflow_runs: Vec<WorkflowRun>,
        }
        let page: Page = a.json()?;
        Ok(page
            .workflow_runs
            .into_iter()
            .map(|r| ListedRun {
                id: r.id,
                created_at: r.created_at,
            })
            .collect())
    }
}
