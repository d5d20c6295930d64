//! A source file held in memory, with the line index that turns byte offsets into
//! 1-based lines and character columns.

use std::path::PathBuf;
use std::sync::Arc;

use crate::facts::Span;
use crate::lang::Lang;

/// A file's text and what is needed to point into it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as it will be reported (relative to the working directory when under it).
    pub path: PathBuf,
    /// The language.
    pub lang: Lang,
    /// The text (valid UTF-8; files that are not are reported and skipped).
    pub text: Arc<str>,
    line_starts: Vec<u32>,
}

/// A 1-based position.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord, Hash)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl SourceFile {
    /// Wrap a file's text.
    pub fn new(path: PathBuf, lang: Lang, text: Arc<str>) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i as u32 + 1));
        SourceFile { path, lang, text, line_starts }
    }

    /// The 0-based line index holding byte `offset`.
    pub fn line_index(&self, offset: u32) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// The 1-based position of byte `offset`.
    pub fn position(&self, offset: u32) -> Position {
        // Clamp into the text and back to a character boundary: spans from a lossily
        // decoded file can point inside a replacement character.
        let mut offset = offset.min(self.text.len() as u32);
        while !self.text.is_char_boundary(offset as usize) {
            offset -= 1;
        }
        let line = self.line_index(offset);
        let start = self.line_starts[line] as usize;
        let column = self.text[start..offset as usize].chars().count() as u32 + 1;
        Position { line: line as u32 + 1, column }
    }

    /// The byte range of 0-based line `index`, without its line break.
    pub fn line_span(&self, index: usize) -> Span {
        let start = self.line_starts[index] as usize;
        let end = self.line_starts.get(index + 1).map_or(self.text.len(), |&e| e as usize);
        let text = &self.text[start..end];
        let trimmed = text.trim_end_matches(['\n', '\r']);
        Span::new(start, start + trimmed.len())
    }

    /// The number of lines.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The text of a span.
    pub fn slice(&self, span: Span) -> &str {
        &self.text[span.range()]
    }

    /// The byte offset where 0-based line `index` starts.
    pub fn line_start(&self, index: usize) -> u32 {
        self.line_starts[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters() {
        let f = SourceFile::new("x.py".into(), Lang::Python, "ab\néé = 1\n".into());
        assert_eq!(f.position(0), Position { line: 1, column: 1 });
        assert_eq!(f.position(3), Position { line: 2, column: 1 });
        // "éé" is four bytes, two characters.
        assert_eq!(f.position(7), Position { line: 2, column: 3 });
        assert_eq!(f.slice(f.line_span(1)), "éé = 1");
    }
}
