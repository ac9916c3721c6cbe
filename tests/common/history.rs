//! The history tables as a raw database connection sees them: how many rows
//! each holds, and the invariants every one of them keeps however a request
//! ended. Test files that check for half-written changes include this file
//! with `#[path = "common/history.rs"] mod history;`.

#![allow(dead_code)]

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// Every table that records history: the version tables and the rows that
/// belong to one version (lines, codes, submissions).
pub const HISTORY_TABLES: [&str; 12] = [
    "client_versions",
    "registration_versions",
    "classification_versions",
    "doelgroep_versions",
    "doelgroep_assignment_versions",
    "doelgroep_assignment_codes",
    "provider_versions",
    "contract_versions",
    "trajectory_versions",
    "trajectory_lines",
    "progress_report_versions",
    "progress_report_submissions",
];

/// The tables with one row per version of a resource and the common spine
/// (`id`, `version`, `recorded_at`, `actor`, `actor_role`, `source`).
pub const VERSION_TABLES: [&str; 9] = [
    "client_versions",
    "registration_versions",
    "classification_versions",
    "doelgroep_versions",
    "doelgroep_assignment_versions",
    "provider_versions",
    "contract_versions",
    "trajectory_versions",
    "progress_report_versions",
];

/// Rows that belong to one version: (table, its id and version columns, the
/// version table they belong to).
const CHILD_TABLES: [(&str, &str, &str, &str); 3] = [
    (
        "trajectory_lines",
        "trajectory_id",
        "version",
        "trajectory_versions",
    ),
    (
        "doelgroep_assignment_codes",
        "assignment_id",
        "version",
        "doelgroep_assignment_versions",
    ),
    (
        "progress_report_submissions",
        "report_id",
        "report_version",
        "progress_report_versions",
    ),
];

/// The row count of every history table, in the order of HISTORY_TABLES, in
/// one query.
pub async fn row_counts(db: &DatabaseConnection) -> Vec<i64> {
    let counts = HISTORY_TABLES
        .iter()
        .map(|table| format!("(SELECT COUNT(*) FROM {table})"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("SELECT {counts}");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), &sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("one row");
    (0..HISTORY_TABLES.len())
        .map(|i| {
            row.try_get_by_index::<i64>(i)
                .unwrap_or_else(|e| panic!("count of {}: {e}", HISTORY_TABLES[i]))
        })
        .collect()
}

/// The tables whose row count differs between two `row_counts`, with both
/// counts; empty when nothing changed.
pub fn changed(before: &[i64], after: &[i64]) -> Vec<(&'static str, i64, i64)> {
    HISTORY_TABLES
        .iter()
        .zip(before.iter().zip(after))
        .filter(|(_, (b, a))| b != a)
        .map(|(table, (b, a))| (*table, *b, *a))
        .collect()
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("one row");
    row.try_get_by_index::<i64>(0)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// What a half-written change would leave behind; each entry names the
/// broken rule and how many rows break it. Empty when the history is whole:
/// the versions of every id run 1..n without gaps, in recording order, none
/// later than the transaction clock; every version says who recorded it,
/// from where and when; every line, code and submission belongs to a stored
/// version.
pub async fn broken_invariants(db: &DatabaseConnection) -> Vec<String> {
    let mut broken = Vec::new();
    for table in VERSION_TABLES {
        let checks = [
            (
                "versions of an id are not 1..n",
                format!(
                    "SELECT COUNT(*) FROM (SELECT id FROM {table} GROUP BY id \
                     HAVING MIN(version) <> 1 OR MAX(version) <> COUNT(*)) AS gaps"
                ),
            ),
            (
                "a version without actor, role, source or time",
                format!(
                    "SELECT COUNT(*) FROM {table} WHERE actor IS NULL OR actor = '' \
                     OR actor_role IS NULL OR actor_role = '' OR source IS NULL OR source = '' \
                     OR recorded_at IS NULL OR recorded_at <= 0"
                ),
            ),
            (
                "a later version recorded before an earlier one",
                format!(
                    "SELECT COUNT(*) FROM {table} a JOIN {table} b \
                     ON a.id = b.id AND b.version = a.version + 1 WHERE b.recorded_at < a.recorded_at"
                ),
            ),
            (
                "a version recorded after the transaction clock",
                format!(
                    "SELECT COUNT(*) FROM {table} WHERE recorded_at > \
                     (SELECT last_recorded_at FROM transaction_clock)"
                ),
            ),
        ];
        for (rule, sql) in checks {
            let n = count(db, &sql).await;
            if n != 0 {
                broken.push(format!("{table}: {rule} ({n} rows)"));
            }
        }
    }
    for (table, id, version, parent) in CHILD_TABLES {
        let sql = format!(
            "SELECT COUNT(*) FROM {table} c WHERE NOT EXISTS \
             (SELECT 1 FROM {parent} v WHERE v.id = c.{id} AND v.version = c.{version})"
        );
        let n = count(db, &sql).await;
        if n != 0 {
            broken.push(format!(
                "{table}: rows without their version in {parent} ({n} rows)"
            ));
        }
    }
    broken
}
