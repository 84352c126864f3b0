//! The validation report (`result-path`, schema `schemas/validate-report.schema.json`) and
//! its step-summary table. Pure: the mode passes `validated_at`.

use std::fmt::Write as _;

use serde::Serialize;

use super::{ArtifactVerdict, CheckStatus};

/// Bumped when a field changes meaning; new optional fields do not bump it.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// A provenance document that was read, and whether it could be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentRecord {
    pub origin: String,
    /// `bundle`, `dsse_envelope`, `statement`, or `null` when unreadable.
    pub kind: Option<&'static str>,
    /// `null` when usable; else a failure code (`malformed_provenance`...).
    pub problem: Option<&'static str>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    pub schema_version: u32,
    pub verified: bool,
    pub failure_reason: Option<&'static str>,
    /// Every failure code, in rank order.
    pub failure_reasons: Vec<&'static str>,
    pub validated_at: String,
    /// Governance overrides in force (`allow-predicate-v02`, `allow-unsigned`) that some
    /// passing artifact relied on.
    pub overrides: Vec<&'static str>,
    pub subjects_verified: usize,
    pub subjects_total: usize,
    pub documents: Vec<DocumentRecord>,
    pub artifacts: Vec<ArtifactVerdict>,
}

impl ValidationReport {
    /// Assemble the report: `failure_reasons` comes from [`super::failure_reasons`].
    pub fn new(
        validated_at: String,
        documents: Vec<DocumentRecord>,
        artifacts: Vec<ArtifactVerdict>,
        failure_reasons: Vec<&'static str>,
        overrides: Vec<&'static str>,
    ) -> Self {
        let subjects_verified = artifacts.iter().filter(|a| a.verified).count();
        Self {
            schema_version: REPORT_SCHEMA_VERSION,
            verified: failure_reasons.is_empty() && !artifacts.is_empty(),
            failure_reason: failure_reasons.first().copied(),
            failure_reasons,
            validated_at,
            overrides,
            subjects_verified,
            subjects_total: artifacts.len(),
            documents,
            artifacts,
        }
    }

    /// The artifact whose values the single-valued outputs show: the first verified one, else
    /// the first.
    pub fn headline(&self) -> Option<&ArtifactVerdict> {
        self.artifacts
            .iter()
            .find(|a| a.verified)
            .or_else(|| self.artifacts.first())
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Free text from the documents, outside code spans.
use crate::domain::escape::markdown as md_text;
/// Names and values from the documents, inside code spans (see `domain::escape`).
use crate::domain::escape::markdown_code as md;

fn cell(v: Option<&str>) -> String {
    match v {
        Some(v) if !v.is_empty() => format!("`{}`", md(v)),
        _ => "-".into(),
    }
}

/// The step summary: a verdict line, then one table row per artifact and check.
pub fn render_summary(report: &ValidationReport) -> String {
    let mut o = String::new();
    let verdict = if report.verified {
        "passed".to_string()
    } else {
        format!("failed: `{}`", report.failure_reason.unwrap_or("unknown"))
    };
    let _ = writeln!(o, "## SLSA provenance validation {verdict}\n");
    let _ = writeln!(
        o,
        "{} of {} artifact(s) verified.",
        report.subjects_verified, report.subjects_total
    );
    if report.failure_reasons.len() > 1 {
        let _ = writeln!(
            o,
            "All failures: {}.",
            report
                .failure_reasons
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for flag in &report.overrides {
        let _ = writeln!(o, "\n> Governance override in force: `{flag}: true`.");
    }
    let _ = writeln!(
        o,
        "\n| artifact | check | result | expected | found |\n|---|---|---|---|---|"
    );
    for a in &report.artifacts {
        if a.checks.is_empty() {
            let _ = writeln!(
                o,
                "| `{}` | provenance | failed `{}` | - | - |",
                md(&a.name),
                a.failure_reason.unwrap_or("provenance_not_found")
            );
        }
        for c in &a.checks {
            let result = match c.status {
                CheckStatus::Passed => "passed".to_string(),
                CheckStatus::Skipped => "skipped".to_string(),
                CheckStatus::Failed => format!("**failed** `{}`", c.reason.unwrap_or("")),
            };
            let found = match c.status {
                CheckStatus::Skipped => c.detail.as_deref().map(md_text).unwrap_or_default(),
                _ => cell(c.found.as_deref()),
            };
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} | {} |",
                md(&a.name),
                c.check.as_str(),
                result,
                cell(c.expected.as_deref()),
                found
            );
        }
    }
    let bad: Vec<&super::report::DocumentRecord> = report
        .documents
        .iter()
        .filter(|d| d.problem.is_some())
        .collect();
    if !bad.is_empty() {
        let _ = writeln!(o, "\n| provenance document | problem |\n|---|---|");
        for d in bad {
            let _ = writeln!(
                o,
                "| `{}` | `{}` {} |",
                md(&d.origin),
                d.problem.unwrap_or(""),
                md_text(d.detail.as_deref().unwrap_or(""))
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::provenance_doc::{StatementFacts, StatementSubject};
    use crate::domain::verify::{
        build_checks, failure_reasons, judge_artifact, Artifact, JudgedDocument, Policy,
        SignatureEvidence, SignerFacts, TagExpectation,
    };

    #[test]
    fn summary_snapshot_one_pass_one_subject_mismatch() {
        let sha = |c: char| c.to_string().repeat(64);
        let san = "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1.2.0";
        let doc = JudgedDocument {
            origin: "dist/app.intoto.jsonl".into(),
            statement: StatementFacts {
                statement_type: "https://in-toto.io/Statement/v1".into(),
                predicate_type: "https://slsa.dev/provenance/v1".into(),
                subjects: vec![StatementSubject {
                    name: "app.tar.gz".into(),
                    sha256: Some(sha('a')),
                }],
                builder_id: Some(san.into()),
                source_repository: Some("https://github.com/octo/app".into()),
                tags: vec!["v1.2.0".into()],
                git_ref: Some("refs/tags/v1.2.0".into()),
                commit: Some("abc".into()),
            },
            signature: SignatureEvidence::Verified(SignerFacts {
                identity: san.into(),
                issuer: Some("https://token.actions.githubusercontent.com".into()),
                source_repository: Some("https://github.com/octo/app".into()),
                ..Default::default()
            }),
        };
        let policy = Policy {
            issuer: "https://token.actions.githubusercontent.com".into(),
            source_repository: Some("octo/app".into()),
            tag: Some(TagExpectation {
                pattern: "v1.*".into(),
                matcher: globset::Glob::new("v1.*").expect("glob").compile_matcher(),
            }),
            ..Default::default()
        };
        let checks = build_checks(&policy);
        let verdicts: Vec<_> = [("app.tar.gz", 'a'), ("app | swapped.zip", 'b')]
            .iter()
            .map(|(name, c)| {
                judge_artifact(
                    &checks,
                    std::slice::from_ref(&doc),
                    &Artifact {
                        name: (*name).into(),
                        sha256: sha(*c),
                    },
                )
            })
            .collect();
        let reasons = failure_reasons(&verdicts, &[]);
        let report = ValidationReport::new(
            "2026-01-02T03:04:05Z".into(),
            vec![DocumentRecord {
                origin: "dist/app.intoto.jsonl".into(),
                kind: Some("bundle"),
                problem: None,
                detail: None,
            }],
            verdicts,
            reasons,
            vec![],
        );
        assert!(!report.verified);
        assert_eq!(report.failure_reason, Some("subject_mismatch"));
        assert_eq!(report.subjects_verified, 1);
        insta::assert_snapshot!(render_summary(&report));
    }
}
