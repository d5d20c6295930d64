//! `kling-preflight lint`.

use std::io::{IsTerminal as _, Write as _};

use kling_lint::render::{json, text};
use kling_lint::{LintOptions, Severity, lint};

use crate::args::{FailOn, LintArgs, LintFormat};
use crate::exit::Exit;

pub(crate) fn run(args: &LintArgs) -> anyhow::Result<Exit> {
    let options = LintOptions { select: args.select.clone(), ignore: args.ignore.clone(), jobs: args.jobs.unwrap_or(0), ..LintOptions::default() };
    let report = lint(&args.paths, &options)?;
    let color = args.output.is_none() && super::use_color(args.no_color, std::io::stdout().is_terminal());
    let rendered = match args.format {
        LintFormat::Text => text::render(&report, text::TextOptions { color }),
        LintFormat::Json => {
            let ids: Vec<&str> = kling_lint::rules::all().iter().map(|r| r.meta.id.as_str()).filter(|id| selected(id, &options)).collect();
            json::render(&report, &ids)
        }
        other => anyhow::bail!("--format {other:?} is not available yet"),
    };
    super::write_output(args.output.as_deref(), &rendered)?;
    for e in &report.io_errors {
        eprintln!("kling-preflight: warning: could not read {e}");
    }
    if !report.io_errors.is_empty() {
        let _ = std::io::stderr().flush();
        anyhow::bail!("{} path(s) could not be read; fix their permissions or exclude them", report.io_errors.len());
    }
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    let failed = report.diagnostics.iter().any(|d| d.severity >= threshold);
    Ok(if failed && !args.exit_zero { Exit::Failed } else { Exit::Clean })
}

fn selected(id: &str, o: &LintOptions) -> bool {
    let m = |p: &String| id.starts_with(&p.to_ascii_uppercase());
    (o.select.is_empty() || o.select.iter().any(m)) && !o.ignore.iter().any(m)
}
