//! Constant evaluation: what string or number an expression holds, as far as the
//! file (and its package's exports) tell, and what a URL expression points at.

use kling_api::hosts;
use kling_api::resources::{RESOURCES, ResourceId};

use super::{Export, Resolved, Unit, is_self};
use crate::facts::{BinOp, ExprId, ExprKind, Part};
use crate::lang::Lang;

/// How deep evaluation follows names and operators.
const MAX_EVAL_DEPTH: u32 = 12;

/// A piece of a string whose value is partly known.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Frag {
    /// Known text.
    Lit(String),
    /// Unknown text; the hint is the source of the value (a name, `env:VAR`).
    Opaque(String),
}

/// What a URL expression points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct UrlInfo {
    /// A Kling host, a Kling endpoint path, or a name that says Kling.
    pub(crate) kling: bool,
    /// The task resource in the path, if any.
    pub(crate) resource: Option<ResourceId>,
    /// Whether the path continues after the resource (`/v1/videos/text2video/{id}`):
    /// a task query.
    pub(crate) task_query: bool,
    /// Whether it is the account-costs endpoint.
    pub(crate) costs: bool,
}

impl Unit<'_> {
    /// The pieces of the string an expression builds.
    pub(crate) fn fragments(&self, e: ExprId) -> Vec<Frag> {
        let mut out = Vec::new();
        self.frags(e, 0, &mut out);
        out
    }

    fn frags(&self, e: ExprId, depth: u32, out: &mut Vec<Frag>) {
        if depth > MAX_EVAL_DEPTH {
            out.push(Frag::Opaque(String::new()));
            return;
        }
        let expr = self.facts.expr(e);
        match &expr.kind {
            ExprKind::Str(s) => out.push(Frag::Lit(s.to_string())),
            ExprKind::Template(parts) => {
                for p in parts {
                    match p {
                        Part::Lit(s) => out.push(Frag::Lit(s.to_string())),
                        Part::Hole(h) => self.frags(*h, depth + 1, out),
                    }
                }
            }
            ExprKind::Binary(BinOp::Add | BinOp::Or, l, r) => {
                self.frags(*l, depth + 1, out);
                self.frags(*r, depth + 1, out);
            }
            // `"%s/v1/videos" % base`
            ExprKind::Binary(BinOp::Mod, l, r) => {
                self.frags(*l, depth + 1, out);
                self.frags(*r, depth + 1, out);
            }
            ExprKind::Name(n) => match self.resolve(e) {
                Resolved::Value(v) if v != e => self.frags(v, depth + 1, out),
                Resolved::Param { default: Some(d), .. } => {
                    out.push(Frag::Opaque(n.to_string()));
                    self.frags(d, depth + 1, out);
                }
                Resolved::External(Export::Str(s)) => out.push(Frag::Lit(s.to_string())),
                Resolved::External(Export::KlingUrl) => out.push(Frag::Opaque(format!("kling:{n}"))),
                Resolved::Import(i) if self.file.lang == Lang::Rust && i.module.ends_with("header") => {
                    out.push(header_constant(n).map_or_else(|| Frag::Opaque(n.to_string()), Frag::Lit));
                }
                _ => out.push(Frag::Opaque(n.to_string())),
            },
            // `reqwest::header::AUTHORIZATION`
            ExprKind::Member(obj, field)
                if self.file.lang == Lang::Rust
                    && self.facts.path_of(*obj).is_some_and(|p| p == "header" || p.ends_with(".header"))
                    && header_constant(field).is_some() =>
            {
                out.extend(header_constant(field).map(Frag::Lit));
            }
            ExprKind::Member(obj, field) => {
                if self.facts.name_of(*obj).is_some_and(is_self)
                    && let Resolved::Value(v) = self.resolve(e)
                {
                    self.frags(v, depth + 1, out);
                    return;
                }
                // `process.env.KLING_API_BASE`
                if self.facts.path_of(*obj).as_deref() == Some("process.env") {
                    out.push(Frag::Opaque(format!("env:{field}")));
                    return;
                }
                out.push(Frag::Opaque(self.facts.path_of(e).unwrap_or_else(|| field.to_string())));
            }
            ExprKind::Index(obj, idx) => {
                let path = self.facts.path_of(*obj).unwrap_or_default();
                if matches!(path.as_str(), "os.environ" | "process.env" | "ENV" | "env")
                    && let Some(var) = self.facts.str_of(*idx)
                {
                    out.push(Frag::Opaque(format!("env:{var}")));
                } else {
                    out.push(Frag::Opaque(path));
                }
            }
            ExprKind::Call(c) => self.call_frags(*c, depth, out),
            _ => out.push(Frag::Opaque(String::new())),
        }
    }

    fn call_frags(&self, c: crate::facts::CallId, depth: u32, out: &mut Vec<Frag>) {
        let call = self.facts.call(c);
        let path = self.facts.path_of(call.callee).unwrap_or_default();
        let last = self.facts.callee_name(call).unwrap_or("");
        let arg = |i: usize| self.facts.positional(call, i).map(|a| a.value);
        // Environment lookups: the variable's name is the hint, a default is a value.
        let env_getter = matches!(
            path.as_str(),
            "os.environ.get"
                | "os.getenv"
                | "os.Getenv"
                | "os.LookupEnv"
                | "env.var"
                | "std.env.var"
                | "getenv"
                | "environ.get"
                | "config"
                | "env"
        );
        if env_getter {
            if let Some(var) = arg(0).and_then(|a| self.facts.str_of(a)) {
                out.push(Frag::Opaque(format!("env:{var}")));
            }
            if let Some(d) = arg(1) {
                self.frags(d, depth + 1, out);
            }
            return;
        }
        match last {
            // Rust constructors that keep their argument's text:
            // `HeaderValue::from_str(&v)`, `String::from(v)`.
            "from_str" | "from_static" | "try_from" | "from"
                if self.file.lang == Lang::Rust
                    && matches!(self.facts.expr(call.callee).kind, ExprKind::Member(..)) =>
            {
                if let Some(a) = arg(0) {
                    self.frags(a, depth + 1, out);
                }
            }
            // `Some(url)`, `Ok(url)` hold the value they wrap.
            "Some" | "Ok"
                if self.file.lang == Lang::Rust && matches!(self.facts.expr(call.callee).kind, ExprKind::Name(_)) =>
            {
                if let Some(a) = arg(0) {
                    self.frags(a, depth + 1, out);
                }
            }
            // `format!(...).parse::<HeaderValue>()`
            "parse" if self.file.lang == Lang::Rust => {
                if let ExprKind::Member(obj, _) = self.facts.expr(call.callee).kind {
                    self.frags(obj, depth + 1, out);
                }
            }
            // String methods that keep the receiver's text.
            "rstrip" | "strip" | "lstrip" | "trim" | "trimEnd" | "trimStart" | "lower" | "toLowerCase" | "toString"
            | "to_string" | "to_owned" | "into" | "as_str" | "String" | "str" | "clone" | "removesuffix"
            | "TrimSuffix" | "TrimRight" | "unwrap_or" | "unwrap_or_default" | "unwrap" | "expect" | "format" => {
                match self.facts.expr(call.callee).kind {
                    ExprKind::Member(obj, _) => self.frags(obj, depth + 1, out),
                    _ => {
                        if let Some(a) = arg(0) {
                            self.frags(a, depth + 1, out);
                        }
                    }
                }
                if matches!(last, "format" | "unwrap_or") {
                    for a in &call.args {
                        self.frags(a.value, depth + 1, out);
                    }
                }
            }
            // Joins and formatters: all their arguments make the text, and so does a
            // method's receiver (`base.JoinPath(...)`) but not a package's name
            // (`fmt.Sprintf`, `path.Join`, `urllib.parse.urljoin`).
            "urljoin" | "join" | "Join" | "JoinPath" | "Sprintf" | "format_url" | "URL" | "resolve" | "concat"
            | "Sprint" => {
                if let crate::facts::ExprKind::Member(obj, _) = self.facts.expr(call.callee).kind
                    && last != "join"
                    && !self.is_package(obj)
                {
                    self.frags(obj, depth + 1, out);
                }
                if last == "Sprintf"
                    && self.file.lang == Lang::Go
                    && let Some(format) = arg(0).and_then(|f| self.facts.str_of(f))
                {
                    let values: Vec<ExprId> = call.args.iter().skip(1).map(|a| a.value).collect();
                    self.printf_frags(format, &values, depth, out);
                    return;
                }
                for a in &call.args {
                    self.frags(a.value, depth + 1, out);
                }
            }
            _ => out.push(Frag::Opaque(format!("{path}()"))),
        }
    }

    /// Whether `e` names an imported package or module (the root of `fmt.Sprintf`,
    /// `urllib.parse.urljoin`) rather than a value.
    fn is_package(&self, e: ExprId) -> bool {
        let mut root = e;
        while let ExprKind::Member(obj, _) = self.facts.expr(root).kind {
            root = obj;
        }
        let expr = self.facts.expr(root);
        match &expr.kind {
            ExprKind::Name(n) => matches!(self.resolve_name(n, expr.func, expr.span.start), Resolved::Import(_)),
            _ => false,
        }
    }

    /// The pieces of Go's `fmt.Sprintf(format, values...)`: each verb (`%s`, `%v`,
    /// `%d`, `%08.3f`...) takes the next value's text; `%%` is a literal percent sign.
    fn printf_frags(&self, format: &str, values: &[ExprId], depth: u32, out: &mut Vec<Frag>) {
        let mut values = values.iter();
        let mut lit = String::new();
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                lit.push(c);
                continue;
            }
            if chars.peek() == Some(&'%') {
                chars.next();
                lit.push('%');
                continue;
            }
            while chars
                .next_if(|d| matches!(d, '+' | '-' | '#' | ' ' | '.' | '*' | '[' | ']') || d.is_ascii_digit())
                .is_some()
            {}
            chars.next();
            if !lit.is_empty() {
                out.push(Frag::Lit(std::mem::take(&mut lit)));
            }
            match values.next() {
                Some(v) => self.frags(*v, depth + 1, out),
                None => out.push(Frag::Opaque(String::new())),
            }
        }
        if !lit.is_empty() {
            out.push(Frag::Lit(lit));
        }
    }

    /// The full value of a string expression, when every piece is known.
    pub(crate) fn eval_str(&self, e: ExprId) -> Option<String> {
        let mut s = String::new();
        for f in self.fragments(e) {
            match f {
                Frag::Lit(l) => s.push_str(&l),
                Frag::Opaque(_) => return None,
            }
        }
        Some(s)
    }

    /// The value of a numeric expression, when known.
    pub(crate) fn eval_num(&self, e: ExprId) -> Option<f64> {
        self.num(e, 0)
    }

    fn num(&self, e: ExprId, depth: u32) -> Option<f64> {
        if depth > MAX_EVAL_DEPTH {
            return None;
        }
        match &self.facts.expr(e).kind {
            ExprKind::Number { value, .. } => Some(*value),
            ExprKind::Binary(op, l, r) => {
                let (a, b) = (self.num(*l, depth + 1)?, self.num(*r, depth + 1)?);
                match op {
                    BinOp::Add => Some(a + b),
                    BinOp::Sub => Some(a - b),
                    BinOp::Mul => Some(a * b),
                    BinOp::Div if b != 0.0 => Some(a / b),
                    BinOp::Pow => Some(a.powf(b)),
                    _ => None,
                }
            }
            ExprKind::Unary(crate::facts::UnOp::Neg, x) => self.num(*x, depth + 1).map(|v| -v),
            ExprKind::Name(n) if self.is_counter_var(n, self.facts.expr(e).func) => None,
            ExprKind::Name(_) | ExprKind::Member(..) => match self.resolve(e) {
                Resolved::Value(v) if v != e => self.num(v, depth + 1),
                Resolved::External(Export::Num(n)) => Some(*n),
                _ => None,
            },
            ExprKind::Call(c) => {
                // `float(5)`, `Number(5)`, `time.Duration(5)` keep the value.
                let call = self.facts.call(*c);
                let name = self.facts.callee_name(call)?;
                if matches!(name, "float" | "int" | "Number" | "Duration" | "parseInt" | "parseFloat")
                    && call.args.len() == 1
                {
                    return self.num(call.args[0].value, depth + 1);
                }
                None
            }
            _ => None,
        }
    }

    /// Whether `name` is stepped by an augmented assignment (`attempt += 1`,
    /// `attempt++`) in the function that reads it or one around it: a counter, whose
    /// initial value is no constant (`2 ** attempt` grows).
    fn is_counter_var(&self, name: &str, from: Option<crate::facts::FuncId>) -> bool {
        self.facts.assigns.iter().any(|a| {
            a.decl == crate::facts::DeclKind::Augmented
                && self.facts.name_of(a.target) == Some(name)
                && (a.func == from || self.func_chain(from).any(|f| Some(f) == a.func))
        })
    }

    /// Whether the expression is (or resolves to) a number rather than a string.
    /// Returns the number and whether it was written in place.
    pub(crate) fn number_value(&self, e: ExprId) -> Option<(f64, bool)> {
        match &self.facts.expr(e).kind {
            ExprKind::Number { value, .. } => Some((*value, true)),
            ExprKind::Binary(..) | ExprKind::Name(_) | ExprKind::Member(..) => self.eval_num(e).map(|v| (v, false)),
            _ => None,
        }
    }

    /// A duration in seconds, as written in this file's language: seconds in Python,
    /// milliseconds in JavaScript, `time.Duration` in Go, `std::time::Duration` in Rust.
    pub(crate) fn eval_duration(&self, e: ExprId, js_millis: bool) -> Option<f64> {
        match self.file.lang {
            Lang::Go => self.go_duration(e, 0),
            Lang::Rust => self.rust_duration(e, 0),
            _ if js_millis => self.eval_num(e).map(|ms| ms / 1000.0),
            _ => self.eval_num(e),
        }
    }

    fn go_duration(&self, e: ExprId, depth: u32) -> Option<f64> {
        if depth > MAX_EVAL_DEPTH {
            return None;
        }
        let expr = self.facts.expr(e);
        match &expr.kind {
            ExprKind::Member(obj, unit) if self.facts.name_of(*obj) == Some("time") => go_unit(unit),
            ExprKind::Binary(BinOp::Mul, l, r) => {
                // `3 * time.Second`: a plain number scales a duration; only a number
                // standing alone is nanoseconds.
                match (self.eval_num(*l), self.eval_num(*r)) {
                    (Some(n), None) => self.go_duration(*r, depth + 1).map(|d| n * d),
                    (None, Some(n)) => self.go_duration(*l, depth + 1).map(|d| d * n),
                    (Some(a), Some(b)) => Some(a * b / 1e9),
                    (None, None) => None,
                }
            }
            ExprKind::Binary(BinOp::Add, l, r) => {
                Some(self.go_duration(*l, depth + 1)? + self.go_duration(*r, depth + 1)?)
            }
            ExprKind::Binary(BinOp::Div, l, r) => Some(self.go_duration(*l, depth + 1)? / self.eval_num(*r)?),
            ExprKind::Number { value, .. } => Some(*value / 1e9),
            ExprKind::Call(c) => {
                let call = self.facts.call(*c);
                // `time.Duration(n)` is n nanoseconds until multiplied by a unit.
                (self.facts.callee_name(call) == Some("Duration"))
                    .then(|| call.args.first().and_then(|a| self.eval_num(a.value)).map(|n| n / 1e9))
                    .flatten()
            }
            ExprKind::Name(_) => match self.resolve(e) {
                Resolved::Value(v) if v != e => self.go_duration(v, depth + 1),
                _ => None,
            },
            _ => None,
        }
    }

    fn rust_duration(&self, e: ExprId, depth: u32) -> Option<f64> {
        if depth > MAX_EVAL_DEPTH {
            return None;
        }
        match &self.facts.expr(e).kind {
            ExprKind::Call(c) => {
                let call = self.facts.call(*c);
                let n = call.args.first().and_then(|a| self.eval_num(a.value))?;
                match self.facts.callee_name(call)? {
                    "from_secs" | "from_secs_f64" | "from_secs_f32" | "seconds" => Some(n),
                    "from_millis" | "milliseconds" => Some(n / 1000.0),
                    "from_micros" => Some(n / 1e6),
                    "from_nanos" => Some(n / 1e9),
                    "minutes" | "from_mins" => Some(n * 60.0),
                    // chrono's `Duration`/`TimeDelta` and the `time` crate.
                    "hours" | "from_hours" => Some(n * 3600.0),
                    "days" | "from_days" => Some(n * 86400.0),
                    "weeks" => Some(n * 604_800.0),
                    _ => None,
                }
            }
            // `Duration::from_secs(2) * 3`, `base + Duration::from_millis(500)`.
            ExprKind::Binary(BinOp::Mul, l, r) => match (self.eval_num(*l), self.eval_num(*r)) {
                (Some(n), None) => self.rust_duration(*r, depth + 1).map(|d| n * d),
                (None, Some(n)) => self.rust_duration(*l, depth + 1).map(|d| d * n),
                _ => None,
            },
            ExprKind::Binary(BinOp::Div, l, r) => Some(self.rust_duration(*l, depth + 1)? / self.eval_num(*r)?),
            ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), l, r) => {
                let (left, right) = (self.rust_duration(*l, depth + 1)?, self.rust_duration(*r, depth + 1)?);
                Some(if *op == BinOp::Add { left + right } else { left - right })
            }
            ExprKind::Name(_) => match self.resolve(e) {
                Resolved::Value(v) if v != e => self.rust_duration(v, depth + 1),
                _ => None,
            },
            _ => None,
        }
    }

    /// What a URL expression points at, or `None` when nothing about it is known.
    pub(crate) fn url_info(&self, e: ExprId) -> Option<UrlInfo> {
        let frags = self.fragments(e);
        let mut text = String::new();
        let mut kling = false;
        let mut known = false;
        for f in &frags {
            match f {
                Frag::Lit(s) => {
                    known |= !s.is_empty();
                    text.push_str(s);
                }
                Frag::Opaque(hint) => {
                    // A value whose source names Kling (`KLING_API_BASE`, `self.kling_base`).
                    if hint.to_ascii_lowercase().contains("kling") {
                        kling = true;
                        known = true;
                    }
                    text.push_str("{}");
                }
            }
        }
        if !known {
            return None;
        }
        Some(self.classify_url(&text, kling))
    }

    pub(crate) fn classify_url(&self, text: &str, named_kling: bool) -> UrlInfo {
        let mut info = UrlInfo { kling: named_kling, ..UrlInfo::default() };
        if hosts::mentions_host(text)
            || self.options.extra_base_urls.iter().any(|b| !b.is_empty() && text.contains(b.as_str()))
        {
            info.kling = true;
        }
        if text.contains(hosts::ACCOUNT_COSTS_PATH) {
            info.costs = true;
            info.kling |= text.contains("/account/costs");
        }
        if let Some(at) = text.find("/v1/") {
            let path = &text[at + 4..];
            for r in RESOURCES {
                if let Some(rest) = path.strip_prefix(r.path) {
                    // A Kling resource name right after `/v1/` is Kling's API even
                    // behind an unknown base; `/v1/videos/{id}` alone is not.
                    let boundary = rest.is_empty() || rest.starts_with(['/', '?', '"', '\'', '{']);
                    if boundary {
                        info.kling = true;
                        info.resource = Some(r.id);
                        let tail = rest.split('?').next().unwrap_or("");
                        info.task_query = tail.len() > 1;
                    }
                }
            }
        }
        info
    }
}

/// The header name an `http::header` constant stands for: `AUTHORIZATION` is
/// `authorization`, `CONTENT_TYPE` is `content-type`.
fn header_constant(name: &str) -> Option<String> {
    let screaming = !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_');
    screaming.then(|| name.to_ascii_lowercase().replace('_', "-"))
}

fn go_unit(unit: &str) -> Option<f64> {
    Some(match unit {
        "Nanosecond" => 1e-9,
        "Microsecond" => 1e-6,
        "Millisecond" => 1e-3,
        "Second" => 1.0,
        "Minute" => 60.0,
        "Hour" => 3600.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::header_constant;

    #[test]
    fn header_constants_name_their_header() {
        assert_eq!(header_constant("AUTHORIZATION").as_deref(), Some("authorization"));
        assert_eq!(header_constant("CONTENT_TYPE").as_deref(), Some("content-type"));
        assert_eq!(header_constant("HeaderValue"), None);
    }
}
