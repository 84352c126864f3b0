//! What we add to a GitHub release: the bundle asset's name and content, and a provenance
//! section in the release notes. Pure.
//!
//! The section sits between two hidden HTML comments ([`SECTION_START`], [`SECTION_END`]), so a
//! re-run finds and replaces its own section instead of appending a second one, and never
//! touches the user's text around it. A body over GitHub's 125,000-character limit is never
//! produced: we fall back to a one-line section, then to nothing ([`NotesUpdate::TooLong`]);
//! the user's text is never truncated.
//!
//! Not handled: a user who deletes one of the two markers by hand. A lone start marker is left
//! alone (it is the user's text now) and a new section is appended after it.

use std::fmt::Write;

use super::subjects::Subject;

pub const SECTION_START: &str = "<!-- slsa-provenance-action:provenance -->";
pub const SECTION_END: &str = "<!-- /slsa-provenance-action:provenance -->";

/// GitHub rejects a release body longer than this many characters.
pub const BODY_LIMIT_CHARS: usize = 125_000;

/// `<subject>.intoto.jsonl` for one subject, `<repo>-<tag>.intoto.jsonl` for several.
/// Characters GitHub would rewrite in an asset name become `.`, so the name we compare on
/// re-runs is the name GitHub stores.
pub fn bundle_asset_name(subjects: &[Subject], repository: &str, tag: &str) -> String {
    let stem = match subjects {
        [one] => one.name.clone(),
        _ => {
            let repo = repository.rsplit('/').next().unwrap_or(repository);
            format!("{repo}-{tag}")
        }
    };
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+') {
                c
            } else {
                '.'
            }
        })
        .collect();
    format!("{safe}.intoto.jsonl")
}

/// The name a new bundle is uploaded under before it replaces the asset `name`: GitHub has no
/// atomic replace, so the old asset is deleted only once the new one is complete, and the new
/// one is then renamed. Fixed (not random), so a leftover from a run that failed between the
/// two steps is recognized and cleaned up by the next run.
pub fn bundle_asset_temp_name(name: &str) -> String {
    format!("{name}.uploading")
}

/// JSON Lines: the bundle on one line, then a newline.
pub fn bundle_asset_content(bundle: &serde_json::Value) -> String {
    format!("{bundle}\n")
}

/// Everything the section says.
#[derive(Debug, Clone)]
pub struct ProvenanceSection<'a> {
    pub statement_sha256: &'a str,
    pub subjects: usize,
    /// Asset name and download URL.
    pub bundle_asset: Option<(&'a str, &'a str)>,
    pub attestation_url: Option<&'a str>,
    pub run_url: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Full,
    /// One line, for a body close to the limit.
    Compact,
}

pub fn render_section(s: &ProvenanceSection<'_>, detail: Detail) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{SECTION_START}");
    match detail {
        Detail::Full => {
            let _ = writeln!(o, "### SLSA provenance\n");
            let _ = writeln!(o, "- Statement SHA-256: `{}`", s.statement_sha256);
            let plural = if s.subjects == 1 { "" } else { "s" };
            let _ = writeln!(o, "- {} subject{plural}", s.subjects);
            if let Some((name, url)) = s.bundle_asset {
                let _ = writeln!(o, "- Sigstore bundle: [{name}]({url})");
            }
            if let Some(url) = s.attestation_url {
                let _ = writeln!(o, "- Attestation: {url}");
            }
            let _ = writeln!(o, "- Build: {}", s.run_url);
        }
        Detail::Compact => {
            let _ = writeln!(
                o,
                "SLSA provenance: statement SHA-256 `{}`, [build]({})",
                s.statement_sha256, s.run_url
            );
        }
    }
    let _ = write!(o, "{SECTION_END}");
    o
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotesUpdate {
    /// The body already holds exactly this section.
    Unchanged,
    /// PATCH the release with this body.
    Replace { body: String, detail: Detail },
    /// Even the compact section would push the body over the limit.
    TooLong { chars: usize },
}

/// The byte range of our section in `body` (with the blank line we put before it), if any.
/// The last start marker before the first end marker wins, so a stray start marker earlier in
/// the user's text is never swallowed.
fn own_section(body: &str) -> Option<std::ops::Range<usize>> {
    let end = body.find(SECTION_END)? + SECTION_END.len();
    let start = body[..end].rfind(SECTION_START)?;
    let before = body[..start].trim_end_matches([' ', '\t', '\r', '\n']);
    Some(before.len()..end)
}

/// The user's text with our section taken out.
pub fn without_section(body: &str) -> String {
    match own_section(body) {
        Some(r) => format!("{}{}", &body[..r.start], &body[r.end..]),
        None => body.to_string(),
    }
}

/// Put `section` in place of our previous one (or after the user's text), within `limit`.
pub fn merge(existing: &str, section: &ProvenanceSection<'_>, limit: usize) -> NotesUpdate {
    let user = without_section(existing);
    let user = user.trim_end();
    let mut longest = 0;
    for detail in [Detail::Full, Detail::Compact] {
        let rendered = render_section(section, detail);
        let body = if user.is_empty() {
            rendered
        } else {
            format!("{user}\n\n{rendered}")
        };
        let chars = body.chars().count();
        if chars <= limit {
            if body == existing {
                return NotesUpdate::Unchanged;
            }
            return NotesUpdate::Replace { body, detail };
        }
        longest = longest.max(chars);
    }
    NotesUpdate::TooLong { chars: longest }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section() -> ProvenanceSection<'static> {
        ProvenanceSection {
            statement_sha256: "ab12",
            subjects: 2,
            bundle_asset: Some((
                "app-v1.intoto.jsonl",
                "https://github.com/o/app/releases/download/v1/app-v1.intoto.jsonl",
            )),
            attestation_url: Some("https://github.com/o/app/attestations/7"),
            run_url: "https://github.com/o/app/actions/runs/1",
        }
    }

    fn replaced(u: NotesUpdate) -> String {
        match u {
            NotesUpdate::Replace { body, .. } => body,
            other => panic!("expected a replacement, got {other:?}"),
        }
    }

    #[test]
    fn temp_asset_name_is_fixed_and_distinct() {
        let name = "app.tar.gz.intoto.jsonl";
        assert_eq!(
            bundle_asset_temp_name(name),
            "app.tar.gz.intoto.jsonl.uploading"
        );
        assert_ne!(bundle_asset_temp_name(name), name);
        // Still a name GitHub stores unchanged: only characters the asset name keeps.
        assert!(bundle_asset_temp_name(name)
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+')));
    }

    #[test]
    fn section_is_appended_after_user_text() {
        let body = replaced(merge("Fixes things.\n", &section(), BODY_LIMIT_CHARS));
        assert!(body.starts_with("Fixes things.\n\n<!-- slsa-provenance-action:provenance -->"));
        assert!(body.contains("- Statement SHA-256: `ab12`"));
        assert!(body.contains("- 2 subjects"));
        assert!(body.contains("[app-v1.intoto.jsonl](https://github.com/o/app/releases/download/"));
        assert!(body.contains("- Attestation: https://github.com/o/app/attestations/7"));
        assert!(body.ends_with(SECTION_END));
    }

    #[test]
    fn merging_twice_changes_nothing() {
        let once = replaced(merge("Notes", &section(), BODY_LIMIT_CHARS));
        assert_eq!(
            merge(&once, &section(), BODY_LIMIT_CHARS),
            NotesUpdate::Unchanged
        );
        let empty = replaced(merge("", &section(), BODY_LIMIT_CHARS));
        assert!(empty.starts_with(SECTION_START));
        assert_eq!(
            merge(&empty, &section(), BODY_LIMIT_CHARS),
            NotesUpdate::Unchanged
        );
    }

    #[test]
    fn rerun_replaces_its_own_section_and_keeps_text_after_it() {
        let first = replaced(merge("Intro", &section(), BODY_LIMIT_CHARS));
        // The user adds a line after our section; a later run has a new statement.
        let edited = format!("{first}\r\n\r\nThanks to all contributors.");
        let newer = ProvenanceSection {
            statement_sha256: "cd34",
            ..section()
        };
        let second = replaced(merge(&edited, &newer, BODY_LIMIT_CHARS));
        assert_eq!(second.matches(SECTION_START).count(), 1);
        assert!(second.contains("cd34") && !second.contains("ab12"));
        assert!(second.starts_with("Intro\r\n\r\nThanks to all contributors.\n\n"));
    }

    #[test]
    fn stray_start_marker_in_user_text_is_not_swallowed() {
        let body = format!("Intro {SECTION_START} quoted\n\nMore");
        let merged = replaced(merge(&body, &section(), BODY_LIMIT_CHARS));
        assert!(merged.starts_with(&body));
        let again = replaced(merge(
            &merged,
            &ProvenanceSection {
                statement_sha256: "ff",
                ..section()
            },
            BODY_LIMIT_CHARS,
        ));
        assert!(again.starts_with(&body), "{again}");
    }

    #[test]
    fn near_the_limit_falls_back_to_one_line_then_to_nothing() {
        let full = render_section(&section(), Detail::Full).chars().count();
        let compact = render_section(&section(), Detail::Compact).chars().count();
        assert!(compact < full);
        let limit = 1_000;
        // Room for the compact section only (user text + "\n\n" + section).
        let user = "é".repeat(limit - 2 - compact);
        match merge(&user, &section(), limit) {
            NotesUpdate::Replace { body, detail } => {
                assert_eq!(detail, Detail::Compact);
                assert_eq!(body.chars().count(), limit);
                assert!(body.starts_with(&user), "user text is never truncated");
            }
            other => panic!("{other:?}"),
        }
        let user = "é".repeat(limit);
        assert!(matches!(
            merge(&user, &section(), limit),
            NotesUpdate::TooLong { .. }
        ));
    }

    #[test]
    fn asset_names() {
        let s = |n: &str| Subject {
            name: n.into(),
            sha256: "00".into(),
        };
        assert_eq!(
            bundle_asset_name(&[s("app.tar.gz")], "octo/app", "v1"),
            "app.tar.gz.intoto.jsonl"
        );
        assert_eq!(
            bundle_asset_name(&[s("a"), s("b")], "octo/app", "release/v1 rc"),
            "app-release.v1.rc.intoto.jsonl"
        );
    }

    #[test]
    fn asset_content_is_one_json_line() {
        let v = serde_json::json!({"a": {"b": [1, 2]}});
        assert_eq!(bundle_asset_content(&v), "{\"a\":{\"b\":[1,2]}}\n");
    }
}

#[cfg(test)]
mod props {
    //! Property tests: a release body is whatever GitHub hands back (any text, our markers in
    //! any place): merging never panics and never produces a body over the limit.

    use super::*;
    use proptest::prelude::*;

    fn section() -> ProvenanceSection<'static> {
        ProvenanceSection {
            statement_sha256: "ab12",
            subjects: 1,
            bundle_asset: Some(("a.intoto.jsonl", "https://example.test/a.intoto.jsonl")),
            attestation_url: None,
            run_url: "https://github.com/o/app/actions/runs/1",
        }
    }

    /// Text with our markers (whole or cut) mixed in at random places.
    fn body() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                ".{0,30}",
                Just(SECTION_START.to_string()),
                Just(SECTION_END.to_string()),
                Just(SECTION_START[..10].to_string()),
                Just("\r\n\n ".to_string()),
                Just("é🦀".to_string()),
            ],
            0..8,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn merge_never_panics_or_exceeds_the_limit(existing in body(), limit in 0usize..2000) {
            match merge(&existing, &section(), limit) {
                NotesUpdate::Replace { body, .. } => prop_assert!(body.chars().count() <= limit),
                NotesUpdate::Unchanged => prop_assert!(existing.chars().count() <= limit),
                NotesUpdate::TooLong { chars } => prop_assert!(chars > limit),
            }
        }

        #[test]
        fn user_text_without_markers_survives_the_merge(user in ".{0,200}") {
            prop_assume!(!user.contains("<!--"));
            let first = match merge(&user, &section(), BODY_LIMIT_CHARS) {
                NotesUpdate::Replace { body, .. } => body,
                other => return Err(TestCaseError::fail(format!("{other:?}"))),
            };
            prop_assert!(first.starts_with(user.trim_end()));
            // A second merge of the same section changes nothing (re-run idempotence).
            prop_assert_eq!(merge(&first, &section(), BODY_LIMIT_CHARS), NotesUpdate::Unchanged);
        }
    }
}
