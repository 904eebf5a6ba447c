//! CloudFront: the distributions with an origin whose domain names one of the collected buckets
//! (`ListDistributions` → `GetDistribution`), the origin access controls
//! (`ListOriginAccessControls`) and, when a distribution uses one, the origin access identities,
//! in the World's `cloudfront` JSON shape. The account-wide listings ([`list_distributions`],
//! [`list_oacs`]) can be read once and shared by several collections
//! ([`collect_cloudfront_with`]).

use aws_sdk_cloudfront::types::{
    CloudFrontOriginAccessIdentitySummary, Distribution, OriginAccessControlSummary,
};
use serde_json::{json, Map, Value};

use super::errors::ApiFailure;
use super::Ctx;
use crate::world::{parse_s3_origin_domain, Part};

/// A distribution (`get-distribution`'s `Distribution`) in the World JSON shape.
pub fn distribution_json(d: &Distribution) -> Value {
    let mut cfg = Map::new();
    let mut origins = Vec::new();
    if let Some(c) = d.distribution_config() {
        if let Some(r) = c.default_root_object() {
            cfg.insert("DefaultRootObject".into(), r.into());
        }
        for o in c.origins().map(|o| o.items()).unwrap_or_default() {
            let mut om = Map::new();
            om.insert("Id".into(), o.id().into());
            om.insert("DomainName".into(), o.domain_name().into());
            if let Some(p) = o.origin_path() {
                om.insert("OriginPath".into(), p.into());
            }
            if let Some(s3) = o.s3_origin_config() {
                om.insert(
                    "S3OriginConfig".into(),
                    json!({"OriginAccessIdentity": s3.origin_access_identity()}),
                );
            }
            if let Some(oac) = o.origin_access_control_id() {
                om.insert("OriginAccessControlId".into(), oac.into());
            }
            origins.push(Value::Object(om));
        }
    }
    cfg.insert(
        "Origins".into(),
        json!({"Quantity": origins.len(), "Items": origins}),
    );
    json!({
        "Id": d.id(),
        "ARN": d.arn(),
        "DomainName": d.domain_name(),
        "DistributionConfig": cfg,
    })
}

/// A `list-origin-access-controls` item as `{"Id", "OriginAccessControlConfig": {...}}`.
pub fn oac_json(o: &OriginAccessControlSummary) -> Value {
    json!({
        "Id": o.id(),
        "OriginAccessControlConfig": {
            "Name": o.name(),
            "SigningProtocol": o.signing_protocol().as_str(),
            "SigningBehavior": o.signing_behavior().as_str(),
            "OriginAccessControlOriginType": o.origin_access_control_origin_type().as_str(),
        }
    })
}

/// A `list-cloud-front-origin-access-identities` item.
pub fn oai_json(o: &CloudFrontOriginAccessIdentitySummary) -> Value {
    json!({"Id": o.id(), "S3CanonicalUserId": o.s3_canonical_user_id()})
}

/// The `cloudfront` part: the distributions in front of `buckets`, every OAC and (when one of
/// those distributions uses an OAI) every OAI.
pub(crate) async fn collect_cloudfront(ctx: &Ctx, buckets: &[String]) -> Part<Value> {
    let ids = distributions_for(ctx, buckets).await;
    collect_cloudfront_with(ctx, ids, list_oacs(ctx)).await
}

/// [`collect_cloudfront`] from the ids of the distributions in front of `buckets` (or why they
/// could not be listed) and the OAC listing (awaited only when every distribution was read).
pub(crate) async fn collect_cloudfront_with(
    ctx: &Ctx,
    ids: Result<Vec<String>, ApiFailure>,
    oacs: impl std::future::Future<Output = Result<Vec<Value>, ApiFailure>>,
) -> Part<Value> {
    let ids = match ids {
        Ok(ids) => ids,
        Err(f) => {
            return ctx.part(
                "CloudFront distributions",
                Err::<Option<Value>, _>(f),
                "cloudfront:ListDistributions",
                &[],
            )
        }
    };
    let mut distributions = Vec::new();
    let mut uses_oai = false;
    for id in ids {
        let r = ctx
            .call(ctx.clients.cloudfront.get_distribution().id(&id).send())
            .await;
        match r {
            Ok(out) => {
                if let Some(d) = out.distribution() {
                    let v = distribution_json(d);
                    uses_oai |= v["DistributionConfig"]["Origins"]["Items"]
                        .as_array()
                        .is_some_and(|items| {
                            items.iter().any(|o| {
                                o.pointer("/S3OriginConfig/OriginAccessIdentity")
                                    .and_then(Value::as_str)
                                    .is_some_and(|s| !s.is_empty())
                            })
                        });
                    distributions.push(v);
                }
            }
            Err(f) => {
                // The distribution stays out of the World: the whole part becomes unknown, since
                // a distribution left out would read as "no distribution".
                return ctx.part(
                    &format!("CloudFront distribution `{id}`"),
                    Err::<Option<Value>, _>(f),
                    "cloudfront:GetDistribution",
                    &[],
                );
            }
        }
    }
    let oacs = match oacs.await {
        Ok(o) => o,
        Err(f) => {
            let why = ctx.reason(&f, "cloudfront:ListOriginAccessControls");
            ctx.note(format!("CloudFront origin access controls: {why}"));
            Vec::new()
        }
    };
    let oais = if uses_oai {
        match list_oais(ctx).await {
            Ok(o) => o,
            Err(f) => {
                let why = ctx.reason(&f, "cloudfront:ListCloudFrontOriginAccessIdentities");
                ctx.note(format!("CloudFront origin access identities: {why}"));
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    Part::Known(json!({
        "distributions": distributions,
        "origin_access_controls": oacs,
        "origin_access_identities": oais,
    }))
}

/// The ids of the distributions with an origin on one of `buckets` (every page).
async fn distributions_for(ctx: &Ctx, buckets: &[String]) -> Result<Vec<String>, ApiFailure> {
    Ok(on_buckets(&list_distributions(ctx).await?, buckets))
}

/// The ids of the distributions of a listing with an origin on one of `buckets`.
pub(crate) fn on_buckets(listing: &[(String, Vec<String>)], buckets: &[String]) -> Vec<String> {
    listing
        .iter()
        .filter(|(_, origins)| origins.iter().any(|b| buckets.contains(b)))
        .map(|(id, _)| id.clone())
        .collect()
}

/// Every distribution of the account (every page): its id and the buckets of its S3 origins.
pub(crate) async fn list_distributions(
    ctx: &Ctx,
) -> Result<Vec<(String, Vec<String>)>, ApiFailure> {
    let mut ids = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = ctx
            .call(
                ctx.clients
                    .cloudfront
                    .list_distributions()
                    .set_marker(marker.clone())
                    .send(),
            )
            .await?;
        let Some(list) = out.distribution_list() else {
            return Ok(ids);
        };
        for d in list.items() {
            let origins: Vec<String> = d
                .origins()
                .map(|o| {
                    o.items()
                        .iter()
                        .filter_map(|o| parse_s3_origin_domain(o.domain_name()).map(|(b, _)| b))
                        .collect()
                })
                .unwrap_or_default();
            ids.push((d.id().to_string(), origins));
        }
        match list.next_marker() {
            Some(m) if list.is_truncated() && Some(m) != marker.as_deref() => {
                marker = Some(m.to_string())
            }
            _ => return Ok(ids),
        }
    }
}

/// Every origin access control of the account (every page).
pub(crate) async fn list_oacs(ctx: &Ctx) -> Result<Vec<Value>, ApiFailure> {
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = ctx
            .call(
                ctx.clients
                    .cloudfront
                    .list_origin_access_controls()
                    .set_marker(marker.clone())
                    .send(),
            )
            .await?;
        let Some(list) = out.origin_access_control_list() else {
            return Ok(all);
        };
        all.extend(list.items().iter().map(oac_json));
        match list.next_marker() {
            Some(m) if list.is_truncated() && Some(m) != marker.as_deref() => {
                marker = Some(m.to_string())
            }
            _ => return Ok(all),
        }
    }
}

async fn list_oais(ctx: &Ctx) -> Result<Vec<Value>, ApiFailure> {
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = ctx
            .call(
                ctx.clients
                    .cloudfront
                    .list_cloud_front_origin_access_identities()
                    .set_marker(marker.clone())
                    .send(),
            )
            .await?;
        let Some(list) = out.cloud_front_origin_access_identity_list() else {
            return Ok(all);
        };
        all.extend(list.items().iter().map(oai_json));
        match list.next_marker() {
            Some(m) if list.is_truncated() && Some(m) != marker.as_deref() => {
                marker = Some(m.to_string())
            }
            _ => return Ok(all),
        }
    }
}
