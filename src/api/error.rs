//! The one error type of the API and its mapping to gRPC status codes. A
//! caller's mistake never becomes INTERNAL; an internal failure never leaks
//! its details to the caller (they go to the log).

use crate::store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

#[derive(Debug)]
pub enum ApiError {
    /// A field of the request is wrong; `field` is its path in the request.
    InvalidArgument {
        field: String,
        description: String,
    },
    PermissionDenied(String),
    NotFound(String),
    AlreadyExists(String),
    /// The write was based on an outdated version.
    Aborted(String),
    /// A rule that depends on stored facts was broken; `rule` names it.
    FailedPrecondition {
        rule: &'static str,
        message: String,
    },
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        ApiError::InvalidArgument {
            field: field.into(),
            description: description.into(),
        }
    }

    pub fn required(field: &str) -> Self {
        ApiError::invalid(field, "is required")
    }

    /// Every text of the error cut to MESSAGE_MAX characters.
    fn bounded(self) -> Self {
        match self {
            ApiError::InvalidArgument { field, description } => ApiError::InvalidArgument {
                field: bounded(field),
                description: bounded(description),
            },
            ApiError::PermissionDenied(m) => ApiError::PermissionDenied(bounded(m)),
            ApiError::NotFound(m) => ApiError::NotFound(bounded(m)),
            ApiError::AlreadyExists(m) => ApiError::AlreadyExists(bounded(m)),
            ApiError::Aborted(m) => ApiError::Aborted(bounded(m)),
            ApiError::FailedPrecondition { rule, message } => ApiError::FailedPrecondition {
                rule,
                message: bounded(message),
            },
            internal @ ApiError::Internal(_) => internal,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            StoreError::Stale(message) => ApiError::Aborted(message),
            StoreError::AlreadyExists(message) => ApiError::AlreadyExists(message),
            StoreError::Precondition { rule, message } => {
                ApiError::FailedPrecondition { rule, message }
            }
            StoreError::Invalid { field, reason } => ApiError::invalid(field, reason),
            err @ (StoreError::Corrupt { .. } | StoreError::Database(_)) => {
                ApiError::Internal(err.to_string())
            }
        }
    }
}

/// The most characters of a message or description a status carries.
/// Descriptions quote the caller's input (`"…" is not a valid id`); the
/// status travels in HTTP/2 headers, and an unbounded quote could make them
/// larger than the peer accepts, breaking the answer instead of carrying it.
const MESSAGE_MAX: usize = 300;

fn bounded(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(MESSAGE_MAX) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

impl From<ApiError> for Status {
    fn from(err: ApiError) -> Self {
        match err.bounded() {
            ApiError::InvalidArgument { field, description } => Status::with_error_details(
                Code::InvalidArgument,
                format!("{field}: {description}"),
                ErrorDetails::with_bad_request_violation(field, description),
            ),
            ApiError::PermissionDenied(message) => Status::permission_denied(message),
            ApiError::NotFound(message) => Status::not_found(message),
            ApiError::AlreadyExists(message) => Status::already_exists(message),
            ApiError::Aborted(message) => Status::aborted(message),
            ApiError::FailedPrecondition { rule, message } => Status::with_error_details(
                Code::FailedPrecondition,
                format!("{rule}: {message}"),
                ErrorDetails::with_precondition_failure_violation(rule, "", message),
            ),
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                Status::internal("internal error; the server log has the details")
            }
        }
    }
}

/// Lets handlers use `?` on store results directly.
impl From<StoreError> for Status {
    fn from(err: StoreError) -> Self {
        ApiError::from(err).into()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quotes_are_cut() {
        let status = Status::from(ApiError::invalid(
            "name",
            format!("{:?} is not a valid id", "é".repeat(10_000)),
        ));
        let chars = status.message().chars().count();
        assert!(chars <= "name: ".len() + MESSAGE_MAX + 1, "{chars}");
        assert!(status.message().ends_with('…'));
        let short = Status::from(ApiError::NotFound("client not found".into()));
        assert_eq!(short.message(), "client not found");
    }
}
