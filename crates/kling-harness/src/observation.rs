//! What one scenario run left behind for the judges: the mock's journal and tasks, how
//! the client ended, what it printed and what it wrote to its output directory. Judges
//! are pure functions of these records, so they are tested on hand-made ones.

use kling_mock::{EntryKind, FaultPlan, JournalEntry, TaskSnapshot};

use crate::runner::{Captured, Line, Stop};
use crate::scenario::Scenario;
use crate::secrets::TokenHit;

/// How the client ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClientEnd {
    pub(crate) code: Option<i32>,
    pub(crate) signal: Option<i32>,
    pub(crate) stopped: Option<Stop>,
    /// When it exited or was stopped, in the journal's time base (ms since the mock started).
    pub(crate) end_ms: f64,
}

impl ClientEnd {
    /// Exited on its own with status 0.
    pub(crate) fn succeeded(&self) -> bool {
        self.stopped.is_none() && self.code == Some(0)
    }

    /// Exited on its own with a failure status (or was killed by a signal it did not
    /// get from the harness).
    pub(crate) fn failed(&self) -> bool {
        self.stopped.is_none() && self.code != Some(0)
    }
}

/// A file the client left in `KLING_OUTPUT_DIR`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutputFile {
    /// Relative to the output directory.
    pub(crate) path: String,
    pub(crate) bytes: u64,
    /// `kling_mock::fingerprint` of the content (absent when too big to read).
    pub(crate) fingerprint: Option<String>,
    /// Whether the secret key occurs in it.
    pub(crate) secret: bool,
    /// Complete tokens found in it.
    pub(crate) tokens: Vec<TokenHit>,
}

/// Everything one scenario produced.
#[derive(Debug, Clone)]
pub(crate) struct ScenarioRun {
    pub(crate) scenario: &'static Scenario,
    pub(crate) access_key: String,
    pub(crate) secret_key: String,
    /// `KLING_POLL_TIMEOUT_SECONDS` as given.
    pub(crate) poll_timeout: f64,
    /// The deadline, in seconds.
    pub(crate) deadline: f64,
    pub(crate) plan: FaultPlan,
    /// API requests and CDN downloads, in order of arrival.
    pub(crate) entries: Vec<JournalEntry>,
    /// Callback delivery attempts.
    pub(crate) callbacks: Vec<JournalEntry>,
    pub(crate) tasks: Vec<TaskSnapshot>,
    /// `None` when the scenario could not run (see `error`).
    pub(crate) client: Option<ClientEnd>,
    pub(crate) stdout: Captured,
    pub(crate) stderr: Captured,
    pub(crate) files: Vec<OutputFile>,
    /// When the scenario started and how long it took, in seconds of the whole run.
    pub(crate) started_s: f64,
    pub(crate) wall_s: f64,
    /// Why the scenario could not run, when it could not.
    pub(crate) error: Option<String>,
}

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl ScenarioRun {
    /// A run with nothing in it, for a scenario that could not start and for tests.
    pub(crate) fn empty(scenario: &'static Scenario) -> Self {
        ScenarioRun {
            scenario,
            access_key: "ak-test".into(),
            secret_key: "sk-test".into(),
            poll_timeout: crate::scenario::DEFAULT_POLL_TIMEOUT_SECONDS,
            deadline: 60.0,
            plan: scenario.fault_plan(),
            entries: Vec::new(),
            callbacks: Vec::new(),
            tasks: Vec::new(),
            client: None,
            stdout: Captured::default(),
            stderr: Captured::default(),
            files: Vec::new(),
            started_s: 0.0,
            wall_s: 0.0,
            error: None,
        }
    }

    pub(crate) fn id(&self) -> &'static str {
        self.scenario.id
    }

    /// API requests (not CDN downloads), with their 1-based request numbers.
    pub(crate) fn api(&self) -> impl Iterator<Item = (usize, &JournalEntry)> {
        self.numbered().filter(|(_, e)| e.kind == EntryKind::Api)
    }

    /// API requests and downloads with their 1-based request numbers.
    pub(crate) fn numbered(&self) -> impl Iterator<Item = (usize, &JournalEntry)> {
        self.entries.iter().enumerate().map(|(i, e)| (i + 1, e))
    }

    /// Task creations.
    pub(crate) fn creates(&self) -> impl Iterator<Item = (usize, &JournalEntry)> {
        self.api().filter(|(_, e)| e.route == "create")
    }

    /// Every output line with its stream and 1-based line number.
    pub(crate) fn lines(&self) -> impl Iterator<Item = (Stream, usize, &Line)> {
        let out = self.stdout.lines.iter().enumerate().map(|(i, l)| (Stream::Stdout, i + 1, l));
        let err = self.stderr.lines.iter().enumerate().map(|(i, l)| (Stream::Stderr, i + 1, l));
        out.chain(err)
    }

    /// The earliest output line (either stream) containing `needle`.
    pub(crate) fn find_line(&self, needle: &str) -> Option<(Stream, usize, &Line)> {
        self.lines().filter(|(_, _, l)| l.text.contains(needle)).min_by(|a, b| a.2.t_ms.total_cmp(&b.2.t_ms))
    }

    /// Each request that repeats an earlier one which got no usable answer, with that
    /// earlier attempt: `(n, previous n, seconds from its answer to this request)`.
    ///
    /// Two requests are attempts of one request when they have the same [`attempt_key`];
    /// a repeat after a success (the next poll of a task) is not a retry. Reports draw
    /// these links so that backoff, or its absence, is visible on a timeline.
    pub(crate) fn retries(&self) -> Vec<(usize, usize, f64)> {
        let mut last: std::collections::HashMap<String, (usize, &JournalEntry)> = std::collections::HashMap::new();
        let mut out = Vec::new();
        for (n, e) in self.numbered() {
            let key = attempt_key(e);
            if let Some((m, previous)) = last.get(&key)
                && !answered_ok(previous)
            {
                out.push((n, *m, gap_s(previous, e)));
            }
            last.insert(key, (n, e));
        }
        out
    }

    /// The `Retry-After` the fault that answered `entry` sent, if any.
    pub(crate) fn retry_after(&self, entry: &JournalEntry) -> Option<u32> {
        let rule = entry.fault.as_ref()?.rule?;
        match &self.plan.rules.get(rule)?.fault {
            kling_mock::Fault::Error { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// What makes two requests attempts of the same request: a create to the same
/// endpoint, or the same method, path and query.
pub(crate) fn attempt_key(e: &JournalEntry) -> String {
    if e.route == "create" {
        format!("create {}", e.path)
    } else {
        format!("{} {}?{}", e.method, e.path, e.query.as_deref().unwrap_or(""))
    }
}

/// The client got a whole answer below 400.
fn answered_ok(e: &JournalEntry) -> bool {
    e.completed && e.client_gone_ms.is_none() && e.status.is_some_and(|s| s < 400)
}

/// Seconds from `previous`'s answer (or the moment its client left) to `next`'s arrival.
pub(crate) fn gap_s(previous: &JournalEntry, next: &JournalEntry) -> f64 {
    ((next.t_ms - (previous.t_ms + previous.duration_ms)) / 1000.0).max(0.0)
}

#[cfg(test)]
pub(crate) mod fake {
    //! Hand-made runs for judge tests: a small builder over journal entries.

    use std::sync::Arc;

    use kling_mock::{BodySummary, EntryKind, FiredFault, JournalEntry, JwtSummary};
    use serde_json::{Value, json};

    use super::{ClientEnd, ScenarioRun};
    use crate::runner::{Captured, Line};

    pub(crate) fn entry(t_s: f64, method: &str, path: &str, route: &str, status: u16, code: u32) -> JournalEntry {
        let mut e: JournalEntry = serde_json::from_value(json!({
            "seq": 0, "kind": "api", "t_ms": t_s * 1000.0, "duration_ms": 5.0, "conn": 1,
            "method": method, "path": path, "route": route, "status": status, "code": code,
            "completed": true, "clock_s": 1_700_000_000_i64 + t_s as i64,
            "authorization": "Bearer <jwt>",
        }))
        .unwrap();
        if route == "create" || route == "query" {
            e.resource = Some("videos/text2video".into());
        }
        e
    }

    pub(crate) fn create(t_s: f64, status: u16, code: u32) -> JournalEntry {
        let mut e = entry(t_s, "POST", "/v1/videos/text2video", "create", status, code);
        e.body = Some(Box::new(body(&json!({"model_name": "kling-v1-6", "prompt": "a fox", "duration": "5",
            "mode": "std", "negative_prompt": "blur", "external_task_id": "ext-1"}))));
        if code == 0 {
            e.task_id = Some("800000000000000001".into());
            e.task_status = Some("submitted".into());
        }
        e
    }

    pub(crate) fn query(t_s: f64, status: &str) -> JournalEntry {
        let mut e = entry(t_s, "GET", "/v1/videos/text2video/800000000000000001", "query", 200, 0);
        e.task_id = Some("800000000000000001".into());
        e.task_status = Some(status.into());
        e
    }

    pub(crate) fn body(v: &Value) -> BodySummary {
        let bytes = serde_json::to_vec(v).unwrap();
        let mut s: BodySummary = serde_json::from_value(json!({"bytes": bytes.len(),
            "sha256": kling_mock::fingerprint(&bytes), "negative_prompt": false}))
        .unwrap();
        let o = v.as_object().unwrap();
        s.keys = o.keys().cloned().collect();
        s.model_name = o.get("model_name").cloned();
        s.duration = o.get("duration").cloned();
        s.mode = o.get("mode").cloned();
        s.external_task_id = o.get("external_task_id").cloned();
        s.callback_url = o.get("callback_url").cloned();
        s.negative_prompt = o.get("negative_prompt").is_some_and(|v| v.as_str().is_some_and(|t| !t.is_empty()));
        s
    }

    pub(crate) fn jwt(header: &Value, claims: &Value, fingerprint: &str) -> Arc<JwtSummary> {
        Arc::new(JwtSummary {
            header: header.as_object().unwrap().clone(),
            claims: claims.as_object().unwrap().clone(),
            fingerprint: fingerprint.into(),
        })
    }

    pub(crate) fn fault(kind: &str, code: Option<u32>, rule: Option<usize>) -> FiredFault {
        FiredFault { rule, kind: kind.into(), code, seconds: None }
    }

    pub(crate) fn lines(texts: &[&str]) -> Captured {
        let mut c = Captured::default();
        for (i, t) in texts.iter().enumerate() {
            c.lines.push(Line { t_ms: i as f64, text: (*t).to_owned() });
        }
        c
    }

    pub(crate) fn run(id: &str, entries: Vec<JournalEntry>, code: i32, end_s: f64) -> ScenarioRun {
        let mut r = ScenarioRun::empty(crate::scenario::find(id).unwrap());
        r.entries = entries;
        for (i, e) in r.entries.iter_mut().enumerate() {
            e.seq = i as u64 + 1;
            if e.kind == EntryKind::Cdn {
                e.authorization = None;
            }
        }
        r.client = Some(ClientEnd { code: Some(code), signal: None, stopped: None, end_ms: end_s * 1000.0 });
        r
    }
}

#[cfg(test)]
mod tests {
    use super::fake::{create, query, run};

    #[test]
    fn retries_link_attempts_after_failures_but_not_polls_after_answers() {
        let mut stalled = query(4.0, "processing");
        stalled.completed = false;
        stalled.status = None;
        stalled.duration_ms = 2000.0;
        let r = run(
            "rate-limited",
            vec![
                create(0.0, 429, 1302),
                create(1.0, 429, 1302),
                create(3.0, 200, 0),
                query(3.5, "processing"),
                stalled,
                query(6.5, "succeed"),
            ],
            0,
            7.0,
        );
        let links: Vec<(usize, usize, String)> =
            r.retries().into_iter().map(|(n, m, w)| (n, m, format!("{w:.3}"))).collect();
        // #2 and #3 retry the refused creates (waits measured from each answer, which took
        // 5 ms); #4 and #5 are polls after answers; #6 follows the stalled #5 from when it
        // was left.
        assert_eq!(links, [(2, 1, "0.995".to_owned()), (3, 2, "1.995".to_owned()), (6, 5, "0.500".to_owned())]);
    }
}
