//! Pure domain types and rules: no I/O, no database, no protobuf. Everything
//! the API accepts is parsed into these types once, at the edge, so the rest
//! of the code never sees a raw BSN, date string or enum number.

pub mod bsn;
pub mod classification;
pub mod client;
pub mod code;
pub mod contract;
pub mod dates;
pub mod doelgroep;
pub mod gemeente;
pub mod history;
pub mod processing;
pub mod progress;
pub mod provider;
pub mod registration;
pub mod text;
pub mod trajectory;

/// Gives an enum its database code (`as_str`), the reverse
/// (`parse_stored`), and `ALL` its variants.
macro_rules! stored_enum {
    ($ty:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $code),+ }
            }

            pub fn parse_stored(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw)
            }
        }
    };
}
pub(crate) use stored_enum;

/// Why a value was refused. The API layer adds which field it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

/// A rule that depends on other facts was broken: `rule` names it in
/// snake_case (clients can branch on it), `message` explains it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: {message}")]
pub struct RuleViolation {
    pub rule: &'static str,
    pub message: String,
}

pub(crate) fn refuse(rule: &'static str, message: impl Into<String>) -> RuleViolation {
    RuleViolation {
        rule,
        message: message.into(),
    }
}
