//! The step summary as Markdown, from plain values. Pure; `adapters::actions` writes it and
//! enforces the runner's 1 MiB limit.

use std::fmt::Write;

use super::subjects::Subject;
use super::tag::ResolvedTag;

/// Subjects listed in the table; the rest are counted.
pub const SUMMARY_SUBJECT_ROWS: usize = 50;

#[derive(Debug, Default, Clone)]
pub struct SigningFacts {
    /// `sigstore (keyless)`, `key`, ...
    pub method: String,
    /// Certificate SAN, or the key's hint.
    pub signer_identity: String,
    pub issuer: Option<String>,
    /// `Rekor log index N (url)`.
    pub tlog_entry: Option<String>,
    /// RFC 3161 timestamp, RFC 3339.
    pub timestamp: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct PublishFacts {
    pub attestation_id: Option<String>,
    pub attestation_url: Option<String>,
    pub release_asset_url: Option<String>,
    pub release_notes_updated: bool,
    /// Things that did not happen and why (plan/permission refusals, draft release, ...).
    pub notices: Vec<String>,
}

#[derive(Debug)]
pub struct ProvenanceSummary<'a> {
    pub tag: &'a ResolvedTag,
    pub commit: &'a str,
    pub tag_commit: Option<&'a str>,
    pub subjects: &'a [Subject],
    pub provenance_sha256: &'a str,
    pub files_written: &'a [String],
    pub signing: Option<&'a SigningFacts>,
    pub publish: Option<&'a PublishFacts>,
    pub run_url: &'a str,
}

/// Untrusted text (tags, file names, URLs, messages) is shown only inside code spans, where
/// Markdown and HTML are literal; `markdown_code` keeps it from closing the span or the cell.
use super::escape::markdown_code as md_escape;

pub fn render_provenance(s: &ProvenanceSummary<'_>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "## SLSA provenance for `{}`\n", md_escape(&s.tag.name));
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(
        o,
        "| Tag | `{}` (from {}) |",
        md_escape(&s.tag.name),
        s.tag.source
    );
    let _ = writeln!(o, "| Commit | `{}` |", md_escape(s.commit));
    if let Some(tc) = s.tag_commit.filter(|tc| *tc != s.commit) {
        let _ = writeln!(
            o,
            "| Tag points at | `{}` (differs from the built commit) |",
            md_escape(tc)
        );
    }
    let _ = writeln!(o, "| Provenance SHA-256 | `{}` |", s.provenance_sha256);
    let _ = writeln!(o, "| Subjects | {} |", s.subjects.len());
    match s.signing {
        Some(sig) => {
            let _ = writeln!(o, "| Signed | {} |", super::escape::markdown(&sig.method));
            let _ = writeln!(o, "| Signer | `{}` |", md_escape(&sig.signer_identity));
            if let Some(i) = &sig.issuer {
                let _ = writeln!(o, "| Issuer | `{}` |", md_escape(i));
            }
            if let Some(t) = &sig.tlog_entry {
                let _ = writeln!(o, "| Transparency log | {} |", super::escape::markdown(t));
            }
            if let Some(t) = &sig.timestamp {
                let _ = writeln!(o, "| Timestamp | {} |", super::escape::markdown(t));
            }
        }
        None => {
            let _ = writeln!(o, "| Signed | no (`sign: none`; not SLSA-compliant) |");
        }
    }
    if let Some(p) = s.publish {
        if let Some(u) = &p.attestation_url {
            let _ = writeln!(o, "| Attestation | `{}` |", md_escape(u));
        }
        if let Some(u) = &p.release_asset_url {
            let _ = writeln!(o, "| Release asset | `{}` |", md_escape(u));
        }
        if p.release_notes_updated {
            let _ = writeln!(o, "| Release notes | provenance section added |");
        }
    }
    let _ = writeln!(o, "| Run | `{}` |", md_escape(s.run_url));
    let _ = writeln!(o, "\n### Subjects\n\n| Name | SHA-256 |\n|---|---|");
    for subj in s.subjects.iter().take(SUMMARY_SUBJECT_ROWS) {
        let _ = writeln!(o, "| `{}` | `{}` |", md_escape(&subj.name), subj.sha256);
    }
    if s.subjects.len() > SUMMARY_SUBJECT_ROWS {
        let _ = writeln!(
            o,
            "\n… and {} more subjects (all are in the statement).",
            s.subjects.len() - SUMMARY_SUBJECT_ROWS
        );
    }
    let _ = writeln!(o, "\n### Files written\n");
    for f in s.files_written {
        let _ = writeln!(o, "- `{}`", md_escape(f));
    }
    if let Some(p) = s.publish {
        for n in &p.notices {
            let _ = writeln!(o, "\n> **Note:** `{}`", md_escape(n));
        }
    }
    o
}

pub fn render_skip(reason: &str, detail: &str) -> String {
    format!(
        "## SLSA provenance skipped\n\n`{reason}`: `{}`\n",
        md_escape(detail)
    )
}

pub fn render_failure(code: &str, message: &str) -> String {
    format!(
        "## SLSA provenance failed\n\n| Failure reason | `{code}` |\n|---|---|\n| Message | `{}` |\n",
        md_escape(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tag::TagSource;

    #[test]
    fn summary_snapshot_with_many_subjects() {
        let subjects: Vec<Subject> = (0..53)
            .map(|i| Subject {
                name: format!("pkg-{i:02}.tgz"),
                sha256: format!("{i:064x}"),
            })
            .collect();
        let tag = ResolvedTag {
            name: "v1.2.0".into(),
            source: TagSource::ReleaseEvent,
        };
        let files = vec!["docs/reports/2026-11-21/provenance_run_1/provenance.json".to_string()];
        let md = render_provenance(&ProvenanceSummary {
            tag: &tag,
            commit: "abc",
            tag_commit: Some("def"),
            subjects: &subjects,
            provenance_sha256: "ff",
            files_written: &files,
            signing: None,
            publish: None,
            run_url: "https://github.com/o/r/actions/runs/1",
        });
        assert!(md.contains("pkg-49.tgz"));
        assert!(!md.contains("pkg-50.tgz"));
        assert!(md.contains("and 3 more subjects"));
        insta::assert_snapshot!(md);
    }

    #[test]
    fn table_cells_cannot_break_out() {
        assert_eq!(md_escape("a|b\nc`"), "a\\|b c'");
    }
}
