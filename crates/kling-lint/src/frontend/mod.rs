//! Language frontends: each lowers one file into the common [`Facts`].
//!
//! Tree-sitter serves Python, JavaScript, TypeScript/TSX and Go; `syn` serves Rust
//! (including the body of `serde_json::json!`); small span-aware readers serve JSON,
//! YAML, TOML and `.env`. A file that does not parse is a [`ParseError`], reported as
//! KL001 by the caller, never a panic.

pub(crate) mod builder;
pub mod chunks;
mod config;
mod dotenv;
mod go;
mod javascript;
mod json;
mod python;
mod rust;
mod toml;
pub(crate) mod ts;
mod yaml;

use crate::facts::{Facts, Span};
use crate::lang::Lang;
use crate::source::SourceFile;

/// Why a file could not be lowered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Where parsing failed.
    pub span: Span,
    /// What went wrong.
    pub message: String,
}

/// How much of a file to parse.
#[derive(Clone, Debug, Default)]
pub enum Extent {
    /// The whole file.
    #[default]
    Whole,
    /// Only these top-level items (sorted, disjoint byte ranges); see [`chunks`].
    Items(Vec<std::ops::Range<usize>>),
}

/// Lower `file` into facts.
pub fn lower(file: &SourceFile, extent: &Extent) -> Result<Facts, ParseError> {
    let text = &*file.text;
    match file.lang {
        Lang::Python | Lang::JavaScript | Lang::TypeScript | Lang::Tsx | Lang::Go => lower_tree_sitter(file, extent),
        Lang::Rust => rust::lower(text),
        Lang::Json => json::lower(text),
        Lang::Yaml => yaml::lower(text),
        Lang::Toml => toml::lower(text),
        Lang::Dotenv => Ok(dotenv::lower(text)),
    }
}

fn lower_tree_sitter(file: &SourceFile, extent: &Extent) -> Result<Facts, ParseError> {
    let text = &*file.text;
    let mut tree = match extent {
        Extent::Items(ranges) => ts::parse(file.lang, text, Some(ranges)),
        Extent::Whole => None,
    };
    // A partial parse that hits an error might have cut a construct in two; the whole
    // file decides.
    if tree.as_ref().is_none_or(|t| t.root_node().has_error()) {
        tree = ts::parse(file.lang, text, None);
    }
    let tree = tree.ok_or_else(|| ParseError { span: Span::default(), message: "the parser gave up".into() })?;
    if let Some((span, message)) = ts::first_error(&tree, text) {
        return Err(ParseError { span, message });
    }
    let root = tree.root_node();
    Ok(match file.lang {
        Lang::Python => python::lower(root, text),
        Lang::Go => go::lower(root, text),
        _ => javascript::lower(root, text, file.lang),
    })
}
