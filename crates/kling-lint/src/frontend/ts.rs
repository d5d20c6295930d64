//! Tree-sitter plumbing shared by the Python, JavaScript/TypeScript and Go frontends:
//! one reusable parser per thread and language, parsing of selected ranges, and a
//! precise first syntax error for KL001.

use std::cell::RefCell;
use std::collections::HashMap;

use smallvec::SmallVec;
use tree_sitter::{Language, Node, Parser, Range, Tree};

use crate::facts::Span;
use crate::lang::Lang;

thread_local! {
    // Parsers are cheap to reuse and relatively costly to create; scans run on a
    // fixed pool of walker threads, so one per thread and language is plenty.
    static PARSERS: RefCell<HashMap<Lang, Parser>> = RefCell::new(HashMap::new());
    // Field ids by language and field name. Tree-sitter finds a field id by comparing
    // the name with every field name of the grammar, and lowering asks for fields
    // on nearly every node; the names are string literals, so their address is key.
    static FIELD_IDS: RefCell<foldhash::HashMap<(Lang, usize), Option<u16>>> = RefCell::new(foldhash::HashMap::default());
}

/// The child of `node` in field `name`, for a node of `lang`'s grammar.
pub(crate) fn field<'t>(node: Node<'t>, lang: Lang, name: &'static str) -> Option<Node<'t>> {
    let id = FIELD_IDS.with(|cell| {
        *cell
            .borrow_mut()
            .entry((lang, name.as_ptr() as usize))
            .or_insert_with(|| language(lang).field_id_for_name(name).map(u16::from))
    })?;
    node.child_by_field_id(id)
}

fn language(lang: Lang) -> Language {
    match lang {
        Lang::Python => tree_sitter_python::LANGUAGE.into(),
        Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
        Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        Lang::Go => tree_sitter_go::LANGUAGE.into(),
        other => unreachable!("{other:?} is not parsed with tree-sitter"),
    }
}

/// Parse `text`, restricted to `ranges` when given (sorted, disjoint byte ranges).
pub(crate) fn parse(lang: Lang, text: &str, ranges: Option<&[std::ops::Range<usize>]>) -> Option<Tree> {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let parser = parsers.entry(lang).or_insert_with(|| {
            let mut p = Parser::new();
            p.set_language(&language(lang)).expect("bundled grammars match the tree-sitter version");
            p
        });
        let included: Vec<Range> = match ranges {
            Some(rs) => rs.iter().map(|r| to_ts_range(text, r.clone())).collect(),
            None => Vec::new(),
        };
        // An empty list means "the whole file" to tree-sitter.
        parser.set_included_ranges(&included).ok()?;
        parser.parse(text, None)
    })
}

fn to_ts_range(text: &str, r: std::ops::Range<usize>) -> Range {
    Range { start_byte: r.start, end_byte: r.end, start_point: point(text, r.start), end_point: point(text, r.end) }
}

fn point(text: &str, offset: usize) -> tree_sitter::Point {
    let before = &text.as_bytes()[..offset];
    let row = memchr::memchr_iter(b'\n', before).count();
    let col = offset - memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    tree_sitter::Point { row, column: col }
}

/// The first syntax error in the tree, with a short description.
pub(crate) fn first_error(tree: &Tree, text: &str) -> Option<(Span, String)> {
    let root = tree.root_node();
    if !root.has_error() {
        return None;
    }
    let mut cursor = root.walk();
    let mut node = root;
    // Descend towards the first error: at each level, take the first child that is,
    // or contains, an error.
    'outer: loop {
        if node.is_error() || node.is_missing() {
            break;
        }
        for child in node.children(&mut cursor) {
            if child.is_error() || child.is_missing() || child.has_error() {
                node = child;
                continue 'outer;
            }
        }
        break;
    }
    let mut span = Span::new(node.start_byte(), node.end_byte().max(node.start_byte()));
    // A delimiter missing at the very end (an unclosed `{`) sits after the final line
    // break, on a line no editor shows; point at the end of the last code instead.
    let code_end = text.trim_end().len();
    if node.is_missing() && node.start_byte() >= code_end {
        span = Span::new(code_end, code_end);
    }
    let msg = if node.is_missing() {
        format!("expected `{}`", node.kind())
    } else {
        let snippet: String = text[node.start_byte()..node.end_byte()].chars().take(24).collect();
        let snippet = snippet.lines().next().unwrap_or("").trim();
        if snippet.is_empty() { "unexpected end of input".to_owned() } else { format!("unexpected `{snippet}`") }
    };
    Some((span, msg))
}

/// The span of a node.
pub(crate) fn span(node: Node<'_>) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

/// The text of a node.
pub(crate) fn text<'a>(node: Node<'_>, src: &'a str) -> &'a str {
    &src[node.start_byte()..node.end_byte()]
}

/// A few nodes, inline.
pub(crate) type Nodes<'t> = SmallVec<[Node<'t>; 8]>;

/// The named children of a node, comments left out, collected (tree-sitter's iterator
/// borrows a cursor). Lowering asks this of nearly every node, so the common case of
/// a few children stays off the heap.
pub(crate) fn named_children(node: Node<'_>) -> Nodes<'_> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).filter(|c| !c.is_extra()).collect()
}

/// The children of a node for field `field`.
pub(crate) fn field_children<'t>(node: Node<'t>, field: &str) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.children_by_field_name(field, &mut cursor).collect()
}

/// The header of a compound statement: from its start to the start of its body,
/// without the whitespace before the body.
pub(crate) fn header_span(node: Node<'_>, body: Option<Node<'_>>, src: &str) -> Span {
    let start = node.start_byte();
    let end = body.map_or(node.end_byte(), |b| b.start_byte()).max(start);
    let trimmed = src[start..end].trim_end().len();
    Span::new(start, start + trimmed.max(1).min(end - start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delimiter_missing_at_the_end_points_at_the_last_code() {
        // Regression: the error sat after the final line break, on a line no editor
        // shows, and the text output rendered it as 1:1 with an empty frame.
        let text = "package k\n\nfunc f() {\n\tx := 1\n\n";
        let tree = parse(Lang::Go, text, None).expect("parses");
        let (span, message) = first_error(&tree, text).expect("an error");
        assert_eq!(message, "expected `}`");
        assert_eq!(span, Span::new(text.trim_end().len(), text.trim_end().len()));
    }
}
