//! KL302 failed-status-unhandled: `task_status` checked for `succeed` with no path for
//! `failed`.

use super::Checker;
use crate::analysis::Unit;
use crate::facts::{BinOp, ExitKind, ExprId, ExprKind, FuncId, Span};

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for &c in &unit.facts.comparisons {
        let ExprKind::Binary(op, l, r) = unit.facts.expr(c).kind else { continue };
        if op != BinOp::Eq && op != BinOp::In {
            continue;
        }
        let (subject, value) = if unit.is_status_expr(l) {
            (l, r)
        } else if unit.is_status_expr(r) {
            (r, l)
        } else {
            continue;
        };
        if !names_literal(unit, value, "succeed") || names_literal(unit, value, "failed") {
            continue;
        }
        // Only where the comparison decides control flow: an `if`/`case` arm or a
        // loop's condition; a predicate function leaves handling to its caller.
        let Some(arm_span) = deciding_arm(unit, c) else { continue };
        let func = unit.facts.expr(c).func;
        if handles_failure(unit, func, subject, arm_span) || forwards_status(unit, func, c, arm_span) {
            continue;
        }
        cx.report(unit.facts.expr(c).span, "this checks for `succeed` but nothing handles `failed`; a failed task is polled forever or dropped silently")
            .label("no path for failed")
            .help("add a branch for task_status == \"failed\" that raises or logs task_status_msg");
    }
}

fn names_literal(unit: &Unit<'_>, e: ExprId, lit: &str) -> bool {
    match &unit.facts.expr(e).kind {
        ExprKind::Str(s) => &**s == lit,
        ExprKind::List(items) => items.iter().any(|i| unit.facts.str_of(*i) == Some(lit)),
        _ => unit.eval_str(e).as_deref() == Some(lit),
    }
}

/// The conditional (its whole span) whose arm tests `c`, or the loop whose condition
/// it is.
fn deciding_arm(unit: &Unit<'_>, c: ExprId) -> Option<Span> {
    let cspan = unit.facts.expr(c).span;
    for cond in &unit.facts.conditionals {
        if cond.arms.iter().any(|a| unit.facts.expr(a.test).span.contains(cspan)) {
            return Some(cond.span);
        }
    }
    for l in &unit.facts.loops {
        if l.cond.is_some_and(|x| unit.facts.expr(x).span.contains(cspan)) {
            return Some(l.header.cover(l.body));
        }
    }
    None
}

/// Whether the function handles a failed task: it compares the status (or anything)
/// with `"failed"`, or the chain that tests for success ends in an `else` that
/// raises or returns an error.
fn handles_failure(unit: &Unit<'_>, func: Option<FuncId>, _subject: ExprId, arm_span: Span) -> bool {
    let scope = func.map_or(Span { start: 0, end: u32::MAX }, |f| unit.facts.function(f).span);
    let mentions_failed = unit.facts.comparisons.iter().any(|&x| {
        let e = unit.facts.expr(x);
        scope.contains(e.span)
            && matches!(e.kind, ExprKind::Binary(_, l, r) if names_literal(unit, l, "failed") || names_literal(unit, r, "failed"))
    });
    if mentions_failed {
        return true;
    }
    // `!= "succeed"` guarding a raise handles every other status.
    let negative_check = unit.facts.comparisons.iter().any(|&x| {
        let e = unit.facts.expr(x);
        scope.contains(e.span)
            && matches!(e.kind, ExprKind::Binary(BinOp::Ne | BinOp::NotIn, l, r) if names_literal(unit, l, "succeed") || names_literal(unit, r, "succeed"))
    });
    if negative_check {
        return true;
    }
    unit.facts.conditionals.iter().filter(|c| c.span == arm_span).any(|c| {
        c.otherwise.is_some_and(|o| {
            unit.exits_in(o).any(|x| {
                x.kind == ExitKind::Throw
                    || (x.kind == ExitKind::Return && x.value.is_some_and(|v| looks_like_error(unit, v)))
            }) || reads_status_msg(unit, o)
        })
    })
}

/// Whether `span` reads `task_status_msg`: an `else` that reports why the task did not
/// succeed handles the failure the way the checklist asks (log the message).
fn reads_status_msg(unit: &Unit<'_>, span: Span) -> bool {
    unit.facts.exprs.iter().filter(|e| span.contains(e.span)).any(|e| match &e.kind {
        ExprKind::Index(_, k) => unit.facts.str_of(*k) == Some("task_status_msg"),
        ExprKind::Member(_, f) => matches!(&**f, "task_status_msg" | "TaskStatusMsg" | "taskStatusMsg"),
        ExprKind::Call(c) => {
            let call = unit.facts.call(*c);
            unit.facts.callee_name(call) == Some("get")
                && call.args.first().and_then(|a| unit.facts.str_of(a.value)) == Some("task_status_msg")
        }
        _ => false,
    })
}

/// Whether the function hands the status to its caller instead of deciding on it: a
/// `return` outside the success check whose value carries the status
/// (`return {status, videoUrl}`). The caller sees `failed`. Not inside a polling loop,
/// where a missing failure path keeps polling a dead task.
fn forwards_status(unit: &Unit<'_>, func: Option<FuncId>, c: ExprId, arm_span: Span) -> bool {
    let Some(f) = func else { return false };
    let cspan = unit.facts.expr(c).span;
    if unit.facts.loops.iter().any(|l| l.func == func && l.body.contains(cspan)) {
        return false;
    }
    unit.exits_in(unit.facts.function(f).body).any(|x| {
        x.kind == ExitKind::Return
            && x.func == func
            && !arm_span.contains(x.span)
            && x.value.is_some_and(|v| carries_status(unit, v, 0))
    })
}

/// Whether a returned value is the task status or holds it (in an object, directly or
/// through a variable).
fn carries_status(unit: &Unit<'_>, e: ExprId, depth: u32) -> bool {
    if depth > 4 {
        return false;
    }
    if unit.is_status_expr(e) {
        return true;
    }
    match &unit.facts.expr(e).kind {
        ExprKind::Map(m) => unit.facts.map(*m).entries.iter().any(|en| carries_status(unit, en.value, depth + 1)),
        ExprKind::Name(_) => {
            let d = unit.deref(e);
            d != e && carries_status(unit, d, depth + 1)
        }
        _ => false,
    }
}

fn looks_like_error(unit: &Unit<'_>, v: ExprId) -> bool {
    let text = unit.text(unit.facts.expr(v).span).to_ascii_lowercase();
    text.contains("err") || text.contains("fail") || text.contains("exception")
}
