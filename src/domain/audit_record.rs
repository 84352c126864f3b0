//! What one run adds to the audit trail, and how it becomes the files of one atomic commit.
//!
//! An [`AuditRecord`] is a run's entry plus the files it points at (relative to the day folder)
//! and its SHA-256 log lines. [`build_writes`] takes the records and the day files as they are
//! at the branch head ([`DayState`]) and returns every file of the commit: the run files, the
//! merged logs and the merged, re-sealed, schema-checked manifests. Because the manifest and
//! the files it names are produced together, a commit never holds a manifest pointing at a
//! file that is not in it.
//!
//! Also here: the queue file a run writes when Git refuses it (`queued-manifest.json`), the
//! reading of a ref-update refusal, and the compare-and-swap backoff.
//!
//! Pure.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::audit_chain;
use super::manifest::{self, DayLink, Manifest, ManifestEntry, RunStatus};
use super::manifest_schema;

pub const QUEUE_VERSION: u32 = 1;

/// Bytes that travel as base64 in the queue file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map(Bytes)
            .map_err(serde::de::Error::custom)
    }
}

/// A `sha256sum` log line: `<sha256>  <path>` (path relative to the day folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub sha256: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Repository-relative, `/`-separated (`docs/reports`).
    pub reports_dir: String,
    /// `YYYY-MM-DD`, the day folder.
    pub date: String,
    pub entry: ManifestEntry,
    /// The run's files, relative to the day folder (`provenance_run_1/provenance.json`).
    #[serde(default)]
    pub files: BTreeMap<String, Bytes>,
    #[serde(default)]
    pub log_lines: Vec<LogLine>,
}

impl AuditRecord {
    pub fn day_dir(&self) -> String {
        format!("{}/{}", self.reports_dir.trim_end_matches('/'), self.date)
    }

    fn key(&self) -> (String, String, u64) {
        (self.day_dir(), self.entry.tag.clone(), self.entry.run_id)
    }
}

/// One day folder's audit files at the base we merge onto.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayState {
    pub manifest: Option<String>,
    pub log: Option<String>,
    /// The newest earlier day's date and head, for a day file that does not exist yet.
    pub previous: Option<DayLink>,
}

/// A file of the commit, repository-relative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// `a/b/c`: relative, no `.`/`..`/empty segments, no backslashes. Queue files come from
/// artifacts, so their paths are checked before they are written anywhere.
pub fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Every day folder the records touch.
pub fn day_dirs(records: &[AuditRecord]) -> Vec<String> {
    let mut dirs: Vec<String> = records.iter().map(AuditRecord::day_dir).collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Render a manifest after checking it against the published schema.
pub fn render_checked(m: &Manifest) -> Result<String, String> {
    let text = m.render();
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("rendered manifest is not JSON: {e}"))?;
    manifest_schema::validate(&value)
        .map_err(|e| format!("the manifest would not match its schema: {}", e.join("; ")))?;
    Ok(text)
}

/// Merge one day's records into its files: `(manifest text, log text)`.
pub fn merge_day(
    state: &DayState,
    records: &[&AuditRecord],
    label: &str,
) -> Result<(String, String), String> {
    let current = match &state.manifest {
        Some(text) => Manifest::parse(text)
            .map_err(|e| format!("{label}/manifest.json cannot be read ({e})"))?,
        None => Manifest::default(),
    };
    audit_chain::check_before_write(&current).map_err(|e| {
        format!("{label}/manifest.json fails its hash chain ({e}); refusing to re-seal it")
    })?;
    let mut log = state.log.clone().unwrap_or_default();
    let mut merged = current;
    for r in records {
        merged = manifest::merge(merged, r.entry.clone());
        for l in &r.log_lines {
            log = manifest::upsert_sha256_line(&log, &l.sha256, &l.path);
        }
    }
    let previous = if state.manifest.is_none() {
        state.previous.clone()
    } else {
        None
    };
    let sealed = audit_chain::seal(merged, previous);
    Ok((render_checked(&sealed)?, log))
}

/// Every file of the commit for `records` on top of `states` (keyed by day folder).
pub fn build_writes(
    records: &[AuditRecord],
    states: &BTreeMap<String, DayState>,
) -> Result<Vec<FileWrite>, String> {
    let mut writes = Vec::new();
    for r in records {
        if !safe_relative(&r.reports_dir) || !is_date(&r.date) {
            return Err(format!(
                "record for {} run {} has an unsafe folder {:?}/{:?}",
                r.entry.tag, r.entry.run_id, r.reports_dir, r.date
            ));
        }
        for (rel, bytes) in &r.files {
            if !safe_relative(rel) || rel == "manifest.json" || rel == "PROVENANCE_SHA256.txt" {
                return Err(format!("record file path {rel:?} is not allowed"));
            }
            writes.push(FileWrite {
                path: format!("{}/{rel}", r.day_dir()),
                bytes: bytes.0.clone(),
            });
        }
    }
    for dir in day_dirs(records) {
        let day: Vec<&AuditRecord> = records.iter().filter(|r| r.day_dir() == dir).collect();
        let empty = DayState::default();
        let state = states.get(&dir).unwrap_or(&empty);
        let (manifest_text, log) = merge_day(state, &day, &dir)?;
        if day.iter().any(|r| !r.log_lines.is_empty()) || state.log.is_some() {
            writes.push(FileWrite {
                path: format!("{dir}/PROVENANCE_SHA256.txt"),
                bytes: log.into_bytes(),
            });
        }
        writes.push(FileWrite {
            path: format!("{dir}/manifest.json"),
            bytes: manifest_text.into_bytes(),
        });
    }
    Ok(writes)
}

/// The commit message: tag, run id and status of the run, and the queued entries it drains.
pub fn commit_message(own: &AuditRecord, drained: &[AuditRecord]) -> String {
    let status: String = own.entry.status.clone().into();
    let mut msg = format!(
        "provenance: {} run {} {status}\n\nAudit trail of run {} (attempt {}) for {}.",
        own.entry.tag,
        own.entry.run_id,
        own.entry.run_id,
        own.entry.run_attempt.unwrap_or(1),
        own.entry.tag
    );
    if !drained.is_empty() {
        msg.push_str("\n\nAlso records queued entries:");
        for r in drained {
            let s: String = r.entry.status.clone().into();
            msg.push_str(&format!("\n- {} run {} {s}", r.entry.tag, r.entry.run_id));
        }
    }
    msg
}

/// `provenance/<tag>-<run_id>`, for the pull request when the branch is protected.
pub fn pr_branch(own: &AuditRecord) -> String {
    let tag: String = own
        .entry
        .tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("provenance/{tag}-{}", own.entry.run_id)
}

/// The queue file (`out/provenance/queued-manifest.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueFile {
    pub queue_version: u32,
    pub records: Vec<AuditRecord>,
}

impl QueueFile {
    pub fn parse(text: &str) -> Result<Self, String> {
        let q: QueueFile =
            serde_json::from_str(text).map_err(|e| format!("not a queued-manifest file: {e}"))?;
        if q.queue_version != QUEUE_VERSION {
            return Err(format!(
                "queue_version {} is not {QUEUE_VERSION}",
                q.queue_version
            ));
        }
        Ok(q)
    }

    pub fn render(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Add records to a queue: a record for the same day, tag and run replaces the older one.
pub fn enqueue(existing: Option<QueueFile>, records: &[AuditRecord]) -> QueueFile {
    let mut q = existing.unwrap_or(QueueFile {
        queue_version: QUEUE_VERSION,
        records: Vec::new(),
    });
    for r in records {
        q.records.retain(|old| old.key() != r.key());
        q.records.push(r.clone());
    }
    q
}

/// Why GitHub refused to move the branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefRefusal {
    /// The branch moved since we read it: re-read, re-merge, retry.
    NotFastForward,
    /// Branch protection or a ruleset: push to a side branch and open a pull request.
    Protected,
    /// The token may not write contents: queue.
    Forbidden,
    Other,
}

pub fn classify_ref_refusal(status: u16, message: &str) -> RefRefusal {
    let m = message.to_ascii_lowercase();
    if status == 422 && (m.contains("fast forward") || m.contains("fast-forward")) {
        RefRefusal::NotFastForward
    } else if m.contains("protected branch")
        || m.contains("rule violation")
        || m.contains("ruleset")
    {
        RefRefusal::Protected
    } else if status == 403 || status == 404 {
        // GitHub answers 404 instead of 403 to a token that cannot see a private repository.
        RefRefusal::Forbidden
    } else {
        RefRefusal::Other
    }
}

/// Wait before compare-and-swap attempt `attempt + 1`: exponential (capped at 16x) with the
/// jitter in `[0, 1)` spreading runs that lost the same race.
pub fn cas_backoff(base: Duration, attempt: u32, jitter: f64) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(4);
    base.mul_f64(f64::from(factor) * (0.5 + jitter.clamp(0.0, 1.0)))
}

/// The entry a rollback release records (seed 002 §4).
pub fn as_rollback(mut entry: ManifestEntry, rolled_back: &str) -> ManifestEntry {
    if entry.status == RunStatus::Success {
        entry.status = RunStatus::Rollback;
        entry.governance_flag = "rollback".into();
    }
    entry.rollback_of = Some(rolled_back.to_string());
    entry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit_chain::{verify_days, DayFile};
    use crate::domain::manifest::test_entry;

    fn record(tag: &str, run: u64, date: &str) -> AuditRecord {
        let mut files = BTreeMap::new();
        files.insert(
            format!("provenance_run_{run}/provenance.json"),
            Bytes(format!("{{\"run\":{run}}}").into_bytes()),
        );
        AuditRecord {
            reports_dir: "docs/reports".into(),
            date: date.into(),
            entry: test_entry(tag, run, RunStatus::Success),
            files,
            log_lines: vec![LogLine {
                sha256: "a".repeat(64),
                path: format!("provenance_run_{run}/provenance.json"),
            }],
        }
    }

    #[test]
    fn one_commit_holds_the_files_the_manifest_names() {
        let r = record("v1", 7, "2026-01-02");
        let w = build_writes(&[r], &BTreeMap::new()).expect("writes");
        let paths: Vec<_> = w.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "docs/reports/2026-01-02/provenance_run_7/provenance.json",
                "docs/reports/2026-01-02/PROVENANCE_SHA256.txt",
                "docs/reports/2026-01-02/manifest.json",
            ]
        );
        let m = String::from_utf8(w[2].bytes.clone()).expect("utf8");
        verify_days(&[DayFile {
            date: "2026-01-02".into(),
            label: "m".into(),
            text: m,
        }])
        .expect("sealed");
    }

    #[test]
    fn new_day_links_to_the_previous_day_and_existing_day_keeps_its_link() {
        let prev = DayLink {
            date: "2026-01-01".into(),
            head: "e".repeat(64),
        };
        let mut states = BTreeMap::new();
        states.insert(
            "docs/reports/2026-01-02".to_string(),
            DayState {
                previous: Some(prev.clone()),
                ..Default::default()
            },
        );
        let w = build_writes(&[record("v1", 1, "2026-01-02")], &states).expect("w");
        let m = Manifest::parse(std::str::from_utf8(&w[2].bytes).expect("u")).expect("m");
        assert_eq!(m.previous_day, Some(prev.clone()));
        assert_eq!(m.entries[0].prev_hash.as_deref(), Some(prev.head.as_str()));

        // The file exists now: a later run keeps the link it has, not a newer offer.
        states.insert(
            "docs/reports/2026-01-02".to_string(),
            DayState {
                manifest: Some(m.render()),
                log: None,
                previous: Some(DayLink {
                    date: "2026-01-01".into(),
                    head: "f".repeat(64),
                }),
            },
        );
        let w = build_writes(&[record("v1", 2, "2026-01-02")], &states).expect("w");
        let m2 = Manifest::parse(std::str::from_utf8(&w[2].bytes).expect("u")).expect("m");
        assert_eq!(m2.previous_day, Some(prev));
        assert_eq!(m2.entries.len(), 2);
    }

    #[test]
    fn legacy_v1_manifest_is_upgraded_and_chained_on_its_next_write() {
        let legacy = r#"{"schema_version":1,"entries":[{"run_id":1,"tag":"v0","sha":"s",
            "artifact_url":null,"actor":"a","timestamp":"t","status":"success",
            "governance_flag":"f","custom":"kept"}]}"#;
        let mut states = BTreeMap::new();
        states.insert(
            "docs/reports/2026-01-02".to_string(),
            DayState {
                manifest: Some(legacy.into()),
                ..Default::default()
            },
        );
        let w = build_writes(&[record("v1", 2, "2026-01-02")], &states).expect("w");
        let text = String::from_utf8(w[2].bytes.clone()).expect("utf8");
        let m = Manifest::parse(&text).expect("m");
        assert_eq!(m.schema_version, 2);
        assert_eq!(m.entries.len(), 2);
        assert_eq!(m.entries[0].extra["custom"], "kept");
        verify_days(&[DayFile {
            date: "2026-01-02".into(),
            label: "m".into(),
            text,
        }])
        .expect("chained now");
    }

    #[test]
    fn tampered_manifest_at_the_base_is_refused_not_resealed() {
        let w = build_writes(&[record("v1", 1, "2026-01-02")], &BTreeMap::new()).expect("w");
        let text = String::from_utf8(w[2].bytes.clone()).expect("utf8");
        let forged = text.replace("\"octocat\"", "\"mallory\"");
        assert_ne!(forged, text);
        let mut states = BTreeMap::new();
        states.insert(
            "docs/reports/2026-01-02".to_string(),
            DayState {
                manifest: Some(forged),
                ..Default::default()
            },
        );
        let e = build_writes(&[record("v1", 2, "2026-01-02")], &states).expect_err("tampered");
        assert!(e.contains("refusing to re-seal"), "{e}");
    }

    #[test]
    fn corrupt_manifest_at_the_base_is_refused_not_overwritten() {
        let mut states = BTreeMap::new();
        states.insert(
            "docs/reports/2026-01-02".to_string(),
            DayState {
                manifest: Some("{ not json".into()),
                ..Default::default()
            },
        );
        let e = build_writes(&[record("v1", 1, "2026-01-02")], &states).expect_err("corrupt");
        assert!(e.contains("cannot be read"), "{e}");
    }

    #[test]
    fn unsafe_paths_from_a_queue_file_are_refused() {
        let mut r = record("v1", 1, "2026-01-02");
        r.files
            .insert("../../.github/workflows/x.yml".into(), Bytes(vec![]));
        assert!(build_writes(&[r], &BTreeMap::new()).is_err());
        let mut r = record("v1", 1, "2026-01-02");
        r.date = "../x".into();
        assert!(build_writes(&[r], &BTreeMap::new()).is_err());
        let mut r = record("v1", 1, "2026-01-02");
        r.files.insert("manifest.json".into(), Bytes(vec![]));
        assert!(build_writes(&[r], &BTreeMap::new()).is_err());
    }

    #[test]
    fn queue_round_trips_and_replaces_the_same_run() {
        let q = enqueue(
            None,
            &[record("v1", 1, "2026-01-02"), record("v2", 2, "2026-01-02")],
        );
        let mut again = record("v1", 1, "2026-01-02");
        again.entry.status = RunStatus::Failure;
        let q = enqueue(Some(q), &[again]);
        let back = QueueFile::parse(&q.render()).expect("parse");
        assert_eq!(back, q);
        assert_eq!(back.records.len(), 2);
        assert_eq!(back.records[1].entry.status, RunStatus::Failure);
        assert!(QueueFile::parse("{\"queue_version\":9,\"records\":[]}").is_err());
    }

    #[test]
    fn ref_refusals_are_read() {
        assert_eq!(
            classify_ref_refusal(422, "Update is not a fast forward"),
            RefRefusal::NotFastForward
        );
        assert_eq!(
            classify_ref_refusal(422, "Protected branch update failed for refs/heads/main."),
            RefRefusal::Protected
        );
        assert_eq!(
            classify_ref_refusal(409, "Repository rule violations found"),
            RefRefusal::Protected
        );
        assert_eq!(
            classify_ref_refusal(403, "Resource not accessible by integration"),
            RefRefusal::Forbidden
        );
        assert_eq!(classify_ref_refusal(500, "boom"), RefRefusal::Other);
    }

    #[test]
    fn backoff_grows_then_caps_and_jitters() {
        let b = Duration::from_millis(100);
        assert_eq!(cas_backoff(b, 1, 0.5), Duration::from_millis(100));
        assert_eq!(cas_backoff(b, 3, 0.5), Duration::from_millis(400));
        assert_eq!(cas_backoff(b, 40, 0.5), Duration::from_millis(1600));
        assert!(cas_backoff(b, 1, 0.0) < cas_backoff(b, 1, 0.99));
    }

    #[test]
    fn rollback_entry_is_marked() {
        let e = as_rollback(test_entry("v1.0.1", 3, RunStatus::Success), "v1.0.2");
        assert_eq!(e.status, RunStatus::Rollback);
        assert_eq!(e.governance_flag, "rollback");
        assert_eq!(e.rollback_of.as_deref(), Some("v1.0.2"));
        let f = as_rollback(test_entry("v1.0.1", 3, RunStatus::Failure), "v1.0.2");
        assert_eq!(
            f.status,
            RunStatus::Failure,
            "a failed rollback stays a failure"
        );
    }

    #[test]
    fn message_names_tag_run_and_status() {
        let m = commit_message(
            &record("v1", 7, "2026-01-02"),
            &[record("v0", 3, "2026-01-01")],
        );
        assert!(m.starts_with("provenance: v1 run 7 success"), "{m}");
        assert!(m.contains("- v0 run 3 success"), "{m}");
        assert_eq!(
            pr_branch(&record("v1/rc 1", 7, "2026-01-02")),
            "provenance/v1-rc-1-7"
        );
    }
}
