//! Business dates (valid time) and the arithmetic the domain needs on them.

use super::Invalid;
use chrono::{Datelike, NaiveDate};

/// Builds a calendar date from year, month and day; all three are required.
/// Years outside 1900–2199 are refused: no client, benefit or trajectory of
/// this system lies there, so such a year is a typo.
pub fn calendar_date(year: i32, month: u32, day: u32) -> Result<NaiveDate, Invalid> {
    if !(1900..=2199).contains(&year) {
        return Err(Invalid::new("the year must be between 1900 and 2199"));
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        Invalid::new(format!(
            "{year:04}-{month:02}-{day:02} is not a calendar date"
        ))
    })
}

/// Whole months from `from` to `to` (0 when `to` is before `from`'s first
/// monthly anniversary). A birthday on the 31st has its monthly anniversary
/// on the last day of shorter months.
pub fn full_months_between(from: NaiveDate, to: NaiveDate) -> i32 {
    if to < from {
        return -full_months_between(to, from);
    }
    let mut months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    let last_day_of_to_month = to
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.with_day(1))
        .and_then(|d| d.pred_opt())
        .map(|d| d.day())
        .unwrap_or(31);
    let anniversary_day = from.day().min(last_day_of_to_month);
    if to.day() < anniversary_day {
        months -= 1;
    }
    months
}

/// A span of days, both ends inclusive; an open end runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateSpan {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

impl DateSpan {
    pub fn new(start: NaiveDate, end: Option<NaiveDate>) -> Result<Self, Invalid> {
        match end {
            Some(end) if end < start => {
                Err(Invalid::new("the end date lies before the start date"))
            }
            _ => Ok(Self { start, end }),
        }
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && self.end.is_none_or(|end| day <= end)
    }

    pub fn overlaps(&self, other: &DateSpan) -> bool {
        self.end.is_none_or(|end| other.start <= end)
            && other.end.is_none_or(|end| self.start <= end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn calendar_dates_are_checked() {
        assert_eq!(calendar_date(2024, 2, 29).unwrap(), d(2024, 2, 29));
        assert!(calendar_date(2025, 2, 29).is_err());
        assert!(calendar_date(2025, 0, 1).is_err());
        assert!(calendar_date(1899, 12, 31).is_err());
        assert!(calendar_date(2025, 4, 31).is_err());
    }

    #[test]
    fn full_months_count_only_completed_months() {
        assert_eq!(full_months_between(d(2000, 1, 15), d(2000, 2, 14)), 0);
        assert_eq!(full_months_between(d(2000, 1, 15), d(2000, 2, 15)), 1);
        assert_eq!(full_months_between(d(2002, 6, 1), d(2025, 5, 31)), 275);
        assert_eq!(full_months_between(d(2002, 6, 1), d(2025, 6, 1)), 276);
        // Born on the 31st: the monthly anniversary in February is its last day.
        assert_eq!(full_months_between(d(2000, 1, 31), d(2000, 2, 29)), 1);
        assert_eq!(full_months_between(d(2000, 1, 31), d(2000, 2, 28)), 0);
        assert_eq!(full_months_between(d(2000, 3, 1), d(2000, 1, 1)), -2);
    }

    #[test]
    fn spans_are_inclusive_and_may_be_open() {
        let closed = DateSpan::new(d(2025, 1, 1), Some(d(2025, 3, 31))).unwrap();
        let open = DateSpan::new(d(2025, 3, 31), None).unwrap();
        assert!(closed.contains(d(2025, 3, 31)));
        assert!(!closed.contains(d(2025, 4, 1)));
        assert!(open.contains(d(2099, 1, 1)));
        assert!(closed.overlaps(&open));
        let later = DateSpan::new(d(2025, 4, 1), None).unwrap();
        assert!(!closed.overlaps(&later));
        assert!(DateSpan::new(d(2025, 2, 1), Some(d(2025, 1, 31))).is_err());
        assert!(DateSpan::new(d(2025, 2, 1), Some(d(2025, 2, 1))).is_ok());
    }
}
