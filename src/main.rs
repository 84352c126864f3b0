//! The only exit point: run, then map a typed failure to `::error::`, the `failure-reason`
//! output, a summary section, and exit code 1.

use std::ffi::OsString;
use std::process::ExitCode;

use slsa_provenance_action::adapters::actions::Actions;
use slsa_provenance_action::domain::summary;

fn main() -> ExitCode {
    // As the OS gave them: a value that is not UTF-8 is a typed failure later, never a panic.
    let vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let mut actions = Actions::from_env();
    match slsa_provenance_action::run(vars, &args, cwd, &mut actions) {
        Ok(()) => {
            print_local_outputs(&actions);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            let code = failure.reason.code();
            actions.error(code, &failure.message);
            let _ = actions.set_output("failure-reason", code);
            let _ = actions.append_summary(&summary::render_failure(code, &failure.message));
            print_local_outputs(&actions);
            ExitCode::FAILURE
        }
    }
}

/// Outside Actions there is no `GITHUB_OUTPUT`: show the outputs on stdout instead.
fn print_local_outputs(actions: &Actions) {
    if actions.has_output_file() || actions.outputs().is_empty() {
        return;
    }
    let mut text = String::from("\nOutputs:\n");
    for (k, v) in actions.outputs() {
        text.push_str(&format!("  {k}={v}\n"));
    }
    actions.info(text.trim_end());
}
