//! Counts heap allocations made by one `authorize` / `decide` call on the realistic fixture and
//! on the same World grown by 1,000 buckets and 500 roles: they must be equal (no work
//! proportional to the size of the World), and stay within a small fixed budget.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use s3medic::eval::{authorize, decide, Decision};

#[path = "../benches/fixtures/mod.rs"]
mod fixtures;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations (including reallocations) made on this thread while running `f`.
fn count<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = ALLOCS.with(Cell::get);
    let out = f();
    (ALLOCS.with(Cell::get) - before, out)
}

/// The allocation budget of one call on the realistic request (two authorizations). `authorize`:
/// the requirement list and the S3 resource ARN, the caller's identity-policy list, the
/// authorization list, the layer lists of the two authorizations, the KMS key ARN of the KMS
/// trace, the statement buffer shared by every layer and its shared handle. `decide` records no
/// statements (no buffer, no handle).
const AUTHORIZE_BUDGET: u64 = 9;
const DECIDE_BUDGET: u64 = 7;

#[test]
fn allocations_do_not_grow_with_world_size() {
    let small = fixtures::realistic_world();
    let large = fixtures::large_world(1000, 500);
    let request = fixtures::realistic_request();
    let denied = fixtures::denied_request();

    // Warm up (lazy statics, if any).
    let _ = authorize(&small, &request).expect("authorize");
    let _ = authorize(&large, &request).expect("authorize");
    let _ = decide(&small, &request).expect("decide");

    let (n_small, out) = count(|| authorize(&small, &request).expect("authorize"));
    assert_eq!(out.decision, Decision::Allowed);
    drop(out);
    let (n_large, out) = count(|| authorize(&large, &request).expect("authorize"));
    assert_eq!(out.decision, Decision::Allowed);
    drop(out);
    let (n_denied_small, out) = count(|| authorize(&small, &denied).expect("authorize"));
    assert_eq!(out.decision, Decision::ExplicitDeny);
    drop(out);
    let (n_denied_large, _) = count(|| authorize(&large, &denied).expect("authorize"));
    let (n_decide_small, out) = count(|| decide(&small, &request).expect("decide"));
    assert_eq!(out.decision, Decision::Allowed);
    drop(out);
    let (n_decide_large, _) = count(|| decide(&large, &request).expect("decide"));
    println!("allocations per authorize(): realistic {n_small}, large world {n_large}");
    println!(
        "allocations per authorize() (denied): realistic {n_denied_small}, large world {n_denied_large}"
    );
    println!("allocations per decide(): realistic {n_decide_small}, large world {n_decide_large}");
    assert_eq!(n_small, n_large, "allocations grow with the World");
    assert_eq!(
        n_denied_small, n_denied_large,
        "allocations grow with the World"
    );
    assert_eq!(
        n_decide_small, n_decide_large,
        "allocations grow with the World"
    );
    for (what, n, budget) in [
        ("authorize", n_small, AUTHORIZE_BUDGET),
        ("authorize (denied)", n_denied_small, AUTHORIZE_BUDGET),
        ("decide", n_decide_small, DECIDE_BUDGET),
    ] {
        assert!(n <= budget, "{what}: {n} allocations, budget {budget}");
    }
}

/// The trace still records every relevant statement of every layer, although they share one
/// buffer: the realistic request's layers hold the statements the fixture documents.
#[test]
fn shared_statement_buffer_reads_per_layer() {
    use s3medic::eval::Layer;
    let world = fixtures::realistic_world();
    let request = fixtures::realistic_request();
    let out = authorize(&world, &request).expect("authorize");
    let s3 = &out.authorizations[0];
    let sids = |layer: Layer| -> Vec<String> {
        s3.layer(layer)
            .map(|l| l.statements.iter().map(|st| st.name()).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        sids(Layer::ResourcePolicy),
        [
            "DenyInsecureTransport",
            "DenyOutsideOrg",
            "DenyReportsOutsideVpce",
            "AllowReadersReports",
            "AllowAuditFromCorpNetwork"
        ]
    );
    assert_eq!(sids(Layer::SessionPolicy), ["SessionScope"]);
    assert_eq!(sids(Layer::VpcEndpoint), ["AllowDataLakeBuckets"]);
    // `decide` records layers without statements.
    let d = decide(&world, &request).expect("decide");
    assert!(d
        .authorizations
        .iter()
        .all(|a| a.layers.iter().all(|l| l.statements.is_empty())));
    assert_eq!(d.decision, out.decision);
}
