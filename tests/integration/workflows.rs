//! The workflows users copy (and this repository's own) talk to the action through names only:
//! every `with:` key given to it must be an input `action.yml` declares (the runner warns and
//! ignores the others, so a typo silently drops a setting), and every
//! `steps.<id>.outputs.<name>` read from it must be a declared output (an undeclared one is the
//! empty string, so a gate on it never fires). The same for the `security-ci` composite and its
//! callers. Reads `examples/`, `security-ci/` and `.github/workflows/`; no binary is run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_yaml::Value;

/// What a step's `uses:` points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// This action: `./`, or `<owner>/slsa-provenance-action@<ref>`.
    Action,
    /// The composite: `./security-ci`, or `<owner>/slsa-provenance-action/security-ci@<ref>`.
    SecurityCi,
    Other,
}

fn target(uses: &str) -> Target {
    let uses = uses.trim();
    if uses == "./" || uses == "." {
        return Target::Action;
    }
    if uses == "./security-ci" || uses == "./security-ci/" {
        return Target::SecurityCi;
    }
    let Some((path, _rev)) = uses.split_once('@') else {
        return Target::Other;
    };
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [_, "slsa-provenance-action"] => Target::Action,
        [_, "slsa-provenance-action", "security-ci"] => Target::SecurityCi,
        _ => Target::Other,
    }
}

/// Declared input and output names of an action file.
struct Interface {
    inputs: BTreeSet<String>,
    outputs: BTreeSet<String>,
}

fn keys(doc: &Value, section: &str) -> BTreeSet<String> {
    doc[section]
        .as_mapping()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn interface(doc: &Value) -> Interface {
    Interface {
        inputs: keys(doc, "inputs"),
        outputs: keys(doc, "outputs"),
    }
}

fn load(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// Every string below `v` (keys excluded), so expressions are found wherever they sit: `run`,
/// `env`, `if`, `with`, job `outputs`, a composite's `outputs.*.value`.
fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Sequence(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Mapping(m) => m.values().for_each(|i| strings(i, out)),
        Value::Tagged(t) => strings(&t.value, out),
        _ => {}
    }
}

/// One scope of step ids: a workflow job, or a composite's `runs`. `reads` is where outputs
/// may be read from (the job itself; for a composite, its steps and its `outputs`).
struct Scope<'a> {
    name: String,
    steps: Vec<&'a Value>,
    reads: Vec<&'a Value>,
}

fn scopes<'a>(doc: &'a Value, file: &str) -> Vec<Scope<'a>> {
    let mut out = Vec::new();
    if let Some(jobs) = doc["jobs"].as_mapping() {
        for (name, job) in jobs {
            out.push(Scope {
                name: format!("{file} job {}", name.as_str().unwrap_or("?")),
                steps: job["steps"]
                    .as_sequence()
                    .map(|s| s.iter().collect())
                    .unwrap_or_default(),
                reads: vec![job],
            });
        }
    }
    if let Some(steps) = doc["runs"]["steps"].as_sequence() {
        out.push(Scope {
            name: format!("{file} (composite)"),
            steps: steps.iter().collect(),
            reads: vec![&doc["runs"], &doc["outputs"]],
        });
    }
    out
}

#[derive(Default)]
struct Findings {
    /// How many steps used this action or the composite (so the check cannot pass vacuously).
    uses: BTreeMap<String, usize>,
    problems: Vec<String>,
}

const MODES: &[&str] = &["provenance", "validate", "notify", "recover", "report"];

fn check(file: &str, doc: &Value, action: &Interface, composite: &Interface, f: &mut Findings) {
    let output_ref =
        Regex::new(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)").expect("regex");
    let pinned = Regex::new(r"^[^@]+@[0-9a-f]{40}$").expect("regex");
    for scope in scopes(doc, file) {
        let mut ids: BTreeMap<String, Target> = BTreeMap::new();
        for step in &scope.steps {
            let Some(uses) = step["uses"].as_str() else {
                continue;
            };
            let t = target(uses);
            if !uses.starts_with("./") && !uses.starts_with("docker://") && !pinned.is_match(uses) {
                f.problems.push(format!(
                    "{}: `uses: {uses}` is not pinned by a full commit SHA",
                    scope.name
                ));
            }
            let iface = match t {
                Target::Action => action,
                Target::SecurityCi => composite,
                Target::Other => continue,
            };
            *f.uses.entry(file.to_string()).or_default() += 1;
            if let Some(id) = step["id"].as_str() {
                ids.insert(id.to_string(), t);
            }
            let with = step["with"].as_mapping().cloned().unwrap_or_default();
            for (k, v) in &with {
                let k = k.as_str().unwrap_or("?");
                if !iface.inputs.contains(k) {
                    f.problems.push(format!(
                        "{}: `with: {k}` given to `{uses}`, which declares no such input",
                        scope.name
                    ));
                }
                if t == Target::Action && k == "mode" {
                    let m = v.as_str().unwrap_or("");
                    if !m.contains("${{") && !MODES.contains(&m) {
                        f.problems
                            .push(format!("{}: `mode: {m}` is not a mode", scope.name));
                    }
                }
            }
        }
        let mut texts = Vec::new();
        scope.reads.iter().for_each(|r| strings(r, &mut texts));
        for text in texts {
            for c in output_ref.captures_iter(text) {
                let (id, name) = (&c[1], &c[2]);
                let iface = match ids.get(id) {
                    Some(Target::Action) => action,
                    Some(Target::SecurityCi) => composite,
                    _ => continue,
                };
                if !iface.outputs.contains(name) {
                    f.problems.push(format!(
                        "{}: reads `steps.{id}.outputs.{name}`, not a declared output",
                        scope.name
                    ));
                }
            }
        }
    }
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("yml" | "yaml")))
        .collect();
    out.sort();
    out
}

fn interfaces(root: &Path) -> (Interface, Interface) {
    (
        interface(&load(&root.join("action.yml"))),
        interface(&load(&root.join("security-ci/action.yml"))),
    )
}

#[test]
fn every_workflow_passes_only_declared_inputs_and_reads_only_declared_outputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (action, composite) = interfaces(root);
    assert!(action.inputs.contains("mode") && action.outputs.contains("failure-reason"));
    let mut files = yaml_files(&root.join("examples"));
    files.extend(yaml_files(&root.join(".github/workflows")));
    files.push(root.join("security-ci/action.yml"));
    let mut f = Findings::default();
    for path in &files {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        check(&rel, &load(path), &action, &composite, &mut f);
    }
    assert!(f.problems.is_empty(), "{}", f.problems.join("\n"));
    // Every file users copy talks to the action, and so do the composite and this
    // repository's own dogfooding workflows: a file silently dropped from the check fails here.
    for must in [
        "examples/slsa-provenance.yml",
        "examples/release.yml",
        "examples/security-ci.yml",
        "examples/weekly-report.yml",
        "security-ci/action.yml",
        ".github/workflows/release.yml",
        ".github/workflows/weekly-report.yml",
    ] {
        assert!(
            f.uses.get(must).copied().unwrap_or(0) > 0,
            "{must} has no step using the action (checked: {:?})",
            f.uses
        );
    }
    assert_eq!(
        f.uses.get("security-ci/action.yml").copied(),
        Some(3),
        "the composite is validate, notify, recover"
    );
}

#[test]
fn the_composite_passes_its_inputs_through_with_the_actions_defaults() {
    // Least surprise: an input the composite shares with the action has the action's default
    // (or none, so the action's applies), and every composite input reaches some step.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let action = load(&root.join("action.yml"));
    let composite = load(&root.join("security-ci/action.yml"));
    let inputs = composite["inputs"].as_mapping().expect("composite inputs");
    let mut texts = Vec::new();
    strings(&composite["runs"], &mut texts);
    let passed = texts.join("\n");
    for (name, spec) in inputs {
        let name = name.as_str().expect("input name");
        let mine = spec["default"].as_str().unwrap_or("");
        if let Some(theirs) = action["inputs"][name].as_mapping() {
            let theirs = theirs.get("default").and_then(Value::as_str).unwrap_or("");
            assert!(
                mine.is_empty() || mine == theirs,
                "security-ci input {name}: default {mine:?}, the action's {theirs:?}"
            );
        }
        assert!(
            passed.contains(&format!("inputs.{name}")),
            "security-ci input {name} reaches no step"
        );
    }
}

#[test]
fn the_workflow_check_catches_an_unknown_input_an_unknown_output_and_a_floating_ref() {
    // Regression guard for the check itself: a typo'd input, an output the action does not
    // declare, a bad mode, and a tag-pinned third-party action are each reported.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (action, composite) = interfaces(root);
    let doc: Value = serde_yaml::from_str(
        r#"
on: workflow_dispatch
jobs:
  j:
    runs-on: ubuntu-latest
    outputs:
      x: ${{ steps.ci.outputs.verifed }}
    steps:
      - uses: actions/checkout@v4
      - id: slsa
        uses: octo/slsa-provenance-action@0123456789abcdef0123456789abcdef01234567
        with:
          mode: notfy
          subject-paths: dist/*
      - id: ci
        uses: octo/slsa-provenance-action/security-ci@0123456789abcdef0123456789abcdef01234567
        with:
          provenance-path: p
          slack-webhook: x
      - env:
          A: ${{ steps.slsa.outputs.issue-nmber }}
          B: ${{ steps.slsa.outputs.issue-number }}
        run: echo "$A $B"
"#,
    )
    .expect("yaml");
    let mut f = Findings::default();
    check("inline.yml", &doc, &action, &composite, &mut f);
    let all = f.problems.join("\n");
    for expected in [
        "`uses: actions/checkout@v4` is not pinned",
        "`mode: notfy` is not a mode",
        "`with: subject-paths`",
        "`with: slack-webhook`",
        "`steps.slsa.outputs.issue-nmber`",
        "`steps.ci.outputs.verifed`",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
    }
    assert_eq!(f.problems.len(), 6, "{all}");
    assert_eq!(f.uses.get("inline.yml").copied(), Some(2));
}
