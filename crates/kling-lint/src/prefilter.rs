//! The byte-level prefilter: a file with no Kling marker is never parsed, which is
//! most files in a real monorepo. One Aho-Corasick automaton, ASCII case-insensitive,
//! over the raw bytes.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Byte patterns that may start Kling context in a file: the vendor name (hosts,
/// `KLING_*` variables, `kling-*` models, `KlingClient`), endpoint paths, Kling-specific
/// request and response keys, and suppression comments (so unused ones can be
/// reported). Matching is case-sensitive with the spellings code uses, which lets the
/// automaton use its SIMD search: the prefilter reads every byte of the tree.
const MARKERS: &[&str] = &[
    "kling",
    "Kling",
    "KLING",
    "/v1/videos/",
    "/v1/images/",
    "text2video",
    "image2video",
    "Text2Video",
    "Image2Video",
    "task_status",
    "TaskStatus",
    "taskStatus",
    "task_result",
    "TaskResult",
    "model_name",
    "ModelName",
    "cfg_scale",
    "camera_control",
    "image_tail",
    "external_task_id",
    "negative_prompt",
    "static_mask",
    "dynamic_masks",
];

/// Words that tie an item of a Kling file to the rules even without a Kling marker:
/// tokens, credentials and headers are judged wherever they are in a Kling file (a
/// hand-signed JWT, a secret in a log line). They choose what to parse within a file
/// that passed the prefilter; they never admit a file on their own, so they are
/// matched without regard to case.
const RELEVANCE: &[&str] = &["jwt", "token", "bearer", "authorization", "secret", "hmac", "callback", "signedstring"];

/// The compiled prefilter.
#[derive(Clone, Debug)]
pub struct Prefilter {
    automaton: AhoCorasick,
    relevance: AhoCorasick,
}

impl Prefilter {
    /// Build the prefilter, adding the configured extra base URLs as markers.
    pub fn new(extra: &[String]) -> Prefilter {
        let patterns: Vec<&str> =
            MARKERS.iter().copied().chain(extra.iter().map(String::as_str).filter(|s| !s.is_empty())).collect();
        let build = |p: &[&str], fold: bool| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(fold)
                .match_kind(MatchKind::LeftmostFirst)
                .build(p)
                .expect("marker patterns are valid")
        };
        let relevant: Vec<&str> = patterns.iter().copied().chain(RELEVANCE.iter().copied()).collect();
        Prefilter { automaton: build(&patterns, false), relevance: build(&relevant, true) }
    }

    /// Whether the bytes contain any marker.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        self.automaton.is_match(bytes)
    }

    /// Byte offsets of every marker and relevance word, for choosing what to parse.
    pub fn positions(&self, bytes: &[u8]) -> Vec<usize> {
        self.relevance.find_iter(bytes).map(|m| m.start()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_markers_case_insensitively() {
        let p = Prefilter::new(&[]);
        assert!(p.matches(b"BASE = os.environ['KLING_API_BASE']"));
        assert!(p.matches(b"class KlingClient:"));
        assert!(p.matches(b"{\"model_name\": \"x\"}"));
        assert!(!p.matches(b"def main():\n    return 0\n"));
        let q = Prefilter::new(&["video-gw.internal".into()]);
        assert!(q.matches(b"url = 'https://video-gw.internal/v2'"));
    }
}
