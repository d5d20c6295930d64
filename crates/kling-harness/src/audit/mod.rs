//! The audit behind `kling-preflight audit`: the whole production checklist in one
//! report. Each of the checklist's 41 lines gets a status from what enforces it — lint
//! findings, harness verdicts, a person's attestation — with the evidence that decided it.
//!
//! The linter's results come in as plain data ([`LintResults`]), so this crate does not
//! depend on the linter; the command line runs both and hands their results over.
//!
//! ```
//! use kling_harness::audit::{self, Attestations, Date, Inputs, LintResults};
//!
//! let lint = LintResults { path: "app".into(), files_scanned: 12, files_kling: 3, ..LintResults::default() };
//! let report = audit::audit(&Inputs {
//!     lint: &lint,
//!     harness: None, // no client command: the checks are not exercised
//!     attestations: &Attestations::none(),
//!     today: Date::today(),
//! });
//! assert_eq!(report.items.len(), 41);
//! // The manual lines are unattested, so the audit fails.
//! assert_eq!(report.exit_code(), 1);
//! ```
//!
//! How a line's status is decided is documented on [`Status`] and in `status.rs`.

pub mod attest;
pub mod checklist;
pub mod html;
pub mod junit;
pub mod markdown;
mod status;
pub mod text;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use attest::{Attestation, Attestations, Date};
pub use checklist::Line;

use crate::report::{Report, ScenarioReport, Summary};

/// The JSON format's version.
pub const VERSION: u32 = 1;

/// A checklist line's status.
///
/// - `fail`: a lint finding at error severity, or a failed harness check, on a required
///   line. An attestation never outweighs it.
/// - `unattested`: the line needs a person's word and has none, or only one older than
///   90 days.
/// - `warn`: a lint finding at warning or info severity, a harness warning, or any
///   finding on an advisory (`info`) line.
/// - `not-exercised`: part of what enforces the line was not judged (no client command,
///   a scenario that did not run or never got that far, no Kling code for the linter to
///   read, a rule turned off by the configuration). Never counted as a pass.
/// - `attested`: a valid attestation, and nothing the machines saw contradicts it.
/// - `pass`: every rule and check that enforces the line ran and found nothing.
///
/// The audit fails (exit 1) when a required line is `fail` or `unattested`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Everything that enforces the line ran and found nothing.
    Pass,
    /// A finding or a failed check.
    Fail,
    /// A weaker finding, or any finding on an advisory line.
    Warn,
    /// A person vouches for it, recently.
    Attested,
    /// It needs a person's word and has none (or a stale one).
    Unattested,
    /// Not everything that enforces it was judged.
    NotExercised,
}

impl Status {
    /// The wire name: `pass`, `not-exercised`...
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Attested => "attested",
            Status::Unattested => "unattested",
            Status::NotExercised => "not-exercised",
        }
    }

    /// Whether this status fails the audit on a required line.
    pub fn fails(self) -> bool {
        matches!(self, Status::Fail | Status::Unattested)
    }
}

/// A lint finding's severity, after configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LintSeverity {
    /// Advice.
    Info,
    /// Probably wrong.
    Warning,
    /// Wrong.
    Error,
}

impl LintSeverity {
    /// `error`, `warning`, `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            LintSeverity::Info => "info",
            LintSeverity::Warning => "warning",
            LintSeverity::Error => "error",
        }
    }
}

/// One lint finding, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintFinding {
    /// The rule id (`KL101`).
    pub rule: String,
    /// Its severity.
    pub severity: LintSeverity,
    /// The file, as reported.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// What the linter did, as plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintResults {
    /// What was scanned, as the user named it.
    pub path: String,
    /// Files read.
    pub files_scanned: usize,
    /// Files with Kling code (the ones the rules could judge).
    pub files_kling: usize,
    /// The rule ids that ran; the configuration may turn some off.
    pub rules: Vec<String>,
    /// Rule id → what to change, shown under its findings.
    pub fixes: BTreeMap<String, String>,
    /// Every finding.
    pub findings: Vec<LintFinding>,
}

/// What an audit judges.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The linter's results.
    pub lint: &'a LintResults,
    /// The harness's report, when a client command was given.
    pub harness: Option<&'a Report>,
    /// The attestations (possibly none).
    pub attestations: &'a Attestations,
    /// The day attestation ages are judged on.
    pub today: Date,
}

/// One checklist line's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The line id (`AUTH-3`).
    pub id: String,
    /// Its section.
    pub section: String,
    /// The checklist's words.
    pub text: String,
    /// The status.
    pub status: Status,
    /// Lint rules and harness checks that enforce it.
    pub enforced_by: Vec<String>,
    /// What decided the status: findings (`path:line rule severity: message`), check
    /// verdicts with their evidence, the attestation.
    pub evidence: Vec<String>,
    /// An advisory line (never fails the audit).
    pub info: bool,
    /// What a person must vouch for, when the line takes an attestation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attest: Option<String>,
    /// The newest attestation, valid or stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<Attestation>,
    /// What to change, for lines that fail or warn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fix: Vec<String>,
}

impl Item {
    /// Whether this line fails the audit.
    pub fn fails_audit(&self) -> bool {
        !self.info && self.status.fails()
    }
}

/// What the linter saw, in short.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LintSummary {
    /// Files read.
    pub files_scanned: usize,
    /// Files with Kling code.
    pub files_kling: usize,
    /// Findings of every rule.
    pub findings: usize,
    /// Findings of rules no checklist line names (unused suppressions, files that could
    /// not be parsed), which the items do not show.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outside_checklist: Vec<String>,
}

/// Counts by status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditSummary {
    /// Checklist lines.
    pub lines: usize,
    /// Passed.
    pub pass: usize,
    /// Failed.
    pub fail: usize,
    /// Warnings.
    pub warn: usize,
    /// Attested.
    pub attested: usize,
    /// Unattested.
    pub unattested: usize,
    /// Not exercised.
    pub not_exercised: usize,
    /// The required lines that fail the audit (`fail` or `unattested`).
    pub failing: Vec<String>,
    /// The linter's side.
    pub lint: LintSummary,
    /// The harness's summary, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness: Option<Summary>,
}

/// The whole audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// What was linted.
    pub path: String,
    /// The client command the harness ran, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The attestations file, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestations: Option<String>,
    /// The day attestation ages were judged on.
    pub today: Date,
    /// One per checklist line, in the checklist's order.
    pub items: Vec<Item>,
    /// Counts.
    pub summary: AuditSummary,
    /// The harness's request timelines, when it ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<ScenarioReport>,
}

impl AuditReport {
    /// 2 when the harness could not judge a check, 1 when a required line fails or is
    /// unattested, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.summary.harness.as_ref().is_some_and(|h| h.error > 0) {
            2
        } else {
            u8::from(!self.summary.failing.is_empty())
        }
    }

    /// The item of this line.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Pretty-printed JSON with a final newline (`--format json`).
    pub fn to_json(&self) -> String {
        // Our own types hold only strings, numbers and lists: serialising cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }
}

/// Judge every checklist line.
pub fn audit(inputs: &Inputs<'_>) -> AuditReport {
    let items: Vec<Item> = checklist::lines().iter().map(|line| status::judge(line, inputs)).collect();
    let mut summary = AuditSummary { lines: items.len(), ..AuditSummary::default() };
    for item in &items {
        match item.status {
            Status::Pass => summary.pass += 1,
            Status::Fail => summary.fail += 1,
            Status::Warn => summary.warn += 1,
            Status::Attested => summary.attested += 1,
            Status::Unattested => summary.unattested += 1,
            Status::NotExercised => summary.not_exercised += 1,
        }
        if item.fails_audit() {
            summary.failing.push(item.id.clone());
        }
    }
    let named: Vec<&str> = checklist::lines().iter().flat_map(Line::rules).collect();
    summary.lint = LintSummary {
        files_scanned: inputs.lint.files_scanned,
        files_kling: inputs.lint.files_kling,
        findings: inputs.lint.findings.len(),
        outside_checklist: inputs
            .lint
            .findings
            .iter()
            .filter(|f| !named.contains(&f.rule.as_str()))
            .map(status::finding)
            .collect(),
    };
    summary.harness = inputs.harness.map(|h| h.summary.clone());
    AuditReport {
        version: VERSION,
        path: inputs.lint.path.clone(),
        client: inputs.harness.map(|h| h.client.clone()),
        attestations: inputs.attestations.file.clone(),
        today: inputs.today,
        items,
        summary,
        scenarios: inputs.harness.map(|h| h.scenarios.clone()).unwrap_or_default(),
    }
}

#[cfg(test)]
pub(crate) mod sample {
    //! A small fixed audit for rendering snapshots: lint findings, a harness report with
    //! a failure and a warning, attestations valid, stale and missing.

    use super::*;

    pub(crate) fn today() -> Date {
        Date::from_ymd(2026, 11, 21).unwrap()
    }

    pub(crate) fn lint() -> LintResults {
        let finding = |rule: &str, severity, path: &str, line, message: &str| LintFinding {
            rule: rule.into(),
            severity,
            path: path.into(),
            line,
            message: message.into(),
        };
        LintResults {
            path: "demo".into(),
            files_scanned: 6,
            files_kling: 3,
            rules: ["KL101", "KL205", "KL402", "KL602", "KL001"].iter().map(|s| (*s).to_owned()).collect(),
            fixes: [("KL205".to_owned(), "Load the key from the environment or a secrets manager.".to_owned())].into(),
            findings: vec![
                finding("KL205", LintSeverity::Error, "demo/.env", 2, "a Kling secret key is committed here"),
                finding("KL402", LintSeverity::Warning, "demo/app/kling.py", 57, "retries after a fixed <1 s> delay"),
                finding("KL001", LintSeverity::Warning, "demo/broken.py", 1, "could not parse this file"),
            ],
        }
    }

    pub(crate) fn attestations() -> Attestations {
        Attestations::parse(
            "attest.toml",
            r#"
[[attest]]
line = "AUTH-3"
by = "alice@example.com"
date = 2026-11-02
evidence = "https://wiki.example.com/kling/keys"

[[attest]]
line = "AUTH-4"
by = "bob@example.com"
date = 2026-06-30
evidence = "https://wiki.example.com/kling/rotation"
"#,
            today(),
        )
        .unwrap()
    }

    pub(crate) fn audit_report(harness: bool) -> AuditReport {
        let lint = lint();
        let report = crate::report::sample::report();
        let attestations = attestations();
        audit(&Inputs { lint: &lint, harness: harness.then_some(&report), attestations: &attestations, today: today() })
    }
}
