//! Benchmarks of `s3medic::eval::authorize` on a realistic request (docs: benches/fixtures/).
//!
//! * `authorize/realistic_allowed` — a role session (inline + managed identity policies, a
//!   permissions boundary, a session policy) reads an SSE-KMS object through a VPC endpoint; the
//!   bucket policy has 10 conditional statements; three SCP levels, one RCP level, the endpoint
//!   policy and the customer managed key's policy all take part. Allowed (two authorizations:
//!   s3:GetObject and kms:Decrypt), with the full trace.
//! * `authorize/realistic_denied` — the same request over plain HTTP: explicitly denied by the
//!   bucket policy's `DenyInsecureTransport`.
//! * `authorize/large_world` — the allowed request against the same World plus 1,000 other
//!   buckets and 500 other IAM roles: cost must not grow with the size of the World.
//!
//! * `authorize/decide_*` — the same requests through `decide` (same rules, no statement
//!   records in the trace), as the planner's no-new-access proof evaluates them.
//!
//! Each request needs two authorizations (s3:GetObject and kms:Decrypt).
//!
//! Run: `cargo bench --bench authorize -- --warm-up-time 1 --measurement-time 4`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};

use s3medic::eval::{authorize, decide, Decision, Layer};

#[path = "fixtures/mod.rs"]
mod fixtures;

fn bench(c: &mut Criterion) {
    let world = fixtures::realistic_world();
    let allowed = fixtures::realistic_request();
    let denied = fixtures::denied_request();
    let large = fixtures::large_world(1000, 500);

    // The fixtures decide as documented.
    let out = authorize(&world, &allowed).expect("authorize");
    assert_eq!(out.decision, Decision::Allowed);
    assert_eq!(out.authorizations.len(), 2, "s3:GetObject and kms:Decrypt");
    let out = authorize(&world, &denied).expect("authorize");
    assert_eq!(out.decision, Decision::ExplicitDeny);
    assert_eq!(out.deciding_layer(), Some(Layer::ResourcePolicy));
    assert_eq!(
        authorize(&large, &allowed).expect("authorize").decision,
        Decision::Allowed
    );

    let mut g = c.benchmark_group("authorize");
    g.bench_function("realistic_allowed", |b| {
        b.iter(|| authorize(black_box(&world), black_box(&allowed)).expect("authorize"))
    });
    g.bench_function("realistic_denied", |b| {
        b.iter(|| authorize(black_box(&world), black_box(&denied)).expect("authorize"))
    });
    g.bench_function("large_world", |b| {
        b.iter(|| authorize(black_box(&large), black_box(&allowed)).expect("authorize"))
    });
    // The same decisions without recording statements (what the planner's proof uses).
    g.bench_function("decide_realistic_allowed", |b| {
        b.iter(|| decide(black_box(&world), black_box(&allowed)).expect("decide"))
    });
    g.bench_function("decide_large_world", |b| {
        b.iter(|| decide(black_box(&large), black_box(&allowed)).expect("decide"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
