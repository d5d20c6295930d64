//! Python frontend: lowers a tree-sitter-python tree into [`Facts`].

use tree_sitter::Node;

use super::builder::{Builder, parse_number, positional, unescape};
use super::ts::{Nodes, field_children, header_span, named_children, span, text};
use crate::facts::{
    Arg, Arm, BinOp, Conditional, DeclKind, Entry, ExitKind, ExprId, ExprKind, Facts, FieldDecl, Function, Import,
    LoopKind, MapKind, Param, Part, Span, TypeDecl, TypeKind, UnOp,
};

pub(crate) fn lower(root: Node<'_>, src: &str) -> Facts {
    let mut lw = Lower { b: Builder::new(), src };
    lw.block(root);
    lw.b.finish()
}

struct Lower<'s> {
    b: Builder,
    src: &'s str,
}

impl<'s> Lower<'s> {
    fn text(&self, node: Node<'_>) -> &'s str {
        text(node, self.src)
    }

    /// The child of `node` in field `name` (field ids cached; see [`super::ts::field`]).
    fn field<'t>(&self, node: Node<'t>, name: &'static str) -> Option<Node<'t>> {
        super::ts::field(node, crate::lang::Lang::Python, name)
    }

    /// Lower an optional child, or stand in an opaque expression where it is missing.
    fn opt_expr(&mut self, node: Option<Node<'_>>, sp: Span) -> ExprId {
        match node {
            Some(n) => self.expr(n),
            None => self.b.other(sp),
        }
    }

    fn block(&mut self, node: Node<'_>) {
        for child in named_children(node) {
            self.stmt(child);
        }
    }

    fn stmt(&mut self, node: Node<'_>) {
        if !self.b.descend() {
            return;
        }
        match node.kind() {
            "expression_statement" => {
                for child in named_children(node) {
                    match child.kind() {
                        "assignment" | "augmented_assignment" => self.assignment(child),
                        _ => {
                            self.expr(child);
                        }
                    }
                }
            }
            "assignment" | "augmented_assignment" => self.assignment(node),
            "function_definition" => self.function(node, Vec::new()),
            "class_definition" => self.class(node),
            "decorated_definition" => {
                let decorators: Vec<ExprId> = named_children(node)
                    .into_iter()
                    .filter(|c| c.kind() == "decorator")
                    .filter_map(|d| named_children(d).into_iter().next())
                    .map(|e| self.expr(e))
                    .collect();
                if let Some(def) = self.field(node, "definition") {
                    match def.kind() {
                        "function_definition" => self.function(def, decorators),
                        _ => self.stmt(def),
                    }
                }
            }
            "if_statement" => self.if_statement(node),
            "while_statement" => {
                let cond_node = self.field(node, "condition");
                let body = self.field(node, "body");
                let cond = cond_node.map(|c| self.expr(c));
                let infinite = cond_node.is_some_and(|c| matches!(c.kind(), "true") || self.text(c) == "1");
                let (kind, cond) = if infinite { (LoopKind::Infinite, None) } else { (LoopKind::While, cond) };
                self.b.add_loop(kind, cond, None, header_span(node, body, self.src), body.map_or(span(node), span));
                if let Some(body) = body {
                    self.block(body);
                }
                self.b.end_loop();
                for alt in field_children(node, "alternative") {
                    self.generic_stmt(alt);
                }
            }
            "for_statement" => {
                let body = self.field(node, "body");
                let iter = self.field(node, "right").map(|r| self.expr(r));
                if let Some(left) = self.field(node, "left") {
                    self.bind_targets(left, None, span(node), DeclKind::Let);
                }
                self.b.add_loop(
                    LoopKind::ForEach,
                    None,
                    iter,
                    header_span(node, body, self.src),
                    body.map_or(span(node), span),
                );
                if let Some(body) = body {
                    self.block(body);
                }
                self.b.end_loop();
                for alt in field_children(node, "alternative") {
                    self.generic_stmt(alt);
                }
            }
            "with_statement" => {
                for clause in named_children(node) {
                    if clause.kind() == "with_clause" {
                        for item in named_children(clause) {
                            let Some(value) = self.field(item, "value") else { continue };
                            if value.kind() == "as_pattern" {
                                let children = named_children(value);
                                let v = children.first().map(|e| self.expr(*e));
                                if let Some(alias) = self.field(value, "alias") {
                                    self.bind_targets(alias, v, span(item), DeclKind::Assign);
                                }
                            } else {
                                self.expr(value);
                            }
                        }
                    }
                }
                if let Some(body) = self.field(node, "body") {
                    self.block(body);
                }
            }
            "return_statement" => {
                let value = named_children(node).first().map(|e| self.expr(*e));
                if let (Some(f), Some(v)) = (self.b.func, value) {
                    self.b.add_return(f, v);
                }
                self.b.exit(ExitKind::Return, value, span(node));
            }
            "raise_statement" => {
                let value = named_children(node).first().map(|e| self.expr(*e));
                self.b.exit(ExitKind::Throw, value, span(node));
            }
            "break_statement" => self.b.break_(span(node), false),
            "continue_statement" => self.b.exit(ExitKind::Continue, None, span(node)),
            "import_statement" => self.import(node, None),
            "import_from_statement" => {
                let module = self.field(node, "module_name").map(|m| self.text(m).to_owned());
                self.import(node, module);
            }
            "match_statement" => self.match_statement(node),
            "try_statement" => {
                let body = self.field(node, "body");
                let handlers: Nodes<'_> = named_children(node)
                    .into_iter()
                    .filter(|c| matches!(c.kind(), "except_clause" | "except_group_clause"))
                    .collect();
                if let (Some(b), Some(first), Some(last)) = (body, handlers.first(), handlers.last()) {
                    let func = self.b.func;
                    let handler = Span::new(first.start_byte(), last.end_byte());
                    self.b.facts.handlers.push(crate::facts::Handler { body: span(b), handler, func });
                }
                self.generic_stmt(node);
            }
            "block" | "module" => self.block(node),
            "pass_statement" | "comment" | "global_statement" | "nonlocal_statement" | "future_import_statement" => {}
            _ => self.generic_stmt(node),
        }
        self.b.ascend();
    }

    /// Lower a statement we do not model specially: blocks as statements, everything
    /// else as expressions, so the calls and literals inside are still seen.
    fn generic_stmt(&mut self, node: Node<'_>) {
        for child in named_children(node) {
            match child.kind() {
                "block" | "else_clause" | "except_clause" | "finally_clause" | "except_group_clause" => {
                    self.generic_stmt(child);
                }
                k if k.ends_with("_statement") || k == "function_definition" || k == "decorated_definition" => {
                    self.stmt(child);
                }
                "expression_statement" => self.stmt(child),
                "as_pattern" => {
                    self.expr(child);
                }
                _ if child.is_named() => {
                    if is_statement_kind(child.kind()) {
                        self.stmt(child);
                    } else {
                        self.expr(child);
                    }
                }
                _ => {}
            }
        }
    }

    fn assignment(&mut self, node: Node<'_>) {
        let augmented = node.kind() == "augmented_assignment";
        let right = self.field(node, "right");
        let value = right.map(|r| match r.kind() {
            // `a = b = value`: lower the inner assignment, its value is ours too.
            "assignment" => {
                self.assignment(r);
                self.opt_expr(self.field(r, "right"), span(r))
            }
            _ => self.expr(r),
        });
        let Some(left) = self.field(node, "left") else { return };
        let decl = if augmented { DeclKind::Augmented } else { DeclKind::Assign };
        // Annotated names in a class body describe a request shape (dataclass,
        // TypedDict, pydantic model).
        self.bind_targets(left, value, span(node), decl);
    }

    fn bind_targets(&mut self, target: Node<'_>, value: Option<ExprId>, at: Span, decl: DeclKind) {
        match target.kind() {
            "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list" => {
                let values: Option<Vec<ExprId>> = value.and_then(|v| match &self.b.facts.expr(v).kind {
                    ExprKind::List(items) => Some(items.to_vec()),
                    _ => None,
                });
                for (i, t) in named_children(target).into_iter().enumerate() {
                    let v = values.as_ref().and_then(|vs| vs.get(i).copied());
                    self.bind_targets(t, v, at, decl);
                }
            }
            "as_pattern_target" => {
                if let Some(inner) = named_children(target).first() {
                    self.bind_targets(*inner, value, at, decl);
                }
            }
            _ => {
                let t = self.expr(target);
                self.b.assign(t, value, at, decl);
            }
        }
    }

    fn function(&mut self, node: Node<'_>, decorators: Vec<ExprId>) {
        let name = self.field(node, "name").map(|n| self.text(n).into());
        let is_async = node.child(0).is_some_and(|c| c.kind() == "async");
        let body = self.field(node, "body");
        let params = self.field(node, "parameters").map(|p| self.params(p)).unwrap_or_default();
        let function = Function {
            name,
            class: None,
            params,
            span: span(node),
            body: body.map_or(span(node), span),
            parent: None,
            is_async,
            returns: Vec::new(),
            decorators,
        };
        let scope = self.b.enter_function(function);
        if let Some(body) = body {
            self.block(body);
        }
        self.b.leave(scope);
    }

    fn params(&mut self, node: Node<'_>) -> Vec<Param> {
        let mut out = Vec::new();
        for p in named_children(node) {
            let (name, default) = match p.kind() {
                "identifier" => (Some(self.text(p).to_owned()), None),
                "typed_parameter" => (named_children(p).first().map(|n| self.text(*n).to_owned()), None),
                "default_parameter" | "typed_default_parameter" => (
                    self.field(p, "name").map(|n| self.text(n).to_owned()),
                    self.field(p, "value").map(|v| self.expr(v)),
                ),
                "list_splat_pattern" | "dictionary_splat_pattern" => {
                    (named_children(p).first().map(|n| self.text(*n).to_owned()), None)
                }
                _ => (None, None),
            };
            if let Some(name) = name {
                out.push(Param { name: name.into(), default });
            }
        }
        out
    }

    fn class(&mut self, node: Node<'_>) {
        let name = self.field(node, "name").map_or_else(String::new, |n| self.text(n).to_owned());
        if let Some(sup) = self.field(node, "superclasses") {
            self.expr(sup);
        }
        let Some(body) = self.field(node, "body") else { return };
        let mut fields = Vec::new();
        for stmt in named_children(body) {
            let assignment = match stmt.kind() {
                "expression_statement" => named_children(stmt).into_iter().find(|c| c.kind() == "assignment"),
                _ => None,
            };
            let Some(a) = assignment else { continue };
            if let (Some(left), Some(ty)) = (self.field(a, "left"), self.field(a, "type"))
                && left.kind() == "identifier"
            {
                fields.push(FieldDecl {
                    key: self.text(left).into(),
                    span: span(a),
                    ty: python_type_kind(self.text(ty)),
                });
            }
        }
        if !fields.is_empty() {
            self.b.facts.types.push(TypeDecl { name: name.as_str().into(), fields, span: span(node) });
        }
        let scope = self.b.enter_class(&name);
        self.block(body);
        self.b.leave(scope);
    }

    fn if_statement(&mut self, node: Node<'_>) {
        let mut arms = Vec::new();
        let mut otherwise = None;
        let cond = self.field(node, "condition").map(|c| self.expr(c));
        let at = span(node);
        if let (Some(cond), Some(body)) = (cond, self.field(node, "consequence")) {
            arms.push(Arm { test: cond, body: span(body) });
            self.b.push_guard(cond, false, at);
            self.block(body);
            self.b.pop_guard();
        }
        for alt in field_children(node, "alternative") {
            match alt.kind() {
                "elif_clause" => {
                    let c = self.field(alt, "condition").map(|c| self.expr(c));
                    if let (Some(c), Some(body)) = (c, self.field(alt, "consequence")) {
                        arms.push(Arm { test: c, body: span(body) });
                        self.b.push_guard(c, false, at);
                        self.block(body);
                        self.b.pop_guard();
                    }
                }
                "else_clause" => {
                    if let Some(body) = self.field(alt, "body") {
                        otherwise = Some(span(body));
                        if let Some(c) = cond {
                            self.b.push_guard(c, true, at);
                        }
                        self.block(body);
                        if cond.is_some() {
                            self.b.pop_guard();
                        }
                    }
                }
                _ => {}
            }
        }
        let func = self.b.func;
        self.b.facts.conditionals.push(Conditional { arms, otherwise, span: at, func });
    }

    fn match_statement(&mut self, node: Node<'_>) {
        let Some(subject) = self.field(node, "subject").map(|s| self.expr(s)) else { return };
        let mut arms = Vec::new();
        let mut otherwise = None;
        let Some(body) = self.field(node, "body") else { return };
        for case in named_children(body) {
            if case.kind() != "case_clause" {
                continue;
            }
            let consequence = self.field(case, "consequence");
            let patterns: Nodes<'_> = named_children(case).into_iter().filter(|c| c.kind() == "case_pattern").collect();
            let is_default = patterns.iter().all(|p| self.text(*p) == "_");
            if is_default {
                otherwise = consequence.map(span);
            } else {
                for p in patterns {
                    let value = self.opt_expr(named_children(p).first().copied(), span(p));
                    let test = self.b.expr(ExprKind::Binary(BinOp::Eq, subject, value), span(p));
                    arms.push(Arm { test, body: consequence.map_or(span(case), span) });
                }
            }
            if let Some(c) = consequence {
                self.block(c);
            }
        }
        let func = self.b.func;
        self.b.facts.conditionals.push(Conditional { arms, otherwise, span: span(node), func });
    }

    fn import(&mut self, node: Node<'_>, from: Option<String>) {
        for name in field_children(node, "name") {
            let (path, alias) = match name.kind() {
                "aliased_import" => (
                    self.field(name, "name").map(|n| self.text(n).to_owned()).unwrap_or_default(),
                    self.field(name, "alias").map(|a| self.text(a).to_owned()),
                ),
                _ => (self.text(name).to_owned(), None),
            };
            let import = match &from {
                Some(module) => Import {
                    module: module.as_str().into(),
                    local: alias.unwrap_or_else(|| path.clone()).into(),
                    name: Some(path.into()),
                    span: span(node),
                },
                None => Import {
                    local: alias.unwrap_or_else(|| path.split('.').next().unwrap_or("").to_owned()).into(),
                    module: path.into(),
                    name: None,
                    span: span(node),
                },
            };
            self.b.facts.imports.push(import);
        }
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
            "identifier" => {
                let t = self.text(node).to_owned();
                self.b.name(&t, sp)
            }
            "attribute" => {
                let object = self.opt_expr(self.field(node, "object"), sp);
                let attr = self.field(node, "attribute").map(|a| self.text(a).to_owned()).unwrap_or_default();
                self.b.expr(ExprKind::Member(object, attr.into()), sp)
            }
            "subscript" => {
                let value = self.opt_expr(self.field(node, "value"), sp);
                let index = self.opt_expr(field_children(node, "subscript").first().copied(), sp);
                self.b.expr(ExprKind::Index(value, index), sp)
            }
            "call" => self.call(node),
            "string" => self.string(node),
            "concatenated_string" => {
                let mut parts = Vec::new();
                for s in named_children(node) {
                    let id = self.string(s);
                    match &self.b.facts.expr(id).kind {
                        ExprKind::Str(v) => parts.push(Part::Lit(v.clone())),
                        ExprKind::Template(ps) => parts.extend(ps.iter().cloned()),
                        _ => parts.push(Part::Hole(id)),
                    }
                }
                if parts.iter().all(|p| matches!(p, Part::Lit(_))) {
                    let joined: String = parts.iter().map(|p| if let Part::Lit(s) = p { &**s } else { "" }).collect();
                    self.b.str_lit(&joined, sp)
                } else {
                    self.b.expr(ExprKind::Template(parts.into()), sp)
                }
            }
            "integer" | "float" => match parse_number(self.text(node)) {
                Some((value, integer)) => self.b.expr(ExprKind::Number { value, integer }, sp),
                None => self.b.other(sp),
            },
            "true" => self.b.expr(ExprKind::Bool(true), sp),
            "false" => self.b.expr(ExprKind::Bool(false), sp),
            "none" => self.b.expr(ExprKind::Null, sp),
            "dictionary" => {
                let mut map = self.b.new_map(sp, MapKind::Literal);
                for child in named_children(node) {
                    match child.kind() {
                        "pair" => {
                            let (Some(k), Some(v)) = (self.field(child, "key"), self.field(child, "value")) else {
                                continue;
                            };
                            let key_id = self.expr(k);
                            let value = self.expr(v);
                            if let Some(key) = self.b.facts.str_of(key_id).map(str::to_owned) {
                                map.entries.push(Entry {
                                    key: key.into(),
                                    key_span: span(k),
                                    value,
                                    span: span(child),
                                });
                            }
                        }
                        "dictionary_splat" => {
                            map.has_spread = true;
                            for c in named_children(child) {
                                self.expr(c);
                            }
                        }
                        _ => {
                            self.expr(child);
                        }
                    }
                }
                self.b.map(map)
            }
            "list" | "tuple" | "set" | "expression_list" => {
                let items: Vec<ExprId> = named_children(node).into_iter().map(|c| self.expr(c)).collect();
                self.b.expr(ExprKind::List(items.into()), sp)
            }
            "binary_operator" => {
                let op = self.field(node, "operator").map_or("", |o| self.text(o));
                let op = match op {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    "/" | "//" => BinOp::Div,
                    "%" => BinOp::Mod,
                    "**" => BinOp::Pow,
                    _ => BinOp::Other,
                };
                self.binary(node, op)
            }
            "boolean_operator" => {
                let op = self.field(node, "operator").map_or("", |o| self.text(o));
                self.binary(node, if op == "and" { BinOp::And } else { BinOp::Or })
            }
            "comparison_operator" => self.comparison(node),
            "not_operator" => {
                let arg = self.opt_expr(self.field(node, "argument"), sp);
                self.b.expr(ExprKind::Unary(UnOp::Not, arg), sp)
            }
            "unary_operator" => {
                let op = self.field(node, "operator").map_or("", |o| self.text(o));
                let arg = self.opt_expr(self.field(node, "argument"), sp);
                if op == "-" {
                    // Fold `-5` into a literal so ranges see negative numbers.
                    if let ExprKind::Number { value, integer } = self.b.facts.expr(arg).kind {
                        return self.b.expr(ExprKind::Number { value: -value, integer }, sp);
                    }
                    return self.b.expr(ExprKind::Unary(UnOp::Neg, arg), sp);
                }
                self.b.expr(ExprKind::Unary(UnOp::Other, arg), sp)
            }
            "parenthesized_expression" => match named_children(node).first() {
                Some(inner) => self.expr(*inner),
                None => self.b.other(sp),
            },
            "await" => match named_children(node).first() {
                Some(inner) => {
                    let id = self.expr(*inner);
                    self.b.mark_awaited(id);
                    id
                }
                None => self.b.other(sp),
            },
            "lambda" => {
                let params = self.field(node, "parameters").map(|p| self.params(p)).unwrap_or_default();
                let body = self.field(node, "body");
                let function = Function {
                    name: None,
                    class: None,
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
                if let Some(body) = body {
                    let v = self.expr(body);
                    self.b.add_return(fid, v);
                }
                self.b.leave(scope);
                self.b.expr(ExprKind::Closure(fid), sp)
            }
            "named_expression" => {
                let value = self.field(node, "value").map(|v| self.expr(v));
                if let Some(name) = self.field(node, "name") {
                    let t = self.expr(name);
                    self.b.assign(t, value, sp, DeclKind::Assign);
                }
                value.unwrap_or_else(|| self.b.other(sp))
            }
            "keyword_argument" => self.opt_expr(self.field(node, "value"), sp),
            _ => {
                for child in named_children(node) {
                    self.expr(child);
                }
                self.b.other(sp)
            }
        }
    }

    fn binary(&mut self, node: Node<'_>, op: BinOp) -> ExprId {
        let sp = span(node);
        let l = self.opt_expr(self.field(node, "left"), sp);
        let r = self.opt_expr(self.field(node, "right"), sp);
        self.b.expr(ExprKind::Binary(op, l, r), sp)
    }

    /// `a < b < c` becomes `a < b and b < c`; `not in` and `is not` are one operator.
    fn comparison(&mut self, node: Node<'_>) -> ExprId {
        let sp = span(node);
        let mut operands = Vec::new();
        let mut ops = Vec::new();
        let mut cursor = node.walk();
        let mut children = Vec::new();
        if cursor.goto_first_child() {
            loop {
                children.push((cursor.node(), cursor.field_name() == Some("operators")));
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        for (child, is_operator) in children {
            if is_operator {
                ops.push(match self.text(child).split_whitespace().collect::<Vec<_>>().join(" ").as_str() {
                    "==" | "is" => BinOp::Eq,
                    "!=" | "is not" | "<>" => BinOp::Ne,
                    "<" => BinOp::Lt,
                    "<=" => BinOp::Le,
                    ">" => BinOp::Gt,
                    ">=" => BinOp::Ge,
                    "in" => BinOp::In,
                    "not in" => BinOp::NotIn,
                    _ => BinOp::Other,
                });
            } else if child.is_named() && child.kind() != "comment" {
                operands.push(child);
            }
        }
        let lowered: Vec<ExprId> = operands.iter().map(|o| self.expr(*o)).collect();
        let mut result: Option<ExprId> = None;
        for (i, op) in ops.iter().enumerate() {
            let (Some(&l), Some(&r)) = (lowered.get(i), lowered.get(i + 1)) else { break };
            let cmp_span = Span::new(operands[i].start_byte(), operands[i + 1].end_byte());
            let cmp = self.b.expr(ExprKind::Binary(*op, l, r), cmp_span);
            result = Some(match result {
                Some(prev) => self.b.expr(ExprKind::Binary(BinOp::And, prev, cmp), sp),
                None => cmp,
            });
        }
        result.unwrap_or_else(|| self.b.other(sp))
    }

    fn call(&mut self, node: Node<'_>) -> ExprId {
        let sp = span(node);
        let function = self.field(node, "function");
        let callee = self.opt_expr(function, sp);
        let mut args = Vec::new();
        if let Some(arguments) = self.field(node, "arguments") {
            if arguments.kind() == "generator_expression" {
                let g = self.expr(arguments);
                args.push(positional(g));
            } else {
                for a in named_children(arguments) {
                    match a.kind() {
                        "keyword_argument" => {
                            let name = self.field(a, "name").map(|n| self.text(n).to_owned());
                            let value = self.opt_expr(self.field(a, "value"), span(a));
                            args.push(Arg { name: name.map(Into::into), value, spread: false });
                        }
                        "list_splat" | "dictionary_splat" => {
                            let inner = self.opt_expr(named_children(a).first().copied(), span(a));
                            args.push(Arg { name: None, value: inner, spread: true });
                        }
                        _ => {
                            let v = self.expr(a);
                            args.push(positional(v));
                        }
                    }
                }
            }
        }
        // `dict(model_name=..., duration=5)` is a map literal in all but syntax.
        if self.b.facts.name_of(callee) == Some("dict")
            && args.iter().all(|a| a.name.is_some() || a.spread)
            && !args.is_empty()
        {
            let mut map = self.b.new_map(sp, MapKind::DictCall);
            let arguments = self.field(node, "arguments");
            let kw_nodes: Nodes<'_> = arguments
                .map(named_children)
                .unwrap_or_default()
                .into_iter()
                .filter(|a| a.kind() == "keyword_argument")
                .collect();
            for (a, kw) in args.iter().filter(|a| a.name.is_some()).zip(kw_nodes) {
                let key_span = self.field(kw, "name").map_or(span(kw), span);
                map.entries.push(Entry {
                    key: a.name.clone().unwrap_or_default(),
                    key_span,
                    value: a.value,
                    span: span(kw),
                });
            }
            map.has_spread = args.iter().any(|a| a.spread);
            return self.b.map(map);
        }
        self.b.call(callee, args, sp, false)
    }

    fn string(&mut self, node: Node<'_>) -> ExprId {
        let sp = span(node);
        if node.kind() != "string" {
            return self.expr(node);
        }
        let children = named_children(node);
        let start = children.iter().find(|c| c.kind() == "string_start");
        let end = children.iter().rev().find(|c| c.kind() == "string_end");
        let prefix = start.map_or("", |s| self.text(*s)).to_ascii_lowercase();
        let raw = prefix.contains('r');
        let content_start = start.map_or(node.start_byte(), tree_sitter::Node::end_byte);
        let content_end = end.map_or(node.end_byte(), tree_sitter::Node::start_byte).max(content_start);
        let holes: Nodes<'_> = children.into_iter().filter(|c| c.kind() == "interpolation").collect();
        let decode = |s: &str| if raw { s.to_owned() } else { unescape(s) };
        if holes.is_empty() {
            let v = decode(&self.src[content_start..content_end]);
            return self.b.str_lit(&v, sp);
        }
        let mut parts = Vec::new();
        let mut at = content_start;
        for h in holes {
            if h.start_byte() > at {
                let lit = decode(&self.src[at..h.start_byte()]).replace("{{", "{").replace("}}", "}");
                parts.push(Part::Lit(lit.into()));
            }
            let inner = self.field(h, "expression").or_else(|| named_children(h).first().copied());
            let e = self.opt_expr(inner, span(h));
            parts.push(Part::Hole(e));
            at = h.end_byte();
        }
        if content_end > at {
            let lit = decode(&self.src[at..content_end]).replace("{{", "{").replace("}}", "}");
            parts.push(Part::Lit(lit.into()));
        }
        self.b.expr(ExprKind::Template(parts.into()), sp)
    }
}

fn is_statement_kind(kind: &str) -> bool {
    kind.ends_with("_statement") || matches!(kind, "block" | "function_definition" | "class_definition")
}

fn python_type_kind(ty: &str) -> TypeKind {
    let words: Vec<&str> = ty.split(|c: char| !c.is_alphanumeric() && c != '_').filter(|w| !w.is_empty()).collect();
    let has = |w: &str| words.contains(&w);
    if has("str") || has("Literal") && ty.contains('"') {
        TypeKind::Str
    } else if has("int") || has("float") || has("Decimal") {
        TypeKind::Number
    } else {
        TypeKind::Other
    }
}
