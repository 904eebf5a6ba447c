//! From a targets file and an account's bucket list to bucket jobs: one job per (account, bucket)
//! that at least one request selects, with the requests to plan on it; and each request made
//! concrete for a bucket (the Request document of docs/formats.md). Pure.

use serde_json::{Map, Value};

use super::shard::Shard;
use super::targets::{Location, RequestSpec, Targets, Verb};
use crate::request::{Request, RequestError};

/// The placeholder in a request's `principal` that stands for the bucket's account id.
pub const ACCOUNT_PLACEHOLDER: &str = "{account}";

/// One (account, bucket) to collect, and the requests (indexes into [`Targets::requests`]) to
/// plan on its World.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BucketJob {
    pub account: String,
    pub bucket: String,
    pub requests: Vec<usize>,
}

/// The bucket jobs of the account `account` (an id of the file) for its buckets `buckets` (as
/// named in the file, or as ListBuckets returned them): sorted by bucket name, duplicates
/// removed, only the buckets `shard` selects (all when `None`), and only buckets that at least one
/// request selects.
pub fn bucket_jobs(
    targets: &Targets,
    account: &str,
    buckets: &[String],
    shard: Option<Shard>,
) -> Vec<BucketJob> {
    let mut names: Vec<&String> = buckets.iter().collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|b| shard.is_none_or(|s| s.selects(account, b)))
        .filter_map(|b| {
            let requests: Vec<usize> = targets
                .requests
                .iter()
                .enumerate()
                .filter(|(_, r)| r.applies_to(account, b))
                .map(|(i, _)| i)
                .collect();
            (!requests.is_empty()).then(|| BucketJob {
                account: account.to_string(),
                bucket: b.clone(),
                requests,
            })
        })
        .collect()
}

/// The Request document (docs/formats.md) of `spec` on `bucket` of `account`: the pass-through
/// fields, the principal with `{account}` replaced, the operation or action, the bucket, and the
/// key or list prefix of its [`Location`].
pub fn request_value(spec: &RequestSpec, account: &str, bucket: &str) -> Value {
    let mut m: Map<String, Value> = spec.extra.clone();
    m.insert(
        "principal".into(),
        Value::String(spec.principal.replace(ACCOUNT_PLACEHOLDER, account)),
    );
    match &spec.verb {
        Verb::Operation(o) => m.insert("operation".into(), Value::String(o.clone())),
        Verb::Action(a) => m.insert("action".into(), Value::String(a.clone())),
    };
    m.insert("bucket".into(), Value::String(bucket.to_string()));
    match &spec.location {
        Location::Bucket => {}
        Location::Key(k) => {
            m.insert("key".into(), Value::String(k.clone()));
        }
        Location::UnderPrefix { prefix, probe } => {
            m.insert("key".into(), Value::String(format!("{prefix}{probe}")));
        }
        Location::ListPrefix(p) => {
            let mut q = m
                .get("query")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            q.insert("prefix".into(), Value::String(p.clone()));
            m.insert("query".into(), Value::Object(q));
        }
    }
    Value::Object(m)
}

/// [`request_value`] parsed into a [`Request`].
pub fn concrete_request(
    spec: &RequestSpec,
    account: &str,
    bucket: &str,
) -> Result<(Value, Request), RequestError> {
    let v = request_value(spec, account, bucket);
    let r = Request::from_value(&v)?;
    Ok((v, r))
}

/// Whether `spec`'s concrete request reads the object it names (a `key` given in the file), so
/// the collector should read that object's head and ACL. A key under a `prefix` is not read.
pub fn reads_object(spec: &RequestSpec) -> Option<&str> {
    match &spec.location {
        Location::Key(k) => Some(k),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::targets::parse_targets;
    use serde_json::json;

    fn targets() -> Targets {
        parse_targets(
            "t.toml",
            r#"
[[account]]
id = "111122223333"
buckets = ["*"]

[[account]]
id = "444455556666"
buckets = ["rep-a", "other"]

[[request]]
name = "read"
principal = "arn:aws:iam::{account}:role/Reader"
operations = ["ListObjectsV2", "GetObject"]
prefix = "p/"
query = { "max-keys" = "10" }

[[request]]
name = "put"
principal = "arn:aws:iam::111122223333:user/alice"
operation = "PutObject"
key = "in/x.csv"
buckets = ["rep-*"]
accounts = ["444455556666"]
"#,
        )
        .expect("parses")
    }

    #[test]
    fn prefix_maps_to_a_probe_key_or_the_list_prefix() {
        let t = targets();
        let list = request_value(&t.requests[0], "111122223333", "b1");
        assert_eq!(
            list,
            json!({"query": {"max-keys": "10", "prefix": "p/"}, "principal": "arn:aws:iam::111122223333:role/Reader",
                   "operation": "ListObjectsV2", "bucket": "b1"})
        );
        let get = request_value(&t.requests[1], "444455556666", "b2");
        assert_eq!(get["key"], "p/s3medic-probe");
        assert_eq!(get["principal"], "arn:aws:iam::444455556666:role/Reader");
        let (_, r) = concrete_request(&t.requests[1], "444455556666", "b2").expect("valid");
        assert_eq!(r.key.as_deref(), Some("p/s3medic-probe"));
        assert_eq!(r.bucket, "b2");
        let (_, r) = concrete_request(&t.requests[0], "444455556666", "b2").expect("valid");
        assert_eq!(r.query_param("prefix"), Some("p/"));
        assert_eq!(reads_object(&t.requests[1]), None);
        assert_eq!(reads_object(&t.requests[2]), Some("in/x.csv"));
    }

    #[test]
    fn jobs_hold_the_requests_that_select_the_bucket() {
        let t = targets();
        let buckets: Vec<String> = ["other", "rep-a", "rep-a"].map(String::from).to_vec();
        let jobs = bucket_jobs(&t, "444455556666", &buckets, None);
        assert_eq!(
            jobs,
            vec![
                BucketJob {
                    account: "444455556666".into(),
                    bucket: "other".into(),
                    requests: vec![0, 1]
                },
                BucketJob {
                    account: "444455556666".into(),
                    bucket: "rep-a".into(),
                    requests: vec![0, 1, 2]
                },
            ]
        );
        let jobs = bucket_jobs(&t, "111122223333", &["rep-a".to_string()], None);
        assert_eq!(jobs[0].requests, vec![0, 1]);
    }

    #[test]
    fn buckets_no_request_selects_are_left_out() {
        let t = parse_targets(
            "t.toml",
            "[[account]]\nid = \"111122223333\"\nbuckets = [\"aaa\", \"bbb\"]\n[[request]]\nprincipal = \"anonymous\"\noperation = \"GetBucketPolicy\"\nbuckets = [\"a*\"]\n",
        )
        .expect("parses");
        let jobs = bucket_jobs(
            &t,
            "111122223333",
            &["aaa".to_string(), "bbb".to_string()],
            None,
        );
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].bucket, "aaa");
    }
}
