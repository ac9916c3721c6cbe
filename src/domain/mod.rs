//! Pure domain types and rules: no I/O, no database, no protobuf. Everything
//! the API accepts is parsed into these types once, at the edge, so the rest
//! of the code never sees a raw BSN, date string or enum number.

pub mod bsn;
pub mod classification;
pub mod client;
pub mod dates;
pub mod doelgroep;
pub mod gemeente;
pub mod history;
pub mod registration;
pub mod text;

/// Why a value was refused. The API layer adds which field it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}
