//! KL102 i2v-exclusive-features: more than one mutually exclusive feature group in one
//! image-to-video request.

use kling_api::resources::{Resource, ResourceId};

use super::Checker;
use crate::facts::ExprKind;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    let groups = Resource::get(ResourceId::Image2Video).exclusive_groups;
    for (_, body) in unit.bodies() {
        if body.resource.is_some_and(|r| r != ResourceId::Image2Video) {
            continue;
        }
        // The first key of each group present with a non-null value.
        let mut used = Vec::new();
        for group in groups {
            let present = body
                .keys
                .iter()
                .find(|k| group.contains(&&*k.key) && !matches!(unit.facts.expr(k.value).kind, ExprKind::Null));
            if let Some(k) = present {
                used.push((group, k));
            }
        }
        if used.len() < 2 {
            continue;
        }
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
