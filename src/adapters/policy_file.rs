//! Reading the governance policy file: the `policy` input's path, or `.github/slsa-policy.yml`
//! when it exists. Only translation: the text is checked by `domain::policy`.

use std::path::{Path, PathBuf};

use crate::error::{Failure, FailureReason, Result};
use crate::inputs::policy::PolicyInput;

/// Where the file is looked for when the `policy` input is not set.
pub const DEFAULT_PATH: &str = ".github/slsa-policy.yml";

/// Larger files are refused before they are read.
pub const MAX_BYTES: u64 = 1 << 20;

/// The file's workspace-relative path and text; `None` when no policy applies (`policy: none`,
/// or no input and no default file).
pub fn read(workspace: &Path, input: &PolicyInput) -> Result<Option<(String, String)>> {
    let (path, explicit) = match input {
        PolicyInput::Ignored => return Ok(None),
        PolicyInput::File(p) => (p.clone(), true),
        PolicyInput::Default => (PathBuf::from(DEFAULT_PATH), false),
    };
    let rel = path.to_string_lossy().into_owned();
    let full = workspace.join(path);
    let invalid = |m: String| Failure::new(FailureReason::PolicyInvalid, format!("{rel}: {m}"));
    let meta = match std::fs::metadata(&full) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(e) => return Err(invalid(format!("cannot read the policy file: {e}"))),
    };
    if !meta.is_file() {
        return Err(invalid("the policy path is not a file".into()));
    }
    if meta.len() > MAX_BYTES {
        return Err(invalid(format!(
            "the policy file is {} bytes, more than {MAX_BYTES}",
            meta.len()
        )));
    }
    let bytes =
        std::fs::read(&full).map_err(|e| invalid(format!("cannot read the policy file: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| invalid(format!("the policy file is not UTF-8: {e}")))?;
    Ok(Some((rel, text)))
}
