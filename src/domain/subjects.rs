//! Subjects: which workspace files a `subject-path` selects, and the names they are published
//! under.
//!
//! Pure over workspace-relative, `/`-separated paths: the walker (`adapters::files`) lists the
//! files below [`SubjectPatterns::walk_roots`], this module decides which are in. `*` stays within
//! one directory, `**` crosses them, `!pattern` excludes. What this does NOT do: follow `..` out
//! of the workspace (refused), or treat a directory as a subject.

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

/// One published subject: name and lower-case hex SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subject {
    pub name: String,
    pub sha256: String,
}

#[derive(Debug)]
struct Include {
    pattern: String,
    matcher: GlobMatcher,
    /// Longest leading part without glob syntax: the only directory that must be walked.
    root: String,
    literal: bool,
}

#[derive(Debug)]
pub struct SubjectPatterns {
    includes: Vec<Include>,
    excludes: GlobSet,
}

fn is_glob_char(c: char) -> bool {
    matches!(c, '*' | '?' | '[' | ']' | '{' | '}')
}

fn glob(p: &str) -> Result<Glob, String> {
    GlobBuilder::new(p)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("invalid pattern {p:?}: {e}"))
}

/// Make a pattern workspace-relative: strip `./` and an absolute workspace prefix, refuse `..`.
fn relativize(pattern: &str, workspace: &str) -> Result<String, String> {
    let mut p = pattern.trim().to_string();
    let ws = workspace.trim_end_matches('/');
    if p.starts_with('/') {
        match p.strip_prefix(ws).and_then(|r| r.strip_prefix('/')) {
            Some(rest) if !ws.is_empty() => p = rest.to_string(),
            _ => {
                return Err(format!(
                    "pattern {pattern:?} is an absolute path outside the workspace {workspace:?}; \
                     use a path relative to the workspace (a container action sees the workspace \
                     at GITHUB_WORKSPACE, not at the runner's host path)"
                ))
            }
        }
    }
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.to_string();
    }
    if p.split('/').any(|c| c == "..") {
        return Err(format!(
            "pattern {pattern:?} uses '..'; subject paths must stay inside the workspace"
        ));
    }
    if p.is_empty() {
        return Err(format!("pattern {pattern:?} is empty"));
    }
    Ok(p)
}

impl SubjectPatterns {
    pub fn compile(patterns: &[String], workspace: &str) -> Result<Self, String> {
        let mut includes = Vec::new();
        let mut excludes = GlobSetBuilder::new();
        for raw in patterns {
            if let Some(ex) = raw.strip_prefix('!') {
                excludes.add(glob(&relativize(ex, workspace)?)?);
                continue;
            }
            let p = relativize(raw, workspace)?;
            let matcher = glob(&p)?.compile_matcher();
            let first_glob = p.find(is_glob_char);
            let literal = first_glob.is_none() && !p.contains('\\');
            let root = match first_glob {
                None => p
                    .rsplit_once('/')
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_default(),
                Some(i) => p[..i]
                    .rsplit_once('/')
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_default(),
            };
            includes.push(Include {
                pattern: raw.clone(),
                matcher,
                root,
                literal,
            });
        }
        let excludes = excludes
            .build()
            .map_err(|e| format!("invalid exclusion pattern: {e}"))?;
        Ok(Self { includes, excludes })
    }

    /// Directories (workspace-relative, `""` = the workspace) that contain every possible match.
    /// Nested roots are dropped so nothing is walked twice.
    pub fn walk_roots(&self) -> Vec<String> {
        let mut roots: Vec<String> = self.includes.iter().map(|i| i.root.clone()).collect();
        roots.sort();
        roots.dedup();
        let mut out: Vec<String> = Vec::new();
        for r in roots {
            let covered = out
                .iter()
                .any(|o| o.is_empty() || r == *o || r.starts_with(&format!("{o}/")));
            if !covered {
                out.push(r);
            }
        }
        out
    }

    /// Select files (workspace-relative paths of regular files). Every include pattern must
    /// match at least one file before exclusions, else its text is the error.
    pub fn select(&self, files: &[String]) -> Result<Vec<String>, SelectError> {
        let mut selected = Vec::new();
        let mut hit = vec![false; self.includes.len()];
        for f in files {
            let mut any = false;
            for (i, inc) in self.includes.iter().enumerate() {
                if inc.matcher.is_match(f) {
                    hit[i] = true;
                    any = true;
                }
            }
            if any && !self.excludes.is_match(f) {
                selected.push(f.clone());
            }
        }
        if let Some(i) = hit.iter().position(|h| !h) {
            let inc = &self.includes[i];
            return Err(SelectError::Unmatched {
                pattern: inc.pattern.clone(),
                literal: inc.literal,
            });
        }
        selected.sort();
        selected.dedup();
        Ok(selected)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum SelectError {
    Unmatched { pattern: String, literal: bool },
}

/// The published name of a file: its basename.
pub fn subject_name(rel_path: &str) -> &str {
    rel_path.rsplit('/').next().unwrap_or(rel_path)
}

/// Merge subjects from files and checksum lists, sorted by name. The same name twice with the
/// same digest is one subject; with different digests it is an error naming both sources.
pub fn merge_subjects(
    entries: impl IntoIterator<Item = (Subject, String)>,
) -> Result<Vec<Subject>, String> {
    let mut by_name: std::collections::BTreeMap<String, (Subject, String)> = Default::default();
    for (s, origin) in entries {
        match by_name.get(&s.name) {
            Some((prev, prev_origin)) if prev.sha256 != s.sha256 => {
                return Err(format!(
                    "two different files would both be published as subject {:?}: {} and {} \
                     (rename one, or narrow 'subject-path')",
                    s.name, prev_origin, origin
                ));
            }
            Some(_) => {}
            None => {
                by_name.insert(s.name.clone(), (s, origin));
            }
        }
    }
    Ok(by_name.into_values().map(|(s, _)| s).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(p: &[&str]) -> SubjectPatterns {
        SubjectPatterns::compile(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "/ws")
            .expect("compile")
    }

    fn files(f: &[&str]) -> Vec<String> {
        f.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn star_stays_in_dir_and_double_star_crosses() {
        let all = files(&["dist/a.tgz", "dist/sub/b.tgz", "c.tgz"]);
        assert_eq!(
            pats(&["dist/*.tgz"]).select(&all).expect("ok"),
            files(&["dist/a.tgz"])
        );
        assert_eq!(
            pats(&["dist/**/*.tgz"]).select(&all).expect("ok"),
            files(&["dist/a.tgz", "dist/sub/b.tgz"])
        );
        assert_eq!(pats(&["**/*.tgz"]).select(&all).expect("ok").len(), 3);
    }

    #[test]
    fn exclusions_apply_after_includes() {
        let all = files(&["dist/a.zip", "dist/a-debug.zip"]);
        assert_eq!(
            pats(&["dist/*.zip", "!dist/*-debug.zip"])
                .select(&all)
                .expect("ok"),
            files(&["dist/a.zip"])
        );
    }

    #[test]
    fn unmatched_pattern_is_named() {
        let e = pats(&["dist/*.zip", "missing/*.tgz"])
            .select(&files(&["dist/a.zip"]))
            .expect_err("unmatched");
        assert_eq!(
            e,
            SelectError::Unmatched {
                pattern: "missing/*.tgz".into(),
                literal: false
            }
        );
    }

    #[test]
    fn roots_are_literal_prefixes_without_nesting() {
        assert_eq!(
            pats(&["dist/*.zip", "dist/x/**", "out/a"]).walk_roots(),
            vec!["dist", "out"]
        );
        assert_eq!(pats(&["*.zip", "dist/*"]).walk_roots(), vec![""]);
    }

    #[test]
    fn absolute_inside_workspace_ok_dotdot_refused() {
        assert_eq!(pats(&["/ws/dist/*.zip"]).walk_roots(), vec!["dist"]);
        assert_eq!(pats(&["./x"]).walk_roots(), vec![""]);
        assert!(SubjectPatterns::compile(&["../etc/passwd".into()], "/ws").is_err());
        assert!(SubjectPatterns::compile(&["/etc/passwd".into()], "/ws").is_err());
    }

    #[test]
    fn same_name_same_digest_merges_different_digest_fails() {
        let s = |n: &str, d: &str| Subject {
            name: n.into(),
            sha256: d.into(),
        };
        let ok =
            merge_subjects([(s("a", "1"), "x/a".into()), (s("a", "1"), "y/a".into())]).expect("ok");
        assert_eq!(ok.len(), 1);
        let e = merge_subjects([(s("a", "1"), "x/a".into()), (s("a", "2"), "y/a".into())])
            .expect_err("collision");
        assert!(e.contains("x/a") && e.contains("y/a"), "{e}");
    }

    #[test]
    fn name_is_basename() {
        assert_eq!(subject_name("dist/sub/a.tgz"), "a.tgz");
        assert_eq!(subject_name("a.tgz"), "a.tgz");
    }
}
