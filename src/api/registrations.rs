//! RegistrationService: a client's registration episodes.

use super::convert::{
    self, base_version, caller, change, child_name, client_name, concerned, date, field,
    mask_paths, next_page_token, optional_date, page_request, revision, to_date,
};
use super::error::{ApiError, ApiResult};
use crate::domain::dates::DateSpan;
use crate::domain::registration::{Episode, RegistrationKind};
use crate::proto::clientvolg::v1::{self as pb, registration_service_server::RegistrationService};
use crate::store::registrations::RegistrationRecord;
use crate::store::{Store, StoreError};
use tonic::{Request, Response, Status};

const COLLECTION: &str = "registrations";
const MUTABLE_FIELDS: [&str; 3] = ["kind", "start_date", "end_date"];

pub struct RegistrationApi {
    store: Store,
}

impl RegistrationApi {
    pub fn new(store: Store) -> Self {
        RegistrationApi { store }
    }
}

fn kind(raw: i32) -> ApiResult<RegistrationKind> {
    use pb::RegistrationKind as P;
    match P::try_from(raw) {
        Ok(P::Bijstand) => Ok(RegistrationKind::Bijstand),
        Ok(P::Ioaw) => Ok(RegistrationKind::Ioaw),
        Ok(P::Ioaz) => Ok(RegistrationKind::Ioaz),
        Ok(P::Anw) => Ok(RegistrationKind::Anw),
        Ok(P::Nugger) => Ok(RegistrationKind::Nugger),
        Ok(P::Unspecified) => Err(ApiError::required("registration.kind")),
        Err(_) => Err(ApiError::invalid(
            "registration.kind",
            format!("{raw} is not a registration kind"),
        )),
    }
}

fn to_pb_kind(kind: RegistrationKind) -> pb::RegistrationKind {
    use pb::RegistrationKind as P;
    match kind {
        RegistrationKind::Bijstand => P::Bijstand,
        RegistrationKind::Ioaw => P::Ioaw,
        RegistrationKind::Ioaz => P::Ioaz,
        RegistrationKind::Anw => P::Anw,
        RegistrationKind::Nugger => P::Nugger,
    }
}

fn to_pb(record: RegistrationRecord) -> pb::Registration {
    pb::Registration {
        name: format!("clients/{}/{COLLECTION}/{}", record.client_id, record.id),
        kind: to_pb_kind(record.episode.kind) as i32,
        start_date: Some(to_date(record.episode.span.start)),
        end_date: record.episode.span.end.map(to_date),
        revision: Some(revision(&record.revision)),
    }
}

fn span(start: chrono::NaiveDate, end: Option<chrono::NaiveDate>) -> ApiResult<DateSpan> {
    field("registration.end_date", DateSpan::new(start, end))
}

#[tonic::async_trait]
impl RegistrationService for RegistrationApi {
    async fn create_registration(
        &self,
        request: Request<pb::CreateRegistrationRequest>,
    ) -> Result<Response<pb::Registration>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let client_id = client_name("parent", &request.parent)?;
        concerned.note(client_id);
        let registration = request
            .registration
            .as_ref()
            .ok_or_else(|| ApiError::required("registration"))?;
        let kind = kind(registration.kind)?;
        let start = date("registration.start_date", registration.start_date.as_ref())?;
        let end = optional_date("registration.end_date", registration.end_date.as_ref())?;
        let episode = Episode {
            kind,
            span: span(start, end)?,
        };
        let change = change(&caller, request.change.as_ref(), false)?;
        let record = self
            .store
            .create_registration(&caller.gemeente, client_id, episode, &change)
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn get_registration(
        &self,
        request: Request<pb::GetRegistrationRequest>,
    ) -> Result<Response<pb::Registration>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let (client_id, id) = child_name("name", &request.name, COLLECTION)?;
        concerned.note(client_id);
        let horizon = self
            .store
            .horizon(convert::as_of(request.as_of.as_ref())?)
            .await?;
        let record = self
            .store
            .registration(&caller.gemeente, client_id, id, horizon)
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn list_registrations(
        &self,
        request: Request<pb::ListRegistrationsRequest>,
    ) -> Result<Response<pb::ListRegistrationsResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let client_id = client_name("parent", &request.parent)?;
        concerned.note(client_id);
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self
            .store
            .list_registrations(&caller.gemeente, client_id, page)
            .await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListRegistrationsResponse {
            registrations: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_registration(
        &self,
        request: Request<pb::UpdateRegistrationRequest>,
    ) -> Result<Response<pb::Registration>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let registration = request
            .registration
            .as_ref()
            .ok_or_else(|| ApiError::required("registration"))?;
        let (client_id, id) = child_name("registration.name", &registration.name, COLLECTION)?;
        concerned.note(client_id);
        let paths = mask_paths(request.update_mask.as_ref(), &MUTABLE_FIELDS)?;
        let new_kind = paths
            .contains(&"kind")
            .then(|| kind(registration.kind))
            .transpose()?;
        let new_start = paths
            .contains(&"start_date")
            .then(|| date("registration.start_date", registration.start_date.as_ref()))
            .transpose()?;
        let new_end = paths
            .contains(&"end_date")
            .then(|| optional_date("registration.end_date", registration.end_date.as_ref()))
            .transpose()?;
        let version = base_version(request.version)?;
        let change = change(&caller, request.change.as_ref(), true)?;
        let record = self
            .store
            .update_registration(
                &caller.gemeente,
                client_id,
                id,
                version,
                &change,
                |episode| {
                    let start = new_start.unwrap_or(episode.span.start);
                    let end = new_end.unwrap_or(episode.span.end);
                    let span =
                        DateSpan::new(start, end).map_err(|invalid| StoreError::Invalid {
                            field: "registration.end_date",
                            reason: invalid.0,
                        })?;
                    Ok(Episode {
                        kind: new_kind.unwrap_or(episode.kind),
                        span,
                    })
                },
            )
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn list_registration_versions(
        &self,
        request: Request<pb::ListRegistrationVersionsRequest>,
    ) -> Result<Response<pb::ListRegistrationVersionsResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let (client_id, id) = child_name("name", &request.name, COLLECTION)?;
        concerned.note(client_id);
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self
            .store
            .registration_versions(&caller.gemeente, client_id, id, page)
            .await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListRegistrationVersionsResponse {
            versions: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }
}
