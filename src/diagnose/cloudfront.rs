//! CloudFront causes: a bucket policy without an origin access control (OAC) grant for the
//! calling distribution, a distribution origin without an OAC attached, and (informational) a
//! distribution without a default root object requesting a key the bucket does not hold.
//!
//! The request names the distribution through `aws:SourceArn`
//! (`arn:aws:cloudfront::ACCT:distribution/ID`); without it, the distributions whose origins point
//! at the bucket are used when there is exactly one.

use super::context::{split_s3_arn, Cx};
use super::evidence::{missing, setting, traced};
use super::finding::{Cause, Finding};
use crate::eval::caller::CallerKind;
use crate::eval::{AuthorizationTrace, Layer, Outcome};
use crate::policy::Effect;
use crate::world::{Bucket, Distribution};

pub(crate) const SERVICE: &str = "cloudfront.amazonaws.com";

/// `aws:SourceArn` of the request, when given.
fn source_arn<'w>(cx: &Cx<'w>) -> Option<&'w str> {
    cx.request
        .context_value("aws:sourcearn")
        .and_then(|v| v.first())
        .map(String::as_str)
}

/// The calling distribution: from `aws:SourceArn`, else the only one serving the bucket.
fn distribution<'w>(cx: &Cx<'w>, bucket: &str) -> Option<&'w Distribution> {
    if let Some(arn) = source_arn(cx) {
        let id = arn.rsplit('/').next()?;
        return cx.world.distribution(id);
    }
    match cx.world.distributions_for_bucket(bucket).as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

/// No bucket-policy grant for the calling distribution (and, when its origin has no OAC, that
/// too).
pub(crate) fn oac_missing(
    cx: &Cx<'_>,
    i: usize,
    auth: &AuthorizationTrace<'_>,
    _bucket: Option<&Bucket>,
    out: &mut Vec<Finding>,
) {
    let bucket_name = split_s3_arn(&auth.resource)
        .map(|(b, _)| b)
        .unwrap_or(cx.request.bucket.as_str());
    let dist = distribution(cx, bucket_name);
    let dist_arn = source_arn(cx)
        .map(str::to_string)
        .or(dist.map(|d| d.arn.clone()));
    let mut ev = Vec::new();
    match &dist_arn {
        Some(a) => ev.push(setting("request", "aws:SourceArn", a.clone())),
        None => ev.push(setting("request", "aws:SourceArn", "(not given)")),
    }
    ev.push(missing(
        &auth.action,
        &auth.resource,
        format!(
            "bucket policy of `{bucket_name}` (a statement for Service `{SERVICE}` with `AWS:SourceArn` = {})",
            dist_arn.as_deref().unwrap_or("the distribution's ARN")
        ),
    ));
    // OAC statements naming another distribution (or otherwise not applying).
    if let Some(rp) = auth.layer(Layer::ResourcePolicy) {
        ev.extend(
            rp.statements
                .iter()
                .filter(|s| s.effect == Effect::Allow)
                .map(traced),
        );
    }
    out.push(Finding {
        cause: Cause::CloudfrontOacGrantMissing,
        authorization: i,
        action: auth.action.to_string(),
        resource: auth.resource.clone(),
        layer: Layer::ResourcePolicy,
        explanation: format!(
            "the bucket policy of `{bucket_name}` has no statement allowing `{SERVICE}` {} for distribution {}; add the OAC statement with `AWS:SourceArn` set to that distribution's ARN",
            auth.action,
            dist_arn
                .as_deref()
                .map(|a| format!("`{a}`"))
                .unwrap_or_else(|| "making the request".into())
        ),
        evidence: ev,
    });

    // The distribution's origin for this bucket has no OAC: requests reach S3 unsigned.
    if let Some(d) = dist {
        for o in d
            .origins
            .iter()
            .filter(|o| o.bucket.as_deref() == Some(bucket_name))
        {
            if o.oac_id.is_none() {
                out.push(Finding {
                    cause: Cause::CloudfrontNoOac,
                    authorization: i,
                    action: auth.action.to_string(),
                    resource: auth.resource.clone(),
                    layer: Layer::ResourcePolicy,
                    explanation: format!(
                        "origin `{}` of distribution `{}` points at bucket `{bucket_name}` without an origin access control, so CloudFront does not sign its requests to S3; attach an OAC to the origin",
                        o.id, d.id
                    ),
                    evidence: vec![setting(
                        &d.arn,
                        &format!("Origins[{}].OriginAccessControlId", o.id),
                        "(none)",
                    )],
                });
            }
        }
    }
}

/// A CloudFront request for something other than an object (a bucket listing): the viewer asked
/// for `/` or a "directory" path, and the distribution has no default root object to map it to a
/// key. The fix is the default root object, never a list grant to CloudFront.
pub(crate) fn list_request(
    cx: &Cx<'_>,
    i: usize,
    auth: &AuthorizationTrace<'_>,
    out: &mut Vec<Finding>,
) {
    let bucket_name = split_s3_arn(&auth.resource)
        .map(|(b, _)| b)
        .unwrap_or(cx.request.bucket.as_str());
    let dist = distribution(cx, bucket_name);
    let mut evidence = Vec::new();
    if let Some(d) = dist {
        evidence.push(setting(
            &d.arn,
            "DefaultRootObject",
            d.default_root_object.as_deref().unwrap_or("(none)"),
        ));
    }
    evidence.push(setting("request", "action", auth.action.to_string()));
    out.push(Finding {
        cause: Cause::CloudfrontDefaultRootObject,
        authorization: i,
        action: auth.action.to_string(),
        resource: auth.resource.clone(),
        layer: Layer::ResourcePolicy,
        explanation: format!(
            "CloudFront asked bucket `{bucket_name}` for `{}`, which an origin access control grant rightly does not allow (it grants only s3:GetObject): a viewer requested `/` or a path without an object; set the distribution's DefaultRootObject (for example `index.html`) instead of granting CloudFront a listing",
            auth.action
        ),
        evidence,
    });
}

/// Informational: a CloudFront request for a key the bucket does not hold, from a distribution
/// without a default root object (a request for `/` then maps to no object). Emitted only when
/// the bucket's object listing is complete, so "does not hold" is known.
pub(crate) fn default_root_object(cx: &Cx<'_>, outcome: &Outcome<'_>, out: &mut Vec<Finding>) {
    if cx.caller.kind != CallerKind::Service || cx.caller.service != Some(SERVICE) {
        return;
    }
    let Some(key) = cx.request.key.as_deref() else {
        return;
    };
    let Some(bucket) = cx.world.bucket(&cx.request.bucket) else {
        return;
    };
    if !bucket.objects_complete || bucket.object(key).is_some() {
        return;
    }
    let Some(dist) = distribution(cx, &bucket.name) else {
        return;
    };
    if dist.default_root_object.is_some() {
        return;
    }
    let Some(auth) = outcome.deciding_authorization() else {
        return;
    };
    let layer = if auth.layer(Layer::Existence).is_some() {
        Layer::Existence
    } else {
        auth.deciding_layer.unwrap_or(Layer::Existence)
    };
    out.push(Finding {
        cause: Cause::CloudfrontDefaultRootObject,
        authorization: outcome.deciding,
        action: auth.action.to_string(),
        resource: auth.resource.clone(),
        layer,
        explanation: format!(
            "distribution `{}` has no default root object and the key `{key}` is not in bucket `{}`; if viewers request `/`, set DefaultRootObject (for example `index.html`) so it maps to an existing object",
            dist.id, bucket.name
        ),
        evidence: vec![
            setting(&dist.arn, "DefaultRootObject", "(none)"),
            missing(
                &auth.action,
                &bucket.object_arn(key),
                format!("objects of bucket `{}` (listing complete)", bucket.name),
            ),
        ],
    });
}
