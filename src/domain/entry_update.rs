//! Update one run's entry in the audit trail (validate, notify and recover learn something
//! about a run after its provenance recorded it). Pure: the days come in as text, the files to
//! write go out as text; the stores (`adapters::store`) read and write them.
//!
//! Steps, in order: 1. verify the whole trail as read (`audit_chain::verify_days`): a trail
//! that is already broken is never re-sealed, the caller fails with `manifest_tampered`;
//! 2. find the entry (the newest day holding it, the last matching entry there); 3. apply the
//! update; 4. re-seal that day; 5. cascade: every later day's `previous_day.head` named the
//! old head, so each later day is re-linked to the new head and re-sealed, in date order.
//!
//! Why the cascade rather than an "update event" appended to today's file: the entry stays the
//! one place a run's facts live (the dashboard, the Supabase row and humans read it), and the
//! chain still proves every byte. Re-sealing is safe because step 1 proved the chain intact
//! first: we only ever re-seal content that verified, so an edit made by anyone else is still
//! detected (by us, here, and by `verify-manifest`). The cost is that an update may rewrite
//! every later day's file (in one commit for the `commit` store).

use super::audit_chain::{self, DayFile, Tamper};
use super::audit_record::render_checked;
use super::manifest::{DayLink, Manifest, ManifestEntry};

/// Which entry to update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A workflow run (and its tag, when known).
    Run { run_id: u64, tag: Option<String> },
    /// The latest entry for a tag.
    LatestOfTag(String),
}

impl Target {
    fn matches(&self, e: &ManifestEntry) -> bool {
        match self {
            Self::Run { run_id, tag } => {
                e.run_id == *run_id && tag.as_deref().is_none_or(|t| e.tag == t)
            }
            Self::LatestOfTag(t) => e.tag == *t,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Run {
                run_id,
                tag: Some(t),
            } => write!(f, "{t} run {run_id}"),
            Self::Run { run_id, tag: None } => write!(f, "run {run_id}"),
            Self::LatestOfTag(t) => write!(f, "the latest entry of {t}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateError {
    /// The trail failed its check before we touched it.
    Tampered(Tamper),
    /// No entry matches.
    NotFound,
    /// The updated file would not match the schema (a bug or a bad value): nothing written.
    Invalid(String),
    /// A conditional update ([`update_entry_if`]) refused, on the entry as read: nothing written.
    Declined(String),
}

impl std::fmt::Display for UpdateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tampered(t) => write!(f, "the audit trail fails its check: {t}"),
            Self::NotFound => write!(f, "no manifest entry matches"),
            Self::Invalid(e) => write!(f, "{e}"),
            Self::Declined(why) => write!(f, "the update declined: {why}"),
        }
    }
}

/// One day's new file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayWrite {
    pub date: String,
    pub text: String,
}

/// What an update produced: the entry as written and the files to write (empty when the
/// update changed nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct Updated {
    pub entry: ManifestEntry,
    pub writes: Vec<DayWrite>,
}

/// Apply `update` to the entry `target` names in `days` (any order), re-sealing its day and
/// every later day.
pub fn update_entry(
    days: &[DayFile],
    target: &Target,
    update: impl FnOnce(&mut ManifestEntry),
) -> Result<Updated, UpdateError> {
    update_entry_if(days, target, |e, _| {
        update(e);
        Ok(())
    })
}

/// A conditional update ("update if"): `decide` sees the entry and every entry of the trail as
/// read (all days, before the update) and either changes the entry or declines with a reason
/// (`UpdateError::Declined`, nothing written). A store that retries on a lost race calls this
/// again on what it re-read, so the condition always holds on the state the write replaces.
pub fn update_entry_if(
    days: &[DayFile],
    target: &Target,
    decide: impl FnOnce(&mut ManifestEntry, &[ManifestEntry]) -> Result<(), String>,
) -> Result<Updated, UpdateError> {
    // 1. Verify what we read.
    audit_chain::verify_days(days).map_err(UpdateError::Tampered)?;
    let mut parsed: Vec<(String, Manifest)> = Vec::with_capacity(days.len());
    for d in days {
        // verify_days parsed each file already; a failure here cannot happen, but is no panic.
        let m = Manifest::parse(&d.text).map_err(|e| {
            UpdateError::Tampered(Tamper {
                file: d.label.clone(),
                entry: None,
                problem: e,
            })
        })?;
        parsed.push((d.date.clone(), m));
    }
    parsed.sort_by(|a, b| a.0.cmp(&b.0));
    // 2. Find: the newest day holding the entry, its last matching entry.
    let (day_index, entry_index) = parsed
        .iter()
        .enumerate()
        .rev()
        .find_map(|(d, (_, m))| {
            m.entries
                .iter()
                .rposition(|e| target.matches(e))
                .map(|i| (d, i))
        })
        .ok_or(UpdateError::NotFound)?;
    // 3. Decide and apply.
    let before = parsed[day_index].1.entries[entry_index].clone();
    let trail: Vec<ManifestEntry> = parsed
        .iter()
        .flat_map(|(_, m)| m.entries.iter().cloned())
        .collect();
    decide(&mut parsed[day_index].1.entries[entry_index], &trail).map_err(UpdateError::Declined)?;
    let changed = parsed[day_index].1.entries[entry_index] != before;
    if !changed {
        return Ok(Updated {
            entry: before,
            writes: Vec::new(),
        });
    }
    // 4. Re-seal the day (its own previous_day link stays), 5. then cascade.
    let mut writes = Vec::new();
    let mut link: Option<DayLink> = None;
    for (date, m) in parsed.into_iter().skip(day_index) {
        let mut m = m;
        if let Some(l) = link.take() {
            m.previous_day = Some(l);
        }
        let sealed = audit_chain::seal(m, None);
        let text = render_checked(&sealed).map_err(UpdateError::Invalid)?;
        link = Some(DayLink {
            head: audit_chain::head(&sealed),
            date: date.clone(),
        });
        writes.push(DayWrite { date, text });
    }
    let entry = Manifest::parse(&writes[0].text)
        .ok()
        .and_then(|m| m.entries.get(entry_index).cloned())
        .ok_or_else(|| UpdateError::Invalid("the re-sealed day lost its entry".into()))?;
    Ok(Updated { entry, writes })
}

/// The side branch for a pull request when the audit branch refuses the update:
/// `provenance/<tag>-<run_id>-<what>-<commit>` (the commit makes two updates of a run distinct).
pub fn pr_branch(tag: &str, run_id: u64, what: &str, commit: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let short: String = commit.chars().take(7).collect();
    format!(
        "provenance/{}-{run_id}-{}-{}",
        clean(tag),
        clean(what),
        clean(&short)
    )
}

/// The commit message of an update: which mode, which run.
pub fn commit_message(what: &str, entry: &ManifestEntry) -> String {
    format!(
        "{what}: {} run {}\n\n{what} updated the audit entry of run {} for {}.",
        entry.tag, entry.run_id, entry.run_id, entry.tag
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tag: &str, run: u64) -> ManifestEntry {
        serde_json::from_value(serde_json::json!({
            "run_id": run, "tag": tag, "sha": "a", "artifact_url": null, "actor": "o",
            "timestamp": "2026-01-01T00:00:00Z", "status": "success",
            "governance_flag": "provenance-ready"
        }))
        .expect("entry")
    }

    /// Days sealed the way the run record seals them (each linked to the one before).
    fn trail(days: &[(&str, &[(&str, u64)])]) -> Vec<DayFile> {
        let mut out = Vec::new();
        let mut link: Option<DayLink> = None;
        for (date, entries) in days {
            let m = Manifest {
                entries: entries.iter().map(|(t, r)| entry(t, *r)).collect(),
                ..Manifest::default()
            };
            let sealed = audit_chain::seal(m, link.take());
            link = Some(DayLink {
                head: audit_chain::head(&sealed),
                date: date.to_string(),
            });
            out.push(DayFile {
                date: date.to_string(),
                label: format!("{date}/manifest.json"),
                text: sealed.render(),
            });
        }
        out
    }

    fn apply(days: &mut [DayFile], writes: &[DayWrite]) {
        for w in writes {
            let d = days.iter_mut().find(|d| d.date == w.date).expect("day");
            d.text = w.text.clone();
        }
    }

    #[test]
    fn an_update_of_an_earlier_day_re_links_every_later_day() {
        let mut days = trail(&[
            ("2026-01-01", &[("v1", 1), ("v2", 2)]),
            ("2026-01-02", &[("v3", 3)]),
            ("2026-01-03", &[("v4", 4)]),
        ]);
        let target = Target::Run {
            run_id: 1,
            tag: Some("v1".into()),
        };
        let up = update_entry(&days, &target, |e| e.notify_slack = Some(true)).expect("update");
        assert_eq!(up.writes.len(), 3, "the day and both later days");
        assert_eq!(up.entry.notify_slack, Some(true));
        apply(&mut days, &up.writes);
        audit_chain::verify_days(&days).expect("chain valid after the cascade");
    }

    #[test]
    fn the_latest_entry_of_a_tag_across_days() {
        let mut days = trail(&[
            ("2026-01-01", &[("v1", 1)]),
            ("2026-01-02", &[("v1", 2), ("v2", 3)]),
        ]);
        let up = update_entry(&days, &Target::LatestOfTag("v1".into()), |e| {
            e.validation_status = Some("passed".into())
        })
        .expect("update");
        assert_eq!(up.entry.run_id, 2);
        assert_eq!(up.writes.len(), 1);
        apply(&mut days, &up.writes);
        audit_chain::verify_days(&days).expect("valid");
    }

    #[test]
    fn a_broken_chain_is_never_re_sealed() {
        let mut days = trail(&[("2026-01-01", &[("v1", 1)]), ("2026-01-02", &[("v2", 2)])]);
        days[0].text = days[0]
            .text
            .replace("\"actor\": \"o\"", "\"actor\": \"mallory\"");
        assert!(days[0].text.contains("mallory"), "the edit applied");
        let err = update_entry(
            &days,
            &Target::Run {
                run_id: 2,
                tag: None,
            },
            |e| e.rerun_in_progress = Some(true),
        )
        .expect_err("tampered");
        assert!(matches!(err, UpdateError::Tampered(t) if t.file == "2026-01-01/manifest.json"));
    }

    #[test]
    fn a_missing_entry_or_a_no_op_writes_nothing() {
        let days = trail(&[("2026-01-01", &[("v1", 1)])]);
        let missing = Target::Run {
            run_id: 9,
            tag: None,
        };
        assert_eq!(
            update_entry(&days, &missing, |_| {}),
            Err(UpdateError::NotFound)
        );
        let same = update_entry(&days, &Target::LatestOfTag("v1".into()), |_| {}).expect("ok");
        assert!(same.writes.is_empty());
    }

    #[test]
    fn a_declined_conditional_update_writes_nothing_and_sees_the_whole_trail() {
        let days = trail(&[("2026-01-01", &[("v1", 1)]), ("2026-01-02", &[("v1", 2)])]);
        let target = Target::Run {
            run_id: 1,
            tag: None,
        };
        let declined = update_entry_if(&days, &target, |e, all| {
            e.rerun_in_progress = Some(true);
            if all.iter().any(|o| o.run_id == 2) {
                Err("run 2 of the tag is in a later day".into())
            } else {
                Ok(())
            }
        });
        assert_eq!(
            declined,
            Err(UpdateError::Declined(
                "run 2 of the tag is in a later day".into()
            ))
        );
        let applied = update_entry_if(&days, &target, |e, all| {
            assert_eq!(all.len(), 2, "every day's entries, as read");
            e.rerun_in_progress = Some(true);
            Ok(())
        })
        .expect("applied");
        assert_eq!(applied.entry.rerun_in_progress, Some(true));
        assert_eq!(applied.writes.len(), 2);
    }
}
