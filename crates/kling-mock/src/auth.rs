//! Authentication exactly as Kling does it: `Authorization: Bearer <jwt>`, HS256 only,
//! `typ: JWT` required, the signature checked with the secret key of the access key in
//! `iss`, `nbf`/`exp` against the mock's clock; each failure with its own code
//! (1000–1004), judged by `kling_api::jwt`.
//!
//! Whatever the outcome, the journal gets the header's shape and the decoded JWT
//! header and claims (with a fingerprint of the token), never the signature or a
//! secret. In token-expiry mode this is also where tokens seen before the first create
//! are refused as expired.

use std::fmt::Write as _;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use axum::http::{HeaderMap, header};
use kling_api::codes::ErrorCode;
use kling_api::jwt::{self, AuthError, Decoded};

use crate::envelope::ApiError;
use crate::faults::FiredFault;
use crate::journal::{JwtSummary, compact_map, token_fingerprint};
use crate::observe::RequestCtx;
use crate::state::Shared;

/// A token that passed every check that does not depend on the time: shape, `alg`,
/// `typ`, claims, issuer and signature. Clients send the same token for many requests
/// (up to 30 minutes), so the mock verifies each token once and afterwards only judges
/// `nbf` and `exp` against its clock, which is exactly what `jwt::verify` would add.
#[derive(Debug)]
pub(crate) struct VerifiedToken {
    access_key: String,
    nbf: Option<i64>,
    exp: i64,
    summary: Arc<JwtSummary>,
}

/// Verified tokens by their text. Bounded: when full it is emptied, which costs one
/// re-verification per live token.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    tokens: HashMap<Box<str>, Arc<VerifiedToken>>,
}

const TOKEN_CACHE_CAPACITY: usize = 4096;

/// Check the request's credentials; the access key on success.
pub(crate) fn authenticate(shared: &Shared, headers: &HeaderMap, ctx: &RequestCtx) -> Result<String, ApiError> {
    let raw = headers.get(header::AUTHORIZATION);
    let value = match raw.map(|v| v.to_str()) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => {
            let error = AuthError::Malformed("the Authorization header is not plain ASCII".into());
            ctx.update(|d| {
                d.authorization = Some(Cow::Borrowed("<non-ascii>"));
                d.auth_error = Some(error.to_string());
            });
            return Err(refuse(&error));
        }
    };
    if let Some(v) = value {
        let shape = shape(v, shared);
        ctx.update(|d| d.authorization = Some(shape));
    }
    let token = match jwt::parse_authorization(value) {
        Ok(token) => token,
        Err(error) => {
            ctx.update(|d| d.auth_error = Some(error.to_string()));
            return Err(refuse(&error));
        }
    };
    let now = shared.clock.now_secs();
    // Bound first: a guard in the `match` scrutinee would live through the arms, and
    // the miss arm takes the same lock.
    let cached = shared.tokens.read().unwrap_or_else(PoisonError::into_inner).tokens.get(token).cloned();
    let verified = match cached {
        Some(hit) => hit,
        None => match jwt::verify(token, |iss| shared.secret_for(iss), now) {
            Ok(v) => {
                let entry = Arc::new(VerifiedToken {
                    nbf: v.token.claim_secs("nbf"),
                    exp: v.token.claim_secs("exp").unwrap_or(now),
                    summary: Arc::new(summary(shared, &v.token, token_fingerprint(token))),
                    access_key: v.access_key,
                });
                let mut cache = shared.tokens.write().unwrap_or_else(PoisonError::into_inner);
                if cache.tokens.len() >= TOKEN_CACHE_CAPACITY {
                    cache.tokens.clear();
                }
                cache.tokens.insert(token.into(), Arc::clone(&entry));
                entry
            }
            Err(error) => {
                let decoded = jwt::decode(token).ok();
                ctx.update(|d| {
                    d.jwt = decoded.map(|t| Arc::new(summary(shared, &t, token_fingerprint(token))));
                    d.auth_error = Some(error.to_string());
                });
                return Err(refuse(&error));
            }
        },
    };
    ctx.update(|d| {
        d.jwt = Some(Arc::clone(&verified.summary));
        d.account = Some(verified.access_key.clone());
    });
    // The same time checks, in the same order, as `jwt::verify`.
    let late = match verified.nbf {
        Some(nbf) if nbf > now => Some(AuthError::NotYetValid { nbf, now }),
        _ if verified.exp <= now => Some(AuthError::Expired { exp: verified.exp, now }),
        _ => None,
    };
    if let Some(error) = late {
        ctx.update(|d| {
            d.account = None;
            d.auth_error = Some(error.to_string());
        });
        return Err(refuse(&error));
    }
    if shared.config.token_expiry_after_first_create {
        check_token_memory(shared, ctx, verified.exp, &verified.summary.fingerprint, now)?;
    }
    Ok(verified.access_key.clone())
}

/// Token-expiry mode: before the first successful create, remember every token; after
/// it, refuse the remembered ones as expired, as if 30 minutes had passed.
fn check_token_memory(
    shared: &Shared,
    ctx: &RequestCtx,
    exp: i64,
    fingerprint: &str,
    now: i64,
) -> Result<(), ApiError> {
    let mut core = shared.core();
    if !core.tokens.armed {
        core.tokens.seen.insert(fingerprint.to_owned());
        return Ok(());
    }
    if !core.tokens.seen.contains(fingerprint) {
        return Ok(());
    }
    drop(core);
    let detail = format!(
        "the token expired at {exp} (server time {now}); mint a fresh token — this mock runs in \
         token-expiry mode and treats every token it saw before the first create as expired"
    );
    ctx.update(|d| {
        d.account = None;
        d.auth_error = Some(detail.clone());
        d.fault = Some(FiredFault { rule: None, kind: "token-expiry".into(), code: Some(1004), seconds: None });
    });
    Err(ApiError::new(ErrorCode::TOKEN_EXPIRED, detail))
}

/// After the first successful create, arm token-expiry mode.
pub(crate) fn note_create(shared: &Shared) {
    if shared.config.token_expiry_after_first_create {
        shared.core().tokens.armed = true;
    }
}

fn refuse(error: &AuthError) -> ApiError {
    ApiError::new(error.code(), error.to_string())
}

fn summary(shared: &Shared, token: &Decoded, fingerprint: String) -> JwtSummary {
    let mut claims = compact_map(&token.claims);
    for value in claims.values_mut() {
        if let Some(s) = value.as_str() {
            let redacted = shared.redact(s);
            if redacted != s {
                *value = redacted.into();
            }
        }
    }
    JwtSummary { header: compact_map(&token.header), claims, fingerprint }
}

/// The header with credentials replaced by placeholders: `Bearer <jwt>`,
/// `bearer <jwt>`, `Bearer  <jwt>`, `<jwt>`, `Bearer <secret-key>`, `Token <opaque:40>`.
/// Enough to judge the format, nothing to steal.
pub(crate) fn shape(value: &str, shared: &Shared) -> Cow<'static, str> {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=' | '+' | '/');
    let looks_like_jwt = |run: &str| run.len() >= 16 && run.bytes().filter(|&b| b == b'.').count() == 2;
    // The header every well-behaved client sends, answered without building a string.
    if let Some(token) = value.strip_prefix("Bearer ")
        && token.chars().all(is_token_char)
        && looks_like_jwt(token)
        && shared.redact(token) == token
    {
        return Cow::Borrowed("Bearer <jwt>");
    }
    let value = shared.redact(value);
    let mut out = String::new();
    let mut rest = value.as_ref();
    while !rest.is_empty() {
        let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let (run, after) = rest.split_at(end);
        if looks_like_jwt(run) {
            out.push_str("<jwt>");
        } else if run.len() >= 16 {
            let _ = write!(out, "<opaque:{}>", run.len());
        } else {
            out.push_str(run);
        }
        let mut chars = after.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    if out.chars().count() > 80 {
        out = out.chars().take(80).collect::<String>() + "…";
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MockConfig;
    use crate::state::MockState;

    #[test]
    fn shapes_hide_credentials() {
        let state = MockState::new(MockConfig::default()).unwrap();
        let shared = &state.shared;
        let token = jwt::mint("ak-test", "sk-test", 1_700_000_000);
        assert_eq!(shape(&format!("Bearer {token}"), shared), "Bearer <jwt>");
        assert_eq!(shape(&format!("bearer  {token}"), shared), "bearer  <jwt>");
        assert_eq!(shape(&token, shared), "<jwt>");
        assert_eq!(shape("Bearer sk-test", shared), "Bearer <secret-key>");
        assert_eq!(shape("Token abcdefghijklmnopqrstuvwxyz", shared), "Token <opaque:26>");
    }
}
