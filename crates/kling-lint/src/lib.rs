//! The kling-preflight linter: finds the documented Kling API pitfalls in Python,
//! JavaScript, TypeScript, Go and Rust code and in JSON, YAML, TOML and `.env`
//! configs.
//!
//! A scan walks the tree, skips every file without a Kling marker, lowers the rest
//! into a small common fact model (see [`facts`]) with one frontend per language, and
//! runs rules written once against that model.
//!
//! ```no_run
//! use kling_lint::{LintOptions, lint};
//! let report = lint(&[".".into()], &LintOptions::default()).unwrap();
//! for d in &report.diagnostics {
//!     println!("{}:{}:{}: {} {}", d.path.display(), d.start.line, d.start.column, d.rule, d.message);
//! }
//! ```
#![deny(missing_docs)]

pub(crate) mod analysis;
pub mod baseline;
pub mod config;
pub mod diagnostic;
pub(crate) mod discover;
pub mod facts;
pub mod fix;
pub mod frontend;
pub mod lang;
pub mod prefilter;
pub mod render;
pub mod rules;
mod scan;
pub mod source;
pub(crate) mod suppress;

pub use analysis::ContextOptions;
pub use diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
pub use rules::RuleSettings;
pub use scan::{Error, LintOptions, Report, lint};
