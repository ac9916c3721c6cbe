//! A casemanager's caseload: the clients assigned to them by fase on a day,
//! their trajectories running that day, and the progress reports overdue.

use super::sql::{a, col, grouped, numbers, read_transaction, snapshots, with};
use super::{Row, Table, Value};
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
use crate::store::progress_reports::OverdueFilter;
use crate::store::{Store, StoreResult};
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query};

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
        let txn = read_transaction(self, gemeente).await?;
        let db = &txn;
        let fase_on_date = Query::select()
            .column((a("fa"), a("value")))
            .from(a("fa"))
            .and_where(col("fa", "client_id").equals((a("cl"), a("id"))))
            .and_where(col("fa", "valid_from").lte(on_date))
            .order_by((a("fa"), a("valid_from")), Order::Desc)
            .limit(1)
            .to_owned();
        let assigned = Query::select()
            .column((a("cl"), a("id")))
            .expr_as(Expr::from(fase_on_date), a("fase"))
            .from(a("cl"))
            .and_where(col("cl", "casemanager").eq(casemanager))
            .to_owned();
        let by_fase = Query::select()
            .column((a("x"), a("fase")))
            .expr(col("x", "id").count())
            .from_subquery(assigned, a("x"))
            .group_by_col((a("x"), a("fase")))
            .to_owned();
        let counts: std::collections::HashMap<Option<String>, i64> =
            grouped(db, &with(snapshots(gemeente, horizon), by_fase))
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
        let running = Query::select()
            .expr(col("tr", "id").count())
            .from(a("tr"))
            .and_where(col("tr", "casemanager").eq(casemanager))
            .and_where(col("tr", "start_date").lte(on_date))
            .and_where(
                col("tr", "end_date")
                    .is_null()
                    .or(col("tr", "end_date").gt(on_date)),
            )
            .to_owned();
        let running = numbers(db, &with(snapshots(gemeente, horizon), running), 1).await?[0];
        txn.rollback().await?;
        let filter = OverdueFilter {
            casemanager: Some(casemanager.to_owned()),
            ..Default::default()
        };
        let overdue = self.overdue_reports(gemeente, &filter, on_date).await?;
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
