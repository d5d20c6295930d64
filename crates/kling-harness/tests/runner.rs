//! The client runner through the public API, with small shell and Python clients: the
//! environment a client gets, deadlines and interrupts that stop the whole process
//! group, helpers left behind by a client that exited, bounded output, and the errors a
//! caller sees for a command that cannot run.

use std::path::Path;
use std::time::{Duration, Instant};

use kling_harness::{ClientCommand, HarnessError, Interrupt, Options};

fn sh(script: &str, args: &[&Path]) -> ClientCommand {
    let mut argv = vec!["sh".to_owned(), "-c".to_owned(), script.to_owned(), "client".to_owned()];
    argv.extend(args.iter().map(|p| p.to_string_lossy().into_owned()));
    ClientCommand::new(argv).unwrap()
}

fn options(scenarios: &[&str]) -> Options {
    Options { scenarios: scenarios.iter().map(|s| (*s).to_owned()).collect(), jobs: 4, ..Options::default() }
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
fn wait_gone(pid: u32) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if gone(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The pids a client wrote, one per line, once `n` are there.
fn pids(file: &Path, n: usize) -> Vec<u32> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let pids: Vec<u32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        if pids.len() >= n {
            return pids;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the client never wrote {n} pids to {}", file.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_gets_the_contract_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("env.json");
    let script = "import json, os, sys\n\
                  keep = {k: v for k, v in os.environ.items() if k.startswith('KLING') or k in ('NO_PROXY', 'no_proxy')}\n\
                  keep['output_dir_exists'] = os.path.isdir(os.environ['KLING_OUTPUT_DIR'])\n\
                  json.dump(keep, open(sys.argv[1], 'w'))\n\
                  sys.exit(3)\n";
    let client = ClientCommand::new(["python3", "-c", script, &out.to_string_lossy()]).unwrap();
    let report = kling_harness::run(&client, &options(&["happy"])).await.unwrap();
    let env: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let base = env["KLING_BASE_URL"].as_str().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{env}");
    assert_eq!(env["KLING_API_BASE"], base);
    assert_eq!(env["KLINGAI_BASE_URL"], base);
    assert!(env["KLING_ACCESS_KEY"].as_str().unwrap().starts_with("ak-preflight-"), "{env}");
    assert!(env["KLING_SECRET_KEY"].as_str().unwrap().starts_with("sk-preflight-"), "{env}");
    assert!(env["KLING_PROMPT"].as_str().unwrap().contains("fox"), "{env}");
    assert_eq!(env["KLING_POLL_TIMEOUT_SECONDS"], "15");
    assert!(env["KLING_CALLBACK_URL"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{env}");
    assert!(env["NO_PROXY"].as_str().unwrap().contains("127.0.0.1"), "{env}");
    assert_eq!(env["output_dir_exists"], true);
    // The output directory is the harness's to clean up.
    assert!(!Path::new(env["KLING_OUTPUT_DIR"].as_str().unwrap()).exists());
    let happy = &report.scenarios[0];
    assert_eq!(happy.client.as_ref().unwrap().code, Some(3));
    // A client that did nothing proves nothing: no check can pass on its behalf.
    for check in &report.checks {
        assert_ne!(check.verdict, kling_harness::Verdict::Pass, "{} passed for a client that did nothing", check.id);
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn a_helper_left_behind_by_a_client_that_exited_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pids");
    let client = sh("sleep 300 & echo $! > \"$1\"; exit 0", &[&file]);
    let report = kling_harness::run(&client, &options(&["invalid-prompt"])).await.unwrap();
    assert_eq!(report.scenarios[0].client.as_ref().unwrap().code, Some(0));
    let helper = pids(&file, 1)[0];
    assert!(wait_gone(helper), "the background helper {helper} outlived its scenario");
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn the_deadline_stops_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pids");
    let client = sh("sleep 300 & echo $! >> \"$1\"; echo $$ >> \"$1\"; sleep 300", &[&file]);
    let started = Instant::now();
    let options = Options { max_wait_seconds: Some(1.0), ..options(&["happy"]) };
    let report = kling_harness::run(&client, &options).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    let exit = report.scenarios[0].client.as_ref().unwrap();
    assert_eq!(exit.stopped.as_deref(), Some("deadline"), "{exit:?}");
    assert!(exit.at >= 1.0, "{exit:?}");
    for pid in pids(&file, 2) {
        assert!(wait_gone(pid), "process {pid} survived the deadline");
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupt_stops_every_client_and_their_children() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pids");
    // SIGTERM is ignored, as a careless client might: the harness must escalate.
    let client = sh("trap '' TERM; sleep 300 & echo $! >> \"$1\"; echo $$ >> \"$1\"; wait", &[&file]);
    let interrupt = Interrupt::new();
    let options = Options { interrupt: interrupt.clone(), ..options(&["happy", "task-stuck", "stall"]) };
    let run = tokio::spawn(async move { kling_harness::run(&client, &options).await });
    let all = tokio::task::spawn_blocking(move || pids(&file, 6)).await.unwrap();
    let started = Instant::now();
    interrupt.trigger("test");
    let result = tokio::time::timeout(Duration::from_secs(30), run).await.expect("the run stops").unwrap();
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    match result {
        Err(HarnessError::Interrupted { reason }) => assert_eq!(reason, "test"),
        other => panic!("expected Interrupted, got {other:?}"),
    }
    for pid in all {
        assert!(wait_gone(pid), "process {pid} survived the interrupt");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn output_is_bounded_and_never_blocks_the_client() {
    let client = sh("yes 0123456789 | head -c 8000000; echo done >&2", &[]);
    let started = Instant::now();
    let report = kling_harness::run(&client, &options(&["invalid-prompt"])).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    let s = &report.scenarios[0];
    assert_eq!(s.client.as_ref().unwrap().code, Some(0));
    assert!(s.output_truncated);
    assert!(s.output_bytes >= 8_000_000, "{}", s.output_bytes);
    assert!(s.stdout_lines <= kling_harness::CAPTURE_LIMIT / 10, "{}", s.stdout_lines);
    assert_eq!(s.stderr_lines, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_that_cannot_start_is_an_error_that_says_what_to_do() {
    let client = ClientCommand::new(["/nonexistent/kling-client"]).unwrap();
    let err = kling_harness::run(&client, &options(&["happy", "stall"])).await.unwrap_err();
    assert!(matches!(err, HarnessError::Spawn { .. }), "{err:?}");
    assert!(err.to_string().contains("not found; check the command after `--`"), "{err}");

    let ok = ClientCommand::new(["true"]).unwrap();
    let err = kling_harness::run(&ok, &options(&["happy", "nope"])).await.unwrap_err();
    assert!(err.to_string().starts_with("no scenario \"nope\"; use one of happy, rate-limited"), "{err}");
    let bad = Options { max_wait_seconds: Some(0.0), ..options(&["happy"]) };
    assert!(kling_harness::run(&ok, &bad).await.unwrap_err().to_string().contains("--max-wait-seconds"));
    let bad = Options { poll_timeout_seconds: f64::NAN, ..options(&["happy"]) };
    assert!(matches!(kling_harness::run(&ok, &bad).await, Err(HarnessError::InvalidOption(_))));
}
