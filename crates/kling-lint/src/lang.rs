//! The languages and config formats the linter reads, and how a file's language is
//! recognised from its name.

use std::path::Path;

/// A language or config format.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Lang {
    /// Python (`.py`, `.pyi`).
    Python,
    /// JavaScript (`.js`, `.mjs`, `.cjs`, `.jsx`).
    JavaScript,
    /// TypeScript (`.ts`, `.mts`, `.cts`).
    TypeScript,
    /// TSX (`.tsx`).
    Tsx,
    /// Go (`.go`).
    Go,
    /// Rust (`.rs`).
    Rust,
    /// JSON (`.json`).
    Json,
    /// YAML (`.yaml`, `.yml`).
    Yaml,
    /// TOML (`.toml`).
    Toml,
    /// Dotenv files (`.env`, `.env.production`, `prod.env`).
    Dotenv,
}

impl Lang {
    /// Every language, in a stable order.
    pub const ALL: &'static [Lang] = &[
        Lang::Python,
        Lang::JavaScript,
        Lang::TypeScript,
        Lang::Tsx,
        Lang::Go,
        Lang::Rust,
        Lang::Json,
        Lang::Yaml,
        Lang::Toml,
        Lang::Dotenv,
    ];

    /// Recognise a file's language from its name.
    pub fn from_path(path: &Path) -> Option<Lang> {
        let name = path.file_name()?.to_str()?;
        if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
            return Some(Lang::Dotenv);
        }
        let ext = name.rsplit_once('.')?.1;
        Some(match ext {
            "py" | "pyi" => Lang::Python,
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "go" => Lang::Go,
            "rs" => Lang::Rust,
            "json" => Lang::Json,
            "yaml" | "yml" => Lang::Yaml,
            "toml" => Lang::Toml,
            _ => return None,
        })
    }

    /// The name used in rule docs and reports (`python`, `typescript`...).
    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::JavaScript => "javascript",
            Lang::TypeScript => "typescript",
            Lang::Tsx => "tsx",
            Lang::Go => "go",
            Lang::Rust => "rust",
            Lang::Json => "json",
            Lang::Yaml => "yaml",
            Lang::Toml => "toml",
            Lang::Dotenv => "dotenv",
        }
    }

    /// Whether this is a config format rather than code.
    pub fn is_config(self) -> bool {
        matches!(self, Lang::Json | Lang::Yaml | Lang::Toml | Lang::Dotenv)
    }

    /// Whether this is one of the JavaScript family.
    pub fn is_js(self) -> bool {
        matches!(self, Lang::JavaScript | Lang::TypeScript | Lang::Tsx)
    }

    /// The comment leader for suppression comments in this language.
    pub fn comment_prefix(self) -> &'static str {
        match self {
            Lang::Python | Lang::Yaml | Lang::Toml | Lang::Dotenv => "#",
            _ => "//",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Lang::from_path(Path::new("a/b.py")), Some(Lang::Python));
        assert_eq!(Lang::from_path(Path::new(".env")), Some(Lang::Dotenv));
        assert_eq!(Lang::from_path(Path::new(".env.production")), Some(Lang::Dotenv));
        assert_eq!(Lang::from_path(Path::new("x.tsx")), Some(Lang::Tsx));
        assert_eq!(Lang::from_path(Path::new(".github/workflows/ci.yml")), Some(Lang::Yaml));
        assert_eq!(Lang::from_path(Path::new("Makefile")), None);
    }
}
