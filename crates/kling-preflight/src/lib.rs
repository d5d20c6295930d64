//! The `kling-preflight` command line: parses arguments with clap and hands each
//! subcommand to the library that does the work. Nothing here knows how to lint, mock
//! or judge; it only wires options to libraries and maps outcomes to exit codes.

mod args;
mod cmd;
mod exit;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser as _;

pub use exit::Exit;

/// Run the CLI with `args` (the first item is the program name) and return the exit
/// code: 0 clean, 1 findings or failed checks, 2 usage, configuration or internal error.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help and version to stdout (exit 0) and usage errors to
            // stderr (exit 2), which is already the contract.
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    exit::finish(cmd::run(cli))
}
