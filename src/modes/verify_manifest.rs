//! `slsa-provenance-action verify-manifest [DIR]`: the seed's "lint-manifest" for CI on
//! manifest changes. Checks every day's manifest below DIR (default `docs/reports`) for
//! schema, hash chain, order, duplicates and day links (`domain::audit_chain`), and fails with
//! `manifest_tampered` naming the first bad file and entry. `report` and `validate` call
//! [`check_dir`], the same check.

use std::path::Path;

use crate::adapters::actions::Actions;
use crate::adapters::store::workspace;
use crate::domain::audit_chain::{self, ChainReport};
use crate::error::{Failure, FailureReason, Result};

pub const DEFAULT_DIR: &str = "docs/reports";

/// Verify the manifests below `dir`.
pub fn check_dir(dir: &Path) -> Result<ChainReport> {
    if !dir.is_dir() {
        return Err(Failure::new(
            FailureReason::InvalidInput,
            format!("{} is not a directory", dir.display()),
        ));
    }
    let days = workspace::read_day_files(dir).map_err(|e| {
        Failure::new(
            FailureReason::ManifestTampered,
            format!("reading the manifests below {}: {e}", dir.display()),
        )
    })?;
    audit_chain::verify_days(&days)
        .map_err(|t| Failure::new(FailureReason::ManifestTampered, t.to_string()))
}

/// `args` as the OS gave them: a directory name need not be UTF-8.
pub fn run(args: &[std::ffi::OsString], cwd: &Path, actions: &mut Actions) -> Result<()> {
    if args.len() > 1 {
        return Err(Failure::new(
            FailureReason::InvalidInput,
            "usage: slsa-provenance-action verify-manifest [DIR]",
        ));
    }
    let dir = match args.first() {
        Some(d) => cwd.join(d),
        None => cwd.join(DEFAULT_DIR),
    };
    let report = check_dir(&dir)?;
    for legacy in &report.unchained {
        actions.notice(&format!(
            "{legacy}: schema_version 1, written before the hash chain; it is chained on its next write"
        ));
    }
    actions.info(&format!(
        "verify-manifest: {} file(s), {} entries: schema, chain, order and day links OK",
        report.files, report.entries
    ));
    Ok(())
}
