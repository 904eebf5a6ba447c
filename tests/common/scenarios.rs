//! Scenario corpora shared by the data-driven tests (tests/corpus.rs, tests/diagnose_corpus.rs,
//! tests/plan_corpus.rs): finding the scenario files, loading a scenario's World (inline or
//! `world_file`), and running every scenario with all failures reported together.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use s3medic::world::World;
use serde_json::Value;

/// Every `*.json` below `dir`, sorted, skipping the shared `worlds/` folders.
pub fn scenario_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "worlds") {
                    continue;
                }
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}

/// Reads a scenario file as JSON.
pub fn read_scenario(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("unreadable: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))
}

/// The scenario's World: `world` inline, or `world_file` relative to the scenario.
pub fn load_world(sc: &Value, path: &Path) -> Result<World, String> {
    match (
        sc.get("world"),
        sc.get("world_file").and_then(Value::as_str),
    ) {
        (Some(w), _) => World::from_value(w).map_err(|e| format!("world: {e}")),
        (None, Some(f)) => {
            let wp = path.parent().unwrap_or(Path::new(".")).join(f);
            let t = std::fs::read_to_string(&wp).map_err(|e| format!("world_file {f}: {e}"))?;
            World::from_json_str(&t).map_err(|e| format!("world_file {f}: {e}"))
        }
        _ => Err("no world".into()),
    }
}

/// Runs `run` on every scenario under `tests/<dir>` (or those whose path contains
/// `$CORPUS_ONLY`), reports every failure together, and requires at least `min` scenarios.
pub fn run_all(dir: &str, min: usize, run: impl Fn(&Path) -> Result<(), String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    let only = std::env::var("CORPUS_ONLY").ok();
    let mut failures = Vec::new();
    let mut ran = 0;
    for f in scenario_files(&root) {
        let name = f.strip_prefix(&root).unwrap_or(&f).display().to_string();
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        ran += 1;
        if let Err(e) = run(&f) {
            failures.push(format!("  {name}: {e}"));
        }
    }
    eprintln!("{dir}: {ran} scenarios, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {ran} scenarios of tests/{dir} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    if only.is_none() {
        assert!(
            ran >= min,
            "tests/{dir} must hold at least {min} scenarios, found {ran}"
        );
    }
}
