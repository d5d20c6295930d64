//! The harness behind `kling-preflight check`: it runs *any* Kling client program
//! against scripted scenarios on its own in-process mock Kling server, and judges from
//! the mock's journal and the client's output whether each line of the production
//! checklist holds.
//!
//! A client is a command that reads SPEC's environment (`KLING_BASE_URL`,
//! `KLING_ACCESS_KEY`, `KLING_SECRET_KEY`, `KLING_PROMPT`, `KLING_OUTPUT_DIR`,
//! `KLING_POLL_TIMEOUT_SECONDS`, and optionally `KLING_CALLBACK_URL`), creates one
//! text-to-video task, waits for it, downloads the video and exits 0, or exits
//! non-zero when it cannot.
//!
//! ```no_run
//! use kling_harness::{ClientCommand, Options, run};
//!
//! # async fn demo() -> Result<(), kling_harness::HarnessError> {
//! let client = ClientCommand::new(["python3", "fixtures/clients/python/kling_client.py"])?;
//! let options = Options { scenarios: vec!["happy".into(), "stall".into()], ..Options::default() };
//! let report = run(&client, &options).await?;
//! for check in &report.checks {
//!     println!("{:<14} {}", check.verdict.as_str(), check.id);
//!     for line in &check.evidence {
//!         println!("    {line}");
//!     }
//! }
//! std::process::exit(i32::from(report.exit_code()));
//! # }
//! ```
//!
//! The pieces: [`scenario`] (the catalog: mock settings, fault plan and client inputs
//! per scenario), a runner that starts the client in its own process group and never
//! leaves a process behind, judges (one per check id of [`checks`]), and [`report`]
//! with text, JSON, `JUnit`, Markdown and HTML renderings. [`audit`] combines a run with
//! lint results and attestations into the whole production checklist.
#![deny(missing_docs)]

pub mod audit;
mod callback;
pub mod checks;
mod error;
mod evidence;
mod execute;
mod interrupt;
mod judge;
mod observation;
pub mod report;
mod runner;
pub mod scenario;
mod secrets;

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use checks::Check;
pub use error::HarnessError;
pub use interrupt::Interrupt;
pub use report::{CheckResult, Report, Verdict};
pub use runner::{CAPTURE_LIMIT, ClientCommand, Stop, stop_all_clients};
pub use scenario::Scenario;

use crate::observation::ScenarioRun;
use crate::report::{ClientExit, ForcedWaitReport, ScenarioReport, TimelineEntry};

/// How a run is done.
#[derive(Clone)]
pub struct Options {
    /// Scenario ids to run; empty means all.
    pub scenarios: Vec<String>,
    /// Scenarios run at once; 0 means the number of cores.
    pub jobs: usize,
    /// Stop every client after this many seconds (instead of each scenario's own deadline).
    pub max_wait_seconds: Option<f64>,
    /// `KLING_POLL_TIMEOUT_SECONDS` (the `stall` scenario raises it so the client can
    /// wait out its timeout and still finish). The poll-cap limit follows it.
    pub poll_timeout_seconds: f64,
    /// Trigger it to stop the run (every client is stopped at once).
    pub interrupt: Interrupt,
    /// Told when scenarios start and finish.
    pub progress: Option<Arc<dyn Progress>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            scenarios: Vec::new(),
            jobs: 0,
            max_wait_seconds: None,
            poll_timeout_seconds: scenario::DEFAULT_POLL_TIMEOUT_SECONDS,
            interrupt: Interrupt::new(),
            progress: None,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("scenarios", &self.scenarios)
            .field("jobs", &self.jobs)
            .field("max_wait_seconds", &self.max_wait_seconds)
            .field("poll_timeout_seconds", &self.poll_timeout_seconds)
            .finish_non_exhaustive()
    }
}

/// How a finished scenario went, for progress displays.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioOutcome {
    /// Wall time, seconds.
    pub seconds: f64,
    /// `exit 0`, `exit 1`, `stopped at the deadline`...
    pub end: String,
    /// Requests the mock saw.
    pub requests: usize,
    /// Why it could not run, if it could not.
    pub error: Option<String>,
}

/// Receives progress while a run goes on (called from the runtime's threads).
pub trait Progress: Send + Sync {
    /// A scenario's client is about to start.
    fn scenario_started(&self, scenario: &Scenario);
    /// A scenario is over.
    fn scenario_finished(&self, scenario: &Scenario, outcome: &ScenarioOutcome);
}

/// The scenarios `ids` names, in catalog order (all of them for an empty list).
pub fn select(ids: &[String]) -> Result<Vec<&'static Scenario>, HarnessError> {
    for id in ids {
        if scenario::find(id).is_none() {
            return Err(HarnessError::UnknownScenario { id: id.clone() });
        }
    }
    Ok(scenario::catalog().iter().filter(|s| ids.is_empty() || ids.iter().any(|id| id == s.id)).collect())
}

/// Run the client through the selected scenarios and judge every check.
///
/// Scenarios run in parallel (`jobs` at a time, longest first), each against its own
/// mock. Must be called within a multi-threaded Tokio runtime. Dropping the future
/// stops every client it started.
pub async fn run(client: &ClientCommand, options: &Options) -> Result<Report, HarnessError> {
    let poll = options.poll_timeout_seconds;
    if !(poll.is_finite() && poll > 0.0) {
        return Err(HarnessError::InvalidOption(format!("the poll timeout must be above 0 seconds, not {poll}")));
    }
    if let Some(w) = options.max_wait_seconds
        && !(w.is_finite() && w > 0.0)
    {
        return Err(HarnessError::InvalidOption(format!(
            "--max-wait-seconds must be above 0, not {w}; leave it out for each scenario's own deadline"
        )));
    }
    let mut selected = select(&options.scenarios)?;
    let jobs = match options.jobs {
        0 => std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
        n => n,
    };
    // Longest first, so a run takes about as long as its slowest scenario.
    selected.sort_by(|a, b| b.expected_seconds(poll).total_cmp(&a.expected_seconds(poll)));

    let epoch = Instant::now();
    let settings = Arc::new(execute::Settings { poll_timeout: poll, max_wait: options.max_wait_seconds, epoch });
    // One handle for the caller's interrupt and for stopping everything when the client
    // cannot even start.
    let stop = Interrupt::new();
    let forward = {
        let (outer, stop) = (options.interrupt.clone(), stop.clone());
        tokio::spawn(async move {
            outer.triggered().await;
            stop.trigger(outer.reason().unwrap_or_default());
        })
    };
    let slots = Arc::new(Semaphore::new(jobs));
    let mut tasks = JoinSet::new();
    let mut by_task = std::collections::HashMap::new();
    for scenario in selected.iter().copied() {
        let (client, settings, stop, slots) = (client.clone(), Arc::clone(&settings), stop.clone(), Arc::clone(&slots));
        let progress = options.progress.clone();
        let handle = tasks.spawn(async move {
            let _slot = slots.acquire_owned().await;
            if stop.reason().is_some() {
                return (scenario, None);
            }
            if let Some(p) = &progress {
                p.scenario_started(scenario);
            }
            let result = execute::scenario(scenario, &client, &settings, &stop).await;
            if let (Some(p), Ok(run)) = (&progress, &result) {
                p.scenario_finished(scenario, &outcome_of(run));
            }
            (scenario, Some(result))
        });
        by_task.insert(handle.id(), scenario);
    }
    let mut runs: Vec<ScenarioRun> = Vec::new();
    let mut fatal: Option<HarnessError> = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((_, None)) => {}
            Ok((_, Some(Ok(run)))) => runs.push(run),
            Ok((_, Some(Err(e)))) => {
                stop.trigger("the client could not start");
                fatal.get_or_insert(e);
            }
            Err(join_error) => {
                // A bug in the harness: the scenario's checks say `error`, the rest stand.
                let Some(scenario) = by_task.get(&join_error.id()).copied() else { continue };
                let mut run = ScenarioRun::empty(scenario);
                run.error =
                    Some(format!("the harness failed while running a scenario ({join_error}); please report this"));
                runs.push(run);
            }
        }
    }
    forward.abort();
    if let Some(reason) = options.interrupt.reason() {
        return Err(HarnessError::Interrupted { reason });
    }
    if let Some(e) = fatal {
        return Err(e);
    }
    let order = |id: &str| scenario::catalog().iter().position(|s| s.id == id).unwrap_or(usize::MAX);
    runs.sort_by_key(|r| order(r.id()));

    let checks = judge::judge_all(&runs);
    let mut summary = Report::tally(&checks);
    summary.scenarios = runs.len();
    summary.wall_seconds = epoch.elapsed().as_secs_f64();
    summary.forced_waits = runs
        .iter()
        .filter_map(|r| r.scenario.forced_wait(r.poll_timeout).map(|w| ForcedWaitReport::new(r.id(), &w)))
        .collect();
    Ok(Report {
        version: report::VERSION,
        client: client.display(),
        checks,
        summary,
        scenarios: runs.iter().map(timeline).collect(),
    })
}

fn outcome_of(run: &ScenarioRun) -> ScenarioOutcome {
    let end = match &run.client {
        None => "did not run".to_owned(),
        Some(c) => match (c.stopped, c.code, c.signal) {
            (Some(Stop::Deadline), _, _) => "stopped at its deadline".to_owned(),
            (Some(Stop::Interrupted), _, _) => "interrupted".to_owned(),
            (None, Some(code), _) => format!("exit {code}"),
            (None, None, Some(sig)) => format!("signal {sig}"),
            (None, None, None) => "ended".to_owned(),
        },
    };
    ScenarioOutcome { seconds: run.wall_s, end, requests: run.entries.len(), error: run.error.clone() }
}

/// A scenario's timeline for the report.
fn timeline(run: &ScenarioRun) -> ScenarioReport {
    let mut requests: Vec<TimelineEntry> =
        run.numbered().map(|(n, e)| entry(n, e)).chain(run.callbacks.iter().map(|e| entry(0, e))).collect();
    for (n, previous, wait) in run.retries() {
        // Requests are numbered from 1 in arrival order and callbacks (n = 0) follow them.
        let r = &mut requests[n - 1];
        r.retry_of = Some(previous);
        r.wait = Some(round(wait));
    }
    requests.sort_by(|a, b| a.t.total_cmp(&b.t));
    ScenarioReport {
        id: run.id().to_owned(),
        title: run.scenario.title.to_owned(),
        started: round(run.started_s),
        duration: round(run.wall_s),
        deadline: run.deadline,
        poll_timeout: run.poll_timeout,
        client: run.client.as_ref().map(|c| ClientExit {
            code: c.code,
            signal: c.signal,
            stopped: c.stopped.map(|s| match s {
                Stop::Deadline => "deadline".to_owned(),
                Stop::Interrupted => "interrupted".to_owned(),
            }),
            at: round(c.end_ms / 1000.0),
        }),
        requests,
        stdout_lines: run.stdout.lines.len(),
        stderr_lines: run.stderr.lines.len(),
        output_bytes: run.stdout.bytes + run.stderr.bytes,
        output_truncated: run.stdout.truncated || run.stderr.truncated,
        output_files: run.files.iter().map(|f| f.path.clone()).collect(),
        error: run.error.clone(),
    }
}

fn entry(n: usize, e: &kling_mock::JournalEntry) -> TimelineEntry {
    let kind = match e.kind {
        kling_mock::EntryKind::Api => "api",
        kling_mock::EntryKind::Cdn => "cdn",
        kling_mock::EntryKind::Callback => "callback",
    };
    TimelineEntry {
        n,
        kind: kind.to_owned(),
        t: round(e.t_ms / 1000.0),
        duration: round(e.duration_ms / 1000.0),
        conn: e.conn,
        method: e.method.clone(),
        path: evidence::path(e),
        route: e.route.clone(),
        status: e.status,
        code: e.code,
        completed: e.completed,
        client_gone: e.client_gone_ms.map(|t| round(t / 1000.0)),
        fault: e.fault.as_ref().map(|f| match f.code {
            Some(code) => format!("{} {code}", f.kind),
            None => f.kind.clone(),
        }),
        task_status: e.task_status.clone(),
        retry_of: None,
        wait: None,
    }
}

/// Milliseconds are plenty for a timeline.
fn round(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}
