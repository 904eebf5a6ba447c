//! `s3medic completions SHELL` and `s3medic man [--out-dir DIR]`: generated from the clap
//! definitions, so every subcommand and flag appears; the man pages are well-formed roff.

#[path = "common/cli.rs"]
mod cli;

use std::path::PathBuf;

use cli::{path_str, s3medic, scratch_dir, text};

/// The subcommands `s3medic --help` lists (without `help`).
fn subcommands() -> Vec<String> {
    let help = text(&s3medic(&["--help"]).stdout);
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
            continue;
        }
        if in_commands {
            match line.strip_prefix("  ") {
                Some(rest) if !rest.starts_with(' ') => {
                    if let Some(name) = rest.split_whitespace().next() {
                        if name != "help" {
                            names.push(name.to_string());
                        }
                    }
                }
                _ => break,
            }
        }
    }
    names
}

#[test]
fn help_lists_the_commands_the_tests_expect() {
    let names = subcommands();
    for expected in [
        "explain",
        "operations",
        "playbooks",
        "plan",
        "snapshot",
        "apply",
        "rollback",
        "show",
        "completions",
        "man",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }
}

#[test]
fn bash_completion_covers_every_subcommand_and_their_flags() {
    let out = s3medic(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(script.contains("_s3medic()"), "a bash function");
    assert!(
        script.contains("complete -F _s3medic") && script.contains("s3medic"),
        "registered for s3medic"
    );
    for name in subcommands() {
        assert!(
            script.contains(&format!("s3medic__{name}")) || script.contains(&format!(" {name} ")),
            "subcommand `{name}` missing"
        );
    }
    for flag in [
        "--world",
        "--request",
        "--accept-new-access",
        "--allow-public",
        "--endpoint-url",
        "--snapshot-dir",
        "--format",
        "--out-dir",
    ] {
        assert!(script.contains(flag), "flag `{flag}` missing");
    }
    // Value enums are completed too.
    assert!(script.contains("markdown"), "show --format values");
}

#[test]
fn every_shell_gets_its_own_script() {
    for (shell, marker) in [
        ("bash", "complete -F _s3medic"),
        ("zsh", "#compdef s3medic"),
        ("fish", "complete -c s3medic"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[s3medic]"),
    ] {
        let out = s3medic(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(script.contains(marker), "{shell}: no `{marker}`");
        assert!(script.contains("accept-new-access"), "{shell}: flags");
    }
    let out = s3medic(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(1), "unknown shell is a usage error");
    assert!(out.stdout.is_empty());
}

/// The roff requests a clap-generated page may use.
const REQUESTS: &[&str] = &[
    "TH", "SH", "SS", "TP", "IP", "PP", "LP", "P", "RS", "RE", "br", "sp", "ie", "el", "ds", "nf",
    "fi", "B", "I", "EX", "EE",
];

/// Checks `page` is well-formed man(7) roff: a `.TH` title first (after string definitions), the
/// NAME and SYNOPSIS sections, only known requests, and every font change closed on its line.
fn assert_roff(page: &str, title: &str) {
    let mut saw_th = false;
    for (i, line) in page.lines().enumerate() {
        if let Some(req) = line.strip_prefix('.') {
            let name = req.split([' ', '\\']).next().unwrap_or("");
            assert!(
                REQUESTS.contains(&name),
                "{title}:{}: unknown request `.{name}`",
                i + 1
            );
            if name == "TH" {
                assert!(!saw_th, "{title}: one .TH");
                assert!(
                    req.starts_with(&format!("TH {title} 1")),
                    "{title}: .TH names the page: {line}"
                );
                saw_th = true;
            } else if !matches!(name, "ie" | "el" | "ds") {
                assert!(saw_th, "{title}:{}: `.{name}` before .TH", i + 1);
            }
        }
        let opens = line.matches("\\fB").count() + line.matches("\\fI").count();
        let closes = line.matches("\\fR").count() + line.matches("\\fP").count();
        assert!(
            closes >= opens,
            "{title}:{}: font not restored: {line}",
            i + 1
        );
    }
    assert!(saw_th, "{title}: no .TH");
    assert!(page.contains("\n.SH NAME\n"), "{title}: NAME");
    assert!(page.contains("\n.SH SYNOPSIS\n"), "{title}: SYNOPSIS");
}

#[test]
fn man_page_is_roff_naming_every_subcommand() {
    let out = s3medic(&["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    assert_roff(&page, "s3medic");
    assert!(page.contains("\n.SH SUBCOMMANDS\n"), "{page}");
    for name in subcommands() {
        assert!(
            page.contains(&format!("s3medic\\-{name}(1)")),
            "subcommand `{name}` missing from the page"
        );
    }
}

#[test]
fn man_out_dir_writes_one_page_per_command() {
    let dir = scratch_dir("man");
    let out_dir = dir.join("man1");
    let out = s3medic(&["man", "--out-dir", path_str(&out_dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listed: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    let mut expected = vec!["s3medic".to_string()];
    expected.extend(subcommands().iter().map(|n| format!("s3medic-{n}")));
    expected.push("s3medic-playbooks-show".into());
    for page in &expected {
        let path = out_dir.join(format!("{page}.1"));
        let body =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_roff(&body, page);
        assert!(
            listed.iter().any(|l| l == &path.display().to_string()),
            "{page} listed on stdout: {listed:?}"
        );
    }
    // Nested subcommands beyond `playbooks show` get pages too: every listed file is a page.
    for listed_path in &listed {
        let path = PathBuf::from(listed_path);
        let body =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert_roff(&body, &stem);
    }
    let plan = std::fs::read_to_string(out_dir.join("s3medic-plan.1")).expect("plan page");
    assert!(plan.contains("accept\\-new\\-access"), "plan's flags");
    let _ = std::fs::remove_dir_all(&dir);
}
