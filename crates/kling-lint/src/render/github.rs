//! `--format github`: GitHub Actions workflow commands, which annotate the pull
//! request's diff: `::error file=...,line=...,col=...,title=KL101::message`.

use crate::diagnostic::Severity;
use crate::scan::Report;

/// Escape workflow-command data (`%`, CR, LF).
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escape a workflow-command property, which also may not contain `:` or `,`.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Render one annotation per finding.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let path = d.path.to_string_lossy().replace('\\', "/");
        out.push_str(&format!(
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            property(&path),
            d.start.line,
            d.start.column,
            d.end.line,
            d.end.column,
            property(&format!("{} {}", d.rule, d.name)),
            data(&match &d.help {
                Some(h) => format!("{} ({h})", d.message),
                None => d.message.clone(),
            }),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(data("x\ny:z"), "x%0Ay:z");
    }
}
