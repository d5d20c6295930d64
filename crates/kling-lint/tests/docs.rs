//! Rule documentation: every rule is registered once with a doc file in `rules/`,
//! every doc file belongs to a rule, and the README's rule table says what the docs say.

use std::collections::BTreeSet;
use std::path::Path;

use kling_lint::rules;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn every_rule_has_one_doc_file_and_every_doc_file_a_rule() {
    let files: BTreeSet<String> = std::fs::read_dir(repo().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("KL") && n.ends_with(".toml"))
        .collect();
    let mut ids = BTreeSet::new();
    for r in rules::all() {
        assert!(ids.insert(r.meta.id.clone()), "duplicate rule id {}", r.meta.id);
        let file = format!("{}-{}.toml", r.meta.id, r.meta.name);
        assert!(files.contains(&file), "rules/{file} is missing");
        for (what, text) in [
            ("summary", &r.meta.summary),
            ("why", &r.meta.why),
            ("bad", &r.meta.bad),
            ("good", &r.meta.good),
            ("fix", &r.meta.fix),
        ] {
            assert!(!text.trim().is_empty(), "{} has an empty `{what}`", r.meta.id);
        }
        let explained = r.meta.explain();
        for heading in ["Why is this bad?", "Example", "Use instead:", "Fix"] {
            assert!(explained.contains(heading), "`explain {}` lacks {heading}", r.meta.id);
        }
    }
    assert_eq!(files.len(), ids.len(), "a rules/*.toml file has no registered rule: {files:?}");
}

#[test]
fn readme_rule_table_matches_the_rule_docs() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    for r in rules::all() {
        let m = &r.meta;
        let fix = if m.autofix { " (fix)" } else { "" };
        let prefix = format!("| {} | {}{} | {} |", m.id, m.name, fix, m.severity.as_str());
        let row = readme
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("README lacks a row starting `{prefix}`"));
        assert!(
            row.trim_end().ends_with(&format!("| {} |", m.summary)),
            "README row for {} does not end with its summary:\n{row}",
            m.id
        );
    }
}
