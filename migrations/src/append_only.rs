//! History tables are append-only, and the database itself enforces it: a
//! bug or a hand-typed statement cannot rewrite the past.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// Installs triggers that reject UPDATE and DELETE (and, on PostgreSQL,
/// TRUNCATE) on `table`.
pub async fn protect(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Sqlite => {
            for operation in ["UPDATE", "DELETE"] {
                let name = format!("{table}_no_{}", operation.to_lowercase());
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {name} BEFORE {operation} ON {table} \
                     BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} is not allowed'); END"
                ))
                .await?;
            }
        }
        DbBackend::Postgres => {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION reject_history_change()"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION reject_history_change()"
            ))
            .await?;
        }
        other => {
            return Err(DbErr::Migration(format!(
                "unsupported database backend {other:?}"
            )));
        }
    }
    Ok(())
}

/// The PostgreSQL trigger function behind `protect`; created once.
pub async fn install_function(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Postgres {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE OR REPLACE FUNCTION reject_history_change() RETURNS trigger AS $$ \
                 BEGIN RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP \
                 USING ERRCODE = 'restrict_violation'; END $$ LANGUAGE plpgsql",
            )
            .await?;
    }
    Ok(())
}
