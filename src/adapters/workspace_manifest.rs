//! The run's entry in the workspace manifests (`<reports-dir>/<date>/manifest.json`), read for
//! the modes that act on a run another run recorded (`notify`, `recover`). Read only: they
//! write the entry through the audit store (`modes::entry_store`). An unreadable manifest is
//! `audit_file_corrupt`. This module decides nothing about the fields.

use std::path::{Path, PathBuf};

use crate::adapters::files;
use crate::domain::manifest::{Manifest, ManifestEntry};
use crate::error::{Context, Failure, FailureReason, Result};

/// An entry and the file it lives in.
#[derive(Debug, Clone)]
pub struct Located {
    pub path: PathBuf,
    pub entry: ManifestEntry,
}

fn read(path: &Path) -> Result<Option<Manifest>> {
    let Some(text) = files::read_optional(path).reason(
        FailureReason::WriteFailed,
        format!("reading {}", path.display()),
    )?
    else {
        return Ok(None);
    };
    Manifest::parse(&text).map(Some).map_err(|e| {
        Failure::new(
            FailureReason::AuditFileCorrupt,
            format!(
                "{} cannot be read ({e}); refusing to touch it",
                path.display()
            ),
        )
    })
}

fn matches(e: &ManifestEntry, run_id: u64, tag: Option<&str>) -> bool {
    e.run_id == run_id && tag.is_none_or(|t| e.tag == t)
}

/// Every day's manifest under `dir`, newest day first.
fn manifests(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut days: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("manifest.json"))
            .filter(|p| p.is_file())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(Failure::new(
                FailureReason::WriteFailed,
                format!("listing {}: {e}", dir.display()),
            ))
        }
    };
    days.sort();
    days.reverse();
    Ok(days)
}

/// The newest entry of `run_id` (and `tag`, when given).
pub fn find_run(dir: &Path, run_id: u64, tag: Option<&str>) -> Result<Option<Located>> {
    for path in manifests(dir)? {
        if let Some(m) = read(&path)? {
            if let Some(e) = m.entries.into_iter().find(|e| matches(e, run_id, tag)) {
                return Ok(Some(Located { path, entry: e }));
            }
        }
    }
    Ok(None)
}

/// Every entry of `tag`, across days.
pub fn entries_for_tag(dir: &Path, tag: &str) -> Result<Vec<ManifestEntry>> {
    let mut out = Vec::new();
    for path in manifests(dir)? {
        if let Some(m) = read(&path)? {
            out.extend(m.entries.into_iter().filter(|e| e.tag == tag));
        }
    }
    Ok(out)
}
