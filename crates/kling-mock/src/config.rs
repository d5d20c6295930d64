//! The mock's settings, in Rust and as a TOML or JSON file (the same schema).
//!
//! Every field has a default (SPEC "mock"): one account `ak-test`/`sk-test` with 1 000
//! credit units and 5 concurrent tasks, no request-rate limit, tasks that take 2 s
//! (`submitted` for 0.5 s), result URLs that live 3 600 s, a 10 000-entry journal. A file
//! only needs the settings it changes:
//!
//! ```toml
//! seed = 42
//! url_ttl_seconds = 5
//! token_expiry_after_first_create = true
//!
//! [timing]
//! task_seconds = 4
//!
//! [[accounts]]
//! access_key = "ak-test"
//! secret_key = "sk-test"
//! credits = 0
//!
//! [[faults.rules]]
//! route = "create"
//! first = 2
//! fault = "error"
//! code = 1302
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::faults::FaultPlan;

/// The default access key (a test value, printed at start).
pub const DEFAULT_ACCESS_KEY: &str = "ak-test";
/// The default secret key (a test value, printed at start).
pub const DEFAULT_SECRET_KEY: &str = "sk-test";

/// Everything the mock can be told at start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MockConfig {
    /// Address to listen on (`127.0.0.1`).
    pub host: String,
    /// Port to listen on; 0 picks a free one (the library's default; the CLI's is 8000).
    pub port: u16,
    /// The accounts the mock knows: each an access key, its secret key and its limits.
    pub accounts: Vec<AccountConfig>,
    /// How long tasks take.
    pub timing: TimingConfig,
    /// How long a result URL stays valid, counted from when it is served (each answer
    /// that carries a result serves fresh URLs). A short TTL (5 s) gives the harness's
    /// url-expiry scenario.
    pub url_ttl_seconds: f64,
    /// Token-expiry mode: after the first successful create, every token the mock has
    /// already seen is answered with 401/1004, as if 30 minutes had passed. Tokens first
    /// seen afterwards are judged normally.
    pub token_expiry_after_first_create: bool,
    /// How callbacks are delivered.
    pub callbacks: CallbackConfig,
    /// How many records the journal keeps (oldest dropped first).
    pub journal_capacity: usize,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Seed of probabilistic faults (and nothing else: ids stay random).
    pub seed: u64,
    /// When set, the admin API answers anyone who sends `Authorization: Bearer <token>`
    /// and nobody else; when unset, it answers loopback clients only.
    pub admin_token: Option<String>,
    /// Faults active from the start.
    pub faults: FaultPlan,
}

/// One account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountConfig {
    /// The access key (the JWT's `iss`).
    pub access_key: String,
    /// The secret key that signs the account's tokens.
    pub secret_key: String,
    /// Credit units in the resource pack (`0` answers every create with 429/1102).
    pub credits: f64,
    /// Tasks that may be `submitted`/`processing` at once (over it: 429/1303).
    pub concurrency_limit: u32,
    /// API requests per second allowed (over it: 429/1302); no limit when absent.
    pub requests_per_second: Option<f64>,
}

/// How long tasks take, in seconds of the mock's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimingConfig {
    /// How long a task stays `submitted` before `processing`.
    pub submitted_seconds: f64,
    /// How long a task takes from creation to `succeed` (or `failed`).
    pub task_seconds: f64,
}

/// How callbacks are delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallbackConfig {
    /// How long one delivery may take before it counts as failed.
    pub timeout_seconds: f64,
    /// Attempts per status change (1 = no retry).
    pub attempts: u32,
    /// Wait before the second attempt; it doubles for each further attempt.
    pub backoff_seconds: f64,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            host: "127.0.0.1".into(),
            port: 0,
            accounts: vec![AccountConfig::default()],
            timing: TimingConfig::default(),
            url_ttl_seconds: 3600.0,
            token_expiry_after_first_create: false,
            callbacks: CallbackConfig::default(),
            journal_capacity: 10_000,
            max_body_bytes: 32 * 1024 * 1024,
            seed: 0,
            admin_token: None,
            faults: FaultPlan::default(),
        }
    }
}

impl Default for AccountConfig {
    fn default() -> Self {
        AccountConfig {
            access_key: DEFAULT_ACCESS_KEY.into(),
            secret_key: DEFAULT_SECRET_KEY.into(),
            credits: 1000.0,
            concurrency_limit: 5,
            requests_per_second: None,
        }
    }
}

impl Default for TimingConfig {
    fn default() -> Self {
        TimingConfig { submitted_seconds: 0.5, task_seconds: 2.0 }
    }
}

impl Default for CallbackConfig {
    fn default() -> Self {
        CallbackConfig { timeout_seconds: 5.0, attempts: 3, backoff_seconds: 1.0 }
    }
}

impl MockConfig {
    /// Read a configuration file: `.json` as JSON, anything else as TOML.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, MockError> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|source| MockError::ReadConfig { path: path.to_owned(), source })?;
        let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let parsed = if json { Self::parse_json(&text) } else { Self::parse_toml(&text) };
        let config = parsed.map_err(|message| MockError::ParseConfig { path: path.to_owned(), message })?;
        config.validate()?;
        Ok(config)
    }

    /// Read a configuration file over `base`: settings the file leaves out keep
    /// `base`'s values rather than the library defaults (the CLI's base listens on
    /// port 8000, say). Tables merge key by key; lists (`accounts`, fault `rules`)
    /// are replaced whole.
    pub fn from_path_over(path: impl AsRef<Path>, base: &MockConfig) -> Result<Self, MockError> {
        let path = path.as_ref();
        // Parse strictly first, for messages with line and column.
        Self::from_path(path)?;
        let text =
            std::fs::read_to_string(path).map_err(|source| MockError::ReadConfig { path: path.to_owned(), source })?;
        let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let layer: serde_json::Value = if json {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            toml::from_str(&text).map_err(|e| e.to_string())
        }
        .map_err(|message| MockError::ParseConfig { path: path.to_owned(), message })?;
        let mut merged = serde_json::to_value(base)
            .map_err(|e| MockError::InvalidConfig(format!("the base settings cannot be encoded: {e}")))?;
        merge(&mut merged, layer);
        let config: MockConfig = serde_json::from_value(merged)
            .map_err(|e| MockError::ParseConfig { path: path.to_owned(), message: e.to_string() })?;
        config.validate()?;
        Ok(config)
    }

    /// Parse TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self, MockError> {
        let config = Self::parse_toml(text).map_err(Self::inline_error)?;
        config.validate()?;
        Ok(config)
    }

    /// Parse JSON text.
    pub fn from_json_str(text: &str) -> Result<Self, MockError> {
        let config = Self::parse_json(text).map_err(Self::inline_error)?;
        config.validate()?;
        Ok(config)
    }

    fn parse_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
    }

    fn parse_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    fn inline_error(message: String) -> MockError {
        MockError::ParseConfig { path: PathBuf::from("<inline>"), message }
    }

    /// Check that the settings can work together; the error says which to change.
    pub fn validate(&self) -> Result<(), MockError> {
        let bad = |m: String| Err(MockError::InvalidConfig(m));
        if self.accounts.is_empty() {
            return bad(
                "no accounts; add one, e.g. [[accounts]] access_key = \"ak-test\" secret_key = \"sk-test\"".into()
            );
        }
        for (i, a) in self.accounts.iter().enumerate() {
            if a.access_key.is_empty() || a.secret_key.is_empty() {
                return bad(format!("accounts[{i}] needs a non-empty access_key and secret_key"));
            }
            if self.accounts[..i].iter().any(|b| b.access_key == a.access_key) {
                return bad(format!("access key {:?} appears twice in accounts; keys must be unique", a.access_key));
            }
            if !a.credits.is_finite() || a.credits < 0.0 {
                return bad(format!("accounts[{i}].credits = {} must be 0 or more", a.credits));
            }
            if let Some(r) = a.requests_per_second
                && !(r.is_finite() && r > 0.0)
            {
                return bad(format!("accounts[{i}].requests_per_second = {r} must be above 0; remove it for no limit"));
            }
        }
        let t = &self.timing;
        if !(t.submitted_seconds.is_finite() && t.task_seconds.is_finite())
            || t.submitted_seconds < 0.0
            || t.task_seconds < t.submitted_seconds
        {
            return bad(format!(
                "timing: submitted_seconds ({}) must be 0 or more and at most task_seconds ({})",
                t.submitted_seconds, t.task_seconds
            ));
        }
        if !(self.url_ttl_seconds.is_finite() && self.url_ttl_seconds > 0.0) {
            return bad(format!("url_ttl_seconds = {} must be above 0", self.url_ttl_seconds));
        }
        let c = &self.callbacks;
        if !(1..=20).contains(&c.attempts) {
            return bad(format!("callbacks.attempts = {} must be between 1 and 20", c.attempts));
        }
        let timeout_ok = c.timeout_seconds.is_finite() && c.timeout_seconds > 0.0;
        let backoff_ok = c.backoff_seconds.is_finite() && c.backoff_seconds >= 0.0;
        if !(timeout_ok && backoff_ok) {
            return bad("callbacks.timeout_seconds must be above 0 and backoff_seconds 0 or more".into());
        }
        if self.journal_capacity == 0 {
            return bad("journal_capacity must be at least 1 (the default is 10000)".into());
        }
        if self.max_body_bytes < 1024 {
            return bad(format!("max_body_bytes = {} is too small; use at least 1024", self.max_body_bytes));
        }
        if self.admin_token.as_deref().is_some_and(str::is_empty) {
            return bad("admin_token is empty; set a value or remove it (then admin is loopback-only)".into());
        }
        Ok(())
    }

    /// Use this access key and secret key for the first account.
    #[must_use]
    pub fn with_credentials(mut self, access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        let first = self.first_account();
        first.access_key = access_key.into();
        first.secret_key = secret_key.into();
        self
    }

    /// Give the first account this many credit units (0: every create gets 429/1102).
    #[must_use]
    pub fn with_credits(mut self, units: f64) -> Self {
        self.first_account().credits = units;
        self
    }

    /// Let the first account run this many tasks at once.
    #[must_use]
    pub fn with_concurrency_limit(mut self, tasks: u32) -> Self {
        self.first_account().concurrency_limit = tasks;
        self
    }

    /// Limit the first account's API requests per second (429/1302 above it).
    #[must_use]
    pub fn with_requests_per_second(mut self, rate: f64) -> Self {
        self.first_account().requests_per_second = Some(rate);
        self
    }

    /// Make tasks take `seconds` (staying `submitted` a quarter of it, as the defaults do).
    #[must_use]
    pub fn with_task_seconds(mut self, seconds: f64) -> Self {
        self.timing = TimingConfig { submitted_seconds: seconds / 4.0, task_seconds: seconds };
        self
    }

    /// Let result URLs live `seconds` from when they are served.
    #[must_use]
    pub fn with_url_ttl_seconds(mut self, seconds: f64) -> Self {
        self.url_ttl_seconds = seconds;
        self
    }

    /// Turn token-expiry mode on or off.
    #[must_use]
    pub fn with_token_expiry_after_first_create(mut self, on: bool) -> Self {
        self.token_expiry_after_first_create = on;
        self
    }

    /// Start with this fault plan.
    #[must_use]
    pub fn with_faults(mut self, plan: FaultPlan) -> Self {
        self.faults = plan;
        self
    }

    /// Keep at most this many journal records.
    #[must_use]
    pub fn with_journal_capacity(mut self, entries: usize) -> Self {
        self.journal_capacity = entries;
        self
    }

    /// Listen on this port (0: a free one).
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    fn first_account(&mut self) -> &mut AccountConfig {
        if self.accounts.is_empty() {
            self.accounts.push(AccountConfig::default());
        }
        &mut self.accounts[0]
    }
}

/// Lay `layer` over `base`: objects merge key by key, anything else replaces.
fn merge(base: &mut serde_json::Value, layer: serde_json::Value) {
    match (base, layer) {
        (serde_json::Value::Object(base), serde_json::Value::Object(layer)) => {
            for (key, value) in layer {
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let c = MockConfig::default();
        assert_eq!(c.host, "127.0.0.1");
        assert_eq!(c.accounts[0].access_key, "ak-test");
        assert_eq!(c.accounts[0].secret_key, "sk-test");
        assert!((c.accounts[0].credits - 1000.0).abs() < f64::EPSILON);
        assert_eq!(c.accounts[0].concurrency_limit, 5);
        assert_eq!(c.accounts[0].requests_per_second, None);
        assert!((c.timing.task_seconds - 2.0).abs() < f64::EPSILON);
        assert!((c.timing.submitted_seconds - 0.5).abs() < f64::EPSILON);
        assert!((c.url_ttl_seconds - 3600.0).abs() < f64::EPSILON);
        assert_eq!(c.journal_capacity, 10_000);
        c.validate().unwrap();
    }

    #[test]
    fn the_module_example_parses_and_json_matches_toml() {
        let toml = r#"
            seed = 42
            url_ttl_seconds = 5
            token_expiry_after_first_create = true
            [timing]
            task_seconds = 4
            [[accounts]]
            access_key = "ak-test"
            secret_key = "sk-test"
            credits = 0
            [[faults.rules]]
            route = "create"
            first = 2
            fault = "error"
            code = 1302
        "#;
        let c = MockConfig::from_toml_str(toml).unwrap();
        assert_eq!(c.faults.rules.len(), 1);
        assert!((c.timing.submitted_seconds - 0.5).abs() < f64::EPSILON);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(MockConfig::from_json_str(&json).unwrap(), c);
    }

    #[test]
    fn a_file_over_a_base_keeps_what_it_does_not_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mock.toml");
        std::fs::write(&path, "url_ttl_seconds = 5\n[timing]\ntask_seconds = 4\n").unwrap();
        let base = MockConfig { port: 8000, ..MockConfig::default() }.with_credits(7.0);
        let c = MockConfig::from_path_over(&path, &base).unwrap();
        assert_eq!(c.port, 8000);
        assert!((c.accounts[0].credits - 7.0).abs() < f64::EPSILON);
        assert!((c.timing.task_seconds - 4.0).abs() < f64::EPSILON);
        assert!((c.timing.submitted_seconds - 0.5).abs() < f64::EPSILON);
        assert!((c.url_ttl_seconds - 5.0).abs() < f64::EPSILON);
        std::fs::write(&path, "port = 9000\n").unwrap();
        assert_eq!(MockConfig::from_path_over(&path, &base).unwrap().port, 9000);
    }

    #[test]
    fn mistakes_are_named() {
        let e = MockConfig::from_toml_str("task_second = 3").unwrap_err().to_string();
        assert!(e.contains("unknown field `task_second`"), "{e}");
        let e = MockConfig::from_toml_str("[timing]\nsubmitted_seconds = 3\ntask_seconds = 1").unwrap_err();
        assert!(e.to_string().contains("at most task_seconds"), "{e}");
        let e = MockConfig::from_toml_str("[[accounts]]\naccess_key = \"a\"\nsecret_key = \"\"").unwrap_err();
        assert!(e.to_string().contains("non-empty"), "{e}");
    }
}
