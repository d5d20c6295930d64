//! KL202 token-at-import: a Kling token minted once (at import, in a class body, a
//! package var, `init()`, a `static`) and reused until it expires.

use super::Checker;
use crate::analysis::Unit;
use crate::facts::{DeclKind, ExprId, ExprKind, Level, Span};
use crate::lang::Lang;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for a in &unit.facts.assigns {
        if a.level == Level::Function {
            continue;
        }
        let Some(value) = a.value else { continue };
        let Some(mint) = minting_call(unit, value, 0) else { continue };
        if refreshed(unit, a.target) || only_printed(unit, a) {
            continue;
        }
        let what = match (a.level, unit.file.lang) {
            (Level::Class, _) => "when the class is defined",
            (_, Lang::Go) => "once, when the package is initialised,",
            (_, Lang::Rust) => "once, into a static,",
            _ => "once, when the module loads,",
        };
        cx.report(mint, format!("a Kling token is minted {what} and reused; it expires after 30 minutes and every request then fails with 401 (code 1004)"))
            .label("minted once")
            .help("mint the token per request, or cache it with its expiry and refresh 5 minutes before `exp`");
    }
    // `@lru_cache` / `@cache` on a token function keeps the first token forever.
    for (fi, f) in unit.facts.functions.iter().enumerate() {
        for dec in &f.decorators {
            let path = match unit.facts.expr(*dec).kind {
                ExprKind::Call(c) => unit.facts.path_of(unit.facts.call(c).callee),
                _ => unit.facts.path_of(*dec),
            };
            let Some(path) = path else { continue };
            let caches = matches!(
                path.as_str(),
                "lru_cache" | "functools.lru_cache" | "cache" | "functools.cache" | "cached" | "once"
            );
            if !caches {
                continue;
            }
            if unit.summary(crate::facts::FuncId(fi as u32)).kling_token {
                cx.report(
                    unit.facts.expr(*dec).span,
                    "this cache keeps the first Kling token forever; it expires after 30 minutes",
                )
                .label("caches the token")
                .help("cache the token with its expiry (a TTL cache), or mint it per request");
            }
        }
    }
}

/// Whether the variable or field a token was first stored in is minted again inside
/// a function (a refresh timer, a re-login on 401): then the start-up token is only
/// the first of many. JavaScript and TypeScript only, where a plain assignment (not
/// a `let`/`const`) in a function writes the outer variable; in Python the same
/// spelling makes a new local.
fn refreshed(unit: &Unit<'_>, target: ExprId) -> bool {
    if !unit.file.lang.is_js() {
        return false;
    }
    let same_target = |a: &crate::facts::Assign| match (&unit.facts.expr(target).kind, &unit.facts.expr(a.target).kind)
    {
        (ExprKind::Name(x), ExprKind::Name(y)) => x == y && a.decl == DeclKind::Assign,
        (ExprKind::Member(_, x), ExprKind::Member(_, y)) => x == y,
        _ => false,
    };
    unit.facts.assigns.iter().any(|a| {
        a.level == Level::Function && same_target(a) && a.value.is_some_and(|v| minting_call(unit, v, 0).is_some())
    })
}

/// Whether a module-level token is only ever printed: a script that mints a token to
/// show it (to paste into a console or a `.env`) reuses nothing, and KL501 reports the
/// printing. A token that is never read here may be imported elsewhere, so it is not
/// "only printed".
fn only_printed(unit: &Unit<'_>, a: &crate::facts::Assign) -> bool {
    let target = unit.facts.expr(a.target);
    let ExprKind::Name(name) = &target.kind else { return false };
    let log_args: Vec<Span> = unit
        .facts
        .calls
        .iter()
        .filter(|c| unit.is_log_call(c))
        .flat_map(|c| c.args.iter().map(|arg| unit.facts.expr(arg.value).span))
        .collect();
    let mut reads = unit
        .facts
        .exprs
        .iter()
        .filter(|e| e.span != target.span && matches!(&e.kind, ExprKind::Name(n) if n == name))
        .peekable();
    reads.peek().is_some() && reads.all(|e| log_args.iter().any(|s| s.contains(e.span)))
}

/// The span of the call in `e` that mints a Kling token, following helpers, lazy
/// initialisers (`LazyLock::new(|| mint())`) and containers (a headers dict).
fn minting_call(unit: &Unit<'_>, e: ExprId, depth: u32) -> Option<Span> {
    if depth > 3 {
        return None;
    }
    let mut found = None;
    unit.walk_any(e, 0, &mut |x| {
        if let ExprKind::Call(c) = x.kind {
            let call = unit.facts.call(c);
            let direct = unit.jwt_call(call).is_some_and(|j| unit.is_kling_token(&j, call));
            if direct || unit.callee_summary(call).is_some_and(|s| s.kling_token) {
                found = Some(call.span);
                return true;
            }
            // A lazy initialiser: the closure's result is computed once.
            for arg in &call.args {
                if let ExprKind::Closure(f) = unit.facts.expr(arg.value).kind {
                    for r in &unit.facts.function(f).returns {
                        if let Some(s) = minting_call(unit, *r, depth + 1) {
                            found = Some(s);
                            return true;
                        }
                    }
                }
            }
        }
        false
    });
    found
}
