//! Suppression comments: `# kling-preflight: ignore[KL101]` (or `//`) on the line of a
//! finding or the line above, `ignore-file[...]` anywhere in the file, and a bare
//! `ignore` for every rule. Suppressions that suppress nothing are reported (KL000).

use crate::facts::Span;
use crate::source::SourceFile;

const MARKER: &str = "kling-preflight:";

/// One suppression comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Suppression {
    /// The comment text from the marker on.
    pub(crate) span: Span,
    /// 0-based line of the comment.
    pub(crate) line: usize,
    /// Whole file rather than one line.
    pub(crate) file_wide: bool,
    /// Rule ids; empty means every rule.
    pub(crate) rules: Vec<String>,
    /// Which of `rules` (or, if empty, whether any rule) suppressed something.
    pub(crate) used: Vec<bool>,
}

impl Suppression {
    /// Whether this suppression covers a finding of `rule` on 0-based `line`.
    pub(crate) fn covers(&mut self, rule: &str, line: usize) -> bool {
        let on_line = self.file_wide || line == self.line || line == self.line + 1;
        if !on_line {
            return false;
        }
        if self.rules.is_empty() {
            if self.used.is_empty() {
                self.used.push(true);
            }
            return true;
        }
        match self.rules.iter().position(|r| r.eq_ignore_ascii_case(rule)) {
            Some(i) => {
                self.used[i] = true;
                true
            }
            None => false,
        }
    }
}

/// Find the suppression comments of a file.
pub(crate) fn parse(file: &SourceFile) -> Vec<Suppression> {
    let text = &*file.text;
    let mut out = Vec::new();
    for at in memchr::memmem::find_iter(text.as_bytes(), MARKER.as_bytes()) {
        let line = file.line_index(at as u32);
        let line_start = file.line_start(line) as usize;
        let before = &text[line_start..at];
        // Only inside a comment: the text before the marker opens one.
        let in_comment =
            before.contains('#') || before.contains("//") || before.contains("/*") || before.contains("<!--");
        if !in_comment {
            continue;
        }
        let rest = &text[at + MARKER.len()..];
        let rest_line = rest.split('\n').next().unwrap_or("");
        let directive = rest_line.trim_start();
        let (file_wide, after) = if let Some(a) = directive.strip_prefix("ignore-file") {
            (true, a)
        } else if let Some(a) = directive.strip_prefix("ignore") {
            (false, a)
        } else {
            continue;
        };
        let rules: Vec<String> = match after.strip_prefix('[') {
            Some(list) => list
                .split(']')
                .next()
                .unwrap_or("")
                .split(',')
                .map(|r| r.trim().to_ascii_uppercase())
                .filter(|r| !r.is_empty())
                .collect(),
            None => Vec::new(),
        };
        let used = vec![false; rules.len()];
        let consumed = rest_line.len() - after.len() + after.find(']').map_or(0, |i| i + 1);
        let end = (at + MARKER.len() + consumed).min(text.len());
        out.push(Suppression { span: Span::new(at, end), line, file_wide, rules, used });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;

    #[test]
    fn parses_line_and_file_suppressions() {
        let text = "x = {'duration': 5}  # kling-preflight: ignore[KL101, kl104]\n# kling-preflight: ignore-file[KL301]\ns = 'kling-preflight: ignore'\n";
        let f = SourceFile::new("a.py".into(), Lang::Python, text.into());
        let mut s = parse(&f);
        assert_eq!(s.len(), 2, "the one in a string is not a comment");
        assert_eq!(s[0].rules, vec!["KL101", "KL104"]);
        assert!(s[0].covers("KL101", 0));
        assert!(!s[0].covers("KL301", 0));
        assert!(s[1].file_wide);
        assert!(s[1].covers("KL301", 40));
    }
}
