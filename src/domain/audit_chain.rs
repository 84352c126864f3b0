//! Tamper evidence for the audit trail (seed 001 §2.5): a hash chain through every manifest
//! entry and across day files.
//!
//! - Each entry carries `prev_hash` and `entry_hash = SHA-256("slsa-manifest-entry/v2\n" ||
//!   canonical JSON of the entry without `entry_hash`)`. Canonical JSON: object keys sorted,
//!   no whitespace, so the hash does not depend on how a tool pretty-prints the file.
//! - The first entry of a day's file chains to that file's `previous_day.head` (the head of the
//!   newest earlier day's file when this one was created), or to [`GENESIS`].
//! - A writer re-seals the whole file after merging (the merge policy sorts entries, so an
//!   insert moves links); the chain therefore proves that nobody edited the file *outside* the
//!   action. A re-seal of a whole day by a forger is caught by the next day's link, and a forger
//!   of the newest day by the Git history and the Supabase `manifest_hash` column.
//!
//! Legacy: a `schema_version: 1` file (written before the chain existed) is accepted by writers
//! and gets its chain on the next write. [`verify_days`] reports such files as *unchained* and
//! accepts them only before the first chained day: a v1 file after a v2 file is a downgrade,
//! which is tampering.
//!
//! Pure: text in, verdicts out.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::manifest::{natural_cmp, DayLink, Manifest, ManifestEntry, MANIFEST_SCHEMA_VERSION};
use super::manifest_schema;

/// `prev_hash` of the very first entry of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const DOMAIN_TAG: &str = "slsa-manifest-entry/v2\n";

/// JSON with object keys sorted and no insignificant whitespace.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The hash an entry should carry: over everything it holds but `entry_hash` itself.
pub fn entry_hash(entry: &ManifestEntry) -> String {
    let mut v = serde_json::to_value(entry).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.remove("entry_hash");
    }
    let mut h = Sha256::new();
    h.update(DOMAIN_TAG.as_bytes());
    h.update(canonical_json(&v).as_bytes());
    hex::encode(h.finalize())
}

/// The hash the next entry (or the next day) links to: the last entry's, or the file's own
/// starting point when it has no entry.
pub fn head(manifest: &Manifest) -> String {
    manifest
        .entries
        .last()
        .and_then(|e| e.entry_hash.clone())
        .or_else(|| manifest.previous_day.as_ref().map(|l| l.head.clone()))
        .unwrap_or_else(|| GENESIS.to_string())
}

/// Bring a merged manifest to the current schema and (re)compute its chain.
/// `previous` links a file that has no link yet (a new day) to the previous day's head.
pub fn seal(mut manifest: Manifest, previous: Option<DayLink>) -> Manifest {
    manifest.schema_version = MANIFEST_SCHEMA_VERSION;
    if manifest.previous_day.is_none() {
        manifest.previous_day = previous;
    }
    let mut prev = manifest
        .previous_day
        .as_ref()
        .map(|l| l.head.clone())
        .unwrap_or_else(|| GENESIS.to_string());
    for e in &mut manifest.entries {
        e.prev_hash = Some(prev.clone());
        e.entry_hash = None;
        let h = entry_hash(e);
        e.entry_hash = Some(h.clone());
        prev = h;
    }
    manifest
}

/// One day's file, as read: its date (`YYYY-MM-DD`, the folder name), a label for messages
/// (its path), and its text.
#[derive(Debug, Clone)]
pub struct DayFile {
    pub date: String,
    pub label: String,
    pub text: String,
}

/// The first problem found: which file, which entry (`tag#run_id`, position), and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tamper {
    pub file: String,
    pub entry: Option<String>,
    pub problem: String,
}

impl std::fmt::Display for Tamper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.entry {
            Some(e) => write!(f, "{}: entry {e}: {}", self.file, self.problem),
            None => write!(f, "{}: {}", self.file, self.problem),
        }
    }
}

/// What a clean verification saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainReport {
    pub files: usize,
    pub entries: usize,
    /// Legacy `schema_version: 1` files (no chain), by label.
    pub unchained: Vec<String>,
}

fn entry_label(i: usize, e: &ManifestEntry) -> String {
    format!("#{} ({}, run {})", i + 1, e.tag, e.run_id)
}

/// Check every day's file and the links between them: schema, chain, order, duplicates.
/// Files are checked in date order whatever order they are given in.
pub fn verify_days(days: &[DayFile]) -> Result<ChainReport, Tamper> {
    let mut days: Vec<&DayFile> = days.iter().collect();
    days.sort_by(|a, b| a.date.cmp(&b.date));
    let mut report = ChainReport::default();
    // The newest earlier chained day: (date, head).
    let mut last_chained: Option<(String, String)> = None;
    let mut last_date: Option<&str> = None;
    for day in days {
        let fail = |entry: Option<String>, problem: String| Tamper {
            file: day.label.clone(),
            entry,
            problem,
        };
        if last_date == Some(day.date.as_str()) {
            return Err(fail(None, format!("a second file for {}", day.date)));
        }
        last_date = Some(&day.date);
        let value: Value =
            serde_json::from_str(&day.text).map_err(|e| fail(None, format!("not JSON: {e}")))?;
        if let Err(errors) = manifest_schema::validate(&value) {
            return Err(fail(
                None,
                format!("does not match the manifest schema: {}", errors.join("; ")),
            ));
        }
        let m = Manifest::parse(&day.text).map_err(|e| fail(None, e))?;
        report.files += 1;
        report.entries += m.entries.len();
        check_order(&m).map_err(|(i, p)| fail(Some(entry_label(i, &m.entries[i])), p))?;
        if m.schema_version < 2 {
            if let Some((date, _)) = &last_chained {
                return Err(fail(
                    None,
                    format!(
                        "schema_version {} (no chain) after the chained day {date}: a downgraded file",
                        m.schema_version
                    ),
                ));
            }
            report.unchained.push(day.label.clone());
            continue;
        }
        match (&m.previous_day, &last_chained) {
            (None, Some((date, _))) => {
                return Err(fail(
                    None,
                    format!("no previous_day link, but the chained day {date} precedes it"),
                ))
            }
            (Some(link), Some((date, head))) => {
                if &link.date != date {
                    return Err(fail(
                        None,
                        format!(
                            "previous_day names {}, but the previous day's file here is {date} (a day file was removed or added)",
                            link.date
                        ),
                    ));
                }
                if &link.head != head {
                    return Err(fail(
                        None,
                        format!("previous_day.head does not match the head of {date}'s file"),
                    ));
                }
            }
            (Some(link), None) => {
                if link.date.as_str() >= day.date.as_str() {
                    return Err(fail(
                        None,
                        format!("previous_day {} is not before {}", link.date, day.date),
                    ));
                }
            }
            (None, None) => {}
        }
        check_entries(&m).map_err(|(i, p)| fail(Some(entry_label(i, &m.entries[i])), p))?;
        last_chained = Some((day.date.clone(), head(&m)));
    }
    Ok(report)
}

/// Every entry links to the one before it (the first to `previous_day.head`) and its hash
/// matches its content.
fn check_entries(m: &Manifest) -> Result<(), (usize, String)> {
    let mut prev = m
        .previous_day
        .as_ref()
        .map(|l| l.head.clone())
        .unwrap_or_else(|| GENESIS.to_string());
    for (i, e) in m.entries.iter().enumerate() {
        let (Some(p), Some(h)) = (&e.prev_hash, &e.entry_hash) else {
            return Err((i, "has no prev_hash/entry_hash".into()));
        };
        if *p != prev {
            return Err((
                i,
                "prev_hash does not match the entry before it (an entry was removed, moved or inserted)"
                    .into(),
            ));
        }
        if entry_hash(e) != *h {
            return Err((
                i,
                "entry_hash does not match its content (the entry was edited)".into(),
            ));
        }
        prev = h.clone();
    }
    Ok(())
}

/// The check a writer runs on a day file before merging into it: a chained (v2) file must be
/// intact, or re-sealing it would launder an edit. A legacy v1 file has no chain to check.
pub fn check_before_write(m: &Manifest) -> Result<(), String> {
    if m.schema_version < 2 {
        return Ok(());
    }
    let at = |i: usize, p: String| format!("entry {}: {p}", entry_label(i, &m.entries[i]));
    check_order(m).map_err(|(i, p)| at(i, p))?;
    check_entries(m).map_err(|(i, p)| at(i, p))
}

/// Entries strictly increasing by (tag in natural order, run id): sorted and no duplicates.
fn check_order(m: &Manifest) -> Result<(), (usize, String)> {
    for (i, pair) in m.entries.windows(2).enumerate() {
        let (a, b) = (&pair[0], &pair[1]);
        match natural_cmp(&a.tag, &b.tag).then(a.run_id.cmp(&b.run_id)) {
            std::cmp::Ordering::Less => {}
            std::cmp::Ordering::Equal => {
                return Err((
                    i + 1,
                    "duplicates the entry before it (same tag and run id)".into(),
                ))
            }
            std::cmp::Ordering::Greater => {
                return Err((
                    i + 1,
                    "is out of order (entries are sorted by tag, then run id)".into(),
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::manifest::{merge, test_entry, RunStatus};

    fn day(entries: &[(&str, u64)], previous: Option<DayLink>) -> Manifest {
        let mut m = Manifest::default();
        for (tag, run) in entries {
            m = merge(m, test_entry(tag, *run, RunStatus::Success));
        }
        seal(m, previous)
    }

    fn file(date: &str, m: &Manifest) -> DayFile {
        DayFile {
            date: date.into(),
            label: format!("docs/reports/{date}/manifest.json"),
            text: m.render(),
        }
    }

    fn three_days() -> Vec<DayFile> {
        let d1 = day(&[("v1", 1), ("v1", 2)], None);
        let d2 = day(
            &[("v1", 3), ("v2", 4), ("v3", 5)],
            Some(DayLink {
                date: "2026-01-01".into(),
                head: head(&d1),
            }),
        );
        let d3 = day(
            &[("v4", 6)],
            Some(DayLink {
                date: "2026-01-02".into(),
                head: head(&d2),
            }),
        );
        vec![
            file("2026-01-01", &d1),
            file("2026-01-02", &d2),
            file("2026-01-03", &d3),
        ]
    }

    fn edit(files: &mut [DayFile], i: usize, f: impl FnOnce(&mut Value)) {
        let mut v: Value = serde_json::from_str(&files[i].text).expect("json");
        f(&mut v);
        files[i].text = serde_json::to_string_pretty(&v).expect("render");
    }

    #[test]
    fn sealed_days_verify() {
        let r = verify_days(&three_days()).expect("clean");
        assert_eq!((r.files, r.entries), (3, 6));
        assert!(r.unchained.is_empty());
    }

    #[test]
    fn canonical_json_ignores_key_order_and_whitespace() {
        let a: Value =
            serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2], "x": "s"}}"#).expect("a");
        let b: Value = serde_json::from_str(r#"{"a":{"x":"s","y":[1,2]},"b":1}"#).expect("b");
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&a), r#"{"a":{"x":"s","y":[1,2]},"b":1}"#);
    }

    #[test]
    fn edited_entry_is_named() {
        let mut f = three_days();
        edit(&mut f, 1, |v| v["entries"][1]["status"] = "failure".into());
        let t = verify_days(&f).expect_err("edit");
        assert_eq!(t.file, "docs/reports/2026-01-02/manifest.json");
        assert_eq!(t.entry.as_deref(), Some("#2 (v2, run 4)"));
        assert!(t.problem.contains("edited"), "{t}");
    }

    #[test]
    fn edited_unknown_field_is_detected_too() {
        let mut f = three_days();
        edit(&mut f, 0, |v| {
            v["entries"][0]["note"] = "added later".into()
        });
        let t = verify_days(&f).expect_err("edit");
        assert_eq!(t.entry.as_deref(), Some("#1 (v1, run 1)"));
    }

    #[test]
    fn deleted_entry_breaks_the_chain() {
        let mut f = three_days();
        edit(&mut f, 1, |v| {
            v["entries"].as_array_mut().expect("arr").remove(1);
        });
        let t = verify_days(&f).expect_err("delete");
        assert_eq!(t.entry.as_deref(), Some("#2 (v3, run 5)"));
        assert!(t.problem.contains("prev_hash"), "{t}");
    }

    #[test]
    fn deleting_the_last_entry_breaks_the_next_days_link() {
        let mut f = three_days();
        edit(&mut f, 1, |v| {
            v["entries"].as_array_mut().expect("arr").pop();
        });
        let t = verify_days(&f).expect_err("delete");
        assert_eq!(t.file, "docs/reports/2026-01-03/manifest.json");
        assert!(t.problem.contains("previous_day.head"), "{t}");
    }

    #[test]
    fn reordered_entries_are_detected() {
        let mut f = three_days();
        edit(&mut f, 1, |v| {
            v["entries"].as_array_mut().expect("arr").swap(0, 2)
        });
        let t = verify_days(&f).expect_err("reorder");
        assert!(t.problem.contains("out of order"), "{t}");
    }

    #[test]
    fn duplicated_entry_is_detected() {
        let mut f = three_days();
        edit(&mut f, 0, |v| {
            let first = v["entries"][0].clone();
            v["entries"].as_array_mut().expect("arr").insert(0, first);
        });
        let t = verify_days(&f).expect_err("dup");
        assert!(t.problem.contains("duplicates"), "{t}");
    }

    #[test]
    fn cross_day_splice_is_detected() {
        // An entry moved from day 1 into day 2, with day 2 otherwise untouched.
        let mut f = three_days();
        let moved: Value =
            serde_json::from_str::<Value>(&f[0].text).expect("j")["entries"][1].clone();
        edit(&mut f, 0, |v| {
            v["entries"].as_array_mut().expect("arr").pop();
        });
        edit(&mut f, 1, |v| {
            v["entries"].as_array_mut().expect("arr").insert(0, moved);
        });
        let t = verify_days(&f).expect_err("splice");
        assert_eq!(t.file, "docs/reports/2026-01-02/manifest.json");
    }

    #[test]
    fn resealed_forged_day_is_caught_by_the_next_day() {
        // A forger re-seals day 2 after changing an entry: day 2 is self-consistent, day 3 is not.
        let mut f = three_days();
        let mut m = Manifest::parse(&f[1].text).expect("parse");
        m.entries[0].actor = "mallory".into();
        f[1].text = seal(m, None).render();
        let t = verify_days(&f).expect_err("forged");
        assert_eq!(t.file, "docs/reports/2026-01-03/manifest.json");
    }

    #[test]
    fn removed_day_file_is_detected() {
        let mut f = three_days();
        f.remove(1);
        let t = verify_days(&f).expect_err("missing day");
        assert!(t.problem.contains("removed"), "{t}");
    }

    #[test]
    fn legacy_files_are_unchained_only_before_the_first_chained_day() {
        let legacy = r#"{"schema_version":1,"entries":[{"run_id":1,"tag":"v0","sha":"s",
            "artifact_url":null,"actor":"a","timestamp":"t","status":"success",
            "governance_flag":"f"}]}"#;
        let mut f = three_days();
        f.insert(
            0,
            DayFile {
                date: "2025-12-31".into(),
                label: "old".into(),
                text: legacy.into(),
            },
        );
        let r = verify_days(&f).expect("legacy prefix is fine");
        assert_eq!(r.unchained, vec!["old".to_string()]);

        let mut f = three_days();
        f[2].text = legacy.into();
        let t = verify_days(&f).expect_err("downgrade");
        assert!(t.problem.contains("downgraded"), "{t}");
    }

    #[test]
    fn writers_refuse_to_reseal_an_edited_file() {
        let mut f = three_days();
        edit(&mut f, 1, |v| v["entries"][0]["actor"] = "mallory".into());
        let m = Manifest::parse(&f[1].text).expect("parse");
        let e = check_before_write(&m).expect_err("edited");
        assert!(e.starts_with("entry #1 (v1, run 3)"), "{e}");
        let clean = Manifest::parse(&three_days()[1].text).expect("parse");
        check_before_write(&clean).expect("intact");
    }

    #[test]
    fn schema_violation_is_reported() {
        let mut f = three_days();
        edit(&mut f, 0, |v| v["entries"][0]["run_id"] = "seven".into());
        let t = verify_days(&f).expect_err("schema");
        assert!(t.problem.contains("schema"), "{t}");
    }
}
