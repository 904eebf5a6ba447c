//! Errors of the intake parsers. Each names the input part that was wrong and what was expected;
//! the command line adds which flag or file the input came from.

use crate::request::RequestError;

/// An error message (`--error`) that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorMessageError {
    #[error("the error message is empty")]
    Empty,

    /// Nothing in the text looks like an AWS error.
    #[error("`{snippet}` is not an AWS error message: expected an AWS CLI / SDK message (`An error occurred (AccessDenied) when calling the GetObject operation: ...`), an S3 XML error body (`<Error><Code>...</Code>...</Error>`) or an access denied message (`User: ARN is not authorized to perform: s3:ACTION ...`)")]
    NotRecognised { snippet: String },

    /// An XML body whose `<Error>` element is not closed or has no `<Code>`.
    #[error("the S3 error body is incomplete: {why}")]
    BadXml { why: String },

    /// The operation named in the message is not an S3 operation s3medic knows.
    #[error("the message names operation `{name}`, which is not an S3 operation s3medic knows{}", suggest(.suggestions))]
    UnknownOperation {
        name: String,
        suggestions: Vec<String>,
    },
}

/// CloudTrail input (`--cloudtrail`) that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudTrailError {
    #[error("the CloudTrail input is empty")]
    Empty,

    #[error("the CloudTrail input is gzip-compressed (a `.json.gz` log file): decompress it first (`gunzip -k FILE`)")]
    Compressed,

    #[error("the CloudTrail input is not UTF-8 text")]
    NotText,

    /// Neither a JSON document nor JSON lines.
    #[error("the CloudTrail input is not JSON: line {line}: {why} (expected a log file `{{\"Records\": [...]}}`, a JSON array of events, JSON lines, or `aws cloudtrail lookup-events` output)")]
    NotJson { line: usize, why: String },

    /// JSON, but not a shape that holds CloudTrail events.
    #[error("the CloudTrail input is JSON but holds no events: {what} (expected `{{\"Records\": [...]}}`, `{{\"Events\": [...]}}` from `aws cloudtrail lookup-events`, an array of events or one event per line)")]
    NotCloudTrail { what: String },

    /// An element of the event list is not an object.
    #[error("event {index}: {why}")]
    BadEvent { index: usize, why: String },
}

/// An AWS CLI command (`--aws-cli`) that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsCliError {
    #[error("the command is empty")]
    Empty,

    /// Shell quoting that does not close.
    #[error("the command has an unterminated {0} quote")]
    UnterminatedQuote(&'static str),

    #[error("the command ends with a lone backslash")]
    TrailingBackslash,

    #[error("`{0}` is not an AWS CLI command (expected `aws s3 ...` or `aws s3api ...`)")]
    NotAws(String),

    #[error("`aws {0}` is not understood: only `aws s3 ...` and `aws s3api ...` commands are")]
    UnsupportedService(String),

    #[error(
        "the command names no {0} subcommand (e.g. `aws s3 cp ...`, `aws s3api get-object ...`)"
    )]
    MissingSubcommand(&'static str),

    #[error("`aws s3 {name}` is not understood (known: cp, mv, rm, ls, sync, presign, mb, rb){}", suggest(.suggestions))]
    UnknownS3Command {
        name: String,
        suggestions: Vec<String>,
    },

    #[error("`aws s3api {name}` is not an S3 operation s3medic knows (as `{operation}`){}", suggest(.suggestions))]
    UnknownS3apiOperation {
        name: String,
        operation: String,
        suggestions: Vec<String>,
    },

    /// Wrong number or kind of paths.
    #[error("`aws s3 {command}`: {why}")]
    BadPaths { command: String, why: String },

    #[error("`{uri}` is not an S3 URI (expected `s3://BUCKET` or `s3://BUCKET/KEY`)")]
    BadS3Uri { uri: String },

    /// An option that needs a value at the end of the command.
    #[error("`{0}` needs a value")]
    MissingValue(String),
}

/// A draft that cannot become a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IncompleteRequest {
    /// Fields the input did not give (and no flag filled).
    #[error("{input} does not say the request's {}: give {}", missing.join(", "), flags_for(missing))]
    Missing {
        input: String,
        missing: Vec<&'static str>,
    },

    /// The fields do not form a valid request.
    #[error("{input} gives an invalid request: {error}")]
    Invalid { input: String, error: RequestError },
}

fn flags_for(missing: &[&'static str]) -> String {
    let flags: Vec<&str> = missing
        .iter()
        .map(|m| match *m {
            "principal" => {
                "`--principal ARN` (with `explain` / `plan`, `--live` also uses the caller of the current credentials)"
            }
            "operation" => "`--operation NAME` (e.g. GetObject)",
            "bucket" => "`--bucket NAME`",
            "key" => "`--key KEY`",
            "copy_source" => "`--copy-source BUCKET/KEY`",
            other => other,
        })
        .collect();
    flags.join(", ")
}

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
    format!("; did you mean {}?", quoted.join(" or "))
}
