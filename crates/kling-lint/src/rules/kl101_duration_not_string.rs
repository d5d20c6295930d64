//! KL101 duration-not-string: `duration` sent as a number in a Kling request body.

use super::Checker;
use super::helpers::{fmt_num, is_kling_shape, snippet};
use crate::analysis::Unit;
use crate::diagnostic::Fix;
use crate::facts::{ExprId, ExprKind, FieldDecl, MapKind, TypeDecl, TypeKind};
use crate::lang::Lang;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for (m, body) in unit.bodies() {
        let struct_literal = matches!(unit.facts.map(*m).kind, MapKind::Struct(_));
        // A literal of a struct declared here with a numeric `duration` follows from
        // the declaration, which is reported below: the field's type must change.
        if let MapKind::Struct(ty) = &unit.facts.map(*m).kind
            && unit.facts.types.iter().any(|t| declares_numeric_duration(t) && names_type(ty, &t.name))
        {
            continue;
        }
        for key in body.keys.iter().filter(|k| &*k.key == "duration" || (struct_literal && &*k.key == "Duration")) {
            let Some((value, in_place)) = unit.number_value(key.value) else {
                // A number whose value is unknown, made by a conversion
                // (`int(duration)`, `Number(seconds)`), in a body that is sent to Kling.
                if body.sent
                    && let Some(conversion) = number_conversion(unit, key.value)
                {
                    let name = snippet(unit, key.value);
                    cx.report(unit.facts.expr(key.value).span, format!("`duration` is `{name}`, a number; Kling wants a string and rejects numbers (HTTP 400, code 1201)"))
                        .label(format!("`{conversion}` makes a number"))
                        .help(if unit.file.lang == Lang::Python {
                            "send the seconds as a string: str(seconds)"
                        } else {
                            "send the seconds as a string: String(seconds)"
                        });
                }
                continue;
            };
            let expr = unit.facts.expr(key.value);
            let shown = fmt_num(value);
            if in_place {
                let d = cx.report(expr.span, format!("`duration` is the number {shown}; Kling wants the string \"{shown}\" and rejects numbers (HTTP 400, code 1201)"));
                d.label("a number, not a string");
                // A typed struct field cannot take a string; only map-like bodies are fixed.
                if !struct_literal && value.fract() == 0.0 && matches!(expr.kind, ExprKind::Number { .. }) {
                    d.fix(Fix::safe(format!("quote it: \"{shown}\""), expr.span, format!("\"{shown}\"")));
                } else {
                    d.help(format!("send \"{shown}\" (a string)"));
                }
            } else {
                let name = snippet(unit, key.value);
                cx.report(expr.span, format!("`duration` is `{name}`, the number {shown}; Kling wants a string and rejects numbers (HTTP 400, code 1201)"))
                    .label(format!("evaluates to the number {shown}"))
                    .help(format!("make `{name}` the string \"{shown}\", or convert it where the body is built"));
            }
        }
    }
    for t in &unit.facts.types {
        if !is_kling_shape(t) {
            continue;
        }
        for f in t.fields.iter().filter(|f| is_numeric_duration(f)) {
            cx.report(f.span, format!("`{}` declares `duration` as a number; Kling wants a string such as \"5\" (HTTP 400, code 1201 otherwise)", t.name))
                .label("numeric duration field")
                .help("declare the field as a string and format the seconds when you fill it");
        }
    }
}

/// The number conversion that makes `e`, directly or through a variable: Python's
/// `int()`/`float()`, JavaScript's `Number()`/`parseInt()`/`parseFloat()`.
fn number_conversion(unit: &Unit<'_>, e: ExprId) -> Option<&'static str> {
    let ExprKind::Call(c) = unit.facts.expr(unit.deref(e)).kind else { return None };
    let call = unit.facts.call(c);
    let ExprKind::Name(name) = &unit.facts.expr(call.callee).kind else { return None };
    let conversion = match (unit.file.lang, &**name) {
        (Lang::Python, "int") => "int()",
        (Lang::Python, "float") => "float()",
        (l, "Number") if l.is_js() => "Number()",
        (l, "parseInt") if l.is_js() => "parseInt()",
        (l, "parseFloat") if l.is_js() => "parseFloat()",
        _ => return None,
    };
    (!call.args.is_empty()).then_some(conversion)
}

fn is_numeric_duration(f: &FieldDecl) -> bool {
    &*f.key == "duration" && f.ty == TypeKind::Number
}

fn declares_numeric_duration(t: &TypeDecl) -> bool {
    is_kling_shape(t) && t.fields.iter().any(is_numeric_duration)
}

/// Whether a literal's type (`Text2VideoRequest`, `*Text2VideoRequest`,
/// `api::Text2VideoRequest`) is the type declared as `name`.
fn names_type(literal: &str, name: &str) -> bool {
    let literal = literal.trim_start_matches('*');
    literal == name || literal.rsplit("::").next() == Some(name)
}
