//! The production checklist is accounted for, line by line: every bullet of the published
//! checklist (`rules/checklist.seed.txt`, klingai-prod-checklist v20260423, vendored
//! verbatim) appears in `rules/checklist.toml` in its section and in its order; every id a
//! line names is a registered lint rule or a harness check; and every line is enforced or
//! attested. `audit` reports exactly these lines, so a line missing here would silently
//! drop out of every audit.

use std::path::Path;

use kling_harness::audit::checklist::{self, Line};

/// `(section, text)` of every bullet of the published checklist, in order. A section is
/// the last line before a run of bullets that is neither a bullet nor blank.
fn seed_bullets() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/checklist.seed.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut heading = String::new();
    let mut bullets = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(bullet) = line.strip_prefix('•') {
            bullets.push((heading.clone(), bullet.trim().to_owned()));
        } else if !line.is_empty() {
            // Code samples follow a section's bullets, never precede them, so the line
            // before a bullet run is its heading.
            line.clone_into(&mut heading);
        }
    }
    bullets
}

/// The seed's text, to check that extra checklist lines sit in a real section of it.
fn seed_text() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/checklist.seed.txt")).unwrap()
}

#[test]
fn every_line_of_the_published_checklist_is_in_rules_checklist_toml_in_order() {
    let bullets = seed_bullets();
    assert_eq!(bullets.len(), 40, "the published checklist has 40 bullets: {bullets:#?}");
    let lines = checklist::lines();
    let mut next = 0;
    for (section, text) in &bullets {
        let Some(found) = lines[next..].iter().position(|l| l.text == *text) else {
            let anywhere = lines.iter().find(|l| l.text == *text);
            panic!(
                "rules/checklist.toml: the checklist line {text:?} ({section}) is {}",
                anywhere.map_or("missing".to_owned(), |l| format!("out of order (it is {})", l.id))
            );
        };
        let line = &lines[next + found];
        assert_eq!(line.section, *section, "rules/checklist.toml: {} belongs in section {section:?}", line.id);
        // Lines between two bullets would be additions in the middle of a section.
        if let Some(extra) = lines[next..next + found].first() {
            panic!("rules/checklist.toml: {} ({:?}) is not a line of the published checklist", extra.id, extra.text);
        }
        next += found + 1;
    }
    // What follows the bullets must sit in a section the published checklist has without
    // bullets (its pre-launch smoke test, written as code).
    let seed = seed_text();
    for extra in &lines[next..] {
        assert!(
            seed.lines().any(|l| l.trim() == extra.section) && !bullets.iter().any(|(s, _)| *s == extra.section),
            "rules/checklist.toml: {} ({:?}) is not a line of the published checklist",
            extra.id,
            extra.text
        );
    }
    assert_eq!(lines.len(), 41);
}

#[test]
fn every_id_names_a_lint_rule_or_a_harness_check_and_every_line_is_covered() {
    let rules: Vec<&str> = kling_lint::rules::all().iter().map(|r| r.meta.id.as_str()).collect();
    let checks: Vec<&str> = kling_harness::checks::all().iter().map(|c| c.id.as_str()).collect();
    let rule_files: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("KL") && Path::new(name).extension().is_some_and(|e| e == "toml"))
        .collect();
    for line in checklist::lines() {
        assert!(
            !line.enforced_by.is_empty() || line.attest.as_ref().is_some_and(|a| !a.trim().is_empty()),
            "rules/checklist.toml: {} has neither enforced_by nor attest; name what enforces it or what to attest",
            line.id
        );
        for id in &line.enforced_by {
            if checklist::is_rule_id(id) {
                assert!(
                    rules.contains(&id.as_str()),
                    "rules/checklist.toml: {}: {id} is not a registered lint rule",
                    line.id
                );
                assert!(
                    rule_files.iter().any(|f| f.starts_with(&format!("{id}-"))),
                    "rules/checklist.toml: {}: {id} has no rules/{id}-*.toml",
                    line.id
                );
            } else {
                assert!(
                    checks.contains(&id.as_str()),
                    "rules/checklist.toml: {}: {id} is not a harness check",
                    line.id
                );
            }
        }
    }
}

#[test]
fn every_check_that_names_a_checklist_line_is_listed_on_it() {
    // rules/checks.toml says which line each check enforces; that line must list it back,
    // or the audit would judge the line without the check.
    for check in kling_harness::checks::all().iter().filter(|c| !c.checklist.is_empty()) {
        let line: &Line = checklist::lines()
            .iter()
            .find(|l| l.text == check.checklist)
            .unwrap_or_else(|| panic!("rules/checks.toml: {}: {:?} is no checklist line", check.id, check.checklist));
        assert!(
            line.enforced_by.contains(&check.id),
            "rules/checklist.toml: {} does not list {}, which rules/checks.toml says enforces it",
            line.id,
            check.id
        );
    }
}
