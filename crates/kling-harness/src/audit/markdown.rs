//! The audit as a pull-request comment: a headline with the outcome, a table of every
//! checklist line, and the evidence of each line that is not a pass or attested in a
//! collapsed section, so a reviewer sees the verdict first and the proof on demand.

use std::fmt::Write as _;

use super::text::{explained, outcome, sources};
use super::{AuditReport, Status};
use crate::report::markdown::cell;

fn icon(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅",
        Status::Fail => "❌",
        Status::Warn => "⚠️",
        Status::Attested => "📝",
        Status::Unattested => "❓",
        Status::NotExercised => "➖",
    }
}

/// Render the audit as Markdown.
pub fn render(report: &AuditReport) -> String {
    let s = &report.summary;
    let headline = if s.failing.is_empty() {
        "✅ no required checklist line fails".to_owned()
    } else {
        format!("❌ {} of {} checklist lines fail the audit", s.failing.len(), s.lines)
    };
    let mut out = String::new();
    let _ = writeln!(out, "## kling-preflight audit: {headline}\n");
    for line in sources(report) {
        let _ = writeln!(out, "- {}", cell(&line));
    }
    let _ = writeln!(out, "\n{}\n", cell(&outcome(report)));
    out.push_str("| | Line | Checklist | Status |\n|---|---|---|---|\n");
    for item in &report.items {
        let info = if item.info { " (info)" } else { "" };
        let _ = writeln!(
            out,
            "| {} | `{}` | {}{info} | {} |",
            icon(item.status),
            item.id,
            cell(&item.text),
            item.status.as_str()
        );
    }
    let details: Vec<_> = report.items.iter().filter(|i| explained(i)).collect();
    if !details.is_empty() {
        out.push('\n');
    }
    for item in details {
        let _ = writeln!(
            out,
            "<details><summary>{} <code>{}</code> {}: {}</summary>\n",
            icon(item.status),
            item.id,
            cell(&item.text),
            item.status.as_str()
        );
        for line in &item.evidence {
            let _ = writeln!(out, "- {}", cell(line));
        }
        for fix in &item.fix {
            let _ = writeln!(out, "\n**Fix:** {}", cell(fix));
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
        insta::assert_snapshot!(render(&super::super::sample::audit_report(true)));
    }
}
