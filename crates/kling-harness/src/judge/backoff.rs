//! `errors.backoff`: do retries under 429/5xx wait longer and longer, with jitter?
//!
//! A *retry run* is a sequence of attempts of one request (the same create, or the
//! same GET) where every attempt but the last was answered with a retryable error
//! (429 with 1302/1303, or 5xx). Its *waits* are the gaps from each answer to the next
//! attempt, as the mock saw them.
//!
//! Growth is judged over all runs together, because one run of full jitter is too
//! noisy to judge (a single wait of `uniform(0, base * 2^k)` may shrink): the waits in
//! the later half of each run, summed over runs, must be at least 1.5x those of the
//! earlier halves, or the last waits at least 2x the first ones. A run that followed
//! the mock's `Retry-After` counts as growth on its own (SPEC). Jitter: the waits are
//! not one fixed sequence — the ratios between consecutive waits of a run differ, or
//! two runs of the same kind wait differently — beyond what timing noise explains.
//!
//! The thresholds were chosen by simulation (see the tests): full jitter over the
//! catalog's runs passes growth well over 99% of the time, equal jitter always, and a
//! constant wait never.

use std::collections::HashMap;

use kling_mock::JournalEntry;

use super::Judgement;
use crate::evidence::{self, tagged};
use crate::observation::ScenarioRun;

/// Timing noise allowed per wait, in seconds: a loaded machine delays a sleeping
/// client by tens of milliseconds, and the mock stamps arrivals, not sends.
const NOISE: f64 = 0.08;
/// Slack on honouring `Retry-After`.
const RETRY_AFTER_SLACK: f64 = 0.05;
/// Later waits over earlier waits that counts as growth.
const GROWTH: f64 = 1.5;
/// Last wait over first wait that counts as growth.
const LAST_OVER_FIRST: f64 = 2.0;

/// One retried request.
#[derive(Debug)]
struct RetryRun<'a> {
    run: &'a ScenarioRun,
    attempts: Vec<(usize, &'a JournalEntry)>,
    /// Seconds from each answer to the next attempt.
    waits: Vec<f64>,
    /// The `Retry-After` sent with each answer that was followed by another attempt.
    retry_after: Vec<Option<u32>>,
    /// `429` or `5xx`: runs of one class can be compared.
    class: &'static str,
}

impl RetryRun<'_> {
    fn label(&self) -> String {
        let (n, e) = self.attempts[0];
        let last = self.attempts.last().map_or(n, |(m, _)| *m);
        format!("{} {} #{n}–#{last}", e.method, evidence::path(e))
    }

    /// Every answer carried `Retry-After`, and the client waited at least that long.
    fn honoured_retry_after(&self) -> Option<bool> {
        if self.retry_after.iter().any(Option::is_none) {
            return None;
        }
        Some(
            self.waits
                .iter()
                .zip(&self.retry_after)
                .all(|(w, ra)| *w + RETRY_AFTER_SLACK >= f64::from(ra.unwrap_or(0))),
        )
    }
}

fn retryable(e: &JournalEntry) -> bool {
    e.completed
        && match e.status {
            Some(429) => matches!(e.code, Some(1302 | 1303)),
            Some(s) => s >= 500,
            None => false,
        }
}

fn class(e: &JournalEntry) -> &'static str {
    if e.status == Some(429) { "429" } else { "5xx" }
}

type Attempts<'a> = Vec<(usize, &'a JournalEntry)>;

fn finish<'a>(attempts: Attempts<'a>, done: &mut Vec<Attempts<'a>>) {
    if attempts.len() >= 2 {
        done.push(attempts);
    }
}

/// The retry runs of one scenario.
fn retry_runs(run: &ScenarioRun) -> Vec<RetryRun<'_>> {
    let mut open: HashMap<String, Attempts<'_>> = HashMap::new();
    let mut done = Vec::new();
    for (n, e) in run.api() {
        let key = crate::observation::attempt_key(e);
        let continues = open.get(&key).and_then(|a| a.last()).is_some_and(|(_, last)| retryable(last));
        if !continues && let Some(previous) = open.remove(&key) {
            finish(previous, &mut done);
        }
        open.entry(key.clone()).or_default().push((n, e));
        if !retryable(e)
            && let Some(attempts) = open.remove(&key)
        {
            finish(attempts, &mut done);
        }
    }
    for (_, attempts) in open {
        finish(attempts, &mut done);
    }
    done.sort_by_key(|a| a[0].0);
    done.into_iter()
        .map(|attempts| {
            let waits = attempts.windows(2).map(|w| crate::observation::gap_s(w[0].1, w[1].1)).collect();
            let retry_after = attempts[..attempts.len() - 1].iter().map(|(_, e)| run.retry_after(e)).collect();
            let class = class(attempts[0].1);
            RetryRun { run, attempts, waits, retry_after, class }
        })
        .collect()
}

/// Growth statistics over runs with two or more waits.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Growth {
    early_mean: f64,
    late_mean: f64,
    first_sum: f64,
    last_sum: f64,
    runs: usize,
}

impl Growth {
    fn of(waits: &[&[f64]]) -> Option<Growth> {
        let (mut early, mut late, mut halves, mut first, mut last, mut runs) = (0.0, 0.0, 0, 0.0, 0.0, 0);
        for w in waits.iter().filter(|w| w.len() >= 2) {
            let h = w.len() / 2;
            early += w[..h].iter().sum::<f64>();
            late += w[w.len() - h..].iter().sum::<f64>();
            halves += h;
            first += w[0];
            last += w[w.len() - 1];
            runs += 1;
        }
        (runs > 0).then(|| Growth {
            early_mean: early / halves as f64,
            late_mean: late / halves as f64,
            first_sum: first,
            last_sum: last,
            runs,
        })
    }

    fn ratio(&self) -> f64 {
        self.late_mean / self.early_mean.max(1e-3)
    }

    fn last_over_first(&self) -> f64 {
        self.last_sum / self.first_sum.max(1e-3)
    }

    /// Clearly longer later: by ratio, and by more than timing noise.
    fn grows(&self) -> bool {
        let by_halves = self.ratio() >= GROWTH && self.late_mean - self.early_mean >= NOISE;
        let by_ends =
            self.last_over_first() >= LAST_OVER_FIRST && self.last_sum - self.first_sum >= NOISE * self.runs as f64;
        by_halves || by_ends
    }

    fn describe(&self) -> String {
        format!(
            "later waits average {} s against {} s for earlier ones (×{:.2}; needs ×{GROWTH}), the last ×{:.2} the first \
             (needs ×{LAST_OVER_FIRST})",
            evidence::num(self.late_mean),
            evidence::num(self.early_mean),
            self.ratio(),
            self.last_over_first()
        )
    }
}

/// Whether one run's waits depart from a fixed geometric sequence (a constant one
/// included, and a capped tail allowed), and the ratios that show it.
fn varies(waits: &[f64]) -> Option<(bool, Vec<f64>)> {
    let close = |a: f64, b: f64| (a - b).abs() <= 2.0 * NOISE + 0.01 * a.max(b);
    // A capped sequence ends in a plateau of equal waits: keep only its first wait.
    let mut end = waits.len();
    while end >= 2 && close(waits[end - 1], waits[end - 2]) {
        end -= 1;
    }
    let w = &waits[..end];
    if w.len() <= 1 && waits.len() >= 3 {
        // The same wait throughout: a fixed sequence.
        return Some((false, waits.windows(2).map(|p| p[1] / p[0].max(1e-3)).collect()));
    }
    if w.len() < 3 {
        return None;
    }
    let ratios: Vec<f64> = w.windows(2).map(|p| p[1] / p[0].max(1e-3)).collect();
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let differs = ratios.iter().enumerate().any(|(i, r)| {
        let allowed = median * (0.01 + NOISE / w[i].max(1e-3) + NOISE / w[i + 1].max(1e-3));
        (r - median).abs() > allowed
    });
    Some((differs, ratios))
}

/// Two runs of one class whose waits differ beyond noise at some position.
fn differ(a: &[f64], b: &[f64]) -> Option<(usize, f64, f64)> {
    a.iter()
        .zip(b)
        .enumerate()
        .find_map(|(i, (x, y))| ((x - y).abs() > 0.01 * x.max(*y) + 2.0 * NOISE).then_some((i, *x, *y)))
}

pub(crate) fn judge(runs: &[&ScenarioRun]) -> Judgement {
    let retried: Vec<RetryRun<'_>> = runs.iter().flat_map(|r| retry_runs(r)).collect();
    if retried.is_empty() {
        let unretried: Vec<String> = runs
            .iter()
            .filter_map(|r| r.api().find(|(_, e)| retryable(e)).map(|(n, e)| (r, n, e)))
            .take(3)
            .map(|(r, n, e)| {
                tagged(r, format!("{} was never retried; {}", evidence::exchange(n, e), evidence::client_end(r)))
            })
            .collect();
        let mut j = Judgement::not_exercised(
            "no request was retried after a 429 or 5xx answer, so there are no waits to judge",
        );
        j.evidence.extend(unretried);
        return j;
    }
    let mut evidence = Vec::new();
    let mut plain: Vec<&RetryRun<'_>> = Vec::new();
    let mut honoured = 0;
    for r in &retried {
        let answers = {
            let mut codes: Vec<String> =
                r.attempts[..r.attempts.len() - 1].iter().map(|(_, e)| evidence::answer(e)).collect();
            codes.dedup();
            codes.join(", ")
        };
        let mut line = format!(
            "{}: {} attempts, answered {answers}; waits after each answer: {}",
            r.label(),
            r.attempts.len(),
            evidence::seconds_list(&r.waits)
        );
        match r.honoured_retry_after() {
            Some(true) => {
                honoured += 1;
                let ra: Vec<String> = r.retry_after.iter().flatten().map(u32::to_string).collect();
                line.push_str(&format!(" — Retry-After ({} s) honoured, which counts as growth", ra.join(", ")));
            }
            Some(false) => {
                line.push_str(" — the mock sent Retry-After and the client waited less");
                plain.push(r);
            }
            None => plain.push(r),
        }
        evidence.push(tagged(r.run, line));
    }
    evidence.truncate(8);

    let plain_waits: Vec<&[f64]> = plain.iter().map(|r| r.waits.as_slice()).collect();
    let growth = Growth::of(&plain_waits);
    let grows = match growth {
        Some(g) => {
            let ok = g.grows();
            evidence.push(format!("{}: {}", if ok { "growth" } else { "no growth" }, g.describe()));
            ok
        }
        None if honoured > 0 => true,
        None => {
            evidence.push(
                "every retried request was retried once only, so the waits cannot show growth; see errors.retry-cap"
                    .into(),
            );
            return Judgement::new(crate::report::Verdict::NotExercised, evidence);
        }
    };
    if !grows {
        return Judgement::fail(evidence);
    }

    // Jitter, from the runs that did not simply follow Retry-After.
    let mut judged = false;
    let mut jitter: Option<String> = None;
    let mut fixed: Vec<String> = Vec::new();
    for r in &plain {
        if let Some((differs, ratios)) = varies(&r.waits) {
            judged = true;
            let shown: Vec<String> = ratios.iter().map(|x| format!("{x:.2}")).collect();
            if differs {
                jitter.get_or_insert_with(|| {
                    format!("[{}] the ratios between consecutive waits differ ({})", r.run.id(), shown.join(", "))
                });
            } else {
                fixed.push(format!("[{}] ratios {}", r.run.id(), shown.join(", ")));
            }
        }
    }
    for (i, a) in plain.iter().enumerate() {
        for b in &plain[i + 1..] {
            if a.class != b.class {
                continue;
            }
            judged = true;
            match differ(&a.waits, &b.waits) {
                Some((k, x, y)) => {
                    jitter.get_or_insert_with(|| {
                        format!(
                            "wait {} differs between [{}] and [{}]: {} s against {} s",
                            k + 1,
                            a.run.id(),
                            b.run.id(),
                            evidence::num(x),
                            evidence::num(y)
                        )
                    });
                }
                None => fixed.push(format!("[{}] and [{}] wait the same sequence", a.run.id(), b.run.id())),
            }
        }
    }
    match (jitter, judged) {
        (Some(why), _) => {
            evidence.push(format!("jitter: {why}"));
            Judgement::pass(evidence)
        }
        (None, true) => {
            evidence.push(format!(
                "no jitter: the waits are one fixed sequence ({}, to within 1% and {NOISE} s of timing noise); \
                 without a random factor every client retries in lockstep",
                fixed.join("; ")
            ));
            Judgement::warn(evidence)
        }
        (None, false) => {
            evidence.push("jitter could not be judged: too few waits in a row, and no two comparable runs".into());
            Judgement::pass(evidence)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::fake;
    use crate::report::Verdict;
    use rand::rngs::StdRng;
    use rand::{Rng as _, SeedableRng as _};

    /// A scenario run whose client retried creates after the given waits, every
    /// attempt answered `status/code` but the last (`last_ok`).
    fn retried(id: &str, waits: &[f64], status: u16, code: u32, last_ok: bool) -> ScenarioRun {
        let mut t = 0.1;
        let mut entries = Vec::new();
        for (i, w) in std::iter::once(&0.0).chain(waits).enumerate() {
            t += w;
            let ok = last_ok && i == waits.len();
            let mut e = fake::create(t, if ok { 200 } else { status }, if ok { 0 } else { code });
            e.duration_ms = 2.0;
            if !ok {
                e.fault = Some(fake::fault("error", Some(code), Some(0)));
            }
            entries.push(e);
            t += 0.002;
        }
        fake::run(id, entries, i32::from(!last_ok), t + 0.1)
    }

    fn verdict(runs: &[ScenarioRun]) -> Judgement {
        judge(&runs.iter().collect::<Vec<_>>())
    }

    #[test]
    fn constant_waits_fail_and_say_why() {
        let runs = [
            retried("rate-limited-forever", &[1.0, 1.0, 1.0, 1.0, 1.0], 429, 1302, false),
            retried("server-error-forever", &[1.0, 1.0, 1.0, 1.0, 1.0], 503, 5001, false),
        ];
        let j = verdict(&runs);
        assert_eq!(j.verdict, Verdict::Fail, "{j:?}");
        assert!(
            j.evidence[0].starts_with(
                "[rate-limited-forever] POST /v1/videos/text2video #1–#6: 6 attempts, answered 429/1302; waits after each \
                 answer: 1.00, 1.00, 1.00, 1.00, 1.00 s"
            ),
            "{j:?}"
        );
        assert!(
            j.evidence.last().unwrap().starts_with("no growth: later waits average 1.00 s against 1.00 s"),
            "{j:?}"
        );
    }

    #[test]
    fn exponential_without_jitter_warns_and_with_jitter_passes() {
        let exp = [0.5, 1.0, 2.0, 4.0, 8.0];
        let runs = [
            retried("rate-limited-forever", &exp, 429, 1302, false),
            retried("server-error", &exp[..3], 500, 5000, true),
            retried("server-error-forever", &exp, 503, 5001, false),
        ];
        let j = verdict(&runs);
        assert_eq!(j.verdict, Verdict::Warn, "{j:?}");
        assert!(j.evidence.last().unwrap().starts_with("no jitter: the waits are one fixed sequence"), "{j:?}");
        // The same with a cap at 2 s is still a fixed sequence.
        let capped = [0.5, 1.0, 2.0, 2.0, 2.0];
        let j = verdict(&[retried("rate-limited-forever", &capped, 429, 1302, false)]);
        assert_eq!(j.verdict, Verdict::Warn, "{j:?}");

        let jittered = [
            retried("rate-limited-forever", &[0.31, 0.93, 1.2, 3.9, 5.2], 429, 1302, false),
            retried("server-error-forever", &[0.45, 0.6, 1.7, 2.5, 7.1], 503, 5001, false),
        ];
        let j = verdict(&jittered);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(j.evidence.last().unwrap().starts_with("jitter: "), "{j:?}");
    }

    #[test]
    fn honoured_retry_after_counts_as_growth_and_immediate_retries_do_not() {
        let mut run = retried("rate-limited", &[1.01, 1.02, 1.0], 429, 1302, true);
        // The scenario's own plan says Retry-After: 1 for rule 0.
        run.plan = crate::scenario::find("rate-limited").unwrap().fault_plan();
        let j = verdict(std::slice::from_ref(&run));
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(j.evidence[0].contains("Retry-After (1, 1, 1 s) honoured"), "{j:?}");

        let hammering = [retried("rate-limited-forever", &[0.001, 0.002, 0.003, 0.004, 0.006], 429, 1302, false)];
        assert_eq!(verdict(&hammering).verdict, Verdict::Fail);
        // 1102 is final: never a retry run for backoff (errors.no-retry-final judges it).
        let depleted = [retried("credits-depleted", &[1.0, 2.0], 429, 1102, false)];
        assert_eq!(verdict(&depleted).verdict, Verdict::NotExercised);
    }

    /// The catalog's retry scenarios as a correct client with full jitter meets them:
    /// 5 waits under rate-limited-forever and server-error-forever, 3 under
    /// server-error. Seeded, so the test is exact; the rate says how often a real
    /// full-jitter client would be judged to grow.
    #[test]
    fn full_jitter_passes_growth_in_nearly_every_run() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut jitter_wait = |k: i32| rng.random::<f64>() * 0.5 * 2_f64.powi(k) + 0.003;
        let (mut grew, trials) = (0, 2000);
        for _ in 0..trials {
            let w5: Vec<f64> = (0..5).map(&mut jitter_wait).collect();
            let w3: Vec<f64> = (0..3).map(&mut jitter_wait).collect();
            let v5: Vec<f64> = (0..5).map(&mut jitter_wait).collect();
            if Growth::of(&[&w5, &w3, &v5]).unwrap().grows() {
                grew += 1;
            }
        }
        assert!(grew * 1000 >= trials * 995, "full jitter grew in {grew} of {trials} runs");

        let mut rng = StdRng::seed_from_u64(8);
        let mut equal = |k: i32| 0.5 * 2_f64.powi(k) * (0.5 + 0.5 * rng.random::<f64>());
        for _ in 0..trials {
            let w5: Vec<f64> = (0..5).map(&mut equal).collect();
            let w3: Vec<f64> = (0..3).map(&mut equal).collect();
            let v5: Vec<f64> = (0..5).map(&mut equal).collect();
            assert!(Growth::of(&[&w5, &w3, &v5]).unwrap().grows());
            // Equal jitter varies enough to be told from a fixed sequence.
            let shows = varies(&w5).unwrap().0 || varies(&v5).unwrap().0 || differ(&w5, &v5).is_some();
            assert!(shows, "{w5:?} {v5:?}");
        }

        // A constant wait with random noise around it never counts as growth.
        let mut rng = StdRng::seed_from_u64(9);
        let mut flat = || 1.0 + 0.1 * rng.random::<f64>();
        for _ in 0..trials {
            let w5: Vec<f64> = (0..5).map(|_| flat()).collect();
            let w3: Vec<f64> = (0..3).map(|_| flat()).collect();
            assert!(!Growth::of(&[&w5, &w3]).unwrap().grows(), "{w5:?} {w3:?}");
        }
    }

    #[test]
    fn timing_noise_does_not_pass_for_jitter() {
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..500 {
            let mut noisy = |d: f64| d + 0.04 * rng.random::<f64>();
            let a: Vec<f64> = [0.5, 1.0, 2.0, 4.0, 8.0].iter().map(|d| noisy(*d)).collect();
            let b: Vec<f64> = [0.5, 1.0, 2.0, 4.0, 8.0].iter().map(|d| noisy(*d)).collect();
            assert!(!varies(&a).unwrap().0, "{a:?}");
            assert!(differ(&a, &b).is_none(), "{a:?} {b:?}");
        }
    }
}
