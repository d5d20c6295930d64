//! `kling-preflight mock`: serve the mock Kling API until SIGINT or SIGTERM.
//!
//! Settings come from the defaults, then the `--config` file, then the flags. The
//! first line on stdout is the contract scripts wait for:
//! `kling mock listening on http://HOST:PORT`.

use std::io::Write as _;

use anyhow::Context as _;
use kling_mock::{MockConfig, MockKling};

use crate::args::MockArgs;
use crate::exit::Exit;

/// The flags' own defaults (see `MockArgs`). The flags cannot tell a default from the
/// same value typed out, so a file's `host`/`port` apply unless the flags give another
/// value.
const DEFAULT_HOST: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 8000;

pub(crate) fn run(args: MockArgs) -> anyhow::Result<Exit> {
    let config = settings(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kling-mock")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config))
}

/// Defaults, then the file, then the flags.
fn settings(args: MockArgs) -> anyhow::Result<MockConfig> {
    let base = MockConfig { host: DEFAULT_HOST.to_owned(), port: DEFAULT_PORT, ..MockConfig::default() };
    let mut config = match &args.config {
        Some(path) => MockConfig::from_path_over(path, &base)?,
        None => base,
    };
    if args.host != DEFAULT_HOST {
        config.host = args.host;
    }
    if args.port != DEFAULT_PORT {
        config.port = args.port;
    }
    if args.access_key.is_some() || args.secret_key.is_some() {
        let first = config.accounts.first().cloned().unwrap_or_default();
        config = config
            .with_credentials(args.access_key.unwrap_or(first.access_key), args.secret_key.unwrap_or(first.secret_key));
    }
    if let Some(seconds) = args.task_seconds {
        config = config.with_task_seconds(seconds);
    }
    if let Some(seconds) = args.url_ttl_seconds {
        config = config.with_url_ttl_seconds(seconds);
    }
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    config.validate()?;
    Ok(config)
}

async fn serve(config: MockConfig) -> anyhow::Result<Exit> {
    let mock = MockKling::start_with(config).await?;
    let uri = mock.uri();
    // Write errors are ignored: a reader that stops after the first line (`| head -1`
    // in a script) must not take the server down with it.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "kling mock listening on {uri}");
    let _ = out.flush();
    let accounts = &mock.config().accounts;
    for account in accounts {
        let _ = writeln!(
            out,
            "test credentials: access key {} / secret key {} (test values, not secrets)",
            account.access_key, account.secret_key
        );
    }
    let admin = if mock.config().admin_token.is_some() { "admin token required" } else { "loopback only" };
    let _ = writeln!(out, "admin API: {uri}/__admin/health ({admin}); API description: {uri}/__admin/openapi.json");
    let _ = writeln!(out, "press Ctrl-C to stop");
    let _ = out.flush();
    drop(out);

    wait_for_signal().await?;
    eprintln!("kling mock: shutting down");
    mock.shutdown().await;
    Ok(Exit::Clean)
}

#[cfg(unix)]
async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> anyhow::Result<()> {
    tokio::signal::ctrl_c().await.context("cannot listen for Ctrl-C")
}
