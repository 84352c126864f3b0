//! Every input a fuzz target ever crashed on, and the hand-made hostile inputs kept beside
//! them, replayed on stable: `tests/fixtures/fuzz-regressions/<target>/*` through the same
//! function the fuzz target calls (`slsa_provenance_action::fuzzing`).

use std::path::{Path, PathBuf};

use slsa_provenance_action::fuzzing::TARGETS;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-regressions")
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn fuzz_regressions_replay_without_panicking() {
    let mut failed = Vec::new();
    for (name, target) in TARGETS {
        let files = cases(&root().join(name));
        assert!(!files.is_empty(), "no regression inputs for {name}");
        for file in files {
            let data = std::fs::read(&file).expect("read");
            if std::panic::catch_unwind(|| target(&data)).is_err() {
                failed.push(file.display().to_string());
            }
        }
    }
    assert!(failed.is_empty(), "panicked on: {failed:#?}");
}

#[test]
fn fuzz_targets_fuzzing_functions_and_regression_folders_agree() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut on_disk: Vec<String> = std::fs::read_dir(manifest.join("fuzz/fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .map(|e| e.expect("entry").path())
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "fuzz/fuzz_targets/*.rs vs fuzzing::TARGETS"
    );
    let script = std::fs::read_to_string(manifest.join("scripts/fuzz.sh")).expect("fuzz.sh");
    let line = format!(
        "TARGETS=({})",
        TARGETS
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(script.contains(&line), "scripts/fuzz.sh must list {line}");
    for name in &listed {
        assert!(
            root().join(name).is_dir(),
            "tests/fixtures/fuzz-regressions/{name}/"
        );
    }
}
