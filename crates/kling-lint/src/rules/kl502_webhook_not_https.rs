//! KL502 webhook-not-https: a `callback_url` over plain http (other than loopback).

use super::Checker;
use crate::analysis::Unit;
use crate::analysis::values::Frag;
use crate::facts::{ExprId, MapKind};

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    let kling = unit.is_kling_file() || unit.file.lang.is_config();
    let mut sites: Vec<(ExprId, String)> = Vec::new();
    let mut assigned: Vec<ExprId> = Vec::new();
    for a in &unit.facts.assigns {
        if let (Some(name), Some(v)) = (unit.facts.name_of(a.target), a.value)
            && is_callback_name(name)
            && (kling || name.to_ascii_lowercase().contains("kling"))
        {
            sites.push((v, name.to_owned()));
            assigned.push(v);
        }
    }
    for (i, m) in unit.facts.maps.iter().enumerate() {
        for e in &m.entries {
            if !is_callback_name(&e.key) || !(kling || &*e.key == "callback_url") {
                continue;
            }
            // A look-alike key in some other object (Passport's OAuth `callbackURL`) is
            // not Kling's: only the wire name `callback_url`, a Kling-named key, or a
            // key of a typed request struct or of a Kling request body counts.
            let wire_name = &*e.key == "callback_url" || e.key.to_ascii_lowercase().contains("kling");
            let request = matches!(m.kind, MapKind::Struct(_)) || unit.bodies().iter().any(|(b, _)| b.index() == i);
            if !wire_name && !request {
                continue;
            }
            // `module.exports = { KLING_CALLBACK_URL }` re-exports a value already
            // reported where it is assigned.
            let d = unit.deref(e.value);
            if d != e.value && assigned.contains(&d) {
                continue;
            }
            sites.push((e.value, e.key.to_string()));
        }
    }
    for (value, name) in sites {
        let Some(url) = unit.eval_str(value).or_else(|| first_literal(unit, value)) else { continue };
        if !url.starts_with("http://") || is_loopback(&url) {
            continue;
        }
        cx.report(
            unit.facts.expr(value).span,
            format!("`{name}` is plain http; task results (with their download URLs) would travel unencrypted"),
        )
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

/// The literal start of a URL; past an environment lookup, its default
/// (`process.env.KLING_CALLBACK_URL ?? "http://..."`).
fn first_literal(unit: &Unit<'_>, e: ExprId) -> Option<String> {
    let frags = unit.fragments(e);
    let first = frags.iter().find(|f| !matches!(f, Frag::Opaque(h) if h.starts_with("env:")))?;
    match first {
        Frag::Lit(s) if s.starts_with("http") => Some(s.clone()),
        _ => None,
    }
}

/// `localhost`, `127.0.0.0/8` and `[::1]` may use http.
fn is_loopback(url: &str) -> bool {
    let rest = &url["http://".len()..];
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let name = if host.starts_with('[') {
        host.split(']').next().map_or("", |h| &h[1..])
    } else {
        host.split(':').next().unwrap_or("")
    };
    // `127.example.com` is a host name, not the loopback network.
    let loopback_ip = name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    name == "localhost" || loopback_ip || name.ends_with(".localhost")
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
