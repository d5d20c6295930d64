//! The business error codes Kling returns, each with its HTTP status and whether a
//! client may retry it.
//!
//! Two traps live here: 1102 (credits depleted) is HTTP 429 yet final, and 1004 (token
//! expired) is HTTP 401 yet recoverable by minting a fresh token.

use serde::{Deserialize, Serialize};

/// What a client should do after receiving an error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Retry {
    /// Final: retrying cannot succeed until a human fixes something.
    Never,
    /// Retry with exponential backoff and jitter.
    Backoff,
    /// Retry once, with a freshly minted token.
    RefreshToken,
    /// Retry only after the client's clock is corrected.
    AfterClockFix,
}

impl Retry {
    /// Whether an automatic retry is ever appropriate.
    pub fn is_retryable(self) -> bool {
        !matches!(self, Retry::Never | Retry::AfterClockFix)
    }
}

/// One row of the error-code table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    code: u32,
    http_status: u16,
    message: &'static str,
    meaning: &'static str,
    retry: Retry,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $http:literal, $msg:literal, $meaning:literal, $retry:ident;)*) => {
        impl ErrorCode {
            $(
                #[doc = concat!("HTTP ", stringify!($http), " / ", stringify!($code), ": ", $meaning, ".")]
                pub const $name: ErrorCode = ErrorCode {
                    code: $code, http_status: $http, message: $msg, meaning: $meaning, retry: Retry::$retry,
                };
            )*
        }

        /// Every error code Kling documents, in table order.
        pub const ALL: &[ErrorCode] = &[$(ErrorCode::$name),*];
    };
}

codes! {
    AUTH_FAILED = 1000, 401, "Authentication failed", "authentication failed", Never;
    AUTH_EMPTY = 1001, 401, "Authorization is empty", "Authorization header empty", Never;
    AUTH_INVALID = 1002, 401, "Authorization is invalid", "Authorization invalid (malformed token)", Never;
    TOKEN_NOT_YET_VALID = 1003, 401, "Authorization is not yet valid", "token not yet valid (nbf in the future)", AfterClockFix;
    TOKEN_EXPIRED = 1004, 401, "Authorization has expired", "token expired", RefreshToken;
    ACCOUNT_EXCEPTION = 1100, 429, "Account exception", "account exception", Never;
    ACCOUNT_ARREARS = 1101, 429, "Account in arrears", "account in arrears (post-paid)", Never;
    CREDITS_DEPLETED = 1102, 429, "Resource pack depleted or expired", "resource pack depleted or expired (no credits)", Never;
    NO_ACCESS = 1103, 403, "Unauthorized access to requested resource", "no access to this API or model", Never;
    INVALID_PARAMS = 1200, 400, "Invalid request parameters", "invalid request parameters", Never;
    INVALID_VALUE = 1201, 400, "Invalid parameters", "invalid key or value in parameters", Never;
    INVALID_METHOD = 1202, 404, "Invalid request method", "invalid method", Never;
    NOT_FOUND = 1203, 404, "Requested resource does not exist", "resource does not exist (model, task)", Never;
    PLATFORM_POLICY = 1300, 400, "Trigger platform strategy", "platform policy triggered", Never;
    CONTENT_POLICY = 1301, 400, "Trigger content security policy", "content security policy triggered (prompt/image)", Never;
    RATE_LIMITED = 1302, 429, "API request too fast", "rate limit: requests too frequent", Backoff;
    CONCURRENCY_LIMIT = 1303, 429, "Parallel task over resource pack limit", "concurrency or QPS over the resource-pack limit", Backoff;
    IP_WHITELIST = 1304, 429, "Trigger IP whitelist policy", "IP whitelist policy", Never;
    INTERNAL_ERROR = 5000, 500, "Server internal error", "internal server error", Backoff;
    UNAVAILABLE = 5001, 503, "Server temporarily unavailable", "service temporarily unavailable (maintenance)", Backoff;
    SERVER_TIMEOUT = 5002, 504, "Server internal timeout", "server timeout (backlog)", Backoff;
}

impl ErrorCode {
    /// The row for a business code, if Kling documents it.
    pub fn from_code(code: u32) -> Option<ErrorCode> {
        ALL.iter().copied().find(|c| c.code == code)
    }

    /// The business code (`code` in the response envelope).
    pub fn code(self) -> u32 {
        self.code
    }

    /// The HTTP status Kling answers with.
    pub fn http_status(self) -> u16 {
        self.http_status
    }

    /// The `message` Kling puts in the envelope.
    pub fn message(self) -> &'static str {
        self.message
    }

    /// What the code means, in a few words.
    pub fn meaning(self) -> &'static str {
        self.meaning
    }

    /// Whether and how a client may retry.
    pub fn retry(self) -> Retry {
        self.retry
    }

    /// Whether an automatic retry is ever appropriate (see [`Retry::is_retryable`]).
    pub fn is_retryable(self) -> bool {
        self.retry.is_retryable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_statuses_match_their_class() {
        let mut seen = std::collections::HashSet::new();
        for c in ALL {
            assert!(seen.insert(c.code()), "duplicate code {}", c.code());
            let class = c.code() / 100;
            let expected: &[u16] = match class {
                10 => &[401],
                11 => &[429, 403],
                12 => &[400, 404],
                13 => &[400, 429],
                50 => &[500, 503, 504],
                _ => panic!("unexpected class for {}", c.code()),
            };
            assert!(expected.contains(&c.http_status()), "{c:?}");
        }
    }

    #[test]
    fn the_two_traps() {
        assert_eq!(ErrorCode::CREDITS_DEPLETED.http_status(), 429);
        assert!(!ErrorCode::CREDITS_DEPLETED.is_retryable());
        assert_eq!(ErrorCode::TOKEN_EXPIRED.http_status(), 401);
        assert_eq!(ErrorCode::TOKEN_EXPIRED.retry(), Retry::RefreshToken);
    }
}
