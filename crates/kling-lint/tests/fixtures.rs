//! The rule fixtures under `fixtures/lint/<language>/`: every line marked
//! `expect: KLxxx` (in a comment; a `<file>.expect` sidecar for JSON) must get exactly
//! that finding, good and decoy fixtures must stay silent, every rule must have a bad
//! and a good fixture in each language it applies to, and the rendered text of every
//! bad fixture is snapshotted.
//!
//! Files are linted one at a time, so fixtures cannot see each other's names;
//! directories ending in `.pkg` are linted as a whole, for cross-file cases.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use kling_lint::render::text::{TextOptions, render};
use kling_lint::{LintOptions, Report, lint};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/lint").canonicalize().expect("fixtures/lint exists")
}

/// A lint unit: one file, or one `.pkg` directory.
fn units() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for lang in std::fs::read_dir(root()).unwrap() {
        let lang = lang.unwrap().path();
        if !lang.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&lang).unwrap() {
            let p = entry.unwrap().path();
            let is_pkg = p.is_dir() && p.extension().is_some_and(|e| e == "pkg");
            let is_fixture = p.is_file() && p.extension().is_none_or(|e| e != "expect");
            if is_pkg || is_fixture {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn files_of(unit: &Path) -> Vec<PathBuf> {
    if unit.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(unit)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_none_or(|e| e != "expect"))
            .collect();
        v.sort();
        v
    } else {
        vec![unit.to_path_buf()]
    }
}

/// The (line, rule) pairs a fixture file expects.
fn expectations(file: &Path) -> BTreeSet<(u32, String)> {
    let mut out = BTreeSet::new();
    let sidecar = PathBuf::from(format!("{}.expect", file.display()));
    if sidecar.exists() {
        for line in std::fs::read_to_string(&sidecar).unwrap().lines() {
            let mut parts = line.split_whitespace();
            if let (Some(n), Some(rule)) = (parts.next(), parts.next()) {
                out.insert((n.parse().unwrap(), rule.to_owned()));
            }
        }
        return out;
    }
    let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
    for (i, line) in text.lines().enumerate() {
        if let Some(at) = line.find("expect: KL") {
            for rule in line[at + "expect: ".len()..].split(',') {
                let rule = rule.split_whitespace().next().unwrap_or("").trim_end_matches("*/").to_owned();
                if rule.starts_with("KL") {
                    out.insert((i as u32 + 1, rule));
                }
            }
        }
    }
    out
}

fn options() -> LintOptions {
    LintOptions { jobs: 1, cwd: root(), ..LintOptions::default() }
}

fn lint_unit(unit: &Path, partial: bool) -> Report {
    // Partial parsing is forced on for every fixture, however small, so the
    // differential test below exercises it.
    let options = LintOptions { partial_parse: partial, partial_parse_min_bytes: 0, ..options() };
    lint(&[unit.to_path_buf()], &options).expect("fixture lints")
}

fn kind_of(file: &Path) -> &'static str {
    let name = file.file_name().unwrap().to_string_lossy();
    if name.contains(".bad.")
        || name.contains(".bad") && file.parent().is_some_and(|p| p.extension().is_some_and(|e| e == "pkg"))
    {
        "bad"
    } else if name.contains(".good.") {
        "good"
    } else if name.contains(".decoy.") {
        "decoy"
    } else {
        "other"
    }
}

#[test]
fn fixtures_fire_exactly_on_marked_lines() {
    let mut failures = Vec::new();
    for unit in units() {
        let report = lint_unit(&unit, true);
        for file in files_of(&unit) {
            let rel = file.strip_prefix(root()).unwrap().to_path_buf();
            let expected = expectations(&file);
            let actual: BTreeSet<(u32, String)> = report
                .diagnostics
                .iter()
                .filter(|d| d.path == rel)
                .map(|d| (d.start.line, d.rule.to_owned()))
                .collect();
            let kind = kind_of(&file);
            if (kind == "good" || kind == "decoy") && !expected.is_empty() {
                failures.push(format!("{}: a {kind} fixture must not expect findings", rel.display()));
            }
            for miss in expected.difference(&actual) {
                failures.push(format!("{}:{}: expected {} but it did not fire", rel.display(), miss.0, miss.1));
            }
            for extra in actual.difference(&expected) {
                let d = report
                    .diagnostics
                    .iter()
                    .find(|d| d.path == rel && d.start.line == extra.0 && d.rule == extra.1)
                    .unwrap();
                failures.push(format!("{}:{}: unexpected {}: {}", rel.display(), extra.0, extra.1, d.message));
            }
        }
    }
    assert!(failures.is_empty(), "{} fixture mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_rule_has_bad_and_good_fixtures_in_each_language() {
    // (language dir, rule) → kinds present
    let mut seen: BTreeMap<(String, String), BTreeSet<&str>> = BTreeMap::new();
    for unit in units() {
        for file in files_of(&unit) {
            let lang = file
                .strip_prefix(root())
                .unwrap()
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .into_owned();
            let kind = kind_of(&file);
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let rules: BTreeSet<String> = if kind == "bad" {
                expectations(&file).into_iter().map(|(_, r)| r).collect()
            } else {
                name.split('.').next().into_iter().map(str::to_owned).collect()
            };
            for r in rules {
                seen.entry((lang.clone(), r)).or_default().insert(kind);
            }
        }
    }
    let mut missing = Vec::new();
    for rule in kling_lint::rules::all() {
        let id = &rule.meta.id;
        for lang in &rule.meta.languages {
            let kinds = seen.get(&(lang.clone(), id.clone())).cloned().unwrap_or_default();
            for need in ["bad", "good"] {
                if !kinds.contains(need) {
                    missing.push(format!("{id} has no {need} fixture in fixtures/lint/{lang}/"));
                }
            }
        }
        let decoys = seen.iter().any(|((_, r), k)| r == id && k.contains("decoy"));
        if !decoys && !matches!(id.as_str(), "KL000" | "KL001") {
            missing.push(format!("{id} has no decoy fixture"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn partial_parsing_agrees_with_whole_file_parsing() {
    for unit in units() {
        let partial = lint_unit(&unit, true);
        let whole = lint_unit(&unit, false);
        let key = |r: &Report| {
            r.diagnostics.iter().map(|d| (d.path.clone(), d.start, d.rule, d.message.clone())).collect::<Vec<_>>()
        };
        assert_eq!(key(&partial), key(&whole), "{}", unit.display());
    }
}

#[test]
fn rendered_output_of_bad_fixtures() {
    for unit in units() {
        let has_bad = files_of(&unit).iter().any(|f| kind_of(f) == "bad");
        if !has_bad {
            continue;
        }
        let report = lint_unit(&unit, true);
        let rel = unit.strip_prefix(root()).unwrap().to_string_lossy().replace(['/', '\\'], "__");
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_snapshot_path("snapshots/fixtures");
        settings.bind(|| insta::assert_snapshot!(rel, render(&report, TextOptions { color: false })));
    }
}
