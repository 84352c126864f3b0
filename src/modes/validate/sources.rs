//! Where `mode: validate` gets provenance from: the seam between the mode and its sources.
//!
//! [`gather`] takes the typed inputs and returns the raw documents (bytes + where they came
//! from), first source that applies: `provenance-path` (implemented here), a workflow run's
//! artifact (`run-id`) and the tag's release / the attestations API. Each source is one match
//! arm; parsing and verifying the bytes is the mode's business, not the source's.

use std::path::Path;

use crate::adapters::actions::Actions;
use crate::adapters::files;
use crate::domain::provenance_doc::MAX_DOCUMENT_BYTES;
use crate::domain::subjects::{SelectError, SubjectPatterns};
use crate::error::{Failure, FailureReason, Result};
use crate::inputs::validate::{ProvenanceSource, ValidateInputs};

/// One provenance file as a source delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenanceDocument {
    /// Where it came from, for the report: a workspace path, `run 123/artifact/file`, a URL.
    pub origin: String,
    pub bytes: Vec<u8>,
}

/// The documents of the first source that applies. No document at all is
/// `provenance_not_found`.
pub async fn gather(
    inputs: &ValidateInputs,
    workspace: &Path,
    actions: &Actions,
) -> Result<Vec<ProvenanceDocument>> {
    let docs =
        match &inputs.source {
            ProvenanceSource::Paths(patterns) => from_paths(workspace, patterns)?,
            ProvenanceSource::RunArtifact { run_id, .. } => {
                return Err(Failure::new(
                    FailureReason::InvalidInput,
                    format!(
                    "'run-id: {run_id}': downloading a workflow run's artifact is not available \
                     in this version; download it first (actions/download-artifact) and give \
                     its files as 'provenance-path'"
                ),
                ))
            }
            ProvenanceSource::Release => return Err(Failure::new(
                FailureReason::InvalidInput,
                "no 'provenance-path': fetching provenance from the release or the attestations \
                 API is not available in this version; give the provenance files as \
                 'provenance-path' (globs)",
            )),
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

/// `provenance-path`: globs in the workspace, as `subject-path` is read.
fn from_paths(workspace: &Path, patterns: &[String]) -> Result<Vec<ProvenanceDocument>> {
    let not_found = |msg: String| Failure::new(FailureReason::ProvenanceNotFound, msg);
    let compiled = SubjectPatterns::compile(patterns, &workspace.to_string_lossy())
        .map_err(|e| Failure::new(FailureReason::InvalidInput, format!("provenance-path: {e}")))?;
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
            let path = workspace.join(&rel);
            let too_big = std::fs::metadata(&path)
                .map(|m| m.len() > MAX_DOCUMENT_BYTES as u64)
                .unwrap_or(false);
            if too_big {
                return Err(Failure::new(
                    FailureReason::MalformedProvenance,
                    format!("{rel} is larger than {MAX_DOCUMENT_BYTES} bytes: not provenance"),
                ));
            }
            let bytes = std::fs::read(&path)
                .map_err(|e| not_found(format!("cannot read provenance file {rel}: {e}")))?;
            Ok(ProvenanceDocument { origin: rel, bytes })
        })
        .collect()
}
