//! KL303 temporary-url-persisted: a Kling result URL stored without the video being
//! downloaded.

use super::Checker;
use crate::analysis::Unit;
use crate::facts::{Call, ExprId, ExprKind, FuncId, Span};

pub(crate) fn check(cx: &mut Checker<'_, '_>) {
    let unit = cx.unit;
    for call in &unit.facts.calls {
        let Some(sink) = persistence_sink(unit, call) else { continue };
        let Some(url_arg) = call.args.iter().map(|a| a.value).find(|a| carries_result_url(unit, *a)) else { continue };
        if downloads_in(unit, call.func) {
            continue;
        }
        cx.report(call.span, format!("a Kling result URL is stored by `{sink}` without the video being downloaded; the link expires within hours to days"))
            .label("temporary URL persisted")
            .help("download the video now and store your own copy's URL");
        let _ = url_arg;
    }
    // `record.video_url = url` followed by a save.
    for a in &unit.facts.assigns {
        let ExprKind::Member(_, field) = &unit.facts.expr(a.target).kind else { continue };
        let Some(v) = a.value else { continue };
        if !field.to_ascii_lowercase().contains("url") || !carries_result_url(unit, v) || downloads_in(unit, a.func) {
            continue;
        }
        let saved = unit.facts.calls.iter().any(|c| {
            c.func == a.func
                && c.span.start > a.span.start
                && matches!(unit.facts.callee_name(c), Some("save" | "commit" | "Save" | "flush"))
        });
        if saved {
            cx.report(a.span, "a Kling result URL is stored in a model field without the video being downloaded; the link expires within hours to days")
                .label("temporary URL persisted")
                .help("download the video now and store your own copy's URL");
        }
    }
}

/// The name of a persistence call, if `call` is one.
fn persistence_sink(unit: &Unit<'_>, call: &Call) -> Option<String> {
    let name = unit.facts.callee_name(call)?;
    let path = unit.facts.path_of(call.callee).unwrap_or_default().to_ascii_lowercase();
    let store_receiver = [
        "db",
        "session",
        "repo",
        "store",
        "redis",
        "cache",
        "collection",
        "table",
        "cursor",
        "conn",
        "objects",
        "model",
        "prisma",
        "orm",
        "dynamo",
        "firestore",
        "supabase",
    ]
    .iter()
    .any(|w| path.contains(w));
    let always = matches!(
        name,
        "save"
            | "insert"
            | "insert_one"
            | "insert_many"
            | "insertOne"
            | "insertMany"
            | "upsert"
            | "bulk_create"
            | "put_item"
            | "Save"
            | "Create"
            | "Exec"
            | "ExecContext"
            | "writeFile"
            | "writeFileSync"
            | "write_text"
            | "dump"
            | "hset"
            | "persist"
            | "WriteFile"
    ) || (name == "write" && (path == "fs.write" || path.ends_with(".fs.write")));
    let with_store = matches!(
        name,
        "create"
            | "update"
            | "update_one"
            | "updateOne"
            | "add"
            | "set"
            | "execute"
            | "put"
            | "write"
            | "push"
            | "Insert"
            | "Update"
    );
    (always || (with_store && store_receiver)).then(|| {
        // The callee as written when it is a plain path (Rust's `tokio::fs::write`),
        // else the path the facts spell (`db.collection().insertOne`).
        let written = unit.text(unit.facts.expr(call.callee).span);
        let plain =
            !written.is_empty() && written.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '$'));
        if plain { written.to_owned() } else { unit.facts.path_of(call.callee).unwrap_or_else(|| name.to_owned()) }
    })
}

/// Whether an expression carries a Kling result URL: `...videos[0].url`,
/// `task_result`, or a variable bound to one.
fn carries_result_url(unit: &Unit<'_>, e: ExprId) -> bool {
    let check = |x: ExprId| {
        let mut found = false;
        unit.walk_any(x, 0, &mut |n| {
            found |= is_result_url(unit, n);
            found
        });
        found
    };
    // One hop through the names used inside (a dict built from `url`).
    check(e) || {
        let mut names = Vec::new();
        unit.walk_any(e, 0, &mut |n| {
            if let ExprKind::Name(name) = &n.kind {
                names.push((name.to_string(), n.func, n.span.start));
            }
            false
        });
        names.into_iter().any(|(name, func, at)| match unit.resolve_name(&name, func, at) {
            crate::analysis::Resolved::Value(v) => check(v),
            _ => false,
        })
    }
}

fn is_result_url(unit: &Unit<'_>, n: &crate::facts::Expr) -> bool {
    // `...["url"]` / `.url` / `.URL` on something that came from `videos[...]`.
    let (obj, key) = match &n.kind {
        ExprKind::Index(o, k) => (*o, unit.facts.str_of(*k).map(str::to_owned)),
        ExprKind::Member(o, f) => (*o, Some(f.to_string())),
        _ => return false,
    };
    if !key.is_some_and(|k| k.eq_ignore_ascii_case("url")) {
        return false;
    }
    let mut text = unit.text(unit.facts.expr(obj).span).to_ascii_lowercase();
    // `video.url` after `const [video] = task.task_result.videos`: what the name holds.
    let held = unit.deref(obj);
    if held != obj {
        text.push(' ');
        text.push_str(&unit.text(unit.facts.expr(held).span).to_ascii_lowercase());
        if let ExprKind::Index(o, _) | ExprKind::Member(o, _) = unit.facts.expr(held).kind {
            text.push(' ');
            text.push_str(&unit.text(unit.facts.expr(o).span).to_ascii_lowercase());
        }
    }
    // `videos`/`images` alone are common words (a GIF search's `gif.images.original.url`);
    // they point at a Kling result only in a file about Kling.
    text.contains("task_result")
        || text.contains("taskresult")
        || ((text.contains("videos") || text.contains("images")) && unit.is_kling_file())
}

/// Whether the function downloads something (a GET of a URL, a download helper).
fn downloads_in(unit: &Unit<'_>, func: Option<FuncId>) -> bool {
    let scope = func.map_or(Span { start: 0, end: u32::MAX }, |f| unit.facts.function(f).span);
    unit.calls_in(scope).any(|c| {
        let name = unit.facts.callee_name(c).unwrap_or("").to_ascii_lowercase();
        name.contains("download")
            || name.contains("urlretrieve")
            || name.contains("rehost")
            || name.contains("upload")
            || name.contains("mirror")
            || name.contains("copy_to")
            || unit
                .http_call(c)
                .is_some_and(|h| h.method.as_deref().is_none_or(|m| m == "GET") && !queries_kling_api(unit, h.url))
    })
}

/// Whether a GET goes to a Kling API endpoint (`/v1/videos/text2video/{id}`): that
/// reads the task, it does not download the video.
fn queries_kling_api(unit: &Unit<'_>, url: Option<ExprId>) -> bool {
    url.and_then(|u| unit.url_info(u)).is_some_and(|info| info.kling && (info.resource.is_some() || info.costs))
}
