//! Registration episodes (inschrijvingen / uitkeringsperioden): which benefit
//! or registration a client had, and when. The reports count bijstand volume
//! and duration from these.

use super::dates::DateSpan;
use super::stored_enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistrationKind {
    Bijstand,
    Ioaw,
    Ioaz,
    Anw,
    Nugger,
}

stored_enum!(RegistrationKind {
    Bijstand => "BIJSTAND",
    Ioaw => "IOAW",
    Ioaz => "IOAZ",
    Anw => "ANW",
    Nugger => "NUGGER",
});

impl RegistrationKind {
    /// Bijstand, IOAW and IOAZ count together as bijstand in the reports.
    pub fn is_bijstand_kind(self) -> bool {
        matches!(
            self,
            RegistrationKind::Bijstand | RegistrationKind::Ioaw | RegistrationKind::Ioaz
        )
    }

    /// The kind's bit in a client's timeline (crate `timeline`).
    pub fn timeline_bit(self) -> u8 {
        match self {
            RegistrationKind::Bijstand => timeline::kind::BIJSTAND,
            RegistrationKind::Ioaw => timeline::kind::IOAW,
            RegistrationKind::Ioaz => timeline::kind::IOAZ,
            RegistrationKind::Anw => timeline::kind::ANW,
            RegistrationKind::Nugger => timeline::kind::NUGGER,
        }
    }
}

/// One episode of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    pub kind: RegistrationKind,
    pub span: DateSpan,
}

impl Episode {
    /// Two episodes of the same kind may not overlap: a client cannot receive
    /// the same benefit twice on one day. Different kinds may (an Anw with
    /// aanvullende bijstand).
    pub fn conflicts_with(&self, other: &Episode) -> bool {
        self.kind == other.kind && self.span.overlaps(&other.span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn episode(
        kind: RegistrationKind,
        start: (i32, u32, u32),
        end: Option<(i32, u32, u32)>,
    ) -> Episode {
        let date = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        Episode {
            kind,
            span: DateSpan::new(date(start), end.map(date)).unwrap(),
        }
    }

    #[test]
    fn timeline_bits_match_the_stored_codes_and_the_bijstand_kinds() {
        for kind in RegistrationKind::ALL {
            assert_eq!(
                timeline::kind::bit(kind.as_str()),
                Some(kind.timeline_bit())
            );
            assert_eq!(
                kind.timeline_bit() & timeline::kind::BIJSTAND_KINDS != 0,
                kind.is_bijstand_kind()
            );
        }
        assert_eq!(RegistrationKind::ALL.len(), timeline::kind::ALL.len());
    }

    #[test]
    fn same_kind_may_not_overlap() {
        let a = episode(
            RegistrationKind::Bijstand,
            (2024, 1, 1),
            Some((2024, 12, 31)),
        );
        let b = episode(RegistrationKind::Bijstand, (2024, 12, 31), None);
        let c = episode(RegistrationKind::Bijstand, (2025, 1, 1), None);
        let anw = episode(RegistrationKind::Anw, (2024, 6, 1), None);
        assert!(a.conflicts_with(&b));
        assert!(!a.conflicts_with(&c));
        assert!(!a.conflicts_with(&anw));
    }

    #[test]
    fn bijstand_kinds() {
        let kinds: Vec<_> = RegistrationKind::ALL
            .iter()
            .copied()
            .filter(|k| k.is_bijstand_kind())
            .collect();
        assert_eq!(
            kinds,
            [
                RegistrationKind::Bijstand,
                RegistrationKind::Ioaw,
                RegistrationKind::Ioaz
            ]
        );
        for kind in RegistrationKind::ALL.iter().copied() {
            assert_eq!(RegistrationKind::parse_stored(kind.as_str()), Some(kind));
        }
    }
}
