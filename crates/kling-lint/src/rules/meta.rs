//! Rule documentation, read from `rules/KLxxx-name.toml`: the single source for
//! `rules`, `explain`, the README table and SARIF help text.

use serde::Deserialize;

use crate::diagnostic::Severity;

/// A rule's documentation and defaults.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    /// `KL101`.
    pub id: String,
    /// `duration-not-string`.
    pub name: String,
    /// Default severity.
    pub severity: Severity,
    /// Languages it applies to (`python`, `javascript`, `typescript`, `go`, `rust`,
    /// `json`, `yaml`, `toml`, `dotenv`).
    pub languages: Vec<String>,
    /// One line: what it flags.
    pub summary: String,
    /// Why it matters.
    pub why: String,
    /// Code that triggers it.
    pub bad: String,
    /// The same code, fixed.
    pub good: String,
    /// The language of the examples.
    pub example_language: String,
    /// How to fix it, and what `--fix` does if it can.
    pub fix: String,
    /// Whether `--fix` can fix it.
    #[serde(default)]
    pub autofix: bool,
    /// The checklist line or pitfall it enforces (`Pitfall 1: Duration as Integer`).
    #[serde(default)]
    pub enforces: Option<String>,
}

impl RuleMeta {
    /// Whether the rule applies to a language.
    pub fn applies_to(&self, lang: crate::lang::Lang) -> bool {
        let name = match lang {
            crate::lang::Lang::Tsx => "typescript",
            other => other.name(),
        };
        self.languages.iter().any(|l| l == name)
    }

    /// The documentation URL (`helpUri` in SARIF).
    pub fn url(&self) -> String {
        format!("https://github.com/kling-preflight/kling-preflight/blob/main/rules/{}-{}.toml", self.id, self.name)
    }

    /// The full documentation as text, for `explain`.
    pub fn explain(&self) -> String {
        let mut out = format!("{} ({}) [{}]\n\n{}\n", self.id, self.name, self.severity.as_str(), self.summary);
        out.push_str(&format!("\nLanguages: {}\n", self.languages.join(", ")));
        if let Some(e) = &self.enforces {
            out.push_str(&format!("Enforces: {e}\n"));
        }
        out.push_str(&format!("\nWhy is this bad?\n{}\n", self.why.trim_end()));
        out.push_str(&format!("\nExample ({}):\n{}\n", self.example_language, indent(&self.bad)));
        out.push_str(&format!("\nUse instead:\n{}\n", indent(&self.good)));
        out.push_str(&format!(
            "\nFix{}:\n{}\n",
            if self.autofix { " (automatic with --fix)" } else { "" },
            self.fix.trim_end()
        ));
        out
    }
}

fn indent(code: &str) -> String {
    code.trim_end().lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}
