//! The generic task store: every task resource (text2video, image2video, images, ...)
//! shares one mechanism, parameterised by the resource's description in `kling-api`.
//!
//! A task's status is a pure function of the mock's clock (created → `submitted` →
//! `processing` → `succeed`/`failed`), so a query always sees the exact status however
//! late the background driver runs, and moving the clock moves every task at once. The
//! store *materialises* that function into each record (`status`, `updated_at`, and a
//! history of transitions), which is what callbacks are dispatched from.

use std::collections::HashMap;

use kling_api::resources::{Resource, ResultKind};
use kling_api::types::{Image, Task, TaskInfo, TaskResult, TaskStatus, Video};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use crate::cdn::UrlSigner;
use crate::config::TimingConfig;

/// How a task will end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Succeed,
    Fail(String),
    Stuck,
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Succeed => "succeed",
            Outcome::Fail(_) => "failed",
            Outcome::Stuck => "stuck",
        }
    }
}

/// One output of a task (a video or an image).
#[derive(Debug, Clone)]
pub(crate) struct Asset {
    pub(crate) id: String,
    pub(crate) index: u32,
}

/// A task as the store keeps it.
#[derive(Debug)]
pub(crate) struct TaskRecord {
    pub(crate) id: String,
    pub(crate) resource: &'static Resource,
    pub(crate) account: String,
    pub(crate) external_task_id: Option<String>,
    pub(crate) created_ms: i64,
    pub(crate) status: TaskStatus,
    pub(crate) updated_ms: i64,
    pub(crate) outcome: Outcome,
    pub(crate) callback_url: Option<String>,
    pub(crate) units: f64,
    pub(crate) model: Option<String>,
    pub(crate) mode: String,
    pub(crate) duration_secs: u32,
    pub(crate) assets: Vec<Asset>,
    /// Every status reached after creation, with the mock time it was reached.
    pub(crate) history: Vec<(TaskStatus, i64)>,
    /// How many entries of `history` callbacks have been dispatched for.
    pub(crate) notified: usize,
    /// The last callback delivery of this task; the next one waits for it, so a
    /// receiver sees `processing` before `succeed`.
    pub(crate) callback_chain: Option<JoinHandle<()>>,
}

/// A task as the admin API and [`crate::MockKling::tasks`] show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSnapshot {
    /// The task id.
    pub task_id: String,
    /// The resource (`videos/text2video`...).
    pub resource: String,
    /// The access key that created it.
    pub account: String,
    /// The caller's `external_task_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_task_id: Option<String>,
    /// The status now.
    pub task_status: TaskStatus,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_status_msg: Option<String>,
    /// Creation time (mock clock, Unix ms).
    pub created_at: i64,
    /// Last change (mock clock, Unix ms).
    pub updated_at: i64,
    /// How it is scripted to end: `succeed`, `failed` or `stuck`.
    pub outcome: String,
    /// The `callback_url` it was created with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Credit units charged (refunded when it fails).
    pub units: f64,
    /// The model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The mode.
    pub mode: String,
    /// The requested duration in seconds.
    pub duration_secs: u32,
    /// Ids of the outputs (video ids, or image ids).
    pub assets: Vec<String>,
}

/// A task's state at one status, ready to render without the store.
#[derive(Debug, Clone)]
pub(crate) struct TaskView {
    task_id: String,
    result_kind: ResultKind,
    status: TaskStatus,
    status_msg: Option<String>,
    external_task_id: Option<String>,
    created_ms: i64,
    updated_ms: i64,
    duration_secs: u32,
    assets: Vec<Asset>,
}

impl TaskView {
    /// The wire form, with result URLs signed per `urls`.
    pub(crate) fn render(self, urls: &UrlContext<'_>) -> Task {
        let task_result = (self.status == TaskStatus::Succeed).then(|| self.result(urls));
        Task {
            task_id: self.task_id,
            task_status: self.status,
            task_status_msg: self.status_msg,
            task_info: TaskInfo { external_task_id: self.external_task_id },
            task_result,
            created_at: self.created_ms,
            updated_at: self.updated_ms,
        }
    }

    fn result(&self, urls: &UrlContext<'_>) -> TaskResult {
        let url = |asset: &Asset, ext: &str| urls.signer.url(urls.base, &self.task_id, &asset.id, ext, urls.expires_ms);
        match self.result_kind {
            ResultKind::Video => TaskResult {
                videos: self
                    .assets
                    .iter()
                    .map(|a| Video { id: a.id.clone(), url: url(a, "mp4"), duration: self.duration_secs.to_string() })
                    .collect(),
                images: Vec::new(),
            },
            ResultKind::Image => TaskResult {
                videos: Vec::new(),
                images: self.assets.iter().map(|a| Image { index: a.index, url: url(a, "png") }).collect(),
            },
        }
    }
}

/// Where and for how long result URLs are valid, for one rendering.
pub(crate) struct UrlContext<'a> {
    pub(crate) base: &'a str,
    pub(crate) signer: &'a UrlSigner,
    /// The URLs' expiry (mock clock, Unix ms).
    pub(crate) expires_ms: i64,
}

impl TaskRecord {
    /// The status the clock says the task has at `now_ms`, and since when.
    fn scheduled_status(&self, now_ms: i64, timing: &Timing) -> (TaskStatus, i64) {
        let processing_at = self.created_ms + timing.submitted_ms;
        let done_at = self.created_ms + timing.task_ms;
        if now_ms < processing_at {
            (TaskStatus::Submitted, self.created_ms)
        } else if now_ms < done_at || self.outcome == Outcome::Stuck {
            (TaskStatus::Processing, processing_at)
        } else if matches!(self.outcome, Outcome::Fail(_)) {
            (TaskStatus::Failed, done_at)
        } else {
            (TaskStatus::Succeed, done_at)
        }
    }

    /// Bring `status` up to date. Statuses never move back, even if the clock does.
    /// Returns whether the task just became `failed` (so its credits can be refunded).
    pub(crate) fn materialize(&mut self, now_ms: i64, timing: &Timing) -> bool {
        if self.status.is_terminal() {
            return false;
        }
        let (target, since) = self.scheduled_status(now_ms, timing);
        if rank(target) <= rank(self.status) {
            return false;
        }
        if self.status == TaskStatus::Submitted {
            let processing_at = self.created_ms + timing.submitted_ms;
            self.history.push((TaskStatus::Processing, processing_at));
            self.updated_ms = processing_at;
        }
        if target.is_terminal() {
            self.history.push((target, since));
            self.updated_ms = since;
        }
        self.status = target;
        target == TaskStatus::Failed
    }

    /// When the task will next change, if ever (mock clock, Unix ms).
    pub(crate) fn next_change(&self, timing: &Timing) -> Option<i64> {
        match self.status {
            TaskStatus::Submitted => Some(self.created_ms + timing.submitted_ms),
            TaskStatus::Processing if self.outcome != Outcome::Stuck => Some(self.created_ms + timing.task_ms),
            _ => None,
        }
    }

    /// What rendering the task as it stood at `status` needs (the current status, or a
    /// past one when a callback for it is delivered late). Taken under the store's lock
    /// so that the rendering itself (URL signing, formatting) can happen outside it.
    pub(crate) fn view(&self, status: TaskStatus, updated_ms: i64) -> TaskView {
        TaskView {
            task_id: self.id.clone(),
            result_kind: self.resource.result,
            status,
            status_msg: match (&self.outcome, status) {
                (Outcome::Fail(msg), TaskStatus::Failed) => Some(msg.clone()),
                _ => None,
            },
            external_task_id: self.external_task_id.clone(),
            created_ms: self.created_ms,
            updated_ms,
            duration_secs: self.duration_secs,
            assets: if status == TaskStatus::Succeed { self.assets.clone() } else { Vec::new() },
        }
    }

    /// The current state, to render.
    pub(crate) fn view_now(&self) -> TaskView {
        self.view(self.status, self.updated_ms)
    }

    /// The wire form of the task as it stood at `status`.
    pub(crate) fn render(&self, status: TaskStatus, updated_ms: i64, urls: &UrlContext<'_>) -> Task {
        self.view(status, updated_ms).render(urls)
    }

    pub(crate) fn snapshot(&self) -> TaskSnapshot {
        TaskSnapshot {
            task_id: self.id.clone(),
            resource: self.resource.path.to_owned(),
            account: self.account.clone(),
            external_task_id: self.external_task_id.clone(),
            task_status: self.status,
            task_status_msg: match (&self.outcome, self.status) {
                (Outcome::Fail(msg), TaskStatus::Failed) => Some(msg.clone()),
                _ => None,
            },
            created_at: self.created_ms,
            updated_at: self.updated_ms,
            outcome: self.outcome.label().to_owned(),
            callback_url: self.callback_url.clone(),
            units: self.units,
            model: self.model.clone(),
            mode: self.mode.clone(),
            duration_secs: self.duration_secs,
            assets: self.assets.iter().map(|a| a.id.clone()).collect(),
        }
    }
}

fn rank(status: TaskStatus) -> u8 {
    match status {
        TaskStatus::Submitted => 0,
        TaskStatus::Processing => 1,
        TaskStatus::Succeed | TaskStatus::Failed => 2,
    }
}

/// Task timing in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) submitted_ms: i64,
    pub(crate) task_ms: i64,
}

impl From<&TimingConfig> for Timing {
    fn from(t: &TimingConfig) -> Self {
        Timing {
            submitted_ms: (t.submitted_seconds * 1000.0).round() as i64,
            task_ms: (t.task_seconds * 1000.0).round() as i64,
        }
    }
}

/// Every task, with indexes by id, by `(account, external_task_id)` and by video id.
#[derive(Debug, Default)]
pub(crate) struct TaskStore {
    tasks: Vec<TaskRecord>,
    by_id: HashMap<String, usize>,
    by_external: HashMap<(String, String), usize>,
    by_asset: HashMap<String, usize>,
    /// Tasks not yet ended (the driver and the concurrency count only look at these).
    active: Vec<usize>,
}

impl TaskStore {
    pub(crate) fn insert(&mut self, record: TaskRecord) -> usize {
        let index = self.tasks.len();
        self.by_id.insert(record.id.clone(), index);
        if let Some(ext) = &record.external_task_id {
            self.by_external.insert((record.account.clone(), ext.clone()), index);
        }
        for asset in &record.assets {
            self.by_asset.insert(asset.id.clone(), index);
        }
        self.tasks.push(record);
        self.active.push(index);
        index
    }

    pub(crate) fn get(&self, index: usize) -> &TaskRecord {
        &self.tasks[index]
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> &mut TaskRecord {
        &mut self.tasks[index]
    }

    /// A task of `account` on `resource` by task id or external task id.
    pub(crate) fn find(&self, account: &str, resource: &Resource, id: &str) -> Option<usize> {
        let by_id = self.by_id.get(id).copied();
        let found = by_id
            .filter(|&i| self.tasks[i].account == account)
            .or_else(|| self.by_external.get(&(account.to_owned(), id.to_owned())).copied());
        found.filter(|&i| self.tasks[i].resource.id == resource.id)
    }

    /// The task that already uses `external_task_id` for `account`.
    pub(crate) fn find_external(&self, account: &str, external_task_id: &str) -> Option<&TaskRecord> {
        self.by_external.get(&(account.to_owned(), external_task_id.to_owned())).map(|&i| &self.tasks[i])
    }

    /// The task that produced the video or image `asset`.
    pub(crate) fn find_asset(&self, asset: &str) -> Option<&TaskRecord> {
        self.by_asset.get(asset).map(|&i| &self.tasks[i])
    }

    /// Tasks of `account` on `resource`, newest first.
    pub(crate) fn list<'a>(&'a self, account: &'a str, resource: &Resource) -> impl Iterator<Item = usize> + 'a {
        let resource = resource.id;
        (0..self.tasks.len())
            .rev()
            .filter(move |&i| self.tasks[i].account == account && self.tasks[i].resource.id == resource)
    }

    /// Indexes of tasks that have not ended.
    pub(crate) fn active(&self) -> &[usize] {
        &self.active
    }

    /// Drop ended tasks from the active list.
    pub(crate) fn prune_active(&mut self) {
        let tasks = &self.tasks;
        self.active.retain(|&i| !tasks[i].status.is_terminal());
    }

    pub(crate) fn all(&self) -> &[TaskRecord] {
        &self.tasks
    }

    /// Forget every task, stopping their pending callback deliveries.
    pub(crate) fn clear(&mut self) {
        for task in &mut self.tasks {
            if let Some(chain) = task.callback_chain.take() {
                chain.abort();
            }
        }
        *self = TaskStore::default();
    }

    /// A new task id: 18 digits, like Kling's, and never one already used.
    pub(crate) fn new_task_id(&self) -> String {
        let mut rng = rand::rng();
        loop {
            let id = format!("8{:017}", rng.random_range(0..100_000_000_000_000_000_u64));
            if !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }
}

/// A new asset id (a UUID, as Kling's video ids are).
pub(crate) fn new_asset_id() -> String {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kling_api::resources::ResourceId;

    fn record(outcome: Outcome) -> TaskRecord {
        TaskRecord {
            id: "1".into(),
            resource: Resource::get(ResourceId::Text2Video),
            account: "ak".into(),
            external_task_id: None,
            created_ms: 1000,
            status: TaskStatus::Submitted,
            updated_ms: 1000,
            outcome,
            callback_url: None,
            units: 1.0,
            model: None,
            mode: "std".into(),
            duration_secs: 5,
            assets: vec![],
            history: vec![],
            notified: 0,
            callback_chain: None,
        }
    }

    const TIMING: Timing = Timing { submitted_ms: 500, task_ms: 2000 };

    #[test]
    fn lifecycle_follows_the_clock_and_records_every_step() {
        let mut t = record(Outcome::Succeed);
        assert!(!t.materialize(1200, &TIMING));
        assert_eq!(t.status, TaskStatus::Submitted);
        assert_eq!(t.next_change(&TIMING), Some(1500));
        t.materialize(5000, &TIMING);
        assert_eq!(t.status, TaskStatus::Succeed);
        assert_eq!(t.updated_ms, 3000);
        assert_eq!(t.history, [(TaskStatus::Processing, 1500), (TaskStatus::Succeed, 3000)]);
        // The clock moving back never moves a task back.
        t.materialize(0, &TIMING);
        assert_eq!(t.status, TaskStatus::Succeed);
    }

    #[test]
    fn stuck_and_failed_outcomes() {
        let mut stuck = record(Outcome::Stuck);
        stuck.materialize(i64::MAX / 2, &TIMING);
        assert_eq!(stuck.status, TaskStatus::Processing);
        assert_eq!(stuck.next_change(&TIMING), None);
        let mut failed = record(Outcome::Fail("no".into()));
        assert!(failed.materialize(3000, &TIMING));
        assert_eq!(failed.snapshot().task_status_msg.as_deref(), Some("no"));
    }
}
