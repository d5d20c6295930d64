//! KL304 wrong-status-literal: `task_status` compared with a value the API never sends.

use kling_api::params::is_wrong_status_literal;

use super::Checker;
use crate::facts::{BinOp, ExprId, ExprKind};

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for &c in &unit.facts.comparisons {
        let ExprKind::Binary(op, l, r) = unit.facts.expr(c).kind else { continue };
        if !matches!(op, BinOp::Eq | BinOp::Ne | BinOp::In | BinOp::NotIn) {
            continue;
        }
        let value = if unit.is_status_expr(l) { r } else if unit.is_status_expr(r) { l } else { continue };
        let literals: Vec<ExprId> = match &unit.facts.expr(value).kind {
            ExprKind::List(items) => items.to_vec(),
            _ => vec![value],
        };
        for lit in literals {
            let Some(s) = unit.facts.str_of(lit) else { continue };
            let lower = s.to_ascii_lowercase();
            if !is_wrong_status_literal(&lower) {
                continue;
            }
            let right = if lower == "error" { "failed" } else { "succeed" };
            cx.report(unit.facts.expr(lit).span, format!("Kling never sends task_status {s:?}; this comparison is never true"))
                .label("not a Kling status")
                .help(format!("the statuses are submitted, processing, succeed and failed; compare with \"{right}\""));
        }
    }
}
