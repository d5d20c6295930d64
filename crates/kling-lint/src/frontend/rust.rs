//! Rust frontend: lowers a `syn` syntax tree into [`Facts`], with byte spans from
//! proc-macro2's span locations. Macros matter in Rust client code, so the bodies of
//! `serde_json::json!`, the format macros (whose `{name}` holes name variables) and
//! `lazy_static!`/`thread_local!` are lowered too.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Item, Lit, Member, Pat, Stmt, Token, UseTree};

use super::ParseError;
use super::builder::{Builder, positional};
use crate::facts::{
    Arg, Arm, BinOp, Conditional, DeclKind, Entry, ExitKind, ExprId, ExprKind, Facts, FieldDecl, Function, Import,
    LoopKind, MapKind, Param, Part, Span, TypeDecl, TypeKind, UnOp,
};

/// `syn` parses recursively; deeper nesting than this (only ever seen in generated
/// or hostile input) is reported instead of risking the thread's stack.
const MAX_NESTING: usize = 256;

pub(crate) fn lower(text: &str) -> Result<Facts, ParseError> {
    if let Some(at) = too_deep(text) {
        return Err(ParseError {
            span: Span::new(at, at + 1),
            message: format!("brackets nest deeper than {MAX_NESTING} levels; the file is not parsed"),
        });
    }
    let result = syn::parse_file(text).map_err(|e| {
        let r = e.span().byte_range();
        ParseError { span: Span::new(r.start, r.end), message: e.to_string() }
    });
    let facts = result.map(|file| {
        let mut lw = Lower { b: Builder::new() };
        for item in &file.items {
            lw.item(item);
        }
        lw.b.finish()
    });
    // proc-macro2 keeps every parsed source in a per-thread map; spans are already
    // converted, so free it rather than let a long scan grow it without bound.
    proc_macro2::extra::invalidate_current_thread_spans();
    facts
}

fn sp<T: Spanned>(node: &T) -> Span {
    let r = node.span().byte_range();
    Span::new(r.start, r.end)
}

struct Lower {
    b: Builder,
}

impl Lower {
    fn item(&mut self, item: &Item) {
        if !self.b.descend() {
            return;
        }
        match item {
            Item::Fn(f) => {
                self.function(Some(f.sig.ident.to_string()), None, &f.sig, &f.block, &f.attrs, sp(f));
            }
            Item::Impl(imp) => {
                let class = type_name(&imp.self_ty);
                for it in &imp.items {
                    match it {
                        syn::ImplItem::Fn(f) => {
                            self.function(
                                Some(f.sig.ident.to_string()),
                                class.clone(),
                                &f.sig,
                                &f.block,
                                &f.attrs,
                                sp(f),
                            );
                        }
                        syn::ImplItem::Const(c) => {
                            let v = self.expr(&c.expr);
                            let t = self.b.name(&c.ident.to_string(), sp(&c.ident));
                            self.b.assign(t, Some(v), sp(c), DeclKind::Const);
                        }
                        _ => {}
                    }
                }
            }
            Item::Trait(t) => {
                let class = Some(t.ident.to_string());
                for it in &t.items {
                    if let syn::TraitItem::Fn(f) = it
                        && let Some(block) = &f.default
                    {
                        self.function(Some(f.sig.ident.to_string()), class.clone(), &f.sig, block, &f.attrs, sp(f));
                    }
                }
            }
            Item::Static(s) => {
                let v = self.expr(&s.expr);
                let t = self.b.name(&s.ident.to_string(), sp(&s.ident));
                self.b.assign(t, Some(v), sp(s), DeclKind::Static);
            }
            Item::Const(c) => {
                let v = self.expr(&c.expr);
                let t = self.b.name(&c.ident.to_string(), sp(&c.ident));
                self.b.assign(t, Some(v), sp(c), DeclKind::Const);
            }
            Item::Struct(s) => self.struct_decl(s),
            Item::Use(u) => {
                let mut prefix = Vec::new();
                self.use_tree(&u.tree, &mut prefix, sp(u));
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    for it in items {
                        self.item(it);
                    }
                }
            }
            Item::Macro(m) => self.item_macro(&m.mac),
            _ => {}
        }
        self.b.ascend();
    }

    fn use_tree(&mut self, tree: &UseTree, prefix: &mut Vec<String>, at: Span) {
        match tree {
            UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(&p.tree, prefix, at);
                prefix.pop();
            }
            UseTree::Name(n) => self.push_use(prefix, &n.ident.to_string(), &n.ident.to_string(), at),
            UseTree::Rename(r) => self.push_use(prefix, &r.ident.to_string(), &r.rename.to_string(), at),
            UseTree::Glob(_) => self.push_use(prefix, "*", "*", at),
            UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(t, prefix, at);
                }
            }
        }
    }

    fn push_use(&mut self, prefix: &[String], name: &str, local: &str, at: Span) {
        let (module, name) = if name == "self" {
            (prefix[..prefix.len().saturating_sub(1)].join("::"), prefix.last().cloned().unwrap_or_default())
        } else {
            (prefix.join("::"), name.to_owned())
        };
        let local = if local == "self" { name.clone() } else { local.to_owned() };
        self.b.facts.imports.push(Import {
            module: module.into(),
            name: Some(name.into()),
            local: local.into(),
            span: at,
        });
    }

    fn struct_decl(&mut self, s: &syn::ItemStruct) {
        let syn::Fields::Named(named) = &s.fields else { return };
        let mut fields = Vec::new();
        for f in &named.named {
            let Some(ident) = &f.ident else { continue };
            let key = serde_rename(&f.attrs).unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned());
            // From the name to the type: a `#[serde(rename)]` above is not the field.
            let span = sp(ident).cover(sp(&f.ty));
            fields.push(FieldDecl { key: key.into(), span, ty: rust_type_kind(&f.ty) });
        }
        if !fields.is_empty() {
            self.b.facts.types.push(TypeDecl { name: s.ident.to_string().into(), fields, span: sp(s) });
        }
    }

    /// `lazy_static! { static ref NAME: T = expr; }` and `thread_local!` declare
    /// values computed once.
    fn item_macro(&mut self, mac: &syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if name != "lazy_static" && name != "thread_local" {
            return;
        }
        let tokens: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            let is_static = matches!(&tokens[i], TokenTree::Ident(id) if id == "static");
            if !is_static {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            if matches!(tokens.get(j), Some(TokenTree::Ident(id)) if id == "ref") {
                j += 1;
            }
            let Some(TokenTree::Ident(ident)) = tokens.get(j) else {
                i += 1;
                continue;
            };
            let ident = ident.clone();
            while j < tokens.len() && !matches!(&tokens[j], TokenTree::Punct(p) if p.as_char() == '=') {
                j += 1;
            }
            let start = j + 1;
            let mut end = start;
            while end < tokens.len() && !matches!(&tokens[end], TokenTree::Punct(p) if p.as_char() == ';') {
                end += 1;
            }
            let stream: TokenStream = tokens[start.min(tokens.len())..end.min(tokens.len())].iter().cloned().collect();
            if let Ok(expr) = syn::parse2::<Expr>(stream) {
                let v = self.expr(&expr);
                let t = self.b.name(&ident.to_string(), sp(&ident));
                let at = sp(&ident).cover(sp(&expr));
                self.b.assign(t, Some(v), at, DeclKind::Static);
            }
            i = end + 1;
        }
    }

    fn function(
        &mut self,
        name: Option<String>,
        class: Option<String>,
        sig: &syn::Signature,
        block: &syn::Block,
        attrs: &[syn::Attribute],
        span: Span,
    ) -> ExprId {
        let params = sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(t) => pat_name(&t.pat).map(|n| Param { name: n.into(), default: None }),
                syn::FnArg::Receiver(_) => Some(Param { name: "self".into(), default: None }),
            })
            .collect();
        let decorators = attrs
            .iter()
            .map(|a| {
                let path = a.path().segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join(".");
                self.b.name(&path, sp(a))
            })
            .collect();
        let function = Function {
            name: name.map(Into::into),
            class: class.map(Into::into),
            params,
            span,
            body: sp(block),
            parent: None,
            is_async: sig.asyncness.is_some(),
            returns: Vec::new(),
            decorators,
        };
        let scope = self.b.enter_function(function);
        let fid = scope.id.expect("a function was entered");
        let tail = self.block(block);
        if let Some(t) = tail {
            self.b.add_return(fid, t);
        }
        self.b.leave(scope);
        self.b.expr(ExprKind::Closure(fid), span)
    }

    /// Lower a block; returns its tail expression.
    fn block(&mut self, block: &syn::Block) -> Option<ExprId> {
        let mut tail = None;
        for stmt in &block.stmts {
            tail = None;
            match stmt {
                Stmt::Local(local) => {
                    let value = local.init.as_ref().map(|init| {
                        let v = self.expr(&init.expr);
                        if let Some((_, diverge)) = &init.diverge {
                            self.expr(diverge);
                        }
                        v
                    });
                    self.bind(&local.pat, value, sp(local));
                }
                Stmt::Item(item) => self.item(item),
                Stmt::Expr(e, semi) => {
                    let v = self.expr(e);
                    if semi.is_none() {
                        tail = Some(v);
                    }
                }
                Stmt::Macro(m) => {
                    self.macro_call(&m.mac, sp(m));
                }
            }
        }
        tail
    }

    fn bind(&mut self, pat: &Pat, value: Option<ExprId>, at: Span) {
        match pat {
            Pat::Ident(p) => {
                let t = self.b.name(&p.ident.to_string(), sp(&p.ident));
                self.b.assign(t, value, at, DeclKind::Let);
            }
            Pat::Type(t) => self.bind(&t.pat, value, at),
            Pat::Tuple(t) => {
                for p in &t.elems {
                    self.bind(p, None, at);
                }
            }
            Pat::TupleStruct(t) => {
                for p in &t.elems {
                    self.bind(p, value, at);
                }
            }
            _ => {}
        }
    }

    fn expr(&mut self, e: &Expr) -> ExprId {
        if !self.b.descend() {
            return self.b.other(sp(e));
        }
        let id = self.expr_inner(e);
        self.b.ascend();
        id
    }

    fn expr_inner(&mut self, e: &Expr) -> ExprId {
        let span = sp(e);
        match e {
            Expr::Lit(l) => self.lit(&l.lit, span),
            Expr::Path(p) => self.path(&p.path, span),
            Expr::Field(f) => {
                let base = self.expr(&f.base);
                let name = match &f.member {
                    Member::Named(id) => id.to_string(),
                    Member::Unnamed(i) => i.index.to_string(),
                };
                self.b.expr(ExprKind::Member(base, name.into()), span)
            }
            Expr::Index(i) => {
                let obj = self.expr(&i.expr);
                let idx = self.expr(&i.index);
                self.b.expr(ExprKind::Index(obj, idx), span)
            }
            Expr::Call(c) => {
                let callee = self.expr(&c.func);
                let args: Vec<Arg> = c.args.iter().map(|a| positional(self.expr(a))).collect();
                self.b.call(callee, args, span, false)
            }
            Expr::MethodCall(m) => {
                let receiver = self.expr(&m.receiver);
                // Borrowing views do not change what a value is: `task.task_status.as_str()`
                // is the status, as `&task.task_status` is.
                if m.args.is_empty() && matches!(m.method.to_string().as_str(), "as_str" | "as_deref" | "as_ref") {
                    return receiver;
                }
                let callee = self.b.expr(ExprKind::Member(receiver, m.method.to_string().into()), span);
                let args: Vec<Arg> = m.args.iter().map(|a| positional(self.expr(a))).collect();
                self.b.call(callee, args, span, false)
            }
            Expr::Struct(s) => {
                let name = s.path.segments.iter().map(|x| x.ident.to_string()).collect::<Vec<_>>().join("::");
                let mut map = self.b.new_map(span, MapKind::Struct(name.into()));
                for fv in &s.fields {
                    let key = match &fv.member {
                        Member::Named(id) => id.to_string(),
                        Member::Unnamed(i) => i.index.to_string(),
                    };
                    let value = self.expr(&fv.expr);
                    map.entries.push(Entry { key: key.into(), key_span: sp(&fv.member), value, span: sp(fv) });
                }
                if let Some(rest) = &s.rest {
                    map.has_spread = true;
                    self.expr(rest);
                }
                self.b.map(map)
            }
            Expr::Binary(b) => {
                let l = self.expr(&b.left);
                let r = self.expr(&b.right);
                use syn::BinOp as B;
                let (op, assign) = match b.op {
                    B::Add(_) => (BinOp::Add, false),
                    B::Sub(_) => (BinOp::Sub, false),
                    B::Mul(_) => (BinOp::Mul, false),
                    B::Div(_) => (BinOp::Div, false),
                    B::Rem(_) => (BinOp::Mod, false),
                    B::And(_) => (BinOp::And, false),
                    B::Or(_) => (BinOp::Or, false),
                    B::Eq(_) => (BinOp::Eq, false),
                    B::Ne(_) => (BinOp::Ne, false),
                    B::Lt(_) => (BinOp::Lt, false),
                    B::Le(_) => (BinOp::Le, false),
                    B::Gt(_) => (BinOp::Gt, false),
                    B::Ge(_) => (BinOp::Ge, false),
                    B::AddAssign(_) | B::SubAssign(_) | B::MulAssign(_) | B::DivAssign(_) => (BinOp::Other, true),
                    _ => (BinOp::Other, false),
                };
                if assign {
                    self.b.assign(l, Some(r), span, DeclKind::Augmented);
                }
                self.b.expr(ExprKind::Binary(op, l, r), span)
            }
            Expr::Unary(u) => {
                let inner = self.expr(&u.expr);
                match u.op {
                    syn::UnOp::Not(_) => self.b.expr(ExprKind::Unary(UnOp::Not, inner), span),
                    syn::UnOp::Neg(_) => match self.b.facts.expr(inner).kind {
                        ExprKind::Number { value, integer } => {
                            self.b.expr(ExprKind::Number { value: -value, integer }, span)
                        }
                        _ => self.b.expr(ExprKind::Unary(UnOp::Neg, inner), span),
                    },
                    _ => inner,
                }
            }
            // Wrappers that do not change what a value is.
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Reference(r) => self.expr(&r.expr),
            Expr::Try(t) => self.expr(&t.expr),
            Expr::Cast(c) => self.expr(&c.expr),
            Expr::Await(a) => {
                let id = self.expr(&a.base);
                self.b.mark_awaited(id);
                id
            }
            Expr::Array(a) => {
                let items: Vec<ExprId> = a.elems.iter().map(|x| self.expr(x)).collect();
                self.b.expr(ExprKind::List(items.into()), span)
            }
            Expr::Tuple(t) => {
                let items: Vec<ExprId> = t.elems.iter().map(|x| self.expr(x)).collect();
                self.b.expr(ExprKind::List(items.into()), span)
            }
            Expr::Assign(a) => {
                let value = self.expr(&a.right);
                let target = self.expr(&a.left);
                self.b.assign(target, Some(value), span, DeclKind::Assign);
                value
            }
            Expr::Block(b) => self.block(&b.block).unwrap_or_else(|| self.b.other(span)),
            Expr::Unsafe(b) => self.block(&b.block).unwrap_or_else(|| self.b.other(span)),
            // An async block is a deferred body, like a closure: its `return` and `?`
            // leave the block, not the enclosing function, and it runs where it is
            // awaited (perhaps under `tokio::time::timeout`).
            Expr::Async(b) => {
                let function = Function {
                    name: None,
                    class: None,
                    params: Vec::new(),
                    span,
                    body: sp(&b.block),
                    parent: None,
                    is_async: true,
                    returns: Vec::new(),
                    decorators: Vec::new(),
                };
                let scope = self.b.enter_function(function);
                let fid = scope.id.expect("a function was entered");
                if let Some(tail) = self.block(&b.block) {
                    self.b.add_return(fid, tail);
                }
                self.b.leave(scope);
                self.b.expr(ExprKind::Closure(fid), span)
            }
            Expr::Closure(c) => {
                let params = c
                    .inputs
                    .iter()
                    .filter_map(|p| pat_name(p).map(|n| Param { name: n.into(), default: None }))
                    .collect();
                let function = Function {
                    name: None,
                    class: None,
                    params,
                    span,
                    body: sp(&c.body),
                    parent: None,
                    is_async: c.asyncness.is_some(),
                    returns: Vec::new(),
                    decorators: Vec::new(),
                };
                let scope = self.b.enter_function(function);
                let fid = scope.id.expect("a function was entered");
                let v = self.expr(&c.body);
                self.b.add_return(fid, v);
                self.b.leave(scope);
                self.b.expr(ExprKind::Closure(fid), span)
            }
            Expr::If(_) => self.if_chain(e),
            Expr::Match(m) => {
                let subject = self.expr(&m.expr);
                let mut arms = Vec::new();
                let mut otherwise = None;
                for arm in &m.arms {
                    let body_span = sp(&arm.body);
                    let mut pats = Vec::new();
                    flatten_or(&arm.pat, &mut pats);
                    for p in pats {
                        match p {
                            Pat::Wild(_) | Pat::Ident(_) if arm.guard.is_none() => otherwise = Some(body_span),
                            Pat::Lit(l) => {
                                let value = self.expr_lit(l);
                                let test = self.b.expr(ExprKind::Binary(BinOp::Eq, subject, value), sp(p));
                                arms.push(Arm { test, body: body_span });
                            }
                            _ => {}
                        }
                    }
                    if let Some((_, g)) = &arm.guard {
                        self.expr(g);
                    }
                    self.expr(&arm.body);
                }
                let func = self.b.func;
                self.b.facts.conditionals.push(Conditional { arms, otherwise, span, func });
                self.b.other(span)
            }
            Expr::Loop(l) => {
                let header = Span { start: span.start, end: sp(&l.body).start.max(span.start) };
                self.b.add_loop(LoopKind::Infinite, None, None, header, sp(&l.body));
                self.block(&l.body);
                self.b.end_loop();
                self.b.other(span)
            }
            Expr::While(w) => {
                let cond = self.expr(&w.cond);
                let infinite = matches!(&*w.cond, Expr::Lit(l) if matches!(l.lit, Lit::Bool(ref b) if b.value));
                let header = Span { start: span.start, end: sp(&w.body).start.max(span.start) };
                let (kind, cond) = if infinite { (LoopKind::Infinite, None) } else { (LoopKind::While, Some(cond)) };
                self.b.add_loop(kind, cond, None, header, sp(&w.body));
                self.block(&w.body);
                self.b.end_loop();
                self.b.other(span)
            }
            Expr::ForLoop(f) => {
                let iter = self.expr(&f.expr);
                self.bind(&f.pat, None, sp(&f.pat));
                let header = Span { start: span.start, end: sp(&f.body).start.max(span.start) };
                self.b.add_loop(LoopKind::ForEach, None, Some(iter), header, sp(&f.body));
                self.block(&f.body);
                self.b.end_loop();
                self.b.other(span)
            }
            Expr::Break(b) => {
                if let Some(v) = &b.expr {
                    self.expr(v);
                }
                self.b.break_(span, b.label.is_some());
                self.b.other(span)
            }
            Expr::Continue(_) => {
                self.b.exit(ExitKind::Continue, None, span);
                self.b.other(span)
            }
            Expr::Return(r) => {
                let v = r.expr.as_ref().map(|x| self.expr(x));
                if let (Some(f), Some(v)) = (self.b.func, v) {
                    self.b.add_return(f, v);
                }
                self.b.exit(ExitKind::Return, v, span);
                self.b.other(span)
            }
            Expr::Let(l) => {
                let v = self.expr(&l.expr);
                self.bind(&l.pat, Some(v), span);
                v
            }
            Expr::Macro(m) => self.macro_call(&m.mac, span),
            // `a..b` and `a..` read as calls to `Range`/`RangeFrom`, which the analysis
            // knows as an attempt counter and an endless iterator.
            Expr::Range(r) => {
                let start = r.start.as_ref().map(|s| self.expr(s));
                let end = r.end.as_ref().map(|e| self.expr(e));
                let name = if end.is_some() { "Range" } else { "RangeFrom" };
                let callee = self.b.name(name, span);
                let args = start.into_iter().chain(end).map(positional).collect();
                self.b.call(callee, args, span, false)
            }
            _ => self.b.other(span),
        }
    }

    fn expr_lit(&mut self, l: &syn::ExprLit) -> ExprId {
        self.lit(&l.lit, sp(l))
    }

    fn lit(&mut self, lit: &Lit, span: Span) -> ExprId {
        match lit {
            Lit::Str(s) => self.b.str_lit(&s.value(), span),
            Lit::Int(i) => match i.base10_digits().parse::<f64>() {
                Ok(v) => self.b.expr(ExprKind::Number { value: v, integer: true }, span),
                Err(_) => self.b.other(span),
            },
            Lit::Float(f) => match f.base10_digits().parse::<f64>() {
                Ok(v) => self.b.expr(ExprKind::Number { value: v, integer: false }, span),
                Err(_) => self.b.other(span),
            },
            Lit::Bool(b) => self.b.expr(ExprKind::Bool(b.value), span),
            // `b"..."` keys and secrets (`EncodingKey::from_secret(b"...")`) are text too.
            Lit::ByteStr(b) => match String::from_utf8(b.value()) {
                Ok(text) => self.b.str_lit(&text, span),
                Err(_) => self.b.other(span),
            },
            _ => self.b.other(span),
        }
    }

    fn path(&mut self, path: &syn::Path, span: Span) -> ExprId {
        let mut segs = path.segments.iter();
        let Some(first) = segs.next() else { return self.b.other(span) };
        let mut id = self.b.name(&first.ident.to_string(), sp(&first.ident));
        for s in segs {
            id = self.b.expr(ExprKind::Member(id, s.ident.to_string().into()), span);
        }
        if path.segments.len() == 1 && path.segments[0].ident == "None" {
            return self.b.expr(ExprKind::Null, span);
        }
        id
    }

    fn if_chain(&mut self, e: &Expr) -> ExprId {
        let span = sp(e);
        let mut arms = Vec::new();
        let mut otherwise = None;
        let mut current = Some(e);
        let mut first = None;
        while let Some(Expr::If(i)) = current.take() {
            let cond = self.expr(&i.cond);
            first.get_or_insert(cond);
            arms.push(Arm { test: cond, body: sp(&i.then_branch) });
            self.b.push_guard(cond, false, span);
            self.block(&i.then_branch);
            self.b.pop_guard();
            if let Some((_, else_expr)) = &i.else_branch {
                if matches!(**else_expr, Expr::If(_)) {
                    current = Some(else_expr);
                } else {
                    otherwise = Some(sp(&**else_expr));
                    if let Some(c) = first {
                        self.b.push_guard(c, true, span);
                    }
                    self.expr(else_expr);
                    if first.is_some() {
                        self.b.pop_guard();
                    }
                }
            }
        }
        let func = self.b.func;
        self.b.facts.conditionals.push(Conditional { arms, otherwise, span, func });
        self.b.other(span)
    }

    fn macro_call(&mut self, mac: &syn::Macro, span: Span) -> ExprId {
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        match name.as_str() {
            "json" => match json_value(self, mac.tokens.clone(), span) {
                Some(id) => id,
                None => self.b.other(span),
            },
            "vec" => {
                let items = parse_args(mac)
                    .map(|args| args.iter().map(|a| self.expr(a)).collect::<Vec<_>>())
                    .unwrap_or_default();
                self.b.expr(ExprKind::List(items.into()), span)
            }
            "format" | "println" | "eprintln" | "print" | "eprint" | "write" | "writeln" | "panic" | "info"
            | "debug" | "warn" | "error" | "trace" | "bail" | "anyhow" | "format_args" | "unreachable" | "todo"
            | "log" | "event" => {
                let args = parse_args(mac).or_else(|| parse_tracing_args(mac)).unwrap_or_default();
                let mut lowered: Vec<Arg> = Vec::new();
                let mut rest = args.iter();
                // The target of `write!(f, ...)` and `writeln!` comes first.
                let skip_target = matches!(name.as_str(), "write" | "writeln");
                if skip_target && let Some(t) = rest.next() {
                    let v = self.expr(t);
                    lowered.push(positional(v));
                }
                let others: Vec<&Expr> = rest.collect();
                let fmt_pos = others.iter().position(|a| matches!(a, Expr::Lit(l) if matches!(l.lit, Lit::Str(_))));
                // The arguments first, so that the format string's holes can refer to them.
                let mut values: Vec<Option<Arg>> = Vec::new();
                for (i, a) in others.iter().enumerate() {
                    values.push(if Some(i) == fmt_pos {
                        None
                    } else if let Expr::Assign(kv) = a {
                        // `key = value` named format arguments.
                        let v = self.expr(&kv.right);
                        let key = match &*kv.left {
                            Expr::Path(p) => p.path.get_ident().map(|i| i.to_string().into()),
                            _ => None,
                        };
                        Some(Arg { name: key, value: v, spread: false })
                    } else {
                        Some(positional(self.expr(a)))
                    });
                }
                let after_fmt: Vec<&Arg> =
                    values.iter().skip(fmt_pos.map_or(values.len(), |p| p + 1)).flatten().collect();
                let holes = FormatArgs {
                    positional: after_fmt.iter().filter(|a| a.name.is_none()).map(|a| a.value).collect(),
                    named: after_fmt.iter().filter_map(|a| Some((a.name.clone()?, a.value))).collect(),
                };
                for (i, v) in values.into_iter().enumerate() {
                    if let Some(arg) = v {
                        lowered.push(arg);
                    } else if let Expr::Lit(l) = others[i]
                        && let Lit::Str(s) = &l.lit
                    {
                        let t = self.format_template(&s.value(), sp(others[i]), &holes);
                        lowered.push(positional(t));
                    }
                }
                if name == "format" {
                    if let Some(Arg { value, .. }) = lowered.first() {
                        return *value;
                    }
                    return self.b.other(span);
                }
                if matches!(name.as_str(), "panic" | "bail" | "unreachable" | "todo") {
                    let v = lowered.first().map(|a| a.value);
                    self.b.exit(ExitKind::Throw, v, span);
                }
                let callee = self.b.name(&format!("{name}!"), sp(&mac.path));
                self.b.call(callee, lowered, span, false)
            }
            _ => {
                if let Some(args) = parse_args(mac) {
                    for a in &args {
                        self.expr(a);
                    }
                }
                self.b.other(span)
            }
        }
    }

    /// A format string becomes a template: `{}` and `{0}` holes take the positional
    /// arguments, `{name}` a named argument or the variable it captures.
    fn format_template(&mut self, fmt: &str, span: Span, args: &FormatArgs) -> ExprId {
        let mut next = 0;
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = fmt.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let mut inner = String::new();
                    for d in chars.by_ref() {
                        if d == '}' {
                            break;
                        }
                        inner.push(d);
                    }
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit).into()));
                    }
                    let name = inner.split(':').next().unwrap_or("").trim();
                    let is_ident = name.chars().all(|c| c.is_alphanumeric() || c == '_')
                        && !name.starts_with(|c: char| c.is_ascii_digit());
                    let hole = if name.is_empty() {
                        next += 1;
                        args.positional.get(next - 1).copied()
                    } else if let Ok(index) = name.parse::<usize>() {
                        args.positional.get(index).copied()
                    } else if is_ident {
                        Some(
                            args.named
                                .iter()
                                .find(|(n, _)| &**n == name)
                                .map_or_else(|| self.b.name(name, span), |(_, v)| *v),
                        )
                    } else {
                        None
                    };
                    let hole = hole.unwrap_or_else(|| self.b.other(span));
                    parts.push(Part::Hole(hole));
                }
                _ => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit.into()));
        }
        if parts.iter().all(|p| matches!(p, Part::Lit(_))) {
            let joined: String = parts.iter().map(|p| if let Part::Lit(s) = p { &**s } else { "" }).collect();
            return self.b.str_lit(&joined, span);
        }
        self.b.expr(ExprKind::Template(parts.into()), span)
    }
}

/// The arguments a format string's holes can take.
struct FormatArgs {
    positional: Vec<ExprId>,
    named: Vec<(Box<str>, ExprId)>,
}

/// The offset where bracket nesting first exceeds [`MAX_NESTING`], if it does. Brackets
/// in strings and comments count too: an over-estimate only means a huge file is
/// reported rather than parsed.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn parse_args(mac: &syn::Macro) -> Option<Punctuated<Expr, Token![,]>> {
    mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated).ok()
}

/// The arguments of a `tracing` macro, whose fields may carry a `%` (Display) or `?`
/// (Debug) sigil that is not Rust syntax: `info!(token = %token, "minted")`.
fn parse_tracing_args(mac: &syn::Macro) -> Option<Punctuated<Expr, Token![,]>> {
    let mut out: Vec<TokenTree> = Vec::new();
    for t in mac.tokens.clone() {
        let after_separator =
            out.last().is_none_or(|p| matches!(p, TokenTree::Punct(p) if matches!(p.as_char(), '=' | ',')));
        if after_separator && matches!(&t, TokenTree::Punct(p) if matches!(p.as_char(), '%' | '?')) {
            continue;
        }
        out.push(t);
    }
    let stream: TokenStream = out.into_iter().collect();
    syn::parse::Parser::parse2(Punctuated::<Expr, Token![,]>::parse_terminated, stream).ok()
}

/// Lower the body of `json!`: objects and arrays become map and list literals, leaf
/// values are ordinary Rust expressions.
fn json_value(lw: &mut Lower, tokens: TokenStream, span: Span) -> Option<ExprId> {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    match trees.as_slice() {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Brace => {
            let gspan = {
                let r = g.span().byte_range();
                Span::new(r.start, r.end)
            };
            let mut map = lw.b.new_map(gspan, MapKind::Literal);
            for entry in split_commas(g.stream()) {
                let colon = entry.iter().position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ':'))?;
                let key_tokens = &entry[..colon];
                let value_tokens: TokenStream = entry[colon + 1..].iter().cloned().collect();
                let key_span = token_span(key_tokens);
                let key = match key_tokens {
                    [TokenTree::Literal(l)] => syn::parse_str::<syn::LitStr>(&l.to_string()).ok().map(|s| s.value()),
                    [TokenTree::Ident(i)] => Some(i.to_string()),
                    _ => None,
                };
                let vspan = token_span(&entry[colon + 1..]);
                let value = json_value(lw, value_tokens, vspan)?;
                if let Some(key) = key {
                    let pair_span = key_span.cover(vspan);
                    map.entries.push(Entry { key: key.into(), key_span, value, span: pair_span });
                }
            }
            Some(lw.b.map(map))
        }
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Bracket => {
            let mut items = Vec::new();
            for entry in split_commas(g.stream()) {
                let s = token_span(&entry);
                items.push(json_value(lw, entry.into_iter().collect(), s)?);
            }
            Some(lw.b.expr(ExprKind::List(items.into()), span))
        }
        [TokenTree::Ident(i)] if i == "null" => Some(lw.b.expr(ExprKind::Null, span)),
        _ => {
            let stream: TokenStream = trees.into_iter().collect();
            let expr = syn::parse2::<Expr>(stream).ok()?;
            Some(lw.expr(&expr))
        }
    }
}

fn split_commas(stream: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut out = vec![Vec::new()];
    for t in stream {
        if matches!(&t, TokenTree::Punct(p) if p.as_char() == ',') {
            out.push(Vec::new());
        } else {
            out.last_mut().expect("never empty").push(t);
        }
    }
    out.retain(|e| !e.is_empty());
    out
}

fn token_span(tokens: &[TokenTree]) -> Span {
    let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else { return Span::default() };
    let (a, b) = (first.span().byte_range(), last.span().byte_range());
    Span::new(a.start, b.end)
}

fn flatten_or<'a>(pat: &'a Pat, out: &mut Vec<&'a Pat>) {
    if let Pat::Or(o) = pat {
        for c in &o.cases {
            flatten_or(c, out);
        }
    } else {
        out.push(pat);
    }
}

fn pat_name(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(p) => Some(p.ident.to_string()),
        Pat::Type(t) => pat_name(&t.pat),
        Pat::Reference(r) => pat_name(&r.pat),
        _ => None,
    }
}

fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Reference(r) => type_name(&r.elem),
        _ => None,
    }
}

/// The `#[serde(rename = "...")]` of a field, if any.
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    let mut found = None;
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = a.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let s: syn::LitStr = meta.value()?.parse()?;
                found = Some(s.value());
            } else if meta.input.peek(Token![=]) {
                let _: Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

fn rust_type_kind(ty: &syn::Type) -> TypeKind {
    let syn::Type::Path(p) = ty else {
        return match ty {
            syn::Type::Reference(r) => rust_type_kind(&r.elem),
            _ => TypeKind::Other,
        };
    };
    let Some(last) = p.path.segments.last() else { return TypeKind::Other };
    let name = last.ident.to_string();
    match name.as_str() {
        "String" | "str" | "Cow" => TypeKind::Str,
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "f32"
        | "f64" => TypeKind::Number,
        "Option" | "Box" => match &last.arguments {
            syn::PathArguments::AngleBracketed(a) => match a.args.first() {
                Some(syn::GenericArgument::Type(inner)) => rust_type_kind(inner),
                _ => TypeKind::Other,
            },
            _ => TypeKind::Other,
        },
        _ => TypeKind::Other,
    }
}
