//! Error handling: the retry cap, final errors, the HTTP timeout, failed tasks and
//! connection faults.

use kling_mock::{EntryKind, JournalEntry};

use super::{Judgement, per_run};
use crate::evidence::{self, secs, tagged};
use crate::observation::ScenarioRun;
use crate::runner::Stop;
use crate::scenario::{FAIL_MESSAGE, HTTP_TIMEOUT_MARGIN_SECONDS, HTTP_TIMEOUT_SECONDS};

/// The checklist's retry cap.
const MIN_RETRIES: usize = 3;
const MAX_RETRIES: usize = 5;

/// Under a 429/5xx that never ends: 3–5 retries, then a non-zero exit.
pub(crate) fn retry_cap(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, "no rate-limited-forever or server-error-forever run", |run| {
        let faulted: Vec<(usize, &JournalEntry)> =
            run.creates().filter(|(_, e)| e.fault.as_ref().is_some_and(|f| f.kind == "error")).collect();
        let Some(&(n1, e1)) = faulted.first() else {
            return Some(Judgement::not_exercised(tagged(
                run,
                format!(
                    "no create met the scenario's error ({} create(s) sent; {})",
                    run.creates().count(),
                    evidence::client_end(run)
                ),
            )));
        };
        let (nl, el) = *faulted.last().unwrap_or(&(n1, e1));
        let retries = faulted.len() - 1;
        let client = run.client.as_ref()?;
        let span = format!(
            "{} creates, each answered {} (#{n1} at {} to #{nl} at {}): {retries} retr{}",
            faulted.len(),
            evidence::answer(e1),
            secs(e1.t_ms),
            secs(el.t_ms),
            if retries == 1 { "y" } else { "ies" }
        );
        let end = evidence::client_end(run);
        let line = |verdict: &str| tagged(run, format!("{span}; {end}{verdict}"));
        Some(if client.stopped == Some(Stop::Deadline) {
            Judgement::fail(vec![line(" — still retrying, so the retries have no cap")])
        } else if client.stopped.is_some() {
            Judgement::not_exercised(line(""))
        } else if retries > MAX_RETRIES {
            Judgement::fail(vec![line(&format!(" — more than {MAX_RETRIES} retries"))])
        } else if retries < MIN_RETRIES {
            Judgement::fail(vec![line(&format!(
                " — fewer than {MIN_RETRIES} retries: a transient 429/5xx deserves {MIN_RETRIES}-{MAX_RETRIES}"
            ))])
        } else if client.succeeded() {
            Judgement::fail(vec![line(" — exit status 0 although no task was ever created")])
        } else {
            Judgement::pass(vec![line("")])
        })
    })
}

/// What makes an answer final: 400, 401 other than 1004, 403, and the 429s the code
/// table calls final (1102 above all). 404 is not on SPEC's list: looking a task up by
/// `external_task_id` again after a second network error is fair.
fn final_error(e: &JournalEntry) -> Option<&'static str> {
    if !e.completed {
        return None;
    }
    match (e.status?, e.code) {
        (429, Some(1102)) => Some("no credits: final although HTTP 429"),
        (429, Some(code)) if kling_api::ErrorCode::from_code(code).is_some_and(|c| !c.is_retryable()) => {
            Some("an account refusal: final although HTTP 429")
        }
        (400, Some(1301)) => Some("content policy"),
        (400, _) => Some("a bad request"),
        (401, Some(1004)) => None,
        (401, _) => Some("bad credentials"),
        (403, _) => Some("forbidden"),
        _ => None,
    }
}

/// Whether `later` sends `e` again: the same create (same body, or the same
/// `external_task_id`), or the same GET.
fn same_request(e: &JournalEntry, later: &JournalEntry) -> bool {
    if e.kind != later.kind || e.method != later.method || e.path != later.path {
        return false;
    }
    if e.method != "POST" {
        return e.query == later.query;
    }
    match (e.body.as_deref(), later.body.as_deref()) {
        (Some(a), Some(b)) => {
            a.sha256 == b.sha256 || (a.external_task_id.is_some() && a.external_task_id == b.external_task_id)
        }
        // A body the mock never read (an authentication failure comes first) cannot
        // be compared; the same endpoint with the same token shape is the same call.
        (None, None) => true,
        _ => false,
    }
}

/// A final error is not followed by the same request.
pub(crate) fn no_retry_final(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, "no request was answered with a final error (400, 401 other than 1004, 403, 1102, 1301)", |run| {
        let entries: Vec<(usize, &JournalEntry)> = run.numbered().collect();
        let mut finals = Vec::new();
        let mut retried = Vec::new();
        for (i, &(n, e)) in entries.iter().enumerate() {
            let Some(why) = final_error(e) else { continue };
            let again: Vec<usize> =
                entries[i + 1..].iter().filter(|(_, later)| same_request(e, later)).map(|(m, _)| *m).collect();
            if again.is_empty() {
                finals.push(format!("{} ({why}) was not sent again", evidence::exchange(n, e)));
            } else {
                let list: Vec<String> = again.iter().take(6).map(|m| format!("#{m}")).collect();
                retried.push(format!(
                    "{} ({why}) was sent again {} time(s): {}",
                    evidence::exchange(n, e),
                    again.len(),
                    list.join(", ")
                ));
            }
            // One final error answers for the request it ends; later copies were
            // judged above as its retries.
            if !retried.is_empty() {
                break;
            }
        }
        if !retried.is_empty() {
            let mut ev: Vec<String> = retried.into_iter().map(|r| tagged(run, r)).collect();
            ev.push(tagged(run, evidence::client_end(run)));
            return Some(Judgement::fail(ev));
        }
        if finals.is_empty() {
            return None;
        }
        finals.truncate(3);
        let mut ev: Vec<String> = finals.into_iter().map(|f| tagged(run, f)).collect();
        ev.push(tagged(run, evidence::client_end(run)));
        Some(Judgement::pass(ev))
    })
}

/// A stalled answer is abandoned within 30 s plus margin.
pub(crate) fn http_timeout(runs: &[&ScenarioRun]) -> Judgement {
    let limit = HTTP_TIMEOUT_SECONDS + HTTP_TIMEOUT_MARGIN_SECONDS;
    per_run(runs, "no stall scenario ran", |run| {
        let stalled = run.numbered().find(|(_, e)| e.fault.as_ref().is_some_and(|f| f.kind == "stall"));
        let Some((n, e)) = stalled else {
            return Some(Judgement::not_exercised(tagged(
                run,
                format!(
                    "the client never sent the request the mock stalls (a task query); {}",
                    evidence::client_end(run)
                ),
            )));
        };
        let stall = e.fault.as_ref().and_then(|f| f.seconds).unwrap_or(0.0);
        let head = format!("{} was held by the mock for {stall} s", evidence::request(n, e));
        // The client moved on when it closed the connection, or when it sent its next
        // request on another one (a client that abandons a request without closing its
        // socket is still done waiting), or when it exited.
        let next = run.numbered().find(|(_, later)| later.t_ms > e.t_ms && later.conn != e.conn);
        let exit = run.client.as_ref().filter(|c| c.stopped.is_none()).map(|c| c.end_ms);
        let candidates = [
            e.client_gone_ms.map(|t| (t, "the client closed the connection".to_owned())),
            next.map(|(m, l)| (l.t_ms, format!("the client sent its next request (#{m}) on another connection"))),
            exit.map(|t| (t, "the client exited".to_owned())),
        ];
        let moved_on = candidates
            .into_iter()
            .flatten()
            .filter(|(t, _)| *t < e.t_ms + stall * 1000.0)
            .min_by(|a, b| a.0.total_cmp(&b.0));
        Some(match moved_on {
            Some((t, how)) => {
                let waited = (t - e.t_ms) / 1000.0;
                let line = tagged(
                    run,
                    format!(
                        "{head}; {how} at {} — it waited {} s (limit {HTTP_TIMEOUT_SECONDS} s + {HTTP_TIMEOUT_MARGIN_SECONDS} s margin)",
                        secs(t),
                        evidence::num(waited)
                    ),
                );
                if waited <= limit { Judgement::pass(vec![line]) } else { Judgement::fail(vec![line]) }
            }
            None if e.completed => Judgement::fail(vec![tagged(
                run,
                format!(
                    "{head}; the client waited all of it and took the answer at {}: it has no timeout under {limit} s",
                    secs(e.t_ms + e.duration_ms)
                ),
            )]),
            None => match &run.client {
                Some(c) if c.stopped.is_some() && c.end_ms - e.t_ms < limit * 1000.0 => {
                    Judgement::not_exercised(tagged(
                        run,
                        format!(
                            "{head}; the harness stopped the client at {}, before the {limit} s limit: raise --max-wait-seconds",
                            secs(c.end_ms)
                        ),
                    ))
                }
                _ => Judgement::fail(vec![tagged(
                    run,
                    format!(
                        "{head}; the client was still waiting when {}",
                        evidence::client_end(run).trim_start_matches("the client ")
                    ),
                )]),
            },
        })
    })
}

/// A failed task: non-zero exit and `task_status_msg` printed.
pub(crate) fn failed_status(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, "no task-failed run", |run| {
        let seen = run.api().find(|(_, e)| e.completed && e.task_status.as_deref() == Some("failed"));
        let Some((n, e)) = seen else {
            return Some(Judgement::not_exercised(tagged(
                run,
                format!(
                    "the client never read its task as `failed` (it never polled it to the end); {}",
                    evidence::client_end(run)
                ),
            )));
        };
        let client = run.client.as_ref()?;
        let mut ev = vec![tagged(run, evidence::exchange(n, e))];
        let printed = run.find_line(FAIL_MESSAGE);
        match printed {
            Some((stream, ln, line)) => {
                ev.push(tagged(run, format!("task_status_msg printed: {}", evidence::line(run, stream, ln, line))));
            }
            None => {
                ev.push(tagged(run, format!("task_status_msg ({FAIL_MESSAGE:?}) appears nowhere in stdout or stderr")));
            }
        }
        ev.push(tagged(run, evidence::client_end(run)));
        Some(if client.failed() && printed.is_some() {
            Judgement::pass(ev)
        } else {
            if client.succeeded() {
                ev.push(
                    "a failed task must end in a non-zero exit, or callers take the missing video for a success".into(),
                );
            }
            Judgement::fail(ev)
        })
    })
}

/// After a reset or an empty answer the client retries, without a second task.
pub(crate) fn connection_fault(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, "no conn-reset run", |run| {
        let faults: Vec<(usize, &JournalEntry)> = run
            .numbered()
            .filter(|(_, e)| {
                e.fault.as_ref().is_some_and(|f| matches!(f.kind.as_str(), "reset" | "empty" | "truncate"))
            })
            .collect();
        if faults.is_empty() {
            return Some(Judgement::not_exercised(tagged(
                run,
                format!(
                    "no request met a connection fault (the create never got past the request checks?); {}",
                    evidence::client_end(run)
                ),
            )));
        }
        let mut ev = Vec::new();
        let mut bad = false;
        for &(n, e) in &faults {
            let later: Vec<(usize, &JournalEntry)> = run.numbered().filter(|(m, _)| *m > n).collect();
            let head = evidence::exchange(n, e);
            if e.route == "create" {
                let ext = e
                    .body
                    .as_ref()
                    .and_then(|b| b.external_task_id.as_ref())
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
                let lookup = later.iter().find(|(_, l)| {
                    l.method == "GET"
                        && l.kind == EntryKind::Api
                        && (l.route == "list" || ext.as_deref().is_some_and(|x| l.path.ends_with(&format!("/{x}"))))
                });
                let recreate = later.iter().find(|(_, l)| l.route == "create" && l.path == e.path);
                let made = if e.task_id.is_some() { " (the mock had created the task)" } else { "" };
                match (lookup, recreate) {
                    (Some((m, l)), r) if r.is_none_or(|(rm, _)| rm > m) => {
                        ev.push(format!(
                            "{head}{made}; the client looked the task up before creating again: {}",
                            evidence::exchange(*m, l)
                        ));
                    }
                    (_, Some((m, r))) => {
                        let same = ext.is_some()
                            && r.body.as_ref().and_then(|b| b.external_task_id.as_ref()).and_then(|v| v.as_str())
                                == ext.as_deref();
                        if same {
                            ev.push(format!(
                                "{head}{made}; the retried create {} carried the same external_task_id {:?}, so it cannot make a second task",
                                evidence::exchange(*m, r),
                                ext.as_deref().unwrap_or_default()
                            ));
                        } else {
                            bad = true;
                            let why = if ext.is_none() {
                                "neither carried an external_task_id"
                            } else {
                                "it carried another external_task_id"
                            };
                            ev.push(format!(
                                "{head}{made}; the client created again without checking: {} — {why}, so the mock now holds {} task(s) for one video",
                                evidence::exchange(*m, r),
                                run.tasks.len()
                            ));
                        }
                    }
                    _ => {
                        bad = true;
                        ev.push(format!(
                            "{head}{made}; the client neither retried nor looked the task up; {}",
                            evidence::client_end(run)
                        ));
                    }
                }
            } else if let Some((m, l)) = later.iter().find(|(_, l)| l.method == e.method && l.path == e.path) {
                ev.push(format!("{head}; retried: {}", evidence::exchange(*m, l)));
            } else {
                bad = true;
                ev.push(format!("{head}; never asked again; {}", evidence::client_end(run)));
            }
        }
        let ev = ev.into_iter().map(|l| tagged(run, l)).collect();
        Some(if bad { Judgement::fail(ev) } else { Judgement::pass(ev) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::{ClientEnd, fake};
    use crate::report::Verdict;
    use serde_json::json;

    fn forever(n: usize, end: Option<Stop>, code: i32) -> ScenarioRun {
        let entries = (0..n)
            .map(|i| {
                let mut e = fake::create(0.1 + i as f64, 429, 1302);
                e.fault = Some(fake::fault("error", Some(1302), Some(0)));
                e
            })
            .collect();
        let mut r = fake::run("rate-limited-forever", entries, code, n as f64 + 1.0);
        r.client = Some(ClientEnd {
            code: end.is_none().then_some(code),
            signal: None,
            stopped: end,
            end_ms: (n as f64 + 1.0) * 1000.0,
        });
        r
    }

    #[test]
    fn retry_cap_bounds() {
        let j = retry_cap(&[&forever(5, None, 1)]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert_eq!(
            j.evidence[0],
            "[rate-limited-forever] 5 creates, each answered 429/1302 (#1 at 0.10 s to #5 at 4.10 s): 4 retries; the \
             client exited with code 1 at 6.00 s"
        );
        assert_eq!(retry_cap(&[&forever(7, None, 1)]).verdict, Verdict::Fail);
        assert_eq!(retry_cap(&[&forever(2, None, 1)]).verdict, Verdict::Fail);
        assert_eq!(retry_cap(&[&forever(4, None, 0)]).verdict, Verdict::Fail);
        let j = retry_cap(&[&forever(9, Some(Stop::Deadline), 0)]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].ends_with("still retrying, so the retries have no cap"), "{j:?}");
    }

    #[test]
    fn final_errors_and_their_retries() {
        let mut first = fake::create(0.1, 429, 1102);
        first.fault = None;
        let mut again = first.clone();
        again.t_ms = 1100.0;
        let j = no_retry_final(&[&fake::run("credits-depleted", vec![first.clone(), again], 1, 2.0)]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].contains("(no credits: final although HTTP 429) was sent again 1 time(s): #2"), "{j:?}");
        let j = no_retry_final(&[&fake::run("credits-depleted", vec![first], 1, 2.0)]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        // 401/1004 is not final, and an abandoned request is not an answer.
        let mut expired = fake::query(1.0, "processing");
        expired.status = Some(401);
        expired.code = Some(1004);
        let j = no_retry_final(&[&fake::run("token-expiry", vec![expired.clone(), expired], 0, 2.0)]);
        assert_eq!(j.verdict, Verdict::NotExercised);
        // Other final 429s count; 1302 and 404 do not.
        let whitelist = fake::create(0.1, 429, 1304);
        let j = no_retry_final(&[&fake::run("happy", vec![whitelist.clone(), whitelist], 1, 2.0)]);
        assert_eq!(j.verdict, Verdict::Fail, "{j:?}");
        let limited = fake::create(0.1, 429, 1302);
        let mut missing = fake::query(0.2, "submitted");
        (missing.status, missing.code) = (Some(404), Some(1203));
        let runs = fake::run("happy", vec![limited.clone(), limited, missing.clone(), missing], 0, 2.0);
        assert_eq!(no_retry_final(&[&runs]).verdict, Verdict::NotExercised);
    }

    #[test]
    fn stalls_are_judged_by_when_the_client_moved_on() {
        let stalled = |gone: Option<f64>, completed: bool| {
            let mut e = fake::query(1.0, "processing");
            e.fault =
                Some(kling_mock::FiredFault { rule: Some(0), kind: "stall".into(), code: None, seconds: Some(40.0) });
            e.client_gone_ms = gone.map(|s| s * 1000.0);
            e.completed = completed;
            e.duration_ms = if completed { 40_000.0 } else { 30_000.0 };
            e
        };
        let j = http_timeout(&[&fake::run("stall", vec![stalled(Some(31.02), false)], 0, 34.0)]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert_eq!(
            j.evidence[0],
            "[stall] GET /v1/videos/text2video/800000000000000001 #1 at 1.00 s was held by the mock for 40 s; the client \
             closed the connection at 31.02 s — it waited 30.02 s (limit 30 s + 5 s margin)"
        );
        let j = http_timeout(&[&fake::run("stall", vec![stalled(None, true)], 0, 44.0)]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].contains("waited all of it and took the answer at 41.00 s"), "{j:?}");
        // Moving on over a new connection counts even if the old socket stays open.
        let mut next = fake::query(31.5, "succeed");
        next.conn = Some(2);
        let j = http_timeout(&[&fake::run("stall", vec![stalled(None, false), next], 0, 34.0)]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert_eq!(http_timeout(&[&fake::run("stall", vec![], 1, 0.1)]).verdict, Verdict::NotExercised);
    }

    #[test]
    fn failed_tasks_need_the_message_and_a_failure_exit() {
        let mut r = fake::run("task-failed", vec![fake::create(0.1, 200, 0), fake::query(2.5, "failed")], 1, 2.6);
        r.stderr = fake::lines(&[&format!("{{\"event\":\"task_failed\",\"task_status_msg\":{FAIL_MESSAGE:?}}}")]);
        let j = failed_status(&[&r]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(j.evidence[1].starts_with("[task-failed] task_status_msg printed: stderr line 1 at 0.00 s"), "{j:?}");
        r.client.as_mut().unwrap().code = Some(0);
        assert_eq!(failed_status(&[&r]).verdict, Verdict::Fail);
        r.stderr = fake::lines(&["task failed"]);
        r.client.as_mut().unwrap().code = Some(1);
        assert_eq!(failed_status(&[&r]).verdict, Verdict::Fail);
    }

    #[test]
    fn connection_faults_on_creates() {
        let mut reset = fake::create(0.1, 200, 0);
        reset.completed = false;
        reset.fault = Some(fake::fault("reset", None, Some(0)));
        let lookup = fake::entry(0.6, "GET", "/v1/videos/text2video/ext-1", "query", 200, 0);
        let j = connection_fault(&[&fake::run("conn-reset", vec![reset.clone(), lookup], 0, 3.0)]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(j.evidence[0].contains("looked the task up before creating again"), "{j:?}");

        let mut blind = fake::create(0.6, 200, 0);
        blind.body = Some(Box::new(fake::body(&json!({"prompt": "a fox"}))));
        let mut bare = reset.clone();
        bare.body = blind.body.clone();
        let mut r = fake::run("conn-reset", vec![bare, blind], 0, 3.0);
        r.tasks = Vec::new();
        let j = connection_fault(&[&r]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].contains("neither carried an external_task_id"), "{j:?}");

        let same = fake::create(0.6, 400, 1201);
        let j = connection_fault(&[&fake::run("conn-reset", vec![reset, same], 1, 3.0)]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
    }
}
