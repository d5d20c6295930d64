//! KL102 i2v-exclusive-features: more than one mutually exclusive feature group in one
//! image-to-video request.

use kling_api::resources::{Resource, ResourceId};

use super::Checker;
use crate::analysis::Unit;
use crate::analysis::kling::BodyKey;
use crate::facts::{ExprKind, Span};

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    let groups = Resource::get(ResourceId::Image2Video).exclusive_groups;
    for (m, body) in unit.bodies() {
        if body.resource.is_some_and(|r| r != ResourceId::Image2Video) {
            continue;
        }
        let literal = unit.facts.map(*m).span;
        // The first key of each group present with a non-null value, and whether it is
        // always there or only on some paths.
        let mut used = Vec::new();
        for group in groups {
            let present = body.keys.iter().filter(|k| group.contains(&&*k.key) && !left_out(unit, k)).min_by_key(|k| {
                // A key every request carries wins over one written on some paths.
                (conditional(unit, literal, k), k.key_span.start)
            });
            if let Some(k) = present {
                used.push((group, k, !conditional(unit, literal, k)));
            }
        }
        // Two groups that are each added under their own condition (`if image_tail:
        // body["image_tail"] = ...`) are options the caller chooses between; the
        // conflict is certain only when at least one of them is always sent.
        if used.len() < 2 || !used.iter().any(|(_, _, always)| *always) {
            continue;
        }
        let mut used: Vec<_> = used.into_iter().map(|(g, k, _)| (g, k)).collect();
        // Report where the conflict was introduced: the group that comes last.
        used.sort_by_key(|(_, k)| k.key_span.start);
        let names: Vec<String> = used.iter().map(|(g, _)| g.join("/")).collect();
        let (_, second) = used[1];
        cx.report(
            second.key_span,
            format!(
                "{} cannot be combined in one image-to-video request; Kling rejects it (HTTP 400)",
                names.join(" and ")
            ),
        )
        .label(format!("{} is already used", used[0].1.key))
        .help("keep one feature group per request: an end frame, motion masks, or camera control");
    }
}

/// Whether a key's value is `null`, written or as the default of an optional
/// parameter (`image_tail=None`): the request leaves the field out.
fn left_out(unit: &Unit<'_>, k: &BodyKey) -> bool {
    matches!(unit.facts.expr(unit.deref(k.value)).kind, ExprKind::Null)
}

/// Whether a key is written after the literal inside a branch that the literal is not
/// in (`if tail: body["image_tail"] = tail`): it is sent on some paths only.
fn conditional(unit: &Unit<'_>, literal: Span, k: &BodyKey) -> bool {
    if literal.contains(k.key_span) {
        return false;
    }
    unit.facts.conditionals.iter().any(|c| {
        c.arms.iter().map(|a| a.body).chain(c.otherwise).any(|b| b.contains(k.key_span) && !b.contains(literal))
    })
}
