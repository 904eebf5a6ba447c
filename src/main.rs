//! The `s3medic` binary: a thin front end over the library (argument parsing, files, terminal,
//! exit codes live in `cli`; every decision is made by the pure `s3medic` library).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
