//! KL301 unbounded-polling: a Kling task-status polling loop with no deadline and no
//! attempt cap.

use super::Checker;
use crate::facts::LoopId;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for i in 0..unit.facts.loops.len() {
        let l = LoopId(i as u32);
        let facts = unit.loop_facts(l);
        if !facts.polls || facts.bounded {
            continue;
        }
        let header = unit.facts.loop_(l).header;
        cx.report(
            header,
            "this loop polls a Kling task with no deadline and no attempt cap; a stuck or failed task hangs it forever",
        )
        .label("unbounded poll")
        .help("stop after a deadline (e.g. 10 minutes) or a maximum number of polls, and raise when it is reached");
    }
}
