//! Report formats. Every format renders the same findings; none decides anything.

pub mod json;
pub mod text;
