//! KMS keys named by a bucket's default encryption or an object's SSE-KMS head: `DescribeKey`
//! (normalises an alias or bare key id to the key ARN), `GetKeyPolicy` (policy name `default`),
//! `ListGrants` and `ListAliases`, turned into the World's KmsKey JSON.

use aws_sdk_kms::types::{GrantListEntry, KeyMetadata};
use serde_json::{json, Map, Value};

use super::Ctx;
use crate::world::Part;

/// One collected key: the references that named it, its ARN and its World JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectedKey {
    /// The ids, aliases or ARNs that named this key (as found in the bucket and object heads).
    pub references: Vec<String>,
    /// The key ARN.
    pub arn: String,
    /// The KmsKey JSON (docs/formats.md).
    pub value: Value,
}

/// `DescribeKey`'s `KeyMetadata` in the CLI shape (the fields the World uses).
pub fn metadata_json(md: &KeyMetadata) -> Value {
    let mut m = Map::new();
    m.insert("KeyId".into(), md.key_id().into());
    if let Some(a) = md.arn() {
        m.insert("Arn".into(), a.into());
    }
    if let Some(a) = md.aws_account_id() {
        m.insert("AWSAccountId".into(), a.into());
    }
    if let Some(k) = md.key_manager() {
        m.insert("KeyManager".into(), k.as_str().into());
    }
    if let Some(s) = md.key_state() {
        m.insert("KeyState".into(), s.as_str().into());
    }
    Value::Object(m)
}

/// `ListGrants` items in the CLI shape: `{"Grants": [...]}` (grants without a grantee are left
/// out: they cannot match a caller).
pub fn grants_json(grants: &[GrantListEntry]) -> Value {
    let list: Vec<Value> = grants
        .iter()
        .filter_map(|g| {
            let mut m = Map::new();
            if let Some(id) = g.grant_id() {
                m.insert("GrantId".into(), id.into());
            }
            m.insert("GranteePrincipal".into(), g.grantee_principal()?.into());
            m.insert(
                "Operations".into(),
                Value::Array(g.operations().iter().map(|o| o.as_str().into()).collect()),
            );
            if let Some(c) = g.constraints() {
                let mut cm = Map::new();
                if let Some(eq) = c.encryption_context_equals() {
                    cm.insert("EncryptionContextEquals".into(), json!(eq));
                }
                if let Some(sub) = c.encryption_context_subset() {
                    cm.insert("EncryptionContextSubset".into(), json!(sub));
                }
                m.insert("Constraints".into(), Value::Object(cm));
            }
            Some(Value::Object(m))
        })
        .collect();
    json!({ "Grants": list })
}

/// A KmsKey in the World JSON shape.
pub fn key_json(
    metadata: Value,
    aliases: &[String],
    policy: &Part<Value>,
    grants: &Part<Value>,
) -> Value {
    json!({
        "metadata": metadata,
        "aliases": aliases,
        "policy": policy.to_value_with(Value::clone),
        "grants": grants.to_value_with(Value::clone),
    })
}

/// The key ARN a reference stands for without asking KMS: an ARN as is, a bare key id in
/// `region` / `account_id`; `None` for an alias.
pub fn arn_without_describe(reference: &str, region: &str, account_id: &str) -> Option<String> {
    if reference.starts_with("arn:") {
        return reference.contains(":key/").then(|| reference.to_string());
    }
    if reference.starts_with("alias/") {
        return None;
    }
    Some(format!("arn:aws:kms:{region}:{account_id}:key/{reference}"))
}

/// The region of a KMS ARN (`arn:PARTITION:kms:REGION:...`).
fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// Reads one key named by `reference` (an ARN, alias or bare id) as seen from a bucket in
/// `region` owned by `bucket_account`, with the clients of `ctx`, which act in `acting_account`
/// (the caller's, or the key account's own role). `None` when the key could not be identified at
/// all (an alias that DescribeKey could not resolve); the reason is recorded.
pub(crate) async fn collect_key(
    ctx: &Ctx,
    reference: &str,
    region: &str,
    bucket_account: &str,
    acting_account: &str,
) -> Option<CollectedKey> {
    let kms_region = arn_region(reference).unwrap_or(region).to_string();
    let kms = ctx.clients.kms_in(&kms_region);
    let label = format!("KMS key `{reference}`");
    let described = ctx.call(kms.describe_key().key_id(reference).send()).await;
    let (arn, metadata) = match described {
        Ok(out) => match out.key_metadata() {
            Some(md) if md.arn().is_some() => (md.arn()?.to_string(), metadata_json(md)),
            _ => {
                ctx.note(format!("{label}: DescribeKey returned no key ARN"));
                return None;
            }
        },
        Err(f) => {
            let why = ctx.reason(&f, "kms:DescribeKey");
            match arn_without_describe(reference, region, bucket_account) {
                Some(arn) => {
                    ctx.note(format!("{label}: metadata: {why}"));
                    let mut md = Map::new();
                    md.insert("Arn".into(), arn.clone().into());
                    (arn, Value::Object(md))
                }
                None => {
                    ctx.note(format!("{label}: {why} (the key could not be identified)"));
                    return None;
                }
            }
        }
    };
    let key_account = arn.split(':').nth(4).unwrap_or("").to_string();
    let label = format!("KMS key `{arn}`");
    let policy_fut = ctx.call(
        kms.get_key_policy()
            .key_id(&arn)
            .policy_name("default")
            .send(),
    );
    let grants_fut = list_grants(ctx, &kms, &arn);
    let aliases_fut = list_aliases(ctx, &kms, &arn, key_account == acting_account);
    let (policy, grants, aliases) = tokio::join!(policy_fut, grants_fut, aliases_fut);
    let policy = ctx.part(
        &format!("{label}: key policy"),
        policy.map(|o| o.policy().map(|p| json!({ "Policy": p }))),
        "kms:GetKeyPolicy",
        &[],
    );
    let grants = ctx.part(
        &format!("{label}: grants"),
        grants.map(|g| Some(grants_json(&g))),
        "kms:ListGrants",
        &[],
    );
    let aliases = match aliases {
        Ok(a) => a,
        Err(f) => {
            let why = ctx.reason(&f, "kms:ListAliases");
            ctx.note(format!("{label}: aliases: {why}"));
            Vec::new()
        }
    };
    let mut references = vec![reference.to_string()];
    if reference != arn {
        references.push(arn.clone());
    }
    Some(CollectedKey {
        references,
        value: key_json(metadata, &aliases, &policy, &grants),
        arn,
    })
}

async fn list_grants(
    ctx: &Ctx,
    kms: &aws_sdk_kms::Client,
    arn: &str,
) -> Result<Vec<GrantListEntry>, super::errors::ApiFailure> {
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = ctx
            .call(
                kms.list_grants()
                    .key_id(arn)
                    .set_marker(marker.clone())
                    .send(),
            )
            .await?;
        all.extend_from_slice(out.grants());
        match out.next_marker() {
            Some(m) if out.truncated() && Some(m) != marker.as_deref() => {
                marker = Some(m.to_string())
            }
            _ => return Ok(all),
        }
    }
}

/// The alias names of the key (only for a key in the account the clients act in: ListAliases
/// lists that account's aliases).
async fn list_aliases(
    ctx: &Ctx,
    kms: &aws_sdk_kms::Client,
    arn: &str,
    own_account: bool,
) -> Result<Vec<String>, super::errors::ApiFailure> {
    if !own_account {
        return Ok(Vec::new());
    }
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = ctx
            .call(
                kms.list_aliases()
                    .key_id(arn)
                    .set_marker(marker.clone())
                    .send(),
            )
            .await?;
        all.extend(
            out.aliases()
                .iter()
                .filter_map(|a| a.alias_name())
                .filter(|n| n.starts_with("alias/"))
                .map(str::to_string),
        );
        match out.next_marker() {
            Some(m) if out.truncated() && Some(m) != marker.as_deref() => {
                marker = Some(m.to_string())
            }
            _ => return Ok(all),
        }
    }
}
