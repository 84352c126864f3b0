//! Where `mode: validate` fetches provenance from the network: a workflow run's artifact
//! (`run-id` + `artifact-name`), or a release's `*.intoto.jsonl` assets and then GitHub's
//! attestations API by subject digest.
//!
//! These functions only fetch: they return files and bytes with where they came from, and a
//! [`SourceError`] that maps to a stable code. Parsing and verifying what they return, and
//! deciding that "nothing found" fails the run (`provenance_not_found`), is the mode's job.
//!
//! - Every GitHub call is retried on 5xx and network errors with the client core's backoff,
//!   [`SOURCE_ATTEMPTS`] sends at most (the first and 3 retries).
//! - An artifact's archive is unpacked by [`zip_unpack`] (bounded, no path escapes).
//! - Reads of public data need no token: build the client with
//!   [`GitHub::with_optional_token`] and `None`.

use std::path::{Path, PathBuf};

use crate::adapters::github::artifacts::ArtifactArchive;
use crate::adapters::github::{ApiError, GitHub};
use crate::adapters::zip_unpack::{self, Limits, UnpackError};
use crate::error::{Failure, FailureReason};

/// Sends per request: the first, then 3 retries on 5xx/network errors.
pub const SOURCE_ATTEMPTS: u32 = 4;

/// The suffix of provenance release assets (ours and slsa-github-generator's).
pub const INTOTO_SUFFIX: &str = ".intoto.jsonl";

/// Why a source could not deliver.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The run does not exist, or has no artifact by that name.
    #[error("{0}")]
    ArtifactMissing(String),
    /// The artifact is listed as expired, or its download answers 410.
    #[error("{0}")]
    ArtifactRetentionMissing(String),
    /// The artifact's archive is unsafe or unreadable (zip slip, bomb, duplicates...).
    #[error("artifact {artifact:?}: {error}")]
    UnsafeArchive {
        artifact: String,
        error: UnpackError,
    },
    /// An input the source needs is not usable (a digest that is not SHA-256 hex).
    #[error("{0}")]
    InvalidInput(String),
    /// GitHub failed (after retries) in a way that says nothing about the provenance.
    #[error("{what}: {error}")]
    Api { what: String, error: ApiError },
}

impl SourceError {
    pub fn reason(&self) -> FailureReason {
        match self {
            Self::ArtifactMissing(_) => FailureReason::ArtifactMissing,
            Self::ArtifactRetentionMissing(_) => FailureReason::ArtifactRetentionMissing,
            Self::UnsafeArchive { error, .. } => match error {
                // Our own disk failed, not the archive.
                UnpackError::Io { .. } => FailureReason::WriteFailed,
                _ => FailureReason::MalformedProvenance,
            },
            Self::InvalidInput(_) => FailureReason::InvalidInput,
            Self::Api { .. } => FailureReason::GithubApiFailed,
        }
    }
}

impl From<SourceError> for Failure {
    fn from(e: SourceError) -> Self {
        Failure::new(e.reason(), e.to_string())
    }
}

fn api(what: impl Into<String>) -> impl FnOnce(ApiError) -> SourceError {
    let what = what.into();
    move |error| SourceError::Api { what, error }
}

/// Download a workflow run's artifact(s) and unpack each into `dest/<artifact name>/`
/// (`dest` is created if needed; each artifact's folder must not exist yet). With `name`,
/// only the artifact of exactly that name (the newest, should GitHub list it twice); without,
/// every artifact of the run. Returns the unpacked files' paths.
pub async fn fetch_run_artifact(
    gh: &GitHub<'_>,
    repository: &str,
    run_id: u64,
    name: Option<&str>,
    dest: &Path,
    limits: Limits,
) -> Result<Vec<PathBuf>, SourceError> {
    let gh = gh.with_attempts(SOURCE_ATTEMPTS);
    let which = match name {
        Some(n) => format!("artifact {n:?} of workflow run {run_id} in {repository}"),
        None => format!("the artifacts of workflow run {run_id} in {repository}"),
    };
    let listed = gh
        .list_run_artifacts(repository, run_id, name)
        .await
        .map_err(api(format!("listing {which}")))?
        .ok_or_else(|| {
            SourceError::ArtifactMissing(format!(
                "workflow run {run_id} not found in {repository} (or the token cannot see it)"
            ))
        })?;
    if listed.is_empty() {
        return Err(SourceError::ArtifactMissing(format!("no {which}")));
    }
    let mut live: Vec<_> = listed.iter().filter(|a| !a.expired).collect();
    if live.is_empty() {
        return Err(SourceError::ArtifactRetentionMissing(format!(
            "{which} expired: GitHub no longer keeps it (past the repository's artifact retention)"
        )));
    }
    if name.is_some() {
        // Newest first; only that one.
        live.sort_by_key(|a| std::cmp::Reverse(a.id));
        live.truncate(1);
    }
    std::fs::create_dir_all(dest).map_err(|e| SourceError::UnsafeArchive {
        artifact: which.clone(),
        error: UnpackError::Io {
            path: dest.to_path_buf(),
            detail: e.to_string(),
        },
    })?;
    let mut files = Vec::new();
    for artifact in live {
        let zip = match gh
            .download_artifact_zip(repository, artifact.id)
            .await
            .map_err(api(format!("downloading artifact {:?}", artifact.name)))?
        {
            ArtifactArchive::Zip(bytes) => bytes,
            ArtifactArchive::Missing => {
                return Err(SourceError::ArtifactMissing(format!(
                    "artifact {:?} (id {}) of workflow run {run_id}: its download is not found",
                    artifact.name, artifact.id
                )))
            }
            ArtifactArchive::Gone => {
                return Err(SourceError::ArtifactRetentionMissing(format!(
                    "artifact {:?} (id {}) of workflow run {run_id}: GitHub answers 410 Gone \
                     (past the repository's artifact retention)",
                    artifact.name, artifact.id
                )))
            }
        };
        let folder = dest.join(folder_name(&artifact.name, artifact.id));
        let unpacked = zip_unpack::unpack(&zip, &folder, limits).map_err(|error| {
            SourceError::UnsafeArchive {
                artifact: artifact.name.clone(),
                error,
            }
        })?;
        files.extend(unpacked);
    }
    Ok(files)
}

/// The artifact's name when it is one plain path component, else `artifact-<id>`.
fn folder_name(name: &str, id: u64) -> String {
    match zip_unpack::safe_components(name) {
        Ok(parts) if parts.len() == 1 && parts[0] == name => name.to_string(),
        _ => format!("artifact-{id}"),
    }
}

/// Provenance published for a release: the bytes of its `*.intoto.jsonl` assets; when it has
/// none (or there is no release for `tag`, or no `tag` is known), every attestation GitHub stores for each of
/// `sha256_digests` (lowercase hex). Each item is `(origin, bytes)`, origin naming where it
/// came from. Empty when nothing was found: whether that fails is the caller's decision.
pub async fn fetch_release_provenance(
    gh: &GitHub<'_>,
    repository: &str,
    tag: Option<&str>,
    sha256_digests: &[String],
) -> Result<Vec<(String, Vec<u8>)>, SourceError> {
    if let Some(bad) = sha256_digests.iter().find(|d| !is_sha256_hex(d)) {
        return Err(SourceError::InvalidInput(format!(
            "{bad:?} is not a SHA-256 digest (64 lowercase hex digits)"
        )));
    }
    let gh = gh.with_attempts(SOURCE_ATTEMPTS);
    let mut found = match tag {
        Some(tag) => release_assets(&gh, repository, tag).await?,
        None => Vec::new(),
    };
    if !found.is_empty() {
        return Ok(found);
    }
    for digest in sha256_digests {
        let listed = gh
            .list_attestations(repository, digest)
            .await
            .map_err(api(format!("listing the attestations of sha256:{digest}")))?;
        for (n, item) in listed.into_iter().enumerate() {
            let id = item
                .id
                .map(|i| format!("id {i}"))
                .unwrap_or_else(|| format!("#{}", n + 1));
            let origin = format!("{repository} attestations API, sha256:{digest} ({id})");
            match item.bundle {
                Some(bundle) => found.push((origin, bundle.to_string().into_bytes())),
                None => gh.note(&format!(
                    "{origin}: GitHub gave no inline bundle{}; skipped",
                    item.bundle_url
                        .map(|u| format!(" (only {u})"))
                        .unwrap_or_default()
                )),
            }
        }
    }
    Ok(found)
}

/// The `*.intoto.jsonl` assets of the release for `tag`; empty if there is no such release.
async fn release_assets(
    gh: &GitHub<'_>,
    repository: &str,
    tag: &str,
) -> Result<Vec<(String, Vec<u8>)>, SourceError> {
    let Some(release) = gh
        .release_by_tag(repository, tag)
        .await
        .map_err(api(format!("looking up the release for tag {tag}")))?
    else {
        return Ok(Vec::new());
    };
    let assets = gh
        .list_assets(repository, release.id)
        .await
        .map_err(api(format!("listing the assets of release {tag}")))?;
    let mut found = Vec::new();
    for asset in assets
        .into_iter()
        .filter(|a| a.name.ends_with(INTOTO_SUFFIX) && a.state == "uploaded")
    {
        let what = format!("release {tag} asset {}", asset.name);
        let bytes = gh
            .download_asset(repository, asset.id)
            .await
            .map_err(api(format!("downloading {what}")))?
            .ok_or_else(|| SourceError::Api {
                what: format!("downloading {what}"),
                error: ApiError::BadAnswer("listed, but its download answers 404".into()),
            })?;
        found.push((format!("{repository} {what}"), bytes));
    }
    Ok(found)
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_folders_are_plain_names_or_the_id() {
        assert_eq!(folder_name("provenance", 7), "provenance");
        assert_eq!(folder_name("../up", 7), "artifact-7");
        assert_eq!(folder_name("a/b", 7), "artifact-7");
        assert_eq!(folder_name("", 7), "artifact-7");
        assert_eq!(folder_name(".", 7), "artifact-7");
    }

    #[test]
    fn errors_map_to_their_codes() {
        let codes = [
            (SourceError::ArtifactMissing("x".into()), "artifact_missing"),
            (
                SourceError::ArtifactRetentionMissing("x".into()),
                "artifact_retention_missing",
            ),
            (
                SourceError::UnsafeArchive {
                    artifact: "a".into(),
                    error: UnpackError::Duplicate("x".into()),
                },
                "malformed_provenance",
            ),
            (
                SourceError::UnsafeArchive {
                    artifact: "a".into(),
                    error: UnpackError::Io {
                        path: "/x".into(),
                        detail: "disk full".into(),
                    },
                },
                "write_failed",
            ),
            (SourceError::InvalidInput("x".into()), "invalid_input"),
        ];
        for (e, code) in codes {
            assert_eq!(Failure::from(e).reason.code(), code);
        }
    }

    #[test]
    fn digests_must_be_lowercase_sha256_hex() {
        assert!(is_sha256_hex(&"ab".repeat(32)));
        assert!(!is_sha256_hex(&"AB".repeat(32)));
        assert!(!is_sha256_hex("abc"));
        assert!(!is_sha256_hex(&"g".repeat(64)));
    }
}
