//! KL402 retry-without-backoff: a retry loop or retry-library configuration with a
//! constant or no delay, or no jitter.

use super::Checker;
use super::helpers::fmt_num;
use crate::analysis::retry::Delay;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for r in unit.retry_loops() {
        let header = unit.facts.loop_(r.id).header;
        let (what, label) = match r.delay {
            Delay::None => ("retries Kling requests without waiting", "no delay"),
            Delay::Constant(s) => {
                let msg = format!(
                    "retries Kling requests every {} s; a constant wait keeps hitting a rate-limited or overloaded API",
                    fmt_num(s)
                );
                cx.report(header, msg)
                    .label("constant delay")
                    .help("back off exponentially (e.g. 1, 2, 4, 8 s) with random jitter, and honour Retry-After");
                continue;
            }
            Delay::Growing { jitter: false } => {
                ("backs off without jitter; clients that failed together retry together", "no jitter")
            }
            Delay::Growing { jitter: true } | Delay::ServerAdvised | Delay::Unknown => continue,
        };
        cx.report(header, format!("this loop {what}"))
            .label(label)
            .help("back off exponentially (e.g. 1, 2, 4, 8 s) with random jitter, and honour Retry-After");
    }
    for c in unit.retry_configs() {
        if let Some(why) = &c.delay {
            cx.report(
                c.span,
                format!("{} retries Kling requests without exponential backoff and jitter: {why}", c.lib),
            )
            .label("no backoff")
            .help(match c.lib {
                "axios-retry" => "use retryDelay: axiosRetry.exponentialDelay, which grows and adds jitter",
                "p-retry" => "keep p-retry's growing factor (the default, 2) and set randomize: true",
                _ => "use exponential waits with jitter (tenacity: wait_random_exponential; backoff: backoff.expo)",
            });
        }
    }
}
