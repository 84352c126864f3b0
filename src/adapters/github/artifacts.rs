//! A workflow run's artifacts: list them (paged), download one's zip archive.
//!
//! `GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts` lists them; the archive is at
//! `GET /repos/{owner}/{repo}/actions/artifacts/{id}/zip`, which answers 302 to a short-lived
//! storage URL. The storage request carries no token (see [`GitHub::download`]).

use http::Method;
use serde::Deserialize;

use super::{encode_path, next_link, ApiError, ApiResult, Body, GitHub, PER_PAGE};

/// GitHub keeps at most a few hundred artifacts per run; 20 pages of 100 is far beyond that.
const MAX_ARTIFACT_PAGES: usize = 20;

/// One artifact as the run's listing reports it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RunArtifact {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub size_in_bytes: u64,
    /// Past its retention period: listed, but its archive is gone.
    #[serde(default)]
    pub expired: bool,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    total_count: Option<u64>,
    #[serde(default)]
    artifacts: Vec<RunArtifact>,
}

/// The archive download's outcome.
#[derive(Debug)]
pub enum ArtifactArchive {
    Zip(Vec<u8>),
    /// 404: no such artifact.
    Missing,
    /// 410: past retention.
    Gone,
}

impl GitHub<'_> {
    /// Every artifact of a run, in GitHub's order, optionally filtered by exact `name` (the
    /// filter is also sent as the API's `name` parameter). `None` when the run does not exist.
    pub async fn list_run_artifacts(
        &self,
        repository: &str,
        run_id: u64,
        name: Option<&str>,
    ) -> ApiResult<Option<Vec<RunArtifact>>> {
        let mut route = format!(
            "/repos/{}/actions/runs/{run_id}/artifacts?per_page={PER_PAGE}",
            encode_path(repository)
        );
        if let Some(name) = name {
            route.push_str("&name=");
            route.push_str(&encode_path(name).replace('/', "%2F"));
        }
        let mut req = self.api(Method::GET, &route, Body::None);
        let mut all = Vec::new();
        for page in 1..=MAX_ARTIFACT_PAGES {
            let a = self.fetch(&req).await?;
            if a.status == 404 && page == 1 {
                return Ok(None);
            }
            if !a.success() {
                return Err(a.into_error());
            }
            let p: Page = a.json()?;
            let got = p.artifacts.len();
            all.extend(p.artifacts);
            let done = got == 0 || p.total_count.is_some_and(|t| all.len() as u64 >= t);
            // GitHub pages this listing with `Link: rel="next"`; follow it, or stop.
            let next = match next_link(&a.headers) {
                Some(next) if !done => next,
                _ => break,
            };
            req = self.api_url_get(&next).ok_or_else(|| {
                ApiError::BadAnswer(format!(
                    "the next page of the artifact list is on another host ({next})"
                ))
            })?;
        }
        Ok(Some(
            all.into_iter()
                .filter(|x| name.is_none_or(|n| x.name == n))
                .collect(),
        ))
    }

    /// The zip archive of an artifact.
    pub async fn download_artifact_zip(
        &self,
        repository: &str,
        artifact_id: u64,
    ) -> ApiResult<ArtifactArchive> {
        let route = format!(
            "/repos/{}/actions/artifacts/{artifact_id}/zip",
            encode_path(repository)
        );
        let a = self.download(&route, "application/vnd.github+json").await?;
        match a.status {
            404 => Ok(ArtifactArchive::Missing),
            410 => Ok(ArtifactArchive::Gone),
            _ if a.success() => Ok(ArtifactArchive::Zip(a.bytes)),
            _ => Err(a.into_error()),
        }
    }
}
