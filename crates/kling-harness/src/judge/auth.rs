//! Authentication: the header's format, the JWT's header and claims, and recovering
//! from expired tokens, judged from the shapes and decoded tokens the mock journals
//! (never the tokens themselves: tokens are matched by fingerprint).

use std::collections::{BTreeMap, HashSet};

use kling_mock::JournalEntry;
use serde_json::Value;

use super::{Judgement, per_run};
use crate::evidence::{self, plural, tagged};
use crate::observation::ScenarioRun;

const NO_REQUEST: &str = "no API request reached the mock in any scenario";
const NO_TOKEN: &str = "no request carried a token the mock could decode";
/// Seconds of slack on `exp`: the mock's clock reads whole seconds.
const CLOCK_SLACK: i64 = 5;

fn short(fingerprint: &str) -> &str {
    &fingerprint[..fingerprint.len().min(8)]
}

/// `Authorization: Bearer <jwt>` on every API request.
pub(crate) fn bearer_format(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, NO_REQUEST, |run| {
        let mut count = 0;
        let mut bad = Vec::new();
        for (n, e) in run.api() {
            count += 1;
            match e.authorization.as_deref() {
                Some("Bearer <jwt>") => {}
                Some(shape) => bad.push(tagged(
                    run,
                    format!("{} sent `Authorization: {shape}` (the token shown as <jwt>)", evidence::exchange(n, e)),
                )),
                None => bad.push(tagged(run, format!("{} sent no Authorization header", evidence::exchange(n, e)))),
            }
        }
        if count == 0 {
            return None;
        }
        if bad.is_empty() {
            Some(Judgement::pass(vec![tagged(
                run,
                format!("{}, every one with `Authorization: Bearer <jwt>`", plural(count, "API request")),
            )]))
        } else {
            let total = bad.len();
            bad.truncate(3);
            bad.push(tagged(run, format!("{total} of {count} API requests had another Authorization header")));
            Some(Judgement::fail(bad))
        }
    })
    .compact_passes()
}

/// Header `alg: HS256` and `typ: JWT`.
pub(crate) fn jwt_header(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, NO_TOKEN, |run| {
        let mut tokens = HashSet::new();
        let mut bad = Vec::new();
        for (n, e) in run.api() {
            match &e.jwt {
                Some(jwt) => {
                    if !tokens.insert(jwt.fingerprint.clone()) {
                        continue;
                    }
                    let alg = jwt.header.get("alg").and_then(Value::as_str);
                    let typ = jwt.header.get("typ").and_then(Value::as_str);
                    if alg != Some("HS256") || typ != Some("JWT") {
                        bad.push(tagged(
                            run,
                            format!(
                                "{}: token {} has header {}",
                                evidence::exchange(n, e),
                                short(&jwt.fingerprint),
                                Value::Object(jwt.header.clone())
                            ),
                        ));
                    }
                }
                // A well-formed Bearer header whose token is not a JWT the mock could
                // decode; other header shapes are `auth.bearer-format`'s to judge.
                None => {
                    if let (Some(why), Some(shape)) = (&e.auth_error, e.authorization.as_deref())
                        && shape.starts_with("Bearer <")
                        && !shape[7..].contains(' ')
                    {
                        bad.push(tagged(run, format!("{}: {why}", evidence::exchange(n, e))));
                    }
                }
            }
        }
        if !bad.is_empty() {
            bad.truncate(4);
            return Some(Judgement::fail(bad));
        }
        (!tokens.is_empty()).then(|| {
            Judgement::pass(vec![tagged(
                run,
                format!("{}, each with header {{\"alg\":\"HS256\",\"typ\":\"JWT\"}}", plural(tokens.len(), "token")),
            )])
        })
    })
    .compact_passes()
}

/// `iss` = access key, `exp` within 1800 s, `nbf` not in the future.
pub(crate) fn jwt_claims(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, NO_TOKEN, |run| {
        let mut seen = HashSet::new();
        let mut bad = Vec::new();
        let (mut longest, mut no_nbf, mut count) = (i64::MIN, 0, 0);
        for (n, e) in run.api() {
            let Some(jwt) = &e.jwt else { continue };
            if !seen.insert(jwt.fingerprint.clone()) {
                continue;
            }
            count += 1;
            let at = format!("token {} (first sent with {})", short(&jwt.fingerprint), evidence::request(n, e));
            let claim = |k: &str| jwt.claims.get(k).and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)));
            match jwt.claims.get("iss").and_then(Value::as_str) {
                Some(iss) if iss == run.access_key => {}
                Some(iss) => bad.push(format!("{at}: iss is \"{iss}\", not the access key")),
                None => bad.push(format!("{at}: no iss claim; Kling wants iss = the access key")),
            }
            let now = e.clock_s;
            match claim("exp") {
                None => bad.push(format!("{at}: no numeric exp claim")),
                Some(exp) => {
                    let iat = claim("iat");
                    let (base, label) = match iat {
                        Some(iat) => (iat, "iat"),
                        None => (now, "its first use"),
                    };
                    let lifetime = exp - base;
                    longest = longest.max(exp - now);
                    if lifetime > 1800 + if iat.is_some() { 0 } else { CLOCK_SLACK } {
                        bad.push(format!("{at}: exp is {label} + {lifetime} s; tokens must expire within 1800 s"));
                    } else if exp <= now {
                        bad.push(format!("{at}: exp had already passed ({} s before its first use)", now - exp));
                    }
                }
            }
            match claim("nbf") {
                Some(nbf) if nbf > now => {
                    bad.push(format!("{at}: nbf is {} s in the future; set it a few seconds in the past", nbf - now));
                }
                Some(_) => {}
                None => no_nbf += 1,
            }
        }
        if count == 0 {
            return None;
        }
        if !bad.is_empty() {
            bad.truncate(4);
            return Some(Judgement::fail(bad.into_iter().map(|b| tagged(run, b)).collect()));
        }
        let mut line = format!(
            "{}: iss = the access key, exp at most {} s after first use, nbf not in the future",
            plural(count, "token"),
            longest
        );
        if no_nbf > 0 {
            line.push_str(&format!(" ({no_nbf} without nbf; Kling's own sample sets nbf = now - 5)"));
        }
        Some(Judgement::pass(vec![tagged(run, line)]))
    })
    .compact_passes()
}

/// After the mock expires every token it has seen, the client mints a new one,
/// recovers, and never resends a token it was told is expired.
pub(crate) fn token_refresh(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, "no token-expiry run", |run| {
        let armed = run.creates().find(|(_, e)| e.status == Some(200) && e.code == Some(0));
        let Some((an, ae)) = armed else {
            return Some(Judgement::not_exercised(tagged(
                run,
                "no create succeeded, so the mock never expired a token; see the request checks",
            )));
        };
        let seen: HashSet<&str> = run.api().filter(|(n, _)| *n <= an).filter_map(|(_, e)| fingerprint(e)).collect();
        let after: Vec<(usize, &JournalEntry)> = run.api().filter(|(n, _)| *n > an).collect();
        let armed_at = tagged(
            run,
            format!(
                "the first create ({}) armed the mock: tokens seen until then answer 401/1004",
                evidence::exchange(an, ae)
            ),
        );
        if after.is_empty() {
            return Some(Judgement::not_exercised(format!(
                "{armed_at}; the client made no request after it ({})",
                evidence::client_end(run)
            )));
        }
        let mut expired: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (n, e) in &after {
            if e.code == Some(1004)
                && let Some(fp) = fingerprint(e)
            {
                expired.entry(fp).or_default().push(*n);
            }
        }
        let fresh = after
            .iter()
            .find(|(_, e)| fingerprint(e).is_some_and(|fp| !seen.contains(fp)) && e.status.is_some_and(|s| s != 401));
        let first_1004 = after.iter().find(|(_, e)| e.code == Some(1004));
        let resent: Vec<String> = expired
            .iter()
            .filter(|(_, ns)| ns.len() > 1)
            .map(|(fp, ns)| {
                let list: Vec<String> = ns.iter().map(|n| format!("#{n}")).collect();
                format!(
                    "token {} was sent {} times after the mock called it expired ({}), each answered 401/1004",
                    short(fp),
                    ns.len(),
                    list.join(", ")
                )
            })
            .collect();
        let mut evidence = vec![armed_at.clone()];
        if !resent.is_empty() {
            evidence.extend(resent.into_iter().map(|r| tagged(run, r)));
            evidence.push(tagged(run, evidence::client_end(run)));
            return Some(Judgement::fail(evidence));
        }
        match (first_1004, fresh) {
            (Some((xn, xe)), Some((fnum, fe))) => {
                evidence.push(tagged(
                    run,
                    format!(
                        "{} with token {}; the client minted token {} and {} — recovered",
                        evidence::exchange(*xn, xe),
                        fingerprint(xe).map_or("?", short),
                        fingerprint(fe).map_or("?", short),
                        evidence::exchange(*fnum, fe)
                    ),
                ));
                Some(Judgement::pass(evidence))
            }
            (None, Some(_)) => {
                let new: HashSet<&str> =
                    after.iter().filter_map(|(_, e)| fingerprint(e)).filter(|fp| !seen.contains(fp)).collect();
                evidence.push(tagged(
                    run,
                    format!(
                        "every one of the {} requests after it carried a token the mock had not seen ({}); no 401/1004",
                        after.len(),
                        plural(new.len(), "new token")
                    ),
                ));
                Some(Judgement::pass(evidence))
            }
            (Some((xn, xe)), None) => {
                evidence.push(tagged(
                    run,
                    format!(
                        "{} with token {}; the client never sent a new token; {}",
                        evidence::exchange(*xn, xe),
                        fingerprint(xe).map_or("?", short),
                        evidence::client_end(run)
                    ),
                ));
                Some(Judgement::fail(evidence))
            }
            (None, None) => Some(Judgement::not_exercised(format!(
                "{armed_at}; no later request was answered with 401/1004 or carried a new token"
            ))),
        }
    })
}

fn fingerprint(e: &JournalEntry) -> Option<&str> {
    e.jwt.as_ref().map(|j| j.fingerprint.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::fake;
    use crate::report::Verdict;
    use serde_json::json;

    fn with_token(mut e: JournalEntry, fp: &str, claims: &Value) -> JournalEntry {
        e.jwt = Some(fake::jwt(&json!({"alg": "HS256", "typ": "JWT"}), claims, fp));
        e
    }

    fn claims(now: i64) -> Value {
        json!({"iss": "ak-test", "exp": now + 1800, "nbf": now - 5})
    }

    #[test]
    fn bearer_and_header_shapes() {
        let mut e = fake::create(0.1, 401, 1002);
        e.authorization = Some("Bearer  <jwt>".into());
        let j = bearer_format(&[&fake::run("happy", vec![e], 1, 1.0)]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].contains("`Authorization: Bearer  <jwt>`"), "{j:?}");

        let mut e = fake::create(0.1, 401, 1002);
        e.jwt = Some(fake::jwt(&json!({"alg": "HS256"}), &claims(1_700_000_000), "abcdef0123456789"));
        let j = jwt_header(&[&fake::run("happy", vec![e], 1, 1.0)]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].ends_with("token abcdef01 has header {\"alg\":\"HS256\"}"), "{j:?}");
    }

    #[test]
    fn claims_are_judged_per_token() {
        let e = fake::create(0.1, 200, 0);
        let now = e.clock_s;
        let good = with_token(e.clone(), "fp-good-000", &claims(now));
        let j = jwt_claims(&[&fake::run("happy", vec![good], 0, 1.0)]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        let long = with_token(e.clone(), "fp-long-000", &json!({"iss": "ak-test", "exp": now + 86_400, "nbf": now}));
        let j = jwt_claims(&[&fake::run("happy", vec![long], 0, 1.0)]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].contains("exp is its first use + 86400 s"), "{j:?}");
        let wrong = with_token(e, "fp-iss-0000", &json!({"iss": "someone", "exp": now + 60, "nbf": now + 30}));
        let j = jwt_claims(&[&fake::run("happy", vec![wrong], 0, 1.0)]);
        assert_eq!(j.evidence.len(), 2, "{j:?}");
    }

    #[test]
    fn token_expiry_outcomes() {
        let t = |e: JournalEntry, fp: &str| with_token(e, fp, &claims(1_700_000_000));
        let create = t(fake::create(0.1, 200, 0), "old");
        let mut expired = t(fake::query(1.6, "processing"), "old");
        expired.status = Some(401);
        expired.code = Some(1004);
        expired.task_status = None;
        let renewed = t(fake::query(1.7, "processing"), "new");

        let ok = fake::run("token-expiry", vec![create.clone(), expired.clone(), renewed], 0, 4.0);
        let j = token_refresh(&[&ok]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(j.evidence[1].contains("the client minted token new and"), "{j:?}");

        let mut again = expired.clone();
        again.t_ms = 2500.0;
        let stubborn = fake::run("token-expiry", vec![create.clone(), expired.clone(), again], 1, 4.0);
        let j = token_refresh(&[&stubborn]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.evidence[1].contains("token old was sent 2 times after the mock called it expired (#2, #3)"),
            "{j:?}"
        );

        let gave_up = fake::run("token-expiry", vec![create.clone(), expired], 1, 2.0);
        let j = token_refresh(&[&gave_up]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[1].contains("never sent a new token; the client exited with code 1"), "{j:?}");

        let fresh = fake::run("token-expiry", vec![create, t(fake::query(1.6, "succeed"), "fresh")], 0, 2.0);
        assert_eq!(token_refresh(&[&fresh]).verdict, Verdict::Pass);
        let refused = fake::run("token-expiry", vec![fake::create(0.1, 400, 1201)], 1, 0.2);
        assert_eq!(token_refresh(&[&refused]).verdict, Verdict::NotExercised);
    }
}
