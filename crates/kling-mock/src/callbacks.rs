//! Callback delivery: on every status change after creation, POST the bare task object
//! (no envelope, as Kling does) to the task's `callback_url`, with a timeout and a
//! bounded retry, journaling every attempt.
//!
//! Deliveries of one task are chained, so a receiver always sees `processing` before
//! `succeed`/`failed` even when the first delivery is retried; deliveries of different
//! tasks run independently, so one slow receiver cannot hold up the others. Every
//! delivery stops when the mock shuts down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kling_api::types::Task;
use tokio::task::JoinHandle;

use crate::journal::{CallbackSummary, EntryKind, JournalEntry};
use crate::state::Shared;
use crate::tasks::TaskRecord;

/// Queue the delivery of `task` (the task as it stood at one status) to `url`, after
/// the task's previous delivery.
pub(crate) fn dispatch(shared: &Arc<Shared>, record: &mut TaskRecord, url: &str, task: Task) {
    let previous = record.callback_chain.take();
    let delivery = deliver(Arc::clone(shared), previous, url.to_owned(), task);
    record.callback_chain = Some(tokio::spawn(delivery));
}

async fn deliver(shared: Arc<Shared>, previous: Option<JoinHandle<()>>, url: String, task: Task) {
    let mut shutdown = shared.shutdown.subscribe();
    let work = async {
        if let Some(previous) = previous {
            // The previous delivery's outcome does not matter, only that it is over.
            let _ = previous.await;
        }
        attempts(&shared, &url, &task).await;
    };
    tokio::select! {
        () = work => {}
        () = crate::state::stopped(&mut shutdown) => {}
    }
}

async fn attempts(shared: &Shared, url: &str, task: &Task) {
    // Serialising a `Task` cannot fail: plain strings and numbers.
    let body = serde_json::to_vec(task).unwrap_or_default();
    let config = &shared.config.callbacks;
    for attempt in 1..=config.attempts {
        let started = Instant::now();
        let mut entry = JournalEntry::new(
            EntryKind::Callback,
            shared.clock.elapsed_ms_at(started),
            "POST",
            url,
            "callback",
            shared.clock.now_secs(),
        );
        entry.task_id = Some(task.task_id.clone());
        entry.task_status = Some(task.task_status.as_str().to_owned());
        let result = shared
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await;
        let delivered = match result {
            Ok(response) => {
                let status = response.status();
                // Read the answer so the connection can be reused; what it says is
                // of no interest.
                let _ = response.bytes().await;
                entry.status = Some(status.as_u16());
                entry.completed = true;
                entry.callback = Some(CallbackSummary { attempt, error: None });
                status.is_success()
            }
            Err(error) => {
                entry.callback = Some(CallbackSummary { attempt, error: Some(describe(&error)) });
                false
            }
        };
        entry.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        shared.record(entry);
        if delivered {
            return;
        }
        if attempt < config.attempts {
            let backoff = config.backoff_seconds * f64::from(1_u32 << (attempt - 1).min(16));
            tokio::time::sleep(Duration::from_secs_f64(backoff)).await;
        }
    }
}

/// The error and its causes on one line (reqwest's own message is often just
/// "error sending request").
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".to_owned();
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // reqwest repeats its causes in its own message at times.
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    if error.url().is_some_and(|u| u.scheme() == "https") {
        text.push_str(" (the mock delivers callbacks over plain http only: it carries no TLS, as it serves loopback)");
    }
    text
}
