//! KL501 secret-logged: the secret key, a token or an Authorization header printed or
//! logged.

use super::Checker;
use crate::analysis::Unit;
use crate::analysis::kling::Credential;
use crate::facts::{Call, ExprId, ExprKind};

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    if !unit.is_kling_file() {
        return;
    }
    for call in &unit.facts.calls {
        if !unit.is_log_call(call) {
            continue;
        }
        let Some(what) = call.args.iter().find_map(|a| leaked(unit, a.value)) else { continue };
        cx.report(call.span, format!("this prints {what}; logs are read by many and kept for long"))
            .label("secret in output")
            .help("log the task id, not credentials; if you must, log a redacted form (first 6 characters)");
    }
}

/// What secret an argument carries, if any.
fn leaked(unit: &Unit<'_>, e: ExprId) -> Option<&'static str> {
    let mut found = None;
    walk_unredacted(unit, e, 0, &mut |x| {
        let name = match &unit.facts.expr(x).kind {
            // `headers.Authorization`, JavaScript's spelling of `headers["Authorization"]`.
            ExprKind::Member(_, n) if n.eq_ignore_ascii_case("authorization") => {
                found = Some("the Authorization header");
                return true;
            }
            ExprKind::Name(n) | ExprKind::Member(_, n) => n.to_string(),
            ExprKind::Index(_, k) => match unit.facts.str_of(*k) {
                Some(s) if s.eq_ignore_ascii_case("authorization") => {
                    found = Some("the Authorization header");
                    return true;
                }
                _ => return false,
            },
            ExprKind::Map(m) => {
                if unit.facts.map(*m).entries.iter().any(|en| en.key.eq_ignore_ascii_case("authorization")) {
                    found = Some("the Authorization header");
                    return true;
                }
                return false;
            }
            _ => return false,
        };
        let lower = name.to_ascii_lowercase();
        if crate::analysis::kling::classify_credential(&name) == Some(Credential::SecretKey) {
            found = Some("the Kling secret key");
        } else if names_credential_token(&name) || holds_minted_token(unit, x, 0) {
            found = Some("a Kling token");
        } else if is_authorized_go_header(unit, x) {
            found = Some("the request headers (with the Authorization token)");
        } else if lower == "headers" || lower.ends_with("_headers") || lower.ends_with("headers") {
            // A headers value carries Authorization in Kling code, unless it is
            // visibly a map without it.
            let d = unit.deref(x);
            let visible_without = matches!(unit.facts.expr(d).kind, ExprKind::Map(m)
                if !unit.facts.map(m).entries.iter().any(|en| en.key.eq_ignore_ascii_case("authorization")));
            if !visible_without {
                found = Some("the request headers (with the Authorization token)");
            }
        }
        found.is_some()
    });
    found
}

/// Whether a variable holds a freshly minted Kling token, whatever its name
/// (`authorization = encode_jwt_token(ak, sk)`): the value of a JWT-encoding call, or
/// of a function of this file that returns one.
fn holds_minted_token(unit: &Unit<'_>, x: ExprId, depth: u32) -> bool {
    if depth > 2 || !matches!(unit.facts.expr(x).kind, ExprKind::Name(_)) {
        return false;
    }
    let d = unit.deref(x);
    let ExprKind::Call(c) = unit.facts.expr(d).kind else { return false };
    let call = unit.facts.call(c);
    if unit.jwt_call(call).is_some_and(|j| unit.is_kling_token(&j, call)) {
        return true;
    }
    match unit.callee(call) {
        crate::analysis::Callee::Local(f) => unit.facts.function(f).returns.iter().any(|r| {
            let r = *r;
            holds_minted_token(unit, r, depth + 1)
                || matches!(unit.facts.expr(r).kind, ExprKind::Call(rc)
                    if unit.jwt_call(unit.facts.call(rc)).is_some_and(|j| unit.is_kling_token(&j, unit.facts.call(rc))))
        }),
        _ => false,
    }
}

/// Whether a name holds a credential token: a word with `jwt`, or with `token`
/// other than a count of language-model tokens (`prompt_tokens`, `tokenCount`,
/// `max_tokens`) or a tokenizer.
fn names_credential_token(name: &str) -> bool {
    let words = words_of(name);
    words.iter().enumerate().any(|(i, w)| {
        let counted = words.get(i + 1).is_some_and(|next| {
            matches!(next.as_str(), "count" | "counts" | "limit" | "usage" | "budget" | "len" | "length" | "total")
        });
        w.contains("jwt") || (w.contains("token") && !w.ends_with("tokens") && !w.contains("tokeniz") && !counted)
    })
}

/// The lower-case words of an identifier, split at `_`, `-` and camelCase humps.
fn words_of(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            prev_lower = false;
            words.push(String::new());
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            words.push(String::new());
        }
        if words.is_empty() {
            words.push(String::new());
        }
        words.last_mut().expect("just ensured").push(c.to_ascii_lowercase());
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    words.retain(|w| !w.is_empty());
    words
}

/// Go's `req.Header` (an `http.Header`), when the file sets `Authorization` on the
/// headers of a value of that name (`req.Header.Set("Authorization", ...)`); a
/// response's headers, or a request's without it, carry no credential.
fn is_authorized_go_header(unit: &Unit<'_>, x: ExprId) -> bool {
    if unit.file.lang != crate::lang::Lang::Go {
        return false;
    }
    let ExprKind::Member(owner, f) = &unit.facts.expr(x).kind else { return false };
    let Some(owner) = unit.facts.name_of(*owner).filter(|_| &**f == "Header") else { return false };
    unit.facts.calls.iter().any(|c| {
        let sets = matches!(&unit.facts.expr(c.callee).kind, ExprKind::Member(h, m)
            if matches!(&**m, "Set" | "Add")
                && matches!(&unit.facts.expr(*h).kind, ExprKind::Member(o, hf) if &**hf == "Header" && unit.facts.name_of(*o) == Some(owner)));
        sets && c.args.first().and_then(|a| unit.eval_str(a.value)).is_some_and(|k| k.eq_ignore_ascii_case("authorization"))
    })
}

/// Walk an expression, but not into redacting calls (`mask(token)`, `len(token)`,
/// `token[:6]`, `token.slice(0, 6)`).
fn walk_unredacted(unit: &Unit<'_>, e: ExprId, depth: u32, f: &mut dyn FnMut(ExprId) -> bool) -> bool {
    if depth > 12 {
        return false;
    }
    if f(e) {
        return true;
    }
    match &unit.facts.expr(e).kind {
        ExprKind::Template(parts) => parts.iter().any(|p| match p {
            crate::facts::Part::Hole(h) => walk_unredacted(unit, *h, depth + 1, f),
            crate::facts::Part::Lit(_) => false,
        }),
        ExprKind::Binary(_, l, r) => walk_unredacted(unit, *l, depth + 1, f) || walk_unredacted(unit, *r, depth + 1, f),
        ExprKind::List(items) => items.iter().any(|i| walk_unredacted(unit, *i, depth + 1, f)),
        // Structured loggers take an object: pino's `logger.debug({ headers }, "...")`.
        ExprKind::Map(m) => unit.facts.map(*m).entries.iter().any(|en| walk_unredacted(unit, en.value, depth + 1, f)),
        ExprKind::Call(c) => {
            let call: &Call = unit.facts.call(*c);
            let name = unit.facts.callee_name(call).unwrap_or("").to_ascii_lowercase();
            let redacts = [
                "mask",
                "redact",
                "len",
                "hash",
                "sha",
                "slice",
                "substring",
                "substr",
                "truncate",
                "prefix",
                "hide",
                "obfuscate",
                "length",
                "count",
            ]
            .iter()
            .any(|w| name.contains(w));
            if redacts {
                return false;
            }
            // `str(token)`, `json.dumps(headers)`, `fmt.Sprintf("%s", token)` pass the value through.
            call.args.iter().any(|a| walk_unredacted(unit, a.value, depth + 1, f))
        }
        // `token[:6]` shows a prefix only.
        ExprKind::Index(..) => false,
        _ => false,
    }
}

impl Unit<'_> {
    /// Whether a call prints or logs its arguments.
    pub(crate) fn is_log_call(&self, call: &Call) -> bool {
        let Some(path) = self.facts.path_of(call.callee) else { return false };
        let last = path.rsplit('.').next().unwrap_or(&path);
        let receiver = path.rsplit_once('.').map(|(r, _)| r.to_ascii_lowercase());
        // Go's loggers capitalise (`slog.Debug`, `logger.Infof`, zap's `Infow`,
        // a `*log.Logger`'s `Printf`).
        let log_method = matches!(
            last.to_ascii_lowercase().as_str(),
            "debug"
                | "info"
                | "warning"
                | "warn"
                | "error"
                | "exception"
                | "critical"
                | "fatal"
                | "trace"
                | "log"
                | "debugf"
                | "infof"
                | "warnf"
                | "errorf"
                | "fatalf"
                | "debugw"
                | "infow"
                | "warnw"
                | "errorw"
                | "print"
                | "printf"
                | "println"
        );
        let logger_receiver = receiver.as_deref().is_some_and(|r| {
            r == "logging"
                || r.ends_with("logger")
                || r.ends_with("log")
                || r == "console"
                || r == "slog"
                || r.ends_with("logging")
                || r == "winston"
                || r == "pino"
                || r == "logrus"
        });
        match path.as_str() {
            "print" | "pprint" | "pprint.pprint" | "sys.stdout.write" | "sys.stderr.write" => true,
            "println!" | "eprintln!" | "print!" | "eprint!" | "dbg!" | "info!" | "debug!" | "warn!" | "error!"
            | "trace!" => true,
            p if p.starts_with("fmt.Print")
                || p.starts_with("fmt.Fprint")
                || p.starts_with("log.Print")
                || p.starts_with("log.Fatal")
                || p.starts_with("log.Panic") =>
            {
                true
            }
            _ => log_method && logger_receiver,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{names_credential_token, words_of};

    #[test]
    fn words_split_at_case_and_separators() {
        assert_eq!(words_of("PromptTokens"), ["prompt", "tokens"]);
        assert_eq!(words_of("kling_api-token"), ["kling", "api", "token"]);
        assert_eq!(words_of("tokenString"), ["token", "string"]);
    }

    #[test]
    fn token_counts_are_not_credentials() {
        // Regression: a language model's `PromptTokens` was reported as a logged token.
        for counted in ["PromptTokens", "prompt_tokens", "max_tokens", "tokenCount", "token_limit", "tokenizer"] {
            assert!(!names_credential_token(counted), "{counted}");
        }
        for credential in ["token", "tokenString", "accessToken", "kling_jwt", "authtoken", "TOKEN"] {
            assert!(names_credential_token(credential), "{credential}");
        }
    }
}
