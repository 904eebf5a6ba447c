//! `explain`, `plan` and `requests` from what the user has: an error message (`--error`,
//! `--error-file`), CloudTrail records (`--cloudtrail`) and an AWS CLI command (`--aws-cli`),
//! against the bundled example World. Exit codes (0 allowed / nothing to change, 2 denied /
//! changes, 1 error), the confirm / contradict check of the message's stated reason, flags that
//! fill gaps and win, the batch JSON document, and clear errors naming what is missing.

#[path = "common/cli.rs"]
mod cli;

use std::process::Output;

use cli::{assert_fails_saying, json, s3medic, scratch_dir, text};

const WORLD: &str = "examples/worlds/cross-account.json";
const TRAIL: &str = "tests/intake/cloudtrail/mixed.json";
const ALICE: &str = "arn:aws:iam::444455556666:user/alice";
const DATAREADER: &str = "arn:aws:sts::444455556666:assumed-role/DataReader/etl-job";
const GET_ERROR: &str =
    "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied";

/// `s3medic explain -w WORLD ARGS`.
fn explain(args: &[&str]) -> Output {
    s3medic(&[&["explain", "-w", WORLD][..], args].concat())
}

/// `s3medic plan -w WORLD ARGS`.
fn plan(args: &[&str]) -> Output {
    s3medic(&[&["plan", "-w", WORLD][..], args].concat())
}

fn denied_message(caller: &str, reason: &str) -> String {
    format!(
        "An error occurred (AccessDenied) when calling the GetObject operation: User: {caller} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::example-reports/reports/2026/q1.csv\" {reason}"
    )
}

// ---------------------------------------------------------------------------------------------
// --error

#[test]
fn error_message_reason_confirmed() {
    let msg = denied_message(
        DATAREADER,
        "with an explicit deny in a resource-based policy",
    );
    let out = explain(&["--error", &msg, "--context", "aws:SecureTransport=false"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("DENIED (explicit deny"), "{stdout}");
    assert!(
        stdout.contains("the message says: an explicit deny in a resource-based policy"),
        "{stdout}"
    );
    assert!(
        stdout.contains("s3medic confirms: the deciding layer is resource-based policy (explicit deny by `DenyInsecureTransport` in bucket-policy:example-reports)"),
        "{stdout}"
    );

    let out = explain(&[
        "--error",
        &msg,
        "--context",
        "aws:SecureTransport=false",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["decision"], "explicit_deny");
    assert_eq!(v["message_check"]["verdict"], "confirms");
    assert_eq!(
        v["message_check"]["message_says"],
        "an explicit deny in a resource-based policy"
    );
}

#[test]
fn error_message_reason_contradicted() {
    // AWS would not say this for a cross-account request, but a stale or mistaken reading would:
    // the identity policy allows alice; the bucket policy does not grant her.
    let msg = denied_message(
        ALICE,
        "because no identity-based policy allows the s3:GetObject action",
    );
    let out = explain(&["--error", &msg]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("the message says: no identity-based policy allows s3:GetObject"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "s3medic contradicts: the deciding layer is resource-based policy (implicit deny)"
        ),
        "{stdout}"
    );
}

#[test]
fn error_message_of_an_allowed_request_is_contradicted() {
    let msg = denied_message(
        DATAREADER,
        "because no VPC endpoint policy allows the s3:GetObject action",
    );
    let out = explain(&[
        "--error",
        &msg,
        "--vpc-endpoint",
        "vpce-1a2b3c4d",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out);
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["message_check"]["verdict"], "contradicts");
    assert!(v["message_check"]["s3medic"]
        .as_str()
        .is_some_and(|s| s.contains("allowed")));
}

#[test]
fn error_message_without_bucket_names_what_is_missing() {
    let out = explain(&["--error", GET_ERROR, "--principal", ALICE]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("does not say the request's bucket, key"),
        "{stderr}"
    );
    assert!(stderr.contains("`--bucket NAME`"), "{stderr}");
    assert!(stderr.contains("`--key KEY`"), "{stderr}");

    let out = explain(&["--error", GET_ERROR]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("principal"), "{stderr}");
    assert!(stderr.contains("--live"), "{stderr}");
}

#[test]
fn flags_fill_gaps_and_win() {
    // Fill: the plain CLI message gives only the operation.
    let out = explain(&[
        "--error",
        GET_ERROR,
        "--principal",
        DATAREADER,
        "--bucket",
        "example-reports",
        "--key",
        "reports/2026/q1.csv",
        "--vpc-endpoint",
        "vpce-1a2b3c4d",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Win: the message names alice on another object; the flags name DataReader and the report.
    let msg = "User: arn:aws:iam::444455556666:user/alice is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::example-reports/other.csv\" because no resource-based policy allows the s3:GetObject action";
    let out = explain(&[
        "--error",
        msg,
        "--principal",
        DATAREADER,
        "--key",
        "reports/2026/q1.csv",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!(
            "request: {DATAREADER} → GetObject s3://example-reports/reports/2026/q1.csv"
        )),
        "{stdout}"
    );
}

#[test]
fn error_file_and_bad_error_texts() {
    let dir = scratch_dir("error-file");
    let f = dir.join("error.txt");
    std::fs::write(
        &f,
        "download failed: s3://example-reports/reports/2026/q1.csv to ./q1.csv An error occurred (AccessDenied) when calling the GetObject operation: Access Denied\n",
    )
    .expect("write");
    let f = f.to_str().expect("utf-8");
    let out = explain(&["--error-file", f, "--principal", ALICE]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let out = explain(&["--error-file", "no/such/file.txt"]);
    assert_fails_saying(&out, "cannot read error file `no/such/file.txt`");

    let out = explain(&["--error", "it did not work"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("`--error`: `it did not work` is not an AWS error message"),
        "{stderr}"
    );

    // An error that is not an access denial is evaluated with a note.
    let out = explain(&["--principal", DATAREADER, "--vpc-endpoint", "vpce-1a2b3c4d",
        "--operation", "GetObject", "--error",
        "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Resource>/example-reports/reports/2026/q1.csv</Resource></Error>",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is a `NoSuchKey` error, not an access denial"));

    // --error replaces --request.
    let out = explain(&[
        "--error",
        GET_ERROR,
        "-r",
        "examples/requests/alice-get-report.json",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

// ---------------------------------------------------------------------------------------------
// --cloudtrail

#[test]
fn cloudtrail_explain_evaluates_every_group() {
    let out = explain(&["--cloudtrail", TRAIL]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert_eq!(stdout.matches("── ").count(), 5, "{stdout}");
    assert!(
        stdout.contains("── 2 of 5: group 2: 2 × arn:aws:iam::444455556666:user/alice GetObject"),
        "{stdout}"
    );
    assert!(
        stdout.contains("5 request(s): 0 allowed, 5 denied"),
        "{stdout}"
    );
    assert!(stdout.contains("s3medic confirms: the deciding layer is identity-based policies (implicit deny) for s3:PutObject"), "{stdout}");
    assert!(
        stderr.contains("14 event(s): 6 denied S3 request(s) in 5 group(s)"),
        "{stderr}"
    );
    assert!(stderr.contains("skipped event 14"), "{stderr}");

    let out = explain(&["--cloudtrail", TRAIL, "--output", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["source"], "cloudtrail");
    assert_eq!(v["input"], TRAIL);
    let reqs = v["requests"].as_array().expect("requests");
    assert_eq!(reqs.len(), 5);
    assert_eq!(reqs[0]["decision"]["message_check"]["verdict"], "confirms");
    assert_eq!(reqs[1]["count"], 2);
    assert_eq!(reqs[1]["request"]["principal"], ALICE);
    assert_eq!(reqs[1]["first_time"], "2026-11-29T10:00:00Z");
    assert_eq!(reqs[1]["decision"]["decision"], "implicit_deny");
    assert_eq!(
        reqs[2]["decision"]["deciding"]["statements"][0]["sid"],
        "DenyInsecureTransport"
    );
    assert_eq!(reqs[4]["request"]["operation"], "ListObjectsV2");
    assert_eq!(v["skipped"].as_array().map(Vec::len), Some(1));
}

#[test]
fn cloudtrail_event_group_selects_one() {
    let out = explain(&[
        "--cloudtrail",
        TRAIL,
        "--event-group",
        "3",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let v = json(&out);
    assert_eq!(v["decision"], "explicit_deny", "a single decision document");

    let out = explain(&["--cloudtrail", TRAIL, "--event-group", "9"]);
    assert_fails_saying(&out, "`--event-group 9`");
}

#[test]
fn cloudtrail_plan_needs_a_group() {
    let out = plan(&["--cloudtrail", TRAIL]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("choose one with `--event-group N`"),
        "{stderr}"
    );
    for g in 1..=5 {
        assert!(stderr.contains(&format!("  group {g}: ")), "{stderr}");
    }

    let out = plan(&[
        "--cloudtrail",
        TRAIL,
        "--event-group",
        "2",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let v = json(&out);
    assert_eq!(v["request"]["principal"], ALICE);
    assert_eq!(v["findings"][0]["cause"], "cross-account-resource-missing");

    let out = plan(&["--cloudtrail", TRAIL, "--event-group", "1"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("s3medic confirms"),
        "the message check follows the plan:\n{stdout}"
    );
}

#[test]
fn cloudtrail_bad_files_are_errors() {
    let dir = scratch_dir("bad-trail");
    let f = dir.join("trail.json");
    for (content, says) in [
        ("{\"Records\": [", "is not JSON"),
        ("{\"Records\": []}", "holds no denied S3 request"),
    ] {
        std::fs::write(&f, content).expect("write");
        let out = explain(&["--cloudtrail", f.to_str().expect("utf-8")]);
        assert_fails_saying(&out, says);
    }
}

#[test]
fn requests_lists_groups_as_request_files() {
    let dir = scratch_dir("requests");
    let out = s3medic(&[
        "requests",
        "--cloudtrail",
        TRAIL,
        "--out-dir",
        dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out);
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["source"], "cloudtrail");
    let reqs = v["requests"].as_array().expect("requests");
    assert_eq!(reqs.len(), 5);
    assert_eq!(
        reqs[0]["message_says"],
        "no identity-based policy allows s3:PutObject"
    );
    // Each file is a Request that explain reads back, with the same decision.
    let second = dir.join("request-2.json");
    assert_eq!(reqs[1]["file"], second.display().to_string());
    let out = explain(&["-r", second.to_str().expect("utf-8"), "--output", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["decision"], "implicit_deny");

    let out = s3medic(&["requests", "--aws-cli", "aws s3 ls", "--principal", ALICE]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out);
    assert_eq!(v["source"], "aws_cli");
    assert_eq!(v["requests"][0]["request"]["operation"], "ListBuckets");
    assert_eq!(v["requests"][0]["what"], "list the account's buckets");
}

// ---------------------------------------------------------------------------------------------
// --aws-cli

#[test]
fn aws_cli_explain_each_request() {
    let cmd = "aws s3 cp s3://example-reports/reports/2026/q1.csv ./q1.csv";
    let out = explain(&[
        "--aws-cli",
        cmd,
        "--principal",
        DATAREADER,
        "--vpc-endpoint",
        "vpce-1a2b3c4d",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("step 1: read the object's metadata"),
        "{stdout}"
    );
    assert!(stdout.contains("step 2: download the object"), "{stdout}");
    assert!(
        stdout.contains("2 request(s): 2 allowed, 0 denied"),
        "{stdout}"
    );

    let out = explain(&["--aws-cli", cmd, "--principal", ALICE, "--output", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(v["source"], "aws_cli");
    assert_eq!(v["input"], cmd);
    let ops: Vec<&str> = v["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| r["request"]["operation"].as_str().expect("operation"))
        .collect();
    assert_eq!(ops, vec!["HeadObject", "GetObject"]);

    // Missing caller, unknown command.
    let out = explain(&["--aws-cli", cmd]);
    assert_fails_saying(
        &out,
        "the AWS CLI command does not say the request's principal",
    );
    let out = explain(&[
        "--aws-cli",
        "aws ec2 describe-instances",
        "--principal",
        ALICE,
    ]);
    assert_fails_saying(&out, "`aws ec2` is not understood");
}

#[test]
fn aws_cli_plan_takes_the_first_denied_request() {
    // alice (cross-account, not in the bucket policy) is denied both requests of the download.
    let cmd = "aws s3 cp s3://example-reports/reports/2026/q1.csv .";
    let out = plan(&["--aws-cli", cmd, "--principal", ALICE, "--output", "json"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("planning step 1: read the object's metadata"),
        "{stderr}"
    );
    assert!(stderr.contains("the first denied request"), "{stderr}");
    assert_eq!(json(&out)["request"]["operation"], "HeadObject");

    let out = plan(&[
        "--aws-cli",
        cmd,
        "--principal",
        ALICE,
        "--step",
        "2",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(json(&out)["request"]["operation"], "GetObject");

    // All allowed: the first request, nothing to change.
    let out = plan(&[
        "--aws-cli",
        cmd,
        "--principal",
        DATAREADER,
        "--vpc-endpoint",
        "vpce-1a2b3c4d",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("every request of the command is allowed"));
}

// ---------------------------------------------------------------------------------------------
// --presigned-url

#[test]
fn presigned_url_facts_are_reported() {
    let url = "https://example-reports.s3.us-east-1.amazonaws.com/reports/2026/q1.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261129%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261129T120000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    let out = explain(&[
        "--presigned-url",
        url,
        "--principal",
        DATAREADER,
        "--vpc-endpoint",
        "vpce-1a2b3c4d",
        "--context",
        "aws:CurrentTime=2026-11-29T14:00:00Z",
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "expired an hour ago: {stderr}");
    assert!(
        stderr.contains("presigned URL: signed by access key `AKIAIOSFODNN7EXAMPLE` (us-east-1) at 2026-11-29T12:00:00Z, valid for 3600 s (until 2026-11-29T13:00:00Z), signed headers `host`; checked as GET → GetObject"),
        "{stderr}"
    );
}

#[test]
fn cloudtrail_callers_named_by_account_resolve_through_the_world() {
    const BY_ACCOUNT: &str = "tests/intake/cloudtrail/account-callers.json";
    let out = explain(&["--cloudtrail", BY_ACCOUNT, "--output", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let v = json(&out);
    let reqs = v["requests"].as_array().expect("requests");
    assert_eq!(reqs.len(), 3, "{v:#}");
    // The role session the principal id names: granted by the bucket policy.
    assert_eq!(reqs[0]["request"]["principal"], DATAREADER, "{v:#}");
    assert_eq!(reqs[0]["decision"]["decision"], "allowed", "{v:#}");
    assert!(
        reqs[0]["notes"][0].as_str().is_some_and(|n| n
            .contains("(principal id AROAEXAMPLEDATAREADR:etl-job): the World's IAM data gives")),
        "{v:#}"
    );
    assert_eq!(reqs[1]["request"]["principal"], ALICE, "{v:#}");
    // An id the World does not know: the account, saying why.
    assert_eq!(reqs[2]["request"]["principal"], "444455556666", "{v:#}");
    assert_eq!(reqs[2]["decision"]["decision"], "implicit_deny", "{v:#}");
    assert!(reqs[2]["notes"][0].as_str().is_some_and(|n| n.contains(
        "cannot be resolved: no user or role of account 444455556666 in the World has the id `AIDAEXAMPLENOSUCHID0`"
    )), "{v:#}");

    // One group (explain and plan): the note goes to stderr.
    let out = explain(&["--cloudtrail", BY_ACCOUNT, "--event-group", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(DATAREADER),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("the World's IAM data gives"),
        "{}",
        text(&out.stderr)
    );
    let out = plan(&[
        "--cloudtrail",
        BY_ACCOUNT,
        "--event-group",
        "2",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(json(&out)["request"]["principal"], ALICE);
    // `--principal` names the caller: nothing is resolved.
    let out = explain(&[
        "--cloudtrail",
        BY_ACCOUNT,
        "--event-group",
        "1",
        "--principal",
        ALICE,
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("the World's IAM data gives"),
        "{}",
        text(&out.stderr)
    );
}
