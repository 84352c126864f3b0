//! GitHub's file-command and workflow-command protocol: `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`,
//! and `::command::` lines on stdout.
//!
//! Follows the runner's rules (actions/toolkit `core`): outputs use the heredoc form with a random
//! delimiter per value; command data escapes `%`, `\r`, `\n`; properties also escape `:` and `,`.
//! Renderers write to any `io::Write`, so tests capture them without files. This module decides
//! nothing about *what* to say.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The runner's limit for one step summary upload.
pub const SUMMARY_LIMIT_BYTES: usize = 1024 * 1024;

pub use crate::domain::escape::{command_data as escape_data, command_property as escape_property};

/// Write one `key<<delimiter` block. The delimiter is random per value, and we refuse values
/// that contain it (the runner would mis-parse them).
pub fn write_output(w: &mut impl Write, name: &str, value: &str) -> io::Result<()> {
    let delimiter = format!("ghadelimiter_{}", uuid::Uuid::new_v4());
    if name.contains(&delimiter) || value.contains(&delimiter) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "output value contains its delimiter",
        ));
    }
    write!(w, "{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

/// Cut a summary to the runner's limit on a char boundary, with a visible note.
pub fn truncate_summary(markdown: &str, limit: usize) -> String {
    if markdown.len() <= limit {
        return markdown.to_string();
    }
    let note = "\n\n> **Note:** this summary was truncated to stay under GitHub's 1 MiB step-summary limit.\n";
    let mut cut = limit.saturating_sub(note.len());
    while !markdown.is_char_boundary(cut) {
        cut -= 1;
    }
    // Prefer to cut at a line end so a table row is not left half-written.
    if let Some(nl) = markdown[..cut].rfind('\n') {
        cut = nl;
    }
    format!("{}{}", &markdown[..cut], note)
}

/// Where workflow commands, outputs and the summary go. Built once in `main`.
pub struct Actions {
    output_file: Option<PathBuf>,
    summary_file: Option<PathBuf>,
    debug: bool,
    /// Inside the runner (`GITHUB_ACTIONS=true`): only there is `::add-mask::` consumed rather
    /// than shown, so elsewhere we never echo a secret to mask it.
    in_runner: bool,
    /// Outputs also kept in memory: printed for local runs without `GITHUB_OUTPUT`.
    written: Vec<(String, String)>,
    /// The running mode, once known: debug builds check each output against its declared list.
    mode: Option<crate::inputs::Mode>,
}

impl Actions {
    pub fn from_env() -> Self {
        let path = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Self {
            output_file: path("GITHUB_OUTPUT"),
            summary_file: path("GITHUB_STEP_SUMMARY"),
            debug: std::env::var("RUNNER_DEBUG").as_deref() == Ok("1"),
            in_runner: std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true"),
            written: Vec::new(),
            mode: None,
        }
    }

    /// The mode being run: from here on, debug builds refuse an output it does not declare
    /// (`interface::outputs_of`).
    pub fn set_mode(&mut self, mode: crate::inputs::Mode) {
        self.mode = Some(mode);
    }

    pub fn has_output_file(&self) -> bool {
        self.output_file.is_some()
    }

    pub fn outputs(&self) -> &[(String, String)] {
        &self.written
    }

    pub fn set_output(&mut self, name: &str, value: &str) -> io::Result<()> {
        debug_assert!(
            crate::interface::is_output(name),
            "output '{name}' is not declared in interface::OUTPUTS (and action.yml)"
        );
        debug_assert!(
            self.mode
                .is_none_or(|m| crate::interface::mode_sets(m, name)),
            "output '{name}' is not declared for mode {:?} in interface::outputs_of",
            self.mode
        );
        self.written.push((name.to_string(), value.to_string()));
        match &self.output_file {
            Some(p) => append(p, |w| write_output(w, name, value)),
            None => Ok(()),
        }
    }

    /// Append Markdown to the step summary (truncated to the runner's limit, counting what the
    /// file already holds). Without `GITHUB_STEP_SUMMARY` the summary goes to stdout.
    pub fn append_summary(&self, markdown: &str) -> io::Result<()> {
        match &self.summary_file {
            Some(p) => {
                let existing = std::fs::metadata(p).map(|m| m.len() as usize).unwrap_or(0);
                let room = SUMMARY_LIMIT_BYTES.saturating_sub(existing);
                let text = truncate_summary(markdown, room);
                append(p, |w| w.write_all(text.as_bytes()))
            }
            None => {
                let mut out = io::stdout().lock();
                emit_inert(&mut out, markdown.trim_end_matches('\n'));
                out.flush()
            }
        }
    }

    /// Plain log text (may carry tag names, file names, server messages): printed, never obeyed.
    pub fn info(&self, msg: &str) {
        emit_inert(&mut io::stdout().lock(), msg);
    }

    pub fn debug(&self, msg: &str) {
        if self.debug {
            emit(
                &mut io::stdout().lock(),
                &format!("::debug::{}", escape_data(msg)),
            );
        }
    }

    pub fn notice(&self, msg: &str) {
        emit(
            &mut io::stdout().lock(),
            &format!("::notice::{}", escape_data(msg)),
        );
    }

    pub fn warning(&self, msg: &str) {
        emit(
            &mut io::stdout().lock(),
            &format!("::warning::{}", escape_data(msg)),
        );
    }

    pub fn error(&self, title: &str, msg: &str) {
        emit(&mut io::stdout().lock(), &error_command(title, msg));
    }

    /// `::add-mask::` so the runner scrubs the value from every later log line.
    pub fn mask(&self, secret: &str) {
        if self.in_runner && !secret.is_empty() {
            emit(
                &mut io::stdout().lock(),
                &format!("::add-mask::{}", escape_data(secret)),
            );
        }
    }

    /// Mask a secret input, and each line of a multi-line one (a PEM key): the runner matches
    /// masks within single log lines.
    pub fn mask_secret(&self, secret: &crate::secret::Secret) {
        let value = secret.expose();
        self.mask(value);
        for line in value.lines().map(str::trim) {
            if line.len() >= 8 && line != value && !line.starts_with("-----") {
                self.mask(line);
            }
        }
    }

    pub fn group<T>(&self, title: &str, f: impl FnOnce() -> T) -> T {
        emit(
            &mut io::stdout().lock(),
            &format!("::group::{}", escape_data(title)),
        );
        let r = f();
        emit(&mut io::stdout().lock(), "::endgroup::");
        r
    }
}

pub fn error_command(title: &str, msg: &str) -> String {
    format!(
        "::error title={}::{}",
        escape_property(title),
        escape_data(msg)
    )
}

/// Write `text` as log lines, split as the runner splits them (`\r` too). A line the runner
/// would obey as a workflow command (`domain::escape::starts_workflow_command`) is printed
/// between `::stop-commands::<token>` and `::<token>::`, a fresh random token each time, so
/// hostile text is shown byte for byte and never run.
fn emit_inert(w: &mut impl Write, text: &str) {
    let text = text.replace("\r\n", "\n");
    for line in text.split(['\n', '\r']) {
        if crate::domain::escape::starts_workflow_command(line) {
            let token = uuid::Uuid::new_v4().simple().to_string();
            emit(w, &format!("::stop-commands::{token}"));
            emit(w, line);
            emit(w, &format!("::{token}::"));
        } else {
            emit(w, line);
        }
    }
}

fn emit(w: &mut impl Write, line: &str) {
    // A closed stdout must not turn into a panic in the middle of writing audit files.
    let _ = writeln!(w, "{line}");
    let _ = w.flush();
}

fn append(path: &Path, f: impl FnOnce(&mut std::fs::File) -> io::Result<()>) -> io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    f(&mut file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_runner() {
        assert_eq!(escape_data("a%b\r\nc"), "a%25b%0D%0Ac");
        assert_eq!(escape_property("a:b,c\n"), "a%3Ab%2Cc%0A");
        assert_eq!(
            error_command("invalid_tag", "bad\ntag"),
            "::error title=invalid_tag::bad%0Atag"
        );
    }

    #[test]
    fn log_text_that_looks_like_a_command_is_shown_between_stop_commands() {
        let mut w = Vec::new();
        emit_inert(&mut w, "Tag: v1\r::add-mask::x\nok ##[warning]y\r\nplain");
        let text = String::from_utf8(w).expect("utf8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Tag: v1");
        let token = lines[1].strip_prefix("::stop-commands::").expect("stop");
        assert_eq!(lines[2], "::add-mask::x");
        assert_eq!(lines[3], format!("::{token}::"));
        let other = lines[4].strip_prefix("::stop-commands::").expect("stop");
        assert_ne!(token, other, "a fresh token per line");
        assert_eq!(lines[5], "ok ##[warning]y");
        assert_eq!(lines[7], "plain");
        assert_eq!(lines.len(), 8);
    }

    #[test]
    fn output_uses_heredoc_with_random_delimiter() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        write_output(&mut a, "tag", "v1\nv2").expect("write");
        write_output(&mut b, "tag", "v1\nv2").expect("write");
        let a = String::from_utf8(a).expect("utf8");
        let b = String::from_utf8(b).expect("utf8");
        assert_ne!(a, b, "delimiter must be random per value");
        let mut lines = a.lines();
        let first = lines.next().expect("first");
        let delim = first.strip_prefix("tag<<").expect("heredoc");
        assert_eq!(lines.next(), Some("v1"));
        assert_eq!(lines.next(), Some("v2"));
        assert_eq!(lines.next(), Some(delim));
    }

    #[test]
    fn summary_truncation_keeps_under_limit_with_note() {
        let big = "| row | é |\n".repeat(200_000);
        let t = truncate_summary(&big, SUMMARY_LIMIT_BYTES);
        assert!(t.len() <= SUMMARY_LIMIT_BYTES);
        assert!(t.contains("truncated"));
        assert_eq!(truncate_summary("small", 100), "small");
    }
}
