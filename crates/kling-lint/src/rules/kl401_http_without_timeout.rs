//! KL401 http-without-timeout: an HTTP call to Kling with no timeout.

use super::Checker;
use crate::analysis::Unit;
use crate::analysis::idioms::{HttpCall, HttpLib, Timeout};
use crate::diagnostic::Fix;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for call in &unit.facts.calls {
        let Some(http) = unit.http_call(call) else { continue };
        if http.timeout != Timeout::Missing {
            continue;
        }
        let Some(url) = http.url.and_then(|u| unit.url_info(u)) else { continue };
        if !url.kling {
            continue;
        }
        let (why, how) = advice(http.lib);
        let fix = timeout_fix(unit, &http);
        let d = cx.report(
            http.span,
            format!(
                "this {} call to Kling has no timeout{why}; a stalled connection hangs the client",
                http.lib.name()
            ),
        );
        d.label("no timeout");
        match fix {
            Some(f) => d.fix(f),
            None => d.help(how),
        };
    }
}

fn advice(lib: HttpLib) -> (&'static str, &'static str) {
    match lib {
        HttpLib::Requests | HttpLib::RequestsSession => ("", "pass timeout=30 (or a (connect, read) tuple)"),
        HttpLib::Httpx => (" (timeout=None disables httpx's default)", "pass a finite timeout, e.g. timeout=30"),
        HttpLib::Aiohttp => (
            " (aiohttp's default waits 5 minutes)",
            "pass timeout=aiohttp.ClientTimeout(total=30) to the session or the call",
        ),
        HttpLib::Urllib => ("", "pass timeout=30 to urlopen"),
        HttpLib::Fetch => ("", "pass signal: AbortSignal.timeout(30_000)"),
        HttpLib::Axios => {
            (" (axios waits forever by default)", "set timeout: 30_000 on the call or in axios.create({ timeout })")
        }
        HttpLib::Got => (" (got waits forever by default)", "set timeout: { request: 30_000 }"),
        HttpLib::GoHttp => (
            " (http.DefaultClient and a zero Timeout never time out)",
            "use &http.Client{Timeout: 30 * time.Second}, or a context with a deadline",
        ),
        HttpLib::Reqwest => (
            " (reqwest sets none unless the client or the request is given one)",
            "build the client with Client::builder().timeout(Duration::from_secs(30))",
        ),
    }
}

/// Python keyword calls take `timeout=30` before the closing parenthesis.
fn timeout_fix(unit: &Unit<'_>, http: &HttpCall) -> Option<Fix> {
    let close = http.kwarg_insert_at?;
    if !matches!(http.lib, HttpLib::Requests | HttpLib::RequestsSession | HttpLib::Urllib) {
        return None;
    }
    let text = &unit.file.text;
    if text.as_bytes().get(close as usize) != Some(&b')') {
        return None;
    }
    let before = text[..close as usize].trim_end();
    let at = before.len() as u32;
    let content = if before.ends_with(',') {
        " timeout=30"
    } else if before.ends_with('(') {
        "timeout=30"
    } else {
        ", timeout=30"
    };
    Some(Fix::insert("add timeout=30", at, content))
}
