//! An AWS CLI command line → the S3 requests it makes, in order.
//!
//! The line is split into words as a shell would ([`super::shell`]); leading `$`, `sudo`, `env`
//! and `NAME=VALUE` assignments are skipped; options may come anywhere (`--opt value` or
//! `--opt=value`). Understood:
//!
//! | command | requests |
//! | --- | --- |
//! | `aws s3 cp LOCAL s3://B/K` | PutObject (`--sse`, `--sse-kms-key-id`, `--acl` become headers) |
//! | `aws s3 cp s3://B/K LOCAL` | HeadObject, GetObject |
//! | `aws s3 cp s3://A/K s3://B/K2` | HeadObject of the source, CopyObject (reads the source, writes the target) |
//! | `aws s3 mv ...` | as `cp`, then DeleteObject of an S3 source |
//! | `aws s3 rm s3://B/K` | DeleteObject |
//! | `aws s3 ls` / `aws s3 ls s3://B/P` | ListBuckets / ListObjectsV2 (prefix `P`, delimiter `/`) |
//! | `aws s3 sync SRC DST` | ListObjectsV2 of each S3 side, then Put/Get/CopyObject (`--delete`: DeleteObject) |
//! | `aws s3 presign s3://B/K` | GetObject (what the URL will do, as the signer) |
//! | `aws s3 mb` / `aws s3 rb [--force]` | CreateBucket / DeleteBucket (with `--force`: ListObjectsV2, DeleteObject first) |
//! | `aws s3api OP --bucket B --key K ...` | the operation `OP` (kebab case: `get-object` → GetObject) |
//!
//! `--recursive` (and `sync`, `rb --force`) adds ListObjectsV2 of the prefix and acts on every
//! object under it; s3medic checks one representative key, `PREFIX` + [`EXAMPLE_KEY`] (give
//! `--key` to check a real one). `--no-sign-request` makes the caller `anonymous`;
//! `--request-payer requester` adds `x-amz-request-payer` to every request. The command never
//! names the caller otherwise (it comes from the profile's credentials).

use super::error::AwsCliError;
use super::error_message::{resolve_operation, split_s3_uri};
use super::shell::split_words;
use super::RequestDraft;
use crate::request::{operation, suggest_operations, Scope};

/// The key checked for a command that acts on every object under a prefix.
pub const EXAMPLE_KEY: &str = "s3medic-example-object";

/// One request the command makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliStep {
    /// What the request is for, e.g. `download the object`.
    pub what: String,
    pub draft: RequestDraft,
}

/// The requests of one command and what s3medic noticed reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliCommand {
    /// The words of the command, as split.
    pub words: Vec<String>,
    pub steps: Vec<CliStep>,
    pub notes: Vec<String>,
}

/// Options that take no value.
const FLAGS: &[&str] = &[
    "--debug",
    "--no-verify-ssl",
    "--no-paginate",
    "--no-sign-request",
    "--no-cli-pager",
    "--cli-auto-prompt",
    "--no-cli-auto-prompt",
    "--recursive",
    "--dryrun",
    "--quiet",
    "--only-show-errors",
    "--no-progress",
    "--follow-symlinks",
    "--no-follow-symlinks",
    "--no-guess-mime-type",
    "--force-glacier-transfer",
    "--ignore-glacier-warnings",
    "--delete",
    "--exact-timestamps",
    "--size-only",
    "--human-readable",
    "--summarize",
    "--force",
    "--no-overwrite",
    "--version",
    "--help",
    "--bucket-key-enabled",
    "--no-bucket-key-enabled",
    "--bypass-governance-retention",
    "--no-bypass-governance-retention",
];

/// Options whose value may be left out, with the values they accept.
const OPTIONAL_VALUE: &[(&str, &[&str])] = &[
    ("--sse", &["AES256", "aws:kms", "aws:kms:dsse"]),
    ("--sse-c", &["AES256"]),
    ("--request-payer", &["requester"]),
];

/// Options that take every following word up to the next option.
const MULTI_VALUE: &[&str] = &["--grants", "--include", "--exclude"];

/// The options and positional words of a command.
#[derive(Debug, Default)]
struct Args {
    positional: Vec<String>,
    options: Vec<(String, Option<String>)>,
}

impl Args {
    fn has(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// `s3api`: the command is an `aws s3api` one, where `--delete` takes a value (DeleteObjects)
/// instead of being `aws s3 sync`'s flag.
fn parse_args(words: &[String], s3api: bool) -> Result<Args, AwsCliError> {
    let mut args = Args::default();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if !w.starts_with("--") || w == "--" {
            args.positional.push(w.clone());
            continue;
        }
        if let Some((name, value)) = w.split_once('=') {
            args.options
                .push((name.to_string(), Some(value.to_string())));
            continue;
        }
        let name = w.as_str();
        if FLAGS.contains(&name) && !(s3api && name == "--delete") {
            args.options.push((name.to_string(), None));
        } else if let Some((_, accepted)) = OPTIONAL_VALUE.iter().find(|(n, _)| *n == name) {
            let next = words
                .get(i)
                .filter(|v| accepted.iter().any(|a| a.eq_ignore_ascii_case(v)));
            if let Some(v) = next {
                i += 1;
                args.options.push((name.to_string(), Some(v.clone())));
            } else {
                args.options.push((name.to_string(), None));
            }
        } else if MULTI_VALUE.contains(&name) {
            let mut any = false;
            while let Some(v) = words.get(i).filter(|v| !v.starts_with("--")) {
                args.options.push((name.to_string(), Some(v.clone())));
                i += 1;
                any = true;
            }
            if !any {
                return Err(AwsCliError::MissingValue(name.to_string()));
            }
        } else {
            match words.get(i) {
                Some(v) if !v.starts_with("--") => {
                    args.options.push((name.to_string(), Some(v.clone())));
                    i += 1;
                }
                _ => return Err(AwsCliError::MissingValue(name.to_string())),
            }
        }
    }
    Ok(args)
}

/// True for a word the shell would treat as `NAME=VALUE` before a command.
fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Reads an AWS CLI command line (see the module header).
pub fn parse(line: &str) -> Result<CliCommand, AwsCliError> {
    let words = split_words(line)?;
    let mut rest: &[String] = &words;
    while let Some(first) = rest.first() {
        if first == "$" || first == "sudo" || first == "env" || is_assignment(first) {
            rest = &rest[1..];
        } else {
            break;
        }
    }
    let Some(program) = rest.first() else {
        return Err(AwsCliError::Empty);
    };
    let base = program.rsplit(['/', '\\']).next().unwrap_or(program);
    if base != "aws" && base != "aws.exe" {
        return Err(AwsCliError::NotAws(program.clone()));
    }
    let s3api = rest.iter().any(|w| w == "s3api");
    let args = parse_args(&rest[1..], s3api)?;
    let Some(service) = args.positional.first() else {
        return Err(AwsCliError::MissingSubcommand("service (`s3` or `s3api`)"));
    };
    let mut notes = Vec::new();
    let mut steps = match service.as_str() {
        "s3" => s3_command(&args, &mut notes)?,
        "s3api" => vec![s3api_command(&args, &mut notes)?],
        other => return Err(AwsCliError::UnsupportedService(other.to_string())),
    };
    // What applies to every request of the command.
    for s in &mut steps {
        if args.has("--no-sign-request") {
            s.draft.principal = Some("anonymous".into());
        }
        if args.has("--request-payer") {
            let v = args.value("--request-payer").unwrap_or("requester");
            s.draft
                .set_header("x-amz-request-payer", v.to_ascii_lowercase());
        }
    }
    if let Some(p) = args.value("--profile") {
        notes.push(format!(
            "the command runs as profile `{p}`: give that profile's caller with `--principal ARN` (or use `--live --profile {p}`)"
        ));
    }
    if args.has("--sse-c") || args.has("--sse-c-key") {
        notes.push(
            "SSE-C (customer-provided keys) is not modelled; the request is checked without it"
                .into(),
        );
    }
    Ok(CliCommand {
        words: rest.to_vec(),
        steps,
        notes,
    })
}

fn step(what: impl Into<String>, op: &'static str, bucket: &str, key: Option<&str>) -> CliStep {
    CliStep {
        what: what.into(),
        draft: RequestDraft {
            operation: Some(op.to_string()),
            bucket: (!bucket.is_empty()).then(|| bucket.to_string()),
            key: key.map(str::to_string),
            ..Default::default()
        },
    }
}

/// A path of an `aws s3` command: an S3 URI or a local path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Path {
    S3 { bucket: String, key: Option<String> },
    Local(String),
}

fn path(word: &str) -> Result<Path, AwsCliError> {
    if word.starts_with("s3://") {
        return match split_s3_uri(word) {
            Some((bucket, key)) => Ok(Path::S3 { bucket, key }),
            None => Err(AwsCliError::BadS3Uri {
                uri: word.to_string(),
            }),
        };
    }
    if word.to_ascii_lowercase().starts_with("s3:") {
        return Err(AwsCliError::BadS3Uri {
            uri: word.to_string(),
        });
    }
    Ok(Path::Local(word.to_string()))
}

/// A key used as a directory prefix: `dir` → `dir/`, `` → ``.
fn dir_prefix(key: Option<&str>) -> String {
    match key {
        None | Some("") => String::new(),
        Some(k) if k.ends_with('/') => k.to_string(),
        Some(k) => format!("{k}/"),
    }
}

/// The last component of a local path (or key).
fn basename(p: &str) -> &str {
    p.trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(p)
}

/// The target key of a single-object transfer into `key`: the key itself, or `key` as a folder
/// plus the source's name.
fn target_key(key: Option<&str>, source_name: &str) -> String {
    match key {
        Some(k) if !k.ends_with('/') => k.to_string(),
        other => format!("{}{}", other.unwrap_or(""), basename(source_name)),
    }
}

/// Headers of a write (`PutObject`, `CopyObject`): encryption and canned ACL.
fn write_headers(step: &mut CliStep, args: &Args) {
    let kms_key = args.value("--sse-kms-key-id");
    let sse = match args.value("--sse") {
        Some(v) => Some(v.to_string()),
        None if args.has("--sse") => Some("AES256".to_string()),
        None => kms_key.map(|_| "aws:kms".to_string()),
    };
    if let Some(v) = sse {
        step.draft.set_header("x-amz-server-side-encryption", v);
    }
    if let Some(k) = kms_key {
        step.draft
            .set_header("x-amz-server-side-encryption-aws-kms-key-id", k);
    }
    if let Some(acl) = args.value("--acl") {
        step.draft.set_header("x-amz-acl", acl);
    }
}

fn bad_paths(command: &str, why: impl Into<String>) -> AwsCliError {
    AwsCliError::BadPaths {
        command: command.to_string(),
        why: why.into(),
    }
}

fn two_paths(cmd: &str, paths: &[String]) -> Result<(Path, Path), AwsCliError> {
    match paths {
        [a, b] => Ok((path(a)?, path(b)?)),
        _ => Err(bad_paths(
            cmd,
            format!(
                "expected a source and a destination, got {} path(s)",
                paths.len()
            ),
        )),
    }
}

fn s3_command(args: &Args, notes: &mut Vec<String>) -> Result<Vec<CliStep>, AwsCliError> {
    let Some(cmd) = args.positional.get(1) else {
        return Err(AwsCliError::MissingSubcommand("`aws s3`"));
    };
    let paths = &args.positional[2..];
    let recursive = args.has("--recursive");
    let example_note = |notes: &mut Vec<String>, prefix: &str| {
        notes.push(format!(
            "the command acts on every object under `{prefix}`; s3medic checks the representative key `{prefix}{EXAMPLE_KEY}` (give `--key` to check another)"
        ));
    };
    let mut steps = Vec::new();
    match cmd.as_str() {
        "cp" | "mv" => {
            let (src, dst) = two_paths(cmd, paths)?;
            match (&src, &dst) {
                (Path::Local(_), Path::Local(_)) => {
                    return Err(bad_paths(
                        cmd,
                        "neither path is an S3 URI (`s3://BUCKET/KEY`)",
                    ))
                }
                (Path::Local(local), Path::S3 { bucket, key }) => {
                    let k = if recursive {
                        let p = dir_prefix(key.as_deref());
                        example_note(notes, &p);
                        format!("{p}{EXAMPLE_KEY}")
                    } else {
                        if local == "-" && key.as_deref().is_none_or(|k| k.ends_with('/')) {
                            return Err(bad_paths(
                                cmd,
                                "uploading from standard input (`-`) needs a full object key",
                            ));
                        }
                        target_key(key.as_deref(), local)
                    };
                    let mut s = step("upload the object", "PutObject", bucket, Some(&k));
                    write_headers(&mut s, args);
                    steps.push(s);
                }
                (Path::S3 { bucket, key }, Path::Local(_)) => {
                    if recursive {
                        let p = dir_prefix(key.as_deref());
                        let mut list = step(
                            "list the objects to download",
                            "ListObjectsV2",
                            bucket,
                            None,
                        );
                        if !p.is_empty() {
                            list.draft.set_query("prefix", p.clone());
                        }
                        steps.push(list);
                        example_note(notes, &p);
                        let k = format!("{p}{EXAMPLE_KEY}");
                        steps.push(step("download an object", "GetObject", bucket, Some(&k)));
                    } else {
                        let k = key
                            .as_deref()
                            .filter(|k| !k.ends_with('/'))
                            .ok_or_else(|| {
                                bad_paths(cmd, "downloading needs an object key (or `--recursive` for a prefix)")
                            })?;
                        steps.push(step(
                            "read the object's metadata",
                            "HeadObject",
                            bucket,
                            Some(k),
                        ));
                        steps.push(step("download the object", "GetObject", bucket, Some(k)));
                    }
                    if cmd == "mv" {
                        let k = steps.last().and_then(|s| s.draft.key.clone());
                        steps.push(step(
                            "delete the source object",
                            "DeleteObject",
                            bucket,
                            k.as_deref(),
                        ));
                    }
                }
                (
                    Path::S3 {
                        bucket: sb,
                        key: sk,
                    },
                    Path::S3 {
                        bucket: db,
                        key: dk,
                    },
                ) => {
                    let (src_key, dst_key) = if recursive {
                        let sp = dir_prefix(sk.as_deref());
                        let dp = dir_prefix(dk.as_deref());
                        let mut list = step("list the objects to copy", "ListObjectsV2", sb, None);
                        if !sp.is_empty() {
                            list.draft.set_query("prefix", sp.clone());
                        }
                        steps.push(list);
                        example_note(notes, &sp);
                        (format!("{sp}{EXAMPLE_KEY}"), format!("{dp}{EXAMPLE_KEY}"))
                    } else {
                        let s = sk
                            .as_deref()
                            .filter(|k| !k.ends_with('/'))
                            .ok_or_else(|| bad_paths(cmd, "copying needs a source object key (or `--recursive` for a prefix)"))?
                            .to_string();
                        steps.push(step(
                            "read the source object's metadata",
                            "HeadObject",
                            sb,
                            Some(&s),
                        ));
                        let d = target_key(dk.as_deref(), &s);
                        (s, d)
                    };
                    let mut c = step(
                        "copy the object (read the source, write the target)",
                        "CopyObject",
                        db,
                        Some(&dst_key),
                    );
                    c.draft.copy_source = Some(format!("{sb}/{src_key}"));
                    write_headers(&mut c, args);
                    steps.push(c);
                    if cmd == "mv" {
                        steps.push(step(
                            "delete the source object",
                            "DeleteObject",
                            sb,
                            Some(&src_key),
                        ));
                    }
                }
            }
        }
        "rm" => {
            let [p] = paths else {
                return Err(bad_paths(
                    cmd,
                    format!("expected one S3 URI, got {} path(s)", paths.len()),
                ));
            };
            let Path::S3 { bucket, key } = path(p)? else {
                return Err(bad_paths(
                    cmd,
                    format!("`{p}` is not an S3 URI (`s3://BUCKET/KEY`)"),
                ));
            };
            if recursive {
                let prefix = dir_prefix(key.as_deref());
                let mut list = step("list the objects to delete", "ListObjectsV2", &bucket, None);
                if !prefix.is_empty() {
                    list.draft.set_query("prefix", prefix.clone());
                }
                steps.push(list);
                example_note(notes, &prefix);
                let k = format!("{prefix}{EXAMPLE_KEY}");
                steps.push(step("delete an object", "DeleteObject", &bucket, Some(&k)));
            } else {
                let k = key.ok_or_else(|| {
                    bad_paths(
                        cmd,
                        "deleting needs an object key (or `--recursive` for a prefix)",
                    )
                })?;
                steps.push(step("delete the object", "DeleteObject", &bucket, Some(&k)));
            }
        }
        "ls" => match paths {
            [] => steps.push(step("list the account's buckets", "ListBuckets", "", None)),
            [p] => {
                let (bucket, key) = match path(p)? {
                    Path::S3 { bucket, key } => (bucket, key),
                    // `aws s3 ls BUCKET/PREFIX` works without `s3://`.
                    Path::Local(l) => match l.split_once('/') {
                        Some((b, k)) => (b.to_string(), (!k.is_empty()).then(|| k.to_string())),
                        None => (l.clone(), None),
                    },
                };
                let mut s = step("list the objects", "ListObjectsV2", &bucket, None);
                if let Some(k) = key {
                    s.draft.set_query("prefix", k);
                }
                if !recursive {
                    s.draft.set_query("delimiter", "/");
                }
                steps.push(s);
            }
            _ => {
                return Err(bad_paths(
                    cmd,
                    format!("expected at most one path, got {}", paths.len()),
                ))
            }
        },
        "sync" => {
            let (src, dst) = two_paths(cmd, paths)?;
            let prefix_of = |k: &Option<String>| dir_prefix(k.as_deref());
            let list = |b: &str, k: &Option<String>, what: &str| {
                let mut s = step(what, "ListObjectsV2", b, None);
                let p = prefix_of(k);
                if !p.is_empty() {
                    s.draft.set_query("prefix", p);
                }
                s
            };
            match (&src, &dst) {
                (Path::Local(_), Path::Local(_)) => {
                    return Err(bad_paths(
                        cmd,
                        "neither path is an S3 URI (`s3://BUCKET/PREFIX`)",
                    ))
                }
                (Path::Local(_), Path::S3 { bucket, key }) => {
                    steps.push(list(bucket, key, "list the destination"));
                    let p = prefix_of(key);
                    example_note(notes, &p);
                    let mut s = step(
                        "upload an object",
                        "PutObject",
                        bucket,
                        Some(&format!("{p}{EXAMPLE_KEY}")),
                    );
                    write_headers(&mut s, args);
                    steps.push(s);
                }
                (Path::S3 { bucket, key }, Path::Local(_)) => {
                    steps.push(list(bucket, key, "list the source"));
                    let p = prefix_of(key);
                    example_note(notes, &p);
                    steps.push(step(
                        "download an object",
                        "GetObject",
                        bucket,
                        Some(&format!("{p}{EXAMPLE_KEY}")),
                    ));
                }
                (
                    Path::S3 {
                        bucket: sb,
                        key: sk,
                    },
                    Path::S3 {
                        bucket: db,
                        key: dk,
                    },
                ) => {
                    steps.push(list(sb, sk, "list the source"));
                    steps.push(list(db, dk, "list the destination"));
                    let (sp, dp) = (prefix_of(sk), prefix_of(dk));
                    example_note(notes, &sp);
                    let mut c = step(
                        "copy an object (read the source, write the target)",
                        "CopyObject",
                        db,
                        Some(&format!("{dp}{EXAMPLE_KEY}")),
                    );
                    c.draft.copy_source = Some(format!("{sb}/{sp}{EXAMPLE_KEY}"));
                    write_headers(&mut c, args);
                    steps.push(c);
                }
            }
            if args.has("--delete") {
                if let Path::S3 { bucket, key } = &dst {
                    let p = prefix_of(key);
                    steps.push(step(
                        "delete an object missing from the source",
                        "DeleteObject",
                        bucket,
                        Some(&format!("{p}{EXAMPLE_KEY}")),
                    ));
                }
            }
        }
        "presign" => {
            let [p] = paths else {
                return Err(bad_paths(
                    cmd,
                    format!("expected one S3 URI, got {} path(s)", paths.len()),
                ));
            };
            let Path::S3 {
                bucket,
                key: Some(key),
            } = path(p)?
            else {
                return Err(bad_paths(
                    cmd,
                    format!("`{p}` is not an object URI (`s3://BUCKET/KEY`)"),
                ));
            };
            notes.push("`presign` makes no request itself: the URL's GET is authorized as the signer when it is used (check a URL with `--presigned-url`)".into());
            steps.push(step(
                "read the object through the presigned URL",
                "GetObject",
                &bucket,
                Some(&key),
            ));
        }
        "mb" | "rb" => {
            let [p] = paths else {
                return Err(bad_paths(
                    cmd,
                    format!("expected one S3 URI, got {} path(s)", paths.len()),
                ));
            };
            let Path::S3 { bucket, .. } = path(p)? else {
                return Err(bad_paths(
                    cmd,
                    format!("`{p}` is not an S3 URI (`s3://BUCKET`)"),
                ));
            };
            if cmd == "mb" {
                steps.push(step("create the bucket", "CreateBucket", &bucket, None));
            } else {
                if args.has("--force") {
                    steps.push(step(
                        "list the objects to delete",
                        "ListObjectsV2",
                        &bucket,
                        None,
                    ));
                    example_note(notes, "");
                    steps.push(step(
                        "delete an object",
                        "DeleteObject",
                        &bucket,
                        Some(EXAMPLE_KEY),
                    ));
                }
                steps.push(step("delete the bucket", "DeleteBucket", &bucket, None));
            }
        }
        other => {
            const KNOWN: &[&str] = &["cp", "mv", "rm", "ls", "sync", "presign", "mb", "rb"];
            let suggestions = KNOWN
                .iter()
                .filter(|k| crate::request::operation::edit_distance(other, k) <= 1)
                .map(|k| k.to_string())
                .collect();
            return Err(AwsCliError::UnknownS3Command {
                name: other.to_string(),
                suggestions,
            });
        }
    }
    Ok(steps)
}

/// `get-object` → `GetObject`, `list-objects-v2` → `ListObjectsV2`.
pub fn kebab_to_pascal(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The first `Key` of a DeleteObjects `--delete` value (shorthand `Objects=[{Key=k}]` or JSON).
fn first_delete_key(value: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(value) {
        return v
            .get("Objects")?
            .as_array()?
            .first()?
            .get("Key")?
            .as_str()
            .map(str::to_string);
    }
    let i = value.find("Key=")? + "Key=".len();
    let rest = &value[i..];
    let end = rest.find([',', '}', ']']).unwrap_or(rest.len());
    let key = rest[..end].trim();
    (!key.is_empty()).then(|| key.to_string())
}

fn s3api_command(args: &Args, notes: &mut Vec<String>) -> Result<CliStep, AwsCliError> {
    let Some(name) = args.positional.get(1) else {
        return Err(AwsCliError::MissingSubcommand("`aws s3api`"));
    };
    let pascal = kebab_to_pascal(name);
    let op = resolve_operation(&pascal).ok_or_else(|| AwsCliError::UnknownS3apiOperation {
        name: name.clone(),
        operation: pascal.clone(),
        suggestions: suggest_operations(&pascal)
            .into_iter()
            .map(str::to_string)
            .collect(),
    })?;
    let spec = operation(op);
    let mut s = step(
        spec.map_or("", |s| s.doc).to_string(),
        op,
        args.value("--bucket").unwrap_or(""),
        args.value("--key"),
    );
    if spec.is_some_and(|s| s.scope == Scope::Service) {
        s.draft.bucket = None;
    }
    s.draft.version_id = args.value("--version-id").map(str::to_string);
    if let Some(src) = args.value("--copy-source") {
        let decoded = percent_encoding::percent_decode_str(src)
            .decode_utf8()
            .map(|c| c.into_owned())
            .unwrap_or_else(|_| src.to_string());
        s.draft.copy_source = Some(decoded.trim_start_matches('/').to_string());
    }
    if op == "DeleteObjects" && s.draft.key.is_none() {
        if let Some(k) = args.value("--delete").and_then(first_delete_key) {
            notes.push(format!(
                "DeleteObjects deletes several objects; s3medic checks the first, `{k}`"
            ));
            s.draft.key = Some(k);
        }
    }
    for (opt, query) in [
        ("--prefix", "prefix"),
        ("--delimiter", "delimiter"),
        ("--max-keys", "max-keys"),
    ] {
        if let Some(v) = args.value(opt) {
            s.draft.set_query(query, v);
        }
    }
    for (opt, header) in [
        ("--acl", "x-amz-acl"),
        ("--server-side-encryption", "x-amz-server-side-encryption"),
        (
            "--ssekms-key-id",
            "x-amz-server-side-encryption-aws-kms-key-id",
        ),
    ] {
        if let Some(v) = args.value(opt) {
            s.draft.set_header(header, v);
        }
    }
    if let Some(owner) = args.value("--expected-bucket-owner") {
        notes.push(format!(
            "`--expected-bucket-owner {owner}`: the request fails with 403 when the bucket is owned by another account; s3medic does not check that"
        ));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_names_become_operation_names() {
        assert_eq!(kebab_to_pascal("get-object"), "GetObject");
        assert_eq!(kebab_to_pascal("list-objects-v2"), "ListObjectsV2");
        assert_eq!(kebab_to_pascal("put-bucket-policy"), "PutBucketPolicy");
    }

    #[test]
    fn delete_keys_from_shorthand_and_json() {
        assert_eq!(
            first_delete_key("Objects=[{Key=a.txt},{Key=b.txt}],Quiet=false").as_deref(),
            Some("a.txt")
        );
        assert_eq!(
            first_delete_key(r#"{"Objects":[{"Key":"x/y"}]}"#).as_deref(),
            Some("x/y")
        );
        assert_eq!(first_delete_key("Objects=[]"), None);
    }

    #[test]
    fn options_with_optional_values() {
        let words: Vec<String> = ["s3", "cp", "--sse", "f", "s3://b/k", "--request-payer"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let a = parse_args(&words, false).expect("parses");
        assert_eq!(a.positional, vec!["s3", "cp", "f", "s3://b/k"]);
        assert!(a.has("--sse") && a.value("--sse").is_none());
        assert!(a.has("--request-payer"));
    }
}
