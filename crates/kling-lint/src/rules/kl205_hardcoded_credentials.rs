//! KL205 hardcoded-credentials: a Kling secret key (or a signed token) written in
//! source or committed in a config or `.env` file.

use super::Checker;
use crate::analysis::Unit;
use crate::analysis::values::Frag;
use crate::facts::{BinOp, ExprId, ExprKind, Span};
use crate::lang::Lang;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    let mut reported: Vec<Span> = Vec::new();
    let mut report = |cx: &mut Checker<'_, '_>, span: Span, what: &str| {
        if reported.contains(&span) {
            return;
        }
        reported.push(span);
        cx.report(span, format!("{what} is written in the code; anyone with the repository can sign Kling requests"))
            .label("hard-coded secret")
            .help("load it from the environment or a secrets manager, and rotate this key");
    };
    let has_access_key_name =
        unit.facts.assigns.iter().any(|a| unit.facts.name_of(a.target).is_some_and(is_access_key_name))
            || unit.facts.maps.iter().any(|m| m.entries.iter().any(|e| is_access_key_name(&e.key)));
    // Assignments: KLING_SECRET_KEY = "...", SK = "..." in a Kling file with an AK beside it.
    for a in &unit.facts.assigns {
        let Some(name) = unit.facts.name_of(a.target).or_else(|| match &unit.facts.expr(a.target).kind {
            ExprKind::Member(_, f) => Some(&**f),
            _ => None,
        }) else {
            continue;
        };
        let Some(v) = a.value else { continue };
        if is_kling_secret_name(unit, name, has_access_key_name)
            && let Some(span) = secret_literal(unit, v)
        {
            report(cx, span, &format!("the Kling secret key `{name}`"));
        }
    }
    // Map entries: configs, settings dicts, YAML workflow env blocks.
    for m in &unit.facts.maps {
        for e in &m.entries {
            if is_kling_secret_name(unit, &e.key, has_access_key_name)
                && let Some(span) = secret_literal(unit, e.value)
            {
                report(cx, span, &format!("the Kling secret key `{}`", e.key));
            }
        }
    }
    // Environment lookups with a secret default: os.environ.get("KLING_SECRET_KEY", "...").
    for c in &unit.facts.calls {
        let path = unit.facts.path_of(c.callee).unwrap_or_default();
        if matches!(path.as_str(), "os.environ.get" | "os.getenv" | "getenv")
            && let (Some(var), Some(default)) = (c.args.first().and_then(|a| unit.facts.str_of(a.value)), c.args.get(1))
            && is_kling_secret_name(unit, var, has_access_key_name)
            && let Some(span) = secret_literal(unit, default.value)
        {
            report(cx, span, &format!("a default for `{var}`"));
        }
        // Rust: env::var("KLING_SECRET_KEY").unwrap_or_else(|_| "...".into()).
        if let Some((var, default)) = rust_env_default(unit, c)
            && is_kling_secret_name(unit, &var, has_access_key_name)
            && let Some(span) = secret_literal(unit, default)
        {
            report(cx, span, &format!("a default for `{var}`"));
        }
        // A Kling token signed with a literal key.
        if let Some(jwt) = unit.jwt_call(c)
            && unit.is_kling_token(&jwt, c)
            && let Some(key) = jwt.key
            && let Some(span) = secret_literal(unit, key)
        {
            report(cx, span, "the key this Kling token is signed with");
        }
    }
    // `process.env.KLING_SECRET_KEY || "..."`
    for e in &unit.facts.exprs {
        if let ExprKind::Binary(BinOp::Or, l, r) = e.kind {
            let env_var = unit.fragments(l).into_iter().find_map(|f| match f {
                Frag::Opaque(h) => h.strip_prefix("env:").map(str::to_owned),
                Frag::Lit(_) => None,
            });
            if let Some(var) = env_var
                && is_kling_secret_name(unit, &var, has_access_key_name)
                && let Some(span) = secret_literal(unit, r)
            {
                report(cx, span, &format!("a default for `{var}`"));
            }
        }
    }
}

fn normalized(name: &str) -> String {
    name.to_ascii_lowercase().chars().filter(char::is_ascii_alphanumeric).collect()
}

fn is_access_key_name(name: &str) -> bool {
    let n = normalized(name);
    n == "ak" || n.ends_with("accesskey") || n.ends_with("accesskeyid") || n == "klingak"
}

/// A name that holds the Kling secret key: one that says Kling and secret, or a
/// generic secret-key name in a Kling file that also names an access key.
fn is_kling_secret_name(unit: &Unit<'_>, name: &str, has_access_key: bool) -> bool {
    let n = normalized(name);
    let secret = n.contains("secret") || n == "sk" || n.ends_with("klingsk");
    if !secret || n.contains("access") {
        return false;
    }
    // A generic name (`SECRET_KEY`, `apiSecretKey`) may be Kling's; one that names
    // something else (`STRIPE_SECRET_KEY`, `AWS_SECRET_KEY`) is another service's.
    let generic = n
        .strip_suffix("secretkey")
        .is_some_and(|prefix| matches!(prefix, "" | "api" | "app" | "client" | "my" | "default"));
    n.contains("kling") || (unit.is_kling_file() && has_access_key && (n == "sk" || generic))
}

/// The span of a literal that looks like a real secret (not a placeholder).
fn secret_literal(unit: &Unit<'_>, e: ExprId) -> Option<Span> {
    let expr = unit.facts.expr(e);
    match &expr.kind {
        ExprKind::Str(s) if looks_secret(s) => Some(expr.span),
        ExprKind::Call(c) => {
            // `"...".encode()`, `[]byte("...")`, `String::from("...")`,
            // `EncodingKey::from_secret(b"...")`
            let call = unit.facts.call(*c);
            let first_arg = || call.args.first().and_then(|a| secret_literal(unit, a.value));
            let is_type =
                |e: ExprId| unit.facts.name_of(e).is_some_and(|t| t.starts_with(|c: char| c.is_ascii_uppercase()));
            match unit.facts.expr(call.callee).kind {
                // A Rust type's constructor takes the text as its argument.
                ExprKind::Member(obj, _) if unit.file.lang == Lang::Rust && is_type(obj) => first_arg(),
                ExprKind::Member(obj, _) => secret_literal(unit, obj),
                _ => first_arg(),
            }
        }
        _ => None,
    }
}

/// Rust's `env::var("NAME").unwrap_or(default)` (or `unwrap_or_else(|_| default)`):
/// the variable's name and the default.
fn rust_env_default(unit: &Unit<'_>, call: &crate::facts::Call) -> Option<(String, ExprId)> {
    if unit.file.lang != Lang::Rust || !matches!(unit.facts.callee_name(call), Some("unwrap_or" | "unwrap_or_else")) {
        return None;
    }
    let ExprKind::Member(receiver, _) = unit.facts.expr(call.callee).kind else { return None };
    let ExprKind::Call(lookup) = unit.facts.expr(receiver).kind else { return None };
    let lookup = unit.facts.call(lookup);
    let path = unit.facts.path_of(lookup.callee)?;
    if path != "env.var" && !path.ends_with(".env.var") {
        return None;
    }
    let var = lookup.args.first().and_then(|a| unit.facts.str_of(a.value))?.to_owned();
    let default = call.args.first()?.value;
    let default = match unit.facts.expr(default).kind {
        ExprKind::Closure(f) => *unit.facts.function(f).returns.first()?,
        _ => default,
    };
    Some((var, default))
}

/// Whether a string looks like a real secret rather than a placeholder.
pub(crate) fn looks_secret(s: &str) -> bool {
    let t = s.trim();
    if t.len() < 12 || t.chars().any(char::is_whitespace) {
        return false;
    }
    let lower = t.to_ascii_lowercase();
    const PLACEHOLDERS: &[&str] = &[
        "your",
        "example",
        "changeme",
        "change_me",
        "change-me",
        "placeholder",
        "dummy",
        "fake",
        "test",
        "sample",
        "xxx",
        "***",
        "redacted",
        "todo",
        "replace",
        "secret-key",
        "secret_key",
        "secretkey",
        "<",
        "${",
        "{{",
        "%(",
        "$(",
        "...",
        "insert",
        "fixme",
    ];
    if PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        return false;
    }
    let distinct = t.chars().collect::<std::collections::HashSet<_>>().len();
    let has_digit = t.chars().any(|c| c.is_ascii_digit());
    let has_alpha = t.chars().any(|c| c.is_ascii_alphabetic());
    distinct >= 6 && (has_digit && has_alpha || t.len() >= 24)
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn placeholders_are_not_secrets() {
        assert!(looks_secret("9f2c41d7e8b14a3f9c0d5e6f7a8b9c0d"));
        assert!(!looks_secret(""));
        assert!(!looks_secret("your-secret-key"));
        assert!(!looks_secret("${KLING_SECRET_KEY}"));
        assert!(!looks_secret("<secret>"));
        assert!(!looks_secret("sk-test"));
        assert!(!looks_secret("xxxxxxxxxxxxxxxx"));
        assert!(!looks_secret("${{ secrets.KLING_SECRET_KEY }}"));
    }
}
