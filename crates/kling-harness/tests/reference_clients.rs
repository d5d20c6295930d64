//! The reference clients of `fixtures/clients/` against the harness: the correct Python
//! and Node clients pass every check over the whole catalog, and each Python defect
//! client fails (or, for informational checks, warns on) exactly its own check and
//! nothing else.
//!
//! A full catalog run waits on two timers (a 30 s HTTP timeout, a 15 s poll hint), so
//! running the matrix case by case would take many minutes. Instead the first test to
//! ask starts every case at once in a shared pool (a defect client gets only the
//! scenarios that decide its check, plus `happy` to show it passes the rest), and each
//! test waits for its own case: the whole file takes about as long as its slowest case.
//! Nothing here asserts a tight time; the judges' thresholds carry the margins. The
//! one exception to "all at once" is the client without jitter: that its waits do not
//! vary can only be seen on a machine that is not starting two dozen other clients in
//! the same second, so it runs first, alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use kling_harness::report::text;
use kling_harness::{ClientCommand, Options, Report, Verdict};

/// Client processes running at once across the pool; most of them sleep.
const SLOTS: u32 = 24;
/// The longest any case may take before its test gives up waiting.
const PATIENCE: Duration = Duration::from_secs(420);

struct Case {
    name: &'static str,
    argv: Vec<String>,
    scenarios: Vec<&'static str>,
    jobs: usize,
    max_wait: Option<f64>,
    /// Runs alone: judging that waits do *not* vary needs a machine that is not
    /// starting two dozen other clients at the same moment.
    alone: bool,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/clients")
}

fn interpreter(var: &str, default: &str, hint: &str) -> String {
    let program = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    let found = Command::new(&program).arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "these tests run {hint} clients: install {default} or set {var} to its path");
    program
}

fn python(file: &str) -> Vec<String> {
    let path = fixtures().join("python").join(file);
    vec![interpreter("PYTHON", "python3", "Python 3"), path.to_string_lossy().into_owned()]
}

fn node(file: &str) -> Vec<String> {
    let path = fixtures().join("node").join(file);
    // Older Node versions print an ExperimentalWarning for fetch on stderr, which is
    // not the client's log.
    vec![interpreter("NODE", "node", "Node"), "--no-warnings".into(), path.to_string_lossy().into_owned()]
}

/// The defect whose waits must be seen not to vary: timing noise from a busy machine
/// looks like jitter, so this case runs alone.
const QUIET: &str = "defect_errors_backoff_no_jitter.py";

const BACKOFF: &[&str] = &["rate-limited", "rate-limited-forever", "server-error", "server-error-forever"];

/// The defect clients: file, the check it breaks, the verdict that must show, and the
/// scenarios that decide the check.
const DEFECTS: &[(&str, &str, Verdict, &[&str])] = &[
    // The slowest first: the pool starts cases in this order.
    ("defect_errors_http_timeout.py", "errors.http-timeout", Verdict::Fail, &["stall"]),
    ("defect_tasks_poll_cap.py", "tasks.poll-cap", Verdict::Fail, &["task-stuck"]),
    (
        "defect_errors_retry_cap.py",
        "errors.retry-cap",
        Verdict::Fail,
        &["rate-limited-forever", "server-error-forever"],
    ),
    ("defect_errors_backoff.py", "errors.backoff", Verdict::Fail, BACKOFF),
    ("defect_errors_backoff_no_jitter.py", "errors.backoff", Verdict::Warn, BACKOFF),
    ("defect_errors_failed_status.py", "errors.failed-status", Verdict::Fail, &["task-failed"]),
    ("defect_tasks_download_promptly.py", "tasks.download-promptly", Verdict::Fail, &["url-expiry"]),
    (
        "defect_errors_no_retry_final.py",
        "errors.no-retry-final",
        Verdict::Fail,
        &["credits-depleted", "policy-violation"],
    ),
    ("defect_auth_token_refresh.py", "auth.token-refresh", Verdict::Fail, &["token-expiry"]),
    ("defect_errors_connection_fault.py", "errors.connection-fault", Verdict::Fail, &["conn-reset"]),
    ("defect_content_prompt_validation.py", "content.prompt-validation", Verdict::Fail, &["invalid-prompt"]),
    ("defect_request_duration_string.py", "request.duration-string", Verdict::Fail, &[]),
    ("defect_request_model_supports_endpoint.py", "request.model-supports-endpoint", Verdict::Fail, &[]),
    ("defect_auth_bearer_format.py", "auth.bearer-format", Verdict::Fail, &[]),
    ("defect_auth_jwt_header.py", "auth.jwt-header", Verdict::Fail, &[]),
    ("defect_auth_jwt_claims.py", "auth.jwt-claims", Verdict::Fail, &[]),
    ("defect_tasks_poll_interval.py", "tasks.poll-interval", Verdict::Fail, &[]),
    ("defect_tasks_id_logged.py", "tasks.id-logged", Verdict::Fail, &[]),
    ("defect_perf_connection_reuse.py", "perf.connection-reuse", Verdict::Fail, &[]),
    ("defect_security_no_secret_in_output.py", "security.no-secret-in-output", Verdict::Fail, &[]),
    ("defect_security_webhook_https.py", "security.webhook-https", Verdict::Fail, &[]),
    ("defect_content_negative_prompt.py", "content.negative-prompt", Verdict::Warn, &[]),
    ("defect_cost_standard_mode.py", "cost.standard-mode", Verdict::Warn, &[]),
    ("defect_monitoring_structured_logs.py", "monitoring.structured-logs", Verdict::Warn, &[]),
];

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let (http, rest) = DEFECTS.split_at(1);
    let defect = |(file, _, _, scenarios): &(&'static str, &str, Verdict, &[&'static str])| {
        let mut scenarios = scenarios.to_vec();
        scenarios.push("happy");
        Case {
            name: file,
            argv: python(file),
            jobs: scenarios.len(),
            scenarios,
            // A client that retries forever is stopped early: what matters is that it
            // was still retrying well past 5 retries.
            max_wait: (*file == "defect_errors_retry_cap.py").then_some(25.0),
            alone: *file == QUIET,
        }
    };
    // The one case that needs a quiet machine goes first, on its own.
    cases.extend(DEFECTS.iter().filter(|d| d.0 == QUIET).map(defect));
    let rest: Vec<_> = rest.iter().filter(|d| d.0 != QUIET).collect();
    cases.extend(http.iter().map(defect));
    // The full catalog, four scenarios at a time: the 30 s stall dominates either way.
    let full = |name, argv| Case { name, argv, scenarios: vec![], jobs: 4, max_wait: None, alone: false };
    cases.push(full("python", python("kling_client.py")));
    cases.push(full("node", node("kling_client.mjs")));
    cases.extend(rest.into_iter().map(defect));
    cases
}

type Outcome = Result<Report, String>;

struct Pool {
    results: Mutex<HashMap<&'static str, Outcome>>,
    done: Condvar,
}

/// The pool, started by the first test that asks.
fn pool() -> &'static Arc<Pool> {
    static POOL: OnceLock<Arc<Pool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let pool = Arc::new(Pool { results: Mutex::new(HashMap::new()), done: Condvar::new() });
        let shared = Arc::clone(&pool);
        let cases = cases();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a Tokio runtime");
            runtime.block_on(async {
                let slots = Arc::new(tokio::sync::Semaphore::new(SLOTS as usize));
                let mut tasks = tokio::task::JoinSet::new();
                for case in cases {
                    let slots = Arc::clone(&slots);
                    let shared = Arc::clone(&shared);
                    tasks.spawn(async move {
                        let wanted = if case.alone { SLOTS } else { case.jobs as u32 };
                        let _slots = slots.acquire_many_owned(wanted).await;
                        let outcome = run(&case).await;
                        shared.results.lock().unwrap().insert(case.name, outcome);
                        shared.done.notify_all();
                    });
                    // Start in order, so the slowest cases take the first slots.
                    tokio::task::yield_now().await;
                }
                while tasks.join_next().await.is_some() {}
            });
        });
        pool
    })
}

async fn run(case: &Case) -> Outcome {
    let client = ClientCommand::new(&case.argv).map_err(|e| e.to_string())?;
    let options = Options {
        scenarios: case.scenarios.iter().map(|s| (*s).to_owned()).collect(),
        jobs: case.jobs,
        max_wait_seconds: case.max_wait,
        ..Options::default()
    };
    kling_harness::run(&client, &options).await.map_err(|e| e.to_string())
}

/// Wait for a case's report.
fn report(name: &str) -> Report {
    let pool = pool();
    let mut results = pool.results.lock().unwrap();
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(outcome) = results.get(name) {
            return match outcome {
                Ok(report) => report.clone(),
                Err(e) => panic!("{name}: the harness run failed: {e}"),
            };
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "{name}: no report after {PATIENCE:?}");
        results = pool.done.wait_timeout(results, left).unwrap().0;
    }
}

fn rendered(report: &Report) -> String {
    text::render(report, text::TextOptions { color: false })
}

fn assert_correct(name: &str) {
    let report = report(name);
    assert_eq!(report.summary.scenarios, kling_harness::scenario::catalog().len());
    let bad: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.verdict != Verdict::Pass)
        .map(|c| format!("{} {:?}", c.id, c.verdict))
        .collect();
    assert!(bad.is_empty(), "{name}: every check should pass, but {bad:?}:\n{}", rendered(&report));
    assert_eq!(report.exit_code(), 0);
    for check in &report.checks {
        assert!(!check.evidence.is_empty(), "{name}: {} passed without evidence", check.id);
    }
}

fn assert_defect(file: &str) {
    let (_, check, verdict, _) = DEFECTS.iter().find(|d| d.0 == file).expect("a case of DEFECTS");
    let report = report(file);
    let own = report.check(check).expect("the check is in the report");
    assert_eq!(
        own.verdict,
        *verdict,
        "{file}: {check} should be {verdict:?}; its evidence:\n    {}\n{}",
        own.evidence.join("\n    "),
        rendered(&report)
    );
    assert!(!own.evidence.is_empty(), "{file}: {check} has no evidence");
    let others: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.id != *check && !matches!(c.verdict, Verdict::Pass | Verdict::NotExercised))
        .map(|c| format!("{} {:?}", c.id, c.verdict))
        .collect();
    assert!(others.is_empty(), "{file}: only {check} may fall short, but also {others:?}:\n{}", rendered(&report));
    let expected_exit = u8::from(*verdict == Verdict::Fail);
    assert_eq!(report.exit_code(), expected_exit, "{file}");
}

#[test]
fn the_python_reference_client_passes_every_check() {
    assert_correct("python");
}

#[test]
fn the_node_reference_client_passes_every_check() {
    assert_correct("node");
}

#[test]
fn every_check_that_can_fail_has_a_defect_client_and_every_defect_file_is_tested() {
    for c in kling_harness::checks::all() {
        assert!(DEFECTS.iter().any(|d| d.1 == c.id), "{} has no defect client", c.id);
    }
    let mut files: Vec<String> = std::fs::read_dir(fixtures().join("python"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with("defect_") && Path::new(f).extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    let mut tested: Vec<String> = DEFECTS.iter().map(|d| d.0.to_owned()).collect();
    tested.sort();
    assert_eq!(files, tested);
}

macro_rules! defects {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                assert_defect($file);
            }
        )*
    };
}

defects! {
    duration_as_a_number_fails_request_duration_string => "defect_request_duration_string.py",
    an_image_only_model_fails_request_model_supports_endpoint => "defect_request_model_supports_endpoint.py",
    a_bare_token_fails_auth_bearer_format => "defect_auth_bearer_format.py",
    a_header_without_typ_fails_auth_jwt_header => "defect_auth_jwt_header.py",
    a_day_long_token_fails_auth_jwt_claims => "defect_auth_jwt_claims.py",
    no_new_token_on_1004_fails_auth_token_refresh => "defect_auth_token_refresh.py",
    a_fixed_delay_fails_errors_backoff => "defect_errors_backoff.py",
    backoff_without_jitter_warns_on_errors_backoff => "defect_errors_backoff_no_jitter.py",
    retrying_forever_fails_errors_retry_cap => "defect_errors_retry_cap.py",
    retrying_1102_fails_errors_no_retry_final => "defect_errors_no_retry_final.py",
    no_timeout_fails_errors_http_timeout => "defect_errors_http_timeout.py",
    ignoring_failed_fails_errors_failed_status => "defect_errors_failed_status.py",
    blind_recreates_fail_errors_connection_fault => "defect_errors_connection_fault.py",
    no_poll_deadline_fails_tasks_poll_cap => "defect_tasks_poll_cap.py",
    eager_polling_fails_tasks_poll_interval => "defect_tasks_poll_interval.py",
    unlogged_ids_fail_tasks_id_logged => "defect_tasks_id_logged.py",
    a_late_download_fails_tasks_download_promptly => "defect_tasks_download_promptly.py",
    one_connection_per_request_fails_perf_connection_reuse => "defect_perf_connection_reuse.py",
    logged_headers_fail_security_no_secret_in_output => "defect_security_no_secret_in_output.py",
    an_http_webhook_fails_security_webhook_https => "defect_security_webhook_https.py",
    an_unchecked_prompt_fails_content_prompt_validation => "defect_content_prompt_validation.py",
    no_negative_prompt_warns_on_content_negative_prompt => "defect_content_negative_prompt.py",
    pro_mode_warns_on_cost_standard_mode => "defect_cost_standard_mode.py",
    plain_text_logs_warn_on_monitoring_structured_logs => "defect_monitoring_structured_logs.py",
}
