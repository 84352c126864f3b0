//! `git` as a subprocess, for the two questions provenance asks it: which tag points exactly at
//! this commit, and which commit a tag names.
//!
//! Inside the container the workspace belongs to another uid, so every call passes
//! `-c safe.directory=*` instead of relying on the runner image's git config. Arguments are
//! passed as argv (never through a shell); tags are validated before they get here.
//!
//! git runs in a cleared environment: only [`GIT_ENV`] is passed on from ours, so no token,
//! secret input or `GIT_DIR`-style redirection reaches it, and `LC_ALL=C` keeps its messages in
//! English, since [`describe_exact`] reads them.

use std::path::Path;
use std::process::Command;

/// What a git call said when it did not answer the question.
#[derive(Debug)]
pub struct GitError(pub String);

/// What git needs from our environment: where programs are, and where its config and
/// temporary files live.
pub const GIT_ENV: &[&str] = &["PATH", "HOME", "XDG_CONFIG_HOME", "TMPDIR"];

fn git(workspace: &Path, args: &[&str]) -> Result<Option<String>, GitError> {
    let mut cmd = Command::new("git");
    cmd.env_clear();
    for name in GIT_ENV {
        if let Some(v) = std::env::var_os(name) {
            cmd.env(name, v);
        }
    }
    let out = cmd
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .arg("-c")
        .arg("safe.directory=*")
        .arg("-C")
        .arg(workspace)
        .args(args)
        .output()
        .map_err(|e| GitError(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(GitError(stderr));
    }
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok((!s.is_empty()).then_some(s))
}

/// `git describe --tags --exact-match <rev>`: `Ok(None)` when no tag points at it.
pub fn describe_exact(workspace: &Path, rev: &str) -> Result<Option<String>, GitError> {
    match git(workspace, &["describe", "--tags", "--exact-match", rev]) {
        Ok(v) => Ok(v),
        Err(GitError(msg))
            if msg.contains("no tag exactly matches") || msg.contains("No names found") =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The commit `refs/tags/<tag>` points at (peeling annotated tags).
pub fn tag_commit(workspace: &Path, tag: &str) -> Option<String> {
    git(
        workspace,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/tags/{tag}^{{commit}}"),
        ],
    )
    .ok()
    .flatten()
}

/// `HEAD`'s commit, for local runs without `GITHUB_SHA`.
pub fn head_commit(workspace: &Path) -> Option<String> {
    git(
        workspace,
        &["rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
    )
    .ok()
    .flatten()
}
