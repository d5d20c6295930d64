//! Report formats. Every format renders the same findings; none decides anything.

pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;
