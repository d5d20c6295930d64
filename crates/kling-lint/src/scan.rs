//! The scan: discover files, prefilter, parse and lower the Kling ones in parallel,
//! gather what each file exports to its package, then run the rules file by file
//! with the package in view, apply suppressions and report.
//!
//! Every file is read once. Phase one (walker threads) does all the per-file work
//! that needs no other file; phase two is the cross-file part, which is cheap.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::analysis::{ContextOptions, Exports, Unit};
use crate::diagnostic::{Diagnostic, Severity};
use crate::discover;
use crate::facts::{Facts, Span};
use crate::frontend::{self, Extent, ParseError, chunks};
use crate::lang::Lang;
use crate::prefilter::Prefilter;
use crate::rules::{self, Checker, RuleSettings};
use crate::source::SourceFile;
use crate::suppress;

/// What to check and how.
#[derive(Clone, Debug)]
pub struct LintOptions {
    /// Rule ids or prefixes to run (empty: all).
    pub select: Vec<String>,
    /// Rule ids or prefixes to skip.
    pub ignore: Vec<String>,
    /// Severity overrides by rule id.
    pub severity: HashMap<String, Severity>,
    /// Per-file ignores: glob → rule ids or prefixes.
    pub per_file_ignores: Vec<(String, Vec<String>)>,
    /// Globs of paths not to scan.
    pub exclude: Vec<String>,
    /// Worker threads (0: one per core).
    pub jobs: usize,
    /// What else counts as Kling context.
    pub context: ContextOptions,
    /// Rule settings.
    pub settings: RuleSettings,
    /// Parse only the Kling-relevant items of large files (see `frontend::chunks`).
    pub partial_parse: bool,
    /// Files smaller than this are always parsed whole.
    pub partial_parse_min_bytes: usize,
    /// The directory reported paths are relative to.
    pub cwd: PathBuf,
    /// The directory `exclude` and `per_file_ignores` globs are relative to (the
    /// configuration file's); the working directory when `None`.
    pub glob_root: Option<PathBuf>,
    /// Counts files as they are read, for a progress display.
    pub progress: Option<Arc<AtomicUsize>>,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            select: Vec::new(),
            ignore: Vec::new(),
            severity: HashMap::new(),
            per_file_ignores: Vec::new(),
            exclude: Vec::new(),
            jobs: 0,
            context: ContextOptions::default(),
            settings: RuleSettings::default(),
            partial_parse: true,
            partial_parse_min_bytes: chunks::DEFAULT_MIN_BYTES,
            cwd: std::env::current_dir().unwrap_or_default(),
            glob_root: None,
            progress: None,
        }
    }
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct Report {
    /// Findings, sorted by path and position.
    pub diagnostics: Vec<Diagnostic>,
    /// Files read (with a known language, not binary, vendored or generated).
    pub files_scanned: usize,
    /// Files with a Kling marker, which were parsed.
    pub files_kling: usize,
    /// Sources of files with findings, for rendering code frames and fixes.
    pub sources: HashMap<PathBuf, Arc<SourceFile>>,
    /// Files or directories that could not be read.
    pub io_errors: Vec<String>,
}

/// Why a scan could not run.
#[derive(Debug)]
pub enum Error {
    /// A path given on the command line does not exist.
    PathNotFound(PathBuf),
    /// A glob in the options is invalid.
    BadGlob {
        /// The glob.
        glob: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::PathNotFound(p) => {
                write!(f, "{}: no such file or directory; check the path you passed to `lint`", p.display())
            }
            Error::BadGlob { glob, reason } => write!(f, "invalid glob `{glob}`: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

/// One file after phase one.
struct Loaded {
    source: Arc<SourceFile>,
    facts: Result<Facts, ParseError>,
    exports: Exports,
}

/// Scan `paths` and report findings.
pub fn lint(paths: &[PathBuf], options: &LintOptions) -> Result<Report, Error> {
    for p in paths {
        if !p.exists() {
            return Err(Error::PathNotFound(p.clone()));
        }
    }
    let exclude = globset(&options.exclude)?;
    let per_file: Vec<(GlobSet, Vec<String>)> = options
        .per_file_ignores
        .iter()
        .map(|(g, rules)| Ok((globset(std::slice::from_ref(g))?, rules.clone())))
        .collect::<Result<_, Error>>()?;
    let threads = if options.jobs == 0 {
        std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
    } else {
        options.jobs
    };
    let prefilter = Prefilter::new(&options.context.extra_base_urls);
    let scanned = AtomicUsize::new(0);
    let loaded: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());

    // The walker's threads read and prefilter; parsing and lowering happen on our own
    // workers, fed through a channel so they overlap with the walk. Our workers get a
    // generous stack: lowering recurses (to a bounded depth) over syntax trees.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(PathBuf, Lang, Vec<u8>)>(256);
    let rx = Mutex::new(rx);
    let on_error = |e: String| errors.lock().expect("no panics while held").push(e);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, || {
                    loop {
                        let next = rx.lock().expect("no panics while held").recv();
                        let Ok((shown, lang, bytes)) = next else { break };
                        let file = load(shown, lang, bytes, &prefilter, options);
                        loaded.lock().expect("no panics while held").push(file);
                    }
                })
                .expect("a worker thread starts");
        }
        let visit = |path: &Path, lang: Lang| {
            let bytes = match read_limited(path) {
                Ok(Some(b)) => b,
                Ok(None) => return,
                Err(e) => {
                    let shown = display_path(path, &options.cwd);
                    errors.lock().expect("no panics while held").push(format!("{}: {e}", shown.display()));
                    return;
                }
            };
            if memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some() || discover::has_generated_header(&bytes) {
                return;
            }
            scanned.fetch_add(1, Ordering::Relaxed);
            if let Some(p) = &options.progress {
                p.fetch_add(1, Ordering::Relaxed);
            }
            if prefilter.matches(&bytes) {
                // The workers keep receiving until the walk ends, so a send cannot fail.
                let _ = tx.send((display_path(path, &options.cwd), lang, bytes));
            }
        };
        let excluded = |p: &Path| is_excluded(&exclude, &glob_path(p, options));
        discover::walk(paths, threads, &excluded, &visit, &on_error);
        // Closing the channel lets the workers finish.
        drop(tx);
    });

    let mut files = loaded.into_inner().expect("no panics while held");
    // Deterministic order: output never depends on thread scheduling.
    files.sort_by(|a, b| a.source.path.cmp(&b.source.path));
    let files_kling = files.len();

    let enabled: Vec<&'static rules::Rule> = rules::all().iter().filter(|r| is_selected(&r.meta.id, options)).collect();
    let by_dir = group_by_dir(&files);
    let results: Mutex<Vec<(usize, Vec<Diagnostic>)>> = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(files.len().max(1)) {
            std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= files.len() {
                            break;
                        }
                        let diags = check_file(i, &files, &by_dir, &enabled, &per_file, options);
                        results.lock().expect("no panics while held").push((i, diags));
                    }
                })
                .expect("a worker thread starts");
        }
    });
    let mut results = results.into_inner().expect("no panics while held");
    results.sort_by_key(|(i, _)| *i);

    let mut report = Report {
        files_scanned: scanned.into_inner(),
        files_kling,
        io_errors: errors.into_inner().expect("no panics while held"),
        ..Report::default()
    };
    for (i, diags) in results {
        if !diags.is_empty() {
            report.sources.insert(files[i].source.path.clone(), files[i].source.clone());
        }
        report.diagnostics.extend(diags);
    }
    report.diagnostics.sort_by(|a, b| (&a.path, a.start, a.rule).cmp(&(&b.path, b.start, b.rule)));
    report.io_errors.sort();
    Ok(report)
}

/// Stack size of the parsing and checking workers.
const WORKER_STACK: usize = 64 * 1024 * 1024;

/// Decode, parse and lower one file that passed the prefilter, and summarise what it
/// exports to its package.
fn load(shown: PathBuf, lang: Lang, bytes: Vec<u8>, prefilter: &Prefilter, options: &LintOptions) -> Loaded {
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let source = SourceFile::new(shown, lang, String::from_utf8_lossy(e.as_bytes()).into());
            // The invalid byte became U+FFFD, three bytes long, in the decoded text.
            let err = ParseError {
                span: Span::new(at, at + '\u{fffd}'.len_utf8()),
                message: "the file is not valid UTF-8".into(),
            };
            return Loaded { source: Arc::new(source), facts: Err(err), exports: Exports::default() };
        }
    };
    let source = SourceFile::new(shown, lang, text.into());
    let extent = if options.partial_parse {
        chunks::select(&source, &prefilter.positions(source.text.as_bytes()), options.partial_parse_min_bytes)
    } else {
        Extent::Whole
    };
    let facts = frontend::lower(&source, &extent);
    let exports = match &facts {
        Ok(f) => Unit::new(&source, f, &[], &options.context).exports(),
        Err(_) => Exports::default(),
    };
    Loaded { source: Arc::new(source), facts, exports }
}

fn group_by_dir(files: &[Loaded]) -> HashMap<PathBuf, Vec<usize>> {
    let mut by_dir: HashMap<PathBuf, Vec<usize>> = HashMap::new();
    for (i, f) in files.iter().enumerate() {
        let dir = f.source.path.parent().map(Path::to_path_buf).unwrap_or_default();
        by_dir.entry(dir).or_default().push(i);
    }
    by_dir
}

fn check_file(
    i: usize,
    files: &[Loaded],
    by_dir: &HashMap<PathBuf, Vec<usize>>,
    enabled: &[&'static rules::Rule],
    per_file: &[(GlobSet, Vec<String>)],
    options: &LintOptions,
) -> Vec<Diagnostic> {
    let file = &files[i];
    let source = &*file.source;
    let rel = glob_path(&source.path, options);
    let ignored_here: Vec<&str> = per_file
        .iter()
        .filter(|(set, _)| set.is_match(&rel))
        .flat_map(|(_, rules)| rules.iter().map(String::as_str))
        .collect();
    let active = |id: &str| !ignored_here.iter().any(|p| id.starts_with(&p.to_ascii_uppercase()));
    let severity_of = |rule: &rules::Rule| options.severity.get(&rule.meta.id).copied().unwrap_or(rule.meta.severity);
    let mut out = Vec::new();
    match &file.facts {
        Err(err) => {
            if let Some(rule) = enabled.iter().find(|r| r.meta.id == "KL001")
                && active("KL001")
            {
                push_parse_error(rule, severity_of(rule), source, err, &mut out);
            }
        }
        Ok(facts) => {
            let dir = source.path.parent().map(Path::to_path_buf).unwrap_or_default();
            let neighbors: Vec<&Exports> = by_dir
                .get(&dir)
                .map(|v| v.iter().filter(|&&j| j != i).map(|&j| &files[j].exports).collect())
                .unwrap_or_default();
            let unit = Unit::new(source, facts, &neighbors, &options.context);
            for rule in enabled {
                let Some(check) = rule.def.check else { continue };
                if !rule.meta.applies_to(source.lang) || !rule.def.needs.met_by(facts) || !active(&rule.meta.id) {
                    continue;
                }
                let mut cx = Checker {
                    unit: &unit,
                    settings: &options.settings,
                    rule,
                    severity: severity_of(rule),
                    out: &mut out,
                };
                check(&mut cx);
            }
        }
    }
    apply_suppressions(source, &mut out, enabled, &active, &severity_of);
    out
}

fn push_parse_error(
    rule: &'static rules::Rule,
    severity: Severity,
    source: &SourceFile,
    err: &ParseError,
    out: &mut Vec<Diagnostic>,
) {
    out.push(Diagnostic {
        rule: "KL001",
        name: rule.meta.name.as_str(),
        severity,
        path: source.path.clone(),
        span: err.span,
        start: source.position(err.span.start),
        end: source.position(err.span.end),
        message: format!("could not parse this {} file: {}", source.lang.name(), err.message),
        label: Some("here".into()),
        help: Some("the other rules skipped this file; fix the syntax error to have it checked".into()),
        fix: None,
    });
}

fn apply_suppressions(
    source: &SourceFile,
    out: &mut Vec<Diagnostic>,
    enabled: &[&'static rules::Rule],
    active: &dyn Fn(&str) -> bool,
    severity_of: &dyn Fn(&rules::Rule) -> Severity,
) {
    let mut sups = suppress::parse(source);
    if sups.is_empty() {
        return;
    }
    out.retain(|d| {
        let line = d.start.line as usize - 1;
        // Every matching suppression is marked used, so none is reported unused.
        let mut covered = false;
        for s in &mut sups {
            covered |= s.covers(d.rule, line);
        }
        !covered
    });
    let Some(kl000) = enabled.iter().find(|r| r.meta.id == "KL000") else { return };
    if !active("KL000") {
        return;
    }
    for s in &sups {
        let known = |r: &str| rules::find(r).is_some();
        let unused: Vec<&str> = if s.rules.is_empty() {
            if s.used.is_empty() { vec!["(all rules)"] } else { Vec::new() }
        } else {
            s.rules.iter().zip(&s.used).filter(|(_, u)| !**u).map(|(r, _)| r.as_str()).collect()
        };
        if unused.is_empty() {
            continue;
        }
        let unknown: Vec<&str> = unused.iter().copied().filter(|r| !r.starts_with('(') && !known(r)).collect();
        let message = if unknown.is_empty() {
            format!("this suppression of {} suppresses nothing", unused.join(", "))
        } else {
            format!("unknown rule {} in a suppression comment", unknown.join(", "))
        };
        out.push(Diagnostic {
            rule: "KL000",
            name: kl000.meta.name.as_str(),
            severity: severity_of(kl000),
            path: source.path.clone(),
            span: s.span,
            start: source.position(s.span.start),
            end: source.position(s.span.end),
            message,
            label: Some("unused".into()),
            help: Some("remove the suppression, or the rule ids it no longer needs".into()),
            fix: None,
        });
    }
}

fn is_selected(id: &str, options: &LintOptions) -> bool {
    let matches = |p: &String| id.starts_with(&p.trim().to_ascii_uppercase()) || p.trim().eq_ignore_ascii_case("ALL");
    (options.select.is_empty() || options.select.iter().any(matches)) && !options.ignore.iter().any(matches)
}

fn globset(globs: &[String]) -> Result<GlobSet, Error> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g).map_err(|e| Error::BadGlob { glob: g.clone(), reason: e.kind().to_string() })?;
        b.add(glob);
    }
    b.build().map_err(|e| Error::BadGlob { glob: globs.join(", "), reason: e.to_string() })
}

/// Read a file unless it is too large; `Ok(None)` for skipped files.
fn read_limited(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let meta = std::fs::metadata(path)?;
    if meta.len() > discover::MAX_FILE_BYTES {
        return Ok(None);
    }
    std::fs::read(path).map(Some)
}

/// A path as globs see it: relative to the glob root (the configuration's directory)
/// when under it.
fn glob_path(path: &Path, options: &LintOptions) -> PathBuf {
    let abs =
        if path.is_absolute() { path.to_path_buf() } else { options.cwd.join(path.strip_prefix("./").unwrap_or(path)) };
    let root = options.glob_root.as_deref().unwrap_or(&options.cwd);
    abs.strip_prefix(root).map_or(abs.clone(), Path::to_path_buf)
}

/// Whether a path, or a directory above it, matches an exclude glob.
fn is_excluded(set: &GlobSet, rel: &Path) -> bool {
    !set.is_empty() && rel.ancestors().any(|a| !a.as_os_str().is_empty() && set.is_match(a))
}

/// A path as reported: relative to `cwd` when under it, without a leading `./`.
pub(crate) fn display_path(path: &Path, cwd: &Path) -> PathBuf {
    let p = path.strip_prefix(cwd).unwrap_or(path);
    let p = p.strip_prefix("./").unwrap_or(p);
    p.to_path_buf()
}
