//! KL104 invalid-parameter-value: literal request values outside the API's domain,
//! judged by the same validators the mock server uses.

use kling_api::resources::{Resource, ResourceId};
use kling_api::{models, params};
use serde_json::Value;

use super::Checker;
use super::helpers::literal_json;

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for (_, body) in unit.bodies() {
        let model = body.model(unit).filter(|m| models::find(m).is_some());
        for key in &body.keys {
            // `null` is how a request leaves a field out, written or as the default of
            // an optional parameter (`camera_control=None`).
            if matches!(unit.facts.expr(unit.deref(key.value)).kind, crate::facts::ExprKind::Null) {
                continue;
            }
            if !declared(body.resource, &key.key) {
                continue;
            }
            let span = unit.facts.expr(key.value).span;
            let string = || unit.eval_str(key.value).map(Value::String);
            let problem = match &*key.key {
                "mode" => string().and_then(|v| params::check_enum("mode", &v, params::MODES).err()),
                "aspect_ratio" => {
                    let allowed = if body.resource == Some(ResourceId::ImageGeneration) {
                        params::IMAGE_ASPECT_RATIOS
                    } else {
                        params::VIDEO_ASPECT_RATIOS
                    };
                    string().and_then(|v| params::check_enum("aspect_ratio", &v, allowed).err())
                }
                // Numbers are KL101's; here only string values outside the model's set.
                "duration" => string().and_then(|v| params::check_duration(model.as_deref(), &v).err()),
                "cfg_scale" => unit.eval_num(key.value).and_then(|n| {
                    params::check_range("cfg_scale", &serde_json::json!(n), params::CFG_SCALE_RANGE).err()
                }),
                "sound" => string().and_then(|v| {
                    params::check_enum("sound", &v, params::SOUND_VALUES).err().or_else(|| {
                        let m = model.as_deref().and_then(models::find)?;
                        (v == "on" && !m.sound)
                            .then(|| format!("sound \"on\" needs kling-v2-6 or later; {} has no native audio", m.name))
                    })
                }),
                "prompt" | "negative_prompt" => string().and_then(|v| params::check_prompt(&key.key, &v).err()),
                "camera_control" => {
                    literal_json(unit, key.value, 0).and_then(|v| params::check_camera_control(&v).err())
                }
                _ => None,
            };
            if let Some(message) = problem {
                cx.report(span, format!("{message} (HTTP 400, code 1201)")).label("outside the API's domain");
            }
        }
    }
}

/// Whether the endpoint a body goes to has the field, so that its domain applies: a
/// lip-sync request's `input.mode` is `"audio2video"` or `"text2video"`, not a render
/// mode. An unknown endpoint is judged as a video request; the effects endpoint's
/// `input` object repeats the video fields (`model_name`, `mode`, `duration`).
fn declared(resource: Option<ResourceId>, key: &str) -> bool {
    resource.is_none_or(|r| r == ResourceId::Effects || Resource::get(r).field(key).is_some())
}
