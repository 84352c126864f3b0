//! slsa-provenance-action: SLSA v1 provenance for GitHub releases, signed with Sigstore, with
//! an audit trail in the repository.
//!
//! `main.rs` is the only exit point; [`run`] is everything else. See `ARCHITECTURE.md`.

pub mod adapters;
pub mod domain;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod inputs;
pub mod modes;
pub mod secret;

use std::collections::BTreeMap;
use std::path::PathBuf;

use adapters::actions::Actions;
use adapters::context::RunEnv;
use error::{Failure, FailureReason, Result};
use inputs::{Invocation, Mode, RawInputs};

pub const USAGE: &str = "\
slsa-provenance-action: SLSA v1 provenance for GitHub releases

usage: slsa-provenance-action [MODE] [--<input-name> <value>]...

MODE is provenance (default), validate, notify, recover or report.
Inputs are the action's inputs (see action.yml), also read from INPUT_<NAME> variables
(INPUT_SUBJECT-PATH as the runner sets them, or INPUT_SUBJECT_PATH from a shell).
Outputs go to $GITHUB_OUTPUT, the summary to $GITHUB_STEP_SUMMARY (stdout when unset).
";

/// Everything but the process exit: inputs -> mode -> outputs.
pub fn run(
    vars: BTreeMap<String, String>,
    args: &[String],
    cwd: PathBuf,
    actions: &mut Actions,
) -> Result<()> {
    let (raw, invocation) = RawInputs::collect(vars.clone(), args)?;
    if invocation == Invocation::Help {
        actions.info(USAGE);
        return Ok(());
    }
    for name in &raw.unknown {
        actions.warning(&format!(
            "Unexpected input '{name}', valid inputs are: {}",
            inputs::KNOWN_INPUTS.join(", ")
        ));
    }
    let mode = inputs::parse_mode(raw.mode.as_deref())?;
    let started_on = chrono::Utc::now();
    match mode {
        Mode::Provenance => {
            let env = RunEnv::from_vars(vars, cwd)?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| Failure::new(FailureReason::WriteFailed, e.to_string()))?;
            rt.block_on(modes::provenance::run(&raw, &env, actions, started_on))
        }
        Mode::Validate | Mode::Notify | Mode::Recover | Mode::Report => Err(Failure::new(
            FailureReason::ModeNotImplemented,
            format!(
                "mode '{}' is not implemented yet; this version implements: provenance",
                raw.mode.as_deref().unwrap_or_default()
            ),
        )),
    }
}
