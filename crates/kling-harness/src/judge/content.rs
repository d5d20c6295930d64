//! What goes into a create and around it: prompt validation, the negative prompt,
//! standard mode, and structured logs.

use serde_json::Value;

use super::{Judgement, per_run};
use crate::evidence::{self, plural, tagged};
use crate::observation::{ScenarioRun, Stream};

/// An over-long prompt is refused before any API call.
pub(crate) fn prompt_validation(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, "no invalid-prompt run", |run| {
        let client = run.client.as_ref()?;
        let prompt_chars = run.scenario.prompt().chars().count();
        if let Some((n, e)) = run.creates().next() {
            return Some(Judgement::fail(vec![tagged(
                run,
                format!(
                    "given a {prompt_chars}-character prompt (the limit is {}), the client sent {}",
                    kling_api::params::PROMPT_MAX_CHARS,
                    evidence::exchange(n, e)
                ),
            )]));
        }
        let others = run.api().count();
        let mut line = format!(
            "given a {prompt_chars}-character prompt, the client created no task{}; {}",
            if others > 0 { format!(" ({} of another kind)", plural(others, "API request")) } else { String::new() },
            evidence::client_end(run)
        );
        if let Some((stream, n, l)) = run.stderr.lines.first().map(|l| (Stream::Stderr, 1, l)) {
            line.push_str(&format!("; {}", evidence::line(run, stream, n, l)));
        }
        Some(if client.failed() {
            Judgement::pass(vec![tagged(run, line)])
        } else if client.succeeded() {
            Judgement::fail(vec![tagged(run, format!("{line} — exit status 0 says a video was made when none was"))])
        } else {
            Judgement::fail(vec![tagged(run, line)])
        })
    })
}

/// The body summaries of every create that reached validation.
fn bodies<'a>(runs: &'a [&'a ScenarioRun]) -> Vec<(&'a ScenarioRun, usize, &'a kling_mock::JournalEntry)> {
    runs.iter()
        .flat_map(|r| {
            r.creates()
                .filter(|(_, e)| e.body.as_ref().is_some_and(|b| b.json_error.is_none()))
                .map(move |(n, e)| (*r, n, e))
        })
        .collect()
}

/// Every create carries a negative prompt (informational).
pub(crate) fn negative_prompt(runs: &[&ScenarioRun]) -> Judgement {
    let creates = bodies(runs);
    if creates.is_empty() {
        return Judgement::not_exercised("no create with a JSON body reached the mock in any scenario");
    }
    let without: Vec<String> = creates
        .iter()
        .filter(|(_, _, e)| e.body.as_ref().is_some_and(|b| !b.negative_prompt))
        .take(3)
        .map(|(r, n, e)| tagged(r, format!("{} sent no negative_prompt", evidence::exchange(*n, e))))
        .collect();
    if without.is_empty() {
        Judgement::pass(vec![format!(
            "{} sent, each with a non-empty negative_prompt",
            plural(creates.len(), "create")
        )])
    } else {
        Judgement::warn(without)
    }
}

/// Creates use `mode: std` or leave it out (informational).
pub(crate) fn standard_mode(runs: &[&ScenarioRun]) -> Judgement {
    let creates = bodies(runs);
    if creates.is_empty() {
        return Judgement::not_exercised("no create with a JSON body reached the mock in any scenario");
    }
    let mut other = Vec::new();
    let mut absent = 0;
    for (r, n, e) in &creates {
        match e.body.as_ref().and_then(|b| b.mode.as_ref()) {
            None => absent += 1,
            Some(Value::String(m)) if m == "std" => {}
            Some(m) => other.push(tagged(r, format!("{} sent mode {m}", evidence::exchange(*n, e)))),
        }
    }
    if other.is_empty() {
        let note = if absent > 0 { format!(" ({absent} without mode, which means std)") } else { String::new() };
        Judgement::pass(vec![format!("{} sent, each with mode std{note}", plural(creates.len(), "create"))])
    } else {
        other.truncate(3);
        other.push("pro costs several times std; choose it per render, for final output only".into());
        Judgement::warn(other)
    }
}

/// Every stderr line is a JSON object (informational).
pub(crate) fn structured_logs(runs: &[&ScenarioRun]) -> Judgement {
    let judged = per_run(runs, "no scenario ran a client", |run| {
        run.client.as_ref()?;
        let lines: Vec<(usize, &crate::runner::Line)> = run
            .stderr
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .filter(|(_, l)| !l.text.trim().is_empty())
            .collect();
        if lines.is_empty() {
            return Some(Judgement::not_exercised(tagged(run, "nothing on stderr")));
        }
        let plain: Vec<&(usize, &crate::runner::Line)> = lines
            .iter()
            .filter(|(_, l)| !matches!(serde_json::from_str::<Value>(l.text.trim()), Ok(Value::Object(_))))
            .collect();
        Some(match plain.first() {
            None => Judgement::pass(vec![tagged(
                run,
                format!("{} on stderr, each a JSON object", plural(lines.len(), "line")),
            )]),
            Some((n, l)) => Judgement::warn(vec![tagged(
                run,
                format!(
                    "{} of {} stderr lines are not JSON objects, e.g. {}",
                    plain.len(),
                    lines.len(),
                    evidence::line(run, Stream::Stderr, *n, l)
                ),
            )]),
        })
    })
    .compact_passes();
    if judged.verdict == crate::report::Verdict::NotExercised {
        // Silence is not structure: a client that logs nothing misses the point of the line.
        let mut j = Judgement::warn(vec!["the client wrote nothing to stderr in any scenario: no logs to read".into()]);
        if runs.iter().all(|r| r.client.is_none()) {
            j = judged;
        }
        return j;
    }
    judged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::fake;
    use crate::report::Verdict;
    use serde_json::json;

    #[test]
    fn long_prompts_must_stop_before_the_api() {
        let mut run = fake::run("invalid-prompt", vec![], 2, 0.1);
        run.stderr = fake::lines(&["{\"event\": \"invalid_prompt\", \"chars\": 2600}"]);
        let j = prompt_validation(&[&run]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(j.evidence[0].starts_with("[invalid-prompt] given a 2600-character prompt, the client created no task; the client exited with code 2"), "{j:?}");
        let sent = fake::run("invalid-prompt", vec![fake::create(0.1, 400, 1201)], 1, 0.3);
        let j = prompt_validation(&[&sent]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].contains("the client sent POST /v1/videos/text2video #1 at 0.10 s → 400/1201"), "{j:?}");
        assert_eq!(prompt_validation(&[&fake::run("invalid-prompt", vec![], 0, 0.1)]).verdict, Verdict::Fail);
    }

    #[test]
    fn informational_request_checks_warn() {
        let mut e = fake::create(0.1, 200, 0);
        e.body = Some(Box::new(fake::body(&json!({"prompt": "x", "mode": "pro"}))));
        let run = fake::run("happy", vec![e], 0, 1.0);
        assert_eq!(negative_prompt(&[&run]).verdict, Verdict::Warn);
        let j = standard_mode(&[&run]);
        assert_eq!(j.verdict, Verdict::Warn);
        assert!(j.evidence[0].ends_with("sent mode \"pro\""), "{j:?}");
        let ok = fake::run("happy", vec![fake::create(0.1, 200, 0)], 0, 1.0);
        assert_eq!(negative_prompt(&[&ok]).verdict, Verdict::Pass);
        assert_eq!(standard_mode(&[&ok]).verdict, Verdict::Pass);
    }

    #[test]
    fn logs_must_be_json_objects() {
        let mut run = fake::run("happy", vec![], 0, 1.0);
        run.stderr = fake::lines(&["{\"event\": \"created\"}", "Traceback (most recent call last):"]);
        let j = structured_logs(&[&run]);
        assert_eq!(j.verdict, Verdict::Warn);
        assert!(j.evidence[0].contains("1 of 2 stderr lines are not JSON objects, e.g. stderr line 2"), "{j:?}");
        run.stderr = fake::lines(&["{\"event\": \"created\"}"]);
        assert_eq!(structured_logs(&[&run]).verdict, Verdict::Pass);
        run.stderr = fake::lines(&[]);
        assert_eq!(structured_logs(&[&run]).verdict, Verdict::Warn);
    }
}
