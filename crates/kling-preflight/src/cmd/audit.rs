//! `kling-preflight audit`: the whole production checklist in one report. It lints PATH
//! (every rule, with the configuration `lint` would find), runs the harness when a client
//! command follows `--`, reads the attestations, and hands all three to
//! `kling_harness::audit`, which judges each checklist line.
//!
//! Everything that can be wrong with the inputs (the attestations file, the client
//! command, the scenario ids, the configuration) is checked before the scan and the
//! harness start, so a typo costs seconds, not a harness run.

use std::io::IsTerminal as _;
use std::path::Path;

use anyhow::Context as _;
use kling_harness::audit::{self, Attestations, Date, Inputs, LintFinding, LintResults, LintSeverity};
use kling_lint::{Severity, config, lint};

use super::check::HarnessRun;
use super::lint::{configured, selected, with_progress};
use crate::args::{AuditArgs, ReportFormat};
use crate::exit::Exit;

pub(crate) fn run(args: &AuditArgs) -> anyhow::Result<Exit> {
    let today = Date::today();
    let attestations = match &args.attest {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the attestations file {}", path.display()))?;
            Attestations::parse(&path.display().to_string(), &text, today)?
        }
        None => Attestations::none(),
    };
    let harness = if args.client.is_empty() {
        if !args.scenarios.is_empty() || args.max_wait_seconds.is_some() {
            anyhow::bail!(
                "--scenario and --max-wait-seconds need a client command after `--`, e.g. `kling-preflight audit {} \
                 --scenario happy -- python3 my_client.py`",
                args.path.display()
            );
        }
        None
    } else {
        Some(HarnessRun::new(&args.client, &args.scenarios, args.jobs, args.max_wait_seconds)?)
    };
    if args.jobs == Some(0) {
        anyhow::bail!("--jobs must be at least 1 (leave it out to use as many threads as there are cores)");
    }

    let lint = lint_results(args)?;
    let report = harness.map(HarnessRun::run).transpose()?;
    let audited = audit::audit(&Inputs { lint: &lint, harness: report.as_ref(), attestations: &attestations, today });

    let color = args.format == ReportFormat::Text
        && args.output.is_none()
        && super::use_color(args.no_color, std::io::stdout().is_terminal());
    let rendered = match args.format {
        ReportFormat::Text => audit::text::render(&audited, audit::text::TextOptions { color }),
        ReportFormat::Json => audited.to_json(),
        ReportFormat::Junit => audit::junit::render(&audited),
        ReportFormat::Markdown => audit::markdown::render(&audited),
        ReportFormat::Html => audit::html::render(&audited),
    };
    super::write_output(args.output.as_deref(), &rendered)?;
    match audited.exit_code() {
        0 => Ok(Exit::Clean),
        1 => Ok(Exit::Failed),
        _ => anyhow::bail!(
            "{} check(s) could not be judged because the harness itself failed; the report's evidence says where",
            audited.summary.harness.as_ref().map_or(0, |h| h.error)
        ),
    }
}

/// Lint PATH with every rule the configuration enables, as plain data for the audit.
fn lint_results(args: &AuditArgs) -> anyhow::Result<LintResults> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let config = match &args.config {
        Some(path) => Some(config::load(path)?),
        None => config::discover(&args.path)?,
    };
    let mut options = configured(config.as_ref(), &cwd, args.jobs);
    let report = with_progress(&mut options, |o| lint(std::slice::from_ref(&args.path), o))?;
    for e in &report.io_errors {
        eprintln!("kling-preflight: warning: could not read {e}");
    }
    if !report.io_errors.is_empty() {
        anyhow::bail!(
            "{} path(s) could not be read, so the audit would judge code it did not see; fix their permissions or \
             exclude them",
            report.io_errors.len()
        );
    }
    let rules: Vec<&kling_lint::rules::Rule> =
        kling_lint::rules::all().iter().filter(|r| selected(&r.meta.id, &options)).collect();
    Ok(LintResults {
        path: display(&args.path),
        files_scanned: report.files_scanned,
        files_kling: report.files_kling,
        rules: rules.iter().map(|r| r.meta.id.clone()).collect(),
        fixes: rules.iter().map(|r| (r.meta.id.clone(), r.meta.fix.clone())).collect(),
        findings: report
            .diagnostics
            .iter()
            .map(|d| LintFinding {
                rule: d.rule.to_owned(),
                severity: match d.severity {
                    Severity::Error => LintSeverity::Error,
                    Severity::Warning => LintSeverity::Warning,
                    Severity::Info => LintSeverity::Info,
                },
                path: display(&d.path),
                line: d.start.line as usize,
                message: d.message.clone(),
            })
            .collect(),
    })
}

/// A path as the user would type it, with forward slashes on every platform.
fn display(path: &Path) -> String {
    path.display().to_string().replace('\\', "/")
}
