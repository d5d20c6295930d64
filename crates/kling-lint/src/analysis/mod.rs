//! The semantic layer between facts and rules: name resolution (within a file and
//! across the files of a package), constant evaluation, library idioms, function
//! summaries, and what makes a literal, a loop or a token "Kling context".
//!
//! Rules ask questions here ("is this map a Kling request body?", "does this loop poll
//! a Kling task, and is it bounded?") rather than walking facts themselves, so that the
//! meaning of Kling context is defined once.

pub(crate) mod idioms;
pub(crate) mod kling;
pub(crate) mod retry;
pub(crate) mod summary;
pub(crate) mod values;

use std::cell::RefCell;
use std::collections::HashSet;

// The name indexes are built for every Kling file; a fast hasher pays off.
use foldhash::{HashMap, HashMapExt as _};

use crate::facts::{ExprId, ExprKind, Facts, FuncId, Import, Level, Span};
use crate::source::SourceFile;

pub(crate) use summary::Summary;

/// What a file offers its package: the values of its module-level names, as far as
/// they could be evaluated within the file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Export {
    /// A string constant with a fully known value.
    Str(Box<str>),
    /// A value known to be a Kling URL or base URL, though not fully known.
    KlingUrl,
    /// A numeric constant.
    Num(f64),
    /// A function, summarised.
    Func(Summary),
}

/// The exports of one file, by name.
pub(crate) type Exports = HashMap<Box<str>, Export>;

/// Settings that widen what counts as Kling context.
#[derive(Clone, Debug, Default)]
pub struct ContextOptions {
    /// Extra base-URL substrings (proxies, in-house gateways) that count as Kling hosts.
    pub extra_base_urls: Vec<String>,
}

/// How a name resolved.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Resolved<'a> {
    /// Bound to this value.
    Value(ExprId),
    /// A parameter of `func`, with its default value.
    Param { func: FuncId, index: usize, default: Option<ExprId> },
    /// A function defined in this file.
    Function(FuncId),
    /// An import whose value is not known here.
    Import(&'a Import),
    /// A value exported by another file of the package.
    External(&'a Export),
    /// Nothing known.
    Unknown,
}

/// One file, ready for questions: source, facts, indexes and the package around it.
pub(crate) struct Unit<'a> {
    pub(crate) file: &'a SourceFile,
    pub(crate) facts: &'a Facts,
    pub(crate) options: &'a ContextOptions,
    neighbors: &'a [&'a Exports],
    by_name: HashMap<&'a str, Vec<usize>>,
    by_member: HashMap<&'a str, Vec<usize>>,
    funcs: HashMap<&'a str, Vec<FuncId>>,
    imports: HashMap<&'a str, &'a Import>,
    summaries: RefCell<HashMap<FuncId, Summary>>,
    computing: RefCell<HashSet<FuncId>>,
    kling_file: std::cell::OnceCell<bool>,
    bodies: std::cell::OnceCell<Vec<(crate::facts::MapId, kling::Body)>>,
    // Indexes that keep every question linear in the file's size: generated and
    // minified code has hundreds of thousands of calls, and a scan per function or
    // per call would never finish.
    calls_by_start: Vec<u32>,
    exits_by_start: Vec<u32>,
    calls_by_func: HashMap<Option<FuncId>, Vec<u32>>,
    assigns_by_func: HashMap<Option<FuncId>, Vec<u32>>,
    map_vars: HashMap<crate::facts::MapId, Vec<&'a str>>,
    status_reads: std::cell::OnceCell<Vec<u32>>,
    channel_reads: std::cell::OnceCell<Vec<u32>>,
    pub(crate) loop_cache: RefCell<HashMap<crate::facts::LoopId, kling::LoopFacts>>,
    pub(crate) retry_cache: std::cell::OnceCell<(Vec<retry::RetryLoop>, Vec<retry::RetryConfig>)>,
}

/// Receivers through which a method reaches its own object.
pub(crate) fn is_self(name: &str) -> bool {
    matches!(name, "self" | "this" | "cls")
}

impl<'a> Unit<'a> {
    pub(crate) fn new(
        file: &'a SourceFile,
        facts: &'a Facts,
        neighbors: &'a [&'a Exports],
        options: &'a ContextOptions,
    ) -> Unit<'a> {
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_member: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, a) in facts.assigns.iter().enumerate() {
            match &facts.expr(a.target).kind {
                ExprKind::Name(n) => by_name.entry(n).or_default().push(i),
                ExprKind::Member(obj, field) if facts.name_of(*obj).is_some_and(is_self) => {
                    by_member.entry(field).or_default().push(i);
                }
                _ => {}
            }
        }
        let mut funcs: HashMap<&str, Vec<FuncId>> = HashMap::new();
        for (i, f) in facts.functions.iter().enumerate() {
            if let Some(n) = &f.name {
                funcs.entry(n).or_default().push(FuncId(i as u32));
            }
        }
        let imports = facts.imports.iter().map(|i| (&*i.local, i)).collect();
        let mut calls_by_start: Vec<u32> = (0..facts.calls.len() as u32).collect();
        calls_by_start.sort_by_key(|&i| facts.calls[i as usize].span.start);
        let mut exits_by_start: Vec<u32> = (0..facts.exits.len() as u32).collect();
        exits_by_start.sort_by_key(|&i| facts.exits[i as usize].span.start);
        let mut calls_by_func: HashMap<Option<FuncId>, Vec<u32>> = HashMap::new();
        for (i, c) in facts.calls.iter().enumerate() {
            calls_by_func.entry(c.func).or_default().push(i as u32);
        }
        let mut assigns_by_func: HashMap<Option<FuncId>, Vec<u32>> = HashMap::new();
        let mut map_vars: HashMap<crate::facts::MapId, Vec<&str>> = HashMap::new();
        for (i, a) in facts.assigns.iter().enumerate() {
            assigns_by_func.entry(a.func).or_default().push(i as u32);
            if let (Some(v), Some(name)) = (a.value, facts.name_of(a.target))
                && let ExprKind::Map(m) = facts.expr(v).kind
                && a.func == facts.map(m).func
            {
                map_vars.entry(m).or_default().push(name);
            }
        }
        Unit {
            file,
            facts,
            options,
            neighbors,
            by_name,
            by_member,
            funcs,
            imports,
            summaries: RefCell::new(HashMap::new()),
            computing: RefCell::new(HashSet::new()),
            kling_file: std::cell::OnceCell::new(),
            bodies: std::cell::OnceCell::new(),
            calls_by_start,
            exits_by_start,
            calls_by_func,
            assigns_by_func,
            map_vars,
            status_reads: std::cell::OnceCell::new(),
            channel_reads: std::cell::OnceCell::new(),
            loop_cache: RefCell::new(HashMap::new()),
            retry_cache: std::cell::OnceCell::new(),
        }
    }

    /// The source text of a span.
    pub(crate) fn text(&self, span: Span) -> &'a str {
        &self.file.text[span.range()]
    }

    /// The functions enclosing `func`, innermost first, including itself.
    pub(crate) fn func_chain(&self, func: Option<FuncId>) -> impl Iterator<Item = FuncId> + '_ {
        std::iter::successors(func, |f| self.facts.function(*f).parent)
    }

    /// The class a function belongs to (its own, or its enclosing function's).
    pub(crate) fn class_of(&self, func: Option<FuncId>) -> Option<&'a str> {
        self.func_chain(func).find_map(|f| self.facts.function(f).class.as_deref())
    }

    /// Resolve a name as seen from an expression inside `from`, at byte `at`.
    pub(crate) fn resolve_name(&self, name: &str, from: Option<FuncId>, at: u32) -> Resolved<'a> {
        let assigns = self.by_name.get(name).map_or(&[][..], Vec::as_slice);
        for f in self.func_chain(from) {
            if let Some(v) = self.pick_binding(assigns, |a| a.func == Some(f) && a.level == Level::Function, at) {
                return Resolved::Value(v);
            }
            let function = self.facts.function(f);
            if let Some(index) = function.params.iter().position(|p| &*p.name == name) {
                return Resolved::Param { func: f, index, default: function.params[index].default };
            }
            if let Some(inner) =
                self.funcs.get(name).and_then(|fs| fs.iter().find(|g| self.facts.function(**g).parent == Some(f)))
            {
                return Resolved::Function(*inner);
            }
        }
        if let Some(v) = self.pick_binding(assigns, |a| a.level == Level::Module, u32::MAX) {
            return Resolved::Value(v);
        }
        if let Some(fs) = self.funcs.get(name)
            && let Some(f) = fs.iter().find(|f| {
                let func = self.facts.function(**f);
                func.parent.is_none() && func.class.is_none()
            })
        {
            return Resolved::Function(*f);
        }
        // Class attributes read by bare name inside the class body.
        if let Some(v) = self.pick_binding(assigns, |a| a.level == Level::Class, u32::MAX) {
            return Resolved::Value(v);
        }
        let external = self.external(name);
        if let Some(import) = self.imports.get(name) {
            return external.map_or(Resolved::Import(import), Resolved::External);
        }
        external.map_or(Resolved::Unknown, Resolved::External)
    }

    fn pick_binding(
        &self,
        assigns: &[usize],
        scope: impl Fn(&crate::facts::Assign) -> bool,
        at: u32,
    ) -> Option<ExprId> {
        let mut before = None;
        let mut after = None;
        for &i in assigns {
            let a = &self.facts.assigns[i];
            if !scope(a) || a.decl == crate::facts::DeclKind::Augmented {
                continue;
            }
            let Some(v) = a.value else { continue };
            if a.span.start < at {
                before = Some(v);
            } else if after.is_none() {
                after = Some(v);
            }
        }
        // A binding later in the text still reaches earlier code in a loop or a
        // function called later; prefer the nearest preceding one.
        before.or(after)
    }

    /// Resolve `self.field` (or `this.field`) from inside `from`.
    pub(crate) fn resolve_member(&self, field: &str, from: Option<FuncId>) -> Resolved<'a> {
        let class = self.class_of(from);
        let same_class = |a: &crate::facts::Assign| class.is_none() || self.class_of(a.func) == class;
        let members = self.by_member.get(field).map_or(&[][..], Vec::as_slice);
        if let Some(v) = self.pick_binding(members, same_class, u32::MAX) {
            return Resolved::Value(v);
        }
        let attrs = self.by_name.get(field).map_or(&[][..], Vec::as_slice);
        let class_attr = |a: &crate::facts::Assign| a.level == Level::Class;
        if let Some(v) = self.pick_binding(attrs, class_attr, u32::MAX) {
            return Resolved::Value(v);
        }
        if let Some(fs) = self.funcs.get(field)
            && let Some(f) = fs.iter().find(|f| {
                let c = self.facts.function(**f).class.as_deref();
                c.is_some() && (class.is_none() || c == class)
            })
        {
            return Resolved::Function(*f);
        }
        Resolved::Unknown
    }

    /// Resolve what an expression refers to, following names and `self.x`.
    pub(crate) fn resolve(&self, e: ExprId) -> Resolved<'a> {
        let expr = self.facts.expr(e);
        match &expr.kind {
            ExprKind::Name(n) => self.resolve_name(n, expr.func, expr.span.start),
            ExprKind::Member(obj, field) if self.facts.name_of(*obj).is_some_and(is_self) => {
                self.resolve_member(field, expr.func)
            }
            _ => Resolved::Value(e),
        }
    }

    /// Whether `e` names a parameter whose default is `None`/`null`/`undefined`: a value
    /// the caller may leave out, not a literal.
    pub(crate) fn is_optional_param(&self, e: ExprId) -> bool {
        matches!(self.resolve(e), Resolved::Param { default: Some(d), .. }
            if matches!(self.facts.expr(d).kind, ExprKind::Null))
    }

    /// Follow names to the expression that gives a value (up to a few hops).
    pub(crate) fn deref(&self, e: ExprId) -> ExprId {
        let mut current = e;
        for _ in 0..6 {
            match self.resolve(current) {
                Resolved::Value(v) if v != current => current = v,
                Resolved::Param { default: Some(d), .. } => current = d,
                _ => break,
            }
        }
        current
    }

    /// A value exported by a neighbouring file.
    pub(crate) fn external(&self, name: &str) -> Option<&'a Export> {
        self.neighbors.iter().find_map(|ex| ex.get(name))
    }

    /// The functions a call may reach, in this file or (summarised) in the package.
    pub(crate) fn callee(&self, call: &crate::facts::Call) -> Callee<'a> {
        let callee = self.facts.expr(call.callee);
        match &callee.kind {
            ExprKind::Name(n) => match self.resolve_name(n, call.func, call.span.start) {
                Resolved::Function(f) => Callee::Local(f),
                Resolved::Value(v) => match self.facts.expr(v).kind {
                    ExprKind::Closure(f) => Callee::Local(f),
                    _ => Callee::Unknown,
                },
                Resolved::External(Export::Func(s)) => Callee::External(s),
                _ => Callee::Unknown,
            },
            ExprKind::Member(obj, m) => {
                if self.facts.name_of(*obj).is_some_and(is_self) {
                    return match self.resolve_member(m, call.func) {
                        Resolved::Function(f) => Callee::Local(f),
                        Resolved::Value(v) => match self.facts.expr(v).kind {
                            ExprKind::Closure(f) => Callee::Local(f),
                            _ => Callee::Unknown,
                        },
                        _ => Callee::Unknown,
                    };
                }
                // `module.helper()` on an import of a sibling file.
                if let Some(Export::Func(s)) = self.external(m)
                    && self.facts.name_of(*obj).is_some_and(|o| self.imports.contains_key(o))
                {
                    return Callee::External(s);
                }
                // `client.get_task(id)`: a method defined once in this file, with a
                // name too specific to be a library's.
                if !is_generic_method(m)
                    && let Some(fs) = self.funcs.get(&**m)
                    && fs.len() == 1
                    && self.facts.function(fs[0]).class.is_some()
                {
                    return Callee::Local(fs[0]);
                }
                Callee::Unknown
            }
            _ => Callee::Unknown,
        }
    }

    /// The summary of a local function (memoised; recursion yields an empty summary).
    pub(crate) fn summary(&self, f: FuncId) -> Summary {
        if let Some(s) = self.summaries.borrow().get(&f) {
            return s.clone();
        }
        if !self.computing.borrow_mut().insert(f) {
            return Summary::default();
        }
        let s = summary::compute(self, f);
        self.computing.borrow_mut().remove(&f);
        self.summaries.borrow_mut().insert(f, s.clone());
        s
    }

    /// The summary of whatever a call reaches.
    pub(crate) fn callee_summary(&self, call: &crate::facts::Call) -> Option<Summary> {
        match self.callee(call) {
            Callee::Local(f) => Some(self.summary(f)),
            Callee::External(s) => Some(s.clone()),
            Callee::Unknown => None,
        }
    }

    /// Whether the file as a whole is about Kling (a Kling URL, request body or
    /// token anywhere): the weakest context, used only to back up strong local signals.
    pub(crate) fn is_kling_file(&self) -> bool {
        *self.kling_file.get_or_init(|| kling::file_has_kling_context(self))
    }

    /// Every Kling request body in the file (computed once, shared by the `KL1xx` rules).
    pub(crate) fn bodies(&self) -> &[(crate::facts::MapId, kling::Body)] {
        self.bodies.get_or_init(|| {
            (0..self.facts.maps.len())
                .map(|i| crate::facts::MapId(i as u32))
                .filter_map(|m| self.kling_body(m).map(|b| (m, b)))
                .collect()
        })
    }

    /// The calls lexically inside `span`.
    pub(crate) fn calls_in(&self, span: Span) -> impl Iterator<Item = &'a crate::facts::Call> + '_ {
        let calls = &self.facts.calls;
        let lo = self.calls_by_start.partition_point(|&i| calls[i as usize].span.start < span.start);
        self.calls_by_start[lo..]
            .iter()
            .map(move |&i| &calls[i as usize])
            .take_while(move |c| c.span.start < span.end.max(span.start + 1))
            .filter(move |c| span.contains(c.span))
    }

    /// The exits (`return`, `break`, `raise`...) lexically inside `span`.
    pub(crate) fn exits_in(&self, span: Span) -> impl Iterator<Item = &'a crate::facts::Exit> + '_ {
        let exits = &self.facts.exits;
        let lo = self.exits_by_start.partition_point(|&i| exits[i as usize].span.start < span.start);
        self.exits_by_start[lo..]
            .iter()
            .map(move |&i| &exits[i as usize])
            .take_while(move |x| x.span.start < span.end.max(span.start + 1))
            .filter(move |x| span.contains(x.span))
    }

    /// The calls made directly in `func` (not in functions nested in it).
    pub(crate) fn calls_of(&self, func: Option<FuncId>) -> impl Iterator<Item = &'a crate::facts::Call> + '_ {
        self.calls_by_func.get(&func).into_iter().flatten().map(|&i| &self.facts.calls[i as usize])
    }

    /// The assignments made directly in `func`.
    pub(crate) fn assigns_of(&self, func: Option<FuncId>) -> impl Iterator<Item = &'a crate::facts::Assign> + '_ {
        self.assigns_by_func.get(&func).into_iter().flatten().map(|&i| &self.facts.assigns[i as usize])
    }

    /// The names a map literal is bound to in its own function.
    pub(crate) fn vars_holding(&self, m: crate::facts::MapId) -> &[&'a str] {
        self.map_vars.get(&m).map_or(&[], Vec::as_slice)
    }

    /// Go channel reads off a ticker or timer (`x.C`), by expression index.
    pub(crate) fn channel_reads(&self) -> &[u32] {
        self.channel_reads.get_or_init(|| {
            if self.file.lang != crate::lang::Lang::Go {
                return Vec::new();
            }
            (0..self.facts.exprs.len() as u32)
                .filter(|&i| matches!(&self.facts.exprs[i as usize].kind, ExprKind::Member(_, f) if &**f == "C"))
                .collect()
        })
    }

    /// The expressions that read `task_status`, sorted by position.
    pub(crate) fn status_reads(&self) -> &[u32] {
        self.status_reads.get_or_init(|| {
            let mut v: Vec<u32> = (0..self.facts.exprs.len() as u32)
                .filter(|&i| self.is_status_read(&self.facts.exprs[i as usize]))
                .collect();
            v.sort_by_key(|&i| self.facts.exprs[i as usize].span.start);
            v
        })
    }

    /// The `task_status` reads inside `span`.
    pub(crate) fn status_reads_in(&self, span: Span) -> impl Iterator<Item = &'a crate::facts::Expr> + '_ {
        let reads = self.status_reads();
        let exprs = &self.facts.exprs;
        let lo = reads.partition_point(|&i| exprs[i as usize].span.start < span.start);
        reads[lo..]
            .iter()
            .map(move |&i| &exprs[i as usize])
            .take_while(move |e| e.span.start < span.end.max(span.start + 1))
            .filter(move |e| span.contains(e.span))
    }

    /// This file's exports for its package.
    pub(crate) fn exports(&self) -> Exports {
        let mut out = Exports::new();
        for a in &self.facts.assigns {
            if a.level != Level::Module {
                continue;
            }
            let (Some(name), Some(v)) = (self.facts.name_of(a.target), a.value) else { continue };
            if let Some(s) = self.eval_str(v) {
                out.insert(name.into(), Export::Str(s.into()));
            } else if let Some(n) = self.eval_num(v) {
                out.insert(name.into(), Export::Num(n));
            } else if self.url_info(v).is_some_and(|u| u.kling) {
                out.insert(name.into(), Export::KlingUrl);
            } else if let ExprKind::Closure(f) = self.facts.expr(v).kind {
                out.insert(name.into(), Export::Func(self.summary(f)));
            }
        }
        for (i, f) in self.facts.functions.iter().enumerate() {
            if f.parent.is_none()
                && let Some(name) = &f.name
            {
                out.entry(name.clone()).or_insert_with(|| Export::Func(self.summary(FuncId(i as u32))));
            }
        }
        out
    }
}

/// What a call reaches.
pub(crate) enum Callee<'a> {
    Local(FuncId),
    External(&'a Summary),
    Unknown,
}

/// Method names so common across libraries that a same-named method in the file
/// says nothing about which one is called.
fn is_generic_method(name: &str) -> bool {
    matches!(
        name,
        "get"
            | "post"
            | "put"
            | "patch"
            | "delete"
            | "head"
            | "request"
            | "send"
            | "run"
            | "call"
            | "execute"
            | "json"
            | "fetch"
            | "do"
            | "Do"
            | "Get"
            | "Post"
            | "read"
            | "write"
            | "close"
            | "open"
            | "wait"
            | "update"
            | "create"
            | "save"
            | "load"
            | "list"
            | "find"
            | "add"
            | "set"
            | "start"
            | "stop"
    )
}
