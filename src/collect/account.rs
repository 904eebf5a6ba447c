//! Account-level data: an account's canonical user id and bucket names (the `Owner` and
//! `Buckets` of ListBuckets) and its Block Public Access (S3 Control `GetPublicAccessBlock`), read
//! with the clients of a context (the caller's, or another account's own), and the World JSON of
//! an account.

use serde_json::{json, Value};

use super::errors::NO_SUCH_PUBLIC_ACCESS_BLOCK;
use super::s3::pab_json;
use super::Ctx;
use crate::world::Part;

/// An account in the World JSON shape.
pub fn account_json(
    account_id: &str,
    canonical_user_id: Option<&str>,
    iam: &Part<Value>,
    block_public_access: &Part<Value>,
    organization: &Part<Value>,
) -> Value {
    json!({
        "account_id": account_id,
        "canonical_user_id": canonical_user_id,
        "iam": iam.to_value_with(Value::clone),
        "block_public_access": block_public_access.to_value_with(Value::clone),
        "organization": organization.to_value_with(Value::clone),
    })
}

/// Reads the account's Block Public Access configuration (absent when there is none).
pub(crate) async fn account_bpa(ctx: &Ctx, account_id: &str) -> Part<Value> {
    let r = ctx
        .call(
            ctx.clients
                .s3control
                .get_public_access_block()
                .account_id(account_id)
                .send(),
        )
        .await;
    ctx.part(
        &format!("account `{account_id}`: Block Public Access"),
        r.map(|o| {
            o.public_access_block_configuration().map(|c| {
                pab_json(
                    c.block_public_acls(),
                    c.ignore_public_acls(),
                    c.block_public_policy(),
                    c.restrict_public_buckets(),
                )
            })
        }),
        "s3:GetAccountPublicAccessBlock",
        &[NO_SUCH_PUBLIC_ACCESS_BLOCK],
    )
}

/// The canonical user id of the account the clients act in: the `Owner` of ListBuckets (`None`
/// when it cannot be read), and the names of the buckets that account owns (`None` when
/// ListBuckets was refused).
pub(crate) async fn caller_canonical_id(ctx: &Ctx) -> (Option<String>, Option<Vec<String>>) {
    // One page is enough for the owner; the names are used only to recognise own buckets.
    let mut names = Vec::new();
    let mut owner = None;
    let mut token: Option<String> = None;
    loop {
        let r = ctx
            .call(
                ctx.clients
                    .s3
                    .list_buckets()
                    .set_continuation_token(token.clone())
                    .send(),
            )
            .await;
        let out = match r {
            Ok(o) => o,
            Err(_) => return (owner, None),
        };
        if owner.is_none() {
            owner = out.owner().and_then(|o| o.id()).map(str::to_string);
        }
        names.extend(
            out.buckets()
                .iter()
                .filter_map(|b| b.name())
                .map(str::to_string),
        );
        match out.continuation_token() {
            Some(t) if !t.is_empty() && Some(t) != token.as_deref() => token = Some(t.to_string()),
            _ => break,
        }
    }
    (owner, Some(names))
}
