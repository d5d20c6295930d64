//! The byte-level prefilter: a file with no Kling marker is never parsed, which is
//! most files in a real monorepo. One Aho-Corasick automaton, ASCII case-insensitive,
//! over the raw bytes.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Byte patterns that may start Kling context in a file: the vendor name (hosts,
/// `KLING_*` variables, `kling-*` models), endpoint paths, Kling-specific request and
/// response keys, and suppression comments (so unused ones can be reported).
const MARKERS: &[&str] = &[
    "kling",
    "/v1/videos/",
    "/v1/images/",
    "text2video",
    "image2video",
    "task_status",
    "task_result",
    "taskstatus",
    "model_name",
    "cfg_scale",
    "camera_control",
    "image_tail",
    "external_task_id",
    "negative_prompt",
    "static_mask",
    "dynamic_masks",
];

/// The compiled prefilter.
#[derive(Clone, Debug)]
pub struct Prefilter {
    automaton: AhoCorasick,
}

impl Prefilter {
    /// Build the prefilter, adding the configured extra base URLs as markers.
    pub fn new(extra: &[String]) -> Prefilter {
        let patterns: Vec<&str> =
            MARKERS.iter().copied().chain(extra.iter().map(String::as_str).filter(|s| !s.is_empty())).collect();
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(patterns)
            .expect("marker patterns are valid");
        Prefilter { automaton }
    }

    /// Whether the bytes contain any marker.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        self.automaton.is_match(bytes)
    }

    /// Byte offsets of every marker.
    pub fn positions(&self, bytes: &[u8]) -> Vec<usize> {
        self.automaton.find_iter(bytes).map(|m| m.start()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_markers_case_insensitively() {
        let p = Prefilter::new(&[]);
        assert!(p.matches(b"BASE = os.environ['KLING_API_BASE']"));
        assert!(p.matches(b"{\"model_name\": \"x\"}"));
        assert!(!p.matches(b"def main():\n    return 0\n"));
        let q = Prefilter::new(&["video-gw.internal".into()]);
        assert!(q.matches(b"url = 'https://video-gw.internal/v2'"));
    }
}
