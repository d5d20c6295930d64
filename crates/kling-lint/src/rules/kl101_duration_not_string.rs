//! KL101 duration-not-string: `duration` sent as a number in a Kling request body.

use super::Checker;
use super::helpers::{fmt_num, is_kling_shape, snippet};
use crate::diagnostic::Fix;
use crate::facts::{ExprKind, FieldDecl, MapKind, TypeDecl, TypeKind};

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
            let Some((value, in_place)) = unit.number_value(key.value) else { continue };
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
