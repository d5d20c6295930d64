//! JavaScript, TypeScript and TSX frontend: lowers a tree-sitter tree into [`Facts`].
//! The TypeScript grammars extend the JavaScript one, so one lowering serves all three;
//! interfaces and object types add typed field declarations.

use tree_sitter::Node;

use super::builder::{Builder, parse_number, positional, unescape};
use super::ts::{Nodes, field_children, header_span, named_children, span, text};
use crate::facts::{
    Arg, Arm, BinOp, Conditional, DeclKind, Entry, ExitKind, ExprId, ExprKind, Facts, FieldDecl, Function, Import,
    Level, LoopKind, MapKind, Param, Part, Span, TypeDecl, TypeKind, UnOp,
};
use crate::lang::Lang;

pub(crate) fn lower(root: Node<'_>, src: &str, lang: Lang) -> Facts {
    let mut lw = Lower { b: Builder::new(), src, lang };
    lw.stmts(root);
    lw.b.finish()
}

struct Lower<'s> {
    b: Builder,
    src: &'s str,
    /// JavaScript, TypeScript or TSX: their grammars number fields differently.
    lang: Lang,
}

impl<'s> Lower<'s> {
    fn text(&self, node: Node<'_>) -> &'s str {
        text(node, self.src)
    }

    /// The child of `node` in field `name` (field ids cached; see [`super::ts::field`]).
    fn field<'t>(&self, node: Node<'t>, name: &'static str) -> Option<Node<'t>> {
        super::ts::field(node, self.lang, name)
    }

    /// Lower an optional child, or stand in an opaque expression where it is missing.
    fn opt_expr(&mut self, node: Option<Node<'_>>, sp: Span) -> ExprId {
        match node {
            Some(n) => self.expr(n),
            None => self.b.other(sp),
        }
    }

    fn stmts(&mut self, node: Node<'_>) {
        for child in named_children(node) {
            self.stmt(child);
        }
    }

    fn body(&mut self, node: Option<Node<'_>>) {
        if let Some(n) = node {
            self.stmt(n);
        }
    }

    fn stmt(&mut self, node: Node<'_>) {
        if !self.b.descend() {
            return;
        }
        match node.kind() {
            "program" | "statement_block" | "else_clause" | "finally_clause" | "class_body" | "switch_body" => {
                self.stmts(node);
            }
            "expression_statement" => {
                for c in named_children(node) {
                    self.expr(c);
                }
            }
            "lexical_declaration" | "variable_declaration" => self.declaration(node),
            "export_statement" => {
                if let Some(d) = self.field(node, "declaration") {
                    self.stmt(d);
                } else {
                    for c in named_children(node) {
                        if c.kind() != "export_clause" && c.kind() != "string" {
                            self.expr(c);
                        }
                    }
                }
            }
            "function_declaration" | "generator_function_declaration" | "method_definition" => {
                self.function(node, None);
            }
            "class_declaration" | "abstract_class_declaration" => self.class(node),
            "public_field_definition" | "field_definition" => {
                // `static` is an anonymous token, after decorators and TypeScript's
                // `private`/`readonly` modifiers.
                let is_static = {
                    let mut cursor = node.walk();
                    node.children(&mut cursor).any(|c| c.kind() == "static")
                };
                let name = self.field(node, "name").or_else(|| self.field(node, "property"));
                let value = self.field(node, "value");
                // Static fields are initialised once, when the class is defined.
                // Instance fields per object: lowered as the body of an unnamed method
                // of the class, the way a constructor would set them, so that
                // `this.http` in a method resolves to the field's initialiser.
                let scope = if is_static {
                    None
                } else {
                    let sp = span(node);
                    let function = Function {
                        name: None,
                        class: self.b.class.clone(),
                        params: Vec::new(),
                        span: sp,
                        body: sp,
                        parent: None,
                        is_async: false,
                        returns: Vec::new(),
                        decorators: Vec::new(),
                    };
                    Some(self.b.enter_function(function))
                };
                let saved =
                    std::mem::replace(&mut self.b.level, if is_static { Level::Class } else { Level::Function });
                let v = value.map(|v| self.expr(v));
                if let Some(n) = name {
                    let this = self.b.name("this", span(n));
                    let field = self.text(n).to_owned();
                    let target = self.b.expr(ExprKind::Member(this, field.into()), span(n));
                    self.b.assign(target, v, span(node), DeclKind::Assign);
                }
                self.b.level = saved;
                if let Some(scope) = scope {
                    self.b.leave(scope);
                }
            }
            "if_statement" => self.if_chain(node),
            "while_statement" => {
                let cond_node = self.field(node, "condition");
                let body = self.field(node, "body");
                let inner = cond_node.map(unparen);
                let infinite = inner.is_some_and(|c| c.kind() == "true" || self.text(c) == "1");
                let cond = if infinite { None } else { inner.map(|c| self.expr(c)) };
                let kind = if infinite { LoopKind::Infinite } else { LoopKind::While };
                self.b.add_loop(kind, cond, None, header_span(node, body, self.src), body.map_or(span(node), span));
                self.body(body);
                self.b.end_loop();
            }
            "do_statement" => {
                let body = self.field(node, "body");
                let cond = self.field(node, "condition").map(unparen);
                let infinite = cond.is_some_and(|c| c.kind() == "true");
                let cond_id = if infinite { None } else { cond.map(|c| self.expr(c)) };
                // Report a do-while at its `while (...)` tail, which is what bounds it.
                let header = cond.map_or(span(node), |c| {
                    Span::new(body.map_or(node.start_byte(), |b| b.end_byte()), c.end_byte() + 1)
                });
                let header = Span { end: header.end.min(node.end_byte() as u32), ..header };
                let kind = if infinite { LoopKind::Infinite } else { LoopKind::DoWhile };
                self.b.add_loop(kind, cond_id, None, header, body.map_or(span(node), span));
                self.body(body);
                self.b.end_loop();
            }
            "for_statement" => {
                let body = self.field(node, "body");
                if let Some(init) = self.field(node, "initializer") {
                    self.stmt(init);
                }
                let cond = field_children(node, "condition")
                    .into_iter()
                    .find(|c| c.is_named() && c.kind() != "empty_statement");
                let cond_id = cond.map(|c| {
                    let inner = if c.kind() == "expression_statement" {
                        named_children(c).first().copied().unwrap_or(c)
                    } else {
                        c
                    };
                    self.expr(inner)
                });
                if let Some(inc) = self.field(node, "increment") {
                    self.expr(inc);
                }
                let kind = if cond_id.is_some() { LoopKind::While } else { LoopKind::Infinite };
                self.b.add_loop(kind, cond_id, None, header_span(node, body, self.src), body.map_or(span(node), span));
                self.body(body);
                self.b.end_loop();
            }
            "for_in_statement" => {
                let body = self.field(node, "body");
                let iter = self.field(node, "right").map(|r| self.expr(r));
                if let Some(left) = self.field(node, "left") {
                    self.bind_pattern(left, None, span(node), DeclKind::Let);
                }
                self.b.add_loop(
                    LoopKind::ForEach,
                    None,
                    iter,
                    header_span(node, body, self.src),
                    body.map_or(span(node), span),
                );
                self.body(body);
                self.b.end_loop();
            }
            "switch_statement" => self.switch(node),
            "try_statement" => {
                if let (Some(b), Some(h)) = (self.field(node, "body"), self.field(node, "handler")) {
                    let func = self.b.func;
                    self.b.facts.handlers.push(crate::facts::Handler { body: span(b), handler: span(h), func });
                }
                self.body(self.field(node, "body"));
                if let Some(h) = self.field(node, "handler") {
                    self.body(self.field(h, "body"));
                }
                self.body(self.field(node, "finalizer"));
            }
            "return_statement" => {
                let value = named_children(node).first().map(|e| self.expr(*e));
                if let (Some(f), Some(v)) = (self.b.func, value) {
                    self.b.add_return(f, v);
                }
                self.b.exit(ExitKind::Return, value, span(node));
            }
            "throw_statement" => {
                let value = named_children(node).first().map(|e| self.expr(*e));
                self.b.exit(ExitKind::Throw, value, span(node));
            }
            "break_statement" => self.b.break_(span(node), self.field(node, "label").is_some()),
            "continue_statement" => self.b.exit(ExitKind::Continue, None, span(node)),
            "import_statement" => self.import(node),
            "interface_declaration" | "type_alias_declaration" => self.type_decl(node),
            "labeled_statement" => self.body(self.field(node, "body")),
            "comment" | "empty_statement" | "debugger_statement" | "hash_bang_line" => {}
            k if k.ends_with("_declaration") && !k.starts_with("function") => {
                // Enums, modules, ambient declarations: look inside for code.
                for c in named_children(node) {
                    if c.kind() == "statement_block" || c.kind().ends_with("_body") {
                        self.stmt(c);
                    }
                }
            }
            _ => {
                self.expr(node);
            }
        }
        self.b.ascend();
    }

    fn declaration(&mut self, node: Node<'_>) {
        let decl = match self.field(node, "kind").map(|k| self.text(k)) {
            Some("const") => DeclKind::Const,
            _ if node.kind() == "variable_declaration" => DeclKind::Let,
            _ => DeclKind::Let,
        };
        for d in named_children(node) {
            if d.kind() != "variable_declarator" {
                continue;
            }
            let name = self.field(d, "name");
            let value = self.field(d, "value");
            let v = value.map(|v| {
                // `const sleep = (ms) => ...` names the function.
                if matches!(v.kind(), "arrow_function" | "function_expression" | "function") {
                    let fname = name.filter(|n| n.kind() == "identifier").map(|n| self.text(n).to_owned());
                    self.function(v, fname)
                } else {
                    self.expr(v)
                }
            });
            if let Some(n) = name {
                self.bind_pattern(n, v, span(d), decl);
            }
        }
    }

    /// Bind the names in a declaration or assignment target. Destructuring is lowered
    /// to the reads it performs, so that `const { task_status } = data` binds
    /// `task_status` to `data.task_status` and `const [first] = videos` binds `first`
    /// to `videos[0]`; a default (`{ base = "..." }`) becomes `value ?? default`.
    fn bind_pattern(&mut self, pattern: Node<'_>, value: Option<ExprId>, at: Span, decl: DeclKind) {
        if !self.b.descend() {
            return;
        }
        match pattern.kind() {
            "identifier" => {
                let t = self.expr(pattern);
                self.b.assign(t, value, at, decl);
            }
            "object_pattern" => {
                for c in named_children(pattern) {
                    match c.kind() {
                        "shorthand_property_identifier_pattern" => {
                            let key = self.text(c).to_owned();
                            let read = value.map(|v| self.b.expr(ExprKind::Member(v, key.clone().into()), span(c)));
                            let t = self.b.name(&key, span(c));
                            self.b.assign(t, read, at, decl);
                        }
                        "pair_pattern" => {
                            let key = self.field(c, "key").and_then(|k| match k.kind() {
                                "property_identifier" | "number" => Some(self.text(k).to_owned()),
                                "string" => Some(self.string_value(k)),
                                _ => None,
                            });
                            let read = match (value, key) {
                                (Some(v), Some(key)) => Some(self.b.expr(ExprKind::Member(v, key.into()), span(c))),
                                _ => None,
                            };
                            if let Some(target) = self.field(c, "value") {
                                self.bind_pattern(target, read, at, decl);
                            }
                        }
                        "object_assignment_pattern" => {
                            let Some(left) = self.field(c, "left") else { continue };
                            let key = self.text(left).to_owned();
                            let read = value.map(|v| self.b.expr(ExprKind::Member(v, key.clone().into()), span(left)));
                            let read = self.with_default(read, self.field(c, "right"), span(c));
                            let t = self.b.name(&key, span(left));
                            self.b.assign(t, read, at, decl);
                        }
                        "rest_pattern" => {
                            if let Some(inner) = named_children(c).first().copied() {
                                self.bind_pattern(inner, None, at, decl);
                            }
                        }
                        _ => {}
                    }
                }
            }
            "array_pattern" => {
                // Holes (`[, second]`) count: the index advances at every comma.
                let mut index = 0u32;
                let mut cursor = pattern.walk();
                let children: Nodes<'_> = pattern.children(&mut cursor).collect();
                for c in children {
                    if c.kind() == "," {
                        index += 1;
                        continue;
                    }
                    if !c.is_named() || c.kind() == "comment" {
                        continue;
                    }
                    let read = value.map(|v| {
                        let i = self.b.expr(ExprKind::Number { value: f64::from(index), integer: true }, span(c));
                        self.b.expr(ExprKind::Index(v, i), span(c))
                    });
                    match c.kind() {
                        "assignment_pattern" => {
                            let read = self.with_default(read, self.field(c, "right"), span(c));
                            if let Some(left) = self.field(c, "left") {
                                self.bind_pattern(left, read, at, decl);
                            }
                        }
                        "rest_pattern" => {
                            if let Some(inner) = named_children(c).first().copied() {
                                self.bind_pattern(inner, None, at, decl);
                            }
                        }
                        _ => self.bind_pattern(c, read, at, decl),
                    }
                }
            }
            "assignment_pattern" => {
                let read = self.with_default(value, self.field(pattern, "right"), span(pattern));
                if let Some(left) = self.field(pattern, "left") {
                    self.bind_pattern(left, read, at, decl);
                }
            }
            _ => {
                let t = self.expr(pattern);
                self.b.assign(t, value, at, decl);
            }
        }
        self.b.ascend();
    }

    /// `read ?? default` for a destructuring default; the default alone when nothing is
    /// read.
    fn with_default(&mut self, read: Option<ExprId>, default: Option<Node<'_>>, sp: Span) -> Option<ExprId> {
        let Some(d) = default else { return read };
        let d = self.expr(d);
        Some(match read {
            Some(r) => self.b.expr(ExprKind::Binary(BinOp::Or, r, d), sp),
            None => d,
        })
    }

    /// Lower a function of any form and return the expression that refers to it.
    fn function(&mut self, node: Node<'_>, name: Option<String>) -> ExprId {
        let sp = span(node);
        let own_name = self
            .field(node, "name")
            .filter(|n| matches!(n.kind(), "identifier" | "property_identifier" | "private_property_identifier"))
            .map(|n| self.text(n).to_owned());
        let name = own_name.or(name);
        let is_async = {
            let mut c = node.walk();
            node.children(&mut c).any(|ch| ch.kind() == "async")
        };
        let body = self.field(node, "body");
        let (params, patterns) = match self.field(node, "parameters").or_else(|| self.field(node, "parameter")) {
            Some(p) => self.params(p),
            None => (Vec::new(), Vec::new()),
        };
        let function = Function {
            name: name.map(Into::into),
            class: None,
            params,
            span: sp,
            body: body.map_or(sp, span),
            parent: None,
            is_async,
            returns: Vec::new(),
            decorators: Vec::new(),
        };
        let scope = self.b.enter_function(function);
        let fid = scope.id.expect("a function was entered");
        // `function onCallback({ task_status })`: the fields of an argument we cannot see.
        for pat in patterns {
            let arg = self.b.other(span(pat));
            self.bind_pattern(pat, Some(arg), span(pat), DeclKind::Let);
        }
        if let Some(body) = body {
            if body.kind() == "statement_block" {
                self.stmts(body);
            } else {
                let v = self.expr(body);
                self.b.add_return(fid, v);
            }
        }
        self.b.leave(scope);
        self.b.expr(ExprKind::Closure(fid), sp)
    }

    /// The parameters, and the destructuring patterns among them (bound once the
    /// function is entered). Every parameter keeps its position, so that a summary's
    /// "the sleep is parameter 1" stays true next to a destructured parameter 0.
    fn params<'t>(&mut self, node: Node<'t>) -> (Vec<Param>, Vec<Node<'t>>) {
        if node.kind() == "identifier" {
            return (vec![Param { name: self.text(node).into(), default: None }], Vec::new());
        }
        let mut out = Vec::new();
        let mut patterns = Vec::new();
        for p in named_children(node) {
            let (pat, default) = match p.kind() {
                "required_parameter" | "optional_parameter" => (self.field(p, "pattern"), self.field(p, "value")),
                "assignment_pattern" => (self.field(p, "left"), self.field(p, "right")),
                "identifier" | "object_pattern" | "array_pattern" => (Some(p), None),
                "rest_pattern" => (named_children(p).first().copied(), None),
                _ => (None, None),
            };
            let default = default.map(|d| self.expr(d));
            if let Some(pat) = pat {
                let name = if pat.kind() == "rest_pattern" {
                    named_children(pat).first().map_or_else(String::new, |n| self.text(*n).to_owned())
                } else {
                    self.text(pat).to_owned()
                };
                if matches!(pat.kind(), "object_pattern" | "array_pattern") {
                    patterns.push(pat);
                }
                out.push(Param { name: name.into(), default });
            }
        }
        (out, patterns)
    }

    fn class(&mut self, node: Node<'_>) {
        let name = self.field(node, "name").map_or_else(String::new, |n| self.text(n).to_owned());
        for c in named_children(node) {
            if c.kind() == "class_heritage" {
                self.expr(c);
            }
        }
        if let Some(body) = self.field(node, "body") {
            let scope = self.b.enter_class(&name);
            for member in named_children(body) {
                match member.kind() {
                    "method_definition" => {
                        self.function(member, None);
                    }
                    _ => self.stmt(member),
                }
            }
            self.b.leave(scope);
        }
    }

    fn if_chain(&mut self, node: Node<'_>) {
        let mut arms = Vec::new();
        let mut otherwise = None;
        let at = span(node);
        let mut current = Some(node);
        let mut first_cond = None;
        // `else if` nests in the tree; flatten the chain into one conditional.
        while let Some(ifn) = current.take() {
            let cond = self.field(ifn, "condition").map(|c| self.expr(unparen(c)));
            let consequence = self.field(ifn, "consequence");
            if let (Some(c), Some(body)) = (cond, consequence) {
                first_cond.get_or_insert(c);
                arms.push(Arm { test: c, body: span(body) });
                self.b.push_guard(c, false, at);
                self.stmt(body);
                self.b.pop_guard();
            }
            if let Some(alt) = self.field(ifn, "alternative") {
                let inner = named_children(alt).into_iter().next();
                match inner {
                    Some(n) if n.kind() == "if_statement" => current = Some(n),
                    Some(n) => {
                        otherwise = Some(span(n));
                        if let Some(c) = first_cond {
                            self.b.push_guard(c, true, at);
                        }
                        self.stmt(n);
                        if first_cond.is_some() {
                            self.b.pop_guard();
                        }
                    }
                    None => {}
                }
            }
        }
        let func = self.b.func;
        self.b.facts.conditionals.push(Conditional { arms, otherwise, span: at, func });
    }

    fn switch(&mut self, node: Node<'_>) {
        let sp = span(node);
        let subject = self.opt_expr(self.field(node, "value").map(unparen), sp);
        let mut arms = Vec::new();
        let mut otherwise = None;
        self.b.push_breakable(false);
        if let Some(body) = self.field(node, "body") {
            for case in named_children(body) {
                let stmts = field_children(case, "body");
                let body_span = match (stmts.first(), stmts.last()) {
                    (Some(f), Some(l)) => Span::new(f.start_byte(), l.end_byte()),
                    _ => span(case),
                };
                match case.kind() {
                    "switch_case" => {
                        if let Some(v) = self.field(case, "value") {
                            let value = self.expr(v);
                            let test = self.b.expr(ExprKind::Binary(BinOp::Eq, subject, value), span(v));
                            arms.push(Arm { test, body: body_span });
                        }
                    }
                    "switch_default" => otherwise = Some(body_span),
                    _ => {}
                }
                for s in stmts {
                    self.stmt(s);
                }
            }
        }
        self.b.pop_breakable();
        let func = self.b.func;
        self.b.facts.conditionals.push(Conditional { arms, otherwise, span: sp, func });
    }

    fn import(&mut self, node: Node<'_>) {
        let Some(source) = self.field(node, "source") else { return };
        let module = self.string_value(source);
        for clause in named_children(node) {
            if clause.kind() != "import_clause" {
                continue;
            }
            for part in named_children(clause) {
                match part.kind() {
                    "identifier" => self.push_import(&module, None, self.text(part).to_owned(), span(node)),
                    "namespace_import" => {
                        if let Some(id) = named_children(part).first() {
                            self.push_import(&module, None, self.text(*id).to_owned(), span(node));
                        }
                    }
                    "named_imports" => {
                        for spec in named_children(part) {
                            let Some(name) = self.field(spec, "name") else { continue };
                            let local = self.field(spec, "alias").unwrap_or(name);
                            let (n, l) = (self.text(name).to_owned(), self.text(local).to_owned());
                            self.push_import(&module, Some(n), l, span(node));
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn push_import(&mut self, module: &str, name: Option<String>, local: String, sp: Span) {
        self.b.facts.imports.push(Import {
            module: module.into(),
            name: name.map(Into::into),
            local: local.into(),
            span: sp,
        });
    }

    fn type_decl(&mut self, node: Node<'_>) {
        let name = self.field(node, "name").map_or_else(String::new, |n| self.text(n).to_owned());
        let body = self.field(node, "body").or_else(|| self.field(node, "value"));
        let Some(body) = body else { return };
        let mut fields = Vec::new();
        for prop in named_children(body) {
            if prop.kind() != "property_signature" {
                continue;
            }
            let Some(key) = self.field(prop, "name") else { continue };
            let key = match key.kind() {
                "string" => self.string_value(key),
                _ => self.text(key).to_owned(),
            };
            let ty = self.field(prop, "type").map_or(TypeKind::Other, |t| ts_type_kind(self.text(t)));
            fields.push(FieldDecl { key: key.into(), span: span(prop), ty });
        }
        if !fields.is_empty() {
            self.b.facts.types.push(TypeDecl { name: name.into(), fields, span: span(node) });
        }
    }

    /// The decoded value of a string node.
    fn string_value(&self, node: Node<'_>) -> String {
        let t = self.text(node);
        let inner = if t.len() >= 2 { &t[1..t.len() - 1] } else { "" };
        unescape(inner)
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
            "identifier" | "shorthand_property_identifier" | "property_identifier" | "this" | "super" => {
                let t = self.text(node).to_owned();
                self.b.name(&t, sp)
            }
            "undefined" | "null" => self.b.expr(ExprKind::Null, sp),
            "true" => self.b.expr(ExprKind::Bool(true), sp),
            "false" => self.b.expr(ExprKind::Bool(false), sp),
            "number" => match parse_number(self.text(node)) {
                Some((value, integer)) => self.b.expr(ExprKind::Number { value, integer }, sp),
                None => self.b.other(sp),
            },
            "string" => {
                let v = self.string_value(node);
                self.b.str_lit(&v, sp)
            }
            "template_string" => self.template(node),
            "member_expression" => {
                let object = self.opt_expr(self.field(node, "object"), sp);
                let prop = self.field(node, "property").map(|p| self.text(p).to_owned()).unwrap_or_default();
                self.b.expr(ExprKind::Member(object, prop.into()), sp)
            }
            "subscript_expression" => {
                let object = self.opt_expr(self.field(node, "object"), sp);
                let index = self.opt_expr(self.field(node, "index"), sp);
                self.b.expr(ExprKind::Index(object, index), sp)
            }
            "call_expression" | "new_expression" => self.call(node),
            "await_expression" => match named_children(node).first() {
                Some(inner) => {
                    let id = self.expr(*inner);
                    self.b.mark_awaited(id);
                    id
                }
                None => self.b.other(sp),
            },
            "parenthesized_expression"
            | "non_null_expression"
            | "as_expression"
            | "satisfies_expression"
            | "type_assertion" => match named_children(node).first() {
                Some(inner) => self.expr(*inner),
                None => self.b.other(sp),
            },
            "object" => self.object(node),
            "array" => {
                let items: Vec<ExprId> = named_children(node).into_iter().map(|c| self.expr(c)).collect();
                self.b.expr(ExprKind::List(items.into()), sp)
            }
            "binary_expression" => {
                let op = self.field(node, "operator").map_or("", |o| self.text(o));
                let op = match op {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    "/" => BinOp::Div,
                    "%" => BinOp::Mod,
                    "**" => BinOp::Pow,
                    "==" | "===" => BinOp::Eq,
                    "!=" | "!==" => BinOp::Ne,
                    "<" => BinOp::Lt,
                    "<=" => BinOp::Le,
                    ">" => BinOp::Gt,
                    ">=" => BinOp::Ge,
                    "in" => BinOp::In,
                    "&&" => BinOp::And,
                    "||" | "??" => BinOp::Or,
                    _ => BinOp::Other,
                };
                let l = self.opt_expr(self.field(node, "left"), sp);
                let r = self.opt_expr(self.field(node, "right"), sp);
                self.b.expr(ExprKind::Binary(op, l, r), sp)
            }
            "unary_expression" => {
                let op = self.field(node, "operator").map_or("", |o| self.text(o));
                let arg = self.opt_expr(self.field(node, "argument"), sp);
                match op {
                    "!" => self.b.expr(ExprKind::Unary(UnOp::Not, arg), sp),
                    "-" => match self.b.facts.expr(arg).kind {
                        ExprKind::Number { value, integer } => {
                            self.b.expr(ExprKind::Number { value: -value, integer }, sp)
                        }
                        _ => self.b.expr(ExprKind::Unary(UnOp::Neg, arg), sp),
                    },
                    _ => self.b.expr(ExprKind::Unary(UnOp::Other, arg), sp),
                }
            }
            "assignment_expression" | "augmented_assignment_expression" => {
                let decl = if node.kind() == "assignment_expression" { DeclKind::Assign } else { DeclKind::Augmented };
                let value = self.field(node, "right").map(|r| self.expr(r));
                if let Some(left) = self.field(node, "left") {
                    self.bind_pattern(left, value, sp, decl);
                }
                value.unwrap_or_else(|| self.b.other(sp))
            }
            // `attempt++` is `attempt += 1`: the counter changes, so it is no constant.
            "update_expression" => {
                let target = self.opt_expr(self.field(node, "argument"), sp);
                let one = self.b.expr(ExprKind::Number { value: 1.0, integer: true }, sp);
                self.b.assign(target, Some(one), sp, DeclKind::Augmented);
                target
            }
            "arrow_function" | "function_expression" | "function" | "generator_function" => self.function(node, None),
            "class" => {
                self.class(node);
                self.b.other(sp)
            }
            "sequence_expression" => {
                let mut last = None;
                for c in named_children(node) {
                    last = Some(self.expr(c));
                }
                last.unwrap_or_else(|| self.b.other(sp))
            }
            _ => {
                for c in named_children(node) {
                    if matches!(c.kind(), "statement_block") {
                        self.stmt(c);
                    } else {
                        self.expr(c);
                    }
                }
                self.b.other(sp)
            }
        }
    }

    fn object(&mut self, node: Node<'_>) -> ExprId {
        let sp = span(node);
        let mut map = self.b.new_map(sp, MapKind::Literal);
        for child in named_children(node) {
            match child.kind() {
                "pair" => {
                    let (Some(k), Some(v)) = (self.field(child, "key"), self.field(child, "value")) else {
                        continue;
                    };
                    let key = match k.kind() {
                        "property_identifier" | "number" => Some(self.text(k).to_owned()),
                        "string" => Some(self.string_value(k)),
                        _ => None,
                    };
                    let value = self.expr(v);
                    if let Some(key) = key {
                        map.entries.push(Entry { key: key.into(), key_span: span(k), value, span: span(child) });
                    } else {
                        self.expr(k);
                    }
                }
                "shorthand_property_identifier" => {
                    let key = self.text(child).to_owned();
                    let value = self.b.name(&key, span(child));
                    map.entries.push(Entry { key: key.into(), key_span: span(child), value, span: span(child) });
                }
                "method_definition" => {
                    let key = self.field(child, "name").map(|n| self.text(n).to_owned());
                    let value = self.function(child, key.clone());
                    if let Some(key) = key {
                        map.entries.push(Entry { key: key.into(), key_span: span(child), value, span: span(child) });
                    }
                }
                "spread_element" => {
                    map.has_spread = true;
                    for c in named_children(child) {
                        self.expr(c);
                    }
                }
                _ => {}
            }
        }
        self.b.map(map)
    }

    fn call(&mut self, node: Node<'_>) -> ExprId {
        let sp = span(node);
        let is_new = node.kind() == "new_expression";
        let callee_node = if is_new { self.field(node, "constructor") } else { self.field(node, "function") };
        let callee = self.opt_expr(callee_node, sp);
        if let Some(test) = self.membership(node, callee) {
            return test;
        }
        let mut args = Vec::new();
        if let Some(arguments) = self.field(node, "arguments") {
            if arguments.kind() == "template_string" {
                // A tagged template: the template is the one argument.
                let t = self.expr(arguments);
                args.push(positional(t));
            } else {
                for a in named_children(arguments) {
                    if a.kind() == "spread_element" {
                        let inner = self.opt_expr(named_children(a).first().copied(), span(a));
                        args.push(Arg { name: None, value: inner, spread: true });
                    } else {
                        let v = self.expr(a);
                        args.push(positional(v));
                    }
                }
            }
        }
        self.b.call(callee, args, sp, is_new)
    }

    /// `["succeed", "failed"].includes(status)` is JavaScript's `status in (...)`:
    /// lowered to that comparison, so rules read it as they read Python's `in`.
    fn membership(&mut self, node: Node<'_>, callee: ExprId) -> Option<ExprId> {
        if node.kind() != "call_expression" {
            return None;
        }
        let ExprKind::Member(list, ref method) = self.b.facts.expr(callee).kind else { return None };
        if &**method != "includes" || !matches!(self.b.facts.expr(list).kind, ExprKind::List(_)) {
            return None;
        }
        let args = self.field(node, "arguments").filter(|a| a.kind() == "arguments")?;
        let args = named_children(args);
        let [item] = args.as_slice() else { return None };
        if item.kind() == "spread_element" {
            return None;
        }
        let item = self.expr(*item);
        Some(self.b.expr(ExprKind::Binary(BinOp::In, item, list), span(node)))
    }

    fn template(&mut self, node: Node<'_>) -> ExprId {
        let sp = span(node);
        let mut parts = Vec::new();
        let mut at = node.start_byte() + 1;
        let end = node.end_byte().saturating_sub(1).max(at);
        for c in named_children(node) {
            if c.kind() != "template_substitution" {
                continue;
            }
            if c.start_byte() > at {
                parts.push(Part::Lit(unescape(&self.src[at..c.start_byte()]).into()));
            }
            let inner = named_children(c).first().copied();
            let e = self.opt_expr(inner, span(c));
            parts.push(Part::Hole(e));
            at = c.end_byte();
        }
        if end > at {
            parts.push(Part::Lit(unescape(&self.src[at..end]).into()));
        }
        if parts.iter().all(|p| matches!(p, Part::Lit(_))) {
            let joined: String = parts.iter().map(|p| if let Part::Lit(s) = p { &**s } else { "" }).collect();
            return self.b.str_lit(&joined, sp);
        }
        self.b.expr(ExprKind::Template(parts.into()), sp)
    }
}

/// The expression inside `( ... )`.
fn unparen(node: Node<'_>) -> Node<'_> {
    if node.kind() == "parenthesized_expression" {
        named_children(node).into_iter().next().map_or(node, unparen)
    } else {
        node
    }
}

fn ts_type_kind(ty: &str) -> TypeKind {
    let t = ty.trim_start_matches(':').trim();
    let parts: Vec<&str> = t.split('|').map(str::trim).filter(|p| *p != "undefined" && *p != "null").collect();
    if !parts.is_empty() && parts.iter().all(|p| *p == "number" || p.parse::<f64>().is_ok()) {
        TypeKind::Number
    } else if !parts.is_empty() && parts.iter().all(|p| *p == "string" || p.starts_with('"') || p.starts_with('\'')) {
        TypeKind::Str
    } else {
        TypeKind::Other
    }
}
