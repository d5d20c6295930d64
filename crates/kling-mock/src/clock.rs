//! The mock's clock: a wall clock that tests can move forward (or back) without waiting.
//!
//! It is derived from a monotonic [`Instant`] taken at start plus an adjustable offset,
//! so a change of the machine's own clock never disturbs a run, and moving the mock's
//! clock shifts everything that is judged against it at once: token `nbf`/`exp`, task
//! lifecycles and result-URL lifetimes. Journal times, by contrast, use the monotonic
//! part only, because they measure what clients really did.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A movable wall clock.
#[derive(Debug)]
pub(crate) struct Clock {
    start: Instant,
    epoch_ms_at_start: i64,
    offset_ms: AtomicI64,
}

impl Clock {
    pub(crate) fn new() -> Self {
        let epoch_ms_at_start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Clock { start: Instant::now(), epoch_ms_at_start, offset_ms: AtomicI64::new(0) }
    }

    /// Milliseconds since the mock started, from the monotonic clock (journal time).
    pub(crate) fn elapsed_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    /// Milliseconds since the mock started at a given instant.
    pub(crate) fn elapsed_ms_at(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.start).as_secs_f64() * 1000.0
    }

    /// The mock's wall clock, in milliseconds since the Unix epoch.
    pub(crate) fn now_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.epoch_ms_at_start.saturating_add(elapsed).saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// The mock's wall clock, in seconds since the Unix epoch (what JWT claims use).
    pub(crate) fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Move the clock by `seconds` (negative moves it back). Returns the total offset.
    pub(crate) fn advance(&self, seconds: f64) -> i64 {
        let delta = (seconds * 1000.0).round() as i64;
        self.offset_ms.fetch_add(delta, Ordering::Relaxed) + delta
    }

    /// How far the clock has been moved, in milliseconds.
    pub(crate) fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Undo every move.
    pub(crate) fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }

    /// How long to wait in real time until the mock's clock reads `mock_ms`.
    pub(crate) fn real_delay_until(&self, mock_ms: i64) -> Duration {
        let ahead = mock_ms.saturating_sub(self.now_ms());
        Duration::from_millis(u64::try_from(ahead).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_the_wall_clock_but_not_the_journal_clock() {
        let clock = Clock::new();
        let before = clock.now_ms();
        let elapsed = clock.elapsed_ms();
        assert_eq!(clock.advance(1800.0), 1_800_000);
        assert!(clock.now_ms() >= before + 1_800_000);
        assert!(clock.elapsed_ms() - elapsed < 1000.0);
        assert_eq!(clock.real_delay_until(before), Duration::ZERO);
        clock.reset();
        assert_eq!(clock.offset_ms(), 0);
    }
}
