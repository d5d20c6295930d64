//! Human output in the rustc/ruff style: a header with the rule id, a code frame with
//! a caret under the offending code, and help lines; then a one-line summary.

use std::fmt::Write as _;

use annotate_snippets::{Level, Renderer, Snippet};

use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::scan::Report;
use crate::source::SourceFile;

/// How to render.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextOptions {
    /// ANSI colours.
    pub color: bool,
}

/// Render every diagnostic and the summary line.
pub fn render(report: &Report, options: TextOptions) -> String {
    let renderer = if options.color { Renderer::styled() } else { Renderer::plain() };
    let mut out = String::new();
    for d in &report.diagnostics {
        match report.sources.get(&d.path) {
            Some(source) => out.push_str(&diagnostic(&renderer, d, source)),
            None => {
                let _ = writeln!(
                    out,
                    "{}[{}]: {}\n  --> {}:{}:{}",
                    d.severity.as_str(),
                    d.rule,
                    d.message,
                    d.path.display(),
                    d.start.line,
                    d.start.column
                );
            }
        }
        out.push('\n');
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

fn level(s: Severity) -> Level {
    match s {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info => Level::Info,
    }
}

/// One diagnostic with its code frame.
pub fn diagnostic(renderer: &Renderer, d: &Diagnostic, source: &SourceFile) -> String {
    // Show only the lines the span covers (at most eight), not the whole file.
    let first = source.line_index(d.span.start);
    let last = source.line_index(d.span.end.saturating_sub(1).max(d.span.start)).min(first + 7);
    let window_start = source.line_start(first) as usize;
    let window_end = source.line_span(last).end as usize;
    let text = &source.text[window_start..window_end];
    let start = (d.span.start as usize).saturating_sub(window_start).min(text.len());
    let end = (d.span.end as usize).saturating_sub(window_start).clamp(start, text.len());
    // An empty span still gets a caret.
    let end = if end == start { (start + 1).min(text.len()) } else { end };
    // annotate-snippets shows a tab as four spaces without moving the caret, which
    // would sit under the wrong code in tab-indented Go; expand the tabs here.
    let expand = |at: usize| at + 3 * text[..at].matches('\t').count();
    let tabs_before = text[..start].matches('\t').count();
    let (start, end) = (expand(start), expand(end));
    let expanded = text.replace('\t', "    ");
    let text = expanded.as_str();
    let title = d.message.clone();
    let path = d.path.display().to_string();
    let label = d.label.clone().unwrap_or_default();
    let fix_note = d.fix.as_ref().map(|f| match f.applicability {
        Applicability::Safe => format!("{} (fixable with --fix)", f.message),
        Applicability::Unsafe => format!("{} (a suggestion; not applied automatically)", f.message),
    });
    let mut message = level(d.severity).title(&title).id(d.rule).snippet(
        Snippet::source(text)
            .line_start(first + 1)
            .origin(&path)
            .fold(false)
            .annotation(level(d.severity).span(start..end).label(&label)),
    );
    if let Some(h) = &d.help {
        message = message.footer(Level::Help.title(h));
    }
    if let Some(f) = &fix_note {
        message = message.footer(Level::Help.title(f));
    }
    let mut s = renderer.render(message).to_string();
    // The header takes its column from the expanded text; report the character
    // column instead (a tab is one), as the JSON output and editors count it.
    if tabs_before > 0 {
        let line = d.start.line;
        let shown = format!("{path}:{line}:{}", d.start.column as usize + 3 * tabs_before);
        s = s.replacen(&shown, &format!("{path}:{line}:{}", d.start.column), 1);
    }
    s.push('\n');
    s
}

/// "Found 3 errors and 1 warning in 2 files (18 scanned, 2 with Kling code)."
pub fn summary(report: &Report) -> String {
    let count = |s: Severity| report.diagnostics.iter().filter(|d| d.severity == s).count();
    let (e, w, i) = (count(Severity::Error), count(Severity::Warning), count(Severity::Info));
    let files = report.diagnostics.iter().map(|d| &d.path).collect::<std::collections::HashSet<_>>().len();
    let scanned = format!(
        "{} {} scanned, {} with Kling code",
        report.files_scanned,
        plural(report.files_scanned, "file"),
        report.files_kling
    );
    if e + w + i == 0 {
        return format!("All checks passed ({scanned}).");
    }
    let mut parts = Vec::new();
    for (n, what) in [(e, "error"), (w, "warning"), (i, "info")] {
        if n > 0 {
            parts.push(format!("{n} {}", if what == "info" { what.to_owned() } else { plural(n, what) }));
        }
    }
    let fixable = report
        .diagnostics
        .iter()
        .filter(|d| d.fix.as_ref().is_some_and(|f| f.applicability == Applicability::Safe))
        .count();
    let fix_note = if fixable > 0 { format!("; {fixable} fixable with `--fix`") } else { String::new() };
    format!("Found {} in {files} {} ({scanned}){fix_note}.", join_and(&parts), plural(files, "file"))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { word.to_owned() } else { format!("{word}s") }
}

fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
