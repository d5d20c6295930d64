//! Function summaries: what calling a function does, as far as the rules care. A
//! poll loop that sleeps through `self._wait()`, a token minted by an opaquely named
//! helper, a deadline checked in `check_deadline(start)` are all seen through these.

use super::idioms::SleepUnit;
use super::{Resolved, Unit};
use crate::facts::{ExitKind, FuncId};

/// How long something sleeps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Amount {
    /// A known number of seconds.
    Secs(f64),
    /// The value of the function's `index`th parameter, in `unit`.
    Param { index: usize, unit: SleepUnit },
    /// Unknown.
    Unknown,
}

impl Amount {
    /// Two sleeps on one path: the longer paces it (`asyncio.sleep(0)` beside a
    /// 5-second wait does not make a loop hot). Known beats unknown: a rule must not
    /// guess.
    pub(crate) fn combine(self, other: Amount) -> Amount {
        match (self, other) {
            (Amount::Secs(a), Amount::Secs(b)) => Amount::Secs(a.max(b)),
            (Amount::Secs(a), _) | (_, Amount::Secs(a)) => Amount::Secs(a),
            (p @ Amount::Param { .. }, _) | (_, p @ Amount::Param { .. }) => p,
            _ => Amount::Unknown,
        }
    }
}

/// What calling a function does.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Summary {
    /// Makes an HTTP request to Kling.
    pub(crate) kling_request: bool,
    /// Queries a Kling task (a GET of a task URL, or a Kling request whose answer's
    /// `task_status` it reads).
    pub(crate) task_query: bool,
    /// Reads `task_status`.
    pub(crate) reads_status: bool,
    /// Sleeps, and for how long.
    pub(crate) sleep: Option<Amount>,
    /// Mints a Kling JWT.
    pub(crate) kling_token: bool,
    /// Throws or returns when a deadline passes or an attempt counter runs out.
    pub(crate) deadline: bool,
}

impl Summary {
    fn absorb(&mut self, other: &Summary) {
        self.kling_request |= other.kling_request;
        self.task_query |= other.task_query;
        self.reads_status |= other.reads_status;
        self.kling_token |= other.kling_token;
        self.deadline |= other.deadline;
    }
}

pub(crate) fn compute(unit: &Unit<'_>, f: FuncId) -> Summary {
    let function = unit.facts.function(f);
    let body = function.body;
    let mut s = Summary::default();
    for call in unit.calls_in(body) {
        if let Some(http) = unit.http_call(call)
            && let Some(url) = http.url.and_then(|u| unit.url_info(u))
            && url.kling
        {
            s.kling_request = true;
            s.task_query |= url.task_query || http.method.as_deref() == Some("GET");
        }
        if let Some((arg, sleep_unit)) = unit.sleep_call(call) {
            let amount = match arg {
                None => Amount::Unknown,
                Some(a) => match unit.resolve(a) {
                    Resolved::Param { func, index, .. } if func == f => Amount::Param { index, unit: sleep_unit },
                    _ => unit.sleep_seconds(a, sleep_unit).map_or(Amount::Unknown, Amount::Secs),
                },
            };
            s.sleep = Some(s.sleep.map_or(amount, |x| x.combine(amount)));
        }
        if let Some(jwt) = unit.jwt_call(call)
            && unit.is_kling_token(&jwt, call)
        {
            s.kling_token = true;
        }
        if let Some(inner) = unit.callee_summary(call) {
            s.absorb(&inner);
            if let Some(amount) = inner.sleep {
                let amount = match amount {
                    Amount::Param { index, unit: u } => {
                        unit.facts.positional(call, index).map_or(Amount::Unknown, |a| match unit.resolve(a.value) {
                            Resolved::Param { func, index, .. } if func == f => Amount::Param { index, unit: u },
                            _ => unit.sleep_seconds(a.value, u).map_or(Amount::Unknown, Amount::Secs),
                        })
                    }
                    other => other,
                };
                s.sleep = Some(s.sleep.map_or(amount, |x| x.combine(amount)));
            }
        }
    }
    s.reads_status = unit.reads_status_in(body);
    if s.reads_status && s.kling_request {
        s.task_query = true;
    }
    s.deadline = unit.exits_in(body).any(|x| {
        matches!(x.kind, ExitKind::Throw | ExitKind::Return)
            && x.guards.iter().any(|g| !g.negated && unit.is_bound_condition(g.cond))
    });
    // A function that does nothing but raise on a deadline (`check_deadline`) has
    // no guard: its caller's `if` is not ours to see, but its name says it.
    if !s.deadline
        && let Some(name) = &function.name
    {
        let n = name.to_ascii_lowercase();
        let checks = n.contains("deadline") || n.contains("timeout") || n.contains("expired") || n.contains("budget");
        s.deadline = checks && unit.exits_in(body).any(|x| x.kind == ExitKind::Throw);
    }
    s
}
