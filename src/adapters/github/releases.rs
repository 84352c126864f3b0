//! Releases: look one up, list, upload, rename and delete its assets, update its notes.

use http::Method;
use serde::Deserialize;

use super::{encode_path, ApiError, ApiResult, Body, GitHub, Idempotency, Landed, Request};
use super::{MAX_ASSET_PAGES, PER_PAGE};

#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    pub id: u64,
    #[serde(default)]
    pub tag_name: String,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub body: Option<String>,
    /// `https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}`.
    pub upload_url: String,
    #[serde(default)]
    pub html_url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Asset {
    pub id: u64,
    pub name: String,
    /// `uploaded` when complete; `starter`/`new` for a half-finished upload.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub browser_download_url: String,
}

impl GitHub<'_> {
    /// The bytes of a release asset: `GET /repos/{owner}/{repo}/releases/assets/{id}` with
    /// `Accept: application/octet-stream`, following GitHub's redirect to storage (without the
    /// token). `None` on 404.
    pub async fn download_asset(
        &self,
        repository: &str,
        asset_id: u64,
    ) -> ApiResult<Option<Vec<u8>>> {
        let route = format!(
            "/repos/{}/releases/assets/{asset_id}",
            encode_path(repository)
        );
        let a = self.download(&route, "application/octet-stream").await?;
        match a.status {
            404 => Ok(None),
            _ if a.success() => Ok(Some(a.bytes)),
            _ => Err(a.into_error()),
        }
    }

    /// `GET /repos/{owner}/{repo}/releases/tags/{tag}`; `None` on 404 (no release, or a draft).
    pub async fn release_by_tag(&self, repository: &str, tag: &str) -> ApiResult<Option<Release>> {
        let route = format!(
            "/repos/{}/releases/tags/{}",
            encode_path(repository),
            encode_path(tag)
        );
        self.get_optional(&route).await
    }

    /// `GET /repos/{owner}/{repo}/releases/{id}` (finds drafts too); `None` on 404.
    pub async fn release_by_id(&self, repository: &str, id: u64) -> ApiResult<Option<Release>> {
        let route = format!("/repos/{}/releases/{id}", encode_path(repository));
        self.get_optional(&route).await
    }

    /// Every asset of a release (paged).
    pub async fn list_assets(&self, repository: &str, release_id: u64) -> ApiResult<Vec<Asset>> {
        let mut all = Vec::new();
        for page in 1..=MAX_ASSET_PAGES {
            let route = format!(
                "/repos/{}/releases/{release_id}/assets?per_page={PER_PAGE}&page={page}",
                encode_path(repository)
            );
            let a = self
                .fetch(&self.api(Method::GET, &route, Body::None))
                .await?;
            if !a.success() {
                return Err(a.into_error());
            }
            let assets: Vec<Asset> = a.json()?;
            let n = assets.len();
            all.extend(assets);
            if n < PER_PAGE {
                break;
            }
        }
        Ok(all)
    }

    /// `DELETE /repos/{owner}/{repo}/releases/assets/{id}`; an asset already gone is fine.
    pub async fn delete_asset(&self, repository: &str, asset_id: u64) -> ApiResult<()> {
        let route = format!(
            "/repos/{}/releases/assets/{asset_id}",
            encode_path(repository)
        );
        let a = self
            .fetch(&self.api(Method::DELETE, &route, Body::None))
            .await?;
        if a.success() || a.status == 404 {
            Ok(())
        } else {
            Err(a.into_error())
        }
    }

    /// `PATCH /repos/{owner}/{repo}/releases/assets/{id}` with `{"name": ...}`: idempotent, so
    /// retried on 5xx and timeouts like any GET. A 422 means the name is taken.
    pub async fn rename_asset(
        &self,
        repository: &str,
        asset_id: u64,
        name: &str,
    ) -> ApiResult<Asset> {
        let route = format!(
            "/repos/{}/releases/assets/{asset_id}",
            encode_path(repository)
        );
        let json = serde_json::json!({ "name": name }).to_string();
        let a = self
            .fetch(&self.api(Method::PATCH, &route, Body::Json(json)))
            .await?;
        if a.success() {
            a.json()
        } else {
            Err(a.into_error())
        }
    }

    /// POST the content to the release's own `upload_url`. After a timeout or 5xx, a complete
    /// asset of that name and size is taken as ours; a half-finished one (state `starter` or
    /// `new`, which GitHub leaves behind) is deleted before sending again.
    pub async fn upload_asset(
        &self,
        repository: &str,
        release: &Release,
        name: &str,
        content: Vec<u8>,
    ) -> ApiResult<Asset> {
        let template = release
            .upload_url
            .split('{')
            .next()
            .unwrap_or(&release.upload_url);
        let mut url = url::Url::parse(template).map_err(|e| {
            ApiError::BadAnswer(format!("release upload_url {template:?} is not a URL: {e}"))
        })?;
        url.query_pairs_mut().clear().append_pair("name", name);
        let size = content.len() as u64;
        let req = Request {
            label: format!("POST {}", url.path()),
            method: Method::POST,
            url: url.to_string(),
            body: Body::Bytes {
                content_type: "application/octet-stream",
                data: content,
            },
            if_none_match: None,
            accept: "application/vnd.github+json",
            api: true,
            binary: false,
        };
        let check = || async move {
            let assets = self.list_assets(repository, release.id).await?;
            for a in assets.into_iter().filter(|a| a.name == name) {
                if a.state == "uploaded" && a.size == size {
                    return Ok(Some(a));
                }
                (self.log)(&format!(
                    "GitHub API: deleting the half-uploaded asset {name} (state {:?})",
                    a.state
                ));
                self.delete_asset(repository, a.id).await?;
            }
            Ok(None)
        };
        match self.call(&req, Idempotency::NonIdempotent, check).await? {
            Landed::AlreadyDone(asset) => Ok(asset),
            Landed::Answered(a) if a.success() => a.json(),
            Landed::Answered(a) => Err(a.into_error()),
        }
    }

    /// `PATCH /repos/{owner}/{repo}/releases/{id}` with the whole new body: idempotent.
    pub async fn update_release_body(
        &self,
        repository: &str,
        release_id: u64,
        body: &str,
    ) -> ApiResult<Release> {
        let route = format!("/repos/{}/releases/{release_id}", encode_path(repository));
        let json = serde_json::json!({ "body": body }).to_string();
        let a = self
            .fetch(&self.api(Method::PATCH, &route, Body::Json(json)))
            .await?;
        if a.success() {
            a.json()
        } else {
            Err(a.into_error())
        }
    }
}
