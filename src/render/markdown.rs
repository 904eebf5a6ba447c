//! A saved plan as Markdown, for a change ticket or a pull request (`s3medic show --format
//! markdown`): the request and its decision before and after, a table of causes with their
//! evidence, each change with its target, risk flags, playbooks, a fenced JSON diff and what
//! rollback cannot undo, the manual steps, the proof, and the plan id, time and digests. Pure: it
//! returns a string.

use std::fmt::Write;

use serde_json::Value;

use super::plan::{action_word, decision_word, describe_request, evidence_line};
use crate::apply::target_label;
use crate::diagnose::Cause;
use crate::eval::public::statement_is_public;
use crate::eval::Decision;
use crate::plan::{digest, Change, ChangeAction, Plan, Risk, Target};
use crate::policy::{parse_policy_value, Effect};

/// Where a saved plan comes from: the facts about the file that the plan itself does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSource {
    /// The file as the reader should see it (usually its file name).
    pub file: String,
    /// `sha256:` digest of the plan file's canonical JSON (what `apply` reports as `plan_id`).
    pub plan_id: String,
    /// When the plan was made.
    pub created: Created,
}

/// When a plan was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// Recorded in the plan file (`created_at`).
    Recorded(String),
    /// Not recorded: the plan file's modification time (RFC 3339, UTC).
    FileTime(String),
    /// Neither is known.
    Unknown,
}

impl Created {
    /// `2026-01-02T03:04:05Z`, with where the time comes from when it is not recorded.
    pub fn describe(&self) -> String {
        match self {
            Created::Recorded(t) => t.clone(),
            Created::FileTime(t) => format!("{t} (file modification time)"),
            Created::Unknown => "unknown".to_string(),
        }
    }
}

/// A risk flag of a change: what the planner only does when told to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskFlag {
    /// Makes something public (Block Public Access off, a grant to everyone): `--allow-public`.
    Public,
    /// Weakens a guardrail deny (TLS, network, encryption, organization): `--allow-guardrail-change`.
    Guardrail,
    /// Exempts the caller from an explicit deny: `--allow-deny-change`.
    Deny,
}

impl RiskFlag {
    pub fn name(self) -> &'static str {
        match self {
            RiskFlag::Public => "public",
            RiskFlag::Guardrail => "guardrail",
            RiskFlag::Deny => "deny",
        }
    }

    /// The `plan` flag that allows it.
    pub fn cli_flag(self) -> &'static str {
        match self {
            RiskFlag::Public => "--allow-public",
            RiskFlag::Guardrail => "--allow-guardrail-change",
            RiskFlag::Deny => "--allow-deny-change",
        }
    }
}

/// The risk flags of `change`: from the causes it fixes, and (public) from what it writes — a
/// Block Public Access setting turned off, or a new Allow statement for every principal.
pub fn risk_flags(change: &Change) -> Vec<RiskFlag> {
    let causes: Vec<Option<Cause>> = change
        .playbooks
        .iter()
        .map(|id| Cause::from_id(id))
        .collect();
    let has = |c: Cause| causes.contains(&Some(c));
    let mut out = Vec::new();
    if has(Cause::BpaBlocksPublicAccess) || turns_public(change) {
        out.push(RiskFlag::Public);
    }
    if has(Cause::GuardrailDeny) {
        out.push(RiskFlag::Guardrail);
    }
    if has(Cause::BucketPolicyDeny) || has(Cause::IdentityDeny) {
        out.push(RiskFlag::Deny);
    }
    out
}

/// Whether `change` turns a Block Public Access setting off or adds a public Allow statement.
fn turns_public(change: &Change) -> bool {
    match &change.target {
        Target::BucketPublicAccessBlock { .. } | Target::AccountPublicAccessBlock { .. } => {
            let settings = |v: &Value| {
                v.get("PublicAccessBlockConfiguration")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default()
            };
            let (before, after) = (settings(&change.before), settings(&change.after));
            before.iter().any(|(k, v)| {
                v.as_bool() == Some(true) && after.get(k).and_then(Value::as_bool) != Some(true)
            }) || (change.after.is_null() && !before.is_empty())
        }
        _ => adds_public_statement(&change.before, &change.after),
    }
}

/// Whether the policy `after` has an Allow statement that `before` lacks and that is public by
/// the rules Block Public Access applies (`eval::public`: an open principal not pinned by a
/// condition on the source account, ARN, VPC or a fixed IP range).
fn adds_public_statement(before: &Value, after: &Value) -> bool {
    let parse = |doc: &Value| {
        let doc = match doc {
            Value::String(s) => serde_json::from_str(s).ok()?,
            other => other.clone(),
        };
        parse_policy_value(&doc).ok()
    };
    let Some(after) = parse(after) else {
        return false;
    };
    let before = parse(before);
    after
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow && statement_is_public(s))
        .any(|s| !before.as_ref().is_some_and(|b| b.statements.contains(s)))
}

/// The API call that writes `target` for `action`.
fn api_call(target: &Target, action: ChangeAction) -> &'static str {
    match (target, action) {
        (Target::BucketPolicy { .. }, ChangeAction::Delete) => "DeleteBucketPolicy",
        (Target::BucketPolicy { .. }, _) => "PutBucketPolicy",
        (Target::BucketOwnership { .. }, ChangeAction::Delete) => "DeleteBucketOwnershipControls",
        (Target::BucketOwnership { .. }, _) => "PutBucketOwnershipControls",
        (Target::BucketAcl { .. }, _) => "PutBucketAcl",
        (Target::BucketPublicAccessBlock { .. }, ChangeAction::Delete) => "DeletePublicAccessBlock",
        (Target::BucketPublicAccessBlock { .. }, _) => "PutPublicAccessBlock",
        (Target::AccountPublicAccessBlock { .. }, ChangeAction::Delete) => {
            "s3control DeletePublicAccessBlock"
        }
        (Target::AccountPublicAccessBlock { .. }, _) => "s3control PutPublicAccessBlock",
        (Target::InlinePolicy { principal, .. }, ChangeAction::Delete) => match principal {
            crate::plan::PrincipalType::User => "DeleteUserPolicy",
            crate::plan::PrincipalType::Role => "DeleteRolePolicy",
        },
        (Target::InlinePolicy { principal, .. }, _) => match principal {
            crate::plan::PrincipalType::User => "PutUserPolicy",
            crate::plan::PrincipalType::Role => "PutRolePolicy",
        },
        (Target::ManagedPolicy { .. }, _) => "CreatePolicyVersion (as default)",
        (Target::KeyPolicy { .. }, _) => "PutKeyPolicy",
        (Target::DistributionOrigin { .. }, _) => "UpdateDistribution (If-Match)",
    }
}

/// Renders a saved plan as Markdown.
pub fn plan_markdown(plan: &Plan, source: &PlanSource) -> String {
    let mut s = String::new();
    title(&mut s, plan, source);
    causes(&mut s, plan);
    changes(&mut s, &plan.changes);
    manual_steps(&mut s, plan);
    proof(&mut s, plan);
    unknowns(&mut s, &plan.unknowns);
    digests(&mut s, plan);
    s
}

fn title(s: &mut String, plan: &Plan, source: &PlanSource) {
    let r = &plan.request;
    let what = r["operation"]
        .as_str()
        .or_else(|| r["action"].as_str())
        .unwrap_or("?");
    let mut target = format!("s3://{}", r["bucket"].as_str().unwrap_or(""));
    if let Some(k) = r["key"].as_str() {
        let _ = write!(target, "/{k}");
    }
    let _ = writeln!(s, "# s3medic plan: {} {}\n", code(what), code(&target));
    let n = plan.changes.len();
    let m = plan.manual_steps.len();
    let after = if n == 0 {
        format!("{} (no change)", decision_word(plan.decision_before))
    } else {
        format!(
            "{} → **{}** with the plan",
            decision_word(plan.decision_before),
            decision_word(plan.proof.decision_after)
        )
    };
    let _ = writeln!(s, "- **Request:** {}", code(&describe_request(r)));
    let _ = writeln!(s, "- **Decision:** {after}");
    let _ = writeln!(s, "- **Outcome:** {}", outcome(plan, n, m));
    let _ = writeln!(
        s,
        "- **Plan id:** {} (SHA-256 of the plan file; `apply` reports it)",
        code(&source.plan_id)
    );
    let _ = writeln!(s, "- **Created:** {}", source.created.describe());
    let _ = writeln!(
        s,
        "- **Plan file:** {} (format {}, planned by s3medic {})",
        code(&source.file),
        plan.format_version,
        plan.tool_version
    );
}

/// One sentence: what applying the plan achieves.
fn outcome(plan: &Plan, n: usize, m: usize) -> String {
    let allowed_after = plan.proof.target_allowed;
    let changes = format!("{n} change{}", plural(n));
    let steps = format!("{m} manual step{}", plural(m));
    if n == 0 && m == 0 && plan.decision_before.is_allowed() {
        "nothing to change: the request is already allowed".to_string()
    } else if n > 0 && allowed_after && m == 0 {
        format!("{changes} make{} the request allowed", verb_s(n))
    } else if n > 0 && allowed_after {
        format!(
            "{changes} make{} the request allowed; {steps} advised",
            verb_s(n)
        )
    } else if n > 0 {
        format!("{changes}, but the request stays denied: {steps} needed")
    } else if m == 0 {
        "no change s3medic can make, and no manual step found: the request stays denied".into()
    } else {
        format!("no change s3medic can make: the request stays denied ({steps} needed)")
    }
}

fn causes(s: &mut String, plan: &Plan) {
    if plan.findings.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n## Causes ({})\n", plan.findings.len());
    let _ = writeln!(s, "| # | Cause | Layer | Blocks | Evidence |");
    let _ = writeln!(s, "| --- | --- | --- | --- | --- |");
    for (i, f) in plan.findings.iter().enumerate() {
        let evidence: Vec<String> = f.evidence.iter().map(|e| cell(&evidence_line(e))).collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} ({}) | {} on {} | {} |",
            i + 1,
            code(f.cause.id()),
            f.layer.title(),
            code(f.layer.as_str()),
            code(&f.action),
            code(&f.resource),
            if evidence.is_empty() {
                "—".to_string()
            } else {
                evidence.join("<br>")
            }
        );
    }
    let explained: Vec<_> = plan
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.explanation.is_empty())
        .collect();
    if !explained.is_empty() {
        let _ = writeln!(s);
        for (i, f) in explained {
            let _ = writeln!(s, "{}. {}: {}", i + 1, code(f.cause.id()), f.explanation);
        }
    }
}

fn changes(s: &mut String, list: &[Change]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n## Changes ({}, in apply order)", list.len());
    for c in list {
        let _ = writeln!(
            s,
            "\n### {}: {} {}\n",
            c.id,
            action_word(c.action),
            target_label(&c.target)
        );
        if !c.summary.is_empty() {
            let _ = writeln!(s, "{}\n", c.summary);
        }
        let _ = writeln!(
            s,
            "- **Resource:** {} in account {}",
            code(&c.resource),
            code(&c.account)
        );
        let _ = writeln!(
            s,
            "- **Target:** {} ({})",
            target_label(&c.target),
            code(api_call(&c.target, c.action))
        );
        let flags = risk_flags(c);
        let flags = if flags.is_empty() {
            "none".to_string()
        } else {
            flags
                .iter()
                .map(|f| format!("**{}** (needs {})", f.name(), code(f.cli_flag())))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(s, "- **Risk:** {}; flags: {flags}", risk_word(c.risk));
        let playbooks = if c.playbooks.is_empty() {
            "—".to_string()
        } else {
            c.playbooks
                .iter()
                .map(|p| code(p))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(s, "- **Playbooks:** {playbooks}");
        let rollback = if c.reversible {
            "fully reversible (`s3medic rollback` restores the document `apply` saved)".to_string()
        } else {
            match &c.rollback_caveat {
                Some(caveat) => format!("**not fully reversible:** {caveat}"),
                None => "**not fully reversible**".to_string(),
            }
        };
        let _ = writeln!(s, "- **Rollback:** {rollback}");
        let _ = writeln!(s, "- **Before digest:** {}\n", code(&c.before_digest));
        fenced(s, "diff", &c.diff);
    }
}

fn manual_steps(s: &mut String, plan: &Plan) {
    if plan.manual_steps.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n## Manual steps ({})\n", plan.manual_steps.len());
    for (i, m) in plan.manual_steps.iter().enumerate() {
        let _ = writeln!(
            s,
            "{}. **{}** ({}): {}",
            i + 1,
            m.who,
            code(&m.playbook),
            m.action
        );
        if let Some(st) = &m.statement {
            let _ = writeln!(s);
            let body = crate::plan::change::pretty_sorted(st);
            let mut block = String::new();
            fenced(&mut block, "json", &body);
            for line in block.lines() {
                if line.is_empty() {
                    let _ = writeln!(s);
                } else {
                    let _ = writeln!(s, "   {line}");
                }
            }
        }
    }
}

fn proof(s: &mut String, plan: &Plan) {
    if plan.changes.is_empty() && plan.decision_before.is_allowed() {
        return;
    }
    let p = &plan.proof;
    let _ = writeln!(s, "\n## Proof (re-evaluation with the plan applied)\n");
    let target = if p.target_allowed {
        "**allowed**".to_string()
    } else {
        match p.decision_after {
            Decision::ExplicitDeny => "**still denied** (explicit deny)".to_string(),
            _ => "**still denied** (implicit deny)".to_string(),
        }
    };
    let _ = writeln!(s, "- **The request:** {target}");
    let mut checked = format!("{} ({} evaluated", p.requests_checked, p.requests_evaluated);
    if p.requests_skipped > 0 {
        let _ = write!(checked, "; {} could not be evaluated", p.requests_skipped);
    }
    checked.push(')');
    let _ = writeln!(s, "- **Other requests checked:** {checked}");
    if p.new_access.is_empty() {
        let _ = writeln!(
            s,
            "- **New access:** none: no other request the World can express gains access"
        );
        return;
    }
    let n = p.new_access.len();
    let _ = writeln!(
        s,
        "- **New access:** {n} other request{} become{} allowed{}\n",
        plural(n),
        verb_s(n),
        if p.accepted {
            " (accepted with `--accept-new-access`)"
        } else {
            " (not accepted)"
        }
    );
    let _ = writeln!(s, "| Principal | Action | Resource |");
    let _ = writeln!(s, "| --- | --- | --- |");
    for a in &p.new_access {
        let principal = match &a.source_arn {
            Some(src) => format!("{} (for {})", code(&a.principal), code(src)),
            None => code(&a.principal),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            cell(&principal),
            code(&a.action),
            code(&a.resource)
        );
    }
}

fn unknowns(s: &mut String, list: &[String]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n## Not checked (unknown parts of the World, evaluated as absent)\n"
    );
    for u in list {
        let _ = writeln!(s, "- {u}");
    }
}

fn digests(s: &mut String, plan: &Plan) {
    if plan.changes.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n## Digests\n");
    let _ = writeln!(
        s,
        "`apply` refuses a change whose resource no longer has its `before` digest.\n"
    );
    let _ = writeln!(s, "| Change | Resource | Before | After |");
    let _ = writeln!(s, "| --- | --- | --- | --- |");
    for c in &plan.changes {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            c.id,
            code(&c.resource),
            code(&c.before_digest),
            code(&digest(&c.after))
        );
    }
}

/// A code span that survives any backticks in `text`, with `|` escaped for tables.
fn code(text: &str) -> String {
    let longest = longest_backtick_run(text);
    let ticks = "`".repeat(longest + 1);
    let pad = if longest > 0 || text.starts_with(' ') || text.ends_with(' ') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{}{pad}{ticks}", text.replace('|', "\\|"))
}

/// Text for a table cell: one line, `|` escaped.
fn cell(text: &str) -> String {
    let one_line = text.replace(['\r', '\n'], " ");
    // `code` already escaped its pipes; escape only bare ones.
    let mut out = String::with_capacity(one_line.len());
    let mut prev = '\0';
    for ch in one_line.chars() {
        if ch == '|' && prev != '\\' {
            out.push('\\');
        }
        out.push(ch);
        prev = ch;
    }
    out
}

/// A fenced code block whose fence is longer than any backtick run in `body`.
fn fenced(s: &mut String, lang: &str, body: &str) {
    let fence = "`".repeat((longest_backtick_run(body) + 1).max(3));
    let _ = writeln!(s, "{fence}{lang}");
    s.push_str(body);
    if !body.ends_with('\n') {
        s.push('\n');
    }
    let _ = writeln!(s, "{fence}");
}

fn longest_backtick_run(text: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for ch in text.chars() {
        if ch == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

fn risk_word(r: Risk) -> &'static str {
    match r {
        Risk::Low => "low",
        Risk::Medium => "medium",
        Risk::High => "**high**",
    }
}

/// The `s` of a verb whose subject is `n` things.
fn verb_s(n: usize) -> &'static str {
    if n == 1 {
        "s"
    } else {
        ""
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(target: Target, before: Value, after: Value, playbooks: &[&str]) -> Change {
        Change {
            id: "c1".into(),
            account: "111122223333".into(),
            resource: "arn:aws:s3:::b".into(),
            target,
            action: ChangeAction::Update,
            before_digest: digest(&before),
            diff: crate::plan::unified_diff("arn:aws:s3:::b", &before, &after),
            before,
            after,
            risk: Risk::Low,
            reversible: true,
            rollback_caveat: None,
            playbooks: playbooks.iter().map(|p| p.to_string()).collect(),
            summary: String::new(),
        }
    }

    #[test]
    fn public_flag_from_bpa_off_and_from_a_new_public_statement() {
        let bpa = Target::BucketPublicAccessBlock { bucket: "b".into() };
        let on = json!({"PublicAccessBlockConfiguration": {"BlockPublicPolicy": true, "RestrictPublicBuckets": true}});
        let off = json!({"PublicAccessBlockConfiguration": {"BlockPublicPolicy": true, "RestrictPublicBuckets": false}});
        assert_eq!(
            risk_flags(&change(bpa.clone(), on.clone(), off, &[])),
            vec![RiskFlag::Public]
        );
        assert!(risk_flags(&change(bpa, on.clone(), on, &[])).is_empty());

        let pol = Target::BucketPolicy { bucket: "b".into() };
        let grant = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:GetObject", "Resource": "*"});
        let public =
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"});
        let deny_all =
            json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"});
        let before = json!({"Statement": [grant.clone()]});
        let after = json!({"Statement": [grant.clone(), public.clone()]});
        assert_eq!(
            risk_flags(&change(pol.clone(), before.clone(), after, &[])),
            vec![RiskFlag::Public]
        );
        // A public Deny is no grant; a public statement already there is not new.
        let kept = json!({"Statement": [grant.clone(), deny_all]});
        assert!(risk_flags(&change(pol.clone(), before.clone(), kept, &[])).is_empty());
        let was_public = json!({"Statement": [public.clone()]});
        let still_public = json!({"Statement": [public, grant]});
        assert!(risk_flags(&change(pol.clone(), was_public, still_public, &[])).is_empty());
        // An open principal pinned to one source ARN is not public (the Block Public Access
        // rules); the same rules apply to a document given as a JSON string.
        let pinned = json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::1:distribution/E1"}}});
        let with_pinned = json!({"Statement": [grant.clone(), pinned]});
        assert!(risk_flags(&change(pol.clone(), before.clone(), with_pinned, &[])).is_empty());
        let public_text = json!({"Statement": [grant, json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"})]}).to_string();
        assert_eq!(
            risk_flags(&change(pol, before, Value::String(public_text), &[])),
            vec![RiskFlag::Public]
        );
    }

    #[test]
    fn guardrail_and_deny_flags_come_from_the_causes() {
        let pol = Target::BucketPolicy { bucket: "b".into() };
        let c = change(
            pol,
            json!({"Statement": []}),
            json!({"Statement": []}),
            &["guardrail-deny", "identity-deny"],
        );
        assert_eq!(risk_flags(&c), vec![RiskFlag::Guardrail, RiskFlag::Deny]);
    }

    #[test]
    fn code_spans_and_fences_survive_backticks_and_pipes() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("x|y"), "`x\\|y`");
        let mut s = String::new();
        fenced(&mut s, "diff", "+ \"```\"\n");
        assert!(
            s.starts_with("````diff\n") && s.ends_with("\n````\n"),
            "{s}"
        );
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(cell(&code("x|y")), "`x\\|y`");
    }
}
