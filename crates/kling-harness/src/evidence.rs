//! Evidence lines: how judges quote requests, times, answers and output so that a
//! reader can find each claim in the journal or the client's output.
//!
//! Conventions: every line starts with the scenario in brackets; times are seconds
//! since that scenario's mock started (the journal's clock); `#n` is the request's
//! position among the scenario's API requests and downloads, in order of arrival.

use kling_mock::{EntryKind, JournalEntry};

use crate::observation::{ClientEnd, ScenarioRun, Stream};
use crate::runner::{Line, Stop};

/// `4.21 s`.
pub(crate) fn secs(ms: f64) -> String {
    format!("{:.2} s", ms / 1000.0)
}

/// A duration in seconds, compactly: `1.09`.
pub(crate) fn num(seconds: f64) -> String {
    format!("{seconds:.2}")
}

/// The path as a reader needs it: long CDN paths shortened.
pub(crate) fn path(e: &JournalEntry) -> String {
    if e.kind == EntryKind::Cdn
        && let Some(file) = e.path.rsplit('/').next()
    {
        return format!("/cdn/…/{file}");
    }
    e.path.clone()
}

/// `POST /v1/videos/text2video #3 at 4.21 s`.
pub(crate) fn request(n: usize, e: &JournalEntry) -> String {
    format!("{} {} #{n} at {}", e.method, path(e), secs(e.t_ms))
}

/// What the client got: `429/1302`, `200`, or why it got nothing.
pub(crate) fn answer(e: &JournalEntry) -> String {
    let fault = e.fault.as_ref().map(|f| f.kind.as_str());
    if let Some(gone) = e.client_gone_ms {
        return format!("no answer: the client left after {}", secs(gone - e.t_ms));
    }
    match (fault, e.completed) {
        (Some("reset"), false) => return "connection reset by the mock (fault), after it did the work".into(),
        (Some("empty"), false) => return "connection closed without an answer (fault)".into(),
        (Some("truncate"), false) => return "half an answer, then the connection closed (fault)".into(),
        _ => {}
    }
    let status = e.status.map_or_else(|| "no status".to_owned(), |s| s.to_string());
    match e.code {
        Some(code) if code != 0 || e.kind == EntryKind::Api => format!("{status}/{code}"),
        _ => status,
    }
}

/// `POST /v1/videos/text2video #3 at 4.21 s → 429/1302 (fault: error 1302)`.
pub(crate) fn exchange(n: usize, e: &JournalEntry) -> String {
    let mut s = format!("{} → {}", request(n, e), answer(e));
    if let Some(status) = &e.task_status
        && e.route != "create"
        && e.completed
    {
        s.push_str(&format!(", task {status}"));
    }
    if let Some(f) = &e.fault
        && e.completed
    {
        match (f.kind.as_str(), f.code, f.seconds) {
            ("error" | "token-expiry", Some(code), _) => s.push_str(&format!(" (fault: {} {code})", f.kind)),
            ("stall", _, Some(seconds)) => s.push_str(&format!(" (fault: stalled {seconds} s)")),
            (kind, _, _) => s.push_str(&format!(" (fault: {kind})")),
        }
    }
    s
}

/// `exited with code 1 at 3.10 s`, or how the harness stopped it.
pub(crate) fn end(client: &ClientEnd) -> String {
    let at = secs(client.end_ms);
    match (client.stopped, client.code, client.signal) {
        (Some(Stop::Deadline), _, _) => format!("was still running at its deadline and was stopped at {at}"),
        (Some(Stop::Interrupted), _, _) => format!("was stopped at {at} because the run was interrupted"),
        (None, Some(code), _) => format!("exited with code {code} at {at}"),
        (None, None, Some(signal)) => format!("was killed by signal {signal} at {at}"),
        (None, None, None) => format!("ended at {at}"),
    }
}

/// `the client exited with code 1 at 3.10 s` for a run, or why there is no client.
pub(crate) fn client_end(run: &ScenarioRun) -> String {
    match &run.client {
        Some(c) => format!("the client {}", end(c)),
        None => "the client did not run".into(),
    }
}

/// `stderr line 4 at 3.05 s: {"event": ...}` (clipped, secrets redacted).
pub(crate) fn line(run: &ScenarioRun, stream: Stream, n: usize, l: &Line) -> String {
    let text = crate::secrets::redact(&l.text, &run.secret_key);
    format!("{} line {n} at {}: {}", stream.name(), secs(l.t_ms), clip(&text, 160))
}

/// At most `max` characters, with `…` when cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max { text.to_owned() } else { text.chars().take(max).collect::<String>() + "…" }
}

/// A list of seconds: `0.52, 1.09, 2.31 s`.
pub(crate) fn seconds_list(values: &[f64]) -> String {
    let parts: Vec<String> = values.iter().map(|v| num(*v)).collect();
    format!("{} s", parts.join(", "))
}

/// `[scenario] text`.
pub(crate) fn tagged(run: &ScenarioRun, text: impl AsRef<str>) -> String {
    format!("[{}] {}", run.id(), text.as_ref())
}

/// "1 request", "3 requests".
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else if let Some(stem) = word.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::fake;

    #[test]
    fn exchanges_read_like_the_journal() {
        let mut e = fake::create(4.21, 429, 1302);
        e.fault = Some(fake::fault("error", Some(1302), Some(0)));
        assert_eq!(exchange(3, &e), "POST /v1/videos/text2video #3 at 4.21 s → 429/1302 (fault: error 1302)");
        let mut q = fake::query(1.0, "processing");
        q.client_gone_ms = Some(31_020.0);
        q.completed = false;
        assert_eq!(
            exchange(2, &q),
            "GET /v1/videos/text2video/800000000000000001 #2 at 1.00 s → no answer: the client left after 30.02 s"
        );
        assert_eq!(seconds_list(&[0.5, 1.094]), "0.50, 1.09 s");
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(plural(2, "status query"), "2 status queries");
        assert_eq!(plural(2, "day"), "2 days");
    }
}
