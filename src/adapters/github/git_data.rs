//! The Git Database API (refs, commits, trees, blobs) and pull requests: what the `commit`
//! audit store needs to make one atomic commit per run.
//!
//! Blobs, trees and commits are content-addressed, so sending one again is harmless: they go
//! through the idempotent path. The ref update is `force: false`; its refusal is returned as a
//! status and message for `domain::audit_record::classify_ref_refusal` to read.

use base64::Engine;
use http::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{encode_path, ApiError, ApiResult, Body, GitHub};

#[derive(Debug, Clone, Deserialize)]
pub struct TreeEntry {
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub sha: String,
}

/// A ref update GitHub refused.
#[derive(Debug)]
pub struct RefRefused {
    pub status: u16,
    pub message: String,
}

fn sha_of(v: &Value, what: &str) -> ApiResult<String> {
    v.get("sha")
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| ApiError::BadAnswer(format!("{what} answer has no sha")))
}

impl GitHub<'_> {
    async fn get_json(&self, route: &str) -> ApiResult<Value> {
        let a = self
            .fetch(&self.api(Method::GET, route, Body::None))
            .await?;
        if a.success() {
            a.json()
        } else {
            Err(a.into_error())
        }
    }

    async fn post_json(&self, route: &str, body: Value) -> ApiResult<Value> {
        let a = self
            .fetch(&self.api(Method::POST, route, Body::Json(body.to_string())))
            .await?;
        if a.success() {
            a.json()
        } else {
            Err(a.into_error())
        }
    }

    /// `GET /repos/{r}`: the default branch.
    pub async fn default_branch(&self, repository: &str) -> ApiResult<String> {
        let v = self
            .get_json(&format!("/repos/{}", encode_path(repository)))
            .await?;
        v.get("default_branch")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| ApiError::BadAnswer("repository has no default_branch".into()))
    }

    /// `GET /repos/{r}/git/ref/heads/{branch}`: the commit the branch points at.
    pub async fn branch_head(&self, repository: &str, branch: &str) -> ApiResult<String> {
        let v = self
            .get_json(&format!(
                "/repos/{}/git/ref/heads/{}",
                encode_path(repository),
                encode_path(branch)
            ))
            .await?;
        v.pointer("/object/sha")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| ApiError::BadAnswer("ref answer has no object.sha".into()))
    }

    /// `GET /repos/{r}/git/commits/{sha}`: the commit's tree.
    pub async fn commit_tree(&self, repository: &str, commit: &str) -> ApiResult<String> {
        let v = self
            .get_json(&format!(
                "/repos/{}/git/commits/{commit}",
                encode_path(repository)
            ))
            .await?;
        v.pointer("/tree/sha")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| ApiError::BadAnswer("commit answer has no tree.sha".into()))
    }

    /// `GET /repos/{r}/git/trees/{sha}`: one level of a tree.
    pub async fn tree(&self, repository: &str, tree: &str) -> ApiResult<Vec<TreeEntry>> {
        let v = self
            .get_json(&format!(
                "/repos/{}/git/trees/{tree}",
                encode_path(repository)
            ))
            .await?;
        serde_json::from_value(v.get("tree").cloned().unwrap_or(Value::Null))
            .map_err(|e| ApiError::BadAnswer(format!("tree answer: {e}")))
    }

    /// `GET /repos/{r}/git/blobs/{sha}`: the blob's bytes.
    pub async fn blob(&self, repository: &str, sha: &str) -> ApiResult<Vec<u8>> {
        let v = self
            .get_json(&format!(
                "/repos/{}/git/blobs/{sha}",
                encode_path(repository)
            ))
            .await?;
        let content = v
            .get("content")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::BadAnswer("blob answer has no content".into()))?;
        if v.get("encoding").and_then(Value::as_str) == Some("utf-8") {
            return Ok(content.as_bytes().to_vec());
        }
        let compact: String = content.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| ApiError::BadAnswer(format!("blob content is not base64: {e}")))
    }

    /// `POST /repos/{r}/git/blobs`.
    pub async fn create_blob(&self, repository: &str, bytes: &[u8]) -> ApiResult<String> {
        let body = json!({
            "content": base64::engine::general_purpose::STANDARD.encode(bytes),
            "encoding": "base64",
        });
        let v = self
            .post_json(
                &format!("/repos/{}/git/blobs", encode_path(repository)),
                body,
            )
            .await?;
        sha_of(&v, "blob")
    }

    /// `POST /repos/{r}/git/trees` on `base_tree`, with `(path, blob sha)` entries.
    pub async fn create_tree(
        &self,
        repository: &str,
        base_tree: &str,
        entries: &[(String, String)],
    ) -> ApiResult<String> {
        let tree: Vec<Value> = entries
            .iter()
            .map(|(path, sha)| json!({"path": path, "mode": "100644", "type": "blob", "sha": sha}))
            .collect();
        let v = self
            .post_json(
                &format!("/repos/{}/git/trees", encode_path(repository)),
                json!({"base_tree": base_tree, "tree": tree}),
            )
            .await?;
        sha_of(&v, "tree")
    }

    /// `POST /repos/{r}/git/commits` with one parent.
    pub async fn create_commit(
        &self,
        repository: &str,
        message: &str,
        tree: &str,
        parent: &str,
    ) -> ApiResult<String> {
        let v = self
            .post_json(
                &format!("/repos/{}/git/commits", encode_path(repository)),
                json!({"message": message, "tree": tree, "parents": [parent]}),
            )
            .await?;
        sha_of(&v, "commit")
    }

    /// `PATCH /repos/{r}/git/refs/heads/{branch}` with `force: false`. `Ok(Err(..))` is GitHub's
    /// refusal (not a fast forward, protected, forbidden), for the caller to read.
    pub async fn fast_forward(
        &self,
        repository: &str,
        branch: &str,
        commit: &str,
    ) -> ApiResult<Result<(), RefRefused>> {
        let req = self.api(
            Method::PATCH,
            &format!(
                "/repos/{}/git/refs/heads/{}",
                encode_path(repository),
                encode_path(branch)
            ),
            Body::Json(json!({"sha": commit, "force": false}).to_string()),
        );
        let a = self.fetch(&req).await?;
        if a.success() {
            // The answer names the ref's new commit. One that does not (a proxy's HTML page, a
            // cut body) proves nothing: the branch's own head decides whether it moved.
            let moved_to = serde_json::from_str::<Value>(&a.body)
                .ok()
                .and_then(|v| v.pointer("/object/sha")?.as_str().map(String::from));
            if moved_to.as_deref() == Some(commit) {
                return Ok(Ok(()));
            }
            let head = self.branch_head(repository, branch).await?;
            if head == commit {
                return Ok(Ok(()));
            }
            return Err(ApiError::BadAnswer(format!(
                "HTTP {} to the update of {branch} does not name commit {commit}, and the branch \
                 is at {head}",
                a.status
            )));
        }
        match a.into_error() {
            ApiError::Status {
                status, message, ..
            } => Ok(Err(RefRefused { status, message })),
            other => Err(other),
        }
    }

    /// `POST /repos/{r}/git/refs`: a new branch at `commit`. An existing branch (422) is moved
    /// there instead (a re-run of the same run id).
    pub async fn create_branch(
        &self,
        repository: &str,
        branch: &str,
        commit: &str,
    ) -> ApiResult<()> {
        let route = format!("/repos/{}/git/refs", encode_path(repository));
        let body = json!({"ref": format!("refs/heads/{branch}"), "sha": commit});
        let a = self
            .fetch(&self.api(Method::POST, &route, Body::Json(body.to_string())))
            .await?;
        if a.success() {
            return Ok(());
        }
        if a.status == 422 {
            let req = self.api(
                Method::PATCH,
                &format!(
                    "/repos/{}/git/refs/heads/{}",
                    encode_path(repository),
                    encode_path(branch)
                ),
                Body::Json(json!({"sha": commit, "force": true}).to_string()),
            );
            let b = self.fetch(&req).await?;
            return if b.success() {
                Ok(())
            } else {
                Err(b.into_error())
            };
        }
        Err(a.into_error())
    }

    /// `POST /repos/{r}/pulls`; an already open pull request for the branch is looked up
    /// instead (422). Returns its `html_url`.
    pub async fn open_pull_request(
        &self,
        repository: &str,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> ApiResult<String> {
        let route = format!("/repos/{}/pulls", encode_path(repository));
        let payload = json!({"title": title, "head": head, "base": base, "body": body});
        let a = self
            .fetch(&self.api(Method::POST, &route, Body::Json(payload.to_string())))
            .await?;
        let url = |v: &Value| {
            v.get("html_url")
                .and_then(Value::as_str)
                .map(String::from)
                .ok_or_else(|| ApiError::BadAnswer("pull request has no html_url".into()))
        };
        if a.success() {
            return url(&a.json()?);
        }
        if a.status == 422 {
            let owner = repository.split('/').next().unwrap_or_default();
            let list = self
                .get_json(&format!(
                    "{route}?state=open&head={}:{}",
                    encode_path(owner),
                    encode_path(head)
                ))
                .await?;
            if let Some(first) = list.as_array().and_then(|l| l.first()) {
                return url(first);
            }
        }
        Err(a.into_error())
    }
}
