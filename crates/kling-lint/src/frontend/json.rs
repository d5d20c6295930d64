//! A span-aware JSON reader. It accepts the comments and trailing commas of JSONC
//! (tsconfig-style files), since a config gate should not fail on those.

use super::ParseError;
use super::config::ConfigBuilder;
use crate::facts::{ExprKind, Facts, Span};

pub(crate) fn lower(text: &str) -> Result<Facts, ParseError> {
    let mut r = Reader { s: text.as_bytes(), text, i: 0, out: ConfigBuilder::new() };
    r.document()?;
    Ok(r.out.finish())
}

struct Reader<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    out: ConfigBuilder,
}

impl Reader<'_> {
    fn err(&self, at: usize, message: impl Into<String>) -> ParseError {
        let end = (at + 1).min(self.s.len()).max(at);
        ParseError { span: Span::new(at, end), message: message.into() }
    }

    fn skip_ws(&mut self) -> Result<(), ParseError> {
        loop {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
            if self.s[self.i..].starts_with(b"//") {
                self.i = memchr::memchr(b'\n', &self.s[self.i..]).map_or(self.s.len(), |n| self.i + n);
            } else if self.s[self.i..].starts_with(b"/*") {
                let at = self.i;
                match memchr::memmem::find(&self.s[self.i + 2..], b"*/") {
                    Some(n) => self.i += n + 4,
                    None => return Err(self.err(at, "unterminated comment")),
                }
            } else {
                return Ok(());
            }
        }
    }

    /// An explicit state machine, not recursion: nesting depth costs heap, not stack.
    fn document(&mut self) -> Result<(), ParseError> {
        // For each open container: is it an object?
        let mut open: Vec<bool> = Vec::new();
        // Whether a value (or a key, in an object) must come next.
        let mut need_value = true;
        self.skip_ws()?;
        if self.i >= self.s.len() {
            return Ok(());
        }
        loop {
            self.skip_ws()?;
            if self.i >= self.s.len() {
                return match open.last() {
                    Some(_) => Err(self.err(self.i.saturating_sub(1), "unexpected end of input")),
                    None => Ok(()),
                };
            }
            let c = self.s[self.i];
            if open.is_empty() && !need_value {
                return Err(self.err(self.i, format!("unexpected `{}` after the document", c as char)));
            }
            match c {
                b'}' | b']' => {
                    let want = if c == b'}' { Some(&true) } else { Some(&false) };
                    if open.last() != want {
                        return Err(self.err(self.i, format!("unexpected `{}`", c as char)));
                    }
                    open.pop();
                    self.i += 1;
                    self.out.end(self.i as u32);
                    need_value = false;
                    self.after_value(&open)?;
                    if !open.is_empty() && self.s.get(self.i) == Some(&b',') {
                        self.i += 1;
                        need_value = true;
                    }
                    continue;
                }
                _ if !need_value => return Err(self.err(self.i, "expected `,` or a closing bracket")),
                _ => {}
            }
            if open.last() == Some(&true) && self.out.expects_key() {
                if c != b'"' {
                    return Err(self.err(self.i, "expected a string key"));
                }
                let start = self.i;
                let key = self.string()?;
                let key_span = Span::new(start, self.i);
                self.skip_ws()?;
                if self.s.get(self.i) != Some(&b':') {
                    return Err(self.err(self.i, "expected `:` after the key"));
                }
                self.i += 1;
                self.out.key(&key, key_span);
                continue;
            }
            let start = self.i;
            match c {
                b'{' => {
                    self.i += 1;
                    open.push(true);
                    self.out.start_map(start as u32);
                    continue;
                }
                b'[' => {
                    self.i += 1;
                    open.push(false);
                    self.out.start_list(start as u32);
                    continue;
                }
                b'"' => {
                    let v = self.string()?;
                    self.out.scalar(ExprKind::Str(v.into()), Span::new(start, self.i));
                }
                b't' | b'f' | b'n' => {
                    let word = self.s[self.i..].iter().take_while(|b| b.is_ascii_alphabetic()).count();
                    let kind = match &self.text[self.i..self.i + word] {
                        "true" => ExprKind::Bool(true),
                        "false" => ExprKind::Bool(false),
                        "null" => ExprKind::Null,
                        other => return Err(self.err(start, format!("unexpected `{other}`"))),
                    };
                    self.i += word;
                    self.out.scalar(kind, Span::new(start, self.i));
                }
                b'-' | b'0'..=b'9' => {
                    let len = self.s[self.i..]
                        .iter()
                        .take_while(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
                        .count();
                    let t = &self.text[self.i..self.i + len];
                    let value: f64 = t.parse().map_err(|_| self.err(start, format!("invalid number `{t}`")))?;
                    self.i += len;
                    let integer = !t.contains(['.', 'e', 'E']);
                    self.out.scalar(ExprKind::Number { value, integer }, Span::new(start, self.i));
                }
                other => return Err(self.err(start, format!("unexpected `{}`", other as char))),
            }
            need_value = false;
            self.after_value(&open)?;
            if !open.is_empty() && self.s.get(self.i) == Some(&b',') {
                self.i += 1;
                need_value = true;
            }
        }
    }

    fn after_value(&mut self, open: &[bool]) -> Result<(), ParseError> {
        if open.is_empty() {
            return Ok(());
        }
        self.skip_ws()
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(n) = memchr::memchr3(b'"', b'\\', b'\n', &self.s[self.i..]) else {
                return Err(self.err(start, "unterminated string"));
            };
            out.push_str(&self.text[self.i..self.i + n]);
            self.i += n;
            match self.s[self.i] {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\n' => return Err(self.err(start, "unterminated string")),
                _ => {
                    let esc = *self.s.get(self.i + 1).ok_or_else(|| self.err(start, "unterminated string"))?;
                    self.i += 2;
                    match esc {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'u' => {
                            let hex =
                                self.text.get(self.i..self.i + 4).ok_or_else(|| self.err(self.i, "bad \\u escape"))?;
                            let code = u32::from_str_radix(hex, 16).map_err(|_| self.err(self.i, "bad \\u escape"))?;
                            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                            self.i += 4;
                        }
                        other => out.push(other as char),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_objects_with_spans() {
        let text = r#"{"model_name": "kling-v1", "duration": 5, "camera_control": {"type": "simple"}, "x": [1, 2,],}"#;
        let facts = lower(text).unwrap();
        let outer = facts.maps.iter().find(|m| m.get("model_name").is_some()).unwrap();
        let d = outer.get("duration").unwrap();
        assert_eq!(&text[d.key_span.range()], "\"duration\"");
        assert!(matches!(facts.expr(d.value).kind, ExprKind::Number { value: 5.0, integer: true }));
        assert_eq!(facts.maps.len(), 2);
    }

    #[test]
    fn reports_errors_with_location() {
        assert!(lower("{\"a\": [{\"b\": 1}, {\"c\": [2, 3]}], \"d\": {}}").is_ok());
        let e = lower("{\"a\": 1,, }").unwrap_err();
        assert_eq!(e.span.start, 8);
        assert!(lower("{\"a\": [1, 2}").is_err());
        assert!(lower("[1] [2]").is_err());
        assert!(lower("// comment\n{}").is_ok());
    }

    #[test]
    fn deep_nesting_is_fine() {
        let text = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(lower(&text).is_ok());
    }
}
