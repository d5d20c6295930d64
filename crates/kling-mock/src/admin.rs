//! The admin API under `/__admin`: read the journal and the tasks, replace the fault
//! plan, move the clock, set credits, reset, check health, fetch the `OpenAPI` document.
//!
//! It answers loopback clients only, unless an `admin_token` is configured: then it
//! answers whoever sends `Authorization: Bearer <admin_token>`, and nobody else. Its
//! answers use the Kling envelope too, so one client helper reads both APIs.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kling_api::codes::ErrorCode;
use serde::Deserialize;
use serde_json::json;

use crate::api::query_params;
use crate::envelope::{ApiError, success};
use crate::faults::FaultPlan;
use crate::journal::{EntryKind, JournalQuery};
use crate::server::ConnInfo;
use crate::state::MockState;

/// The admin routes (merged into [`crate::app`]).
pub(crate) fn routes() -> Router<MockState> {
    Router::new()
        .route("/__admin/health", get(health))
        .route("/__admin/requests", get(requests))
        .route("/__admin/reset", post(reset))
        .route("/__admin/faults", get(faults).post(set_faults))
        .route("/__admin/tasks", get(tasks))
        .route("/__admin/clock", get(clock).post(advance_clock))
        .route("/__admin/credits", post(set_credits))
        .route("/__admin/openapi.json", get(openapi))
}

/// Proof that the caller may use the admin API.
pub(crate) struct AdminAccess;

impl FromRequestParts<MockState> for AdminAccess {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &MockState) -> Result<Self, Self::Rejection> {
        let refuse = |why: &str| ApiError::new(ErrorCode::NO_ACCESS, why.to_owned()).into_response();
        if let Some(token) = &state.shared.config.admin_token {
            let sent = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            let expected = format!("Bearer {token}");
            return if sent.is_some_and(|s| constant_time_eq(s.as_bytes(), expected.as_bytes())) {
                Ok(AdminAccess)
            } else {
                Err(refuse(
                    "the admin API needs `Authorization: Bearer <admin_token>` (the mock's admin_token setting)",
                ))
            };
        }
        // In-process use (`app().oneshot(...)`) has no connection: it is as local as it gets.
        match parts.extensions.get::<ConnInfo>() {
            Some(conn) if !conn.peer.ip().is_loopback() => Err(refuse(
                "the admin API answers loopback clients only; configure admin_token to reach it from elsewhere",
            )),
            _ => Ok(AdminAccess),
        }
    }
}

/// An admin body that could not be read (too large, or the client went away).
fn unreadable(e: &BytesRejection) -> Response {
    ApiError::new(ErrorCode::INVALID_PARAMS, format!("the request body could not be read: {e}")).into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn health(_: AdminAccess, State(state): State<MockState>) -> Response {
    let shared = &state.shared;
    success(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "base_url": shared.base_url(),
        "uptime_ms": shared.clock.elapsed_ms(),
        "clock_ms": shared.clock.now_ms(),
        "clock_offset_seconds": shared.clock.offset_ms() as f64 / 1000.0,
        "tasks": shared.core().tasks.all().len(),
        "journal_entries": state.journal_len(),
        "journal_capacity": shared.config.journal_capacity,
    }))
}

async fn requests(_: AdminAccess, State(state): State<MockState>, RawQuery(query): RawQuery) -> Response {
    let mut selection = JournalQuery::default();
    for (key, value) in query_params(query.as_deref().unwrap_or("")) {
        let bad = |what: &str| ApiError::new(ErrorCode::INVALID_VALUE, format!("{key} must be {what}, not {value:?}"));
        match key.as_str() {
            "since" => match value.parse() {
                Ok(n) => selection.since = Some(n),
                Err(_) => return bad("a sequence number").into_response(),
            },
            "limit" => match value.parse() {
                Ok(n) => selection.limit = Some(n),
                Err(_) => return bad("a whole number").into_response(),
            },
            "kind" => {
                selection.kind = Some(match value.as_str() {
                    "api" => EntryKind::Api,
                    "cdn" => EntryKind::Cdn,
                    "callback" => EntryKind::Callback,
                    _ => return bad("api, cdn or callback").into_response(),
                });
            }
            _ => {}
        }
    }
    success(state.journal_query(&selection))
}

async fn reset(_: AdminAccess, State(state): State<MockState>) -> Response {
    state.reset();
    success(json!({"reset": true}))
}

async fn faults(_: AdminAccess, State(state): State<MockState>) -> Response {
    success(state.faults())
}

async fn set_faults(_: AdminAccess, State(state): State<MockState>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => return unreadable(&e),
    };
    let plan: FaultPlan = match serde_json::from_slice(&body) {
        Ok(plan) => plan,
        Err(e) => {
            return ApiError::new(
                ErrorCode::INVALID_PARAMS,
                format!("the fault plan is not valid: {e}; send {{\"rules\": [{{\"route\": \"create\", \"first\": 2, \"fault\": \"error\", \"code\": 1302}}]}}"),
            )
            .into_response();
        }
    };
    match state.set_faults(plan) {
        Ok(()) => success(state.faults()),
        Err(e) => ApiError::new(ErrorCode::INVALID_PARAMS, e.to_string()).into_response(),
    }
}

async fn tasks(_: AdminAccess, State(state): State<MockState>) -> Response {
    success(state.tasks())
}

fn clock_data(state: &MockState) -> serde_json::Value {
    let shared = &state.shared;
    json!({
        "now_ms": shared.clock.now_ms(),
        "offset_seconds": shared.clock.offset_ms() as f64 / 1000.0,
    })
}

async fn clock(_: AdminAccess, State(state): State<MockState>) -> Response {
    success(clock_data(&state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    advance_seconds: f64,
}

async fn advance_clock(
    _: AdminAccess,
    State(state): State<MockState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => return unreadable(&e),
    };
    match serde_json::from_slice::<Advance>(&body) {
        Ok(Advance { advance_seconds }) if advance_seconds.is_finite() && advance_seconds.abs() <= 3.2e8 => {
            state.advance_clock(advance_seconds);
            success(clock_data(&state))
        }
        Ok(Advance { advance_seconds }) => ApiError::new(
            ErrorCode::INVALID_VALUE,
            format!("advance_seconds {advance_seconds} is out of range; move the clock by at most ten years"),
        )
        .into_response(),
        Err(e) => ApiError::new(
            ErrorCode::INVALID_PARAMS,
            format!("send {{\"advance_seconds\": N}} (N may be negative or fractional): {e}"),
        )
        .into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credits {
    #[serde(default)]
    access_key: Option<String>,
    units: f64,
}

async fn set_credits(_: AdminAccess, State(state): State<MockState>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => return unreadable(&e),
    };
    let credits: Credits = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return ApiError::new(
                ErrorCode::INVALID_PARAMS,
                format!("send {{\"units\": N}} or {{\"access_key\": \"ak\", \"units\": N}}: {e}"),
            )
            .into_response();
        }
    };
    let key = credits.access_key.unwrap_or_else(|| state.config().accounts[0].access_key.clone());
    match state.set_credits(&key, credits.units) {
        Ok(()) => success(json!({"access_key": key, "units": credits.units})),
        Err(e) => ApiError::new(ErrorCode::INVALID_VALUE, e.to_string()).into_response(),
    }
}

async fn openapi(_: AdminAccess, State(state): State<MockState>) -> Response {
    // The document itself, not an envelope: OpenAPI tools expect the bare document.
    let doc = crate::openapi::document(state.shared.base_url());
    let mut response = axum::Json(doc).into_response();
    response.extensions_mut().insert(crate::envelope::BusinessCode(0));
    response
}
