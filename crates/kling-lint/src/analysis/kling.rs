//! Kling context, as SPEC.md defines it: when a map is a Kling request body, when a
//! JWT is a Kling token, when a loop polls a Kling task, and whether such a loop is
//! bounded. Precision over recall: each answer needs a Kling-specific signal.

use kling_api::params;
use kling_api::resources::ResourceId;

use super::idioms::JwtCall;
use super::summary::Amount;
use super::{Resolved, Unit};
use crate::facts::{BinOp, Call, ExitKind, ExprId, ExprKind, LoopId, LoopKind, MapId, MapKind, Span, UnOp};

/// One key of a request body: from the literal, or written later
/// (`body["duration"] = 10`).
#[derive(Clone, Debug)]
pub(crate) struct BodyKey {
    pub(crate) key: Box<str>,
    pub(crate) value: ExprId,
    pub(crate) key_span: Span,
}

/// A Kling request body.
#[derive(Clone, Debug)]
pub(crate) struct Body {
    /// The endpoint it goes to, when known.
    pub(crate) resource: Option<ResourceId>,
    /// Its keys, literal and written.
    pub(crate) keys: Vec<BodyKey>,
    /// Whether it is seen flowing into a request to Kling (not only recognised by
    /// its keys).
    pub(crate) sent: bool,
}

impl Body {
    pub(crate) fn get(&self, key: &str) -> Option<&BodyKey> {
        self.keys.iter().rev().find(|k| &*k.key == key)
    }

    /// The model name, if it is a literal or constant.
    pub(crate) fn model(&self, unit: &Unit<'_>) -> Option<String> {
        self.get("model_name").and_then(|k| unit.eval_str(k.value))
    }
}

/// What a loop does, for the polling rules.
#[derive(Clone, Debug)]
pub(crate) struct LoopFacts {
    /// It queries a Kling task.
    pub(crate) polls: bool,
    /// It makes Kling requests at all.
    pub(crate) kling: bool,
    /// A deadline or attempt cap ends it.
    pub(crate) bounded: bool,
    /// Its sleep: `None` if it never sleeps.
    pub(crate) sleep: Option<Amount>,
}

impl Unit<'_> {
    /// Whether anything in the file (not its comments) is Kling: a host, an endpoint
    /// path, a `kling-*` model, or an identifier or environment variable naming Kling.
    pub(crate) fn kling_evidence_in(&self, e: &crate::facts::Expr) -> bool {
        match &e.kind {
            ExprKind::Str(s) => {
                let lower = s.to_ascii_lowercase();
                kling_api::hosts::mentions_host(&lower)
                    || (lower.contains("/v1/") && self.classify_url(&lower, false).kling)
                    || lower.starts_with("kling-v")
                    || (lower.contains("kling")
                        && lower.contains('_')
                        && lower.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            }
            ExprKind::Name(n) | ExprKind::Member(_, n) => n.to_ascii_lowercase().contains("kling"),
            _ => false,
        }
    }

    /// Reads of `task_status` inside `span`.
    pub(crate) fn reads_status_in(&self, span: Span) -> bool {
        self.status_reads_in(span).next().is_some()
    }

    /// Reads of `task_status` inside `span` on a value that a call inside `span`
    /// returned (`task = client.get(id)` then `task["task_status"]`).
    fn reads_fetched_status_in(&self, span: Span) -> bool {
        self.status_reads_in(span).any(|e| {
            let mut object = match &e.kind {
                ExprKind::Index(o, _) | ExprKind::Member(o, _) => *o,
                ExprKind::Call(c) => match self.facts.expr(self.facts.call(*c).callee).kind {
                    ExprKind::Member(o, _) => o,
                    _ => return false,
                },
                _ => return false,
            };
            for _ in 0..8 {
                let d = self.deref(object);
                match &self.facts.expr(d).kind {
                    ExprKind::Call(_) => return span.contains(self.facts.expr(d).span),
                    ExprKind::Member(o, _) | ExprKind::Index(o, _) => object = *o,
                    _ => return false,
                }
            }
            false
        })
    }

    pub(crate) fn is_status_read(&self, e: &crate::facts::Expr) -> bool {
        match &e.kind {
            ExprKind::Index(_, k) => self.facts.str_of(*k) == Some("task_status"),
            ExprKind::Member(_, f) => matches!(&**f, "task_status" | "TaskStatus" | "taskStatus"),
            ExprKind::Call(c) => {
                let call = self.facts.call(*c);
                self.facts.callee_name(call) == Some("get")
                    && call.args.first().and_then(|a| self.facts.str_of(a.value)) == Some("task_status")
            }
            _ => false,
        }
    }

    /// Whether an expression is the task's status (directly or through a variable).
    pub(crate) fn is_status_expr(&self, e: ExprId) -> bool {
        let direct = self.facts.expr(e);
        if self.is_status_read(direct) {
            return true;
        }
        let d = self.deref(e);
        d != e && self.is_status_read(self.facts.expr(d))
    }

    /// The keys of a map literal plus the keys written into it later in the same
    /// function (`body["duration"] = 10`, `body.duration = 10`).
    pub(crate) fn map_keys(&self, m: MapId) -> Vec<BodyKey> {
        let map = self.facts.map(m);
        let mut keys: Vec<BodyKey> =
            map.entries.iter().map(|e| BodyKey { key: e.key.clone(), value: e.value, key_span: e.key_span }).collect();
        for &var in self.vars_holding(m) {
            for a in self.assigns_of(map.func) {
                if a.span.start < map.span.start {
                    continue;
                }
                let (obj, key, key_span) = match &self.facts.expr(a.target).kind {
                    ExprKind::Index(o, k) => match self.facts.str_of(*k) {
                        Some(s) => (*o, s.to_owned(), self.facts.expr(*k).span),
                        None => continue,
                    },
                    ExprKind::Member(o, f)
                        if !matches!(self.file.lang, crate::lang::Lang::Go | crate::lang::Lang::Rust) =>
                    {
                        (*o, f.to_string(), self.facts.expr(a.target).span)
                    }
                    _ => continue,
                };
                if self.facts.name_of(obj) == Some(var)
                    && let Some(v) = a.value
                {
                    keys.push(BodyKey { key: key.into(), value: v, key_span });
                }
            }
        }
        keys
    }

    /// Whether a map is a Kling request body, and where it goes.
    pub(crate) fn kling_body(&self, m: MapId) -> Option<Body> {
        let map = self.facts.map(m);
        // Go and Rust struct literals of other types (http.Client{...}) are not bodies.
        if let MapKind::Struct(t) = &map.kind
            && !t.to_ascii_lowercase().contains("request")
            && !t.to_ascii_lowercase().contains("kling")
            && !t.to_ascii_lowercase().contains("video")
            && !t.to_ascii_lowercase().contains("task")
        {
            return None;
        }
        let keys = self.map_keys(m);
        let request_keys = keys
            .iter()
            .filter(|k| params::is_request_key(&k.key))
            .map(|k| &*k.key)
            .collect::<std::collections::HashSet<_>>();
        // `model_name: "gpt-4o"` names another vendor's model: not Kling evidence.
        let foreign_model = keys.iter().any(|k| {
            &*k.key == "model_name"
                && self.eval_str(k.value).is_some_and(|v| !kling_api::models::looks_like_kling_model(&v))
        });
        let specific =
            request_keys.iter().any(|k| params::is_specific_key(k) && !(*k == "model_name" && foreign_model));
        let kling_model = keys.iter().any(|k| {
            &*k.key == "model_name"
                && self.eval_str(k.value).is_some_and(|v| kling_api::models::looks_like_kling_model(&v))
        });
        // A map that documents the fields rather than filling them
        // (`"model_name": "string, the model version"`): no model name has spaces.
        let describes_fields = keys.iter().any(|k| {
            &*k.key == "model_name" && self.eval_str(k.value).is_some_and(|v| v.trim().contains(char::is_whitespace))
        });
        let by_keys = request_keys.len() >= 2 && (specific || kling_model) && !describes_fields;
        // A config has no calls to follow; its equivalent of "flows to a Kling
        // endpoint" is a document that is about Kling (a Kling host, a `kling:`
        // section, `provider: kling`).
        let by_document =
            self.file.lang.is_config() && request_keys.len() >= 2 && !describes_fields && self.is_kling_file();
        let flow = if self.file.lang.is_config() { None } else { self.body_flow(m) };
        if !by_keys && !by_document && flow.is_none() {
            return None;
        }
        let resource = flow.flatten().or_else(|| self.resource_from_keys(&keys, map.func));
        Some(Body { resource, keys, sent: flow.is_some() })
    }

    fn resource_from_keys(&self, keys: &[BodyKey], func: Option<crate::facts::FuncId>) -> Option<ResourceId> {
        let has = |k: &str| keys.iter().any(|b| &*b.key == k);
        if has("image_list") {
            return Some(ResourceId::MultiImage2Video);
        }
        if has("image") || has("image_tail") || has("static_mask") || has("dynamic_masks") {
            return Some(ResourceId::Image2Video);
        }
        let fname = self.func_chain(func).find_map(|f| self.facts.function(f).name.as_deref())?;
        let n: String = fname.to_ascii_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
        if n.contains("text2video") || n.contains("texttovideo") || n.contains("t2v") {
            Some(ResourceId::Text2Video)
        } else if n.contains("image2video") || n.contains("imagetovideo") || n.contains("i2v") {
            Some(ResourceId::Image2Video)
        } else {
            None
        }
    }

    /// Where a map is sent: `Some(resource)` when it flows into a call on a Kling
    /// endpoint (the resource when the URL names it).
    fn body_flow(&self, m: MapId) -> Option<Option<ResourceId>> {
        let map = self.facts.map(m);
        let mut names: Vec<&str> = self.vars_holding(m).to_vec();
        // One hop through serialisation: `data = json.dumps(body)`, `buf, _ := json.Marshal(body)`.
        let mut derived = Vec::new();
        for a in self.assigns_of(map.func) {
            if let (Some(t), Some(v)) = (self.facts.name_of(a.target), a.value)
                && self.mentions(v, &names, m)
                && !names.contains(&t)
            {
                derived.push(t);
            }
        }
        names.extend(derived);
        for call in self.calls_of(map.func) {
            // A Rust builder takes the body in a link of the chain the request ends:
            // reqwest's `client.post(url).json(&body).send()`.
            let in_chain = || self.file.lang == crate::lang::Lang::Rust && self.mentions(call.callee, &names, m);
            if call.func != map.func || !(call.args.iter().any(|a| self.mentions(a.value, &names, m)) || in_chain()) {
                continue;
            }
            if let Some(http) = self.http_call(call)
                && let Some(info) = http.url.and_then(|u| self.url_info(u))
                && info.kling
            {
                return Some(info.resource);
            }
            // Go: `http.NewRequest(method, url, bytes.NewReader(buf))`.
            if let Some(name) = self.facts.callee_name(call)
                && name.starts_with("NewRequest")
            {
                let url_arg = if name == "NewRequestWithContext" { 2 } else { 1 };
                if let Some(info) = self.facts.positional(call, url_arg).and_then(|a| self.url_info(a.value))
                    && info.kling
                {
                    return Some(info.resource);
                }
            }
            // A helper called with an endpoint path and the body: `self._post("/v1/videos/text2video", body)`.
            for a in &call.args {
                if let Some(info) = self.url_info(a.value)
                    && info.kling
                    && info.resource.is_some()
                {
                    return Some(info.resource);
                }
            }
            if self.callee_summary(call).is_some_and(|s| s.kling_request) {
                return Some(None);
            }
        }
        None
    }

    /// Whether `e` mentions one of `names` or is the map itself (depth-limited walk).
    pub(crate) fn mentions(&self, e: ExprId, names: &[&str], m: MapId) -> bool {
        self.walk_any(e, 0, &mut |x| match &x.kind {
            ExprKind::Name(n) => names.contains(&&**n),
            ExprKind::Map(mm) => *mm == m,
            _ => false,
        })
    }

    /// Whether `pred` holds for `e` or any sub-expression (calls' arguments, maps'
    /// values, operands; not into closures).
    pub(crate) fn walk_any(&self, e: ExprId, depth: u32, pred: &mut dyn FnMut(&crate::facts::Expr) -> bool) -> bool {
        if depth > 24 {
            return false;
        }
        let expr = self.facts.expr(e);
        if pred(expr) {
            return true;
        }
        match &expr.kind {
            ExprKind::Template(parts) => parts.iter().any(|p| match p {
                crate::facts::Part::Hole(h) => self.walk_any(*h, depth + 1, pred),
                crate::facts::Part::Lit(_) => false,
            }),
            ExprKind::Member(o, _) | ExprKind::Unary(_, o) => self.walk_any(*o, depth + 1, pred),
            ExprKind::Index(o, i) | ExprKind::Binary(_, o, i) => {
                self.walk_any(*o, depth + 1, pred) || self.walk_any(*i, depth + 1, pred)
            }
            ExprKind::Call(c) => {
                let call = self.facts.call(*c);
                self.walk_any(call.callee, depth + 1, pred)
                    || call.args.iter().any(|a| self.walk_any(a.value, depth + 1, pred))
            }
            ExprKind::Map(m) => self.facts.map(*m).entries.iter().any(|en| self.walk_any(en.value, depth + 1, pred)),
            ExprKind::List(items) => items.iter().any(|i| self.walk_any(*i, depth + 1, pred)),
            _ => false,
        }
    }

    /// Names used inside an expression (identifiers and member names, env hints).
    pub(crate) fn names_in(&self, e: ExprId) -> Vec<String> {
        let mut out = Vec::new();
        self.walk_any(e, 0, &mut |x| {
            match &x.kind {
                ExprKind::Name(n) | ExprKind::Member(_, n) => out.push(n.to_string()),
                _ => {}
            }
            false
        });
        for f in self.fragments(e) {
            if let super::values::Frag::Opaque(h) = f
                && let Some(var) = h.strip_prefix("env:")
            {
                out.push(var.to_owned());
            }
        }
        out
    }

    /// The names an expression is built from, through one binding or parameter: what
    /// tells an access key from a secret key.
    pub(crate) fn credential_names(&self, e: ExprId) -> Vec<String> {
        let mut names = self.names_in(e);
        let d = self.deref(e);
        if d != e {
            names.extend(self.names_in(d));
        }
        if let Resolved::Param { func, index, .. } = self.resolve(e) {
            names.push(self.facts.function(func).params[index].name.to_string());
        }
        names
    }

    /// Whether an expression carries a credential of `kind`, judged by its names.
    pub(crate) fn carries(&self, e: ExprId, kind: Credential) -> bool {
        self.credential_names(e).iter().any(|n| classify_credential(n) == Some(kind))
    }

    /// Whether a JWT call signs a Kling token: Kling's claim shape (`iss` is an
    /// access key), a key named for Kling, or a Kling-named function around it.
    pub(crate) fn is_kling_token(&self, jwt: &JwtCall, call: &Call) -> bool {
        let claims_map = jwt.claims.and_then(|c| self.claims_literal(c));
        // golang-jwt's `RegisteredClaims` spells the claims `Issuer` and `ExpiresAt`.
        let claim = |keys: &[&str]| {
            claims_map.and_then(|m| keys.iter().find_map(|k| self.facts.map(m).get(k)).map(|e| e.value))
        };
        let iss = claim(&["iss", "Issuer"]);
        let iss_is_ak = iss.is_some_and(|v| self.carries(v, Credential::AccessKey));
        let key_kling =
            jwt.key.is_some_and(|k| self.credential_names(k).iter().any(|n| n.to_ascii_lowercase().contains("kling")));
        let key_secret = jwt.key.is_some_and(|k| self.carries(k, Credential::SecretKey));
        let has_exp = claim(&["exp", "ExpiresAt"]).is_some();
        let in_kling_code = self.func_chain(call.func).any(|f| {
            let func = self.facts.function(f);
            func.name.as_deref().is_some_and(|n| n.to_ascii_lowercase().contains("kling"))
                || func.class.as_deref().is_some_and(|n| n.to_ascii_lowercase().contains("kling"))
        });
        iss_is_ak || key_kling || (key_secret && iss.is_some() && has_exp) || in_kling_code
    }

    /// The map literal a JWT's claims come from: written in place, bound to a name,
    /// or returned by a local helper (`jwt.NewWithClaims(method, newClaims(ak))`).
    fn claims_literal(&self, e: ExprId) -> Option<MapId> {
        let as_map = |x: ExprId| match self.facts.expr(self.deref(x)).kind {
            ExprKind::Map(m) => Some(m),
            _ => None,
        };
        if let Some(m) = as_map(e) {
            return Some(m);
        }
        let ExprKind::Call(c) = self.facts.expr(self.deref(e)).kind else { return None };
        match self.callee(self.facts.call(c)) {
            super::Callee::Local(f) => self.facts.function(f).returns.iter().rev().find_map(|r| as_map(*r)),
            _ => None,
        }
    }

    /// Whether a condition ends a loop on time or on a count: a deadline, an elapsed
    /// time, an attempt counter, a cancelled context.
    pub(crate) fn is_bound_condition(&self, e: ExprId) -> bool {
        self.bound(e, 0)
    }

    fn bound(&self, e: ExprId, depth: u32) -> bool {
        if depth > 8 {
            return false;
        }
        match &self.facts.expr(e).kind {
            ExprKind::Binary(BinOp::And | BinOp::Or, l, r) => self.bound(*l, depth + 1) || self.bound(*r, depth + 1),
            ExprKind::Unary(UnOp::Not, x) => self.bound(*x, depth + 1),
            ExprKind::Binary(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne), l, r) => {
                let timed = self.mentions_time(*l) || self.mentions_time(*r);
                let counted = self.is_counter(*l) || self.is_counter(*r);
                let ordering = !matches!(op, BinOp::Eq | BinOp::Ne);
                (ordering && (timed || counted))
                    || (!ordering && (self.is_counter(*l) && self.is_counter(*r) || self.is_context_check(e)))
            }
            // `<-ctx.Done()`, `signal.aborted`, `<-timeout`
            _ => self.is_context_check(e),
        }
    }

    fn is_context_check(&self, e: ExprId) -> bool {
        let mut found = false;
        self.walk_any(e, 0, &mut |x| {
            let hit = match &x.kind {
                ExprKind::Member(_, f) => {
                    matches!(&**f, "Done" | "Err" | "aborted" | "throwIfAborted" | "is_cancelled" | "cancelled")
                }
                ExprKind::Name(n) => {
                    let l = n.to_ascii_lowercase();
                    l.contains("timeout") || l.contains("deadline")
                }
                _ => false,
            };
            found |= hit;
            hit
        });
        found
    }

    fn mentions_time(&self, e: ExprId) -> bool {
        self.walk_any(e, 0, &mut |x| match &x.kind {
            ExprKind::Name(n) | ExprKind::Member(_, n) => {
                let l = n.to_ascii_lowercase();
                const WORDS: &[&str] = &[
                    "deadline",
                    "timeout",
                    "time_out",
                    "expire",
                    "elapsed",
                    "start",
                    "begin",
                    "until",
                    "wait",
                    "budget",
                    "remaining",
                    "now",
                    "time",
                    "monotonic",
                    "perf_counter",
                    "since",
                    "clock",
                    "t0",
                ];
                WORDS.iter().any(|w| l.contains(w)) && !l.contains("status")
            }
            _ => false,
        })
    }

    fn is_counter(&self, e: ExprId) -> bool {
        let expr = self.facts.expr(e);
        match &expr.kind {
            ExprKind::Name(n) | ExprKind::Member(_, n) => {
                let l = n.to_ascii_lowercase();
                const WORDS: &[&str] = &[
                    "attempt",
                    "tries",
                    "try",
                    "retr",
                    "poll",
                    "count",
                    "iteration",
                    "iter",
                    "round",
                    "tick",
                    "step",
                    "max",
                    "limit",
                    "cap",
                    "num",
                    "times",
                ];
                matches!(l.as_str(), "i" | "j" | "k" | "n")
                    || WORDS.iter().any(|w| l.contains(w)) && !l.contains("status")
            }
            ExprKind::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul, l, r) => self.is_counter(*l) || self.is_counter(*r),
            ExprKind::Call(c) => {
                // `len(attempts)`, `attempts.length`
                let call = self.facts.call(*c);
                call.args.first().is_some_and(|a| self.is_counter(a.value))
            }
            _ => false,
        }
    }

    /// What a loop does: whether it polls a Kling task, is bounded, and sleeps.
    pub(crate) fn loop_facts(&self, l: LoopId) -> LoopFacts {
        if let Some(f) = self.loop_cache.borrow().get(&l) {
            return f.clone();
        }
        let f = self.compute_loop_facts(l);
        self.loop_cache.borrow_mut().insert(l, f.clone());
        f
    }

    fn compute_loop_facts(&self, l: LoopId) -> LoopFacts {
        let lp = self.facts.loop_(l);
        let body = lp.body;
        let mut facts = LoopFacts { polls: false, kling: false, bounded: false, sleep: None };
        let mut task_query = false;
        let mut deadline_call = false;
        let add_sleep = |facts: &mut LoopFacts, a: Amount| facts.sleep = Some(facts.sleep.map_or(a, |x| x.combine(a)));
        for call in self.calls_in(body) {
            if let Some(http) = self.http_call(call)
                && let Some(url) = http.url.and_then(|u| self.url_info(u))
                && url.kling
            {
                facts.kling = true;
                task_query |= url.task_query || http.method.as_deref() == Some("GET");
            }
            if let Some((arg, unit)) = self.sleep_call(call) {
                let a = arg.and_then(|a| self.sleep_seconds(a, unit)).map_or(Amount::Unknown, Amount::Secs);
                add_sleep(&mut facts, a);
            }
            // JavaScript's `signal.throwIfAborted()` ends the loop when its signal
            // fires (`AbortSignal.timeout(ms)`, a caller's cancel).
            deadline_call |= self.facts.callee_name(call) == Some("throwIfAborted");
            if let Some(s) = self.callee_summary(call) {
                facts.kling |= s.kling_request;
                task_query |= s.task_query;
                deadline_call |= s.deadline;
                if let Some(a) = s.sleep {
                    let a = match a {
                        Amount::Param { index, unit } => self
                            .facts
                            .positional(call, index)
                            .and_then(|x| self.sleep_seconds(x.value, unit))
                            .map_or(Amount::Unknown, Amount::Secs),
                        other => other,
                    };
                    add_sleep(&mut facts, a);
                }
            }
        }
        // Go: waiting on a ticker or timer made outside the loop (`<-ticker.C`,
        // `for range ticker.C`) paces the loop as a sleep does.
        for &i in self.channel_reads() {
            let e = self.facts.expr(ExprId(i));
            let in_loop = body.contains(e.span) || lp.iter.is_some_and(|it| it.index() == i as usize);
            if !in_loop {
                continue;
            }
            if let ExprKind::Member(obj, f) = &e.kind
                && &**f == "C"
                && let ExprKind::Call(c) = self.facts.expr(self.deref(*obj)).kind
                && let Some((arg, unit)) = self.sleep_call(self.facts.call(c))
            {
                let a = arg.and_then(|a| self.sleep_seconds(a, unit)).map_or(Amount::Unknown, Amount::Secs);
                add_sleep(&mut facts, a);
            }
        }
        let reads_status = self.reads_status_in(body);
        // Without a Kling request in sight, a status read in a Kling file makes a poll
        // only when the status was fetched in the loop (by a call to a client we
        // cannot see); one taken off a local queue or channel is not polled.
        let fetched = || self.reads_fetched_status_in(body);
        facts.polls = task_query || (reads_status && (facts.kling || (self.is_kling_file() && fetched())));
        facts.bounded = deadline_call
            || self.loop_condition_bounds(l)
            || self.loop_exit_bounds(l)
            || self.runs_under_timeout(lp.func);
        facts
    }

    /// Whether a Rust body only ever runs under `timeout(duration, future)`: an async
    /// block handed to it (directly or through a variable), or a function whose every
    /// call in the file is such a future (`timeout(d, self.poll(id))`).
    fn runs_under_timeout(&self, func: Option<crate::facts::FuncId>) -> bool {
        let Some(f) = func else { return false };
        if self.file.lang != crate::lang::Lang::Rust {
            return false;
        }
        let futures: Vec<ExprId> = self
            .facts
            .calls
            .iter()
            .filter(|c| self.facts.callee_name(c) == Some("timeout") && c.args.len() == 2)
            .map(|c| c.args[1].value)
            .collect();
        let under = |e: ExprId| {
            let span = self.facts.expr(e).span;
            futures.iter().any(|&fut| self.facts.expr(fut).span.contains(span) || self.deref(fut) == e)
        };
        let exprs = || (0..self.facts.exprs.len()).map(|i| ExprId(i as u32));
        if self.facts.function(f).name.is_none() {
            return exprs().filter(|&e| self.facts.expr(e).kind == ExprKind::Closure(f)).any(under);
        }
        let mut calls = exprs()
            .filter(|&e| match self.facts.expr(e).kind {
                ExprKind::Call(c) => matches!(self.callee(self.facts.call(c)), super::Callee::Local(g) if g == f),
                _ => false,
            })
            .peekable();
        calls.peek().is_some() && calls.all(under)
    }

    fn loop_condition_bounds(&self, l: LoopId) -> bool {
        let lp = self.facts.loop_(l);
        match lp.kind {
            LoopKind::Infinite => false,
            LoopKind::While | LoopKind::DoWhile => lp.cond.is_some_and(|c| self.is_bound_condition(c)),
            LoopKind::ForEach => !lp.iter.is_some_and(|it| self.is_endless_iterable(it)),
        }
    }

    fn is_endless_iterable(&self, it: ExprId) -> bool {
        let d = self.deref(it);
        let path = match &self.facts.expr(d).kind {
            ExprKind::Call(c) => self.facts.path_of(self.facts.call(*c).callee).unwrap_or_default(),
            ExprKind::Member(_, f) if &**f == "C" => return true,
            _ => return false,
        };
        matches!(
            path.as_str(),
            "itertools.count"
                | "count"
                | "itertools.repeat"
                | "repeat"
                | "time.Tick"
                | "RangeFrom"
                | "std.iter.repeat"
                | "iter.repeat"
                | "cycle"
                | "itertools.cycle"
        )
    }

    fn loop_exit_bounds(&self, l: LoopId) -> bool {
        let lp = self.facts.loop_(l);
        self.exits_in(lp.body).any(|x| {
            if x.func != lp.func {
                return false;
            }
            let leaves = match x.kind {
                ExitKind::Return | ExitKind::Throw => true,
                // A `break` leaves only its innermost loop.
                ExitKind::Break => self.facts.loops_around(x.span).first() == Some(&l),
                ExitKind::Continue => false,
            };
            leaves && x.guards.iter().any(|g| lp.body.contains(g.at) && self.is_bound_condition(g.cond))
        })
    }
}

/// The two halves of a Kling credential: the access key identifies (it is the
/// token's `iss`), the secret key signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Credential {
    AccessKey,
    SecretKey,
}

/// Classify a name (`KLING_SECRET_KEY`, `ak`, `accessKey`, `sk`, `klingSk`).
pub(crate) fn classify_credential(name: &str) -> Option<Credential> {
    let n: String = name.to_ascii_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    let short = |suffix: &str| n == suffix || (n.ends_with(suffix) && n.contains("kling"));
    if n.contains("secretkey") || short("sk") || (n.ends_with("secret") && n.len() <= 12) {
        return Some(Credential::SecretKey);
    }
    if n.contains("accesskey") || short("ak") {
        return Some(Credential::AccessKey);
    }
    None
}

/// Whether a file has Kling context anywhere in its code. A config document is also
/// about Kling when it has a `kling` section or says `provider: kling`.
pub(crate) fn file_has_kling_context(unit: &Unit<'_>) -> bool {
    unit.facts.exprs.iter().any(|e| unit.kling_evidence_in(e))
        // A function or class named for Kling (`class KlingAuth`, `def kling_token`)
        // is an identifier naming Kling too, though declarations are not expressions.
        || unit.facts.functions.iter().any(|f| {
            [&f.name, &f.class].into_iter().flatten().any(|n| n.to_ascii_lowercase().contains("kling"))
        })
        || (unit.file.lang.is_config()
            && unit.facts.maps.iter().any(|m| {
                m.entries.iter().any(|e| {
                    e.key.to_ascii_lowercase().contains("kling")
                        || unit.facts.str_of(e.value).is_some_and(|v| v.eq_ignore_ascii_case("kling"))
                })
            }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials() {
        assert_eq!(classify_credential("KLING_SECRET_KEY"), Some(Credential::SecretKey));
        assert_eq!(classify_credential("KLING_ACCESS_KEY"), Some(Credential::AccessKey));
        assert_eq!(classify_credential("klingSk"), Some(Credential::SecretKey));
        assert_eq!(classify_credential("task"), None);
        assert_eq!(classify_credential("sk"), Some(Credential::SecretKey));
        assert_eq!(classify_credential("secretKey"), Some(Credential::SecretKey));
        assert_eq!(classify_credential("ACCESS_KEY"), Some(Credential::AccessKey));
        assert_eq!(classify_credential("ak"), Some(Credential::AccessKey));
        assert_eq!(classify_credential("SIGNING_KEY"), None);
        assert_eq!(classify_credential("app_id"), None);
        assert_eq!(classify_credential("private_key"), None);
    }
}
