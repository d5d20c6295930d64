//! `kling-preflight audit` as a real process, on the sample integration in
//! `fixtures/demo`: a lint-only audit (no client, so what the harness enforces is not
//! exercised), its JSON shape, attestation mistakes (exit 2 with one line naming the file
//! and what is allowed), stale attestations, and one audit that runs the demo's own client
//! through two scenarios.
//!
//! The demo's attestations carry fixed dates and would expire as the calendar moves on,
//! so the tests use a copy whose dates keep their age relative to today.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use kling_harness::audit::Date;

/// The day `fixtures/demo/attestations.toml` was written: its dates are this many days old.
const WRITTEN: (i32, u32, u32) = (2026, 11, 21);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The binary, run from the repository root so reported paths read `fixtures/demo/...`.
fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kling-preflight"));
    c.current_dir(root()).env_remove("NO_COLOR");
    c
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Run to completion with a watchdog, so a hang fails the test instead of CI.
fn run(cmd: &mut Command) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let readers = (
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = out.read_to_end(&mut v);
            v
        }),
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = err.read_to_end(&mut v);
            v
        }),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("kling-preflight audit did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: readers.0.join().unwrap(), stderr: readers.1.join().unwrap() }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The demo's attestations, each date moved so it is as old today as it was when written.
fn demo_attestations(dir: &Path) -> PathBuf {
    let written = Date::from_ymd(WRITTEN.0, WRITTEN.1, WRITTEN.2).unwrap();
    let today = Date::today();
    let source = std::fs::read_to_string(root().join("fixtures/demo/attestations.toml")).unwrap();
    let shifted: Vec<String> = source
        .lines()
        .map(|line| match line.strip_prefix("date = ").and_then(Date::parse) {
            Some(date) => format!("date = {}", today.add_days(-written.days_since(date))),
            None => line.to_owned(),
        })
        .collect();
    let path = dir.join("attestations.toml");
    std::fs::write(&path, shifted.join("\n") + "\n").unwrap();
    path
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn a_lint_only_audit_of_the_demo_reports_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let attest = demo_attestations(dir.path());
    let out = run(bin().args(["audit", "fixtures/demo", "--attest"]).arg(&attest));
    // The demo commits a secret (a lint error) and misses attestations: the audit fails.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "nothing on stderr when piped");
    let stdout = text(&out.stdout);
    assert!(!stdout.contains('\x1b'), "no colour when piped");
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&attest.display().to_string()), "[attestations]");
    settings.add_filter(r"\d{4}-\d{2}-\d{2}", "[date]");
    settings.bind(|| insta::assert_snapshot!("demo_lint_only", stdout));
}

#[test]
fn the_json_report_has_one_item_per_checklist_line_in_spec_s_shape() {
    let dir = tempfile::tempdir().unwrap();
    let attest = demo_attestations(dir.path());
    let out = run(bin().args(["audit", "fixtures/demo", "--format", "json", "--attest"]).arg(&attest));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], 1);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 41);
    let allowed = ["pass", "fail", "warn", "attested", "unattested", "not-exercised"];
    for item in items {
        for key in ["id", "section", "text", "status", "enforced_by", "evidence"] {
            assert!(item.get(key).is_some(), "no {key} in {item}");
        }
        assert!(allowed.contains(&item["status"].as_str().unwrap()), "{item}");
        assert!(item["enforced_by"].is_array() && item["evidence"].is_array(), "{item}");
    }
    let status = |id: &str| items.iter().find(|i| i["id"] == id).unwrap()["status"].as_str().unwrap().to_owned();
    // The demo's planted pitfalls, found by the linter alone.
    assert_eq!(status("AUTH-1"), "fail", "a committed secret");
    assert_eq!(status("ERR-2"), "warn", "fixed-delay retries (KL402 warns; the harness did not run)");
    assert_eq!(status("PERF-1"), "warn", "urlopen per request (KL404 is info)");
    assert_eq!(status("COST-3"), "warn", "pro mode on an advisory line");
    // No client: the lines the harness enforces are not exercised, never passed.
    assert_eq!(status("ERR-5"), "not-exercised");
    assert_eq!(status("LAUNCH-1"), "not-exercised");
    assert!(!items.iter().any(|i| i["status"] == "pass"), "nothing passes without the harness");
    // Attestations: valid, expired, missing.
    assert_eq!(status("MON-1"), "attested");
    assert_eq!(status("AUTH-4"), "unattested");
    assert_eq!(status("MON-4"), "unattested");
    let s = &v["summary"];
    assert_eq!(s["lines"], 41);
    assert_eq!(s["failing"], serde_json::json!(["AUTH-1", "AUTH-4", "COST-1", "TASK-3", "MON-4"]));
    assert_eq!(s["lint"]["findings"], 4);
    assert!(v.get("client").is_none() && v.get("scenarios").is_none(), "no harness, no timelines");

    // The same audit as JUnit, Markdown and HTML files.
    for (format, marker) in [
        ("junit", "<testsuites name=\"kling-preflight audit\" tests=\"41\" failures=\"5\""),
        ("markdown", "## kling-preflight audit: ❌ 5 of 41 checklist lines fail the audit"),
        ("html", "<h1>kling-preflight audit: <span class=\"verdict\">5 of 41 checklist lines fail the audit"),
    ] {
        let path = dir.path().join(format!("audit.{format}"));
        let out = run(bin()
            .args(["audit", "fixtures/demo", "--format", format, "--attest"])
            .arg(&attest)
            .arg("--output")
            .arg(&path));
        assert_eq!(out.status.code(), Some(1), "{format}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "{format}: the report goes to the file");
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.contains(marker), "{format}: {written}");
    }
}

#[test]
fn an_expired_attestation_leaves_its_line_unattested() {
    let dir = tempfile::tempdir().unwrap();
    let attest = write(
        dir.path(),
        "old.toml",
        "[[attest]]\nline = \"AUTH-3\"\nby = \"alice@example.com\"\ndate = 2020-01-01\nevidence = \"https://wiki/keys\"\n",
    );
    let out = run(bin().args(["audit", "fixtures/demo", "--format", "json", "--attest"]).arg(&attest));
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let item = v["items"].as_array().unwrap().iter().find(|i| i["id"] == "AUTH-3").unwrap().clone();
    assert_eq!(item["status"], "unattested");
    assert!(
        item["evidence"][0].as_str().unwrap().starts_with(
            "the attestation by alice@example.com on 2020-01-01 expired on 2020-03-31 (attestations hold 90 days)"
        ),
        "{item}"
    );
}

#[test]
fn attestation_and_usage_mistakes_exit_2_with_one_line_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let entry = |line: &str, date: &str| {
        format!(
            "[[attest]]\nline = \"{line}\"\nby = \"alice@example.com\"\ndate = {date}\nevidence = \"https://wiki\"\n"
        )
    };
    let future = Date::today().add_days(30).to_string();
    let cases: Vec<(PathBuf, String)> = vec![
        (
            write(dir.path(), "unknown.toml", &entry("AUTH-9", "2026-10-01")),
            "unknown.toml:1: line = \"AUTH-9\" is not a checklist line; the lines to attest are AUTH-1, AUTH-3".into(),
        ),
        (
            write(dir.path(), "machine.toml", &format!("# ours\n{}", entry("ERR-2", "2026-10-01"))),
            "machine.toml:2: line = \"ERR-2\" is judged by machine (KL402, errors.backoff), not attested".into(),
        ),
        (
            write(dir.path(), "future.toml", &entry("AUTH-3", &future)),
            format!("future.toml:1: AUTH-3: date = {future} is in the future"),
        ),
        (
            write(dir.path(), "keys.toml", "[[attest]]\nline = \"AUTH-3\"\nwho = \"alice\"\n"),
            "keys.toml:3: unknown field `who`".into(),
        ),
        (write(dir.path(), "syntax.toml", "[[attest]\n"), "syntax.toml:1: ".into()),
        (dir.path().join("missing.toml"), "cannot read the attestations file".into()),
    ];
    for (file, message) in cases {
        let out = run(bin().args(["audit", "fixtures/demo", "--attest"]).arg(&file));
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", file.display());
        assert!(stderr.starts_with("kling-preflight: error: ") && stderr.contains(&message), "{message}\n{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(out.stdout.is_empty(), "no report for a bad attestations file");
    }
    for (args, message) in [
        (
            &["audit", "fixtures/demo", "--scenario", "happy"][..],
            "--scenario and --max-wait-seconds need a client command",
        ),
        (&["audit", "fixtures/demo", "--scenario", "nope", "--", "true"][..], "no scenario \"nope\""),
        (&["audit", "fixtures/demo", "--jobs", "0"][..], "--jobs must be at least 1"),
        (&["audit", "no/such/dir"][..], "no/such/dir"),
    ] {
        let out = run(bin().args(args));
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message) && stderr.lines().count() == 1, "{args:?}: {stderr}");
    }
}

#[test]
fn with_the_demo_client_the_harness_confirms_what_lint_found() {
    let dir = tempfile::tempdir().unwrap();
    let attest = demo_attestations(dir.path());
    // Two scenarios prove the point: happy (request shape, connections, the smoke test)
    // and rate-limited-forever (backoff and the retry cap). Both take seconds.
    let out = run(bin()
        .args(["audit", "fixtures/demo", "--scenario", "happy", "--scenario", "rate-limited-forever", "--jobs", "2"])
        .args(["--format", "json", "--attest"])
        .arg(&attest)
        .args(["--", python().as_str(), "fixtures/demo/preflight_adapter.py"]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v["items"].as_array().unwrap();
    let item = |id: &str| items.iter().find(|i| i["id"] == id).unwrap().clone();
    let evidence = |id: &str| {
        item(id)["evidence"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    // Fixed 1 s waits: the linter warned, the harness measured them and failed the line.
    assert_eq!(item("ERR-2")["status"], "fail");
    assert!(
        evidence("ERR-2").iter().any(|e| e.starts_with("fixtures/demo/videogen/kling.py:")),
        "{:?}",
        evidence("ERR-2")
    );
    assert!(evidence("ERR-2").iter().any(|e| e.starts_with("errors.backoff fail: [rate-limited-forever]")));
    // A new connection per request: info from lint, a failure in the harness.
    assert_eq!(item("PERF-1")["status"], "fail");
    // The smoke test and the retry cap passed; token refresh needs token-expiry, which
    // did not run, so AUTH-2 is not exercised rather than passed.
    assert_eq!(item("LAUNCH-1")["status"], "pass");
    assert_eq!(item("ERR-3")["status"], "pass");
    assert_eq!(item("AUTH-2")["status"], "not-exercised");
    assert!(evidence("AUTH-2").iter().any(|e| e.contains("needs token-expiry") || e.contains("token-expiry")));
    // The report keeps the harness's timelines, with the retries linked.
    assert!(v["client"].as_str().unwrap().ends_with("fixtures/demo/preflight_adapter.py"));
    let scenarios = v["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 2);
    let retries = scenarios[1]["requests"].as_array().unwrap().iter().filter(|r| r.get("retry_of").is_some()).count();
    assert_eq!(retries, 4, "the demo retries a refused create four times: {}", scenarios[1]);
}

fn regex_escape(s: &str) -> String {
    s.chars().fold(String::new(), |mut out, c| {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}
