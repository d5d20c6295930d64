//! `.env` files: `KEY=value` lines (optionally `export`ed, quoted, commented) become
//! module-level assignments.

use super::builder::Builder;
use crate::facts::{DeclKind, Facts, Span};

pub(crate) fn lower(text: &str) -> Facts {
    let mut b = Builder::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let lead = content.len() - content.trim_start().len();
        let mut rest = &content[lead..];
        let mut at = start + lead;
        if rest.starts_with('#') || rest.is_empty() {
            continue;
        }
        if let Some(r) = rest.strip_prefix("export ") {
            at += rest.len() - r.len();
            rest = r;
        }
        let Some(eq) = rest.find('=') else { continue };
        let key = rest[..eq].trim();
        if key.is_empty() || !key.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.') {
            continue;
        }
        let raw_value = &rest[eq + 1..];
        let value_lead = raw_value.len() - raw_value.trim_start().len();
        let value_start = at + eq + 1 + value_lead;
        let v = raw_value.trim();
        let (value, len) = if let Some(q @ (b'"' | b'\'')) = v.as_bytes().first() {
            let end = v[1..].find(*q as char).map_or(v.len(), |i| i + 2);
            (v[1..end.saturating_sub(1).max(1)].to_owned(), end)
        } else {
            // An unquoted value ends at ` #` (an inline comment).
            let cut = v.find(" #").unwrap_or(v.len());
            (v[..cut].trim_end().to_owned(), cut)
        };
        let key_span = Span::new(at, at + key.len());
        let name = b.name(key, key_span);
        let value_id = b.str_lit(&value, Span::new(value_start, value_start + len));
        b.assign(name, Some(value_id), Span::new(at, start + content.len()), DeclKind::Assign);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::ExprKind;

    #[test]
    fn reads_assignments() {
        let text = "# c\nexport KLING_SECRET_KEY=\"abc def\"\nKLING_ACCESS_KEY=ak # note\nBAD LINE\n";
        let facts = lower(text);
        assert_eq!(facts.assigns.len(), 2);
        let a = &facts.assigns[0];
        assert_eq!(facts.name_of(a.target), Some("KLING_SECRET_KEY"));
        assert!(matches!(&facts.expr(a.value.unwrap()).kind, ExprKind::Str(s) if &**s == "abc def"));
        let v = facts.expr(facts.assigns[1].value.unwrap());
        assert_eq!(&text[v.span.range()], "ak");
    }
}
