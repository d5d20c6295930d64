//! Go frontend: lowers a tree-sitter-go tree into [`Facts`]. Package-level `var`s and
//! the body of `init()` run once, so they are module level; struct types with `json`
//! tags become typed field declarations, and literals of those types use the tag
//! names as keys.

use std::collections::HashMap;

use tree_sitter::Node;

use super::builder::{Builder, parse_number, unescape};
use super::ts::{Nodes, field_children, header_span, named_children, span, text};
use crate::facts::{
    Arg, Arm, BinOp, Conditional, DeclKind, Entry, ExitKind, ExprId, ExprKind, Facts, FieldDecl, Function, Import,
    Level, LoopKind, MapKind, Param, Span, TypeDecl, TypeKind, UnOp,
};

pub(crate) fn lower(root: Node<'_>, src: &str) -> Facts {
    let mut lw = Lower { b: Builder::new(), src, wire_names: HashMap::new() };
    lw.stmts(root);
    lw.rename_struct_keys();
    lw.b.finish()
}

struct Lower<'s> {
    b: Builder,
    src: &'s str,
    /// For each struct type declared in the file, its fields' `json` tag names by
    /// Go field name.
    wire_names: HashMap<String, HashMap<String, String>>,
}

impl<'s> Lower<'s> {
    fn text(&self, node: Node<'_>) -> &'s str {
        text(node, self.src)
    }

    /// The child of `node` in field `name` (field ids cached; see [`super::ts::field`]).
    fn field<'t>(&self, node: Node<'t>, name: &'static str) -> Option<Node<'t>> {
        super::ts::field(node, crate::lang::Lang::Go, name)
    }

    /// Lower an optional child, or stand in an opaque expression where it is missing.
    fn opt_expr(&mut self, node: Option<Node<'_>>, sp: Span) -> ExprId {
        match node {
            Some(n) => self.expr(n),
            None => self.b.other(sp),
        }
    }

    fn stmts(&mut self, node: Node<'_>) {
        for c in named_children(node) {
            self.stmt(c);
        }
    }

    fn stmt(&mut self, node: Node<'_>) {
        if !self.b.descend() {
            return;
        }
        match node.kind() {
            "source_file" | "block" | "statement_list" => self.stmts(node),
            "package_clause" | "comment" | "empty_statement" => {}
            "import_declaration" => self.imports(node),
            "function_declaration" | "method_declaration" => {
                self.function(node);
            }
            "const_declaration" | "var_declaration" => {
                let decl = if node.kind() == "const_declaration" { DeclKind::Const } else { DeclKind::Let };
                self.var_specs(node, decl);
            }
            "type_declaration" => self.types(node),
            "short_var_declaration" => self.assignment(node, DeclKind::Let),
            "assignment_statement" => {
                let op = self.field(node, "operator").map_or("=", |o| self.text(o));
                self.assignment(node, if op == "=" { DeclKind::Assign } else { DeclKind::Augmented });
            }
            "expression_statement"
            | "go_statement"
            | "defer_statement"
            | "send_statement"
            | "inc_statement"
            | "dec_statement" => {
                for c in named_children(node) {
                    self.expr(c);
                }
            }
            "if_statement" => self.if_chain(node),
            "for_statement" => self.for_loop(node),
            "expression_switch_statement" | "type_switch_statement" => self.switch(node),
            "select_statement" => self.select(node),
            "return_statement" => {
                let values: Vec<ExprId> = named_children(node)
                    .into_iter()
                    .flat_map(
                        |l| if l.kind() == "expression_list" { named_children(l) } else { smallvec::smallvec![l] },
                    )
                    .map(|e| self.expr(e))
                    .collect();
                let value = match values.len() {
                    0 => None,
                    1 => Some(values[0]),
                    _ => Some(self.b.expr(ExprKind::List(values.clone().into()), span(node))),
                };
                if let Some(f) = self.b.func {
                    for v in &values {
                        self.b.add_return(f, *v);
                    }
                }
                self.b.exit(ExitKind::Return, value, span(node));
            }
            "break_statement" => self.b.break_(span(node), !named_children(node).is_empty()),
            "continue_statement" => self.b.exit(ExitKind::Continue, None, span(node)),
            "labeled_statement" => {
                for c in named_children(node) {
                    if c.kind() != "label_name" {
                        self.stmt(c);
                    }
                }
            }
            _ => {
                for c in named_children(node) {
                    if c.kind().ends_with("_statement") || c.kind() == "block" {
                        self.stmt(c);
                    } else {
                        self.expr(c);
                    }
                }
            }
        }
        self.b.ascend();
    }

    fn imports(&mut self, node: Node<'_>) {
        let mut specs = Vec::new();
        for c in named_children(node) {
            match c.kind() {
                "import_spec" => specs.push(c),
                "import_spec_list" => specs.extend(named_children(c).into_iter().filter(|s| s.kind() == "import_spec")),
                _ => {}
            }
        }
        for spec in specs {
            let Some(path) = self.field(spec, "path") else { continue };
            let module = self.string_value(path);
            let local = match self.field(spec, "name") {
                Some(n) => self.text(n).to_owned(),
                None => default_package_name(&module).to_owned(),
            };
            self.b.facts.imports.push(Import {
                module: module.into(),
                name: None,
                local: local.into(),
                span: span(spec),
            });
        }
    }

    fn var_specs(&mut self, node: Node<'_>, decl: DeclKind) {
        for c in named_children(node) {
            match c.kind() {
                "var_spec" | "const_spec" => {
                    let names = field_children(c, "name");
                    let values: Nodes<'_> = self
                        .field(c, "value")
                        .map(|v| if v.kind() == "expression_list" { named_children(v) } else { smallvec::smallvec![v] })
                        .unwrap_or_default();
                    let lowered: Vec<ExprId> = values.iter().map(|v| self.expr(*v)).collect();
                    for (i, n) in names.iter().enumerate() {
                        let target = self.expr(*n);
                        // `a, b := f()`: both names come from the one call.
                        let v = lowered.get(i).or(if lowered.len() == 1 { lowered.first() } else { None }).copied();
                        self.b.assign(target, v, span(c), decl);
                    }
                }
                "var_spec_list" | "const_spec_list" => self.var_specs(c, decl),
                _ => {}
            }
        }
    }

    fn assignment(&mut self, node: Node<'_>, decl: DeclKind) {
        let lefts: Nodes<'_> = self.field(node, "left").map(named_children).unwrap_or_default();
        let rights: Nodes<'_> = self.field(node, "right").map(named_children).unwrap_or_default();
        let values: Vec<ExprId> = rights.iter().map(|r| self.expr(*r)).collect();
        for (i, l) in lefts.iter().enumerate() {
            let target = self.expr(*l);
            let v = values.get(i).or(if values.len() == 1 { values.first() } else { None }).copied();
            self.b.assign(target, v, span(node), decl);
        }
    }

    fn function(&mut self, node: Node<'_>) -> ExprId {
        let sp = span(node);
        let name = self.field(node, "name").map(|n| self.text(n).to_owned());
        let class = self.field(node, "receiver").and_then(|r| {
            let t = self.text(r);
            t.split(|c: char| !c.is_alphanumeric() && c != '_').rfind(|w| !w.is_empty()).map(str::to_owned)
        });
        let params = self.field(node, "parameters").map(|p| self.params(p)).unwrap_or_default();
        let body = self.field(node, "body");
        let is_init = name.as_deref() == Some("init") && class.is_none() && node.kind() == "function_declaration";
        let function = Function {
            name: name.map(Into::into),
            class: class.map(Into::into),
            params,
            span: sp,
            body: body.map_or(sp, span),
            parent: None,
            is_async: false,
            returns: Vec::new(),
            decorators: Vec::new(),
        };
        let scope = self.b.enter_function(function);
        let fid = scope.id.expect("a function was entered");
        if is_init {
            // `func init()` runs once at program start: what it assigns is global.
            self.b.level = Level::Module;
        }
        if let Some(body) = body {
            self.stmt(body);
        }
        self.b.leave(scope);
        self.b.expr(ExprKind::Closure(fid), sp)
    }

    fn params(&mut self, node: Node<'_>) -> Vec<Param> {
        let mut out = Vec::new();
        for p in named_children(node) {
            for n in field_children(p, "name") {
                out.push(Param { name: self.text(n).into(), default: None });
            }
        }
        out
    }

    fn types(&mut self, node: Node<'_>) {
        for spec in named_children(node) {
            if spec.kind() != "type_spec" {
                continue;
            }
            let name = self.field(spec, "name").map_or_else(String::new, |n| self.text(n).to_owned());
            let Some(ty) = self.field(spec, "type") else { continue };
            if ty.kind() != "struct_type" {
                continue;
            }
            let mut fields = Vec::new();
            for list in named_children(ty) {
                for field in named_children(list) {
                    if field.kind() != "field_declaration" {
                        continue;
                    }
                    let ty_text = self.field(field, "type").map_or("", |t| self.text(t));
                    let tag = self.field(field, "tag").map(|t| self.text(t).to_owned());
                    for n in field_children(field, "name") {
                        let go_name = self.text(n).to_owned();
                        let wire = tag.as_deref().and_then(json_tag_name);
                        if let Some(w) = &wire {
                            self.wire_names.entry(name.clone()).or_default().insert(go_name.clone(), w.clone());
                        }
                        fields.push(FieldDecl {
                            key: wire.unwrap_or(go_name).into(),
                            span: span(field),
                            ty: go_type_kind(ty_text),
                        });
                    }
                }
            }
            if !fields.is_empty() {
                self.b.facts.types.push(TypeDecl { name: name.into(), fields, span: span(spec) });
            }
        }
    }

    /// A literal of a struct declared in this file sends its fields under their `json`
    /// tag names: `Text2VideoRequest{ModelName: m}` is `{"model_name": m}` on the wire.
    fn rename_struct_keys(&mut self) {
        for map in &mut self.b.facts.maps {
            let MapKind::Struct(ty) = &map.kind else { continue };
            let Some(names) = self.wire_names.get(ty.trim_start_matches('*')) else { continue };
            for entry in &mut map.entries {
                if let Some(wire) = names.get(&*entry.key) {
                    entry.key = wire.as_str().into();
                }
            }
        }
    }

    fn if_chain(&mut self, node: Node<'_>) {
        let mut arms = Vec::new();
        let mut otherwise = None;
        let at = span(node);
        let mut current = Some(node);
        let mut first = None;
        while let Some(ifn) = current.take() {
            if let Some(init) = self.field(ifn, "initializer") {
                self.stmt(init);
            }
            let cond = self.field(ifn, "condition").map(|c| self.expr(c));
            if let (Some(c), Some(body)) = (cond, self.field(ifn, "consequence")) {
                first.get_or_insert(c);
                arms.push(Arm { test: c, body: span(body) });
                self.b.push_guard(c, false, at);
                self.stmt(body);
                self.b.pop_guard();
            }
            match self.field(ifn, "alternative") {
                Some(alt) if alt.kind() == "if_statement" => current = Some(alt),
                Some(alt) => {
                    otherwise = Some(span(alt));
                    if let Some(c) = first {
                        self.b.push_guard(c, true, at);
                    }
                    self.stmt(alt);
                    if first.is_some() {
                        self.b.pop_guard();
                    }
                }
                None => {}
            }
        }
        let func = self.b.func;
        self.b.facts.conditionals.push(Conditional { arms, otherwise, span: at, func });
    }

    fn for_loop(&mut self, node: Node<'_>) {
        let body = self.field(node, "body");
        let header = header_span(node, body, self.src);
        let body_span = body.map_or(span(node), span);
        let head = named_children(node).into_iter().find(|c| Some(c.id()) != body.map(|b| b.id()));
        match head {
            None => self.b.add_loop(LoopKind::Infinite, None, None, header, body_span),
            Some(h) if h.kind() == "for_clause" => {
                if let Some(init) = self.field(h, "initializer") {
                    self.stmt(init);
                }
                let cond = self.field(h, "condition").map(|c| self.expr(c));
                if let Some(u) = self.field(h, "update") {
                    self.stmt(u);
                }
                let kind = if cond.is_some() { LoopKind::While } else { LoopKind::Infinite };
                self.b.add_loop(kind, cond, None, header, body_span);
            }
            Some(h) if h.kind() == "range_clause" => {
                let iter = self.field(h, "right").map(|r| self.expr(r));
                if let Some(left) = self.field(h, "left") {
                    for n in named_children(left) {
                        let t = self.expr(n);
                        self.b.assign(t, None, span(h), DeclKind::Let);
                    }
                }
                self.b.add_loop(LoopKind::ForEach, None, iter, header, body_span);
            }
            Some(cond) => {
                let c = self.expr(cond);
                self.b.add_loop(LoopKind::While, Some(c), None, header, body_span);
            }
        }
        if let Some(b) = body {
            self.stmt(b);
        }
        self.b.end_loop();
    }

    fn switch(&mut self, node: Node<'_>) {
        let sp = span(node);
        if let Some(init) = self.field(node, "initializer") {
            self.stmt(init);
        }
        let subject = self.field(node, "value").map(|v| self.expr(v));
        let mut arms = Vec::new();
        let mut otherwise = None;
        self.b.push_breakable(false);
        for case in named_children(node) {
            let body: Nodes<'_> = named_children(case).into_iter().filter(|c| c.kind() == "statement_list").collect();
            let body_span = body.first().map_or(span(case), |b| span(*b));
            match case.kind() {
                "expression_case" => {
                    let values: Nodes<'_> = self.field(case, "value").map(named_children).unwrap_or_default();
                    for v in values {
                        let value = self.expr(v);
                        let test = match subject {
                            Some(s) => self.b.expr(ExprKind::Binary(BinOp::Eq, s, value), span(v)),
                            // `switch { case cond: }` tests each case as a condition.
                            None => value,
                        };
                        arms.push(Arm { test, body: body_span });
                    }
                }
                "default_case" => otherwise = Some(body_span),
                _ => {}
            }
            for b in body {
                self.stmt(b);
            }
        }
        self.b.pop_breakable();
        let func = self.b.func;
        self.b.facts.conditionals.push(Conditional { arms, otherwise, span: sp, func });
    }

    /// `select` cases guard their bodies with the channel operation, so that a
    /// `case <-ctx.Done(): return` is a guarded exit.
    fn select(&mut self, node: Node<'_>) {
        self.b.push_breakable(false);
        for case in named_children(node) {
            let comm = self.field(case, "communication").map(|c| {
                let inner = self.field(c, "right").unwrap_or(c);
                self.expr(inner)
            });
            let stmts: Nodes<'_> = named_children(case).into_iter().filter(|c| c.kind() == "statement_list").collect();
            if let Some(g) = comm {
                self.b.push_guard(g, false, span(node));
            }
            for s in stmts {
                self.stmt(s);
            }
            if comm.is_some() {
                self.b.pop_guard();
            }
        }
        self.b.pop_breakable();
    }

    fn string_value(&self, node: Node<'_>) -> String {
        let t = self.text(node);
        let inner = if t.len() >= 2 { &t[1..t.len() - 1] } else { "" };
        if node.kind() == "raw_string_literal" { inner.to_owned() } else { unescape(inner) }
    }

    fn expr(&mut self, node: Node<'_>) -> ExprId {
        if !self.b.descend() {
            return self.b.other(span(node));
        }
        let id = self.expr_inner(node);
        self.b.ascend();
        id
    }

    fn expr_inner(&mut self, node: Node<'_>) -> ExprId {
        let sp = span(node);
        match node.kind() {
            "identifier" | "field_identifier" | "package_identifier" | "type_identifier" => {
                let t = self.text(node).to_owned();
                self.b.name(&t, sp)
            }
            "nil" => self.b.expr(ExprKind::Null, sp),
            "true" => self.b.expr(ExprKind::Bool(true), sp),
            "false" => self.b.expr(ExprKind::Bool(false), sp),
            "int_literal" | "float_literal" => match parse_number(self.text(node)) {
                Some((value, integer)) => self.b.expr(ExprKind::Number { value, integer }, sp),
                None => self.b.other(sp),
            },
            "interpreted_string_literal" | "raw_string_literal" => {
                let v = self.string_value(node);
                self.b.str_lit(&v, sp)
            }
            "selector_expression" | "qualified_type" => {
                let (obj, field) =
                    if node.kind() == "qualified_type" { ("package", "name") } else { ("operand", "field") };
                let object = self.opt_expr(self.field(node, obj), sp);
                let f = self.field(node, field).map(|f| self.text(f).to_owned()).unwrap_or_default();
                self.b.expr(ExprKind::Member(object, f.into()), sp)
            }
            "index_expression" => {
                let object = self.opt_expr(self.field(node, "operand"), sp);
                let index = self.opt_expr(self.field(node, "index"), sp);
                self.b.expr(ExprKind::Index(object, index), sp)
            }
            "call_expression" => {
                let callee = self.opt_expr(self.field(node, "function"), sp);
                let mut args = Vec::new();
                if let Some(a) = self.field(node, "arguments") {
                    let variadic = self.text(a).trim_end_matches(')').trim_end().ends_with("...");
                    let items = named_children(a);
                    let n = items.len();
                    for (i, item) in items.into_iter().enumerate() {
                        let v = self.expr(item);
                        args.push(Arg { name: None, value: v, spread: variadic && i + 1 == n });
                    }
                }
                self.b.call(callee, args, sp, false)
            }
            "composite_literal" => self.composite(node),
            "func_literal" => self.function(node),
            "parenthesized_expression" => match named_children(node).first() {
                Some(i) => self.expr(*i),
                None => self.b.other(sp),
            },
            "unary_expression" => {
                let op = self.field(node, "operator").map_or("", |o| self.text(o));
                let operand = self.opt_expr(self.field(node, "operand"), sp);
                match op {
                    // Taking an address or dereferencing does not change what a value is.
                    "&" | "*" => operand,
                    "!" => self.b.expr(ExprKind::Unary(UnOp::Not, operand), sp),
                    "-" => match self.b.facts.expr(operand).kind {
                        ExprKind::Number { value, integer } => {
                            self.b.expr(ExprKind::Number { value: -value, integer }, sp)
                        }
                        _ => self.b.expr(ExprKind::Unary(UnOp::Neg, operand), sp),
                    },
                    _ => self.b.expr(ExprKind::Unary(UnOp::Other, operand), sp),
                }
            }
            "binary_expression" => {
                let op = match self.field(node, "operator").map_or("", |o| self.text(o)) {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    "/" => BinOp::Div,
                    "%" => BinOp::Mod,
                    "==" => BinOp::Eq,
                    "!=" => BinOp::Ne,
                    "<" => BinOp::Lt,
                    "<=" => BinOp::Le,
                    ">" => BinOp::Gt,
                    ">=" => BinOp::Ge,
                    "&&" => BinOp::And,
                    "||" => BinOp::Or,
                    _ => BinOp::Other,
                };
                let l = self.opt_expr(self.field(node, "left"), sp);
                let r = self.opt_expr(self.field(node, "right"), sp);
                self.b.expr(ExprKind::Binary(op, l, r), sp)
            }
            "type_conversion_expression" | "type_assertion_expression" => match self.field(node, "operand") {
                Some(o) => self.expr(o),
                None => self.b.other(sp),
            },
            "expression_list" => {
                let items: Vec<ExprId> = named_children(node).into_iter().map(|c| self.expr(c)).collect();
                if items.len() == 1 { items[0] } else { self.b.expr(ExprKind::List(items.into()), sp) }
            }
            _ => {
                for c in named_children(node) {
                    if c.kind() == "block" {
                        self.stmt(c);
                    } else {
                        self.expr(c);
                    }
                }
                self.b.other(sp)
            }
        }
    }

    fn composite(&mut self, node: Node<'_>) -> ExprId {
        let sp = span(node);
        let ty = self.field(node, "type");
        let sequence =
            matches!(ty.map_or("", |t| t.kind()), "slice_type" | "array_type" | "implicit_length_array_type");
        let kind = match ty {
            Some(t) if t.kind() != "map_type" => MapKind::Struct(self.text(t).into()),
            _ => MapKind::Literal,
        };
        match self.field(node, "body") {
            Some(body) => self.literal_value(body, kind, sequence, sp),
            None => self.b.expr(ExprKind::List(Box::new([])), sp),
        }
    }

    /// The body of a composite literal: a map when its elements are keyed (unless the
    /// type is a slice or array, whose keys are indexes) or when it is empty (a zero
    /// `http.Client{}`, a `map[string]any{}` filled later), else a list. Bodies nested
    /// with their type elided (`{"config": {...}}` in a map, `[]Slide{{...}}`,
    /// `http.Header{"Authorization": {"Bearer " + t}}`) are lowered the same way.
    fn literal_value(&mut self, body: Node<'_>, kind: MapKind, sequence: bool, sp: Span) -> ExprId {
        let elements = named_children(body);
        let keyed = elements.iter().any(|e| e.kind() == "keyed_element");
        if sequence || !(keyed || elements.is_empty()) {
            let items: Vec<ExprId> = elements
                .into_iter()
                .map(|e| {
                    let value = if e.kind() == "keyed_element" { self.field(e, "value").unwrap_or(e) } else { e };
                    self.element(value)
                })
                .collect();
            return self.b.expr(ExprKind::List(items.into()), sp);
        }
        let mut map = self.b.new_map(sp, kind);
        for el in elements {
            if el.kind() != "keyed_element" {
                continue;
            }
            let (Some(k), Some(v)) = (self.field(el, "key"), self.field(el, "value")) else { continue };
            let k_inner = named_children(k).first().copied().unwrap_or(k);
            let key = match k_inner.kind() {
                "interpreted_string_literal" | "raw_string_literal" => Some(self.string_value(k_inner)),
                "identifier" | "field_identifier" => Some(self.text(k_inner).to_owned()),
                _ => None,
            };
            let value = self.element(v);
            if let Some(key) = key {
                map.entries.push(Entry { key: key.into(), key_span: span(k), value, span: span(el) });
            }
        }
        self.b.map(map)
    }

    /// One element of a literal body (a `literal_element` wrapper or its content).
    fn element(&mut self, node: Node<'_>) -> ExprId {
        let inner =
            if node.kind() == "literal_element" { named_children(node).first().copied().unwrap_or(node) } else { node };
        if inner.kind() == "literal_value" {
            self.literal_value(inner, MapKind::Literal, false, span(inner))
        } else {
            self.expr(inner)
        }
    }
}

/// The package name Go binds for an import path: the last element, skipping a
/// major-version suffix (`github.com/golang-jwt/jwt/v5` binds `jwt`).
fn default_package_name(path: &str) -> &str {
    let mut parts = path.rsplit('/');
    let last = parts.next().unwrap_or(path);
    let is_version = last.len() > 1 && last.starts_with('v') && last[1..].bytes().all(|b| b.is_ascii_digit());
    if is_version { parts.next().unwrap_or(last) } else { last }
}

/// The name in a `json:"name,omitempty"` struct tag.
fn json_tag_name(tag: &str) -> Option<String> {
    let at = tag.find("json:\"")? + "json:\"".len();
    let rest = &tag[at..];
    let name = rest.split(['"', ',']).next()?;
    (!name.is_empty() && name != "-").then(|| name.to_owned())
}

fn go_type_kind(ty: &str) -> TypeKind {
    let t = ty.trim_start_matches('*');
    if t == "string" {
        TypeKind::Str
    } else if t.starts_with("int") || t.starts_with("uint") || t.starts_with("float") || t == "json.Number" {
        TypeKind::Number
    } else {
        TypeKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names() {
        assert_eq!(default_package_name("github.com/golang-jwt/jwt/v5"), "jwt");
        assert_eq!(default_package_name("net/http"), "http");
        assert_eq!(json_tag_name("`json:\"duration,omitempty\"`").as_deref(), Some("duration"));
        assert_eq!(json_tag_name("`json:\"-\"`"), None);
    }
}
