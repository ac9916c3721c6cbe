//! Keeps the processing log (verwerkingenlog) and answers the auditor's
//! questions of it: by client, by actor, by period. The log is not history
//! of a resource, so it does not take the transaction clock: logging a read
//! must not serialise reads behind writers. Its times are wall-clock.

use super::entities::{processing_log, processing_log_clients};
use super::{Store, StoreError, StoreResult};
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
use crate::domain::processing::{Processing, ProcessingRecord, Purpose, TraceContext};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Client rows per INSERT statement; keeps SQLite under its bound-variable
/// limit when one call concerned thousands of clients.
const CLIENT_ROWS_PER_INSERT: usize = 1_000;

/// Which records an auditor asks for; every part is optional.
#[derive(Debug, Clone, Default)]
pub struct ProcessingLogFilter {
    pub client: Option<Uuid>,
    pub subject: Option<String>,
    /// Calls that started at or after this moment.
    pub from: Option<DateTime<Utc>>,
    /// Calls that started before this moment.
    pub to: Option<DateTime<Utc>>,
}

/// One page of a listing. A listing reads the calls that started before it
/// did (`until`), oldest first; `after` is the record the previous page
/// ended with. So pages never shift, and paging through the log ends even
/// though each page read is itself logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPageRequest {
    pub until: i64,
    pub after: Option<(i64, Uuid)>,
    pub size: u64,
}

#[derive(Debug)]
pub struct LogPage {
    pub records: Vec<ProcessingRecord>,
    pub next: Option<LogPageRequest>,
}

fn micros(at: DateTime<Utc>) -> i64 {
    RecordedAt::from_datetime(at).micros()
}

impl Store {
    /// Appends one record and the clients it concerned, all or nothing.
    pub async fn append_processing_record(&self, record: &ProcessingRecord) -> StoreResult<()> {
        let started_at = micros(record.started_at);
        let row = processing_log::ActiveModel::from(processing_log::Model {
            id: record.id,
            gemeente: record.gemeente.as_str().to_owned(),
            trace_id: record.trace.trace_id.clone(),
            span_id: record.span_id.clone(),
            parent_span_id: record.trace.parent_span_id.clone(),
            started_at,
            ended_at: micros(record.ended_at),
            rpc: record.rpc.clone(),
            processing: record.processing.as_str().to_owned(),
            subject: record.subject.clone(),
            role: record.role.clone(),
            organisation: record.organisation.clone(),
            purpose: record.purpose.as_ref().map(|p| p.as_str().to_owned()),
            outcome: record.outcome.clone(),
        });
        let txn = self.db.begin().await?;
        super::set_tenant(&txn, &record.gemeente).await?;
        processing_log::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        for chunk in record.clients.chunks(CLIENT_ROWS_PER_INSERT) {
            let rows = chunk.iter().map(|client_id| {
                processing_log_clients::ActiveModel::from(processing_log_clients::Model {
                    log_id: record.id,
                    client_id: *client_id,
                    gemeente: record.gemeente.as_str().to_owned(),
                    started_at,
                })
            });
            processing_log_clients::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// The gemeente's records matching `filter`: one page of a listing.
    pub async fn processing_records(
        &self,
        gemeente: &GemeenteCode,
        filter: &ProcessingLogFilter,
        page: LogPageRequest,
    ) -> StoreResult<LogPage> {
        use processing_log::Column as C;
        let txn = super::begin_read(&self.db, gemeente).await?;
        let mut query = processing_log::Entity::find()
            .filter(C::Gemeente.eq(gemeente.as_str()))
            .filter(C::StartedAt.lt(page.until));
        if let Some(client) = filter.client {
            query = query.filter(
                C::Id.in_subquery(
                    Query::select()
                        .column(processing_log_clients::Column::LogId)
                        .from(processing_log_clients::Entity)
                        .and_where(
                            Expr::col(processing_log_clients::Column::Gemeente)
                                .eq(gemeente.as_str()),
                        )
                        .and_where(Expr::col(processing_log_clients::Column::ClientId).eq(client))
                        .to_owned(),
                ),
            );
        }
        if let Some(subject) = &filter.subject {
            query = query.filter(C::Subject.eq(subject.as_str()));
        }
        if let Some(from) = filter.from {
            query = query.filter(C::StartedAt.gte(micros(from)));
        }
        if let Some(to) = filter.to {
            query = query.filter(C::StartedAt.lt(micros(to)));
        }
        if let Some((started_at, id)) = page.after {
            query = query.filter(
                Condition::any().add(C::StartedAt.gt(started_at)).add(
                    Condition::all()
                        .add(C::StartedAt.eq(started_at))
                        .add(C::Id.gt(id)),
                ),
            );
        }
        let mut rows = query
            .order_by_asc(C::StartedAt)
            .order_by_asc(C::Id)
            .limit(page.size + 1)
            .all(&txn)
            .await?;
        let next = (rows.len() as u64 > page.size).then(|| {
            rows.truncate(page.size as usize);
            let last = rows.last().expect("a page of at least one record");
            LogPageRequest {
                after: Some((last.started_at, last.id)),
                ..page
            }
        });
        let mut clients: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        if !rows.is_empty() {
            let links = processing_log_clients::Entity::find()
                .filter(processing_log_clients::Column::LogId.is_in(rows.iter().map(|row| row.id)))
                .order_by_asc(processing_log_clients::Column::ClientId)
                .all(&txn)
                .await?;
            for link in links {
                clients.entry(link.log_id).or_default().push(link.client_id);
            }
        }
        let records = rows
            .into_iter()
            .map(|row| {
                let concerned = clients.remove(&row.id).unwrap_or_default();
                record_from_row(row, concerned)
            })
            .collect::<StoreResult<_>>()?;
        txn.commit().await?;
        Ok(LogPage { records, next })
    }
}

fn record_from_row(
    row: processing_log::Model,
    clients: Vec<Uuid>,
) -> StoreResult<ProcessingRecord> {
    let time = |column: &'static str, us: i64| {
        DateTime::from_timestamp_micros(us)
            .ok_or_else(|| StoreError::corrupt(column, &us.to_string()))
    };
    Ok(ProcessingRecord {
        id: row.id,
        gemeente: GemeenteCode::parse(&row.gemeente)
            .map_err(|_| StoreError::corrupt("processing_log.gemeente", &row.gemeente))?,
        trace: TraceContext {
            trace_id: row.trace_id,
            parent_span_id: row.parent_span_id,
        },
        span_id: row.span_id,
        started_at: time("processing_log.started_at", row.started_at)?,
        ended_at: time("processing_log.ended_at", row.ended_at)?,
        rpc: row.rpc,
        processing: Processing::parse_stored(&row.processing)
            .ok_or_else(|| StoreError::corrupt("processing_log.processing", &row.processing))?,
        subject: row.subject,
        role: row.role,
        organisation: row.organisation,
        purpose: row
            .purpose
            .map(|p| {
                Purpose::parse(&p).map_err(|_| StoreError::corrupt("processing_log.purpose", &p))
            })
            .transpose()?,
        outcome: row.outcome,
        clients,
    })
}
