//! The audit as one self-contained HTML page: a summary header, every checklist line
//! with its status badge under its section (evidence open where the line needs
//! attention, folded where it passed), then the harness's request timelines when a
//! client ran. Built from the check report's pieces ([`crate::report::html`]).

use std::fmt::Write as _;

use super::text::{explained, outcome, sources};
use super::{AuditReport, Item, Status};
use crate::report::html::{badge, chips, escape, evidence, page, timelines};

fn status_badge(s: Status) -> String {
    let class = match s {
        Status::Pass => "b-pass",
        Status::Fail => "b-fail",
        Status::Warn => "b-warn",
        Status::Attested => "b-att",
        Status::Unattested => "b-unatt",
        Status::NotExercised => "b-ne",
    };
    badge(class, &s.as_str().replace('-', " "))
}

/// Render the audit as a page.
pub fn render(report: &AuditReport) -> String {
    let s = &report.summary;
    let (verdict, class) = if s.failing.is_empty() {
        ("no required checklist line fails".to_owned(), "good")
    } else {
        (format!("{} of {} checklist lines fail the audit", s.failing.len(), s.lines), "bad")
    };
    let mut body = format!(
        "<header><h1>kling-preflight audit: <span class=\"verdict\">{}</span></h1><ul class=\"sources\">",
        escape(&verdict)
    );
    for line in sources(report) {
        let _ = write!(body, "<li>{}</li>", escape(&line));
    }
    body.push_str("</ul>");
    body.push_str(&chips(&[
        ("pass", s.pass, "b-pass"),
        ("fail", s.fail, "b-fail"),
        ("warn", s.warn, "b-warn"),
        ("attested", s.attested, "b-att"),
        ("unattested", s.unattested, "b-unatt"),
        ("not exercised", s.not_exercised, "b-ne"),
    ]));
    let _ = write!(body, "<p class=\"outcome {class}\">{}</p></header><main>", escape(&outcome(report)));
    body.push_str("<section><h2>The production checklist</h2>");
    for section in super::checklist::sections() {
        let items: Vec<&Item> = report.items.iter().filter(|i| i.section == section).collect();
        if items.is_empty() {
            continue;
        }
        let _ = write!(body, "<h3>{}</h3><table class=\"items\">", escape(section));
        for item in items {
            let info = if item.info { "<span class=\"info-tag\">(advisory)</span>" } else { "" };
            let by = if item.enforced_by.is_empty() {
                "needs a person's attestation".to_owned()
            } else {
                let mut by = format!("enforced by {}", item.enforced_by.join(", "));
                if item.attest.is_some() {
                    by.push_str(" and an attestation");
                }
                by
            };
            let _ = write!(
                body,
                "<tr><td class=\"badge-cell\">{}</td><td class=\"id\"><code>{}</code></td><td>{}{info}<div \
                 class=\"by\">{}</div>{}</td></tr>",
                status_badge(item.status),
                escape(&item.id),
                escape(&item.text),
                escape(&by),
                evidence(&item.evidence, &item.fix, explained(item))
            );
        }
        body.push_str("</table>");
    }
    if !s.lint.outside_checklist.is_empty() {
        body.push_str("<h3>Other lint findings</h3>");
        body.push_str(&evidence(&s.lint.outside_checklist, &[], true));
    }
    body.push_str("</section>");
    body.push_str(&timelines(&report.scenarios));
    body.push_str("</main>");
    page(&format!("kling-preflight audit: {verdict}"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_with_a_badge_and_the_timelines_when_the_harness_ran() {
        let html = render(&super::super::sample::audit_report(true));
        assert_eq!(html.matches("<tr>").count(), 41);
        assert!(html.contains("<span class=\"badge b-unatt\">unattested</span>"));
        assert_eq!(html.matches("<svg class=\"timeline\"").count(), 1);
        let lint_only = render(&super::super::sample::audit_report(false));
        assert!(!lint_only.contains("<svg class=\"timeline\""));
        assert!(!lint_only.contains("<script"));
    }
}
