//! The command-line grammar (SPEC.md, "CLI"). Flag names are a contract: CI configs
//! depend on them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Make a Kling AI video integration production-ready.
#[derive(Debug, Parser)]
#[command(name = "kling-preflight", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Scan code and configs for the documented Kling pitfalls.
    Lint(LintArgs),
    /// List every lint rule.
    Rules(RulesArgs),
    /// Show a rule's full documentation.
    Explain(ExplainArgs),
    /// Run a stateful mock Kling server with fault injection.
    Mock(MockArgs),
    /// Judge a client program against the production checklist.
    Check(CheckArgs),
    /// Run the whole production checklist: lint, harness and attestations.
    Audit(AuditArgs),
}

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LintFormat {
    /// rustc-style diagnostics with code frames.
    Text,
    /// One JSON document.
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
    /// `JUnit` XML.
    Junit,
}

/// The lowest severity that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// Errors only (the default).
    Error,
    /// Warnings and errors.
    Warning,
    /// Everything, including info.
    Info,
}

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// Files or directories to scan.
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub(crate) format: LintFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Only these rules (comma-separated ids or prefixes, e.g. KL1,KL401).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub(crate) select: Vec<String>,
    /// Skip these rules (comma-separated ids or prefixes).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub(crate) ignore: Vec<String>,
    /// The lowest severity that fails the run.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub(crate) fail_on: FailOn,
    /// Apply safe fixes in place.
    #[arg(long)]
    pub(crate) fix: bool,
    /// Print the patch that --fix would apply, without writing.
    #[arg(long)]
    pub(crate) diff: bool,
    /// Read configuration from FILE instead of discovering it.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Report only findings that are not in this baseline.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Record today's findings as the baseline in FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) write_baseline: Option<PathBuf>,
    /// Exit 0 even when there are findings.
    #[arg(long)]
    pub(crate) exit_zero: bool,
    /// Never colour the output.
    #[arg(long)]
    pub(crate) no_color: bool,
    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub(crate) jobs: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RulesFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    pub(crate) format: RulesFormat,
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// A rule id (KL101) or name (duration-not-string).
    pub(crate) rule: String,
}

#[derive(Debug, Args)]
pub(crate) struct MockArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) host: String,
    /// Port to listen on (0 picks a free port).
    #[arg(long, default_value_t = 8000)]
    pub(crate) port: u16,
    /// A TOML or JSON file with the mock's settings and fault plan.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// The access key the mock accepts.
    #[arg(long, value_name = "AK")]
    pub(crate) access_key: Option<String>,
    /// The secret key that signs tokens for that access key.
    #[arg(long, value_name = "SK")]
    pub(crate) secret_key: Option<String>,
    /// How long a task takes to finish.
    #[arg(long, value_name = "S")]
    pub(crate) task_seconds: Option<f64>,
    /// How long result URLs stay valid.
    #[arg(long, value_name = "S")]
    pub(crate) url_ttl_seconds: Option<f64>,
    /// Seed for probabilistic faults.
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
}

/// Report formats shared by check and audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    Text,
    Json,
    Junit,
    Markdown,
    Html,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Run only these scenarios (repeatable, or comma-separated).
    #[arg(long = "scenario", value_delimiter = ',', value_name = "ID")]
    pub(crate) scenarios: Vec<String>,
    /// List the scenarios and checks, then exit.
    #[arg(long)]
    pub(crate) list: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Scenarios run at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub(crate) jobs: Option<usize>,
    /// Longest a scenario may run before its client is stopped.
    #[arg(long, value_name = "S")]
    pub(crate) max_wait_seconds: Option<f64>,
    /// Never colour the output.
    #[arg(long)]
    pub(crate) no_color: bool,
    /// The client command and its arguments, after `--`.
    #[arg(last = true, value_name = "CLIENT_COMMAND")]
    pub(crate) client: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// The code to lint.
    #[arg(default_value = ".")]
    pub(crate) path: PathBuf,
    /// A TOML file of attestations for the manual checklist lines.
    #[arg(long, value_name = "FILE")]
    pub(crate) attest: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Lint configuration FILE instead of discovering it from PATH.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Run only these harness scenarios (repeatable, or comma-separated); lines they do not
    /// reach stay not exercised.
    #[arg(long = "scenario", value_delimiter = ',', value_name = "ID")]
    pub(crate) scenarios: Vec<String>,
    /// Scenarios run at once when a client is given, and lint threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub(crate) jobs: Option<usize>,
    /// Longest a scenario may run before its client is stopped.
    #[arg(long, value_name = "S")]
    pub(crate) max_wait_seconds: Option<f64>,
    /// Never colour the output.
    #[arg(long)]
    pub(crate) no_color: bool,
    /// The client command, after `--`, to run the harness too.
    #[arg(last = true, value_name = "CLIENT_COMMAND")]
    pub(crate) client: Vec<String>,
}
