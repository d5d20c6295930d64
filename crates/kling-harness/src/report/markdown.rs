//! `--format markdown`: a pull-request comment. A headline with the outcome, a table
//! of every check, and the evidence of each check that is not a pass in collapsed
//! sections, so a reviewer sees the verdict first and the proof on demand.

use std::fmt::Write as _;

use super::{Report, Verdict};
use crate::checks::SECTIONS;

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Warn => "⚠️",
        Verdict::NotExercised => "➖",
        Verdict::Manual => "📝",
        Verdict::Error => "💥",
    }
}

/// Text safe in a Markdown table cell and outside code spans (the audit's report too).
pub(crate) fn cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;").replace('\n', " ")
}

/// Render the report as Markdown.
pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let headline = if s.error > 0 {
        format!("💥 the harness could not judge {} check(s)", s.error)
    } else if s.fail > 0 {
        format!("❌ {} of {} checks failed", s.fail, s.checks)
    } else if s.warn > 0 {
        format!("⚠️ passed with {} warning(s)", s.warn)
    } else {
        "✅ every exercised check passed".to_owned()
    };
    let mut out = String::new();
    let _ = writeln!(out, "## kling-preflight check: {headline}\n");
    let _ = writeln!(
        out,
        "`{}` · {} scenarios in {:.1} s · {} passed, {} failed, {}, {} not exercised\n",
        report.client.replace('`', "'"),
        s.scenarios,
        s.wall_seconds,
        s.pass,
        s.fail,
        crate::evidence::plural(s.warn, "warning"),
        s.not_exercised
    );
    out.push_str("| | Check | Section | Verdict |\n|---|---|---|---|\n");
    let ordered = SECTIONS.iter().flat_map(|sec| report.checks.iter().filter(move |c| c.section == *sec));
    for c in ordered.clone() {
        let info = if c.informational { " (info)" } else { "" };
        let _ = writeln!(
            out,
            "| {} | `{}` {}{info} | {} | {} |",
            icon(c.verdict),
            c.id,
            cell(&c.title),
            cell(&c.section),
            c.verdict.as_str()
        );
    }
    let details: Vec<_> = ordered.filter(|c| c.verdict != Verdict::Pass).collect();
    if !details.is_empty() {
        out.push('\n');
    }
    for c in details {
        let _ = writeln!(
            out,
            "<details><summary>{} <code>{}</code>: {}</summary>\n",
            icon(c.verdict),
            c.id,
            cell(&c.title)
        );
        for line in &c.evidence {
            let _ = writeln!(out, "- {}", cell(line));
        }
        if matches!(c.verdict, Verdict::Fail | Verdict::Warn) && !c.fix.is_empty() {
            let _ = writeln!(out, "\n**Fix:** {}", cell(&c.fix));
        }
        out.push_str("\n</details>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&super::super::sample::report()));
    }
}
