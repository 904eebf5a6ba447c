//! `s3medic plan --targets FILE`: plan every request of a targets file on every bucket of its
//! accounts (src/bulk), concurrently within `--concurrency` / `--per-account`, optionally only
//! one `--shard K/N`. Prints one JSON line per target and a final summary line on stdout, or,
//! with `--output-dir DIR`, writes `DIR/results.jsonl` and one plan file per broken target
//! (`DIR/ACCOUNT/BUCKET.REQUEST.json`) and prints only the summary line. A progress bar is drawn
//! on stderr when stderr is a terminal.
//!
//! Exit code: the worst target's, as `plan` — 1 error, 3 refused, 2 planned or manual, 0 ok.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::live_args::{runtime, LiveWorldArgs};
use super::request_args::RequestArgs;
use s3medic::bulk::run::{DEFAULT_CONCURRENCY, DEFAULT_PER_ACCOUNT};
use s3medic::bulk::targets::parse_targets_with;
use s3medic::bulk::trail::add_trail;
use s3medic::bulk::{Event, RunOptions, Shard, Status, Summary, TargetOutcome};
use s3medic::plan::PlanOptions;

/// The name of the results file in `--output-dir`.
pub const RESULTS_FILE: &str = "results.jsonl";

/// The bulk flags of `plan`.
#[derive(Debug, Clone, clap::Args)]
pub struct BulkArgs {
    /// Plan many buckets and accounts: a targets file (TOML, or JSON of the same shape; README
    /// "Bulk"). Reads every account live; prints one JSON line per target and a summary line.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["world", "live", "out", "bucket_account", "request", "principal", "operation", "action", "bucket", "key"])]
    pub targets: Option<PathBuf>,

    /// With `--targets`: buckets read and planned at the same time, overall [default: 8].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: Option<u16>,

    /// With `--targets`: buckets read and planned at the same time in one account [default: 4].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub per_account: Option<u16>,

    /// With `--targets`: only shard K of N (1-based; a stable hash of account and bucket), so N
    /// runners with 1/N … N/N cover every bucket exactly once.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,

    /// With `--targets`: write `results.jsonl` and one plan file per broken target
    /// (`ACCOUNT/BUCKET.REQUEST.json`) here, and print only the summary line.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

impl BulkArgs {
    /// Refuses the bulk flags without `--targets` (clap's `requires` cannot say it: `--targets`
    /// conflicts with the single-request flags, and clap drops a requirement that conflicts).
    pub fn need_targets(&self) -> Result<()> {
        if self.targets.is_none()
            && (self.concurrency.is_some()
                || self.per_account.is_some()
                || self.shard.is_some()
                || self.output_dir.is_some())
        {
            bail!("`--concurrency`, `--per-account`, `--shard` and `--output-dir` need `--targets FILE`");
        }
        Ok(())
    }
}

/// Where the JSON lines go.
struct Sink {
    results: Option<BufWriter<File>>,
    stdout: std::io::Stdout,
    bar: ProgressBar,
}

impl Sink {
    /// A result line: to `results.jsonl`, else to stdout.
    fn result(&mut self, line: &serde_json::Value) -> Result<()> {
        let text = format!("{line}\n");
        match &mut self.results {
            Some(f) => f
                .write_all(text.as_bytes())
                .context("cannot write results.jsonl"),
            None => self
                .bar
                .suspend(|| {
                    let mut out = self.stdout.lock();
                    out.write_all(text.as_bytes())?;
                    out.flush()
                })
                .context("cannot write to stdout"),
        }
    }

    /// The summary line: to `results.jsonl` (when writing it) and to stdout.
    fn summary(&mut self, line: &serde_json::Value) -> Result<()> {
        let text = format!("{line}\n");
        if let Some(f) = &mut self.results {
            f.write_all(text.as_bytes())
                .and_then(|_| f.flush())
                .context("cannot write results.jsonl")?;
        }
        let mut out = self.stdout.lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
        Ok(())
    }
}

/// The file name of a target's plan: `ACCOUNT/BUCKET.REQUEST.json` under the output directory.
pub fn plan_path(dir: &Path, account: &str, bucket: &str, request: &str) -> PathBuf {
    dir.join(account).join(format!("{bucket}.{request}.json"))
}

/// The progress bar: drawn on stderr when it is a terminal, hidden otherwise.
fn progress() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} targets {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Runs `plan --targets`.
pub fn run(
    args: &BulkArgs,
    live: &LiveWorldArgs,
    request: &RequestArgs,
    plan: PlanOptions,
) -> Result<u8> {
    let Some(path) = &args.targets else {
        bail!("`--targets FILE` is missing");
    };
    if live.conn.role_arn.is_some() {
        bail!("`--role-arn` does not go with `--targets`: give each account its `role_arn` in the targets file");
    }
    if !live.conn.account_roles.is_empty() || live.conn.accounts_file.is_some() {
        bail!("`--account-role` / `--accounts` do not go with `--targets`: each account of the targets file is read with its own `role_arn` or `profile`");
    }
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read targets file `{file}`"))?;
    let r = request;
    if r.version_id.is_some()
        || r.copy_source.is_some()
        || !r.headers.is_empty()
        || !r.query.is_empty()
        || !r.context.is_empty()
        || r.vpc_endpoint.is_some()
        || r.session_policy.is_some()
        || r.presigned_url.is_some()
        || r.credential_expires_at.is_some()
        || r.error.is_some()
        || r.error_file.is_some()
        || r.aws_cli.is_some()
        || r.event_group.is_some()
        || r.step.is_some()
    {
        bail!("the request flags do not go with `--targets`: the targets file gives the requests (`--cloudtrail FILE` adds a trail's denied requests)");
    }
    let mut targets = parse_targets_with(&file, &text, r.cloudtrail.is_some())?;
    // CloudTrail files named by the targets file, relative to it.
    let base_dir = path.parent().unwrap_or_else(|| Path::new(""));
    // `--cloudtrail FILE` on the command line: relative to the working directory.
    let from_flag = r
        .cloudtrail
        .iter()
        .map(|p| (p.display().to_string(), p.clone()));
    let from_file: Vec<(String, PathBuf)> = targets
        .cloudtrail
        .iter()
        .map(|n| (n.clone(), base_dir.join(n)))
        .collect();
    for (name, trail_path) in from_file.into_iter().chain(from_flag) {
        let bytes = std::fs::read(&trail_path).with_context(|| {
            format!(
                "targets file `{file}`: cannot read cloudtrail file `{}`",
                trail_path.display()
            )
        })?;
        let added = add_trail(&mut targets, &name, &bytes)?;
        eprintln!(
            "cloudtrail `{name}`: {}; {} request(s) to check{}",
            added.summary,
            added.added.len(),
            if added.skipped.is_empty() {
                ""
            } else {
                "; left out:"
            }
        );
        for s in &added.skipped {
            eprintln!("  - {s}");
        }
    }
    let targets = Arc::new(targets);
    let results = match &args.output_dir {
        Some(dir) => {
            // Plan files of an earlier run would mix with this run's (and `apply DIR` would
            // take them too): only a new or empty directory.
            if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
                bail!(
                    "the output directory `{}` is not empty: give a new or empty directory (plan files of an earlier run would mix with this run's)",
                    dir.display()
                );
            }
            std::fs::create_dir_all(dir).with_context(|| {
                format!("cannot create the output directory `{}`", dir.display())
            })?;
            let p = dir.join(RESULTS_FILE);
            Some(BufWriter::new(File::create(&p).with_context(|| {
                format!("cannot create `{}`", p.display())
            })?))
        }
        None => None,
    };
    let bar = progress();
    let mut sink = Sink {
        results,
        stdout: std::io::stdout(),
        bar: bar.clone(),
    };
    let opts = RunOptions {
        concurrency: args.concurrency.map_or(DEFAULT_CONCURRENCY, usize::from),
        per_account: args.per_account.map_or(DEFAULT_PER_ACCOUNT, usize::from),
        shard: args.shard,
        plan,
        base: live.conn.connect_options(),
    };
    let mut summary = Summary {
        shard: args.shard.map(|s| s.to_string()),
        accounts: targets.accounts.len(),
        ..Summary::default()
    };
    let started = Instant::now();
    let rt = runtime()?;
    let outcome: Result<()> = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let runner = tokio::spawn(s3medic::bulk::run(targets.clone(), opts, tx));
        let mut buckets: BTreeSet<(String, Option<String>)> = BTreeSet::new();
        let mut opened = 0usize;
        while let Some(ev) = rx.recv().await {
            match ev {
                Event::Account {
                    targets: n, error, ..
                } => {
                    opened += 1;
                    if error.is_some() {
                        summary.accounts_failed += 1;
                    }
                    bar.inc_length(n as u64);
                    bar.set_message(format!("({opened}/{} accounts opened)", summary.accounts));
                }
                Event::Result(outcome) => {
                    let TargetOutcome {
                        mut result,
                        mut plan,
                    } = *outcome;
                    if let (Some(dir), Some(plan), Some(bucket), Some(request)) =
                        (&args.output_dir, &mut plan, &result.bucket, &result.request)
                    {
                        if result.status.writes_plan() {
                            let p = plan_path(dir, &result.account, bucket, request);
                            plan.created_at = Some(super::plan::created_now());
                            match write_plan(&p, plan) {
                                Ok(()) => result.plan_file = Some(p.display().to_string()),
                                Err(e) => {
                                    result.status = Status::Error;
                                    result.error = Some(format!(
                                        "cannot write plan file `{}`: {e:#}",
                                        p.display()
                                    ));
                                }
                            }
                        }
                    }
                    buckets.insert((result.account.clone(), result.bucket.clone()));
                    summary.add(&result);
                    sink.result(&result.to_line())?;
                    bar.inc(1);
                }
            }
        }
        runner.await.context("the bulk runner failed")?;
        summary.buckets = buckets.iter().filter(|(_, b)| b.is_some()).count();
        Ok(())
    });
    bar.finish_and_clear();
    outcome?;
    summary.elapsed_s = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    sink.summary(&summary.to_line())?;
    Ok(summary.exit_code())
}

/// Writes a plan file as `plan -o` does (pretty JSON, atomically), creating its directory.
fn write_plan(path: &Path, plan: &s3medic::plan::Plan) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_string_pretty(plan)? + "\n";
    s3medic::atomic_file::write_atomically(path, json.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_files_are_grouped_by_account() {
        let p = plan_path(Path::new("out"), "111122223333", "logs", "reader.GetObject");
        assert_eq!(p, Path::new("out/111122223333/logs.reader.GetObject.json"));
    }
}
