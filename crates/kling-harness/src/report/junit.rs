//! `--format junit`: one test case per check, one test suite per checklist section.
//! Failures are `<failure>`, harness errors `<error>`, checks not exercised `<skipped>`;
//! warnings pass with their evidence in `<system-out>` (`JUnit` has no warning state).

use std::fmt::Write as _;

use super::{CheckResult, Report, Verdict};
use crate::checks::SECTIONS;

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn counts(checks: &[&CheckResult]) -> (usize, usize, usize) {
    let n = |v: Verdict| checks.iter().filter(|c| c.verdict == v).count();
    (n(Verdict::Fail), n(Verdict::Error), n(Verdict::NotExercised) + n(Verdict::Manual))
}

/// Render the report as `JUnit` XML.
pub fn render(report: &Report) -> String {
    let all: Vec<&CheckResult> = report.checks.iter().collect();
    let (failures, errors, skipped) = counts(&all);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"kling-preflight check\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" \
         skipped=\"{skipped}\" time=\"{:.3}\">",
        all.len(),
        report.summary.wall_seconds
    );
    for section in SECTIONS {
        let checks: Vec<&CheckResult> = all.iter().copied().filter(|c| c.section == *section).collect();
        if checks.is_empty() {
            continue;
        }
        let (f, e, s) = counts(&checks);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\" skipped=\"{s}\">",
            escape(section),
            checks.len()
        );
        for c in checks {
            let name = format!("{}: {}", c.id, c.title);
            let classname = format!("kling-preflight.check.{}", section.replace(' ', "-").to_ascii_lowercase());
            let body = c.evidence.join("\n");
            let _ = write!(out, "    <testcase name=\"{}\" classname=\"{}\"", escape(&name), escape(&classname));
            match c.verdict {
                Verdict::Pass if body.is_empty() => out.push_str("/>\n"),
                Verdict::Pass => {
                    let _ = writeln!(out, ">\n      <system-out>{}</system-out>\n    </testcase>", escape(&body));
                }
                Verdict::Warn => {
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>{}</system-out>\n    </testcase>",
                        escape(&format!("warning: {body}\nfix: {}", c.fix))
                    );
                }
                Verdict::Fail => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure type=\"fail\" message=\"{}\">{}</failure>\n    </testcase>",
                        escape(&c.title),
                        escape(&format!("{body}\nfix: {}", c.fix))
                    );
                }
                Verdict::Error => {
                    let _ = writeln!(
                        out,
                        ">\n      <error type=\"harness-error\" message=\"the harness could not judge this check\">{}</error>\n    </testcase>",
                        escape(&body)
                    );
                }
                Verdict::NotExercised | Verdict::Manual => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}: {}\"/>\n    </testcase>",
                        c.verdict.as_str(),
                        escape(c.evidence.first().map_or("", String::as_str))
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
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
