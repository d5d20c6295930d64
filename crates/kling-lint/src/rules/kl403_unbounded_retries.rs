//! KL403 unbounded-retries: a retry loop or retry-library configuration with no
//! attempt limit.

use super::Checker;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for r in unit.retry_loops() {
        if r.bounded {
            continue;
        }
        let header = unit.facts.loop_(r.id).header;
        cx.report(
            header,
            "this loop retries Kling requests with no attempt limit; a persistent 429 or 5xx keeps it going forever",
        )
        .label("no retry cap")
        .help("stop after 3-5 attempts and surface the error");
    }
    for c in unit.retry_configs() {
        if let Some(why) = &c.unbounded {
            cx.report(c.span, format!("{} retries Kling requests with no attempt limit: {why}", c.lib))
                .label("no retry cap")
                .help(match c.lib {
                    "axios-retry" => "cap the attempts at 3-5: retries: 4",
                    "p-retry" => "cap the attempts at 3-5: retries: 4, without forever: true",
                    _ => "cap the attempts at 3-5 (tenacity: stop=stop_after_attempt(5); backoff: max_tries=5)",
                });
        }
    }
}
