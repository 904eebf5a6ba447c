//! The human-readable form of a plan: the headline (request, decision before → after), every
//! finding with its evidence, every change with its unified JSON diff, the manual steps, the proof
//! and what could not be checked. Also the report of a refused plan (unintended new access).
//!
//! Colour is ANSI escapes, on only when asked (the CLI decides: a terminal and no `NO_COLOR`).

use std::fmt::Write;

use serde_json::{json, Value};

use crate::diagnose::{Evidence, Finding};
use crate::eval::Decision;
use crate::plan::{Change, ChangeAction, ManualStep, NewAccess, Plan, Risk};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";

/// Wraps `text` in an ANSI style when colour is on.
fn paint(text: &str, style: &str, color: bool) -> String {
    if color && !text.is_empty() {
        format!("{style}{text}{RESET}")
    } else {
        text.to_string()
    }
}

/// Renders `plan` for a terminal.
pub fn plan_text(plan: &Plan, color: bool) -> String {
    let mut s = String::new();
    headline(&mut s, plan, color);
    findings(&mut s, &plan.findings, color);
    changes(&mut s, &plan.changes, color);
    manual_steps(&mut s, &plan.manual_steps, color);
    proof(&mut s, plan, color);
    unknowns(&mut s, &plan.unknowns, color);
    s
}

/// Renders the report of a plan whose proof is not accepted: the request, the new access it would
/// give, and the changes that would give it. Such a plan is not written.
pub fn refusal_text(plan: &Plan, color: bool) -> String {
    let mut s = String::new();
    let n = plan.proof.new_access.len();
    let _ = writeln!(
        s,
        "{}",
        paint(
            &format!(
                "REFUSED: the plan would also allow {n} other request{} (new access)",
                plural(n)
            ),
            &format!("{BOLD}{RED}"),
            color
        )
    );
    let _ = writeln!(s, "  request: {}", describe_request(&plan.request));
    let _ = writeln!(
        s,
        "  decision: {} → {} (with the plan)",
        decision_word(plan.decision_before),
        decision_word(plan.proof.decision_after)
    );
    section(
        &mut s,
        &format!(
            "New access ({n}, of {} requests checked)",
            plan.proof.requests_checked
        ),
        color,
    );
    for a in &plan.proof.new_access {
        let _ = writeln!(s, "  {} {}", paint("+", GREEN, color), access_line(a));
    }
    if !plan.changes.is_empty() {
        section(
            &mut s,
            &format!("Changes that would give it ({})", plan.changes.len()),
            color,
        );
        for c in &plan.changes {
            let _ = writeln!(
                s,
                "  {} {} {}: {}",
                c.id,
                action_word(c.action),
                c.resource,
                c.summary
            );
        }
    }
    let _ = writeln!(
        s,
        "\n  No plan was written. Re-run with --accept-new-access to accept this access, or make a \
         narrower change by hand."
    );
    s
}

/// The JSON report of a refused plan (`plan --output json` when the proof is not accepted). It is
/// deliberately not a plan file: it has no changes to apply.
pub fn refusal_json(plan: &Plan) -> Value {
    json!({
        "format_version": plan.format_version,
        "tool_version": plan.tool_version,
        "refused": "new_access",
        "request": plan.request,
        "decision_before": plan.decision_before,
        "decision_after": plan.proof.decision_after,
        "requests_checked": plan.proof.requests_checked,
        "requests_evaluated": plan.proof.requests_evaluated,
        "requests_skipped": plan.proof.requests_skipped,
        "new_access": plan.proof.new_access,
        "changes": plan.changes.iter().map(|c| json!({
            "id": c.id,
            "account": c.account,
            "resource": c.resource,
            "action": c.action,
            "summary": c.summary,
        })).collect::<Vec<_>>(),
    })
}

/// Colours a unified diff line by line: bold `---`/`+++` headers, cyan `@@` hunk headers, red
/// removals, green additions. Every line is indented by `indent`.
pub fn diff_text(diff: &str, indent: &str, color: bool) -> String {
    let mut s = String::new();
    for line in diff.lines() {
        let style = if line.starts_with("---") || line.starts_with("+++") {
            Some(BOLD)
        } else if line.starts_with("@@") {
            Some(CYAN)
        } else if line.starts_with('-') {
            Some(RED)
        } else if line.starts_with('+') {
            Some(GREEN)
        } else {
            None
        };
        let line = match style {
            Some(st) => paint(line, st, color),
            None => line.to_string(),
        };
        let _ = writeln!(s, "{indent}{line}");
    }
    s
}

fn headline(s: &mut String, plan: &Plan, color: bool) {
    let n = plan.changes.len();
    let m = plan.manual_steps.len();
    let allowed_after = plan.proof.target_allowed;
    let (text, style) = if n == 0 && m == 0 && plan.decision_before.is_allowed() {
        (
            "NOTHING TO CHANGE: the request is already allowed".to_string(),
            GREEN,
        )
    } else if n > 0 && allowed_after && m == 0 {
        (
            format!(
                "PLAN: {n} change{} make{} the request allowed",
                plural(n),
                if n == 1 { "s" } else { "" }
            ),
            YELLOW,
        )
    } else if n > 0 && allowed_after {
        (
            format!(
                "PLAN: {n} change{} make the request allowed; {m} manual step{} advised",
                plural(n),
                plural(m)
            ),
            YELLOW,
        )
    } else if n > 0 {
        (
            format!(
                "PLAN: {n} change{}, but the request stays denied: {m} manual step{} needed",
                plural(n),
                plural(m)
            ),
            RED,
        )
    } else {
        let steps = if m == 0 {
            "no manual step found either".to_string()
        } else {
            format!("{m} manual step{} needed", plural(m))
        };
        (
            format!("NO CHANGE s3medic can make: the request stays denied ({steps})"),
            RED,
        )
    };
    let _ = writeln!(s, "{}", paint(&text, &format!("{BOLD}{style}"), color));
    let _ = writeln!(s, "  request: {}", describe_request(&plan.request));
    if n == 0 {
        let _ = writeln!(
            s,
            "  decision: {} (no change)",
            decision_word(plan.decision_before)
        );
    } else {
        let _ = writeln!(
            s,
            "  decision: {} → {} (after the plan)",
            decision_word(plan.decision_before),
            decision_word(plan.proof.decision_after)
        );
    }
}

fn findings(s: &mut String, list: &[Finding], color: bool) {
    if list.is_empty() {
        return;
    }
    section(s, &format!("Findings ({})", list.len()), color);
    for (i, f) in list.iter().enumerate() {
        let _ = writeln!(
            s,
            "  [{}] {}  ({}, {})",
            i + 1,
            paint(f.cause.id(), BOLD, color),
            f.layer.title(),
            f.layer
        );
        let _ = writeln!(s, "      for {} on {}", f.action, f.resource);
        if !f.explanation.is_empty() {
            let _ = writeln!(s, "      {}", f.explanation);
        }
        for e in &f.evidence {
            let _ = writeln!(s, "      - {}", evidence_line(e));
        }
    }
}

pub(crate) fn evidence_line(e: &Evidence) -> String {
    match e {
        Evidence::Statement {
            policy,
            sid,
            index,
            effect,
            detail,
        } => {
            let name = match sid {
                Some(sid) if !sid.is_empty() => format!("`{sid}`"),
                _ => format!("#{index}"),
            };
            format!("{effect} statement {name} in {policy}: {detail}")
        }
        Evidence::Setting {
            resource,
            name,
            value,
        } => format!("setting {name} = {value} on {resource}"),
        Evidence::Missing {
            action,
            resource,
            looked_in,
        } => format!("no grant of {action} on {resource} in {looked_in}"),
    }
}

fn changes(s: &mut String, list: &[Change], color: bool) {
    if list.is_empty() {
        return;
    }
    section(
        s,
        &format!("Changes ({}, in apply order)", list.len()),
        color,
    );
    for (i, c) in list.iter().enumerate() {
        if i > 0 {
            let _ = writeln!(s);
        }
        let _ = writeln!(
            s,
            "  {} {}  {}",
            paint(&c.id, BOLD, color),
            paint(action_word(c.action), BOLD, color),
            c.resource
        );
        if !c.summary.is_empty() {
            let _ = writeln!(s, "      {}", c.summary);
        }
        let _ = writeln!(s, "      account:    {}", c.account);
        let _ = writeln!(s, "      target:     {}", target_line(&c.target));
        let risk = match c.risk {
            Risk::Low => paint("low", GREEN, color),
            Risk::Medium => paint("medium", YELLOW, color),
            Risk::High => paint("high", &format!("{BOLD}{RED}"), color),
        };
        let _ = writeln!(s, "      risk:       {risk}");
        let rev = if c.reversible {
            "yes".to_string()
        } else {
            match &c.rollback_caveat {
                Some(caveat) => format!("no: {caveat}"),
                None => "no".to_string(),
            }
        };
        let _ = writeln!(s, "      reversible: {rev}");
        if !c.playbooks.is_empty() {
            let _ = writeln!(s, "      playbooks:  {}", c.playbooks.join(", "));
        }
        let _ = writeln!(s, "      before:     {}", c.before_digest);
        let _ = writeln!(s);
        s.push_str(&diff_text(&c.diff, "    ", color));
    }
}

fn target_line(t: &crate::plan::Target) -> String {
    // The target's own tagged JSON, compact (e.g. {"type":"bucket_policy","bucket":"b"}).
    serde_json::to_string(t).unwrap_or_default()
}

fn manual_steps(s: &mut String, list: &[ManualStep], color: bool) {
    if list.is_empty() {
        return;
    }
    section(s, &format!("Manual steps ({})", list.len()), color);
    for (i, m) in list.iter().enumerate() {
        let _ = writeln!(
            s,
            "  [{}] {}: {}  ({})",
            i + 1,
            paint(&m.who, BOLD, color),
            m.action,
            m.playbook
        );
        if let Some(st) = &m.statement {
            let pretty = crate::plan::change::pretty_sorted(st);
            for line in pretty.lines() {
                let _ = writeln!(s, "      {line}");
            }
        }
    }
}

fn proof(s: &mut String, plan: &Plan, color: bool) {
    if plan.changes.is_empty() && plan.decision_before.is_allowed() {
        return;
    }
    let p = &plan.proof;
    section(s, "Proof (re-evaluation with the plan applied)", color);
    let target = if p.target_allowed {
        paint("allowed", GREEN, color)
    } else {
        paint(&format!("still denied ({})", p.decision_after), RED, color)
    };
    let _ = writeln!(s, "  the request:        {target}");
    let _ = write!(
        s,
        "  requests checked:   {} ({} evaluated",
        p.requests_checked, p.requests_evaluated
    );
    if p.requests_skipped > 0 {
        let _ = write!(s, "; {} could not be evaluated", p.requests_skipped);
    }
    let _ = writeln!(s, ")");
    if p.new_access.is_empty() {
        let _ = writeln!(s, "  new access:         none");
    } else {
        let _ = writeln!(
            s,
            "  new access:         {} request{}{}",
            p.new_access.len(),
            plural(p.new_access.len()),
            if p.accepted { " (accepted)" } else { "" }
        );
        for a in &p.new_access {
            let _ = writeln!(s, "    {} {}", paint("+", GREEN, color), access_line(a));
        }
    }
}

/// `principal action on resource`, and the source ARN a service principal acts for.
fn access_line(a: &NewAccess) -> String {
    match &a.source_arn {
        Some(src) => format!("{} {} on {} (for {src})", a.principal, a.action, a.resource),
        None => format!("{} {} on {}", a.principal, a.action, a.resource),
    }
}

fn unknowns(s: &mut String, list: &[String], color: bool) {
    if list.is_empty() {
        return;
    }
    section(
        s,
        "Could not check (unknown parts of the World, evaluated as absent)",
        color,
    );
    for u in list {
        let _ = writeln!(s, "  ? {u}");
    }
}

fn section(s: &mut String, title: &str, color: bool) {
    let _ = writeln!(s, "\n{}", paint(title, BOLD, color));
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub(crate) fn decision_word(d: Decision) -> &'static str {
    match d {
        Decision::Allowed => "allowed",
        Decision::ImplicitDeny => "denied (implicit deny)",
        Decision::ExplicitDeny => "denied (explicit deny)",
    }
}

pub(crate) fn action_word(a: ChangeAction) -> &'static str {
    match a {
        ChangeAction::Create => "create",
        ChangeAction::Update => "update",
        ChangeAction::Delete => "delete",
    }
}

/// One line for the request JSON of the plan (docs/formats.md Request).
pub(crate) fn describe_request(r: &Value) -> String {
    let who = match &r["principal"] {
        Value::String(p) => p.clone(),
        Value::Object(m) if m.get("Service").and_then(Value::as_str).is_some() => format!(
            "service {}",
            m.get("Service").and_then(Value::as_str).unwrap_or_default()
        ),
        Value::Null => "?".to_string(),
        other => other.to_string(),
    };
    let what = r["operation"]
        .as_str()
        .or_else(|| r["action"].as_str())
        .unwrap_or("?");
    let mut s = format!("{who} → {what} s3://{}", r["bucket"].as_str().unwrap_or(""));
    if let Some(k) = r["key"].as_str() {
        let _ = write!(s, "/{k}");
    }
    if let Some(v) = r["version_id"].as_str() {
        let _ = write!(s, " (version {v})");
    }
    match &r["copy_source"] {
        Value::Object(c) => {
            let _ = write!(
                s,
                " from s3://{}/{}",
                c.get("bucket").and_then(Value::as_str).unwrap_or(""),
                c.get("key").and_then(Value::as_str).unwrap_or("")
            );
        }
        Value::String(c) => {
            let _ = write!(s, " from s3://{c}");
        }
        _ => {}
    }
    if let Some(v) = r["vpc_endpoint"].as_str() {
        let _ = write!(s, " via {v}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_is_coloured_only_when_asked() {
        let d = "--- a (before)\n+++ a (after)\n@@ -1,2 +1,3 @@\n {\n-  \"x\": 1\n+  \"x\": 2\n";
        let plain = diff_text(d, "", false);
        assert_eq!(plain, d);
        let c = diff_text(d, "", true);
        assert!(c.contains("\x1b[31m-  \"x\": 1\x1b[0m"), "{c:?}");
        assert!(c.contains("\x1b[32m+  \"x\": 2\x1b[0m"), "{c:?}");
        assert!(c.contains("\x1b[36m@@ -1,2 +1,3 @@\x1b[0m"), "{c:?}");
        assert!(c.contains("\x1b[1m--- a (before)\x1b[0m"), "{c:?}");
        assert!(c.contains("\n {\n"), "context lines stay plain: {c:?}");
    }

    #[test]
    fn request_line_covers_service_principals_and_copy_sources() {
        let r = json!({"principal": {"Service": "cloudfront.amazonaws.com"}, "operation": "GetObject",
            "bucket": "b", "key": "k", "copy_source": {"bucket": "s", "key": "a"}, "vpc_endpoint": "vpce-1"});
        assert_eq!(
            describe_request(&r),
            "service cloudfront.amazonaws.com → GetObject s3://b/k from s3://s/a via vpce-1"
        );
    }
}
