//! Loading requests from what the user has in hand: `--error` / `--error-file`, `--cloudtrail`
//! and `--aws-cli` are read by the pure `intake` parsers into drafts; the request flags are laid
//! over each draft (they win, and fill gaps); with `--live` a draft without a caller gets the
//! caller of the current credentials (STS GetCallerIdentity, asked once); each draft is completed
//! into a request, naming what is still missing. The result, [`Loaded`], is one request or
//! several (CloudTrail groups, the steps of a command) with what their input said about them.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Map, Value};

use super::live_args::LiveWorldArgs;
use super::request_args::{read_json, split_pair, RequestArgs};
use s3medic::collect::Clients;
use s3medic::intake::cloudtrail::AccountCaller;
use s3medic::intake::error_message::{self, ErrorReport};
use s3medic::intake::{aws_cli, cloudtrail, normalize_caller, RequestDraft};
use s3medic::request::Request;

/// Where the requests of a command came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// One request: a file, flags, a presigned URL or an error message.
    Single,
    /// The groups of `--cloudtrail`.
    CloudTrail,
    /// The steps of `--aws-cli`.
    AwsCli,
}

impl SourceKind {
    /// The `source` of the JSON documents.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Single => "request",
            SourceKind::CloudTrail => "cloudtrail",
            SourceKind::AwsCli => "aws_cli",
        }
    }
}

/// One request to diagnose, with what its input said about it.
#[derive(Debug, Clone)]
pub struct Item {
    /// `group 2: 3 × arn:... GetObject s3://b/k (...)`, `step 1: download the object`.
    pub label: String,
    pub request: Request,
    /// The error message the request comes from (`--error`, a CloudTrail `errorMessage`).
    pub report: Option<ErrorReport>,
    /// Facts of its input (group count and times, step), merged into the JSON documents.
    pub meta: Map<String, Value>,
    /// How the request was read.
    pub notes: Vec<String>,
    /// A CloudTrail caller named only by account and principal id, when the request is made by
    /// that account: `batch::resolve_caller` looks the id up in the World.
    pub account_caller: Option<AccountCaller>,
}

/// The requests of one command line.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub kind: SourceKind,
    /// The CloudTrail file or the command, for the JSON documents.
    pub input: Option<String>,
    pub items: Vec<Item>,
    /// Inputs that could not become requests (`{"group"|"event", "reason", ...}`).
    pub skipped: Vec<Value>,
    /// A one-line account of the input (CloudTrail: how many events of each kind).
    pub summary: Option<String>,
    /// Notes about the whole input (printed on stderr).
    pub notes: Vec<String>,
}

impl Loaded {
    /// Several requests, to be reported one by one (not narrowed to one with `--event-group` /
    /// `--step`).
    pub fn is_batch(&self, args: &RequestArgs) -> bool {
        match self.kind {
            SourceKind::Single => false,
            SourceKind::CloudTrail => args.event_group.is_none(),
            SourceKind::AwsCli => args.step.is_none(),
        }
    }

    /// Prints the notes and the skipped inputs on stderr.
    pub fn print_notes(&self) {
        if let Some(s) = &self.summary {
            eprintln!("note: {s}");
        }
        for n in &self.notes {
            eprintln!("note: {n}");
        }
        for s in &self.skipped {
            let what = s
                .get("group")
                .map(|g| format!("group {g}"))
                .or_else(|| s.get("event").map(|e| format!("event {e}")))
                .unwrap_or_default();
            eprintln!(
                "note: skipped {what}: {}",
                s.get("reason").and_then(Value::as_str).unwrap_or("")
            );
        }
    }
}

/// `PRINCIPAL OPERATION s3://BUCKET/KEY`.
pub fn describe_request(r: &Request) -> String {
    let mut s = format!("{} {}", r.principal, r.target.name());
    if !r.bucket.is_empty() {
        s.push_str(&format!(" s3://{}", r.bucket));
        if let Some(k) = &r.key {
            s.push_str(&format!("/{k}"));
        }
    }
    s
}

impl RequestArgs {
    pub(super) fn load_error(
        &self,
        live: Option<&LiveWorldArgs>,
        caller: &mut CallerCache,
    ) -> Result<Loaded> {
        let (text, label) = match (&self.error, &self.error_file) {
            (Some(t), _) => (t.clone(), "`--error`".to_string()),
            (None, Some(p)) => (
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read error file `{}`", p.display()))?,
                format!("`--error-file {}`", p.display()),
            ),
            (None, None) => bail!("no error message given"),
        };
        let report = error_message::parse(&text).map_err(|e| anyhow!("{label}: {e}"))?;
        let mut notes = Vec::new();
        if !report.is_access_denied() {
            notes.push(format!(
                "{label} is a `{}` error, not an access denial; s3medic evaluates the request it names anyway",
                report.code.as_deref().unwrap_or("?")
            ));
        }
        let mut draft = report.to_draft().map_err(|e| anyhow!("{label}: {e}"))?;
        self.apply_flags(&mut draft)?;
        self.fill_caller(&mut draft, live, caller)?;
        let request = self.complete(&draft, &format!("the error message ({label})"))?;
        let mut loaded = single(request, Some(report), notes);
        loaded.input = Some(label);
        Ok(loaded)
    }

    pub(super) fn load_cloudtrail(
        &self,
        path: &Path,
        live: Option<&LiveWorldArgs>,
        caller: &mut CallerCache,
    ) -> Result<Loaded> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read CloudTrail file `{}`", path.display()))?;
        let trail = cloudtrail::parse_bytes(&bytes)
            .map_err(|e| anyhow!("`--cloudtrail {}`: {e}", path.display()))?;
        let summary = trail.summary();
        if trail.groups.is_empty() {
            bail!(
                "`--cloudtrail {}` holds no denied S3 request ({summary})",
                path.display()
            );
        }
        if let Some(n) = self.event_group {
            if n == 0 || n > trail.groups.len() {
                bail!(
                    "`--event-group {n}`: `{}` has {} group(s) of denied S3 requests (1 to {})",
                    path.display(),
                    trail.groups.len(),
                    trail.groups.len()
                );
            }
        }
        let mut items = Vec::new();
        let mut skipped = Vec::new();
        for (i, g) in trail.groups.iter().enumerate() {
            let n = i + 1;
            if self.event_group.is_some_and(|sel| sel != n) {
                continue;
            }
            let mut draft = g.draft.clone();
            self.apply_flags(&mut draft)?;
            self.fill_caller(&mut draft, live, caller)?;
            let label = format!("group {n}: {}", g.summary());
            match self.complete(&draft, &format!("CloudTrail group {n}")) {
                Ok(request) => {
                    let mut meta = Map::new();
                    meta.insert("group".into(), n.into());
                    meta.extend(g.meta());
                    // Not with `--principal`: the flag names the caller.
                    let account_caller = g
                        .account_caller
                        .clone()
                        .filter(|_| self.principal.is_none());
                    items.push(Item {
                        label,
                        request,
                        report: g.report.clone(),
                        meta,
                        notes: g.notes.clone(),
                        account_caller,
                    });
                }
                Err(e) if self.event_group.is_some() => return Err(e),
                Err(e) => skipped.push(json!({"group": n, "reason": format!("{e:#}")})),
            }
        }
        for s in &trail.skipped {
            skipped.push(json!({"event": s.index, "event_id": s.event_id, "reason": s.reason}));
        }
        if items.is_empty() {
            bail!(
                "no group of `--cloudtrail {}` makes a complete request: {}",
                path.display(),
                skipped
                    .iter()
                    .filter_map(|s| s.get("reason").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        Ok(Loaded {
            kind: SourceKind::CloudTrail,
            input: Some(path.display().to_string()),
            items,
            skipped,
            summary: Some(summary),
            notes: Vec::new(),
        })
    }

    pub(super) fn load_aws_cli(
        &self,
        command: &str,
        live: Option<&LiveWorldArgs>,
        caller: &mut CallerCache,
    ) -> Result<Loaded> {
        let cmd = aws_cli::parse(command).map_err(|e| anyhow!("`--aws-cli`: {e}"))?;
        if let Some(n) = self.step {
            if n == 0 || n > cmd.steps.len() {
                bail!(
                    "`--step {n}`: the command makes {} request(s) (1 to {})",
                    cmd.steps.len(),
                    cmd.steps.len()
                );
            }
        }
        let mut items = Vec::new();
        for (i, s) in cmd.steps.iter().enumerate() {
            let n = i + 1;
            if self.step.is_some_and(|sel| sel != n) {
                continue;
            }
            let mut draft = s.draft.clone();
            self.apply_flags(&mut draft)?;
            self.fill_caller(&mut draft, live, caller)?;
            let request = self.complete(&draft, "the AWS CLI command")?;
            let mut meta = Map::new();
            meta.insert("step".into(), n.into());
            meta.insert("what".into(), s.what.clone().into());
            items.push(Item {
                label: format!("step {n}: {} — {}", s.what, describe_request(&request)),
                request,
                report: None,
                meta,
                notes: Vec::new(),
                account_caller: None,
            });
        }
        Ok(Loaded {
            kind: SourceKind::AwsCli,
            input: Some(command.to_string()),
            items,
            skipped: Vec::new(),
            summary: Some(format!(
                "`{}` makes {} S3 request(s)",
                cmd.words.join(" "),
                cmd.steps.len()
            )),
            notes: cmd.notes,
        })
    }

    /// Lays the request flags over a draft read from an intake input: flags win, and fill gaps.
    fn apply_flags(&self, d: &mut RequestDraft) -> Result<()> {
        if let Some(p) = &self.principal {
            d.principal = Some(p.clone());
        }
        match (&self.operation, &self.action) {
            (Some(op), _) => {
                d.operation = Some(op.clone());
                d.action = None;
            }
            (None, Some(a)) => {
                d.action = Some(a.clone());
                d.operation = None;
            }
            (None, None) => {}
        }
        for (field, v) in [
            (&mut d.bucket, &self.bucket),
            (&mut d.key, &self.key),
            (&mut d.version_id, &self.version_id),
            (&mut d.copy_source, &self.copy_source),
            (&mut d.vpc_endpoint, &self.vpc_endpoint),
        ] {
            if let Some(v) = v {
                *field = Some(v.clone());
            }
        }
        for h in &self.headers {
            let (k, v) = split_pair(h, "header")?;
            d.set_header(k, v);
        }
        for q in &self.query {
            let (k, v) = split_pair(q, "query")?;
            d.set_query(k, v);
        }
        let mut given: Vec<(String, String)> = Vec::new();
        for c in &self.context {
            let (k, v) = split_pair(c, "context")?;
            given.push((k.to_string(), v.to_string()));
        }
        for (k, _) in &given {
            d.context.retain(|(dk, _)| !dk.eq_ignore_ascii_case(k));
        }
        d.context.extend(given);
        Ok(())
    }

    /// With `--live`, a draft without a caller gets the caller of the current credentials.
    fn fill_caller(
        &self,
        d: &mut RequestDraft,
        live: Option<&LiveWorldArgs>,
        caller: &mut CallerCache,
    ) -> Result<()> {
        if d.principal.is_none() {
            if let Some(l) = live {
                d.principal = Some(caller.get(l)?);
            }
        }
        Ok(())
    }

    /// The request of a draft, with `--session-policy`; names what is missing.
    fn complete(&self, d: &RequestDraft, source: &str) -> Result<Request> {
        let mut extra = Map::new();
        if let Some(p) = &self.session_policy {
            extra.insert("session_policy".into(), read_json(p, "session policy")?);
        }
        Ok(d.complete_with(source, extra)?)
    }
}

/// The one request of a single-request input.
pub(super) fn single(request: Request, report: Option<ErrorReport>, notes: Vec<String>) -> Loaded {
    Loaded {
        kind: SourceKind::Single,
        input: None,
        items: vec![Item {
            label: describe_request(&request),
            request,
            report,
            meta: Map::new(),
            notes: Vec::new(),
            account_caller: None,
        }],
        skipped: Vec::new(),
        summary: None,
        notes,
    }
}

/// The caller of the current credentials, asked of STS at most once per command.
#[derive(Debug, Default)]
pub(super) struct CallerCache(Option<String>);

impl CallerCache {
    pub(super) fn get(&mut self, live: &LiveWorldArgs) -> Result<String> {
        if let Some(c) = &self.0 {
            return Ok(c.clone());
        }
        let rt = super::live_args::runtime()?;
        let opts = live.conn.connect_options();
        let arn = rt
            .block_on(async {
                let clients = Clients::connect(&opts).await?;
                let endpoint = clients.endpoint.clone();
                let out = clients
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| {
                        s3medic::collect::errors::fatal_from_sts(&e, endpoint.as_deref())
                    })?;
                Ok::<_, s3medic::collect::CollectError>(out.arn().map(str::to_string))
            })
            .context("cannot find the caller of the current credentials (sts:GetCallerIdentity)")?
            .ok_or_else(|| anyhow!("sts:GetCallerIdentity returned no ARN"))?;
        let arn = normalize_caller(&arn);
        eprintln!(
            "note: no caller given: the request is made by the caller of the current credentials, `{arn}` (sts:GetCallerIdentity)"
        );
        self.0 = Some(arn.clone());
        Ok(arn)
    }
}
