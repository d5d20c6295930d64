//! The state every frontend shares while lowering a syntax tree into [`Facts`]: the
//! enclosing function, the level (module, class body, function), the conditions that
//! guard the current statement, and a recursion budget.

use crate::facts::{
    Arg, Assign, Call, DeclKind, Exit, ExitKind, ExprId, ExprKind, Facts, FuncId, Function, Guard, Level, Loop,
    LoopKind, MapKind, MapLit, Span,
};

/// How deep lowering recurses before it stops describing sub-expressions. Deeper code
/// (generated or adversarial) is summarised as [`ExprKind::Other`] rather than risking
/// the stack.
pub(crate) const MAX_DEPTH: u32 = 160;

/// What an `enter_*` call saved, to be handed back to [`Builder::leave`].
#[must_use = "pass the scope back to Builder::leave"]
pub(crate) struct Scope {
    /// The function entered, if a function was.
    pub(crate) id: Option<FuncId>,
    func: Option<FuncId>,
    level: Level,
    class: Option<Box<str>>,
    guards: Vec<Guard>,
    breakable: Vec<bool>,
}

/// Facts under construction plus the context of the node being lowered.
pub(crate) struct Builder {
    pub(crate) facts: Facts,
    pub(crate) func: Option<FuncId>,
    pub(crate) level: Level,
    pub(crate) class: Option<Box<str>>,
    guards: Vec<Guard>,
    /// For each enclosing construct a bare `break` can leave: `true` for a loop,
    /// `false` for a `switch`/`select` (whose `break` does not leave the loop).
    breakable: Vec<bool>,
    depth: u32,
}

impl Builder {
    pub(crate) fn new() -> Builder {
        Builder {
            facts: Facts::default(),
            func: None,
            level: Level::Module,
            class: None,
            guards: Vec::new(),
            breakable: Vec::new(),
            depth: 0,
        }
    }

    /// Enter a loop (`true`) or a switch/select (`false`) for `break` resolution.
    pub(crate) fn push_breakable(&mut self, is_loop: bool) {
        self.breakable.push(is_loop);
    }

    pub(crate) fn pop_breakable(&mut self) {
        self.breakable.pop();
    }

    /// Record a `break`; `labelled` breaks always leave a loop. A bare `break` inside
    /// a `switch` only leaves the switch, so it is not an exit of anything we track.
    pub(crate) fn break_(&mut self, span: Span, labelled: bool) {
        if labelled || self.breakable.last() != Some(&false) {
            self.exit(ExitKind::Break, None, span);
        }
    }

    pub(crate) fn finish(self) -> Facts {
        self.facts
    }

    /// Enter one level of recursion; `false` when the budget is spent.
    pub(crate) fn descend(&mut self) -> bool {
        if self.depth >= MAX_DEPTH {
            return false;
        }
        self.depth += 1;
        true
    }

    pub(crate) fn ascend(&mut self) {
        self.depth -= 1;
    }

    pub(crate) fn expr(&mut self, kind: ExprKind, span: Span) -> ExprId {
        self.facts.push_expr(kind, span, self.func)
    }

    pub(crate) fn other(&mut self, span: Span) -> ExprId {
        self.expr(ExprKind::Other, span)
    }

    pub(crate) fn name(&mut self, name: &str, span: Span) -> ExprId {
        self.expr(ExprKind::Name(name.into()), span)
    }

    pub(crate) fn str_lit(&mut self, value: &str, span: Span) -> ExprId {
        self.expr(ExprKind::Str(value.into()), span)
    }

    pub(crate) fn call(&mut self, callee: ExprId, args: Vec<Arg>, span: Span, is_new: bool) -> ExprId {
        let func = self.func;
        self.facts.push_call(Call { callee, args: args.into(), span, func, is_new, awaited: false })
    }

    /// Mark the call behind `expr` (if any) as awaited.
    pub(crate) fn mark_awaited(&mut self, expr: ExprId) {
        if let ExprKind::Call(c) = self.facts.expr(expr).kind {
            self.facts.calls[c.index()].awaited = true;
        }
    }

    pub(crate) fn map(&mut self, map: MapLit) -> ExprId {
        self.facts.push_map(map)
    }

    pub(crate) fn new_map(&self, span: Span, kind: MapKind) -> MapLit {
        MapLit { entries: Vec::new(), span, kind, func: self.func, has_spread: false }
    }

    pub(crate) fn assign(&mut self, target: ExprId, value: Option<ExprId>, span: Span, decl: DeclKind) {
        let a = Assign { target, value, span, func: self.func, level: self.level, decl };
        self.facts.assigns.push(a);
    }

    pub(crate) fn exit(&mut self, kind: ExitKind, value: Option<ExprId>, span: Span) {
        let guards = self.guards.iter().rev().copied().collect();
        self.facts.exits.push(Exit { kind, value, span, guards, func: self.func });
    }

    /// Declare a loop; its body must be lowered between this call and
    /// [`Builder::end_loop`].
    pub(crate) fn add_loop(
        &mut self,
        kind: LoopKind,
        cond: Option<ExprId>,
        iter: Option<ExprId>,
        header: Span,
        body: Span,
    ) {
        let l = Loop { kind, cond, iter, header, body, func: self.func };
        self.facts.loops.push(l);
        self.breakable.push(true);
    }

    pub(crate) fn end_loop(&mut self) {
        self.breakable.pop();
    }

    /// Lower what follows under `cond` (negated for an `else` branch) until
    /// [`Builder::pop_guard`].
    pub(crate) fn push_guard(&mut self, cond: ExprId, negated: bool, at: Span) {
        self.guards.push(Guard { cond, negated, at });
    }

    pub(crate) fn pop_guard(&mut self) {
        self.guards.pop();
    }

    /// Declare a function and lower what follows inside it, until
    /// [`Builder::leave_function`]. Guards do not leak into a function body: an `if`
    /// around a `def` does not guard the def's returns.
    pub(crate) fn enter_function(&mut self, mut function: Function) -> Scope {
        function.parent = self.func;
        if function.class.is_none() && self.level == Level::Class {
            function.class.clone_from(&self.class);
        }
        let id = self.facts.push_function(function);
        Scope {
            id: Some(id),
            func: self.func.replace(id),
            level: std::mem::replace(&mut self.level, Level::Function),
            class: self.class.clone(),
            guards: std::mem::take(&mut self.guards),
            breakable: std::mem::take(&mut self.breakable),
        }
    }

    /// Enter a class body called `name`, until [`Builder::leave`].
    pub(crate) fn enter_class(&mut self, name: &str) -> Scope {
        let scope = Scope {
            id: None,
            func: self.func,
            level: self.level,
            class: self.class.replace(name.into()),
            guards: self.guards.clone(),
            breakable: self.breakable.clone(),
        };
        if self.level == Level::Module {
            self.level = Level::Class;
        }
        scope
    }

    /// Return to the scope saved by an `enter_*` call.
    pub(crate) fn leave(&mut self, scope: Scope) {
        self.func = scope.func;
        self.level = scope.level;
        self.class = scope.class;
        self.guards = scope.guards;
        self.breakable = scope.breakable;
    }

    pub(crate) fn add_return(&mut self, func: FuncId, value: ExprId) {
        self.facts.functions[func.index()].returns.push(value);
    }
}

/// Parse a numeric literal leniently: underscores, hex/octal/binary prefixes, type
/// suffixes (`5u32`, `1.5f64`, `10n`, `3j`) are accepted.
pub(crate) fn parse_number(text: &str) -> Option<(f64, bool)> {
    let t: String = text.chars().filter(|c| *c != '_').collect::<String>().to_ascii_lowercase();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = t.strip_prefix(prefix) {
            let end = digits.find(|c: char| !c.is_digit(radix)).unwrap_or(digits.len());
            return i64::from_str_radix(&digits[..end], radix).ok().map(|v| (v as f64, true));
        }
    }
    // A type suffix starts at the first letter that cannot belong to the number.
    let end = t.find(|c: char| c.is_ascii_alphabetic() && c != 'e').unwrap_or(t.len());
    let numeric = &t[..end];
    let integer = !numeric.contains(['.', 'e']);
    numeric.parse::<f64>().ok().map(|v| (v, integer))
}

/// Decode the common backslash escapes of a quoted string's content.
pub(crate) fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('\n') | None => {}
            Some(other @ ('\\' | '"' | '\'' | '`' | '/' | '$' | '{' | '}')) => out.push(other),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

/// Add `arg` as a plain positional argument.
pub(crate) fn positional(value: ExprId) -> Arg {
    Arg { name: None, value, spread: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("5"), Some((5.0, true)));
        assert_eq!(parse_number("1_000"), Some((1000.0, true)));
        assert_eq!(parse_number("0.5"), Some((0.5, false)));
        assert_eq!(parse_number("0x10"), Some((16.0, true)));
        assert_eq!(parse_number("5u32"), Some((5.0, true)));
        assert_eq!(parse_number("10n"), Some((10.0, true)));
        assert_eq!(parse_number("1e3"), Some((1000.0, false)));
        assert_eq!(parse_number("2.5f64"), Some((2.5, false)));
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(r#"a\"b\n"#), "a\"b\n");
        assert_eq!(unescape(r"\d"), r"\d");
    }
}
