//! `s3medic man [--out-dir DIR]`: man pages (roff, section 1) generated from the clap
//! definitions. Without `--out-dir`, the page of `s3medic` itself on stdout; with it, one file per
//! command (`s3medic.1`, `s3medic-plan.1`, `s3medic-playbooks-show.1` ...), whose paths are
//! printed one per line.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::{exit, Cli};

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write one page per command into this directory (created when missing) instead of printing
    /// the top page.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

pub fn run(args: ManArgs) -> Result<u8> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    match &args.out_dir {
        None => {
            let mut buf: Vec<u8> = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .context("cannot render the man page")?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&buf)?;
            stdout.flush()?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create directory `{}`", dir.display()))?;
            let mut written = Vec::new();
            write_pages(&cmd, dir, &mut written)?;
            let mut stdout = std::io::stdout().lock();
            for p in &written {
                writeln!(stdout, "{}", p.display())?;
            }
            stdout.flush()?;
        }
    }
    Ok(exit::OK)
}

/// Writes the page of `cmd` and of each of its (visible) subcommands, depth first.
fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    let path = dir.join(man.get_filename());
    let mut buf: Vec<u8> = Vec::new();
    man.render(&mut buf)
        .with_context(|| format!("cannot render `{}`", path.display()))?;
    std::fs::write(&path, &buf).with_context(|| format!("cannot write `{}`", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}
