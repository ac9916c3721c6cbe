//! Classification of a client's distance to the labour market, kept as a
//! history: each classification holds from its valid-from date until the
//! next one of the same scheme. Two schemes share the mechanism: the
//! fase-indeling of the seeds and the later participatieladder.

use super::stored_enum;
use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Fase,
    Participatieladder,
}

stored_enum!(Scheme { Fase => "FASE", Participatieladder => "PARTICIPATIELADDER" });

/// A recordable fase. "Niet ingedeeld" is not a value but the absence of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fase {
    Fase1,
    Fase2,
    Fase3,
    Fase4,
    Ontheffing,
}

/// A trede (step) of the participatieladder, 1 to 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Trede(u8);

impl Trede {
    pub fn new(step: u8) -> Option<Self> {
        (1..=6).contains(&step).then_some(Self(step))
    }

    pub fn step(self) -> u8 {
        self.0
    }
}

/// The value of one classification; its variant decides the scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClassificationValue {
    Fase(Fase),
    Trede(Trede),
}

const FASE_CODES: [(Fase, &str); 5] = [
    (Fase::Fase1, "FASE_1"),
    (Fase::Fase2, "FASE_2"),
    (Fase::Fase3, "FASE_3"),
    (Fase::Fase4, "FASE_4"),
    (Fase::Ontheffing, "ONTHEFFING"),
];

impl Fase {
    /// The code stored in the database and used in reports.
    pub fn code(self) -> &'static str {
        FASE_CODES
            .iter()
            .find(|(f, _)| *f == self)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    }
}

impl ClassificationValue {
    pub fn scheme(self) -> Scheme {
        match self {
            ClassificationValue::Fase(_) => Scheme::Fase,
            ClassificationValue::Trede(_) => Scheme::Participatieladder,
        }
    }

    /// The code stored in the database: `FASE_1`..`FASE_4`, `ONTHEFFING`,
    /// `TREDE_1`..`TREDE_6`.
    pub fn code(self) -> String {
        match self {
            ClassificationValue::Fase(fase) => fase.code().to_owned(),
            ClassificationValue::Trede(trede) => format!("TREDE_{}", trede.step()),
        }
    }

    pub fn parse_stored(raw: &str) -> Option<Self> {
        if let Some((fase, _)) = FASE_CODES.iter().find(|(_, c)| *c == raw) {
            return Some(ClassificationValue::Fase(*fase));
        }
        let step = raw.strip_prefix("TREDE_")?.parse().ok()?;
        Trede::new(step).map(ClassificationValue::Trede)
    }
}

/// One classification of a client: a value holding from `valid_from` until
/// the next classification of the same scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub value: ClassificationValue,
    pub valid_from: NaiveDate,
    /// Why the client is classified so (motivering).
    pub motivation: String,
    /// Who made the classification.
    pub classifier: String,
}

/// The entry in force on `day` in a valid-time history: the one with the
/// greatest valid-from on or before `day`. Used for fases, tredes and
/// doelgroep sets alike.
pub fn in_force_on<T>(
    entries: &[T],
    day: NaiveDate,
    valid_from: impl Fn(&T) -> NaiveDate,
) -> Option<&T> {
    entries
        .iter()
        .filter(|e| valid_from(e) <= day)
        .max_by_key(|e| valid_from(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_latest_valid_from_on_or_before_the_day_wins() {
        let history = [(d(2025, 6, 1), Fase::Fase3), (d(2025, 1, 1), Fase::Fase2)];
        let on = |day| in_force_on(&history, day, |e| e.0).map(|e| e.1);
        assert_eq!(on(d(2024, 12, 31)), None, "niet ingedeeld before the first");
        assert_eq!(on(d(2025, 1, 1)), Some(Fase::Fase2));
        assert_eq!(on(d(2025, 5, 31)), Some(Fase::Fase2));
        assert_eq!(on(d(2025, 6, 1)), Some(Fase::Fase3));
        assert_eq!(on(d(2030, 1, 1)), Some(Fase::Fase3));
    }

    #[test]
    fn codes_round_trip_and_decide_the_scheme() {
        let values = [
            ClassificationValue::Fase(Fase::Fase1),
            ClassificationValue::Fase(Fase::Ontheffing),
            ClassificationValue::Trede(Trede::new(1).unwrap()),
            ClassificationValue::Trede(Trede::new(6).unwrap()),
        ];
        for value in values {
            assert_eq!(
                ClassificationValue::parse_stored(&value.code()),
                Some(value)
            );
        }
        assert_eq!(values[1].scheme(), Scheme::Fase);
        assert_eq!(values[2].scheme(), Scheme::Participatieladder);
        assert_eq!(ClassificationValue::parse_stored("TREDE_7"), None);
        assert!(Trede::new(0).is_none());
    }
}
