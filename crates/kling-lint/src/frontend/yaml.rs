//! A span-aware YAML reader over saphyr-parser's event stream. Every document of a
//! multi-document file is read; plain scalars are typed as YAML 1.2's core schema does
//! (so `duration: 5` is a number and `duration: "5"` a string).

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::ParseError;
use super::config::ConfigBuilder;
use crate::facts::{ExprKind, Facts, Span};

pub(crate) fn lower(text: &str) -> Result<Facts, ParseError> {
    // saphyr reports character offsets; map them to bytes once for non-ASCII files.
    let char_to_byte: Option<Vec<u32>> =
        (!text.is_ascii()).then(|| text.char_indices().map(|(b, _)| b as u32).chain([text.len() as u32]).collect());
    let byte = |chars: usize| -> u32 {
        match &char_to_byte {
            Some(map) => map.get(chars).copied().unwrap_or(text.len() as u32),
            None => chars.min(text.len()) as u32,
        }
    };
    let mut out = ConfigBuilder::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let at = byte(e.marker().index()) as usize;
            ParseError { span: Span::new(at, (at + 1).min(text.len()).max(at)), message: e.info().to_owned() }
        })?;
        let (start, end) = (byte(span.start.index()), byte(span.end.index()));
        match event {
            Event::MappingStart(..) => out.start_map(start),
            Event::SequenceStart(..) => out.start_list(start),
            Event::MappingEnd | Event::SequenceEnd => out.end(end),
            Event::DocumentEnd => out.close_all(end),
            Event::Scalar(value, style, _, _) => {
                let sp = Span { start, end: end.max(start) };
                if out.expects_key() {
                    out.key(&value, sp);
                } else {
                    out.scalar(scalar_kind(&value, style), sp);
                }
            }
            Event::Alias(_) => {
                let sp = Span { start, end: end.max(start) };
                if out.expects_key() {
                    out.key("<<alias>>", sp);
                } else {
                    out.scalar(ExprKind::Other, sp);
                }
            }
            _ => {}
        }
    }
    out.close_all(text.len() as u32);
    Ok(out.finish())
}

fn scalar_kind(value: &str, style: ScalarStyle) -> ExprKind {
    if style != ScalarStyle::Plain {
        return ExprKind::Str(value.into());
    }
    match value {
        "true" | "True" | "TRUE" => return ExprKind::Bool(true),
        "false" | "False" | "FALSE" => return ExprKind::Bool(false),
        "null" | "Null" | "NULL" | "~" | "" => return ExprKind::Null,
        _ => {}
    }
    let numeric = value.bytes().next().is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.'));
    if numeric && let Ok(v) = value.parse::<f64>() {
        let integer = !value.contains(['.', 'e', 'E']);
        return ExprKind::Number { value: v, integer };
    }
    ExprKind::Str(value.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mappings_with_spans_and_types() {
        let text = "# préset\nkling:\n  model_name: kling-v1\n  duration: 5\n  mode: \"pro\"\n---\nother: [1, 2]\n";
        let facts = lower(text).unwrap();
        let m = facts.maps.iter().find(|m| m.get("model_name").is_some()).unwrap();
        let d = m.get("duration").unwrap();
        assert_eq!(&text[d.key_span.range()], "duration");
        assert!(matches!(facts.expr(d.value).kind, ExprKind::Number { .. }));
        assert!(matches!(facts.expr(m.get("mode").unwrap().value).kind, ExprKind::Str(_)));
        assert!(facts.maps.iter().any(|m| m.get("other").is_some()));
    }

    #[test]
    fn errors_have_locations() {
        let e = lower("a: [1, 2\nb: c\n").unwrap_err();
        assert!(e.span.start > 0);
    }
}
