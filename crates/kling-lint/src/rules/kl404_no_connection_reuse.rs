//! KL404 no-connection-reuse: Kling calls through one-shot helpers (`requests.post`,
//! `urlopen`) made repeatedly, in a poll or batch loop.

use super::Checker;
use crate::facts::{Call, ExprKind, FuncId};

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for call in &unit.facts.calls {
        let Some(http) = unit.http_call(call) else { continue };
        if !http.one_shot || !http.url.and_then(|u| unit.url_info(u)).is_some_and(|u| u.kling) {
            continue;
        }
        let in_loop = !unit.facts.loops_around(call.span).is_empty() || called_from_loop(cx, call);
        if !in_loop {
            continue;
        }
        cx.report(
            http.span,
            format!(
                "each {} call opens a new connection (TLS handshake included) and it runs once per poll or task",
                unit.text(unit.facts.expr(call.callee).span)
            ),
        )
        .label("no connection reuse")
        .help("make the calls through one requests.Session() (or httpx.Client) so connections are pooled");
    }
}

/// Whether the function enclosing `call` is itself called from inside a loop.
fn called_from_loop(cx: &Checker<'_, '_>, call: &Call) -> bool {
    let unit = cx.unit;
    let Some(f) = call.func else { return false };
    unit.facts.calls.iter().any(|c| {
        !unit.facts.loops_around(c.span).is_empty()
            && match unit.callee(c) {
                crate::analysis::Callee::Local(g) => g == f || is_parent(unit, f, g),
                _ => false,
            }
            && !matches!(unit.facts.expr(c.callee).kind, ExprKind::Other)
    })
}

fn is_parent(unit: &crate::analysis::Unit<'_>, inner: FuncId, outer: FuncId) -> bool {
    unit.func_chain(Some(inner)).any(|x| x == outer)
}
