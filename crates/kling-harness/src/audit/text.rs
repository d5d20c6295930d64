//! The audit for a terminal: every checklist line under its section with its status, the
//! evidence and the fix under each line that is not a plain pass or attested, and a
//! summary that names the lines failing the audit.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::{AuditReport, Item, Status};

/// How to render.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// ANSI colours.
    pub color: bool,
}

fn style(s: Status) -> Style {
    let color = match s {
        Status::Pass => AnsiColor::Green,
        Status::Attested => AnsiColor::Cyan,
        Status::Fail | Status::Unattested => AnsiColor::Red,
        Status::Warn => AnsiColor::Yellow,
        Status::NotExercised => AnsiColor::BrightBlack,
    };
    let st = Style::new().fg_color(Some(color.into()));
    if s.fails() { st.bold() } else { st }
}

/// The label column: upper case where the audit fails.
fn label(item: &Item) -> &'static str {
    match item.status {
        Status::Pass => "pass",
        Status::Fail => "FAIL",
        Status::Warn => "warn",
        Status::Attested => "attested",
        Status::Unattested => "UNATTESTED",
        Status::NotExercised => "not exercised",
    }
}

/// What was judged, for the first lines of every rendering.
pub(crate) fn sources(report: &AuditReport) -> Vec<String> {
    let lint = &report.summary.lint;
    let mut out = vec![format!(
        "lint: {} ({} read, {} with Kling code, {})",
        report.path,
        crate::evidence::plural(lint.files_scanned, "file"),
        lint.files_kling,
        crate::evidence::plural(lint.findings, "finding")
    )];
    out.push(match (&report.client, &report.summary.harness) {
        (Some(client), Some(h)) => format!(
            "harness: {client} ({} in {:.1} s)",
            crate::evidence::plural(h.scenarios, "scenario"),
            h.wall_seconds
        ),
        _ => "harness: not run (no client command after `--`)".to_owned(),
    });
    out.push(match &report.attestations {
        Some(file) => format!("attestations: {file} (judged on {}; they hold 90 days)", report.today),
        None => "attestations: none (--attest FILE)".to_owned(),
    });
    out
}

/// The one-line outcome: counts, then which required lines fail.
pub(crate) fn outcome(report: &AuditReport) -> String {
    let s = &report.summary;
    let mut parts = vec![format!("{} passed", s.pass), format!("{} failed", s.fail)];
    parts.push(crate::evidence::plural(s.warn, "warning"));
    parts.push(format!("{} attested", s.attested));
    parts.push(format!("{} unattested", s.unattested));
    parts.push(format!("{} not exercised", s.not_exercised));
    let verdict = if s.failing.is_empty() {
        "no required line fails".to_owned()
    } else {
        format!(
            "{} fail the audit: {}",
            crate::evidence::plural(s.failing.len(), "required line"),
            s.failing.join(", ")
        )
    };
    format!("{} checklist lines: {} — {verdict}", s.lines, parts.join(", "))
}

/// Whether the line's evidence is shown: everything but a plain pass or a valid
/// attestation, whose proof the JSON and HTML reports keep.
pub(crate) fn explained(item: &Item) -> bool {
    !matches!(item.status, Status::Pass | Status::Attested)
}

/// Render the audit for a terminal.
pub fn render(report: &AuditReport, options: TextOptions) -> String {
    let paint = |s: Style, text: &str| if options.color { format!("{s}{text}{s:#}") } else { text.to_owned() };
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let mut out = String::new();
    let _ = writeln!(out, "{}", paint(bold, "kling-preflight audit: the production checklist"));
    for line in sources(report) {
        let _ = writeln!(out, "  {}", paint(dim, &line));
    }
    let id_width = report.items.iter().map(|i| i.id.len()).max().unwrap_or(8);
    for section in super::checklist::sections() {
        let items: Vec<&Item> = report.items.iter().filter(|i| i.section == section).collect();
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", paint(bold, section));
        for item in items {
            let info = if item.info { " (info)" } else { "" };
            let _ = writeln!(
                out,
                "  {}  {:<id_width$}  {}{info}",
                paint(style(item.status), &format!("{:<13}", label(item))),
                item.id,
                item.text
            );
            if explained(item) {
                for line in &item.evidence {
                    let _ = writeln!(out, "      {}", paint(dim, &format!("· {line}")));
                }
                for fix in &item.fix {
                    let _ = writeln!(out, "      fix: {fix}");
                }
            }
        }
    }
    let lint = &report.summary.lint;
    if !lint.outside_checklist.is_empty() {
        let _ = writeln!(out, "\n{}", paint(bold, "Other lint findings"));
        for line in &lint.outside_checklist {
            let _ = writeln!(out, "      {}", paint(dim, &format!("· {line}")));
        }
    }
    let outcome = outcome(report);
    let _ = writeln!(out, "\n{}", if report.summary.failing.is_empty() { outcome } else { paint(bold, &outcome) });
    if report.client.is_none() && report.items.iter().any(|i| i.status == Status::NotExercised) {
        let _ = writeln!(
            out,
            "{}",
            paint(
                dim,
                &format!(
                    "Lines the harness enforces are not exercised without a client: `kling-preflight audit {} -- \
                     python3 my_client.py` runs it too.",
                    report.path
                )
            )
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_without_and_with_a_harness() {
        insta::assert_snapshot!(
            "lint_only",
            render(&super::super::sample::audit_report(false), TextOptions::default())
        );
        insta::assert_snapshot!(
            "with_harness",
            render(&super::super::sample::audit_report(true), TextOptions::default())
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let report = super::super::sample::audit_report(false);
        assert!(!render(&report, TextOptions { color: false }).contains('\x1b'));
        assert!(render(&report, TextOptions { color: true }).contains("\x1b["));
    }
}
