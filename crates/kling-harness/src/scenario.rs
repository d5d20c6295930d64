//! The scenario catalog: each scenario is a mock configuration, a fault plan and the
//! inputs a client gets (prompt, poll hint), run against its own fresh mock.
//!
//! Timings are chosen so a correct client finishes every scenario in seconds except
//! the two that must make it wait: `stall` (the client's 30 s HTTP timeout) and
//! `task-stuck` (the poll hint). Each scenario also has a deadline after which its
//! client is stopped; it is long enough for a correct client and short enough that a
//! client that never gives up costs less than a minute.

use kling_mock::{ErrorCode, Fault, FaultPlan, FaultRule, MockConfig, Route, Trigger};
use serde::Serialize;

/// How long the mock's tasks take (a quarter of it `submitted`).
pub const TASK_SECONDS: f64 = 2.0;
/// How long the `stall` scenario holds its stalled answer: well past the 30 s limit
/// plus margin, so a client without a timeout is told apart from a slow one.
pub const STALL_SECONDS: f64 = 40.0;
/// The checklist's HTTP timeout.
pub const HTTP_TIMEOUT_SECONDS: f64 = 30.0;
/// What `errors.http-timeout` adds to [`HTTP_TIMEOUT_SECONDS`] for scheduling noise.
pub const HTTP_TIMEOUT_MARGIN_SECONDS: f64 = 5.0;
/// The result-URL lifetime in `url-expiry`.
pub const SHORT_URL_TTL_SECONDS: f64 = 5.0;
/// The poll hint of `stall`: long enough that a client that waited out its timeout on
/// a poll still finishes the task.
pub const STALL_POLL_TIMEOUT_SECONDS: f64 = 90.0;
/// The default poll hint (`KLING_POLL_TIMEOUT_SECONDS`).
pub const DEFAULT_POLL_TIMEOUT_SECONDS: f64 = 15.0;
/// `Retry-After` on the 429s of `rate-limited`.
pub const RATE_LIMIT_RETRY_AFTER: u32 = 1;
/// Failed answers in the transient scenarios: a client with the lowest acceptable cap
/// (3 retries) still gets through.
pub const TRANSIENT_FAILURES: u64 = 3;
/// `task_status_msg` of the `task-failed` task; distinctive, so finding it in the
/// client's output cannot be a coincidence.
pub const FAIL_MESSAGE: &str = "Task failed: the render stopped at frame 42 (kling-preflight task-failed scenario)";
/// A default deadline per scenario, in seconds.
const DEFAULT_DEADLINE: f64 = 60.0;

/// A scripted situation a client is run through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scenario {
    /// The id (`rate-limited`), a contract.
    pub id: &'static str,
    /// A one-line title.
    pub title: &'static str,
    /// What the mock does, in words.
    pub setup: &'static str,
    /// What it proves about the client.
    pub exercises: &'static str,
}

/// A wait a scenario forces on a correct client, for the run's closing note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForcedWait {
    /// Seconds.
    pub seconds: f64,
    /// What forces it.
    pub what: &'static str,
}

const CATALOG: &[Scenario] = &[
    Scenario {
        id: "happy",
        title: "everything works",
        setup: "a task that succeeds after 2 s; result URLs live 1 h",
        exercises: "request shape, authentication, polling, logging, the download, connection reuse",
    },
    Scenario {
        id: "rate-limited",
        title: "the first creates are rate-limited",
        setup: "the first 3 creates get 429/1302 with Retry-After: 1, then the mock behaves",
        exercises: "retrying 429s with backoff that honours Retry-After",
    },
    Scenario {
        id: "rate-limited-forever",
        title: "every create is rate-limited",
        setup: "every create gets 429/1302, without Retry-After",
        exercises: "exponential backoff with jitter, and a retry cap of 3-5",
    },
    Scenario {
        id: "server-error",
        title: "the first creates fail with 500",
        setup: "the first 3 creates get 500/5000, then the mock behaves",
        exercises: "retrying 5xx with backoff",
    },
    Scenario {
        id: "server-error-forever",
        title: "every create fails with 503",
        setup: "every create gets 503/5001",
        exercises: "backoff and the retry cap under 5xx",
    },
    Scenario {
        id: "stall",
        title: "a status query hangs",
        setup: "the first task query is held for 40 s before it is answered",
        exercises: "a 30 s timeout on every HTTP call",
    },
    Scenario {
        id: "token-expiry",
        title: "tokens expire after the create",
        setup: "after the first successful create, every token the mock has seen is answered 401/1004",
        exercises: "minting a fresh token and recovering, never resending an expired one",
    },
    Scenario {
        id: "task-failed",
        title: "the task fails",
        setup: "the task ends `failed` with a task_status_msg",
        exercises: "exiting non-zero and reporting task_status_msg",
    },
    Scenario {
        id: "task-stuck",
        title: "the task never finishes",
        setup: "the task stays `processing` forever",
        exercises: "giving up polling within KLING_POLL_TIMEOUT_SECONDS",
    },
    Scenario {
        id: "url-expiry",
        title: "result URLs expire in 5 s",
        setup: "each result URL lives 5 s from when it is served; a re-query serves a fresh one",
        exercises: "downloading the video as soon as the task succeeds",
    },
    Scenario {
        id: "credits-depleted",
        title: "no credits left",
        setup: "the account has 0 credits: every create gets 429/1102",
        exercises: "not retrying a 429 that is final (1102)",
    },
    Scenario {
        id: "policy-violation",
        title: "the prompt violates the content policy",
        setup: "every create gets 400/1301",
        exercises: "not retrying a content-policy refusal",
    },
    Scenario {
        id: "invalid-prompt",
        title: "the prompt is too long",
        setup: "KLING_PROMPT holds 2,600 characters (the API allows 2,500)",
        exercises: "validating the prompt before any API call",
    },
    Scenario {
        id: "conn-reset",
        title: "connections drop",
        setup: "the first create is carried out but its connection is reset; the second task query gets an empty answer",
        exercises: "retrying network faults without creating the task twice",
    },
];

/// Every scenario, in catalog order.
pub fn catalog() -> &'static [Scenario] {
    CATALOG
}

/// The scenario with this id.
pub fn find(id: &str) -> Option<&'static Scenario> {
    CATALOG.iter().find(|s| s.id == id)
}

/// The margin `tasks.poll-cap` allows past the poll hint: 10 s or 20%, whichever is larger.
pub fn poll_cap_margin(poll_timeout: f64) -> f64 {
    (poll_timeout * 0.2).max(10.0)
}

impl Scenario {
    /// The fault plan the mock starts with.
    pub fn fault_plan(&self) -> FaultPlan {
        let rule = |route, trigger, fault| FaultRule::new(route, trigger, fault);
        let plan = FaultPlan::new();
        match self.id {
            "rate-limited" => plan.rule(rule(
                Route::Create,
                Trigger::First(TRANSIENT_FAILURES),
                Fault::error(ErrorCode::RATE_LIMITED).retry_after(RATE_LIMIT_RETRY_AFTER),
            )),
            "rate-limited-forever" => {
                plan.rule(rule(Route::Create, Trigger::Always, Fault::error(ErrorCode::RATE_LIMITED)))
            }
            "server-error" => plan.rule(rule(
                Route::Create,
                Trigger::First(TRANSIENT_FAILURES),
                Fault::error(ErrorCode::INTERNAL_ERROR),
            )),
            "server-error-forever" => {
                plan.rule(rule(Route::Create, Trigger::Always, Fault::error(ErrorCode::UNAVAILABLE)))
            }
            "stall" => plan.rule(rule(Route::Query, Trigger::First(1), Fault::Stall { seconds: STALL_SECONDS })),
            "task-failed" => plan.rule(rule(Route::Create, Trigger::Always, Fault::fail(FAIL_MESSAGE))),
            "task-stuck" => plan.rule(rule(Route::Create, Trigger::Always, Fault::Stuck)),
            "policy-violation" => {
                plan.rule(rule(Route::Create, Trigger::Always, Fault::error(ErrorCode::CONTENT_POLICY)))
            }
            // The second query, so that a client that looks its task up by
            // external_task_id after the reset gets an answer, and then meets the
            // empty one on a later poll.
            "conn-reset" => plan.rule(rule(Route::Create, Trigger::First(1), Fault::Reset)).rule(rule(
                Route::Query,
                Trigger::Nth(vec![2]),
                Fault::Empty,
            )),
            _ => plan,
        }
    }

    /// The mock's settings for one run with these credentials.
    pub fn mock_config(&self, access_key: &str, secret_key: &str) -> MockConfig {
        let mut config = MockConfig::default()
            .with_credentials(access_key, secret_key)
            // Room for a client that polls without sleeping for a whole deadline: the
            // judges need the journal from the first request on.
            .with_journal_capacity(100_000)
            .with_task_seconds(TASK_SECONDS)
            .with_faults(self.fault_plan());
        match self.id {
            "token-expiry" => config = config.with_token_expiry_after_first_create(true),
            "url-expiry" => config = config.with_url_ttl_seconds(SHORT_URL_TTL_SECONDS),
            "credits-depleted" => config = config.with_credits(0.0),
            _ => {}
        }
        config
    }

    /// `KLING_PROMPT`.
    pub fn prompt(&self) -> String {
        const PROMPT: &str = "A red fox trotting through fresh snow at dawn, low golden sun, long blue shadows, \
                              telephoto lens, shallow depth of field";
        if self.id != "invalid-prompt" {
            return PROMPT.to_owned();
        }
        // A plausible prompt, just too long: a client must count, not pattern-match.
        let mut long = String::new();
        while long.chars().count() < 2600 {
            long.push_str(PROMPT);
            long.push_str(". ");
        }
        long.chars().take(2600).collect()
    }

    /// `KLING_POLL_TIMEOUT_SECONDS` for this scenario.
    pub fn poll_timeout(&self, default: f64) -> f64 {
        if self.id == "stall" { STALL_POLL_TIMEOUT_SECONDS.max(default) } else { default }
    }

    /// How long the client may run before it is stopped, unless `--max-wait-seconds`
    /// says otherwise.
    pub fn default_deadline(&self, poll_timeout: f64) -> f64 {
        match self.id {
            "stall" => STALL_SECONDS + 50.0,
            // Past the limit `tasks.poll-cap` allows, with room to see the client is
            // still polling: a client without a cap costs this long and no more.
            "task-stuck" => poll_timeout + poll_cap_margin(poll_timeout) + 10.0,
            _ => DEFAULT_DEADLINE.max(poll_timeout + 20.0),
        }
    }

    /// About how long a correct client takes, to start the long scenarios first.
    pub fn expected_seconds(&self, poll_timeout: f64) -> f64 {
        match self.id {
            "stall" => HTTP_TIMEOUT_SECONDS + 4.0,
            "task-stuck" => poll_timeout + 1.0,
            "rate-limited-forever" | "server-error-forever" => 15.0,
            "rate-limited" | "server-error" => 7.0,
            "credits-depleted" | "policy-violation" | "invalid-prompt" => 0.5,
            _ => 4.0,
        }
    }

    /// The wait this scenario forces on a correct client, if any.
    pub fn forced_wait(&self, poll_timeout: f64) -> Option<ForcedWait> {
        match self.id {
            "stall" => Some(ForcedWait { seconds: HTTP_TIMEOUT_SECONDS, what: "the client's 30 s HTTP timeout" }),
            "task-stuck" => Some(ForcedWait { seconds: poll_timeout, what: "the poll hint for a stuck task" }),
            _ => None,
        }
    }

    /// The result-URL lifetime the mock uses.
    pub fn url_ttl_seconds(&self) -> f64 {
        if self.id == "url-expiry" { SHORT_URL_TTL_SECONDS } else { MockConfig::default().url_ttl_seconds }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_spec_s_and_every_configuration_is_valid() {
        let ids: Vec<&str> = catalog().iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                "happy",
                "rate-limited",
                "rate-limited-forever",
                "server-error",
                "server-error-forever",
                "stall",
                "token-expiry",
                "task-failed",
                "task-stuck",
                "url-expiry",
                "credits-depleted",
                "policy-violation",
                "invalid-prompt",
                "conn-reset"
            ]
        );
        for s in catalog() {
            s.mock_config("ak-x", "sk-x").validate().unwrap();
            for rule in &s.fault_plan().rules {
                FaultRule::checked(rule.route.clone(), rule.trigger.clone(), rule.fault.clone())
                    .unwrap_or_else(|e| panic!("{}: {e}", s.id));
            }
            let hint = s.poll_timeout(DEFAULT_POLL_TIMEOUT_SECONDS);
            assert!(s.default_deadline(hint) > s.expected_seconds(hint) + 10.0, "{}", s.id);
        }
    }

    #[test]
    fn inputs_and_limits() {
        assert_eq!(find("invalid-prompt").unwrap().prompt().chars().count(), 2600);
        assert!(find("happy").unwrap().prompt().chars().count() < 200);
        // The stall must outlast the limit, and the deadline the stall.
        const { assert!(STALL_SECONDS > HTTP_TIMEOUT_SECONDS + HTTP_TIMEOUT_MARGIN_SECONDS) };
        assert!(find("stall").unwrap().default_deadline(15.0) > STALL_SECONDS + 10.0);
        let stuck = find("task-stuck").unwrap();
        assert!(stuck.default_deadline(15.0) > 15.0 + poll_cap_margin(15.0));
        assert!((poll_cap_margin(15.0) - 10.0).abs() < 1e-9 && (poll_cap_margin(100.0) - 20.0).abs() < 1e-9);
    }
}
