//! The tenant policies of row-level security (migration 000006) compared
//! `gemeente`, a CHAR(4) column, with the text of the setting: PostgreSQL
//! cast the column to text on every row, called `current_setting` on every
//! row, and could use no index on `gemeente` (docs/benchmarks.md: a scan of
//! a table of latest versions took three times as long as without the
//! policy). Each policy now compares with the setting cast to CHAR(4) once,
//! in a subquery PostgreSQL evaluates once per statement. A setting that is
//! not exactly four characters matches no row, as an unset one does: the
//! cast would otherwise cut a longer value down to a gemeente's code.

use crate::m20261125_000006_row_level_security::TENANT_TABLES;
use crate::m20261125_000007_current_versions::CURRENT;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000008_tenant_policy_once_per_statement"
    }
}

/// The transaction's gemeente as a CHAR(4), or NULL when the setting is
/// unset or not four characters long; a scalar subquery, so evaluated once
/// per statement.
const TENANT: &str = "(SELECT CAST(s.gemeente AS CHAR(4)) FROM \
     (SELECT current_setting('clientvolg.gemeente', true) AS gemeente) s \
     WHERE char_length(s.gemeente) = 4)";

/// A tenant policy's clauses: the rows of the transaction's gemeente only.
fn clauses() -> String {
    format!("USING (gemeente = {TENANT}) WITH CHECK (gemeente = {TENANT})")
}

/// Replaces `table`'s tenant policy by one comparing with `TENANT`.
fn replace_policy(table: &str) -> String {
    format!("ALTER POLICY {table}_tenant ON {table} {}", clauses())
}

/// Row-level security on a table made after this migration (PostgreSQL):
/// only the rows of the transaction's gemeente, for its owner too.
pub(crate) fn tenant_policy(table: &str) -> String {
    format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; \
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY; \
         CREATE POLICY {table}_tenant ON {table} {}",
        clauses()
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        let tables = TENANT_TABLES
            .iter()
            .copied()
            .chain(CURRENT.iter().map(|c| c.current));
        for table in tables {
            db.execute_unprepared(&replace_policy(table)).await?;
        }
        Ok(())
    }
}
