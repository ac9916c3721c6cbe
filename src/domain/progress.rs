//! Kwartaalrapportages: a provider's quarterly progress report on one
//! trajectory. The seeds found them vague, late and typed over by hand; here
//! they are structured, checked against the trajectory, and the start or end
//! they report is applied to the trajectory itself.

use super::classification::Fase;
use super::dates::{DateSpan, Quarter};
use super::trajectory::{Ending, Lifecycle};
use super::{RuleViolation, refuse, stored_enum};
use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStatus {
    OnTrack,
    Delayed,
    AtRisk,
    Interrupted,
}

stored_enum!(ProgressStatus {
    OnTrack => "on_track",
    Delayed => "delayed",
    AtRisk => "at_risk",
    Interrupted => "interrupted",
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseAdvice {
    pub fase: Fase,
    pub motivation: String,
}

/// What a provider reports about one trajectory in one quarter.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressReport {
    pub quarter: Quarter,
    pub status: ProgressStatus,
    pub appointments_planned: u32,
    pub appointments_kept: u32,
    pub activities: Vec<String>,
    pub instruments: Vec<String>,
    pub phase_advice: Option<PhaseAdvice>,
    pub next_steps: String,
    pub started_on: Option<NaiveDate>,
    pub ending: Option<Ending>,
    pub remarks: String,
}

impl ProgressReport {
    /// A report covers a quarter that has begun, within the trajectory's run
    /// (referral to end); a start or end it reports lies in that quarter.
    pub fn check(&self, lifecycle: &Lifecycle, today: NaiveDate) -> Result<(), RuleViolation> {
        if self.quarter.first_day() > today {
            return Err(refuse(
                "quarter_not_begun",
                format!("{} has not begun yet", self.quarter),
            ));
        }
        let reported_end = self.ending.as_ref().map(|e| e.date);
        let run_end = reported_end.or_else(|| lifecycle.ending().map(|e| e.date));
        let run = DateSpan {
            start: lifecycle.referral(),
            end: run_end,
        };
        if !run.overlaps(&self.quarter.span()) {
            return Err(refuse(
                "quarter_outside_trajectory",
                format!("the trajectory did not run in {}", self.quarter),
            ));
        }
        for (what, day) in [("start", self.started_on), ("end", reported_end)] {
            if let Some(day) = day
                && !self.quarter.span().contains(day)
            {
                return Err(refuse(
                    "date_in_quarter",
                    format!(
                        "the reported {what} date {day} lies outside {}",
                        self.quarter
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The trajectory after the start and end this report gives, or `None`
    /// when it already says the same. A different date than recorded is
    /// applied too, as a correction the casemanager can undo.
    pub fn apply_to(&self, lifecycle: &Lifecycle) -> Result<Option<Lifecycle>, RuleViolation> {
        let start = self.started_on.or(lifecycle.start());
        let ending = self.ending.clone().or_else(|| lifecycle.ending().cloned());
        if start == lifecycle.start() && ending.as_ref() == lifecycle.ending() {
            return Ok(None);
        }
        Lifecycle::from_parts(lifecycle.referral(), start, ending).map(Some)
    }
}

/// The last day a quarter's report is on time.
pub fn due_date(quarter: Quarter, report_due_days: u16) -> NaiveDate {
    quarter.last_day() + chrono::Days::new(u64::from(report_due_days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::trajectory::EndReason;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn report(quarter: &str) -> ProgressReport {
        ProgressReport {
            quarter: Quarter::parse(quarter).unwrap(),
            status: ProgressStatus::OnTrack,
            appointments_planned: 6,
            appointments_kept: 5,
            activities: vec![],
            instruments: vec![],
            phase_advice: None,
            next_steps: String::new(),
            started_on: None,
            ending: None,
            remarks: String::new(),
        }
    }

    #[test]
    fn reports_cover_the_trajectory_run() {
        let running = Lifecycle::referred(d(2025, 2, 10))
            .start_on(d(2025, 3, 1))
            .unwrap();
        let today = d(2025, 11, 25);
        let rule = |r: &ProgressReport, l: &Lifecycle| r.check(l, today).err().map(|v| v.rule);
        assert_eq!(rule(&report("2025-Q1"), &running), None);
        assert_eq!(rule(&report("2025-Q4"), &running), None);
        assert_eq!(
            rule(&report("2024-Q4"), &running),
            Some("quarter_outside_trajectory")
        );
        assert_eq!(
            rule(&report("2026-Q1"), &running),
            Some("quarter_not_begun")
        );
        let ended = running
            .clone()
            .end(Ending::new(d(2025, 5, 1), EndReason::Moved, None).unwrap())
            .unwrap();
        assert_eq!(
            rule(&report("2025-Q3"), &ended),
            Some("quarter_outside_trajectory")
        );
        let late_start = ProgressReport {
            started_on: Some(d(2025, 4, 1)),
            ..report("2025-Q1")
        };
        assert_eq!(rule(&late_start, &running), Some("date_in_quarter"));
    }

    #[test]
    fn reported_starts_and_ends_are_applied() {
        let referred = Lifecycle::referred(d(2025, 2, 10));
        let start = ProgressReport {
            started_on: Some(d(2025, 3, 1)),
            ..report("2025-Q1")
        };
        let started = start.apply_to(&referred).unwrap().unwrap();
        assert_eq!(started.start(), Some(d(2025, 3, 1)));
        assert_eq!(
            start.apply_to(&started).unwrap(),
            None,
            "the same start again changes nothing"
        );
        let ending = Ending::new(d(2025, 5, 1), EndReason::NoShow, None).unwrap();
        let end = ProgressReport {
            ending: Some(ending),
            ..report("2025-Q2")
        };
        assert!(end.apply_to(&started).unwrap().unwrap().ending().is_some());
        let before_start = Ending::new(d(2025, 2, 20), EndReason::NoShow, None).unwrap();
        let bad = ProgressReport {
            ending: Some(before_start),
            ..report("2025-Q1")
        };
        assert_eq!(bad.apply_to(&started).unwrap_err().rule, "end_after_start");
    }

    #[test]
    fn due_dates_follow_the_contract() {
        assert_eq!(
            due_date(Quarter::parse("2025-Q3").unwrap(), 30),
            d(2025, 10, 30)
        );
        assert_eq!(
            due_date(Quarter::parse("2025-Q4").unwrap(), 0),
            d(2025, 12, 31)
        );
    }
}
