//! Stopping a run from outside: the CLI triggers an [`Interrupt`] from its SIGINT/SIGTERM
//! handler, and every scenario still running stops its client's process group at once.

use std::sync::Arc;

use tokio::sync::watch;

/// A handle that stops a harness run. Clones share the same state; trigger it from a
/// signal handler (or a test) and every running client is stopped, its whole process
/// group with it, and [`crate::run`] returns [`crate::HarnessError::Interrupted`].
#[derive(Debug, Clone)]
pub struct Interrupt {
    reason: Arc<watch::Sender<Option<String>>>,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::new()
    }
}

impl Interrupt {
    /// A handle that has not been triggered.
    pub fn new() -> Self {
        Interrupt { reason: Arc::new(watch::channel(None).0) }
    }

    /// Stop the run; `reason` ends up in the error message (e.g. "SIGINT"). Only the
    /// first reason is kept.
    pub fn trigger(&self, reason: impl Into<String>) {
        let reason = reason.into();
        self.reason.send_if_modified(|r| {
            if r.is_none() {
                *r = Some(reason);
                true
            } else {
                false
            }
        });
    }

    /// Why the run was stopped, once it has been.
    pub fn reason(&self) -> Option<String> {
        self.reason.borrow().clone()
    }

    /// Resolve once triggered.
    pub(crate) async fn triggered(&self) {
        let mut rx = self.reason.subscribe();
        // The sender lives in `self`, so `wait_for` can only end by seeing a reason.
        let _ = rx.wait_for(Option::is_some).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_reason_wins_and_waiters_wake() {
        let i = Interrupt::new();
        let waiter = {
            let i = i.clone();
            tokio::spawn(async move { i.triggered().await })
        };
        i.trigger("SIGINT");
        i.trigger("SIGTERM");
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await.unwrap().unwrap();
        assert_eq!(i.reason().as_deref(), Some("SIGINT"));
        // A waiter that arrives late returns at once.
        tokio::time::timeout(std::time::Duration::from_secs(5), i.triggered()).await.unwrap();
    }
}
