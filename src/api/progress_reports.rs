//! ProgressReportService: kwartaalrapportages submitted by
//! reïntegratiebedrijven, read and answered by casemanagers.

use super::classifications::{fase_from_pb, to_pb_fase};
use super::convert::{
    self, caller, change, child_name_of, date, field, from_table, next_page_token, optional_date,
    optional_resource_name, own_gemeente, page_request, page_token, resource_name, revision,
    timestamp, to_date, to_table,
};
use super::error::{ApiError, ApiResult};
use super::trajectories::{END_REASONS, JOB_CONTRACT_KINDS, KINDS, STATUSES, ending};
use crate::auth::{Principal, Role};
use crate::domain::client::LONG_TEXT_MAX;
use crate::domain::dates::Quarter;
use crate::domain::progress::{PhaseAdvice, ProgressReport, ProgressStatus};
use crate::domain::provider::KvkNumber;
use crate::domain::text::bounded;
use crate::proto::clientvolg::v1::{
    self as pb, progress_report_service_server::ProgressReportService,
};
use crate::store::Store;
use crate::store::progress_reports::{
    ItemOutcome, OverdueFilter, ProgressReportRecord, ProviderScope, Rejection, SubmissionItem,
};
use prost::Message;
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status};
use uuid::Uuid;

/// Most items one call may carry; larger sets go in several calls.
pub const MAX_BATCH: usize = 10_000;
const LIST_MAX: usize = 20;
const LIST_ITEM_MAX: usize = 200;
const REMARKS_MAX: usize = 1_000;
const KEY_MAX: usize = 100;

pub struct ProgressReportApi {
    store: Store,
}

impl ProgressReportApi {
    pub fn new(store: Store) -> Self {
        ProgressReportApi { store }
    }
}

const PROGRESS_STATUSES: [(pb::ProgressStatus, ProgressStatus); 4] = [
    (pb::ProgressStatus::OnTrack, ProgressStatus::OnTrack),
    (pb::ProgressStatus::Delayed, ProgressStatus::Delayed),
    (pb::ProgressStatus::AtRisk, ProgressStatus::AtRisk),
    (pb::ProgressStatus::Interrupted, ProgressStatus::Interrupted),
];

/// `trajectories/{id}/progressReports/{quarter}`.
fn report_name(name_field: &str, name: &str) -> ApiResult<(Uuid, Quarter)> {
    let (trajectory, quarter) = child_name_of(name_field, name, "trajectories", "progressReports")?;
    Ok((
        convert::uuid_segment(name_field, &trajectory)?,
        field(name_field, Quarter::parse(&quarter))?,
    ))
}

/// The provider principal's KvK number and gemeente.
fn provider_kvk(caller: &Principal) -> ApiResult<KvkNumber> {
    caller
        .provider
        .as_deref()
        .and_then(|raw| KvkNumber::parse(raw).ok())
        .ok_or_else(|| {
            ApiError::PermissionDenied(
                "the caller is not tied to a reïntegratiebedrijf's KvK number".into(),
            )
        })
}

fn strings(name: &str, raw: &[String]) -> ApiResult<Vec<String>> {
    if raw.len() > LIST_MAX {
        return Err(ApiError::invalid(
            name,
            format!("at most {LIST_MAX} entries are allowed"),
        ));
    }
    raw.iter()
        .map(|entry| field(name, bounded(entry, LIST_ITEM_MAX, true)))
        .collect()
}

fn count(name: &str, raw: i32) -> ApiResult<u32> {
    u32::try_from(raw).map_err(|_| ApiError::invalid(name, "must not be negative"))
}

/// One submitted item, parsed; field names are relative to the item.
fn parse_item(item: &pb::ProgressReport) -> ApiResult<SubmissionItem> {
    let key = field(
        "idempotency_key",
        bounded(&item.idempotency_key, KEY_MAX, true),
    )?;
    let trajectory_id = resource_name("trajectory", &item.trajectory, "trajectories")?;
    let quarter = field("quarter", Quarter::parse(&item.quarter))?;
    let status = from_table(&PROGRESS_STATUSES, item.status)
        .ok_or_else(|| ApiError::invalid("status", "a progress status is required"))?;
    let planned = count("appointments_planned", item.appointments_planned)?;
    let kept = count("appointments_kept", item.appointments_kept)?;
    if kept > planned {
        return Err(ApiError::invalid(
            "appointments_kept",
            "more appointments kept than planned",
        ));
    }
    let phase_advice = item
        .phase_advice
        .as_ref()
        .map(|advice| {
            let fase = pb::Fase::try_from(advice.proposed_fase)
                .ok()
                .and_then(fase_from_pb)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "phase_advice.proposed_fase",
                        "a fase that can be recorded is required",
                    )
                })?;
            let motivation = field(
                "phase_advice.motivation",
                bounded(&advice.motivation, LONG_TEXT_MAX, true),
            )?;
            Ok::<_, ApiError>(PhaseAdvice { fase, motivation })
        })
        .transpose()?;
    let end = optional_date("end_date", item.end_date.as_ref())?;
    let report = ProgressReport {
        quarter,
        status,
        appointments_planned: planned,
        appointments_kept: kept,
        activities: strings("activities", &item.activities)?,
        instruments: strings("instruments", &item.instruments)?,
        phase_advice,
        next_steps: field(
            "next_steps",
            bounded(&item.next_steps, LONG_TEXT_MAX, false),
        )?,
        started_on: optional_date("start_date", item.start_date.as_ref())?,
        ending: ending("", end, item.end_reason, item.job.as_ref())?,
        remarks: field("remarks", bounded(&item.remarks, REMARKS_MAX, false))?,
    };
    let content_hash = Sha256::digest(item.encode_to_vec())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(SubmissionItem {
        idempotency_key: key,
        content_hash,
        trajectory_id,
        report,
    })
}

fn to_pb(record: ProgressReportRecord) -> pb::ProgressReport {
    let r = record.report;
    let ending = r.ending.as_ref();
    pb::ProgressReport {
        name: format!(
            "trajectories/{}/progressReports/{}",
            record.trajectory_id, r.quarter
        ),
        trajectory: format!("trajectories/{}", record.trajectory_id),
        quarter: r.quarter.to_string(),
        idempotency_key: String::new(),
        status: to_table(&PROGRESS_STATUSES, r.status),
        appointments_planned: r.appointments_planned as i32,
        appointments_kept: r.appointments_kept as i32,
        activities: r.activities,
        instruments: r.instruments,
        phase_advice: r.phase_advice.map(|advice| pb::PhaseAdvice {
            proposed_fase: to_pb_fase(advice.fase) as i32,
            motivation: advice.motivation,
        }),
        next_steps: r.next_steps,
        start_date: r.started_on.map(to_date),
        end_date: ending.map(|e| to_date(e.date)),
        end_reason: ending
            .map(|e| to_table(&END_REASONS, e.reason))
            .unwrap_or_default(),
        job: ending.and_then(|e| e.job.as_ref()).map(|job| pb::Job {
            contract_kind: to_table(&JOB_CONTRACT_KINDS, job.contract_kind),
            hours_per_week: job.hours_per_week,
            job_title: job.job_title.clone(),
            employer_name: job.employer_name.clone(),
        }),
        remarks: r.remarks,
        advice_response: record.advice_response.map(|response| pb::AdviceResponse {
            accepted: response.accepted,
            comment: response.comment,
            classification: response
                .classification
                .map(|(client, id)| format!("clients/{client}/classifications/{id}"))
                .unwrap_or_default(),
            responder: response.responder,
        }),
        receive_time: Some(timestamp(record.received_at)),
        revision: Some(revision(&record.revision)),
    }
}

fn rejection_to_pb(rejection: Rejection) -> pb::ItemRejection {
    match rejection {
        Rejection::InvalidArgument { field, message } => pb::ItemRejection {
            code: "INVALID_ARGUMENT".into(),
            field,
            rule: String::new(),
            message,
        },
        Rejection::NotFound(message) => pb::ItemRejection {
            code: "NOT_FOUND".into(),
            field: "trajectory".into(),
            rule: String::new(),
            message,
        },
        Rejection::FailedPrecondition(violation) => pb::ItemRejection {
            code: "FAILED_PRECONDITION".into(),
            field: String::new(),
            rule: violation.rule.into(),
            message: violation.message,
        },
    }
}

/// A provider only reaches trajectories under its own contracts; anything
/// else is as unknown as a missing trajectory.
async fn ensure_reachable(store: &Store, caller: &Principal, trajectory_id: Uuid) -> ApiResult<()> {
    if caller.role != Role::Provider {
        return Ok(());
    }
    let kvk = provider_kvk(caller)?;
    let scope = ProviderScope {
        gemeente: &caller.gemeente,
        kvk: &kvk,
    };
    let horizon = store.horizon(None).await?;
    if store
        .trajectory_of_provider(&scope, trajectory_id, horizon)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::NotFound("trajectory not found".into()))
    }
}

#[tonic::async_trait]
impl ProgressReportService for ProgressReportApi {
    async fn submit_progress_reports(
        &self,
        request: Request<pb::SubmitProgressReportsRequest>,
    ) -> Result<Response<pb::SubmitProgressReportsResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = convert::concerned(&request);
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let kvk = provider_kvk(&caller)?;
        if request.reports.len() > MAX_BATCH {
            return Err(ApiError::invalid(
                "reports",
                format!("at most {MAX_BATCH} reports per call"),
            )
            .into());
        }
        let keys: Vec<String> = request
            .reports
            .iter()
            .map(|item| item.idempotency_key.clone())
            .collect();
        let items: Vec<Result<SubmissionItem, Rejection>> = request
            .reports
            .iter()
            .map(|item| {
                parse_item(item).map_err(|err| match err {
                    ApiError::InvalidArgument { field, description } => {
                        Rejection::InvalidArgument {
                            field,
                            message: description,
                        }
                    }
                    other => Rejection::InvalidArgument {
                        field: String::new(),
                        message: format!("{other:?}"),
                    },
                })
            })
            .collect();
        let named: Vec<Uuid> = items
            .iter()
            .filter_map(|item| item.as_ref().ok())
            .map(|item| item.trajectory_id)
            .collect();
        convert::note_trajectory_clients(&self.store, &concerned, &gemeente, &named).await?;
        let change = change(&caller, None, false)?;
        let scope = ProviderScope {
            gemeente: &gemeente,
            kvk: &kvk,
        };
        let today = chrono::Utc::now().date_naive();
        let outcomes = self
            .store
            .submit_progress_reports(&scope, items, &change, today)
            .await?;
        let mut response = pb::SubmitProgressReportsResponse::default();
        for (index, (outcome, key)) in outcomes.into_iter().zip(keys).enumerate() {
            let mut result = pb::ProgressReportResult {
                index: index as i32,
                idempotency_key: key,
                ..Default::default()
            };
            match outcome {
                ItemOutcome::Accepted {
                    trajectory_id,
                    quarter,
                    version,
                } => {
                    response.accepted_count += 1;
                    result.report =
                        format!("trajectories/{trajectory_id}/progressReports/{quarter}");
                    result.report_version = version;
                }
                ItemOutcome::Rejected(rejection) => {
                    response.rejected_count += 1;
                    result.rejection = Some(rejection_to_pb(rejection));
                }
            }
            response.results.push(result);
        }
        Ok(Response::new(response))
    }

    async fn list_assigned_trajectories(
        &self,
        request: Request<pb::ListAssignedTrajectoriesRequest>,
    ) -> Result<Response<pb::ListAssignedTrajectoriesResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = convert::concerned(&request);
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let kvk = provider_kvk(&caller)?;
        let page = page_request(&self.store, request.page_size, &request.page_token, None).await?;
        let scope = ProviderScope {
            gemeente: &gemeente,
            kvk: &kvk,
        };
        let page = self.store.assigned_trajectories(&scope, page).await?;
        concerned.note_all(page.items.iter().map(|a| a.trajectory.client_id));
        let next_page_token = next_page_token(&page);
        let trajectories = page
            .items
            .into_iter()
            .map(|assigned| {
                let t = assigned.trajectory;
                let lifecycle = &t.trajectory.lifecycle;
                pb::AssignedTrajectory {
                    trajectory: format!("trajectories/{}", t.id),
                    client_display_name: assigned.client_display_name,
                    contract: t
                        .contract_id
                        .map(|id| format!("contracts/{id}"))
                        .unwrap_or_default(),
                    kind: to_table(&KINDS, t.trajectory.kind),
                    referral_date: Some(to_date(lifecycle.referral())),
                    start_date: lifecycle.start().map(to_date),
                    end_date: lifecycle.ending().map(|e| to_date(e.date)),
                    status: to_table(&STATUSES, lifecycle.status()),
                }
            })
            .collect();
        Ok(Response::new(pb::ListAssignedTrajectoriesResponse {
            trajectories,
            next_page_token,
        }))
    }

    async fn get_progress_report(
        &self,
        request: Request<pb::GetProgressReportRequest>,
    ) -> Result<Response<pb::ProgressReport>, Status> {
        let caller = caller(&request)?;
        let concerned = convert::concerned(&request);
        let request = request.into_inner();
        let (trajectory_id, quarter) = report_name("name", &request.name)?;
        convert::note_trajectory_clients(
            &self.store,
            &concerned,
            &caller.gemeente,
            &[trajectory_id],
        )
        .await?;
        ensure_reachable(&self.store, &caller, trajectory_id).await?;
        let horizon = self
            .store
            .horizon(convert::as_of(request.as_of.as_ref())?)
            .await?;
        let record = self
            .store
            .progress_report(&caller.gemeente, trajectory_id, quarter, horizon)
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn list_progress_reports(
        &self,
        request: Request<pb::ListProgressReportsRequest>,
    ) -> Result<Response<pb::ListProgressReportsResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = convert::concerned(&request);
        let request = request.into_inner();
        let trajectory_id = resource_name("parent", &request.parent, "trajectories")?;
        convert::note_trajectory_clients(
            &self.store,
            &concerned,
            &caller.gemeente,
            &[trajectory_id],
        )
        .await?;
        ensure_reachable(&self.store, &caller, trajectory_id).await?;
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self
            .store
            .list_progress_reports(&caller.gemeente, trajectory_id, page)
            .await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListProgressReportsResponse {
            reports: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn list_progress_report_versions(
        &self,
        request: Request<pb::ListProgressReportVersionsRequest>,
    ) -> Result<Response<pb::ListProgressReportVersionsResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = convert::concerned(&request);
        let request = request.into_inner();
        let (trajectory_id, quarter) = report_name("name", &request.name)?;
        convert::note_trajectory_clients(
            &self.store,
            &concerned,
            &caller.gemeente,
            &[trajectory_id],
        )
        .await?;
        ensure_reachable(&self.store, &caller, trajectory_id).await?;
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self
            .store
            .progress_report_versions(&caller.gemeente, trajectory_id, quarter, page)
            .await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListProgressReportVersionsResponse {
            versions: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn respond_to_phase_advice(
        &self,
        request: Request<pb::RespondToPhaseAdviceRequest>,
    ) -> Result<Response<pb::ProgressReport>, Status> {
        let caller = caller(&request)?;
        let concerned = convert::concerned(&request);
        let request = request.into_inner();
        let (trajectory_id, quarter) = report_name("name", &request.name)?;
        convert::note_trajectory_clients(
            &self.store,
            &concerned,
            &caller.gemeente,
            &[trajectory_id],
        )
        .await?;
        let comment = field(
            "comment",
            bounded(&request.comment, LONG_TEXT_MAX, !request.accept),
        )?;
        let valid_from = optional_date("valid_from", request.valid_from.as_ref())?;
        let version = convert::base_version(request.version)?;
        let change = change(&caller, None, false)?;
        let record = self
            .store
            .respond_to_phase_advice(
                &caller.gemeente,
                trajectory_id,
                quarter,
                version,
                (request.accept, comment, valid_from),
                &change,
            )
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn list_overdue_reports(
        &self,
        request: Request<pb::ListOverdueReportsRequest>,
    ) -> Result<Response<pb::ListOverdueReportsResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = convert::concerned(&request);
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let filter = OverdueFilter {
            provider_id: optional_resource_name("provider", &request.provider, "providers")?,
            contract_id: optional_resource_name("contract", &request.contract, "contracts")?,
            casemanager: (!request.casemanager.is_empty()).then(|| request.casemanager.clone()),
        };
        let on_date =
            date("on_date", request.on_date.as_ref()).or_else(|err| match request.on_date {
                None => Ok(chrono::Utc::now().date_naive()),
                Some(_) => Err(err),
            })?;
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        // Every page is counted as of the first page's horizon, which the
        // page token carries, so that pages neither skip nor repeat reports
        // received in between.
        let overdue = self
            .store
            .overdue_reports(&gemeente, &filter, on_date, page.horizon)
            .await?;
        let missing_count = overdue.iter().filter(|o| o.received_at.is_none()).count() as i32;
        let late_count = overdue.len() as i32 - missing_count;
        let start = usize::try_from(page.offset)
            .unwrap_or(usize::MAX)
            .min(overdue.len());
        let end = start.saturating_add(page.size as usize).min(overdue.len());
        let next = (end < overdue.len()).then_some(crate::store::PageRequest {
            offset: end as u64,
            ..page
        });
        let next_page_token = page_token(next);
        let listed: Vec<Uuid> = overdue[start..end]
            .iter()
            .map(|o| o.trajectory_id)
            .collect();
        convert::note_trajectory_clients(&self.store, &concerned, &gemeente, &listed).await?;
        let reports = overdue[start..end]
            .iter()
            .map(|o| pb::OverdueReport {
                trajectory: format!("trajectories/{}", o.trajectory_id),
                quarter: o.quarter.to_string(),
                due_date: Some(to_date(o.due_date)),
                state: if o.received_at.is_some() {
                    pb::OverdueState::Late
                } else {
                    pb::OverdueState::Missing
                } as i32,
                receive_time: o.received_at.map(timestamp),
                provider: format!("providers/{}", o.provider_id),
                contract: format!("contracts/{}", o.contract_id),
                casemanager: o.casemanager.clone(),
            })
            .collect();
        Ok(Response::new(pb::ListOverdueReportsResponse {
            reports,
            next_page_token,
            missing_count,
            late_count,
        }))
    }
}
