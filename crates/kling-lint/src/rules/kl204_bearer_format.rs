//! KL204 bearer-format: an Authorization value for Kling that is not `Bearer <token>`
//! with exactly one space.

use super::Checker;
use crate::analysis::Unit;
use crate::analysis::values::Frag;
use crate::diagnostic::Fix;
use crate::facts::{ExprId, ExprKind, Span};
use crate::lang::Lang;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for (value, site) in authorization_values(unit) {
        let Some(evidence) = kling_auth(unit, value) else { continue };
        let frags = value_fragments(unit, value);
        let Some(first) = frags.iter().find(|f| !matches!(f, Frag::Lit(s) if s.is_empty())) else { continue };
        let span = unit.facts.expr(value).span;
        match first {
            Frag::Lit(text) => {
                let scheme_end = text.find(' ').unwrap_or(text.len());
                let scheme = &text[..scheme_end];
                let after = &text[scheme_end..];
                let problem = if scheme == "Bearer" && after.starts_with("  ") {
                    Some(("two spaces after `Bearer`", "collapse them to one space"))
                } else if scheme.eq_ignore_ascii_case("bearer") && scheme != "Bearer" && after.starts_with(' ') {
                    Some(("`bearer` is not capitalised", "write `Bearer`"))
                } else if text.starts_with("Bearer") && !text.starts_with("Bearer ") && text.len() == "Bearer".len() {
                    Some(("no space between `Bearer` and the token", "insert one space"))
                } else if !text.starts_with("Bearer")
                    && !text.to_ascii_lowercase().starts_with("bearer")
                    && is_scheme(scheme)
                    // Another scheme is a deliberate choice, often right for another
                    // service (GitHub's `token`); only a token known to be Kling's is
                    // judged by it.
                    && evidence == Evidence::Minted
                {
                    Some(("the scheme is not `Bearer`", "use `Bearer <token>`"))
                } else {
                    None
                };
                let Some((what, how)) = problem else { continue };
                let fix = literal_fix(unit, value, text);
                let d = cx.report(span, format!("the Kling Authorization value is malformed: {what}; Kling expects `Bearer <token>` (401, code 1002)"));
                d.label(what.to_owned()).help(how.to_owned());
                if let Some(f) = fix {
                    d.fix(f);
                }
            }
            Frag::Opaque(_) => {
                if !is_bare_token(unit, value) {
                    continue;
                }
                let fix = prefix_fix(unit, value);
                let d = cx.report(
                    span,
                    "the Kling Authorization value is the bare token; Kling expects `Bearer <token>` (401, code 1002)",
                );
                d.label("missing `Bearer `");
                if let Some(f) = fix {
                    d.fix(f);
                } else {
                    d.help("send `Bearer ` followed by the token");
                }
            }
        }
        let _ = site;
    }
}

fn is_scheme(word: &str) -> bool {
    matches!(word.to_ascii_lowercase().as_str(), "jwt" | "token" | "basic" | "bearer:" | "bearertoken")
}

/// Every value assigned to an Authorization header: `{"Authorization": v}`,
/// `headers["Authorization"] = v`, `h.set("Authorization", v)`, `req.Header.Set(...)`.
fn authorization_values(unit: &Unit<'_>) -> Vec<(ExprId, Span)> {
    let is_auth = |k: &str| k.eq_ignore_ascii_case("authorization");
    let mut out = Vec::new();
    for m in &unit.facts.maps {
        for e in &m.entries {
            if is_auth(&e.key) {
                out.push((e.value, e.span));
            }
        }
    }
    for a in &unit.facts.assigns {
        if let ExprKind::Index(_, k) = unit.facts.expr(a.target).kind
            && unit.facts.str_of(k).is_some_and(is_auth)
            && let Some(v) = a.value
        {
            out.push((v, a.span));
        }
    }
    for c in &unit.facts.calls {
        let setter = unit.facts.callee_name(c).is_some_and(|n| {
            matches!(
                n,
                "set" | "Set" | "Add" | "add" | "append" | "header" | "setRequestHeader" | "insert" | "putHeader"
            )
        });
        if setter && c.args.len() == 2 && unit.eval_str(c.args[0].value).is_some_and(|k| is_auth(&k)) {
            out.push((c.args[1].value, c.span));
        }
    }
    out
}

/// Why an Authorization value is taken to carry a Kling token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Evidence {
    /// It mints one, directly or through a helper.
    Minted,
    /// It names a token (`token`, `self.jwt`) in a file about Kling.
    Named,
}

/// Whether an Authorization value carries a Kling token, and how we know.
fn kling_auth(unit: &Unit<'_>, value: ExprId) -> Option<Evidence> {
    let mut kling_token = false;
    let target = unit.deref(value);
    // The variables the value is built from (`"JWT " + token`), followed to what
    // they hold.
    let span = unit.facts.expr(value).span;
    let held = unit
        .facts
        .exprs
        .iter()
        .enumerate()
        .filter(|(_, x)| span.contains(x.span) && matches!(x.kind, ExprKind::Name(_)))
        .map(|(i, _)| unit.deref(ExprId(i as u32)));
    for e in [value, target].into_iter().chain(held) {
        unit.walk_any(e, 0, &mut |x| {
            if let ExprKind::Call(c) = x.kind {
                let call = unit.facts.call(c);
                if unit.jwt_call(call).is_some_and(|j| unit.is_kling_token(&j, call))
                    || unit.callee_summary(call).is_some_and(|s| s.kling_token)
                {
                    kling_token = true;
                }
            }
            kling_token
        });
    }
    if kling_token {
        return Some(Evidence::Minted);
    }
    let named = unit.is_kling_file()
        && unit.names_in(value).iter().chain(unit.names_in(target).iter()).any(|n| {
            let l = n.to_ascii_lowercase();
            l.contains("token") || l.contains("jwt")
        });
    named.then_some(Evidence::Named)
}

/// The fragments of a value, looking through a call to a local helper that returns
/// the header value.
fn value_fragments(unit: &Unit<'_>, value: ExprId) -> Vec<Frag> {
    if let ExprKind::Call(c) = unit.facts.expr(unit.deref(value)).kind
        && let crate::analysis::Callee::Local(f) = unit.callee(unit.facts.call(c))
        && let Some(r) = unit.facts.function(f).returns.first()
    {
        return unit.fragments(*r);
    }
    unit.fragments(value)
}

/// Whether a value with no literal prefix is the token itself rather than a header
/// value built elsewhere (`auth_header()`).
fn is_bare_token(unit: &Unit<'_>, value: ExprId) -> bool {
    let names = unit.names_in(value);
    let says_header = names.iter().any(|n| {
        let l = n.to_ascii_lowercase();
        l.contains("header") || l.contains("auth") || l.contains("bearer")
    });
    if says_header {
        return false;
    }
    let mints = {
        let mut found = false;
        unit.walk_any(unit.deref(value), 0, &mut |x| {
            if let ExprKind::Call(c) = x.kind {
                let call = unit.facts.call(c);
                found |= unit.jwt_call(call).is_some();
            }
            found
        });
        found
    };
    mints
        || names.iter().any(|n| {
            let l = n.to_ascii_lowercase();
            l.contains("token") || l.contains("jwt")
        })
}

/// Fix a literal prefix in place: `"Bearer"` + token, `"bearer "`, `"Bearer  "`.
fn literal_fix(unit: &Unit<'_>, value: ExprId, text: &str) -> Option<Fix> {
    let span = unit.facts.expr(value).span;
    let src = unit.text(span);
    // Only fix what is written right here, once.
    let lower = src.to_ascii_lowercase();
    let at = lower.find("bearer")?;
    if lower[at + 1..].contains("bearer") {
        return None;
    }
    let start = span.start + at as u32;
    let word_end = start + "bearer".len() as u32;
    let after = &src[at + "bearer".len()..];
    let spaces = after.len() - after.trim_start_matches(' ').len();
    let replace = Span { start, end: word_end + spaces as u32 };
    if text.trim_end().eq_ignore_ascii_case("bearer") || text.to_ascii_lowercase().starts_with("bearer") {
        return Some(Fix::safe("write `Bearer ` with one space", replace, "Bearer "));
    }
    None
}

/// Prefix a bare token with `Bearer `, in the file's own syntax.
fn prefix_fix(unit: &Unit<'_>, value: ExprId) -> Option<Fix> {
    let expr = unit.facts.expr(value);
    if !matches!(expr.kind, ExprKind::Name(_) | ExprKind::Member(..) | ExprKind::Call(_)) {
        return None;
    }
    let mut span = expr.span;
    // `await klingToken()`: the prefix must wrap the awaited value, not the promise.
    if let ExprKind::Call(c) = expr.kind
        && unit.facts.call(c).awaited
    {
        let before = unit.file.text[..span.start as usize].trim_end();
        let keyword = before.strip_suffix("await")?;
        span.start = keyword.len() as u32;
    }
    let src = unit.text(span);
    if src.contains('\n') {
        return None;
    }
    let replacement = match unit.file.lang {
        Lang::Python => format!("f\"Bearer {{{src}}}\""),
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => format!("`Bearer ${{{src}}}`"),
        Lang::Go => format!("\"Bearer \" + {src}"),
        Lang::Rust => format!("format!(\"Bearer {{}}\", {src})"),
        _ => return None,
    };
    Some(Fix::safe("prefix the token with `Bearer `", span, replacement))
}
