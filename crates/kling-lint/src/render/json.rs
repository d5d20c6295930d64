//! `--format json`: one document in the shape SPEC.md fixes.

use serde_json::{Value, json};

use crate::diagnostic::Diagnostic;
use crate::scan::Report;

/// Render the report as the contract's JSON document.
pub fn render(report: &Report, rules: &[&str]) -> String {
    let mut by_rule = serde_json::Map::new();
    for id in rules {
        by_rule.insert((*id).to_owned(), json!(0));
    }
    for d in &report.diagnostics {
        let n = by_rule.get(d.rule).and_then(Value::as_u64).unwrap_or(0);
        by_rule.insert(d.rule.to_owned(), json!(n + 1));
    }
    let doc = json!({
        "version": 1,
        "diagnostics": report.diagnostics.iter().map(|d| diagnostic(report, d)).collect::<Vec<_>>(),
        "summary": {
            "files_scanned": report.files_scanned,
            "files_kling": report.files_kling,
            "diagnostics": report.diagnostics.len(),
            "by_rule": by_rule,
        },
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON values serialise");
    s.push('\n');
    s
}

fn diagnostic(report: &Report, d: &Diagnostic) -> Value {
    let fix = d.fix.as_ref().map(|f| {
        let source = report.sources.get(&d.path);
        let edits: Vec<Value> = f
            .edits
            .iter()
            .map(|e| {
                let (s, t) = source.map_or((d.start, d.end), |src| (src.position(e.start), src.position(e.end)));
                json!({
                    "content": e.content,
                    "location": {"line": s.line, "column": s.column},
                    "end_location": {"line": t.line, "column": t.column},
                })
            })
            .collect();
        json!({"applicability": f.applicability, "message": f.message, "edits": edits})
    });
    json!({
        "rule": d.rule,
        "name": d.name,
        "severity": d.severity,
        "path": d.path.to_string_lossy().replace('\\', "/"),
        "line": d.start.line,
        "column": d.start.column,
        "end_line": d.end.line,
        "end_column": d.end.column,
        "message": d.message,
        "help": d.help,
        "fix": fix,
    })
}
