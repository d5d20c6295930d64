//! Finding credentials in what a client wrote: the secret key itself, and complete
//! JWTs (three base64url parts). A token found in output is matched to the journal by
//! its fingerprint, so the harness can say "the token sent with request #3" without
//! the mock ever keeping a token.

/// A complete JWT found in some text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenHit {
    /// Byte range in the text.
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// `kling_mock::token_fingerprint` of the token.
    pub(crate) fingerprint: String,
    /// Its `iss` claim, when it decodes.
    pub(crate) iss: Option<String>,
}

/// The shortest signature part taken for a whole token: an HS256 signature is 43
/// base64url characters, so anything much shorter is a prefix someone logged on purpose.
const MIN_SIGNATURE: usize = 40;

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Every complete JWT in `bytes` (text or binary).
pub(crate) fn find_tokens(bytes: &[u8]) -> Vec<TokenHit> {
    let mut hits = Vec::new();
    let mut i = 0;
    while let Some(offset) = find(&bytes[i..], b"eyJ") {
        let start = i + offset;
        // Part of a longer base64 run is not the start of a token.
        if start > 0 && is_b64url(bytes[start - 1]) {
            i = start + 3;
            continue;
        }
        let mut end = start;
        let mut parts = [0_usize; 3];
        let mut part = 0;
        while end < bytes.len() {
            let b = bytes[end];
            if is_b64url(b) {
                parts[part] += 1;
            } else if b == b'.' && part < 2 && parts[part] > 0 {
                part += 1;
            } else {
                break;
            }
            end += 1;
        }
        if part == 2 && parts[0] >= 10 && parts[1] >= 10 && parts[2] >= MIN_SIGNATURE {
            let token = String::from_utf8_lossy(&bytes[start..end]);
            let iss = kling_api::jwt::decode(&token).ok().and_then(|d| d.issuer().map(str::to_owned));
            hits.push(TokenHit { start, end, fingerprint: kling_mock::token_fingerprint(&token), iss });
        }
        i = end.max(start + 3);
    }
    hits
}

/// Where `needle` first occurs in `haystack`.
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `text` with the secret key and every complete token replaced, so evidence can
/// quote a leaking line without leaking again.
pub(crate) fn redact(text: &str, secret_key: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for hit in find_tokens(text.as_bytes()) {
        out.push_str(&text[last..hit.start]);
        out.push_str(&format!("<token {}…>", &text[hit.start..(hit.start + 6).min(hit.end)]));
        last = hit.end;
    }
    out.push_str(&text[last..]);
    if secret_key.is_empty() { out } else { out.replace(secret_key, "<secret key>") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_tokens_are_found_and_prefixes_are_not() {
        let token = kling_api::jwt::mint("ak-x", "sk-x", 1_700_000_000);
        let text = format!("{{\"auth\": \"Bearer {token}\", \"short\": \"{}…\"}}", &token[..12]);
        let hits = find_tokens(text.as_bytes());
        assert_eq!(hits.len(), 1);
        assert_eq!(&text[hits[0].start..hits[0].end], token);
        assert_eq!(hits[0].iss.as_deref(), Some("ak-x"));
        assert_eq!(hits[0].fingerprint, kling_mock::token_fingerprint(&token));
        assert!(find_tokens(b"xeyJabc.def.ghi").is_empty());
        let red = redact(&format!("{text} sk-x"), "sk-x");
        assert!(!red.contains(&token) && !red.contains("sk-x"), "{red}");
        assert!(red.contains("<token eyJhbG…>") && red.contains("<secret key>"), "{red}");
    }

    #[test]
    fn binary_data_is_scanned_too() {
        let token = kling_api::jwt::mint("ak-x", "sk-x", 1_700_000_000);
        let mut bytes = vec![0_u8, 159, 146, 150];
        bytes.extend_from_slice(token.as_bytes());
        bytes.push(0);
        assert_eq!(find_tokens(&bytes).len(), 1);
        assert_eq!(find(&bytes, b"sk-x"), None);
    }
}
