//! Running the client under test: one process per scenario, in a process group of its
//! own, with SPEC's environment, captured (bounded) stdout and stderr, and a deadline.
//!
//! The client is untrusted in the sense that matters here: it may hang, spawn helpers
//! that outlive it, or flood its output. So the runner
//! - starts it as the leader of a new process group, and signals the whole group
//!   (SIGTERM, then SIGKILL after a grace period) on the deadline or an interrupt;
//! - kills whatever is left of the group once the client exits, so a background
//!   helper never survives its scenario;
//! - registers every live group in a process-wide table, so a signal handler (or a
//!   panic on the way out) can stop them all with [`stop_all_clients`], and holds a
//!   guard that kills the group if the run is dropped half-way;
//! - keeps at most [`CAPTURE_LIMIT`] bytes of each stream but keeps reading, so a
//!   chatty client never blocks on a full pipe.
//!
//! A process that leaves the group on purpose (`setsid`, a double fork into a new
//! session) escapes all of this; nothing short of a container catches that.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio::process::Command;

use crate::error::HarnessError;
use crate::interrupt::Interrupt;

/// How much of each output stream is kept (the rest is read and dropped).
pub const CAPTURE_LIMIT: usize = 1024 * 1024;
/// The longest line kept whole; longer lines are cut (and marked with `…`).
const MAX_LINE_BYTES: usize = 16 * 1024;
/// How long a stopped client gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);
/// How long the output readers may take to see end-of-file after the group is gone
/// (a process that escaped the group can hold the pipes open forever).
const DRAIN: Duration = Duration::from_secs(2);

/// The client command: a program and its arguments, run from the current directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCommand {
    argv: Vec<OsString>,
}

impl ClientCommand {
    /// The command line after `--`; the first item is the program.
    pub fn new<I, S>(argv: I) -> Result<Self, HarnessError>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
        if argv.first().is_none_or(|p| p.is_empty()) {
            return Err(HarnessError::NoClient);
        }
        Ok(ClientCommand { argv })
    }

    /// The program.
    pub fn program(&self) -> &OsStr {
        &self.argv[0]
    }

    /// The arguments after the program.
    pub fn args(&self) -> &[OsString] {
        &self.argv[1..]
    }

    /// The command line as a shell would need it typed (for reports).
    pub fn display(&self) -> String {
        self.argv.iter().map(|a| shell_quote(&a.to_string_lossy())).collect::<Vec<_>>().join(" ")
    }
}

fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | '+' | ','));
    if plain { word.to_owned() } else { format!("'{}'", word.replace('\'', "'\\''")) }
}

/// Why the harness stopped a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// Its scenario's deadline passed.
    Deadline,
    /// The run was interrupted.
    Interrupted,
}

/// One line of output, stamped with when the harness read it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    /// Milliseconds since the launch's epoch.
    pub(crate) t_ms: f64,
    pub(crate) text: String,
}

/// A captured output stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Captured {
    pub(crate) lines: Vec<Line>,
    /// Every byte the client wrote, kept or not.
    pub(crate) bytes: usize,
    /// Whether bytes were dropped past [`CAPTURE_LIMIT`].
    pub(crate) truncated: bool,
    kept: usize,
}

impl Captured {
    fn push(&mut self, raw: &[u8], cut: bool, t_ms: f64) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if self.kept + raw.len() > CAPTURE_LIMIT {
            self.truncated = true;
            return;
        }
        self.kept += raw.len();
        let mut text = String::from_utf8_lossy(raw).into_owned();
        if cut {
            text.push('…');
        }
        self.lines.push(Line { t_ms, text });
    }
}

/// What one launch needs besides the command.
#[derive(Debug)]
pub(crate) struct Launch {
    pub(crate) env: Vec<(String, String)>,
    pub(crate) deadline: Duration,
    /// Time zero for stamps (the scenario's mock start).
    pub(crate) epoch: Instant,
}

/// How a client run ended.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) code: Option<i32>,
    pub(crate) signal: Option<i32>,
    pub(crate) stopped: Option<Stop>,
    /// When it exited (or was stopped), in milliseconds since the epoch.
    pub(crate) end_ms: f64,
    pub(crate) stdout: Captured,
    pub(crate) stderr: Captured,
}

/// Run the client to completion, the deadline, or the interrupt.
pub(crate) async fn run(
    client: &ClientCommand,
    launch: Launch,
    interrupt: &Interrupt,
) -> Result<Outcome, HarnessError> {
    let mut command = Command::new(client.program());
    command.args(client.args()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    // The user's own Kling settings must not leak in: a real KLING_BASE_URL or key
    // would send the client to production.
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy();
        if name.starts_with("KLING") {
            command.env_remove(&key);
        }
    }
    command.envs(launch.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    // A proxy from the environment would take the client's loopback calls elsewhere.
    let no_proxy = "127.0.0.1,localhost,::1";
    command.env("NO_PROXY", no_proxy).env("no_proxy", no_proxy);
    #[cfg(unix)]
    command.process_group(0);

    let mut child = command
        .spawn()
        .map_err(|source| HarnessError::Spawn { program: client.program().to_string_lossy().into_owned(), source })?;
    let guard = GroupGuard::register(child.id());
    let epoch = launch.epoch;
    let stdout = Arc::new(Mutex::new(Captured::default()));
    let stderr = Arc::new(Mutex::new(Captured::default()));
    let readers = [
        child.stdout.take().map(|r| tokio::spawn(capture(r, Arc::clone(&stdout), epoch))),
        child.stderr.take().map(|r| tokio::spawn(capture(r, Arc::clone(&stderr), epoch))),
    ];

    let mut stopped = None;
    let status = tokio::select! {
        status = child.wait() => Some(status),
        () = tokio::time::sleep(launch.deadline) => { stopped = Some(Stop::Deadline); None }
        () = interrupt.triggered() => { stopped = Some(Stop::Interrupted); None }
    };
    let (status, end) = if let Some(status) = status {
        (status, Instant::now())
    } else {
        let end = Instant::now();
        guard.signal(false);
        let status = if let Ok(status) = tokio::time::timeout(GRACE, child.wait()).await {
            status
        } else {
            guard.signal(true);
            child.wait().await
        };
        (status, end)
    };
    // Whatever the client left running in its group goes now.
    guard.signal(true);
    drop(guard);
    for reader in readers.into_iter().flatten() {
        let abort = reader.abort_handle();
        if tokio::time::timeout(DRAIN, reader).await.is_err() {
            abort.abort();
        }
    }
    let status = status.map_err(|source| HarnessError::Io { what: "cannot wait for the client".into(), source })?;
    let take = |c: &Arc<Mutex<Captured>>| std::mem::take(&mut *c.lock().unwrap_or_else(PoisonError::into_inner));
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(not(unix))]
    let signal = None;
    Ok(Outcome {
        code: status.code(),
        signal,
        stopped,
        end_ms: ms_since(epoch, end),
        stdout: take(&stdout),
        stderr: take(&stderr),
    })
}

pub(crate) fn ms_since(epoch: Instant, at: Instant) -> f64 {
    at.saturating_duration_since(epoch).as_secs_f64() * 1000.0
}

/// Read a stream to its end, keeping lines up to the limits.
async fn capture<R: AsyncRead + Unpin>(mut reader: R, sink: Arc<Mutex<Captured>>, epoch: Instant) {
    let mut buf = vec![0_u8; 8192];
    let mut line: Vec<u8> = Vec::new();
    let mut cut = false;
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let t_ms = ms_since(epoch, Instant::now());
        let mut sink = sink.lock().unwrap_or_else(PoisonError::into_inner);
        sink.bytes += n;
        for &b in &buf[..n] {
            if b == b'\n' {
                sink.push(&line, cut, t_ms);
                line.clear();
                cut = false;
            } else if line.len() < MAX_LINE_BYTES {
                line.push(b);
            } else {
                cut = true;
            }
        }
    }
    if !line.is_empty() {
        let t_ms = ms_since(epoch, Instant::now());
        sink.lock().unwrap_or_else(PoisonError::into_inner).push(&line, cut, t_ms);
    }
}

/// Process groups of clients still running.
static LIVE: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// SIGKILL every client process group this process started and has not reaped yet.
/// Safe to call from anywhere, any number of times (a second Ctrl-C, a panic hook);
/// returns how many groups were signalled.
pub fn stop_all_clients() -> usize {
    let groups: Vec<u32> = LIVE.lock().unwrap_or_else(PoisonError::into_inner).iter().copied().collect();
    groups.iter().filter(|&&g| signal_group(g, true)).count()
}

/// Kills the client's group when dropped, whatever path the run takes out (a
/// cancelled future, a panic in the harness).
struct GroupGuard {
    pgid: Option<u32>,
}

impl GroupGuard {
    fn register(pid: Option<u32>) -> Self {
        if let Some(pid) = pid {
            LIVE.lock().unwrap_or_else(PoisonError::into_inner).insert(pid);
        }
        GroupGuard { pgid: pid }
    }

    fn signal(&self, kill: bool) {
        if let Some(pgid) = self.pgid {
            signal_group(pgid, kill);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            signal_group(pgid, true);
            LIVE.lock().unwrap_or_else(PoisonError::into_inner).remove(&pgid);
        }
    }
}

/// Signal every process of the group led by `pgid`; false when none was left.
#[cfg(unix)]
fn signal_group(pgid: u32, kill: bool) -> bool {
    use rustix::process::{Pid, Signal, kill_process_group};
    let Some(pid) = i32::try_from(pgid).ok().and_then(Pid::from_raw) else {
        return false;
    };
    kill_process_group(pid, if kill { Signal::KILL } else { Signal::TERM }).is_ok()
}

#[cfg(not(unix))]
fn signal_group(_pgid: u32, _kill: bool) -> bool {
    // Without process groups, `kill_on_drop` on the child is all there is.
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_display_as_typed() {
        let c = ClientCommand::new(["python3", "my client.py", "--x=1", "it's"]).unwrap();
        assert_eq!(c.display(), "python3 'my client.py' --x=1 'it'\\''s'");
        assert!(matches!(ClientCommand::new(Vec::<String>::new()), Err(HarnessError::NoClient)));
        assert!(matches!(ClientCommand::new([""]), Err(HarnessError::NoClient)));
    }

    #[test]
    fn captures_are_bounded() {
        let mut c = Captured::default();
        let line = vec![b'x'; 1000];
        for _ in 0..(CAPTURE_LIMIT / 1000 + 10) {
            c.push(&line, false, 0.0);
        }
        assert!(c.truncated);
        assert!(c.lines.len() <= CAPTURE_LIMIT / 1000);
        c.push(b"crlf\r", true, 1.0);
        let mut d = Captured::default();
        d.push(b"crlf\r", true, 1.0);
        assert_eq!(d.lines[0].text, "crlf…");
    }
}
