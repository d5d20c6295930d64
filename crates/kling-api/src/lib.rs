//! What the Kling AI video-generation API is, as data: the one source of truth that the
//! linter, the mock server and the harness all read.
//!
//! Everything here comes from Kling's published API reference as summarised in the
//! project's `KLING_API.md`; where a fact could not be confirmed the item's docs say so.
//!
//! ```
//! use kling_api::{codes::ErrorCode, models, resources::Resource};
//!
//! // The trap every integrator hits once: 1102 is HTTP 429 yet must not be retried.
//! let depleted = ErrorCode::from_code(1102).unwrap();
//! assert_eq!(depleted.http_status(), 429);
//! assert!(!depleted.retry().is_retryable());
//!
//! // kling-v2-1 serves image-to-video only.
//! let t2v = Resource::by_path("videos/text2video").unwrap();
//! assert!(!models::serves("kling-v2-1", t2v.id));
//! ```
#![deny(missing_docs)]

pub mod codes;
pub mod costs;
pub mod hosts;
pub mod jwt;
pub mod models;
pub mod params;
pub mod resources;
pub mod types;

pub use codes::ErrorCode;
pub use resources::{Resource, ResourceId};
pub use types::{Envelope, Task, TaskStatus};
