//! `--format junit`: `JUnit` XML, one test suite per file with findings and one failing
//! test case per finding, so CI systems that read test reports show the findings.

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostic;
use crate::scan::Report;

/// Escape text for XML attributes and content.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Render the report as `JUnit` XML.
pub fn render(report: &Report) -> String {
    let mut by_file: BTreeMap<String, Vec<&Diagnostic>> = BTreeMap::new();
    for d in &report.diagnostics {
        by_file.entry(d.path.to_string_lossy().replace('\\', "/")).or_default().push(d);
    }
    let total = report.diagnostics.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"kling-preflight lint\" tests=\"{}\" failures=\"{total}\">\n",
        total.max(1)
    ));
    if by_file.is_empty() {
        out.push_str(&format!(
            "  <testsuite name=\"kling-preflight lint\" tests=\"1\" failures=\"0\">\n    <testcase name=\"no findings in {} files scanned\" classname=\"kling-preflight\"/>\n  </testsuite>\n",
            report.files_scanned
        ));
    }
    for (path, diags) in &by_file {
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">\n",
            escape(path),
            diags.len(),
            diags.len()
        ));
        for d in diags {
            let name = format!("{} {}:{}:{}", d.rule, path, d.start.line, d.start.column);
            let detail = match &d.help {
                Some(h) => format!("{}\nhelp: {h}", d.message),
                None => d.message.clone(),
            };
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\">\n      <failure type=\"{} {}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                escape(&name),
                escape(path),
                escape(path),
                d.start.line,
                d.rule,
                d.severity.as_str(),
                escape(&d.message),
                escape(&detail),
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
