//! Task handling and transport: the poll cap and interval, logging task ids, the
//! prompt download, and connection reuse.

use std::collections::BTreeMap;

use kling_mock::{EntryKind, JournalEntry};

use super::{Judgement, per_run};
use crate::evidence::{self, num, plural, secs, tagged};
use crate::observation::ScenarioRun;
use crate::runner::Stop;
use crate::scenario::poll_cap_margin;

/// A journal entry with its request number.
type Numbered<'a> = (usize, &'a JournalEntry);

/// Polls closer than this are too close; 1 s less timing noise.
const MIN_POLL_GAP: f64 = 0.95;

fn answered_create(run: &ScenarioRun) -> Option<(usize, &JournalEntry)> {
    run.creates().find(|(_, e)| e.completed && e.status == Some(200) && e.code == Some(0))
}

/// A stuck task: the client gives up within the poll hint plus margin.
pub(crate) fn poll_cap(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, "no task-stuck run", |run| {
        let Some((n, e)) = answered_create(run) else {
            return Some(Judgement::not_exercised(tagged(
                run,
                format!("no create was answered with a task, so no task got stuck; {}", evidence::client_end(run)),
            )));
        };
        let client = run.client.as_ref()?;
        let start = e.t_ms + e.duration_ms;
        let limit = run.poll_timeout + poll_cap_margin(run.poll_timeout);
        let polls = run.api().filter(|(_, q)| q.route == "query" && q.t_ms > e.t_ms).count();
        let last = run.numbered().last().map(|(m, l)| format!("last request #{m} at {}", secs(l.t_ms)));
        let spent = (client.end_ms - start) / 1000.0;
        let line = tagged(
            run,
            format!(
                "create answered at {} (#{n}); the task stayed processing through {}; {}; {}: {} s after the create \
                 (KLING_POLL_TIMEOUT_SECONDS {}, limit {} s)",
                secs(start),
                plural(polls, "status query"),
                last.unwrap_or_else(|| "no request after it".into()),
                evidence::client_end(run),
                num(spent),
                run.poll_timeout,
                num(limit)
            ),
        );
        Some(match client.stopped {
            Some(Stop::Deadline) if spent > limit => {
                Judgement::fail(vec![line, "the client was still polling past the limit: the loop has no cap".into()])
            }
            Some(_) => Judgement::not_exercised(format!("{line}; stopped before the limit (raise --max-wait-seconds)")),
            None if spent <= limit => Judgement::pass(vec![line]),
            None => Judgement::fail(vec![line]),
        })
    })
}

/// Consecutive answered queries of one task are at least 1 s apart.
pub(crate) fn poll_interval(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, "no task was queried twice with an answer in any scenario", |run| {
        let mut by_task: BTreeMap<&str, Vec<(usize, &JournalEntry)>> = BTreeMap::new();
        for (n, e) in run.api() {
            if e.route == "query"
                && e.completed
                && e.code == Some(0)
                && let Some(id) = e.task_id.as_deref()
            {
                by_task.entry(id).or_default().push((n, e));
            }
        }
        let mut gaps = Vec::new();
        let mut shortest: Option<(f64, Numbered<'_>, Numbered<'_>)> = None;
        for polls in by_task.values() {
            for w in polls.windows(2) {
                let gap = (w[1].1.t_ms - w[0].1.t_ms) / 1000.0;
                gaps.push(gap);
                if shortest.is_none_or(|(s, _, _)| gap < s) {
                    shortest = Some((gap, w[0], w[1]));
                }
            }
        }
        let (gap, (an, a), (bn, b)) = shortest?;
        let short = gaps.iter().filter(|g| **g < MIN_POLL_GAP).count();
        Some(if gap >= MIN_POLL_GAP {
            Judgement::pass(vec![tagged(
                run,
                format!(
                    "{} between answered status queries, the shortest {} s ({} → {})",
                    plural(gaps.len(), "gap"),
                    num(gap),
                    evidence::request(an, a),
                    evidence::request(bn, b)
                ),
            )])
        } else {
            Judgement::fail(vec![tagged(
                run,
                format!(
                    "{} came {} s after {} (both answered); {short} of {} gaps under 1 s",
                    evidence::request(bn, b),
                    num(gap),
                    evidence::request(an, a),
                    gaps.len()
                ),
            )])
        })
    })
    .compact_passes()
}

/// Every task id the client received appears in its output.
pub(crate) fn id_logged(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, "the client received no task id in any scenario", |run| {
        let mut received: Vec<(&str, usize, &JournalEntry)> = Vec::new();
        for (n, e) in run.api() {
            if e.completed
                && e.code == Some(0)
                && matches!(e.route.as_str(), "create" | "query")
                && let Some(id) = e.task_id.as_deref()
                && !received.iter().any(|(r, _, _)| *r == id)
            {
                received.push((id, n, e));
            }
        }
        if received.is_empty() {
            return None;
        }
        let mut ev = Vec::new();
        let mut missing = false;
        for (id, n, e) in received {
            if let Some((stream, ln, line)) = run.find_line(id) {
                ev.push(tagged(
                    run,
                    format!("task {id} (from #{n}) is named in {}", evidence::line(run, stream, ln, line)),
                ));
            } else {
                missing = true;
                ev.push(tagged(
                    run,
                    format!(
                        "task {id}, received with {}, appears nowhere in stdout or stderr",
                        evidence::exchange(n, e)
                    ),
                ));
            }
        }
        Some(if missing { Judgement::fail(ev) } else { Judgement::pass(ev) })
    })
    .compact_passes()
}

/// The result is fetched before its URL expires, and saved byte for byte.
pub(crate) fn download_promptly(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, "no task succeeded in any scenario, so there was no video to download", |run| {
        let (sn, served) =
            run.api().find(|(_, e)| e.completed && e.code == Some(0) && e.task_status.as_deref() == Some("succeed"))?;
        let served_at = served.t_ms + served.duration_ms;
        let ttl = run.scenario.url_ttl_seconds();
        let task = served.task_id.as_deref();
        let downloads: Vec<(usize, &JournalEntry)> =
            run.numbered().filter(|(_, d)| d.kind == EntryKind::Cdn && d.task_id.as_deref() == task).collect();
        let head = format!(
            "the result was first served at {} ({}; its URL lives {ttl} s from then)",
            secs(served_at),
            evidence::request(sn, served)
        );
        if downloads.is_empty() {
            return Some(Judgement::fail(vec![tagged(
                run,
                format!("{head}; it was never fetched; {}", evidence::client_end(run)),
            )]));
        }
        let expired = downloads.iter().find(|(_, d)| d.cdn.as_ref().is_some_and(|c| c.expired));
        let good =
            downloads.iter().find(|(_, d)| d.status == Some(200) && d.cdn.as_ref().is_some_and(|c| c.sha256.is_some()));
        if let Some((xn, x)) = expired {
            let mut ev = vec![tagged(
                run,
                format!(
                    "{head}; {} — fetched {} s after it was served, once the URL had expired",
                    evidence::exchange(*xn, x),
                    num((x.t_ms - served_at) / 1000.0)
                ),
            )];
            if let Some((gn, g)) = good {
                ev.push(tagged(
                    run,
                    format!(
                        "a later download with a fresh URL worked ({}), but the first was too late",
                        evidence::exchange(*gn, g)
                    ),
                ));
            }
            return Some(Judgement::fail(ev));
        }
        let Some((gn, g)) = good else {
            let (dn, d) = downloads[0];
            return Some(Judgement::fail(vec![tagged(
                run,
                format!("{head}; no download succeeded: {}", evidence::exchange(dn, d)),
            )]));
        };
        let cdn = g.cdn.as_ref()?;
        let sha = cdn.sha256.as_deref().unwrap_or_default();
        let fetched = format!(
            "{head}; fetched {} s later ({} → {}, {} bytes, sha256 {sha})",
            num((g.t_ms - served_at) / 1000.0),
            evidence::request(*gn, g),
            evidence::answer(g),
            cdn.bytes
        );
        let served_shas: Vec<&str> = downloads.iter().filter_map(|(_, d)| d.cdn.as_ref()?.sha256.as_deref()).collect();
        if let Some(file) =
            run.files.iter().find(|f| f.fingerprint.as_deref().is_some_and(|s| served_shas.contains(&s)))
        {
            Some(Judgement::pass(vec![tagged(
                run,
                format!("{fetched}; KLING_OUTPUT_DIR/{} holds the same bytes", file.path),
            )]))
        } else {
            let files: Vec<String> =
                run.files.iter().take(5).map(|f| format!("{} ({} bytes)", f.path, f.bytes)).collect();
            let listing =
                if files.is_empty() { "it is empty".to_owned() } else { format!("it holds {}", files.join(", ")) };
            Some(Judgement::fail(vec![tagged(
                run,
                format!("{fetched}; but no file in KLING_OUTPUT_DIR holds those bytes: {listing}"),
            )]))
        }
    })
    .compact_passes()
}

/// Requests share connections.
pub(crate) fn connection_reuse(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, "no scenario made enough requests to judge connection reuse", |run| {
        let requests: Vec<&JournalEntry> = run.entries.iter().filter(|e| e.conn.is_some()).collect();
        if requests.len() < 3 {
            return None;
        }
        let mut by_conn: BTreeMap<u64, usize> = BTreeMap::new();
        for e in &requests {
            *by_conn.entry(e.conn.unwrap_or_default()).or_default() += 1;
        }
        let per: Vec<String> = by_conn.values().take(8).map(usize::to_string).collect();
        let line = format!(
            "{} over {} (requests per connection: {}{})",
            plural(requests.len(), "request"),
            plural(by_conn.len(), "connection"),
            per.join(", "),
            if by_conn.len() > 8 { ", …" } else { "" }
        );
        Some(if by_conn.len() < requests.len() {
            Judgement::pass(vec![tagged(run, line)])
        } else {
            Judgement::fail(vec![tagged(run, format!("{line}: every request opened a new connection"))])
        })
    })
    .compact_passes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::{ClientEnd, OutputFile, fake};
    use crate::report::Verdict;

    #[test]
    fn polls_too_close_fail() {
        let run = fake::run(
            "happy",
            vec![fake::create(0.1, 200, 0), fake::query(0.3, "submitted"), fake::query(0.5, "processing")],
            0,
            3.0,
        );
        let j = poll_interval(&[&run]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.evidence[0],
            "[happy] GET /v1/videos/text2video/800000000000000001 #3 at 0.50 s came 0.20 s after GET \
             /v1/videos/text2video/800000000000000001 #2 at 0.30 s (both answered); 1 of 1 gaps under 1 s"
        );
        let run = fake::run("happy", vec![fake::query(0.3, "submitted"), fake::query(1.8, "succeed")], 0, 3.0);
        assert_eq!(poll_interval(&[&run]).verdict, Verdict::Pass);
    }

    #[test]
    fn a_stuck_task_must_be_given_up_in_time() {
        let mut run = fake::run("task-stuck", vec![fake::create(0.1, 200, 0), fake::query(1.6, "processing")], 1, 15.4);
        let j = poll_cap(&[&run]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(j.evidence[0].contains("limit 25.00 s"), "{j:?}");
        run.client = Some(ClientEnd { code: None, signal: Some(9), stopped: Some(Stop::Deadline), end_ms: 35_000.0 });
        let j = poll_cap(&[&run]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[1].contains("no cap"), "{j:?}");
        let refused = fake::run("task-stuck", vec![fake::create(0.1, 400, 1201)], 1, 0.3);
        assert_eq!(poll_cap(&[&refused]).verdict, Verdict::NotExercised);
    }

    fn download(t: f64, expired: bool) -> JournalEntry {
        let mut d = fake::entry(
            t,
            "GET",
            "/cdn/800000000000000001/abc.mp4",
            "download",
            if expired { 403 } else { 200 },
            if expired { 1103 } else { 0 },
        );
        d.kind = EntryKind::Cdn;
        d.task_id = Some("800000000000000001".into());
        d.cdn = Some(kling_mock::CdnSummary {
            asset: "abc".into(),
            expires_ms: 0,
            expired,
            bytes: 1000,
            sha256: (!expired).then(|| "00aa11bb22cc33dd".into()),
        });
        d
    }

    #[test]
    fn downloads_must_be_prompt_and_saved() {
        let file = OutputFile {
            path: "v.mp4".into(),
            bytes: 1000,
            fingerprint: Some("00aa11bb22cc33dd".into()),
            secret: false,
            tokens: vec![],
        };
        let mut run = fake::run("url-expiry", vec![fake::query(2.5, "succeed"), download(2.6, false)], 0, 3.0);
        run.files = vec![file];
        let j = download_promptly(&[&run]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(j.evidence[0].ends_with("KLING_OUTPUT_DIR/v.mp4 holds the same bytes"), "{j:?}");
        run.files.clear();
        assert_eq!(download_promptly(&[&run]).verdict, Verdict::Fail);
        let late = fake::run("url-expiry", vec![fake::query(2.5, "succeed"), download(10.6, true)], 1, 11.0);
        let j = download_promptly(&[&late]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].contains("once the URL had expired"), "{j:?}");
    }

    #[test]
    fn one_connection_per_request_fails() {
        let mut entries = vec![fake::create(0.1, 200, 0), fake::query(1.6, "processing"), fake::query(3.1, "succeed")];
        for (i, e) in entries.iter_mut().enumerate() {
            e.conn = Some(i as u64 + 1);
        }
        let j = connection_reuse(&[&fake::run("happy", entries.clone(), 0, 4.0)]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].ends_with("every request opened a new connection"), "{j:?}");
        entries[2].conn = Some(2);
        assert_eq!(connection_reuse(&[&fake::run("happy", entries, 0, 4.0)]).verdict, Verdict::Pass);
    }
}
