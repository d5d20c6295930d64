//! The common fact model: what every language frontend lowers a file into, and all
//! that rules ever read.
//!
//! The model is deliberately small. It keeps the handful of constructs the Kling
//! pitfalls are about — calls and their arguments, map/object/struct literals,
//! assignments, loops and their exits, conditionals, comparisons, functions, imports
//! and typed field declarations — with byte spans, and nothing else. A rule written
//! against these facts works for Python, JavaScript, TypeScript, Go, Rust and the config
//! formats alike; a new language is a new frontend, not a change to every rule.
//!
//! Expressions live in one arena per file ([`Facts::exprs`]) and refer to each other by
//! index, so facts are cheap to build and to share across threads.

use std::fmt;

/// A byte range in the source file. `u32` because scanned files are capped far below
/// 4 GiB (see `discover::MAX_FILE_BYTES`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }

    /// Whether `other` lies within this span.
    pub fn contains(self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// The span as a `usize` range for slicing.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The smallest span covering both.
    pub fn cover(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(pub u32);

        impl $name {
            /// The index into its arena.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}

id_type! {
    /// Index of an [`Expr`] in [`Facts::exprs`].
    ExprId,
    /// Index of a [`Call`] in [`Facts::calls`].
    CallId,
    /// Index of a [`MapLit`] in [`Facts::maps`].
    MapId,
    /// Index of a [`Function`] in [`Facts::functions`].
    FuncId,
    /// Index of a [`Loop`] in [`Facts::loops`].
    LoopId,
}

/// Where a fact sits: in a function, or at module level, or in a class body.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Level {
    /// Executed once, when the module is imported or the program starts: module or
    /// package scope, a Go `init` function, a Rust `static`.
    #[default]
    Module,
    /// A class body: executed once, when the class is defined.
    Class,
    /// Inside a function or method: executed per call.
    Function,
}

/// Binary operators the rules care about; everything else is [`BinOp::Other`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%` (also string formatting in Python)
    Mod,
    /// `**`
    Pow,
    /// `==`, `===`, `is`
    Eq,
    /// `!=`, `!==`, `is not`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `and`, `&&`
    And,
    /// `or`, `||`, `??`
    Or,
    /// Anything else (bit operations, `instanceof`...).
    Other,
}

impl BinOp {
    /// Whether the operator compares its operands.
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In | BinOp::NotIn)
    }
}

/// Unary operators.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UnOp {
    /// `not`, `!`
    Not,
    /// `-`
    Neg,
    /// Anything else (`+`, `~`, `*`, `typeof`...).
    Other,
}

/// A piece of an interpolated string (f-string, template literal, `format!`).
#[derive(Clone, PartialEq, Debug)]
pub enum Part {
    /// Literal text.
    Lit(Box<str>),
    /// An interpolated expression.
    Hole(ExprId),
}

/// What an expression is.
#[derive(Clone, PartialEq, Debug)]
pub enum ExprKind {
    /// A string literal, decoded.
    Str(Box<str>),
    /// An interpolated string.
    Template(Box<[Part]>),
    /// A number literal.
    Number {
        /// Its value.
        value: f64,
        /// Whether it was written as an integer.
        integer: bool,
    },
    /// `true`/`false`.
    Bool(bool),
    /// `None`, `null`, `nil`, `undefined`.
    Null,
    /// An identifier.
    Name(Box<str>),
    /// `object.field`, `Type::item`, `pkg.Name`.
    Member(ExprId, Box<str>),
    /// `object[index]`.
    Index(ExprId, ExprId),
    /// A call.
    Call(CallId),
    /// A map, object, dict or struct literal.
    Map(MapId),
    /// A list, array, tuple or slice literal.
    List(Box<[ExprId]>),
    /// A binary operation (including comparisons and boolean operators).
    Binary(BinOp, ExprId, ExprId),
    /// A unary operation.
    Unary(UnOp, ExprId),
    /// A lambda, arrow function or closure.
    Closure(FuncId),
    /// Something the model does not represent.
    Other,
}

/// An expression with its span.
#[derive(Clone, PartialEq, Debug)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
    /// The enclosing function, for resolving names.
    pub func: Option<FuncId>,
}

/// One argument of a call.
#[derive(Clone, PartialEq, Debug)]
pub struct Arg {
    /// The keyword, for `f(timeout=30)`.
    pub name: Option<Box<str>>,
    /// The value.
    pub value: ExprId,
    /// Whether it is a spread (`*args`, `...rest`).
    pub spread: bool,
}

/// A call, method call, macro invocation or `new` expression.
#[derive(Clone, PartialEq, Debug)]
pub struct Call {
    /// What is called: a name or a member chain.
    pub callee: ExprId,
    /// The arguments in order.
    pub args: Box<[Arg]>,
    /// The whole call.
    pub span: Span,
    /// The enclosing function.
    pub func: Option<FuncId>,
    /// Whether it is a `new` expression.
    pub is_new: bool,
    /// Whether it is awaited.
    pub awaited: bool,
}

/// What kind of literal a [`MapLit`] is.
#[derive(Clone, PartialEq, Debug)]
pub enum MapKind {
    /// `{...}` in Python, JavaScript, `json!`, or a config mapping.
    Literal,
    /// Python's `dict(key=value, ...)`.
    DictCall,
    /// A Go composite or Rust struct literal, with its type name.
    Struct(Box<str>),
}

/// One `key: value` pair.
#[derive(Clone, PartialEq, Debug)]
pub struct Entry {
    /// The key, decoded (`"duration"`, `duration`, `Duration`).
    pub key: Box<str>,
    /// Where the key is.
    pub key_span: Span,
    /// The value.
    pub value: ExprId,
    /// The whole pair.
    pub span: Span,
}

/// A map, object, dict or struct literal.
#[derive(Clone, PartialEq, Debug)]
pub struct MapLit {
    /// Its pairs in order.
    pub entries: Vec<Entry>,
    /// The whole literal.
    pub span: Span,
    /// Literal, `dict(...)` or struct.
    pub kind: MapKind,
    /// The enclosing function.
    pub func: Option<FuncId>,
    /// Whether it spreads another map in (`**base`, `...base`).
    pub has_spread: bool,
}

impl MapLit {
    /// The entry for `key`.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| &*e.key == key)
    }
}

/// How a binding was introduced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DeclKind {
    /// A plain assignment (`x = 1`, `x := 1`).
    Assign,
    /// `const`, a Go/Rust constant.
    Const,
    /// `let`, `var`.
    Let,
    /// A Rust `static`, or a lazily initialised global.
    Static,
    /// An augmented assignment (`x += 1`).
    Augmented,
}

/// An assignment or declaration.
#[derive(Clone, PartialEq, Debug)]
pub struct Assign {
    /// What is assigned to: a name, a member (`self.token`) or an index (`body["duration"]`).
    pub target: ExprId,
    /// The value (`None` for a declaration without one).
    pub value: Option<ExprId>,
    /// The whole statement.
    pub span: Span,
    /// The enclosing function.
    pub func: Option<FuncId>,
    /// Module, class body or function.
    pub level: Level,
    /// How it was introduced.
    pub decl: DeclKind,
}

/// A function parameter.
#[derive(Clone, PartialEq, Debug)]
pub struct Param {
    /// Its name.
    pub name: Box<str>,
    /// Its default value.
    pub default: Option<ExprId>,
}

/// A function, method, lambda or closure.
#[derive(Clone, PartialEq, Debug)]
pub struct Function {
    /// Its name (for anonymous functions bound to a name, that name).
    pub name: Option<Box<str>>,
    /// The class or receiver type it is a method of.
    pub class: Option<Box<str>>,
    /// Parameters.
    pub params: Vec<Param>,
    /// The whole definition.
    pub span: Span,
    /// The body.
    pub body: Span,
    /// The enclosing function.
    pub parent: Option<FuncId>,
    /// Whether it is async.
    pub is_async: bool,
    /// The values it returns (for expression-bodied lambdas, the body).
    pub returns: Vec<ExprId>,
    /// Decorators and attributes (`@lru_cache`, `#[cached]`).
    pub decorators: Vec<ExprId>,
}

/// The shape of a loop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LoopKind {
    /// No condition at all: `while True`, `for (;;)`, Go `for {}`, Rust `loop {}`.
    Infinite,
    /// Runs while a condition holds (`while cond`, Go `for cond {}`, C-style `for`).
    While,
    /// Runs the body first (`do {} while (cond)`).
    DoWhile,
    /// Iterates a collection or range (`for x in xs`, `for (const x of xs)`).
    ForEach,
}

/// A loop.
#[derive(Clone, PartialEq, Debug)]
pub struct Loop {
    /// Its shape.
    pub kind: LoopKind,
    /// The condition, for `While`/`DoWhile`.
    pub cond: Option<ExprId>,
    /// What is iterated, for `ForEach`.
    pub iter: Option<ExprId>,
    /// The header (`while True:`, `for {`): where loop findings are reported.
    pub header: Span,
    /// The body.
    pub body: Span,
    /// The enclosing function.
    pub func: Option<FuncId>,
}

/// How control leaves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExitKind {
    /// `break`
    Break,
    /// `continue`
    Continue,
    /// `return`
    Return,
    /// `raise`, `throw`, `panic!`, `bail!`
    Throw,
}

/// A condition that must hold for an exit to run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Guard {
    /// The condition (an `if` test, a `select` case).
    pub cond: ExprId,
    /// Whether the exit is in the `else` branch (the condition must be false).
    pub negated: bool,
    /// The statement that holds the condition, so rules can tell a guard inside a
    /// loop from one around it.
    pub at: Span,
}

/// A `break`, `continue`, `return` or `throw`, with the conditions that guard it.
#[derive(Clone, PartialEq, Debug)]
pub struct Exit {
    /// Which kind.
    pub kind: ExitKind,
    /// The value returned or thrown.
    pub value: Option<ExprId>,
    /// The statement.
    pub span: Span,
    /// Enclosing conditions, innermost first, up to the enclosing function.
    pub guards: Vec<Guard>,
    /// The enclosing function.
    pub func: Option<FuncId>,
}

/// One arm of a conditional.
#[derive(Clone, PartialEq, Debug)]
pub struct Arm {
    /// The test (`switch` cases are lowered to `subject == value`).
    pub test: ExprId,
    /// The arm's body.
    pub body: Span,
}

/// An `if`/`elif`/`else` chain, a `switch` or a `match`.
#[derive(Clone, PartialEq, Debug)]
pub struct Conditional {
    /// The arms in order.
    pub arms: Vec<Arm>,
    /// The final `else`/`default`/`_` body.
    pub otherwise: Option<Span>,
    /// The whole statement.
    pub span: Span,
    /// The enclosing function.
    pub func: Option<FuncId>,
}

/// A `try`/`except` (or `try`/`catch`) statement.
#[derive(Clone, PartialEq, Debug)]
pub struct Handler {
    /// The guarded block.
    pub body: Span,
    /// The handler blocks (`except`, `catch`), covered by one span.
    pub handler: Span,
    /// The enclosing function.
    pub func: Option<FuncId>,
}

/// One imported name.
#[derive(Clone, PartialEq, Debug)]
pub struct Import {
    /// The module path as written (`jsonwebtoken`, `authlib.jose`, `github.com/golang-jwt/jwt/v5`).
    pub module: Box<str>,
    /// The imported item (`None` for the module itself or its default export).
    pub name: Option<Box<str>>,
    /// The local name it is bound to.
    pub local: Box<str>,
    /// The statement.
    pub span: Span,
}

/// The kind of a declared field's type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TypeKind {
    /// A number type (`int`, `number`, `float64`, `u32`).
    Number,
    /// A string type.
    Str,
    /// Anything else.
    Other,
}

/// A typed field of a struct, interface, `TypedDict` or model class.
#[derive(Clone, PartialEq, Debug)]
pub struct FieldDecl {
    /// The name on the wire (a JSON tag or serde rename wins over the field name).
    pub key: Box<str>,
    /// Where the field is declared.
    pub span: Span,
    /// Its type.
    pub ty: TypeKind,
}

/// A struct, interface or class that declares the shape of a request.
#[derive(Clone, PartialEq, Debug)]
pub struct TypeDecl {
    /// The type's name.
    pub name: Box<str>,
    /// Its fields.
    pub fields: Vec<FieldDecl>,
    /// The whole declaration.
    pub span: Span,
}

/// Everything a frontend extracted from one file.
#[derive(Clone, Default, Debug)]
pub struct Facts {
    /// The expression arena.
    pub exprs: Vec<Expr>,
    /// Calls.
    pub calls: Vec<Call>,
    /// Map/object/struct literals.
    pub maps: Vec<MapLit>,
    /// Assignments and declarations.
    pub assigns: Vec<Assign>,
    /// Functions.
    pub functions: Vec<Function>,
    /// Loops.
    pub loops: Vec<Loop>,
    /// Exits.
    pub exits: Vec<Exit>,
    /// Conditionals.
    pub conditionals: Vec<Conditional>,
    /// Exception handlers.
    pub handlers: Vec<Handler>,
    /// Comparisons (also found inside `exprs`; listed for quick access).
    pub comparisons: Vec<ExprId>,
    /// Imports.
    pub imports: Vec<Import>,
    /// Typed declarations.
    pub types: Vec<TypeDecl>,
}

impl Facts {
    /// The expression `id`.
    pub fn expr(&self, id: ExprId) -> &Expr {
        &self.exprs[id.index()]
    }

    /// The call `id`.
    pub fn call(&self, id: CallId) -> &Call {
        &self.calls[id.index()]
    }

    /// The map `id`.
    pub fn map(&self, id: MapId) -> &MapLit {
        &self.maps[id.index()]
    }

    /// The function `id`.
    pub fn function(&self, id: FuncId) -> &Function {
        &self.functions[id.index()]
    }

    /// The loop `id`.
    pub fn loop_(&self, id: LoopId) -> &Loop {
        &self.loops[id.index()]
    }

    /// Add an expression inside `func` and return its id.
    pub fn push_expr(&mut self, kind: ExprKind, span: Span, func: Option<FuncId>) -> ExprId {
        let id = ExprId(self.exprs.len() as u32);
        if matches!(kind, ExprKind::Binary(op, ..) if op.is_comparison()) {
            self.comparisons.push(id);
        }
        self.exprs.push(Expr { kind, span, func });
        id
    }

    /// Add a call and return the expression that refers to it.
    pub fn push_call(&mut self, call: Call) -> ExprId {
        let (span, func) = (call.span, call.func);
        let id = CallId(self.calls.len() as u32);
        self.calls.push(call);
        self.push_expr(ExprKind::Call(id), span, func)
    }

    /// Add a map and return the expression that refers to it.
    pub fn push_map(&mut self, map: MapLit) -> ExprId {
        let (span, func) = (map.span, map.func);
        let id = MapId(self.maps.len() as u32);
        self.maps.push(map);
        self.push_expr(ExprKind::Map(id), span, func)
    }

    /// Add a function and return its id.
    pub fn push_function(&mut self, f: Function) -> FuncId {
        let id = FuncId(self.functions.len() as u32);
        self.functions.push(f);
        id
    }

    /// The name an expression refers to, if it is a plain identifier.
    pub fn name_of(&self, id: ExprId) -> Option<&str> {
        match &self.expr(id).kind {
            ExprKind::Name(n) => Some(n),
            _ => None,
        }
    }

    /// The string value of a plain string literal.
    pub fn str_of(&self, id: ExprId) -> Option<&str> {
        match &self.expr(id).kind {
            ExprKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The dotted path of a name or member chain (`requests.post`, `self.session.get`,
    /// `http.Client`); call results in the chain render as `()`, e.g.
    /// `reqwest.Client.new().post`.
    pub fn path_of(&self, id: ExprId) -> Option<String> {
        let mut out = String::new();
        self.write_path(id, &mut out, 0).then_some(out)
    }

    fn write_path(&self, id: ExprId, out: &mut String, depth: usize) -> bool {
        if depth > 32 {
            return false;
        }
        match &self.expr(id).kind {
            ExprKind::Name(n) => {
                out.push_str(n);
                true
            }
            ExprKind::Member(obj, field) => {
                if !self.write_path(*obj, out, depth + 1) {
                    return false;
                }
                out.push('.');
                out.push_str(field);
                true
            }
            ExprKind::Call(c) => {
                let ok = self.write_path(self.call(*c).callee, out, depth + 1);
                out.push_str("()");
                ok
            }
            _ => false,
        }
    }

    /// The last segment of a callee path: `post` for `requests.post`.
    pub fn callee_name(&self, call: &Call) -> Option<&str> {
        match &self.expr(call.callee).kind {
            ExprKind::Name(n) | ExprKind::Member(_, n) => Some(n),
            _ => None,
        }
    }

    /// The keyword argument `name` of a call.
    pub fn kwarg<'a>(&self, call: &'a Call, name: &str) -> Option<&'a Arg> {
        call.args.iter().find(|a| a.name.as_deref() == Some(name))
    }

    /// The `n`th positional argument of a call.
    pub fn positional<'a>(&self, call: &'a Call, n: usize) -> Option<&'a Arg> {
        call.args.iter().filter(|a| a.name.is_none() && !a.spread).nth(n)
    }

    /// The innermost function whose body contains `span`.
    pub fn enclosing_function(&self, span: Span) -> Option<FuncId> {
        self.functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.body.contains(span))
            .min_by_key(|(_, f)| f.body.end - f.body.start)
            .map(|(i, _)| FuncId(i as u32))
    }

    /// The loops whose body contains `span`, innermost first.
    pub fn loops_around(&self, span: Span) -> Vec<LoopId> {
        let mut found: Vec<LoopId> =
            (0..self.loops.len()).map(|i| LoopId(i as u32)).filter(|l| self.loop_(*l).body.contains(span)).collect();
        found.sort_by_key(|l| {
            let b = self.loop_(*l).body;
            b.end - b.start
        });
        found
    }
}
