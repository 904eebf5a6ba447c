//! Counts heap allocations made by one `authorize` call on the realistic fixture and on the same
//! World grown by 1,000 buckets and 500 roles: they must be equal (no work proportional to the
//! size of the World).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use s3medic::eval::{authorize, Decision};

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

#[test]
fn allocations_do_not_grow_with_world_size() {
    let small = fixtures::realistic_world();
    let large = fixtures::large_world(1000, 500);
    let request = fixtures::realistic_request();
    let denied = fixtures::denied_request();

    // Warm up (lazy statics, if any).
    let _ = authorize(&small, &request).expect("authorize");
    let _ = authorize(&large, &request).expect("authorize");

    let (n_small, out) = count(|| authorize(&small, &request).expect("authorize"));
    assert_eq!(out.decision, Decision::Allowed);
    drop(out);
    let (n_large, out) = count(|| authorize(&large, &request).expect("authorize"));
    assert_eq!(out.decision, Decision::Allowed);
    drop(out);
    let (n_denied_small, _) = count(|| authorize(&small, &denied).expect("authorize"));
    let (n_denied_large, _) = count(|| authorize(&large, &denied).expect("authorize"));
    println!("allocations per authorize(): realistic {n_small}, large world {n_large}");
    println!(
        "allocations per authorize() (denied): realistic {n_denied_small}, large world {n_denied_large}"
    );
    assert_eq!(n_small, n_large, "allocations grow with the World");
    assert_eq!(
        n_denied_small, n_denied_large,
        "allocations grow with the World"
    );
}
