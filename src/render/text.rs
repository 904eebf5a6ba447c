//! The human-readable form of an authorization outcome: the verdict first, then what decided it,
//! then every authorization with its layers and the statements that took part.

use std::fmt::Write;

use crate::eval::{Decision, LayerOutcome, Outcome, StatementResult};
use crate::request::{PrincipalRef, Request};

/// Renders `outcome` of `request` for a terminal.
pub fn outcome(outcome: &Outcome<'_>, request: &Request) -> String {
    let mut s = String::new();
    let verdict = match outcome.decision {
        Decision::Allowed if outcome.status == 404 => {
            "ALLOWED (the key does not exist: 404 Not Found)".to_string()
        }
        Decision::Allowed => "ALLOWED".to_string(),
        Decision::ImplicitDeny => format!("DENIED (implicit deny, HTTP {})", outcome.status),
        Decision::ExplicitDeny => format!("DENIED (explicit deny, HTTP {})", outcome.status),
    };
    let _ = writeln!(s, "{verdict}");
    let _ = writeln!(s, "  request: {}", describe_request(request));
    if let Some(a) = outcome.deciding_authorization() {
        if let Some(layer) = a.deciding_layer {
            let verb = if outcome.decision.is_allowed() {
                "granted by"
            } else {
                "decided by"
            };
            let _ = writeln!(
                s,
                "  {verb}: {} ({}), for {} on {}",
                layer.title(),
                layer,
                a.action,
                a.resource
            );
        }
        for st in a.deciding_statements() {
            let _ = writeln!(
                s,
                "    statement {} in {}",
                quoted_name(&st.name()),
                st.policy
            );
        }
    }
    for (i, a) in outcome.authorizations.iter().enumerate() {
        let _ = writeln!(
            s,
            "\n  [{}] {} on {}  ({})  → {}",
            i + 1,
            a.action,
            a.resource,
            a.purpose,
            a.decision
        );
        for l in &a.layers {
            let mark = match l.outcome {
                LayerOutcome::Allow => "✔",
                LayerOutcome::Deny => "✘",
                LayerOutcome::NoMatch => "·",
                LayerOutcome::Skipped => "-",
                LayerOutcome::Unknown => "?",
            };
            let outcome_word = match l.outcome {
                LayerOutcome::Allow => "allows",
                LayerOutcome::Deny => "denies",
                LayerOutcome::NoMatch => "no allow",
                LayerOutcome::Skipped => "does not apply",
                LayerOutcome::Unknown => "unknown",
            };
            let decided = if a.deciding_layer == Some(l.layer) {
                "   ◀ decisive"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "      {mark} {}: {outcome_word}{decided}",
                l.layer.title()
            );
            if let Some(note) = &l.note {
                let _ = writeln!(s, "          {note}");
            }
            for st in &l.statements {
                let result = match st.result {
                    StatementResult::Matched => "matches".to_string(),
                    StatementResult::PrincipalMismatch => {
                        "does not apply to this principal".to_string()
                    }
                    StatementResult::ConditionFailed(i) => match st.condition {
                        Some((op, key)) => format!("condition {op} on {key} does not hold"),
                        None => format!("condition {i} does not hold"),
                    },
                    StatementResult::Discarded(d) => {
                        format!("matches but does not count: {}", d.explain())
                    }
                };
                let _ = writeln!(
                    s,
                    "          {:<5} {} in {}: {result}",
                    format!("{:?}", st.effect),
                    quoted_name(&st.name()),
                    st.policy
                );
            }
        }
    }
    if !outcome.unknowns.is_empty() {
        let _ = writeln!(
            s,
            "\n  not known (evaluated as absent; the decision may differ):"
        );
        for u in &outcome.unknowns {
            let _ = writeln!(s, "    ? {u}");
        }
    }
    if !outcome.notes.is_empty() {
        let _ = writeln!(s, "\n  notes:");
        for n in &outcome.notes {
            let _ = writeln!(s, "    - {n}");
        }
    }
    s
}

fn quoted_name(name: &str) -> String {
    if name.starts_with('#') {
        format!("statement {name}")
    } else {
        format!("`{name}`")
    }
}

fn describe_request(r: &Request) -> String {
    let who = match &r.principal {
        PrincipalRef::Anonymous => "anonymous".to_string(),
        PrincipalRef::Service { name } => format!("service {name}"),
        PrincipalRef::Account { account } => format!("root of account {account}"),
        other => other.arn().unwrap_or("?").to_string(),
    };
    let mut what = format!("{who} → {} s3://{}", r.target.name(), r.bucket);
    if let Some(k) = &r.key {
        let _ = write!(what, "/{k}");
    }
    if let Some(v) = &r.version_id {
        let _ = write!(what, " (version {v})");
    }
    if let Some(src) = &r.copy_source {
        let _ = write!(what, " from s3://{}/{}", src.bucket, src.key);
    }
    if let Some(v) = &r.vpc_endpoint {
        let _ = write!(what, " via {v}");
    }
    what
}
