//! TrajectoryService: referral, start, end and correction of trajectories.

use super::contracts::{price_unit, to_pb_price_unit};
use super::convert::{
    self, base_version, caller, change, client_name, concerned, date, field, from_table,
    mask_paths, next_page_token, note_trajectory_clients, optional_date, optional_resource_name,
    own_gemeente, page_request, resource_name, revision, to_date, to_table,
};
use super::error::{ApiError, ApiResult};
use crate::domain::client::SUBJECT_MAX;
use crate::domain::code::Code;
use crate::domain::contract::PriceUnit;
use crate::domain::text::bounded;
use crate::domain::trajectory::{
    EndReason, Ending, JobContractKind, JobDetails, LineRequest, Status, TrajectoryKind,
};
use crate::proto::clientvolg::v1::{self as pb, trajectory_service_server::TrajectoryService};
use crate::store::Store;
use crate::store::trajectories::{
    Correction, Referral, TrajectoryChange, TrajectoryFilter, TrajectoryRecord,
};
use chrono::NaiveDate;
use tonic::{Request, Response, Status as GrpcStatus};

const COLLECTION: &str = "trajectories";
const MUTABLE_FIELDS: [&str; 9] = [
    "kind",
    "casemanager",
    "referral_date",
    "start_date",
    "end_date",
    "end_reason",
    "job",
    "lines",
    "target_group_exception",
];
const EXCEPTION_MAX: usize = 500;
const LINES_MAX: usize = 50;

pub struct TrajectoryApi {
    store: Store,
}

impl TrajectoryApi {
    pub fn new(store: Store) -> Self {
        TrajectoryApi { store }
    }
}

pub(super) const KINDS: [(pb::TrajectoryKind, TrajectoryKind); 7] = [
    (pb::TrajectoryKind::Bemiddeling, TrajectoryKind::Bemiddeling),
    (
        pb::TrajectoryKind::SocialeActivering,
        TrajectoryKind::SocialeActivering,
    ),
    (pb::TrajectoryKind::Zorgtraject, TrajectoryKind::Zorgtraject),
    (pb::TrajectoryKind::Scholing, TrajectoryKind::Scholing),
    (
        pb::TrajectoryKind::Werkervaring,
        TrajectoryKind::Werkervaring,
    ),
    (pb::TrajectoryKind::Diagnose, TrajectoryKind::Diagnose),
    (pb::TrajectoryKind::Other, TrajectoryKind::Other),
];

pub(super) const END_REASONS: [(pb::EndReason, EndReason); 9] = [
    (pb::EndReason::WorkRegular, EndReason::WorkRegular),
    (pb::EndReason::WorkSubsidised, EndReason::WorkSubsidised),
    (pb::EndReason::Medical, EndReason::Medical),
    (pb::EndReason::Moved, EndReason::Moved),
    (pb::EndReason::NoShow, EndReason::NoShow),
    (pb::EndReason::Refusal, EndReason::Refusal),
    (
        pb::EndReason::CompletedWithoutWork,
        EndReason::CompletedWithoutWork,
    ),
    (pb::EndReason::BenefitEnded, EndReason::BenefitEnded),
    (pb::EndReason::Other, EndReason::Other),
];

pub(super) const JOB_CONTRACT_KINDS: [(pb::JobContractKind, JobContractKind); 5] = [
    (pb::JobContractKind::Permanent, JobContractKind::Permanent),
    (pb::JobContractKind::Temporary, JobContractKind::Temporary),
    (pb::JobContractKind::TempAgency, JobContractKind::TempAgency),
    (
        pb::JobContractKind::SelfEmployed,
        JobContractKind::SelfEmployed,
    ),
    (pb::JobContractKind::Subsidised, JobContractKind::Subsidised),
];

pub(super) const STATUSES: [(pb::TrajectoryStatus, Status); 3] = [
    (pb::TrajectoryStatus::Doorverwezen, Status::Doorverwezen),
    (pb::TrajectoryStatus::Lopend, Status::Lopend),
    (pb::TrajectoryStatus::Beeindigd, Status::Beeindigd),
];

fn kind(name: &str, raw: i32) -> ApiResult<TrajectoryKind> {
    from_table(&KINDS, raw).ok_or_else(|| ApiError::invalid(name, "a trajectory kind is required"))
}

fn casemanager(name: &str, raw: &str) -> ApiResult<String> {
    field(name, bounded(raw, SUBJECT_MAX, true))
}

fn exception(name: &str, raw: &str) -> ApiResult<Option<String>> {
    let text = field(name, bounded(raw, EXCEPTION_MAX, false))?;
    Ok((!text.is_empty()).then_some(text))
}

fn lines(name: &str, raw: &[pb::TrajectoryLine]) -> ApiResult<Vec<LineRequest>> {
    if raw.len() > LINES_MAX {
        return Err(ApiError::invalid(
            name,
            format!("at most {LINES_MAX} lines are allowed"),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(index, line)| {
            let at = |what: &str| ApiError::invalid(name, format!("line {}: {what}", index + 1));
            let product_code = Code::parse(&line.product_code).map_err(|e| at(&e.0))?;
            let quantity = u32::try_from(line.quantity)
                .ok()
                .filter(|q| *q >= 1)
                .ok_or_else(|| at("quantity must be at least 1"))?;
            if line.unit_price_cents < 0 {
                return Err(at("unit_price_cents must not be negative"));
            }
            let unit = match pb::PriceUnit::try_from(line.unit) {
                Ok(pb::PriceUnit::Unspecified) => PriceUnit::PerTrajectory,
                _ => price_unit(line.unit).ok_or_else(|| at("unknown price unit"))?,
            };
            Ok(LineRequest {
                product_code,
                quantity,
                unit_price_cents: line.unit_price_cents,
                unit,
            })
        })
        .collect()
}

/// An ending from its parts; `prefix` is "" in EndTrajectory and
/// "trajectory." in UpdateTrajectory. No end date means no ending.
pub(super) fn ending(
    prefix: &str,
    end_date: Option<NaiveDate>,
    reason: i32,
    job: Option<&pb::Job>,
) -> ApiResult<Option<Ending>> {
    let Some(end_date) = end_date else {
        if reason != 0 || job.is_some() {
            return Err(ApiError::invalid(
                format!("{prefix}end_date"),
                "an end reason or job needs an end date",
            ));
        }
        return Ok(None);
    };
    let reason = from_table(&END_REASONS, reason).ok_or_else(|| {
        ApiError::invalid(format!("{prefix}end_reason"), "an end reason is required")
    })?;
    let job = job
        .map(|job| {
            let kind = from_table(&JOB_CONTRACT_KINDS, job.contract_kind).ok_or_else(|| {
                ApiError::invalid(
                    format!("{prefix}job.contract_kind"),
                    "a job contract kind is required",
                )
            })?;
            JobDetails::new(kind, job.hours_per_week, &job.job_title, &job.employer_name).map_err(
                |(part, invalid)| ApiError::invalid(format!("{prefix}job.{part}"), invalid.0),
            )
        })
        .transpose()?;
    Ending::new(end_date, reason, job)
        .map(Some)
        .map_err(|(part, invalid)| ApiError::invalid(format!("{prefix}{part}"), invalid.0))
}

fn to_pb(record: TrajectoryRecord) -> pb::Trajectory {
    let t = record.trajectory;
    let ending = t.lifecycle.ending();
    pb::Trajectory {
        name: format!("{COLLECTION}/{}", record.id),
        client: format!("clients/{}", record.client_id),
        contract: record
            .contract_id
            .map(|id| format!("contracts/{id}"))
            .unwrap_or_default(),
        provider: record
            .provider_id
            .map(|id| format!("providers/{id}"))
            .unwrap_or_default(),
        kind: to_table(&KINDS, t.kind),
        casemanager: t.casemanager.clone(),
        referral_date: Some(to_date(t.lifecycle.referral())),
        start_date: t.lifecycle.start().map(to_date),
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
        lines: t
            .lines
            .iter()
            .map(|line| pb::TrajectoryLine {
                product_code: line.product_code.to_string(),
                quantity: line.quantity as i32,
                unit_price_cents: line.unit_price_cents,
                unit: to_pb_price_unit(line.unit) as i32,
            })
            .collect(),
        target_group_exception: t.target_group_exception.clone().unwrap_or_default(),
        status: to_table(&STATUSES, t.lifecycle.status()),
        cost_cents: t.cost(),
        revision: Some(revision(&record.revision)),
    }
}

fn filter(request: &pb::ListTrajectoriesRequest) -> ApiResult<TrajectoryFilter> {
    Ok(TrajectoryFilter {
        client_id: optional_resource_name("client", &request.client, "clients")?,
        provider_id: optional_resource_name("provider", &request.provider, "providers")?,
        contract_id: optional_resource_name("contract", &request.contract, "contracts")?,
        casemanager: (!request.casemanager.is_empty())
            .then(|| casemanager("casemanager", &request.casemanager))
            .transpose()?,
        status: match pb::TrajectoryStatus::try_from(request.status) {
            Ok(pb::TrajectoryStatus::Unspecified) => None,
            _ => Some(
                from_table(&STATUSES, request.status)
                    .ok_or_else(|| ApiError::invalid("status", "unknown status"))?,
            ),
        },
    })
}

#[tonic::async_trait]
impl TrajectoryService for TrajectoryApi {
    async fn create_trajectory(
        &self,
        request: Request<pb::CreateTrajectoryRequest>,
    ) -> Result<Response<pb::Trajectory>, GrpcStatus> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let t = request
            .trajectory
            .as_ref()
            .ok_or_else(|| ApiError::required("trajectory"))?;
        let referral = Referral {
            client_id: client_name("trajectory.client", &t.client)?,
            contract_id: optional_resource_name("trajectory.contract", &t.contract, "contracts")?,
            kind: kind("trajectory.kind", t.kind)?,
            casemanager: casemanager("trajectory.casemanager", &t.casemanager)?,
            referral_date: date("trajectory.referral_date", t.referral_date.as_ref())?,
            lines: lines("trajectory.lines", &t.lines)?,
            target_group_exception: exception(
                "trajectory.target_group_exception",
                &t.target_group_exception,
            )?,
        };
        concerned.note(referral.client_id);
        let change = change(&caller, request.change.as_ref(), false)?;
        let record = self
            .store
            .create_trajectory(&gemeente, referral, &change)
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn get_trajectory(
        &self,
        request: Request<pb::GetTrajectoryRequest>,
    ) -> Result<Response<pb::Trajectory>, GrpcStatus> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let id = resource_name("name", &request.name, COLLECTION)?;
        note_trajectory_clients(&self.store, &concerned, &caller.gemeente, &[id]).await?;
        let horizon = self
            .store
            .horizon(convert::as_of(request.as_of.as_ref())?)
            .await?;
        Ok(Response::new(to_pb(
            self.store.trajectory(&caller.gemeente, id, horizon).await?,
        )))
    }

    async fn list_trajectories(
        &self,
        request: Request<pb::ListTrajectoriesRequest>,
    ) -> Result<Response<pb::ListTrajectoriesResponse>, GrpcStatus> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let filter = filter(&request)?;
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self
            .store
            .list_trajectories(&gemeente, &filter, page)
            .await?;
        concerned.note_all(filter.client_id);
        concerned.note_all(page.items.iter().map(|record| record.client_id));
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListTrajectoriesResponse {
            trajectories: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn start_trajectory(
        &self,
        request: Request<pb::StartTrajectoryRequest>,
    ) -> Result<Response<pb::Trajectory>, GrpcStatus> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let id = resource_name("name", &request.name, COLLECTION)?;
        note_trajectory_clients(&self.store, &concerned, &caller.gemeente, &[id]).await?;
        let start = date("start_date", request.start_date.as_ref())?;
        let version = base_version(request.version)?;
        let change = change(&caller, request.change.as_ref(), false)?;
        let step = TrajectoryChange::Start(start);
        let record = self
            .store
            .change_trajectory(&caller.gemeente, id, version, &change, step)
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn end_trajectory(
        &self,
        request: Request<pb::EndTrajectoryRequest>,
    ) -> Result<Response<pb::Trajectory>, GrpcStatus> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let id = resource_name("name", &request.name, COLLECTION)?;
        note_trajectory_clients(&self.store, &concerned, &caller.gemeente, &[id]).await?;
        let end = date("end_date", request.end_date.as_ref())?;
        let ending = ending("", Some(end), request.end_reason, request.job.as_ref())?
            .ok_or_else(|| ApiError::required("end_date"))?;
        let version = base_version(request.version)?;
        let change = change(&caller, request.change.as_ref(), false)?;
        let step = TrajectoryChange::End(ending);
        let record = self
            .store
            .change_trajectory(&caller.gemeente, id, version, &change, step)
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn update_trajectory(
        &self,
        request: Request<pb::UpdateTrajectoryRequest>,
    ) -> Result<Response<pb::Trajectory>, GrpcStatus> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let t = request
            .trajectory
            .as_ref()
            .ok_or_else(|| ApiError::required("trajectory"))?;
        let id = resource_name("trajectory.name", &t.name, COLLECTION)?;
        note_trajectory_clients(&self.store, &concerned, &caller.gemeente, &[id]).await?;
        let paths = mask_paths(request.update_mask.as_ref(), &MUTABLE_FIELDS)?;
        let wants = |path: &str| paths.contains(&path);
        let correction = Correction {
            kind: wants("kind")
                .then(|| kind("trajectory.kind", t.kind))
                .transpose()?,
            casemanager: wants("casemanager")
                .then(|| casemanager("trajectory.casemanager", &t.casemanager))
                .transpose()?,
            referral_date: wants("referral_date")
                .then(|| date("trajectory.referral_date", t.referral_date.as_ref()))
                .transpose()?,
            start_date: wants("start_date")
                .then(|| optional_date("trajectory.start_date", t.start_date.as_ref()))
                .transpose()?,
            ending: (wants("end_date") || wants("end_reason") || wants("job"))
                .then(|| {
                    let end = optional_date("trajectory.end_date", t.end_date.as_ref())?;
                    ending("trajectory.", end, t.end_reason, t.job.as_ref())
                })
                .transpose()?,
            lines: wants("lines")
                .then(|| lines("trajectory.lines", &t.lines))
                .transpose()?,
            target_group_exception: wants("target_group_exception")
                .then(|| {
                    exception(
                        "trajectory.target_group_exception",
                        &t.target_group_exception,
                    )
                })
                .transpose()?,
        };
        let version = base_version(request.version)?;
        let change = change(&caller, request.change.as_ref(), true)?;
        let step = TrajectoryChange::Correct(correction);
        let record = self
            .store
            .change_trajectory(&caller.gemeente, id, version, &change, step)
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn list_trajectory_versions(
        &self,
        request: Request<pb::ListTrajectoryVersionsRequest>,
    ) -> Result<Response<pb::ListTrajectoryVersionsResponse>, GrpcStatus> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let id = resource_name("name", &request.name, COLLECTION)?;
        note_trajectory_clients(&self.store, &concerned, &caller.gemeente, &[id]).await?;
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self
            .store
            .trajectory_versions(&caller.gemeente, id, page)
            .await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListTrajectoryVersionsResponse {
            versions: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }
}
