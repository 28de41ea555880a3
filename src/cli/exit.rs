//! Exit codes scripts can rely on, and errors in the window's plain words.

use crate::core::client::ClientProblem;
use crate::core::errors;
use crate::providers::{ApiError, ErrorKind};

/// Why a command failed, as its exit status says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Bad input: an unknown option, a malformed value or file, a refused confirmation.
    Usage = 1,
    /// No such connection, key, user, token or app.
    NotFound = 2,
    /// The credential was not accepted, or may not do this.
    Auth = 3,
    /// The network or the provider is down (timeouts, 5xx, rate limits).
    Unavailable = 4,
    /// It already exists, or the name is ambiguous.
    Conflict = 5,
    /// `keydeck scan` found a secret Keydeck holds in a file (even if it was then cancelled).
    LeaksFound = 6,
    /// Stopped by Ctrl-C before it was done (128 + SIGINT, as shells report it).
    Interrupted = 130,
}

/// A failed command: its exit status and what to print on stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
}

pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Exit::NotFound, message)
    }

    pub fn code(&self) -> u8 {
        self.exit as u8
    }
}

/// The exit status of a provider error.
pub fn exit_of(kind: &ErrorKind) -> Exit {
    match kind {
        ErrorKind::Unauthenticated | ErrorKind::PermissionDenied => Exit::Auth,
        ErrorKind::NotFound => Exit::NotFound,
        ErrorKind::Conflict => Exit::Conflict,
        ErrorKind::Validation { .. } | ErrorKind::InvalidConfig => Exit::Usage,
        ErrorKind::RateLimited { .. }
        | ErrorKind::Connection
        | ErrorKind::Timeout
        | ErrorKind::Server
        | ErrorKind::BadResponse => Exit::Unavailable,
    }
}

/// A provider error in the words the window uses (`core::errors::explain`).
pub fn explained(e: &ApiError) -> String {
    let x = errors::explain(e);
    if x.body.is_empty() {
        x.title
    } else {
        format!("{}\n{}", x.title, x.body)
    }
}

impl From<ApiError> for CliError {
    fn from(e: ApiError) -> Self {
        Self::new(exit_of(&e.kind), explained(&e))
    }
}

impl From<ClientProblem> for CliError {
    fn from(p: ClientProblem) -> Self {
        match &p {
            ClientProblem::Invalid(e) => Self::new(exit_of(&e.kind), explained(e)),
            ClientProblem::SandboxFailed(_) => Self::new(Exit::Unavailable, p.message()),
            ClientProblem::NoConnection => Self::not_found(
                "No connection yet. Add one with `keydeck connections add`, or open the window once.",
            ),
            ClientProblem::MissingSecret(_) => Self::new(
                Exit::Auth,
                format!(
                    "{} Store it with `keydeck connections add … --secret-stdin`.",
                    p.message()
                ),
            ),
            ClientProblem::LoadingSecrets | ClientProblem::StartingSandbox => {
                Self::new(Exit::Unavailable, p.message())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_errors_map_to_the_documented_exit_codes() {
        let code = |kind| CliError::from(ApiError::new(kind, "x")).code();
        assert_eq!(code(ErrorKind::NotFound), 2);
        assert_eq!(code(ErrorKind::Unauthenticated), 3);
        assert_eq!(code(ErrorKind::PermissionDenied), 3);
        assert_eq!(code(ErrorKind::Connection), 4);
        assert_eq!(code(ErrorKind::Server), 4);
        assert_eq!(code(ErrorKind::Conflict), 5);
        assert_eq!(code(ErrorKind::InvalidConfig), 1);
    }

    #[test]
    fn the_message_is_the_windows_plain_title_and_body() {
        let e = CliError::from(ApiError::new(ErrorKind::Unauthenticated, "401 nope"));
        assert!(e.message.starts_with("The key was not accepted\n"), "{e:?}");
    }
}
