//! `kling-preflight mock`.

use crate::args::MockArgs;
use crate::exit::Exit;

pub(crate) fn run(_args: MockArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`mock` is not part of this build yet")
}
