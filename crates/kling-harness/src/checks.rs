//! The check catalog: one entry per check id of SPEC's "check" section, read from
//! `rules/checks.toml` (compiled in), so that reports, `--list` and the audit all show
//! the same titles, checklist lines and fixes. Which code judges a check lives in
//! `judge/`; a test keeps the two in step.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The checklist's sections, in its order: reports group checks this way.
pub const SECTIONS: &[&str] = &[
    "Authentication",
    "Error Handling",
    "Cost Controls",
    "Task Management",
    "Content Safety",
    "Security",
    "Monitoring",
    "Performance",
];

/// One check, as `rules/checks.toml` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// The id (`errors.backoff`), a contract.
    pub id: String,
    /// A short title.
    pub title: String,
    /// The checklist section (one of [`SECTIONS`]).
    pub section: String,
    /// The checklist line it enforces, verbatim; empty when no line fits.
    pub checklist: String,
    /// The known pitfall it enforces; empty when none.
    pub pitfall: String,
    /// Informational: unmet means a warning, never a failure.
    pub informational: bool,
    /// The scenarios that decide it; `*` means every scenario that ran.
    pub scenarios: Vec<String>,
    /// What is judged, in one sentence.
    pub judged: String,
    /// What to change when it fails.
    pub fix: String,
}

impl Check {
    /// Whether runs of `scenario` decide this check.
    pub fn fed_by(&self, scenario: &str) -> bool {
        self.scenarios.iter().any(|s| s == "*" || s == scenario)
    }

    /// Whether every scenario decides it.
    pub fn fed_by_all(&self) -> bool {
        self.scenarios.iter().any(|s| s == "*")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    check: Vec<Check>,
}

const SOURCE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules/checks.toml"));

/// Every check, in the order of `rules/checks.toml`.
///
/// # Panics
/// Never in a released build: the file is compiled in, and a test parses it.
pub fn all() -> &'static [Check] {
    static CHECKS: OnceLock<Vec<Check>> = OnceLock::new();
    CHECKS.get_or_init(|| match toml::from_str::<File>(SOURCE) {
        Ok(file) => file.check,
        Err(e) => panic!("rules/checks.toml is invalid ({e}); fix the file and rebuild"),
    })
}

/// The check with this id.
pub fn find(id: &str) -> Option<&'static Check> {
    all().iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids of SPEC's table, which reports and CI configs depend on.
    const SPEC_IDS: &[&str] = &[
        "request.duration-string",
        "request.model-supports-endpoint",
        "auth.bearer-format",
        "auth.jwt-header",
        "auth.jwt-claims",
        "auth.token-refresh",
        "errors.backoff",
        "errors.retry-cap",
        "errors.no-retry-final",
        "errors.http-timeout",
        "errors.failed-status",
        "errors.connection-fault",
        "tasks.poll-cap",
        "tasks.poll-interval",
        "tasks.id-logged",
        "tasks.download-promptly",
        "perf.connection-reuse",
        "security.no-secret-in-output",
        "security.webhook-https",
        "content.prompt-validation",
        "content.negative-prompt",
        "cost.standard-mode",
        "monitoring.structured-logs",
    ];

    #[test]
    fn the_catalog_has_exactly_the_spec_ids_with_complete_docs() {
        let ids: Vec<&str> = all().iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, SPEC_IDS);
        let scenario_ids: Vec<&str> = crate::scenario::catalog().iter().map(|s| s.id).collect();
        for c in all() {
            assert!(SECTIONS.contains(&c.section.as_str()), "{}: unknown section {:?}", c.id, c.section);
            assert!(!c.title.is_empty() && !c.judged.is_empty() && !c.fix.is_empty(), "{}: missing docs", c.id);
            assert!(!c.checklist.is_empty() || !c.pitfall.is_empty(), "{}: names no checklist line or pitfall", c.id);
            assert!(!c.scenarios.is_empty(), "{}: no scenarios", c.id);
            for s in &c.scenarios {
                assert!(s == "*" || scenario_ids.contains(&s.as_str()), "{}: unknown scenario {s}", c.id);
            }
        }
        let informational: Vec<&str> = all().iter().filter(|c| c.informational).map(|c| c.id.as_str()).collect();
        assert_eq!(informational, ["content.negative-prompt", "cost.standard-mode", "monitoring.structured-logs"]);
    }

    #[test]
    fn checklist_lines_are_verbatim_from_the_checklist() {
        // The audit matches these against the checklist's lines, so a paraphrase would
        // silently drop the link.
        const LINES: &[&str] = &[
            "duration sent as string \"5\" not integer 5",
            "Authorization: Bearer <token> format verified",
            "JWT auto-refresh with 5-min buffer before 30-min expiry",
            "Exponential backoff with jitter for 429/5xx retries",
            "Max retry limit set (3-5, not infinite)",
            "HTTP 400/401/402/403/429/5xx all handled",
            "30s timeout on all HTTP calls",
            "task_status: \"failed\" logs task_status_msg",
            "Max poll attempts cap (no infinite loops)",
            "All task_ids logged with timestamp",
            "Video URLs downloaded promptly (Kling CDN URLs expire)",
            "Connection pooling via requests.Session()",
            "API keys never logged (redacted in debug output)",
            "Webhook endpoints HTTPS-only",
            "Prompts validated before API submission",
            "Default negative prompt includes safety terms",
            "standard mode used for non-final renders",
            "Structured JSON logs for all API calls",
        ];
        for c in all().iter().filter(|c| !c.checklist.is_empty()) {
            assert!(LINES.contains(&c.checklist.as_str()), "{}: {:?} is not a checklist line", c.id, c.checklist);
        }
    }
}
