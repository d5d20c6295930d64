//! Diagnostics: what a rule found, where, and how to fix it.

use std::path::PathBuf;

use serde::Serialize;

use crate::facts::Span;
use crate::source::Position;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; fails the gate only under `--fail-on info`.
    Info,
    /// Likely a problem; fails the gate under `--fail-on warning`.
    Warning,
    /// A defect; fails the gate by default.
    Error,
}

impl Severity {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parse `error`, `warning` or `info`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }
}

/// Whether a fix can be applied without a human looking at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Preserves the program's intent; applied by `--fix`.
    Safe,
    /// Probably right, but changes behaviour; shown, never applied automatically.
    Unsafe,
}

/// Replace the bytes of `span` with `content`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// First byte replaced.
    pub start: u32,
    /// One past the last byte replaced.
    pub end: u32,
    /// The replacement.
    pub content: String,
}

/// A fix: edits to apply together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// Whether `--fix` applies it.
    pub applicability: Applicability,
    /// What the fix does, for the help line.
    pub message: String,
    /// The edits, non-overlapping.
    pub edits: Vec<Edit>,
}

impl Fix {
    /// A safe fix replacing `span` with `content`.
    pub fn safe(message: impl Into<String>, span: Span, content: impl Into<String>) -> Fix {
        Fix {
            applicability: Applicability::Safe,
            message: message.into(),
            edits: vec![Edit { start: span.start, end: span.end, content: content.into() }],
        }
    }

    /// A safe fix inserting `content` at byte `at`.
    pub fn insert(message: impl Into<String>, at: u32, content: impl Into<String>) -> Fix {
        Fix::safe(message, Span { start: at, end: at }, content)
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// The rule id (`KL101`).
    pub rule: &'static str,
    /// The rule name (`duration-not-string`).
    pub name: &'static str,
    /// The severity, after configuration.
    pub severity: Severity,
    /// The file, as reported.
    pub path: PathBuf,
    /// The offending bytes.
    pub span: Span,
    /// Where the span starts.
    pub start: Position,
    /// Where the span ends.
    pub end: Position,
    /// What is wrong, specifically.
    pub message: String,
    /// A short label under the caret.
    pub label: Option<String>,
    /// How to fix it, in words.
    pub help: Option<String>,
    /// An automatic fix.
    pub fix: Option<Fix>,
}
