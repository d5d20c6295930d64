//! Configuration: `kling-preflight.toml`, or `[tool.kling-preflight]` in
//! `pyproject.toml`, found by walking up from the scanned path (the nearest wins, as
//! with ruff). Every key is validated by hand so that an error names the file, the
//! key and what is allowed.
//!
//! ```toml
//! select = ["KL1", "KL2", "KL3", "KL4", "KL5"]
//! ignore = ["KL701"]
//! exclude = ["legacy/**", "vendor"]
//! extra-base-urls = ["https://kling-gateway.internal"]
//!
//! [per-file-ignores]
//! "tests/**" = ["KL205"]
//!
//! [severity]
//! KL602 = "warning"
//!
//! [rules.KL201]
//! require-explicit-header = true
//! ```

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::diagnostic::Severity;
use crate::rules::{self, RuleSettings};

/// Settings read from a configuration file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    /// The directory globs are relative to (the file's directory).
    pub root: PathBuf,
    /// Rule ids or prefixes to run.
    pub select: Vec<String>,
    /// Rule ids or prefixes to skip.
    pub ignore: Vec<String>,
    /// Globs of paths not to scan.
    pub exclude: Vec<String>,
    /// Extra Kling base URLs.
    pub extra_base_urls: Vec<String>,
    /// Glob → rule ids or prefixes.
    pub per_file_ignores: Vec<(String, Vec<String>)>,
    /// Severity overrides.
    pub severity: Vec<(String, Severity)>,
    /// Rule settings.
    pub settings: RuleSettings,
}

/// A configuration file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// The key (dotted), if the problem is one key.
    pub key: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.key {
            Some(k) => write!(f, "{}: `{k}`: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

const TOP_KEYS: &[&str] = &["select", "ignore", "exclude", "extra-base-urls", "per-file-ignores", "severity", "rules"];

/// Find the configuration that applies to `start` (a file or directory), walking up.
pub fn discover(start: &Path) -> Result<Option<Config>, ConfigError> {
    let abs =
        if start.is_absolute() { start.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(start) };
    let mut dir = if abs.is_dir() { Some(abs.as_path()) } else { abs.parent() };
    while let Some(d) = dir {
        let own = d.join("kling-preflight.toml");
        if own.is_file() {
            return load(&own).map(Some);
        }
        let pyproject = d.join("pyproject.toml");
        if pyproject.is_file() {
            // A pyproject.toml without our table does not stop the search.
            let text = read(&pyproject)?;
            if text.contains("[tool.kling-preflight") {
                return parse(&pyproject, &text).map(Some);
            }
        }
        dir = d.parent();
    }
    Ok(None)
}

/// Load an explicit configuration file (`--config`).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = read(path)?;
    parse(path, &text)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        key: None,
        message: format!("cannot read it: {e}"),
    })
}

/// Parse configuration text; `pyproject.toml` files are read from `[tool.kling-preflight]`.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let err = |key: Option<&str>, message: String| ConfigError {
        path: path.to_path_buf(),
        key: key.map(str::to_owned),
        message,
    };
    let mut table: Table =
        text.parse().map_err(|e: toml::de::Error| err(None, format!("invalid TOML: {}", e.message())))?;
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    if is_pyproject {
        table = match table.remove("tool").and_then(|t| match t {
            Value::Table(mut t) => t.remove("kling-preflight"),
            _ => None,
        }) {
            Some(Value::Table(t)) => t,
            Some(_) => return Err(err(Some("tool.kling-preflight"), "must be a table".into())),
            None => Table::new(),
        };
    }
    let prefix = if is_pyproject { "tool.kling-preflight." } else { "" };
    let key_name = |k: &str| format!("{prefix}{k}");
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut config = Config { path: path.to_path_buf(), root, ..Config::default() };
    for (key, value) in &table {
        let name = key_name(key);
        match key.as_str() {
            "select" => config.select = rule_list(value).map_err(|m| err(Some(&name), m))?,
            "ignore" => config.ignore = rule_list(value).map_err(|m| err(Some(&name), m))?,
            "exclude" => config.exclude = globs(value).map_err(|m| err(Some(&name), m))?,
            "extra-base-urls" => config.extra_base_urls = strings(value).map_err(|m| err(Some(&name), m))?,
            "per-file-ignores" => {
                let Value::Table(t) = value else {
                    return Err(err(Some(&name), "must be a table of glob = [rule ids]".into()));
                };
                for (glob, rules) in t {
                    let k = format!("{name}.\"{glob}\"");
                    globset::Glob::new(glob).map_err(|e| err(Some(&k), format!("invalid glob: {}", e.kind())))?;
                    config.per_file_ignores.push((glob.clone(), rule_list(rules).map_err(|m| err(Some(&k), m))?));
                }
            }
            "severity" => {
                let Value::Table(t) = value else {
                    return Err(err(
                        Some(&name),
                        "must be a table of rule id = \"error\" | \"warning\" | \"info\"".into(),
                    ));
                };
                for (id, sev) in t {
                    let k = format!("{name}.{id}");
                    if rules::find(id).is_none_or(|r| r.meta.id != *id) {
                        return Err(err(Some(&k), format!("unknown rule id; use one of {}", rule_ids())));
                    }
                    let s = sev
                        .as_str()
                        .and_then(Severity::parse)
                        .ok_or_else(|| err(Some(&k), "must be \"error\", \"warning\" or \"info\"".into()))?;
                    config.severity.push((id.clone(), s));
                }
            }
            "rules" => {
                let Value::Table(t) = value else {
                    return Err(err(Some(&name), "must be a table of [rules.KLxxx] tables".into()));
                };
                for (id, settings) in t {
                    let k = format!("{name}.{id}");
                    let Value::Table(s) = settings else { return Err(err(Some(&k), "must be a table".into())) };
                    match id.as_str() {
                        "KL201" => {
                            for (opt, v) in s {
                                let ok = format!("{k}.{opt}");
                                match (opt.as_str(), v) {
                                    ("require-explicit-header", Value::Boolean(b)) => {
                                        config.settings.require_explicit_header = *b;
                                    }
                                    ("require-explicit-header", _) => {
                                        return Err(err(Some(&ok), "must be true or false".into()));
                                    }
                                    _ => {
                                        return Err(err(
                                            Some(&ok),
                                            "unknown setting; KL201 has: require-explicit-header".into(),
                                        ));
                                    }
                                }
                            }
                        }
                        _ if rules::find(id).is_some() => {
                            if let Some(opt) = s.keys().next() {
                                return Err(err(
                                    Some(&format!("{k}.{opt}")),
                                    format!("{id} has no settings; only KL201 does (require-explicit-header)"),
                                ));
                            }
                        }
                        _ => return Err(err(Some(&k), format!("unknown rule id; use one of {}", rule_ids()))),
                    }
                }
            }
            _ => return Err(err(Some(&name), format!("unknown key; allowed: {}", TOP_KEYS.join(", ")))),
        }
    }
    Ok(config)
}

fn strings(value: &Value) -> Result<Vec<String>, String> {
    let Value::Array(items) = value else { return Err("must be an array of strings".into()) };
    items
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| "must be an array of strings".to_owned()))
        .collect()
}

fn globs(value: &Value) -> Result<Vec<String>, String> {
    let list = strings(value)?;
    for g in &list {
        globset::Glob::new(g).map_err(|e| format!("invalid glob `{g}`: {}", e.kind()))?;
    }
    Ok(list)
}

/// A list of rule ids or prefixes (`KL1`, `KL101`, `ALL`); every entry must match a rule.
fn rule_list(value: &Value) -> Result<Vec<String>, String> {
    let list =
        strings(value).map_err(|_| "must be an array of rule ids or prefixes, e.g. [\"KL101\", \"KL3\"]".to_owned())?;
    for id in &list {
        if !is_rule_selector(id) {
            return Err(format!(
                "`{id}` matches no rule; use rule ids or prefixes such as KL1, KL101 ({})",
                rule_ids()
            ));
        }
    }
    Ok(list)
}

/// Whether `s` selects at least one rule (an id, a prefix like `KL3`, or `ALL`).
pub fn is_rule_selector(s: &str) -> bool {
    let u = s.trim().to_ascii_uppercase();
    u == "ALL" || (u.starts_with("KL") && rules::all().iter().any(|r| r.meta.id.starts_with(&u)))
}

fn rule_ids() -> String {
    let ids: Vec<&str> = rules::all().iter().map(|r| r.meta.id.as_str()).collect();
    format!("{}..{}", ids.first().unwrap_or(&""), ids.last().unwrap_or(&""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Config, ConfigError> {
        parse(Path::new("/repo/kling-preflight.toml"), text)
    }

    #[test]
    fn reads_every_key() {
        let c = p(r#"
            select = ["KL1", "KL201"]
            ignore = ["KL701"]
            exclude = ["legacy/**"]
            extra-base-urls = ["https://gw.internal"]
            [per-file-ignores]
            "tests/**" = ["KL205"]
            [severity]
            KL602 = "warning"
            [rules.KL201]
            require-explicit-header = true
        "#)
        .unwrap();
        assert_eq!(c.select, ["KL1", "KL201"]);
        assert_eq!(c.per_file_ignores, [("tests/**".to_owned(), vec!["KL205".to_owned()])]);
        assert_eq!(c.severity, [("KL602".to_owned(), Severity::Warning)]);
        assert!(c.settings.require_explicit_header);
        assert_eq!(c.root, Path::new("/repo"));
    }

    #[test]
    fn errors_name_the_key_and_what_is_allowed() {
        let e = p("selct = [\"KL1\"]").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("selct"));
        assert!(e.to_string().contains("allowed: select, ignore"), "{e}");
        let e = p("[severity]\nKL602 = \"loud\"").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("severity.KL602"));
        assert!(e.message.contains("\"error\", \"warning\" or \"info\""));
        let e = p("select = [\"KL9\"]").unwrap_err();
        assert!(e.message.contains("matches no rule"), "{e}");
        let e = p("[rules.KL201]\nstrict = true").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("rules.KL201.strict"));
        let e = p("select = ").unwrap_err();
        assert!(e.message.starts_with("invalid TOML"));
    }

    #[test]
    fn pyproject_table() {
        let c = parse(
            Path::new("/repo/pyproject.toml"),
            "[project]\nname='x'\n[tool.kling-preflight]\nignore = [\"KL6\"]\n",
        )
        .unwrap();
        assert_eq!(c.ignore, ["KL6"]);
        let e = parse(Path::new("/repo/pyproject.toml"), "[tool.kling-preflight]\nfoo = 1\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("tool.kling-preflight.foo"));
    }
}
