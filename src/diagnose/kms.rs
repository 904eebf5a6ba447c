//! The allow side of a KMS authorization (kms:Decrypt / kms:GenerateDataKey that S3 makes on the
//! caller's behalf): the AWS managed key across accounts, a CloudFront OAI, the key policy (a
//! direct grant, or a delegation to the caller's account that its IAM policies must then use),
//! KMS grants, and the caller's IAM policies. Mirrors [`crate::eval::combine`] with the resource
//! side required even in the same account.

use super::allow::{identity_side, identity_side_of, policy_grant};
use super::context::Cx;
use super::evidence::{missing, near_misses, setting};
use super::finding::{Cause, Finding};
use crate::eval::caller::{CallerKind, Named};
use crate::eval::Reason;
use crate::eval::{AuthorizationTrace, Layer, LayerOutcome};

fn key_account<'a>(cx: &'a Cx<'_>, key_arn: &'a str) -> Option<&'a str> {
    cx.world
        .kms_keys
        .iter()
        .find(|k| k.arn == key_arn)
        .map(|k| k.account_id.as_str())
        .or_else(|| key_arn.split(':').nth(4))
}

pub(crate) fn allow_side(
    cx: &Cx<'_>,
    i: usize,
    auth: &AuthorizationTrace<'_>,
    out: &mut Vec<Finding>,
) {
    let push = |out: &mut Vec<Finding>, cause, layer, explanation: String, evidence| {
        out.push(Finding {
            cause,
            authorization: i,
            action: auth.action.to_string(),
            resource: auth.resource.clone(),
            layer,
            explanation,
            evidence,
        })
    };
    let who = cx.who();
    let key = auth.resource.as_str();
    let rp = auth.layer(Layer::ResourcePolicy);
    if rp.is_some_and(|l| l.reason == Some(Reason::AwsManagedKeyCrossAccount)) {
        push(
            out,
            Cause::KmsAwsManagedCrossAccount,
            Layer::ResourcePolicy,
            format!(
                "the object is encrypted with the AWS managed key aws/s3 (`{key}`), which only principals of its own account can use, so {who} from another account cannot {}; re-encrypt with a customer managed key whose key policy allows the caller",
                auth.action
            ),
            vec![setting(key, "KeyManager", "AWS")],
        );
        return;
    }
    if cx.caller.kind == CallerKind::OriginAccessIdentity {
        push(
            out,
            Cause::CloudfrontOaiSseKms,
            Layer::ResourcePolicy,
            format!(
                "{who} cannot use KMS keys, so it cannot read objects encrypted with `{key}`; switch the distribution's origin to an origin access control (OAC) and allow it in the key policy"
            ),
            vec![setting(key, "caller", "CloudFront origin access identity")],
        );
        return;
    }
    let key_acct = key_account(cx, key);
    let kp = policy_grant(cx, rp);
    let grant = if auth
        .layer(Layer::KmsGrant)
        .is_some_and(|l| l.outcome == LayerOutcome::Allow)
    {
        Some(Named::Direct)
    } else {
        kp
    };
    let side = identity_side_of(cx, auth);
    let same = cx.caller.account.is_some() && cx.caller.account == key_acct;
    let key_policy_missing = |out: &mut Vec<Finding>, why: &str| {
        let mut ev = vec![missing(
            &auth.action,
            key,
            format!("key policy of `{key}` (and its grants)"),
        )];
        ev.extend(near_misses(rp));
        push(
            out,
            Cause::KmsKeyPolicyMissing,
            Layer::ResourcePolicy,
            format!(
                "the key policy of `{key}` neither allows {who} {} nor delegates to the caller's account (`arn:aws:iam::{}:root`){why}",
                auth.action,
                cx.caller.account.unwrap_or("ACCOUNT")
            ),
            ev,
        );
    };
    match cx.caller.kind {
        CallerKind::Anonymous => {
            push(
                out,
                Cause::KmsKeyPolicyMissing,
                Layer::ResourcePolicy,
                format!(
                    "anonymous callers cannot use the KMS key `{key}`, so SSE-KMS objects are never public; serve them through CloudFront with OAC (and allow it in the key policy) or use SSE-S3"
                ),
                vec![missing(&auth.action, key, format!("key policy of `{key}`"))],
            );
        }
        CallerKind::Service | CallerKind::OriginAccessIdentity => {
            if grant.is_some_and(|n| matches!(n, Named::Any | Named::Service | Named::Direct)) {
                return;
            }
            let mut ev = vec![missing(&auth.action, key, format!("key policy of `{key}`"))];
            ev.extend(near_misses(rp));
            push(
                out,
                Cause::KmsKeyPolicyMissing,
                Layer::ResourcePolicy,
                format!(
                    "the key policy of `{key}` does not allow {who} {}; for CloudFront OAC add a statement for the service principal with `AWS:SourceArn` set to the distribution's ARN",
                    auth.action
                ),
                ev,
            );
        }
        _ if same => {
            let direct = grant.is_some_and(|n| n != Named::Account && side.grant_effective(n));
            let delegated = grant == Some(Named::Account);
            if direct || (delegated && side.ok()) {
                return;
            }
            match grant {
                None => key_policy_missing(
                    out,
                    ", and in KMS the key policy must allow even callers of the key's own account",
                ),
                Some(Named::Role) => identity_side(
                    cx,
                    i,
                    auth,
                    &side,
                    Cause::KmsIdentityMissing,
                    "",
                    None,
                    true,
                    out,
                ),
                _ => identity_side(
                    cx,
                    i,
                    auth,
                    &side,
                    Cause::KmsIdentityMissing,
                    &format!(
                        ": the key policy of `{key}` delegates to the account's IAM policies, so one of them must allow it"
                    ),
                    None,
                    false,
                    out,
                ),
            }
        }
        _ => {
            if grant.is_none() {
                key_policy_missing(
                    out,
                    ", and a key in another account can be used only when its key policy allows the caller's account",
                );
            }
            if !side.ok() {
                identity_side(
                    cx,
                    i,
                    auth,
                    &side,
                    Cause::KmsIdentityMissing,
                    &format!(
                        ", and using a key of another account (`{}`) needs both the key policy and the caller's own IAM policy",
                        key_acct.unwrap_or("?")
                    ),
                    None,
                    false,
                    out,
                );
            }
        }
    }
}
