//! The README's live example, `examples/live-demo.sh`, run as a test: against its own moto server
//! it sets up a denied GetObject through boto3, then checks every exit code of explain → plan →
//! apply → explain → plan (nothing to do) → rollback → explain. Keeps the documented example
//! working. Needs the moto server (`bash scripts/test.sh` installs it into .venv); never skipped.

#[path = "common/moto.rs"]
mod moto;

use std::process::Command;

#[test]
fn the_live_demo_script_plans_applies_and_rolls_back() {
    let server = moto::moto_server_path();
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("bash")
        .arg(format!("{root}/examples/live-demo.sh"))
        .env("S3MEDIC", env!("CARGO_BIN_EXE_s3medic"))
        .env("S3MEDIC_MOTO_SERVER", &server)
        .output()
        .expect("bash runs the demo script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the demo failed ({:?})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    assert!(stdout.contains("APPLIED: c1"), "{stdout}");
    assert!(stdout.contains("RESTORED"), "{stdout}");
    assert!(
        stdout.contains("plan -> apply -> rollback worked against the emulator"),
        "{stdout}"
    );
}
