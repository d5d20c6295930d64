//! Running one scenario: a fresh mock with the scenario's settings, a callback
//! receiver, a temporary output directory, the client with SPEC's environment, and
//! then everything the judges need collected before the directory and the mock go.

use std::path::Path;
use std::time::{Duration, Instant};

use kling_mock::{EntryKind, MockKling};

use crate::callback::Receiver;
use crate::error::HarnessError;
use crate::interrupt::Interrupt;
use crate::observation::{ClientEnd, OutputFile, ScenarioRun};
use crate::runner::{self, ClientCommand, Launch};
use crate::scenario::Scenario;
use crate::secrets;

/// How long to let the mock journal what the client's exit cut short (a connection
/// closed mid-request is recorded when the server notices).
const SETTLE: Duration = Duration::from_millis(200);
/// Output files larger than this are listed but not read.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// At most this many files are looked at.
const MAX_FILES: usize = 200;

/// What a scenario run needs besides the scenario and the client.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) poll_timeout: f64,
    pub(crate) max_wait: Option<f64>,
    /// Start of the whole harness run.
    pub(crate) epoch: Instant,
}

/// Fresh credentials per scenario: a distinctive secret can only be found in the
/// client's output if the client printed it.
fn credentials() -> (String, String) {
    let ak = format!("ak-preflight-{:08x}", rand::random::<u32>());
    let sk = format!("sk-preflight-{:032x}", rand::random::<u128>());
    (ak, sk)
}

fn seconds_text(s: f64) -> String {
    if s.fract() == 0.0 { format!("{s:.0}") } else { format!("{s}") }
}

/// Run `scenario` once. A failure to start the client is an error of the whole run
/// (every scenario would fail alike); anything else that goes wrong is recorded in
/// the returned run, whose checks then say `error`.
pub(crate) async fn scenario(
    scenario: &'static Scenario,
    client: &ClientCommand,
    settings: &Settings,
    interrupt: &Interrupt,
) -> Result<ScenarioRun, HarnessError> {
    let started = Instant::now();
    let mut run = ScenarioRun::empty(scenario);
    run.started_s = started.duration_since(settings.epoch).as_secs_f64();
    let (access_key, secret_key) = credentials();
    run.poll_timeout = scenario.poll_timeout(settings.poll_timeout);
    run.deadline = settings.max_wait.unwrap_or_else(|| scenario.default_deadline(run.poll_timeout));

    // Time zero of the journal: taken just before the mock's own clock starts, so
    // client times converted with it are late by microseconds at most.
    let epoch = Instant::now();
    let mock = match MockKling::start_with(scenario.mock_config(&access_key, &secret_key)).await {
        Ok(mock) => mock,
        Err(e) => {
            run.error = Some(format!("the mock could not start: {e}"));
            return Ok(run);
        }
    };
    let receiver = match Receiver::start(scenario.id).await {
        Ok(r) => r,
        Err(e) => {
            run.error = Some(e.to_string());
            return Ok(run);
        }
    };
    let dir = match tempfile::Builder::new().prefix(&format!("kling-preflight-{}-", scenario.id)).tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            run.error = Some(format!("cannot create a temporary output directory: {e}; check TMPDIR"));
            return Ok(run);
        }
    };
    let base = mock.uri();
    let env = vec![
        ("KLING_BASE_URL".to_owned(), base.clone()),
        ("KLING_API_BASE".to_owned(), base.clone()),
        ("KLINGAI_BASE_URL".to_owned(), base),
        ("KLING_ACCESS_KEY".to_owned(), access_key.clone()),
        ("KLING_SECRET_KEY".to_owned(), secret_key.clone()),
        ("KLING_PROMPT".to_owned(), scenario.prompt()),
        ("KLING_OUTPUT_DIR".to_owned(), dir.path().to_string_lossy().into_owned()),
        ("KLING_POLL_TIMEOUT_SECONDS".to_owned(), seconds_text(run.poll_timeout)),
        ("KLING_CALLBACK_URL".to_owned(), receiver.url().to_owned()),
    ];
    let launch = Launch { env, deadline: Duration::from_secs_f64(run.deadline), epoch };
    let outcome = runner::run(client, launch, interrupt).await?;
    tokio::time::sleep(SETTLE).await;

    let mut journal = mock.journal();
    journal.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms).then(a.seq.cmp(&b.seq)));
    let (callbacks, entries): (Vec<_>, Vec<_>) = journal.into_iter().partition(|e| e.kind == EntryKind::Callback);
    run.entries = entries;
    run.callbacks = callbacks;
    run.tasks = mock.tasks();
    run.files = scan_output(dir.path(), &secret_key);
    run.client = Some(ClientEnd {
        code: outcome.code,
        signal: outcome.signal,
        stopped: outcome.stopped,
        end_ms: outcome.end_ms,
    });
    run.stdout = outcome.stdout;
    run.stderr = outcome.stderr;
    run.access_key = access_key;
    run.secret_key = secret_key;
    drop(receiver);
    mock.shutdown().await;
    run.wall_s = started.elapsed().as_secs_f64();
    Ok(run)
}

/// Every regular file under `dir` (symlinks are not followed), fingerprinted and
/// searched for credentials.
fn scan_output(dir: &Path, secret_key: &str) -> Vec<OutputFile> {
    let mut files = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), 0)];
    while let Some((path, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else { continue };
        for entry in entries.flatten() {
            if files.len() >= MAX_FILES {
                return files;
            }
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else { continue };
            if meta.is_dir() && depth < 6 {
                pending.push((entry.path(), depth + 1));
            } else if meta.is_file() {
                let rel = entry.path().strip_prefix(dir).map_or_else(
                    |_| entry.file_name().to_string_lossy().into_owned(),
                    |p| p.to_string_lossy().replace('\\', "/"),
                );
                let mut file =
                    OutputFile { path: rel, bytes: meta.len(), fingerprint: None, secret: false, tokens: Vec::new() };
                if meta.len() <= MAX_FILE_BYTES
                    && let Ok(bytes) = std::fs::read(entry.path())
                {
                    file.fingerprint = Some(kling_mock::fingerprint(&bytes));
                    file.secret = secrets::find(&bytes, secret_key.as_bytes()).is_some();
                    file.tokens = secrets::find_tokens(&bytes);
                }
                files.push(file);
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_files_are_fingerprinted_and_searched() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("v.mp4"), b"video bytes").unwrap();
        std::fs::create_dir(dir.path().join("logs")).unwrap();
        std::fs::write(dir.path().join("logs/run.log"), b"key sk-preflight-1234").unwrap();
        let files = scan_output(dir.path(), "sk-preflight-1234");
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "logs/run.log");
        assert!(files[0].secret && !files[1].secret);
        assert_eq!(files[1].fingerprint.as_deref(), Some(kling_mock::fingerprint(b"video bytes").as_str()));
        assert_eq!(seconds_text(15.0), "15");
        assert_eq!(seconds_text(7.5), "7.5");
    }
}
