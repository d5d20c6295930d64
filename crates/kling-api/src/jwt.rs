//! Kling's JWT rules: how a token is built (HS256, `typ: JWT`, `iss` = access key,
//! 30-minute `exp`, `nbf` a few seconds back) and how the server judges one, with the
//! error code for each way a token can be wrong.
//!
//! ```
//! use kling_api::jwt;
//! let token = jwt::mint("ak-test", "sk-test", 1_700_000_000);
//! let ok = jwt::verify(&token, |iss| (iss == "ak-test").then_some("sk-test"), 1_700_000_100);
//! assert!(ok.is_ok());
//! let late = jwt::verify(&token, |_| Some("sk-test"), 1_700_000_000 + 1801).unwrap_err();
//! assert_eq!(late.code().code(), 1004);
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::codes::ErrorCode;

/// The only algorithm Kling accepts.
pub const ALG: &str = "HS256";
/// The `typ` Kling requires in the header.
pub const TYP: &str = "JWT";
/// How long a token lives: `exp` = now + 1800 s.
pub const LIFETIME_SECS: i64 = 1800;
/// How far back `nbf` is set to absorb clock skew.
pub const NBF_SKEW_SECS: i64 = 5;
/// Kling's advice: refresh a token this long before it expires.
pub const REFRESH_BUFFER_SECS: i64 = 300;

/// Mint a token exactly as Kling documents it.
pub fn mint(access_key: &str, secret_key: &str, now_secs: i64) -> String {
    encode(
        &json!({"alg": ALG, "typ": TYP}),
        &json!({"iss": access_key, "exp": now_secs + LIFETIME_SECS, "nbf": now_secs - NBF_SKEW_SECS}),
        secret_key,
    )
}

/// Sign an arbitrary header and claims with HS256 (for tests and defect clients that
/// need malformed tokens).
pub fn encode(header: &Value, claims: &Value, secret_key: &str) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{h}.{c}");
    let sig = URL_SAFE_NO_PAD.encode(sign(input.as_bytes(), secret_key));
    format!("{input}.{sig}")
}

fn sign(input: &[u8], secret_key: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()).expect("HMAC takes any key length");
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// A token split and decoded, not yet trusted.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

impl Decoded {
    /// A string header field.
    pub fn header_str(&self, key: &str) -> Option<&str> {
        self.header.get(key).and_then(Value::as_str)
    }

    /// A numeric claim (seconds since the epoch), accepting integers and floats.
    pub fn claim_secs(&self, key: &str) -> Option<i64> {
        self.claims.get(key).and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    }

    /// `iss`, if it is a string.
    pub fn issuer(&self) -> Option<&str> {
        self.claims.get("iss").and_then(Value::as_str)
    }
}

/// Split and decode a token without checking anything but its shape.
pub fn decode(token: &str) -> Result<Decoded, AuthError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(AuthError::Malformed("a JWT has three dot-separated parts".into()));
    };
    let part = |name: &str, text: &str| -> Result<Map<String, Value>, AuthError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| AuthError::Malformed(format!("the {name} is not base64url")))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(AuthError::Malformed(format!("the {name} is not a JSON object"))),
        }
    };
    let header = part("header", h)?;
    let claims = part("payload", c)?;
    let signature = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| AuthError::Malformed("the signature is not base64url".into()))?;
    Ok(Decoded { header, claims, signing_input: format!("{h}.{c}"), signature })
}

/// Why a request's credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No Authorization header, or an empty one.
    Empty,
    /// Not `Bearer <token>` with exactly one space.
    NotBearer,
    /// The token is not a well-formed JWT.
    Malformed(String),
    /// The header's `alg` is not HS256 (including `none`).
    WrongAlgorithm(String),
    /// The header has no `typ: "JWT"`.
    MissingTyp,
    /// A required claim is absent or of the wrong type.
    MissingClaim(&'static str),
    /// `iss` names no known access key.
    UnknownIssuer(String),
    /// The signature does not match the issuer's secret key.
    BadSignature,
    /// `nbf` lies in the future.
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// The server's clock.
        now: i64,
    },
    /// `exp` has passed.
    Expired {
        /// The token's `exp`.
        exp: i64,
        /// The server's clock.
        now: i64,
    },
}

impl AuthError {
    /// The error code Kling answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Empty => ErrorCode::AUTH_EMPTY,
            AuthError::NotBearer
            | AuthError::Malformed(_)
            | AuthError::WrongAlgorithm(_)
            | AuthError::MissingTyp
            | AuthError::MissingClaim(_) => ErrorCode::AUTH_INVALID,
            AuthError::UnknownIssuer(_) | AuthError::BadSignature => ErrorCode::AUTH_FAILED,
            AuthError::NotYetValid { .. } => ErrorCode::TOKEN_NOT_YET_VALID,
            AuthError::Expired { .. } => ErrorCode::TOKEN_EXPIRED,
        }
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthError::Empty => f.write_str("the Authorization header is empty; send `Authorization: Bearer <jwt>`"),
            AuthError::NotBearer => {
                f.write_str("the Authorization header must be `Bearer <jwt>` with exactly one space")
            }
            AuthError::Malformed(why) => write!(f, "the token is malformed: {why}"),
            AuthError::WrongAlgorithm(alg) => write!(f, "the token's alg is {alg:?}; only HS256 is accepted"),
            AuthError::MissingTyp => f.write_str("the token header lacks \"typ\": \"JWT\""),
            AuthError::MissingClaim(c) => write!(f, "the token has no numeric/string `{c}` claim"),
            AuthError::UnknownIssuer(iss) => write!(f, "iss {iss:?} is not a known access key"),
            AuthError::BadSignature => f.write_str("the signature does not match the access key's secret key"),
            AuthError::NotYetValid { nbf, now } => {
                write!(f, "the token is not valid before {nbf} (server time {now}); set nbf a few seconds in the past")
            }
            AuthError::Expired { exp, now } => {
                write!(f, "the token expired at {exp} (server time {now}); mint a fresh token")
            }
        }
    }
}

impl std::error::Error for AuthError {}

/// Take the token out of an Authorization header value: exactly `Bearer <token>`.
pub fn parse_authorization(value: Option<&str>) -> Result<&str, AuthError> {
    let value = value.unwrap_or("");
    if value.trim().is_empty() {
        return Err(AuthError::Empty);
    }
    match value.strip_prefix("Bearer ") {
        Some(token) if !token.is_empty() && !token.contains(' ') => Ok(token),
        _ => Err(AuthError::NotBearer),
    }
}

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The access key the token was issued for.
    pub access_key: String,
    /// The decoded token.
    pub token: Decoded,
}

/// Judge a token as Kling does: shape, `alg`, `typ`, claims, issuer, signature, then
/// `nbf` and `exp` against `now_secs`. `secret_for` maps an access key to its secret.
pub fn verify<'a>(
    token: &str,
    secret_for: impl Fn(&str) -> Option<&'a str>,
    now_secs: i64,
) -> Result<Verified, AuthError> {
    let decoded = decode(token)?;
    match decoded.header_str("alg") {
        Some(ALG) => {}
        Some(other) => return Err(AuthError::WrongAlgorithm(other.to_owned())),
        None => return Err(AuthError::WrongAlgorithm("(none)".into())),
    }
    if decoded.header_str("typ") != Some(TYP) {
        return Err(AuthError::MissingTyp);
    }
    let iss = decoded.issuer().ok_or(AuthError::MissingClaim("iss"))?.to_owned();
    let exp = decoded.claim_secs("exp").ok_or(AuthError::MissingClaim("exp"))?;
    let secret = secret_for(&iss).ok_or_else(|| AuthError::UnknownIssuer(iss.clone()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(decoded.signing_input.as_bytes());
    if mac.verify_slice(&decoded.signature).is_err() {
        return Err(AuthError::BadSignature);
    }
    if let Some(nbf) = decoded.claim_secs("nbf")
        && nbf > now_secs
    {
        return Err(AuthError::NotYetValid { nbf, now: now_secs });
    }
    if exp <= now_secs {
        return Err(AuthError::Expired { exp, now: now_secs });
    }
    Ok(Verified { access_key: iss, token: decoded })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn secret(iss: &str) -> Option<&'static str> {
        (iss == "ak").then_some("sk")
    }

    #[test]
    fn each_defect_has_its_code() {
        let good = mint("ak", "sk", NOW);
        assert!(verify(&good, secret, NOW).is_ok());
        assert_eq!(verify(&mint("ak", "wrong", NOW), secret, NOW).unwrap_err().code().code(), 1000);
        assert_eq!(verify(&mint("zz", "sk", NOW), secret, NOW).unwrap_err().code().code(), 1000);
        assert_eq!(verify("abc", secret, NOW).unwrap_err().code().code(), 1002);
        let no_typ = encode(&json!({"alg": "HS256"}), &json!({"iss": "ak", "exp": NOW + 60}), "sk");
        assert_eq!(verify(&no_typ, secret, NOW).unwrap_err(), AuthError::MissingTyp);
        let none = encode(&json!({"alg": "none", "typ": "JWT"}), &json!({"iss": "ak", "exp": NOW + 60}), "sk");
        assert_eq!(verify(&none, secret, NOW).unwrap_err().code().code(), 1002);
        let future = encode(
            &json!({"alg": "HS256", "typ": "JWT"}),
            &json!({"iss": "ak", "exp": NOW + 60, "nbf": NOW + 30}),
            "sk",
        );
        assert_eq!(verify(&future, secret, NOW).unwrap_err().code().code(), 1003);
        assert_eq!(verify(&good, secret, NOW + LIFETIME_SECS).unwrap_err().code().code(), 1004);
    }

    #[test]
    fn authorization_header_format() {
        assert_eq!(parse_authorization(Some("Bearer abc")), Ok("abc"));
        assert_eq!(parse_authorization(None), Err(AuthError::Empty));
        assert_eq!(parse_authorization(Some("abc")), Err(AuthError::NotBearer));
        assert_eq!(parse_authorization(Some("Bearer  abc")), Err(AuthError::NotBearer));
        assert_eq!(parse_authorization(Some("bearer abc")), Err(AuthError::NotBearer));
    }

    #[test]
    fn signature_is_checked_over_the_exact_input() {
        let good = mint("ak", "sk", NOW);
        let mut parts: Vec<&str> = good.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(json!({"iss": "ak", "exp": NOW + 99_999}).to_string());
        parts[1] = &forged;
        assert_eq!(verify(&parts.join("."), secret, NOW).unwrap_err(), AuthError::BadSignature);
    }
}
