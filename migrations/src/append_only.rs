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

/// Installs triggers on `table`, a table of generations (each row valid from
/// `recorded_at` until `superseded_at`, open while NULL), that reject
/// DELETE (and TRUNCATE) and every UPDATE but the one that closes a row's
/// generation: `superseded_at` from NULL to an instant not before its
/// `recorded_at`, with every column of `fixed` unchanged. So the generation
/// any instant saw stays as it was seen.
pub async fn protect_generations(
    manager: &SchemaManager<'_>,
    table: &str,
    fixed: &[&str],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let closes_only = |changed: &str| {
        format!(
            "OLD.superseded_at IS NOT NULL OR NEW.superseded_at IS NULL \
             OR NEW.superseded_at < OLD.recorded_at OR {changed}"
        )
    };
    match manager.get_database_backend() {
        DbBackend::Sqlite => {
            let changed = fixed
                .iter()
                .map(|c| format!("NEW.{c} IS NOT OLD.{c}"))
                .collect::<Vec<_>>()
                .join(" OR ");
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} \
                 BEGIN SELECT RAISE(ABORT, '{table} keeps every generation: DELETE is not allowed'); END"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_closes_only BEFORE UPDATE ON {table} \
                 WHEN {} \
                 BEGIN SELECT RAISE(ABORT, '{table} keeps every generation: this UPDATE is not allowed, only setting superseded_at once'); END",
                closes_only(&changed)
            ))
            .await?;
        }
        DbBackend::Postgres => {
            let row = |of: &str| {
                fixed
                    .iter()
                    .map(|c| format!("{of}.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let changed = format!("ROW({}) IS DISTINCT FROM ROW({})", row("NEW"), row("OLD"));
            db.execute_unprepared(&format!(
                "CREATE OR REPLACE FUNCTION {table}_closes_only() RETURNS trigger AS $$ BEGIN \
                 IF TG_OP <> 'UPDATE' OR {} THEN \
                 RAISE EXCEPTION '% keeps every generation: this % is not allowed, only setting superseded_at once', \
                 TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation'; \
                 END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
                closes_only(&changed)
            ))
            .await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_closes_only BEFORE UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION {table}_closes_only()"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION {table}_closes_only()"
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
