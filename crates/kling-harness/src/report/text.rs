//! The terminal report: the checklist's sections in order, one line per check with
//! its verdict, evidence and the fix under every check that is not a plain pass, the
//! scenarios with how each client ended, and a summary line.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::{CheckResult, Report, Verdict};
use crate::checks::SECTIONS;

/// How to render.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// ANSI colours.
    pub color: bool,
}

fn style(v: Verdict) -> Style {
    let color = match v {
        Verdict::Pass => AnsiColor::Green,
        Verdict::Fail | Verdict::Error => AnsiColor::Red,
        Verdict::Warn => AnsiColor::Yellow,
        Verdict::NotExercised => AnsiColor::BrightBlack,
        Verdict::Manual => AnsiColor::Cyan,
    };
    let s = Style::new().fg_color(Some(color.into()));
    if matches!(v, Verdict::Fail | Verdict::Error) { s.bold() } else { s }
}

/// The label column: upper case where attention is needed.
fn label(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
        Verdict::Warn => "warn",
        Verdict::NotExercised => "not exercised",
        Verdict::Manual => "manual",
        Verdict::Error => "ERROR",
    }
}

/// Render the report for a terminal.
pub fn render(report: &Report, options: TextOptions) -> String {
    let paint = |s: Style, text: &str| if options.color { format!("{s}{text}{s:#}") } else { text.to_owned() };
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let mut out = String::new();
    let _ = writeln!(out, "{}", paint(bold, &format!("kling-preflight check: {}", report.client)));
    let id_width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(20);
    let mut sections: Vec<&str> = SECTIONS.to_vec();
    for c in &report.checks {
        if !sections.contains(&c.section.as_str()) {
            sections.push(&c.section);
        }
    }
    for section in sections {
        let checks: Vec<&CheckResult> = report.checks.iter().filter(|c| c.section == section).collect();
        if checks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", paint(bold, section));
        for c in checks {
            let info = if c.informational { " (info)" } else { "" };
            let _ = writeln!(
                out,
                "  {}  {:<id_width$}  {}{info}",
                paint(style(c.verdict), &format!("{:<13}", label(c.verdict))),
                c.id,
                c.title
            );
            if c.verdict != Verdict::Pass {
                for line in &c.evidence {
                    let _ = writeln!(out, "      {}", paint(dim, &format!("· {line}")));
                }
                if matches!(c.verdict, Verdict::Fail | Verdict::Warn) && !c.fix.is_empty() {
                    let _ = writeln!(out, "      fix: {}", c.fix);
                }
            }
        }
    }
    if !report.scenarios.is_empty() {
        let _ = writeln!(out, "\n{}", paint(bold, "Scenarios"));
        for s in &report.scenarios {
            let end = match (&s.error, &s.client) {
                (Some(e), _) => format!("could not run: {e}"),
                (None, Some(c)) => match (&c.stopped, c.code, c.signal) {
                    (Some(why), _, _) => format!("client stopped by the harness ({why}) at {:.2} s", c.at),
                    (None, Some(code), _) => format!("client exited {code} at {:.2} s", c.at),
                    (None, None, Some(sig)) => format!("client killed by signal {sig} at {:.2} s", c.at),
                    (None, None, None) => format!("client ended at {:.2} s", c.at),
                },
                (None, None) => "client did not run".to_owned(),
            };
            let requests = s.requests.iter().filter(|r| r.kind != "callback").count();
            let _ = writeln!(
                out,
                "  {:<22} {:>6.1} s  {:>13}  {end}",
                s.id,
                s.duration,
                crate::evidence::plural(requests, "request")
            );
        }
    }
    let sum = &report.summary;
    let mut parts = vec![
        paint(style(Verdict::Pass), &format!("{} passed", sum.pass)),
        paint(if sum.fail > 0 { style(Verdict::Fail) } else { Style::new() }, &format!("{} failed", sum.fail)),
        paint(
            if sum.warn > 0 { style(Verdict::Warn) } else { Style::new() },
            &crate::evidence::plural(sum.warn, "warning"),
        ),
        format!("{} not exercised", sum.not_exercised),
    ];
    if sum.manual > 0 {
        parts.push(format!("{} manual", sum.manual));
    }
    if sum.error > 0 {
        parts.push(paint(style(Verdict::Error), &crate::evidence::plural(sum.error, "harness error")));
    }
    let waits: Vec<String> = sum.forced_waits.iter().map(|w| format!("{} {:.0} s", w.scenario, w.seconds)).collect();
    let waits = if waits.is_empty() { String::new() } else { format!("; forced waits: {}", waits.join(", ")) };
    let _ = writeln!(
        out,
        "\n{} checks: {} — {} in {:.1} s{waits}",
        sum.checks,
        parts.join(", "),
        crate::evidence::plural(sum.scenarios, "scenario"),
        sum.wall_seconds
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&super::super::sample::report(), TextOptions { color: false }));
    }

    #[test]
    fn colour_only_when_asked() {
        let plain = render(&super::super::sample::report(), TextOptions { color: false });
        assert!(!plain.contains('\x1b'));
        let coloured = render(&super::super::sample::report(), TextOptions { color: true });
        assert!(coloured.contains("\x1b["));
    }
}
