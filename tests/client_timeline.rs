//! The clients' timelines (`client_timeline`, crate `timeline`) always hold
//! the generations the history implies: after demo data written through the
//! store (one transaction per fact) and in bulk, and after corrections of an
//! episode, a fase, an assignment and a birth date, the table equals the
//! generations replayed from every version in the history; and the
//! migration that made the table, run again on the filled database, writes
//! exactly those rows. On SQLite and PostgreSQL.

#[macro_use]
mod common;

use chrono::NaiveDate;
use clientvolg::domain::classification::{ClassificationValue, Fase};
use clientvolg::domain::dates::DateSpan;
use clientvolg::domain::gemeente::GemeenteCode;
use clientvolg::domain::history::{Actor, Change, Source};
use clientvolg::store::Store;
use common::*;
use migration::MigratorTrait;
use migration::client_timeline::{self, TimelineRow};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use uuid::Uuid;

both_databases!(the_timeline_is_the_history_replayed);
both_databases!(the_database_keeps_every_generation);

fn correction() -> Change {
    Change {
        actor: Actor {
            subject: "cm-test".into(),
            role: "casemanager",
        },
        source: Source::Casemanager,
        reason: Some("correctie".into()),
    }
}

/// `(client_id, id, version)` of the first row of current table `table`
/// matching `filter`, in id order.
async fn pick(admin: &DatabaseConnection, table: &str, filter: &str) -> (Uuid, Uuid, i64) {
    let sql = format!(
        "SELECT client_id, id, version FROM {table} WHERE gemeente = '0363' AND {filter} \
         ORDER BY id LIMIT 1"
    );
    let row = admin
        .query_one_raw(Statement::from_string(
            admin.get_database_backend(),
            sql.clone(),
        ))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
        row.try_get_by_index(2).unwrap(),
    )
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Changes that move a client's timeline, each in a transaction of its own.
async fn correct_some_facts(store: &Store, admin: &DatabaseConnection) {
    let gemeente = GemeenteCode::parse("0363").unwrap();
    let (client, id, version) = pick(admin, "registration_current", "end_date IS NULL").await;
    store
        .update_registration(
            &gemeente,
            client,
            id,
            version,
            &correction(),
            |mut episode| {
                episode.span = DateSpan::new(episode.span.start, Some(date(2025, 8, 31)))
                    .expect("an end after the start");
                Ok(episode)
            },
        )
        .await
        .expect("end an episode");
    let (client, id, version) = pick(admin, "classification_current", "scheme = 'FASE'").await;
    store
        .update_classification(&gemeente, client, id, version, &correction(), |mut c| {
            c.value = ClassificationValue::Fase(Fase::Ontheffing);
            c
        })
        .await
        .expect("correct a fase");
    let (client, id, version) = pick(admin, "doelgroep_assignment_current", "1 = 1").await;
    store
        .update_assignment(&gemeente, client, id, version, &correction(), |mut a| {
            a.codes.clear();
            a
        })
        .await
        .expect("empty an assignment");
    correct_a_birth_date(store, admin).await;
}

/// Corrects the birth date of gemeente 0363's first client to 1970-02-28.
async fn correct_a_birth_date(store: &Store, admin: &DatabaseConnection) {
    let gemeente = GemeenteCode::parse("0363").unwrap();
    let row = admin
        .query_one_raw(Statement::from_string(
            admin.get_database_backend(),
            "SELECT id, version FROM client_current WHERE gemeente = '0363' ORDER BY id LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap();
    let (client, version): (Uuid, i64) = (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
    );
    store
        .update_client(&gemeente, client, version, &correction(), |mut details| {
            details.birth_date = date(1970, 2, 28);
            details
        })
        .await
        .expect("correct a birth date");
}

/// What the history says the table holds, for every client at once.
async fn replayed(admin: &DatabaseConnection) -> Vec<TimelineRow> {
    let (rows, _) = client_timeline::replayed(admin, None, 1_000_000)
        .await
        .expect("replay the history");
    rows
}

/// Takes the table and what migrations 000009 and 000010 made away, as if
/// they had never run, so that running the migrations again fills the table from
/// the history of a database already in use.
async fn undo_the_timeline_migration(db: &DatabaseConnection) {
    for statement in [
        "DROP TABLE client_timeline",
        "DROP INDEX trajectory_current_client",
        "DROP INDEX client_current_gemeente",
        "DROP INDEX registration_current_client",
        "DROP INDEX classification_current_client",
        "DROP INDEX doelgroep_assignment_current_client",
        "DELETE FROM seaql_migrations WHERE version IN \
         ('m20261201_000009_client_timeline', 'm20261202_000010_timeline_generations_kept')",
    ] {
        db.execute_unprepared(statement)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

async fn the_timeline_is_the_history_replayed(app: TestApp) {
    let store = Store::open(&app.database_url)
        .await
        .expect("open the store");
    let through_store = GemeenteCode::parse("0363").unwrap();
    let in_bulk = GemeenteCode::parse("0599").unwrap();
    clientvolg::demo::generate(&store, &through_store, 60, 11)
        .await
        .expect("demo data through the store");
    clientvolg::demo::generate_bulk(&store, &in_bulk, 60, 11)
        .await
        .expect("demo data in bulk");
    // Past the service's row-level security: every gemeente at once.
    let admin = Database::connect(&app.admin_database_url)
        .await
        .expect("connect as administrator");
    correct_some_facts(&store, &admin).await;

    let stored = client_timeline::all_rows(&admin).await.expect("the table");
    let from_history = replayed(&admin).await;
    assert_eq!(stored, from_history);
    let clients = |rows: &[TimelineRow], gemeente: &str| {
        rows.iter()
            .filter(|r| r.gemeente == gemeente)
            .map(|r| r.client_id)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    assert_eq!(clients(&stored, "0363"), 60);
    assert_eq!(clients(&stored, "0599"), 60);
    assert!(
        stored.iter().any(|r| r.superseded_at.is_some()),
        "the corrections superseded generations"
    );
    assert!(
        stored
            .iter()
            .any(|r| r.superseded_at.is_none() && r.segment.birth_date == date(1970, 2, 28)),
        "the corrected birth date is in the current generation"
    );

    // The service's own connection owns the tables, as the migrations run.
    let service = Database::connect(&app.database_url)
        .await
        .expect("connect as the service");
    undo_the_timeline_migration(&service).await;
    migration::Migrator::up(&service, None)
        .await
        .expect("the migrations run again");
    assert_eq!(
        client_timeline::all_rows(&admin).await.expect("the table"),
        from_history,
        "the migration fills the table from the history"
    );
    app.cleanup().await;
}

/// Whoever sends them, the database refuses the statements that would
/// change a generation some instant saw: deleting one, changing a segment,
/// reopening or moving the end of a closed generation, closing one before
/// it began; it lets through the one the store writes, closing the open
/// generation.
async fn the_database_keeps_every_generation(app: TestApp) {
    let store = Store::open(&app.database_url)
        .await
        .expect("open the store");
    let gemeente = GemeenteCode::parse("0363").unwrap();
    clientvolg::demo::generate(&store, &gemeente, 10, 5)
        .await
        .expect("demo data through the store");
    let admin = Database::connect(&app.admin_database_url)
        .await
        .expect("connect as administrator");
    correct_a_birth_date(&store, &admin).await;
    let before = client_timeline::all_rows(&admin).await.expect("the table");
    assert!(
        before.iter().any(|r| r.superseded_at.is_some())
            && before.iter().any(|r| r.superseded_at.is_none()),
        "closed and open generations to try"
    );
    let mut refused = vec![
        "DELETE FROM client_timeline WHERE superseded_at IS NOT NULL",
        "DELETE FROM client_timeline WHERE superseded_at IS NULL",
        "UPDATE client_timeline SET kinds = kinds + 1 WHERE superseded_at IS NULL",
        "UPDATE client_timeline SET birth_date = '1999-01-01' WHERE superseded_at IS NOT NULL",
        "UPDATE client_timeline SET superseded_at = superseded_at + 1 WHERE superseded_at IS NOT NULL",
        "UPDATE client_timeline SET superseded_at = NULL WHERE superseded_at IS NOT NULL",
        "UPDATE client_timeline SET superseded_at = recorded_at - 1 WHERE superseded_at IS NULL",
        "UPDATE client_timeline SET superseded_at = recorded_at + 1, seq = seq + 100 \
         WHERE superseded_at IS NULL",
    ];
    if admin.get_database_backend() == sea_orm::DbBackend::Postgres {
        refused.push("TRUNCATE client_timeline");
    }
    for sql in refused {
        let error = admin
            .execute_unprepared(sql)
            .await
            .err()
            .unwrap_or_else(|| panic!("`{sql}` was accepted: a generation must stay as seen"));
        assert!(
            error
                .to_string()
                .contains("client_timeline keeps every generation"),
            "`{sql}` failed for another reason: {error}"
        );
    }
    assert_eq!(
        client_timeline::all_rows(&admin).await.expect("the table"),
        before,
        "nothing changed"
    );
    let closed = admin
        .execute_unprepared(
            "UPDATE client_timeline SET superseded_at = recorded_at + 1 WHERE superseded_at IS NULL",
        )
        .await
        .expect("closing the open generations is what the store does");
    assert!(closed.rows_affected() > 0);
    app.cleanup().await;
}
