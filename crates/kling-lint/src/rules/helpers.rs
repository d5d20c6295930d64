//! Small helpers several rules share.

use kling_api::params;
use serde_json::Value;

use crate::analysis::Unit;
use crate::facts::{ExprId, ExprKind, TypeDecl};

/// A number as a user would write it in a string: `5`, not `5.0`.
pub(crate) fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") }
}

/// Whether a typed declaration describes a Kling request: two request fields, one of
/// them Kling-specific.
pub(crate) fn is_kling_shape(t: &TypeDecl) -> bool {
    let keys: Vec<&str> = t.fields.iter().map(|f| &*f.key).filter(|k| params::is_request_key(k)).collect();
    keys.len() >= 2 && keys.iter().any(|k| params::is_specific_key(k))
}

/// A fully literal expression as JSON (for running kling-api's validators on it).
pub(crate) fn literal_json(unit: &Unit<'_>, e: ExprId, depth: u32) -> Option<Value> {
    if depth > 16 {
        return None;
    }
    // An optional parameter (`camera_type=None`) is not a literal: its default only
    // says the caller may leave the value out.
    if unit.is_optional_param(e) {
        return None;
    }
    let d = unit.deref(e);
    Some(match &unit.facts.expr(d).kind {
        ExprKind::Str(_) | ExprKind::Template(_) => Value::String(unit.eval_str(d)?),
        ExprKind::Number { .. } | ExprKind::Binary(..) | ExprKind::Unary(..) => {
            serde_json::Number::from_f64(unit.eval_num(d)?).map(Value::Number)?
        }
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::Null => Value::Null,
        ExprKind::Map(m) => {
            let mut obj = serde_json::Map::new();
            for en in &unit.facts.map(*m).entries {
                obj.insert(en.key.to_string(), literal_json(unit, en.value, depth + 1)?);
            }
            Value::Object(obj)
        }
        ExprKind::List(items) => {
            Value::Array(items.iter().map(|i| literal_json(unit, *i, depth + 1)).collect::<Option<_>>()?)
        }
        _ => return None,
    })
}

/// The source text of an expression, shortened for messages.
pub(crate) fn snippet(unit: &Unit<'_>, e: ExprId) -> String {
    let t = unit.text(unit.facts.expr(e).span);
    let one_line = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 40 {
        format!("{}…", one_line.chars().take(39).collect::<String>())
    } else {
        one_line
    }
}
