//! Helpers shared by the offline CLI tests (tests/cli_*.rs, tests/presigned_url.rs,
//! tests/bulk_cli.rs): running the `s3medic` binary from the repository root, reading its output,
//! scratch files and directories, and the common "exit 1, message on stderr, nothing on stdout"
//! check. The live tests use `Moto::s3medic` (tests/common/moto.rs) instead.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The repository root (the working directory of every run).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `s3medic ARGS` in the repository root with stdin closed and stdout/stderr captured.
/// `NO_COLOR` is removed so that colour depends only on the flags (stdout is never a terminal
/// here, so `--color auto` does not colour).
pub fn s3medic(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_s3medic"))
        .args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .output()
        .expect("the s3medic binary runs")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The stdout of `o` as JSON, or a panic showing stdout and stderr.
pub fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not json ({e}):\n{}\nstderr:\n{}",
            text(&o.stdout),
            text(&o.stderr)
        )
    })
}

/// A fresh (emptied) scratch directory for one test of this test binary.
pub fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "s3medic-{}-{}-{test}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Writes `content` to the file `name` in this test binary's scratch directory (shared by its
/// tests: give every test its own names).
pub fn scratch_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "s3medic-{}-{}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write scratch file");
    p
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A failed run: exit 1 and `needle` on stderr.
pub fn assert_fails_saying(out: &Output, needle: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
}

/// A usage or input error: exit 1, `needle` on stderr, nothing on stdout.
pub fn assert_error(out: &Output, needle: &str) {
    assert_fails_saying(out, needle);
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout on error: {}",
        text(&out.stdout)
    );
}
