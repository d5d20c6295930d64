//! KL701 vague-prompt: a literal prompt too short or generic to render well.

use super::Checker;
use crate::facts::ExprKind;

const STOCK: &[&str] = &[
    "a nice video",
    "a beautiful video",
    "a cool video",
    "a video",
    "nice video",
    "beautiful scenery",
    "a nice video of nature",
    "video of nature",
    "something cool",
    "make a video",
    "test",
    "hello world",
];

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for (_, body) in unit.bodies() {
        let Some(key) = body.get("prompt") else { continue };
        // Only literals written in place (or constants); prompts from users are theirs.
        let expr = unit.facts.expr(key.value);
        if !matches!(expr.kind, ExprKind::Str(_) | ExprKind::Name(_)) {
            continue;
        }
        let Some(prompt) = unit.eval_str(key.value) else { continue };
        let normalized = prompt.trim().trim_end_matches('.').to_ascii_lowercase();
        let words = normalized.split_whitespace().count();
        let stock = STOCK.contains(&normalized.as_str());
        if words == 0 || (words >= 4 && !stock) {
            continue;
        }
        let why = if stock { "a stock phrase" } else { "under four words" };
        cx.report(
            expr.span,
            format!("the prompt {prompt:?} is {why}; vague prompts render incoherent, low-quality video"),
        )
        .label("vague prompt")
        .help("name the subject, the action, the lighting, the camera angle and the style");
    }
}
