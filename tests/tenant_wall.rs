//! PostgreSQL's row-level security, the second wall between gemeenten:
//! connected as the service's own (ordinary) role, a query that does not set
//! the tenant sees no rows, a query for one gemeente sees none of another's,
//! and a row for another gemeente cannot be written. SQLite has no such
//! policies, so these tests run on PostgreSQL only (and are skipped loudly
//! where it is unreachable, like every PostgreSQL test).

#[macro_use]
mod common;

use common::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};

/// Tables that hold no gemeente's data: the migration bookkeeping and the
/// transaction clock.
const SHARED_TABLES: &[&str] = &["seaql_migrations", "transaction_clock"];

macro_rules! postgres_only {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(app) = spawn_app(Backend::Postgres, concat!(module_path!(), "::", stringify!($name))).await
                else {
                    return;
                };
                self::tests::$name(app).await;
            }
        )*
    };
}

postgres_only!(
    every_data_table_has_forced_row_level_security,
    without_a_tenant_nothing_is_visible,
    a_tenant_sees_only_its_own_rows_and_writes_only_its_own,
);

async fn count(db: &impl ConnectionTrait, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("one row")
        .try_get_by_index::<i64>(0)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn tables(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a name"))
        .collect()
}

/// Data in both gemeenten, through the API: a client of 0363 with an
/// episode, a doelgroep and a trajectory in eigen beheer (with lines), and a
/// client of 0599.
async fn data_in_two_gemeenten(app: &TestApp) {
    app.beheerder().create_doelgroep("JONGEREN").await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(900).await;
    anna.assign_doelgroepen(&client.name, &["JONGEREN"], date(2024, 1, 1))
        .await;
    anna.create_trajectory(sample_trajectory(
        &client.name,
        "",
        date(2025, 2, 1),
        vec![priced_line("INTAKE", 1, 0)],
    ))
    .await;
    app.carla()
        .clients
        .create_client(clientvolg::proto::clientvolg::v1::CreateClientRequest {
            parent: GEMEENTE_0599.into(),
            client: Some(sample_client(&bsn(901))),
            change: None,
        })
        .await
        .expect("CreateClient in 0599");
}

mod tests {
    use super::*;

    /// A new table must get a policy before this passes.
    pub async fn every_data_table_has_forced_row_level_security(app: TestApp) {
        let admin = raw_connection(&app.admin_database_url).await;
        let all = tables(
            &admin,
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1",
        )
        .await;
        let walled = tables(
            &admin,
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' \
               AND c.relrowsecurity AND c.relforcerowsecurity \
               AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) ORDER BY 1",
        )
        .await;
        let expected: Vec<String> = all
            .into_iter()
            .filter(|t| !SHARED_TABLES.contains(&t.as_str()))
            .collect();
        assert!(
            expected.len() >= 14,
            "the schema has its tables: {expected:?}"
        );
        assert_eq!(walled, expected);

        // The service's role is an ordinary one, or the wall would not hold.
        let service = raw_connection(&app.database_url).await;
        assert_eq!(
            count(
                &service,
                "SELECT COUNT(*) FROM pg_roles WHERE rolname = current_user \
                 AND NOT rolsuper AND NOT rolbypassrls"
            )
            .await,
            1
        );
        app.cleanup().await;
    }

    pub async fn without_a_tenant_nothing_is_visible(app: TestApp) {
        data_in_two_gemeenten(&app).await;
        let admin = raw_connection(&app.admin_database_url).await;
        let service = raw_connection(&app.database_url).await;
        let data_tables = tables(
            &admin,
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity ORDER BY 1",
        )
        .await;
        for table in &data_tables {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            assert_eq!(count(&service, &sql).await, 0, "{table} without a tenant");
        }
        for table in [
            "client_versions",
            "registration_versions",
            "doelgroep_assignment_versions",
            "doelgroep_assignment_codes",
            "trajectory_versions",
            "trajectory_lines",
            "processing_log",
        ] {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            assert!(count(&admin, &sql).await > 0, "{table} holds rows");
        }
        // Neither an UPDATE nor a DELETE reaches a row it cannot see.
        let deleted = service
            .execute_unprepared("DELETE FROM client_versions")
            .await
            .expect("a DELETE of no visible rows");
        assert_eq!(deleted.rows_affected(), 0);
        app.cleanup().await;
    }

    pub async fn a_tenant_sees_only_its_own_rows_and_writes_only_its_own(app: TestApp) {
        data_in_two_gemeenten(&app).await;
        let admin = raw_connection(&app.admin_database_url).await;
        let service = raw_connection(&app.database_url).await;

        let txn = service.begin().await.unwrap();
        txn.execute_unprepared("SET LOCAL clientvolg.gemeente = '0599'")
            .await
            .unwrap();
        assert_eq!(
            count(&txn, "SELECT COUNT(*) FROM client_versions").await,
            count(
                &admin,
                "SELECT COUNT(*) FROM client_versions WHERE gemeente = '0599'"
            )
            .await
        );
        assert_eq!(
            count(
                &txn,
                "SELECT COUNT(*) FROM client_versions WHERE gemeente = '0363'"
            )
            .await,
            0,
            "asking for another gemeente by name finds nothing"
        );
        assert_eq!(
            count(&txn, "SELECT COUNT(*) FROM trajectory_lines").await,
            0
        );
        let foreign = txn
            .execute_unprepared(
                "INSERT INTO progress_report_submissions (gemeente, provider_kvk, idempotency_key, \
                 report_id, report_version, content_hash, recorded_at) VALUES ('0363', '12345678', \
                 'k', '00000000-0000-0000-0000-000000000001', 1, 'x', 1)",
            )
            .await;
        let message = foreign
            .expect_err("a row for another gemeente is refused")
            .to_string();
        assert!(message.contains("row-level security"), "{message}");
        txn.rollback().await.unwrap();

        // A setting that is not a gemeente's four characters matches no
        // row, though it begins with one's code.
        let txn = service.begin().await.unwrap();
        txn.execute_unprepared("SET LOCAL clientvolg.gemeente = '03630'")
            .await
            .unwrap();
        assert_eq!(
            count(&txn, "SELECT COUNT(*) FROM client_versions").await,
            0,
            "a longer setting is no tenant"
        );
        txn.rollback().await.unwrap();

        // The setting ends with the transaction: the next one sees nothing.
        assert_eq!(
            count(&service, "SELECT COUNT(*) FROM client_versions").await,
            0
        );
        app.cleanup().await;
    }
}
