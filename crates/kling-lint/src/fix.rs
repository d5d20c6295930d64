//! Applying safe fixes: `--fix` writes them, `--diff` prints them.
//!
//! Per file, the safe fixes whose edits do not overlap are applied together (a fix
//! that overlaps one already chosen waits for the next pass, after a re-lint). The
//! result must still parse, or the file is left alone; a file with a parse error is
//! never touched; files are written atomically (a temporary file in the same
//! directory, renamed over the original, permissions kept).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{Applicability, Edit};
use crate::frontend::{self, Extent};
use crate::scan::Report;
use crate::source::SourceFile;

/// The fixed text of one file.
#[derive(Clone, Debug)]
pub struct FilePatch {
    /// The file, as reported.
    pub path: PathBuf,
    /// Its text before.
    pub original: Arc<str>,
    /// Its text after.
    pub fixed: String,
    /// How many findings the patch fixes.
    pub fixes: usize,
}

/// The patches that applying every safe fix in `report` would make.
pub fn plan(report: &Report) -> Vec<FilePatch> {
    let mut by_file: std::collections::BTreeMap<&Path, Vec<&crate::diagnostic::Diagnostic>> =
        std::collections::BTreeMap::new();
    for d in &report.diagnostics {
        by_file.entry(&d.path).or_default().push(d);
    }
    let mut out = Vec::new();
    for (path, diags) in by_file {
        // Never edit a file we could not parse.
        if diags.iter().any(|d| d.rule == "KL001") {
            continue;
        }
        let Some(source) = report.sources.get(path) else { continue };
        let mut fixes: Vec<&[Edit]> = diags
            .iter()
            .filter_map(|d| d.fix.as_ref())
            .filter(|f| f.applicability == Applicability::Safe && !f.edits.is_empty())
            .map(|f| f.edits.as_slice())
            .collect();
        fixes.sort_by_key(|edits| edits.iter().map(|e| e.start).min());
        let mut chosen: Vec<&Edit> = Vec::new();
        let mut count = 0;
        for edits in fixes {
            // The same edit twice (two findings on one shared header) is one edit.
            let fresh: Vec<&Edit> = edits.iter().filter(|e| !chosen.contains(e)).collect();
            let clashes = fresh.iter().any(|e| chosen.iter().any(|c| overlaps(c, e)));
            if clashes {
                continue;
            }
            chosen.extend(fresh);
            count += 1;
        }
        if chosen.is_empty() {
            continue;
        }
        chosen.sort_by_key(|e| (e.start, e.end));
        let mut fixed = String::with_capacity(source.text.len() + 64);
        let mut at = 0usize;
        for e in &chosen {
            fixed.push_str(&source.text[at..e.start as usize]);
            fixed.push_str(&e.content);
            at = e.end as usize;
        }
        fixed.push_str(&source.text[at..]);
        // A fix must leave a file that still parses; otherwise leave it as it was.
        let check = SourceFile::new(source.path.clone(), source.lang, fixed.as_str().into());
        if frontend::lower(&check, &Extent::Whole).is_err() {
            continue;
        }
        out.push(FilePatch { path: path.to_path_buf(), original: source.text.clone(), fixed, fixes: count });
    }
    out
}

fn overlaps(a: &Edit, b: &Edit) -> bool {
    // Two insertions at one point clash too: their order would be arbitrary.
    a.start < b.end && b.start < a.end || (a.start == b.start && (a.start == a.end || b.start == b.end))
}

/// Write the patches, each atomically. `cwd` resolves the reported paths.
pub fn apply(patches: &[FilePatch], cwd: &Path) -> std::io::Result<()> {
    for p in patches {
        let target = if p.path.is_absolute() { p.path.clone() } else { cwd.join(&p.path) };
        let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let permissions = std::fs::metadata(&target)?.permissions();
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(p.fixed.as_bytes())?;
        tmp.as_file().set_permissions(permissions)?;
        tmp.persist(&target).map_err(|e| e.error)?;
    }
    Ok(())
}

/// A unified diff of the patches, as `--diff` prints it.
pub fn unified_diff(patches: &[FilePatch]) -> String {
    let mut out = String::new();
    for p in patches {
        let name = p.path.to_string_lossy().replace('\\', "/");
        let diff = similar::TextDiff::from_lines(&*p.original, p.fixed.as_str());
        out.push_str(
            &diff.unified_diff().context_radius(3).header(&format!("a/{name}"), &format!("b/{name}")).to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertions_at_one_point_clash() {
        let e = |s, t| Edit { start: s, end: t, content: "x".into() };
        assert!(overlaps(&e(5, 5), &e(5, 5)));
        assert!(overlaps(&e(2, 6), &e(5, 8)));
        assert!(!overlaps(&e(2, 5), &e(5, 8)));
    }
}
