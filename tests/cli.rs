//! End-to-end tests of the `kling-preflight` command line: the real binary on
//! temporary trees, checking exit codes, output shapes and the bad-input guarantees.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kling-preflight"));
    c.env_remove("NO_COLOR");
    c
}

/// Run with a watchdog: a scan that hangs fails the test instead of blocking CI.
fn run(cmd: &mut Command) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("binary starts");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut o = Vec::new();
        out.read_to_end(&mut o).unwrap();
        o
    });
    let err_reader = std::thread::spawn(move || {
        let mut e = Vec::new();
        err.read_to_end(&mut e).unwrap();
        e
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("kling-preflight did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: reader.join().unwrap(), stderr: err_reader.join().unwrap() }
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

const BAD_PY: &str = r#"import requests

URL = "https://api-singapore.klingai.com/v1/videos/text2video"


def create(headers):
    body = {"model_name": "kling-v1", "prompt": "A fox running through snow at dawn", "duration": 5}
    return requests.post(URL, json=body, headers=headers, timeout=30)
"#;

const WARN_PY: &str = r#"import time

import jwt


def kling_token(ak, sk):
    now = int(time.time())
    return jwt.encode({"iss": ak, "exp": now + 86400, "nbf": now - 5}, sk, headers={"alg": "HS256", "typ": "JWT"})
"#;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let out = run(bin().arg("--no-such-flag"));
    assert_eq!(out.status.code(), Some(2));
    let out = run(bin().arg("--help"));
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("lint"));
}

#[test]
fn lint_text_output_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "video/kling.py", BAD_PY);
    write(dir.path(), "other/app.py", "def main():\n    return 0\n");
    let out = run(bin().current_dir(dir.path()).args(["lint"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn json_output_has_the_contract_shape() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "kling.py", BAD_PY);
    let out = run(bin().current_dir(dir.path()).args(["lint", "--format", "json", "."]));
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(doc["version"], 1);
    let d = &doc["diagnostics"][0];
    for key in ["rule", "name", "severity", "path", "line", "column", "end_line", "end_column", "message", "fix"] {
        assert!(d.get(key).is_some(), "diagnostic lacks `{key}`: {d}");
    }
    assert_eq!(d["rule"], "KL101");
    assert_eq!(d["name"], "duration-not-string");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["path"], "kling.py");
    assert_eq!(d["line"], 7);
    assert_eq!(d["fix"]["applicability"], "safe");
    let s = &doc["summary"];
    assert_eq!(s["files_scanned"], 1);
    assert_eq!(s["files_kling"], 1);
    assert_eq!(s["diagnostics"], 1);
    assert_eq!(s["by_rule"]["KL101"], 1);
    assert_eq!(s["by_rule"]["KL301"], 0);
}

#[test]
fn fail_on_exit_zero_select_and_ignore() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "auth.py", WARN_PY);
    let lint = |args: &[&str]| run(bin().current_dir(dir.path()).arg("lint").args(args)).status.code();
    assert_eq!(lint(&[]), Some(0), "a warning does not fail the default gate");
    assert_eq!(lint(&["--fail-on", "warning"]), Some(1));
    assert_eq!(lint(&["--fail-on", "warning", "--exit-zero"]), Some(0));
    assert_eq!(lint(&["--fail-on", "warning", "--ignore", "KL203"]), Some(0));
    assert_eq!(lint(&["--fail-on", "warning", "--select", "KL1"]), Some(0));
    assert_eq!(lint(&["--fail-on", "warning", "--select", "KL2"]), Some(1));
}

#[test]
fn missing_path_is_a_clear_error_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bin().current_dir(dir.path()).args(["lint", "no/such/dir"]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no/such/dir") && err.contains("no such file"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}

#[test]
fn bad_inputs_neither_crash_nor_hang() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Binary file with a marker: skipped.
    write(d, "blob.py", b"kling\x00\x01\x02\xff".repeat(100));
    // Invalid UTF-8 with a marker: reported, not parsed.
    write(d, "latin1.py", b"# Kling client\nname = 'caf\xe9'\n");
    // A 5 MB one-line minified bundle: skipped as oversized.
    write(d, "bundle.js", format!("var kling=1;{}", "a=a+1;".repeat(900_000)));
    // A 500 KB one-liner under the size cap is parsed.
    write(d, "big.js", format!("const KLING='https://api.klingai.com';{}", "f(1);".repeat(100_000)));
    // Deep nesting in every format.
    let n = 100_000;
    write(d, "deep.py", format!("KLING = {}1{}\n", "[".repeat(n), "]".repeat(n)));
    write(d, "deep.js", format!("const kling = {}1{};\n", "[".repeat(n), "]".repeat(n)));
    write(d, "deep.go", format!("package k\nvar kling = {}1{}\n", "(".repeat(n), ")".repeat(n)));
    write(d, "deep.rs", format!("const KLING: i32 = {}1{};\n", "(".repeat(n), ")".repeat(n)));
    write(d, "deep.json", format!("{{\"kling\": {}1{}}}", "[".repeat(n), "]".repeat(n)));
    write(d, "deep.yaml", format!("kling: {}1{}\n", "[".repeat(5_000), "]".repeat(5_000)));
    write(d, "deep.toml", format!("kling = {}1{}\n", "[".repeat(5_000), "]".repeat(5_000)));
    // A symlink loop and a FIFO (reading one would block forever).
    std::fs::create_dir_all(d.join("loop")).unwrap();
    std::os::unix::fs::symlink(d.join("loop"), d.join("loop/again")).unwrap();
    let fifo = d.join("pipe.py");
    let _ = Command::new("mkfifo").arg(&fifo).status();

    let out = run(bin().current_dir(d).args(["lint", "--format", "json", "."]));
    assert!(matches!(out.status.code(), Some(0 | 1)), "exit {:?}: {}", out.status.code(), stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let findings: Vec<(String, String, String)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["path"].as_str().unwrap().to_owned(),
                x["rule"].as_str().unwrap().to_owned(),
                x["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let has =
        |path: &str, needle: &str| findings.iter().any(|(p, r, m)| p == path && r == "KL001" && m.contains(needle));
    assert!(has("latin1.py", "not valid UTF-8"), "{findings:?}");
    assert!(has("deep.rs", "nest deeper"), "{findings:?}");
    assert!(!findings.iter().any(|(p, ..)| p == "blob.py" || p == "bundle.js"), "{findings:?}");
}

#[test]
fn broken_pipe_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..200 {
        write(dir.path(), &format!("k{i}.py"), BAD_PY);
    }
    let mut child =
        bin().current_dir(dir.path()).arg("lint").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut first = [0u8; 16];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take());
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not exit after its reader went away");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn rules_and_explain() {
    let out = run(bin().arg("rules"));
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("rules", stdout(&out));
    let out = run(bin().args(["rules", "--format", "json"]));
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rules.as_array().unwrap().iter().any(|r| r["id"] == "KL301" && r["severity"] == "error"));
    let out = run(bin().args(["explain", "KL101"]));
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("explain_kl101", stdout(&out));
    let out = run(bin().args(["explain", "duration-not-string"]));
    assert_eq!(out.status.code(), Some(0), "rules can be named too");
    let out = run(bin().args(["explain", "KL999"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("kling-preflight rules"));
}

#[test]
fn configuration_is_found_walking_up_and_applied() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "kling-preflight.toml",
        r#"
ignore = ["KL602"]
exclude = ["legacy"]
extra-base-urls = ["https://video-gw.internal"]

[per-file-ignores]
"tests/**" = ["KL101"]

[severity]
KL203 = "error"
"#,
    );
    write(d, "app/auth.py", WARN_PY);
    write(d, "tests/test_kling.py", BAD_PY);
    write(d, "legacy/old.py", BAD_PY);
    // A gateway that is not a Kling host, made Kling context by the configuration.
    write(
        d,
        "app/gw.py",
        "import requests\n\ndef costs(h):\n    return requests.get(\"https://video-gw.internal/account/costs\", headers=h)\n",
    );
    let out = run(bin().current_dir(d.join("app")).args(["lint", "--format", "json", "--no-color", "."]));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String, String)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["path"].as_str().unwrap().to_owned(),
                x["rule"].as_str().unwrap().to_owned(),
                x["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(found.contains(&("auth.py".into(), "KL203".into(), "error".into())), "{found:?}");
    assert!(found.iter().any(|(p, r, _)| p == "gw.py" && r == "KL401"), "{found:?}");
    assert_eq!(out.status.code(), Some(1), "KL203 is an error by configuration");
    // From the root: tests/ ignores KL101, legacy/ is excluded.
    let out = run(bin().current_dir(d).args(["lint", "--format", "json", "."]));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = doc["diagnostics"].as_array().unwrap().iter().map(|x| x["path"].as_str().unwrap()).collect();
    assert!(!paths.iter().any(|p| p.starts_with("legacy/") || p.starts_with("tests/")), "{paths:?}");
}

#[test]
fn configuration_errors_exit_2_naming_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "kling-preflight.toml", "[severity]\nKL101 = \"loud\"\n");
    write(dir.path(), "kling.py", BAD_PY);
    let out = run(bin().current_dir(dir.path()).arg("lint"));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("kling-preflight.toml") && err.contains("severity.KL101") && err.contains("\"warning\""),
        "{err}"
    );
    write(dir.path(), "kling-preflight.toml", "");
    write(dir.path(), "pyproject.toml", "[tool.kling-preflight]\nselect = [\"KL9\"]\n");
    let out = run(bin().current_dir(dir.path()).args(["lint", "--config", "pyproject.toml"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("tool.kling-preflight.select"), "{}", stderr(&out));
    let out = run(bin().current_dir(dir.path()).args(["lint", "--select", "KL9"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn fix_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "kling.py", BAD_PY);
    let out = run(bin().current_dir(dir.path()).args(["lint", "--diff"]));
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("diff", stdout(&out));
    assert_eq!(std::fs::read_to_string(dir.path().join("kling.py")).unwrap(), BAD_PY, "--diff writes nothing");
    let out = run(bin().current_dir(dir.path()).args(["lint", "--fix"]));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stderr(&out).contains("Fixed 1 finding"), "{}", stderr(&out));
    let fixed = std::fs::read_to_string(dir.path().join("kling.py")).unwrap();
    assert!(fixed.contains("\"duration\": \"5\""));
    let again = run(bin().current_dir(dir.path()).args(["lint", "--fix"]));
    assert_eq!(again.status.code(), Some(0));
    assert!(!stderr(&again).contains("Fixed"));
    assert_eq!(std::fs::read_to_string(dir.path().join("kling.py")).unwrap(), fixed);
}

#[test]
fn baseline_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "kling.py", BAD_PY);
    let out = run(bin().current_dir(dir.path()).args(["lint", "--write-baseline", "baseline.json"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("Wrote 1 finding"));
    let out = run(bin().current_dir(dir.path()).args(["lint", "--baseline", "baseline.json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // The finding fixed: its baseline entry is stale, and said so.
    std::fs::write(dir.path().join("kling.py"), BAD_PY.replace("\"duration\": 5", "\"duration\": \"5\"")).unwrap();
    let out = run(bin().current_dir(dir.path()).args(["lint", "--baseline", "baseline.json"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("matched no finding"), "{}", stderr(&out));
    let out = run(bin().current_dir(dir.path()).args(["lint", "--baseline", "missing.json"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn github_and_junit_formats() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "kling.py", BAD_PY);
    let out = run(bin().current_dir(dir.path()).args(["lint", "--format", "github"]));
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("github", stdout(&out));
    let out = run(bin().current_dir(dir.path()).args(["lint", "--format", "junit"]));
    insta::assert_snapshot!("junit", stdout(&out));
    let out = run(bin().current_dir(dir.path()).args(["lint", "--format", "sarif", "--output", "out.sarif"]));
    assert_eq!(out.status.code(), Some(1));
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "KL101");
}
