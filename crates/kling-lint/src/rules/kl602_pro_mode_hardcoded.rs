//! KL602 pro-mode-hardcoded: `mode: "pro"` written as a literal rather than chosen per
//! render.

use super::Checker;
use crate::facts::ExprKind;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for (_, body) in unit.bodies() {
        let Some(key) = body.get("mode") else { continue };
        let expr = unit.facts.expr(key.value);
        if matches!(&expr.kind, ExprKind::Str(s) if &**s == "pro") {
            cx.report(expr.span, "`mode` is hard-coded to \"pro\", which costs several times \"std\" on every render")
                .label("always pro")
                .help("use \"std\" for drafts and previews, and choose \"pro\" per render for finals");
        }
    }
}
