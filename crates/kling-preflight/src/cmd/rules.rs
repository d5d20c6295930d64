//! `kling-preflight rules` and `kling-preflight explain`.

use crate::args::{ExplainArgs, RulesArgs};
use crate::exit::Exit;

pub(crate) fn list(_args: &RulesArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`rules` is not part of this build yet")
}

pub(crate) fn explain(_args: &ExplainArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`explain` is not part of this build yet")
}
