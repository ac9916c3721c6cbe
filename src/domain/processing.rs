//! The facts of the processing log (verwerkingenlog): which call read or
//! changed whose personal data, who made it and why, and how it ended. Pure
//! types; the audit layer fills them in and the store keeps them.

use super::gemeente::GemeenteCode;
use super::{Invalid, stored_enum};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What a call does with personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processing {
    /// Reads it (raadpleging): the caller must state a purpose.
    Read,
    /// Changes it (mutatie).
    Write,
}

stored_enum!(Processing {
    Read => "read",
    Write => "write",
});

/// Why the caller processes the data (doelbinding): a reference to a
/// processing activity in the gemeente's register of processing activities
/// (verwerkingsregister), such as `urn:gemeente:0363:verwerking:re-integratie`
/// or a URL. Sent as request metadata; the server keeps it, it does not
/// resolve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purpose(String);

impl Purpose {
    pub const MAX: usize = 300;

    pub fn parse(raw: &str) -> Result<Purpose, Invalid> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(Invalid::new("is required"));
        }
        if text.len() > Self::MAX {
            return Err(Invalid::new(format!(
                "is {} characters long; at most {} are allowed",
                text.len(),
                Self::MAX
            )));
        }
        if !text.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
            return Err(Invalid::new("must be printable ASCII"));
        }
        Ok(Purpose(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a call sits in a chain of calls, as W3C Trace Context has it: the
/// Logboek dataverwerkingen links the log records of one processing across
/// systems by these ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// 32 lower-case hex digits.
    pub trace_id: String,
    /// The calling system's span, when the caller sent a `traceparent`.
    pub parent_span_id: Option<String>,
}

impl TraceContext {
    /// Continues the caller's trace when `traceparent` is well formed
    /// (`00-<trace id>-<parent id>-<flags>`), otherwise starts a new one.
    pub fn continue_or_start(traceparent: Option<&str>) -> TraceContext {
        traceparent
            .and_then(Self::parse_traceparent)
            .unwrap_or_else(|| TraceContext {
                trace_id: Uuid::new_v4().simple().to_string(),
                parent_span_id: None,
            })
    }

    fn parse_traceparent(header: &str) -> Option<TraceContext> {
        let mut parts = header.trim().split('-');
        let (version, trace_id, parent, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex = |s: &str, len: usize| {
            s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        let all_zero = |s: &str| s.bytes().all(|b| b == b'0');
        let valid = hex(version, 2)
            && version != "ff"
            && hex(trace_id, 32)
            && !all_zero(trace_id)
            && hex(parent, 16)
            && !all_zero(parent)
            && hex(flags, 2)
            && (version != "00" || parts.next().is_none());
        valid.then(|| TraceContext {
            trace_id: trace_id.to_owned(),
            parent_span_id: Some(parent.to_owned()),
        })
    }
}

/// A new span id: 16 lower-case hex digits.
pub fn new_span_id() -> String {
    Uuid::new_v4().simple().to_string()[..16].to_owned()
}

/// One call that processed personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessingRecord {
    pub id: Uuid,
    pub gemeente: GemeenteCode,
    pub trace: TraceContext,
    pub span_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// The full gRPC method, `/clientvolg.v1.ClientService/GetClient`.
    pub rpc: String,
    pub processing: Processing,
    /// Who: the authenticated subject, its role, and the organisation it
    /// acts for (the gemeente, or a provider's KvK number).
    pub subject: String,
    pub role: String,
    pub organisation: String,
    pub purpose: Option<Purpose>,
    /// The gRPC status the call ended with, `OK`, `NOT_FOUND`, …
    pub outcome: String,
    /// The clients whose data the call read or changed, or asked for.
    pub clients: Vec<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_short_printable_references() {
        assert_eq!(
            Purpose::parse(" urn:gemeente:0363:verwerking:re-integratie ")
                .unwrap()
                .as_str(),
            "urn:gemeente:0363:verwerking:re-integratie"
        );
        assert!(Purpose::parse("  ").is_err());
        assert!(Purpose::parse("a\tb").is_err());
        assert!(Purpose::parse(&"x".repeat(Purpose::MAX + 1)).is_err());
        assert!(Purpose::parse(&"x".repeat(Purpose::MAX)).is_ok());
    }

    #[test]
    fn a_valid_traceparent_is_continued() {
        let trace = TraceContext::continue_or_start(Some(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ));
        assert_eq!(trace.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(trace.parent_span_id.as_deref(), Some("00f067aa0ba902b7"));
    }

    #[test]
    fn a_malformed_traceparent_starts_a_new_trace() {
        for header in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "garbage",
        ] {
            let trace = TraceContext::continue_or_start(Some(header));
            assert_eq!(trace.parent_span_id, None, "{header:?}");
            assert_eq!(trace.trace_id.len(), 32);
            assert_ne!(trace.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        }
    }
}
