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
pub mod interface;
pub mod modes;
pub mod secret;

use std::ffi::OsString;
use std::path::PathBuf;

use adapters::actions::Actions;
use adapters::context::RunEnv;
use error::{Failure, FailureReason, Result};
use inputs::{Invocation, Mode, RawInputs};

pub const USAGE: &str = "\
slsa-provenance-action: SLSA v1 provenance for GitHub releases

usage: slsa-provenance-action [MODE] [--<input-name> <value>]...
       slsa-provenance-action verify-manifest [DIR]   (default DIR: docs/reports)
       slsa-provenance-action verify-bundle --bundle F (--certificate-identity I
           --certificate-oidc-issuer U | --key K) [--trusted-root R] FILE|sha256:<hex>

MODE is provenance (default), validate, notify, recover or report.
Inputs are the action's inputs (see action.yml), also read from INPUT_<NAME> variables
(INPUT_SUBJECT-PATH as the runner sets them, or INPUT_SUBJECT_PATH from a shell).
Outputs go to $GITHUB_OUTPUT, the summary to $GITHUB_STEP_SUMMARY (stdout when unset).
";

/// Everything but the process exit: inputs -> mode -> outputs.
/// `vars` and `args` come as the OS gave them; `RawInputs` and `RunEnv` decode them.
pub fn run(
    vars: Vec<(OsString, OsString)>,
    args: &[OsString],
    cwd: PathBuf,
    actions: &mut Actions,
) -> Result<()> {
    // Subcommands with positional arguments, not modes: handled before inputs are read.
    match args.first().and_then(|a| a.to_str()) {
        Some("verify-manifest") => return modes::verify_manifest::run(&args[1..], &cwd, actions),
        Some("verify-bundle") => return modes::verify_bundle::run(&args[1..], &cwd, actions),
        _ => {}
    }
    let (raw, invocation) = RawInputs::collect(vars.iter().map(|(k, v)| (k, v)), args)?;
    for secret in raw.secrets() {
        actions.mask_secret(secret);
    }
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
    actions.set_mode(mode);
    let started_on = chrono::Utc::now();
    match mode {
        Mode::Provenance => {
            let env = RunEnv::from_os(vars, cwd)?;
            let rt = runtime()?;
            rt.block_on(modes::provenance::run(&raw, &env, actions, started_on))
        }
        Mode::Notify => {
            let env = RunEnv::from_os(vars, cwd)?;
            runtime()?.block_on(modes::notify::run(&raw, &env, actions))
        }
        Mode::Recover => {
            let env = RunEnv::from_os(vars, cwd)?;
            runtime()?.block_on(modes::recover::run(&raw, &env, actions))
        }
        Mode::Validate => {
            let env = RunEnv::from_os(vars, cwd)?;
            runtime()?.block_on(modes::validate::run(&raw, &env, actions, started_on))
        }
        Mode::Report => {
            let env = RunEnv::from_os(vars, cwd)?;
            runtime()?.block_on(modes::report::run(&raw, &env, actions, started_on))
        }
    }
}

/// The async runtime the network-bound modes run on.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(runtime_failure)
}

/// A runtime that cannot start (the system refused threads or an I/O driver) is not a write.
fn runtime_failure(e: std::io::Error) -> Failure {
    Failure::new(
        FailureReason::RuntimeFailed,
        format!("cannot start the async runtime: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_start_failure_is_runtime_failed_not_write_failed() {
        // Regression: a tokio runtime that failed to start was reported as `write_failed`.
        // The OS refusing threads cannot be provoked from a test as root, so the mapping is
        // tested on the error the builder returns (`io::Error`).
        let e = std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            "Resource temporarily unavailable",
        );
        let f = runtime_failure(e);
        assert_eq!(f.reason, FailureReason::RuntimeFailed);
        assert_eq!(f.reason.code(), "runtime_failed");
        assert!(f.message.contains("runtime"), "{}", f.message);
    }
}
