//! Which tag a run is about, and whether that name is safe to use.
//!
//! Pure: the candidates are gathered by the mode (event file, input, env, `git describe`); this
//! module only ranks and validates them. A tag becomes part of file paths and URLs, so besides
//! git's own ref-name rules we refuse anything that could escape a directory.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TagSource {
    ReleaseEvent,
    Input,
    Ref,
    GitDescribe,
}

impl TagSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReleaseEvent => "release-event",
            Self::Input => "input",
            Self::Ref => "ref",
            Self::GitDescribe => "git-describe",
        }
    }
}

impl fmt::Display for TagSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTag {
    pub name: String,
    pub source: TagSource,
}

/// First non-empty candidate wins, in the order given (release event, input, ref, describe).
/// The winner is validated; losers are not looked at, so a junk `tag` input under a release
/// event does not fail the run.
pub fn first_candidate(
    candidates: impl IntoIterator<Item = (TagSource, Option<String>)>,
) -> Result<Option<ResolvedTag>, String> {
    for (source, value) in candidates {
        let Some(v) = value else { continue };
        let name = v.trim();
        let name = name.strip_prefix("refs/tags/").unwrap_or(name);
        if name.is_empty() {
            continue;
        }
        validate_tag(name).map_err(|why| format!("tag {name:?} (from {source}) {why}"))?;
        return Ok(Some(ResolvedTag {
            name: name.to_string(),
            source,
        }));
    }
    Ok(None)
}

/// `git check-ref-format` rules for `refs/tags/<name>`, plus path safety.
pub fn validate_tag(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("is empty");
    }
    if name.len() > 255 {
        return Err("is longer than 255 bytes");
    }
    if name.chars().any(|c| c.is_control()) {
        return Err("contains a control character");
    }
    if name.contains("..") {
        return Err("contains '..'");
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return Err("starts or ends with '/' or contains '//'");
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\'))
    {
        let _ = c;
        return Err("contains a character git forbids in ref names (space ~ ^ : ? * [ \\)");
    }
    if name.contains("@{") || name == "@" {
        return Err("contains '@{' or is '@'");
    }
    if name.ends_with('.') {
        return Err("ends with '.'");
    }
    for component in name.split('/') {
        if component.starts_with('.') {
            return Err("has a path component starting with '.'");
        }
        if component.ends_with(".lock") {
            return Err("has a path component ending with '.lock'");
        }
    }
    if name.starts_with('-') {
        return Err("starts with '-' (would be read as an option)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_hit_wins_in_order() {
        let t = first_candidate([
            (TagSource::ReleaseEvent, None),
            (TagSource::Input, Some(" v1.2.0 ".into())),
            (TagSource::Ref, Some("v9".into())),
        ])
        .expect("valid")
        .expect("some");
        assert_eq!(t.name, "v1.2.0");
        assert_eq!(t.source, TagSource::Input);
    }

    #[test]
    fn refs_tags_prefix_is_accepted() {
        let t = first_candidate([(TagSource::Input, Some("refs/tags/v1".into()))])
            .expect("valid")
            .expect("some");
        assert_eq!(t.name, "v1");
    }

    #[test]
    fn no_candidate_is_none_not_error() {
        assert_eq!(
            first_candidate([(TagSource::Input, None)]).expect("ok"),
            None
        );
    }

    #[test]
    fn unsafe_names_are_rejected() {
        for bad in [
            "../../etc",
            "/abs",
            "a\nb",
            "a b",
            "v1.lock",
            ".hidden",
            "a//b",
            "trail/",
            "x@{1}",
            "-rf",
            "v1.",
            "a\u{7f}",
        ] {
            assert!(validate_tag(bad).is_err(), "{bad:?} should be rejected");
        }
        for good in [
            "v1.2.3",
            "release/2025-11-12",
            "v2025.11.12.2350",
            "1.0.0-rc.1+b",
        ] {
            assert!(validate_tag(good).is_ok(), "{good:?} should be accepted");
        }
    }

    #[test]
    fn invalid_winner_is_an_error_naming_its_source() {
        let e =
            first_candidate([(TagSource::ReleaseEvent, Some("../x".into()))]).expect_err("invalid");
        assert!(e.contains("release-event"), "{e}");
    }
}
