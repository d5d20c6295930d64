//! Wire types: the response envelope and the task object.

use serde::{Deserialize, Serialize};

/// Every JSON response: `{"code", "message", "request_id", "data"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// 0 on success, otherwise a business code from [`crate::codes`].
    pub code: u32,
    /// `"SUCCEED"` on success, otherwise a short message.
    pub message: String,
    /// A request id (a UUID).
    pub request_id: String,
    /// The payload; absent or null on errors.
    #[serde(default)]
    pub data: Option<T>,
}

/// The message of a successful envelope.
pub const SUCCEED_MESSAGE: &str = "SUCCEED";

/// The states of a task, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// Accepted, waiting for a worker.
    Submitted,
    /// Rendering.
    Processing,
    /// Done; `task_result` holds the output. (Kling spells it `succeed`.)
    Succeed,
    /// Done without output; `task_status_msg` says why.
    Failed,
}

impl TaskStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Submitted => "submitted",
            TaskStatus::Processing => "processing",
            TaskStatus::Succeed => "succeed",
            TaskStatus::Failed => "failed",
        }
    }

    /// Whether the task can change no more.
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskStatus::Succeed | TaskStatus::Failed)
    }
}

/// Every `task_status` value the API sends.
pub const STATUS_VALUES: &[&str] = &["submitted", "processing", "succeed", "failed"];

/// Status literals clients compare against that the API never sends.
pub const WRONG_STATUS_LITERALS: &[&str] = &["success", "completed", "succeeded", "done", "finished", "error"];

/// `task_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// The caller's own id, if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_task_id: Option<String>,
}

/// One rendered video.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Video {
    /// The video id (what video-extend and lip-sync take).
    pub id: String,
    /// A temporary CDN URL: download it promptly.
    pub url: String,
    /// Length in seconds, as a string (e.g. `"5"`).
    pub duration: String,
}

/// One generated image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Position in the batch.
    pub index: u32,
    /// A temporary CDN URL.
    pub url: String,
}

/// `task_result` of a finished task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskResult {
    /// Videos, for video resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub videos: Vec<Video>,
    /// Images, for the image resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,
}

/// A task, as queried and as `POSTed` to callbacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Kling's id for the task.
    pub task_id: String,
    /// Where the task is in its life.
    pub task_status: TaskStatus,
    /// Why a task failed (empty otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_status_msg: Option<String>,
    /// The caller's information.
    #[serde(default)]
    pub task_info: TaskInfo,
    /// The output, once `succeed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_result: Option<TaskResult>,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_spelling_matches_the_api() {
        let s = serde_json::to_string(&TaskStatus::Succeed).unwrap();
        assert_eq!(s, "\"succeed\"");
        for v in STATUS_VALUES {
            let parsed: TaskStatus = serde_json::from_str(&format!("\"{v}\"")).unwrap();
            assert_eq!(parsed.as_str(), *v);
        }
        for w in WRONG_STATUS_LITERALS {
            assert!(!STATUS_VALUES.contains(w));
        }
    }
}
