//! The model catalog: which model serves which endpoint, with which durations, and
//! whether it can render native audio.

use crate::resources::ResourceId;

/// One Kling model and what it can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    /// The `model_name` value.
    pub name: &'static str,
    /// The resources (endpoints) the model serves.
    pub serves: &'static [ResourceId],
    /// The `duration` strings the model accepts on video endpoints.
    pub durations: &'static [&'static str],
    /// Whether `sound: "on"` is accepted (v2.6 and later).
    pub sound: bool,
    /// Whether `cfg_scale` has an effect (the v2.x models ignore it).
    pub honours_cfg_scale: bool,
}

use ResourceId::{Image2Video as I2V, ImageGeneration as IMG, MultiImage2Video as MI2V, Text2Video as T2V};

/// The durations of every model up to v2.6.
pub const CLASSIC_DURATIONS: &[&str] = &["5", "10"];
/// The durations kling-v3 accepts, and the widest set any model accepts.
pub const V3_DURATIONS: &[&str] = &["3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"];

const fn video(
    name: &'static str,
    serves: &'static [ResourceId],
    durations: &'static [&'static str],
    sound: bool,
    honours_cfg_scale: bool,
) -> Model {
    Model { name, serves, durations, sound, honours_cfg_scale }
}

/// Every model the API reference lists. Image-generation models (`kling-v2`,
/// `kling-v2-new`) come from the image API pages, which are less settled than the
/// video ones.
pub const MODELS: &[Model] = &[
    video("kling-v1", &[T2V, I2V, IMG], CLASSIC_DURATIONS, false, true),
    video("kling-v1-5", &[I2V, IMG], CLASSIC_DURATIONS, false, true),
    video("kling-v1-6", &[T2V, I2V, MI2V], CLASSIC_DURATIONS, false, true),
    video("kling-v2", &[IMG], CLASSIC_DURATIONS, false, false),
    video("kling-v2-new", &[IMG], CLASSIC_DURATIONS, false, false),
    video("kling-v2-master", &[T2V, I2V], CLASSIC_DURATIONS, false, false),
    video("kling-v2-1", &[I2V, IMG], CLASSIC_DURATIONS, false, false),
    video("kling-v2-1-master", &[T2V, I2V], CLASSIC_DURATIONS, false, false),
    video("kling-v2-5-turbo", &[T2V, I2V], CLASSIC_DURATIONS, false, false),
    video("kling-v2-6", &[T2V, I2V], CLASSIC_DURATIONS, true, false),
    video("kling-v3", &[T2V, I2V], V3_DURATIONS, true, false),
];

/// The model used when a request names none.
pub const DEFAULT_MODEL: &str = "kling-v1";

/// Look a model up by its `model_name`.
pub fn find(name: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.name == name)
}

/// Whether `name` is a known model that serves `resource`.
pub fn serves(name: &str, resource: ResourceId) -> bool {
    find(name).is_some_and(|m| m.serves.contains(&resource))
}

/// Whether the model serves image-to-video but not text-to-video (the pitfall-7 models).
pub fn is_image_to_video_only(name: &str) -> bool {
    find(name).is_some_and(|m| m.serves.contains(&I2V) && !m.serves.contains(&T2V))
}

/// The names of the models that serve `resource`, for error messages.
pub fn names_serving(resource: ResourceId) -> Vec<&'static str> {
    MODELS.iter().filter(|m| m.serves.contains(&resource)).map(|m| m.name).collect()
}

/// Whether a `model_name` value looks like a Kling model (`kling-...`).
pub fn looks_like_kling_model(name: &str) -> bool {
    name.starts_with("kling-")
}

/// The durations allowed for `model`, or the widest set when the model is unknown.
pub fn durations_for(model: Option<&str>) -> &'static [&'static str] {
    model.and_then(find).map_or(V3_DURATIONS, |m| m.durations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pitfall_seven_models_are_image_to_video_only() {
        assert!(is_image_to_video_only("kling-v1-5"));
        assert!(is_image_to_video_only("kling-v2-1"));
        assert!(!is_image_to_video_only("kling-v2-1-master"));
        assert!(!is_image_to_video_only("kling-v9"));
    }

    #[test]
    fn durations() {
        assert_eq!(durations_for(Some("kling-v2-6")), &["5", "10"]);
        assert!(durations_for(Some("kling-v3")).contains(&"15"));
        assert!(durations_for(None).contains(&"3"));
        assert!(durations_for(Some("kling-v7")).contains(&"3"));
    }
}
