//! `kling-preflight audit`.

use crate::args::AuditArgs;
use crate::exit::Exit;

pub(crate) fn run(_args: AuditArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`audit` is not part of this build yet")
}
