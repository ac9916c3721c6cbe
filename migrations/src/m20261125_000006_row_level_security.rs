//! A second wall between gemeenten on PostgreSQL: row-level security. Every
//! query of the service already names the caller's gemeente; these policies
//! make the database refuse other rows even when a query forgets to. The
//! service sets `clientvolg.gemeente` for each transaction (`SET LOCAL`);
//! without it a query sees no rows and can write none. Policies are FORCEd,
//! so they hold for the tables' owner too; only superusers and roles with
//! BYPASSRLS pass them, which is why the service should not run as one.
//! SQLite has no row-level security; there the queries are the only wall.
//! On both, the two tables that had no `gemeente` column (trajectory lines
//! and doelgroep codes of an assignment) get one, copied from their version
//! row, so that every policy is the same simple comparison.

use crate::append_only;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000006_row_level_security"
    }
}

/// Tables with a `gemeente` column.
pub(crate) const TENANT_TABLES: &[&str] = &[
    "client_versions",
    "registration_versions",
    "classification_versions",
    "doelgroep_versions",
    "doelgroep_assignment_versions",
    "provider_versions",
    "contract_versions",
    "trajectory_versions",
    "progress_report_versions",
    "progress_report_submissions",
    "processing_log",
    "processing_log_clients",
    "trajectory_lines",
    "doelgroep_assignment_codes",
];

/// Tables that had no `gemeente` column and get one here, copied from the
/// version row each row belongs to: (table, parent table, the child's
/// columns naming the parent's `id` and `version`). A policy that looked the
/// parent up instead would cost a lookup per row, and made PostgreSQL plan
/// the simplest reads of these tables badly.
const CHILD_TABLES: &[(&str, &str, &str, &str)] = &[
    (
        "trajectory_lines",
        "trajectory_versions",
        "trajectory_id",
        "version",
    ),
    (
        "doelgroep_assignment_codes",
        "doelgroep_assignment_versions",
        "assignment_id",
        "version",
    ),
];

/// The tenant of the current transaction; NULL when none is set, which
/// matches no row.
const TENANT: &str = "current_setting('clientvolg.gemeente', true)";

/// Row-level security on `table` (PostgreSQL): only the rows of the
/// transaction's gemeente, for its owner too.
pub(crate) fn tenant_policy(table: &str) -> String {
    format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; \
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY; \
         CREATE POLICY {table}_tenant ON {table} \
         USING (gemeente = {TENANT}) WITH CHECK (gemeente = {TENANT})"
    )
}

/// Adds `gemeente` to a child table and fills it from the parent rows. The
/// tables are append-only, so the guard is lifted for this one UPDATE of
/// the schema change and put back.
async fn add_gemeente(
    manager: &SchemaManager<'_>,
    (table, parent, id, version): (&str, &str, &str, &str),
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let fill = format!(
        "UPDATE {table} SET gemeente = (SELECT p.gemeente FROM {parent} p \
         WHERE p.id = {table}.{id} AND p.version = {table}.{version})"
    );
    match backend {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ADD COLUMN gemeente CHAR(4); \
                 ALTER TABLE {table} DISABLE TRIGGER {table}_append_only; \
                 {fill}; \
                 ALTER TABLE {table} ENABLE TRIGGER {table}_append_only; \
                 ALTER TABLE {table} ALTER COLUMN gemeente SET NOT NULL"
            ))
            .await?;
        }
        _ => {
            // SQLite adds a NOT NULL column only with a default; every
            // insert names the gemeente.
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ADD COLUMN gemeente CHAR(4) NOT NULL DEFAULT ''"
            ))
            .await?;
            for operation in ["update", "delete"] {
                db.execute_unprepared(&format!("DROP TRIGGER {table}_no_{operation}"))
                    .await?;
            }
            db.execute_unprepared(&fill).await?;
            append_only::protect(manager, table).await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for child in CHILD_TABLES {
            add_gemeente(manager, *child).await?;
        }
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in TENANT_TABLES {
            db.execute_unprepared(&tenant_policy(table)).await?;
        }
        Ok(())
    }
}
