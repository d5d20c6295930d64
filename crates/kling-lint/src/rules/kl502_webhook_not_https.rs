//! KL502 webhook-not-https: a `callback_url` over plain http (other than loopback).

use super::Checker;
use crate::analysis::Unit;
use crate::facts::ExprId;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    let kling = unit.is_kling_file() || unit.file.lang.is_config();
    let mut sites: Vec<(ExprId, String)> = Vec::new();
    for m in &unit.facts.maps {
        for e in &m.entries {
            if is_callback_name(&e.key) && (kling || &*e.key == "callback_url") {
                sites.push((e.value, e.key.to_string()));
            }
        }
    }
    for a in &unit.facts.assigns {
        if let (Some(name), Some(v)) = (unit.facts.name_of(a.target), a.value)
            && is_callback_name(name)
            && (kling || name.to_ascii_lowercase().contains("kling"))
        {
            sites.push((v, name.to_owned()));
        }
    }
    for (value, name) in sites {
        let Some(url) = unit.eval_str(value).or_else(|| first_literal(unit, value)) else { continue };
        if !url.starts_with("http://") || is_loopback(&url) {
            continue;
        }
        cx.report(unit.facts.expr(value).span, format!("`{name}` is plain http; task results (with their download URLs) would travel unencrypted"))
            .label("not https")
            .help("serve the webhook over https");
    }
}

fn is_callback_name(name: &str) -> bool {
    // Compared without separators, so that Go's `klingCallbackURL` and Python's
    // `KLING_CALLBACK_URL` read alike.
    let l: String = name.to_ascii_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    l.contains("callbackurl") || l.contains("webhookurl") && l.contains("kling")
}

fn first_literal(unit: &Unit<'_>, e: ExprId) -> Option<String> {
    match unit.fragments(e).into_iter().next()? {
        crate::analysis::values::Frag::Lit(s) if s.starts_with("http") => Some(s),
        _ => None,
    }
}

/// `localhost`, `127.0.0.0/8` and `[::1]` may use http.
fn is_loopback(url: &str) -> bool {
    let rest = &url["http://".len()..];
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let name = if host.starts_with('[') { host.split(']').next().map(|h| &h[1..]).unwrap_or("") } else { host.split(':').next().unwrap_or("") };
    name == "localhost" || name.starts_with("127.") || name == "::1" || name.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("http://localhost:8000/cb"));
        assert!(is_loopback("http://127.0.0.1/cb"));
        assert!(is_loopback("http://[::1]:9000/cb"));
        assert!(!is_loopback("http://hooks.example.com/cb"));
        assert!(!is_loopback("http://127.example.com/cb"));
    }
}
