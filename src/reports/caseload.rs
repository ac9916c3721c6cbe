//! A casemanager's caseload: the clients assigned to them by fase on a day,
//! their trajectories running that day, and the progress reports overdue.
//! Read, like the in- and outflow report, from the tables of latest versions
//! and the clients' timelines, with the history only for what changed after
//! the report's transaction time, and through indexes on the casemanager
//! (migration 000011): a casemanager's few hundred clients, not the
//! gemeente's history.

use super::sql::{
    a, changed_after, col, cte, grouped, holds_on, latest_versions, numbers, snapshot_transaction,
    timeline_generations, with,
};
use super::{Row, Table, Value};
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
use crate::store::progress_reports::OverdueFilter;
use crate::store::{Store, StoreResult};
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Query};

#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseloadReport {
    pub casemanager: String,
    pub on_date: NaiveDate,
    pub as_of: chrono::DateTime<chrono::Utc>,
    pub tables: Vec<Table>,
}

const FASES: [&str; 6] = [
    "FASE_1",
    "FASE_2",
    "FASE_3",
    "FASE_4",
    "ONTHEFFING",
    "NIET_INGEDEELD",
];

impl Store {
    pub async fn caseload_report(
        &self,
        gemeente: &GemeenteCode,
        casemanager: &str,
        on_date: NaiveDate,
        horizon: RecordedAt,
    ) -> StoreResult<CaseloadReport> {
        // Several statements read the tables of latest versions as of one
        // state of the database, which tells whether they need the history.
        let txn = snapshot_transaction(self, gemeente).await?;
        let db = &txn;
        let at = (gemeente, horizon);
        let assigned = latest_versions(
            ("client_versions", "client_current"),
            "c",
            &["id"],
            at,
            vec![col("c", "casemanager").eq(casemanager)],
            changed_after(db, at, "client_current", "recorded_at").await?,
        );
        // The fase on the day is that of the client's timeline segment
        // holding it.
        let segments = timeline_generations(
            at,
            &["fase"],
            vec![holds_on("s", Expr::val(on_date))],
            changed_after(db, at, migration::client_timeline::TABLE, "superseded_at").await?,
        );
        let by_fase = Query::select()
            .column((a("s"), a("fase")))
            .expr(col("c", "id").count())
            .from(a("c"))
            .join(
                JoinType::LeftJoin,
                a("s"),
                col("s", "client_id").equals((a("c"), a("id"))),
            )
            .group_by_col((a("s"), a("fase")))
            .to_owned();
        let counts: std::collections::HashMap<Option<String>, i64> = grouped(
            db,
            &with(vec![cte("c", assigned), cte("s", segments)], by_fase),
        )
        .await?
        .into_iter()
        .collect();
        let rows = FASES
            .iter()
            .map(|fase| {
                let key = (*fase != "NIET_INGEDEELD").then(|| fase.to_string());
                Row {
                    label: fase.to_string(),
                    values: vec![Value::Count(counts.get(&key).copied().unwrap_or(0))],
                }
            })
            .collect();
        let running = latest_versions(
            ("trajectory_versions", "trajectory_current"),
            "t",
            &["id"],
            at,
            vec![
                col("t", "casemanager").eq(casemanager),
                col("t", "start_date").lte(on_date),
                col("t", "end_date")
                    .is_null()
                    .or(col("t", "end_date").gt(on_date)),
            ],
            changed_after(db, at, "trajectory_current", "recorded_at").await?,
        );
        let count = Query::select()
            .expr(col("r", "id").count())
            .from(a("r"))
            .to_owned();
        let running = numbers(db, &with(vec![cte("r", running)], count), 1).await?[0];
        txn.rollback().await?;
        let filter = OverdueFilter {
            casemanager: Some(casemanager.to_owned()),
            ..Default::default()
        };
        let overdue = self
            .overdue_reports(gemeente, &filter, on_date, horizon)
            .await?;
        let missing = overdue.iter().filter(|o| o.received_at.is_none()).count() as i64;
        Ok(CaseloadReport {
            casemanager: casemanager.to_owned(),
            on_date,
            as_of: horizon.to_datetime(),
            tables: vec![
                Table {
                    name: "clients_per_fase",
                    title: "Cliënten per fase",
                    columns: vec!["clients"],
                    rows,
                },
                Table {
                    name: "trajecten",
                    title: "Trajecten en kwartaalrapportages",
                    columns: vec!["lopend", "rapportages_ontbrekend", "rapportages_te_laat"],
                    rows: vec![Row {
                        label: "totaal".into(),
                        values: vec![
                            Value::Count(running),
                            Value::Count(missing),
                            Value::Count(overdue.len() as i64 - missing),
                        ],
                    }],
                },
            ],
        })
    }
}
