//! DoelgroepService: the gemeente's doelgroep codes and clients' doelgroep
//! assignments.

use super::convert::{
    self, base_version, caller, change, child_name, client_name, concerned, date, field,
    mask_paths, next_page_token, own_gemeente, page_request, revision, to_date,
};
use super::error::{ApiError, ApiResult};
use crate::domain::client::{LONG_TEXT_MAX, NAME_MAX};
use crate::domain::doelgroep::{DoelgroepCode, doelgroep_set};
use crate::domain::gemeente::GemeenteCode;
use crate::domain::text::bounded;
use crate::proto::clientvolg::v1::{self as pb, doelgroep_service_server::DoelgroepService};
use crate::store::Store;
use crate::store::doelgroepen::{
    Assignment, AssignmentRecord, DoelgroepDefinition, DoelgroepRecord,
};
use tonic::{Request, Response, Status};

const COLLECTION: &str = "doelgroepAssignments";
const DEFINITION_FIELDS: [&str; 2] = ["display_name", "description"];
const ASSIGNMENT_FIELDS: [&str; 2] = ["codes", "valid_from"];

pub struct DoelgroepApi {
    store: Store,
}

impl DoelgroepApi {
    pub fn new(store: Store) -> Self {
        DoelgroepApi { store }
    }
}

/// `gemeenten/{gemeente}/doelgroepen/{code}`; another gemeente's doelgroep
/// is as unknown as a missing one.
fn doelgroep_name(name_field: &str, name: &str, own: &GemeenteCode) -> ApiResult<DoelgroepCode> {
    match name.split('/').collect::<Vec<_>>().as_slice() {
        ["gemeenten", gemeente, "doelgroepen", code] => {
            let gemeente = field(name_field, GemeenteCode::parse(gemeente))?;
            let code = field(name_field, DoelgroepCode::parse(code))?;
            if &gemeente != own {
                return Err(ApiError::NotFound("doelgroep not found".into()));
            }
            Ok(code)
        }
        _ => Err(ApiError::invalid(
            name_field,
            "must be gemeenten/{gemeente}/doelgroepen/{code}",
        )),
    }
}

fn display_name(doelgroep: &pb::Doelgroep) -> ApiResult<String> {
    field(
        "doelgroep.display_name",
        bounded(&doelgroep.display_name, NAME_MAX, true),
    )
}

fn description(doelgroep: &pb::Doelgroep) -> ApiResult<String> {
    field(
        "doelgroep.description",
        bounded(&doelgroep.description, LONG_TEXT_MAX, false),
    )
}

fn doelgroep_to_pb(record: DoelgroepRecord) -> pb::Doelgroep {
    pb::Doelgroep {
        name: format!("gemeenten/{}/doelgroepen/{}", record.gemeente, record.code),
        code: record.code.to_string(),
        display_name: record.definition.display_name,
        description: record.definition.description,
        revision: Some(revision(&record.revision)),
    }
}

fn assignment_to_pb(record: AssignmentRecord) -> pb::DoelgroepAssignment {
    pb::DoelgroepAssignment {
        name: format!("clients/{}/{COLLECTION}/{}", record.client_id, record.id),
        codes: record
            .assignment
            .codes
            .iter()
            .map(ToString::to_string)
            .collect(),
        valid_from: Some(to_date(record.assignment.valid_from)),
        revision: Some(revision(&record.revision)),
    }
}

fn codes(
    assignment: &pb::DoelgroepAssignment,
) -> ApiResult<crate::domain::doelgroep::DoelgroepSet> {
    field("assignment.codes", doelgroep_set(&assignment.codes))
}

#[tonic::async_trait]
impl DoelgroepService for DoelgroepApi {
    async fn create_doelgroep(
        &self,
        request: Request<pb::CreateDoelgroepRequest>,
    ) -> Result<Response<pb::Doelgroep>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let doelgroep = request
            .doelgroep
            .as_ref()
            .ok_or_else(|| ApiError::required("doelgroep"))?;
        let code = field("doelgroep.code", DoelgroepCode::parse(&doelgroep.code))?;
        let definition = DoelgroepDefinition {
            display_name: display_name(doelgroep)?,
            description: description(doelgroep)?,
        };
        let change = change(&caller, request.change.as_ref(), false)?;
        let record = self
            .store
            .create_doelgroep(&gemeente, code, definition, &change)
            .await?;
        Ok(Response::new(doelgroep_to_pb(record)))
    }

    async fn get_doelgroep(
        &self,
        request: Request<pb::GetDoelgroepRequest>,
    ) -> Result<Response<pb::Doelgroep>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let code = doelgroep_name("name", &request.name, &caller.gemeente)?;
        let horizon = self
            .store
            .horizon(convert::as_of(request.as_of.as_ref())?)
            .await?;
        let record = self
            .store
            .doelgroep(&caller.gemeente, &code, horizon)
            .await?;
        Ok(Response::new(doelgroep_to_pb(record)))
    }

    async fn list_doelgroepen(
        &self,
        request: Request<pb::ListDoelgroepenRequest>,
    ) -> Result<Response<pb::ListDoelgroepenResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self.store.list_doelgroepen(&gemeente, page).await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListDoelgroepenResponse {
            doelgroepen: page.items.into_iter().map(doelgroep_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_doelgroep(
        &self,
        request: Request<pb::UpdateDoelgroepRequest>,
    ) -> Result<Response<pb::Doelgroep>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let doelgroep = request
            .doelgroep
            .as_ref()
            .ok_or_else(|| ApiError::required("doelgroep"))?;
        let code = doelgroep_name("doelgroep.name", &doelgroep.name, &caller.gemeente)?;
        let paths = mask_paths(request.update_mask.as_ref(), &DEFINITION_FIELDS)?;
        let new_display_name = paths
            .contains(&"display_name")
            .then(|| display_name(doelgroep))
            .transpose()?;
        let new_description = paths
            .contains(&"description")
            .then(|| description(doelgroep))
            .transpose()?;
        let version = base_version(request.version)?;
        let change = change(&caller, request.change.as_ref(), true)?;
        let record = self
            .store
            .update_doelgroep(&caller.gemeente, &code, version, &change, |current| {
                DoelgroepDefinition {
                    display_name: new_display_name.unwrap_or(current.display_name),
                    description: new_description.unwrap_or(current.description),
                }
            })
            .await?;
        Ok(Response::new(doelgroep_to_pb(record)))
    }

    async fn create_doelgroep_assignment(
        &self,
        request: Request<pb::CreateDoelgroepAssignmentRequest>,
    ) -> Result<Response<pb::DoelgroepAssignment>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let client_id = client_name("parent", &request.parent)?;
        concerned.note(client_id);
        let proto = request
            .assignment
            .as_ref()
            .ok_or_else(|| ApiError::required("assignment"))?;
        let assignment = Assignment {
            valid_from: date("assignment.valid_from", proto.valid_from.as_ref())?,
            codes: codes(proto)?,
        };
        let change = change(&caller, request.change.as_ref(), false)?;
        let record = self
            .store
            .create_assignment(&caller.gemeente, client_id, assignment, &change)
            .await?;
        Ok(Response::new(assignment_to_pb(record)))
    }

    async fn get_doelgroep_assignment(
        &self,
        request: Request<pb::GetDoelgroepAssignmentRequest>,
    ) -> Result<Response<pb::DoelgroepAssignment>, Status> {
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
            .assignment(&caller.gemeente, client_id, id, horizon)
            .await?;
        Ok(Response::new(assignment_to_pb(record)))
    }

    async fn list_doelgroep_assignments(
        &self,
        request: Request<pb::ListDoelgroepAssignmentsRequest>,
    ) -> Result<Response<pb::ListDoelgroepAssignmentsResponse>, Status> {
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
            .list_assignments(&caller.gemeente, client_id, page)
            .await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListDoelgroepAssignmentsResponse {
            assignments: page.items.into_iter().map(assignment_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_doelgroep_assignment(
        &self,
        request: Request<pb::UpdateDoelgroepAssignmentRequest>,
    ) -> Result<Response<pb::DoelgroepAssignment>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let proto = request
            .assignment
            .as_ref()
            .ok_or_else(|| ApiError::required("assignment"))?;
        let (client_id, id) = child_name("assignment.name", &proto.name, COLLECTION)?;
        concerned.note(client_id);
        let paths = mask_paths(request.update_mask.as_ref(), &ASSIGNMENT_FIELDS)?;
        let new_codes = paths.contains(&"codes").then(|| codes(proto)).transpose()?;
        let new_valid_from = paths
            .contains(&"valid_from")
            .then(|| date("assignment.valid_from", proto.valid_from.as_ref()))
            .transpose()?;
        let version = base_version(request.version)?;
        let change = change(&caller, request.change.as_ref(), true)?;
        let record = self
            .store
            .update_assignment(
                &caller.gemeente,
                client_id,
                id,
                version,
                &change,
                |current| Assignment {
                    valid_from: new_valid_from.unwrap_or(current.valid_from),
                    codes: new_codes.unwrap_or(current.codes),
                },
            )
            .await?;
        Ok(Response::new(assignment_to_pb(record)))
    }

    async fn list_doelgroep_assignment_versions(
        &self,
        request: Request<pb::ListDoelgroepAssignmentVersionsRequest>,
    ) -> Result<Response<pb::ListDoelgroepAssignmentVersionsResponse>, Status> {
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
            .assignment_versions(&caller.gemeente, client_id, id, page)
            .await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListDoelgroepAssignmentVersionsResponse {
            versions: page.items.into_iter().map(assignment_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn lookup_doelgroepen(
        &self,
        request: Request<pb::LookupDoelgroepenRequest>,
    ) -> Result<Response<pb::LookupDoelgroepenResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let client_id = client_name("parent", &request.parent)?;
        concerned.note(client_id);
        let day = date("date", request.date.as_ref())?;
        let horizon = self
            .store
            .horizon(convert::as_of(request.as_of.as_ref())?)
            .await?;
        let found = self
            .store
            .assignment_on(&caller.gemeente, client_id, day, horizon)
            .await?;
        let codes = found
            .as_ref()
            .map(|record| {
                record
                    .assignment
                    .codes
                    .iter()
                    .map(ToString::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Response::new(pb::LookupDoelgroepenResponse {
            codes,
            assignment: found.map(assignment_to_pb),
        }))
    }
}
