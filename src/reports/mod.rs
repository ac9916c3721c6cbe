//! The query module: management reports counted in the database from the
//! history, so that a report with the same `as_of` answers the same numbers
//! forever. The exact semantics are in docs/reports.md; queries are built
//! with sea-query and run unchanged on SQLite and PostgreSQL. Date
//! arithmetic (ages, durations, "the day before") is done in Rust and handed
//! to the database as a calendar of constants.

pub mod caseload;
pub mod inflow_outflow;
pub mod render;
mod sql;

use crate::domain::Invalid;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
use chrono::NaiveDate;

/// Memory per sort or hash of a report on PostgreSQL, for its transaction
/// only: a report groups and joins hundreds of thousands of rows at a time,
/// which the server's default (4 MB) would spill to disk.
pub const POSTGRES_REPORT_WORK_MEM: &str = "256MB";

/// One cell of a report.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    Count(i64),
    Number(f64),
    /// Does not apply (a rate without endings).
    Missing,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Row {
    pub label: String,
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Table {
    pub name: &'static str,
    pub title: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Row>,
}

impl Table {
    /// The value in row `label`, column `column`: handy in tests and checks.
    pub fn value(&self, label: &str, column: &str) -> Option<Value> {
        let index = self.columns.iter().position(|c| *c == column)?;
        self.rows
            .iter()
            .find(|r| r.label == label)
            .map(|r| r.values[index])
    }
}

/// Bucket edges in months, ascending and distinct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edges(Vec<u32>);

impl Edges {
    pub fn new(months: Vec<u32>) -> Result<Edges, Invalid> {
        if months.is_empty() || months.len() > 10 {
            return Err(Invalid::new("give 1 to 10 edges"));
        }
        if months.windows(2).any(|pair| pair[0] >= pair[1])
            || months[0] == 0
            || months[months.len() - 1] > 1_800
        {
            return Err(Invalid::new(
                "edges are ascending months between 1 and 1800",
            ));
        }
        Ok(Edges(months))
    }

    pub fn age_default() -> Edges {
        Edges(vec![276, 360, 690])
    }

    pub fn duration_default() -> Edges {
        Edges(vec![12, 36])
    }

    pub fn months(&self) -> &[u32] {
        &self.0
    }

    /// Labels in years: `<23`, `23-30`, `30-57.5`, `>=57.5` (with `suffix`
    /// after each number, e.g. `y`).
    pub fn labels(&self, suffix: &str) -> Vec<String> {
        let years = |months: u32| {
            let years = f64::from(months) / 12.0;
            let text = format!("{years:.2}");
            format!(
                "{}{suffix}",
                text.trim_end_matches('0').trim_end_matches('.')
            )
        };
        let mut labels = vec![format!("<{}", years(self.0[0]))];
        for pair in self.0.windows(2) {
            let lower = years(pair[0]);
            labels.push(format!(
                "{}-{}",
                lower.trim_end_matches(suffix),
                years(pair[1])
            ));
        }
        labels.push(format!(">={}", years(self.0[self.0.len() - 1])));
        labels
    }
}

/// What a report is asked for.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub gemeente: GemeenteCode,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Already resolved against the transaction clock.
    pub horizon: RecordedAt,
    pub age_edges: Edges,
    pub duration_edges: Edges,
}

impl ReportRequest {
    /// A period runs forward and spans at most five years (the calendar of
    /// constants covers every day of it).
    pub fn check_period(start: NaiveDate, end: NaiveDate) -> Result<(), Invalid> {
        if end < start {
            return Err(Invalid::new("the period ends before it starts"));
        }
        if (end - start).num_days() > 5 * 366 {
            return Err(Invalid::new("a period spans at most five years"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct InflowOutflowReport {
    pub gemeente: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub as_of: chrono::DateTime<chrono::Utc>,
    pub tables: Vec<Table>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_specification() {
        assert_eq!(
            Edges::age_default().labels(""),
            ["<23", "23-30", "30-57.5", ">=57.5"]
        );
        assert_eq!(
            Edges::duration_default().labels("y"),
            ["<1y", "1-3y", ">=3y"]
        );
        assert!(Edges::new(vec![36, 12]).is_err());
        assert!(Edges::new(vec![]).is_err());
    }
}
