//! The `s3medic` binary: parses arguments and maps the outcome to an exit code.
fn main() {}
