//! `kling-preflight lint`: configuration, the scan, fixes, baselines and reports.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::Context as _;
use kling_lint::baseline::Baseline;
use kling_lint::config::{self, Config};
use kling_lint::render::{github, json, junit, sarif, text};
use kling_lint::{LintOptions, Severity, fix, lint};

use crate::args::{FailOn, LintArgs, LintFormat};
use crate::exit::Exit;

/// How many times `--fix` re-lints and fixes again (a fix can unlock another that
/// overlapped it).
const FIX_PASSES: usize = 8;

pub(crate) fn run(args: &LintArgs) -> anyhow::Result<Exit> {
    for id in args.select.iter().chain(&args.ignore) {
        if !config::is_rule_selector(id) {
            anyhow::bail!("`{id}` matches no rule; `kling-preflight rules` lists the rule ids");
        }
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let config = match &args.config {
        Some(path) => Some(config::load(path)?),
        None => config::discover(args.paths.first().map_or(Path::new("."), PathBuf::as_path))?,
    };
    let mut options = options(args, config.as_ref(), &cwd);
    let mut report = with_progress(&mut options, |o| lint(&args.paths, o))?;

    if args.diff {
        let patches = fix::plan(&report);
        super::write_output(args.output.as_deref(), &fix::unified_diff(&patches))?;
        let n: usize = patches.iter().map(|p| p.fixes).sum();
        if n > 0 {
            eprintln!("{n} fixable finding(s) in {} file(s); apply with --fix", patches.len());
        }
        return Ok(if n > 0 && !args.exit_zero { Exit::Failed } else { Exit::Clean });
    }
    if args.fix {
        let (mut fixed, mut files) = (0, std::collections::BTreeSet::new());
        for _ in 0..FIX_PASSES {
            let patches = fix::plan(&report);
            if patches.is_empty() {
                break;
            }
            fix::apply(&patches, &cwd).context("could not write a fixed file; nothing else was changed")?;
            fixed += patches.iter().map(|p| p.fixes).sum::<usize>();
            files.extend(patches.into_iter().map(|p| p.path));
            report = lint(&args.paths, &options)?;
        }
        if fixed > 0 {
            eprintln!("Fixed {fixed} finding(s) in {} file(s).", files.len());
        }
    }
    if let Some(path) = &args.write_baseline {
        let baseline = Baseline::from_report(&report);
        super::write_output(Some(path), &baseline.to_json())?;
        eprintln!("Wrote {} finding(s) to the baseline {}.", baseline.findings.len(), path.display());
        return Ok(Exit::Clean);
    }
    if let Some(path) = &args.baseline {
        let stale = Baseline::load(path)?.apply(&mut report);
        report_stale(&stale, path);
    }

    let enabled: Vec<&kling_lint::rules::Rule> =
        kling_lint::rules::all().iter().filter(|r| selected(&r.meta.id, &options)).collect();
    let color = args.output.is_none() && super::use_color(args.no_color, std::io::stdout().is_terminal());
    let rendered = match args.format {
        LintFormat::Text => text::render(&report, text::TextOptions { color }),
        LintFormat::Json => json::render(&report, &enabled.iter().map(|r| r.meta.id.as_str()).collect::<Vec<_>>()),
        LintFormat::Sarif => sarif::render(&report, &enabled, &cwd),
        LintFormat::Github => github::render(&report),
        LintFormat::Junit => junit::render(&report),
    };
    super::write_output(args.output.as_deref(), &rendered)?;
    for e in &report.io_errors {
        eprintln!("kling-preflight: warning: could not read {e}");
    }
    if !report.io_errors.is_empty() {
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

/// The scan's options: the configuration file, then the command line on top
/// (`--select` replaces the configured selection, `--ignore` adds to it).
fn options(args: &LintArgs, config: Option<&Config>, cwd: &Path) -> LintOptions {
    let mut o = configured(config, cwd, args.jobs);
    if !args.select.is_empty() {
        o.select.clone_from(&args.select);
    }
    o.ignore.extend(args.ignore.iter().cloned());
    o
}

/// The scan's options from a configuration file (`audit` lints with these as they are).
pub(crate) fn configured(config: Option<&Config>, cwd: &Path, jobs: Option<usize>) -> LintOptions {
    let mut o = LintOptions { jobs: jobs.unwrap_or(0), cwd: cwd.to_path_buf(), ..LintOptions::default() };
    if let Some(c) = config {
        o.select.clone_from(&c.select);
        o.ignore.clone_from(&c.ignore);
        o.exclude.clone_from(&c.exclude);
        o.per_file_ignores.clone_from(&c.per_file_ignores);
        o.severity = c.severity.iter().cloned().collect();
        o.settings = c.settings.clone();
        o.context.extra_base_urls.clone_from(&c.extra_base_urls);
        o.glob_root = Some(c.root.clone());
    }
    o
}

/// Run the scan, showing a file count on a terminal when it takes a while.
pub(crate) fn with_progress<T>(options: &mut LintOptions, scan: impl FnOnce(&LintOptions) -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return scan(options);
    }
    let counter = Arc::new(AtomicUsize::new(0));
    options.progress = Some(counter.clone());
    let done = Arc::new(AtomicBool::new(false));
    let ticker = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut shown = false;
            for tick in 0u32.. {
                std::thread::sleep(std::time::Duration::from_millis(100));
                if done.load(Ordering::Relaxed) {
                    break;
                }
                // Quiet for short scans; from half a second on, a running count.
                if tick >= 5 {
                    eprint!("\r\x1b[2KScanning… {} files", counter.load(Ordering::Relaxed));
                    shown = true;
                }
            }
            if shown {
                eprint!("\r\x1b[2K");
            }
        })
    };
    let out = scan(options);
    done.store(true, Ordering::Relaxed);
    let _ = ticker.join();
    options.progress = None;
    out
}

fn report_stale(stale: &[kling_lint::baseline::Entry], path: &Path) {
    if stale.is_empty() {
        return;
    }
    eprintln!(
        "note: {} entr{} of {} matched no finding (fixed, or the code changed); refresh it with --write-baseline:",
        stale.len(),
        if stale.len() == 1 { "y" } else { "ies" },
        path.display()
    );
    for e in stale.iter().take(10) {
        eprintln!("  {} {}:{} {}", e.rule, e.path, e.line, e.message);
    }
    if stale.len() > 10 {
        eprintln!("  … and {} more", stale.len() - 10);
    }
}

/// Whether the options run rule `id`.
pub(crate) fn selected(id: &str, o: &LintOptions) -> bool {
    let m = |p: &String| id.starts_with(&p.to_ascii_uppercase()) || p.eq_ignore_ascii_case("ALL");
    (o.select.is_empty() || o.select.iter().any(m)) && !o.ignore.iter().any(m)
}
