//! The `s3medic` binary: a thin front end over the library (argument parsing, files, terminal,
//! exit codes live in `cli`; every decision is made by the pure `s3medic` library).

mod cli;

fn main() -> std::process::ExitCode {
    restore_sigpipe();
    cli::main()
}

/// Rust ignores SIGPIPE, so printing to a closed pipe (`s3medic explain … | head`) would panic.
/// Restore the default: like any Unix filter, s3medic then ends quietly when its reader goes
/// away. Sockets are unaffected (the standard library sends with MSG_NOSIGNAL).
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any thread exists; it only resets one
    // signal's disposition to the default.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
