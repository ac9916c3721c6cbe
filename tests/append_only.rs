//! The history tables are append-only: the database itself (triggers) rejects
//! UPDATE and DELETE, proven with raw SQL on a separate connection.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    Classification, CreateClassificationRequest, CreateDoelgroepAssignmentRequest,
    CreateDoelgroepRequest, CreateRegistrationRequest, Doelgroep, DoelgroepAssignment, Fase,
    Registration, RegistrationKind, classification,
};
use common::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

both_databases!(history_tables_reject_update_and_delete);

const HISTORY_TABLES: &[&str] = &[
    "client_versions",
    "registration_versions",
    "classification_versions",
    "doelgroep_versions",
    "doelgroep_assignment_versions",
    "doelgroep_assignment_codes",
];

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("one row");
    row.try_get_by_index::<i64>(0)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A fingerprint of a table's content that an UPDATE or DELETE would change.
/// Only `version` is used: every history table has it (the code rows of an
/// assignment have no `recorded_at` of their own), and reading it first
/// proves that the UPDATE statements below are valid SQL, so their failure
/// can only come from the append-only guard.
async fn fingerprint(db: &DatabaseConnection, table: &str) -> (i64, i64) {
    let count = scalar(db, &format!("SELECT COUNT(*) FROM {table}")).await;
    let versions = scalar(
        db,
        &format!("SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM {table}"),
    )
    .await;
    (count, versions)
}

async fn history_tables_reject_update_and_delete(app: TestApp) {
    // Put at least one row into every history table, through the API.
    let mut fb = app.beheerder();
    fb.doelgroepen
        .create_doelgroep(CreateDoelgroepRequest {
            parent: GEMEENTE.into(),
            doelgroep: Some(Doelgroep {
                code: "JONGEREN".into(),
                display_name: "Jongeren".into(),
                ..Default::default()
            }),
            change: None,
        })
        .await
        .expect("CreateDoelgroep");
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(700))).await;
    anna.registrations
        .create_registration(CreateRegistrationRequest {
            parent: client.name.clone(),
            registration: Some(Registration {
                kind: RegistrationKind::Bijstand as i32,
                start_date: Some(date(2024, 1, 1)),
                ..Default::default()
            }),
            change: None,
        })
        .await
        .expect("CreateRegistration");
    anna.classifications
        .create_classification(CreateClassificationRequest {
            parent: client.name.clone(),
            classification: Some(Classification {
                value: Some(classification::Value::Fase(Fase::Fase2 as i32)),
                valid_from: Some(date(2025, 1, 1)),
                ..Default::default()
            }),
            change: None,
        })
        .await
        .expect("CreateClassification");
    anna.doelgroepen
        .create_doelgroep_assignment(CreateDoelgroepAssignmentRequest {
            parent: client.name.clone(),
            assignment: Some(DoelgroepAssignment {
                codes: vec!["JONGEREN".into()],
                valid_from: Some(date(2025, 1, 1)),
                ..Default::default()
            }),
            change: None,
        })
        .await
        .expect("CreateDoelgroepAssignment");

    let db = raw_connection(&app.admin_database_url).await;
    for table in HISTORY_TABLES {
        let before = fingerprint(&db, table).await;
        assert!(before.0 > 0, "{table} should hold rows by now");

        let update = db
            .execute_unprepared(&format!("UPDATE {table} SET version = version + 1000"))
            .await;
        assert!(
            update.is_err(),
            "UPDATE on {table} was accepted ({:?}): the table must be append-only",
            update.map(|r| r.rows_affected())
        );
        let update_where = db
            .execute_unprepared(&format!(
                "UPDATE {table} SET version = version + 1 WHERE version = 1"
            ))
            .await;
        assert!(
            update_where.is_err(),
            "UPDATE … WHERE on {table} was accepted"
        );

        let delete = db.execute_unprepared(&format!("DELETE FROM {table}")).await;
        assert!(
            delete.is_err(),
            "DELETE on {table} was accepted ({:?}): the table must be append-only",
            delete.map(|r| r.rows_affected())
        );
        let delete_where = db
            .execute_unprepared(&format!("DELETE FROM {table} WHERE version = 1"))
            .await;
        assert!(
            delete_where.is_err(),
            "DELETE … WHERE on {table} was accepted"
        );

        if app.backend == Backend::Postgres {
            // TRUNCATE bypasses row triggers; it must be refused as well.
            let truncate = db
                .execute_unprepared(&format!("TRUNCATE {table} CASCADE"))
                .await;
            assert!(truncate.is_err(), "TRUNCATE on {table} was accepted");
        }

        assert_eq!(
            fingerprint(&db, table).await,
            before,
            "{table} changed although every UPDATE/DELETE failed"
        );
    }

    // Appending still works through the API afterwards.
    anna.clients
        .update_client(clientvolg::proto::clientvolg::v1::UpdateClientRequest {
            client: Some(clientvolg::proto::clientvolg::v1::Client {
                name: client.name.clone(),
                notes: "na de poging tot wijzigen".into(),
                ..Default::default()
            }),
            update_mask: mask(&["notes"]),
            version: 1,
            change: Some(reason("gesprek")),
        })
        .await
        .expect("UpdateClient after the raw SQL");
    let after = fingerprint(&db, "client_versions").await;
    assert_eq!(after.0, 2);
    let _ = db.close().await;
    app.cleanup().await;
}
