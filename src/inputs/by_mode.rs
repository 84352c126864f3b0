//! Which inputs each mode reads, composed from the `READS` table of every typed-inputs parser
//! the mode runs (`<Mode>Inputs::READS`, `AuditInputs::READS`, `PolicyInput::READS`). The tables
//! are held to the parsers' behaviour by this module's tests, in both directions: every listed
//! input, given a different or malformed value, changes what the parser returns (it is read);
//! every other input, whatever its value, changes nothing (it is not). `interface`'s tests then
//! hold the union of the modes' lists equal to `KNOWN_INPUTS` and to `action.yml`.

use super::audit::AuditInputs;
use super::policy::PolicyInput;
use super::{Mode, NotifyInputs, ProvenanceInputs, RecoverInputs, ReportInputs, ValidateInputs};

/// Inputs read before any mode runs (`lib::run` dispatches on `mode`).
pub const COMMON_READS: &[&str] = &["mode"];

/// Every mode, in `MODES` order.
pub const ALL_MODES: [Mode; 5] = [
    Mode::Provenance,
    Mode::Validate,
    Mode::Notify,
    Mode::Recover,
    Mode::Report,
];

/// The mode's name as the `mode` input spells it.
pub fn name(mode: Mode) -> &'static str {
    match mode {
        Mode::Provenance => "provenance",
        Mode::Validate => "validate",
        Mode::Notify => "notify",
        Mode::Recover => "recover",
        Mode::Report => "report",
    }
}

/// The `READS` tables of the parsers `mode` runs, in the order it runs them.
fn tables(mode: Mode) -> &'static [&'static [&'static str]] {
    match mode {
        Mode::Provenance => &[COMMON_READS, ProvenanceInputs::READS, AuditInputs::READS],
        Mode::Validate => &[COMMON_READS, PolicyInput::READS, ValidateInputs::READS],
        Mode::Notify => &[COMMON_READS, NotifyInputs::READS],
        Mode::Recover => &[COMMON_READS, RecoverInputs::READS],
        Mode::Report => &[COMMON_READS, ReportInputs::READS],
    }
}

/// Every input `mode` reads, each once.
pub fn reads(mode: Mode) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for name in tables(mode).iter().flat_map(|t| t.iter()) {
        if !out.contains(name) {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::fmt::Debug;

    use super::*;
    use crate::error::Result;
    use crate::inputs::entry_store::EntryStoreInputs;
    use crate::inputs::{parse_mode, RawInputs, KNOWN_INPUTS, MODES};

    /// One typed-inputs parser: its table, and what it returns for some inputs, shown.
    struct Parser {
        name: &'static str,
        reads: &'static [&'static str],
        parse: fn(&RawInputs) -> String,
        /// Inputs that parse and switch on the parser's conditional reads (e.g. `supabase-key`
        /// is only read with `supabase-url`).
        baselines: &'static [&'static [(&'static str, &'static str)]],
    }

    fn shown<T: Debug>(r: Result<T>) -> String {
        match r {
            Ok(v) => format!("ok {v:?}"),
            Err(e) => format!("err {} {}", e.reason.code(), e.message),
        }
    }

    const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const SUPABASE: &[(&str, &str)] = &[
        ("supabase-url", "http://127.0.0.1:54321"),
        ("supabase-key", "k"),
    ];

    fn parsers() -> Vec<Parser> {
        vec![
            Parser {
                name: "ProvenanceInputs",
                reads: ProvenanceInputs::READS,
                parse: |r| shown(ProvenanceInputs::from_raw(r)),
                baselines: &[&[("subject-path", "dist/*")]],
            },
            Parser {
                name: "AuditInputs",
                reads: AuditInputs::READS,
                parse: |r| shown(AuditInputs::from_raw(r)),
                baselines: &[&[], SUPABASE],
            },
            Parser {
                name: "EntryStoreInputs",
                reads: EntryStoreInputs::READS,
                parse: |r| shown(EntryStoreInputs::from_raw(r)),
                baselines: &[&[], SUPABASE],
            },
            Parser {
                name: "PolicyInput",
                reads: PolicyInput::READS,
                parse: |r| shown(PolicyInput::from_raw(r)),
                baselines: &[&[]],
            },
            Parser {
                name: "ValidateInputs",
                reads: ValidateInputs::READS,
                parse: |r| shown(ValidateInputs::from_raw(r)),
                baselines: &[
                    &[("subject-digest", DIGEST)],
                    // run-id without provenance-path: the artifact source reads artifact-name.
                    &[
                        ("subject-digest", DIGEST),
                        ("run-id", "7"),
                        ("supabase-url", "http://127.0.0.1:54321"),
                        ("supabase-key", "k"),
                    ],
                ],
            },
            Parser {
                name: "NotifyInputs",
                reads: NotifyInputs::READS,
                parse: |r| shown(NotifyInputs::from_raw(r)),
                baselines: &[&[], SUPABASE],
            },
            Parser {
                name: "RecoverInputs",
                reads: RecoverInputs::READS,
                parse: |r| shown(RecoverInputs::from_raw(r)),
                baselines: &[
                    &[("tag", "v1.0.0")],
                    &[
                        ("tag", "v1.0.0"),
                        ("supabase-url", "http://127.0.0.1:54321"),
                        ("supabase-key", "k"),
                    ],
                ],
            },
            Parser {
                name: "ReportInputs",
                reads: ReportInputs::READS,
                parse: |r| shown(ReportInputs::from_raw(r)),
                baselines: &[
                    &[],
                    &[
                        ("source", "supabase"),
                        ("supabase-url", "http://127.0.0.1:54321"),
                        ("supabase-key", "k"),
                    ],
                ],
            },
        ]
    }

    /// Values that a parser reading the input cannot all take as unset: unset itself, a bad
    /// boolean, a bad glob, paths escaping the workspace, words, numbers, a URL, a digest.
    const CANDIDATES: &[Option<&str>] = &[
        None,
        Some("yes please"),
        Some("["),
        Some("../x"),
        Some("/etc/x"),
        Some("x y"),
        Some("0"),
        Some("7"),
        Some("v1.2.3"),
        Some("https://127.0.0.1:1/"),
        Some("none"),
        Some("supabase"),
        Some("octo/app"),
        Some(DIGEST),
    ];

    fn raw(values: &BTreeMap<&str, &str>) -> RawInputs {
        let env: Vec<(String, String)> = values
            .iter()
            .map(|(k, v)| (format!("INPUT_{}", k.to_ascii_uppercase()), v.to_string()))
            .collect();
        RawInputs::collect(env, &[] as &[&str]).expect("collect").0
    }

    /// Whether some candidate value of `input` changes what `p` returns from some baseline.
    fn is_read(p: &Parser, input: &str) -> bool {
        p.baselines.iter().any(|base| {
            let base: BTreeMap<&str, &str> = base.iter().copied().collect();
            let before = (p.parse)(&raw(&base));
            CANDIDATES.iter().any(|c| {
                let mut changed = base.clone();
                match c {
                    Some(v) => changed.insert(input, v),
                    None => changed.remove(input),
                };
                (p.parse)(&raw(&changed)) != before
            })
        })
    }

    #[test]
    fn every_baseline_parses() {
        for p in parsers() {
            for base in p.baselines {
                let base: BTreeMap<&str, &str> = base.iter().copied().collect();
                let got = (p.parse)(&raw(&base));
                assert!(got.starts_with("ok "), "{} {base:?}: {got}", p.name);
            }
        }
    }

    #[test]
    fn each_parser_reads_exactly_the_inputs_its_table_lists() {
        for p in parsers() {
            let mut seen = BTreeSet::new();
            for name in p.reads {
                assert!(seen.insert(*name), "{}: {name} listed twice", p.name);
                assert!(
                    KNOWN_INPUTS.contains(name),
                    "{}: {name} is not a known input",
                    p.name
                );
            }
            for input in KNOWN_INPUTS {
                let listed = p.reads.contains(input);
                assert_eq!(
                    is_read(&p, input),
                    listed,
                    "{}: input '{input}' is {} but {}",
                    p.name,
                    if listed { "listed" } else { "not listed" },
                    if listed {
                        "no value of it changes what the parser returns"
                    } else {
                        "some value of it changes what the parser returns"
                    }
                );
            }
        }
    }

    #[test]
    fn mode_is_read_by_every_mode_and_the_modes_cover_every_known_input() {
        assert_ne!(
            shown(parse_mode(Some("validate"))),
            shown(parse_mode(Some("yes please")))
        );
        let names: Vec<&str> = ALL_MODES.iter().map(|m| name(*m)).collect();
        assert_eq!(names, MODES);
        for m in ALL_MODES {
            assert_eq!(parse_mode(Some(name(m))).expect("mode"), m);
            assert!(reads(m).contains(&"mode"), "{m:?}");
        }
        let union: BTreeSet<&str> = ALL_MODES.iter().flat_map(|m| reads(*m)).collect();
        let known: BTreeSet<&str> = KNOWN_INPUTS.iter().copied().collect();
        assert_eq!(
            known.difference(&union).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "known inputs no mode reads"
        );
        assert_eq!(
            union.difference(&known).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "inputs a mode reads that are not known"
        );
    }

    #[test]
    fn notify_and_recover_ignore_the_run_records_own_inputs() {
        // Regression: the entry store of notify/recover parsed every audit input, so a
        // malformed `queued-manifest` (an input they never use) failed them. (They do read the
        // Supabase table inputs: an updated entry's row follows it.)
        for m in [Mode::Notify, Mode::Recover] {
            for input in ["queued-manifest", "rollback-of"] {
                assert!(!reads(m).contains(&input), "{m:?} reads {input}");
            }
            for input in ["supabase-url", "supabase-key", "supabase-table"] {
                assert!(reads(m).contains(&input), "{m:?} does not read {input}");
            }
        }
        let mut values: BTreeMap<&str, &str> = BTreeMap::new();
        values.insert("tag", "v1");
        values.insert("queued-manifest", "../outside.json");
        assert!(NotifyInputs::from_raw(&raw(&values)).is_ok());
        assert!(RecoverInputs::from_raw(&raw(&values)).is_ok());
    }
}
