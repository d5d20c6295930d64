//! A scenario's request timeline as inline SVG, for the HTML reports of `check` and
//! `audit`. Requests are marks on a time axis, one lane per kind (creates, task queries,
//! CDN downloads, callback deliveries), coloured by how they were answered; each retry is
//! joined to the attempt it repeats by an arc labelled with the client's wait, so growing
//! backoff reads as growing arcs and a client that hammers as a dense row of tiny ones. A
//! vertical line marks when the client exited or was stopped.
//!
//! Everything a client or the journal supplied (paths, fault names, task statuses) goes
//! through [`super::html::escape`]. Element ids are never used, so any number of timelines
//! can share one page.

use std::fmt::Write as _;

use super::html::escape;
use super::{ScenarioReport, TimelineEntry};

/// The drawing's width in user units; it scales to the page.
const WIDTH: f64 = 960.0;
/// Room for lane labels on the left.
const LEFT: f64 = 112.0;
const RIGHT: f64 = 28.0;
/// Room above the lanes for the end marker's label.
const TOP: f64 = 24.0;
/// A lane without retries, and one with room for arcs and their labels.
const LANE: f64 = 30.0;
const LANE_WITH_ARCS: f64 = 60.0;
const MARK: f64 = 18.0;
/// The narrowest mark: most answers take a millisecond, and a hairline is hard to see.
const MIN_MARK: f64 = 6.0;
const AXIS: f64 = 36.0;
/// Approximate width of a label character at the labels' font size.
const CHAR: f64 = 6.4;

/// How a request was answered, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A whole answer below 400.
    Ok,
    /// An error status the mock's fault plan injected (429, 5xx, an expired token...).
    Fault,
    /// An error status the client earned (a bad request, no credits).
    Error,
    /// No answer: a reset, an empty reply, a stall the client walked away from.
    NoAnswer,
}

impl Outcome {
    pub(crate) fn of(e: &TimelineEntry) -> Outcome {
        if !e.completed || e.client_gone.is_some() {
            Outcome::NoAnswer
        } else if e.status.is_some_and(|s| s >= 400) {
            if e.fault.is_some() { Outcome::Fault } else { Outcome::Error }
        } else {
            Outcome::Ok
        }
    }

    /// The CSS class (styled in the page's stylesheet).
    pub(crate) fn class(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fault => "fault",
            Outcome::Error => "err",
            Outcome::NoAnswer => "gone",
        }
    }
}

/// A lane: which entries it holds and its label.
fn lane_of(e: &TimelineEntry) -> (usize, &'static str) {
    match (e.kind.as_str(), e.route.as_str()) {
        ("callback", _) => (5, "callback"),
        ("cdn", _) => (4, "CDN download"),
        (_, "create") => (0, "create"),
        (_, "query") => (1, "task query"),
        (_, "list") => (2, "task list"),
        _ => (3, "other API"),
    }
}

/// Seconds, compactly: `0.4 s`, `12 s`.
pub(crate) fn secs(s: f64) -> String {
    if s < 9.95 { format!("{s:.1} s") } else { format!("{s:.0} s") }
}

/// Where the client's answer ended (or it left).
fn answer_end(e: &TimelineEntry) -> f64 {
    e.client_gone.unwrap_or(e.t + e.duration)
}

/// A tick step that gives at most about ten ticks.
fn tick_step(span: f64) -> f64 {
    [0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0]
        .into_iter()
        .find(|step| span / step <= 10.0)
        .unwrap_or(600.0)
}

/// One line per retried request: its attempts and the waits between them, so the
/// numbers are readable without hovering over the drawing.
pub(crate) fn retry_summaries(s: &ScenarioReport) -> Vec<String> {
    let by_n = |n: usize| s.requests.iter().find(|e| e.n == n && e.kind != "callback");
    // Follow each chain from its last attempt back to its first.
    let retried: Vec<usize> = s.requests.iter().filter_map(|e| e.retry_of).collect();
    let mut out = Vec::new();
    for last in s.requests.iter().filter(|e| e.retry_of.is_some() && !retried.contains(&e.n)) {
        let mut chain = vec![last];
        while let Some(previous) = chain.last().and_then(|e| e.retry_of).and_then(by_n) {
            chain.push(previous);
        }
        chain.reverse();
        let waits: Vec<f64> = chain.iter().filter_map(|e| e.wait).collect();
        let listed: Vec<String> = waits.iter().map(|w| format!("{w:.2}")).collect();
        let (first, final_wait) = (waits.first().copied().unwrap_or(0.0), waits.last().copied().unwrap_or(0.0));
        // One quick retry is what a token refresh looks like; several are hammering.
        let shape = if waits.len() >= 2 && waits.iter().all(|w| *w < 0.1) {
            "no wait between attempts".to_owned()
        } else if waits.len() >= 2 && final_wait >= 1.5 * first.max(0.05) {
            format!("the waits grow (last ×{:.1} the first)", final_wait / first.max(0.01))
        } else if waits.len() >= 2 {
            "the waits do not grow".to_owned()
        } else {
            String::new()
        };
        let first_entry = chain[0];
        let answers: Vec<String> = chain.iter().map(|e| answer(e)).collect();
        let mut line = format!(
            "{} {} #{}–#{}: {} attempts ({}); waits {} s",
            first_entry.method,
            first_entry.path,
            first_entry.n,
            last.n,
            chain.len(),
            answers.join(", "),
            listed.join(" → ")
        );
        if !shape.is_empty() {
            line.push_str(&format!(": {shape}"));
        }
        out.push(line);
    }
    out
}

/// How often the client polled: for each task queried three times or more, the median
/// gap between answered queries (retries excluded, as `tasks.poll-interval` judges them).
/// The second value says whether that is faster than once a second. On a timeline of a
/// few seconds, 0.2 s and 2 s apart can look alike; the number cannot.
pub(crate) fn poll_summaries(s: &ScenarioReport) -> Vec<(String, bool)> {
    let mut paths: Vec<&str> = Vec::new();
    for e in s.requests.iter().filter(|e| e.route == "query" && e.kind == "api") {
        if !paths.contains(&e.path.as_str()) {
            paths.push(&e.path);
        }
    }
    let mut out = Vec::new();
    for path in paths {
        let polls: Vec<&TimelineEntry> = s
            .requests
            .iter()
            .filter(|e| e.route == "query" && e.path == path && e.retry_of.is_none() && Outcome::of(e) == Outcome::Ok)
            .collect();
        if polls.len() < 3 {
            continue;
        }
        let mut gaps: Vec<f64> = polls.windows(2).map(|w| (w[1].t - answer_end(w[0])).max(0.0)).collect();
        gaps.sort_by(f64::total_cmp);
        let median = gaps[gaps.len() / 2];
        let fast = median < 1.0;
        let mut line = format!("GET {path}: {} queries, a median {median:.2} s apart", polls.len());
        if fast {
            line.push_str(": faster than once a second");
        }
        out.push((line, fast));
    }
    out
}

/// `429/1302`, `200`, `no answer`.
fn answer(e: &TimelineEntry) -> String {
    if Outcome::of(e) == Outcome::NoAnswer {
        return match e.fault.as_deref() {
            Some(f) => format!("no answer ({f})"),
            None => "no answer".to_owned(),
        };
    }
    match (e.status, e.code) {
        (Some(s), Some(c)) if c != 0 => format!("{s}/{c}"),
        (Some(s), _) => s.to_string(),
        (None, _) => "no status".to_owned(),
    }
}

/// The hover text of a mark.
fn tooltip(e: &TimelineEntry) -> String {
    let who = if e.kind == "callback" { "callback to the client".to_owned() } else { format!("#{}", e.n) };
    let mut t = format!("{who} {} {} at {:.3} s → {}", e.method, e.path, e.t, answer(e));
    if let Some(status) = &e.task_status {
        t.push_str(&format!(", task {status}"));
    }
    if let Some(f) = &e.fault {
        t.push_str(&format!(" (fault: {f})"));
    }
    if let Some(gone) = e.client_gone {
        t.push_str(&format!("; the client left after {:.2} s", gone - e.t));
    }
    if let (Some(m), Some(w)) = (e.retry_of, e.wait) {
        t.push_str(&format!("; retry of #{m} after waiting {w:.2} s"));
    }
    if let Some(c) = e.conn {
        t.push_str(&format!("; connection {c}"));
    }
    t
}

/// The SVG drawing of one scenario.
pub(crate) fn svg(s: &ScenarioReport) -> String {
    let end = s.client.as_ref().map_or(0.0, |c| c.at);
    let last = s.requests.iter().map(answer_end).fold(0.0_f64, f64::max);
    let span = (end.max(last) * 1.03).max(1.0);
    let x = |t: f64| LEFT + t.clamp(0.0, span) / span * (WIDTH - LEFT - RIGHT);

    // Lanes: creates and queries always, the others when used.
    let mut lanes: Vec<(usize, &str)> = vec![(0, "create"), (1, "task query")];
    for e in &s.requests {
        let lane = lane_of(e);
        if !lanes.contains(&lane) {
            lanes.push(lane);
        }
    }
    lanes.sort_unstable();
    let arcs_in = |lane: usize| s.requests.iter().any(|e| e.retry_of.is_some() && lane_of(e).0 == lane);
    let mut tops = Vec::new();
    let mut y = TOP;
    for (lane, _) in &lanes {
        let h = if arcs_in(*lane) { LANE_WITH_ARCS } else { LANE };
        tops.push((*lane, y, h));
        y += h;
    }
    let bottom = y;
    let height = bottom + AXIS;
    let lane_box = |lane: usize| tops.iter().find(|(l, _, _)| *l == lane).map_or((TOP, LANE), |(_, y, h)| (*y, *h));

    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"timeline\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" \
         xmlns=\"http://www.w3.org/2000/svg\" aria-label=\"{}\">",
        escape(&format!("request timeline of the {} scenario", s.id))
    );
    let _ = write!(out, "<title>{}</title>", escape(&format!("{}: {}", s.id, s.title)));

    // Lane bands and labels.
    for (i, (lane, label)) in lanes.iter().enumerate() {
        let (top, h) = lane_box(*lane);
        let band = if i % 2 == 0 { "band" } else { "band alt" };
        let _ = write!(
            out,
            "<rect class=\"{band}\" x=\"0\" y=\"{top}\" width=\"{WIDTH}\" height=\"{h}\"/>\
             <text class=\"lane\" x=\"{}\" y=\"{}\">{}</text>",
            LEFT - 10.0,
            top + h - MARK / 2.0 - 2.0 + 4.0,
            escape(label)
        );
    }
    // Time grid and axis.
    let step = tick_step(span);
    let mut t = 0.0;
    while t <= span + 1e-9 {
        let xt = x(t);
        let label = if step < 1.0 { format!("{t:.1} s") } else { format!("{t:.0} s") };
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{xt:.1}\" y1=\"{TOP}\" x2=\"{xt:.1}\" y2=\"{bottom}\"/>\
             <line class=\"axis\" x1=\"{xt:.1}\" y1=\"{bottom}\" x2=\"{xt:.1}\" y2=\"{}\"/>\
             <text class=\"tick\" x=\"{xt:.1}\" y=\"{}\">{label}</text>",
            bottom + 5.0,
            bottom + 18.0
        );
        t += step;
    }
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{bottom}\" x2=\"{}\" y2=\"{bottom}\"/>\
         <text class=\"axis-title\" x=\"{}\" y=\"{}\">seconds since the scenario's mock started</text>",
        WIDTH - RIGHT,
        WIDTH - RIGHT,
        bottom + 32.0
    );

    // The poll hint, counted from the first task the client got, when the drawing reaches it.
    if let Some(created) = s.requests.iter().find(|e| e.route == "create" && Outcome::of(e) == Outcome::Ok) {
        let hint = answer_end(created) + s.poll_timeout;
        if hint <= span {
            let xh = x(hint);
            let _ = write!(
                out,
                "<line class=\"hint\" x1=\"{xh:.1}\" y1=\"{TOP}\" x2=\"{xh:.1}\" y2=\"{bottom}\"/>\
                 <text class=\"hint-label\" x=\"{:.1}\" y=\"{}\">poll hint: {} after the task was created</text>",
                xh - 4.0,
                bottom - 4.0,
                secs(s.poll_timeout)
            );
        }
    }

    // Marks, then retry arcs over them.
    for e in &s.requests {
        let (lane, _) = lane_of(e);
        let (top, h) = lane_box(lane);
        let mark_y = top + h - MARK - 6.0;
        let title = format!("<title>{}</title>", escape(&tooltip(e)));
        if e.kind == "callback" {
            let class = if Outcome::of(e) == Outcome::Ok { "cb" } else { "cb bad" };
            let _ = write!(
                out,
                "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\">{title}</circle>",
                x(e.t),
                mark_y + MARK / 2.0
            );
            continue;
        }
        let (x0, x1) = (x(e.t), x(answer_end(e)));
        let w = (x1 - x0).max(MIN_MARK);
        let mut class = format!("req {}", Outcome::of(e).class());
        if e.retry_of.is_some() {
            class.push_str(" retry");
        }
        let _ = write!(
            out,
            "<rect class=\"{class}\" x=\"{x0:.1}\" y=\"{mark_y:.1}\" width=\"{w:.1}\" height=\"{MARK}\" rx=\"2\">{title}</rect>"
        );
        // Say what a long mark is, inside it, when it has room.
        if Outcome::of(e) == Outcome::NoAnswer && w > 150.0 {
            let what = match (e.fault.as_deref(), e.client_gone) {
                (Some(f), Some(gone)) => format!("{f}: the client left after {}", secs(gone - e.t)),
                (None, Some(gone)) => format!("the client left after {}", secs(gone - e.t)),
                (Some(f), None) => format!("{f}: no answer"),
                (None, None) => "no answer".to_owned(),
            };
            let _ = write!(
                out,
                "<text class=\"in-mark\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                x0 + 6.0,
                mark_y + MARK - 4.5,
                escape(&what)
            );
        }
    }
    // Arcs: from the end of the answer that failed to the retry; labels in up to two rows,
    // skipped where they would collide (the caption lists every wait).
    // Per lane, the right edge of the last label in each row.
    let mut rows: std::collections::HashMap<usize, [f64; 2]> = std::collections::HashMap::new();
    for e in s.requests.iter().filter(|e| e.kind != "callback") {
        let (Some(m), Some(wait)) = (e.retry_of, e.wait) else { continue };
        let Some(previous) = s.requests.iter().find(|p| p.n == m && p.kind != "callback") else { continue };
        let (lane, _) = lane_of(e);
        let (top, h) = lane_box(lane);
        let base = top + h - MARK - 6.0;
        let (xa, xb) = (x(answer_end(previous)), x(e.t));
        let rise = 12.0_f64.min(4.0 + (xb - xa) / 2.0);
        let _ = write!(
            out,
            "<path class=\"arc\" d=\"M{xa:.1},{base:.1} C{xa:.1},{:.1} {xb:.1},{:.1} {xb:.1},{base:.1}\">\
             <title>{}</title></path>",
            base - rise * 1.3,
            base - rise * 1.3,
            escape(&format!("#{} retried as #{} after waiting {wait:.2} s", m, e.n))
        );
        let label = secs(wait);
        let half = label.len() as f64 * CHAR / 2.0;
        let mid = f64::midpoint(xa, xb);
        let used = rows.entry(lane).or_insert([f64::NEG_INFINITY; 2]);
        if let Some(row) = (0..2).find(|r| mid - half > used[*r] + 3.0) {
            used[row] = mid + half;
            let _ = write!(
                out,
                "<text class=\"wait\" x=\"{mid:.1}\" y=\"{:.1}\">{label}</text>",
                base - 14.0 - 11.0 * row as f64
            );
        }
    }

    // How the client ended.
    if let Some(c) = &s.client {
        let (class, what) = match (c.stopped.as_deref(), c.code, c.signal) {
            (Some("deadline"), _, _) => ("end stopped", format!("stopped at its deadline, {}", secs(c.at))),
            (Some(why), _, _) => ("end stopped", format!("stopped ({why}) at {}", secs(c.at))),
            (None, Some(0), _) => ("end", format!("exit 0 at {}", secs(c.at))),
            (None, Some(code), _) => ("end nonzero", format!("exit {code} at {}", secs(c.at))),
            (None, None, Some(sig)) => ("end stopped", format!("killed by signal {sig} at {}", secs(c.at))),
            (None, None, None) => ("end", format!("ended at {}", secs(c.at))),
        };
        let xe = x(c.at);
        let anchor = if xe > WIDTH - 180.0 { "end" } else { "start" };
        let dx = if anchor == "end" { -5.0 } else { 5.0 };
        let _ = write!(
            out,
            "<line class=\"{class}\" x1=\"{xe:.1}\" y1=\"6\" x2=\"{xe:.1}\" y2=\"{bottom}\"/>\
             <text class=\"{class} end-label\" text-anchor=\"{anchor}\" x=\"{:.1}\" y=\"16\">client: {}</text>",
            xe + dx,
            escape(&what)
        );
    }
    if s.requests.is_empty() {
        let _ = write!(
            out,
            "<text class=\"empty\" x=\"{:.1}\" y=\"{:.1}\">no request reached the mock</text>",
            (LEFT + WIDTH - RIGHT) / 2.0,
            TOP + LANE
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ClientExit;

    fn entry(n: usize, t: f64, status: u16, retry_of: Option<usize>, wait: Option<f64>) -> TimelineEntry {
        TimelineEntry {
            n,
            kind: "api".into(),
            t,
            duration: 0.01,
            conn: Some(1),
            method: "POST".into(),
            path: "/v1/videos/text2video".into(),
            route: "create".into(),
            status: Some(status),
            code: Some(if status == 429 { 1302 } else { 0 }),
            completed: true,
            client_gone: None,
            fault: (status == 429).then(|| "error 1302".to_owned()),
            task_status: None,
            retry_of,
            wait,
        }
    }

    pub(crate) fn scenario() -> ScenarioReport {
        let mut cdn = entry(5, 9.0, 200, None, None);
        cdn.kind = "cdn".into();
        cdn.route = "download".into();
        cdn.method = "GET".into();
        cdn.path = "/cdn/…/<script>alert(1)</script>.mp4".into();
        ScenarioReport {
            id: "rate-limited".into(),
            title: "first creates → 429".into(),
            started: 0.0,
            duration: 10.0,
            deadline: 60.0,
            poll_timeout: 15.0,
            client: Some(ClientExit { code: Some(0), signal: None, stopped: None, at: 9.5 }),
            requests: vec![
                entry(1, 1.0, 429, None, None),
                entry(2, 2.0, 429, Some(1), Some(0.99)),
                entry(3, 4.1, 429, Some(2), Some(2.09)),
                entry(4, 8.3, 200, Some(3), Some(4.19)),
                cdn,
            ],
            stdout_lines: 1,
            stderr_lines: 2,
            output_bytes: 100,
            output_truncated: false,
            output_files: vec![],
            error: None,
        }
    }

    #[test]
    fn retries_are_arcs_labelled_with_their_waits_and_text_is_escaped() {
        let svg = svg(&scenario());
        assert_eq!(svg.matches("class=\"arc\"").count(), 3);
        for label in [">1.0 s<", ">2.1 s<", ">4.2 s<"] {
            assert!(svg.contains(label), "{label} in {svg}");
        }
        assert!(svg.contains("client: exit 0 at 9.5 s"));
        assert!(svg.contains("CDN download"));
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn the_caption_lists_each_retried_request_and_says_whether_waits_grow() {
        assert_eq!(
            retry_summaries(&scenario()),
            ["POST /v1/videos/text2video #1–#4: 4 attempts (429/1302, 429/1302, 429/1302, 200); waits 0.99 → 2.09 → \
                 4.19 s: the waits grow (last ×4.2 the first)"]
        );
        let mut flat = scenario();
        for (e, w) in flat.requests.iter_mut().skip(1).zip([1.0, 1.0, 1.0]) {
            e.wait = Some(w);
        }
        assert!(retry_summaries(&flat)[0].ends_with("waits 1.00 → 1.00 → 1.00 s: the waits do not grow"));
        for e in flat.requests.iter_mut().skip(1) {
            e.wait = Some(0.0);
        }
        assert!(retry_summaries(&flat)[0].ends_with("no wait between attempts"));
    }

    #[test]
    fn polling_pace_is_summarised() {
        let mut s = scenario();
        s.requests = (0..5)
            .map(|i| {
                let mut e = entry(i + 1, 1.0 + 0.2 * i as f64, 200, None, None);
                e.route = "query".into();
                e.method = "GET".into();
                e.path = "/v1/videos/text2video/42".into();
                e
            })
            .collect();
        let summaries = poll_summaries(&s);
        assert_eq!(summaries.len(), 1);
        assert_eq!(
            summaries[0],
            (
                "GET /v1/videos/text2video/42: 5 queries, a median 0.19 s apart: faster than once a second".to_owned(),
                true
            )
        );
    }

    #[test]
    fn ticks_stay_few() {
        assert!((tick_step(6.0) - 1.0).abs() < f64::EPSILON);
        assert!((tick_step(35.0) - 5.0).abs() < f64::EPSILON);
        assert!((tick_step(0.8) - 0.5).abs() < f64::EPSILON);
    }
}
