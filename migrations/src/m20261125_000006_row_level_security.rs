//! A second wall between gemeenten on PostgreSQL: row-level security. Every
//! query of the service already names the caller's gemeente; these policies
//! make the database refuse other rows even when a query forgets to. The
//! service sets `clientvolg.gemeente` for each transaction (`SET LOCAL`);
//! without it a query sees no rows and can write none. Policies are FORCEd,
//! so they hold for the tables' owner too; only superusers and roles with
//! BYPASSRLS pass them, which is why the service should not run as one.
//! SQLite has no row-level security; there the queries are the only wall.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000006_row_level_security"
    }
}

/// Tables with a `gemeente` column.
const TENANT_TABLES: &[&str] = &[
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
];

/// Tables without one, reached through the version row they belong to:
/// (table, parent table, the child's columns that name the parent's
/// `id` and `version`).
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in TENANT_TABLES {
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; \
                 ALTER TABLE {table} FORCE ROW LEVEL SECURITY; \
                 CREATE POLICY {table}_tenant ON {table} \
                 USING (gemeente = {TENANT}) WITH CHECK (gemeente = {TENANT})"
            ))
            .await?;
        }
        for (table, parent, id, version) in CHILD_TABLES {
            let own_parent = format!(
                "EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{id} \
                 AND p.version = {table}.{version})"
            );
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; \
                 ALTER TABLE {table} FORCE ROW LEVEL SECURITY; \
                 CREATE POLICY {table}_tenant ON {table} \
                 USING ({own_parent}) WITH CHECK ({own_parent})"
            ))
            .await?;
        }
        Ok(())
    }
}
