//! The report a run produces, and its renderings: text for a terminal, JSON in SPEC's
//! shape, `JUnit` XML for CI test tabs, Markdown for a pull-request comment, and one
//! self-contained HTML page with a request timeline per scenario.
//!
//! The report keeps, besides the verdicts, a timeline of every scenario (each request
//! with its time, connection, answer and fault, and when the client ended), so that a
//! graphical report can be drawn from the JSON alone.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod text;
mod timeline;

use serde::{Deserialize, Serialize};

use crate::scenario::ForcedWait;

/// The JSON format's version.
pub const VERSION: u32 = 1;

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The client does what the checklist asks.
    Pass,
    /// It does not.
    Fail,
    /// An informational check not met, or a weaker form of the practice (growth without jitter).
    Warn,
    /// No scenario reached the point that would prove it; never counts as a pass.
    NotExercised,
    /// Needs a person's attestation.
    Manual,
    /// The harness itself failed, so nothing can be said.
    Error,
}

impl Verdict {
    /// The wire name: `pass`, `not-exercised`...
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Warn => "warn",
            Verdict::NotExercised => "not-exercised",
            Verdict::Manual => "manual",
            Verdict::Error => "error",
        }
    }
}

/// One check's outcome with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its checklist section.
    pub section: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The requests, times and output lines that decided it.
    pub evidence: Vec<String>,
    /// An informational check.
    pub informational: bool,
    /// The checklist line it enforces (empty when none).
    pub checklist: String,
    /// What to change, shown with failures and warnings.
    pub fix: String,
    /// The scenarios whose runs were judged.
    pub scenarios: Vec<String>,
}

/// Counts by verdict, and the run's timing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Checks judged.
    pub checks: usize,
    /// Passed.
    pub pass: usize,
    /// Failed.
    pub fail: usize,
    /// Warnings.
    pub warn: usize,
    /// Not exercised.
    pub not_exercised: usize,
    /// Manual.
    pub manual: usize,
    /// Harness errors.
    pub error: usize,
    /// Scenarios run.
    pub scenarios: usize,
    /// Wall time of the whole run, in seconds.
    pub wall_seconds: f64,
    /// The waits the scenarios force on a correct client (they bound the wall time from below).
    pub forced_waits: Vec<ForcedWaitReport>,
}

/// A forced wait, by scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForcedWaitReport {
    /// The scenario.
    pub scenario: String,
    /// Seconds.
    pub seconds: f64,
    /// What forces it.
    pub what: String,
}

impl ForcedWaitReport {
    pub(crate) fn new(scenario: &str, w: &ForcedWait) -> Self {
        ForcedWaitReport { scenario: scenario.to_owned(), seconds: w.seconds, what: w.what.to_owned() }
    }
}

/// One request on a scenario's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Position among the scenario's requests (the `#n` of the evidence).
    pub n: usize,
    /// `api`, `cdn` or `callback`.
    pub kind: String,
    /// Arrival, seconds since the scenario's mock started.
    pub t: f64,
    /// Until the answer was ready or the client left, seconds.
    pub duration: f64,
    /// TCP connection number (requests on one kept-alive connection share it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conn: Option<u64>,
    /// HTTP method.
    pub method: String,
    /// Path (CDN paths shortened).
    pub path: String,
    /// `create`, `query`, `download`, `callback`...
    pub route: String,
    /// HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Business code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
    /// Whether the client got the whole answer.
    pub completed: bool,
    /// When the client gave up waiting, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_gone: Option<f64>,
    /// The fault that fired (`error 1302`, `stall`, `reset`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// The task status in the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_status: Option<String>,
    /// When this request repeats an earlier one that got no usable answer (an error
    /// status, a reset, a stall the client left), that attempt's `n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<usize>,
    /// With `retry_of`: seconds from that attempt's answer (or the client leaving it) to
    /// this request — the client's backoff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<f64>,
}

/// How a scenario's client ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientExit {
    /// Exit status, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// The signal that ended it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Why the harness stopped it (`deadline`, `interrupted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// When, seconds since the scenario's mock started.
    pub at: f64,
}

/// One scenario's run, for timelines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// The scenario id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// When it started within the run, seconds.
    pub started: f64,
    /// How long it took, seconds.
    pub duration: f64,
    /// Its deadline, seconds.
    pub deadline: f64,
    /// `KLING_POLL_TIMEOUT_SECONDS`.
    pub poll_timeout: f64,
    /// How the client ended; absent when it never ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientExit>,
    /// Requests, downloads and callback deliveries, in order of arrival.
    pub requests: Vec<TimelineEntry>,
    /// Lines the client wrote to stdout (kept).
    pub stdout_lines: usize,
    /// Lines the client wrote to stderr (kept).
    pub stderr_lines: usize,
    /// Bytes the client wrote to stdout and stderr, kept or not.
    pub output_bytes: usize,
    /// Whether output past the capture limit was dropped.
    pub output_truncated: bool,
    /// Files left in the output directory.
    pub output_files: Vec<String>,
    /// Why the scenario could not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A whole run's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// The client command.
    pub client: String,
    /// Every check, in catalog order.
    pub checks: Vec<CheckResult>,
    /// Counts and timing.
    pub summary: Summary,
    /// Per-scenario timelines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<ScenarioReport>,
}

impl Report {
    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.summary.fail > 0
    }

    /// Whether the harness failed somewhere (a verdict `error`).
    pub fn broken(&self) -> bool {
        self.summary.error > 0
    }

    /// SPEC's exit code: 2 when the harness broke, 1 when a check failed, else 0
    /// (warnings, not-exercised and manual checks do not fail a run).
    pub fn exit_code(&self) -> u8 {
        if self.broken() { 2 } else { u8::from(self.failed()) }
    }

    /// The check with this id.
    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// Count the verdicts into a summary.
    pub(crate) fn tally(checks: &[CheckResult]) -> Summary {
        let mut s = Summary { checks: checks.len(), ..Summary::default() };
        for c in checks {
            match c.verdict {
                Verdict::Pass => s.pass += 1,
                Verdict::Fail => s.fail += 1,
                Verdict::Warn => s.warn += 1,
                Verdict::NotExercised => s.not_exercised += 1,
                Verdict::Manual => s.manual += 1,
                Verdict::Error => s.error += 1,
            }
        }
        s
    }
}

#[cfg(test)]
pub(crate) mod sample {
    //! A small fixed report for rendering snapshots.

    use super::*;

    pub(crate) fn report() -> Report {
        let check = |id: &str, section: &str, verdict: Verdict, evidence: &[&str]| {
            let c = crate::checks::find(id).unwrap();
            CheckResult {
                id: id.into(),
                title: c.title.clone(),
                section: section.into(),
                verdict,
                evidence: evidence.iter().map(|s| (*s).to_owned()).collect(),
                informational: c.informational,
                checklist: c.checklist.clone(),
                fix: c.fix.clone(),
                scenarios: vec!["happy".into()],
            }
        };
        let checks = vec![
            check(
                "auth.bearer-format",
                "Authentication",
                Verdict::Pass,
                &["[happy] 4 API requests, every one with `Authorization: Bearer <jwt>`"],
            ),
            check(
                "errors.backoff",
                "Error Handling",
                Verdict::Fail,
                &[
                    "[rate-limited-forever] POST /v1/videos/text2video #1–#6: 6 attempts, answered 429/1302; waits after \
                     each answer: 1.00, 1.00, 1.00, 1.00, 1.00 s",
                    "no growth: later waits average 1.00 s against 1.00 s for earlier ones (×1.00; needs ×1.5), the last \
                     ×1.00 the first (needs ×2)",
                ],
            ),
            check(
                "content.negative-prompt",
                "Content Safety",
                Verdict::Warn,
                &["[happy] POST /v1/videos/text2video #1 at 0.05 s → 200/0 sent no negative_prompt"],
            ),
            check(
                "tasks.poll-cap",
                "Cost Controls",
                Verdict::NotExercised,
                &["needs scenario task-stuck, which did not run (see --scenario)"],
            ),
        ];
        let mut summary = Report::tally(&checks);
        summary.scenarios = 2;
        summary.wall_seconds = 12.5;
        summary.forced_waits =
            vec![ForcedWaitReport { scenario: "task-stuck".into(), seconds: 15.0, what: "the poll hint".into() }];
        Report {
            version: VERSION,
            client: "python3 'my client.py'".into(),
            checks,
            summary,
            scenarios: vec![ScenarioReport {
                id: "happy".into(),
                title: "everything works".into(),
                started: 0.0,
                duration: 3.2,
                deadline: 60.0,
                poll_timeout: 15.0,
                client: Some(ClientExit { code: Some(0), signal: None, stopped: None, at: 3.1 }),
                requests: vec![TimelineEntry {
                    n: 1,
                    kind: "api".into(),
                    t: 0.05,
                    duration: 0.002,
                    conn: Some(1),
                    method: "POST".into(),
                    path: "/v1/videos/text2video".into(),
                    route: "create".into(),
                    status: Some(200),
                    code: Some(0),
                    completed: true,
                    client_gone: None,
                    fault: None,
                    task_status: Some("submitted".into()),
                    retry_of: None,
                    wait: None,
                }],
                stdout_lines: 1,
                stderr_lines: 6,
                output_bytes: 900,
                output_truncated: false,
                output_files: vec!["800000000000000001.mp4".into()],
                error: None,
            }],
        }
    }
}
