//! What the JSON, YAML and TOML readers share: an explicit stack of open containers
//! that turns a stream of scalars, keys and container boundaries into map and list
//! facts. An explicit stack rather than recursion keeps pathological nesting from
//! touching the thread's stack.

use super::builder::Builder;
use crate::facts::{Entry, ExprId, ExprKind, Facts, MapKind, Span};

enum Open {
    Map { map: crate::facts::MapLit, key: Option<(String, Span)> },
    List { items: Vec<ExprId>, start: u32 },
}

pub(crate) struct ConfigBuilder {
    b: Builder,
    stack: Vec<Open>,
}

impl ConfigBuilder {
    pub(crate) fn new() -> ConfigBuilder {
        ConfigBuilder { b: Builder::new(), stack: Vec::new() }
    }

    pub(crate) fn finish(self) -> Facts {
        self.b.finish()
    }

    /// Whether the next value is a mapping key.
    pub(crate) fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Open::Map { key: None, .. }))
    }

    pub(crate) fn key(&mut self, key: &str, span: Span) {
        if let Some(Open::Map { key: k, .. }) = self.stack.last_mut() {
            *k = Some((key.to_owned(), span));
        }
    }

    pub(crate) fn scalar(&mut self, kind: ExprKind, span: Span) {
        let id = self.b.expr(kind, span);
        self.attach(id);
    }

    pub(crate) fn start_map(&mut self, start: u32) {
        let map = self.b.new_map(Span { start, end: start }, MapKind::Literal);
        self.stack.push(Open::Map { map, key: None });
    }

    pub(crate) fn start_list(&mut self, start: u32) {
        self.stack.push(Open::List { items: Vec::new(), start });
    }

    /// Close the innermost container at byte `end`.
    pub(crate) fn end(&mut self, end: u32) {
        let id = match self.stack.pop() {
            Some(Open::Map { mut map, .. }) => {
                map.span.end = end.max(map.span.start);
                self.b.map(map)
            }
            Some(Open::List { items, start }) => {
                self.b.expr(ExprKind::List(items.into()), Span { start, end: end.max(start) })
            }
            None => return,
        };
        self.attach(id);
    }

    /// Close every container still open (at the end of a document).
    pub(crate) fn close_all(&mut self, end: u32) {
        while !self.stack.is_empty() {
            self.end(end);
        }
    }

    fn attach(&mut self, id: ExprId) {
        match self.stack.last_mut() {
            Some(Open::Map { map, key }) => {
                if let Some((k, key_span)) = key.take() {
                    let value_span = self.b.facts.expr(id).span;
                    map.entries.push(Entry { key: k.into(), key_span, value: id, span: key_span.cover(value_span) });
                }
            }
            Some(Open::List { items, .. }) => items.push(id),
            None => {}
        }
    }
}
