//! A stateful mock of the Kling AI API for local development, fault injection and
//! judging clients: real JWT checks, the real error envelope and codes, task lifecycles
//! on a movable clock, callbacks, an expiring CDN, scriptable faults and a journal of
//! everything clients did.
//!
//! Codes, models, parameter domains and costs come from `kling-api`, the project's one
//! source of truth; this crate only decides how a server behaves.
//!
//! # In Rust tests
//!
//! ```no_run
//! use kling_mock::{ErrorCode, Fault, FaultPlan, FaultRule, MockConfig, MockKling, Route, Trigger};
//!
//! # async fn demo() -> Result<(), kling_mock::MockError> {
//! // The first two creates are rate-limited, then the mock behaves.
//! let plan = FaultPlan::new().rule(FaultRule::new(
//!     Route::Create,
//!     Trigger::First(2),
//!     Fault::error(ErrorCode::RATE_LIMITED).retry_after(1),
//! ));
//! let mock = MockKling::start_with(MockConfig::default().with_task_seconds(1.0).with_faults(plan)).await?;
//! // Point the client under test at `mock.uri()` with `mock.access_key()` and
//! // `mock.secret_key()`, run it, then judge it from the journal:
//! for entry in mock.journal() {
//!     println!("{} {} {} -> {:?}/{:?}", entry.t_ms, entry.method, entry.path, entry.status, entry.code);
//! }
//! mock.advance_clock(1800.0); // every token minted before now has expired
//! mock.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # In-process, without a socket
//!
//! [`app`] returns the `axum` router, so handlers can be exercised with
//! `tower::ServiceExt::oneshot`, as the crate's own tests do.
//!
//! # From the command line
//!
//! `kling-preflight mock` serves the same thing; its first line on stdout is
//! `kling mock listening on http://HOST:PORT`.
#![deny(missing_docs)]

mod account;
mod admin;
mod api;
mod auth;
mod callbacks;
mod cdn;
mod clock;
mod config;
mod envelope;
mod error;
mod faults;
mod journal;
mod observe;
mod openapi;
mod server;
mod state;
mod tasks;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::routing::get;
use kling_api::resources::RESOURCES;

pub use config::{AccountConfig, CallbackConfig, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, MockConfig, TimingConfig};
pub use error::MockError;
pub use faults::{
    DEFAULT_FAIL_MESSAGE, Fault, FaultPlan, FaultRule, FaultStatus, FiredFault, Route, RuleStatus, Trigger,
};
pub use journal::{
    BodySummary, CallbackSummary, CdnSummary, EntryKind, JournalEntry, JournalQuery, JwtSummary, fingerprint,
    token_fingerprint,
};
pub use kling_api::codes::ErrorCode;
pub use observe::Sabotage;
pub use server::MockKling;
pub use state::MockState;
pub use tasks::TaskSnapshot;

/// The mock's router: every task resource, `account/costs`, the CDN and the admin API,
/// behind the middleware that journals requests and maps every failure to Kling's
/// envelope. Serving it is separate (see [`MockKling`]), so tests can drive it with
/// `oneshot`. Connection faults (`reset`, `empty`) need a real connection; in-process
/// the answer carries a [`Sabotage`] extension instead.
pub fn app(state: MockState) -> Router {
    let mut router = Router::new();
    for resource in RESOURCES {
        let collection = format!("/v1/{}", resource.path);
        let item = format!("{collection}/{{id}}");
        router = router
            .route(
                &collection,
                get(move |State(state): State<MockState>, ctx: observe::RequestCtx, request: Request| {
                    api::list(state, ctx, request, resource)
                })
                .post(
                    move |State(state): State<MockState>, ctx: observe::RequestCtx, request: Request| {
                        api::create(state, ctx, request, resource)
                    },
                ),
            )
            .route(
                &item,
                get(
                    move |State(state): State<MockState>,
                          ctx: observe::RequestCtx,
                          id: Result<Path<String>, axum::extract::rejection::PathRejection>,
                          request: Request| {
                        // The rejection (a path that is not UTF-8) is dropped here, before the
                        // handler's future is built, to keep that future small.
                        api::query(state, ctx, id.ok().map(|Path(id)| id), request, resource)
                    },
                ),
            );
    }
    router
        .route(kling_api::hosts::ACCOUNT_COSTS_PATH, get(api::account_costs))
        .route(cdn::TEMPLATE, get(cdn::download))
        .merge(admin::routes())
        .fallback(api::unknown_route)
        .method_not_allowed_fallback(api::wrong_method)
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
        .with_state(state)
}
