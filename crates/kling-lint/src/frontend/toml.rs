//! A span-aware TOML reader on the `toml` crate's spanned document model.

use toml::de::{DeTable, DeValue};

use super::ParseError;
use super::config::ConfigBuilder;
use crate::facts::{ExprKind, Facts, Span};

pub(crate) fn lower(text: &str) -> Result<Facts, ParseError> {
    let table = DeTable::parse(text).map_err(|e| {
        let r = e.span().unwrap_or(0..0);
        let end = r.end.max(r.start + 1).min(text.len()).max(r.start);
        ParseError { span: Span::new(r.start, end), message: e.message().to_owned() }
    })?;
    let mut out = ConfigBuilder::new();
    let r = table.span();
    out.start_map(r.start as u32);
    table_entries(&mut out, table.get_ref());
    out.end(r.end as u32);
    Ok(out.finish())
}

fn table_entries(out: &mut ConfigBuilder, table: &DeTable<'_>) {
    for (k, v) in table {
        let ks = k.span();
        out.key(k.get_ref(), Span::new(ks.start, ks.end));
        value(out, v.get_ref(), v.span());
    }
}

fn value(out: &mut ConfigBuilder, v: &DeValue<'_>, r: std::ops::Range<usize>) {
    let sp = Span::new(r.start, r.end);
    match v {
        DeValue::String(s) => out.scalar(ExprKind::Str(s.as_ref().into()), sp),
        DeValue::Integer(i) => {
            let parsed = i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok();
            out.scalar(parsed.map_or(ExprKind::Other, |n| ExprKind::Number { value: n as f64, integer: true }), sp);
        }
        DeValue::Float(f) => {
            let parsed = f.as_str().replace('_', "").parse::<f64>().ok();
            out.scalar(parsed.map_or(ExprKind::Other, |n| ExprKind::Number { value: n, integer: false }), sp);
        }
        DeValue::Boolean(b) => out.scalar(ExprKind::Bool(*b), sp),
        DeValue::Datetime(_) => out.scalar(ExprKind::Other, sp),
        DeValue::Array(items) => {
            out.start_list(sp.start);
            for item in items {
                value(out, item.get_ref(), item.span());
            }
            out.end(sp.end);
        }
        DeValue::Table(t) => {
            out.start_map(sp.start);
            table_entries(out, t);
            out.end(sp.end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tables() {
        let text = "[kling]\nmodel_name = \"kling-v1\"\nduration = 5\n";
        let facts = lower(text).unwrap();
        let m = facts.maps.iter().find(|m| m.get("model_name").is_some()).unwrap();
        let d = m.get("duration").unwrap();
        assert_eq!(&text[d.key_span.range()], "duration");
        assert!(lower("a = ").is_err());
    }
}
