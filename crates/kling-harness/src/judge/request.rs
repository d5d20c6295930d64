//! Request shape: `request.duration-string` and `request.model-supports-endpoint`,
//! judged from the body summaries the mock journals for every create.

use kling_api::models;
use kling_api::resources::Resource;
use serde_json::Value;

use super::{Judgement, per_run};
use crate::evidence::{self, tagged};
use crate::observation::ScenarioRun;

const NO_CREATE: &str = "no create with a JSON body reached the mock in any scenario";

/// `duration` is a JSON string (or absent).
pub(crate) fn duration_string(runs: &[&ScenarioRun]) -> Judgement {
    let mut total = 0;
    let mut strings = Vec::new();
    let mut bad = Vec::new();
    let mut absent = 0;
    for run in runs {
        for (n, e) in run.creates() {
            let Some(body) = e.body.as_deref() else { continue };
            if body.json_error.is_some() {
                continue;
            }
            total += 1;
            match &body.duration {
                None => absent += 1,
                Some(Value::String(s)) => strings.push(s.clone()),
                Some(other) => bad.push(tagged(
                    run,
                    format!(
                        "{} sent duration {other} ({}), not the string \"{other}\"",
                        evidence::exchange(n, e),
                        kling_api::params::kind_of(other)
                    ),
                )),
            }
        }
    }
    if total == 0 {
        return Judgement::not_exercised(NO_CREATE);
    }
    if !bad.is_empty() {
        bad.truncate(5);
        return Judgement::fail(bad);
    }
    strings.sort();
    strings.dedup();
    let mut line =
        format!("{} across {}:", evidence::plural(total, "create"), evidence::plural(runs.len(), "scenario"));
    if !strings.is_empty() {
        let quoted: Vec<String> = strings.iter().map(|s| format!("\"{s}\"")).collect();
        line.push_str(&format!(" duration sent as a string ({})", quoted.join(", ")));
    }
    if absent > 0 {
        line.push_str(&format!(
            "{}{absent} without duration (the API's default \"5\" applies)",
            if strings.is_empty() { " " } else { "; " }
        ));
    }
    Judgement::pass(vec![line])
}

/// The model serves the endpoint it is sent to.
pub(crate) fn model_supports_endpoint(runs: &[&ScenarioRun]) -> Judgement {
    per_run(runs, NO_CREATE, |run| {
        let mut good = Vec::new();
        let mut bad = Vec::new();
        for (n, e) in run.creates() {
            let Some(body) = e.body.as_deref() else { continue };
            if body.json_error.is_some() {
                continue;
            }
            let Some(resource) = e.resource.as_deref().and_then(Resource::by_path) else { continue };
            let model = match &body.model_name {
                None => models::DEFAULT_MODEL.to_owned(),
                Some(Value::String(m)) => m.clone(),
                Some(other) => {
                    bad.push(tagged(
                        run,
                        format!("{} sent model_name {other}, not a string", evidence::exchange(n, e)),
                    ));
                    continue;
                }
            };
            if models::serves(&model, resource.id) {
                good.push(model);
            } else {
                let why = match models::find(&model) {
                    Some(m) if models::is_image_to_video_only(m.name) => "an image-to-video-only model",
                    Some(_) => "a model that does not serve this endpoint",
                    None => "not a Kling model",
                };
                bad.push(tagged(
                    run,
                    format!("{} sent model_name \"{model}\" to /v1/{}: {why}", evidence::exchange(n, e), resource.path),
                ));
            }
        }
        if !bad.is_empty() {
            return Some(Judgement::fail(bad));
        }
        if good.is_empty() {
            return None;
        }
        good.dedup();
        let note = if run.creates().any(|(_, e)| e.body.as_ref().is_some_and(|b| b.model_name.is_none())) {
            " (creates without model_name get the default kling-v1, which serves text-to-video)"
        } else {
            ""
        };
        Some(Judgement::pass(vec![tagged(
            run,
            format!("creates on /v1/videos/text2video used {}{note}", good.join(", ")),
        )]))
    })
    .compact_passes()
}

impl Judgement {
    /// Keep a passing judgement's evidence to a few lines (one per scenario is noise).
    pub(crate) fn compact_passes(mut self) -> Self {
        if self.verdict == crate::report::Verdict::Pass && self.evidence.len() > 3 {
            let more = self.evidence.len() - 2;
            self.evidence.truncate(2);
            self.evidence.push(format!("… and the same in {more} more scenario(s)"));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::fake;
    use crate::report::Verdict;
    use serde_json::json;

    #[test]
    fn a_numeric_duration_fails_with_the_request_named() {
        let mut e = fake::create(0.2, 400, 1201);
        e.body = Some(Box::new(fake::body(&json!({"prompt": "x", "duration": 5}))));
        let run = fake::run("happy", vec![e], 1, 0.5);
        let j = duration_string(&[&run]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.evidence[0],
            "[happy] POST /v1/videos/text2video #1 at 0.20 s → 400/1201 sent duration 5 (a number), not the \
             string \"5\""
        );
        let ok = fake::run("happy", vec![fake::create(0.2, 200, 0)], 0, 0.5);
        let j = duration_string(&[&ok]);
        assert_eq!(j.verdict, Verdict::Pass, "{j:?}");
        assert!(j.evidence[0].contains("(\"5\")"), "{j:?}");
        assert_eq!(duration_string(&[&fake::run("happy", vec![], 0, 0.5)]).verdict, Verdict::NotExercised);
    }

    #[test]
    fn image_to_video_models_on_text2video_fail() {
        let mut e = fake::create(0.2, 400, 1201);
        e.body = Some(Box::new(fake::body(&json!({"prompt": "x", "model_name": "kling-v2-1"}))));
        let j = model_supports_endpoint(&[&fake::run("happy", vec![e], 1, 0.5)]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.evidence[0].contains("an image-to-video-only model"), "{j:?}");
        let mut e = fake::create(0.2, 200, 0);
        e.body = Some(Box::new(fake::body(&json!({"prompt": "x"}))));
        let j = model_supports_endpoint(&[&fake::run("happy", vec![e], 0, 0.5)]);
        assert_eq!(j.verdict, Verdict::Pass);
        assert!(j.evidence[0].contains("default kling-v1"), "{j:?}");
    }
}
