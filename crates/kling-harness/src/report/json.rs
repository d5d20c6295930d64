//! `--format json`: SPEC's shape (`version`, `client`, `checks[{id, title, section,
//! verdict, evidence}]`, `summary`), plus each check's checklist line and fix, and the
//! optional `scenarios` array of request timelines.

use super::Report;

/// Render the report as pretty-printed JSON with a final newline.
pub fn render(report: &Report) -> String {
    // Our own types hold only strings, numbers and lists: serialising cannot fail.
    let mut text = serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Report;

    #[test]
    fn the_shape_is_spec_s_and_round_trips() {
        let report = super::super::sample::report();
        let text = render(&report);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["client"], "python3 'my client.py'");
        let check = &v["checks"][1];
        for key in ["id", "title", "section", "verdict", "evidence"] {
            assert!(check.get(key).is_some(), "no {key} in {check}");
        }
        assert_eq!(check["verdict"], "fail");
        assert_eq!(v["checks"][3]["verdict"], "not-exercised");
        assert_eq!(v["summary"]["fail"], 1);
        assert_eq!(v["scenarios"][0]["requests"][0]["route"], "create");
        let back: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(back, report);
    }
}
