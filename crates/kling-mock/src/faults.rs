//! Scripted faults: what goes wrong, on which route, on which request.
//!
//! A [`FaultPlan`] is a list of rules. Each rule names a route (`create`, `query`,
//! `list`, `download`, `costs`, `any`, or a `METHOD /path` pattern), a trigger (which
//! matching requests: `nth`, `first`, `after`, `always` or a seeded `probability`) and
//! the fault itself. Every rule counts the requests that match its route, whether or
//! not it fires, so "first 2 creates fail" means the first two creates whatever other
//! rules do; when several rules would fire on one request, the first in the plan wins.
//!
//! The same plan is read from the configuration file (`[[faults.rules]]` in TOML or
//! `"faults": {"rules": [...]}` in JSON), posted to `POST /__admin/faults`, or built in
//! Rust:
//!
//! ```
//! use kling_mock::{ErrorCode, Fault, FaultPlan, FaultRule, Route, Trigger};
//! let plan = FaultPlan::new()
//!     .rule(FaultRule::new(Route::Create, Trigger::First(2), Fault::error(ErrorCode::RATE_LIMITED).retry_after(1)))
//!     .rule(FaultRule::new(Route::Query, Trigger::Nth(vec![3]), Fault::Stall { seconds: 40.0 }));
//! let toml = r#"
//!     [[rules]]
//!     route = "create"
//!     first = 2
//!     fault = "error"
//!     code = 1302
//!     retry_after = 1
//!
//!     [[rules]]
//!     route = "query"
//!     nth = [3]
//!     fault = "stall"
//!     seconds = 40
//! "#;
//! assert_eq!(FaultPlan::from_toml_str(toml).unwrap(), plan);
//! ```

use std::fmt;

use kling_api::codes::{self, ErrorCode};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};

use crate::error::MockError;

/// A list of fault rules, with an optional seed for probabilistic triggers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPlan {
    /// Seed for `probability` triggers; the mock's `seed` setting when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The rules, in priority order.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

impl FaultPlan {
    /// An empty plan: the mock behaves normally.
    pub fn new() -> Self {
        FaultPlan::default()
    }

    /// Add a rule (after the existing ones, so with lower priority).
    #[must_use]
    pub fn rule(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Fix the seed of probabilistic triggers.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Parse a plan from TOML (`[[rules]]` tables).
    pub fn from_toml_str(text: &str) -> Result<Self, MockError> {
        toml::from_str(text).map_err(|e| MockError::InvalidFaultPlan(e.to_string()))
    }

    /// Parse a plan from JSON (`{"rules": [...]}`).
    pub fn from_json_str(text: &str) -> Result<Self, MockError> {
        serde_json::from_str(text).map_err(|e| MockError::InvalidFaultPlan(e.to_string()))
    }
}

/// One rule: on which route, on which requests, which fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawRule", into = "RawRule")]
pub struct FaultRule {
    /// Which requests the rule counts.
    pub route: Route,
    /// Which of the counted requests it fires on.
    pub trigger: Trigger,
    /// What happens then.
    pub fault: Fault,
}

impl FaultRule {
    /// A rule. Use [`FaultRule::checked`] to have route and fault checked for fit, as
    /// plans read from files are.
    pub fn new(route: Route, trigger: Trigger, fault: Fault) -> Self {
        FaultRule { route, trigger, fault }
    }

    /// A rule, refused with a message that says how to fix it when the fault cannot
    /// happen on the route (a `stuck` task on a download, say) or a value is out of range.
    pub fn checked(route: Route, trigger: Trigger, fault: Fault) -> Result<Self, MockError> {
        let rule = FaultRule { route, trigger, fault };
        rule.check().map_err(MockError::InvalidFaultPlan)?;
        Ok(rule)
    }

    fn check(&self) -> Result<(), String> {
        match &self.trigger {
            Trigger::Nth(ns) if ns.is_empty() || ns.contains(&0) => {
                return Err("`nth` lists 1-based request numbers, e.g. nth = [1, 3]".into());
            }
            Trigger::First(0) => {
                return Err("`first = 0` never fires; use first = 1 or more".into());
            }
            Trigger::Probability(p) if !(0.0..=1.0).contains(p) => {
                return Err(format!("`probability = {p}` must lie between 0 and 1"));
            }
            _ => {}
        }
        match &self.fault {
            Fault::Stall { seconds } if !seconds.is_finite() || *seconds < 0.0 || *seconds > 86_400.0 => {
                return Err(format!("stall `seconds = {seconds}` must be between 0 and 86400"));
            }
            Fault::Error { status: Some(s), .. } if !(100..=599).contains(s) => {
                return Err(format!("`status = {s}` is not an HTTP status; omit it to use the code's own status"));
            }
            Fault::Stuck | Fault::Fail { .. } if !self.route.can_create() => {
                return Err(format!(
                    "fault \"{}\" changes the task a create makes, so it needs route = \"create\" \
                     (or a \"POST /v1/...\" pattern), not {:?}",
                    self.fault.kind(),
                    self.route.to_string()
                ));
            }
            Fault::ExpiredUrl if !self.route.can_serve_urls() => {
                return Err(format!(
                    "fault \"expired-url\" applies where result URLs are served or fetched: route = \
                     \"query\", \"list\" or \"download\", not {:?}",
                    self.route.to_string()
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// Which requests a rule counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `POST /v1/<resource>`: task creation on any resource.
    Create,
    /// `GET /v1/<resource>/<id>`: one task.
    Query,
    /// `GET /v1/<resource>`: the task list.
    List,
    /// `GET /cdn/...`: result downloads.
    Download,
    /// `GET /account/costs`.
    Costs,
    /// Every API and CDN request.
    Any,
    /// `"METHOD /path"` or `"/path"`, where `*` matches anything and the path is matched
    /// against both the real path and its template (`/v1/videos/text2video/{id}`).
    Pattern {
        /// The method, or `None` for any.
        method: Option<String>,
        /// The path glob.
        path: String,
    },
}

impl Route {
    /// Parse `create`, `query`, `list`, `download` (or `cdn`), `costs`, `any`, or a
    /// `METHOD /path` pattern.
    pub fn parse(text: &str) -> Result<Route, String> {
        let text = text.trim();
        Ok(match text {
            "create" => Route::Create,
            "query" => Route::Query,
            "list" => Route::List,
            "download" | "cdn" => Route::Download,
            "costs" => Route::Costs,
            "any" | "*" => Route::Any,
            _ => {
                let (method, path) = match text.split_once(' ') {
                    Some((m, p)) => (Some(m.trim().to_ascii_uppercase()), p.trim()),
                    None => (None, text),
                };
                if !path.starts_with('/') {
                    return Err(format!(
                        "route {text:?} is not one of create, query, list, download, costs, any, \
                         nor a \"METHOD /path\" pattern such as \"POST /v1/videos/text2video\""
                    ));
                }
                let method = method.filter(|m| m != "*");
                Route::Pattern { method, path: path.to_owned() }
            }
        })
    }

    fn can_create(&self) -> bool {
        match self {
            Route::Create => true,
            Route::Pattern { method, path } => method.as_deref().is_none_or(|m| m == "POST") && path.starts_with("/v1"),
            _ => false,
        }
    }

    fn can_serve_urls(&self) -> bool {
        match self {
            Route::Query | Route::List | Route::Download | Route::Any => true,
            Route::Pattern { method, .. } => method.as_deref().is_none_or(|m| m == "GET"),
            _ => false,
        }
    }

    pub(crate) fn matches(&self, info: &RouteInfo<'_>) -> bool {
        match self {
            Route::Create => info.kind == RouteKind::Create,
            Route::Query => info.kind == RouteKind::Query,
            Route::List => info.kind == RouteKind::List,
            Route::Download => info.kind == RouteKind::Download,
            Route::Costs => info.kind == RouteKind::Costs,
            Route::Any => true,
            Route::Pattern { method, path } => {
                method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(info.method))
                    && (glob(path, info.path) || glob(path, info.template))
            }
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Create => f.write_str("create"),
            Route::Query => f.write_str("query"),
            Route::List => f.write_str("list"),
            Route::Download => f.write_str("download"),
            Route::Costs => f.write_str("costs"),
            Route::Any => f.write_str("any"),
            Route::Pattern { method: Some(m), path } => write!(f, "{m} {path}"),
            Route::Pattern { method: None, path } => f.write_str(path),
        }
    }
}

/// `*` matches any run of characters, everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((bp, bt)) = backtrack {
            pi = bp + 1;
            ti = bt + 1;
            backtrack = Some((bp, bt + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Which of the requests a rule counts it fires on (1-based).
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// These request numbers, e.g. `[1, 3]`.
    Nth(Vec<u64>),
    /// The first N requests, then never again.
    First(u64),
    /// Every request after the first N (so `After(0)` is every request).
    After(u64),
    /// Every request ("forever").
    Always,
    /// Each request with this probability, drawn from the plan's seeded generator so a
    /// run can be replayed.
    Probability(f64),
}

impl Trigger {
    fn fires(&self, n: u64, rng: &mut StdRng) -> bool {
        match self {
            Trigger::Nth(ns) => ns.contains(&n),
            Trigger::First(k) => n <= *k,
            Trigger::After(k) => n > *k,
            Trigger::Always => true,
            Trigger::Probability(p) => rng.random::<f64>() < *p,
        }
    }
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with a Kling error instead of doing the work.
    Error {
        /// The business code; the HTTP status comes from the code table.
        code: ErrorCode,
        /// An HTTP status to use instead of the table's.
        status: Option<u16>,
        /// A message to use instead of the table's.
        message: Option<String>,
        /// Send `Retry-After: N` (seconds).
        retry_after: Option<u32>,
    },
    /// Wait this long before handling the request normally. A client that gives up
    /// first is journaled as gone (`completed: false`, `client_gone_ms`), and its
    /// request is never carried out.
    Stall {
        /// How long, in seconds.
        seconds: f64,
    },
    /// Carry the request out, then reset the TCP connection (RST) instead of answering.
    Reset,
    /// Carry the request out, then close the connection without a byte of answer.
    Empty,
    /// Carry the request out, then send the status, the headers and half the body
    /// (with the full `Content-Length`) and close the connection.
    Truncate,
    /// The task the create makes stays `processing` forever.
    Stuck,
    /// The task the create makes ends `failed` with this `task_status_msg`.
    Fail {
        /// The message; a generic one when absent.
        message: Option<String>,
    },
    /// Result URLs in the answer are already expired (on a download: 403 as if expired).
    ExpiredUrl,
}

/// The `task_status_msg` of a task failed by a fault without a message of its own.
pub const DEFAULT_FAIL_MESSAGE: &str = "Task failed: the content could not be generated (mock fault)";

impl Fault {
    /// An error fault with the code's own status and message.
    pub fn error(code: ErrorCode) -> Fault {
        Fault::Error { code, status: None, message: None, retry_after: None }
    }

    /// Add `Retry-After: seconds` to an error fault (no effect on other faults).
    #[must_use]
    pub fn retry_after(mut self, seconds: u32) -> Fault {
        if let Fault::Error { retry_after, .. } = &mut self {
            *retry_after = Some(seconds);
        }
        self
    }

    /// A failed task with this message.
    pub fn fail(message: impl Into<String>) -> Fault {
        Fault::Fail { message: Some(message.into()) }
    }

    /// The fault's name, as written in plans and the journal.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Error { .. } => "error",
            Fault::Stall { .. } => "stall",
            Fault::Reset => "reset",
            Fault::Empty => "empty",
            Fault::Truncate => "truncate",
            Fault::Stuck => "stuck",
            Fault::Fail { .. } => "fail",
            Fault::ExpiredUrl => "expired-url",
        }
    }
}

/// The file form of a rule: flat, so that a rule reads as one small table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    route: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nth: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    always: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    probability: Option<f64>,
    fault: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seconds: Option<f64>,
}

const FAULT_KINDS: &str = "error, stall, reset, empty, truncate, stuck, fail, expired-url";

impl TryFrom<RawRule> for FaultRule {
    type Error = String;

    fn try_from(raw: RawRule) -> Result<Self, String> {
        let route = Route::parse(&raw.route)?;
        let mut triggers = Vec::new();
        if let Some(ns) = raw.nth {
            triggers.push(Trigger::Nth(ns));
        }
        if let Some(k) = raw.first {
            triggers.push(Trigger::First(k));
        }
        if let Some(k) = raw.after {
            triggers.push(Trigger::After(k));
        }
        match raw.always {
            Some(true) => triggers.push(Trigger::Always),
            Some(false) => {
                return Err("`always = false` never fires; remove the rule or use `always = true`".into());
            }
            None => {}
        }
        if let Some(p) = raw.probability {
            triggers.push(Trigger::Probability(p));
        }
        let trigger = match triggers.len() {
            1 => triggers.remove(0),
            0 => {
                return Err(format!(
                    "the {:?} rule on route {:?} has no trigger; add one of nth = [1, 2], first = 2, \
                     after = 2, always = true or probability = 0.5",
                    raw.fault, raw.route
                ));
            }
            _ => {
                return Err(format!(
                    "the {:?} rule on route {:?} has several triggers; keep exactly one of nth, first, \
                     after, always, probability (use two rules to combine them)",
                    raw.fault, raw.route
                ));
            }
        };
        let only = |field: &str, present: bool, kind: &str| -> Result<(), String> {
            if present { Err(format!("`{field}` does not apply to fault = {kind:?}; remove it")) } else { Ok(()) }
        };
        let kind = raw.fault.as_str();
        if kind != "error" {
            only("code", raw.code.is_some(), kind)?;
            only("status", raw.status.is_some(), kind)?;
            only("retry_after", raw.retry_after.is_some(), kind)?;
        }
        if kind != "stall" {
            only("seconds", raw.seconds.is_some(), kind)?;
        }
        if kind != "error" && kind != "fail" {
            only("message", raw.message.is_some(), kind)?;
        }
        let fault = match kind {
            "error" => {
                let code = raw.code.ok_or_else(|| {
                    "fault = \"error\" needs a Kling business code, e.g. code = 1302 (HTTP 429) or code = 5000"
                        .to_owned()
                })?;
                let code = ErrorCode::from_code(code).ok_or_else(|| {
                    let known: Vec<String> = codes::ALL.iter().map(|c| c.code().to_string()).collect();
                    format!("code = {code} is not a Kling error code; use one of {}", known.join(", "))
                })?;
                Fault::Error { code, status: raw.status, message: raw.message, retry_after: raw.retry_after }
            }
            "stall" => {
                Fault::Stall { seconds: raw.seconds.ok_or("fault = \"stall\" needs `seconds`, e.g. seconds = 40")? }
            }
            "reset" => Fault::Reset,
            "empty" => Fault::Empty,
            "truncate" => Fault::Truncate,
            "stuck" => Fault::Stuck,
            "fail" => Fault::Fail { message: raw.message },
            "expired-url" | "expired_url" => Fault::ExpiredUrl,
            other => {
                return Err(format!("fault = {other:?} is not a fault kind; use one of {FAULT_KINDS}"));
            }
        };
        let rule = FaultRule { route, trigger, fault };
        rule.check()?;
        Ok(rule)
    }
}

impl From<FaultRule> for RawRule {
    fn from(rule: FaultRule) -> Self {
        let mut raw = RawRule {
            route: rule.route.to_string(),
            nth: None,
            first: None,
            after: None,
            always: None,
            probability: None,
            fault: rule.fault.kind().to_owned(),
            code: None,
            status: None,
            message: None,
            retry_after: None,
            seconds: None,
        };
        match rule.trigger {
            Trigger::Nth(ns) => raw.nth = Some(ns),
            Trigger::First(k) => raw.first = Some(k),
            Trigger::After(k) => raw.after = Some(k),
            Trigger::Always => raw.always = Some(true),
            Trigger::Probability(p) => raw.probability = Some(p),
        }
        match rule.fault {
            Fault::Error { code, status, message, retry_after } => {
                raw.code = Some(code.code());
                raw.status = status;
                raw.message = message;
                raw.retry_after = retry_after;
            }
            Fault::Stall { seconds } => raw.seconds = Some(seconds),
            Fault::Fail { message } => raw.message = message,
            Fault::Reset | Fault::Empty | Fault::Truncate | Fault::Stuck | Fault::ExpiredUrl => {}
        }
        raw
    }
}

/// The kinds of routes faults can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteKind {
    Create,
    Query,
    List,
    Costs,
    Download,
}

/// What a fault rule is matched against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouteInfo<'a> {
    pub(crate) kind: RouteKind,
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) template: &'a str,
}

/// A fault that fired, as the journal records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredFault {
    /// The rule's position in the plan (0-based); `None` for a mode of the mock
    /// rather than a rule (`token-expiry`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    /// The fault kind (`error`, `stall`, `reset`, `empty`, `truncate`, `stuck`, `fail`,
    /// `expired-url`, or `token-expiry` for the token-expiry mode).
    pub kind: String,
    /// The business code of an error fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
    /// The length of a stall, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

impl FiredFault {
    pub(crate) fn of(rule: usize, fault: &Fault) -> Self {
        FiredFault {
            rule: Some(rule),
            kind: fault.kind().to_owned(),
            code: match fault {
                Fault::Error { code, .. } => Some(code.code()),
                _ => None,
            },
            seconds: match fault {
                Fault::Stall { seconds } => Some(*seconds),
                _ => None,
            },
        }
    }
}

/// A rule with how often it matched and fired (what `GET /__admin/faults` shows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleStatus {
    /// The rule.
    pub rule: FaultRule,
    /// Requests that matched its route.
    pub matched: u64,
    /// Requests it fired on.
    pub fired: u64,
}

/// The current plan and its counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultStatus {
    /// The seed probabilistic triggers draw from.
    pub seed: u64,
    /// Each rule with its counters, in plan order.
    pub rules: Vec<RuleStatus>,
}

/// The running plan: rules, per-rule counters and the seeded generator.
#[derive(Debug)]
pub(crate) struct FaultEngine {
    plan: FaultPlan,
    seed: u64,
    counters: Vec<(u64, u64)>,
    rng: StdRng,
}

impl FaultEngine {
    pub(crate) fn new(plan: FaultPlan, default_seed: u64) -> Self {
        let seed = plan.seed.unwrap_or(default_seed);
        let counters = vec![(0, 0); plan.rules.len()];
        FaultEngine { plan, seed, counters, rng: StdRng::seed_from_u64(seed) }
    }

    /// Count the request against every rule whose route it matches and return the first
    /// rule that fires. Every matching probabilistic rule draws, fired or not, so that
    /// one rule's draws never depend on whether another rule fired.
    pub(crate) fn evaluate(&mut self, info: &RouteInfo<'_>) -> Option<(usize, Fault)> {
        if self.plan.rules.is_empty() {
            return None;
        }
        let mut fired = None;
        for (i, rule) in self.plan.rules.iter().enumerate() {
            if !rule.route.matches(info) {
                continue;
            }
            let counter = &mut self.counters[i];
            counter.0 += 1;
            if rule.trigger.fires(counter.0, &mut self.rng) && fired.is_none() {
                counter.1 += 1;
                fired = Some((i, rule.fault.clone()));
            }
        }
        fired
    }

    pub(crate) fn status(&self) -> FaultStatus {
        FaultStatus {
            seed: self.seed,
            rules: self
                .plan
                .rules
                .iter()
                .zip(&self.counters)
                .map(|(rule, &(matched, fired))| RuleStatus { rule: rule.clone(), matched, fired })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info<'a>(kind: RouteKind, method: &'a str, path: &'a str, template: &'a str) -> RouteInfo<'a> {
        RouteInfo { kind, method, path, template }
    }

    const CREATE: RouteInfo<'static> = RouteInfo {
        kind: RouteKind::Create,
        method: "POST",
        path: "/v1/videos/text2video",
        template: "/v1/videos/text2video",
    };

    #[test]
    fn first_two_creates_then_normal() {
        let plan = FaultPlan::new().rule(FaultRule::new(
            Route::Create,
            Trigger::First(2),
            Fault::error(ErrorCode::RATE_LIMITED),
        ));
        let mut engine = FaultEngine::new(plan, 1);
        let kinds: Vec<bool> = (0..4).map(|_| engine.evaluate(&CREATE).is_some()).collect();
        assert_eq!(kinds, [true, true, false, false]);
        assert_eq!(engine.status().rules[0].matched, 4);
        assert_eq!(engine.status().rules[0].fired, 2);
    }

    #[test]
    fn patterns_match_paths_and_templates() {
        let route = Route::parse("GET /v1/videos/*/{id}").unwrap();
        assert!(route.matches(&info(
            RouteKind::Query,
            "GET",
            "/v1/videos/text2video/abc",
            "/v1/videos/text2video/{id}"
        )));
        assert!(!route.matches(&info(RouteKind::Create, "POST", "/v1/videos/text2video", "/v1/videos/text2video")));
        let route = Route::parse("POST /v1/videos/text2video").unwrap();
        assert!(route.matches(&CREATE));
        assert!(Route::parse("/cdn/*").unwrap().matches(&info(
            RouteKind::Download,
            "GET",
            "/cdn/t/v.mp4",
            "/cdn/{task_id}/{file}"
        )));
        assert!(Route::parse("videos").is_err());
        assert!(glob("a*b*c", "aXXbYYc") && !glob("a*b", "ac") && glob("*", ""));
    }

    #[test]
    fn probability_is_replayable_from_the_seed() {
        let plan =
            FaultPlan::new().with_seed(7).rule(FaultRule::new(Route::Any, Trigger::Probability(0.5), Fault::Reset));
        let run = || {
            let mut engine = FaultEngine::new(plan.clone(), 0);
            (0..64).map(|_| engine.evaluate(&CREATE).is_some()).collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.iter().any(|&b| b) && first.iter().any(|&b| !b));
    }

    #[test]
    fn file_form_round_trips_and_reports_mistakes() {
        let plan = FaultPlan::new()
            .rule(FaultRule::new(Route::Create, Trigger::Always, Fault::fail("nope")))
            .rule(FaultRule::new(Route::Query, Trigger::After(1), Fault::ExpiredUrl))
            .rule(FaultRule::new(
                Route::parse("POST /v1/*").unwrap(),
                Trigger::Nth(vec![2]),
                Fault::error(ErrorCode::INTERNAL_ERROR).retry_after(3),
            ));
        let json = serde_json::to_string(&plan).unwrap();
        assert_eq!(FaultPlan::from_json_str(&json).unwrap(), plan);

        let err = |text: &str| FaultPlan::from_toml_str(text).unwrap_err().to_string();
        assert!(err("[[rules]]\nroute = \"create\"\nfault = \"error\"\ncode = 1302").contains("has no trigger"));
        assert!(
            err("[[rules]]\nroute = \"create\"\nfirst = 1\nfault = \"error\"\ncode = 42")
                .contains("not a Kling error code")
        );
        assert!(err("[[rules]]\nroute = \"create\"\nfirst = 1\nfault = \"stall\"").contains("needs `seconds`"));
        let e = err("[[rules]]\nroute = \"download\"\nfirst = 1\nfault = \"stuck\"");
        assert!(e.contains("needs route = \"create\""), "{e}");
        assert!(err("[[rules]]\nroute = \"create\"\nfirst = 1\nfault = \"explode\"").contains("not a fault kind"));
        assert!(
            err("[[rules]]\nroute = \"create\"\nfirst = 1\nfault = \"reset\"\nseconds = 3").contains("does not apply")
        );
        assert!(err("[[rules]]\nroute = \"create\"\nfirst = 1\nfault = \"reset\"\ntypo = 3").contains("unknown field"));
    }
}
