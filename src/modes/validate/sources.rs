//! Where `mode: validate` gets provenance from: the seam between the mode and its sources.
//!
//! [`gather`] takes the typed inputs and returns the raw documents (bytes + where they came
//! from), first source that applies: `provenance-path` (workspace globs), a workflow run's
//! artifact (`run-id` + `artifact-name`, unpacked into a temporary folder under `RUNNER_TEMP`
//! or the OS temp dir, every file in it read), else the tag's release `*.intoto.jsonl` assets
//! and then GitHub's attestations API by the subjects' digests. Each source is one match arm;
//! parsing and verifying the bytes is the mode's business, not the source's.

use std::path::{Path, PathBuf};

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::adapters::files;
use crate::adapters::github::{GitHub, GitHubConfig};
use crate::adapters::provenance_sources::{self as network};
use crate::adapters::zip_unpack::Limits;
use crate::domain::provenance_doc::MAX_DOCUMENT_BYTES;
use crate::domain::subjects::{SelectError, SubjectPatterns};
use crate::error::{Failure, FailureReason, Result};
use crate::inputs::validate::{ProvenanceSource, ValidateInputs};
use crate::secret::Secret;

/// One provenance file as a source delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenanceDocument {
    /// Where it came from, for the report: a workspace path, `run 123/artifact/file`, a URL.
    pub origin: String,
    pub bytes: Vec<u8>,
}

/// What the network sources need beyond the inputs: decided by the mode.
pub struct Network<'a> {
    pub env: &'a RunEnv,
    /// `owner/repo` the run artifact / release / attestations are read from.
    pub repository: Option<&'a str>,
    /// The release's tag (exact), when one is known.
    pub tag: Option<&'a str>,
    /// The artifacts' SHA-256 digests (lowercase hex), for the attestations API.
    pub digests: &'a [String],
    /// `github-token`: optional (public releases and attestations need none).
    pub token: Option<&'a Secret>,
}

/// The documents of the first source that applies. No document at all is
/// `provenance_not_found`.
pub async fn gather(
    inputs: &ValidateInputs,
    workspace: &Path,
    net: &Network<'_>,
    actions: &Actions,
) -> Result<Vec<ProvenanceDocument>> {
    let docs = match &inputs.source {
        ProvenanceSource::Paths(patterns) => from_paths(workspace, patterns)?,
        ProvenanceSource::RunArtifact {
            run_id,
            artifact_name,
        } => from_run_artifact(net, *run_id, artifact_name.as_deref(), actions).await?,
        ProvenanceSource::Release => from_release(net, actions).await?,
    };
    actions.info(&format!("Read {} provenance file(s)", docs.len()));
    if docs.is_empty() {
        return Err(Failure::new(
            FailureReason::ProvenanceNotFound,
            "no provenance file was found",
        ));
    }
    Ok(docs)
}

fn repository<'a>(net: &Network<'a>, what: &str) -> Result<&'a str> {
    net.repository.ok_or_else(|| {
        Failure::new(
            FailureReason::MissingContext,
            format!("{what} needs the repository: set 'source-repository' or GITHUB_REPOSITORY"),
        )
    })
}

/// `run-id`: the run's artifact(s), unpacked into a temporary folder (removed afterwards).
async fn from_run_artifact(
    net: &Network<'_>,
    run_id: u64,
    name: Option<&str>,
    actions: &Actions,
) -> Result<Vec<ProvenanceDocument>> {
    let repo = repository(net, "'run-id'")?;
    let config = GitHubConfig::from_env(net.env)?;
    let base = net
        .env
        .get("RUNNER_TEMP")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let temp = tempfile::Builder::new()
        .prefix("slsa-validate-artifact-")
        .tempdir_in(&base)
        .map_err(|e| {
            Failure::new(
                FailureReason::WriteFailed,
                format!(
                    "cannot create a temporary folder in {}: {e}",
                    base.display()
                ),
            )
        })?;
    let log = |m: &str| actions.info(m);
    let gh = GitHub::with_optional_token(&config, net.token, &log)?;
    let files =
        network::fetch_run_artifact(&gh, repo, run_id, name, temp.path(), Limits::default())
            .await?;
    let mut docs = Vec::with_capacity(files.len());
    for path in files {
        let rel = path.strip_prefix(temp.path()).unwrap_or(&path);
        let origin = format!("run {run_id} artifact {}", rel.display());
        docs.push(ProvenanceDocument {
            bytes: read_bounded(&path, &origin)?,
            origin,
        });
    }
    Ok(docs)
}

/// Neither input: the tag's release assets, then the attestations API by digest.
async fn from_release(net: &Network<'_>, actions: &Actions) -> Result<Vec<ProvenanceDocument>> {
    let repo = repository(net, "reading the release's provenance")?;
    let config = GitHubConfig::from_env(net.env)?;
    let log = |m: &str| actions.info(m);
    let gh = GitHub::with_optional_token(&config, net.token, &log)?;
    if net.tag.is_none() {
        log("No exact tag known (expected-tag, tag, release event or tag ref): skipping the release's assets");
    }
    let found = network::fetch_release_provenance(&gh, repo, net.tag, net.digests).await?;
    Ok(found
        .into_iter()
        .map(|(origin, bytes)| ProvenanceDocument { origin, bytes })
        .collect())
}

/// A provenance file's bytes; larger than any provenance is `malformed_provenance`.
fn read_bounded(path: &Path, shown: &str) -> Result<Vec<u8>> {
    let too_big = std::fs::metadata(path)
        .map(|m| m.len() > MAX_DOCUMENT_BYTES as u64)
        .unwrap_or(false);
    if too_big {
        return Err(Failure::new(
            FailureReason::MalformedProvenance,
            format!("{shown} is larger than {MAX_DOCUMENT_BYTES} bytes: not provenance"),
        ));
    }
    std::fs::read(path).map_err(|e| {
        Failure::new(
            FailureReason::ProvenanceNotFound,
            format!("cannot read provenance file {shown}: {e}"),
        )
    })
}

/// `provenance-path`: globs in the workspace, as `subject-path` is read.
fn from_paths(workspace: &Path, patterns: &[String]) -> Result<Vec<ProvenanceDocument>> {
    let not_found = |msg: String| Failure::new(FailureReason::ProvenanceNotFound, msg);
    let compiled =
        SubjectPatterns::compile(patterns, &workspace.to_string_lossy()).map_err(|e| {
            Failure::new(
                FailureReason::InvalidInput,
                format!("input 'provenance-path': {e}"),
            )
        })?;
    let listed = files::list_files(workspace, &compiled.walk_roots())
        .map_err(|e| not_found(format!("listing the workspace for provenance-path: {e}")))?;
    let selected = compiled.select(&listed).map_err(|e| match e {
        SelectError::Unmatched { pattern, .. } => not_found(format!(
            "provenance-path pattern {pattern:?} matched no file in the workspace"
        )),
    })?;
    selected
        .into_iter()
        .map(|rel| {
            let bytes = read_bounded(&workspace.join(&rel), &rel)?;
            Ok(ProvenanceDocument { origin: rel, bytes })
        })
        .collect()
}
