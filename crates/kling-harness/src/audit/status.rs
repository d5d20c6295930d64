//! How one checklist line's status is decided from what enforces it.
//!
//! Each enforcer gives a machine outcome — a lint rule: `fail` for a finding at error
//! severity, `warn` for one at warning or info severity, `not-exercised` when it did not
//! run or had no Kling code to read, else `pass`; a harness check: its verdict, with
//! `not-exercised` when no client was run or the harness could not judge it. The worst
//! outcome stands, in the order fail, warn, not-exercised, pass: a line passes only when
//! everything that enforces it ran and found nothing, because a line the linter cleared
//! but the harness never exercised has not been shown to hold.
//!
//! Lines that take an attestation are practices no machine can prove (a secrets manager,
//! a budget check, webhooks in production); their rules and checks can only catch
//! violations. So for them: a machine failure is `fail` (an attestation does not outweigh
//! it), otherwise no valid attestation is `unattested`, a machine warning is `warn`, and
//! else `attested`. On advisory (`info`) lines a failure is reported as `warn`: they never
//! fail the audit.

use super::attest::VALID_DAYS;
use super::checklist::Line;
use super::{Inputs, Item, LintFinding, LintSeverity, Status};
use crate::Verdict;

/// Findings quoted per rule and line; the rest are counted.
const MAX_FINDINGS: usize = 10;

/// What the machines concluded, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Machine {
    Pass,
    NotExercised,
    Warn,
    Fail,
}

/// `demo/app.py:12 KL101 error: duration is a number`.
pub(super) fn finding(f: &LintFinding) -> String {
    format!("{}:{} {} {}: {}", f.path, f.line, f.rule, f.severity.as_str(), f.message)
}

pub(super) fn judge(line: &Line, inputs: &Inputs<'_>) -> Item {
    let mut evidence = Vec::new();
    let mut fix = Vec::new();
    let mut machine: Option<Machine> = None;
    let mut worst = |m: Machine| machine = Some(machine.map_or(m, |w| w.max(m)));

    // Lint rules.
    let lint = inputs.lint;
    let (mut clean, mut off) = (Vec::new(), Vec::new());
    for rule in line.rules() {
        if !lint.rules.iter().any(|r| r == rule) {
            off.push(rule);
            worst(Machine::NotExercised);
            continue;
        }
        let found: Vec<&LintFinding> = lint.findings.iter().filter(|f| f.rule == rule).collect();
        let Some(severity) = found.iter().map(|f| f.severity).max() else {
            clean.push(rule);
            continue;
        };
        worst(if severity == LintSeverity::Error { Machine::Fail } else { Machine::Warn });
        evidence.extend(found.iter().take(MAX_FINDINGS).map(|f| finding(f)));
        if found.len() > MAX_FINDINGS {
            evidence.push(format!(
                "… and {} more {rule} findings (`kling-preflight lint {} --select {rule}` lists them)",
                found.len() - MAX_FINDINGS,
                lint.path
            ));
        }
        if let Some(f) = lint.fixes.get(rule) {
            fix.push(format!("{rule}: {f}"));
        }
    }
    if !clean.is_empty() {
        if lint.files_kling == 0 {
            worst(Machine::NotExercised);
            evidence.push(format!(
                "lint {}: nothing to judge, no file under {} uses the Kling API ({} files read)",
                clean.join(", "),
                lint.path,
                lint.files_scanned
            ));
        } else {
            let files = if lint.files_kling == 1 { "file" } else { "files" };
            evidence.push(format!(
                "lint {}: no findings in {} {files} with Kling code",
                clean.join(", "),
                lint.files_kling
            ));
        }
    }
    if !off.is_empty() {
        evidence.push(format!("lint {}: not run (turned off by the configuration)", off.join(", ")));
    }

    // Harness checks.
    let checks: Vec<&str> = line.checks().collect();
    match inputs.harness {
        None if !checks.is_empty() => {
            worst(Machine::NotExercised);
            evidence.push(format!("{}: not exercised (no client command)", checks.join(", ")));
        }
        None => {}
        Some(report) => {
            for id in checks {
                let Some(c) = report.check(id) else {
                    worst(Machine::NotExercised);
                    evidence.push(format!("{id}: not in the harness report"));
                    continue;
                };
                let (m, verdict) = match c.verdict {
                    Verdict::Pass => (Machine::Pass, "pass"),
                    Verdict::Fail => (Machine::Fail, "fail"),
                    Verdict::Warn => (Machine::Warn, "warn"),
                    Verdict::NotExercised | Verdict::Manual => (Machine::NotExercised, "not exercised"),
                    Verdict::Error => (Machine::NotExercised, "harness error"),
                };
                worst(m);
                if c.evidence.is_empty() {
                    evidence.push(format!("{id} {verdict}"));
                }
                evidence.extend(c.evidence.iter().map(|e| format!("{id} {verdict}: {e}")));
                if matches!(m, Machine::Fail | Machine::Warn) && !c.fix.is_empty() {
                    fix.push(format!("{id}: {}", c.fix));
                }
            }
        }
    }

    // The attestation.
    let attestation = line.attest.as_ref().and_then(|_| inputs.attestations.get(&line.id)).cloned();
    let attested = attestation.as_ref().is_some_and(|a| a.valid_on(inputs.today));
    if let Some(what) = &line.attest {
        match &attestation {
            Some(a) if attested => {
                evidence.push(format!(
                    "attested by {} on {} (holds until {}): {}",
                    a.by,
                    a.date,
                    a.expires(),
                    a.evidence
                ));
            }
            Some(a) => {
                evidence.push(format!(
                    "the attestation by {} on {} expired on {} (attestations hold {VALID_DAYS} days): {}",
                    a.by,
                    a.date,
                    a.expires(),
                    a.evidence
                ));
                fix.push(format!("attest again: {what}"));
            }
            None => {
                evidence.push(
                    inputs.attestations.file.as_deref().map_or_else(
                        || "not attested (no --attest FILE)".to_owned(),
                        |f| format!("not attested in {f}"),
                    ),
                );
                fix.push(format!("attest it ([[attest]] line = \"{}\", by, date, evidence): {what}", line.id));
            }
        }
        if let Some(note) = attestation.as_ref().and_then(|a| a.note.as_deref()) {
            evidence.push(format!("note: {note}"));
        }
    }

    let mut status = match (line.attest.is_some(), machine) {
        (_, Some(Machine::Fail)) => {
            if attested {
                evidence.push("an attestation does not outweigh what the linter or the harness found".to_owned());
            }
            Status::Fail
        }
        (true, _) if !attested => Status::Unattested,
        (_, Some(Machine::Warn)) => Status::Warn,
        (true, _) => Status::Attested,
        (false, Some(Machine::Pass)) => Status::Pass,
        // `None` is a line with neither enforcers nor an attestation: a test keeps the
        // checklist free of them, and nothing vouches for it.
        (false, Some(Machine::NotExercised) | None) => Status::NotExercised,
    };
    if line.info && status.fails() {
        evidence.push("an advisory line: what it finds is a warning".to_owned());
        status = Status::Warn;
    }
    if !matches!(status, Status::Fail | Status::Warn | Status::Unattested) {
        fix.clear();
    }
    Item {
        id: line.id.clone(),
        section: line.section.clone(),
        text: line.text.clone(),
        status,
        enforced_by: line.enforced_by.clone(),
        evidence,
        info: line.info,
        attest: line.attest.clone(),
        attestation,
        fix,
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample::{audit_report, lint, today};
    use super::super::{Attestations, Inputs, LintResults, Status, audit};

    fn status(report: &super::super::AuditReport, id: &str) -> Status {
        report.item(id).unwrap().status
    }

    #[test]
    fn lint_only_lines_pass_and_lines_with_checks_are_not_exercised_without_a_client() {
        let r = audit_report(false);
        assert_eq!(r.items.len(), 41);
        // AUTH-1: KL205 found a committed key; ERR-2: KL402 warns; both with evidence.
        let auth1 = r.item("AUTH-1").unwrap();
        assert_eq!(auth1.status, Status::Fail);
        assert_eq!(auth1.evidence[0], "demo/.env:2 KL205 error: a Kling secret key is committed here");
        assert!(auth1.fix[0].starts_with("KL205: Load the key"), "{:?}", auth1.fix);
        assert_eq!(status(&r, "ERR-2"), Status::Warn);
        // ERR-6: KL101 clean, the other rules not selected, the checks not run.
        let err6 = r.item("ERR-6").unwrap();
        assert_eq!(err6.status, Status::NotExercised);
        assert!(err6.evidence.iter().any(|e| e == "lint KL101: no findings in 3 files with Kling code"), "{err6:?}");
        assert!(err6.evidence.iter().any(|e| e.ends_with("not exercised (no client command)")), "{err6:?}");
        // Attestations: valid, stale, missing.
        assert_eq!(status(&r, "AUTH-3"), Status::Attested);
        let auth4 = r.item("AUTH-4").unwrap();
        assert_eq!(auth4.status, Status::Unattested);
        assert!(auth4.evidence[0].contains("expired on 2026-09-28"), "{auth4:?}");
        assert_eq!(status(&r, "COST-2"), Status::Unattested);
        // The parse error is no checklist line's, but the summary keeps it.
        assert_eq!(r.summary.lint.outside_checklist, ["demo/broken.py:1 KL001 warning: could not parse this file"]);
        assert!(r.summary.failing.contains(&"AUTH-1".to_owned()) && r.summary.failing.contains(&"AUTH-4".to_owned()));
        assert!(!r.summary.failing.contains(&"ERR-2".to_owned()));
        assert_eq!(r.exit_code(), 1);
    }

    #[test]
    fn harness_verdicts_decide_with_the_lint_results() {
        let r = audit_report(true);
        // errors.backoff failed: ERR-2 fails, with the check's evidence and fix.
        let err2 = r.item("ERR-2").unwrap();
        assert_eq!(err2.status, Status::Fail);
        assert!(err2.evidence.iter().any(|e| e.starts_with("errors.backoff fail: [rate-limited-forever]")), "{err2:?}");
        assert!(err2.fix.iter().any(|f| f.starts_with("errors.backoff: ")), "{err2:?}");
        // CONTENT-3 (info) with a warning: warn, never failing.
        assert_eq!(status(&r, "CONTENT-3"), Status::Warn);
        assert!(!r.summary.failing.contains(&"CONTENT-3".to_owned()));
        // The sample report has only four checks: the others are not in it.
        assert_eq!(status(&r, "ERR-5"), Status::NotExercised);
        assert_eq!(r.client.as_deref(), Some("python3 'my client.py'"));
        assert_eq!(r.scenarios.len(), 1);
    }

    #[test]
    fn a_line_passes_only_when_everything_that_enforces_it_ran() {
        // AUTH-2 is KL202, KL203 and two checks; give it a report where both pass.
        let mut report = crate::report::sample::report();
        for id in ["auth.jwt-claims", "auth.token-refresh"] {
            let mut c = report.checks[0].clone();
            c.id = id.into();
            c.verdict = crate::Verdict::Pass;
            report.checks.push(c);
        }
        let mut lint = LintResults { files_kling: 2, ..lint() };
        lint.rules = vec!["KL202".into(), "KL203".into()];
        let none = Attestations::none();
        let run =
            |lint: &LintResults| audit(&Inputs { lint, harness: Some(&report), attestations: &none, today: today() });
        assert_eq!(status(&run(&lint), "AUTH-2"), Status::Pass);
        // KL203 turned off by the configuration: not everything ran.
        lint.rules = vec!["KL202".into()];
        let r = run(&lint);
        assert_eq!(status(&r, "AUTH-2"), Status::NotExercised);
        assert!(r.item("AUTH-2").unwrap().evidence.iter().any(|e| e.contains("KL203: not run")));
        // No Kling code at all: the clean rules judged nothing.
        lint.rules = vec!["KL202".into(), "KL203".into()];
        lint.files_kling = 0;
        let r = run(&lint);
        assert_eq!(status(&r, "AUTH-2"), Status::NotExercised);
        assert!(r.item("AUTH-2").unwrap().evidence[0].contains("nothing to judge"), "{:?}", r.item("AUTH-2"));
    }

    #[test]
    fn an_attestation_never_outweighs_a_finding() {
        let text = "[[attest]]\nline = \"AUTH-1\"\nby = \"a\"\ndate = 2026-11-01\nevidence = \"vault path\"\n";
        let a = Attestations::parse("a.toml", text, today()).unwrap();
        let lint = lint();
        let r = audit(&Inputs { lint: &lint, harness: None, attestations: &a, today: today() });
        let item = r.item("AUTH-1").unwrap();
        assert_eq!(item.status, Status::Fail);
        assert!(item.evidence.iter().any(|e| e.contains("does not outweigh")), "{item:?}");
        // Without the finding, the attestation stands.
        let clean = LintResults { findings: Vec::new(), ..lint };
        let r = audit(&Inputs { lint: &clean, harness: None, attestations: &a, today: today() });
        assert_eq!(status(&r, "AUTH-1"), Status::Attested);
        // And it goes stale after 90 days.
        let later = today().add_days(120);
        let r = audit(&Inputs { lint: &clean, harness: None, attestations: &a, today: later });
        assert_eq!(status(&r, "AUTH-1"), Status::Unattested);
    }
}
