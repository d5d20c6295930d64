//! `kling-preflight lint`.

use crate::args::LintArgs;
use crate::exit::Exit;

pub(crate) fn run(_args: &LintArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`lint` is not part of this build yet")
}
