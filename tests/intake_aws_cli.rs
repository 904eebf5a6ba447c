//! AWS CLI intake: the S3 requests each `aws s3` / `aws s3api` command makes, with the headers,
//! queries and copy sources its options imply; clear errors for what is not such a command.

use s3medic::intake::aws_cli::{parse, CliCommand, EXAMPLE_KEY};
use s3medic::intake::AwsCliError;

fn cmd(line: &str) -> CliCommand {
    parse(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// (operation, bucket, key) of every step.
fn ops(c: &CliCommand) -> Vec<(String, String, Option<String>)> {
    c.steps
        .iter()
        .map(|s| {
            (
                s.draft.operation.clone().unwrap_or_default(),
                s.draft.bucket.clone().unwrap_or_default(),
                s.draft.key.clone(),
            )
        })
        .collect()
}

fn op(o: &str, b: &str, k: Option<&str>) -> (String, String, Option<String>) {
    (o.to_string(), b.to_string(), k.map(str::to_string))
}

fn header<'c>(c: &'c CliCommand, step: usize, name: &str) -> Option<&'c str> {
    c.steps[step]
        .draft
        .headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn query<'c>(c: &'c CliCommand, step: usize, name: &str) -> Option<&'c str> {
    c.steps[step]
        .draft
        .query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn cp_download_reads_head_then_object() {
    let c = cmd("aws s3 cp s3://example-reports/reports/2026/q1.csv .");
    assert_eq!(
        ops(&c),
        vec![
            op("HeadObject", "example-reports", Some("reports/2026/q1.csv")),
            op("GetObject", "example-reports", Some("reports/2026/q1.csv")),
        ]
    );
    assert!(c.steps.iter().all(|s| s.draft.principal.is_none()));
}

#[test]
fn cp_upload_sets_encryption_and_acl_headers() {
    let c = cmd("aws s3 cp ./q1.csv s3://example-reports/reports/ --sse aws:kms --sse-kms-key-id arn:aws:kms:us-east-1:111122223333:key/k1 --acl bucket-owner-full-control");
    assert_eq!(
        ops(&c),
        vec![op("PutObject", "example-reports", Some("reports/q1.csv"))]
    );
    assert_eq!(
        header(&c, 0, "x-amz-server-side-encryption"),
        Some("aws:kms")
    );
    assert_eq!(
        header(&c, 0, "x-amz-server-side-encryption-aws-kms-key-id"),
        Some("arn:aws:kms:us-east-1:111122223333:key/k1")
    );
    assert_eq!(
        header(&c, 0, "x-amz-acl"),
        Some("bucket-owner-full-control")
    );
    // `--sse` alone means AES256; a KMS key id alone implies aws:kms.
    let c = cmd("aws s3 cp f.txt s3://b/f.txt --sse");
    assert_eq!(
        header(&c, 0, "x-amz-server-side-encryption"),
        Some("AES256")
    );
    let c = cmd("aws s3 cp f.txt s3://b/f.txt --sse-kms-key-id alias/k");
    assert_eq!(
        header(&c, 0, "x-amz-server-side-encryption"),
        Some("aws:kms")
    );
    // Quoted local names with spaces.
    let c = cmd(r#"aws s3 cp "My Report.pdf" 's3://b/docs/'"#);
    assert_eq!(
        ops(&c),
        vec![op("PutObject", "b", Some("docs/My Report.pdf"))]
    );
}

#[test]
fn cp_between_buckets_reads_the_source_and_writes_the_target() {
    let c = cmd("aws s3 cp s3://src/a/x.txt s3://dst/ --acl bucket-owner-full-control");
    assert_eq!(
        ops(&c),
        vec![
            op("HeadObject", "src", Some("a/x.txt")),
            op("CopyObject", "dst", Some("x.txt"))
        ]
    );
    assert_eq!(c.steps[1].draft.copy_source.as_deref(), Some("src/a/x.txt"));
    assert_eq!(
        header(&c, 1, "x-amz-acl"),
        Some("bucket-owner-full-control")
    );
    assert_eq!(
        header(&c, 0, "x-amz-acl"),
        None,
        "reads carry no write headers"
    );
}

#[test]
fn recursive_commands_list_and_check_a_representative_key() {
    let c = cmd("aws s3 cp s3://src/dir s3://dst/backup --recursive");
    let example = format!("backup/{EXAMPLE_KEY}");
    assert_eq!(
        ops(&c),
        vec![
            op("ListObjectsV2", "src", None),
            op("CopyObject", "dst", Some(&example))
        ]
    );
    assert_eq!(query(&c, 0, "prefix"), Some("dir/"));
    assert_eq!(
        c.steps[1].draft.copy_source,
        Some(format!("src/dir/{EXAMPLE_KEY}"))
    );
    assert!(c.notes.iter().any(|n| n.contains(EXAMPLE_KEY)));

    let c = cmd("aws s3 rm s3://b/logs/ --recursive");
    assert_eq!(
        ops(&c),
        vec![
            op("ListObjectsV2", "b", None),
            op("DeleteObject", "b", Some(&format!("logs/{EXAMPLE_KEY}")))
        ]
    );
}

#[test]
fn mv_deletes_an_s3_source() {
    let c = cmd("aws s3 mv s3://b/k.txt ./k.txt");
    assert_eq!(
        ops(&c),
        vec![
            op("HeadObject", "b", Some("k.txt")),
            op("GetObject", "b", Some("k.txt")),
            op("DeleteObject", "b", Some("k.txt"))
        ]
    );
    let c = cmd("aws s3 mv s3://a/k.txt s3://b/k2.txt");
    assert_eq!(
        ops(&c),
        vec![
            op("HeadObject", "a", Some("k.txt")),
            op("CopyObject", "b", Some("k2.txt")),
            op("DeleteObject", "a", Some("k.txt"))
        ]
    );
    let c = cmd("aws s3 mv ./k.txt s3://b/");
    assert_eq!(ops(&c), vec![op("PutObject", "b", Some("k.txt"))]);
}

#[test]
fn ls_lists_buckets_or_objects() {
    assert_eq!(ops(&cmd("aws s3 ls")), vec![op("ListBuckets", "", None)]);
    let c = cmd("aws s3 ls s3://example-reports/reports/");
    assert_eq!(ops(&c), vec![op("ListObjectsV2", "example-reports", None)]);
    assert_eq!(query(&c, 0, "prefix"), Some("reports/"));
    assert_eq!(query(&c, 0, "delimiter"), Some("/"));
    let c = cmd("aws s3 ls example-reports --recursive");
    assert_eq!(ops(&c), vec![op("ListObjectsV2", "example-reports", None)]);
    assert_eq!(query(&c, 0, "delimiter"), None);
}

#[test]
fn sync_lists_then_transfers() {
    let c = cmd("aws s3 sync ./site s3://example-site/www --delete");
    let example = format!("www/{EXAMPLE_KEY}");
    assert_eq!(
        ops(&c),
        vec![
            op("ListObjectsV2", "example-site", None),
            op("PutObject", "example-site", Some(&example)),
            op("DeleteObject", "example-site", Some(&example)),
        ]
    );
    let c = cmd("aws s3 sync s3://a/x s3://b/y");
    assert_eq!(
        ops(&c).iter().map(|o| o.0.as_str()).collect::<Vec<_>>(),
        vec!["ListObjectsV2", "ListObjectsV2", "CopyObject"]
    );
}

#[test]
fn presign_mb_rb() {
    let c = cmd("aws s3 presign s3://b/k.pdf --expires-in 600");
    assert_eq!(ops(&c), vec![op("GetObject", "b", Some("k.pdf"))]);
    assert!(c.notes.iter().any(|n| n.contains("presign")));
    assert_eq!(
        ops(&cmd("aws s3 mb s3://new-bucket")),
        vec![op("CreateBucket", "new-bucket", None)]
    );
    assert_eq!(
        ops(&cmd("aws s3 rb s3://old --force")),
        vec![
            op("ListObjectsV2", "old", None),
            op("DeleteObject", "old", Some(EXAMPLE_KEY)),
            op("DeleteBucket", "old", None)
        ]
    );
}

#[test]
fn s3api_operations_by_kebab_name() {
    let c = cmd(
        "aws s3api get-object --bucket example-reports --key 'reports/2026/q1 final.csv' out.csv",
    );
    assert_eq!(
        ops(&c),
        vec![op(
            "GetObject",
            "example-reports",
            Some("reports/2026/q1 final.csv")
        )]
    );
    let c = cmd("aws s3api put-bucket-policy --bucket b --policy file://policy.json");
    assert_eq!(ops(&c), vec![op("PutBucketPolicy", "b", None)]);
    let c = cmd("aws s3api list-objects-v2 --bucket b --prefix logs/ --max-keys 10");
    assert_eq!(ops(&c), vec![op("ListObjectsV2", "b", None)]);
    assert_eq!(query(&c, 0, "prefix"), Some("logs/"));
    assert_eq!(query(&c, 0, "max-keys"), Some("10"));
    let c = cmd("aws s3api copy-object --bucket dst --key k --copy-source src%2Fa.txt?versionId=3 --server-side-encryption aws:kms --ssekms-key-id alias/k");
    assert_eq!(
        c.steps[0].draft.copy_source.as_deref(),
        Some("src/a.txt?versionId=3")
    );
    assert_eq!(
        header(&c, 0, "x-amz-server-side-encryption"),
        Some("aws:kms")
    );
    assert_eq!(
        header(&c, 0, "x-amz-server-side-encryption-aws-kms-key-id"),
        Some("alias/k")
    );
    let c = cmd("aws s3api delete-objects --bucket b --delete 'Objects=[{Key=a.txt},{Key=b.txt}]'");
    assert_eq!(ops(&c), vec![op("DeleteObjects", "b", Some("a.txt"))]);
    let c = cmd("aws s3api get-object --bucket b --key k --version-id 3HL4kqtJ out");
    assert_eq!(c.steps[0].draft.version_id.as_deref(), Some("3HL4kqtJ"));
    assert_eq!(
        ops(&cmd("aws s3api list-buckets")),
        vec![op("ListBuckets", "", None)]
    );
    assert_eq!(
        ops(&cmd("aws s3api put-bucket-public-access-block --bucket b --public-access-block-configuration BlockPublicAcls=true")),
        vec![op("PutPublicAccessBlock", "b", None)]
    );
}

#[test]
fn global_options_prompts_and_pipes() {
    let c = cmd("$ AWS_PAGER= aws --profile prod --region us-east-1 s3 cp s3://b/k - --no-sign-request --request-payer requester | gzip -d > out");
    assert_eq!(
        ops(&c),
        vec![
            op("HeadObject", "b", Some("k")),
            op("GetObject", "b", Some("k"))
        ]
    );
    assert!(c
        .steps
        .iter()
        .all(|s| s.draft.principal.as_deref() == Some("anonymous")));
    assert_eq!(header(&c, 1, "x-amz-request-payer"), Some("requester"));
    assert!(c.notes.iter().any(|n| n.contains("profile `prod`")));
    let c = cmd("/usr/local/bin/aws s3 ls s3://b \\\n  --recursive --summarize");
    assert_eq!(ops(&c), vec![op("ListObjectsV2", "b", None)]);
    let c = cmd("aws s3 cp s3://b/k . --request-payer=requester");
    assert_eq!(header(&c, 0, "x-amz-request-payer"), Some("requester"));
}

#[test]
fn unknown_commands_are_clear_errors() {
    assert_eq!(parse(""), Err(AwsCliError::Empty));
    assert_eq!(
        parse("kubectl get pods"),
        Err(AwsCliError::NotAws("kubectl".into()))
    );
    assert_eq!(
        parse("aws ec2 describe-instances"),
        Err(AwsCliError::UnsupportedService("ec2".into()))
    );
    assert!(matches!(
        parse("aws"),
        Err(AwsCliError::MissingSubcommand(_))
    ));
    assert!(matches!(
        parse("aws s3"),
        Err(AwsCliError::MissingSubcommand(_))
    ));
    match parse("aws s3 cpp s3://b/k .") {
        Err(AwsCliError::UnknownS3Command { name, suggestions }) => {
            assert_eq!(name, "cpp");
            assert_eq!(suggestions, vec!["cp"]);
        }
        other => panic!("{other:?}"),
    }
    match parse("aws s3api get-objekt --bucket b --key k out") {
        Err(e @ AwsCliError::UnknownS3apiOperation { .. }) => {
            let t = e.to_string();
            assert!(t.contains("`GetObject`"), "{t}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        parse("aws s3 cp 's3://b/k ."),
        Err(AwsCliError::UnterminatedQuote("single"))
    );
    assert!(matches!(
        parse("aws s3 cp a.txt b.txt"),
        Err(AwsCliError::BadPaths { .. })
    ));
    assert!(matches!(
        parse("aws s3 cp s3://b/k"),
        Err(AwsCliError::BadPaths { .. })
    ));
    assert!(matches!(
        parse("aws s3 cp s3://b/dir/ ."),
        Err(AwsCliError::BadPaths { .. })
    ));
    assert!(matches!(
        parse("aws s3 cp - s3://b/"),
        Err(AwsCliError::BadPaths { .. })
    ));
    assert_eq!(
        parse("aws s3 cp s3:/b/k ."),
        Err(AwsCliError::BadS3Uri {
            uri: "s3:/b/k".into()
        })
    );
    assert_eq!(
        parse("aws s3 cp f s3://b/k --acl"),
        Err(AwsCliError::MissingValue("--acl".into()))
    );
}
