//! KL103 model-endpoint-mismatch: an image-to-video-only model on text2video, or a
//! `kling-*` model that does not exist.

use kling_api::models;
use kling_api::params::quoted_list;
use kling_api::resources::Resource;

use super::Checker;

/// Models of endpoints the catalog in kling-api does not describe: the omni-video
/// models (`POST /v1/videos/omni-video`). They exist, so they are not "unknown";
/// which endpoint they serve is not judged here.
const OTHER_ENDPOINT_MODELS: &[&str] = &["kling-video-o1", "kling-v3-omni"];

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for (_, body) in unit.bodies() {
        let Some(key) = body.get("model_name") else { continue };
        let Some(model) = unit.eval_str(key.value) else { continue };
        let span = unit.facts.expr(key.value).span;
        if OTHER_ENDPOINT_MODELS.contains(&model.as_str()) {
            continue;
        }
        if models::looks_like_kling_model(&model) && models::find(&model).is_none() {
            let known: Vec<&str> = models::MODELS.iter().map(|m| m.name).collect();
            let d = cx.report(span, format!("`{model}` is not a Kling model; the API answers HTTP 404 (code 1203)"));
            d.label("unknown model");
            match closest(&model, &known) {
                Some(near) => d.help(format!("did you mean \"{near}\"?")),
                None => d.help(format!("use one of {}", quoted_list(&known))),
            };
            continue;
        }
        let Some(resource) = body.resource.map(Resource::get) else { continue };
        if models::find(&model).is_some() && !models::serves(&model, resource.id) {
            let serving = models::names_serving(resource.id);
            let what = if models::is_image_to_video_only(&model) { " (it is image-to-video only)" } else { "" };
            cx.report(
                span,
                format!("`{model}` does not serve {}{what}; Kling answers HTTP 400 (code 1201)", resource.path),
            )
            .label(format!("sent to /v1/{}", resource.path))
            .help(format!("use one of {}", quoted_list(&serving)));
        }
    }
}

/// The known name within edit distance 2, if exactly one is that close.
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let normalized = name.replace(['.', '_'], "-");
    if let Some(k) = known.iter().find(|k| **k == normalized) {
        return Some(k);
    }
    let mut best: Vec<(&str, usize)> =
        known.iter().map(|k| (*k, distance(&normalized, k))).filter(|(_, d)| *d <= 2).collect();
    best.sort_by_key(|(_, d)| *d);
    match best.as_slice() {
        [(k, d), rest @ ..] if rest.first().is_none_or(|(_, d2)| d2 > d) => Some(k),
        _ => None,
    }
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_near_model() {
        let known: Vec<&str> = models::MODELS.iter().map(|m| m.name).collect();
        assert_eq!(closest("kling-v2.1-master", &known), Some("kling-v2-1-master"));
        assert_eq!(closest("kling-v1-7", &known), None, "two models are one edit away");
    }
}
