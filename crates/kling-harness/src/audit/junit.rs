//! The audit as `JUnit` XML: a test suite per checklist section, a test case per line.
//! Lines that fail the audit (`fail`, `unattested` on a required line) are `<failure>`,
//! lines not exercised `<skipped>`; warnings pass with their evidence in `<system-out>`
//! (`JUnit` has no warning state).

use std::fmt::Write as _;

use super::{AuditReport, Item, Status};
use crate::report::junit::escape;

/// Render the audit as `JUnit` XML.
pub fn render(report: &AuditReport) -> String {
    let count = |items: &[&Item]| {
        let failures = items.iter().filter(|i| i.fails_audit()).count();
        let skipped = items.iter().filter(|i| i.status == Status::NotExercised).count();
        (failures, skipped)
    };
    let all: Vec<&Item> = report.items.iter().collect();
    let (failures, skipped) = count(&all);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"kling-preflight audit\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" \
         skipped=\"{skipped}\">",
        all.len()
    );
    for section in super::checklist::sections() {
        let items: Vec<&Item> = all.iter().copied().filter(|i| i.section == section).collect();
        if items.is_empty() {
            continue;
        }
        let (f, s) = count(&items);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"{s}\">",
            escape(section),
            items.len()
        );
        let classname = format!("kling-preflight.audit.{}", section.replace(' ', "-").to_ascii_lowercase());
        for item in items {
            let name = format!("{}: {}", item.id, item.text);
            let mut body = item.evidence.join("\n");
            for fix in &item.fix {
                body.push_str(&format!("\nfix: {fix}"));
            }
            let _ = write!(out, "    <testcase name=\"{}\" classname=\"{}\"", escape(&name), escape(&classname));
            if item.fails_audit() {
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                    item.status.as_str(),
                    escape(&format!("{} {}", item.id, item.status.as_str())),
                    escape(&body)
                );
            } else if item.status == Status::NotExercised {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"not exercised\"/>\n      <system-out>{}</system-out>\n    </testcase>",
                    escape(&body)
                );
            } else if body.is_empty() {
                out.push_str("/>\n");
            } else {
                let _ = writeln!(
                    out,
                    ">\n      <system-out>{}</system-out>\n    </testcase>",
                    escape(&format!("{}: {body}", item.status.as_str()))
                );
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
    fn one_case_per_line_failures_for_what_fails_the_audit() {
        let report = super::super::sample::audit_report(false);
        let xml = render(&report);
        assert_eq!(xml.matches("<testcase ").count(), 41);
        assert_eq!(xml.matches("<failure ").count(), report.summary.failing.len());
        assert!(xml.contains("<failure type=\"unattested\" message=\"AUTH-4 unattested\">"), "{xml}");
        insta::assert_snapshot!(xml);
    }
}
