//! KL601 audio-cost: native audio enabled with no budget check in the file.

use super::Checker;
use crate::facts::ExprKind;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    let budget_checked = unit.facts.comparisons.iter().any(|&c| {
        let ExprKind::Binary(_, l, r) = unit.facts.expr(c).kind else { return false };
        unit.names_in(l).iter().chain(unit.names_in(r).iter()).any(|n| {
            let l = n.to_ascii_lowercase();
            l.contains("budget") || l.contains("credit") || l.contains("quota")
        })
    });
    if budget_checked {
        return;
    }
    for (_, body) in unit.bodies() {
        for key in &body.keys {
            let on = match &*key.key {
                "sound" => unit.eval_str(key.value).is_some_and(|v| v == "on"),
                "motion_has_audio" => matches!(unit.facts.expr(key.value).kind, ExprKind::Bool(true)),
                _ => false,
            };
            if on {
                cx.report(
                    unit.facts.expr(key.value).span,
                    "native audio multiplies a clip's cost about 5x, and nothing in this file checks a budget",
                )
                .label("audio on")
                .help("estimate credits before submitting (audio ~5x) and compare with a budget or remaining credits");
            }
        }
    }
}
