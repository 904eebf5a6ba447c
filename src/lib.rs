//! s3medic: finds out why an AWS S3 request is denied and what the smallest safe fix is.
//!
//! The library is a pure core (policy language, world model, request model, authorizer) with no
//! I/O, except `collect`, which reads a World from AWS through the SDK; the binary in `main.rs` is
//! a thin command-line front end over it.

pub mod apply;
pub mod atomic_file;
pub mod bulk;
pub mod collect;
pub mod diagnose;
pub mod eval;
pub mod intake;
pub mod plan;
pub mod policy;
pub mod render;
pub mod request;
pub mod world;
