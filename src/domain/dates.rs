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

/// The latest start date from which `day` lies at least `months` full months
/// later: `full_months_between(start, day) >= months` exactly when `start` is
/// on or before it. Reports compare dates with these constants instead of
/// doing month arithmetic in SQL.
pub fn latest_start_with_full_months(day: NaiveDate, months: u32) -> NaiveDate {
    let mut start = day
        .checked_sub_months(chrono::Months::new(months))
        .unwrap_or(NaiveDate::MIN);
    // Subtracting clamps to the end of a shorter month; later days of the
    // same month may still have their anniversary on or before `day`.
    while let Some(next) = start.succ_opt()
        && next <= day
        && full_months_between(next, day) >= months as i32
    {
        start = next;
    }
    start
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
    fn thresholds_agree_with_full_months() {
        let days = [
            d(2025, 2, 28),
            d(2024, 2, 29),
            d(2025, 3, 31),
            d(2025, 12, 31),
            d(2025, 6, 15),
        ];
        for day in days {
            for months in [1, 12, 276, 690] {
                let threshold = latest_start_with_full_months(day, months);
                assert!(
                    full_months_between(threshold, day) >= months as i32,
                    "{day} {months}"
                );
                let after = threshold.succ_opt().unwrap();
                assert!(
                    full_months_between(after, day) < months as i32,
                    "{day} {months}"
                );
            }
        }
        assert_eq!(
            latest_start_with_full_months(d(2001, 2, 28), 1),
            d(2001, 1, 31)
        );
        assert_eq!(
            latest_start_with_full_months(d(2025, 2, 28), 0),
            d(2025, 2, 28)
        );
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

/// A calendar quarter, written `2025-Q3`: the period a kwartaalrapportage
/// covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    /// 1 to 4.
    number: u32,
}

impl Quarter {
    pub fn parse(raw: &str) -> Result<Quarter, Invalid> {
        let bad = || Invalid::new(format!("{raw:?} is not a quarter like 2025-Q3"));
        let (year, number) = raw.split_once("-Q").ok_or_else(bad)?;
        if year.len() != 4 || number.len() != 1 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let number: u32 = number.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&number) || !(1900..=2199).contains(&year) {
            return Err(bad());
        }
        Ok(Quarter { year, number })
    }

    pub fn containing(day: NaiveDate) -> Quarter {
        Quarter {
            year: day.year(),
            number: (day.month() - 1) / 3 + 1,
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.number - 1) * 3 + 1, 1)
            .expect("a quarter starts on a real date")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .expect("a quarter ends on a real date")
    }

    pub fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter {
                year: self.year + 1,
                number: 1,
            }
        } else {
            Quarter {
                year: self.year,
                number: self.number + 1,
            }
        }
    }

    pub fn span(self) -> DateSpan {
        DateSpan {
            start: self.first_day(),
            end: Some(self.last_day()),
        }
    }

    /// The quarters that overlap `span`, up to and including `until`'s.
    pub fn overlapping(span: DateSpan, until: NaiveDate) -> Vec<Quarter> {
        let last_day = span.end.map_or(until, |end| end.min(until));
        let mut quarters = Vec::new();
        let mut quarter = Quarter::containing(span.start);
        while quarter.first_day() <= last_day {
            quarters.push(quarter);
            quarter = quarter.next();
        }
        quarters
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

#[cfg(test)]
mod quarter_tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn quarters_parse_and_print() {
        let q = Quarter::parse("2025-Q3").unwrap();
        assert_eq!(q.to_string(), "2025-Q3");
        assert_eq!(
            (q.first_day(), q.last_day()),
            (d(2025, 7, 1), d(2025, 9, 30))
        );
        assert_eq!(
            Quarter::parse("2025-Q4").unwrap().last_day(),
            d(2025, 12, 31)
        );
        for bad in ["2025-Q5", "2025-Q0", "2025Q3", "25-Q3", "2025-q3", ""] {
            assert!(Quarter::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn quarters_overlapping_a_span() {
        let span = DateSpan::new(d(2025, 3, 31), Some(d(2025, 10, 1))).unwrap();
        let names: Vec<String> = Quarter::overlapping(span, d(2030, 1, 1))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]);
        let open = DateSpan::new(d(2025, 5, 1), None).unwrap();
        assert_eq!(Quarter::overlapping(open, d(2025, 8, 1)).len(), 2);
        assert_eq!(
            Quarter::containing(d(2025, 12, 31)),
            Quarter::parse("2025-Q4").unwrap()
        );
    }
}
