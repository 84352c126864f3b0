//! Whole files on the audit branch in one commit (`CommitStore::put_files`): the report's
//! dashboard and badges, or any set of generated files that is simply replaced.
//!
//! Each attempt: read the branch head and the head's copy of every file, ask
//! `domain::file_commit::plan` (with the caller's rule for "the same") which files change, and
//! when none does, stop: no commit. Otherwise blobs for the changed files, a tree on the head's
//! tree, a commit whose parent is the head, and the branch moved with `force: false`, exactly as
//! the run record's loop in [`super::commit`]: a 422 "not a fast forward" is a lost race, so
//! re-read (the files may now be the same) and retry after a jittered backoff, up to
//! `attempts`; a protected branch gets the commit on a side branch and a pull request; anything
//! else is [`Stored::Refused`] for the caller to warn about. Nothing here merges: these files
//! are replaced whole (the audit trail's own files go through `store`/`update_entry`).
//!
//! Requests of an uncontended run: 1 ref + 1 commit + one tree per folder level + 1 blob read
//! per existing file (+ 1 for the default branch when the branch is not named); then, when
//! something changed, 1 blob per changed file + 1 tree + 1 commit + 1 ref update.

use std::collections::HashMap;

use super::commit::{CommitStore, Landed, Stored, WhenProtected};
use crate::adapters::github::git_data::TreeEntry;
use crate::adapters::github::{ApiError, ApiResult, GitHub};
use crate::domain::audit_record::{cas_backoff, FileWrite};
use crate::domain::file_commit::{self, Plan};

/// The caller's (domain) rule: is our copy of `path` the same as the head's?
pub type SameRule<'a> = &'a (dyn Fn(&str, &[u8], &[u8]) -> bool + Sync);

/// What to put on the branch, and how.
pub struct FileSet<'a> {
    /// Branch-relative `a/b/c` paths and their bytes.
    pub files: &'a [FileWrite],
    pub message: &'a str,
    /// A protected branch's pull request comes from `<side_prefix>-<short commit>`.
    pub side_prefix: &'a str,
    pub same: SameRule<'a>,
}

/// The outcome of [`CommitStore::put_files`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilesStored {
    /// Committed, a pull request opened, or refused (the caller warns).
    Stored(Stored),
    /// The branch already holds the same files: no commit.
    Unchanged { branch: String },
}

enum Attempt {
    Done(FilesStored),
    Raced,
}

/// One attempt's reading of the head: tree listings by tree sha.
struct Reader<'a, 'g> {
    gh: &'a GitHub<'g>,
    repository: &'a str,
    listings: HashMap<String, Vec<TreeEntry>>,
}

impl Reader<'_, '_> {
    async fn list(&mut self, tree: &str) -> ApiResult<&[TreeEntry]> {
        if !self.listings.contains_key(tree) {
            let l = self.gh.tree(self.repository, tree).await?;
            self.listings.insert(tree.to_string(), l);
        }
        Ok(self
            .listings
            .get(tree)
            .map(Vec::as_slice)
            .unwrap_or_default())
    }

    /// The bytes of `path` below `root`, if the head has such a file.
    async fn file(&mut self, root: &str, path: &str) -> ApiResult<Option<Vec<u8>>> {
        let (dirs, name) = path.rsplit_once('/').unwrap_or(("", path));
        let mut current = root.to_string();
        for segment in dirs.split('/').filter(|s| !s.is_empty()) {
            let next = self
                .list(&current)
                .await?
                .iter()
                .find(|e| e.path == segment && e.kind == "tree")
                .map(|e| e.sha.clone());
            match next {
                Some(sha) => current = sha,
                None => return Ok(None),
            }
        }
        let blob = self
            .list(&current)
            .await?
            .iter()
            .find(|e| e.path == name && e.kind == "blob")
            .map(|e| e.sha.clone());
        match blob {
            Some(sha) => self.gh.blob(self.repository, &sha).await.map(Some),
            None => Ok(None),
        }
    }
}

impl CommitStore<'_, '_> {
    /// Put `set.files` on the audit branch in one commit, or none when they are the same there.
    pub async fn put_files(&self, set: &FileSet<'_>) -> FilesStored {
        let branch = match self.branch {
            Some(b) => b.to_string(),
            None => match self.gh.default_branch(self.repository).await {
                Ok(b) => b,
                Err(e) => {
                    return FilesStored::Stored(Stored::Refused {
                        reason: format!("reading the default branch: {e}"),
                    })
                }
            },
        };
        let attempts = self.attempts.max(1);
        for attempt in 1..=attempts {
            match self.put_attempt(&branch, set, attempt).await {
                Ok(Attempt::Done(outcome)) => return outcome,
                Ok(Attempt::Raced) => {
                    if attempt < attempts {
                        let wait = cas_backoff(self.backoff_base, attempt, rand::random::<f64>());
                        (self.log)(&format!(
                            "commit: {branch} moved while we wrote (attempt {attempt}/{attempts}); re-reading in {}ms",
                            wait.as_millis()
                        ));
                        tokio::time::sleep(wait).await;
                    }
                }
                Err(reason) => return FilesStored::Stored(Stored::Refused { reason }),
            }
        }
        FilesStored::Stored(Stored::Refused {
            reason: format!("{branch} kept moving: no fast-forward after {attempts} attempts"),
        })
    }

    async fn put_attempt(
        &self,
        branch: &str,
        set: &FileSet<'_>,
        attempt: u32,
    ) -> Result<Attempt, String> {
        let api = |what: String| move |e: ApiError| format!("{what}: {e}");
        // 1. The head, its tree, and the head's copy of each file.
        let head = self
            .gh
            .branch_head(self.repository, branch)
            .await
            .map_err(api(format!("reading branch {branch}")))?;
        let root = self
            .gh
            .commit_tree(self.repository, &head)
            .await
            .map_err(api("reading the head commit".into()))?;
        let mut reader = Reader {
            gh: self.gh,
            repository: self.repository,
            listings: HashMap::new(),
        };
        let mut at_head = Vec::with_capacity(set.files.len());
        for f in set.files {
            at_head.push(
                reader
                    .file(&root, &f.path)
                    .await
                    .map_err(api(format!("reading {} at {head}", f.path)))?,
            );
        }
        // 2. Which files change (the domain's rule).
        let changed = match file_commit::plan(set.files, &at_head, set.same) {
            Plan::Unchanged => {
                return Ok(Attempt::Done(FilesStored::Unchanged {
                    branch: branch.to_string(),
                }))
            }
            Plan::Commit(changed) => changed,
        };
        // 3-5. The changed files' blobs, tree and commit; fast-forward, or a pull request.
        let files: Vec<&FileWrite> = changed.iter().filter_map(|i| set.files.get(*i)).collect();
        let side = |commit: &str| file_commit::side_branch(set.side_prefix, commit);
        let protected = WhenProtected::PullRequest {
            side: &side,
            waiting: "these files wait here. Merge to publish them.",
        };
        Ok(
            match self
                .write_commit(
                    branch,
                    &head,
                    &root,
                    &files,
                    set.message,
                    attempt,
                    protected,
                )
                .await?
            {
                Landed::Stored(stored) => Attempt::Done(FilesStored::Stored(stored)),
                Landed::Raced => Attempt::Raced,
            },
        )
    }
}
