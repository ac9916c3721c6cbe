//! The vocabulary of history: every stored fact is a chain of versions, each
//! recorded at a transaction time by an actor, from a source, for a reason.

use super::text::bounded;
use super::{Invalid, stored_enum};
use chrono::{DateTime, Utc};

/// Transaction time: when the server recorded a version, in microseconds
/// since the Unix epoch (UTC). Stored as an integer so that comparisons are
/// exact and identical on every database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordedAt(i64);

impl RecordedAt {
    pub const MAX: RecordedAt = RecordedAt(i64::MAX);

    pub fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        Self(at.timestamp_micros())
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0).unwrap_or_default()
    }
}

/// Where a version came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Casemanager,
    Import,
    ProviderReport,
    ProviderAdvice,
    FunctioneelBeheer,
}

stored_enum!(Source {
    Casemanager => "casemanager",
    Import => "import",
    ProviderReport => "provider_report",
    ProviderAdvice => "provider_advice",
    FunctioneelBeheer => "functioneel_beheer",
});

/// The principal a version is recorded for: the caller's subject and the
/// role it acted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub subject: String,
    pub role: &'static str,
}

/// Why a change was made and where it came from, as the caller states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub actor: Actor,
    pub source: Source,
    pub reason: Option<String>,
}

/// The reason of a change: at most 500 characters; required for corrections.
pub fn change_reason(raw: &str, required: bool) -> Result<Option<String>, Invalid> {
    let reason = bounded(raw, 500, required)?;
    Ok((!reason.is_empty()).then_some(reason))
}

/// One version as recorded: the metadata every history row carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub version: i64,
    pub recorded_at: RecordedAt,
    pub actor: String,
    pub actor_role: String,
    pub source: Source,
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip_through_storage() {
        for s in Source::ALL.iter().copied() {
            assert_eq!(Source::parse_stored(s.as_str()), Some(s));
        }
        assert_eq!(Source::parse_stored("other"), None);
    }

    #[test]
    fn corrections_need_a_reason() {
        assert!(change_reason("", true).is_err());
        assert_eq!(change_reason("", false).unwrap(), None);
        assert_eq!(
            change_reason(" typo ", true).unwrap().as_deref(),
            Some("typo")
        );
        assert!(change_reason(&"x".repeat(501), false).is_err());
    }

    #[test]
    fn recorded_at_round_trips_microseconds() {
        let at = RecordedAt::from_micros(1_764_000_000_123_456);
        assert_eq!(RecordedAt::from_datetime(at.to_datetime()), at);
    }
}
