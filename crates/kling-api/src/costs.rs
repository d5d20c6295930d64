//! Credit costs per clip, from the older published table, plus the audio multiplier.
//!
//! Kling's table gives units per 5-second clip: v1 std 1, pro 3.5; v1.5/v1.6 std 2,
//! pro 3.5; v2-master and v2.1-master 10 in either mode. Newer models are not in
//! that table: they are priced here at the checklist's example (10 for a 5-second
//! standard clip, 20 in pro), and native audio multiplies by 5, as the pitfalls guide
//! measured. Longer clips cost proportionally more.

use crate::resources::{Accepted, ResourceId};

/// How much native audio (`sound: "on"`) multiplies a clip's cost.
pub const AUDIO_MULTIPLIER: f64 = 5.0;

/// Units for one task of `model` in `mode` (`std`/`pro`) lasting `duration_secs`.
///
/// ```
/// use kling_api::costs::units;
/// assert_eq!(units(Some("kling-v1"), "std", 5, false), 1.0);
/// assert_eq!(units(Some("kling-v2-master"), "std", 10, false), 20.0);
/// assert_eq!(units(Some("kling-v2-6"), "std", 5, true), 50.0);
/// ```
pub fn units(model: Option<&str>, mode: &str, duration_secs: u32, sound: bool) -> f64 {
    let pro = mode == "pro";
    let per_five = match model.unwrap_or(crate::models::DEFAULT_MODEL) {
        "kling-v1" => {
            if pro {
                3.5
            } else {
                1.0
            }
        }
        "kling-v1-5" | "kling-v1-6" | "kling-v2-1" => {
            if pro {
                3.5
            } else {
                2.0
            }
        }
        "kling-v2-master" | "kling-v2-1-master" => 10.0,
        _ => {
            if pro {
                20.0
            } else {
                10.0
            }
        }
    };
    let clip = per_five * f64::from(duration_secs.max(1)) / 5.0;
    if sound { clip * AUDIO_MULTIPLIER } else { clip }
}

/// Units charged for one accepted task of `resource`. Images cost one unit each and the
/// model-less video resources (extend, lip-sync, effects) two units per 5 seconds: both
/// are assumptions, as Kling publishes no table for them.
pub fn task_units(resource: ResourceId, accepted: &Accepted) -> f64 {
    match resource {
        ResourceId::ImageGeneration => f64::from(accepted.count.max(1)),
        ResourceId::VideoExtend | ResourceId::LipSync | ResourceId::Effects => {
            2.0 * f64::from(accepted.duration_secs.max(1)) / 5.0
        }
        ResourceId::Text2Video | ResourceId::Image2Video | ResourceId::MultiImage2Video => {
            units(accepted.model.as_deref(), &accepted.mode, accepted.duration_secs, accepted.sound)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checklist_example_holds() {
        // "5s standard without audio: 10 credits; with audio: 50".
        assert_eq!(units(Some("kling-v2-6"), "std", 5, false), 10.0);
        assert_eq!(units(Some("kling-v2-6"), "std", 5, true), 50.0);
        assert_eq!(units(Some("kling-v1-6"), "pro", 10, false), 7.0);
    }
}
