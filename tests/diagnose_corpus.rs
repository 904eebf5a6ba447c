//! Diagnosis over the authorizer corpus: every `tests/corpus/**/*.json` scenario is authorized and
//! diagnosed. An allowed outcome has no findings; a denied one has at least one, every finding
//! names a denied authorization (with its action and resource), and the decisive authorization's
//! deciding layer is the layer of one of its findings. No scenario may panic.

use std::path::Path;

#[path = "common/scenarios.rs"]
mod scenarios;
use scenarios::{load_world, read_scenario, run_all};

use s3medic::diagnose::diagnose;
use s3medic::eval::authorize;
use s3medic::request::Request;
use s3medic::world::World;

fn load(path: &Path) -> Result<(World, Request), String> {
    let sc = read_scenario(path)?;
    let world = load_world(&sc, path)?;
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
    run_all("corpus", 300, |f| {
        match std::panic::catch_unwind(|| check(f)) {
            Ok(r) => r,
            Err(_) => Err("panicked".into()),
        }
    });
}
