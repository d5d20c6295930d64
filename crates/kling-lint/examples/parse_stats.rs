//! Where a scan's time goes: reads every file under a directory the way `lint` does,
//! then reports how many bytes pass the prefilter, how many partial parsing keeps,
//! and the time of each phase (single-threaded, so the phases add up).
//!
//! ```sh
//! cargo run --release -p kling-lint --example parse_stats -- /tmp/kling-bench/corpus-20000-s1/repo
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kling_lint::frontend::{self, Extent, chunks};
use kling_lint::lang::Lang;
use kling_lint::prefilter::Prefilter;
use kling_lint::source::SourceFile;

fn main() {
    let root: PathBuf = std::env::args_os().nth(1).map_or_else(|| ".".into(), PathBuf::from);
    let prefilter = Prefilter::new(&[]);
    let mut files = Vec::new();
    let t = Instant::now();
    for entry in ignore::WalkBuilder::new(&root).hidden(false).build().flatten() {
        let path = entry.path();
        if entry.file_type().is_some_and(|t| t.is_file())
            && let Some(lang) = Lang::from_path(path)
        {
            files.push((path.to_path_buf(), lang, std::fs::read(path).unwrap_or_default()));
        }
    }
    let read = t.elapsed();
    let t = Instant::now();
    let kling: Vec<_> = files.iter().filter(|(_, _, b)| prefilter.matches(b)).collect();
    let filter = t.elapsed();
    let (mut total, mut kept, mut select, mut whole_parse, mut partial_parse) =
        (0, 0, Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for (path, lang, bytes) in &kling {
        let Ok(text) = std::str::from_utf8(bytes) else { continue };
        let source = SourceFile::new(path.clone(), *lang, text.into());
        total += text.len();
        let t = Instant::now();
        let extent = chunks::select(&source, &prefilter.positions(bytes), chunks::DEFAULT_MIN_BYTES);
        select += t.elapsed();
        kept += match &extent {
            Extent::Whole => text.len(),
            Extent::Items(r) => r.iter().map(|x| x.len()).sum(),
        };
        let t = Instant::now();
        let _ = frontend::lower(&source, &Extent::Whole);
        whole_parse += t.elapsed();
        let t = Instant::now();
        let _ = frontend::lower(&source, &extent);
        partial_parse += t.elapsed();
    }
    let all: usize = files.iter().map(|f| f.2.len()).sum();
    println!("files {} ({:.1} MB), read in {read:.2?}", files.len(), all as f64 / 1e6);
    println!("prefilter: {} files pass ({:.2} MB) in {filter:.2?}", kling.len(), total as f64 / 1e6);
    println!(
        "partial parsing keeps {:.2} MB ({:.0}%), selection took {select:.2?}",
        kept as f64 / 1e6,
        100.0 * kept as f64 / total.max(1) as f64
    );
    println!("parse + lower: whole files {whole_parse:.2?}, selected items {partial_parse:.2?}");
}
