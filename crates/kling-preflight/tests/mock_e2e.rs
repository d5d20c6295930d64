//! `kling-preflight mock` as a real process: the first stdout line, a standard-library
//! Python client driving the whole life of a task against it
//! (`fixtures/mock/kling_e2e_client.py`), graceful exit on SIGTERM, and exit code 2
//! with a useful message for bad settings.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kling-preflight"))
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/mock").join(name)
}

/// A mock process, killed if the test fails before stopping it.
struct Mock {
    child: Child,
    url: String,
    /// The stdout lines after the first.
    lines: mpsc::Receiver<String>,
}

impl Mock {
    fn start(args: &[&str]) -> Mock {
        let mut child = bin()
            .arg("mock")
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Keep draining so the mock never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let first = rx.recv_timeout(Duration::from_secs(20)).expect("a first line within 20 s");
        let url = first
            .strip_prefix("kling mock listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Mock { child, url, lines: rx }
    }

    /// SIGTERM, then wait (at most 20 s) for the exit.
    fn terminate(&mut self) -> (ExitStatus, String) {
        signal(&self.child, "TERM");
        let status = wait(&mut self.child, Duration::from_secs(20)).expect("the mock exits after SIGTERM");
        let mut stderr = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        (status, stderr)
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Send a signal with the shell's built-in `kill` (no dependency on procps).
fn signal(child: &Child, name: &str) {
    let sent = Command::new("sh").arg("-c").arg(format!("kill -{name} {}", child.id())).status().expect("sh runs");
    assert!(sent.success(), "kill -{name} failed");
}

fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn python() -> Command {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let found = Command::new(&python).arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "this test runs a Python 3 client: install python3 or set PYTHON to its path");
    Command::new(python)
}

#[cfg(unix)]
#[test]
fn a_python_client_drives_the_whole_life_of_a_task() {
    let mut mock = Mock::start(&["--task-seconds", "1", "--url-ttl-seconds", "600", "--seed", "7"]);
    let mut client = python()
        .arg(fixture("kling_e2e_client.py"))
        .arg(&mock.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let status = wait(&mut client, Duration::from_secs(120));
    if status.is_none() {
        let _ = client.kill();
    }
    let output = client.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        status.is_some_and(|s| s.success()),
        "the Python client failed ({status:?}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.starts_with("{\"ok\": true"), "{summary}");
    for step in
        ["lifecycle submitted -> processing -> succeed", "callbacks processing -> succeed", "-> 401/1004", "-> 403"]
    {
        assert!(stdout.contains(step), "no {step:?} in\n{stdout}");
    }

    let (status, stderr) = mock.terminate();
    assert_eq!(status.code(), Some(0), "graceful exit; stderr:\n{stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn sigint_also_stops_the_mock_and_flags_override_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mock.toml");
    std::fs::write(&config, "[[accounts]]\naccess_key = \"ak-file\"\nsecret_key = \"sk-file\"\n").unwrap();
    let mut mock = Mock::start(&["--config", config.to_str().unwrap(), "--secret-key", "sk-flag"]);
    let credentials = mock.lines.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(credentials.contains("access key ak-file / secret key sk-flag"), "{credentials}");
    signal(&mock.child, "INT");
    let status = wait(&mut mock.child, Duration::from_secs(20)).expect("exits on SIGINT");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn bad_settings_exit_2_with_a_message_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mock.toml");
    std::fs::write(&config, "[timing]\ntask_second = 3\n").unwrap();
    let out = bin().args(["mock", "--port", "0", "--config"]).arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown field `task_second`") && stderr.contains("mock.toml"), "{stderr}");

    let out = bin().args(["mock", "--port", "0", "--url-ttl-seconds", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("url_ttl_seconds"));

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let out = bin().args(["mock", "--port", &port]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already in use"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
