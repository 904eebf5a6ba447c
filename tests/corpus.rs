//! The authorizer corpus: every `tests/corpus/**/*.json` scenario (world + request + expected
//! decision, status, deciding layer and statements, each citing the AWS page it follows) is
//! evaluated and compared. All mismatches are reported together.

use std::collections::BTreeSet;
use std::path::Path;

#[path = "common/scenarios.rs"]
mod scenarios;
use scenarios::{load_world, read_scenario, run_all};

use s3medic::eval::authorize;
use s3medic::request::Request;
use serde_json::Value;

/// Runs one scenario; `Err` describes the mismatch.
fn run(path: &Path) -> Result<(), String> {
    let sc = read_scenario(path)?;
    if sc
        .get("source")
        .and_then(Value::as_str)
        .is_none_or(|s| !s.starts_with("https://"))
    {
        return Err("scenario must cite its AWS source page in `source`".into());
    }
    let world = load_world(&sc, path)?;
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
                    .map(|a| a.action.as_ref())
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
    run_all("corpus", 150, run);
}
