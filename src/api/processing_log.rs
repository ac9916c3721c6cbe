//! ProcessingLogService: the auditor reads the processing log of its own
//! gemeente, by client, by actor and by period.

use super::convert::{
    caller, client_name, concerned, instant, instant_to_pb, own_gemeente, page_size,
};
use super::error::{ApiError, ApiResult};
use crate::domain::client::SUBJECT_MAX;
use crate::domain::processing::{Processing, ProcessingRecord};
use crate::domain::text::bounded;
use crate::proto::clientvolg::v1::{
    self as pb, processing_log_service_server::ProcessingLogService,
};
use crate::store::Store;
use crate::store::processing_log::{LogPageRequest, ProcessingLogFilter};
use chrono::Utc;
use tonic::{Request, Response, Status};
use uuid::Uuid;

pub struct ProcessingLogApi {
    store: Store,
}

impl ProcessingLogApi {
    pub fn new(store: Store) -> Self {
        ProcessingLogApi { store }
    }
}

/// The first page of a listing reads the calls that started before now; a
/// token `log1.{until}.{started_at}.{id}` continues after the record a page
/// ended with, within the same bound.
fn page_request(size: u64, token: &str) -> ApiResult<LogPageRequest> {
    if token.is_empty() {
        return Ok(LogPageRequest {
            until: Utc::now().timestamp_micros(),
            after: None,
            size,
        });
    }
    let bad = || ApiError::invalid("page_token", "is not a token this server handed out");
    let parts: Vec<&str> = token
        .strip_prefix("log1.")
        .ok_or_else(bad)?
        .split('.')
        .collect();
    let [until, started_at, id] = parts.as_slice() else {
        return Err(bad());
    };
    Ok(LogPageRequest {
        until: until.parse().map_err(|_| bad())?,
        after: Some((
            started_at.parse().map_err(|_| bad())?,
            Uuid::parse_str(id).map_err(|_| bad())?,
        )),
        size,
    })
}

fn page_token(next: Option<LogPageRequest>) -> String {
    next.and_then(|next| {
        next.after
            .map(|(started_at, id)| format!("log1.{}.{started_at}.{id}", next.until))
    })
    .unwrap_or_default()
}

fn to_pb(record: ProcessingRecord) -> pb::ProcessingRecord {
    pb::ProcessingRecord {
        name: format!(
            "gemeenten/{}/processingRecords/{}",
            record.gemeente, record.id
        ),
        trace_id: record.trace.trace_id,
        span_id: record.span_id,
        parent_span_id: record.trace.parent_span_id.unwrap_or_default(),
        start_time: Some(instant_to_pb(record.started_at)),
        end_time: Some(instant_to_pb(record.ended_at)),
        rpc: record.rpc,
        kind: match record.processing {
            Processing::Read => pb::ProcessingKind::Read,
            Processing::Write => pb::ProcessingKind::Write,
        } as i32,
        actor: record.subject,
        actor_role: record.role,
        organisation: record.organisation,
        purpose: record
            .purpose
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        outcome: record.outcome,
        clients: record
            .clients
            .into_iter()
            .map(|id| format!("clients/{id}"))
            .collect(),
    }
}

#[tonic::async_trait]
impl ProcessingLogService for ProcessingLogApi {
    async fn list_processing_records(
        &self,
        request: Request<pb::ListProcessingRecordsRequest>,
    ) -> Result<Response<pb::ListProcessingRecordsResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let client = (!request.client.is_empty())
            .then(|| client_name("client", &request.client))
            .transpose()?;
        if let Some(client) = client {
            concerned.note(client);
        }
        let filter = ProcessingLogFilter {
            client,
            subject: (!request.actor.is_empty())
                .then(|| super::convert::field("actor", bounded(&request.actor, SUBJECT_MAX, true)))
                .transpose()?,
            from: instant("start_time", request.start_time.as_ref())?,
            to: instant("end_time", request.end_time.as_ref())?,
        };
        let page = page_request(page_size(request.page_size)?, &request.page_token)?;
        let page = self
            .store
            .processing_records(&gemeente, &filter, page)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::ListProcessingRecordsResponse {
            next_page_token: page_token(page.next),
            processing_records: page.records.into_iter().map(to_pb).collect(),
        }))
    }
}
