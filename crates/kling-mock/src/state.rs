//! The mock's shared state and the handle ([`MockState`]) that the router, the
//! background driver and Rust tests all hold.
//!
//! Two locks, both held briefly and never together: `core` (tasks, accounts, faults,
//! token-expiry memory) and `journal`. Neither is held across an `.await`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};

use kling_api::jwt;
use kling_api::types::TaskStatus;
use tokio::sync::{Notify, watch};

use crate::account::AccountState;
use crate::callbacks;
use crate::cdn::UrlSigner;
use crate::clock::Clock;
use crate::config::MockConfig;
use crate::error::MockError;
use crate::faults::{FaultEngine, FaultPlan, FaultStatus};
use crate::journal::{Journal, JournalEntry, JournalQuery};
use crate::tasks::{TaskSnapshot, TaskStore, Timing, UrlContext};

/// Lock a mutex, carrying on after a panic elsewhere: the data stays consistent because
/// no critical section in this crate leaves it half-updated, and a mock that stopped
/// answering after one bug would hide every later finding.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Resolve once the mock is shutting down (or its state is gone).
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; dropping it here keeps callers'
    // futures `Send`.
    let _ = shutdown.wait_for(|stopped| *stopped).await;
}

/// What the token-expiry mode remembers.
#[derive(Debug, Default)]
pub(crate) struct TokenMemory {
    /// Set by the first successful create.
    pub(crate) armed: bool,
    /// Fingerprints of the tokens seen before that.
    pub(crate) seen: HashSet<String>,
}

/// Everything that changes under requests.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) tasks: TaskStore,
    pub(crate) accounts: HashMap<String, AccountState>,
    pub(crate) faults: FaultEngine,
    pub(crate) tokens: TokenMemory,
    /// Tasks whose history grew since callbacks were last dispatched.
    pub(crate) changed: Vec<usize>,
}

impl Core {
    fn new(config: &MockConfig, now_ms: i64) -> Self {
        Core {
            tasks: TaskStore::default(),
            accounts: config.accounts.iter().map(|a| (a.access_key.clone(), AccountState::new(a, now_ms))).collect(),
            faults: FaultEngine::new(config.faults.clone(), config.seed),
            tokens: TokenMemory::default(),
            changed: Vec::new(),
        }
    }

    /// Bring one task up to date, refunding its credits if it just failed.
    pub(crate) fn materialize(&mut self, index: usize, now_ms: i64, timing: &Timing) {
        let task = self.tasks.get_mut(index);
        let before = task.history.len();
        let failed = task.materialize(now_ms, timing);
        if task.history.len() > before {
            self.changed.push(index);
        }
        if failed {
            let (account, units) = (task.account.clone(), task.units);
            if let Some(a) = self.accounts.get_mut(&account) {
                a.refund(units);
            }
        }
    }

    /// Bring every running task up to date; returns when the next one will change.
    pub(crate) fn materialize_all(&mut self, now_ms: i64, timing: &Timing) -> Option<i64> {
        let active: Vec<usize> = self.tasks.active().to_vec();
        let mut next: Option<i64> = None;
        for index in active {
            self.materialize(index, now_ms, timing);
            if let Some(at) = self.tasks.get(index).next_change(timing) {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        self.tasks.prune_active();
        next
    }

    /// Tasks of `account` that hold a concurrency slot (not yet ended).
    pub(crate) fn running(&self, account: &str) -> usize {
        self.tasks
            .active()
            .iter()
            .filter(|&&i| {
                let t = self.tasks.get(i);
                t.account == account && !t.status.is_terminal()
            })
            .count()
    }
}

/// The state behind every handle.
pub(crate) struct Shared {
    pub(crate) config: MockConfig,
    pub(crate) timing: Timing,
    pub(crate) clock: Clock,
    pub(crate) core: Mutex<Core>,
    pub(crate) journal: Mutex<Journal>,
    pub(crate) tokens: RwLock<crate::auth::TokenCache>,
    /// Whether the fault plan has rules: requests skip the `core` lock when it has none.
    pub(crate) faults_active: AtomicBool,
    /// Whether any account has a request-rate limit, likewise.
    pub(crate) rate_limited: bool,
    pub(crate) signer: UrlSigner,
    pub(crate) http: reqwest::Client,
    /// Wakes the lifecycle driver (a task was created, or the clock moved).
    pub(crate) wake: Notify,
    pub(crate) shutdown: watch::Sender<bool>,
    /// `http://host:port` of the running server, for URLs in callbacks.
    pub(crate) base_url: OnceLock<String>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("base_url", &self.base_url.get()).finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn core(&self) -> MutexGuard<'_, Core> {
        lock(&self.core)
    }

    pub(crate) fn record(&self, entry: JournalEntry) {
        // The record the ring buffer lets go of is freed after the lock is released:
        // freeing is the slow part, and other requests wait for this lock.
        let evicted = lock(&self.journal).push(entry);
        drop(evicted);
    }

    pub(crate) fn secret_for(&self, access_key: &str) -> Option<&str> {
        self.config.accounts.iter().find(|a| a.access_key == access_key).map(|a| a.secret_key.as_str())
    }

    /// Replace any secret key inside `text` (a client may misplace one anywhere).
    pub(crate) fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let mut out = std::borrow::Cow::Borrowed(text);
        for account in &self.config.accounts {
            if out.contains(account.secret_key.as_str()) {
                out = std::borrow::Cow::Owned(out.replace(account.secret_key.as_str(), "<secret-key>"));
            }
        }
        out
    }

    pub(crate) fn base_url(&self) -> &str {
        self.base_url.get().map_or("http://127.0.0.1", String::as_str)
    }

    /// The URL context for one answer: fresh URLs that live the configured TTL from
    /// now, or that are already expired when an `expired-url` fault fired.
    pub(crate) fn urls<'a>(&'a self, base: &'a str, expired: bool) -> UrlContext<'a> {
        let now = self.clock.now_ms();
        let expires_ms = if expired { now - 1000 } else { now + (self.config.url_ttl_seconds * 1000.0).round() as i64 };
        UrlContext { base, signer: &self.signer, expires_ms }
    }

    /// Bring every task up to date and hand any pending callbacks to the delivery
    /// tasks. Returns when the next task will change (mock clock).
    pub(crate) fn tick(self: &Arc<Self>) -> Option<i64> {
        let now = self.clock.now_ms();
        let mut core = self.core();
        let next = core.materialize_all(now, &self.timing);
        self.dispatch_pending(&mut core);
        next
    }

    /// Start deliveries for every status change not yet announced. Needs a Tokio
    /// runtime; without one (a bare `MockState` used outside async code) the changes
    /// stay pending and go out at the next tick.
    pub(crate) fn dispatch_pending(self: &Arc<Self>, core: &mut Core) {
        if core.changed.is_empty() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let base = self.base_url().to_owned();
        for index in std::mem::take(&mut core.changed) {
            let task = core.tasks.get_mut(index);
            if task.notified >= task.history.len() {
                continue;
            }
            let pending: Vec<(TaskStatus, i64)> = task.history[task.notified..].to_vec();
            task.notified = task.history.len();
            let Some(url) = task.callback_url.clone() else {
                continue;
            };
            for (status, at) in pending {
                let body = task.render(status, at, &self.urls(&base, false));
                callbacks::dispatch(self, task, &url, body);
            }
        }
    }
}

/// A handle on one mock's state: what [`crate::app`] serves and what tests inspect.
/// Cloning it is cheap; every clone sees the same mock.
#[derive(Clone, Debug)]
pub struct MockState {
    pub(crate) shared: Arc<Shared>,
}

impl MockState {
    /// State for a mock with these settings. Nothing runs until it is served (see
    /// [`crate::MockKling`]); used with [`crate::app`] directly, task statuses still
    /// follow the clock (they are computed when read), but callbacks only go out when
    /// a request touches the task.
    pub fn new(config: MockConfig) -> Result<Self, MockError> {
        config.validate()?;
        let clock = Clock::new();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs_f64(config.callbacks.timeout_seconds))
            .redirect(reqwest::redirect::Policy::none())
            // Callbacks go where the client said, never through a proxy from the
            // environment: a proxy would change what the receiver sees.
            .no_proxy()
            .user_agent(concat!("kling-mock/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MockError::Runtime(format!("cannot build the callback HTTP client: {e}")))?;
        let faults_active = !config.faults.rules.is_empty();
        let rate_limited = config.accounts.iter().any(|a| a.requests_per_second.is_some());
        let core = Core::new(&config, clock.now_ms());
        let journal = Journal::new(config.journal_capacity);
        let (shutdown, _) = watch::channel(false);
        Ok(MockState {
            shared: Arc::new(Shared {
                timing: Timing::from(&config.timing),
                config,
                clock,
                core: Mutex::new(core),
                journal: Mutex::new(journal),
                tokens: RwLock::default(),
                faults_active: AtomicBool::new(faults_active),
                rate_limited,
                signer: UrlSigner::random(),
                http,
                wake: Notify::new(),
                shutdown,
                base_url: OnceLock::new(),
            }),
        })
    }

    /// The settings the mock runs with.
    pub fn config(&self) -> &MockConfig {
        &self.shared.config
    }

    /// Every journal record still in the ring buffer, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.journal_query(&JournalQuery::default())
    }

    /// Journal records selected by `query`.
    pub fn journal_query(&self, query: &JournalQuery) -> Vec<JournalEntry> {
        lock(&self.shared.journal).read(query)
    }

    /// Replace the fault plan (counters start again from zero). Each rule is checked
    /// as a plan read from a file would be.
    pub fn set_faults(&self, plan: FaultPlan) -> Result<(), MockError> {
        for rule in &plan.rules {
            crate::faults::FaultRule::checked(rule.route.clone(), rule.trigger.clone(), rule.fault.clone())?;
        }
        let active = !plan.rules.is_empty();
        self.shared.core().faults = FaultEngine::new(plan, self.shared.config.seed);
        self.shared.faults_active.store(active, Ordering::SeqCst);
        Ok(())
    }

    /// The fault plan with per-rule counters.
    pub fn faults(&self) -> FaultStatus {
        self.shared.core().faults.status()
    }

    /// Move the mock's clock by `seconds` (negative moves it back): token `exp`/`nbf`,
    /// task lifecycles and URL lifetimes are all judged against it. Returns the
    /// clock's new reading (Unix milliseconds).
    pub fn advance_clock(&self, seconds: f64) -> i64 {
        self.shared.clock.advance(seconds);
        self.shared.wake.notify_one();
        self.shared.clock.now_ms()
    }

    /// The mock's clock, in Unix milliseconds.
    pub fn clock_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// Every task, oldest first, with its status brought up to date.
    pub fn tasks(&self) -> Vec<TaskSnapshot> {
        let now = self.shared.clock.now_ms();
        let mut core = self.shared.core();
        core.materialize_all(now, &self.shared.timing);
        core.tasks.all().iter().map(crate::tasks::TaskRecord::snapshot).collect()
    }

    /// Set the credit units left for `access_key`.
    pub fn set_credits(&self, access_key: &str, units: f64) -> Result<(), MockError> {
        if !(units.is_finite() && units >= 0.0) {
            return Err(MockError::InvalidConfig(format!("credits must be 0 or more, not {units}")));
        }
        let mut core = self.shared.core();
        let account = core.accounts.get_mut(access_key).ok_or_else(|| {
            MockError::InvalidConfig(format!(
                "no account has access key {access_key:?}; use one from the configuration"
            ))
        })?;
        account.set_credits(units);
        Ok(())
    }

    /// The credit units left for `access_key`.
    pub fn credits(&self, access_key: &str) -> Option<f64> {
        self.shared.core().accounts.get(access_key).map(|a| a.remaining)
    }

    /// Back to the state at start: no tasks, fresh credits, the configured fault plan
    /// with zeroed counters, the clock unmoved, an empty journal (sequence numbers keep
    /// counting).
    pub fn reset(&self) {
        let shared = &self.shared;
        shared.clock.reset();
        let fresh = Core::new(&shared.config, shared.clock.now_ms());
        {
            let mut core = shared.core();
            core.tasks.clear();
            *core = fresh;
        }
        shared.faults_active.store(!shared.config.faults.rules.is_empty(), Ordering::SeqCst);
        lock(&shared.journal).clear();
        shared.wake.notify_one();
    }

    /// A valid token for the first account, minted on the mock's clock exactly as
    /// Kling documents (for tests and examples).
    pub fn token(&self) -> String {
        let account = &self.shared.config.accounts[0];
        jwt::mint(&account.access_key, &account.secret_key, self.shared.clock.now_secs())
    }

    /// The number of journal records held.
    pub fn journal_len(&self) -> usize {
        lock(&self.shared.journal).len()
    }
}
