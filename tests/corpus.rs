//! The authorizer corpus: every `tests/corpus/**/*.json` scenario (world + request + expected
//! decision, status, deciding layer and statements, each citing the AWS page it follows) is
//! evaluated and compared. All mismatches are reported together.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use s3medic::eval::authorize;
use s3medic::request::Request;
use s3medic::world::World;
use serde_json::Value;

fn scenario_files(dir: &Path, out: &mut Vec<PathBuf>) {
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
            scenario_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// Runs one scenario; `Err` describes the mismatch.
fn run(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("unreadable: {e}"))?;
    let sc: Value = serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))?;
    if sc
        .get("source")
        .and_then(Value::as_str)
        .is_none_or(|s| !s.starts_with("https://"))
    {
        return Err("scenario must cite its AWS source page in `source`".into());
    }
    let world = match (
        sc.get("world"),
        sc.get("world_file").and_then(Value::as_str),
    ) {
        (Some(w), _) => World::from_value(w).map_err(|e| format!("world: {e}"))?,
        (None, Some(f)) => {
            let wp = path.parent().unwrap_or(Path::new(".")).join(f);
            let t = std::fs::read_to_string(&wp).map_err(|e| format!("world_file {f}: {e}"))?;
            World::from_json_str(&t).map_err(|e| format!("world_file {f}: {e}"))?
        }
        _ => return Err("no world".into()),
    };
    let request = Request::from_value(sc.get("request").ok_or("no request")?)
        .map_err(|e| format!("request: {e}"))?;
    let expect = sc.get("expect").ok_or("no expect")?;
    let outcome = authorize(&world, &request).map_err(|e| format!("evaluation error: {e}"))?;

    let mut problems = Vec::new();
    let want = expect
        .get("decision")
        .and_then(Value::as_str)
        .ok_or("no expect.decision")?;
    if outcome.decision.as_str() != want {
        problems.push(format!("decision: want {want}, got {}", outcome.decision));
    }
    if let Some(st) = expect.get("status").and_then(Value::as_u64) {
        if u64::from(outcome.status) != st {
            problems.push(format!("status: want {st}, got {}", outcome.status));
        }
    }
    if let Some(layer) = expect.get("deciding_layer").and_then(Value::as_str) {
        let got = outcome
            .deciding_layer()
            .map(|l| l.as_str())
            .unwrap_or("none");
        if got != layer {
            problems.push(format!("deciding_layer: want {layer}, got {got}"));
        }
    }
    if let Some(sids) = expect.get("deciding_sids").and_then(Value::as_array) {
        let want: BTreeSet<String> = sids
            .iter()
            .filter_map(|s| s.as_str().map(String::from))
            .collect();
        let got: BTreeSet<String> = outcome
            .deciding_authorization()
            .map(|a| a.deciding_statements().iter().map(|s| s.name()).collect())
            .unwrap_or_default();
        if want != got {
            problems.push(format!("deciding_sids: want {want:?}, got {got:?}"));
        }
    }
    if let Some(n) = expect.get("authorizations").and_then(Value::as_u64) {
        if outcome.authorizations.len() as u64 != n {
            problems.push(format!(
                "authorizations: want {n}, got {} ({})",
                outcome.authorizations.len(),
                outcome
                    .authorizations
                    .iter()
                    .map(|a| a.action.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let trace = serde_json::to_string(&outcome).unwrap_or_default();
        Err(format!("{}\n      trace: {trace}", problems.join("; ")))
    }
}

#[test]
fn corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files = Vec::new();
    scenario_files(&root, &mut files);
    let only = std::env::var("CORPUS_ONLY").ok();
    let mut failures = Vec::new();
    let mut ran = 0;
    for f in &files {
        let name = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        ran += 1;
        if let Err(e) = run(f) {
            failures.push(format!("  {name}: {e}"));
        }
    }
    eprintln!("corpus: {ran} scenarios, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {ran} corpus scenarios failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    if only.is_none() {
        assert!(
            ran >= 150,
            "the corpus must hold at least 150 scenarios, found {ran}"
        );
    }
}
