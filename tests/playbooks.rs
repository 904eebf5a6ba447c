//! The playbook catalog and its scenarios: every `playbooks/<id>.toml` loads, and each of its
//! scenarios (`playbooks/<id>/*.json`: a World, a request, plan options and what the plan must do)
//! is planned and checked: the decision before, whether the playbook's cause is reported, whether
//! the request is allowed after applying the plan's changes, the change targets, the manual steps,
//! the proof's new access, and that re-planning the patched World changes nothing. All mismatches
//! are reported together, with the scenario path. `PLAYBOOK_ONLY=substring` runs a subset.

use std::path::{Path, PathBuf};

use s3medic::eval::authorize;
use s3medic::plan::catalog::{catalog, Playbook};
use s3medic::plan::{apply_to_world, plan, PlanOptions};
use s3medic::request::Request;
use s3medic::world::World;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks")
}

fn load_catalog() -> Vec<Playbook> {
    match catalog() {
        Ok(c) => c,
        Err(e) => panic!("playbook catalog: {e}"),
    }
}

/// A parsed scenario.
struct Scenario {
    world: World,
    request: Request,
    options: PlanOptions,
    expect: Value,
}

fn load(path: &Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("unreadable: {e}"))?;
    let sc: Value = serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))?;
    if sc
        .get("description")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err("no `description`".into());
    }
    let world = World::from_value(sc.get("world").ok_or("no `world`")?)
        .map_err(|e| format!("world: {e}"))?;
    let request = Request::from_value(sc.get("request").ok_or("no `request`")?)
        .map_err(|e| format!("request: {e}"))?;
    let mut options = PlanOptions::default();
    if let Some(o) = sc.get("options") {
        let Some(m) = o.as_object() else {
            return Err("`options` must be an object".into());
        };
        for (k, v) in m {
            let v = v
                .as_bool()
                .ok_or_else(|| format!("options.{k} must be true or false"))?;
            match k.as_str() {
                "allow_public" => options.allow_public = v,
                "allow_guardrail_change" => options.allow_guardrail_change = v,
                "allow_deny_change" => options.allow_deny_change = v,
                "accept_new_access" => options.accept_new_access = v,
                other => return Err(format!("unknown option `{other}`")),
            }
        }
    }
    let expect = sc.get("expect").cloned().ok_or("no `expect`")?;
    if expect.get("fires").and_then(Value::as_bool).is_none() {
        return Err("expect.fires must be true or false".into());
    }
    if expect
        .get("decision_before")
        .and_then(Value::as_str)
        .is_none()
    {
        return Err("no expect.decision_before".into());
    }
    Ok(Scenario {
        world,
        request,
        options,
        expect,
    })
}

/// Every (playbook, scenario path) pair, filtered by `PLAYBOOK_ONLY`.
fn scenarios(c: &[Playbook]) -> Vec<(String, String, PathBuf)> {
    let only = std::env::var("PLAYBOOK_ONLY").ok();
    let mut out = Vec::new();
    for p in c {
        for s in &p.scenarios {
            if only.as_deref().is_some_and(|o| !s.contains(o)) {
                continue;
            }
            out.push((p.id.clone(), s.clone(), root().join(s)));
        }
    }
    out
}

fn report(what: &str, ran: usize, failures: &[String]) {
    eprintln!("{what}: {ran} scenarios, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {ran} {what} scenarios failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn catalog_has_a_playbook_per_cause_with_scenarios_on_disk() {
    let c = load_catalog();
    assert_eq!(c.len(), 26, "one playbook per cause");
    let mut problems = Vec::new();
    for p in &c {
        if p.scenarios.len() < 2 {
            problems.push(format!("{}: fewer than two scenarios", p.id));
        }
        let mut fires = false;
        let mut look_alike = false;
        for s in &p.scenarios {
            let path = root().join(s);
            match load(&path) {
                Ok(sc) => {
                    if sc.expect["fires"].as_bool() == Some(true) {
                        fires = true;
                    } else {
                        look_alike = true;
                    }
                }
                Err(e) => problems.push(format!("{s}: {e}")),
            }
        }
        if !fires || !look_alike {
            problems.push(format!(
                "{}: needs a scenario where it fires and a look-alike where it does not",
                p.id
            ));
        }
        // No stray scenario files: everything in playbooks/<id>/ is listed.
        if let Ok(entries) = std::fs::read_dir(root().join(&p.id)) {
            for e in entries.flatten() {
                let rel = format!("{}/{}", p.id, e.file_name().to_string_lossy());
                if !p.scenarios.contains(&rel) {
                    problems.push(format!("{rel}: not listed in {}.toml `scenarios`", p.id));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The worlds are correct per AWS semantics as the authorizer models them: the decision before
/// any change is the one the scenario states (independent of diagnosis and synthesis).
#[test]
fn scenario_decisions_before() {
    let c = load_catalog();
    let list = scenarios(&c);
    let mut failures = Vec::new();
    for (_, name, path) in &list {
        let r = load(path).and_then(|sc| {
            let want = sc.expect["decision_before"].as_str().unwrap_or_default();
            let outcome =
                authorize(&sc.world, &sc.request).map_err(|e| format!("evaluation: {e}"))?;
            if outcome.decision.as_str() != want {
                let trace = serde_json::to_string(&outcome).unwrap_or_default();
                return Err(format!(
                    "decision_before: want {want}, got {}\n      trace: {trace}",
                    outcome.decision
                ));
            }
            Ok(())
        });
        if let Err(e) = r {
            failures.push(format!("  {name}: {e}"));
        }
    }
    report("playbook decision", list.len(), &failures);
}

fn target_type(c: &s3medic::plan::Change) -> String {
    serde_json::to_value(&c.target)
        .ok()
        .and_then(|v| v.get("type").and_then(Value::as_str).map(String::from))
        .unwrap_or_default()
}

/// Plans one scenario; `Err` lists every mismatch.
fn run(id: &str, path: &Path) -> Result<(), String> {
    let sc = load(path)?;
    let e = &sc.expect;
    let p = plan(&sc.world, &sc.request, &sc.options).map_err(|e| format!("plan: {e}"))?;
    let mut problems = Vec::new();

    let want = e["decision_before"].as_str().unwrap_or_default();
    if p.decision_before.as_str() != want {
        problems.push(format!(
            "decision_before: want {want}, got {}",
            p.decision_before
        ));
    }

    let causes: Vec<&str> = p.findings.iter().map(|f| f.cause.id()).collect();
    let fires = e["fires"].as_bool().unwrap_or_default();
    if causes.contains(&id) != fires {
        problems.push(format!("fires: want {fires}, findings are {causes:?}"));
    }

    let mut patched = sc.world.clone();
    apply_to_world(&mut patched, &p.changes).map_err(|e| format!("apply_to_world: {e}"))?;
    if let Some(want) = e.get("allowed_after").and_then(Value::as_bool) {
        let after = authorize(&patched, &sc.request).map_err(|e| format!("re-evaluation: {e}"))?;
        if after.decision.is_allowed() != want {
            problems.push(format!(
                "allowed_after: want {want}, got {}",
                after.decision
            ));
        }
        if want {
            match plan(&patched, &sc.request, &sc.options) {
                Ok(again) if again.has_changes() => problems.push(format!(
                    "not idempotent: re-planning the patched World still changes {:?}",
                    again.changes.iter().map(target_type).collect::<Vec<_>>()
                )),
                Ok(_) => {}
                Err(err) => problems.push(format!("re-plan: {err}")),
            }
        }
    }

    let got_targets: Vec<String> = p.changes.iter().map(target_type).collect();
    if let Some(want) = e.get("change_targets").and_then(Value::as_array) {
        let want: Vec<&str> = want.iter().filter_map(Value::as_str).collect();
        if got_targets != want {
            problems.push(format!(
                "change_targets: want {want:?}, got {got_targets:?}"
            ));
        }
    }

    if let Some(want) = e.get("manual").and_then(Value::as_bool) {
        let got = p.manual_steps.iter().any(|m| m.playbook == id);
        if got != want {
            let steps: Vec<&str> = p.manual_steps.iter().map(|m| m.playbook.as_str()).collect();
            problems.push(format!(
                "manual: want {want}, manual steps are from {steps:?}"
            ));
        }
    }

    if let Some(want) = e.get("new_access") {
        let got = serde_json::to_value(&p.proof.new_access).unwrap_or_default();
        if &got != want {
            problems.push(format!("new_access: want {want}, got {got}"));
        }
    }

    // Statements s3medic writes carry its Sid prefix.
    for c in &p.changes {
        let before = sids(&c.before);
        for sid in sids(&c.after) {
            if !before.contains(&sid) && !sid.starts_with(s3medic::plan::SID_PREFIX) {
                problems.push(format!(
                    "change {} adds a statement whose Sid `{sid}` lacks the `{}` prefix",
                    c.id,
                    s3medic::plan::SID_PREFIX
                ));
            }
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        let plan_json = serde_json::to_string(&p).unwrap_or_default();
        Err(format!("{}\n      plan: {plan_json}", problems.join("; ")))
    }
}

/// The Sids of a policy document's statements (unnamed ones as `#N`); empty for other documents.
fn sids(doc: &Value) -> Vec<String> {
    let stmts = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        _ => return Vec::new(),
    };
    stmts
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.get("Sid")
                .and_then(Value::as_str)
                .map(String::from)
                .unwrap_or_else(|| format!("#{i}"))
        })
        .filter(|s| !s.starts_with('#'))
        .collect()
}

#[test]
fn playbook_scenarios_plan() {
    let c = load_catalog();
    let list = scenarios(&c);
    let mut failures = Vec::new();
    for (id, name, path) in &list {
        if let Err(e) = run(id, path) {
            failures.push(format!("  {name}: {e}"));
        }
    }
    report("playbook plan", list.len(), &failures);
}
