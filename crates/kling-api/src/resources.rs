//! The task resources, described as data: path, request fields and their domains,
//! mutually exclusive groups and the kind of result. The mock serves every resource
//! through one generic mechanism driven by these descriptions.

use serde_json::{Map, Value};

use crate::codes::ErrorCode;
use crate::models;
use crate::params::{self, kind_of};

/// Identifies a task resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceId {
    /// `videos/text2video`
    Text2Video,
    /// `videos/image2video`
    Image2Video,
    /// `videos/multi-image2video`
    MultiImage2Video,
    /// `videos/video-extend`
    VideoExtend,
    /// `videos/lip-sync`
    LipSync,
    /// `videos/effects`
    Effects,
    /// `images/generations`
    ImageGeneration,
}

/// What a finished task of a resource carries in `task_result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    /// `task_result.videos[]`
    Video,
    /// `task_result.images[]`
    Image,
}

/// The domain of one request field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldKind {
    /// `model_name`: a known model that serves the resource.
    Model,
    /// A prompt: a string of at most 2500 characters.
    Prompt,
    /// A free string of at most this many characters.
    Text(usize),
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// `duration`: a string the model allows.
    Duration,
    /// A number in an inclusive range.
    Number(f64, f64),
    /// An integer in an inclusive range.
    Integer(i64, i64),
    /// An image: URL or raw base64, never a data URI.
    Image,
    /// An http(s) URL.
    Url,
    /// `camera_control`.
    CameraControl,
    /// `dynamic_masks`: at most six `{mask, trajectories}` entries.
    DynamicMasks,
    /// `image_list`: one to four `{image}` entries.
    ImageList,
    /// Any JSON object (checked further by the resource, if at all).
    Object,
}

/// One request field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// The JSON key.
    pub name: &'static str,
    /// Its domain.
    pub kind: FieldKind,
    /// Whether a request must carry it.
    pub required: bool,
}

const fn opt(name: &'static str, kind: FieldKind) -> Field {
    Field { name, kind, required: false }
}

const fn req(name: &'static str, kind: FieldKind) -> Field {
    Field { name, kind, required: true }
}

/// A task resource.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resource {
    /// Which resource.
    pub id: ResourceId,
    /// The path under `/v1/`, e.g. `videos/text2video`.
    pub path: &'static str,
    /// What a finished task carries.
    pub result: ResultKind,
    /// The request fields.
    pub fields: &'static [Field],
    /// Groups of fields of which at most one group may appear in a request.
    pub exclusive_groups: &'static [&'static [&'static str]],
    /// Fields of which at least one must appear.
    pub one_of_required: &'static [&'static str],
}

const COMMON_TAIL: [Field; 2] = [opt("callback_url", FieldKind::Url), opt("external_task_id", FieldKind::Text(256))];

const T2V_FIELDS: &[Field] = &[
    opt("model_name", FieldKind::Model),
    req("prompt", FieldKind::Prompt),
    opt("negative_prompt", FieldKind::Prompt),
    opt("cfg_scale", FieldKind::Number(0.0, 1.0)),
    opt("mode", FieldKind::Enum(params::MODES)),
    opt("aspect_ratio", FieldKind::Enum(params::VIDEO_ASPECT_RATIOS)),
    opt("duration", FieldKind::Duration),
    opt("camera_control", FieldKind::CameraControl),
    opt("sound", FieldKind::Enum(params::SOUND_VALUES)),
    COMMON_TAIL[0],
    COMMON_TAIL[1],
];

const I2V_FIELDS: &[Field] = &[
    opt("model_name", FieldKind::Model),
    opt("image", FieldKind::Image),
    opt("image_tail", FieldKind::Image),
    opt("prompt", FieldKind::Prompt),
    opt("negative_prompt", FieldKind::Prompt),
    opt("cfg_scale", FieldKind::Number(0.0, 1.0)),
    opt("mode", FieldKind::Enum(params::MODES)),
    opt("duration", FieldKind::Duration),
    opt("static_mask", FieldKind::Image),
    opt("dynamic_masks", FieldKind::DynamicMasks),
    opt("camera_control", FieldKind::CameraControl),
    opt("sound", FieldKind::Enum(params::SOUND_VALUES)),
    COMMON_TAIL[0],
    COMMON_TAIL[1],
];

const MULTI_I2V_FIELDS: &[Field] = &[
    opt("model_name", FieldKind::Model),
    req("image_list", FieldKind::ImageList),
    req("prompt", FieldKind::Prompt),
    opt("negative_prompt", FieldKind::Prompt),
    opt("mode", FieldKind::Enum(params::MODES)),
    opt("duration", FieldKind::Duration),
    opt("aspect_ratio", FieldKind::Enum(params::VIDEO_ASPECT_RATIOS)),
    COMMON_TAIL[0],
    COMMON_TAIL[1],
];

const EXTEND_FIELDS: &[Field] = &[
    req("video_id", FieldKind::Text(128)),
    opt("prompt", FieldKind::Prompt),
    opt("negative_prompt", FieldKind::Prompt),
    opt("cfg_scale", FieldKind::Number(0.0, 1.0)),
    COMMON_TAIL[0],
    COMMON_TAIL[1],
];

const LIP_SYNC_FIELDS: &[Field] = &[req("input", FieldKind::Object), COMMON_TAIL[0], COMMON_TAIL[1]];

const EFFECTS_FIELDS: &[Field] =
    &[req("effect_scene", FieldKind::Text(64)), req("input", FieldKind::Object), COMMON_TAIL[0], COMMON_TAIL[1]];

const IMAGE_FIELDS: &[Field] = &[
    opt("model_name", FieldKind::Model),
    req("prompt", FieldKind::Prompt),
    opt("negative_prompt", FieldKind::Prompt),
    opt("image", FieldKind::Image),
    opt("image_reference", FieldKind::Enum(&["subject", "face"])),
    opt("image_fidelity", FieldKind::Number(0.0, 1.0)),
    opt("human_fidelity", FieldKind::Number(0.0, 1.0)),
    opt("resolution", FieldKind::Enum(&["1k", "2k"])),
    opt("n", FieldKind::Integer(1, 9)),
    opt("aspect_ratio", FieldKind::Enum(params::IMAGE_ASPECT_RATIOS)),
    COMMON_TAIL[0],
    COMMON_TAIL[1],
];

/// Every task resource, text2video and image2video first.
pub const RESOURCES: &[Resource] = &[
    Resource {
        id: ResourceId::Text2Video,
        path: "videos/text2video",
        result: ResultKind::Video,
        fields: T2V_FIELDS,
        exclusive_groups: &[],
        one_of_required: &[],
    },
    Resource {
        id: ResourceId::Image2Video,
        path: "videos/image2video",
        result: ResultKind::Video,
        fields: I2V_FIELDS,
        exclusive_groups: &[&["image_tail"], &["static_mask", "dynamic_masks"], &["camera_control"]],
        one_of_required: &["image", "image_tail"],
    },
    Resource {
        id: ResourceId::MultiImage2Video,
        path: "videos/multi-image2video",
        result: ResultKind::Video,
        fields: MULTI_I2V_FIELDS,
        exclusive_groups: &[],
        one_of_required: &[],
    },
    Resource {
        id: ResourceId::VideoExtend,
        path: "videos/video-extend",
        result: ResultKind::Video,
        fields: EXTEND_FIELDS,
        exclusive_groups: &[],
        one_of_required: &[],
    },
    Resource {
        id: ResourceId::LipSync,
        path: "videos/lip-sync",
        result: ResultKind::Video,
        fields: LIP_SYNC_FIELDS,
        exclusive_groups: &[],
        one_of_required: &[],
    },
    Resource {
        id: ResourceId::Effects,
        path: "videos/effects",
        result: ResultKind::Video,
        fields: EFFECTS_FIELDS,
        exclusive_groups: &[],
        one_of_required: &[],
    },
    Resource {
        id: ResourceId::ImageGeneration,
        path: "images/generations",
        result: ResultKind::Image,
        fields: IMAGE_FIELDS,
        exclusive_groups: &[],
        one_of_required: &[],
    },
];

/// Why a request body was refused: the code to answer with, the field, and a message
/// that names the field and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The error code (1200, 1201 or 1203).
    pub code: ErrorCode,
    /// The offending field, when there is one.
    pub field: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl Violation {
    fn value(field: &str, message: String) -> Self {
        Violation { code: ErrorCode::INVALID_VALUE, field: Some(field.to_owned()), message }
    }
}

/// The facts of an accepted request that pricing and the task lifecycle need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The model (the default when the request named none; `None` for resources
    /// without a model).
    pub model: Option<String>,
    /// `mode`, default `std`.
    pub mode: String,
    /// `duration` in seconds, default 5.
    pub duration_secs: u32,
    /// Whether native audio was requested.
    pub sound: bool,
    /// `callback_url`, if any.
    pub callback_url: Option<String>,
    /// `external_task_id`, if any.
    pub external_task_id: Option<String>,
    /// How many outputs (images) were requested.
    pub count: u32,
}

impl Resource {
    /// Look a resource up by its path under `/v1/` (e.g. `videos/text2video`).
    pub fn by_path(path: &str) -> Option<&'static Resource> {
        let path = path.trim_matches('/');
        RESOURCES.iter().find(|r| r.path == path)
    }

    /// The description of a resource.
    pub fn get(id: ResourceId) -> &'static Resource {
        RESOURCES.iter().find(|r| r.id == id).expect("every ResourceId is described")
    }

    /// Whether the resource has a `model_name` field.
    pub fn has_model(&self) -> bool {
        self.field("model_name").is_some()
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Validate a request body as Kling does, in Kling's order: body shape, model, then
    /// each field, then the cross-field rules.
    ///
    /// ```
    /// use serde_json::json;
    /// use kling_api::{codes::ErrorCode, resources::Resource};
    /// let t2v = Resource::by_path("videos/text2video").unwrap();
    /// let err = t2v.validate(&json!({"prompt": "a fox", "duration": 5})).unwrap_err();
    /// assert_eq!(err.code, ErrorCode::INVALID_VALUE);
    /// assert_eq!(err.field.as_deref(), Some("duration"));
    /// ```
    pub fn validate(&self, body: &Value) -> Result<Accepted, Violation> {
        let Value::Object(obj) = body else {
            return Err(Violation {
                code: ErrorCode::INVALID_PARAMS,
                field: None,
                message: format!("the request body must be a JSON object, not {}", kind_of(body)),
            });
        };
        let model = self.check_model(obj)?;
        for field in self.fields {
            match obj.get(field.name) {
                None | Some(Value::Null) if field.required => {
                    return Err(Violation {
                        code: ErrorCode::INVALID_PARAMS,
                        field: Some(field.name.to_owned()),
                        message: format!("{} is required", field.name),
                    });
                }
                None | Some(Value::Null) => {}
                Some(value) => self.check_field(field, value, model.as_deref())?,
            }
        }
        if !self.one_of_required.is_empty()
            && !self.one_of_required.iter().any(|k| obj.get(*k).is_some_and(|v| !v.is_null()))
        {
            return Err(Violation {
                code: ErrorCode::INVALID_PARAMS,
                field: Some(self.one_of_required[0].to_owned()),
                message: format!("at least one of {} is required", self.one_of_required.join(", ")),
            });
        }
        let used: Vec<&[&str]> = self
            .exclusive_groups
            .iter()
            .copied()
            .filter(|g| g.iter().any(|k| obj.get(*k).is_some_and(|v| !v.is_null())))
            .collect();
        if used.len() > 1 {
            let names: Vec<String> = used.iter().map(|g| g.join("/")).collect();
            return Err(Violation::value(
                used[1][0],
                format!("{} cannot be combined in one {} request; use one of them", names.join(" and "), self.path),
            ));
        }
        if let Some(Value::Object(input)) = obj.get("input")
            && self.id == ResourceId::LipSync
        {
            check_lip_sync_input(input)?;
        }
        let str_of = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(Accepted {
            model,
            mode: str_of("mode").unwrap_or_else(|| "std".into()),
            duration_secs: str_of("duration").and_then(|d| d.parse().ok()).unwrap_or(5),
            sound: str_of("sound").as_deref() == Some("on"),
            callback_url: str_of("callback_url"),
            external_task_id: str_of("external_task_id"),
            count: obj.get("n").and_then(Value::as_u64).map_or(1, |n| n as u32),
        })
    }

    fn check_model(&self, obj: &Map<String, Value>) -> Result<Option<String>, Violation> {
        if !self.has_model() {
            return Ok(None);
        }
        let name = match obj.get("model_name") {
            None | Some(Value::Null) => return Ok(Some(models::DEFAULT_MODEL.to_owned())),
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return Err(Violation::value(
                    "model_name",
                    format!("model_name must be a string, not {}", kind_of(other)),
                ));
            }
        };
        if models::find(name).is_none() {
            return Err(Violation {
                code: ErrorCode::NOT_FOUND,
                field: Some("model_name".into()),
                message: format!(
                    "model_name {name:?} does not exist; {} serves {}",
                    self.path,
                    params::quoted_list(&models::names_serving(self.id))
                ),
            });
        }
        if !models::serves(name, self.id) {
            return Err(Violation::value(
                "model_name",
                format!(
                    "model_name {name:?} does not serve {}; use one of {}",
                    self.path,
                    params::quoted_list(&models::names_serving(self.id))
                ),
            ));
        }
        Ok(Some(name.to_owned()))
    }

    fn check_field(&self, field: &Field, value: &Value, model: Option<&str>) -> Result<(), Violation> {
        let name = field.name;
        let result = match field.kind {
            FieldKind::Model => Ok(()),
            FieldKind::Prompt => params::check_prompt(name, value),
            FieldKind::Text(max) => match value {
                Value::String(s) if s.chars().count() <= max => Ok(()),
                Value::String(_) => Err(format!("{name} is longer than {max} characters")),
                other => Err(format!("{name} must be a string, not {}", kind_of(other))),
            },
            FieldKind::Enum(allowed) => params::check_enum(name, value, allowed),
            FieldKind::Duration => params::check_duration(model, value),
            FieldKind::Number(lo, hi) => params::check_range(name, value, (lo, hi)),
            FieldKind::Integer(lo, hi) => match value.as_i64() {
                Some(n) if (lo..=hi).contains(&n) => Ok(()),
                _ => Err(format!("{name} must be an integer in [{lo}, {hi}]")),
            },
            FieldKind::Image => params::check_image(name, value),
            FieldKind::Url => match value.as_str() {
                Some(s) if s.starts_with("http://") || s.starts_with("https://") => Ok(()),
                _ => Err(format!("{name} must be an http(s) URL")),
            },
            FieldKind::CameraControl => params::check_camera_control(value),
            FieldKind::DynamicMasks => check_dynamic_masks(value),
            FieldKind::ImageList => check_image_list(value),
            FieldKind::Object => match value {
                Value::Object(_) => Ok(()),
                other => Err(format!("{name} must be an object, not {}", kind_of(other))),
            },
        };
        if field.name == "sound"
            && value.as_str() == Some("on")
            && let Some(m) = model.and_then(models::find)
            && !m.sound
        {
            return Err(Violation::value(
                name,
                format!("sound \"on\" needs kling-v2-6 or later; {} has no native audio", m.name),
            ));
        }
        result.map_err(|m| Violation::value(name, m))
    }
}

fn check_dynamic_masks(value: &Value) -> Result<(), String> {
    let Value::Array(items) = value else {
        return Err(format!("dynamic_masks must be an array, not {}", kind_of(value)));
    };
    if items.len() > params::MAX_DYNAMIC_MASKS {
        return Err(format!(
            "dynamic_masks holds {} entries; at most {} are allowed",
            items.len(),
            params::MAX_DYNAMIC_MASKS
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let ok =
            item.get("mask").is_some_and(Value::is_string) && item.get("trajectories").is_some_and(Value::is_array);
        if !ok {
            return Err(format!("dynamic_masks[{i}] needs a mask and a trajectories array"));
        }
        params::check_image(&format!("dynamic_masks[{i}].mask"), &item["mask"])?;
    }
    Ok(())
}

fn check_image_list(value: &Value) -> Result<(), String> {
    let Value::Array(items) = value else {
        return Err(format!("image_list must be an array, not {}", kind_of(value)));
    };
    if items.is_empty() || items.len() > 4 {
        return Err(format!("image_list holds {} images; 1 to 4 are allowed", items.len()));
    }
    for (i, item) in items.iter().enumerate() {
        let image = item.get("image").ok_or_else(|| format!("image_list[{i}] needs an image"))?;
        params::check_image(&format!("image_list[{i}].image"), image)?;
    }
    Ok(())
}

fn check_lip_sync_input(input: &Map<String, Value>) -> Result<(), Violation> {
    let has = |k: &str| input.get(k).is_some_and(|v| !v.is_null());
    if !has("video_id") && !has("video_url") {
        return Err(Violation::value("input", "input needs a video_id or a video_url".into()));
    }
    match input.get("mode").and_then(Value::as_str) {
        Some("text2video") if !has("text") => {
            Err(Violation::value("input.text", "input.text is required in text2video mode".into()))
        }
        Some("audio2video") if !has("audio_file") && !has("audio_url") => {
            Err(Violation::value("input.audio_url", "input needs audio_file or audio_url in audio2video mode".into()))
        }
        Some("text2video" | "audio2video") => Ok(()),
        _ => Err(Violation::value("input.mode", "input.mode must be \"text2video\" or \"audio2video\"".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t2v() -> &'static Resource {
        Resource::get(ResourceId::Text2Video)
    }

    fn i2v() -> &'static Resource {
        Resource::get(ResourceId::Image2Video)
    }

    #[test]
    fn accepts_a_correct_request() {
        let ok = t2v()
            .validate(&json!({"model_name": "kling-v2-6", "prompt": "a fox", "duration": "10", "sound": "on"}))
            .unwrap();
        assert_eq!(ok.model.as_deref(), Some("kling-v2-6"));
        assert_eq!(ok.duration_secs, 10);
        assert!(ok.sound);
    }

    #[test]
    fn model_errors_use_the_documented_codes() {
        let e = t2v().validate(&json!({"model_name": "kling-v2-1", "prompt": "x"})).unwrap_err();
        assert_eq!(e.code.code(), 1201);
        let e = t2v().validate(&json!({"model_name": "kling-v9", "prompt": "x"})).unwrap_err();
        assert_eq!(e.code.code(), 1203);
    }

    #[test]
    fn missing_prompt_is_1200_and_names_it() {
        let e = t2v().validate(&json!({"duration": "5"})).unwrap_err();
        assert_eq!(e.code.code(), 1200);
        assert!(e.message.contains("prompt"));
    }

    #[test]
    fn exclusive_groups() {
        let e = i2v()
            .validate(&json!({"image": "https://x/a.png", "image_tail": "https://x/b.png",
                "camera_control": {"type": "down_back"}}))
            .unwrap_err();
        assert!(e.message.contains("image_tail and camera_control"), "{}", e.message);
        assert!(i2v().validate(&json!({"image": "https://x/a.png", "image_tail": "https://x/b.png"})).is_ok());
        assert!(i2v().validate(&json!({"prompt": "x"})).is_err());
    }

    #[test]
    fn sound_needs_a_recent_model() {
        let e = t2v().validate(&json!({"model_name": "kling-v1", "prompt": "x", "sound": "on"})).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("sound"));
    }

    #[test]
    fn body_must_be_an_object() {
        assert_eq!(t2v().validate(&json!([1])).unwrap_err().code.code(), 1200);
    }
}
