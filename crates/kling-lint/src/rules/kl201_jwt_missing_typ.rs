//! KL201 jwt-missing-typ: a Kling JWT whose header lacks `typ: "JWT"`.

use super::Checker;
use crate::analysis::idioms::JwtLib;
use crate::analysis::kling::Credential;
use crate::diagnostic::Fix;
use crate::facts::{ExprKind, MapId, MapKind};
use crate::lang::Lang;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    let mut headers_seen: Vec<MapId> = Vec::new();
    for call in &unit.facts.calls {
        let Some(jwt) = unit.jwt_call(call) else { continue };
        if !unit.is_kling_token(&jwt, call) {
            continue;
        }
        match jwt.header.map(|h| unit.deref(h)) {
            Some(h) => {
                let ExprKind::Map(m) = unit.facts.expr(h).kind else { continue };
                headers_seen.push(m);
                // Report where the header is used for a Kling token; the fix edits
                // the literal wherever it is defined.
                check_header_map(cx, m, Some(jwt.lib), jwt.header_span);
            }
            None if !jwt.lib.typ_by_default() => {
                cx.report(
                    jwt.header_span,
                    format!(
                        "{} writes no `typ` unless told; Kling rejects a token without `typ: \"JWT\"` (401, code 1002)",
                        jwt.lib.name()
                    ),
                )
                .help("set the header explicitly: {\"alg\": \"HS256\", \"typ\": \"JWT\"}");
            }
            None if cx.settings.require_explicit_header => {
                cx.report(call.span, format!("no explicit JWT header (the project requires one); {}'s default header already carries `typ: \"JWT\"`", jwt.lib.name()))
                    .help("pass the header explicitly: {\"alg\": \"HS256\", \"typ\": \"JWT\"}");
            }
            None => {}
        }
    }
    go_header_edits(cx);
    rust_header_edits(cx);
    hand_built_headers(cx, &headers_seen);
}

/// Report a header literal without `typ: "JWT"`, with a fix that adds it.
fn check_header_map(cx: &mut Checker<'_, '_>, m: MapId, lib: Option<JwtLib>, at: crate::facts::Span) {
    let unit = cx.unit;
    let map = unit.facts.map(m);
    let typ = map.get("typ");
    // A spread (`..Header::new(alg)`) may bring `typ` in; only an explicit one is judged.
    if map.has_spread && typ.is_none() {
        return;
    }
    match typ.map(|e| &unit.facts.expr(e.value).kind) {
        Some(ExprKind::Str(v)) if &**v == "JWT" => {}
        Some(ExprKind::Str(v)) => {
            let span = unit.facts.expr(typ.expect("matched Some").value).span;
            cx.report(span, format!("the JWT header's `typ` is {v:?}; Kling requires \"JWT\" (401, code 1002)"))
                .label("must be \"JWT\"");
        }
        Some(ExprKind::Null) => {
            let span = unit.facts.expr(typ.expect("matched Some").value).span;
            cx.report(span, "the JWT header's `typ` is removed; Kling requires `typ: \"JWT\"` (401, code 1002)")
                .label("no typ");
        }
        Some(_) => {}
        None if matches!(map.kind, MapKind::Struct(_)) => {}
        None => {
            let merged = lib.is_some_and(JwtLib::merges_header);
            let message = if merged {
                format!(
                    "this explicit JWT header has no `typ`; {} adds `typ: \"JWT\"` today, but Kling requires it, so state it",
                    lib.map_or("the library", JwtLib::name)
                )
            } else {
                "this JWT header has no `typ`; Kling rejects tokens without `typ: \"JWT\"` (401, code 1002)".to_owned()
            };
            let fix = add_typ_fix(cx, m);
            let label = if at.contains(map.span) {
                "no \"typ\"".to_owned()
            } else {
                format!("`{}` has no \"typ\"", unit.text(at))
            };
            let d = cx.report(at, message);
            d.label(label);
            if let Some(f) = fix {
                d.fix(f);
            }
        }
    }
}

/// Insert `"typ": "JWT"` after the last entry of a header literal.
fn add_typ_fix(cx: &Checker<'_, '_>, m: MapId) -> Option<Fix> {
    let unit = cx.unit;
    let map = unit.facts.map(m);
    let last = map.entries.last()?;
    let key = match unit.file.lang {
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => "typ: \"JWT\"",
        Lang::Python | Lang::Go | Lang::Rust => "\"typ\": \"JWT\"",
        _ => return None,
    };
    Some(Fix::insert("add \"typ\": \"JWT\" to the header", last.span.end, format!(", {key}")))
}

/// golang-jwt: `token.Header = map[string]interface{}{...}` replaces the default
/// header; `delete(token.Header, "typ")` removes `typ`.
fn go_header_edits(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    if unit.file.lang != Lang::Go || !unit.is_kling_file() {
        return;
    }
    for call in &unit.facts.calls {
        if unit.facts.name_of(call.callee) != Some("delete") || call.args.len() != 2 {
            continue;
        }
        let ExprKind::Member(tok, f) = &unit.facts.expr(call.args[0].value).kind else { continue };
        // Only the header of a Kling token: one this function signs (`tok.SignedString`)
        // with Kling's claims or key; a GitHub App token beside it is not ours to judge.
        let tok_name = unit.facts.name_of(*tok);
        let signs_kling = tok_name.is_some()
            && unit.facts.calls.iter().any(|c| {
                c.func == call.func
                    && matches!(&unit.facts.expr(c.callee).kind,
                        ExprKind::Member(o, m) if &**m == "SignedString" && unit.facts.name_of(*o) == tok_name)
                    && unit.jwt_call(c).is_some_and(|j| unit.is_kling_token(&j, c))
            });
        if &**f == "Header" && signs_kling && unit.facts.str_of(call.args[1].value) == Some("typ") {
            cx.report(
                call.span,
                "this deletes `typ` from the JWT header; Kling rejects tokens without `typ: \"JWT\"` (401, code 1002)",
            )
            .help("keep golang-jwt's default header, which carries typ: JWT");
        }
    }
}

/// Rust jsonwebtoken: `header.typ = None`.
fn rust_header_edits(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    if unit.file.lang != Lang::Rust {
        return;
    }
    for a in &unit.facts.assigns {
        let ExprKind::Member(header, f) = &unit.facts.expr(a.target).kind else { continue };
        // Only the header of a Kling token: one this function passes to `encode` with
        // Kling's claims or key.
        let header_name = unit.facts.name_of(*header);
        let signs_kling = header_name.is_some()
            && unit.facts.calls.iter().any(|c| {
                c.func == a.func
                    && unit.jwt_call(c).is_some_and(|j| {
                        j.header.and_then(|h| unit.facts.name_of(h)) == header_name && unit.is_kling_token(&j, c)
                    })
            });
        if &**f == "typ" && signs_kling && a.value.is_some_and(|v| matches!(unit.facts.expr(v).kind, ExprKind::Null)) {
            cx.report(
                a.span,
                "this removes `typ` from the JWT header; Kling rejects tokens without `typ: \"JWT\"` (401, code 1002)",
            )
            .help("keep `Header::new(Algorithm::HS256)`, which sets typ to \"JWT\"");
        }
    }
}

/// A header built by hand: `{"alg": "HS256"}` serialised and base64-encoded.
fn hand_built_headers(cx: &mut Checker<'_, '_>, seen: &[MapId]) {
    let unit = cx.unit;
    if !unit.is_kling_file() {
        return;
    }
    for (i, map) in unit.facts.maps.iter().enumerate() {
        let m = MapId(i as u32);
        if seen.contains(&m) || map.get("typ").is_some() || matches!(map.kind, MapKind::Struct(_)) {
            continue;
        }
        let Some(alg) = map.get("alg").and_then(|e| unit.facts.str_of(e.value)) else { continue };
        if !alg.starts_with("HS") && alg != "none" {
            continue;
        }
        // A token signed by hand: the function computes an HMAC or base64url-encodes,
        // and the header is handed to some call (the encoder).
        let signs_by_hand = unit.facts.calls.iter().any(|c| {
            c.func == map.func
                && unit.facts.path_of(c.callee).is_some_and(|p| {
                    let l = p.to_ascii_lowercase();
                    l.contains("hmac")
                        || l.contains("urlsafe_b64encode")
                        || l.contains("rawurlencoding")
                        || l.contains("url_safe")
                })
        });
        let names = names_of(unit, m);
        let used = unit
            .facts
            .calls
            .iter()
            .any(|c| c.func == map.func && c.args.iter().any(|a| unit.mentions(a.value, &names, m)));
        let serialised = signs_by_hand && used;
        if serialised && signs_kling_token(unit, map.func) {
            let fix = add_typ_fix(cx, m);
            let d = cx.report(
                map.span,
                "this hand-built JWT header has no `typ`; Kling rejects tokens without `typ: \"JWT\"` (401, code 1002)",
            );
            d.label("no \"typ\"");
            if let Some(f) = fix {
                d.fix(f);
            }
        }
    }
}

/// Whether a function that signs a token by hand signs a Kling one: its claims name
/// the access key as `iss`, a call in it takes the secret key, or it is Kling code by
/// name. A webhook signature for another service in a Kling module is not.
fn signs_kling_token(unit: &crate::analysis::Unit<'_>, func: Option<crate::facts::FuncId>) -> bool {
    let kling_claims = unit
        .facts
        .maps
        .iter()
        .any(|c| c.func == func && c.get("iss").is_some_and(|iss| unit.carries(iss.value, Credential::AccessKey)));
    let secret_key = unit
        .facts
        .calls
        .iter()
        .any(|c| c.func == func && c.args.iter().any(|a| unit.carries(a.value, Credential::SecretKey)));
    let kling_code = unit.func_chain(func).any(|f| {
        let function = unit.facts.function(f);
        [&function.name, &function.class].into_iter().flatten().any(|n| n.to_ascii_lowercase().contains("kling"))
    });
    kling_claims || secret_key || kling_code
}

fn names_of<'a>(unit: &crate::analysis::Unit<'a>, m: MapId) -> Vec<&'a str> {
    unit.facts
        .assigns
        .iter()
        .filter(|a| a.value.is_some_and(|v| matches!(unit.facts.expr(v).kind, ExprKind::Map(x) if x == m)))
        .filter_map(|a| unit.facts.name_of(a.target))
        .collect()
}
