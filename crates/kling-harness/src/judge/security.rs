//! Security: no credentials in the client's output, and https webhooks.

use std::collections::HashMap;

use serde_json::Value;

use super::{Judgement, per_run};
use crate::evidence::{self, plural, tagged};
use crate::observation::ScenarioRun;
use crate::secrets;

/// Neither the secret key nor a complete token in stdout, stderr or output files.
pub(crate) fn no_secret_in_output(runs: &[&ScenarioRun]) -> Judgement {
    let judged = per_run(runs, "the client made no API request in any scenario, so it never handled a token", |run| {
        run.client.as_ref()?;
        // Tokens the client sent, by fingerprint, with the first request that carried each.
        let mut sent: HashMap<&str, usize> = HashMap::new();
        for (n, e) in run.api() {
            if let Some(jwt) = &e.jwt {
                sent.entry(jwt.fingerprint.as_str()).or_insert(n);
            }
        }
        let describe = |hit: &secrets::TokenHit| match sent.get(hit.fingerprint.as_str()) {
            Some(n) => format!("a full token the client sent (first with request #{n})"),
            None if hit.iss.as_deref() == Some(run.access_key.as_str()) => "a full token for the access key".to_owned(),
            None => "a complete JWT".to_owned(),
        };
        let mut leaks = Vec::new();
        for (stream, n, line) in run.lines() {
            let hits = secrets::find_tokens(line.text.as_bytes());
            let relevant: Vec<&secrets::TokenHit> = hits
                .iter()
                .filter(|h| {
                    sent.contains_key(h.fingerprint.as_str()) || h.iss.as_deref() == Some(run.access_key.as_str())
                })
                .collect();
            let secret = line.text.contains(&run.secret_key);
            if secret || !relevant.is_empty() {
                let mut what: Vec<String> = relevant.iter().map(|h| describe(h)).collect();
                if secret {
                    what.insert(0, "the secret key".into());
                }
                leaks.push(format!("{} holds {}", evidence::line(run, stream, n, line), what.join(" and ")));
            }
        }
        for f in &run.files {
            let relevant: Vec<String> = f
                .tokens
                .iter()
                .filter(|h| {
                    sent.contains_key(h.fingerprint.as_str()) || h.iss.as_deref() == Some(run.access_key.as_str())
                })
                .map(describe)
                .collect();
            if f.secret || !relevant.is_empty() {
                let mut what = relevant;
                if f.secret {
                    what.insert(0, "the secret key".into());
                }
                leaks.push(format!("output file {} holds {}", f.path, what.join(" and ")));
            }
        }
        let scanned = format!(
            "{} of output and {} scanned",
            plural(run.stdout.lines.len() + run.stderr.lines.len(), "line"),
            plural(run.files.len(), "file")
        );
        Some(if leaks.is_empty() {
            // A client that never called the API never handled a token: its silence
            // proves nothing about how it logs one.
            run.api().next()?;
            Judgement::pass(vec![tagged(run, format!("{scanned}: no secret key, no full token"))])
        } else {
            let total = leaks.len();
            let mut ev: Vec<String> = leaks.into_iter().take(4).map(|l| tagged(run, l)).collect();
            ev.push(tagged(run, format!("{scanned}; {total} leak(s) (quoted above with the credentials replaced)")));
            Judgement::fail(ev)
        })
    });
    summarise_passes(judged)
}

/// One line for many passing scenarios.
fn summarise_passes(mut j: Judgement) -> Judgement {
    if j.verdict == crate::report::Verdict::Pass && j.evidence.len() > 2 {
        let n = j.evidence.len();
        j.evidence = vec![format!("{n} scenarios' output and files scanned: no secret key, no full token")];
    }
    j
}

/// Whether a URL's host is a loopback address.
fn loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Every `callback_url` sent is https (or loopback http).
pub(crate) fn webhook_https(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, "no create sent a callback_url, so there was no webhook to judge", |run| {
        let mut good = Vec::new();
        let mut bad = Vec::new();
        for (n, e) in run.creates() {
            let Some(url) = e.body.as_ref().and_then(|b| b.callback_url.as_ref()) else { continue };
            let text = url.as_str().map_or_else(|| url.to_string(), str::to_owned);
            let lower = text.to_ascii_lowercase();
            if lower.starts_with("https://") {
                good.push(format!("{text} (https)"));
            } else if lower.starts_with("http://") && loopback(&text) {
                good.push(format!("{text} (http to a loopback address, allowed in this harness)"));
            } else if matches!(url, Value::String(_)) {
                bad.push(tagged(run, format!("{} sent callback_url {text}: not https", evidence::exchange(n, e))));
            } else {
                bad.push(tagged(
                    run,
                    format!("{} sent callback_url {text}, which is not a URL", evidence::exchange(n, e)),
                ));
            }
        }
        if !bad.is_empty() {
            return Some(Judgement::fail(bad));
        }
        good.dedup();
        (!good.is_empty()).then(|| Judgement::pass(vec![tagged(run, format!("callback_url {}", good.join(", ")))]))
    })
    .compact_passes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::{OutputFile, fake};
    use crate::report::Verdict;
    use serde_json::json;

    #[test]
    fn tokens_and_secrets_in_output_are_caught_and_redacted_in_evidence() {
        let token = kling_api::jwt::mint("ak-test", "sk-test", 1_700_000_000);
        let mut e = fake::create(0.1, 200, 0);
        e.jwt = Some(fake::jwt(&json!({}), &json!({}), &kling_mock::token_fingerprint(&token)));
        let mut run = fake::run("happy", vec![e], 0, 1.0);
        run.stderr = fake::lines(&[&format!("{{\"authorization\": \"Bearer {token}\"}}"), "fine", "key=sk-test"]);
        let j = no_secret_in_output(&[&run]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.evidence[0].contains("stderr line 1 at 0.00 s: {\"authorization\": \"Bearer <token eyJhbG…>\"} holds a full token the client sent (first with request #1)"),
            "{j:?}"
        );
        assert!(j.evidence[1].contains("key=<secret key> holds the secret key"), "{j:?}");
        assert!(!j.evidence.iter().any(|l| l.contains(&token) || l.contains("sk-test")), "{j:?}");

        run.stderr = fake::lines(&["token eyJhbGciOi… (redacted)"]);
        run.files =
            vec![OutputFile { path: "v.mp4".into(), bytes: 9, fingerprint: None, secret: true, tokens: vec![] }];
        let j = no_secret_in_output(&[&run]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].contains("output file v.mp4 holds the secret key"), "{j:?}");
        run.files.clear();
        assert_eq!(no_secret_in_output(&[&run]).verdict, Verdict::Pass);
        // Printing the key fails even without a request; silence without one proves nothing.
        let mut idle = fake::run("invalid-prompt", vec![], 2, 0.1);
        assert_eq!(no_secret_in_output(&[&idle]).verdict, Verdict::NotExercised);
        idle.stdout = fake::lines(&["sk-test"]);
        assert_eq!(no_secret_in_output(&[&idle]).verdict, Verdict::Fail);
    }

    #[test]
    fn webhooks() {
        assert!(loopback("http://127.0.0.1:8080/x") && loopback("http://localhost/x") && loopback("http://[::1]:9/"));
        assert!(!loopback("http://203.0.113.10:8080/x") && !loopback("http://127.0.0.1.example.com/"));
        let with = |url: &str| {
            let mut e = fake::create(0.1, 200, 0);
            e.body = Some(Box::new(fake::body(&json!({"prompt": "x", "callback_url": url}))));
            fake::run("happy", vec![e], 0, 1.0)
        };
        assert_eq!(webhook_https(&[&with("https://hooks.example.com/kling")]).verdict, Verdict::Pass);
        assert_eq!(webhook_https(&[&with("http://127.0.0.1:9/cb")]).verdict, Verdict::Pass);
        let j = webhook_https(&[&with("http://hooks.example.com/kling")]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].ends_with("sent callback_url http://hooks.example.com/kling: not https"), "{j:?}");
        assert_eq!(
            webhook_https(&[&fake::run("happy", vec![fake::create(0.1, 200, 0)], 0, 1.0)]).verdict,
            Verdict::NotExercised
        );
    }
}
