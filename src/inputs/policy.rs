//! The `policy` input (modes validate and report): which governance policy file applies.
//! Only the input is checked here; reading the file is `adapters::policy_file`.

use std::path::{Component, PathBuf};

use super::RawInputs;
use crate::error::{Failure, FailureReason, Result};

/// What the `policy` input asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyInput {
    /// Unset: `.github/slsa-policy.yml` when it exists, else none.
    Default,
    /// `none` (or `false`): no policy, even when the default file exists.
    Ignored,
    /// A workspace-relative file that must exist.
    File(PathBuf),
}

impl PolicyInput {
    /// Every input [`PolicyInput::from_raw`] reads.
    pub const READS: &'static [&'static str] = &["policy"];

    pub fn from_raw(raw: &RawInputs) -> Result<Self> {
        match raw.policy.as_deref().map(str::trim) {
            None | Some("") => Ok(Self::Default),
            Some("none" | "false") => Ok(Self::Ignored),
            Some(p) => {
                let path = PathBuf::from(p);
                if path.is_absolute()
                    || path.components().any(|c| matches!(c, Component::ParentDir))
                {
                    return Err(Failure::new(
                        FailureReason::InvalidInput,
                        format!("input 'policy' must be a path inside the workspace, got {p:?}"),
                    ));
                }
                Ok(Self::File(path))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_input_is_default_none_or_a_workspace_file() {
        let p = |v: Option<&str>| {
            PolicyInput::from_raw(&RawInputs {
                policy: v.map(String::from),
                ..Default::default()
            })
        };
        assert_eq!(p(None).expect("unset"), PolicyInput::Default);
        assert_eq!(p(Some("none")).expect("none"), PolicyInput::Ignored);
        assert_eq!(
            p(Some("ci/policy.yml")).expect("file"),
            PolicyInput::File(PathBuf::from("ci/policy.yml"))
        );
        for bad in ["../policy.yml", "/etc/policy.yml", "ci/../../x.yml"] {
            let e = p(Some(bad)).expect_err(bad);
            assert_eq!(e.reason, FailureReason::InvalidInput, "{bad}");
            assert!(e.message.contains("'policy'"), "{}", e.message);
        }
    }
}
