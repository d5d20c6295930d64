//! KL203 token-lifetime: Kling JWT claims with a lifetime over 1800 s, no `exp` or
//! `nbf`, `nbf` in the future, or an `iss` that is not the access key.

use super::Checker;
use crate::analysis::Unit;
use crate::analysis::kling::Credential;
use crate::facts::{BinOp, ExprId, ExprKind, MapId};

const MAX_LIFETIME: f64 = kling_api::jwt::LIFETIME_SECS as f64;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for call in &unit.facts.calls {
        let Some(jwt) = unit.jwt_call(call) else { continue };
        if !unit.is_kling_token(&jwt, call) {
            continue;
        }
        let Some(claims) = jwt.claims.map(|c| unit.deref(c)) else { continue };
        let ExprKind::Map(m) = unit.facts.expr(claims).kind else { continue };
        if unit.facts.map(m).has_spread {
            continue;
        }
        let claim = |keys: &[&str]| keys.iter().find_map(|k| unit.facts.map(m).get(k)).map(|e| e.value);
        // Library options that set claims: jsonwebtoken's expiresIn/notBefore, jose's builder.
        let option = |key: &str| {
            jwt.options.and_then(|o| match unit.facts.expr(unit.deref(o)).kind {
                ExprKind::Map(om) => unit.facts.map(om).get(key).map(|e| e.value),
                _ => None,
            })
        };
        let builder = |name: &str| jwt.builder_calls.iter().find(|(n, _)| n == name).map(|(_, a)| *a);
        let map_span = unit.facts.map(m).span;

        let exp = claim(&["exp", "ExpiresAt"]);
        let exp_offset = exp
            .and_then(|v| offset(unit, v))
            .or_else(|| option("expiresIn").and_then(|v| span_secs(unit, v)))
            .or_else(|| builder("setExpirationTime").flatten().and_then(|v| span_secs(unit, v)));
        let has_exp = exp.is_some() || option("expiresIn").is_some() || builder("setExpirationTime").is_some();
        match exp_offset {
            Some(secs) if secs > MAX_LIFETIME => {
                let at = exp.map_or(map_span, |v| unit.facts.expr(v).span);
                cx.report(
                    at,
                    format!("the token lives {} s; Kling tokens live at most 1800 s (30 minutes)", secs as i64),
                )
                .label("too long")
                .help("set exp = now + 1800 and refresh the token before it expires");
            }
            _ if !has_exp => {
                cx.report(map_span, "these Kling JWT claims have no `exp`; Kling requires one (now + 1800 s)")
                    .label("no exp")
                    .help("add \"exp\": now + 1800");
            }
            _ => {}
        }
        let nbf = claim(&["nbf", "NotBefore"]);
        let has_nbf = nbf.is_some() || option("notBefore").is_some() || builder("setNotBefore").is_some();
        match nbf.and_then(|v| offset(unit, v)) {
            Some(secs) if secs > 0.0 => {
                cx.report(
                    unit.facts.expr(nbf.expect("offset came from it")).span,
                    format!("`nbf` is {} s in the future; Kling answers 401 (code 1003) until then", secs as i64),
                )
                .label("not yet valid")
                .help("set nbf = now - 5 to absorb clock skew");
            }
            _ if !has_nbf => {
                cx.report(map_span, "these Kling JWT claims have no `nbf`; Kling expects nbf = now - 5")
                    .label("no nbf")
                    .help("add \"nbf\": now - 5");
            }
            _ => {}
        }
        iss_check(cx, m, claim(&["iss", "Issuer"]), builder("setIssuer").flatten());
    }
}

fn iss_check(cx: &mut Checker<'_, '_>, m: MapId, iss: Option<ExprId>, builder_iss: Option<ExprId>) {
    let unit = cx.unit;
    let Some(v) = iss.or(builder_iss) else {
        cx.report(
            unit.facts.map(m).span,
            "these Kling JWT claims have no `iss`; it must be the access key (401, code 1000 otherwise)",
        )
        .label("no iss");
        return;
    };
    if unit.carries(v, Credential::SecretKey) {
        cx.report(
            unit.facts.expr(v).span,
            "`iss` is the secret key; it must be the access key (and the secret must never travel in a token)",
        )
        .label("secret key as issuer");
    }
}

/// For `now + N` (in any of its spellings), N in seconds.
fn offset(unit: &Unit<'_>, e: ExprId) -> Option<f64> {
    let d = unit.deref(e);
    match &unit.facts.expr(d).kind {
        ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), l, r) => {
            let sign = if *op == BinOp::Sub { -1.0 } else { 1.0 };
            // A plain number added to "now" is seconds: `now` is then a Unix timestamp,
            // even in Go and Rust, where a bare duration would be nanoseconds.
            let n = unit.eval_num(*r).or_else(|| span_secs(unit, *r))?;
            // The left side is "now": it must not itself be a plain number.
            (unit.eval_num(*l).is_none()).then_some(sign * n)
        }
        ExprKind::Call(c) => {
            let call = unit.facts.call(*c);
            let name = unit.facts.callee_name(call)?;
            match name {
                // Go: now.Add(d).Unix(), jwt.NewNumericDate(now.Add(d)); Python: int(x), x.timestamp()
                "Unix" | "timestamp" | "unix_timestamp" | "Timestamp" => match unit.facts.expr(call.callee).kind {
                    ExprKind::Member(obj, _) => offset(unit, obj),
                    _ => None,
                },
                "Add" => call.args.first().and_then(|a| unit.eval_duration(a.value, false)),
                "int" | "NewNumericDate" | "floor" | "round" => call.args.first().and_then(|a| offset(unit, a.value)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A time span in seconds: `timedelta(minutes=30)`, jsonwebtoken's `"30m"`/`1800`,
/// jose's `"2h"`, Go/Rust durations.
fn span_secs(unit: &Unit<'_>, e: ExprId) -> Option<f64> {
    let d = unit.deref(e);
    if let ExprKind::Call(c) = unit.facts.expr(d).kind {
        let call = unit.facts.call(c);
        if unit.facts.callee_name(call) == Some("timedelta") {
            let mut total = 0.0;
            for a in &call.args {
                let n = unit.eval_num(a.value)?;
                total += n * match a.name.as_deref() {
                    Some("seconds") | None => 1.0,
                    Some("minutes") => 60.0,
                    Some("hours") => 3600.0,
                    Some("days") => 86400.0,
                    _ => return None,
                };
            }
            return Some(total);
        }
        if let Some(s) = unit
            .eval_duration(d, false)
            .filter(|_| matches!(unit.file.lang, crate::lang::Lang::Go | crate::lang::Lang::Rust))
        {
            return Some(s);
        }
    }
    if let Some(s) = unit.eval_str(d) {
        return parse_span(&s);
    }
    if matches!(unit.file.lang, crate::lang::Lang::Go | crate::lang::Lang::Rust) {
        return unit.eval_duration(d, false);
    }
    unit.eval_num(d)
}

/// `"30m"`, `"2h"`, `"1d"`, `"90s"`, `"1800"` (the `ms`/vercel format jsonwebtoken and jose use).
fn parse_span(s: &str) -> Option<f64> {
    let t = s.trim().to_ascii_lowercase();
    let digits = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let n: f64 = t[..digits].parse().ok()?;
    let unit = t[digits..].trim();
    Some(
        n * match unit {
            "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86400.0,
            _ => return None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::parse_span;

    #[test]
    fn spans() {
        assert_eq!(parse_span("30m"), Some(1800.0));
        assert_eq!(parse_span("2h"), Some(7200.0));
        assert_eq!(parse_span("1800"), Some(1800.0));
        assert_eq!(parse_span("soon"), None);
    }
}
