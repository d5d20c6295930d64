//! `kling-preflight check`.

use crate::args::CheckArgs;
use crate::exit::Exit;

pub(crate) fn run(_args: CheckArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`check` is not part of this build yet")
}
