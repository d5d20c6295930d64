//! Top-level item selection, so that only the Kling-relevant part of a large file is
//! parsed.
//!
//! Tree-sitter parses about 4 MB/s per core here, so in a Kling client of a few hundred
//! lines most of the time would go to the ordinary code around the Kling calls. A
//! light lexer splits the file into top-level items (a `def`, a `class`, a `const`, a
//! `func`...) at lines that start in column 0 outside any string, comment or bracket.
//! An item is kept when it holds a Kling marker or a credential word (see
//! `prefilter::RELEVANCE`), defines a name a kept item uses (transitively), or uses a
//! name defined by a marker item; imports are always kept. Tree-sitter then parses
//! just those byte ranges. What is left out is code with no tie to Kling: no marker,
//! no token or credential, no call into Kling code.
//!
//! The selection only ever over-approximates a construct's extent: a mis-lexed
//! bracket or string merges items, it never splits one. And the caller re-parses the
//! whole file whenever the partial tree has an error, so a wrong split costs time,
//! never a wrong finding.

// A fast hasher: selection hashes every identifier of every Kling file.
use foldhash::{HashMap, HashMapExt as _, HashSet};

use super::Extent;
use crate::lang::Lang;
use crate::source::SourceFile;

/// Files smaller than this are parsed whole: the saving would not pay for the split.
pub const DEFAULT_MIN_BYTES: usize = 2 * 1024;

/// When the selection keeps nearly all of the file, parse it whole: the split would
/// save nothing.
const MAX_SHARE: f64 = 0.9;

#[derive(Debug)]
struct Item<'a> {
    start: usize,
    end: usize,
    import: bool,
    defines: Vec<&'a str>,
}

/// Which part of `file` to parse, given the byte offsets of its Kling markers.
pub fn select(file: &SourceFile, markers: &[usize], min_bytes: usize) -> Extent {
    let text = &*file.text;
    if text.len() < min_bytes || !matches!(file.lang, Lang::Python | Lang::JavaScript | Lang::TypeScript | Lang::Go) {
        return Extent::Whole;
    }
    let Some(items) = split(text, file.lang) else { return Extent::Whole };
    if items.len() < 2 {
        return Extent::Whole;
    }
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        for d in &it.defines {
            by_name.entry(d).or_default().push(i);
        }
    }
    let item_at = |offset: usize| items.partition_point(|it| it.end <= offset).min(items.len() - 1);
    let mut keep = vec![false; items.len()];
    let mut marked = vec![false; items.len()];
    for &m in markers {
        let i = item_at(m);
        keep[i] = true;
        marked[i] = true;
    }
    for (i, it) in items.iter().enumerate() {
        keep[i] |= it.import;
    }
    // Items that use what a marker item defines (a `main` calling the Kling client).
    let marked_names: HashSet<&str> =
        items.iter().enumerate().filter(|(i, _)| marked[*i]).flat_map(|(_, it)| it.defines.iter().copied()).collect();
    if !marked_names.is_empty() {
        for (i, it) in items.iter().enumerate() {
            if !keep[i] && identifiers(&text[it.start..it.end]).any(|id| marked_names.contains(id)) {
                keep[i] = true;
            }
        }
    }
    // Definitions used by kept items, to a fixed point.
    let mut work: Vec<usize> = (0..items.len()).filter(|i| keep[*i]).collect();
    close_over_definitions(text, &items, &by_name, &mut keep, &mut work);
    // Top-level statements that configure an object the kept code uses change how it
    // behaves (`axios.defaults.timeout = 30_000`, `axiosRetry(client, {...})`,
    // `SESSION.mount("https://", adapter)`): they are kept too, with what they use.
    let used: std::collections::HashSet<&str> =
        items.iter().zip(&keep).filter(|(_, k)| **k).flat_map(|(it, _)| identifiers(&text[it.start..it.end])).collect();
    for (i, it) in items.iter().enumerate() {
        if !keep[i] && configured_object(&text[it.start..it.end]).is_some_and(|obj| used.contains(obj)) {
            keep[i] = true;
            work.push(i);
        }
    }
    close_over_definitions(text, &items, &by_name, &mut keep, &mut work);
    let kept: usize = items.iter().zip(&keep).filter(|(_, k)| **k).map(|(it, _)| it.end - it.start).sum();
    if kept as f64 > MAX_SHARE * text.len() as f64 {
        return Extent::Whole;
    }
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for (it, k) in items.iter().zip(&keep) {
        if !k {
            continue;
        }
        match ranges.last_mut() {
            Some(last) if last.end == it.start => last.end = it.end,
            _ => ranges.push(it.start..it.end),
        }
    }
    if ranges.is_empty() { Extent::Whole } else { Extent::Items(ranges) }
}

/// Keep the definitions that the items in `work` use, and theirs, to a fixed point.
fn close_over_definitions(
    text: &str,
    items: &[Item<'_>],
    by_name: &HashMap<&str, Vec<usize>>,
    keep: &mut [bool],
    work: &mut Vec<usize>,
) {
    while let Some(i) = work.pop() {
        let it = &items[i];
        for id in identifiers(&text[it.start..it.end]) {
            if let Some(defs) = by_name.get(id) {
                for &j in defs {
                    if !keep[j] {
                        keep[j] = true;
                        work.push(j);
                    }
                }
            }
        }
    }
}

/// The object a top-level statement calls or configures: `axios` in
/// `axios.defaults.timeout = ...`, `axiosRetry` in `axiosRetry(client, ...)`. `None`
/// for declarations and anything else that does not start `name.` or `name(`.
fn configured_object(item: &str) -> Option<&str> {
    let name = identifiers(item).next()?;
    let rest = item.strip_prefix(name)?;
    rest.starts_with(['.', '(']).then_some(name)
}

/// Identifier-like words in `text` (strings included: an f-string or template hole
/// names a variable too).
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_alphabetic() || b == b'_' || b == b'$' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$') {
                    i += 1;
                }
                return Some(&text[start..i]);
            }
            if b.is_ascii_digit() {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                continue;
            }
            i += 1;
        }
        None
    })
}

/// Lexer state carried from line to line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Open {
    None,
    /// A Python triple-quoted string with this quote byte.
    Triple(u8),
    /// A JavaScript template literal; the value is the `${` nesting depth inside it.
    Template,
    /// A block comment.
    Comment,
    /// A Go raw string.
    Raw,
}

/// Split `text` into top-level items; `None` if the lexer loses its footing.
fn split(text: &str, lang: Lang) -> Option<Vec<Item<'_>>> {
    let mut items: Vec<Item<'_>> = Vec::new();
    let mut depth: i32 = 0;
    let mut open = Open::None;
    // Template literal nesting: the bracket depth at which each `${` was opened.
    let mut template_holes: Vec<i32> = Vec::new();
    let mut continued = false;
    let mut decorator_only = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let at_top = open == Open::None && depth == 0 && !continued;
        let first = line.as_bytes().first().copied().unwrap_or(b'\n');
        let starts_code = !matches!(first, b' ' | b'\t' | b'\n' | b'\r');
        if at_top && starts_code && begins_item(line, lang) && !(decorator_only && !is_decorator(line)) {
            items.push(Item { start, end: start, import: is_import(line, lang), defines: Vec::new() });
            decorator_only = is_decorator(line);
        } else if at_top && starts_code && decorator_only && !is_decorator(line) {
            decorator_only = false;
        }
        if let Some(cur) = items.last_mut() {
            cur.end = offset;
            if at_top && starts_code {
                defined_names(line, lang, &mut cur.defines);
            }
        } else if starts_code {
            // Text before the first item (a license header) is an item of its own.
            items.push(Item { start, end: offset, import: false, defines: Vec::new() });
        }
        // Names declared inside `var (...)`/`const (...)` blocks in Go.
        if lang == Lang::Go
            && depth == 1
            && open == Open::None
            && let Some(cur) = items.last_mut()
        {
            let t = line.trim_start();
            let in_block = text[cur.start..].starts_with("var (") || text[cur.start..].starts_with("const (");
            if in_block && let Some(id) = identifiers(t).next() {
                cur.defines.push(id);
            }
        }
        continued = lex_line(line, lang, &mut depth, &mut open, &mut template_holes);
        depth = depth.max(0);
    }
    if open != Open::None {
        return None;
    }
    if let Some(first) = items.first_mut() {
        first.start = 0;
    }
    Some(items)
}

fn begins_item(line: &str, lang: Lang) -> bool {
    let t = line.trim_end();
    let word = t.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("");
    match lang {
        Lang::Python => !t.starts_with('#') && !matches!(word, "else" | "elif" | "except" | "finally" | "case"),
        Lang::Go => !t.starts_with("//") && !t.starts_with(['}', ')', ']']),
        _ => {
            !t.starts_with("//")
                && !t.starts_with("/*")
                && !t.starts_with([
                    '}', ')', ']', '.', '?', ':', ',', '+', '-', '*', '&', '|', '>', '<', '=', '`', '(', '[',
                ])
                && !matches!(word, "else" | "catch" | "finally")
        }
    }
}

fn is_decorator(line: &str) -> bool {
    line.starts_with('@')
}

fn is_import(line: &str, lang: Lang) -> bool {
    match lang {
        Lang::Python => line.starts_with("import ") || line.starts_with("from "),
        Lang::Go => line.starts_with("import") || line.starts_with("package "),
        _ => line.starts_with("import ") || (line.contains("require(") && !line.contains("function")),
    }
}

/// Names a top-level line defines: `def f`, `class K`, `NAME =`, `const x`,
/// `function f`, `func (r *T) m(`, `type T`, `var x`.
fn defined_names<'a>(line: &'a str, lang: Lang, out: &mut Vec<&'a str>) {
    let words: Vec<&str> = identifiers(line).take(6).collect();
    let skip = |ws: &[&'a str], kw: &[&str]| -> Option<&'a str> {
        let mut i = 0;
        while i < ws.len() && kw.contains(&ws[i]) {
            i += 1;
        }
        ws.get(i).copied()
    };
    match lang {
        Lang::Python => {
            if let Some(n) = skip(&words, &["async", "def", "class"])
                .filter(|_| matches!(words.first(), Some(&"def" | &"class" | &"async")))
            {
                out.push(n);
            } else if let Some(eq) = line.find('=') {
                // `A = ...`, `A: int = ...`, `A, B = ...` (not `==`)
                if !line[eq..].starts_with("==") {
                    out.extend(identifiers(line[..eq].split(':').next().unwrap_or("")));
                }
            }
        }
        Lang::Go => match words.first() {
            Some(&"func") => {
                // A method's receiver comes first: `func (c *Client) name(`.
                let after = line.trim_start_matches("func").trim_start();
                let after = if after.starts_with('(') { after.split_once(')').map_or("", |(_, r)| r) } else { after };
                if let Some(n) = identifiers(after).next() {
                    out.push(n);
                }
            }
            Some(&"type" | &"var" | &"const") => {
                if let Some(n) = words.get(1) {
                    out.push(n);
                }
            }
            _ => {}
        },
        _ => {
            let kw = [
                "export",
                "default",
                "async",
                "function",
                "class",
                "const",
                "let",
                "var",
                "declare",
                "abstract",
                "interface",
                "type",
                "enum",
            ];
            if words.first().is_some_and(|w| kw.contains(w)) {
                if line.contains('{')
                    && (line.trim_start_matches("export ").starts_with("const {")
                        || line.trim_start_matches("export ").starts_with("let {"))
                {
                    let inner = line.split('{').nth(1).unwrap_or("").split('}').next().unwrap_or("");
                    out.extend(identifiers(inner));
                } else if let Some(n) = skip(&words, &kw) {
                    out.push(n);
                }
            } else if let Some(eq) = line.find('=') {
                // `module.exports.x = ...`, `exports.x = ...`
                out.extend(identifiers(&line[..eq]).last());
            }
        }
    }
}

/// Advance the lexer over one line; returns whether the line continues onto the next
/// (a trailing backslash in Python).
fn lex_line(line: &str, lang: Lang, depth: &mut i32, open: &mut Open, holes: &mut Vec<i32>) -> bool {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match *open {
            Open::Triple(q) => {
                if b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i..].starts_with(&[q, q, q]) {
                    *open = Open::None;
                    i += 3;
                    continue;
                }
                i += 1;
                continue;
            }
            Open::Comment => {
                if b[i..].starts_with(b"*/") {
                    *open = Open::None;
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            Open::Raw => {
                if b[i] == b'`' {
                    *open = Open::None;
                }
                i += 1;
                continue;
            }
            Open::Template => {
                match b[i] {
                    b'\\' => i += 1,
                    b'`' => *open = Open::None,
                    b'$' if b.get(i + 1) == Some(&b'{') => {
                        holes.push(*depth);
                        *depth += 1;
                        *open = Open::None;
                        i += 1;
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            Open::None => {}
        }
        let c = b[i];
        match c {
            b'#' if lang == Lang::Python => return false,
            b'/' if lang != Lang::Python && b.get(i + 1) == Some(&b'/') => return false,
            b'/' if lang != Lang::Python && b.get(i + 1) == Some(&b'*') => {
                *open = Open::Comment;
                i += 2;
                continue;
            }
            b'\'' | b'"' => {
                if lang == Lang::Python && b[i..].starts_with(&[c, c, c]) {
                    *open = Open::Triple(c);
                    i += 3;
                    continue;
                }
                // A one-line string: to its closing quote or the end of the line.
                i += 1;
                while i < b.len() && b[i] != c && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'`' if lang == Lang::Go => *open = Open::Raw,
            b'`' => *open = Open::Template,
            b'(' | b'[' | b'{' => *depth += 1,
            b')' | b']' | b'}' => {
                *depth -= 1;
                // Closing a template hole returns into the template literal.
                if c == b'}' && holes.last() == Some(depth) {
                    holes.pop();
                    *open = Open::Template;
                }
            }
            b'\\' if lang == Lang::Python && b[i + 1..].iter().all(|x| *x == b'\n' || *x == b'\r') => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str, lang: Lang) -> Vec<(String, Vec<String>)> {
        split(text, lang)
            .unwrap()
            .iter()
            .map(|it| {
                (
                    text[it.start..it.end].lines().next().unwrap_or("").to_owned(),
                    it.defines.iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn python_items_respect_strings_brackets_and_decorators() {
        let text = "import os\nX = {\n'a': 1,\n}\n\"\"\"doc\ndef not_a_def():\n\"\"\"\n@dec\ndef f():\n    pass\nelse_ = 1\nclass K:\n    y = 2\n";
        let got = items(text, Lang::Python);
        let heads: Vec<&str> = got.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(heads, ["import os", "X = {", "\"\"\"doc", "@dec", "else_ = 1", "class K:"]);
        assert_eq!(got[3].1, ["f"]);
        assert_eq!(got[1].1, ["X"]);
    }

    #[test]
    fn js_items_respect_templates_and_comments() {
        let text = "const a = `\n${x}\nfunction fake() {}\n`;\n/*\nfunction alsoFake() {}\n*/\nexport async function real() {\n}\nconst { p, q } = require(\"m\");\n";
        let got = items(text, Lang::JavaScript);
        let heads: Vec<&str> = got.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(heads, ["const a = `", "export async function real() {", "const { p, q } = require(\"m\");"]);
        assert_eq!(got[1].1, ["real"]);
        assert_eq!(got[2].1, ["p", "q"]);
    }

    #[test]
    fn statements_configuring_kept_objects_are_kept() {
        let text = "import axios from \"axios\";\n\naxios.defaults.timeout = 30_000;\n\nexport function unrelated(x) {\n  return x * 2;\n}\n\nexport async function create(body) {\n  return axios.post(\"https://api-singapore.klingai.com/v1/videos/text2video\", body);\n}\n";
        let file = SourceFile::new("k.js".into(), Lang::JavaScript, text.into());
        let markers = [text.find("klingai").expect("the fixture has a marker")];
        let Extent::Items(ranges) = select(&file, &markers, 0) else { panic!("expected a partial selection") };
        let kept: String = ranges.iter().map(|r| &text[r.clone()]).collect();
        assert!(kept.contains("axios.defaults.timeout"), "{kept}");
        assert!(!kept.contains("unrelated"), "{kept}");
    }

    #[test]
    fn go_items_and_methods() {
        let text = "package k\n\nimport \"time\"\n\nconst (\n\tA = 1\n\tB = 2\n)\n\nfunc (c *Client) Wait() {\n}\n\nvar raw = `\nfunc fake() {}\n`\n";
        let got = items(text, Lang::Go);
        let heads: Vec<&str> = got.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(heads, ["package k", "import \"time\"", "const (", "func (c *Client) Wait() {", "var raw = `"]);
        assert_eq!(got[2].1, ["A", "B"]);
        assert_eq!(got[3].1, ["Wait"]);
    }
}
