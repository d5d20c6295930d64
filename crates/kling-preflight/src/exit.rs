//! Exit codes and the last line the user sees when something goes wrong.

use std::io::ErrorKind;
use std::process::ExitCode;

/// What a subcommand concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing at or above the failing level.
    Clean,
    /// Findings or failed checks.
    Failed,
}

/// Map a subcommand's outcome to the process exit code, printing a one-line error for
/// failures. A broken pipe (the reader went away, as with `| head`) is not an error.
pub(crate) fn finish(result: anyhow::Result<Exit>) -> ExitCode {
    match result {
        Ok(Exit::Clean) => ExitCode::SUCCESS,
        Ok(Exit::Failed) => ExitCode::from(1),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let mut msg = format!("kling-preflight: error: {err}");
            for cause in err.chain().skip(1) {
                msg.push_str(&format!(": {cause}"));
            }
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().filter_map(|e| e.downcast_ref::<std::io::Error>()).any(|e| e.kind() == ErrorKind::BrokenPipe)
}
