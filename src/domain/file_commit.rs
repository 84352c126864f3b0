//! Putting a set of whole files on a branch in one commit: which of them the commit must carry,
//! and the name of the side branch a protected branch's pull request comes from.
//!
//! Pure: the files the branch head holds come in as bytes; what "the same" means for a file is
//! the caller's rule (`same`), so a generated file can ignore its own generation time. This
//! module knows nothing of manifests, the audit chain or GitHub.

use super::audit_record::FileWrite;

/// What one attempt must do with the branch head's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Every file is the same as the branch holds it: no commit.
    Unchanged,
    /// Commit these files (indexes into the wanted list), in their order; the others are
    /// already the same at the head and stay as they are in its tree.
    Commit(Vec<usize>),
}

/// Compare each wanted file with the head's copy (`None`: the head has no such file).
/// `at_head[i]` is the head's copy of `wanted[i]`.
pub fn plan(
    wanted: &[FileWrite],
    at_head: &[Option<Vec<u8>>],
    same: impl Fn(&str, &[u8], &[u8]) -> bool,
) -> Plan {
    let changed: Vec<usize> = wanted
        .iter()
        .enumerate()
        .filter(|(i, w)| match at_head.get(*i).and_then(Option::as_ref) {
            Some(theirs) => !same(&w.path, &w.bytes, theirs),
            None => true,
        })
        .map(|(i, _)| i)
        .collect();
    if changed.is_empty() {
        Plan::Unchanged
    } else {
        Plan::Commit(changed)
    }
}

/// The side branch of a commit a protected branch refused: `<prefix>-<first 7 of the commit>`,
/// so a re-run (a new commit) never moves the branch of a pull request already open.
pub fn side_branch(prefix: &str, commit: &str) -> String {
    let short: String = commit.chars().take(7).collect();
    format!("{prefix}-{short}")
}

/// Byte-identical: the rule for a file with nothing volatile in it.
pub fn byte_identical(_path: &str, ours: &[u8], theirs: &[u8]) -> bool {
    ours == theirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(path: &str, bytes: &str) -> FileWrite {
        FileWrite {
            path: path.into(),
            bytes: bytes.as_bytes().to_vec(),
        }
    }

    #[test]
    fn identical_files_plan_no_commit() {
        let wanted = [w("a.md", "x"), w("b.json", "{}")];
        let head = [Some(b"x".to_vec()), Some(b"{}".to_vec())];
        assert_eq!(plan(&wanted, &head, byte_identical), Plan::Unchanged);
    }

    #[test]
    fn a_new_or_different_file_is_committed_and_only_it() {
        let wanted = [w("a.md", "x"), w("b.json", "{}"), w("c.svg", "<svg/>")];
        let head = [Some(b"x".to_vec()), Some(b"{\"old\":1}".to_vec()), None];
        assert_eq!(
            plan(&wanted, &head, byte_identical),
            Plan::Commit(vec![1, 2])
        );
        // A missing head list counts as "no such file".
        assert_eq!(
            plan(&wanted, &[], byte_identical),
            Plan::Commit(vec![0, 1, 2])
        );
    }

    #[test]
    fn the_callers_rule_decides_what_is_the_same() {
        let wanted = [w("a.md", "Generated 10:00\nbody")];
        let head = [Some(b"Generated 09:00\nbody".to_vec())];
        let ignore_first_line = |_: &str, a: &[u8], b: &[u8]| {
            let rest = |x: &[u8]| x.splitn(2, |c| *c == b'\n').nth(1).map(<[u8]>::to_vec);
            rest(a) == rest(b)
        };
        assert_eq!(plan(&wanted, &head, ignore_first_line), Plan::Unchanged);
        assert_eq!(plan(&wanted, &head, byte_identical), Plan::Commit(vec![0]));
    }

    #[test]
    fn side_branch_carries_the_short_commit() {
        assert_eq!(
            side_branch("slsa-report/42", "0123456789abcdef"),
            "slsa-report/42-0123456"
        );
    }
}
