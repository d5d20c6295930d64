//! Serving: the accept loop (one id per TCP connection, so the journal shows whether a
//! client reuses connections), connection faults at the socket level, the lifecycle
//! driver, graceful shutdown, and [`MockKling`], the running mock.
//!
//! The accept loop is hand-written rather than `axum::serve` for two reasons: a reset
//! fault must reach the socket (set `SO_LINGER` to zero and fail the write, so the
//! kernel sends RST), and every connection task must belong to the server task so that
//! dropping a [`MockKling`] stops them all.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt as _;

use crate::config::MockConfig;
use crate::error::MockError;
use crate::faults::{FaultPlan, FaultStatus};
use crate::journal::{JournalEntry, JournalQuery};
use crate::state::{MockState, Shared};
use crate::tasks::TaskSnapshot;

/// How long in-flight requests get to finish after shutdown is asked for.
const GRACE: Duration = Duration::from_secs(5);

/// How a connection is to be killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kill {
    /// RST: the client sees "connection reset by peer".
    Reset = 1,
    /// FIN without an answer: the client sees the server close the connection.
    Close = 2,
}

/// What a request knows about its connection (a request extension).
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub(crate) id: u64,
    pub(crate) peer: SocketAddr,
    switch: Arc<AtomicU8>,
}

impl ConnInfo {
    /// Kill the connection instead of writing the answer.
    pub(crate) fn kill(&self, how: Kill) {
        self.switch.store(how as u8, Ordering::SeqCst);
    }
}

/// A TCP stream whose writes fail once its connection has been marked for killing, so
/// hyper gives up on the answer and drops the socket.
struct FaultIo {
    inner: TcpStream,
    switch: Arc<AtomicU8>,
}

impl FaultIo {
    fn killed(&self) -> Option<io::Error> {
        match self.switch.load(Ordering::SeqCst) {
            1 => {
                // With a zero linger, closing the socket discards unsent data and
                // sends RST instead of FIN.
                let _ = self.inner.set_zero_linger();
                Some(io::Error::from(io::ErrorKind::ConnectionReset))
            }
            2 => Some(io::Error::from(io::ErrorKind::BrokenPipe)),
            _ => None,
        }
    }
}

impl AsyncRead for FaultIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Accept connections until shutdown, then let in-flight requests finish (up to
/// [`GRACE`]) and stop whatever is left.
async fn serve(listener: TcpListener, router: Router, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut connections = JoinSet::new();
    let mut next_id: u64 = 0;
    loop {
        tokio::select! {
            biased;
            () = crate::state::stopped(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    next_id += 1;
                    // Answers are small and latency matters more than packet count.
                    let _ = stream.set_nodelay(true);
                    connections.spawn(connection(stream, peer, next_id, router.clone(), Arc::clone(&shared)));
                }
                Err(e) if is_per_connection(&e) => {}
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACE, drain).await.is_err() {
        connections.abort_all();
    }
}

fn is_per_connection(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted)
}

async fn connection(stream: TcpStream, peer: SocketAddr, id: u64, router: Router, shared: Arc<Shared>) {
    let switch = Arc::new(AtomicU8::new(0));
    let info = ConnInfo { id, peer, switch: Arc::clone(&switch) };
    let io = TokioIo::new(FaultIo { inner: stream, switch });
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(info.clone());
        router.clone().oneshot(request)
    });
    let mut builder = http1::Builder::new();
    // No header-read timeout: the mock serves loopback clients, and a timer armed for
    // every request head costs more than a slow-header attack could here.
    builder.timer(TokioTimer::new()).keep_alive(true).header_read_timeout(None);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut shutdown = shared.shutdown.subscribe();
    tokio::select! {
        // Errors here are the client's doing (a reset, a malformed request line) or a
        // fault's; hyper has already answered what could be answered.
        _ = conn.as_mut() => {}
        () = crate::state::stopped(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Move tasks along the clock and send their callbacks, sleeping until the next
/// change or until woken (a new task, a clock move).
async fn drive(shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let next = shared.tick();
        let nap =
            next.map_or(Duration::from_secs(3600), |at| shared.clock.real_delay_until(at) + Duration::from_millis(1));
        tokio::select! {
            () = tokio::time::sleep(nap) => {}
            () = shared.wake.notified() => {}
            () = crate::state::stopped(&mut shutdown) => break,
        }
    }
}

/// A running mock Kling server, in the spirit of wiremock's `MockServer`: start it,
/// point the client under test at [`MockKling::uri`], then read the journal.
///
/// Dropping it stops the server and everything it runs; [`MockKling::shutdown`] does
/// the same gracefully, letting in-flight requests finish.
#[derive(Debug)]
pub struct MockKling {
    state: MockState,
    address: SocketAddr,
    server: Option<JoinHandle<()>>,
    driver: Option<JoinHandle<()>>,
}

impl MockKling {
    /// Start a mock with the default settings on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// If no port can be bound on 127.0.0.1, or outside a Tokio runtime (as
    /// wiremock's `MockServer::start` does); use [`MockKling::start_with`] to handle
    /// that as an error.
    pub async fn start() -> MockKling {
        match MockKling::start_with(MockConfig::default()).await {
            Ok(mock) => mock,
            Err(e) => panic!("kling-mock could not start: {e}"),
        }
    }

    /// Start a mock with these settings (`host`/`port` say where to listen; port 0
    /// picks a free one). Must be called within a Tokio runtime.
    pub async fn start_with(config: MockConfig) -> Result<MockKling, MockError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(MockError::Runtime(
                "MockKling must start inside a Tokio runtime; use #[tokio::test] or a Runtime".into(),
            ));
        }
        let state = MockState::new(config)?;
        let (host, port) = (state.config().host.clone(), state.config().port);
        let display = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        let listener = TcpListener::bind((host.as_str(), port))
            .await
            .map_err(|source| MockError::Bind { address: display.clone(), source })?;
        let address = listener.local_addr().map_err(|source| MockError::Bind { address: display, source })?;
        // A wildcard address is where the mock listens, not where anyone can reach
        // it: URLs name the loopback address of the same family.
        let reachable = match address.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), address.port()),
            IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), address.port()),
            _ => address,
        };
        let _ = state.shared.base_url.set(format!("http://{reachable}"));
        let router = crate::app(state.clone());
        let server = tokio::spawn(serve(listener, router, Arc::clone(&state.shared)));
        let driver = tokio::spawn(drive(Arc::clone(&state.shared)));
        Ok(MockKling { state, address, server: Some(server), driver: Some(driver) })
    }

    /// The base URL clients use: `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.state.shared.base_url().to_owned()
    }

    /// The socket address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The state handle (what [`crate::app`] serves), for anything not mirrored here.
    pub fn state(&self) -> &MockState {
        &self.state
    }

    /// The settings the mock runs with.
    pub fn config(&self) -> &MockConfig {
        self.state.config()
    }

    /// The first account's access key.
    pub fn access_key(&self) -> &str {
        &self.state.config().accounts[0].access_key
    }

    /// The first account's secret key.
    pub fn secret_key(&self) -> &str {
        &self.state.config().accounts[0].secret_key
    }

    /// A valid token for the first account, minted on the mock's clock.
    pub fn token(&self) -> String {
        self.state.token()
    }

    /// Every journal record still held, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.state.journal()
    }

    /// Journal records selected by `query`.
    pub fn journal_query(&self, query: &JournalQuery) -> Vec<JournalEntry> {
        self.state.journal_query(query)
    }

    /// Replace the fault plan.
    pub fn set_faults(&self, plan: FaultPlan) -> Result<(), MockError> {
        self.state.set_faults(plan)
    }

    /// The fault plan with per-rule counters.
    pub fn faults(&self) -> FaultStatus {
        self.state.faults()
    }

    /// Move the mock's clock by `seconds`; returns its new reading (Unix ms).
    pub fn advance_clock(&self, seconds: f64) -> i64 {
        self.state.advance_clock(seconds)
    }

    /// Every task, with statuses brought up to date.
    pub fn tasks(&self) -> Vec<TaskSnapshot> {
        self.state.tasks()
    }

    /// Set the credit units left for `access_key`.
    pub fn set_credits(&self, access_key: &str, units: f64) -> Result<(), MockError> {
        self.state.set_credits(access_key, units)
    }

    /// Back to the state at start (see [`MockState::reset`]).
    pub fn reset(&self) {
        self.state.reset();
    }

    /// Stop accepting connections, let in-flight requests finish (stalls end at once,
    /// callbacks stop), and wait until everything has stopped.
    pub async fn shutdown(mut self) {
        self.state.shared.shutdown.send_replace(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(driver) = self.driver.take() {
            let _ = driver.await;
        }
    }
}

impl Drop for MockKling {
    fn drop(&mut self) {
        self.state.shared.shutdown.send_replace(true);
        // Aborting the server task drops its `JoinSet`, which aborts every connection.
        for handle in [self.server.take(), self.driver.take()].into_iter().flatten() {
            handle.abort();
        }
    }
}
