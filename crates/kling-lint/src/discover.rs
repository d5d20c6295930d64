//! File discovery: the `ignore` crate's parallel walker with `.gitignore`/`.ignore`
//! honoured, hidden files scanned (`.env`, `.github/workflows/*.yml`) but hidden
//! directories like `.git` skipped, vendored and generated code skipped, symlinks not
//! followed (so loops cannot occur), and each file visited once.

use std::path::Path;

use ignore::{DirEntry, WalkBuilder, WalkState};

use crate::lang::Lang;

/// Files larger than this are skipped: no hand-written Kling client is this big, and
/// a minified bundle is not where a fix would go.
pub(crate) const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// Hidden directories that hold configuration worth scanning.
const HIDDEN_DIRS_SCANNED: &[&str] = &[".github", ".gitlab", ".circleci", ".buildkite", ".config", ".devcontainer"];

/// Directories of vendored, installed or built code.
const VENDORED_DIRS: &[&str] = &[
    "node_modules",
    "vendor",
    "third_party",
    "site-packages",
    "dist-packages",
    "__pycache__",
    "target",
    "dist",
    "build",
    "bower_components",
    "venv",
];

/// Why a directory entry is skipped, if it is.
fn skip_dir(entry: &DirEntry) -> bool {
    let name = entry.file_name().to_string_lossy();
    if entry.depth() == 0 {
        return false;
    }
    if name.starts_with('.') && !HIDDEN_DIRS_SCANNED.contains(&name.as_ref()) {
        return true;
    }
    VENDORED_DIRS.contains(&name.as_ref())
}

/// Whether a file name says it is generated or minified.
pub(crate) fn is_generated_name(name: &str) -> bool {
    name.ends_with(".min.js")
        || name.ends_with(".bundle.js")
        || name.ends_with("_pb2.py")
        || name.ends_with(".pb.go")
        || name.ends_with(".d.ts")
        || matches!(
            name,
            "package-lock.json" | "yarn.lock" | "pnpm-lock.yaml" | "Cargo.lock" | "poetry.lock" | "composer.lock"
        )
}

/// Whether the first bytes of a file mark it as generated.
pub(crate) fn has_generated_header(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(512)];
    memchr::memmem::find(head, b"@generated").is_some()
        || memchr::memmem::find(head, b"DO NOT EDIT").is_some()
        || memchr::memmem::find(head, b"Code generated").is_some()
}

/// Walk `roots` in parallel with `threads` workers, calling `visit` for every file a
/// language is known for. Errors (unreadable directories) go to `on_error`.
pub(crate) fn walk(
    roots: &[std::path::PathBuf],
    threads: usize,
    excluded: &(dyn Fn(&Path) -> bool + Sync),
    visit: &(dyn Fn(&Path, Lang) + Sync),
    on_error: &(dyn Fn(String) + Sync),
) {
    let Some((first, rest)) = roots.split_first() else { return };
    let mut builder = WalkBuilder::new(first);
    for r in rest {
        builder.add(r);
    }
    builder
        .hidden(false)
        .follow_links(false)
        .threads(threads)
        .git_global(false)
        .require_git(false)
        .filter_entry(move |e| !(e.file_type().is_some_and(|t| t.is_dir()) && skip_dir(e)));
    // Excluded paths are checked in the visitor, where a directory is pruned with
    // `WalkState::Skip` (`filter_entry` only takes a `'static` closure).
    builder.build_parallel().run(|| {
        Box::new(|result| {
            match result {
                Ok(entry) => {
                    let is_file = entry.file_type().is_some_and(|t| t.is_file());
                    if excluded(entry.path()) {
                        return if is_file { WalkState::Continue } else { WalkState::Skip };
                    }
                    if !is_file {
                        return WalkState::Continue;
                    }
                    let name = entry.file_name().to_string_lossy();
                    if is_generated_name(&name) {
                        return WalkState::Continue;
                    }
                    if let Some(lang) = Lang::from_path(entry.path()) {
                        visit(entry.path(), lang);
                    }
                }
                Err(err) => on_error(err.to_string()),
            }
            WalkState::Continue
        })
    });
}
