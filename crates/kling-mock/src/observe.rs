//! Watching requests: the middleware that journals every API and CDN request (also
//! when the client gives up before the answer), turns a handler panic into a 500
//! envelope, and carries out connection faults; and the fault step handlers run
//! before doing their work.
//!
//! Handlers fill a per-request [`RequestCtx`] as they learn things (the JWT, the body
//! summary, the fault that fired, the task), so that a request whose handler never
//! finishes — the client left during a stall — is still journaled with all of it.

use std::any::Any;
use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::{Bytes, Frame, SizeHint};
use kling_api::codes::ErrorCode;

use crate::envelope::{ApiError, BusinessCode};
use crate::faults::{DEFAULT_FAIL_MESSAGE, Fault, FiredFault, RouteInfo};
use crate::journal::{BodySummary, CdnSummary, EntryKind, JournalEntry, JwtSummary};
use crate::server::{ConnInfo, Kill};
use crate::state::{MockState, Shared, lock};
use crate::tasks::Outcome;

/// What a handler has learnt about its request so far.
#[derive(Debug)]
pub(crate) struct Draft {
    pub(crate) kind: EntryKind,
    pub(crate) route: &'static str,
    pub(crate) resource: Option<&'static str>,
    pub(crate) authorization: Option<Cow<'static, str>>,
    pub(crate) jwt: Option<Arc<JwtSummary>>,
    pub(crate) auth_error: Option<String>,
    pub(crate) account: Option<String>,
    pub(crate) body: Option<Box<BodySummary>>,
    pub(crate) fault: Option<FiredFault>,
    pub(crate) task_id: Option<String>,
    pub(crate) task_status: Option<&'static str>,
    pub(crate) cdn: Option<CdnSummary>,
}

impl Default for Draft {
    fn default() -> Self {
        Draft {
            kind: EntryKind::Api,
            route: "unknown",
            resource: None,
            authorization: None,
            jwt: None,
            auth_error: None,
            account: None,
            body: None,
            fault: None,
            task_id: None,
            task_status: None,
            cdn: None,
        }
    }
}

/// The per-request draft, shared between the middleware and the handler.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestCtx(Arc<Mutex<Draft>>);

impl RequestCtx {
    pub(crate) fn update(&self, f: impl FnOnce(&mut Draft)) {
        f(&mut lock(&self.0));
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestCtx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Outside the middleware (never the case in `app()`), a detached draft.
        Ok(parts.extensions.get::<RequestCtx>().cloned().unwrap_or_default())
    }
}

/// A connection fault to carry out once the answer is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sabotage {
    /// Reset the connection (RST) instead of answering.
    Reset,
    /// Close the connection without answering.
    Empty,
    /// Send half the body, then close.
    Truncate,
}

/// What the fault step decided for the rest of the request.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) sabotage: Option<Sabotage>,
    pub(crate) outcome: Option<Outcome>,
    pub(crate) expired_url: bool,
}

/// Run the fault plan for this request: answer with an error, stall, or note what to
/// do later (connection faults, task outcomes, expired URLs).
pub(crate) async fn before(shared: &Arc<Shared>, ctx: &RequestCtx, info: &RouteInfo<'_>) -> Result<Plan, ApiError> {
    if !shared.faults_active.load(std::sync::atomic::Ordering::SeqCst) {
        return Ok(Plan::default());
    }
    let fired = shared.core().faults.evaluate(info);
    let Some((rule, fault)) = fired else {
        return Ok(Plan::default());
    };
    ctx.update(|d| d.fault = Some(FiredFault::of(rule, &fault)));
    let mut plan = Plan::default();
    match fault {
        Fault::Error { code, status, message, retry_after } => {
            return Err(ApiError {
                code,
                detail: format!("injected by fault rule {rule}"),
                status,
                message,
                retry_after,
            });
        }
        // Boxed: only stalled requests pay for the timer in their future.
        Fault::Stall { seconds } => Box::pin(stall(shared, seconds)).await,
        Fault::Reset => plan.sabotage = Some(Sabotage::Reset),
        Fault::Empty => plan.sabotage = Some(Sabotage::Empty),
        Fault::Truncate => plan.sabotage = Some(Sabotage::Truncate),
        Fault::Stuck => plan.outcome = Some(Outcome::Stuck),
        Fault::Fail { message } => {
            plan.outcome = Some(Outcome::Fail(message.unwrap_or_else(|| DEFAULT_FAIL_MESSAGE.to_owned())));
        }
        Fault::ExpiredUrl => plan.expired_url = true,
    }
    Ok(plan)
}

/// Wait, unless the mock shuts down first. A client that disconnects meanwhile makes
/// hyper drop this future, which the journal records as the client leaving.
async fn stall(shared: &Shared, seconds: f64) {
    let mut shutdown = shared.shutdown.subscribe();
    tokio::select! {
        () = tokio::time::sleep(Duration::from_secs_f64(seconds)) => {}
        () = crate::state::stopped(&mut shutdown) => {}
    }
}

/// Mark the answer for a connection fault, carried out by the middleware.
pub(crate) fn after(mut response: Response, sabotage: Option<Sabotage>) -> Response {
    if let Some(s) = sabotage {
        response.extensions_mut().insert(s);
    }
    response
}

/// The middleware around every route.
pub(crate) async fn observe(State(state): State<MockState>, mut request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/__admin") {
        return guarded(Box::pin(next.run(request))).await;
    }
    let ctx = RequestCtx::default();
    request.extensions_mut().insert(ctx.clone());
    let conn = request.extensions().get::<ConnInfo>().cloned();
    let start = Instant::now();
    let shared = Arc::clone(&state.shared);
    // Only what the record needs is kept here (the record itself is built when the
    // request ends), so that this future, allocated for every request, stays small.
    let mut pending = Pending {
        t_ms: shared.clock.elapsed_ms_at(start),
        clock_s: shared.clock.now_secs(),
        shared,
        ctx,
        start,
        method: request.method().clone(),
        uri: request.uri().clone(),
        conn: conn.as_ref().map(|c| c.id),
        done: false,
    };
    let response = guarded(Box::pin(next.run(request))).await;
    pending.finish(response, conn.as_ref()).await
}

/// A journal record waiting for its request to end; recorded as abandoned if dropped
/// before (hyper drops the handler when the client disconnects mid-request).
struct Pending {
    shared: Arc<Shared>,
    ctx: RequestCtx,
    start: Instant,
    t_ms: f64,
    clock_s: i64,
    method: Method,
    uri: Uri,
    conn: Option<u64>,
    done: bool,
}

impl Pending {
    async fn finish(&mut self, response: Response, conn: Option<&ConnInfo>) -> Response {
        let sabotage = response.extensions().get::<Sabotage>().copied();
        let code = response.extensions().get::<BusinessCode>().map(|c| c.0);
        let status = response.status().as_u16();
        let response = match (sabotage, conn) {
            (Some(Sabotage::Reset), Some(conn)) => {
                conn.kill(Kill::Reset);
                response
            }
            (Some(Sabotage::Empty), Some(conn)) => {
                conn.kill(Kill::Close);
                response
            }
            (Some(Sabotage::Truncate), _) => truncate(response).await,
            _ => response,
        };
        let mut entry = self.entry();
        entry.status = Some(status);
        entry.code = code;
        entry.completed = sabotage.is_none();
        self.shared.record(entry);
        self.done = true;
        response
    }

    fn entry(&self) -> JournalEntry {
        let shared = &self.shared;
        let mut entry = JournalEntry::new(
            EntryKind::Api,
            self.t_ms,
            self.method.as_str(),
            &shared.redact(self.uri.path()),
            "unknown",
            self.clock_s,
        );
        entry.conn = self.conn;
        entry.query = self.uri.query().map(|q| shared.redact(q).into_owned());
        entry.duration_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        fill(&mut entry, &self.ctx);
        entry
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.done {
            let mut entry = self.entry();
            entry.completed = false;
            entry.client_gone_ms = Some(self.shared.clock.elapsed_ms());
            self.shared.record(entry);
        }
    }
}

fn fill(entry: &mut JournalEntry, ctx: &RequestCtx) {
    let mut draft = lock(&ctx.0);
    let d = std::mem::take(&mut *draft);
    entry.kind = d.kind;
    d.route.clone_into(&mut entry.route);
    entry.resource = d.resource.map(str::to_owned);
    entry.authorization = d.authorization.map(Cow::into_owned);
    entry.jwt = d.jwt;
    entry.auth_error = d.auth_error;
    entry.account = d.account;
    entry.body = d.body;
    entry.fault = d.fault;
    entry.task_id = d.task_id;
    entry.task_status = d.task_status.map(str::to_owned);
    entry.cdn = d.cdn;
}

/// Keep the status, the headers and the full `Content-Length`, but send only half the
/// body and then fail the stream, which makes hyper close the connection mid-body.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let half = bytes.slice(..bytes.len() / 2);
    Response::from_parts(parts, Body::new(Truncated::new(half)))
}

struct Truncated {
    first: Option<Bytes>,
    /// A pause between the partial body and the failure: hyper flushes what it has
    /// buffered when the body is pending, so the client really receives the first half
    /// before the connection goes.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Truncated {
    fn new(first: Bytes) -> Self {
        Truncated { first: Some(first), pause: Some(Box::pin(tokio::time::sleep(Duration::from_millis(50)))) }
    }
}

impl hyper::body::Body for Truncated {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(bytes) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(bytes))));
        }
        if let Some(pause) = &mut self.pause {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.pause = None;
        }
        Poll::Ready(Some(Err(std::io::Error::other("body truncated by a fault"))))
    }

    fn size_hint(&self) -> SizeHint {
        // Unknown, so hyper frames the body by the Content-Length header we set.
        SizeHint::default()
    }
}

/// Run a handler, answering 500/5000 in Kling's envelope if it panics: a bug in the
/// mock must not look like a network fault to the client under test.
async fn guarded(future: Pin<Box<dyn Future<Output = Response> + Send + '_>>) -> Response {
    match (CatchUnwind { inner: future }).await {
        Ok(response) => response,
        Err(panic) => ApiError::new(
            ErrorCode::INTERNAL_ERROR,
            format!("the mock failed while handling this request ({}); please report this bug", panic_text(&*panic)),
        )
        .into_response(),
    }
}

struct CatchUnwind<F: ?Sized> {
    inner: Pin<Box<F>>,
}

impl<F: Future + ?Sized> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}
