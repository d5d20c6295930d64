//! KL305 poll-without-delay: a Kling polling loop that never sleeps, or sleeps under
//! one second.

use super::Checker;
use super::helpers::fmt_num;
use crate::analysis::summary::Amount;
use crate::facts::LoopId;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for i in 0..unit.facts.loops.len() {
        let l = LoopId(i as u32);
        let facts = unit.loop_facts(l);
        if !facts.polls {
            continue;
        }
        let header = unit.facts.loop_(l).header;
        match facts.sleep {
            None => {
                cx.report(header, "this loop polls a Kling task without pausing; it floods the API and runs into the rate limit (429, code 1302)")
                    .label("no sleep")
                    .help("sleep between polls (5-10 s is typical), or use callback_url");
            }
            Some(Amount::Secs(s)) if s < 1.0 => {
                cx.report(
                    header,
                    format!("this loop polls a Kling task every {} s; polls should be at least 1 s apart", fmt_num(s)),
                )
                .label("sleeps under a second")
                .help("sleep 5-10 s between polls");
            }
            Some(_) => {}
        }
    }
}
