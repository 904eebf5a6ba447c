//! Diagnosis over the authorizer corpus: every `tests/corpus/**/*.json` scenario is authorized and
//! diagnosed. An allowed outcome has no findings; a denied one has at least one, every finding
//! names a denied authorization (with its action and resource), and the decisive authorization's
//! deciding layer is the layer of one of its findings. No scenario may panic.

use std::path::{Path, PathBuf};

use s3medic::diagnose::diagnose;
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

fn load(path: &Path) -> Result<(World, Request), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("unreadable: {e}"))?;
    let sc: Value = serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))?;
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
    Ok((world, request))
}

fn check(path: &Path) -> Result<(), String> {
    let (world, request) = load(path)?;
    let outcome = authorize(&world, &request).map_err(|e| format!("evaluation error: {e}"))?;
    let findings = diagnose(&world, &request, &outcome);
    let summary = || {
        findings
            .iter()
            .map(|f| format!("{}@{}:{}", f.cause.id(), f.authorization, f.layer))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if outcome.decision.is_allowed() {
        if !findings.is_empty() {
            return Err(format!("allowed, but findings: {}", summary()));
        }
        return Ok(());
    }
    if findings.is_empty() {
        return Err(format!(
            "denied at {:?}, but no findings",
            outcome.deciding_layer()
        ));
    }
    for f in &findings {
        let Some(a) = outcome.authorizations.get(f.authorization) else {
            return Err(format!("finding names authorization {}", f.authorization));
        };
        if a.decision.is_allowed()
            && f.cause != s3medic::diagnose::Cause::CloudfrontDefaultRootObject
        {
            return Err(format!(
                "finding {} names allowed authorization {}",
                f.cause.id(),
                f.authorization
            ));
        }
        if f.action != a.action || f.resource != a.resource {
            return Err(format!(
                "finding {} has the wrong action/resource",
                f.cause.id()
            ));
        }
        if f.evidence.is_empty() {
            return Err(format!("finding {} has no evidence", f.cause.id()));
        }
        if f.explanation.trim().is_empty() {
            return Err(format!("finding {} has no explanation", f.cause.id()));
        }
    }
    if findings[0].authorization != outcome.deciding {
        return Err(format!(
            "first finding is not about the decisive authorization: {}",
            summary()
        ));
    }
    let layer = outcome.deciding_layer();
    if !findings
        .iter()
        .any(|f| f.authorization == outcome.deciding && Some(f.layer) == layer)
    {
        return Err(format!(
            "deciding layer {layer:?} has no finding; findings: {}",
            summary()
        ));
    }
    let mut seen = Vec::new();
    for f in &findings {
        let k = (f.cause, f.authorization, f.resource.clone());
        if seen.contains(&k) {
            return Err(format!("duplicate finding {}", f.cause.id()));
        }
        seen.push(k);
    }
    Ok(())
}

#[test]
fn diagnose_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files = Vec::new();
    scenario_files(&root, &mut files);
    assert!(files.len() > 300, "corpus too small: {}", files.len());
    let mut failures = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        let r = std::panic::catch_unwind(|| check(f));
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{rel}: {e}")),
            Err(_) => failures.push(format!("{rel}: panicked")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n  {}",
        failures.len(),
        files.len(),
        failures.join("\n  ")
    );
}

/// Prints every scenario's findings (run with `--ignored --nocapture` to review them).
#[test]
#[ignore]
fn print_corpus_findings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files = Vec::new();
    scenario_files(&root, &mut files);
    for f in &files {
        let Ok((world, request)) = load(f) else {
            continue;
        };
        let Ok(outcome) = authorize(&world, &request) else {
            continue;
        };
        let findings = diagnose(&world, &request, &outcome);
        println!(
            "{} [{} @{:?}]",
            f.strip_prefix(&root).unwrap_or(f).display(),
            outcome.decision,
            outcome.deciding_layer()
        );
        for x in &findings {
            println!(
                "    {} #{} {} — {}",
                x.cause.id(),
                x.authorization,
                x.layer,
                x.explanation
            );
        }
    }
}
