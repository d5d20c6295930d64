//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//! Rule metadata comes from `rules/`; fingerprints are the baseline's, so code
//! scanning tracks a finding across commits the same way `--baseline` does.

use serde_json::{Value, json};

use crate::baseline;
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::rules::Rule;
use crate::scan::Report;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Render the report as a SARIF log. `root` is the directory paths are relative to.
pub fn render(report: &Report, rules: &[&Rule], root: &std::path::Path) -> String {
    let rule_index = |id: &str| rules.iter().position(|r| r.meta.id == id);
    let descriptors: Vec<Value> = rules
        .iter()
        .map(|r| {
            let m = &r.meta;
            let help_text = format!("{}\n\nFix: {}", m.why.trim(), m.fix.trim());
            let help_md = format!(
                "{}\n\n**Example**\n\n```{}\n{}\n```\n\n**Use instead**\n\n```{}\n{}\n```\n\n**Fix:** {}",
                m.why.trim(),
                m.example_language,
                m.bad.trim_end(),
                m.example_language,
                m.good.trim_end(),
                m.fix.trim()
            );
            let mut tags = vec![m.name.clone()];
            tags.extend(m.languages.iter().cloned());
            json!({
                "id": m.id,
                "name": m.name,
                "shortDescription": {"text": m.summary},
                "fullDescription": {"text": m.why.trim()},
                "help": {"text": help_text, "markdown": help_md},
                "helpUri": m.url(),
                "defaultConfiguration": {"level": level(m.severity)},
                "properties": {"tags": tags, "precision": "high"},
            })
        })
        .collect();
    let fingerprints = baseline::fingerprints(report);
    let results: Vec<Value> =
        report.diagnostics.iter().zip(fingerprints).map(|(d, fp)| result(report, d, &fp, rule_index(d.rule))).collect();
    let root_uri = format!("file://{}/", root.display().to_string().trim_end_matches('/'));
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kling-preflight",
                "informationUri": "https://github.com/kling-preflight/kling-preflight",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "originalUriBaseIds": {"SRCROOT": {"uri": root_uri}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).expect("JSON values serialise") + "\n"
}

fn result(report: &Report, d: &Diagnostic, fingerprint: &str, index: Option<usize>) -> Value {
    let uri = d.path.to_string_lossy().replace('\\', "/");
    let region = json!({
        "startLine": d.start.line,
        "startColumn": d.start.column,
        "endLine": d.end.line,
        "endColumn": d.end.column.max(if d.end.line == d.start.line { d.start.column + 1 } else { 1 }),
    });
    let mut text = d.message.clone();
    if let Some(h) = &d.help {
        text.push_str(&format!(" Help: {h}."));
    }
    let mut r = json!({
        "ruleId": d.rule,
        "level": level(d.severity),
        "message": {"text": text},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri, "uriBaseId": "SRCROOT"},
            "region": region,
        }}],
        "partialFingerprints": {"klingPreflight/v1": fingerprint},
    });
    if let Some(i) = index {
        r["ruleIndex"] = json!(i);
    }
    if let (Some(fix), Some(source)) = (&d.fix, report.sources.get(&d.path))
        && fix.applicability == Applicability::Safe
    {
        let replacements: Vec<Value> = fix
            .edits
            .iter()
            .map(|e| {
                let (s, t) = (source.position(e.start), source.position(e.end));
                json!({
                    "deletedRegion": {"startLine": s.line, "startColumn": s.column, "endLine": t.line, "endColumn": t.column},
                    "insertedContent": {"text": e.content},
                })
            })
            .collect();
        r["fixes"] = json!([{
            "description": {"text": fix.message},
            "artifactChanges": [{"artifactLocation": {"uri": uri, "uriBaseId": "SRCROOT"}, "replacements": replacements}],
        }]);
    }
    r
}
