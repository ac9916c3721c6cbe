//! The in- and outflow report counts a gemeente's clients in ranges of ids
//! on several connections at once (docs/reports.md): however many ranges,
//! the report is the same, now and as of an instant before corrections of
//! an episode and a trajectory (which make the counting read the history
//! beside the tables of latest versions and the current timelines). On
//! SQLite and PostgreSQL.

#[macro_use]
mod common;

use chrono::NaiveDate;
use clientvolg::domain::dates::DateSpan;
use clientvolg::domain::gemeente::GemeenteCode;
use clientvolg::domain::history::{Actor, Change, RecordedAt, Source};
use clientvolg::reports::{Edges, InflowOutflowReport, ReportRequest};
use clientvolg::store::Store;
use clientvolg::store::trajectories::{Correction, TrajectoryChange};
use common::*;
use sea_orm::{ConnectionTrait, Database, Statement};
use std::num::NonZeroUsize;
use uuid::Uuid;

both_databases!(any_number_of_ranges_gives_the_same_report);

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn report(store: &Store, connections: usize, horizon: RecordedAt) -> InflowOutflowReport {
    let store = store
        .clone()
        .with_report_parallelism(NonZeroUsize::new(connections).unwrap());
    let request = ReportRequest {
        gemeente: GemeenteCode::parse("0363").unwrap(),
        period_start: date(2025, 1, 1),
        period_end: date(2025, 12, 31),
        horizon,
        age_edges: Edges::age_default(),
        duration_edges: Edges::duration_default(),
    };
    store
        .inflow_outflow_report(&request)
        .await
        .expect("the report")
}

async fn any_number_of_ranges_gives_the_same_report(app: TestApp) {
    let store = Store::open(&app.database_url)
        .await
        .expect("open the store");
    let gemeente = GemeenteCode::parse("0363").unwrap();
    clientvolg::demo::generate(&store, &gemeente, 150, 23)
        .await
        .expect("demo data");
    let before = store.horizon(None).await.expect("the clock");

    // Corrections after `before`: an episode ended, a trajectory's referral
    // moved (the first version of each table's facts in id order).
    let admin = Database::connect(&app.admin_database_url)
        .await
        .expect("connect as administrator");
    let first = |sql: &str| {
        let sql = sql.to_owned();
        let admin = &admin;
        async move {
            let row = admin
                .query_one_raw(Statement::from_string(admin.get_database_backend(), sql))
                .await
                .expect("a query")
                .expect("a row");
            (
                row.try_get_by_index::<Uuid>(0).unwrap(),
                row.try_get_by_index::<Uuid>(1).unwrap(),
                row.try_get_by_index::<i64>(2).unwrap(),
            )
        }
    };
    let change = Change {
        actor: Actor {
            subject: "cm-test".into(),
            role: "casemanager",
        },
        source: Source::Casemanager,
        reason: Some("correctie".into()),
    };
    let (client, id, version) = first(
        "SELECT client_id, id, version FROM registration_current \
         WHERE gemeente = '0363' AND end_date IS NULL ORDER BY id LIMIT 1",
    )
    .await;
    store
        .update_registration(&gemeente, client, id, version, &change, |mut episode| {
            episode.span = DateSpan::new(episode.span.start, Some(date(2025, 6, 30)))
                .expect("an end after the start");
            Ok(episode)
        })
        .await
        .expect("end an episode");
    let (_, id, version) = first(
        "SELECT client_id, id, version FROM trajectory_current \
         WHERE gemeente = '0363' AND start_date IS NULL AND end_date IS NULL \
         AND referral_date >= '2025-02-01' ORDER BY id LIMIT 1",
    )
    .await;
    store
        .change_trajectory(
            &gemeente,
            id,
            version,
            &change,
            TrajectoryChange::Correct(Correction {
                referral_date: Some(date(2025, 1, 15)),
                ..Default::default()
            }),
        )
        .await
        .expect("move a referral");
    let now = store.horizon(None).await.expect("the clock");

    for horizon in [before, now] {
        let whole = report(&store, 1, horizon).await;
        for connections in [2, 3, 7] {
            assert_eq!(
                report(&store, connections, horizon).await.tables,
                whole.tables,
                "{connections} ranges as of {horizon:?}"
            );
        }
    }
    assert_ne!(
        report(&store, 3, before).await.tables,
        report(&store, 3, now).await.tables,
        "the corrections change the report"
    );
    app.cleanup().await;
}
