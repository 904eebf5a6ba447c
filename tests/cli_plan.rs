//! `s3medic plan` end to end: exit codes (0 nothing to change, 2 changes or manual steps, 1 error,
//! 3 refused), the plan file (`--out`: complete or absent, never partial), `--output json`,
//! colour, the text rendering of every part of a plan, and the golden outputs.
//!
//! Goldens: `tests/golden/<name>.txt` (text, `--color never`) and `tests/golden/<name>.json` (the
//! plan JSON, `tool_version` and `created_at` normalised). `S3MEDIC_BLESS=1 cargo test --test
//! cli_plan` rewrites them instead of comparing.

#[path = "common/cli.rs"]
mod cli;

use std::path::Path;

use serde_json::{json, Value};

use s3medic::diagnose::{Cause, Evidence, Finding};
use s3medic::eval::{Decision, Layer};
use s3medic::plan::{
    digest, unified_diff, Change, ChangeAction, ManualStep, NewAccess, Plan, Proof, Risk, Target,
    PLAN_FORMAT_VERSION,
};
use s3medic::render::plan::{plan_text, refusal_json, refusal_text};

use cli::{assert_error, path_str, root, s3medic, scratch_dir, text};

const WORLD: &str = "examples/worlds/cross-account.json";
const ALLOWED: &str = "examples/requests/datareader-get-report.json";
const DENIED: &str = "examples/requests/alice-get-report.json";
const EXPLICIT_DENY: &str = "examples/requests/datareader-get-report-http.json";

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("list dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every change of a plan JSON carries its full documents, digest and diff, and the digest is the
/// library's digest of `before`.
fn assert_changes_complete(plan: &Value) {
    for c in plan["changes"].as_array().expect("changes array") {
        for field in [
            "id",
            "account",
            "resource",
            "target",
            "action",
            "before",
            "after",
            "before_digest",
            "diff",
            "risk",
            "reversible",
            "playbooks",
            "summary",
        ] {
            assert!(c.get(field).is_some(), "change lacks `{field}`: {c}");
        }
        assert_eq!(c["before_digest"], digest(&c["before"]), "{c}");
        assert!(matches!(
            c["action"].as_str(),
            Some("create" | "update" | "delete")
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Exit codes

#[test]
fn already_allowed_request_exits_0() {
    let out = s3medic(&["plan", "-w", WORLD, "-r", ALLOWED, "--color", "never"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("NOTHING TO CHANGE"), "{stdout}");
}

#[test]
fn denied_requests_exit_2() {
    for req in [DENIED, EXPLICIT_DENY] {
        let out = s3medic(&["plan", "-w", WORLD, "-r", req, "--color", "never"]);
        assert_eq!(out.status.code(), Some(2), "{req}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(stdout.contains("denied"), "{stdout}");
    }
}

#[test]
fn bad_inputs_exit_1_naming_the_input() {
    let dir = scratch_dir("bad-inputs");
    let broken = dir.join("broken-request.json");
    std::fs::write(&broken, "{\"principal\": ").expect("write");
    assert_error(
        &s3medic(&["plan", "-w", "no/such/world.json", "-r", DENIED]),
        "cannot read world file `no/such/world.json`",
    );
    assert_error(
        &s3medic(&["plan", "-w", WORLD, "-r", path_str(&broken)]),
        "broken-request.json",
    );
    assert_error(
        &s3medic(&[
            "plan",
            "-w",
            WORLD,
            "--principal",
            "anonymous",
            "--operation",
            "GetObject",
            "--bucket",
            "not-there",
            "--key",
            "k",
        ]),
        "bucket `not-there` is not in the world",
    );
    assert_error(
        &s3medic(&["plan", "-w", WORLD, "-r", DENIED, "--out", "json"]),
        "--output json",
    );
    assert_eq!(
        s3medic(&["plan", "-w", WORLD, "--no-such-flag"])
            .status
            .code(),
        Some(1)
    );
}

// ---------------------------------------------------------------------------------------------
// The plan file and JSON output

#[test]
fn out_writes_the_plan_file_and_json_output_matches_it() {
    let dir = scratch_dir("out");
    for req in [DENIED, ALLOWED, EXPLICIT_DENY] {
        let file = dir.join("plan.json");
        let _ = std::fs::remove_file(&file);
        let out = s3medic(&[
            "plan",
            "-w",
            WORLD,
            "-r",
            req,
            "-o",
            path_str(&file),
            "--output",
            "json",
        ]);
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "{req}: {}",
            text(&out.stderr)
        );
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("plan file written"))
                .expect("plan file is JSON");
        let printed: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
        assert_eq!(written, printed, "{req}");
        assert_eq!(written["format_version"], 1);
        assert_eq!(written["tool_version"], env!("CARGO_PKG_VERSION"));
        // When it was made: RFC 3339 UTC, whole seconds, from the clock of this run.
        let created = written["created_at"].as_str().expect("created_at");
        assert!(created.ends_with('Z') && created.len() == 20, "{created}");
        let made = chrono::DateTime::parse_from_rfc3339(created).expect("RFC 3339");
        let age = chrono::Utc::now().signed_duration_since(made);
        assert!(
            age >= chrono::Duration::zero() && age < chrono::Duration::minutes(10),
            "{created}"
        );
        for field in [
            "request",
            "decision_before",
            "findings",
            "changes",
            "manual_steps",
            "proof",
            "unknowns",
        ] {
            assert!(written.get(field).is_some(), "plan lacks `{field}`");
        }
        assert_eq!(written["request"]["bucket"], "example-reports");
        assert_changes_complete(&written);
        assert_eq!(
            dir_entries(&dir),
            vec!["plan.json".to_string()],
            "no temp file left"
        );
    }
    // Overwriting an existing plan file is fine.
    let file = dir.join("plan.json");
    std::fs::write(&file, "stale").expect("seed");
    let out = s3medic(&["plan", "-w", WORLD, "-r", ALLOWED, "-o", path_str(&file)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    assert_eq!(v["decision_before"], "allowed");
    assert!(text(&out.stderr).contains("plan written to"));
}

#[test]
fn nothing_is_written_on_error() {
    let dir = scratch_dir("error");
    let file = dir.join("plan.json");
    let out = s3medic(&[
        "plan",
        "-w",
        "no/such/world.json",
        "-r",
        DENIED,
        "-o",
        path_str(&file),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(dir_entries(&dir).is_empty(), "{:?}", dir_entries(&dir));

    // An existing file is left as it was.
    std::fs::write(&file, "previous plan").expect("seed");
    let out = s3medic(&[
        "plan",
        "-w",
        WORLD,
        "--principal",
        "anonymous",
        "--operation",
        "GetObjekt",
        "--bucket",
        "example-reports",
        "--key",
        "k",
        "-o",
        path_str(&file),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        "previous plan"
    );
    assert_eq!(dir_entries(&dir), vec!["plan.json".to_string()]);

    // An unwritable destination is an error naming it, with nothing printed.
    let missing_dir = dir.join("no-such-dir").join("plan.json");
    let out = s3medic(&[
        "plan",
        "-w",
        WORLD,
        "-r",
        DENIED,
        "-o",
        path_str(&missing_dir),
    ]);
    assert_error(&out, "cannot write plan file");
}

#[test]
fn request_flags_build_the_same_plan_as_the_file() {
    let flags = s3medic(&[
        "plan",
        "-w",
        WORLD,
        "--principal",
        "arn:aws:iam::444455556666:user/alice",
        "--operation",
        "GetObject",
        "--bucket",
        "example-reports",
        "--key",
        "reports/2026/q1.csv",
        "--context",
        "aws:SecureTransport=true",
        "--output",
        "json",
    ]);
    let file = s3medic(&["plan", "-w", WORLD, "-r", DENIED, "--output", "json"]);
    assert_eq!(flags.status.code(), file.status.code());
    let a: Value = serde_json::from_slice(&flags.stdout).expect("json");
    let b: Value = serde_json::from_slice(&file.stdout).expect("json");
    assert_eq!(a, b);
}

#[test]
fn colour_only_when_asked() {
    let always = s3medic(&["plan", "-w", WORLD, "-r", DENIED, "--color", "always"]);
    assert!(text(&always.stdout).contains("\x1b["), "always colours");
    // Tests run without a terminal: `auto` (the default) does not colour.
    let auto = s3medic(&["plan", "-w", WORLD, "-r", DENIED]);
    assert!(!text(&auto.stdout).contains('\x1b'), "auto off a terminal");
    let never = s3medic(&["plan", "-w", WORLD, "-r", DENIED, "--color", "never"]);
    assert_eq!(text(&auto.stdout), text(&never.stdout));
    // JSON is never coloured.
    let json = s3medic(&[
        "plan", "-w", WORLD, "-r", DENIED, "--color", "always", "--output", "json",
    ]);
    let _: Value = serde_json::from_slice(&json.stdout).expect("json stays parseable");
}

// ---------------------------------------------------------------------------------------------
// Refusal: a public bucket policy behind Block Public Access. With --allow-public the only fix
// turns RestrictPublicBuckets off, which also opens the policy's other public grants.

const PUBLIC_WORLD: &str = "tests/golden/worlds/public-site-bpa.json";
const PUBLIC_REQUEST: &str = "tests/golden/requests/public-site-bpa.json";

#[test]
fn unaccepted_new_access_is_refused_with_exit_3_and_nothing_written() {
    let dir = scratch_dir("refused");
    let file = dir.join("plan.json");
    let args = [
        "plan",
        "-w",
        PUBLIC_WORLD,
        "-r",
        PUBLIC_REQUEST,
        "--allow-public",
    ];
    let out = s3medic(&[&args[..], &["-o", path_str(&file), "--color", "never"]].concat());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("REFUSED"), "{stdout}");
    assert!(stdout.contains("anonymous s3:PutObject"), "{stdout}");
    assert!(
        dir_entries(&dir).is_empty(),
        "nothing written: {:?}",
        dir_entries(&dir)
    );

    let out = s3medic(&[&args[..], &["-o", path_str(&file), "--output", "json"]].concat());
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).expect("refusal JSON");
    assert_eq!(v["refused"], "new_access");
    assert!(v["new_access"].as_array().is_some_and(|a| !a.is_empty()));
    assert!(v.get("proof").is_none(), "not a plan file: {v}");
    assert!(dir_entries(&dir).is_empty());

    // Accepting the new access makes it an ordinary plan (exit 2) that lists it.
    let out = s3medic(
        &[
            &args[..],
            &[
                "--accept-new-access",
                "-o",
                path_str(&file),
                "--output",
                "json",
            ],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("plan written")).expect("json");
    assert_eq!(v["proof"]["accepted"], true);
    assert!(v["proof"]["new_access"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));
    assert_changes_complete(&v);
    assert!(!v["changes"].as_array().expect("changes").is_empty());
}

#[test]
fn public_grant_without_allow_public_is_a_manual_step() {
    let out = s3medic(&[
        "plan",
        "-w",
        PUBLIC_WORLD,
        "-r",
        PUBLIC_REQUEST,
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["changes"], json!([]));
    assert!(v["manual_steps"].as_array().is_some_and(|a| !a.is_empty()));
    assert_eq!(v["proof"]["target_allowed"], false);
}

// ---------------------------------------------------------------------------------------------
// Rendering every part of a plan (library level: independent of what diagnosis and synthesis
// currently produce)

fn sample_plan(accepted: bool) -> Plan {
    let bucket_before = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AllowDataReaderRead", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::444455556666:role/DataReader"},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::example-reports/reports/*"}]});
    let mut bucket_after = bucket_before.clone();
    if let Some(list) = bucket_after["Statement"].as_array_mut() {
        list.push(json!({"Sid": "S3MedicAllowAliceGetObject", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:user/alice"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::example-reports/reports/2026/q1.csv"}));
    }
    let resource = "arn:aws:s3:::example-reports".to_string();
    let inline_after = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "S3MedicKmsDecrypt", "Effect": "Allow", "Action": "kms:Decrypt",
         "Resource": "arn:aws:kms:us-east-1:111122223333:key/k"}]});
    let inline_res = "arn:aws:iam::444455556666:user/alice".to_string();
    Plan {
        format_version: PLAN_FORMAT_VERSION,
        tool_version: "0.0.0-test".into(),
        created_at: None,
        request: json!({"principal": "arn:aws:iam::444455556666:user/alice",
            "operation": "GetObject", "bucket": "example-reports", "key": "reports/2026/q1.csv"}),
        decision_before: Decision::ImplicitDeny,
        findings: vec![Finding {
            cause: Cause::CrossAccountResourceMissing,
            authorization: 0,
            action: "s3:GetObject".into(),
            resource: "arn:aws:s3:::example-reports/reports/2026/q1.csv".into(),
            layer: Layer::ResourcePolicy,
            explanation: "The bucket policy of example-reports does not grant alice, and the request is cross-account.".into(),
            evidence: vec![
                Evidence::Statement {
                    policy: "bucket-policy:example-reports".into(),
                    sid: Some("AllowDataReaderRead".into()),
                    index: 1,
                    effect: "Allow".into(),
                    detail: "principal mismatch".into(),
                },
                Evidence::Setting {
                    resource: "example-reports".into(),
                    name: "ObjectOwnership".into(),
                    value: "BucketOwnerEnforced".into(),
                },
                Evidence::Missing {
                    action: "s3:GetObject".into(),
                    resource: "arn:aws:s3:::example-reports/reports/2026/q1.csv".into(),
                    looked_in: "bucket-policy:example-reports".into(),
                },
            ],
        }],
        changes: vec![
            Change {
                id: "c1".into(),
                account: "111122223333".into(),
                resource: resource.clone(),
                target: Target::BucketPolicy {
                    bucket: "example-reports".into(),
                },
                action: ChangeAction::Update,
                diff: unified_diff(&resource, &bucket_before, &bucket_after),
                before_digest: digest(&bucket_before),
                before: bucket_before,
                after: bucket_after,
                risk: Risk::Medium,
                reversible: true,
                rollback_caveat: None,
                playbooks: vec!["cross-account-resource-missing".into()],
                summary: "grant alice s3:GetObject on the object in the bucket policy".into(),
            },
            Change {
                id: "c2".into(),
                account: "444455556666".into(),
                resource: inline_res.clone(),
                target: Target::InlinePolicy {
                    account: "444455556666".into(),
                    principal: s3medic::plan::PrincipalType::User,
                    name: "alice".into(),
                    policy_name: "s3medic-grants".into(),
                },
                action: ChangeAction::Create,
                diff: unified_diff(&inline_res, &Value::Null, &inline_after),
                before_digest: digest(&Value::Null),
                before: Value::Null,
                after: inline_after,
                risk: Risk::Low,
                reversible: false,
                rollback_caveat: Some("objects written meanwhile stay".into()),
                playbooks: vec!["kms-identity-missing".into()],
                summary: "allow alice kms:Decrypt on the key".into(),
            },
        ],
        manual_steps: vec![ManualStep {
            playbook: "scp-blocks".into(),
            who: "the organization's management account".into(),
            action: "allow s3:GetObject in SCP `Restrict`".into(),
            statement: Some(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})),
        }],
        proof: Proof {
            decision_after: Decision::Allowed,
            target_allowed: true,
            requests_checked: 42,
                requests_evaluated: 42,
                requests_skipped: 0,
            new_access: vec![NewAccess {
                principal: "arn:aws:iam::444455556666:user/bob".into(),
                action: "s3:GetObject".into(),
                resource: "arn:aws:s3:::example-reports/reports/2026/q1.csv".into(),
                source_arn: None,
            }],
            accepted,
        },
        unknowns: vec!["key policy of alias/aws/s3: AccessDenied".into()],
    }
}

#[test]
fn plan_text_shows_every_part() {
    let t = plan_text(&sample_plan(true), false);
    for needle in [
        "PLAN: 2 changes make the request allowed; 1 manual step advised",
        "request: arn:aws:iam::444455556666:user/alice → GetObject s3://example-reports/reports/2026/q1.csv",
        "decision: denied (implicit deny) → allowed (after the plan)",
        "[1] cross-account-resource-missing  (resource-based policy, resource_policy)",
        "does not grant alice",
        "Allow statement `AllowDataReaderRead` in bucket-policy:example-reports: principal mismatch",
        "setting ObjectOwnership = BucketOwnerEnforced on example-reports",
        "no grant of s3:GetObject on arn:aws:s3:::example-reports/reports/2026/q1.csv in bucket-policy:example-reports",
        "c1 update  arn:aws:s3:::example-reports",
        "account:    111122223333",
        "risk:       medium",
        "reversible: yes",
        "reversible: no: objects written meanwhile stay",
        "playbooks:  cross-account-resource-missing",
        "--- arn:aws:s3:::example-reports (before)",
        "+++ arn:aws:s3:::example-reports (after)",
        "+      \"Sid\": \"S3MedicAllowAliceGetObject\"",
        "c2 create  arn:aws:iam::444455556666:user/alice",
        "[1] the organization's management account: allow s3:GetObject in SCP `Restrict`  (scp-blocks)",
        "\"Effect\": \"Allow\"",
        "the request:        allowed",
        "requests checked:   42",
        "new access:         1 request (accepted)",
        "arn:aws:iam::444455556666:user/bob s3:GetObject on",
        "Could not check",
        "? key policy of alias/aws/s3: AccessDenied",
    ] {
        assert!(t.contains(needle), "missing `{needle}` in:\n{t}");
    }
    assert!(!t.contains('\x1b'));
    // Colour: red removals / green additions / cyan hunks / bold headers.
    let c = plan_text(&sample_plan(true), true);
    assert!(c.contains("\x1b[32m+      \"Sid\": \"S3MedicAllowAliceGetObject\""));
    assert!(c.contains("\x1b[36m@@"));
    assert!(c.contains("\x1b[1m--- arn:aws:s3:::example-reports (before)"));
}

#[test]
fn refused_plan_reports_new_access_only() {
    let p = sample_plan(false);
    let t = refusal_text(&p, false);
    assert!(t.starts_with("REFUSED"), "{t}");
    assert!(t.contains("1 other request"), "{t}");
    assert!(
        t.contains("+ arn:aws:iam::444455556666:user/bob s3:GetObject on"),
        "{t}"
    );
    assert!(t.contains("--accept-new-access"), "{t}");
    assert!(!t.contains("@@"), "no diff in a refusal: {t}");
    let j = refusal_json(&p);
    assert_eq!(j["refused"], "new_access");
    assert_eq!(j["requests_checked"], 42);
    assert!(j["changes"][0].get("after").is_none(), "not applicable");
}

#[test]
fn sample_plan_json_has_complete_changes() {
    let v = serde_json::to_value(sample_plan(true)).expect("serialize");
    assert_changes_complete(&v);
    assert_eq!(v["changes"][1]["before"], Value::Null);
    assert_eq!(v["changes"][1]["action"], "create");
    assert_eq!(v["changes"][1]["target"]["type"], "inline_policy");
    assert!(v["changes"][0].get("rollback_caveat").is_none());
    assert_eq!(v["findings"][0]["cause"], "cross-account-resource-missing");
    assert_eq!(v["findings"][0]["evidence"][0]["kind"], "statement");
}

// ---------------------------------------------------------------------------------------------
// Goldens

/// (name, world, request, extra flags)
const GOLDEN: &[(&str, &str, &str, &[&str])] = &[
    ("datareader-get-report", WORLD, ALLOWED, &[]),
    ("alice-get-report", WORLD, DENIED, &[]),
    ("datareader-get-report-http", WORLD, EXPLICIT_DENY, &[]),
    (
        "same-account-no-grant",
        "tests/golden/worlds/same-account-no-grant.json",
        "tests/golden/requests/same-account-no-grant.json",
        &[],
    ),
    (
        "kms-decrypt-missing",
        "tests/golden/worlds/kms-decrypt-missing.json",
        "tests/golden/requests/kms-decrypt-missing.json",
        &[],
    ),
    ("public-site-bpa", PUBLIC_WORLD, PUBLIC_REQUEST, &[]),
    (
        "public-site-bpa-refused",
        PUBLIC_WORLD,
        PUBLIC_REQUEST,
        &["--allow-public"],
    ),
];

/// The plan JSON with `tool_version` and `created_at` replaced, so goldens survive version bumps
/// and the clock.
fn normalise_json(stdout: &[u8]) -> String {
    let mut v: Value = serde_json::from_slice(stdout).expect("plan JSON");
    if v.get("tool_version").is_some() {
        v["tool_version"] = Value::String("<tool_version>".into());
    }
    if v.get("created_at").is_some() {
        v["created_at"] = Value::String("<created_at>".into());
    }
    serde_json::to_string_pretty(&v).expect("serialize") + "\n"
}

#[test]
fn golden_outputs() {
    let bless = std::env::var("S3MEDIC_BLESS").is_ok_and(|v| v == "1");
    let dir = root().join("tests/golden");
    let mut mismatches = Vec::new();
    for (name, world, request, extra) in GOLDEN {
        let base = ["plan", "-w", world, "-r", request];
        let txt = s3medic(&[&base[..], extra, &["--color", "never"]].concat());
        let js = s3medic(&[&base[..], extra, &["--output", "json"]].concat());
        for out in [&txt, &js] {
            assert!(
                matches!(out.status.code(), Some(0 | 2 | 3)),
                "{name}: {}",
                text(&out.stderr)
            );
        }
        assert_eq!(txt.status.code(), js.status.code(), "{name}");
        for (ext, actual) in [
            ("txt", text(&txt.stdout)),
            ("json", normalise_json(&js.stdout)),
        ] {
            let path = dir.join(format!("{name}.{ext}"));
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
    }
    assert!(
        mismatches.is_empty(),
        "golden mismatch (re-bless with `S3MEDIC_BLESS=1 cargo test --test cli_plan golden`):\n{}",
        mismatches.join("\n")
    );
}
