//! Repository listings: every repository of an owner the token can read, and one repository's
//! default branch.
//!
//! `owner/*` lists `GET /orgs/{owner}/repos` (every repository of the organisation the token
//! can see); when the owner is not an organisation (404), `GET /users/{owner}/repos` (a user's
//! repositories the API lists for that user). Pages of 100, revalidated with ETags.

use serde::Deserialize;

use super::git_trees::{status_error, ResponseCache};
use super::{encode_path, ApiError, ApiResult, GitHub, PER_PAGE};

/// At most 100 pages of 100: 10,000 repositories per owner.
const MAX_REPO_PAGES: usize = 100;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RepoInfo {
    pub full_name: String,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub archived: bool,
}

impl GitHub<'_> {
    /// Every repository of `owner` the token can read.
    pub async fn owner_repos(
        &self,
        owner: &str,
        cache: &dyn ResponseCache,
    ) -> ApiResult<Vec<RepoInfo>> {
        match self
            .list_pages(&format!("/orgs/{}/repos", encode_path(owner)), cache)
            .await
        {
            Err(ApiError::Status { status: 404, .. }) => {
                self.list_pages(&format!("/users/{}/repos", encode_path(owner)), cache)
                    .await
            }
            other => other,
        }
    }

    async fn list_pages(&self, base: &str, cache: &dyn ResponseCache) -> ApiResult<Vec<RepoInfo>> {
        let mut all = Vec::new();
        for page in 1..=MAX_REPO_PAGES {
            let a = self
                .get_revalidated(&format!("{base}?per_page={PER_PAGE}&page={page}"), cache)
                .await?;
            if !(200..300).contains(&a.status) {
                return Err(status_error(a.status, &a.body));
            }
            let items: Vec<RepoInfo> = serde_json::from_str(&a.body)
                .map_err(|e| ApiError::BadAnswer(format!("repository list {base}: {e}")))?;
            let n = items.len();
            all.extend(items);
            if n < PER_PAGE {
                break;
            }
        }
        Ok(all)
    }

    /// `GET /repos/{repo}`: `Ok(None)` when the token cannot see it.
    pub async fn repo_info(
        &self,
        repository: &str,
        cache: &dyn ResponseCache,
    ) -> ApiResult<Option<RepoInfo>> {
        let a = self
            .get_revalidated(&format!("/repos/{}", encode_path(repository)), cache)
            .await?;
        match a.status {
            404 => Ok(None),
            s if (200..300).contains(&s) => serde_json::from_str(&a.body)
                .map(Some)
                .map_err(|e| ApiError::BadAnswer(format!("repository {repository}: {e}"))),
            s => Err(status_error(s, &a.body)),
        }
    }
}
