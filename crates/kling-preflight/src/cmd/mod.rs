//! One module per subcommand; each turns parsed arguments into a library call.

mod audit;
mod check;
mod lint;
mod mock;
mod rules;

use crate::args::{Cli, Command};
use crate::exit::Exit;

pub(crate) fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Lint(args) => lint::run(&args),
        Command::Rules(args) => rules::list(&args),
        Command::Explain(args) => rules::explain(&args),
        Command::Mock(args) => mock::run(args),
        Command::Check(args) => check::run(&args),
        Command::Audit(args) => audit::run(&args),
    }
}

/// Whether to colour output: never with `--no-color` or `NO_COLOR`, only on a terminal.
pub(crate) fn use_color(no_color: bool, is_terminal: bool) -> bool {
    !no_color && is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Write a report to `path`, or to stdout. Files are written whole (temp file and
/// rename), so a reader never sees half a report.
pub(crate) fn write_output(path: Option<&std::path::Path>, content: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    if let Some(p) = path {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
        tmp.write_all(content.as_bytes())?;
        tmp.persist(p).map_err(|e| anyhow::anyhow!("cannot write {}: {}", p.display(), e.error))?;
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(content.as_bytes())?;
        out.flush()?;
    }
    Ok(())
}
