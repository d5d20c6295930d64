//! `kling-preflight check`: run a client program through the harness's scenarios and
//! report every check. Progress goes to stderr on a terminal; SIGINT and SIGTERM stop
//! every client process group before the command exits.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use kling_harness::report::{html, json, junit, markdown, text};
use kling_harness::{ClientCommand, HarnessError, Interrupt, Options, Progress, Report, Scenario, ScenarioOutcome};

use crate::args::{CheckArgs, ReportFormat};
use crate::exit::Exit;

pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<Exit> {
    if args.list {
        super::write_output(args.output.as_deref(), &list())?;
        return Ok(Exit::Clean);
    }
    let harness = HarnessRun::new(&args.client, &args.scenarios, args.jobs, args.max_wait_seconds)?;
    let report = harness.run()?;
    let color = args.format == ReportFormat::Text
        && args.output.is_none()
        && super::use_color(args.no_color, std::io::stdout().is_terminal());
    let rendered = match args.format {
        ReportFormat::Text => text::render(&report, text::TextOptions { color }),
        ReportFormat::Json => json::render(&report),
        ReportFormat::Junit => junit::render(&report),
        ReportFormat::Markdown => markdown::render(&report),
        ReportFormat::Html => html::render(&report),
    };
    super::write_output(args.output.as_deref(), &rendered)?;
    match report.exit_code() {
        0 => Ok(Exit::Clean),
        1 => Ok(Exit::Failed),
        _ => anyhow::bail!(
            "{} check(s) could not be judged because the harness itself failed; the report's evidence says where",
            report.summary.error
        ),
    }
}

/// A harness run whose client command, scenarios and jobs were checked before anything
/// started (so `audit` can check them before it lints).
pub(crate) struct HarnessRun {
    client: ClientCommand,
    options: Options,
    scenarios: usize,
}

impl HarnessRun {
    pub(crate) fn new(
        client: &[String],
        scenarios: &[String],
        jobs: Option<usize>,
        max_wait_seconds: Option<f64>,
    ) -> anyhow::Result<HarnessRun> {
        let client = ClientCommand::new(client)?;
        if jobs == Some(0) {
            anyhow::bail!(
                "--jobs must be at least 1 (leave it out to run as many scenarios at once as there are cores)"
            );
        }
        // Check the scenario ids before starting anything.
        let selected = kling_harness::select(scenarios)?;
        let options =
            Options { scenarios: scenarios.to_vec(), jobs: jobs.unwrap_or(0), max_wait_seconds, ..Options::default() };
        Ok(HarnessRun { client, options, scenarios: selected.len() })
    }

    /// Run every scenario, with a status line on a terminal; SIGINT and SIGTERM stop every
    /// client before this returns.
    pub(crate) fn run(self) -> anyhow::Result<Report> {
        let HarnessRun { client, mut options, scenarios } = self;
        let interrupt = Interrupt::new();
        let terminal = std::io::stderr().is_terminal().then(|| Arc::new(TerminalProgress::new(scenarios)));
        options.interrupt = interrupt.clone();
        options.progress = terminal.clone().map(|t| t as Arc<dyn Progress>);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("kling-check")
            .build()
            .context("cannot start the async runtime")?;
        let result = runtime.block_on(async {
            let signals = tokio::spawn(forward_signals(interrupt.clone()));
            let ticker = tokio::spawn(redraw(terminal.clone()));
            let result = kling_harness::run(&client, &options).await;
            signals.abort();
            ticker.abort();
            result
        });
        if let Some(t) = &terminal {
            t.clear();
        }
        // Whatever path got here, no client outlives the command.
        kling_harness::stop_all_clients();
        match result {
            Ok(report) => Ok(report),
            Err(HarnessError::Interrupted { reason }) => {
                anyhow::bail!("interrupted by {reason}: every client process and its children were stopped; no report")
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The catalogs, for `--list`.
fn list() -> String {
    use std::fmt::Write as _;
    let poll = kling_harness::scenario::DEFAULT_POLL_TIMEOUT_SECONDS;
    let mut out = String::from("Scenarios (each against its own mock; `--scenario ID` picks some):\n");
    for s in kling_harness::scenario::catalog() {
        let _ = writeln!(
            out,
            "  {:<22} {}\n  {:<22}   mock: {}\n  {:<22}   proves: {} (about {:.0} s for a correct client, stopped after {:.0} s)",
            s.id,
            s.title,
            "",
            s.setup,
            "",
            s.exercises,
            s.expected_seconds(poll),
            s.default_deadline(s.poll_timeout(poll))
        );
    }
    out.push_str("\nChecks (by checklist section):\n");
    for section in kling_harness::checks::SECTIONS {
        let checks: Vec<_> = kling_harness::checks::all().iter().filter(|c| c.section == *section).collect();
        if checks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {section}");
        for c in checks {
            let info = if c.informational { " (info)" } else { "" };
            let _ = writeln!(out, "    {:<34} {}{info}  [{}]", c.id, c.title, c.scenarios.join(", "));
        }
    }
    out
}

/// SIGINT/SIGTERM: stop the run (clients get SIGTERM, then SIGKILL). A second signal
/// kills every client group at once and exits.
#[cfg(unix)]
async fn forward_signals(interrupt: Interrupt) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return;
    };
    let name = tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    };
    interrupt.trigger(name);
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    kling_harness::stop_all_clients();
    eprintln!("kling-preflight: error: interrupted twice; every client was killed");
    std::process::exit(2);
}

#[cfg(not(unix))]
async fn forward_signals(interrupt: Interrupt) {
    if tokio::signal::ctrl_c().await.is_ok() {
        interrupt.trigger("Ctrl-C");
    }
}

/// A one-line status on stderr: scenarios done, and the ones running with their time.
struct TerminalProgress {
    total: usize,
    state: Mutex<ProgressState>,
}

#[derive(Default)]
struct ProgressState {
    done: usize,
    running: BTreeMap<&'static str, Instant>,
    shown: bool,
    last: String,
}

impl TerminalProgress {
    fn new(total: usize) -> Self {
        TerminalProgress { total, state: Mutex::new(ProgressState::default()) }
    }

    fn draw(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let running: Vec<String> =
            state.running.iter().map(|(id, t)| format!("{id} {:.0}s", t.elapsed().as_secs_f64())).collect();
        let mut line = format!("check: {}/{} scenarios done", state.done, self.total);
        if !running.is_empty() {
            line.push_str(&format!(" · running {}", running.join(", ")));
        }
        let width = 118;
        if line.chars().count() > width {
            line = line.chars().take(width - 1).collect::<String>() + "…";
        }
        if state.last != line {
            eprint!("\r\x1b[2K{line}");
            state.shown = true;
            state.last = line;
        }
    }
}

impl Progress for TerminalProgress {
    fn scenario_started(&self, scenario: &Scenario) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).running.insert(scenario.id, Instant::now());
    }

    fn scenario_finished(&self, scenario: &Scenario, _outcome: &ScenarioOutcome) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.running.remove(scenario.id);
        state.done += 1;
    }
}

/// Redraw the status line a few times a second.
async fn redraw(progress: Option<Arc<TerminalProgress>>) {
    let Some(progress) = progress else { return };
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tick.tick().await;
        progress.draw();
    }
}

impl TerminalProgress {
    /// Erase the status line, if one was drawn, so the report starts on a clean line.
    fn clear(&self) {
        if self.state.lock().unwrap_or_else(PoisonError::into_inner).shown {
            eprint!("\r\x1b[2K");
        }
    }
}
