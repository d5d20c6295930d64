//! `kling-preflight check` as a real process: `--list`, usage errors (exit 2), a passing
//! and a failing client (exit 0 and 1) with each report format, and SIGINT/SIGTERM
//! stopping every client process group — helpers the client spawned included — before
//! the command exits.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kling-preflight"));
    c.env_remove("NO_COLOR");
    c
}

fn fixture(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/clients").join(path).to_string_lossy().into_owned()
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Run to completion with a watchdog, so a hang fails the test instead of CI.
fn run(cmd: &mut Command) -> Output {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts");
    finish(child, Duration::from_secs(120))
}

fn finish(mut child: Child, limit: Duration) -> Output {
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
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
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("kling-preflight check did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: readers.0.join().unwrap(), stderr: readers.1.join().unwrap() }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn list_shows_every_scenario_and_check_without_a_client() {
    let out = run(bin().args(["check", "--list"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for s in kling_harness::scenario::catalog() {
        assert!(stdout.contains(s.id), "no scenario {} in\n{stdout}", s.id);
    }
    for c in kling_harness::checks::all() {
        assert!(stdout.contains(&c.id), "no check {} in\n{stdout}", c.id);
    }
}

#[test]
fn usage_errors_exit_2_with_a_line_that_says_what_to_do() {
    let cases: &[(&[&str], &str)] = &[
        (&["check"], "no client command given; put it after `--`"),
        (&["check", "--scenario", "nope", "--", "true"], "no scenario \"nope\"; use one of happy"),
        // A comma-separated list is split, so the unknown one is named on its own.
        (&["check", "--scenario", "happy,stall,nope", "--", "true"], "no scenario \"nope\"; use one of happy"),
        (&["check", "--jobs", "0", "--", "true"], "--jobs must be at least 1"),
        (
            &["check", "--max-wait-seconds", "0", "--scenario", "happy", "--", "true"],
            "--max-wait-seconds must be above 0",
        ),
        (&["check", "--scenario", "happy", "--", "/nonexistent/client"], "cannot start the client"),
    ];
    for (args, message) in cases {
        let out = run(bin().args(*args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with("kling-preflight: error: ") && stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
    }
}

#[test]
fn a_passing_client_exits_0_and_every_format_renders() {
    let client = fixture("python/kling_client.py");
    let out = run(bin()
        .args(["check", "--scenario", "happy", "--scenario", "invalid-prompt", "--format", "json", "--"])
        .args([python().as_str(), client.as_str()]));
    assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));
    // Piped: no progress line, nothing else on stderr.
    assert_eq!(text(&out.stderr), "");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert!(v["client"].as_str().unwrap().ends_with("fixtures/clients/python/kling_client.py"), "{}", v["client"]);
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks.len(), kling_harness::checks::all().len());
    for c in checks {
        for key in ["id", "title", "section", "verdict", "evidence"] {
            assert!(c.get(key).is_some(), "no {key} in {c}");
        }
        assert!(matches!(c["verdict"].as_str(), Some("pass" | "not-exercised")), "{c}");
    }
    assert_eq!(v["summary"]["fail"], 0);
    assert_eq!(v["summary"]["scenarios"], 2);
    let ids: Vec<&str> = v["scenarios"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["happy", "invalid-prompt"]);
    assert!(v["scenarios"][0]["requests"].as_array().unwrap().len() >= 3);

    let dir = tempfile::tempdir().unwrap();
    for (format, marker) in [
        ("junit", "<testsuites name=\"kling-preflight check\""),
        ("markdown", "## kling-preflight check: "),
        ("html", "<svg class=\"timeline\""),
    ] {
        let path = dir.path().join(format!("report.{format}"));
        let out = run(bin()
            .args(["check", "--scenario", "invalid-prompt", "--format", format, "--output"])
            .arg(&path)
            .args(["--", python().as_str(), client.as_str()]));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.contains(marker), "{written}");
    }
}

#[test]
fn a_failing_client_exits_1_with_evidence_and_the_fix() {
    let out = run(bin()
        .args(["check", "--scenario", "happy", "--"])
        .args([python().as_str(), fixture("python/defect_tasks_poll_interval.py").as_str()]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains('\x1b'), "no colour when piped:\n{stdout}");
    let line = stdout.lines().position(|l| l.contains("FAIL") && l.contains("tasks.poll-interval")).expect(&stdout);
    let below: Vec<&str> = stdout.lines().skip(line + 1).take(3).collect();
    assert!(below[0].contains("· [happy] GET /v1/videos/text2video/"), "{below:?}");
    assert!(below[0].contains("gaps under 1 s"), "{below:?}");
    assert!(below[1].trim_start().starts_with("fix: Sleep at least 1 s"), "{below:?}");
    assert!(stdout.contains("1 failed"), "{stdout}");
}

/// Whether a process is gone (or a zombie nobody has reaped yet: dead all the same).
#[cfg(target_os = "linux")]
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[cfg(target_os = "linux")]
fn pids(file: &Path, n: usize) -> Vec<u32> {
    let start = Instant::now();
    loop {
        let pids: Vec<u32> =
            std::fs::read_to_string(file).unwrap_or_default().lines().filter_map(|l| l.trim().parse().ok()).collect();
        if pids.len() >= n {
            return pids;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the clients never wrote {n} pids");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Start a run whose clients (one per scenario) each start a sleeping helper, send the
/// harness `signal` once all are up, and check nothing survives.
#[cfg(target_os = "linux")]
fn interrupted_by(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pids");
    let script = "sleep 300 & echo $! >> \"$1\"; echo $$ >> \"$1\"; wait";
    let child = bin()
        .args(["check", "--scenario", "happy", "--scenario", "task-stuck", "--", "sh", "-c", script, "client"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let all = pids(&file, 4);
    let sent = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let out = finish(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("interrupted by SIG{signal}")), "{stderr}");
    assert!(out.stdout.is_empty(), "no report after an interrupt: {}", text(&out.stdout));
    let start = Instant::now();
    let mut alive: Vec<u32> = all.clone();
    while !alive.is_empty() && start.elapsed() < Duration::from_secs(10) {
        alive.retain(|p| !gone(*p));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(alive.is_empty(), "still running after SIG{signal}: {alive:?} (of {all:?})");
}

#[cfg(target_os = "linux")]
#[test]
fn sigint_stops_every_client_and_the_helpers_they_started() {
    interrupted_by("INT");
}

#[cfg(target_os = "linux")]
#[test]
fn sigterm_does_the_same() {
    interrupted_by("TERM");
}
