//! Refusals: the request itself is rejected before (or regardless of) policies — Requester Pays
//! without the header, an expired / not-yet-valid / over-long presigned URL, an ACL on a
//! Bucket-owner-enforced bucket, a public ACL under BlockPublicAcls, a disabled KMS key, and the
//! 403 S3 answers for a missing key when the caller may not list the bucket.

use super::context::{split_s3_arn, Cx};
use super::evidence::{missing, setting};
use super::finding::{Cause, Evidence, Finding};
use crate::eval::caller::CallerKind;
use crate::eval::Reason;
use crate::eval::{AuthorizationTrace, Layer, LayerOutcome};
use crate::world::Part;

pub(crate) fn refusals(
    cx: &Cx<'_>,
    i: usize,
    auth: &AuthorizationTrace<'_>,
    out: &mut Vec<Finding>,
) {
    for l in &auth.layers {
        if l.outcome != LayerOutcome::Deny {
            continue;
        }
        let note = l.note.as_deref().unwrap_or_default().to_string();
        let push = |out: &mut Vec<Finding>, cause, explanation: String, evidence| {
            out.push(Finding {
                cause,
                authorization: i,
                action: auth.action.to_string(),
                resource: auth.resource.clone(),
                layer: l.layer,
                explanation,
                evidence,
            })
        };
        let bucket_name = split_s3_arn(&auth.resource)
            .map(|(b, _)| b)
            .unwrap_or(cx.request.bucket.as_str());
        let bucket = cx.world.bucket(bucket_name);
        let bucket_arn = bucket
            .map(|b| b.arn())
            .unwrap_or_else(|| format!("arn:aws:s3:::{bucket_name}"));
        match l.layer {
            Layer::Request => {
                let requester_pays = l.reason == Some(Reason::RequesterPays);
                if requester_pays {
                    let explanation = if cx.caller.kind == CallerKind::Anonymous {
                        format!(
                            "bucket `{bucket_name}` is Requester Pays, which anonymous requests cannot use; sign the request with AWS credentials and send `x-amz-request-payer: requester`"
                        )
                    } else {
                        format!(
                            "bucket `{bucket_name}` is Requester Pays and {} is not in the bucket owner's account, so the request must send `x-amz-request-payer: requester`",
                            cx.who()
                        )
                    };
                    push(
                        out,
                        Cause::RequesterPaysHeader,
                        explanation,
                        vec![
                            setting(&bucket_arn, "Payer", "Requester"),
                            setting("request", "x-amz-request-payer", "(not sent)"),
                        ],
                    );
                } else {
                    let mut ev = Vec::new();
                    if let Some(p) = &cx.request.presigned {
                        ev.push(setting("presigned URL", "X-Amz-Date", p.signed_at.clone()));
                        ev.push(setting(
                            "presigned URL",
                            "X-Amz-Expires",
                            p.expires_in.to_string(),
                        ));
                        if let Some(c) = &p.credential_expires_at {
                            ev.push(setting("presigned URL", "credential expiry", c.clone()));
                        }
                    }
                    push(
                        out,
                        Cause::PresignedUrlExpired,
                        format!(
                            "the presigned URL is not valid at the time of the request ({note}); sign a new URL (at most 7 days, and within the signer's credential lifetime)"
                        ),
                        ev,
                    );
                }
            }
            Layer::ObjectOwnership => {
                let mut ev = vec![setting(
                    &bucket_arn,
                    "ObjectOwnership",
                    "BucketOwnerEnforced",
                )];
                if let Some(acl) = cx.request.header("x-amz-acl") {
                    ev.push(setting("request", "x-amz-acl", acl));
                }
                for (k, v) in &cx.request.headers {
                    if k.starts_with("x-amz-grant-") {
                        ev.push(setting("request", k, v.clone()));
                    }
                }
                push(
                    out,
                    Cause::AclNotSupported,
                    format!(
                        "bucket `{bucket_name}` has ACLs disabled (Object Ownership: Bucket owner enforced), so S3 rejects a request carrying an ACL other than bucket-owner-full-control; drop the ACL header"
                    ),
                    ev,
                );
            }
            Layer::BlockPublicAccess if l.reason == Some(Reason::BlockPublicAcls) => {
                let at_bucket = bucket.is_some_and(
                    |b| matches!(&b.public_access_block, Part::Known(p) if p.block_public_acls),
                );
                let mut ev: Vec<Evidence> = Vec::new();
                if at_bucket {
                    ev.push(setting(&bucket_arn, "BlockPublicAcls", "true"));
                } else if let Some(acct) = bucket.map(|b| b.account_id.as_str()) {
                    ev.push(setting(
                        &format!("account {acct}"),
                        "BlockPublicAcls",
                        "true",
                    ));
                }
                if let Some(acl) = cx.request.header("x-amz-acl") {
                    ev.push(setting("request", "x-amz-acl", acl));
                }
                push(
                    out,
                    Cause::BpaRejectsPublicAcl,
                    format!(
                        "Block Public Access (BlockPublicAcls) on bucket `{bucket_name}` rejects requests that set a public ACL; send a private ACL (or none) instead"
                    ),
                    ev,
                );
            }
            Layer::KmsKeyState => {
                let state = cx
                    .world
                    .kms_keys
                    .iter()
                    .find(|k| k.arn == auth.resource)
                    .and_then(|k| k.key_state.clone())
                    .unwrap_or_else(|| "Disabled".to_string());
                push(
                    out,
                    Cause::KmsKeyDisabled,
                    format!(
                        "the KMS key `{}` is not enabled (state {state}), so S3 cannot call {} with it for any caller; enable the key (or cancel its deletion)",
                        auth.resource, auth.action
                    ),
                    vec![setting(&auth.resource, "KeyState", state)],
                );
            }
            Layer::Existence => {
                let key = cx.request.key.as_deref().unwrap_or("");
                push(
                    out,
                    Cause::MissingKeyNoList,
                    format!(
                        "the key `{key}` does not exist in bucket `{bucket_name}`, and because {} may not s3:ListBucket the bucket S3 answers 403 instead of 404; check the key, or grant s3:ListBucket to see 404",
                        cx.who()
                    ),
                    vec![missing(
                        "s3:ListBucket",
                        &bucket_arn,
                        format!(
                            "identity policies of {} and bucket policy of `{bucket_name}`",
                            cx.caller_arn()
                        ),
                    )],
                );
            }
            _ => {}
        }
    }
}
