//! The planner corpus: every `tests/plan_corpus/**/*.json` scenario is a request blocked by two or
//! three layers at once (plus, in some, a cause s3medic leaves to a person). For each, `plan()` must
//! name every expected cause, touch exactly the expected kinds of targets in the expected accounts,
//! list the expected manual steps and new access, and — applied to a copy of the World — make the
//! request allowed (or not, when a manual step remains). Re-planning the patched World must find
//! nothing left to do, and every statement s3medic adds must carry an `S3Medic…` Sid and never
//! grant a blanket action (`*`, `s3:*`, `kms:*`) or principal (`*`) — a Deny s3medic adds (the
//! caller's share of a deny it was exempted from, for everything but the request) takes access
//! away and keeps the wildcards of the deny it comes from; every added KMS statement must be
//! scoped with `kms:ViaService` (or, for a service principal, `aws:SourceArn`), and every added
//! service-principal statement pinned with `aws:SourceArn`. All mismatches are reported together.
//!
//! Scenario format:
//!
//! ```jsonc
//! {
//!   "description": "...",
//!   "source": "https://docs.aws.amazon.com/...",     // optional: the AWS page the expectation follows
//!   "world": <World> | "world_file": "relative/path.json",
//!   "request": <Request>,
//!   "options": {"allow_public": false, "allow_guardrail_change": false,
//!               "allow_deny_change": false, "accept_new_access": false},   // optional
//!   "expect": {
//!     "findings": ["cause-id", ...],          // the set of distinct cause ids in plan.findings
//!     "allowed_after": true,                  // the request after applying plan.changes
//!     "change_targets": ["bucket_policy"],    // optional: the set of change target types
//!     "change_accounts": ["111122223333"],    // optional: the set of accounts changes are made in
//!     "manual": ["guardrail-deny"],           // optional: the set of manual-step playbook ids
//!     "new_access": [{"principal", "action", "resource"}],  // optional: proof.new_access (as a set)
//!     "granted_principals": ["arn:aws:iam::444455556666:role/Reader", "service:cloudfront.amazonaws.com"]
//!                                             // optional: the principals named by statements s3medic adds
//!   }
//! }
//! ```

use std::collections::BTreeSet;
use std::path::Path;

#[path = "common/scenarios.rs"]
mod scenarios;
use scenarios::{load_world, read_scenario, run_all};

use s3medic::eval::authorize;
use s3medic::plan::{apply_to_world, plan, Change, Plan, PlanOptions, SID_PREFIX};
use s3medic::request::Request;
use serde_json::Value;

fn string_set(v: &Value, what: &str) -> Result<BTreeSet<String>, String> {
    v.as_array()
        .ok_or_else(|| format!("expect.{what} must be an array"))?
        .iter()
        .map(|s| {
            s.as_str()
                .map(String::from)
                .ok_or_else(|| format!("expect.{what} must hold strings"))
        })
        .collect()
}

fn options_of(sc: &Value) -> Result<PlanOptions, String> {
    let mut opts = PlanOptions::default();
    let Some(o) = sc.get("options") else {
        return Ok(opts);
    };
    let o = o.as_object().ok_or("`options` must be an object")?;
    for (k, v) in o {
        let b = v
            .as_bool()
            .ok_or_else(|| format!("options.{k} must be a bool"))?;
        match k.as_str() {
            "allow_public" => opts.allow_public = b,
            "allow_guardrail_change" => opts.allow_guardrail_change = b,
            "allow_deny_change" => opts.allow_deny_change = b,
            "accept_new_access" => opts.accept_new_access = b,
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(opts)
}

/// The statements of a policy document (object, JSON string, or `{"Policy": "<json>"}`); empty
/// for documents that are not policies (ownership controls, ACLs, origins ...).
fn statements(doc: &Value) -> Vec<Value> {
    match doc {
        Value::String(s) => serde_json::from_str::<Value>(s)
            .map(|v| statements(&v))
            .unwrap_or_default(),
        Value::Object(m) => match (m.get("Statement"), m.get("Policy")) {
            (Some(Value::Array(a)), _) => a.clone(),
            (Some(one @ Value::Object(_)), _) => vec![one.clone()],
            (None, Some(p)) => statements(p),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn as_list(v: Option<&Value>) -> Vec<Value> {
    match v {
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    }
}

/// Blanket actions a statement grants (`*`, `s3:*`, `kms:*`).
fn blanket_actions(st: &Value) -> BTreeSet<String> {
    as_list(st.get("Action"))
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_ascii_lowercase)
        .filter(|a| a == "*" || a == "s3:*" || a == "kms:*")
        .collect()
}

/// Whether a statement names every principal (`"*"` or `{"AWS": "*"}`).
fn blanket_principal(st: &Value) -> bool {
    match st.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => m
            .values()
            .flat_map(|v| as_list(Some(v)))
            .any(|p| p.as_str() == Some("*")),
        _ => false,
    }
}

/// The principals a statement names (`AWS` values as is, others as `service:NAME` etc.).
fn principals(st: &Value) -> Vec<String> {
    match st.get("Principal") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Object(m)) => m
            .iter()
            .flat_map(|(k, v)| {
                as_list(Some(v)).into_iter().filter_map(move |p| {
                    p.as_str().map(|p| {
                        if k == "AWS" {
                            p.to_string()
                        } else {
                            format!("{}:{p}", k.to_ascii_lowercase())
                        }
                    })
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a statement's Condition uses `key` (case-insensitive) under any operator.
fn has_condition_key(st: &Value, key: &str) -> bool {
    st.get("Condition")
        .and_then(Value::as_object)
        .is_some_and(|ops| {
            ops.values()
                .filter_map(Value::as_object)
                .any(|keys| keys.keys().any(|k| k.eq_ignore_ascii_case(key)))
        })
}

/// Checks the statements a change adds or edits; collects the principals added statements name.
fn check_statements(c: &Change, problems: &mut Vec<String>, granted: &mut BTreeSet<String>) {
    let before = statements(&c.before);
    let after = statements(&c.after);
    let label = format!("change {} ({})", c.id, c.resource);
    for (i, st) in after.iter().enumerate() {
        if before.contains(st) {
            continue;
        }
        let sid = st.get("Sid").and_then(Value::as_str);
        // The statement it edits in place, if any: same Sid, or (unnamed) the same position.
        let edited = match sid {
            Some(sid) => before
                .iter()
                .find(|b| b.get("Sid").and_then(Value::as_str) == Some(sid)),
            None => before.get(i).filter(|b| b.get("Sid").is_none()),
        };
        // A Deny takes access away: its wildcards grant nothing.
        let grants = st.get("Effect").and_then(Value::as_str) != Some("Deny");
        match edited {
            None => {
                if !sid.is_some_and(|s| s.starts_with(SID_PREFIX)) {
                    problems.push(format!(
                        "{label}: added statement without an `{SID_PREFIX}` Sid: {st}"
                    ));
                }
                if !grants {
                    continue;
                }
                let wild = blanket_actions(st);
                if !wild.is_empty() {
                    problems.push(format!("{label}: added statement grants {wild:?}: {st}"));
                }
                if blanket_principal(st) {
                    problems.push(format!(
                        "{label}: added statement names Principal \"*\": {st}"
                    ));
                }
                let names = principals(st);
                let service = names.iter().any(|p| p.starts_with("service:"));
                if service && !has_condition_key(st, "aws:SourceArn") {
                    problems.push(format!(
                        "{label}: added service-principal statement not pinned with aws:SourceArn: {st}"
                    ));
                }
                let kms = as_list(st.get("Action"))
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|a| a.to_ascii_lowercase().starts_with("kms:"));
                if kms && !service && !has_condition_key(st, "kms:ViaService") {
                    problems.push(format!(
                        "{label}: added KMS statement not scoped with kms:ViaService: {st}"
                    ));
                }
                granted.extend(names);
            }
            Some(_) if !grants => {}
            Some(old) => {
                let new_wild: BTreeSet<String> = blanket_actions(st)
                    .difference(&blanket_actions(old))
                    .cloned()
                    .collect();
                if !new_wild.is_empty() {
                    problems.push(format!(
                        "{label}: edited statement now grants {new_wild:?}: {st}"
                    ));
                }
                if blanket_principal(st) && !blanket_principal(old) {
                    problems.push(format!(
                        "{label}: edited statement now names Principal \"*\": {st}"
                    ));
                }
            }
        }
    }
}

fn compare_set(
    what: &str,
    want: &BTreeSet<String>,
    got: &BTreeSet<String>,
    problems: &mut Vec<String>,
) {
    if want != got {
        let missing: Vec<_> = want.difference(got).collect();
        let extra: Vec<_> = got.difference(want).collect();
        problems.push(format!(
            "{what}: want {want:?}, got {got:?} (missing {missing:?}, extra {extra:?})"
        ));
    }
}

fn plan_summary(p: &Plan) -> String {
    let findings: Vec<String> = p
        .findings
        .iter()
        .map(|f| format!("{} [{} on {}]", f.cause.id(), f.action, f.resource))
        .collect();
    let changes: Vec<String> = p
        .changes
        .iter()
        .map(|c| format!("{} {} @{}: {}", c.id, c.resource, c.account, c.summary))
        .collect();
    let manual: Vec<String> = p
        .manual_steps
        .iter()
        .map(|m| format!("{} ({}): {}", m.playbook, m.who, m.action))
        .collect();
    format!(
        "\n      findings: {findings:?}\n      changes: {changes:?}\n      manual: {manual:?}\n      after: {} (new access: {}, accepted: {})",
        p.proof.decision_after,
        p.proof.new_access.len(),
        p.proof.accepted
    )
}

/// Runs one scenario; `Err` describes every mismatch.
fn run(path: &Path) -> Result<(), String> {
    let sc = read_scenario(path)?;
    if sc.get("description").and_then(Value::as_str).is_none() {
        return Err("no description".into());
    }
    let world = load_world(&sc, path)?;
    let request = Request::from_value(sc.get("request").ok_or("no request")?)
        .map_err(|e| format!("request: {e}"))?;
    let opts = options_of(&sc)?;
    let expect = sc.get("expect").ok_or("no expect")?;
    let want_allowed = expect
        .get("allowed_after")
        .and_then(Value::as_bool)
        .ok_or("no expect.allowed_after")?;
    let want_findings = string_set(
        expect.get("findings").ok_or("no expect.findings")?,
        "findings",
    )?;

    let p = plan(&world, &request, &opts).map_err(|e| format!("plan error: {e}"))?;
    let mut problems = Vec::new();

    let got_findings: BTreeSet<String> = p
        .findings
        .iter()
        .map(|f| f.cause.id().to_string())
        .collect();
    compare_set("findings", &want_findings, &got_findings, &mut problems);

    if let Some(v) = expect.get("change_targets") {
        let want = string_set(v, "change_targets")?;
        let got: BTreeSet<String> = p
            .changes
            .iter()
            .map(|c| {
                serde_json::to_value(&c.target)
                    .ok()
                    .and_then(|t| t.get("type").and_then(Value::as_str).map(String::from))
                    .unwrap_or_else(|| "?".into())
            })
            .collect();
        compare_set("change_targets", &want, &got, &mut problems);
    }
    if let Some(v) = expect.get("change_accounts") {
        let want = string_set(v, "change_accounts")?;
        let got: BTreeSet<String> = p.changes.iter().map(|c| c.account.clone()).collect();
        compare_set("change_accounts", &want, &got, &mut problems);
    }
    if let Some(v) = expect.get("manual") {
        let want = string_set(v, "manual")?;
        let got: BTreeSet<String> = p.manual_steps.iter().map(|m| m.playbook.clone()).collect();
        compare_set("manual", &want, &got, &mut problems);
    }
    if let Some(v) = expect.get("new_access") {
        let key = |x: &Value| -> Result<String, String> {
            let f = |k: &str| {
                x.get(k)
                    .and_then(Value::as_str)
                    .map(String::from)
                    .ok_or_else(|| format!("expect.new_access items need `{k}`"))
            };
            Ok(format!(
                "{} | {} | {}",
                f("principal")?,
                f("action")?,
                f("resource")?
            ))
        };
        let want: BTreeSet<String> = v
            .as_array()
            .ok_or("expect.new_access must be an array")?
            .iter()
            .map(key)
            .collect::<Result<_, _>>()?;
        let got: BTreeSet<String> = p
            .proof
            .new_access
            .iter()
            .map(|n| format!("{} | {} | {}", n.principal, n.action, n.resource))
            .collect();
        compare_set("new_access", &want, &got, &mut problems);
    }

    let mut granted = BTreeSet::new();
    for c in &p.changes {
        check_statements(c, &mut problems, &mut granted);
    }
    if let Some(v) = expect.get("granted_principals") {
        let want = string_set(v, "granted_principals")?;
        compare_set("granted_principals", &want, &granted, &mut problems);
    }

    // Apply the plan to a copy of the World and re-evaluate.
    let mut patched = world.clone();
    match apply_to_world(&mut patched, &p.changes) {
        Err(e) => problems.push(format!("apply_to_world: {e}")),
        Ok(()) => {
            match authorize(&patched, &request) {
                Err(e) => problems.push(format!("authorize after apply: {e}")),
                Ok(outcome) => {
                    let allowed = outcome.decision.is_allowed();
                    if allowed != want_allowed {
                        problems.push(format!(
                            "allowed_after: want {want_allowed}, got {allowed} ({})",
                            outcome.decision
                        ));
                    }
                    if allowed != p.proof.target_allowed {
                        problems.push(format!(
                            "proof.target_allowed is {} but applying the changes gives {allowed}",
                            p.proof.target_allowed
                        ));
                    }
                }
            }
            // Idempotence: nothing left to do on the patched World.
            if want_allowed {
                match plan(&patched, &request, &opts) {
                    Err(e) => problems.push(format!("re-plan error: {e}")),
                    Ok(again) => {
                        if !again.changes.is_empty() || !again.findings.is_empty() {
                            problems.push(format!(
                                "not idempotent: re-planning the patched world gives {} change(s) and {} finding(s){}",
                                again.changes.len(),
                                again.findings.len(),
                                plan_summary(&again)
                            ));
                        }
                    }
                }
            }
        }
    }

    if std::env::var_os("PLAN_CORPUS_VERBOSE").is_some() {
        eprintln!("{}:{}", path.display(), plan_summary(&p));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}{}", problems.join("; "), plan_summary(&p)))
    }
}

#[test]
fn plan_corpus() {
    run_all("plan_corpus", 10, run);
}
