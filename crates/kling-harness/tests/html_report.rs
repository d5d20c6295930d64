//! The HTML reports in a real browser: pages rendered from recorded harness runs
//! (`tests/data/report_*.json`, written by `kling-preflight check --format json` with the
//! reference client and two defect clients) are loaded in headless Chromium, which must
//! report no console error, no exception, no network request and no script, and must lay
//! out every scenario's SVG timeline with a non-zero size. Screenshots are left in
//! `target/tmp/html-report/` for a human to look at.
//!
//! Chromium is found as `$KLING_CHROMIUM`, or `chromium`, `chromium-browser`,
//! `google-chrome` on the `PATH`; Node drives it (`tests/browser/load_page.mjs`). Without
//! either the test says it skipped and passes, so a machine without a browser can still
//! run the suite; CI installs both and sets `KLING_REQUIRE_CHROMIUM` (`.ci/run`), so there
//! a missing browser fails.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use kling_harness::Report;
use kling_harness::audit::{self, Attestations, Date, Inputs, LintFinding, LintResults, LintSeverity};
use kling_harness::report::html;

fn data(name: &str) -> Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file()))
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KLING_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    on_path(&["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"])
}

/// Say it where a passing test's output is still seen: libtest captures `eprintln!`.
fn notice(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// What `load_page.mjs` reports.
#[derive(Debug, serde::Deserialize)]
struct Loaded {
    title: String,
    svgs: Vec<Svg>,
    scripts: usize,
    problems: Vec<String>,
    requests: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
struct Svg {
    width: f64,
    height: f64,
    marks: usize,
    arcs: usize,
}

fn load(chromium: &Path, page: &Path, shot: &Path) -> Loaded {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/load_page.mjs");
    let out = Command::new("node").arg(&script).arg(chromium).arg(page).arg(shot).output().expect("node runs");
    assert!(
        out.status.success(),
        "{} could not be loaded in {}: {}",
        page.display(),
        chromium.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// An audit over the reference client's run, with lint results and attestations that give
/// every status a line to show.
fn audit_page(report: &Report) -> String {
    let today = Date::today();
    let lint = LintResults {
        path: "fixtures/demo".into(),
        files_scanned: 7,
        files_kling: 3,
        rules: kling_harness::audit::checklist::lines().iter().flat_map(|l| l.rules().map(str::to_owned)).collect(),
        fixes: std::collections::BTreeMap::new(),
        findings: vec![LintFinding {
            rule: "KL205".into(),
            severity: LintSeverity::Error,
            path: "fixtures/demo/.env".into(),
            line: 3,
            message: "a Kling secret key is committed <here>".into(),
        }],
    };
    let text = format!(
        "[[attest]]\nline = \"AUTH-3\"\nby = \"<alice>\"\ndate = {}\nevidence = \"https://wiki.example.com/keys\"\n",
        today.add_days(-3)
    );
    let attestations = Attestations::parse("attestations.toml", &text, today).unwrap();
    let audited = audit::audit(&Inputs { lint: &lint, harness: Some(report), attestations: &attestations, today });
    audit::html::render(&audited)
}

#[test]
fn html_reports_render_in_a_real_browser() {
    // CI sets KLING_REQUIRE_CHROMIUM so that a missing browser fails instead of skipping.
    let required = std::env::var_os("KLING_REQUIRE_CHROMIUM").is_some_and(|v| !v.is_empty());
    let skip = |why: &str| {
        assert!(!required, "{why}, and KLING_REQUIRE_CHROMIUM is set");
        notice(&format!("skipped: {why}"));
    };
    let Some(chromium) = chromium() else {
        return skip("chromium not found (apt-get install chromium, or set KLING_CHROMIUM)");
    };
    if on_path(&["node"]).is_none() {
        return skip("node not found (apt-get install nodejs); it drives the browser");
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&dir).unwrap();

    let reference = data("report_reference_client.json");
    let mut hostile = data("report_fixed_backoff.json");
    // A client controls its command line and output, and the journal quotes paths: none
    // of it may become markup.
    hostile.client = "python3 defect.py '<script>alert(1)</script>'".into();
    hostile.checks[0].evidence.push("[happy] stdout line 1: \"</li></ul><script>alert(2)</script>\"".into());
    hostile.scenarios[0].requests[0].path = "/v1/videos/<img src=x onerror=alert(3)>".into();
    let pages = [
        ("check-reference-client", html::render(&reference), reference.scenarios.len()),
        ("check-fixed-backoff", html::render(&hostile), hostile.scenarios.len()),
        ("check-no-retry-cap", html::render(&data("report_no_retry_cap.json")), 1),
        ("audit-reference-client", audit_page(&reference), reference.scenarios.len()),
    ];
    for (name, page, scenarios) in pages {
        let (html_path, png) = (dir.join(format!("{name}.html")), dir.join(format!("{name}.png")));
        std::fs::write(&html_path, &page).unwrap();
        let loaded = load(&chromium, &html_path, &png);
        assert!(loaded.problems.is_empty(), "{name}: the browser complained: {:#?}", loaded.problems);
        assert!(loaded.requests.is_empty(), "{name}: the page fetched {:?}", loaded.requests);
        assert_eq!(loaded.scripts, 0, "{name}: a script element made it onto the page");
        assert!(loaded.title.starts_with("kling-preflight "), "{name}: {}", loaded.title);
        assert_eq!(loaded.svgs.len(), scenarios, "{name}: one timeline per scenario: {:?}", loaded.svgs);
        for svg in &loaded.svgs {
            assert!(svg.width > 600.0 && svg.height > 80.0, "{name}: a timeline laid out too small: {svg:?}");
        }
        assert!(loaded.svgs.iter().any(|s| s.marks > 3), "{name}: no requests drawn: {:?}", loaded.svgs);
        let shot = std::fs::read(&png).unwrap();
        assert!(shot.starts_with(b"\x89PNG") && shot.len() > 10_000, "{name}: no screenshot");
        if name == "check-fixed-backoff" {
            // Retries are drawn: the client retried each refused create five times.
            assert!(loaded.svgs.iter().map(|s| s.arcs).sum::<usize>() >= 10, "{:?}", loaded.svgs);
        }
        notice(&format!("html report: {} ({} timeline(s))", png.display(), loaded.svgs.len()));
    }
}
