//! KL105 image-data-uri: an image sent as a `data:...;base64,` URI.

use super::Checker;
use crate::analysis::values::Frag;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for (_, body) in unit.bodies() {
        for key in body.keys.iter().filter(|k| matches!(&*k.key, "image" | "image_tail" | "static_mask")) {
            let first = unit.fragments(key.value).into_iter().find(|f| !matches!(f, Frag::Lit(s) if s.is_empty()));
            let Some(Frag::Lit(text)) = first else { continue };
            if !kling_api::params::is_data_uri(&text) {
                continue;
            }
            let span = unit.facts.expr(key.value).span;
            cx.report(span, format!("`{}` is a data: URI; Kling takes a URL or raw base64 and rejects the `data:...;base64,` prefix (HTTP 400)", key.key))
                .label("data: URI")
                .help("send only the base64 payload (what follows `base64,`), or an https URL");
        }
    }
}
