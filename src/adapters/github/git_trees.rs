//! The Git Database API: one recursive tree listing of a branch, then blobs by SHA.
//!
//! Both are cache-friendly: a blob SHA is a content address, so a cached blob is never asked
//! for again; a tree listing (and any other GET through [`GitHub::get_revalidated`]) is sent
//! with `If-None-Match` when we hold its ETag, and a `304 Not Modified` answer (which GitHub
//! does not count against the rate limit) reuses the cached body.

use base64::Engine;
use http::Method;
use serde::Deserialize;

use super::{encode_path, ApiError, ApiResult, Body, GitHub};

/// Where answers are kept between runs (the report's cache directory). Best effort: a cache
/// that cannot be written only costs requests.
pub trait ResponseCache: Sync {
    /// The ETag and body of a previous answer to this URL.
    fn etag_get(&self, url: &str) -> Option<(String, String)>;
    fn etag_put(&self, url: &str, etag: &str, body: &str);
    fn blob_get(&self, sha: &str) -> Option<Vec<u8>>;
    fn blob_put(&self, sha: &str, bytes: &[u8]);
}

/// A cache that keeps nothing.
pub struct NoCache;

impl ResponseCache for NoCache {
    fn etag_get(&self, _: &str) -> Option<(String, String)> {
        None
    }
    fn etag_put(&self, _: &str, _: &str, _: &str) {}
    fn blob_get(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    fn blob_put(&self, _: &str, _: &[u8]) {}
}

#[derive(Debug, Clone, Deserialize)]
pub struct TreeEntry {
    pub path: String,
    pub sha: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Tree {
    pub tree: Vec<TreeEntry>,
    /// GitHub lists at most 100,000 entries / 7 MB; beyond that the listing is cut.
    #[serde(default)]
    pub truncated: bool,
}

/// A GET answer after revalidation: status and body (the cached body on a 304).
#[derive(Debug)]
pub struct Revalidated {
    pub status: u16,
    pub body: String,
    /// Whether the server answered 304 and the body came from the cache.
    pub not_modified: bool,
}

#[derive(Deserialize)]
struct BlobAnswer {
    content: String,
    encoding: String,
}

impl GitHub<'_> {
    /// A GET with `If-None-Match` when the cache holds the route's ETag.
    pub async fn get_revalidated(
        &self,
        route: &str,
        cache: &dyn ResponseCache,
    ) -> ApiResult<Revalidated> {
        let mut req = self.api(Method::GET, route, Body::None);
        let held = cache.etag_get(&req.url);
        req.if_none_match = held.as_ref().map(|(etag, _)| etag.clone());
        let a = self.fetch(&req).await?;
        if a.status == 304 {
            if let Some((_, body)) = held {
                return Ok(Revalidated {
                    status: 200,
                    body,
                    not_modified: true,
                });
            }
        }
        if a.success() {
            if let Some(etag) = a
                .headers
                .get(http::header::ETAG)
                .and_then(|v| v.to_str().ok())
            {
                cache.etag_put(&req.url, etag, &a.body);
            }
        }
        Ok(Revalidated {
            status: a.status,
            body: a.body,
            not_modified: false,
        })
    }

    /// `GET /repos/{repo}/git/trees/{branch}?recursive=1`. `Err(Status 404/409)` when the
    /// branch does not exist, the repository is empty, or the token cannot read it.
    pub async fn cached_tree(
        &self,
        repository: &str,
        branch: &str,
        cache: &dyn ResponseCache,
    ) -> ApiResult<Tree> {
        let route = format!(
            "/repos/{}/git/trees/{}?recursive=1",
            encode_path(repository),
            encode_path(branch)
        );
        let a = self.get_revalidated(&route, cache).await?;
        if !(200..300).contains(&a.status) {
            return Err(status_error(a.status, &a.body));
        }
        serde_json::from_str(&a.body)
            .map_err(|e| ApiError::BadAnswer(format!("tree listing of {repository}: {e}")))
    }

    /// `GET /repos/{repo}/git/blobs/{sha}`, from the cache when we have that SHA.
    pub async fn cached_blob(
        &self,
        repository: &str,
        sha: &str,
        cache: &dyn ResponseCache,
    ) -> ApiResult<Vec<u8>> {
        if let Some(bytes) = cache.blob_get(sha) {
            return Ok(bytes);
        }
        let req = self.api(
            Method::GET,
            &format!(
                "/repos/{}/git/blobs/{}",
                encode_path(repository),
                encode_path(sha)
            ),
            Body::None,
        );
        let a = self.fetch(&req).await?;
        if !a.success() {
            return Err(a.into_error());
        }
        let blob: BlobAnswer = a.json()?;
        if blob.encoding != "base64" {
            return Err(ApiError::BadAnswer(format!(
                "blob {sha} has encoding {:?}, expected base64",
                blob.encoding
            )));
        }
        let compact: String = blob.content.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| ApiError::BadAnswer(format!("blob {sha} is not base64: {e}")))?;
        cache.blob_put(sha, &bytes);
        Ok(bytes)
    }
}

pub(super) fn status_error(status: u16, body: &str) -> ApiError {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(String::from))
        .unwrap_or_else(|| body.chars().take(200).collect());
    ApiError::Status {
        status,
        message,
        attempts: 1,
    }
}
