//! The judges: one function per check id, each reading the scenario runs that decide
//! its check and returning a verdict with evidence.
//!
//! Every judge follows the same discipline: it looks for the decisive point first
//! (the stalled request, the failed task, the final error) and answers
//! `not-exercised` when no run reached it, so that a client that crashed early can
//! never pass by default. Evidence quotes the journal and the output in the words of
//! [`crate::evidence`].

mod auth;
mod backoff;
mod content;
mod errors;
mod request;
mod security;
mod tasks;

use crate::checks::{self, Check};
use crate::observation::ScenarioRun;
use crate::report::{CheckResult, Verdict};

/// A verdict and the lines that support it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Judgement {
    pub(crate) verdict: Verdict,
    pub(crate) evidence: Vec<String>,
}

impl Judgement {
    pub(crate) fn new(verdict: Verdict, evidence: Vec<String>) -> Self {
        Judgement { verdict, evidence }
    }

    pub(crate) fn pass(evidence: Vec<String>) -> Self {
        Judgement::new(Verdict::Pass, evidence)
    }

    pub(crate) fn fail(evidence: Vec<String>) -> Self {
        Judgement::new(Verdict::Fail, evidence)
    }

    pub(crate) fn warn(evidence: Vec<String>) -> Self {
        Judgement::new(Verdict::Warn, evidence)
    }

    pub(crate) fn not_exercised(why: impl Into<String>) -> Self {
        Judgement::new(Verdict::NotExercised, vec![why.into()])
    }
}

/// How bad a verdict is when several runs are combined: the worst decides.
fn severity(v: Verdict) -> u8 {
    match v {
        Verdict::NotExercised => 0,
        Verdict::Manual => 1,
        Verdict::Pass => 2,
        Verdict::Warn => 3,
        Verdict::Fail => 4,
        Verdict::Error => 5,
    }
}

/// Judge each run on its own and combine: the worst verdict wins, and its evidence
/// comes first. Runs for which `judge` returns `None` had nothing to judge; when no
/// run had, the result is `not-exercised` with `nothing`.
pub(crate) fn per_run(
    runs: &[&ScenarioRun],
    nothing: &str,
    judge: impl Fn(&ScenarioRun) -> Option<Judgement>,
) -> Judgement {
    let mut judged: Vec<Judgement> = runs.iter().filter_map(|r| judge(r)).collect();
    if judged.is_empty() {
        return Judgement::not_exercised(nothing);
    }
    judged.sort_by_key(|j| std::cmp::Reverse(severity(j.verdict)));
    let verdict = judged[0].verdict;
    let mut evidence = Vec::new();
    for j in &judged {
        // Under a failure, passing runs add little; keep a short tail of them.
        if j.verdict != verdict && severity(verdict) > severity(Verdict::Pass) && evidence.len() >= 12 {
            break;
        }
        evidence.extend(j.evidence.iter().cloned());
    }
    Judgement { verdict, evidence }
}

type JudgeFn = fn(&[&ScenarioRun]) -> Judgement;

/// The judge of each check id.
fn judge_for(id: &str) -> Option<JudgeFn> {
    Some(match id {
        "request.duration-string" => request::duration_string,
        "request.model-supports-endpoint" => request::model_supports_endpoint,
        "auth.bearer-format" => auth::bearer_format,
        "auth.jwt-header" => auth::jwt_header,
        "auth.jwt-claims" => auth::jwt_claims,
        "auth.token-refresh" => auth::token_refresh,
        "errors.backoff" => backoff::judge,
        "errors.retry-cap" => errors::retry_cap,
        "errors.no-retry-final" => errors::no_retry_final,
        "errors.http-timeout" => errors::http_timeout,
        "errors.failed-status" => errors::failed_status,
        "errors.connection-fault" => errors::connection_fault,
        "tasks.poll-cap" => tasks::poll_cap,
        "tasks.poll-interval" => tasks::poll_interval,
        "tasks.id-logged" => tasks::id_logged,
        "tasks.download-promptly" => tasks::download_promptly,
        "perf.connection-reuse" => tasks::connection_reuse,
        "security.no-secret-in-output" => security::no_secret_in_output,
        "security.webhook-https" => security::webhook_https,
        "content.prompt-validation" => content::prompt_validation,
        "content.negative-prompt" => content::negative_prompt,
        "cost.standard-mode" => content::standard_mode,
        "monitoring.structured-logs" => content::structured_logs,
        _ => return None,
    })
}

/// Judge every check of the catalog from the runs of one harness run.
pub(crate) fn judge_all(runs: &[ScenarioRun]) -> Vec<CheckResult> {
    checks::all().iter().map(|check| judge_one(check, runs)).collect()
}

fn judge_one(check: &Check, runs: &[ScenarioRun]) -> CheckResult {
    let feeding: Vec<&ScenarioRun> = runs.iter().filter(|r| check.fed_by(r.id())).collect();
    let (usable, broken): (Vec<&ScenarioRun>, Vec<&ScenarioRun>) = feeding.iter().partition(|r| r.error.is_none());
    let mut judgement = if feeding.is_empty() {
        let wanted = if check.fed_by_all() { "any scenario".to_owned() } else { check.scenarios.join(", ") };
        Judgement::not_exercised(format!("needs {wanted}, which did not run (see --scenario)"))
    } else if usable.is_empty() {
        Judgement::new(Verdict::Error, Vec::new())
    } else {
        match judge_for(&check.id) {
            Some(judge) => judge(&usable),
            None => Judgement::new(Verdict::Error, vec![format!("no judge for {}; this is a bug", check.id)]),
        }
    };
    if !broken.is_empty() {
        for r in &broken {
            judgement.evidence.push(format!(
                "[{}] the scenario could not run: {}",
                r.id(),
                r.error.as_deref().unwrap_or("unknown error")
            ));
        }
        // A pass with a scenario missing is not a pass; a failure stands on its own.
        if judgement.verdict != Verdict::Fail {
            judgement.verdict = Verdict::Error;
        }
    }
    if check.informational && judgement.verdict == Verdict::Fail {
        judgement.verdict = Verdict::Warn;
    }
    let judged: Vec<String> = usable.iter().map(|r| r.id().to_owned()).collect();
    CheckResult {
        id: check.id.clone(),
        title: check.title.clone(),
        section: check.section.clone(),
        verdict: judgement.verdict,
        evidence: judgement.evidence,
        informational: check.informational,
        checklist: check.checklist.clone(),
        fix: check.fix.clone(),
        scenarios: judged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::fake;

    #[test]
    fn every_check_has_a_judge() {
        for c in checks::all() {
            assert!(judge_for(&c.id).is_some(), "{} has no judge", c.id);
        }
    }

    #[test]
    fn missing_and_broken_scenarios() {
        let happy = fake::run("happy", vec![fake::create(0.1, 200, 0)], 0, 1.0);
        let results = judge_all(std::slice::from_ref(&happy));
        let stuck = results.iter().find(|c| c.id == "tasks.poll-cap").unwrap();
        assert_eq!(stuck.verdict, Verdict::NotExercised);
        assert_eq!(stuck.evidence, ["needs task-stuck, which did not run (see --scenario)"]);

        let mut broken = fake::run("task-stuck", vec![], 0, 0.0);
        broken.error = Some("cannot start the mock".into());
        broken.client = None;
        let results = judge_all(&[happy, broken]);
        let stuck = results.iter().find(|c| c.id == "tasks.poll-cap").unwrap();
        assert_eq!(stuck.verdict, Verdict::Error);
        assert!(stuck.evidence[0].contains("cannot start the mock"), "{:?}", stuck.evidence);
        // A check fed by every scenario cannot pass with one of them missing.
        let duration = results.iter().find(|c| c.id == "request.duration-string").unwrap();
        assert_eq!(duration.verdict, Verdict::Error);
    }
}
