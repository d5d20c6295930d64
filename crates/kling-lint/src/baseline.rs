//! Baselines: record today's findings so that only new ones fail the gate.
//!
//! A finding is identified by its rule, its path and a fingerprint of the code it
//! points at (the whitespace-normalised text of its first line and of its span), not
//! by its line number, so entries survive code moving up or down. Identical findings
//! in one file are told apart by their order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::scan::Report;
use crate::source::SourceFile;

/// One recorded finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The rule id.
    pub rule: String,
    /// The path, with `/` separators.
    pub path: String,
    /// The code fingerprint (see the module docs).
    pub fingerprint: String,
    /// Where the finding was when recorded, for people reading the file.
    pub line: u32,
    /// The message when recorded, for people reading the file.
    pub message: String,
}

/// A baseline file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// Format version.
    pub version: u32,
    /// The recorded findings.
    pub findings: Vec<Entry>,
}

/// A baseline file that could not be read.
#[derive(Debug)]
pub struct BaselineError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for BaselineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for BaselineError {}

/// 64-bit FNV-1a: stable across runs, platforms and versions, which a baseline needs
/// and `std`'s hasher does not promise.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The fingerprint of a finding, without its occurrence index.
pub fn code_fingerprint(d: &Diagnostic, source: Option<&SourceFile>) -> String {
    let (line, span) = source.map_or((String::new(), String::new()), |s| {
        let line = s.slice(s.line_span(s.line_index(d.span.start)));
        let end = (d.span.end as usize).min(s.text.len()).max(d.span.start as usize);
        let span = s.text.get(d.span.start as usize..end).unwrap_or("");
        (normalise(line), normalise(span))
    });
    let path = d.path.to_string_lossy().replace('\\', "/");
    format!("{:016x}", fnv1a(&[d.rule, &path, &line, &span]))
}

/// Every finding's full fingerprint: the code fingerprint plus `:n` for the n-th
/// identical finding in the file. In report order.
pub fn fingerprints(report: &Report) -> Vec<String> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    report
        .diagnostics
        .iter()
        .map(|d| {
            let fp = code_fingerprint(d, report.sources.get(&d.path).map(|s| &**s));
            let n = seen.entry((d.path.to_string_lossy().into_owned(), fp.clone())).or_default();
            *n += 1;
            format!("{fp}:{n}")
        })
        .collect()
}

impl Baseline {
    /// The baseline of a report's findings.
    pub fn from_report(report: &Report) -> Baseline {
        let findings = report
            .diagnostics
            .iter()
            .zip(fingerprints(report))
            .map(|(d, fingerprint)| Entry {
                rule: d.rule.to_owned(),
                path: d.path.to_string_lossy().replace('\\', "/"),
                fingerprint,
                line: d.start.line,
                message: d.message.clone(),
            })
            .collect();
        Baseline { version: 1, findings }
    }

    /// Read a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let err = |message: String| BaselineError { path: path.to_path_buf(), message };
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(format!("cannot read it: {e}; create it with --write-baseline")))?;
        let b: Baseline = serde_json::from_str(&text)
            .map_err(|e| err(format!("not a kling-preflight baseline ({e}); regenerate it with --write-baseline")))?;
        if b.version != 1 {
            return Err(err(format!(
                "baseline version {} is not supported; regenerate it with --write-baseline",
                b.version
            )));
        }
        Ok(b)
    }

    /// The baseline as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("baselines serialise") + "\n"
    }

    /// Drop the findings the baseline records from `report`; return the baseline
    /// entries that matched nothing (fixed, or changed beyond recognition).
    pub fn apply(&self, report: &mut Report) -> Vec<Entry> {
        let fps = fingerprints(report);
        let mut recorded: HashMap<(&str, &str, &str), usize> = HashMap::new();
        for (i, e) in self.findings.iter().enumerate() {
            recorded.insert((&e.rule, &e.path, &e.fingerprint), i);
        }
        let mut used = vec![false; self.findings.len()];
        let mut keep = Vec::with_capacity(report.diagnostics.len());
        for (d, fp) in report.diagnostics.drain(..).zip(fps) {
            let path = d.path.to_string_lossy().replace('\\', "/");
            match recorded.get(&(d.rule, path.as_str(), fp.as_str())) {
                Some(&i) if !used[i] => used[i] = true,
                _ => keep.push(d),
            }
        }
        report.diagnostics = keep;
        self.findings.iter().zip(used).filter(|(_, u)| !u).map(|(e, _)| e.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        // Pinned: a baseline written today must match tomorrow.
        assert_eq!(fnv1a(&["KL101", "a.py"]), 0x84af_6ab1_4938_f244);
        assert_ne!(fnv1a(&["a", "b"]), fnv1a(&["ab", ""]));
    }
}
