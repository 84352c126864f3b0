//! Issues: list open ones by label (paged), create, comment, close.
//!
//! Dedupe never uses the search API (its index lags by minutes): callers list by label and look
//! for the notify marker in the bodies (`domain::notify`).

use http::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{encode_path, ApiResult, Body, GitHub, Idempotency, Landed, PER_PAGE};
use crate::domain::notify::{parse_marker, ListedIssue, Marker};

/// Open issues are listed up to this many pages of 100.
const MAX_ISSUE_PAGES: usize = 10;

#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    pub number: u64,
    #[serde(default)]
    pub html_url: String,
}

fn encode_query(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl GitHub<'_> {
    /// `GET /repos/{owner}/{repo}/issues?state=open&labels={label}` (pull requests skipped).
    pub async fn list_open_issues(
        &self,
        repository: &str,
        label: &str,
    ) -> ApiResult<Vec<ListedIssue>> {
        let mut all = Vec::new();
        for page in 1..=MAX_ISSUE_PAGES {
            let route = format!(
                "/repos/{}/issues?state=open&labels={}&per_page={PER_PAGE}&page={page}",
                encode_path(repository),
                encode_query(label)
            );
            let a = self
                .fetch(&self.api(Method::GET, &route, Body::None))
                .await?;
            if !a.success() {
                return Err(a.into_error());
            }
            let items: Vec<Value> = a.json()?;
            let n = items.len();
            all.extend(
                items
                    .iter()
                    .filter(|i| i.get("pull_request").is_none())
                    .filter_map(|i| {
                        Some(ListedIssue {
                            number: i.get("number")?.as_u64()?,
                            body: i
                                .get("body")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string(),
                        })
                    }),
            );
            if n < PER_PAGE {
                break;
            }
        }
        Ok(all)
    }

    /// `POST /repos/{owner}/{repo}/issues`. After a timeout or 5xx, the open issues carrying
    /// `labels[0]` are searched for `marker` before sending again, so a retry opens no twin.
    pub async fn create_issue(
        &self,
        repository: &str,
        title: &str,
        body: &str,
        labels: &[String],
        marker: &Marker,
    ) -> ApiResult<Issue> {
        let req = self.api(
            Method::POST,
            &format!("/repos/{}/issues", encode_path(repository)),
            Body::Json(json!({"title": title, "body": body, "labels": labels}).to_string()),
        );
        let label = labels.first().cloned().unwrap_or_default();
        let check = || async {
            let open = self.list_open_issues(repository, &label).await?;
            Ok(open
                .into_iter()
                .find(|i| parse_marker(&i.body).as_ref() == Some(marker))
                .map(|i| Issue {
                    number: i.number,
                    html_url: String::new(),
                }))
        };
        match self.call(&req, Idempotency::NonIdempotent, check).await? {
            Landed::AlreadyDone(found) => Ok(found),
            Landed::Answered(a) if a.success() => a.json(),
            Landed::Answered(a) => Err(a.into_error()),
        }
    }

    /// `POST /repos/{owner}/{repo}/issues/{number}/comments`. A comment is cheap to repeat, so
    /// after a 5xx it is sent again without checking.
    pub async fn comment_issue(&self, repository: &str, number: u64, body: &str) -> ApiResult<()> {
        let req = self.api(
            Method::POST,
            &format!(
                "/repos/{}/issues/{number}/comments",
                encode_path(repository)
            ),
            Body::Json(json!({ "body": body }).to_string()),
        );
        match self
            .call::<(), _, _>(&req, Idempotency::NonIdempotent, || async { Ok(None) })
            .await?
        {
            Landed::Answered(a) if !a.success() => Err(a.into_error()),
            _ => Ok(()),
        }
    }

    /// `PATCH /repos/{owner}/{repo}/issues/{number}` with `state: closed` (idempotent).
    pub async fn close_issue(&self, repository: &str, number: u64) -> ApiResult<()> {
        let req = self.api(
            Method::PATCH,
            &format!("/repos/{}/issues/{number}", encode_path(repository)),
            Body::Json(json!({"state": "closed", "state_reason": "completed"}).to_string()),
        );
        let a = self.fetch(&req).await?;
        if a.success() {
            Ok(())
        } else {
            Err(a.into_error())
        }
    }
}
