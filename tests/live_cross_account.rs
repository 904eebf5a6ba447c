//! Live tests across accounts against a local moto server: other accounts are reached with
//! `--account-role ACCOUNT_ID=ROLE_ARN` (STS AssumeRole with the caller's credentials; in moto the
//! credentials of a role of another account id act in that account: its own IAM, its own
//! buckets' listing, its own organization view).
//!
//! * A bucket in account B (222222222222) and user alice in the caller's account A (moto's
//!   default 123456789012) with an identity grant: `plan --live` reads B's bucket with B's
//!   credentials (a proxy refuses every request on B's bucket signed with A's key, as AWS would
//!   without a bucket policy), proposes B's bucket policy statement, `apply` writes it with B's
//!   credentials (and refuses without the role), `plan` again finds nothing, `rollback` restores.
//! * The reverse: a bucket in A granting alice in B, alice without an identity grant: the plan
//!   writes alice's inline policy in B's IAM with B's credentials.
//! * Organizations: an SCP denying s3:GetObject attached to a member account is collected (the
//!   World holds it at the account's level) and `explain --live` names it as the decider.
//! * A request through a VPC endpoint: the endpoint is recorded unknown (s3medic does not read
//!   EC2) and the plan lists it among what it could not check.
//!
//! Each test starts its own moto server. Needs the moto server (`bash scripts/test.sh` installs it
//! into .venv); never skipped.

#[path = "common/live.rs"]
mod live;
#[path = "common/moto.rs"]
mod moto;
#[path = "common/proxy.rs"]
mod proxy;

use std::path::Path;

use moto::{
    bucket_with_object, config_in, create_bucket, create_user, must, put_bucket_policy,
    put_user_policy, s3_of, unique, Moto, ACCESS_KEY, ACCOUNT,
};
use proxy::{Canned, Proxy, Rule};
use serde_json::{json, Value};

use live::*;

/// Account B.
const B: &str = "222222222222";
/// What the `Authorization` header of a request signed with the caller's (A's) key contains.
const SIGNED_BY_A: &str = "Credential=AKIAIOSFODNN7EXAMPLE/";

/// `s3medic ARGS… --output json` against `endpoint`.
fn s3medic(moto: &Moto, endpoint: &str, args: &[&str]) -> Run {
    let mut c = moto.s3medic();
    c.args(args)
        .args(["--output", "json"])
        .args(endpoint_flags(endpoint));
    run(c, &format!("s3medic {}", args.join(" ")))
}

/// `s3medic snapshot --bucket B --key K --principal P --account-role ROLE -o WORLD` against
/// `endpoint`.
fn snapshot_with_role(
    moto: &Moto,
    endpoint: &str,
    [bucket, key, principal]: [&str; 3],
    role: &str,
    world: &Path,
) -> Run {
    let mut c = moto.s3medic();
    c.args(["snapshot", "--bucket", bucket, "--key", key])
        .args(["--principal", principal, "--account-role", role, "-o"])
        .arg(world)
        .args(endpoint_flags(endpoint));
    run(c, "snapshot")
}

fn plan_args<'a>(request: &'a [String], role: bool, out: Option<&'a Path>) -> Vec<&'a str> {
    let mut v = vec!["plan", "--live"];
    v.extend(request.iter().map(String::as_str));
    if role {
        v.extend(["--account-role", ROLE_FLAG]);
    }
    if let Some(p) = out {
        v.push("-o");
        v.push(p.to_str().expect("utf-8 path"));
    }
    v
}

/// `--account-role` for B: the role s3medic assumes there.
const ROLE_FLAG: &str = "222222222222=arn:aws:iam::222222222222:role/auditor";

fn account<'a>(world: &'a Value, id: &str) -> &'a Value {
    world["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["account_id"] == id))
        .unwrap_or_else(|| panic!("account {id} in the world: {world:#}"))
}

#[tokio::test]
async fn bucket_in_other_account_is_read_and_fixed_with_that_accounts_role() {
    let moto = Moto::start();
    assert_eq!(
        ACCESS_KEY,
        &SIGNED_BY_A[11..31],
        "the proxy rule names A's key"
    );
    let a_iam = moto.iam().await;
    let b_config = config_in(&moto, B, "setup", "setup").await;
    let b_s3 = s3_of(&b_config);
    let b_iam = aws_sdk_iam::Client::new(&b_config);
    must(
        b_iam
            .create_role()
            .role_name("auditor")
            .assume_role_policy_document(
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                    "Action": "sts:AssumeRole"}]})
                .to_string(),
            )
            .send()
            .await,
        "CreateRole auditor in B",
    );

    // B's bucket and object, written by B.
    let bucket = unique("xacct-b");
    let key = "reports/q1.csv";
    bucket_with_object(&b_s3, &bucket, key, b"a,b\n1,2\n").await;
    // alice in A, allowed by her own account.
    let alice = unique("alice");
    let alice_arn = create_user(&a_iam, &alice).await;
    let read = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    put_user_policy(&a_iam, &alice, "ReadReports", &read).await;

    // The caller (A) may not touch B's bucket, as on AWS without a bucket policy granting it.
    let proxy = Proxy::start(
        &moto.endpoint,
        vec![Rule::new(Canned::access_denied())
            .path_contains(format!("/{bucket}"))
            .header_contains("Authorization", SIGNED_BY_A)],
    );
    let dir = scratch("s3medic-xacct");
    let request = get_object_request(&alice_arn, &bucket, key);

    // Without B's role: B's IAM is unknown (naming the flag), the bucket's owner cannot be found.
    let r = s3medic(&moto, &proxy.endpoint, &plan_args(&request, false, None));
    r.expect_code(1, "plan without B's role");
    assert!(
        r.stderr.contains("cannot tell which account owns bucket")
            && r.stderr.contains("--account-role"),
        "{}",
        r.stderr
    );

    // With B's role: both accounts are collected, B's bucket through B's credentials.
    let world_path = dir.join("world.json");
    snapshot_with_role(
        &moto,
        &proxy.endpoint,
        [&bucket, key, &alice_arn],
        ROLE_FLAG,
        &world_path,
    )
    .expect_code(0, "snapshot with B's role");
    let world = read_json(&world_path);
    assert!(
        proxy.matched(0) > 0,
        "the caller's reads of B's bucket were refused"
    );
    assert_eq!(world["buckets"][0]["account_id"], B, "{world:#}");
    assert_eq!(
        world["buckets"][0]["policy"],
        Value::Null,
        "B's bucket has no policy (read by B, not unknown): {world:#}"
    );
    let owner = world["buckets"][0]["acl"]["Owner"]["ID"].clone();
    assert!(owner.is_string(), "B's bucket ACL read by B: {world:#}");
    assert_eq!(
        account(&world, B)["canonical_user_id"],
        owner,
        "the bucket's ACL owner is B's canonical id: {world:#}"
    );
    assert!(
        world["buckets"][0]["objects"][0]["head"]
            .get("unknown")
            .is_none(),
        "{world:#}"
    );
    assert!(
        account(&world, B)["iam"]["RoleDetailList"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["RoleName"] == "auditor")),
        "B's IAM read with B's role: {world:#}"
    );
    assert!(
        account(&world, ACCOUNT)["iam"]["UserDetailList"]
            .as_array()
            .is_some_and(|u| u.iter().any(|x| x["UserName"] == alice.as_str())),
        "{world:#}"
    );
    assert_eq!(
        account(&world, B)["organization"],
        Value::Null,
        "no organization in moto yet"
    );

    let plan_path = dir.join("plan.json");
    let r = s3medic(
        &moto,
        &proxy.endpoint,
        &plan_args(&request, true, Some(&plan_path)),
    );
    r.expect_code(2, "plan with B's role");
    let plan = read_json(&plan_path);
    assert_eq!(plan["decision_before"], "implicit_deny", "{plan:#}");
    let changes = plan["changes"].as_array().expect("changes").clone();
    assert_eq!(changes.len(), 1, "only B's bucket policy: {plan:#}");
    let change = &changes[0];
    assert_eq!(change["account"], B, "{plan:#}");
    assert_eq!(
        change["target"],
        json!({"type": "bucket_policy", "bucket": bucket}),
        "{plan:#}"
    );
    assert_eq!(change["before"], Value::Null, "{plan:#}");
    let after = change["after"].clone();
    let stmt = &after["Statement"][0];
    assert_eq!(stmt["Effect"], "Allow", "{after:#}");
    assert_eq!(stmt["Principal"]["AWS"], alice_arn.as_str(), "{after:#}");

    // Apply without B's role: A's credentials cannot read B's bucket policy: nothing written.
    let snapshots = dir.join("snapshots");
    let snap_dir = snapshots.to_str().expect("utf-8");
    let plan_str = plan_path.to_str().expect("utf-8");
    let r = s3medic(
        &moto,
        &proxy.endpoint,
        &["apply", plan_str, "--yes", "--snapshot-dir", snap_dir],
    );
    r.expect_code(1, "apply without B's role");
    assert_eq!(
        bucket_policy(&moto, &bucket).await,
        Value::Null,
        "nothing written"
    );

    // With B's role: written with B's credentials.
    let r = s3medic(
        &moto,
        &proxy.endpoint,
        &[
            "apply",
            plan_str,
            "--yes",
            "--snapshot-dir",
            snap_dir,
            "--account-role",
            ROLE_FLAG,
        ],
    );
    r.expect_code(0, "apply with B's role");
    let report = r.json("apply report");
    assert_eq!(ids_in(&report, "applied"), change_ids(&plan), "{report:#}");
    assert_eq!(report["decision_after"], "allowed", "{report:#}");
    let snapshot = snapshot_path(&report);
    assert_same_policy(
        &bucket_policy(&moto, &bucket).await,
        &after,
        "B's bucket policy is the plan's `after`",
    );
    let puts: Vec<_> = proxy
        .log()
        .into_iter()
        .filter(|s| s.method == "PUT" && s.target.contains(&bucket) && s.target.contains("policy"))
        .collect();
    assert!(
        !puts.is_empty()
            && puts.iter().all(|s| matches!(
                s.outcome,
                proxy::Outcome::Forwarded(204) | proxy::Outcome::Forwarded(200)
            )),
        "the bucket policy was written, and never refused (so never with A's key): {puts:#?}"
    );

    // Nothing left to do.
    let r = s3medic(&moto, &proxy.endpoint, &plan_args(&request, true, None));
    r.expect_code(0, "plan again");
    assert_eq!(r.json("re-plan")["changes"], json!([]));

    // Rollback needs B's role too; it restores exactly (no bucket policy).
    let r = s3medic(&moto, &proxy.endpoint, &["rollback", &snapshot, "--yes"]);
    r.expect_code(1, "rollback without B's role");
    assert_same_policy(&bucket_policy(&moto, &bucket).await, &after, "untouched");
    let r = s3medic(
        &moto,
        &proxy.endpoint,
        &["rollback", &snapshot, "--yes", "--account-role", ROLE_FLAG],
    );
    r.expect_code(0, "rollback with B's role");
    assert_eq!(
        bucket_policy(&moto, &bucket).await,
        Value::Null,
        "rollback removes the bucket policy again"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn principal_in_other_account_gets_its_identity_grant_written_there() {
    let moto = Moto::start();
    let a_s3 = moto.s3().await;
    let b_config = config_in(&moto, B, "setup", "setup").await;
    let b_iam = aws_sdk_iam::Client::new(&b_config);

    // alice in B, without any grant.
    let alice = unique("alice");
    let alice_arn = create_user(&b_iam, &alice).await;
    assert!(alice_arn.contains(&format!(":{B}:")), "{alice_arn}");
    // A's bucket grants her the read.
    let bucket = unique("xacct-a");
    let key = "data.csv";
    bucket_with_object(&a_s3, &bucket, key, b"x\n").await;
    let grant = json!({"Version": "2012-10-17", "Statement": [{"Sid": "AliceRead",
        "Effect": "Allow", "Principal": {"AWS": alice_arn},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    put_bucket_policy(&a_s3, &bucket, &grant).await;

    let dir = scratch("s3medic-xacct-rev");
    let request = get_object_request(&alice_arn, &bucket, key);

    // Without B's role, B's IAM is unknown, naming the flag.
    let r = s3medic(&moto, &moto.endpoint, &plan_args(&request, false, None));
    assert!(
        r.stderr.contains(&format!(
            "account `{B}`: IAM: not collected: account {B} is not the caller's account (give `--account-role {B}=ROLE_ARN`"
        )),
        "{}",
        r.stderr
    );

    let plan_path = dir.join("plan.json");
    let r = s3medic(
        &moto,
        &moto.endpoint,
        &plan_args(&request, true, Some(&plan_path)),
    );
    r.expect_code(2, "plan with B's role");
    let plan = read_json(&plan_path);
    let changes = plan["changes"].as_array().expect("changes").clone();
    assert_eq!(changes.len(), 1, "only alice's identity policy: {plan:#}");
    let change = &changes[0];
    assert_eq!(change["account"], B, "{plan:#}");
    assert_eq!(change["target"]["type"], "inline_policy", "{plan:#}");
    assert_eq!(change["target"]["name"], alice.as_str(), "{plan:#}");
    let policy_name = change["target"]["policy_name"]
        .as_str()
        .expect("policy name")
        .to_string();
    let after = change["after"].clone();

    let snapshots = dir.join("snapshots");
    let r = s3medic(
        &moto,
        &moto.endpoint,
        &[
            "apply",
            plan_path.to_str().expect("utf-8"),
            "--yes",
            "--snapshot-dir",
            snapshots.to_str().expect("utf-8"),
            "--account-role",
            ROLE_FLAG,
        ],
    );
    r.expect_code(0, "apply with B's role");
    let report = r.json("apply report");
    assert_eq!(report["decision_after"], "allowed", "{report:#}");
    let snapshot = snapshot_path(&report);

    // Stored in B's IAM (moto keeps IAM per account).
    assert_same_policy(
        &inline_policy(&b_iam, &alice, &policy_name).await,
        &after,
        "alice's inline policy in B is the plan's `after`",
    );

    let r = s3medic(&moto, &moto.endpoint, &plan_args(&request, true, None));
    r.expect_code(0, "plan again");
    assert_eq!(r.json("re-plan")["changes"], json!([]));

    let r = s3medic(
        &moto,
        &moto.endpoint,
        &["rollback", &snapshot, "--yes", "--account-role", ROLE_FLAG],
    );
    r.expect_code(0, "rollback with B's role");
    assert_eq!(
        inline_policy(&b_iam, &alice, &policy_name).await,
        Value::Null,
        "rollback deletes the inline policy again"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn scp_of_a_member_account_is_collected_and_decides() {
    use aws_sdk_organizations::types::{OrganizationFeatureSet, PolicyType};
    let moto = Moto::start();
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    must(
        org.create_organization()
            .feature_set(OrganizationFeatureSet::All)
            .send()
            .await,
        "CreateOrganization",
    );
    let root = must(org.list_roots().send().await, "ListRoots")
        .roots()
        .first()
        .and_then(|r| r.id())
        .expect("root id")
        .to_string();
    must(
        org.enable_policy_type()
            .root_id(&root)
            .policy_type(PolicyType::ServiceControlPolicy)
            .send()
            .await,
        "EnablePolicyType SCP",
    );
    must(
        org.create_account()
            .account_name("member")
            .email("member@example.com")
            .send()
            .await,
        "CreateAccount",
    );
    let member = must(org.list_accounts().send().await, "ListAccounts")
        .accounts()
        .iter()
        .filter_map(|a| a.id())
        .find(|id| *id != ACCOUNT)
        .expect("member account")
        .to_string();
    let deny_get = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoObjectReads",
        "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]});
    let policy_id = must(
        org.create_policy()
            .name("DenyGet")
            .description("no object reads")
            .r#type(PolicyType::ServiceControlPolicy)
            .content(deny_get.to_string())
            .send()
            .await,
        "CreatePolicy",
    )
    .policy()
    .and_then(|p| p.policy_summary())
    .and_then(|s| s.id())
    .expect("policy id")
    .to_string();
    must(
        org.attach_policy()
            .policy_id(&policy_id)
            .target_id(&member)
            .send()
            .await,
        "AttachPolicy",
    );

    // In the member account: alice may read her bucket's object.
    let m_config = config_in(&moto, &member, "OrganizationAccountAccessRole", "setup").await;
    let m_s3 = s3_of(&m_config);
    let m_iam = aws_sdk_iam::Client::new(&m_config);
    let bucket = unique("org-member");
    let key = "k.txt";
    bucket_with_object(&m_s3, &bucket, key, b"x\n").await;
    let alice = unique("alice");
    let alice_arn = must(
        m_iam.create_user().user_name(&alice).send().await,
        "CreateUser",
    )
    .user()
    .expect("user")
    .arn()
    .to_string();
    must(
        m_iam
            .put_user_policy()
            .user_name(&alice)
            .policy_name("Read")
            .policy_document(
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]})
                .to_string(),
            )
            .send()
            .await,
        "PutUserPolicy",
    );
    let role = format!("{member}=arn:aws:iam::{member}:role/OrganizationAccountAccessRole");
    let request = get_object_request(&alice_arn, &bucket, key);

    // The collected World: the member's organization, its SCPs root first, the Deny at its level.
    let dir = scratch("s3medic-org");
    let world_path = dir.join("world.json");
    let r = snapshot_with_role(
        &moto,
        &moto.endpoint,
        [&bucket, key, &alice_arn],
        &role,
        &world_path,
    );
    r.expect_code(0, "snapshot");
    assert!(
        !r.stderr.contains("organization:"),
        "organization read: {}",
        r.stderr
    );
    let world = read_json(&world_path);
    let o = &account(&world, &member)["organization"];
    assert!(
        o["id"].as_str().is_some_and(|i| i.starts_with("o-")),
        "{world:#}"
    );
    assert_eq!(o["is_management_account"], false, "{o:#}");
    let scps = o["scps"].as_array().expect("scps");
    assert_eq!(scps.len(), 2, "root and account levels: {o:#}");
    assert_eq!(scps[0]["target"], root.as_str(), "{o:#}");
    assert_eq!(scps[1]["target"], member.as_str(), "{o:#}");
    let deny = scps[1]["policies"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["Name"] == "DenyGet"))
        .unwrap_or_else(|| panic!("DenyGet at the account's level: {o:#}"));
    assert_eq!(deny["Id"], policy_id.as_str());
    assert_eq!(
        moto::policy(&deny["Content"]),
        moto::policy(&deny_get),
        "the SCP's content"
    );
    assert_eq!(
        o["rcps"],
        json!([]),
        "RCPs are not enabled: none applies: {o:#}"
    );
    let mgmt = &account(&world, ACCOUNT)["organization"];
    assert_eq!(mgmt["is_management_account"], true, "{mgmt:#}");
    assert_eq!(mgmt["id"], o["id"]);

    // explain --live names the SCP.
    let mut args = vec!["explain", "--live"];
    args.extend(request.iter().map(String::as_str));
    args.extend(["--account-role", &role]);
    let r = s3medic(&moto, &moto.endpoint, &args);
    r.expect_code(2, "explain --live");
    let v = r.json("explain");
    assert_eq!(v["decision"], "explicit_deny", "{v:#}");
    assert_eq!(v["deciding"]["layer"], "scp", "{v:#}");
    assert_eq!(
        v["deciding"]["statements"][0]["policy"],
        format!("scp:{member}/DenyGet"),
        "{v:#}"
    );
    assert_eq!(
        v["deciding"]["statements"][0]["sid"], "NoObjectReads",
        "{v:#}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn vpc_endpoint_of_a_request_is_listed_as_not_checked() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, false, None).await;
    let request = request_flags(&b);
    let mut args = plan_args(&request, false, None);
    args.extend(["--vpc-endpoint", "vpce-0a1b2c3d"]);
    let r = s3medic(&moto, &moto.endpoint, &args);
    r.expect_code(2, "plan through an endpoint");
    let reason = "not collected: s3medic does not read EC2; add its policy to a World file (`aws ec2 describe-vpc-endpoints` output)";
    assert!(
        r.stderr
            .contains(&format!("VPC endpoint `vpce-0a1b2c3d`: policy: {reason}")),
        "{}",
        r.stderr
    );
    let plan = r.json("plan");
    assert!(
        plan["unknowns"]
            .as_array()
            .is_some_and(|u| u.iter().any(|x| x
                .as_str()
                .is_some_and(|s| s.contains("vpce-0a1b2c3d") && s.contains(reason)))),
        "the plan lists the endpoint among what it could not check: {plan:#}"
    );
}

#[tokio::test]
async fn accounts_file_roles_and_profiles_are_used_and_checked() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let bucket = unique("xacct-file");
    create_bucket(&s3, &bucket).await;
    let dir = scratch("s3medic-accounts-file");
    // A profile with the caller's keys: used alone it acts in the caller's account, not in C.
    let config = dir.join("aws-config");
    std::fs::write(
        &config,
        format!(
            "[profile hub]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {}\nregion = us-east-1\n",
            moto::SECRET_KEY
        ),
    )
    .expect("write config");
    let accounts = dir.join("accounts.toml");
    std::fs::write(
        &accounts,
        "[accounts.222222222222]\nprofile = \"hub\"\nrole_arn = \"arn:aws:iam::222222222222:role/auditor\"\nexternal_id = \"x-1\"\n\n[accounts.333333333333]\nprofile = \"hub\"\n",
    )
    .expect("write accounts file");
    let world_path = dir.join("world.json");
    let mut c = moto.s3medic();
    c.env("AWS_CONFIG_FILE", &config)
        .args(["snapshot", "--bucket", &bucket])
        .args(["--principal", "arn:aws:iam::222222222222:user/b-user"])
        .args(["--principal", "arn:aws:iam::333333333333:user/c-user"])
        .arg("--accounts")
        .arg(&accounts)
        .arg("-o")
        .arg(&world_path)
        .args(endpoint_flags(&moto.endpoint));
    let r = run(c, "snapshot --accounts");
    r.expect_code(0, "snapshot with an accounts file");
    let world = read_json(&world_path);
    assert!(
        account(&world, B)["iam"]["UserDetailList"].is_array(),
        "B read through the profile and the role: {world:#}"
    );
    let why = account(&world, "333333333333")["iam"]["unknown"]
        .as_str()
        .unwrap_or_else(|| panic!("C's IAM unknown: {world:#}"))
        .to_string();
    assert!(
        why.contains("profile `hub` acts in account 123456789012, not 333333333333"),
        "{why}"
    );
    assert!(r.stderr.contains(&why), "listed on stderr: {}", r.stderr);

    // A bad accounts file is refused before anything is read.
    std::fs::write(
        &accounts,
        "[accounts.333333333333]\nrole_arn = \"arn:aws:iam::444444444444:role/r\"\n",
    )
    .expect("write accounts file");
    let mut c = moto.s3medic();
    c.args(["snapshot", "--bucket", &bucket, "--accounts"])
        .arg(&accounts)
        .arg("-o")
        .arg(dir.join("w2.json"))
        .args(endpoint_flags(&moto.endpoint));
    let r = run(c, "snapshot with a bad accounts file");
    r.expect_code(1, "bad accounts file");
    assert!(
        r.stderr
            .contains("is in account 444444444444, not 333333333333"),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}
