//! The library's one error type. Every message says what went wrong and how to fix it,
//! because the person reading it is usually looking at a CI log, not at this code.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why the mock could not be configured or started.
#[derive(Debug)]
#[non_exhaustive]
pub enum MockError {
    /// The listening socket could not be opened.
    Bind {
        /// The address that was asked for.
        address: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// A configuration file could not be read.
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A configuration file is not valid TOML/JSON or does not match the schema.
    ParseConfig {
        /// The file (or `<inline>` for strings).
        path: PathBuf,
        /// The parser's message, with line and column where it has them.
        message: String,
    },
    /// The configuration parses but cannot work (say, no access key).
    InvalidConfig(String),
    /// A fault plan rule is inconsistent (say, a stall without `seconds`).
    InvalidFaultPlan(String),
    /// Something the mock needs from its environment is missing (say, a Tokio runtime).
    Runtime(String),
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MockError::Bind { address, source } if source.kind() == io::ErrorKind::AddrInUse => {
                write!(
                    f,
                    "cannot listen on {address}: the port is already in use; stop the other server \
                 or pass another port (port 0 picks a free one)"
                )
            }
            MockError::Bind { address, source } if source.kind() == io::ErrorKind::PermissionDenied => {
                write!(
                    f,
                    "cannot listen on {address}: permission denied; ports below 1024 need privileges, \
                 use a port above 1024 or port 0"
                )
            }
            MockError::Bind { address, source } => write!(
                f,
                "cannot listen on {address}: {source}; check the host (an address of this machine, \
                 such as 127.0.0.1) and the port"
            ),
            MockError::ReadConfig { path, source } => {
                write!(f, "cannot read the mock configuration {}: {source}; check the path", path.display())
            }
            MockError::ParseConfig { path, message } => {
                write!(f, "invalid mock configuration {}: {message}", path.display())
            }
            MockError::InvalidConfig(message) => write!(f, "invalid mock configuration: {message}"),
            MockError::InvalidFaultPlan(message) => write!(f, "invalid fault plan: {message}"),
            MockError::Runtime(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for MockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MockError::Bind { source, .. } | MockError::ReadConfig { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_errors_say_how_to_fix() {
        let e = MockError::Bind { address: "127.0.0.1:8000".into(), source: io::Error::from(io::ErrorKind::AddrInUse) };
        assert!(e.to_string().contains("port 0 picks a free one"), "{e}");
    }
}
