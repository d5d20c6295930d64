//! Value domains of request parameters, and checks that say in words what is wrong.
//!
//! The checks take [`serde_json::Value`]s so that the mock can run them on request bodies
//! and the linter on literals it has lowered from source code.

use serde_json::Value;

use crate::models;

/// Every key a Kling video request may carry (the linter's "Kling request keys").
pub const REQUEST_KEYS: &[&str] = &[
    "model_name",
    "prompt",
    "negative_prompt",
    "cfg_scale",
    "mode",
    "aspect_ratio",
    "duration",
    "camera_control",
    "image",
    "image_tail",
    "callback_url",
    "external_task_id",
    "sound",
    "static_mask",
    "dynamic_masks",
];

/// Keys no other popular API uses: one of them (or a `kling-*` model) is what turns a
/// map with request keys into a Kling request body.
pub const SPECIFIC_KEYS: &[&str] = &[
    "model_name",
    "cfg_scale",
    "camera_control",
    "image_tail",
    "static_mask",
    "dynamic_masks",
    "external_task_id",
    "negative_prompt",
];

/// `mode` values: `std` is the cheaper standard mode.
pub const MODES: &[&str] = &["std", "pro"];
/// `aspect_ratio` values of the video endpoints.
pub const VIDEO_ASPECT_RATIOS: &[&str] = &["16:9", "9:16", "1:1"];
/// `aspect_ratio` values of the image endpoint.
pub const IMAGE_ASPECT_RATIOS: &[&str] = &["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9"];
/// `sound` values.
pub const SOUND_VALUES: &[&str] = &["on", "off"];
/// Inclusive range of `cfg_scale`.
pub const CFG_SCALE_RANGE: (f64, f64) = (0.0, 1.0);
/// Longest `prompt` / `negative_prompt`, in characters.
pub const PROMPT_MAX_CHARS: usize = 2500;
/// `camera_control.type` values.
pub const CAMERA_TYPES: &[&str] = &["simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"];
/// `camera_control.config` keys.
pub const CAMERA_AXES: &[&str] = &["horizontal", "vertical", "pan", "tilt", "roll", "zoom"];
/// Inclusive range of each `camera_control.config` value.
pub const CAMERA_RANGE: (f64, f64) = (-10.0, 10.0);
/// Most entries `dynamic_masks` may hold.
pub const MAX_DYNAMIC_MASKS: usize = 6;

/// Whether `key` is one of the Kling request keys.
pub fn is_request_key(key: &str) -> bool {
    REQUEST_KEYS.contains(&key)
}

/// Whether `key` is a Kling-specific request key.
pub fn is_specific_key(key: &str) -> bool {
    SPECIFIC_KEYS.contains(&key)
}

/// Check a `duration` value against the model (or the widest set for unknown models).
///
/// ```
/// use serde_json::json;
/// use kling_api::params::check_duration;
/// assert!(check_duration(Some("kling-v1"), &json!("5")).is_ok());
/// assert!(check_duration(Some("kling-v1"), &json!(5)).unwrap_err().contains("string"));
/// assert!(check_duration(Some("kling-v1"), &json!("7")).is_err());
/// assert!(check_duration(Some("kling-v3"), &json!("7")).is_ok());
/// ```
pub fn check_duration(model: Option<&str>, value: &Value) -> Result<(), String> {
    let allowed = models::durations_for(model);
    match value {
        Value::String(s) if allowed.contains(&s.as_str()) => Ok(()),
        Value::String(s) => Err(format!(
            "duration {s:?} is not allowed{}; use one of {}",
            model.map(|m| format!(" for {m}")).unwrap_or_default(),
            quoted_list(allowed)
        )),
        Value::Number(n) => Err(format!("duration must be a string such as \"{n}\", not the number {n}")),
        other => Err(format!("duration must be a string such as \"5\", not {}", kind_of(other))),
    }
}

/// Check a value against a list of allowed strings.
pub fn check_enum(field: &str, value: &Value, allowed: &[&str]) -> Result<(), String> {
    match value {
        Value::String(s) if allowed.contains(&s.as_str()) => Ok(()),
        Value::String(s) => Err(format!("{field} {s:?} is not one of {}", quoted_list(allowed))),
        other => Err(format!("{field} must be one of {}, not {}", quoted_list(allowed), kind_of(other))),
    }
}

/// Check a number against an inclusive range.
pub fn check_range(field: &str, value: &Value, (lo, hi): (f64, f64)) -> Result<(), String> {
    match value.as_f64() {
        Some(v) if (lo..=hi).contains(&v) => Ok(()),
        Some(v) => Err(format!("{field} {v} is outside [{lo}, {hi}]")),
        None => Err(format!("{field} must be a number in [{lo}, {hi}], not {}", kind_of(value))),
    }
}

/// Check a prompt's length (in characters, as Kling counts).
pub fn check_prompt(field: &str, value: &Value) -> Result<(), String> {
    match value {
        Value::String(s) => {
            let n = s.chars().count();
            if n > PROMPT_MAX_CHARS {
                Err(format!("{field} is {n} characters; the limit is {PROMPT_MAX_CHARS}"))
            } else {
                Ok(())
            }
        }
        other => Err(format!("{field} must be a string, not {}", kind_of(other))),
    }
}

/// Check a `camera_control` object: a known type, and a config (only with `simple`)
/// whose values lie in [-10, 10] with exactly one of them non-zero.
pub fn check_camera_control(value: &Value) -> Result<(), String> {
    let Value::Object(obj) = value else {
        return Err(format!("camera_control must be an object, not {}", kind_of(value)));
    };
    let kind = obj.get("type").and_then(Value::as_str).unwrap_or("simple");
    if !CAMERA_TYPES.contains(&kind) {
        return Err(format!("camera_control.type {kind:?} is not one of {}", quoted_list(CAMERA_TYPES)));
    }
    match obj.get("config") {
        None | Some(Value::Null) if kind == "simple" => {
            Err("camera_control of type \"simple\" needs a config with one non-zero axis".into())
        }
        None | Some(Value::Null) => Ok(()),
        Some(_) if kind != "simple" => {
            Err(format!("camera_control.config is only allowed with type \"simple\", not {kind:?}"))
        }
        Some(Value::Object(config)) => {
            let mut non_zero = Vec::new();
            for (axis, v) in config {
                if !CAMERA_AXES.contains(&axis.as_str()) {
                    return Err(format!("camera_control.config.{axis} is not one of {}", quoted_list(CAMERA_AXES)));
                }
                check_range(&format!("camera_control.config.{axis}"), v, CAMERA_RANGE)?;
                if v.as_f64().is_some_and(|x| x != 0.0) {
                    non_zero.push(axis.as_str());
                }
            }
            match non_zero.len() {
                1 => Ok(()),
                0 => Err("camera_control.config needs exactly one non-zero axis, got none".into()),
                _ => Err(format!("camera_control.config needs exactly one non-zero axis, got {}", non_zero.join(", "))),
            }
        }
        Some(other) => Err(format!("camera_control.config must be an object, not {}", kind_of(other))),
    }
}

/// Check an `image`/`image_tail` value: a URL or raw base64, never a `data:` URI.
pub fn check_image(field: &str, value: &Value) -> Result<(), String> {
    let Value::String(s) = value else {
        return Err(format!("{field} must be a URL or base64 string, not {}", kind_of(value)));
    };
    if is_data_uri(s) {
        return Err(format!(
            "{field} is a data: URI; send the raw base64 without the \"data:...;base64,\" prefix, or a URL"
        ));
    }
    if s.is_empty() {
        return Err(format!("{field} is empty"));
    }
    let is_url = s.starts_with("http://") || s.starts_with("https://");
    let is_base64 = s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n' | b'\r'));
    if is_url || is_base64 { Ok(()) } else { Err(format!("{field} is neither an http(s) URL nor base64")) }
}

/// Whether a string is a `data:` URI (what KL105 and the mock reject for images).
pub fn is_data_uri(s: &str) -> bool {
    s.trim_start().get(..5).is_some_and(|p| p.eq_ignore_ascii_case("data:"))
}

/// Whether a status literal is one the API never sends although clients compare against
/// it (`"success"`, `"completed"`...).
pub fn is_wrong_status_literal(s: &str) -> bool {
    crate::types::WRONG_STATUS_LITERALS.contains(&s)
}

/// A JSON kind in words, for messages.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `"a", "b", "c"` for messages.
pub fn quoted_list(items: &[&str]) -> String {
    items.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn camera_control() {
        assert!(check_camera_control(&json!({"type": "simple", "config": {"zoom": 5}})).is_ok());
        assert!(check_camera_control(&json!({"type": "simple", "config": {"zoom": 5, "pan": 1}})).is_err());
        assert!(check_camera_control(&json!({"type": "simple", "config": {"zoom": 0}})).is_err());
        assert!(check_camera_control(&json!({"type": "simple", "config": {"zoom": 11}})).is_err());
        assert!(check_camera_control(&json!({"type": "down_back"})).is_ok());
        assert!(check_camera_control(&json!({"type": "down_back", "config": {"zoom": 1}})).is_err());
        assert!(check_camera_control(&json!({"type": "spin"})).is_err());
    }

    #[test]
    fn images() {
        assert!(check_image("image", &json!("https://x/y.png")).is_ok());
        assert!(check_image("image", &json!("iVBORw0KGgo=")).is_ok());
        assert!(check_image("image", &json!("data:image/png;base64,iVBOR")).is_err());
        assert!(check_image("image", &json!(3)).is_err());
    }

    #[test]
    fn prompt_length_counts_characters() {
        assert!(check_prompt("prompt", &json!("é".repeat(2500))).is_ok());
        assert!(check_prompt("prompt", &json!("a".repeat(2501))).is_err());
    }
}
