//! Retries: hand-written retry loops around Kling requests (how they wait, whether
//! they stop) and retry-library configurations (tenacity, backoff, urllib3 `Retry`,
//! axios-retry, p-retry, cenkalti/backoff).

use super::idioms::SleepUnit;
use super::summary::Amount;
use super::{Resolved, Unit};
use crate::facts::{BinOp, DeclKind, ExitKind, ExprId, ExprKind, FuncId, LoopId, LoopKind, Span};
use crate::lang::Lang;

/// How a retry loop waits between attempts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Delay {
    /// Not at all.
    None,
    /// The same wait every time.
    Constant(f64),
    /// A wait that grows with the attempt, with or without randomness.
    Growing { jitter: bool },
    /// Taken from the server (`Retry-After`).
    ServerAdvised,
    /// Cannot be told.
    Unknown,
}

/// A loop that retries a Kling request on failure.
#[derive(Clone, Debug)]
pub(crate) struct RetryLoop {
    pub(crate) id: LoopId,
    pub(crate) delay: Delay,
    pub(crate) bounded: bool,
}

/// A retry-library configuration and what is wrong with it.
#[derive(Clone, Debug)]
pub(crate) struct RetryConfig {
    pub(crate) span: Span,
    pub(crate) lib: &'static str,
    /// Why it never stops retrying, if it does not.
    pub(crate) unbounded: Option<String>,
    /// Why its waits are wrong, if they are.
    pub(crate) delay: Option<String>,
}

const RETRY_CODES: &[f64] = &[429.0, 500.0, 502.0, 503.0, 504.0, 1302.0, 1303.0, 5000.0, 5001.0, 5002.0];

impl Unit<'_> {
    /// The loops that retry Kling requests (computed once per file).
    pub(crate) fn retry_loops(&self) -> &[RetryLoop] {
        &self.retries().0
    }

    /// Retry-library configurations in Kling code (computed once per file).
    pub(crate) fn retry_configs(&self) -> &[RetryConfig] {
        &self.retries().1
    }

    fn retries(&self) -> &(Vec<RetryLoop>, Vec<RetryConfig>) {
        self.retry_cache.get_or_init(|| (self.find_retry_loops(), self.find_retry_configs()))
    }

    fn find_retry_loops(&self) -> Vec<RetryLoop> {
        let mut out = Vec::new();
        for i in 0..self.facts.loops.len() {
            let id = LoopId(i as u32);
            let lp = self.facts.loop_(id);
            let facts = self.loop_facts(id);
            if !facts.kling || facts.polls {
                continue;
            }
            // A batch over a collection is not a retry.
            if lp.kind == LoopKind::ForEach && !lp.iter.is_some_and(|it| self.is_counter_range(it)) {
                continue;
            }
            let success_exit = self
                .exits_in(lp.body)
                .any(|x| x.func == lp.func && matches!(x.kind, ExitKind::Return | ExitKind::Break));
            if !success_exit || !self.has_retry_signal(id) {
                continue;
            }
            out.push(RetryLoop { id, delay: self.loop_delay(id), bounded: facts.bounded });
        }
        out
    }

    fn is_counter_range(&self, it: ExprId) -> bool {
        match &self.facts.expr(self.deref(it)).kind {
            ExprKind::Call(c) => {
                let path = self.facts.path_of(self.facts.call(*c).callee).unwrap_or_default();
                matches!(path.as_str(), "range" | "Range" | "RangeFrom" | "itertools.count" | "count")
            }
            ExprKind::Number { .. } => true,
            _ => false,
        }
    }

    fn has_retry_signal(&self, id: LoopId) -> bool {
        let lp = self.facts.loop_(id);
        let header = self.text(lp.header).to_ascii_lowercase();
        if ["attempt", "retr", "tries", "try_"].iter().any(|w| header.contains(w)) {
            return true;
        }
        let kling_call_in = |span: Span| {
            self.calls_in(span).any(|c| {
                self.http_call(c).is_some_and(|h| h.url.and_then(|u| self.url_info(u)).is_some_and(|u| u.kling))
                    || self.callee_summary(c).is_some_and(|s| s.kling_request)
            })
        };
        if self.facts.handlers.iter().any(|h| lp.body.contains(h.body) && kling_call_in(h.body)) {
            return true;
        }
        self.facts.comparisons.iter().any(|&c| {
            let e = self.facts.expr(c);
            if !lp.body.contains(e.span) {
                return false;
            }
            let ExprKind::Binary(_, l, r) = e.kind else { return false };
            let is_code = |x: ExprId| self.eval_num(x).is_some_and(|n| RETRY_CODES.contains(&n));
            let is_err = |x: ExprId| self.facts.name_of(x).is_some_and(|n| n == "err" || n.ends_with("Err"));
            is_code(l) || is_code(r) || (self.file.lang == Lang::Go && (is_err(l) || is_err(r)))
        })
    }

    /// How a loop waits: its sleeps, direct or through helpers, and what their
    /// durations are made of.
    fn loop_delay(&self, id: LoopId) -> Delay {
        let lp = self.facts.loop_(id);
        let mut delay = Delay::None;
        for call in self.calls_in(lp.body) {
            let (arg, unit) = if let Some((arg, unit)) = self.sleep_call(call) {
                (arg, unit)
            } else if let Some(s) = self.callee_summary(call) {
                match s.sleep {
                    Some(Amount::Param { index, unit }) => (self.facts.positional(call, index).map(|a| a.value), unit),
                    Some(Amount::Secs(v)) => {
                        delay = merge(delay, Delay::Constant(v));
                        continue;
                    }
                    Some(Amount::Unknown) => {
                        delay = merge(delay, Delay::Unknown);
                        continue;
                    }
                    None => continue,
                }
            } else {
                continue;
            };
            let d = match arg {
                Some(a) => self.classify_delay(a, lp.func, Some(unit)),
                None => Delay::Unknown,
            };
            delay = merge(delay, d);
        }
        delay
    }

    /// How a delay expression waits; `unit` is the sleep's unit when known (a
    /// JavaScript `setTimeout` counts milliseconds), so constants read in seconds.
    fn classify_delay(&self, e: ExprId, func: Option<FuncId>, unit: Option<SleepUnit>) -> Delay {
        let mut traits = Traits::default();
        self.delay_traits(e, func, 0, &mut traits);
        let constant = match unit {
            Some(u) => self.sleep_seconds(e, u),
            None => self.eval_num(e).or_else(|| self.eval_duration(e, false)),
        };
        if traits.server {
            Delay::ServerAdvised
        } else if traits.grows {
            Delay::Growing { jitter: traits.jitter }
        } else if let Some(v) = constant {
            Delay::Constant(v)
        } else if traits.jitter {
            // A random wait without growth still spreads clients out.
            Delay::Growing { jitter: true }
        } else {
            Delay::Unknown
        }
    }

    fn delay_traits(&self, e: ExprId, func: Option<FuncId>, depth: u32, t: &mut Traits) {
        if depth > 4 {
            return;
        }
        let mut names = Vec::new();
        self.walk_any(e, 0, &mut |x| {
            match &x.kind {
                ExprKind::Binary(BinOp::Mul | BinOp::Pow, l, r) => {
                    let constant = |y: ExprId| self.eval_num(y).is_some() || self.eval_duration(y, false).is_some();
                    if !(constant(*l) && constant(*r)) {
                        t.grows = true;
                    }
                }
                ExprKind::Binary(BinOp::Other, ..)
                    // `1 << attempt`
                    if self.text(x.span).contains("<<") => {
                        t.grows = true;
                    }
                ExprKind::Name(n) | ExprKind::Member(_, n) => {
                    let l = n.to_ascii_lowercase();
                    if l.contains("random")
                        || l.contains("jitter")
                        || l.contains("uniform")
                        || l == "rand"
                        || l.contains("randint")
                        || l == "intn"
                        || l == "float64" && self.text(x.span).contains("rand")
                    {
                        t.jitter = true;
                    }
                    if l.contains("retry_after") || l.contains("retryafter") || l.contains("retry-after") {
                        t.server = true;
                    }
                    if l == "pow" || l == "exp2" || l.contains("exponential") || l.contains("backoff") {
                        t.grows |= l == "pow" || l == "exp2" || l.contains("exponential");
                    }
                    if let ExprKind::Name(n) = &x.kind {
                        names.push(n.to_string());
                    }
                }
                ExprKind::Str(s) if s.eq_ignore_ascii_case("retry-after") => t.server = true,
                _ => {}
            }
            false
        });
        // A delay variable doubled in the loop (`delay *= 2`) or rebound to a
        // growing expression.
        for n in names {
            for a in &self.facts.assigns {
                if a.func != func || self.facts.name_of(a.target) != Some(&n) {
                    continue;
                }
                let Some(v) = a.value else { continue };
                if a.decl == DeclKind::Augmented {
                    let op = self.text(a.span);
                    if op.contains("*=") || op.contains("<<=") {
                        t.grows = true;
                    }
                }
                if v != e {
                    self.delay_traits(v, func, depth + 1, t);
                }
            }
            if let Resolved::Param { default: Some(d), .. } = self.resolve_name(&n, func, u32::MAX) {
                self.delay_traits(d, func, depth + 1, t);
            }
        }
    }

    fn find_retry_configs(&self) -> Vec<RetryConfig> {
        let mut out = Vec::new();
        // Python decorators: @retry(...), @backoff.on_exception(...).
        for (i, f) in self.facts.functions.iter().enumerate() {
            if !self.summary(FuncId(i as u32)).kling_request {
                continue;
            }
            for dec in &f.decorators {
                if let Some(c) = self.python_retry(*dec) {
                    out.push(c);
                }
            }
        }
        if !self.is_kling_file() {
            return out;
        }
        // Walk call expressions (not `facts.calls`) to have each call's expression id.
        for (ei, x) in self.facts.exprs.iter().enumerate() {
            let ExprKind::Call(cid) = x.kind else { continue };
            let call = self.facts.call(cid);
            let Some(path) = self.facts.path_of(call.callee) else { continue };
            match path.as_str() {
                "Retrying" | "AsyncRetrying" | "tenacity.Retrying" | "tenacity.AsyncRetrying" => {
                    if let Some(c) = self.python_retry(ExprId(ei as u32)) {
                        out.push(c);
                    }
                }
                "Retry" | "urllib3.Retry" | "urllib3.util.Retry" | "urllib3.util.retry.Retry" | "retry.Retry" => {
                    let from_urllib3 = path.contains("urllib3")
                        || self
                            .module_of("Retry", call.func)
                            .is_some_and(|m| m.contains("urllib3") || m.contains("requests"));
                    if !from_urllib3 {
                        continue;
                    }
                    let total = self.facts.kwarg(call, "total").or_else(|| self.facts.positional(call, 0));
                    let unbounded = total
                        .is_some_and(|a| matches!(self.facts.expr(a.value).kind, ExprKind::Null))
                        .then(|| "total=None lifts the limit on retries".to_owned());
                    let factor = self.facts.kwarg(call, "backoff_factor").and_then(|a| self.eval_num(a.value));
                    let delay = match factor {
                        None | Some(0.0) => Some("no backoff_factor: urllib3 retries immediately".to_owned()),
                        Some(_) if self.facts.kwarg(call, "backoff_jitter").is_none() => None,
                        _ => None,
                    };
                    out.push(RetryConfig { span: call.span, lib: "urllib3 Retry", unbounded, delay });
                }
                _ => {}
            }
            let module = match &self.facts.expr(call.callee).kind {
                ExprKind::Name(n) => self.module_of(n, call.func),
                _ => None,
            };
            match module.as_deref() {
                // An instance for another service (`axios.create({ baseURL: internal })`)
                // is not ours to judge.
                Some("axios-retry")
                    if !self.facts.positional(call, 0).is_some_and(|i| self.axios_instance_elsewhere(i.value)) =>
                {
                    let cfg = self.facts.positional(call, 1).map(|a| self.deref(a.value));
                    let map = cfg.and_then(|c| match self.facts.expr(c).kind {
                        ExprKind::Map(m) => Some(self.facts.map(m)),
                        _ => None,
                    });
                    let get = |k: &str| map.and_then(|m| m.get(k)).map(|e| e.value);
                    // Without `retries` axios-retry stops after its default of 3, inside
                    // the checklist's 3-5 range: only an infinite setting is unbounded.
                    let unbounded = get("retries")
                        .filter(|v| is_infinity(self.text(self.facts.expr(*v).span)))
                        .map(|_| "retries: Infinity never stops".to_owned());
                    let delay = match get("retryDelay") {
                        None => Some("no `retryDelay`: axios-retry retries immediately".to_owned()),
                        Some(v) => match self.retry_delay_fn(v, call.func) {
                            Delay::Constant(s) => Some(format!("retryDelay waits the same {} s on every attempt", fmt_secs(s))),
                            Delay::Growing { jitter: false } => Some(
                                "retryDelay grows but has no jitter (add a random part, or use axiosRetry.exponentialDelay)".to_owned(),
                            ),
                            _ => None,
                        },
                    };
                    out.push(RetryConfig { span: call.span, lib: "axios-retry", unbounded, delay });
                }
                // p-retry wraps any operation; only one that calls Kling is judged here
                // (a worker's broker reconnect may rightly retry forever).
                Some("p-retry")
                    if self.facts.positional(call, 0).is_some_and(|op| self.operation_calls_kling(op.value)) =>
                {
                    let opts = self.facts.positional(call, 1).map(|a| self.deref(a.value));
                    let map = opts.and_then(|c| match self.facts.expr(c).kind {
                        ExprKind::Map(m) => Some(self.facts.map(m)),
                        _ => None,
                    });
                    let forever = map
                        .and_then(|m| m.get("forever"))
                        .is_some_and(|e| matches!(self.facts.expr(e.value).kind, ExprKind::Bool(true)));
                    let infinite = map
                        .and_then(|m| m.get("retries"))
                        .is_some_and(|e| is_infinity(self.text(self.facts.expr(e.value).span)));
                    let unbounded = (forever || infinite).then(|| "p-retry is told to retry forever".to_owned());
                    let constant = map.and_then(|m| m.get("factor")).and_then(|e| self.eval_num(e.value)) == Some(1.0);
                    let delay = constant.then(|| "factor: 1 keeps the wait constant".to_owned());
                    out.push(RetryConfig { span: call.span, lib: "p-retry", unbounded, delay });
                }
                _ => {}
            }
            if self.file.lang == Lang::Go
                && path.ends_with("NewConstantBackOff")
                && self.makes_kling_requests(call.func)
            {
                out.push(RetryConfig {
                    span: call.span,
                    lib: "backoff",
                    unbounded: None,
                    delay: Some("a constant backoff".to_owned()),
                });
            }
        }
        if self.file.lang == Lang::Go {
            for a in &self.facts.assigns {
                let is_max =
                    matches!(&self.facts.expr(a.target).kind, ExprKind::Member(_, f) if &**f == "MaxElapsedTime");
                if is_max && a.value.is_some_and(|v| self.eval_num(v) == Some(0.0)) && self.makes_kling_requests(a.func)
                {
                    out.push(RetryConfig {
                        span: a.span,
                        lib: "backoff",
                        unbounded: Some("MaxElapsedTime = 0 retries forever".to_owned()),
                        delay: None,
                    });
                }
            }
        }
        out
    }

    /// Whether the function configuring a cenkalti/backoff policy makes Kling requests
    /// (its retried operation is usually a closure inside it): a policy for the
    /// team's database or broker is not ours to judge.
    fn makes_kling_requests(&self, func: Option<FuncId>) -> bool {
        func.is_some_and(|f| self.summary(f).kling_request)
    }

    /// How axios-retry's `retryDelay` waits: a function of the retry count (in
    /// milliseconds), or a library helper such as `axiosRetry.exponentialDelay`.
    fn retry_delay_fn(&self, v: ExprId, func: Option<FuncId>) -> Delay {
        match self.facts.expr(self.deref(v)).kind {
            ExprKind::Closure(f) => {
                let returns = &self.facts.function(f).returns;
                if returns.is_empty() {
                    return Delay::Unknown;
                }
                returns
                    .iter()
                    .fold(Delay::None, |d, r| merge(d, self.classify_delay(*r, Some(f), Some(SleepUnit::Millis))))
            }
            // axios-retry's own `exponentialDelay` adds up to 20% random jitter.
            _ if self.facts.path_of(v).is_some_and(|p| p.ends_with("exponentialDelay")) => {
                Delay::Growing { jitter: true }
            }
            _ => self.classify_delay(v, func, Some(SleepUnit::Millis)),
        }
    }

    /// Whether an axios instance is made for a known host other than Kling.
    fn axios_instance_elsewhere(&self, instance: ExprId) -> bool {
        let ExprKind::Call(c) = self.facts.expr(self.deref(instance)).kind else { return false };
        let call = self.facts.call(c);
        if self.facts.callee_name(call) != Some("create") {
            return false;
        }
        let base = self.facts.positional(call, 0).and_then(|cfg| match self.facts.expr(self.deref(cfg.value)).kind {
            ExprKind::Map(m) => self.facts.map(m).get("baseURL").map(|e| e.value),
            _ => None,
        });
        base.and_then(|b| self.url_info(b)).is_some_and(|info| !info.kling)
    }

    /// Whether an operation handed to a retry helper (a closure, or a function named
    /// by reference) makes a Kling request.
    fn operation_calls_kling(&self, op: ExprId) -> bool {
        let d = self.deref(op);
        match self.facts.expr(d).kind {
            ExprKind::Closure(f) => self.summary(f).kling_request,
            _ => match self.resolve(d) {
                Resolved::Function(f) => self.summary(f).kling_request,
                Resolved::External(super::Export::Func(s)) => s.kling_request,
                _ => false,
            },
        }
    }

    /// tenacity `@retry(...)`/`Retrying(...)` or backoff `@backoff.on_exception(...)`.
    fn python_retry(&self, dec: ExprId) -> Option<RetryConfig> {
        if self.file.lang != Lang::Python {
            return None;
        }
        let expr = self.facts.expr(dec);
        let (path, call) = match expr.kind {
            ExprKind::Call(c) => (self.facts.path_of(self.facts.call(c).callee)?, Some(self.facts.call(c))),
            _ => (self.facts.path_of(dec)?, None),
        };
        let tenacity =
            matches!(path.as_str(), "retry" | "tenacity.retry" | "Retrying" | "AsyncRetrying" | "tenacity.Retrying")
                && (path.starts_with("tenacity")
                    || self.module_of(path.as_str(), None).is_some_and(|m| m.starts_with("tenacity")));
        let backoff = path == "backoff.on_exception" || path == "backoff.on_predicate";
        if !tenacity && !backoff {
            return None;
        }
        let kw = |k: &str| call.and_then(|c| self.facts.kwarg(c, k)).map(|a| a.value);
        let text_of = |e: ExprId| self.text(self.facts.expr(e).span).to_owned();
        if tenacity {
            let unbounded = match kw("stop") {
                None => Some("no `stop`: tenacity retries forever by default".to_owned()),
                Some(s) if text_of(s).contains("stop_never") => Some("stop=stop_never retries forever".to_owned()),
                Some(_) => None,
            };
            let delay = match kw("wait") {
                None => Some("no `wait`: tenacity retries immediately by default".to_owned()),
                Some(w) => {
                    let t = text_of(w);
                    let jitter = t.contains("random") || t.contains("jitter");
                    if t.contains("wait_fixed") && !jitter {
                        Some("wait_fixed waits the same time on every attempt".to_owned())
                    } else if t.contains("wait_none") {
                        Some("wait_none retries immediately".to_owned())
                    } else if (t.contains("wait_exponential") || t.contains("wait_incrementing")) && !jitter {
                        Some(
                            "the wait grows but has no jitter (use wait_random_exponential or add wait_random)"
                                .to_owned(),
                        )
                    } else {
                        None
                    }
                }
            };
            return Some(RetryConfig { span: expr.span, lib: "tenacity", unbounded, delay });
        }
        let generator = call.and_then(|c| self.facts.positional(c, 0)).map(|a| text_of(a.value)).unwrap_or_default();
        let unbounded = (kw("max_tries").is_none() && kw("max_time").is_none())
            .then(|| "neither max_tries nor max_time: backoff retries forever".to_owned());
        let delay = if generator.ends_with("constant") {
            Some("backoff.constant waits the same time on every attempt".to_owned())
        } else if kw("jitter").is_some_and(|j| matches!(self.facts.expr(j).kind, ExprKind::Null)) {
            Some("jitter=None removes the jitter".to_owned())
        } else {
            None
        };
        Some(RetryConfig { span: expr.span, lib: "backoff", unbounded, delay })
    }
}

/// `Infinity`, `Number.POSITIVE_INFINITY`.
fn is_infinity(text: &str) -> bool {
    text.to_ascii_lowercase().contains("infinity")
}

/// Seconds as a user would write them: `1`, `0.5`.
fn fmt_secs(v: f64) -> String {
    if v.fract() == 0.0 { format!("{}", v as i64) } else { format!("{v}") }
}

#[derive(Default)]
struct Traits {
    grows: bool,
    jitter: bool,
    server: bool,
}

/// Combine the delays of several sleeps in one loop: the most informative wins.
fn merge(a: Delay, b: Delay) -> Delay {
    use Delay::{Constant, Growing, None as No, ServerAdvised, Unknown};
    match (a, b) {
        (ServerAdvised, _) | (_, ServerAdvised) => ServerAdvised,
        (Growing { jitter: x }, Growing { jitter: y }) => Growing { jitter: x || y },
        (g @ Growing { .. }, _) | (_, g @ Growing { .. }) => g,
        (Unknown, _) | (_, Unknown) => Unknown,
        (Constant(x), Constant(y)) => Constant(x.min(y)),
        (c @ Constant(_), No) | (No, c @ Constant(_)) => c,
        (No, No) => No,
    }
}
