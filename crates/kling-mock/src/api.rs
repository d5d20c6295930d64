//! The Kling API routes: create, query and list on every task resource (one generic
//! set of handlers, parameterised by `kling_api::resources::Resource`), `account/costs`,
//! and the answers for unknown routes and methods.
//!
//! Each handler runs the same steps in Kling's order: authenticate, count against the
//! rate limit, run the fault plan, read and validate the body, then do the work.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use kling_api::codes::ErrorCode;
use kling_api::costs;
use kling_api::resources::{Resource, ResourceId, Violation};
use kling_api::types::{Task, TaskStatus};
use serde_json::Value;

use crate::auth;
use crate::envelope::{ApiError, success};
use crate::faults::{RouteInfo, RouteKind};
use crate::journal::BodySummary;
use crate::observe::{self, Plan, RequestCtx};
use crate::state::{MockState, Shared};
use crate::tasks::{Asset, Outcome, TaskRecord, TaskView, new_asset_id};

/// Most pages a list may ask for (Kling: `pageNum` 1..1000).
const MAX_PAGE_NUM: u64 = 1000;
/// Largest page (Kling: `pageSize` 1..500).
const MAX_PAGE_SIZE: u64 = 500;
const DEFAULT_PAGE_SIZE: u64 = 30;

/// `POST /v1/{resource}`
pub(crate) async fn create(
    state: MockState,
    ctx: RequestCtx,
    request: Request,
    resource: &'static Resource,
) -> Response {
    ctx.update(|d| {
        d.route = "create";
        d.resource = Some(resource.path);
    });
    let (parts, body) = request.into_parts();
    match create_task(&state.shared, &ctx, &parts.headers, parts.uri.path(), body, resource).await {
        Ok((task, plan)) => {
            ctx.update(|d| {
                d.task_id = Some(task.task_id.clone());
                d.task_status = Some(task.task_status.as_str());
            });
            observe::after(success(task), plan.sabotage)
        }
        Err(e) => e.into_response(),
    }
}

async fn create_task(
    shared: &Arc<Shared>,
    ctx: &RequestCtx,
    headers: &HeaderMap,
    path: &str,
    body: Body,
    resource: &'static Resource,
) -> Result<(Task, Plan), ApiError> {
    let limit = shared.config.max_body_bytes;
    let account = match auth::authenticate(shared, headers, ctx).and_then(|a| admit(shared, &a).map(|()| a)) {
        Ok(account) => account,
        Err(e) => return Err(refuse_unread(body, e, limit).await),
    };
    let template = format!("/v1/{}", resource.path);
    let info = RouteInfo { kind: RouteKind::Create, method: "POST", path, template: &template };
    let plan = match observe::before(shared, ctx, &info).await {
        Ok(plan) => plan,
        Err(e) => return Err(refuse_unread(body, e, limit).await),
    };
    let value = read_json(shared, ctx, headers, body).await?;
    let accepted = resource.validate(&value).map_err(refusal)?;
    let units = costs::task_units(resource.id, &accepted);
    let base = request_base(headers, shared);
    let task = {
        let now = shared.clock.now_ms();
        let mut core = shared.core();
        check_references(&core.tasks, &account, resource, &value)?;
        if let Some(ext) = &accepted.external_task_id
            && let Some(existing) = core.tasks.find_external(&account, ext)
        {
            return Err(ApiError::new(
                ErrorCode::INVALID_VALUE,
                format!(
                    "external_task_id {ext:?} is already used by task {}; read it with GET /v1/{}/{ext} \
                     instead of creating it again",
                    existing.id, existing.resource.path
                ),
            ));
        }
        core.materialize_all(now, &shared.timing);
        let running = core.running(&account);
        let Some(acct) = core.accounts.get_mut(&account) else {
            return Err(ApiError::new(ErrorCode::AUTH_FAILED, format!("access key {account:?} has no account")));
        };
        // Credits first: a final refusal (1102) says more than a passing one (1303).
        acct.check_credits(units)?;
        let limit = acct.config.concurrency_limit;
        if running >= limit as usize {
            return Err(ApiError::new(
                ErrorCode::CONCURRENCY_LIMIT,
                format!(
                    "access key {account} already runs {running} tasks and the resource pack allows {limit} \
                     at once; wait for a task to finish, or retry with backoff"
                ),
            ));
        }
        acct.charge(units)?;
        let outputs =
            if resource.result == kling_api::resources::ResultKind::Image { accepted.count.max(1) } else { 1 };
        let record = TaskRecord {
            id: core.tasks.new_task_id(),
            resource,
            account: account.clone(),
            external_task_id: accepted.external_task_id.clone(),
            created_ms: now,
            status: TaskStatus::Submitted,
            updated_ms: now,
            outcome: plan.outcome.clone().unwrap_or(Outcome::Succeed),
            callback_url: accepted.callback_url.clone(),
            units,
            model: accepted.model.clone(),
            mode: accepted.mode.clone(),
            duration_secs: accepted.duration_secs,
            assets: (0..outputs).map(|index| Asset { id: new_asset_id(), index }).collect(),
            history: Vec::new(),
            notified: 0,
            callback_chain: None,
        };
        let index = core.tasks.insert(record);
        core.tasks.get(index).view_now()
    };
    // Rendered after the lock is released, as everywhere: signing and formatting need
    // no shared state.
    let task = task.render(&shared.urls(&base, false));
    auth::note_create(shared);
    shared.wake.notify_one();
    Ok((task, plan))
}

/// How long a refused request's body may take to arrive before the connection is given up.
const DISCARD_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Read and drop the body of a request refused before its body was needed, then hand
/// back the refusal. hyper keeps a connection alive only when the request was read to
/// its end, and a client's body often arrives a moment after its headers: without this,
/// a 401 or an injected 429 would sometimes close the client's kept-alive connection,
/// which real servers do not do (they discard the body).
async fn refuse_unread(body: Body, error: ApiError, limit: usize) -> ApiError {
    let _ = tokio::time::timeout(DISCARD_WAIT, axum::body::to_bytes(body, limit)).await;
    error
}

/// Resources that refer to earlier results must name one of the account's videos.
fn check_references(
    tasks: &crate::tasks::TaskStore,
    account: &str,
    resource: &Resource,
    body: &Value,
) -> Result<(), ApiError> {
    let video_id = match resource.id {
        ResourceId::VideoExtend => body.get("video_id").and_then(Value::as_str),
        ResourceId::LipSync => body.pointer("/input/video_id").and_then(Value::as_str),
        _ => None,
    };
    let Some(video_id) = video_id else {
        return Ok(());
    };
    let known = tasks.find_asset(video_id).is_some_and(|t| t.account == account && t.status == TaskStatus::Succeed);
    if known {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::NOT_FOUND,
            format!(
                "video_id {video_id:?} is not a video of this account; use task_result.videos[].id of a \
                 succeeded task"
            ),
        ))
    }
}

/// `GET /v1/{resource}/{id}`
pub(crate) async fn query(
    state: MockState,
    ctx: RequestCtx,
    id: Option<String>,
    request: Request,
    resource: &'static Resource,
) -> Response {
    // Borrowed from the request rather than extracted: extracting clones every header.
    let (headers, uri) = (request.headers(), request.uri());
    ctx.update(|d| {
        d.route = "query";
        d.resource = Some(resource.path);
    });
    let result = async {
        let shared = &state.shared;
        let account = auth::authenticate(shared, headers, &ctx)?;
        admit(shared, &account)?;
        let template = format!("/v1/{}/{{id}}", resource.path);
        let info = RouteInfo { kind: RouteKind::Query, method: "GET", path: uri.path(), template: &template };
        let plan = observe::before(shared, &ctx, &info).await?;
        let Some(id) = id else {
            return Err(ApiError::new(ErrorCode::NOT_FOUND, "the task id in the path is not valid UTF-8"));
        };
        ctx.update(|d| d.task_id = Some(id.clone()));
        let base = request_base(headers, shared);
        let task = {
            let now = shared.clock.now_ms();
            let mut core = shared.core();
            let Some(index) = core.tasks.find(&account, resource, &id) else {
                return Err(ApiError::new(
                    ErrorCode::NOT_FOUND,
                    format!(
                        "task {id:?} does not exist on {}; use data.task_id from the create answer, \
                         or the external_task_id you sent",
                        resource.path
                    ),
                ));
            };
            core.materialize(index, now, &shared.timing);
            shared.dispatch_pending(&mut core);
            core.tasks.get(index).view_now()
        };
        let task = task.render(&shared.urls(&base, plan.expired_url));
        ctx.update(|d| {
            d.task_id = Some(task.task_id.clone());
            d.task_status = Some(task.task_status.as_str());
        });
        Ok::<_, ApiError>((task, plan.sabotage))
    }
    .await;
    match result {
        Ok((task, sabotage)) => observe::after(success(task), sabotage),
        Err(e) => e.into_response(),
    }
}

/// `GET /v1/{resource}?pageNum=&pageSize=`
pub(crate) async fn list(state: MockState, ctx: RequestCtx, request: Request, resource: &'static Resource) -> Response {
    let (headers, uri) = (request.headers(), request.uri());
    ctx.update(|d| {
        d.route = "list";
        d.resource = Some(resource.path);
    });
    let result = async {
        let shared = &state.shared;
        let account = auth::authenticate(shared, headers, &ctx)?;
        admit(shared, &account)?;
        let template = format!("/v1/{}", resource.path);
        let info = RouteInfo { kind: RouteKind::List, method: "GET", path: uri.path(), template: &template };
        let plan = observe::before(shared, &ctx, &info).await?;
        let params = query_params(uri.query().unwrap_or(""));
        let page = paging(&params, "pageNum", 1, MAX_PAGE_NUM)?;
        let size = paging(&params, "pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let base = request_base(headers, shared);
        let views: Vec<TaskView> = {
            let now = shared.clock.now_ms();
            let mut core = shared.core();
            core.materialize_all(now, &shared.timing);
            shared.dispatch_pending(&mut core);
            let skip = usize::try_from((page - 1) * size).unwrap_or(usize::MAX);
            let take = usize::try_from(size).unwrap_or(usize::MAX);
            let indexes: Vec<usize> = core.tasks.list(&account, resource).skip(skip).take(take).collect();
            indexes.into_iter().map(|i| core.tasks.get(i).view_now()).collect()
        };
        let urls = shared.urls(&base, plan.expired_url);
        let tasks: Vec<Task> = views.into_iter().map(|v| v.render(&urls)).collect();
        Ok::<_, ApiError>((tasks, plan.sabotage))
    }
    .await;
    match result {
        Ok((tasks, sabotage)) => observe::after(success(tasks), sabotage),
        Err(e) => e.into_response(),
    }
}

fn paging(params: &[(String, String)], name: &str, default: u64, max: u64) -> Result<u64, ApiError> {
    let Some((_, raw)) = params.iter().rev().find(|(k, _)| k == name) else {
        return Ok(default);
    };
    match raw.trim().parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::new(
            ErrorCode::INVALID_VALUE,
            format!("{name} must be an integer from 1 to {max}, not {raw:?}"),
        )),
    }
}

/// `GET /account/costs?start_time=&end_time=` (Unix milliseconds).
pub(crate) async fn account_costs(State(state): State<MockState>, ctx: RequestCtx, request: Request) -> Response {
    let (headers, uri) = (request.headers(), request.uri());
    ctx.update(|d| d.route = "costs");
    let result = async {
        let shared = &state.shared;
        let account = auth::authenticate(shared, headers, &ctx)?;
        admit(shared, &account)?;
        let info = RouteInfo { kind: RouteKind::Costs, method: "GET", path: uri.path(), template: uri.path() };
        let plan = observe::before(shared, &ctx, &info).await?;
        let params = query_params(uri.query().unwrap_or(""));
        let start = millis(&params, "start_time")?;
        let end = millis(&params, "end_time")?;
        if end < start {
            return Err(ApiError::new(
                ErrorCode::INVALID_VALUE,
                format!("end_time {end} is before start_time {start}"),
            ));
        }
        let mono = shared.clock.elapsed_ms();
        let now = shared.clock.now_ms();
        let mut core = shared.core();
        let acct = core
            .accounts
            .get_mut(&account)
            .ok_or_else(|| ApiError::new(ErrorCode::AUTH_FAILED, format!("access key {account:?} has no account")))?;
        acct.admit_costs_query(mono)?;
        Ok::<_, ApiError>((acct.costs(now), plan.sabotage))
    }
    .await;
    match result {
        Ok((data, sabotage)) => observe::after(success(data), sabotage),
        Err(e) => e.into_response(),
    }
}

fn millis(params: &[(String, String)], name: &str) -> Result<i64, ApiError> {
    let Some((_, raw)) = params.iter().rev().find(|(k, _)| k == name) else {
        return Err(ApiError::new(
            ErrorCode::INVALID_PARAMS,
            format!("{name} is required: a time in milliseconds since the Unix epoch"),
        ));
    };
    match raw.trim().parse::<i64>() {
        // Anything below 10^11 ms is before 1973: almost surely seconds sent as
        // milliseconds, the mistake the API notes warn about.
        Ok(n) if (0..100_000_000_000).contains(&n) => Err(ApiError::new(
            ErrorCode::INVALID_VALUE,
            format!("{name} {n} looks like seconds; the API wants milliseconds since the epoch, e.g. {}", n * 1000),
        )),
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(ApiError::new(
            ErrorCode::INVALID_VALUE,
            format!("{name} must be a whole number of milliseconds since the Unix epoch, not {raw:?}"),
        )),
    }
}

/// Count one request against the account's rate limit.
fn admit(shared: &Shared, account: &str) -> Result<(), ApiError> {
    if !shared.rate_limited {
        return Ok(());
    }
    let mono = shared.clock.elapsed_ms();
    match shared.core().accounts.get_mut(account) {
        Some(acct) => acct.admit(mono),
        None => Ok(()),
    }
}

fn refusal(v: Violation) -> ApiError {
    ApiError::new(v.code, v.message)
}

/// Read the body as JSON, journaling its summary whatever it holds.
async fn read_json(shared: &Shared, ctx: &RequestCtx, headers: &HeaderMap, body: Body) -> Result<Value, ApiError> {
    let limit = shared.config.max_body_bytes;
    let content_type = headers.get(header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let too_big = |size: String| {
        ApiError::new(
            ErrorCode::INVALID_PARAMS,
            format!(
                "the request body is {size} bytes and the limit is {limit}; images must be at most 10 MB, \
                 so send large images as URLs rather than base64"
            ),
        )
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared
        && len > limit as u64
    {
        return Err(too_big(len.to_string()));
    }
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(e) if is_length_limit(&e) => return Err(too_big(format!("more than {limit}"))),
        Err(e) => {
            return Err(ApiError::new(ErrorCode::INVALID_PARAMS, format!("the request body could not be read: {e}")));
        }
    };
    let parsed: Result<Value, String> = serde_json::from_slice(&bytes).map_err(|e| e.to_string());
    let summary = BodySummary::of(&bytes, content_type.as_deref(), parsed.as_ref().map_err(Clone::clone));
    let summary = redact_summary(shared, summary);
    ctx.update(|d| d.body = Some(Box::new(summary)));
    if !is_json(content_type.as_deref()) {
        return Err(ApiError::new(
            ErrorCode::INVALID_PARAMS,
            format!(
                "Content-Type must be application/json, not {}; send the body as JSON with \
                 `Content-Type: application/json`",
                content_type.as_deref().map_or_else(|| "missing".to_owned(), |c| format!("{c:?}"))
            ),
        ));
    }
    parsed.map_err(|e| ApiError::new(ErrorCode::INVALID_PARAMS, format!("the request body is not valid JSON ({e})")))
}

fn redact_summary(shared: &Shared, mut s: BodySummary) -> BodySummary {
    if let Some(p) = &s.prompt_preview {
        s.prompt_preview = Some(shared.redact(p).into_owned());
    }
    for v in [&mut s.external_task_id, &mut s.callback_url].into_iter().flatten() {
        if let Some(text) = v.as_str() {
            *v = Value::String(shared.redact(text).into_owned());
        }
    }
    s
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| c.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")))
}

/// `http://<Host>` when the request names a plausible host, so result URLs point where
/// the client reached the mock; the server's own address otherwise.
fn request_base(headers: &HeaderMap, shared: &Shared) -> String {
    match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(h)
            if !h.is_empty()
                && h.len() <= 255
                && h.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b)) =>
        {
            format!("http://{h}")
        }
        _ => shared.base_url().to_owned(),
    }
}

/// The answer for a path the mock does not serve.
pub(crate) async fn unknown_route(ctx: RequestCtx, method: Method, uri: Uri) -> Response {
    ctx.update(|d| d.route = "unknown");
    let served: Vec<String> = kling_api::resources::RESOURCES.iter().map(|r| format!("/v1/{}", r.path)).collect();
    ApiError::new(
        ErrorCode::NOT_FOUND,
        format!(
            "no route {method} {}; the mock serves {} (each with GET /{{id}}), /account/costs and /__admin/ \
             (see GET /__admin/openapi.json)",
            clip(uri.path()),
            served.join(", ")
        ),
    )
    .into_response()
}

/// The answer for a method a known path does not take.
pub(crate) async fn wrong_method(ctx: RequestCtx, method: Method, uri: Uri) -> Response {
    ctx.update(|d| d.route = "unknown");
    let path = uri.path();
    let hint = if path.starts_with("/v1/") {
        "POST /v1/<resource> creates a task, GET /v1/<resource> lists them and GET /v1/<resource>/<id> reads one"
    } else if path.starts_with("/__admin") {
        "see GET /__admin/openapi.json for the admin API's methods"
    } else {
        "this path only answers GET"
    };
    ApiError::new(ErrorCode::INVALID_METHOD, format!("{method} is not allowed on {}; {hint}", clip(path)))
        .into_response()
}

fn clip(path: &str) -> String {
    if path.chars().count() > 120 { path.chars().take(120).collect::<String>() + "…" } else { path.to_owned() }
}

/// Split a query string into decoded pairs (`+` is a space, `%XX` a byte).
pub(crate) fn query_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        let p = query_params("pageNum=2&pageSize=%33%30&q=a+b&flag&bad=%zz&end=%4");
        assert_eq!(p[0], ("pageNum".into(), "2".into()));
        assert_eq!(p[1].1, "30");
        assert_eq!(p[2].1, "a b");
        assert_eq!(p[3], ("flag".into(), String::new()));
        assert_eq!(p[4].1, "%zz");
        assert_eq!(p[5].1, "%4");
    }

    #[test]
    fn paging_bounds() {
        let p = |q: &str| paging(&query_params(q), "pageSize", 30, 500);
        assert_eq!(p("").unwrap(), 30);
        assert_eq!(p("pageSize=500").unwrap(), 500);
        for bad in [
            "pageSize=0",
            "pageSize=501",
            "pageSize=-1",
            "pageSize=abc",
            "pageSize=1e3",
            "pageSize=99999999999999999999",
        ] {
            let e = p(bad).unwrap_err();
            assert_eq!(e.code.code(), 1201, "{bad}");
            assert!(e.detail.contains("pageSize"));
        }
    }

    #[test]
    fn content_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(!is_json(Some("application/x-www-form-urlencoded")));
        assert!(!is_json(None));
    }
}
