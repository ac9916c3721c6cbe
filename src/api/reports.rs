//! ReportService: the in- and outflow report for data managers (counts
//! only) and the caseload overview for casemanagers.

use super::convert::{self, date, field, optional_date, own_gemeente, timestamp, to_date};
use super::error::{ApiError, ApiResult};
use crate::auth::Role;
use crate::domain::client::SUBJECT_MAX;
use crate::domain::text::bounded;
use crate::proto::clientvolg::v1::{self as pb, report_service_server::ReportService};
use crate::reports::{Edges, ReportRequest, Table, Value};
use crate::store::Store;
use tonic::{Request, Response, Status};

pub struct ReportApi {
    store: Store,
}

impl ReportApi {
    pub fn new(store: Store) -> Self {
        ReportApi { store }
    }
}

fn edges(name: &str, raw: &[i32], default: Edges) -> ApiResult<Edges> {
    if raw.is_empty() {
        return Ok(default);
    }
    let months = raw
        .iter()
        .map(|m| {
            u32::try_from(*m).map_err(|_| ApiError::invalid(name, "edges are positive months"))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    field(name, Edges::new(months))
}

pub fn table_to_pb(table: Table) -> pb::ReportTable {
    pb::ReportTable {
        name: table.name.to_owned(),
        title: table.title.to_owned(),
        columns: table.columns.iter().map(|c| c.to_string()).collect(),
        rows: table
            .rows
            .into_iter()
            .map(|row| pb::ReportRow {
                label: row.label,
                values: row
                    .values
                    .into_iter()
                    .map(|value| pb::ReportValue {
                        value: match value {
                            Value::Count(n) => Some(pb::report_value::Value::Count(n)),
                            Value::Number(x) => Some(pb::report_value::Value::Number(x)),
                            Value::Missing => None,
                        },
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl ReportService for ReportApi {
    async fn get_inflow_outflow_report(
        &self,
        request: Request<pb::GetInflowOutflowReportRequest>,
    ) -> Result<Response<pb::InflowOutflowReport>, Status> {
        let caller = convert::caller(&request)?;
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let period_start = date("period_start", request.period_start.as_ref())?;
        let period_end = date("period_end", request.period_end.as_ref())?;
        field(
            "period_end",
            ReportRequest::check_period(period_start, period_end),
        )?;
        let report_request = ReportRequest {
            gemeente,
            period_start,
            period_end,
            horizon: self
                .store
                .horizon(convert::as_of(request.as_of.as_ref())?)
                .await?,
            age_edges: edges(
                "age_edges_months",
                &request.age_edges_months,
                Edges::age_default(),
            )?,
            duration_edges: edges(
                "duration_edges_months",
                &request.duration_edges_months,
                Edges::duration_default(),
            )?,
        };
        let report = self.store.inflow_outflow_report(&report_request).await?;
        Ok(Response::new(pb::InflowOutflowReport {
            gemeente: report.gemeente,
            period_start: Some(to_date(report.period_start)),
            period_end: Some(to_date(report.period_end)),
            as_of: Some(timestamp(report_request.horizon)),
            tables: report.tables.into_iter().map(table_to_pb).collect(),
        }))
    }

    async fn get_caseload_report(
        &self,
        request: Request<pb::GetCaseloadReportRequest>,
    ) -> Result<Response<pb::CaseloadReport>, Status> {
        let caller = convert::caller(&request)?;
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let casemanager = if request.casemanager.is_empty() {
            caller.subject.clone()
        } else {
            field(
                "casemanager",
                bounded(&request.casemanager, SUBJECT_MAX, true),
            )?
        };
        if caller.role == Role::Casemanager && casemanager != caller.subject {
            return Err(ApiError::PermissionDenied(
                "a casemanager sees only their own caseload".into(),
            )
            .into());
        }
        let on_date = optional_date("on_date", request.on_date.as_ref())?
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        let horizon = self
            .store
            .horizon(convert::as_of(request.as_of.as_ref())?)
            .await?;
        let report = self
            .store
            .caseload_report(&gemeente, &casemanager, on_date, horizon)
            .await?;
        Ok(Response::new(pb::CaseloadReport {
            casemanager: report.casemanager,
            on_date: Some(to_date(report.on_date)),
            as_of: Some(timestamp(horizon)),
            tables: report.tables.into_iter().map(table_to_pb).collect(),
        }))
    }
}
