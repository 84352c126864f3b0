//! The audit trail's per-day files: `manifest.json` and `PROVENANCE_SHA256.txt`.
//!
//! Merge policy (design seed 001, section 2.1): an entry's key is `tag` + `run_id`. A repeat of
//! the key (a re-run) updates `status`, `artifact_url`, `timestamp` and the run-derived fields
//! (attempt, provenance hash, bundle, failure reason, and the optional fields of the later
//! modes: a value the new entry sets wins, else the old one is kept; a bundle hash follows
//! its statement, so a new statement without a bundle clears it); it keeps `sha`, `actor` and the first
//! `release_url`, and appends to `governance_flag_history` when the flag changes (history is
//! never rewritten). A new key is added. Entries are sorted by tag (natural order: v1.10 after
//! v1.9), then run id. Fields this version does not know are kept verbatim.
//!
//! Versions: `schema_version: 2` adds the hash chain (`prev_hash`, `entry_hash`, the file's
//! `previous_day` link; see `domain::audit_chain`). A version 1 file is still read, and is
//! upgraded (chained) when it is next written. The published JSON Schema is
//! `schemas/manifest.schema.json` (`domain::manifest_schema`).
//!
//! Pure: parsing and rendering text. A file that does not parse is an error: the caller must
//! not overwrite what it cannot read.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const MANIFEST_SCHEMA_VERSION: u32 = 2;
/// The oldest version this action reads.
pub const MANIFEST_MIN_SCHEMA_VERSION: u32 = 1;

/// A run's status. The design seeds also use `blocked` (recovery failed again) and `rollback`;
/// a status this version does not know is kept verbatim rather than refused, so a manifest
/// written by a newer mode never makes this one fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum RunStatus {
    Success,
    Failure,
    Blocked,
    Rollback,
    Other(String),
}

impl From<String> for RunStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "success" => Self::Success,
            "failure" => Self::Failure,
            "blocked" => Self::Blocked,
            "rollback" => Self::Rollback,
            _ => Self::Other(s),
        }
    }
}

impl From<RunStatus> for String {
    fn from(s: RunStatus) -> Self {
        match s {
            RunStatus::Success => "success".into(),
            RunStatus::Failure => "failure".into(),
            RunStatus::Blocked => "blocked".into(),
            RunStatus::Rollback => "rollback".into(),
            RunStatus::Other(o) => o,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagChange {
    pub flag: String,
    pub timestamp: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub run_id: u64,
    pub tag: String,
    pub sha: String,
    pub artifact_url: Option<String>,
    pub actor: String,
    pub timestamp: String,
    pub status: RunStatus,
    pub governance_flag: String,
    #[serde(default)]
    pub governance_flag_history: Vec<FlagChange>,
    #[serde(default)]
    pub release_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_attempt: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subjects: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_identity: Option<String>,
    /// Wall time of the provenance run, start to manifest write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Set by `mode: validate`: `passed` | `failed` (| `unsigned` when allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validated_at: Option<String>,
    /// Set by `mode: notify` (seed 002 §2): the failure reached Slack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_slack: Option<bool>,
    /// 1 when the notify function answered `{"delivered": false}` (seed 002 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_retry: Option<u32>,
    /// The fallback issue opened for this run (dedupe key with the body marker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_number: Option<u64>,
    /// Validation failed and the run is queued for re-provenance (seed 002 §3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requeue: Option<bool>,
    /// Set by `mode: recover` while it acts, cleared after (seed 002 §3 guard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_in_progress: Option<bool>,
    /// The tag a rollback release rolls back (`status: rollback`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<String>,
    /// Chain (schema 2): the `entry_hash` of the entry before this one in the file, or the
    /// file's `previous_day.head` for the first entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    /// Chain (schema 2): SHA-256 over this entry's canonical JSON without this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_hash: Option<String>,
    /// Fields written by other tools or later versions: kept as they are.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A day file's link to the newest earlier day's file when it was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayLink {
    /// `YYYY-MM-DD`: the folder name of the previous day.
    pub date: String,
    /// That file's head: its last entry's `entry_hash`.
    pub head: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_day: Option<DayLink>,
    pub entries: Vec<ManifestEntry>,
}

impl Default for Manifest {
    fn default() -> Self {
        Self {
            schema_version: MANIFEST_SCHEMA_VERSION,
            previous_day: None,
            entries: Vec::new(),
        }
    }
}

impl Manifest {
    /// Parse an existing file. A bare JSON array of entries (an older shape) is accepted.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let m = if v.is_array() {
            Manifest {
                schema_version: MANIFEST_MIN_SCHEMA_VERSION,
                previous_day: None,
                entries: serde_json::from_value(v).map_err(|e| format!("bad entries: {e}"))?,
            }
        } else {
            serde_json::from_value(v).map_err(|e| format!("bad manifest: {e}"))?
        };
        if m.schema_version < MANIFEST_MIN_SCHEMA_VERSION {
            return Err(format!(
                "schema_version {} is not a version",
                m.schema_version
            ));
        }
        if m.schema_version > MANIFEST_SCHEMA_VERSION {
            return Err(format!(
                "schema_version {} is newer than this action understands ({MANIFEST_SCHEMA_VERSION})",
                m.schema_version
            ));
        }
        Ok(m)
    }

    pub fn render(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Merge one run's entry by the seed's policy and return the new manifest.
pub fn merge(mut manifest: Manifest, new: ManifestEntry) -> Manifest {
    match manifest
        .entries
        .iter_mut()
        .find(|e| e.tag == new.tag && e.run_id == new.run_id)
    {
        Some(e) => {
            e.status = new.status;
            e.artifact_url = new.artifact_url.or(e.artifact_url.take());
            e.timestamp = new.timestamp.clone();
            e.failure_reason = new.failure_reason;
            e.run_attempt = new.run_attempt.or(e.run_attempt);
            e.tag_source = new.tag_source.or(e.tag_source.take());
            // A bundle belongs to one statement: a run that wrote a new statement also says
            // whether a bundle signs it (an unsigned re-run clears the previous bundle's hash).
            if new.provenance_sha256.is_some() {
                e.bundle_sha256 = new.bundle_sha256;
                e.signer_identity = new.signer_identity;
            } else {
                e.bundle_sha256 = new.bundle_sha256.or(e.bundle_sha256.take());
                e.signer_identity = new.signer_identity.or(e.signer_identity.take());
            }
            e.provenance_path = new.provenance_path.or(e.provenance_path.take());
            e.provenance_sha256 = new.provenance_sha256.or(e.provenance_sha256.take());
            e.subjects = new.subjects.or(e.subjects);
            // The later modes' fields: a value the new run sets wins, else the old one stays.
            e.duration_ms = new.duration_ms.or(e.duration_ms);
            e.validation_status = new.validation_status.or(e.validation_status.take());
            e.validated_at = new.validated_at.or(e.validated_at.take());
            e.notify_slack = new.notify_slack.or(e.notify_slack);
            e.slack_retry = new.slack_retry.or(e.slack_retry);
            e.issue_number = new.issue_number.or(e.issue_number);
            e.requeue = new.requeue.or(e.requeue);
            e.rerun_in_progress = new.rerun_in_progress.or(e.rerun_in_progress);
            e.rollback_of = new.rollback_of.or(e.rollback_of.take());
            if e.release_url.is_none() {
                e.release_url = new.release_url;
            }
            if e.governance_flag != new.governance_flag {
                if e.governance_flag_history.is_empty() {
                    // An entry written by another tool: record the flag it had before ours.
                    e.governance_flag_history.push(FlagChange {
                        flag: e.governance_flag.clone(),
                        timestamp: String::new(),
                    });
                }
                e.governance_flag_history.push(FlagChange {
                    flag: new.governance_flag.clone(),
                    timestamp: new.timestamp,
                });
                e.governance_flag = new.governance_flag;
            }
        }
        None => {
            let mut new = new;
            if new.governance_flag_history.is_empty() {
                new.governance_flag_history.push(FlagChange {
                    flag: new.governance_flag.clone(),
                    timestamp: new.timestamp.clone(),
                });
            }
            manifest.entries.push(new);
        }
    }
    manifest
        .entries
        .sort_by(|a, b| natural_cmp(&a.tag, &b.tag).then(a.run_id.cmp(&b.run_id)));
    manifest
}

/// Compare strings with digit runs compared as numbers (`v1.9` < `v1.10`).
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (&a[..da], &b[..db]);
                let strip = |n: &[u8]| -> usize { n.iter().take_while(|c| **c == b'0').count() };
                let (ta, tb) = (&na[strip(na)..], &nb[strip(nb)..]);
                let ord = ta.len().cmp(&tb.len()).then(ta.cmp(tb)).then(da.cmp(&db));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

/// Put `<hex>  <path>` into a `sha256sum`-format log: replaces the line for the same path (a
/// re-run), appends otherwise. Other lines are kept byte for byte.
pub fn upsert_sha256_line(existing: &str, hex: &str, path: &str) -> String {
    let line = format!("{hex}  {path}");
    let mut out = Vec::new();
    let mut replaced = false;
    for l in existing.lines() {
        let same_path = l.len() > 66 && l.get(66..) == Some(path) && l.get(64..66) == Some("  ");
        if same_path {
            if !replaced {
                out.push(line.clone());
                replaced = true;
            }
        } else {
            out.push(l.to_string());
        }
    }
    if !replaced {
        out.push(line);
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// A plain entry for tests (here and in `audit_chain`).
#[cfg(test)]
pub(crate) fn test_entry(tag: &str, run_id: u64, status: RunStatus) -> ManifestEntry {
    ManifestEntry {
        run_id,
        tag: tag.into(),
        sha: "abc".into(),
        artifact_url: Some(format!("https://x/{run_id}")),
        actor: "octocat".into(),
        timestamp: "2026-01-01T00:00:00Z".into(),
        status,
        governance_flag: "provenance-ready".into(),
        governance_flag_history: vec![],
        release_url: None,
        failure_reason: None,
        run_attempt: Some(1),
        tag_source: None,
        provenance_path: None,
        provenance_sha256: None,
        subjects: Some(1),
        bundle_sha256: None,
        signer_identity: None,
        duration_ms: None,
        validation_status: None,
        validated_at: None,
        notify_slack: None,
        slack_retry: None,
        issue_number: None,
        requeue: None,
        rerun_in_progress: None,
        rollback_of: None,
        prev_hash: None,
        entry_hash: None,
        extra: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tag: &str, run_id: u64, status: RunStatus, flag: &str, ts: &str) -> ManifestEntry {
        ManifestEntry {
            artifact_url: Some(format!("https://x/{run_id}/{ts}")),
            timestamp: ts.into(),
            governance_flag: flag.into(),
            provenance_sha256: Some(ts.into()),
            ..test_entry(tag, run_id, status)
        }
    }

    #[test]
    fn new_keys_are_added_and_sorted_naturally() {
        let mut m = Manifest::default();
        for (t, r) in [("v1.10", 3), ("v1.9", 2), ("v1.9", 1)] {
            m = merge(m, entry(t, r, RunStatus::Success, "provenance-ready", "t"));
        }
        let keys: Vec<_> = m
            .entries
            .iter()
            .map(|e| (e.tag.as_str(), e.run_id))
            .collect();
        assert_eq!(keys, vec![("v1.9", 1), ("v1.9", 2), ("v1.10", 3)]);
    }

    #[test]
    fn repeat_updates_status_url_timestamp_and_keeps_flag_history() {
        let m = merge(
            Manifest::default(),
            entry("v1", 7, RunStatus::Failure, "provenance-missing", "t1"),
        );
        let mut again = entry("v1", 7, RunStatus::Success, "provenance-ready", "t2");
        again.actor = "someone-else".into();
        let m = merge(m, again);
        assert_eq!(m.entries.len(), 1);
        let e = &m.entries[0];
        assert_eq!(e.status, RunStatus::Success);
        assert_eq!(e.timestamp, "t2");
        assert_eq!(e.artifact_url.as_deref(), Some("https://x/7/t2"));
        assert_eq!(e.actor, "octocat", "actor of the first run is kept");
        let flags: Vec<_> = e
            .governance_flag_history
            .iter()
            .map(|f| f.flag.as_str())
            .collect();
        assert_eq!(flags, vec!["provenance-missing", "provenance-ready"]);
        assert_eq!(e.governance_flag, "provenance-ready");
    }

    #[test]
    fn rerun_updates_the_later_modes_fields_new_value_wins_else_kept() {
        // Regression: a re-run dropped nothing but never updated `duration_ms` & co either:
        // merge ignored every field added for the later modes.
        let mut first = entry("v1", 7, RunStatus::Success, "provenance-ready", "t1");
        first.duration_ms = Some(1200);
        first.validation_status = Some("failed".into());
        first.issue_number = Some(12);
        first.requeue = Some(true);
        let mut again = entry("v1", 7, RunStatus::Success, "provenance-ready", "t2");
        again.duration_ms = Some(900);
        again.validation_status = Some("passed".into());
        again.validated_at = Some("t3".into());
        again.requeue = Some(false);
        again.notify_slack = Some(true);
        again.slack_retry = Some(1);
        again.rerun_in_progress = Some(false);
        again.rollback_of = Some("v0".into());
        let m = merge(merge(Manifest::default(), first), again);
        let e = &m.entries[0];
        assert_eq!(e.duration_ms, Some(900));
        assert_eq!(e.validation_status.as_deref(), Some("passed"));
        assert_eq!(e.validated_at.as_deref(), Some("t3"));
        assert_eq!(e.issue_number, Some(12), "kept: the re-run did not set it");
        assert_eq!(e.requeue, Some(false));
        assert_eq!(e.notify_slack, Some(true));
        assert_eq!(e.slack_retry, Some(1));
        assert_eq!(e.rerun_in_progress, Some(false));
        assert_eq!(e.rollback_of.as_deref(), Some("v0"));
    }

    #[test]
    fn unsigned_rerun_clears_the_bundle_hash_of_the_replaced_statement() {
        // Regression: a `sign: none` re-run replaced the statement but kept attempt 1's
        // `bundle_sha256`, a bundle that does not sign the new statement.
        let mut signed = entry("v1", 7, RunStatus::Success, "provenance-ready", "t1");
        signed.bundle_sha256 = Some("b1".into());
        signed.signer_identity = Some("key abc".into());
        let unsigned = entry("v1", 7, RunStatus::Success, "provenance-ready", "t2");
        let m = merge(merge(Manifest::default(), signed.clone()), unsigned);
        assert_eq!(m.entries[0].provenance_sha256.as_deref(), Some("t2"));
        assert_eq!(m.entries[0].bundle_sha256, None);
        assert_eq!(m.entries[0].signer_identity, None);
        // A failure that wrote no statement keeps both.
        let mut failed = entry("v1", 7, RunStatus::Failure, "provenance-missing", "t3");
        failed.provenance_sha256 = None;
        let m = merge(merge(Manifest::default(), signed), failed);
        assert_eq!(m.entries[0].provenance_sha256.as_deref(), Some("t1"));
        assert_eq!(m.entries[0].bundle_sha256.as_deref(), Some("b1"));
    }

    #[test]
    fn unknown_fields_and_bare_arrays_survive() {
        let text = r#"[{"run_id":1,"tag":"v1","sha":"s","artifact_url":null,"actor":"a",
            "timestamp":"t","status":"success","governance_flag":"dispatch-token-expired",
            "release_url":"https://r","custom":{"k":1}}]"#;
        let m = Manifest::parse(text).expect("parse");
        let m = merge(
            m,
            entry("v2", 2, RunStatus::Success, "provenance-ready", "t"),
        );
        let out = m.render();
        let back = Manifest::parse(&out).expect("reparse");
        assert_eq!(back.entries[0].extra["custom"]["k"], 1);
        assert_eq!(back.entries[0].governance_flag, "dispatch-token-expired");
        assert_eq!(back.entries.len(), 2);
    }

    #[test]
    fn statuses_from_other_modes_survive_a_merge() {
        // Regression: a `blocked`/`rollback` entry (seed 002) must not make the manifest unreadable.
        let text = r#"{"schema_version":1,"entries":[
            {"run_id":1,"tag":"v1","sha":"s","artifact_url":null,"actor":"a","timestamp":"t",
             "status":"blocked","governance_flag":"f"},
            {"run_id":2,"tag":"v1","sha":"s","artifact_url":null,"actor":"a","timestamp":"t",
             "status":"queued-by-future-mode","governance_flag":"f"}]}"#;
        let m = Manifest::parse(text).expect("parse");
        assert_eq!(m.entries[0].status, RunStatus::Blocked);
        let out = merge(
            m,
            entry("v2", 3, RunStatus::Success, "provenance-ready", "t"),
        )
        .render();
        assert!(out.contains("\"blocked\"") && out.contains("\"queued-by-future-mode\""));
    }

    #[test]
    fn corrupt_or_future_manifest_is_refused() {
        assert!(Manifest::parse("{\"entries\": [").is_err());
        assert!(Manifest::parse("{\"schema_version\": 99, \"entries\": []}").is_err());
        assert!(Manifest::parse("{\"schema_version\": 0, \"entries\": []}").is_err());
        assert_eq!(Manifest::parse("").expect("empty"), Manifest::default());
    }

    #[test]
    fn sha_log_is_idempotent_per_path() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let s = upsert_sha256_line("", &a, "provenance_run_1/provenance.json");
        let s = upsert_sha256_line(&s, &a, "provenance_run_2/provenance.json");
        let s2 = upsert_sha256_line(&s, &b, "provenance_run_1/provenance.json");
        assert_eq!(
            s2,
            format!(
                "{b}  provenance_run_1/provenance.json\n{a}  provenance_run_2/provenance.json\n"
            )
        );
        assert_eq!(
            upsert_sha256_line(&s2, &b, "provenance_run_1/provenance.json"),
            s2
        );
    }

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("v1.9", "v1.10"), Ordering::Less);
        assert_eq!(natural_cmp("v2", "v10"), Ordering::Less);
        assert_eq!(natural_cmp("a", "b"), Ordering::Less);
        assert_eq!(natural_cmp("v1", "v1"), Ordering::Equal);
        assert_eq!(natural_cmp("v01", "v1"), Ordering::Greater);
    }
}
