//! `s3medic show PLAN`: a saved plan file (made here with `s3medic plan -o`) rendered as text (the
//! `plan` text plus the file's id and time), Markdown (goldens) and JSON (the file itself); broken
//! plan files are errors naming the file (exit 1, nothing on stdout).
//!
//! Goldens: `tests/golden/show-<name>.md`. Each plan file gets a fixed `tool_version`,
//! `created_at` and modification time first, so its plan id and "created" line are stable.
//! `S3MEDIC_BLESS=1 cargo test --test cli_show` rewrites them instead of comparing.

#[path = "common/cli.rs"]
mod cli;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use s3medic::plan::digest;

use cli::{path_str, root, s3medic, scratch_dir, text};

const WORLD: &str = "examples/worlds/cross-account.json";
const DENIED: &str = "examples/requests/alice-get-report.json";
const EXPLICIT_DENY: &str = "examples/requests/datareader-get-report-http.json";
const PUBLIC_WORLD: &str = "tests/golden/worlds/public-site-bpa.json";
const PUBLIC_REQUEST: &str = "tests/golden/requests/public-site-bpa.json";

/// 2026-01-02T03:04:05Z, the modification time every golden plan file gets.
const FIXED_TIME: u64 = 1_767_323_045;
/// The `created_at` every golden plan file gets.
const FIXED_CREATED_AT: &str = "2026-01-02T03:04:05Z";

/// (name, world, request, extra `plan` flags)
const GOLDEN: &[(&str, &str, &str, &[&str])] = &[
    // Cross-account bucket policy + KMS key policy: two changes.
    ("alice-get-report", WORLD, DENIED, &[]),
    // A guardrail: no change, one manual step.
    ("datareader-get-report-http", WORLD, EXPLICIT_DENY, &[]),
    // The same guardrail, exempted: a change with the guardrail flag.
    (
        "datareader-get-report-http-guardrail",
        WORLD,
        EXPLICIT_DENY,
        &["--allow-guardrail-change"],
    ),
    // Block Public Access turned off, new access accepted: the public flag and a new-access table.
    (
        "public-site-bpa-accepted",
        PUBLIC_WORLD,
        PUBLIC_REQUEST,
        &["--allow-public", "--accept-new-access"],
    ),
];

/// Plans `request` in `world` into `dir/<name>.json` with `s3medic plan -o` and returns the path.
fn plan_file(dir: &Path, name: &str, world: &str, request: &str, extra: &[&str]) -> PathBuf {
    let file = dir.join(format!("{name}.json"));
    let base = [
        "plan",
        "-w",
        world,
        "-r",
        request,
        "-o",
        path_str(&file),
        "--color",
        "never",
    ];
    let out = s3medic(&[&base[..], extra].concat());
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "{name}: plan failed: {}",
        text(&out.stderr)
    );
    assert!(file.exists(), "{name}: plan file written");
    file
}

/// Gives the plan file a fixed `tool_version`, `created_at` and modification time (stable plan id
/// and time).
fn pin(file: &Path) {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("read plan")).expect("json");
    v["tool_version"] = json!("0.0.0-golden");
    assert!(v["created_at"].is_string(), "plan -o records created_at");
    v["created_at"] = json!(FIXED_CREATED_AT);
    std::fs::write(
        file,
        serde_json::to_string_pretty(&v).expect("serialize") + "\n",
    )
    .expect("write plan");
    File::options()
        .write(true)
        .open(file)
        .and_then(|f| f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(FIXED_TIME)))
        .expect("set mtime");
}

#[test]
fn golden_markdown() {
    let bless = std::env::var("S3MEDIC_BLESS").is_ok_and(|v| v == "1");
    let dir = scratch_dir("golden");
    let mut mismatches = Vec::new();
    for (name, world, request, extra) in GOLDEN {
        let file = plan_file(&dir, name, world, request, extra);
        pin(&file);
        let out = s3medic(&["show", path_str(&file), "--format", "markdown"]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let actual = text(&out.stdout);
        let path = root().join(format!("tests/golden/show-{name}.md"));
        if bless {
            std::fs::write(&path, &actual).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => mismatches.push(format!(
                "{}: differs\n--- expected\n{expected}\n--- actual\n{actual}",
                path.display()
            )),
            Err(e) => mismatches.push(format!("{}: {e}", path.display())),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        mismatches.is_empty(),
        "golden mismatch (re-bless with `S3MEDIC_BLESS=1 cargo test --test cli_show`):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn markdown_has_every_part_of_the_plan() {
    let dir = scratch_dir("parts");
    let file = plan_file(&dir, "alice", WORLD, DENIED, &[]);
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    let out = s3medic(&["show", path_str(&file), "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    assert!(md.starts_with("# s3medic plan: `GetObject`"), "{md}");
    assert!(md.contains("denied (implicit deny) → **allowed**"), "{md}");
    assert!(
        md.contains("| # | Cause | Layer | Blocks | Evidence |"),
        "{md}"
    );
    for f in plan["findings"].as_array().expect("findings") {
        let cause = f["cause"].as_str().expect("cause");
        assert!(md.contains(&format!("| `{cause}` |")), "{cause}: {md}");
    }
    for c in plan["changes"].as_array().expect("changes") {
        let id = c["id"].as_str().expect("id");
        assert!(md.contains(&format!("\n### {id}: ")), "{id}: {md}");
        let diff = c["diff"].as_str().expect("diff");
        assert!(md.contains(&format!("```diff\n{diff}```\n")), "{id}: {md}");
        assert!(md.contains(c["before_digest"].as_str().expect("digest")));
        assert!(md.contains(&digest(&c["after"])), "after digest of {id}");
        for p in c["playbooks"].as_array().expect("playbooks") {
            assert!(md.contains(&format!("`{}`", p.as_str().expect("id"))));
        }
    }
    assert!(md.contains("- **Risk:** low; flags: none"), "{md}");
    assert!(md.contains("**New access:** none"), "{md}");
    let created = plan["created_at"].as_str().expect("created_at");
    assert!(md.contains(&format!("- **Created:** {created}\n")), "{md}");
    assert!(!md.contains("(file modification time)"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_plan_file_without_created_at_shows_its_modification_time() {
    // Plan files written before `created_at` existed still load.
    let dir = scratch_dir("old-file");
    let file = plan_file(&dir, "alice", WORLD, DENIED, &[]);
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    let map = v.as_object_mut().expect("object");
    assert!(
        map.remove("created_at").is_some(),
        "plan -o records created_at"
    );
    std::fs::write(&file, v.to_string()).expect("write");
    File::options()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(FIXED_TIME)))
        .expect("set mtime");
    let md = s3medic(&["show", path_str(&file), "--format", "markdown"]);
    assert_eq!(md.status.code(), Some(0), "{}", text(&md.stderr));
    assert!(
        text(&md.stdout).contains("- **Created:** 2026-01-02T03:04:05Z (file modification time)\n"),
        "{}",
        text(&md.stdout)
    );
    let txt = s3medic(&["show", path_str(&file), "--color", "never"]);
    assert!(
        text(&txt.stdout).contains("  created:  2026-01-02T03:04:05Z (file modification time)\n"),
        "{}",
        text(&txt.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn recorded_creation_time_and_rollback_caveat_are_shown() {
    let dir = scratch_dir("caveat");
    let file = plan_file(&dir, "alice", WORLD, DENIED, &[]);
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    v["created_at"] = json!("2026-03-04T05:06:07Z");
    // A caveat is part of the change, not of its `before`: the digest check still passes.
    v["changes"][0]["reversible"] = json!(false);
    v["changes"][0]["rollback_caveat"] = json!("objects written meanwhile stay as they are");
    std::fs::write(&file, v.to_string()).expect("write");
    let out = s3medic(&["show", path_str(&file), "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    assert!(md.contains("- **Created:** 2026-03-04T05:06:07Z\n"), "{md}");
    assert!(
        md.contains(
            "- **Rollback:** **not fully reversible:** objects written meanwhile stay as they are"
        ),
        "{md}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn text_is_the_plan_text_plus_the_file_facts() {
    let dir = scratch_dir("text");
    let file = plan_file(&dir, "alice", WORLD, DENIED, &[]);
    let planned = s3medic(&["plan", "-w", WORLD, "-r", DENIED, "--color", "never"]);
    let shown = s3medic(&["show", path_str(&file), "--color", "never"]);
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
    let (planned, shown) = (text(&planned.stdout), text(&shown.stdout));
    assert!(
        shown.starts_with(&planned),
        "--- plan\n{planned}\n--- show\n{shown}"
    );
    let rest = &shown[planned.len()..];
    assert!(
        rest.contains("\nPlan file\n  file:     alice.json (format 1"),
        "{rest}"
    );
    assert!(rest.contains("  plan id:  sha256:"), "{rest}");
    // Colour only when asked.
    let coloured = s3medic(&["show", path_str(&file), "--color", "always"]);
    assert!(text(&coloured.stdout).contains("\x1b["));
    assert!(!shown.contains("\x1b["));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_is_the_plan_file_and_output_is_an_alias_of_format() {
    let dir = scratch_dir("json");
    let file = plan_file(&dir, "alice", WORLD, DENIED, &[]);
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    for flag in ["--format", "--output"] {
        let out = s3medic(&["show", path_str(&file), flag, "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let shown: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(shown, on_disk, "{flag}");
        assert_eq!(shown["format_version"], 1);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plan_id_is_the_one_apply_reports() {
    // A plan without changes: `apply` reports on it without touching AWS.
    let dir = scratch_dir("plan-id");
    let file = plan_file(&dir, "guardrail", WORLD, EXPLICIT_DENY, &[]);
    let shown = s3medic(&["show", path_str(&file), "--format", "markdown"]);
    let md = text(&shown.stdout);
    let applied = s3medic(&["apply", path_str(&file), "--output", "json"]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));
    let report: Value = serde_json::from_slice(&applied.stdout).expect("apply report");
    assert_eq!(report["status"], "nothing_to_change");
    let id = report["plan_id"].as_str().expect("plan_id");
    assert!(md.contains(&format!("- **Plan id:** `{id}`")), "{id}\n{md}");
    assert!(md.contains("## Manual steps (1)"), "{md}");
    assert!(!md.contains("## Changes"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `show` on `file` fails with exit 1, prints nothing on stdout, and names the file and `needle`.
fn assert_broken(file: &Path, needle: &str) {
    for format in ["text", "markdown", "json"] {
        let out = s3medic(&["show", path_str(file), "--format", format]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {err}");
        assert!(out.stdout.is_empty(), "{format}: {}", text(&out.stdout));
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(err.contains(&name), "names the file: {err}");
        assert!(err.contains(needle), "says `{needle}`: {err}");
    }
}

#[test]
fn broken_plan_files_are_errors_naming_the_file() {
    let dir = scratch_dir("broken");
    let good = plan_file(&dir, "good", WORLD, DENIED, &[]);
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(&good).expect("read")).expect("json");

    assert_broken(&dir.join("missing.json"), "cannot read plan file");

    let not_json = dir.join("not-json.json");
    std::fs::write(&not_json, "{\"format_version\": 1,").expect("write");
    assert_broken(&not_json, "not JSON");

    let version = dir.join("version.json");
    let mut v = plan.clone();
    v["format_version"] = json!(7);
    std::fs::write(&version, v.to_string()).expect("write");
    assert_broken(&version, "format_version 7");

    let edited = dir.join("edited.json");
    let mut v = plan.clone();
    v["changes"][0]["before"] = json!({"Statement": []});
    std::fs::write(&edited, v.to_string()).expect("write");
    assert_broken(&edited, "before_digest");

    let no_findings = dir.join("no-findings.json");
    let mut v = plan.clone();
    v.as_object_mut().map(|m| m.remove("findings"));
    std::fs::write(&no_findings, v.to_string()).expect("write");
    assert_broken(&no_findings, "findings");

    let bad_cause = dir.join("bad-cause.json");
    let mut v = plan.clone();
    v["findings"][0]["cause"] = json!("no-such-cause");
    std::fs::write(&bad_cause, v.to_string()).expect("write");
    assert_broken(&bad_cause, "no-such-cause");

    // The report of a refused plan is not a plan.
    let refused = dir.join("refused.json");
    let out = s3medic(&[
        "plan",
        "-w",
        PUBLIC_WORLD,
        "-r",
        PUBLIC_REQUEST,
        "--allow-public",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3));
    std::fs::write(&refused, &out.stdout).expect("write");
    assert_broken(&refused, "refused");
    let _ = std::fs::remove_dir_all(&dir);
}
