//! Kling hosts and endpoint paths, and how to recognise them inside a URL.

/// The hosts Kling serves its API from, newest first.
pub const HOSTS: &[&str] = &["api-singapore.klingai.com", "api.klingai.com", "api-beijing.klingai.com"];

/// The base URL new integrations should use.
pub const DEFAULT_BASE_URL: &str = "https://api-singapore.klingai.com";

/// Path prefixes of the task resources (`/v1/videos/...`, `/v1/images/...`).
pub const PATH_PREFIXES: &[&str] = &["/v1/videos/", "/v1/images/"];

/// Path of the account cost endpoint.
pub const ACCOUNT_COSTS_PATH: &str = "/account/costs";

/// Whether `text` names a Kling host: any `klingai.com` host, with or without a scheme.
///
/// ```
/// assert!(kling_api::hosts::mentions_host("https://api-singapore.klingai.com/v1"));
/// assert!(!kling_api::hosts::mentions_host("https://example.com/klingai"));
/// ```
pub fn mentions_host(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("klingai.com") {
        // The domain must be a host, not a path segment: the character before it is
        // the start, `.` (a subdomain) or `/` (right after the scheme's `//`).
        let before = rest[..at].chars().last();
        let after = rest[at + "klingai.com".len()..].chars().next();
        let host_start = matches!(before, None | Some('.' | '/' | '"' | '\'' | '`' | '@'));
        let host_end = matches!(after, None | Some('/' | ':' | '"' | '\'' | '`' | '?'));
        if host_start && host_end {
            let prefix = &rest[..at];
            // `example.com/klingai.com` has a `/` before, but then a path, not a scheme.
            let in_path = prefix.rfind("//").is_some_and(|s| prefix[s + 2..].contains('/'));
            if !in_path {
                return true;
            }
        }
        rest = &rest[at + "klingai.com".len()..];
    }
    false
}

/// Whether `text` contains a Kling task-resource path such as `/v1/videos/text2video`.
pub fn mentions_endpoint_path(text: &str) -> bool {
    PATH_PREFIXES.iter().any(|p| text.contains(p))
        || text.contains(ACCOUNT_COSTS_PATH)
        || crate::resources::RESOURCES.iter().any(|r| text.contains(r.path) && text.contains("/v1/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_recognised_only_as_hosts() {
        assert!(mentions_host("https://api.klingai.com"));
        assert!(mentions_host("api-beijing.klingai.com/v1/videos"));
        assert!(mentions_host("\"https://api-singapore.klingai.com\""));
        assert!(!mentions_host("https://notklingai.com"));
        assert!(!mentions_host("https://cdn.example.com/klingai.com/x"));
        assert!(!mentions_host("klingai.community"));
    }

    #[test]
    fn endpoint_paths() {
        assert!(mentions_endpoint_path("/v1/videos/text2video"));
        assert!(mentions_endpoint_path("{base}/v1/images/generations"));
        assert!(!mentions_endpoint_path("/v1/users/42"));
    }
}
