//! The tables of latest versions (`trajectory_current` and the others,
//! migration m20261125_000007) always hold what the history says is the
//! latest version of each fact, with each trajectory version's cost: after
//! demo data written through the store (one transaction per fact, with
//! corrections recorded later) and in bulk (thousands of rows per
//! statement), on SQLite and PostgreSQL.

#[macro_use]
mod common;

use clientvolg::domain::gemeente::GemeenteCode;
use clientvolg::store::Store;
use common::*;
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, Statement, TransactionTrait,
};

both_databases!(current_tables_hold_the_latest_versions);

/// (history table, current table, the columns they share besides the
/// spine).
const TABLES: [(&str, &str, &str); 5] = [
    (
        "trajectory_versions",
        "trajectory_current",
        "client_id, provider_id, contract_id, casemanager, referral_date, start_date, end_date, end_reason",
    ),
    (
        "registration_versions",
        "registration_current",
        "client_id, kind, start_date, end_date",
    ),
    (
        "client_versions",
        "client_current",
        "birth_date, casemanager",
    ),
    (
        "classification_versions",
        "classification_current",
        "client_id, scheme, value, valid_from",
    ),
    (
        "doelgroep_assignment_versions",
        "doelgroep_assignment_current",
        "client_id, valid_from",
    ),
];

async fn count(db: &DatabaseConnection, sql: String) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.clone(),
    ))
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
    .expect("a row")
    .try_get_by_index::<i64>(0)
    .expect("a count")
}

/// The latest version of every fact of `history`, from the history alone,
/// in the current table's columns.
fn latest_in_history(history: &str, columns: &str) -> String {
    let mut select = format!(
        "h.id, h.version, h.gemeente, h.recorded_at, h.{}",
        columns.replace(", ", ", h.")
    );
    if history == "trajectory_versions" {
        select.push_str(
            ", COALESCE((SELECT CAST(SUM(CAST(l.quantity AS BIGINT) * l.unit_price_cents) AS BIGINT) \
             FROM trajectory_lines l WHERE l.trajectory_id = h.id AND l.version = h.version), 0)",
        );
    }
    format!(
        "SELECT {select} FROM {history} h WHERE NOT EXISTS \
         (SELECT 1 FROM {history} n WHERE n.id = h.id AND n.version > h.version)"
    )
}

fn current_rows(current: &str, columns: &str) -> String {
    let cost = if current == "trajectory_current" {
        ", cost_cents"
    } else {
        ""
    };
    format!("SELECT id, version, gemeente, recorded_at, {columns}{cost} FROM {current}")
}

/// The cost in `trajectory_current` of the trajectory in table `picked`.
async fn picked_cost(txn: &DatabaseTransaction) -> i64 {
    txn.query_one_raw(Statement::from_string(
        txn.get_database_backend(),
        "SELECT c.cost_cents FROM trajectory_current c JOIN picked p ON p.id = c.id",
    ))
    .await
    .expect("cost")
    .expect("a row")
    .try_get_by_index::<i64>(0)
    .expect("a number")
}

/// The store inserts a version's lines before the version; here, as a
/// hand-typed change might, a trajectory's next version goes in first and
/// its lines (twice the quantities) after it. Returns the trajectory's cost
/// in `trajectory_current` before and after.
async fn new_version_then_its_lines(admin: &DatabaseConnection) -> (i64, i64) {
    const VERSION_COLUMNS: &str = "gemeente, client_id, contract_id, provider_id, kind, \
        casemanager, referral_date, start_date, end_date, end_reason, job_contract_kind, \
        job_hours_per_week, job_title, employer_name, target_group_exception, \
        progress_report_id, actor, actor_role, source, reason";
    let txn = admin.begin().await.expect("a transaction");
    let run = |sql: String| {
        let txn = &txn;
        async move {
            txn.execute_unprepared(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    };
    run(
        "CREATE TEMPORARY TABLE picked AS SELECT id, version FROM trajectory_current \
         WHERE gemeente = '0363' AND cost_cents > 0 ORDER BY id LIMIT 1"
            .into(),
    )
    .await;
    let before = picked_cost(&txn).await;
    run(format!(
        "INSERT INTO trajectory_versions (id, version, recorded_at, {VERSION_COLUMNS}) \
         SELECT t.id, t.version + 1, t.recorded_at + 1, {VERSION_COLUMNS} \
         FROM trajectory_versions t JOIN picked p ON p.id = t.id AND p.version = t.version"
    ))
    .await;
    run(
        "INSERT INTO trajectory_lines (trajectory_id, version, line_no, gemeente, product_code, \
         quantity, unit, unit_price_cents) \
         SELECT l.trajectory_id, l.version + 1, l.line_no, l.gemeente, l.product_code, \
         2 * l.quantity, l.unit, l.unit_price_cents \
         FROM trajectory_lines l JOIN picked p ON p.id = l.trajectory_id \
         AND p.version = l.version"
            .into(),
    )
    .await;
    let after = picked_cost(&txn).await;
    run("DROP TABLE picked".into()).await;
    txn.commit().await.expect("commit");
    (before, after)
}

async fn current_tables_hold_the_latest_versions(app: TestApp) {
    let store = Store::open(&app.database_url)
        .await
        .expect("open the store");
    let through_store = GemeenteCode::parse("0363").expect("a gemeente");
    let in_bulk = GemeenteCode::parse("0599").expect("a gemeente");
    let generated = clientvolg::demo::generate(&store, &through_store, 120, 5)
        .await
        .expect("demo data through the store");
    clientvolg::demo::generate_bulk(&store, &in_bulk, 120, 5)
        .await
        .expect("demo data in bulk");
    assert!(generated.corrections > 0, "the data has later versions");

    // Past the service's row-level security: every gemeente at once.
    let admin = Database::connect(&app.admin_database_url)
        .await
        .expect("connect as administrator");
    let (before, doubled) = new_version_then_its_lines(&admin).await;
    assert_eq!(
        doubled,
        2 * before,
        "lines inserted after their version count"
    );
    for (history, current, columns) in TABLES {
        let latest = latest_in_history(history, columns);
        let rows = current_rows(current, columns);
        let facts = count(&admin, format!("SELECT COUNT(DISTINCT id) FROM {history}")).await;
        assert!(facts > 0, "{history} holds rows");
        assert_eq!(
            count(&admin, format!("SELECT COUNT(*) FROM {current}")).await,
            facts,
            "{current}: one row per fact"
        );
        assert_eq!(
            count(
                &admin,
                format!("SELECT COUNT(*) FROM ({rows} EXCEPT {latest}) x")
            )
            .await,
            0,
            "{current} holds only latest versions"
        );
        assert_eq!(
            count(
                &admin,
                format!("SELECT COUNT(*) FROM ({latest} EXCEPT {rows}) x")
            )
            .await,
            0,
            "{current} holds every latest version"
        );
    }
    for gemeente in ["0363", "0599"] {
        assert!(
            count(
                &admin,
                format!(
                    "SELECT COUNT(*) FROM trajectory_current \
                     WHERE gemeente = '{gemeente}' AND version > 1"
                )
            )
            .await
                > 0,
            "{gemeente}: trajectories with later versions"
        );
    }
    assert!(
        count(
            &admin,
            "SELECT COUNT(*) FROM trajectory_current WHERE cost_cents > 0".into()
        )
        .await
            > 0,
        "trajectories carry the cost of their lines"
    );
    app.cleanup().await;
}
