//! Replays every file of every fuzz target's corpus (`fuzz/corpus/<target>/`) through the
//! target's function in `palaver::fuzzing`, as `cargo fuzz run` would, so that what the fuzzers
//! found once (and was fixed) stays fixed without a fuzzer: a file that makes its target panic
//! fails this test, named.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir` that make `target` panic, and how many files were replayed.
fn replay(target: fn(&[u8]), dir: &Path) -> (Vec<String>, usize) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut failed = Vec::new();
    for file in &files {
        let data = std::fs::read(file).expect("a corpus file reads");
        if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
            failed.push(file.display().to_string());
        }
    }
    (failed, files.len())
}

#[test]
fn every_corpus_file_passes_its_target() {
    let mut failed = Vec::new();
    for (name, target) in palaver::fuzzing::TARGETS {
        let (f, replayed) = replay(*target, &fuzz_dir().join("corpus").join(name));
        assert!(replayed > 0, "the corpus of {name} is empty");
        failed.extend(f);
    }
    assert!(failed.is_empty(), "these corpus files fail: {failed:#?}");
}

#[test]
fn a_file_that_panics_its_target_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fine"), b"ok").unwrap();
    std::fs::write(dir.path().join("bad"), b"boom").unwrap();
    fn target(data: &[u8]) {
        assert_ne!(data, b"boom", "the target fails");
    }
    let (failed, replayed) = replay(target, dir.path());
    assert_eq!(replayed, 2);
    assert_eq!(failed.len(), 1);
    assert!(failed[0].ends_with("bad"), "{failed:?}");
}

#[test]
fn every_fuzz_target_has_a_function_and_a_corpus() {
    let names = |dir: &str, ext: Option<&str>| -> BTreeSet<String> {
        std::fs::read_dir(fuzz_dir().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| ext.is_none_or(|x| p.extension().is_some_and(|e| e == x)))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    let functions: BTreeSet<String> = palaver::fuzzing::TARGETS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    assert_eq!(names("fuzz_targets", Some("rs")), functions);
    assert_eq!(names("corpus", None), functions);
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for name in &functions {
        let bin = format!("name = \"{name}\"\npath = \"fuzz_targets/{name}.rs\"");
        assert!(
            manifest.contains(&bin),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
    }
}
