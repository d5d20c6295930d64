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
        Command::Check(args) => check::run(args),
        Command::Audit(args) => audit::run(args),
    }
}
