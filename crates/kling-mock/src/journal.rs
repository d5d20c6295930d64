//! The request journal: a bounded ring buffer of compact records of what clients did,
//! from which the harness judges them.
//!
//! One record per API request, CDN download and callback delivery attempt (`kind`).
//! Records are appended when the exchange ends, so `seq` orders completions while
//! `t_ms` (milliseconds since the mock started, monotonic) orders arrivals. A record
//! holds what judging needs and nothing secret: the JWT's header and claims and a
//! fingerprint of the token, never its signature nor any secret key; request bodies
//! are summarised (keys and small values, with JSON types preserved), never stored.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::faults::FiredFault;

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A request to the API (`/v1/...`, `/account/costs`, or an unknown route).
    Api,
    /// A download of a result from the mock's CDN.
    Cdn,
    /// One attempt to deliver a callback to a client's `callback_url`.
    Callback,
}

/// One record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Sequence number, in order of completion, never reused (also across resets).
    pub seq: u64,
    /// What the record is about.
    pub kind: EntryKind,
    /// When the request arrived (the attempt started, for callbacks), in milliseconds
    /// since the mock started, from a monotonic clock.
    pub t_ms: f64,
    /// How long until the answer was ready, or until the client left.
    pub duration_ms: f64,
    /// The TCP connection the request came on, numbered from 1 in order of acceptance;
    /// requests on a kept-alive connection share it. `None` outside a real server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conn: Option<u64>,
    /// HTTP method.
    pub method: String,
    /// The path (for callbacks: the whole `callback_url`).
    pub path: String,
    /// The raw query string, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// What the route is: `create`, `query`, `list`, `costs`, `download`, `callback`,
    /// or `unknown`.
    pub route: String,
    /// The task resource (`videos/text2video`...), for task routes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The HTTP status the mock answered, or would have answered when a connection
    /// fault swallowed the answer; `None` when there was none (client gone, delivery
    /// error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The business code of the answer's envelope (0 on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
    /// Whether the whole answer was handed to the client. False when the client left
    /// first (see `client_gone_ms`) or a `reset`/`empty`/`truncate` fault swallowed it.
    pub completed: bool,
    /// When the client was seen to give up (closed its connection before the answer),
    /// in the same time base as `t_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_gone_ms: Option<f64>,
    /// The mock's clock (Unix seconds, as moved by `/__admin/clock`) at arrival: what
    /// `exp`, `nbf` and URL lifetimes were judged against.
    pub clock_s: i64,
    /// The `Authorization` header's shape with the token replaced by `<jwt>` (or
    /// `<opaque:N>` for other credentials), e.g. `Bearer <jwt>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// The JWT's decoded header and claims, when it decoded.
    /// Shared between the records of requests that sent the same token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<Arc<JwtSummary>>,
    /// Why authentication failed, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_error: Option<String>,
    /// The access key the request was authenticated as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// A summary of the request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Box<BodySummary>>,
    /// The fault that fired on this request, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FiredFault>,
    /// The task the request created, read or (for callbacks and downloads) concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// The task's status in the answer (or in the callback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_status: Option<String>,
    /// Details of a CDN download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cdn: Option<CdnSummary>,
    /// Details of a callback delivery attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackSummary>,
}

/// A JWT as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JwtSummary {
    /// The JOSE header (`alg`, `typ`...).
    pub header: Map<String, Value>,
    /// The claims (`iss`, `exp`, `nbf`, `iat`...), with any secret key redacted.
    pub claims: Map<String, Value>,
    /// [`token_fingerprint`] of the whole token: equal tokens have equal fingerprints,
    /// so reuse can be judged without keeping the token.
    pub fingerprint: String,
}

/// A request body, summarised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BodySummary {
    /// Size in bytes.
    pub bytes: usize,
    /// The `Content-Type` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// [`fingerprint`] of the raw bytes: a resent body has the same one.
    pub sha256: String,
    /// Why the body is not JSON, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_error: Option<String>,
    /// Top-level keys, in the order sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// `model_name` as sent (any JSON type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<Value>,
    /// `duration` as sent, keeping its JSON type: `"5"` and `5` differ here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Value>,
    /// `mode` as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Value>,
    /// `aspect_ratio` as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspect_ratio: Option<Value>,
    /// `sound` as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sound: Option<Value>,
    /// `cfg_scale` as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cfg_scale: Option<Value>,
    /// `external_task_id` as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_task_id: Option<Value>,
    /// `callback_url` as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<Value>,
    /// Whether a non-empty `negative_prompt` was sent.
    pub negative_prompt: bool,
    /// The prompt's length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_chars: Option<usize>,
    /// The prompt's first characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_preview: Option<String>,
    /// What `image` is: `url`, `base64` or `data-uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// What `image_tail` is: `url`, `base64` or `data-uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tail: Option<String>,
}

/// A CDN download.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdnSummary {
    /// The asset (video or image id).
    pub asset: String,
    /// When the URL expires, in the mock's clock (Unix milliseconds).
    pub expires_ms: i64,
    /// Whether it had expired (403).
    pub expired: bool,
    /// Bytes served.
    pub bytes: usize,
    /// [`fingerprint`] of the bytes served, to compare with what the client saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// A callback delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackSummary {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Why the attempt failed without an HTTP status (timeout, refused...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The first 16 hex digits of the SHA-256 of `bytes`.
pub fn fingerprint(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes)[..8])
}

/// Lower-case hexadecimal (by table: this runs on every request).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The fingerprint the journal gives a token (`jwt.fingerprint`): to check whether a
/// string found in a client's output is a token it sent, compare fingerprints.
pub fn token_fingerprint(token: &str) -> String {
    fingerprint(token.as_bytes())
}

const PREVIEW_CHARS: usize = 40;
const MAX_VALUE_CHARS: usize = 200;
const MAX_KEYS: usize = 64;

impl BodySummary {
    /// Summarise raw bytes (and their parse, when the caller has one).
    pub(crate) fn of(bytes: &[u8], content_type: Option<&str>, parsed: Result<&Value, String>) -> Self {
        let mut s = BodySummary {
            bytes: bytes.len(),
            content_type: content_type.map(|c| clip(c, MAX_VALUE_CHARS)),
            sha256: fingerprint(bytes),
            ..BodySummary::default()
        };
        match parsed {
            Err(e) => s.json_error = Some(e),
            Ok(Value::Object(obj)) => {
                s.keys = obj.keys().take(MAX_KEYS).map(|k| clip(k, 64)).collect();
                let small = |k: &str| obj.get(k).map(small_value);
                s.model_name = small("model_name");
                s.duration = small("duration");
                s.mode = small("mode");
                s.aspect_ratio = small("aspect_ratio");
                s.sound = small("sound");
                s.cfg_scale = small("cfg_scale");
                s.external_task_id = small("external_task_id");
                s.callback_url = small("callback_url");
                s.negative_prompt = obj
                    .get("negative_prompt")
                    .is_some_and(|v| v.as_str().is_none_or(|t| !t.trim().is_empty()) && !v.is_null());
                if let Some(Value::String(p)) = obj.get("prompt") {
                    s.prompt_chars = Some(p.chars().count());
                    s.prompt_preview = Some(p.chars().take(PREVIEW_CHARS).collect());
                }
                s.image = obj.get("image").and_then(image_kind);
                s.image_tail = obj.get("image_tail").and_then(image_kind);
            }
            Ok(other) => {
                s.json_error = Some(format!("the body is {}, not an object", kling_api::params::kind_of(other)));
            }
        }
        s
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// Scalars as they are (long strings clipped); containers as a word, so a record stays
/// small whatever a client sends.
fn small_value(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(clip(s, MAX_VALUE_CHARS)),
        Value::Array(a) => Value::String(format!("<array of {}>", a.len())),
        Value::Object(o) => Value::String(format!("<object with {} keys>", o.len())),
        other => other.clone(),
    }
}

fn image_kind(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    Some(if kling_api::params::is_data_uri(s) {
        "data-uri".into()
    } else if s.starts_with("http://") || s.starts_with("https://") {
        "url".into()
    } else {
        "base64".into()
    })
}

/// Reduce a JSON object to a bounded size: at most 32 keys, strings clipped.
pub(crate) fn compact_map(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter().take(32).map(|(k, v)| (clip(k, 64), small_value(v))).collect()
}

/// The ring buffer.
#[derive(Debug)]
pub(crate) struct Journal {
    capacity: usize,
    entries: VecDeque<JournalEntry>,
    next_seq: u64,
}

/// Which records to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalQuery {
    /// Only records with a `seq` above this.
    #[serde(default)]
    pub since: Option<u64>,
    /// Only records of this kind.
    #[serde(default)]
    pub kind: Option<EntryKind>,
    /// At most this many (the latest).
    #[serde(default)]
    pub limit: Option<usize>,
}

impl Journal {
    pub(crate) fn new(capacity: usize) -> Self {
        Journal { capacity, entries: VecDeque::with_capacity(capacity.min(1024)), next_seq: 1 }
    }

    /// Append a record, numbering it; returns the oldest one if it had to make room.
    pub(crate) fn push(&mut self, mut entry: JournalEntry) -> Option<JournalEntry> {
        entry.seq = self.next_seq;
        self.next_seq += 1;
        let evicted = if self.entries.len() == self.capacity { self.entries.pop_front() } else { None };
        self.entries.push_back(entry);
        evicted
    }

    pub(crate) fn read(&self, query: &JournalQuery) -> Vec<JournalEntry> {
        let mut out: Vec<JournalEntry> = self
            .entries
            .iter()
            .filter(|e| query.since.is_none_or(|s| e.seq > s))
            .filter(|e| query.kind.is_none_or(|k| e.kind == k))
            .cloned()
            .collect();
        if let Some(limit) = query.limit
            && out.len() > limit
        {
            out.drain(..out.len() - limit);
        }
        out
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Forget every record; sequence numbers keep counting so a reader polling with
    /// `since` never misses records made after a reset.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

impl JournalEntry {
    pub(crate) fn new(kind: EntryKind, t_ms: f64, method: &str, path: &str, route: &'static str, clock_s: i64) -> Self {
        JournalEntry {
            seq: 0,
            kind,
            t_ms,
            duration_ms: 0.0,
            conn: None,
            method: method.to_owned(),
            path: path.to_owned(),
            query: None,
            route: route.to_owned(),
            resource: None,
            status: None,
            code: None,
            completed: false,
            client_gone_ms: None,
            clock_s,
            authorization: None,
            jwt: None,
            auth_error: None,
            account: None,
            body: None,
            fault: None,
            task_id: None,
            task_status: None,
            cdn: None,
            callback: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ring_buffer_keeps_the_latest() {
        let mut j = Journal::new(3);
        for i in 0..5 {
            j.push(JournalEntry::new(EntryKind::Api, f64::from(i), "GET", "/", "unknown", 0));
        }
        let all = j.read(&JournalQuery::default());
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5]);
        let since = j.read(&JournalQuery { since: Some(4), ..JournalQuery::default() });
        assert_eq!(since.len(), 1);
        let last = j.read(&JournalQuery { limit: Some(2), ..JournalQuery::default() });
        assert_eq!(last[0].seq, 4);
        j.clear();
        j.push(JournalEntry::new(EntryKind::Cdn, 0.0, "GET", "/", "download", 0));
        assert_eq!(j.read(&JournalQuery::default())[0].seq, 6);
    }

    #[test]
    fn body_summary_keeps_json_types() {
        let body = json!({"model_name": "kling-v1", "prompt": "a fox in the snow", "duration": 5,
            "negative_prompt": "blur", "image": "data:image/png;base64,AAAA", "camera_control": {"type": "simple"}});
        let bytes = serde_json::to_vec(&body).unwrap();
        let s = BodySummary::of(&bytes, Some("application/json"), Ok(&body));
        assert_eq!(s.duration, Some(json!(5)));
        assert!(s.negative_prompt);
        assert_eq!(s.prompt_chars, Some(17));
        assert_eq!(s.image.as_deref(), Some("data-uri"));
        assert!(s.keys.contains(&"camera_control".to_owned()));
        let s = BodySummary::of(b"{", None, Err("EOF".into()));
        assert_eq!(s.json_error.as_deref(), Some("EOF"));
        assert_eq!(s.sha256.len(), 16);
    }
}
