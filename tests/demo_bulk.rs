//! The two writers of demo data record the same facts: the same seed
//! written through the store (one transaction per fact) and in bulk (many
//! rows per statement and transaction) gives the same version rows per
//! table and version number and the same in- and outflow report, on SQLite
//! and PostgreSQL.

#[macro_use]
mod common;

use clientvolg::domain::gemeente::GemeenteCode;
use clientvolg::reports::{Edges, ReportRequest, Table};
use clientvolg::store::Store;
use common::*;
use sea_orm::{ConnectionTrait, Statement};

both_databases!(bulk_and_store_paths_give_the_same_report);

const CLIENTS: u64 = 150;
const SEED: u64 = 11;

fn date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a calendar date")
}

/// Provider and contract rows are labelled by their ids, which differ
/// between the two gemeenten; their names and order (ids are time-ordered,
/// created in the same order) do not.
fn without_ids(mut tables: Vec<Table>) -> Vec<Table> {
    for table in &mut tables {
        for row in &mut table.rows {
            if let Some(rest) = row.label.strip_prefix("providers/") {
                row.label = rest.split_once(' ').map_or("", |(_, name)| name).to_owned();
            } else if row.label.starts_with("contracts/") {
                row.label = "contract".to_owned();
            }
        }
    }
    tables
}

/// Rows per version number in every table the generator writes to.
async fn shape(store: &Store, gemeente: &str) -> Vec<(String, i64, i64)> {
    let db = store.connection();
    let backend = db.get_database_backend();
    let mut shape = Vec::new();
    for table in [
        "client_versions",
        "registration_versions",
        "classification_versions",
        "doelgroep_assignment_versions",
        "trajectory_versions",
    ] {
        let sql = format!(
            "SELECT version, CAST(COUNT(*) AS BIGINT) FROM {table} \
             WHERE gemeente = '{gemeente}' GROUP BY version ORDER BY version"
        );
        for row in db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .expect("count versions")
        {
            shape.push((
                table.to_owned(),
                row.try_get_by_index::<i64>(0).expect("version"),
                row.try_get_by_index::<i64>(1).expect("count"),
            ));
        }
    }
    let sql = format!(
        "SELECT l.version, CAST(COUNT(*) AS BIGINT) FROM trajectory_lines l \
         JOIN trajectory_versions t ON t.id = l.trajectory_id AND t.version = l.version \
         WHERE t.gemeente = '{gemeente}' GROUP BY l.version ORDER BY l.version"
    );
    for row in db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("count lines")
    {
        shape.push((
            "trajectory_lines".to_owned(),
            row.try_get_by_index::<i64>(0).expect("version"),
            row.try_get_by_index::<i64>(1).expect("count"),
        ));
    }
    shape
}

async fn bulk_and_store_paths_give_the_same_report(app: TestApp) {
    let store = Store::open(&app.database_url)
        .await
        .expect("open the store");
    let through_store = GemeenteCode::parse("0363").expect("a gemeente");
    let in_bulk = GemeenteCode::parse("0599").expect("a gemeente");
    let generated = clientvolg::demo::generate(&store, &through_store, CLIENTS, SEED)
        .await
        .expect("demo data through the store");
    let bulk = clientvolg::demo::generate_bulk(&store, &in_bulk, CLIENTS, SEED)
        .await
        .expect("demo data in bulk");
    assert_eq!(generated, bulk);
    assert!(generated.trajectories > 0 && generated.corrections > 0);
    assert_eq!(shape(&store, "0363").await, shape(&store, "0599").await);

    let horizon = store.horizon(None).await.expect("horizon");
    let report = |gemeente: &GemeenteCode| ReportRequest {
        gemeente: gemeente.clone(),
        period_start: date(2025, 1, 1),
        period_end: date(2025, 12, 31),
        horizon,
        age_edges: Edges::age_default(),
        duration_edges: Edges::duration_default(),
    };
    let expected = store
        .inflow_outflow_report(&report(&through_store))
        .await
        .expect("report on the store path's data");
    let actual = store
        .inflow_outflow_report(&report(&in_bulk))
        .await
        .expect("report on the bulk path's data");
    assert_eq!(without_ids(actual.tables), without_ids(expected.tables));

    let refused = clientvolg::demo::generate_bulk(&store, &in_bulk, 1, SEED).await;
    assert!(refused.is_err(), "bulk data into a gemeente with clients");
    app.cleanup().await;
}
