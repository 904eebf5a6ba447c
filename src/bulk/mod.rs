//! Bulk planning: many buckets in many accounts from one targets file (`s3medic plan --targets`).
//!
//! A targets file ([`targets`]) lists accounts (how to connect to each, and its buckets, or `*`
//! for every bucket ListBuckets returns) and the requests that must work. [`expand`] turns an
//! account's bucket list and the requests into bucket jobs — one World collected per (account,
//! bucket), every matching request planned against it — each request made concrete (a `prefix`
//! becomes a key under it or a ListObjects `prefix`, as documented there). [`shard`] picks a
//! deterministic subset of the (account, bucket) pairs so N runners cover every one exactly once.
//! [`result`] holds the per-target result line, the summary line and the exit-code rule.
//! [`trail`] adds the denied requests of CloudTrail files named by the targets file.
//! [`run`] is the async runner: it connects to each account, expands `*`, collects and plans
//! concurrently within the bounds, and streams the results over a channel; a failure of one
//! account or bucket never stops the others.
//!
//! Everything but [`run`] is pure.

pub mod expand;
pub mod result;
pub mod run;
pub mod shard;
pub mod targets;
pub mod trail;

pub use expand::{bucket_jobs, concrete_request, BucketJob};
pub use result::{Status, Summary, TargetResult, RESULTS_FORMAT_VERSION};
pub use run::{run, Event, RunOptions, TargetOutcome};
pub use shard::Shard;
pub use targets::{AccountSpec, BucketSelection, Location, RequestSpec, Targets, TargetsError};
