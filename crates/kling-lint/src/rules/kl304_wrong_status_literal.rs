//! KL304 wrong-status-literal: `task_status` compared with a value the API never sends.

use kling_api::params::is_wrong_status_literal;

use super::Checker;
use crate::analysis::Unit;
use crate::facts::{BinOp, ExprId, ExprKind, FuncId};

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for &c in &unit.facts.comparisons {
        let ExprKind::Binary(op, l, r) = unit.facts.expr(c).kind else { continue };
        if !matches!(op, BinOp::Eq | BinOp::Ne | BinOp::In | BinOp::NotIn) {
            continue;
        }
        let value = if unit.is_status_expr(l) {
            r
        } else if unit.is_status_expr(r) {
            l
        } else {
            continue;
        };
        if talks_to_another_service(unit, unit.facts.expr(c).func) {
            continue;
        }
        let literals: Vec<ExprId> = match &unit.facts.expr(value).kind {
            ExprKind::List(items) => items.to_vec(),
            _ => vec![value],
        };
        let listed =
            |status: &str| literals.len() > 1 && literals.iter().any(|l| unit.facts.str_of(*l) == Some(status));
        for &lit in &literals {
            let Some(s) = unit.facts.str_of(lit) else { continue };
            let lower = s.to_ascii_lowercase();
            if !is_wrong_status_literal(&lower) {
                continue;
            }
            let right = if lower == "error" { "failed" } else { "succeed" };
            // `status in ("succeed", "succeeded")`: the test is true for the status Kling
            // sends; the extra spelling is harmless tolerance.
            if listed(right) {
                continue;
            }
            cx.report(
                unit.facts.expr(lit).span,
                format!("Kling never sends task_status {s:?}; this comparison is never true"),
            )
            .label("not a Kling status")
            .help(format!("the statuses are submitted, processing, succeed and failed; compare with \"{right}\""));
        }
    }
}

/// Whether a function polls another service: it makes HTTP requests, and every one
/// whose URL is known goes somewhere other than Kling. Its `task_status` is that
/// service's (`DashScope`'s async tasks, for one, send "SUCCEEDED").
fn talks_to_another_service(unit: &Unit<'_>, func: Option<FuncId>) -> bool {
    let Some(f) = func else { return false };
    let mut elsewhere = false;
    for call in unit.calls_in(unit.facts.function(f).body) {
        if unit.callee_summary(call).is_some_and(|s| s.kling_request) {
            return false;
        }
        match unit.http_call(call).and_then(|h| h.url).and_then(|u| unit.url_info(u)) {
            Some(info) if info.kling => return false,
            Some(_) => elsewhere = true,
            None => {}
        }
    }
    elsewhere
}
