//! The `commit` audit store: one atomic commit per run through the Git Database API.
//!
//! Each attempt: read the branch head, read the day files at that head, merge our records
//! (`domain::audit_record::build_writes`), create blobs, a tree on the head's tree, a commit
//! whose parent is the head, and move the branch with `force: false`. GitHub refuses a move
//! that is not a fast forward (422): someone else committed in between, so we start over from
//! the new head after a jittered backoff. Every such refusal means another run's commit landed
//! inside our attempt, so with N runs racing, N attempts are enough for each; the bound is
//! `SLSA_PROVENANCE_CAS_ATTEMPTS` (default 20).
//!
//! A protected branch (or ruleset) gets the same commit on `provenance/<tag>-<run_id>` and a
//! pull request (not an entry update that only counts on the branch itself,
//! `EntryChange::pull_request_when_protected == false`: that is refused). An entry update is
//! conditional (`EntryChange::update` may decline): it is re-applied to the entry re-read after
//! every lost race, and a decline commits nothing. Anything else (403, an API failure, retries exhausted, a manifest at the head
//! we cannot read) is returned as [`Stored::Refused`]: the caller queues the record.
//!
//! Requests of an uncontended run (the README quotes this): 1 ref + 1 commit + one tree per
//! folder level of the day folder + 1 blob read per existing day file + 1 blob per file written
//! + 1 tree + 1 commit + 1 ref update (+ 1 for the default branch when `audit-branch` is unset).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::adapters::github::git_data::TreeEntry;
use crate::adapters::github::{ApiResult, GitHub, Log};
use crate::domain::audit_chain;
use crate::domain::audit_chain::DayFile;
use crate::domain::audit_record::{
    self, build_writes, cas_backoff, classify_ref_refusal, is_date, AuditRecord, DayState,
    FileWrite, RefRefusal,
};
use crate::domain::entry_update::{self, Target, UpdateError};
use crate::domain::manifest::{DayLink, Manifest, ManifestEntry};

/// Test/tuning knob: how many compare-and-swap rounds before the record is queued.
pub const ENV_CAS_ATTEMPTS: &str = "SLSA_PROVENANCE_CAS_ATTEMPTS";
pub const DEFAULT_CAS_ATTEMPTS: u32 = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Committed {
        branch: String,
        commit: String,
        attempts: u32,
    },
    PullRequest {
        branch: String,
        commit: String,
        url: String,
    },
    Refused {
        reason: String,
    },
}

pub struct CommitStore<'a, 'g> {
    pub gh: &'a GitHub<'g>,
    pub repository: &'a str,
    /// `None`: the repository's default branch.
    pub branch: Option<&'a str>,
    pub attempts: u32,
    pub backoff_base: Duration,
    pub log: Log<'a>,
}

/// One attempt's reading of the head: tree listings by tree sha.
struct HeadReader<'a, 'g> {
    gh: &'a GitHub<'g>,
    repository: &'a str,
    listings: HashMap<String, Vec<TreeEntry>>,
}

impl HeadReader<'_, '_> {
    async fn list(&mut self, tree: &str) -> ApiResult<Vec<TreeEntry>> {
        if let Some(l) = self.listings.get(tree) {
            return Ok(l.clone());
        }
        let l = self.gh.tree(self.repository, tree).await?;
        self.listings.insert(tree.to_string(), l.clone());
        Ok(l)
    }

    /// The tree sha of folder `path` below `root`, if it exists.
    async fn folder(&mut self, root: &str, path: &str) -> ApiResult<Option<String>> {
        let mut current = root.to_string();
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            let listing = self.list(&current).await?;
            match listing
                .iter()
                .find(|e| e.path == segment && e.kind == "tree")
            {
                Some(e) => current = e.sha.clone(),
                None => return Ok(None),
            }
        }
        Ok(Some(current))
    }

    async fn file_in(&mut self, folder: &str, name: &str) -> ApiResult<Option<String>> {
        let listing = self.list(folder).await?;
        let Some(e) = listing.iter().find(|e| e.path == name && e.kind == "blob") else {
            return Ok(None);
        };
        let bytes = self.gh.blob(self.repository, &e.sha).await?;
        // Not UTF-8 is a file we cannot merge into: refuse (the record is queued), never
        // rewrite it from a lossy copy.
        String::from_utf8(bytes).map(Some).map_err(|_| {
            crate::adapters::github::ApiError::BadAnswer(format!(
                "{name} at the branch head is not UTF-8 text; refusing to overwrite it"
            ))
        })
    }

    /// The day folder's files, and for a day without a manifest, the previous day's link.
    async fn day_state(&mut self, root: &str, day_dir: &str) -> ApiResult<DayState> {
        let mut state = DayState::default();
        if let Some(day) = self.folder(root, day_dir).await? {
            state.manifest = self.file_in(&day, "manifest.json").await?;
            state.log = self.file_in(&day, "PROVENANCE_SHA256.txt").await?;
        }
        if state.manifest.is_none() {
            let (reports_dir, date) = day_dir.rsplit_once('/').unwrap_or(("", day_dir));
            if let Some(reports) = self.folder(root, reports_dir).await? {
                let listing = self.list(&reports).await?;
                let previous = listing
                    .iter()
                    .filter(|e| e.kind == "tree" && is_date(&e.path) && e.path.as_str() < date)
                    .max_by(|a, b| a.path.cmp(&b.path))
                    .cloned();
                if let Some(prev) = previous {
                    if let Some(text) = self.file_in(&prev.sha, "manifest.json").await? {
                        state.previous = Manifest::parse(&text)
                            .ok()
                            .filter(|m| m.schema_version >= 2)
                            .map(|m| DayLink {
                                head: audit_chain::head(&m),
                                date: prev.path.clone(),
                            });
                    }
                }
            }
        }
        Ok(state)
    }
}

impl HeadReader<'_, '_> {
    /// Every day's manifest under `reports_dir` at the head (for an entry update).
    async fn day_files(&mut self, root: &str, reports_dir: &str) -> ApiResult<Vec<DayFile>> {
        let Some(reports) = self.folder(root, reports_dir).await? else {
            return Ok(Vec::new());
        };
        let listing = self.list(&reports).await?;
        let mut days = Vec::new();
        for day in listing
            .iter()
            .filter(|e| e.kind == "tree" && is_date(&e.path))
        {
            if let Some(text) = self.file_in(&day.sha, "manifest.json").await? {
                days.push(DayFile {
                    date: day.path.clone(),
                    label: format!("{reports_dir}/{}/manifest.json", day.path),
                    text,
                });
            }
        }
        Ok(days)
    }
}

/// What one compare-and-swap commits.
enum Change<'a> {
    /// A run's record (and the drained queue).
    Records {
        own: &'a AuditRecord,
        records: &'a [AuditRecord],
        message: &'a str,
    },
    /// An update of an existing entry (`domain::entry_update`).
    Update(&'a EntryChange<'a>),
}

/// A conditional update of one entry (`domain::entry_update::update_entry_if`): the entry and
/// every entry of the trail as read at the head; `Err(reason)` declines (nothing committed).
pub type Decide<'a> =
    dyn Fn(&mut ManifestEntry, &[ManifestEntry]) -> Result<(), String> + Sync + 'a;

/// An update of run `target`'s entry by mode `what`, under `reports_dir` on the branch.
pub struct EntryChange<'a> {
    pub reports_dir: &'a str,
    pub target: &'a Target,
    pub what: &'a str,
    /// Re-applied to the entry as re-read after every lost race.
    pub update: &'a Decide<'a>,
    /// A protected branch gets the update on a side branch with a pull request (`true`), or
    /// refuses it (`false`: an update that only counts on the branch itself, e.g. recover's
    /// claim, which no other run would see in a pull request).
    pub pull_request_when_protected: bool,
}

/// The outcome of an entry update in the `commit` store.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryStored {
    /// Committed (or a pull request opened): the entry as written.
    Stored(Stored, Box<ManifestEntry>),
    /// Not committed (403, API failure, retries exhausted): the caller warns.
    Refused(String),
    /// The update changed nothing: no commit.
    Unchanged,
    /// The trail at the branch head fails its check, holds no such entry, or the conditional
    /// update declined on the entry as read at the head: nothing written.
    NotApplied(UpdateError),
}

enum Attempt {
    Done(Stored),
    Raced,
    NotApplied(UpdateError),
    Unchanged,
}

impl CommitStore<'_, '_> {
    /// Commit `own` (and the queued `drained` records) to the audit branch.
    pub async fn store(&self, own: &AuditRecord, drained: &[AuditRecord]) -> Stored {
        let branch = match self.branch {
            Some(b) => b.to_string(),
            None => match self.gh.default_branch(self.repository).await {
                Ok(b) => b,
                Err(e) => {
                    return Stored::Refused {
                        reason: format!("reading the default branch: {e}"),
                    }
                }
            },
        };
        let mut records: Vec<AuditRecord> = drained.to_vec();
        records.push(own.clone());
        let message = audit_record::commit_message(own, drained);
        let change = Change::Records {
            own,
            records: &records,
            message: &message,
        };
        match self.cas(&branch, &change).await {
            (Attempt::Done(stored), _) => stored,
            (Attempt::Raced, _) => Stored::Refused {
                reason: format!(
                    "{branch} kept moving: no fast-forward after {} attempts",
                    self.attempts
                ),
            },
            // A record always applies (there is no update to miss).
            (Attempt::NotApplied(e), _) => Stored::Refused {
                reason: e.to_string(),
            },
            (Attempt::Unchanged, _) => Stored::Refused {
                reason: "nothing to commit".into(),
            },
        }
    }

    /// Update an existing entry on the audit branch by the same compare-and-swap.
    pub async fn update_entry(&self, change: &EntryChange<'_>) -> EntryStored {
        let branch = match self.branch {
            Some(b) => b.to_string(),
            None => match self.gh.default_branch(self.repository).await {
                Ok(b) => b,
                Err(e) => return EntryStored::Refused(format!("reading the default branch: {e}")),
            },
        };
        match self.cas(&branch, &Change::Update(change)).await {
            (Attempt::Done(Stored::Refused { reason }), _) => EntryStored::Refused(reason),
            (Attempt::Done(stored), Some(entry)) => EntryStored::Stored(stored, Box::new(entry)),
            (Attempt::Done(_), None) => {
                EntryStored::Refused("the update's entry was not kept".into())
            }
            (Attempt::Raced, _) => EntryStored::Refused(format!(
                "{branch} kept moving: no fast-forward after {} attempts",
                self.attempts
            )),
            (Attempt::NotApplied(e), _) => EntryStored::NotApplied(e),
            (Attempt::Unchanged, _) => EntryStored::Unchanged,
        }
    }

    /// The compare-and-swap loop: attempts until one is not a lost race (or the bound).
    /// Returns the last attempt and, for an update, the entry as written.
    async fn cas(&self, branch: &str, change: &Change<'_>) -> (Attempt, Option<ManifestEntry>) {
        let mut entry = None;
        for attempt in 1..=self.attempts.max(1) {
            match self.attempt(branch, change, attempt, &mut entry).await {
                Ok(Attempt::Raced) => {
                    if attempt < self.attempts {
                        let wait = cas_backoff(self.backoff_base, attempt, rand::random::<f64>());
                        (self.log)(&format!(
                            "audit commit: {branch} moved while we wrote (attempt {attempt}/{}); re-reading and merging again in {}ms",
                            self.attempts,
                            wait.as_millis()
                        ));
                        tokio::time::sleep(wait).await;
                    }
                }
                Ok(other) => return (other, entry),
                Err(reason) => return (Attempt::Done(Stored::Refused { reason }), None),
            }
        }
        (Attempt::Raced, entry)
    }

    async fn attempt(
        &self,
        branch: &str,
        change: &Change<'_>,
        attempt: u32,
        updated: &mut Option<ManifestEntry>,
    ) -> Result<Attempt, String> {
        let api = |what: &str| {
            let what = what.to_string();
            move |e: crate::adapters::github::ApiError| format!("{what}: {e}")
        };
        // 1. The head and its tree.
        let head = self
            .gh
            .branch_head(self.repository, branch)
            .await
            .map_err(api(&format!("reading branch {branch}")))?;
        let root = self
            .gh
            .commit_tree(self.repository, &head)
            .await
            .map_err(api("reading the head commit"))?;
        // 2. The day files at the head, merged with our records.
        let mut reader = HeadReader {
            gh: self.gh,
            repository: self.repository,
            listings: HashMap::new(),
        };
        let (writes, message, side) = match change {
            Change::Records {
                own,
                records,
                message,
            } => {
                let mut states = BTreeMap::new();
                for dir in audit_record::day_dirs(records) {
                    let state = reader
                        .day_state(&root, &dir)
                        .await
                        .map_err(api(&format!("reading {dir} at {head}")))?;
                    states.insert(dir, state);
                }
                let side = audit_record::pr_branch(own);
                (build_writes(records, &states)?, message.to_string(), side)
            }
            Change::Update(c) => {
                let days = reader
                    .day_files(&root, c.reports_dir)
                    .await
                    .map_err(api(&format!("reading {} at {head}", c.reports_dir)))?;
                let up = match entry_update::update_entry_if(&days, c.target, |e, all| {
                    (c.update)(e, all)
                }) {
                    Ok(up) => up,
                    Err(e) => return Ok(Attempt::NotApplied(e)),
                };
                if up.writes.is_empty() {
                    return Ok(Attempt::Unchanged);
                }
                let writes: Vec<audit_record::FileWrite> = up
                    .writes
                    .iter()
                    .map(|w| audit_record::FileWrite {
                        path: format!("{}/{}/manifest.json", c.reports_dir, w.date),
                        bytes: w.text.clone().into_bytes(),
                    })
                    .collect();
                let message = entry_update::commit_message(c.what, &up.entry);
                *updated = Some(up.entry.clone());
                // The side branch is named after the commit, known below.
                (writes, message, String::new())
            }
        };
        let message = message.as_str();
        // 3-5. Blobs, tree, commit; fast-forward, or the side branch and its pull request.
        let side_of = |commit: &str| match change {
            Change::Records { .. } => side.clone(),
            Change::Update(c) => {
                let e = updated.as_ref();
                entry_update::pr_branch(
                    e.map_or("", |e| e.tag.as_str()),
                    e.map_or(0, |e| e.run_id),
                    c.what,
                    commit,
                )
            }
        };
        let protected = match change {
            Change::Update(c) if !c.pull_request_when_protected => WhenProtected::Refuse,
            _ => WhenProtected::PullRequest {
                side: &side_of,
                waiting: "this run's audit files wait here. Merge to record them.",
            },
        };
        let files: Vec<&FileWrite> = writes.iter().collect();
        Ok(
            match self
                .write_commit(branch, &head, &root, &files, message, attempt, protected)
                .await?
            {
                Landed::Stored(stored) => Attempt::Done(stored),
                Landed::Raced => Attempt::Raced,
            },
        )
    }

    /// Steps 3 to 5 of every store commit: the blobs of `files`, their tree on `root` (the
    /// tree of `head`) and the commit, then a fast-forward of `branch`. A lost race is
    /// [`Landed::Raced`]; a protected branch is handled per `protected`; any other refusal is
    /// the error.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn write_commit(
        &self,
        branch: &str,
        head: &str,
        root: &str,
        files: &[&FileWrite],
        message: &str,
        attempt: u32,
        protected: WhenProtected<'_>,
    ) -> Result<Landed, String> {
        let api = |what: &str| {
            let what = what.to_string();
            move |e: crate::adapters::github::ApiError| format!("{what}: {e}")
        };
        // 3. Blobs, tree, commit.
        let mut entries = Vec::with_capacity(files.len());
        for w in files {
            let sha = self
                .gh
                .create_blob(self.repository, &w.bytes)
                .await
                .map_err(api(&format!("creating the blob of {}", w.path)))?;
            entries.push((w.path.clone(), sha));
        }
        let tree = self
            .gh
            .create_tree(self.repository, root, &entries)
            .await
            .map_err(api("creating the tree"))?;
        let commit = self
            .gh
            .create_commit(self.repository, message, &tree, head)
            .await
            .map_err(api("creating the commit"))?;
        // 4. Fast-forward the branch, or read why not.
        let refused = match self
            .gh
            .fast_forward(self.repository, branch, &commit)
            .await
            .map_err(api(&format!("updating {branch}")))?
        {
            Ok(()) => {
                return Ok(Landed::Stored(Stored::Committed {
                    branch: branch.to_string(),
                    commit,
                    attempts: attempt,
                }))
            }
            Err(r) => r,
        };
        match (
            classify_ref_refusal(refused.status, &refused.message),
            protected,
        ) {
            (RefRefusal::NotFastForward, _) => Ok(Landed::Raced),
            (RefRefusal::Protected, WhenProtected::Refuse) => Err(format!(
                "{branch} is protected and this update only counts on {branch} itself: HTTP {}: {}",
                refused.status, refused.message
            )),
            // 5. A protected branch: the same commit on a side branch, and a pull request.
            (RefRefusal::Protected, WhenProtected::PullRequest { side, waiting }) => {
                let side = side(&commit);
                self.gh
                    .create_branch(self.repository, &side, &commit)
                    .await
                    .map_err(api(&format!(
                        "{branch} is protected ({}); creating {side}",
                        refused.message
                    )))?;
                let title = message.lines().next().unwrap_or(message);
                let body = format!(
                    "{message}\n\n{branch} does not accept direct commits ({}), so {waiting}",
                    refused.message
                );
                let url = self
                    .gh
                    .open_pull_request(self.repository, &side, branch, title, &body)
                    .await
                    .map_err(api(&format!("opening a pull request from {side}")))?;
                Ok(Landed::Stored(Stored::PullRequest {
                    branch: side,
                    commit,
                    url,
                }))
            }
            (RefRefusal::Forbidden | RefRefusal::Other, _) => Err(format!(
                "GitHub refused to update {branch}: HTTP {}: {}",
                refused.status, refused.message
            )),
        }
    }
}

/// How a protected branch takes a store commit.
pub(super) enum WhenProtected<'a> {
    /// The commit on a side branch (named from the commit's sha) with a pull request whose
    /// body ends with `waiting`.
    PullRequest {
        side: &'a (dyn Fn(&str) -> String + Sync),
        waiting: &'a str,
    },
    /// Not at all: an update that only counts on the branch itself.
    Refuse,
}

/// What writing one attempt's commit came to.
pub(super) enum Landed {
    Stored(Stored),
    Raced,
}
