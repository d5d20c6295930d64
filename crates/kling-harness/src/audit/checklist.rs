//! The production checklist as `rules/checklist.toml` accounts for it (compiled in): every
//! line of the published checklist, in its order, with the lint rules and harness checks
//! that enforce it and, where no machine can see the practice, what a team attests to.
//! A test in `kling-preflight` keeps it in step with the published checklist and with the
//! rule and check catalogs.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// One checklist line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// A stable id (`AUTH-3`): attestations and reports refer to it.
    pub id: String,
    /// The checklist's section (`Authentication`).
    pub section: String,
    /// The checklist's words.
    pub text: String,
    /// Lint rule ids (`KL101`) and harness check ids (`errors.backoff`) that enforce it.
    pub enforced_by: Vec<String>,
    /// What a person must vouch for, when the line needs an attestation.
    #[serde(default)]
    pub attest: Option<String>,
    /// An advisory line: it never fails the audit.
    #[serde(default)]
    pub info: bool,
}

impl Line {
    /// The lint rule ids among `enforced_by` (they start with `KL`).
    pub fn rules(&self) -> impl Iterator<Item = &str> {
        self.enforced_by.iter().map(String::as_str).filter(|id| is_rule_id(id))
    }

    /// The harness check ids among `enforced_by`.
    pub fn checks(&self) -> impl Iterator<Item = &str> {
        self.enforced_by.iter().map(String::as_str).filter(|id| !is_rule_id(id))
    }
}

/// Lint rule ids are `KL` and digits; check ids are `section.name`.
pub fn is_rule_id(id: &str) -> bool {
    id.strip_prefix("KL").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    line: Vec<Line>,
}

const SOURCE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules/checklist.toml"));

/// Every checklist line, in the checklist's order.
///
/// # Panics
/// Never in a released build: the file is compiled in, and a test parses it.
pub fn lines() -> &'static [Line] {
    static LINES: OnceLock<Vec<Line>> = OnceLock::new();
    LINES.get_or_init(|| match toml::from_str::<File>(SOURCE) {
        Ok(file) => file.line,
        Err(e) => panic!("rules/checklist.toml is invalid ({e}); fix the file and rebuild"),
    })
}

/// The line with this id.
pub fn find(id: &str) -> Option<&'static Line> {
    lines().iter().find(|l| l.id == id)
}

/// The sections, in the checklist's order.
pub fn sections() -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for l in lines() {
        if !out.contains(&l.section.as_str()) {
            out.push(&l.section);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_parses_with_unique_ids_and_every_line_accounted_for() {
        assert_eq!(lines().len(), 41);
        let mut ids: Vec<&str> = lines().iter().map(|l| l.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), lines().len(), "duplicate ids");
        for l in lines() {
            assert!(!l.enforced_by.is_empty() || l.attest.is_some(), "{}: neither enforced nor attested", l.id);
            for check in l.checks() {
                assert!(crate::checks::find(check).is_some(), "{}: no harness check {check}", l.id);
            }
        }
        assert_eq!(sections().first(), Some(&"Authentication"));
    }

    #[test]
    fn rule_ids_are_told_from_check_ids() {
        assert!(is_rule_id("KL101"));
        assert!(!is_rule_id("KL"));
        assert!(!is_rule_id("errors.backoff"));
    }
}
