//! `--format html`: one self-contained page — inline CSS and inline SVG, no script, no
//! font or image fetched — that reads without a manual: a summary header, every check
//! grouped by checklist section with a badge and its evidence, then each scenario's
//! request timeline (see [`super::timeline`]). `audit` builds its page from the same
//! pieces.
//!
//! The page's Content-Security-Policy forbids every fetch and every script, so even a
//! rendering bug that let a client's `<script>` through could not run it; escaping
//! everything a client or the journal wrote is still the first line of defence.

use std::fmt::Write as _;

use super::timeline::{self, Outcome};
use super::{CheckResult, Report, ScenarioReport, Verdict};
use crate::checks::SECTIONS;

/// Text safe in HTML content and attribute values (and so in inline SVG).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters have no business on a page; keep lines and tabs.
            c if c.is_control() && !matches!(c, '\n' | '\t') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The stylesheet shared by the check and audit pages.
const CSS: &str = r#"
:root { --ok:#1a7f37; --fail:#cf222e; --warn:#9a6700; --ne:#6e7781; --att:#0969da; --unatt:#a40e26;
  --fault:#e36209; --err:#cf222e; --gone:#8250df; --retry:#0550ae; --cb:#1b7c83; --ink:#1f2328; --muted:#59636e;
  --line:#d1d9e0; --bg:#ffffff; --band:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
  color:var(--ink); background:var(--bg); }
header { padding:20px 28px 16px; border-bottom:1px solid var(--line); background:var(--band); }
h1 { font-size:20px; margin:0 0 4px; }
h1 .verdict { font-weight:600; }
h2 { font-size:17px; margin:28px 0 10px; padding-bottom:4px; border-bottom:1px solid var(--line); }
h3 { font-size:14px; margin:18px 0 6px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
main { padding:0 28px 40px; max-width:1180px; }
code, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px; }
.sources { margin:6px 0 10px; padding:0; list-style:none; color:var(--muted); }
.chips { display:flex; flex-wrap:wrap; gap:8px; margin-top:8px; }
.chip { border-radius:999px; padding:2px 10px; font-weight:600; font-size:13px; border:1px solid var(--line); background:#fff; }
.outcome { margin:10px 0 0; font-weight:600; }
.outcome.bad { color:var(--fail); } .outcome.good { color:var(--ok); }
table.items { border-collapse:collapse; width:100%; table-layout:fixed; }
table.items td { border-top:1px solid var(--line); padding:6px 8px; vertical-align:top; }
table.items td.badge-cell { width:124px; white-space:nowrap; }
table.items td.id { width:110px; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
table.checks td.id { width:270px; }
.badge { display:inline-block; min-width:96px; text-align:center; border-radius:4px; padding:1px 8px; font-size:12px;
  font-weight:700; letter-spacing:.02em; color:#fff; }
.b-pass { background:var(--ok); } .b-fail { background:var(--fail); } .b-warn { background:#bf8700; }
.b-ne { background:#fff; color:var(--ne); border:1px dashed var(--ne); }
.b-att { background:var(--att); } .b-unatt { background:#fff; color:var(--unatt); border:2px solid var(--unatt); }
.b-error { background:#000; }
.by { color:var(--muted); font-size:12px; }
.info-tag { color:var(--muted); font-size:12px; margin-left:4px; }
details { margin-top:3px; }
details summary { cursor:pointer; color:var(--muted); font-size:12.5px; }
ul.evidence { margin:4px 0 2px; padding-left:18px; }
ul.evidence li { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12px; white-space:pre-wrap;
  word-break:break-word; }
.fix { margin:4px 0 0; font-size:12.5px; }
.fix b { color:var(--ink); }
.legend { display:flex; flex-wrap:wrap; gap:6px 18px; margin:6px 0 14px; font-size:12.5px; color:var(--muted); }
.legend span { display:inline-flex; align-items:center; gap:6px; }
.legend svg { overflow:visible; }
figure { margin:0 0 26px; }
figcaption { margin-bottom:4px; }
figcaption .sid { font-weight:700; }
figcaption .meta { color:var(--muted); }
ul.retries { margin:2px 0 6px; padding-left:18px; font-size:12.5px; }
ul.retries li.grow { color:var(--ok); } ul.retries li.flat { color:var(--fail); }
svg.timeline { width:100%; height:auto; display:block; border:1px solid var(--line); border-radius:6px; background:#fff; }
svg text { font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif; }
.band { fill:#fff; } .band.alt { fill:var(--band); }
.lane { font-size:12px; fill:var(--muted); text-anchor:end; }
.grid { stroke:#eaeef2; stroke-width:1; }
.axis { stroke:#8c959f; stroke-width:1; }
.tick { font-size:11px; fill:var(--muted); text-anchor:middle; }
.axis-title { font-size:11px; fill:var(--muted); text-anchor:end; }
.req { stroke:#fff; stroke-width:.6; }
.req.ok, .sw.ok { fill:var(--ok); } .req.fault, .sw.fault { fill:var(--fault); }
.req.err, .sw.err { fill:var(--err); } .req.gone, .sw.gone { fill:var(--gone); fill-opacity:.55; }
.req.retry, .sw.retry { stroke:var(--retry); stroke-width:2; }
.arc { fill:none; stroke:var(--retry); stroke-width:1.6; }
.wait { font-size:11px; font-weight:700; fill:var(--retry); text-anchor:middle; }
.cb { fill:#fff; stroke:var(--cb); stroke-width:2; } .cb.bad { stroke:var(--err); }
.in-mark { font-size:11px; fill:#fff; font-weight:600; }
.end { stroke:var(--ok); stroke-width:2; } text.end { fill:var(--ok); stroke:none; }
.end.nonzero { stroke:#24292f; } text.end.nonzero { fill:#24292f; stroke:none; }
.end.stopped { stroke:var(--fail); stroke-dasharray:5 3; } text.end.stopped { fill:var(--fail); stroke:none; }
.end-label { font-size:12px; font-weight:700; }
.hint { stroke:#8c959f; stroke-width:1.2; stroke-dasharray:2 3; }
.hint-label { font-size:11px; fill:var(--muted); text-anchor:end; }
.empty { font-size:13px; fill:var(--muted); text-anchor:middle; }
footer { color:var(--muted); font-size:12px; padding:0 28px 24px; }
@media (prefers-color-scheme: dark) {
  :root { --ink:#e6edf3; --muted:#9198a1; --line:#3d444d; --bg:#0d1117; --band:#151b23; }
  .chip, svg.timeline, .band, .b-ne, .b-unatt { background:#0d1117; fill:#0d1117; }
  .band.alt { fill:#151b23; } .grid { stroke:#262c36; } .cb { fill:#0d1117; }
}
"#;

/// A whole page around `body`.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n<footer>kling-preflight {} · one \
         self-contained file: nothing on this page is fetched from the network.</footer>\n</body>\n</html>\n",
        escape(title),
        env!("CARGO_PKG_VERSION")
    )
}

/// A status badge.
pub(crate) fn badge(class: &str, label: &str) -> String {
    format!("<span class=\"badge {class}\">{}</span>", escape(label))
}

/// A check verdict's badge.
fn verdict_badge(v: Verdict) -> String {
    let class = match v {
        Verdict::Pass => "b-pass",
        Verdict::Fail => "b-fail",
        Verdict::Warn => "b-warn",
        Verdict::NotExercised | Verdict::Manual => "b-ne",
        Verdict::Error => "b-error",
    };
    badge(class, &v.as_str().replace('-', " "))
}

/// Evidence and fixes under an item: open when the item needs attention.
pub(crate) fn evidence(lines: &[String], fixes: &[String], open: bool) -> String {
    if lines.is_empty() && fixes.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<details{}><summary>evidence ({})</summary><ul class=\"evidence\">",
        if open { " open" } else { "" },
        lines.len()
    );
    for line in lines {
        let _ = write!(out, "<li>{}</li>", escape(line));
    }
    out.push_str("</ul>");
    for fix in fixes {
        let _ = write!(out, "<p class=\"fix\"><b>Fix:</b> {}</p>", escape(fix));
    }
    out.push_str("</details>");
    out
}

/// The legend of the timelines, drawn with the same classes as the marks.
fn legend() -> String {
    let swatch = |class: &str| {
        format!(
            "<svg width=\"22\" height=\"12\"><rect class=\"req sw {class}\" x=\"1\" y=\"1\" width=\"20\" height=\"10\" rx=\"2\"/></svg>"
        )
    };
    let items = [
        (swatch("ok"), "answered (2xx)"),
        (swatch("fault"), "error the scenario injected (429, 5xx, expired token)"),
        (swatch("err"), "other error answer (4xx/5xx)"),
        (swatch("gone"), "no answer: reset, empty reply, or stalled until the client left"),
        (swatch("ok retry"), "retry (blue outline)"),
        (
            "<svg width=\"34\" height=\"14\"><path class=\"arc\" d=\"M2,13 C2,2 32,2 32,13\"/></svg>".to_owned(),
            "the wait before a retry, labelled in seconds",
        ),
        (
            "<svg width=\"12\" height=\"12\"><circle class=\"cb\" cx=\"6\" cy=\"6\" r=\"4.5\"/></svg>".to_owned(),
            "callback to the client's webhook",
        ),
        (
            "<svg width=\"14\" height=\"14\"><line class=\"end\" x1=\"7\" y1=\"0\" x2=\"7\" y2=\"14\"/></svg>"
                .to_owned(),
            "client exited (green: 0, black: non-zero)",
        ),
        (
            "<svg width=\"14\" height=\"14\"><line class=\"end stopped\" x1=\"7\" y1=\"0\" x2=\"7\" y2=\"14\"/></svg>"
                .to_owned(),
            "client stopped by the harness",
        ),
    ];
    let mut out = String::from("<div class=\"legend\">");
    for (icon, text) in items {
        let _ = write!(out, "<span>{icon}{}</span>", escape(text));
    }
    out.push_str("</div>");
    out
}

/// The timelines section: a legend, then one figure per scenario.
pub(crate) fn timelines(scenarios: &[ScenarioReport]) -> String {
    if scenarios.is_empty() {
        return String::new();
    }
    let mut out = String::from("<section class=\"timelines\"><h2>Request timelines</h2>");
    out.push_str(
        "<p class=\"by\">Each scenario ran against its own mock. Hover over a mark for the request; \
         <code>#n</code> is the request's number in the evidence.</p>",
    );
    out.push_str(&legend());
    for s in scenarios {
        let requests = s.requests.iter().filter(|e| e.kind != "callback").count();
        let callbacks = s.requests.len() - requests;
        let failed = s.requests.iter().filter(|e| Outcome::of(e) != Outcome::Ok && e.kind != "callback").count();
        let _ = write!(
            out,
            "<figure><figcaption><span class=\"sid\">{}</span> — {} <span class=\"meta\">· {} ({} without a \
             successful answer) · {}</span>",
            escape(&s.id),
            escape(&s.title),
            crate::evidence::plural(requests, "request"),
            failed,
            crate::evidence::plural(callbacks, "callback")
        );
        let mut summaries: Vec<(String, &str)> = timeline::retry_summaries(s)
            .into_iter()
            .map(|line| {
                let class = if line.contains("grow (") {
                    "grow"
                } else if line.contains("do not grow") || line.contains("no wait") {
                    "flat"
                } else {
                    ""
                };
                (line, class)
            })
            .collect();
        summaries
            .extend(timeline::poll_summaries(s).into_iter().map(|(line, fast)| (line, if fast { "flat" } else { "" })));
        if !summaries.is_empty() {
            out.push_str("<ul class=\"retries\">");
            for (line, class) in summaries {
                let _ = write!(out, "<li class=\"{class}\">{}</li>", escape(&line));
            }
            out.push_str("</ul>");
        }
        out.push_str("</figcaption>");
        match &s.error {
            Some(e) => {
                let _ = write!(out, "<p class=\"outcome bad\">could not run: {}</p>", escape(e));
            }
            None => out.push_str(&timeline::svg(s)),
        }
        out.push_str("</figure>");
    }
    out.push_str("</section>");
    out
}

/// Summary chips: `label: count` in the colour of the badge.
pub(crate) fn chips(counts: &[(&str, usize, &str)]) -> String {
    let mut out = String::from("<div class=\"chips\">");
    for (label, n, class) in counts {
        let _ = write!(out, "<span class=\"chip\">{} {n}</span>", badge(class, label));
    }
    out.push_str("</div>");
    out
}

/// Render a check report as a page.
pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let (verdict, class) = if s.error > 0 {
        (format!("the harness could not judge {} check(s)", s.error), "bad")
    } else if s.fail > 0 {
        (format!("{} of {} checks failed", s.fail, s.checks), "bad")
    } else if s.warn > 0 {
        (format!("passed with {}", crate::evidence::plural(s.warn, "warning")), "good")
    } else {
        ("every exercised check passed".to_owned(), "good")
    };
    let mut body = format!(
        "<header><h1>kling-preflight check: <span class=\"verdict\">{}</span></h1><ul class=\"sources\">\
         <li>client: <code>{}</code></li><li>{} in {:.1} s</li></ul>",
        escape(&verdict),
        escape(&report.client),
        crate::evidence::plural(s.scenarios, "scenario"),
        s.wall_seconds
    );
    body.push_str(&chips(&[
        ("pass", s.pass, "b-pass"),
        ("fail", s.fail, "b-fail"),
        ("warn", s.warn, "b-warn"),
        ("not exercised", s.not_exercised, "b-ne"),
        ("error", s.error, "b-error"),
    ]));
    let _ = write!(body, "<p class=\"outcome {class}\">{}</p></header><main>", escape(&verdict));
    body.push_str("<section><h2>Checks</h2>");
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
        let _ = write!(body, "<h3>{}</h3><table class=\"items checks\">", escape(section));
        for c in checks {
            let info = if c.informational { "<span class=\"info-tag\">(info)</span>" } else { "" };
            let attention = !matches!(c.verdict, Verdict::Pass);
            let fixes: Vec<String> =
                if matches!(c.verdict, Verdict::Fail | Verdict::Warn) { vec![c.fix.clone()] } else { Vec::new() };
            let _ = write!(
                body,
                "<tr><td class=\"badge-cell\">{}</td><td class=\"id\"><code>{}</code></td><td>{}{info}{}</td></tr>",
                verdict_badge(c.verdict),
                escape(&c.id),
                escape(&c.title),
                evidence(&c.evidence, &fixes, attention)
            );
        }
        body.push_str("</table>");
    }
    body.push_str("</section>");
    body.push_str(&timelines(&report.scenarios));
    body.push_str("</main>");
    page(&format!("kling-preflight check: {verdict}"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_contained_page_with_every_check_and_the_timelines() {
        let mut report = super::super::sample::report();
        report.client = "python3 <script>alert(1)</script>".into();
        report.checks[1].evidence.push("stdout line 3: \"</li><script>x()</script>\"".into());
        let html = render(&report);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script"), "client text must be escaped");
        assert!(html.contains("python3 &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains(" src=") && !html.contains("<link"), "nothing fetched");
        assert_eq!(html.matches("<svg class=\"timeline\"").count(), 1);
        for c in &report.checks {
            assert!(html.contains(&format!("<code>{}</code>", c.id)), "{}", c.id);
        }
    }

    #[test]
    fn escaping_covers_attributes_and_control_characters() {
        assert_eq!(escape("a<b>&\"c'\u{7}"), "a&lt;b&gt;&amp;&quot;c&#39;\u{fffd}");
    }
}
