//! What the common libraries look like in each language: HTTP clients and how each
//! sets a timeout, sleeps and their units, and JWT libraries and whether each puts
//! `typ: "JWT"` in the header by default.

use super::{Resolved, Unit};
use crate::facts::{Call, ExprId, ExprKind, MapKind, Span};
use crate::lang::Lang;

/// The HTTP client behind a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HttpLib {
    /// `requests.get(...)` and friends: one connection per call.
    Requests,
    /// A `requests.Session`.
    RequestsSession,
    /// httpx (module functions or a client); 5 s default timeout.
    Httpx,
    /// An aiohttp `ClientSession`; 5-minute default timeout.
    Aiohttp,
    /// `urllib.request.urlopen`.
    Urllib,
    /// `fetch` (global or node-fetch).
    Fetch,
    /// axios (module or instance).
    Axios,
    /// got.
    Got,
    /// Go's net/http.
    GoHttp,
    /// Rust's reqwest.
    Reqwest,
}

impl HttpLib {
    /// The library's name as users know it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            HttpLib::Requests | HttpLib::RequestsSession => "requests",
            HttpLib::Httpx => "httpx",
            HttpLib::Aiohttp => "aiohttp",
            HttpLib::Urllib => "urllib",
            HttpLib::Fetch => "fetch",
            HttpLib::Axios => "axios",
            HttpLib::Got => "got",
            HttpLib::GoHttp => "net/http",
            HttpLib::Reqwest => "reqwest",
        }
    }
}

/// Whether a call has a timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timeout {
    /// Set on the call or its client.
    Set,
    /// Known to be absent.
    Missing,
    /// Cannot be told (an opaque client or options object).
    Unknown,
}

/// An HTTP request found in code.
#[derive(Clone, Debug)]
pub(crate) struct HttpCall {
    pub(crate) lib: HttpLib,
    pub(crate) url: Option<ExprId>,
    pub(crate) method: Option<String>,
    pub(crate) timeout: Timeout,
    /// Whether each call opens a fresh connection (no pooling).
    pub(crate) one_shot: bool,
    /// Where to report it.
    pub(crate) span: Span,
    /// Where a `timeout=` argument would go (the call's closing parenthesis), for
    /// fixes; only for Python keyword-argument calls.
    pub(crate) kwarg_insert_at: Option<u32>,
}

const HTTP_METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options", "request"];

impl Unit<'_> {
    /// The module an imported or `require`d name comes from.
    pub(crate) fn module_of(&self, name: &str, at: Option<crate::facts::FuncId>) -> Option<String> {
        if let Some(i) = self.facts.imports.iter().find(|i| &*i.local == name) {
            return Some(match &i.name {
                // `from authlib.jose import jwt` comes from `authlib.jose`.
                Some(n) if self.file.lang == Lang::Python || self.file.lang == Lang::Rust => {
                    format!("{}.{n}", i.module)
                }
                _ => i.module.to_string(),
            });
        }
        match self.resolve_name(name, at, u32::MAX) {
            Resolved::Value(v) => self.required_module(v).or_else(|| match self.facts.expr(v).kind {
                // `const { sign } = require("jsonwebtoken")`,
                // `const axiosRetry = require("axios-retry").default`.
                ExprKind::Member(obj, _) => self.required_module(obj),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The module of a `require("module")` call.
    fn required_module(&self, e: ExprId) -> Option<String> {
        let ExprKind::Call(c) = self.facts.expr(e).kind else { return None };
        let call = self.facts.call(c);
        (self.facts.name_of(call.callee) == Some("require"))
            .then(|| call.args.first().and_then(|a| self.facts.str_of(a.value)).map(str::to_owned))
            .flatten()
    }

    /// The HTTP request a call makes, if it is one.
    pub(crate) fn http_call(&self, call: &Call) -> Option<HttpCall> {
        match self.file.lang {
            Lang::Python => self.py_http(call),
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => self.js_http(call),
            Lang::Go => self.go_http(call),
            Lang::Rust => self.rust_http(call),
            _ => None,
        }
    }

    fn kwarg_timeout(&self, call: &Call) -> Timeout {
        match self.facts.kwarg(call, "timeout") {
            Some(a) if matches!(self.facts.expr(a.value).kind, ExprKind::Null) => Timeout::Missing,
            Some(_) => Timeout::Set,
            None if call.args.iter().any(|a| a.spread) => Timeout::Unknown,
            None => Timeout::Missing,
        }
    }

    /// What a Python receiver is: the requests module, a session, an httpx or
    /// aiohttp client. The bool is whether the client itself carries a timeout.
    fn py_receiver(&self, e: ExprId, depth: u32) -> Option<(HttpLib, Option<bool>)> {
        if depth > 6 {
            return None;
        }
        let expr = self.facts.expr(e);
        match &expr.kind {
            ExprKind::Name(n) if &**n == "requests" => Some((HttpLib::Requests, None)),
            ExprKind::Name(n) if &**n == "httpx" => Some((HttpLib::Httpx, Some(true))),
            ExprKind::Binary(crate::facts::BinOp::Or, l, r) => {
                let (a, b) = (self.py_receiver(*l, depth + 1), self.py_receiver(*r, depth + 1));
                // `session or requests`: judged as the weaker of the two.
                match (a, b) {
                    (Some((HttpLib::Requests, t)), _) | (_, Some((HttpLib::Requests, t))) => {
                        Some((HttpLib::Requests, t))
                    }
                    (x, y) => x.or(y),
                }
            }
            ExprKind::Call(c) => {
                let call = self.facts.call(*c);
                let path = self.facts.path_of(call.callee)?;
                let has_timeout = |k: &str| {
                    self.facts.kwarg(call, k).is_some_and(|a| !matches!(self.facts.expr(a.value).kind, ExprKind::Null))
                };
                match path.as_str() {
                    "requests.Session" | "requests.session" | "Session" => Some((HttpLib::RequestsSession, None)),
                    "httpx.Client" | "httpx.AsyncClient" | "AsyncClient" | "Client"
                        if self.module_of("httpx", None).is_some() || path.starts_with("httpx") =>
                    {
                        let explicit_none = self
                            .facts
                            .kwarg(call, "timeout")
                            .is_some_and(|a| matches!(self.facts.expr(a.value).kind, ExprKind::Null));
                        Some((HttpLib::Httpx, Some(!explicit_none)))
                    }
                    "aiohttp.ClientSession" | "ClientSession" => Some((HttpLib::Aiohttp, Some(has_timeout("timeout")))),
                    _ => None,
                }
            }
            ExprKind::Name(_) | ExprKind::Member(..) => match self.resolve(e) {
                Resolved::Value(v) if v != e => self.py_receiver(v, depth + 1),
                Resolved::Param { default: Some(d), .. } => self.py_receiver(d, depth + 1),
                _ => None,
            },
            _ => None,
        }
    }

    fn py_http(&self, call: &Call) -> Option<HttpCall> {
        let callee = self.facts.expr(call.callee);
        let close = call.span.end.saturating_sub(1);
        match &callee.kind {
            ExprKind::Member(obj, method) if HTTP_METHODS.contains(&&**method) => {
                let (lib, client_timeout) = self.py_receiver(*obj, 0)?;
                let url = if &**method == "request" {
                    self.facts.positional(call, 1)
                } else {
                    self.facts.positional(call, 0)
                }
                .or_else(|| self.facts.kwarg(call, "url"))
                .map(|a| a.value);
                let per_call = self.kwarg_timeout(call);
                let explicit_none = self.facts.kwarg(call, "timeout").is_some();
                let timeout = match (lib, client_timeout, per_call) {
                    (_, _, Timeout::Set | Timeout::Unknown) => per_call,
                    // `timeout=None` on the call disables any default.
                    (_, _, Timeout::Missing) if explicit_none => Timeout::Missing,
                    (HttpLib::Httpx, Some(false), _) => Timeout::Missing,
                    (HttpLib::Httpx, _, _) | (_, Some(true), _) => Timeout::Set,
                    _ => Timeout::Missing,
                };
                Some(HttpCall {
                    lib,
                    url,
                    method: Some(method.to_uppercase()),
                    timeout,
                    one_shot: lib == HttpLib::Requests,
                    span: call.span,
                    kwarg_insert_at: Some(close),
                })
            }
            _ => {
                let path = self.facts.path_of(call.callee)?;
                let is_urlopen = path == "urllib.request.urlopen"
                    || path == "request.urlopen"
                    || (path == "urlopen" && self.module_of("urlopen", None).is_some_and(|m| m.starts_with("urllib")));
                if !is_urlopen {
                    return None;
                }
                let target = self.facts.positional(call, 0).map(|a| a.value);
                // `urlopen(Request(url, ...))`: the URL is the Request's.
                let url = target.map(|t| {
                    let d = self.deref(t);
                    match self.facts.expr(d).kind {
                        ExprKind::Call(c) if self.facts.callee_name(self.facts.call(c)) == Some("Request") => {
                            self.facts.positional(self.facts.call(c), 0).map_or(t, |a| a.value)
                        }
                        _ => t,
                    }
                });
                let timeout =
                    if self.facts.positional(call, 2).is_some() { Timeout::Set } else { self.kwarg_timeout(call) };
                Some(HttpCall {
                    lib: HttpLib::Urllib,
                    url,
                    method: None,
                    timeout,
                    one_shot: true,
                    span: call.span,
                    kwarg_insert_at: Some(close),
                })
            }
        }
    }

    /// A JS options object: a literal, or a name bound to one.
    fn js_options(&self, e: Option<ExprId>) -> Option<Option<crate::facts::MapId>> {
        let Some(e) = e else { return Some(None) };
        match self.facts.expr(self.deref(e)).kind {
            ExprKind::Map(m) => Some(Some(m)),
            _ => None,
        }
    }

    fn js_http(&self, call: &Call) -> Option<HttpCall> {
        let callee = self.facts.expr(call.callee);
        let arg = |i: usize| self.facts.positional(call, i).map(|a| a.value);
        let has_key = |opts: Option<Option<crate::facts::MapId>>, keys: &[&str]| -> Timeout {
            match opts {
                None => Timeout::Unknown,
                Some(None) => Timeout::Missing,
                Some(Some(m)) => {
                    let map = self.facts.map(m);
                    if keys.iter().any(|k| map.get(k).is_some()) {
                        Timeout::Set
                    } else if map.has_spread {
                        Timeout::Unknown
                    } else {
                        Timeout::Missing
                    }
                }
            }
        };
        let make = |lib, url, method: Option<String>, timeout| HttpCall {
            lib,
            url,
            method,
            timeout,
            one_shot: false,
            span: call.span,
            kwarg_insert_at: None,
        };
        match &callee.kind {
            ExprKind::Name(n) if &**n == "fetch" => {
                let opts = self.js_options(arg(1));
                let method =
                    opts.flatten().and_then(|m| self.facts.map(m).get("method")).and_then(|e| self.eval_str(e.value));
                let node_fetch = self.module_of("fetch", call.func).is_some_and(|m| m == "node-fetch");
                let keys: &[&str] = if node_fetch { &["signal", "timeout"] } else { &["signal"] };
                Some(make(HttpLib::Fetch, arg(0), method.or(Some("GET".into())), has_key(opts, keys)))
            }
            ExprKind::Name(n) => {
                let module = self.module_of(n, call.func)?;
                match module.as_str() {
                    "axios" => {
                        let (url, opts) = match arg(0).map(|a| &self.facts.expr(a).kind) {
                            Some(ExprKind::Map(_)) => {
                                (arg(0).and_then(|c| self.map_value(c, "url")), self.js_options(arg(0)))
                            }
                            _ => (arg(0), self.js_options(arg(1))),
                        };
                        Some(make(HttpLib::Axios, url, None, self.axios_timeout(has_key(opts, &["timeout", "signal"]))))
                    }
                    "got" => Some(make(
                        HttpLib::Got,
                        arg(0),
                        Some("GET".into()),
                        has_key(self.js_options(arg(1)), &["timeout", "signal"]),
                    )),
                    "node-fetch" | "undici" => {
                        let opts = self.js_options(arg(1));
                        Some(make(HttpLib::Fetch, arg(0), None, has_key(opts, &["signal", "timeout"])))
                    }
                    _ => None,
                }
            }
            ExprKind::Member(obj, method) if HTTP_METHODS.contains(&&**method) => {
                let (lib, client_timeout) = self.js_client(*obj)?;
                // axios takes `post(url, data, config)`; got takes `post(url, options)`.
                let body_method = matches!(&**method, "post" | "put" | "patch") && lib == HttpLib::Axios;
                let (url, config) = if &**method == "request" {
                    (arg(0).and_then(|c| self.map_value(c, "url")), arg(0))
                } else {
                    (arg(0), if body_method { arg(2) } else { arg(1) })
                };
                let per_call = has_key(self.js_options(config), &["timeout", "signal"]);
                let timeout = match (per_call, client_timeout) {
                    (Timeout::Set, _) | (_, Timeout::Set) => Timeout::Set,
                    (Timeout::Unknown, _) | (_, Timeout::Unknown) => Timeout::Unknown,
                    _ => self.axios_timeout(Timeout::Missing),
                };
                Some(make(lib, url, Some(method.to_uppercase()), timeout))
            }
            _ => None,
        }
    }

    fn map_value(&self, e: ExprId, key: &str) -> Option<ExprId> {
        match self.facts.expr(self.deref(e)).kind {
            ExprKind::Map(m) => self.facts.map(m).get(key).map(|en| en.value),
            _ => None,
        }
    }

    /// A global `axios.defaults.timeout = N` sets every call's timeout.
    fn axios_timeout(&self, t: Timeout) -> Timeout {
        if t != Timeout::Missing {
            return t;
        }
        let global = self
            .facts
            .assigns
            .iter()
            .any(|a| self.facts.path_of(a.target).is_some_and(|p| p.ends_with("defaults.timeout")));
        if global { Timeout::Set } else { t }
    }

    /// An axios or got module or instance, and whether the instance has a timeout.
    fn js_client(&self, e: ExprId) -> Option<(HttpLib, Timeout)> {
        let d = self.deref(e);
        match &self.facts.expr(d).kind {
            ExprKind::Name(n) => match self.module_of(n, self.facts.expr(d).func)?.as_str() {
                "axios" => Some((HttpLib::Axios, Timeout::Missing)),
                "got" => Some((HttpLib::Got, Timeout::Missing)),
                _ => None,
            },
            // `const axios = require("axios")`, followed to the call.
            ExprKind::Call(_) if self.required_module(d).is_some() => match self.required_module(d)?.as_str() {
                "axios" => Some((HttpLib::Axios, Timeout::Missing)),
                "got" => Some((HttpLib::Got, Timeout::Missing)),
                _ => None,
            },
            ExprKind::Call(c) => {
                let call = self.facts.call(*c);
                let ExprKind::Member(obj, m) = &self.facts.expr(call.callee).kind else { return None };
                if !matches!(&**m, "create" | "extend") {
                    return None;
                }
                let (lib, _) = self.js_client(*obj)?;
                let cfg = self.js_options(self.facts.positional(call, 0).map(|a| a.value));
                let t = match cfg {
                    Some(Some(m)) if self.facts.map(m).get("timeout").is_some() => Timeout::Set,
                    Some(Some(m)) if self.facts.map(m).has_spread => Timeout::Unknown,
                    Some(_) => Timeout::Missing,
                    None => Timeout::Unknown,
                };
                Some((lib, t))
            }
            _ => None,
        }
    }

    fn go_http(&self, call: &Call) -> Option<HttpCall> {
        let path = self.facts.path_of(call.callee)?;
        let arg = |i: usize| self.facts.positional(call, i).map(|a| a.value);
        let make = |url, method: Option<String>, timeout| HttpCall {
            lib: HttpLib::GoHttp,
            url,
            method,
            timeout,
            one_shot: false,
            span: call.span,
            kwarg_insert_at: None,
        };
        match path.as_str() {
            "http.Get" | "http.Head" => return Some(make(arg(0), Some("GET".into()), Timeout::Missing)),
            "http.Post" | "http.PostForm" => return Some(make(arg(0), Some("POST".into()), Timeout::Missing)),
            _ => {}
        }
        let ExprKind::Member(obj, method) = &self.facts.expr(call.callee).kind else { return None };
        let client_timeout = self.go_client_timeout(*obj)?;
        match &**method {
            "Do" => {
                let req = arg(0)?;
                let (url, verb, ctx_timeout) = self.go_request(req);
                let timeout = if ctx_timeout { Timeout::Set } else { client_timeout };
                Some(make(url, verb, timeout))
            }
            "Get" | "Head" => Some(make(arg(0), Some("GET".into()), client_timeout)),
            "Post" | "PostForm" => Some(make(arg(0), Some("POST".into()), client_timeout)),
            _ => None,
        }
    }

    /// Whether a Go `*http.Client` expression has a `Timeout`; `None` when it is not
    /// recognisably an http.Client.
    fn go_client_timeout(&self, e: ExprId) -> Option<Timeout> {
        if self.facts.path_of(e).as_deref() == Some("http.DefaultClient") {
            return Some(Timeout::Missing);
        }
        let d = self.deref(e);
        match &self.facts.expr(d).kind {
            ExprKind::Map(m) => {
                let map = self.facts.map(*m);
                match &map.kind {
                    MapKind::Struct(t) if t.ends_with("http.Client") || &**t == "Client" => {
                        Some(if map.get("Timeout").is_some() { Timeout::Set } else { Timeout::Missing })
                    }
                    _ => None,
                }
            }
            _ if self.facts.path_of(d).as_deref() == Some("http.DefaultClient") => Some(Timeout::Missing),
            // A client we cannot see (a parameter, a struct field): say nothing.
            _ => Some(Timeout::Unknown),
        }
    }

    /// The URL and method of a Go request value, and whether its context has a
    /// timeout or deadline.
    fn go_request(&self, req: ExprId) -> (Option<ExprId>, Option<String>, bool) {
        let d = self.deref(req);
        let ExprKind::Call(c) = self.facts.expr(d).kind else { return (None, None, false) };
        let call = self.facts.call(c);
        let arg = |i: usize| self.facts.positional(call, i).map(|a| a.value);
        match self.facts.path_of(call.callee).as_deref() {
            Some("http.NewRequest") => (arg(1), arg(0).and_then(|m| self.go_method(m)), false),
            Some("http.NewRequestWithContext") => {
                let ctx_timeout = arg(0).is_some_and(|ctx| {
                    let cd = self.deref(ctx);
                    matches!(&self.facts.expr(cd).kind, ExprKind::Call(cc)
                        if self.facts.callee_name(self.facts.call(*cc)).is_some_and(|n| n == "WithTimeout" || n == "WithDeadline"))
                });
                (arg(2), arg(1).and_then(|m| self.go_method(m)), ctx_timeout)
            }
            _ => (None, None, false),
        }
    }

    fn go_method(&self, e: ExprId) -> Option<String> {
        if let Some(s) = self.eval_str(e) {
            return Some(s);
        }
        let path = self.facts.path_of(e)?;
        path.strip_prefix("http.Method").map(str::to_uppercase)
    }

    fn rust_http(&self, call: &Call) -> Option<HttpCall> {
        let path = self.facts.path_of(call.callee)?;
        let arg0 = self.facts.positional(call, 0).map(|a| a.value);
        if matches!(path.as_str(), "reqwest.get" | "reqwest.blocking.get") {
            return Some(HttpCall {
                lib: HttpLib::Reqwest,
                url: arg0,
                method: Some("GET".into()),
                timeout: Timeout::Missing,
                one_shot: false,
                span: call.span,
                kwarg_insert_at: None,
            });
        }
        if self.facts.callee_name(call) != Some("send") {
            return None;
        }
        // Walk down `client.post(url).json(&b).timeout(d).send()`.
        let mut per_request = false;
        let mut link = call.callee;
        let mut request = None;
        for _ in 0..16 {
            let ExprKind::Member(obj, _) = self.facts.expr(link).kind else { break };
            let ExprKind::Call(c) = self.facts.expr(obj).kind else { break };
            let inner = self.facts.call(c);
            match self.facts.callee_name(inner) {
                Some("timeout") => per_request = true,
                Some(m) if HTTP_METHODS.contains(&m) => {
                    request = Some(inner);
                    break;
                }
                _ => {}
            }
            link = inner.callee;
        }
        let request = request?;
        let ExprKind::Member(client, method) = &self.facts.expr(request.callee).kind else { return None };
        let client_timeout = self.reqwest_client_timeout(*client)?;
        let url =
            if &**method == "request" { self.facts.positional(request, 1) } else { self.facts.positional(request, 0) }
                .map(|a| a.value);
        Some(HttpCall {
            lib: HttpLib::Reqwest,
            url,
            method: Some(method.to_uppercase()),
            timeout: if per_request { Timeout::Set } else { client_timeout },
            one_shot: false,
            span: request.span,
            kwarg_insert_at: None,
        })
    }

    /// Whether a reqwest client was built with a timeout; `None` if the expression
    /// is not recognisably a reqwest client.
    fn reqwest_client_timeout(&self, e: ExprId) -> Option<Timeout> {
        let d = self.deref(e);
        let ExprKind::Call(c) = self.facts.expr(d).kind else {
            return matches!(self.facts.expr(d).kind, ExprKind::Member(..) | ExprKind::Name(_))
                .then_some(Timeout::Unknown);
        };
        let mut link = Some(c);
        let mut timeout = false;
        for _ in 0..16 {
            let Some(cid) = link else { break };
            let call = self.facts.call(cid);
            let path = self.facts.path_of(call.callee).unwrap_or_default();
            if path.ends_with("Client.new") || path.ends_with("Client.default") {
                return Some(if timeout { Timeout::Set } else { Timeout::Missing });
            }
            if path.ends_with("Client.builder") || path.ends_with("ClientBuilder.new") {
                return Some(if timeout { Timeout::Set } else { Timeout::Missing });
            }
            if matches!(self.facts.callee_name(call), Some("timeout" | "connect_timeout" | "read_timeout")) {
                timeout = true;
            }
            link = match self.facts.expr(call.callee).kind {
                ExprKind::Member(obj, _) => match self.facts.expr(obj).kind {
                    ExprKind::Call(inner) => Some(inner),
                    _ => None,
                },
                _ => None,
            };
        }
        Some(Timeout::Unknown)
    }
}

/// The unit a sleep's argument is written in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SleepUnit {
    Seconds,
    Millis,
    /// A Go `time.Duration` or Rust `std::time::Duration` expression.
    Duration,
}

impl Unit<'_> {
    /// If `call` sleeps, the argument that says how long and its unit.
    pub(crate) fn sleep_call(&self, call: &Call) -> Option<(Option<ExprId>, SleepUnit)> {
        let path = self.facts.path_of(call.callee)?;
        let name = self.facts.callee_name(call)?;
        let arg = |i: usize| self.facts.positional(call, i).map(|a| a.value);
        match self.file.lang {
            Lang::Python => {
                let known = matches!(
                    path.as_str(),
                    "time.sleep" | "asyncio.sleep" | "trio.sleep" | "anyio.sleep" | "gevent.sleep" | "eventlet.sleep"
                );
                let imported = path == "sleep"
                    && self.module_of("sleep", call.func).is_some_and(|m| {
                        ["time", "asyncio", "trio", "anyio", "gevent"].iter().any(|p| m.starts_with(p))
                    });
                (known || imported).then(|| (arg(0), SleepUnit::Seconds))
            }
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => {
                let from_timers =
                    self.module_of(name, call.func).is_some_and(|m| m.contains("timers/promises") || m == "delay");
                match name {
                    "setTimeout" if !from_timers && call.args.len() >= 2 => Some((arg(1), SleepUnit::Millis)),
                    _ if from_timers => Some((arg(0), SleepUnit::Millis)),
                    _ => None,
                }
            }
            Lang::Go => match path.as_str() {
                "time.Sleep" | "time.After" | "time.NewTimer" | "time.Tick" | "time.NewTicker" => {
                    Some((arg(0), SleepUnit::Duration))
                }
                _ => None,
            },
            Lang::Rust => {
                // `ticks.tick().await` on an interval made outside the loop paces it as
                // a sleep of the interval's period does.
                if name == "tick"
                    && let ExprKind::Member(ticks, _) = self.facts.expr(call.callee).kind
                    && let ExprKind::Call(made) = self.facts.expr(self.deref(ticks)).kind
                    && self.facts.callee_name(self.facts.call(made)) == Some("interval")
                {
                    return self.sleep_call(self.facts.call(made));
                }
                let is_sleep = matches!(name, "sleep" | "interval" | "sleep_until")
                    && (path.contains("thread")
                        || path.contains("time")
                        || path.contains("task")
                        || path == "sleep"
                        || path == "interval");
                is_sleep.then(|| (arg(0), SleepUnit::Duration))
            }
            _ => None,
        }
    }

    /// Evaluate a sleep argument to seconds.
    pub(crate) fn sleep_seconds(&self, arg: ExprId, unit: SleepUnit) -> Option<f64> {
        match unit {
            SleepUnit::Seconds => self.eval_num(arg),
            SleepUnit::Millis => self.eval_num(arg).map(|ms| ms / 1000.0),
            SleepUnit::Duration => self.eval_duration(arg, false),
        }
    }
}

/// A JWT library call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JwtLib {
    PyJwt,
    Authlib,
    PythonJose,
    JsonWebToken,
    Jose,
    GolangJwt,
    RustJsonWebToken,
}

impl JwtLib {
    /// Whether the library writes `typ: "JWT"` into the header unless told otherwise.
    pub(crate) fn typ_by_default(self) -> bool {
        !matches!(self, JwtLib::Authlib | JwtLib::Jose)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            JwtLib::PyJwt => "PyJWT",
            JwtLib::Authlib => "authlib",
            JwtLib::PythonJose => "python-jose",
            JwtLib::JsonWebToken => "jsonwebtoken",
            JwtLib::Jose => "jose",
            JwtLib::GolangJwt => "golang-jwt",
            JwtLib::RustJsonWebToken => "jsonwebtoken",
        }
    }

    /// Whether an explicit header is merged over the library's default one (so a
    /// header without `typ` still yields `typ: "JWT"` at run time).
    pub(crate) fn merges_header(self) -> bool {
        matches!(self, JwtLib::PyJwt | JwtLib::PythonJose | JwtLib::JsonWebToken)
    }
}

/// A call that signs a JWT.
#[derive(Clone, Debug)]
pub(crate) struct JwtCall {
    pub(crate) lib: JwtLib,
    pub(crate) claims: Option<ExprId>,
    pub(crate) key: Option<ExprId>,
    /// The explicit header, when the call (or its token) sets one.
    pub(crate) header: Option<ExprId>,
    /// Where the header is given, or the call.
    pub(crate) header_span: Span,
    /// Options that may set `exp` (jsonwebtoken's `expiresIn`).
    pub(crate) options: Option<ExprId>,
    /// Builder calls that set claims (jose's `setExpirationTime('30m')`).
    pub(crate) builder_calls: Vec<(String, Option<ExprId>)>,
}

impl Unit<'_> {
    /// The JWT a call signs, if it signs one.
    pub(crate) fn jwt_call(&self, call: &Call) -> Option<JwtCall> {
        let callee = self.facts.expr(call.callee);
        let arg = |i: usize| self.facts.positional(call, i).map(|a| a.value);
        match (self.file.lang, &callee.kind) {
            (Lang::Python, ExprKind::Member(obj, m)) if &**m == "encode" => {
                let local = self.facts.name_of(*obj)?;
                let module = self.module_of(local, call.func)?;
                let lib = match module.as_str() {
                    "jwt" => JwtLib::PyJwt,
                    "authlib.jose.jwt" | "authlib.jose.JsonWebToken" => JwtLib::Authlib,
                    "jose.jwt" => JwtLib::PythonJose,
                    _ => return None,
                };
                let headers_kw = self.facts.kwarg(call, "headers").map(|a| a.value);
                let (claims, key, header) = match lib {
                    JwtLib::Authlib => (arg(1), arg(2), arg(0)),
                    _ => (
                        arg(0).or(self.facts.kwarg(call, "payload").map(|a| a.value)),
                        arg(1).or(self.facts.kwarg(call, "key").map(|a| a.value)),
                        headers_kw.or(arg(3)),
                    ),
                };
                let header_span = header.map_or(call.span, |h| self.facts.expr(h).span);
                Some(JwtCall { lib, claims, key, header, header_span, options: None, builder_calls: Vec::new() })
            }
            (Lang::Python, ExprKind::Name(n)) if &**n == "encode" => {
                let module = self.module_of("encode", call.func)?;
                (module == "jwt.encode").then(|| {
                    let header = self.facts.kwarg(call, "headers").map(|a| a.value);
                    let header_span = header.map_or(call.span, |h| self.facts.expr(h).span);
                    JwtCall {
                        lib: JwtLib::PyJwt,
                        claims: arg(0),
                        key: arg(1),
                        header,
                        header_span,
                        options: None,
                        builder_calls: Vec::new(),
                    }
                })
            }
            (Lang::JavaScript | Lang::TypeScript | Lang::Tsx, ExprKind::Member(obj, m)) if &**m == "sign" => {
                if let Some(local) = self.facts.name_of(*obj)
                    && self.module_of(local, call.func).as_deref() == Some("jsonwebtoken")
                {
                    let options = arg(2);
                    let header = options.and_then(|o| self.map_value(o, "header"));
                    let header_span = header.map_or(call.span, |h| self.facts.expr(h).span);
                    return Some(JwtCall {
                        lib: JwtLib::JsonWebToken,
                        claims: arg(0),
                        key: arg(1),
                        header,
                        header_span,
                        options,
                        builder_calls: Vec::new(),
                    });
                }
                self.jose_chain(call)
            }
            (Lang::JavaScript | Lang::TypeScript | Lang::Tsx, ExprKind::Name(n)) if &**n == "sign" => {
                (self.module_of("sign", call.func).as_deref() == Some("jsonwebtoken")).then(|| {
                    let options = arg(2);
                    let header = options.and_then(|o| self.map_value(o, "header"));
                    let header_span = header.map_or(call.span, |h| self.facts.expr(h).span);
                    JwtCall {
                        lib: JwtLib::JsonWebToken,
                        claims: arg(0),
                        key: arg(1),
                        header,
                        header_span,
                        options,
                        builder_calls: Vec::new(),
                    }
                })
            }
            (Lang::Go, ExprKind::Member(tok, m)) if &**m == "SignedString" => {
                let d = self.deref(*tok);
                let ExprKind::Call(c) = self.facts.expr(d).kind else { return None };
                let new_call = self.facts.call(c);
                let name = self.facts.callee_name(new_call)?;
                if name != "NewWithClaims" && name != "New" {
                    return None;
                }
                let claims = self.facts.positional(new_call, 1).map(|a| a.value);
                // `tok.Header = map[string]interface{}{...}` replaces the header: the
                // last such write before signing, in the signing function (another
                // function's `tok` is another token).
                let tok_name = self.facts.name_of(*tok);
                let header = self
                    .facts
                    .assigns
                    .iter()
                    .filter(|a| a.func == call.func && a.span.start < call.span.start)
                    .filter_map(|a| match self.facts.expr(a.target).kind {
                        ExprKind::Member(o, ref f)
                            if &**f == "Header" && self.facts.name_of(o) == tok_name && tok_name.is_some() =>
                        {
                            a.value
                        }
                        _ => None,
                    })
                    .next_back();
                let header_span = header.map_or(call.span, |h| self.facts.expr(h).span);
                Some(JwtCall {
                    lib: JwtLib::GolangJwt,
                    claims,
                    key: arg(0),
                    header,
                    header_span,
                    options: None,
                    builder_calls: Vec::new(),
                })
            }
            (Lang::Rust, _) => {
                let path = self.facts.path_of(call.callee)?;
                let is_encode = path == "jsonwebtoken.encode"
                    || (path == "encode"
                        && self.module_of("encode", call.func).is_some_and(|m| m.starts_with("jsonwebtoken")));
                if !is_encode {
                    return None;
                }
                let header = arg(0);
                let header_span = header.map_or(call.span, |h| self.facts.expr(h).span);
                Some(JwtCall {
                    lib: JwtLib::RustJsonWebToken,
                    claims: arg(1),
                    key: arg(2),
                    header,
                    header_span,
                    options: None,
                    builder_calls: Vec::new(),
                })
            }
            _ => None,
        }
    }

    /// `new SignJWT(claims).setProtectedHeader(h)....sign(key)` from `jose`.
    fn jose_chain(&self, call: &Call) -> Option<JwtCall> {
        let mut link = call.callee;
        let mut header = None;
        let mut header_span = call.span;
        let mut builder_calls = Vec::new();
        for _ in 0..16 {
            let ExprKind::Member(obj, _) = self.facts.expr(link).kind else { return None };
            let ExprKind::Call(c) = self.facts.expr(obj).kind else { return None };
            let inner = self.facts.call(c);
            if inner.is_new {
                let name = self.facts.callee_name(inner)?;
                if name != "SignJWT" {
                    return None;
                }
                let claims = self.facts.positional(inner, 0).map(|a| a.value);
                let key = self.facts.positional(call, 0).map(|a| a.value);
                return Some(JwtCall {
                    lib: JwtLib::Jose,
                    claims,
                    key,
                    header,
                    header_span,
                    options: None,
                    builder_calls,
                });
            }
            let m = self.facts.callee_name(inner).unwrap_or("").to_owned();
            let a0 = self.facts.positional(inner, 0).map(|a| a.value);
            if m == "setProtectedHeader" {
                header = a0;
                // The header argument, not the whole chain from `new SignJWT(`.
                header_span = a0.map_or(inner.span, |h| self.facts.expr(h).span);
            }
            builder_calls.push((m, a0));
            link = inner.callee;
        }
        None
    }
}
