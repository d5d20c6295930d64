//! The library's one error type: why a harness run could not produce a report. Every
//! message says what to do about it, because it usually ends up as the last line of a
//! CI log.

use std::fmt;
use std::io;

/// Why a run (or an audit) produced no report.
#[derive(Debug)]
#[non_exhaustive]
pub enum HarnessError {
    /// No client command was given.
    NoClient,
    /// A `--scenario` id that is not in the catalog.
    UnknownScenario {
        /// The id asked for.
        id: String,
    },
    /// An option out of range (say, zero jobs).
    InvalidOption(String),
    /// The client command could not be started at all.
    Spawn {
        /// The program, as given.
        program: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The harness could not do something it needs (a temporary directory, a socket).
    Io {
        /// What it was doing.
        what: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The run was interrupted (SIGINT/SIGTERM, or the caller's [`crate::Interrupt`]).
    Interrupted {
        /// Why, as given to [`crate::Interrupt::trigger`].
        reason: String,
    },
    /// An attestations file the audit cannot accept.
    Attestations {
        /// The file, as the user named it.
        file: String,
        /// The line of the file, when known.
        line: Option<usize>,
        /// What is wrong and what is allowed.
        message: String,
    },
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::NoClient => f.write_str(
                "no client command given; put it after `--`, e.g. `kling-preflight check -- python3 my_client.py` \
                 (`kling-preflight check --list` shows the scenarios without one)",
            ),
            HarnessError::UnknownScenario { id } => {
                let known: Vec<&str> = crate::scenario::catalog().iter().map(|s| s.id).collect();
                write!(f, "no scenario {id:?}; use one of {}", known.join(", "))
            }
            HarnessError::InvalidOption(message) => f.write_str(message),
            HarnessError::Spawn { program, source } if source.kind() == io::ErrorKind::NotFound => write!(
                f,
                "cannot start the client {program:?}: not found; check the command after `--` (a script needs its \
                 interpreter, e.g. `-- python3 client.py`, and relative paths start from the current directory)"
            ),
            HarnessError::Spawn { program, source } if source.kind() == io::ErrorKind::PermissionDenied => write!(
                f,
                "cannot start the client {program:?}: permission denied; make it executable (chmod +x) or run it \
                 through its interpreter"
            ),
            HarnessError::Spawn { program, source } => {
                write!(f, "cannot start the client {program:?}: {source}; check the command after `--`")
            }
            HarnessError::Io { what, source } => write!(f, "{what}: {source}"),
            HarnessError::Interrupted { reason } => {
                write!(f, "interrupted ({reason}); every client process and its children were stopped")
            }
            HarnessError::Attestations { file, line: Some(line), message } => write!(f, "{file}:{line}: {message}"),
            HarnessError::Attestations { file, line: None, message } => write!(f, "{file}: {message}"),
        }
    }
}

impl std::error::Error for HarnessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HarnessError::Spawn { source, .. } | HarnessError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let e = HarnessError::Spawn { program: "nope".into(), source: io::Error::from(io::ErrorKind::NotFound) };
        assert!(e.to_string().contains("check the command after `--`"), "{e}");
        let e = HarnessError::UnknownScenario { id: "happpy".into() };
        assert!(e.to_string().contains("happy, rate-limited"), "{e}");
        assert!(HarnessError::NoClient.to_string().contains("after `--`"));
    }
}
