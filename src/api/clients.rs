//! ClientService: registering and following clients.

use super::convert::{
    self, base_version, caller, change, client_name, concerned, date, field, mask_paths,
    next_page_token, own_gemeente, page_request, revision, timestamp, to_date,
};
use super::error::{ApiError, ApiResult};
use crate::domain::bsn::Bsn;
use crate::domain::client::{self, ClientDetails, EducationLevel};
use crate::domain::doelgroep::DoelgroepCode;
use crate::domain::text::bounded;
use crate::proto::clientvolg::v1::{self as pb, client_service_server::ClientService};
use crate::store::Store;
use crate::store::clients::{ClientFilter, ClientRecord, FaseFilter};
use chrono::NaiveDate;
use tonic::{Request, Response, Status};

pub struct ClientApi {
    store: Store,
}

impl ClientApi {
    pub fn new(store: Store) -> Self {
        ClientApi { store }
    }
}

const MUTABLE_FIELDS: [&str; 11] = [
    "bsn",
    "given_name",
    "surname_prefix",
    "surname",
    "birth_date",
    "education_level",
    "work_experience",
    "skills",
    "wishes",
    "notes",
    "casemanager",
];

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// One field of a client, parsed; what an update mask path sets.
enum ClientField {
    Bsn(Bsn),
    GivenName(String),
    SurnamePrefix(String),
    Surname(String),
    BirthDate(NaiveDate),
    EducationLevel(EducationLevel),
    WorkExperience(String),
    Skills(Vec<String>),
    Wishes(String),
    Notes(String),
    Casemanager(String),
}

fn parse_field(path: &str, client: &pb::Client) -> ApiResult<ClientField> {
    let name = format!("client.{path}");
    let text =
        |value: &str, max: usize, required: bool| field(&name, bounded(value, max, required));
    Ok(match path {
        "bsn" => ClientField::Bsn(bsn(client)?),
        "given_name" => ClientField::GivenName(text(&client.given_name, client::NAME_MAX, true)?),
        "surname_prefix" => ClientField::SurnamePrefix(text(
            &client.surname_prefix,
            client::SURNAME_PREFIX_MAX,
            false,
        )?),
        "surname" => ClientField::Surname(text(&client.surname, client::NAME_MAX, true)?),
        "birth_date" => ClientField::BirthDate(birth_date(client)?),
        "education_level" => ClientField::EducationLevel(education_level(client.education_level)?),
        "work_experience" => ClientField::WorkExperience(text(
            &client.work_experience,
            client::LONG_TEXT_MAX,
            false,
        )?),
        "skills" => ClientField::Skills(field(&name, client::skills(&client.skills))?),
        "wishes" => ClientField::Wishes(text(&client.wishes, client::LONG_TEXT_MAX, false)?),
        "notes" => ClientField::Notes(text(&client.notes, client::LONG_TEXT_MAX, false)?),
        "casemanager" => {
            ClientField::Casemanager(text(&client.casemanager, client::SUBJECT_MAX, true)?)
        }
        other => {
            return Err(ApiError::invalid(
                "update_mask",
                format!("{other:?} cannot be changed"),
            ));
        }
    })
}

fn apply(details: &mut ClientDetails, value: ClientField) {
    match value {
        ClientField::Bsn(v) => details.bsn = v,
        ClientField::GivenName(v) => details.given_name = v,
        ClientField::SurnamePrefix(v) => details.surname_prefix = v,
        ClientField::Surname(v) => details.surname = v,
        ClientField::BirthDate(v) => details.birth_date = v,
        ClientField::EducationLevel(v) => details.education_level = v,
        ClientField::WorkExperience(v) => details.work_experience = v,
        ClientField::Skills(v) => details.skills = v,
        ClientField::Wishes(v) => details.wishes = v,
        ClientField::Notes(v) => details.notes = v,
        ClientField::Casemanager(v) => details.casemanager = v,
    }
}

fn education_level(raw: i32) -> ApiResult<EducationLevel> {
    use pb::EducationLevel as P;
    Ok(match P::try_from(raw) {
        Ok(P::Unspecified) => EducationLevel::Unknown,
        Ok(P::None) => EducationLevel::None,
        Ok(P::Basisonderwijs) => EducationLevel::Basisonderwijs,
        Ok(P::VmboMbo1) => EducationLevel::VmboMbo1,
        Ok(P::HavoVwoMbo) => EducationLevel::HavoVwoMbo,
        Ok(P::HboWo) => EducationLevel::HboWo,
        Err(_) => {
            return Err(ApiError::invalid(
                "client.education_level",
                format!("{raw} is not an education level"),
            ));
        }
    })
}

fn to_pb_education_level(level: EducationLevel) -> pb::EducationLevel {
    use pb::EducationLevel as P;
    match level {
        EducationLevel::Unknown => P::Unspecified,
        EducationLevel::None => P::None,
        EducationLevel::Basisonderwijs => P::Basisonderwijs,
        EducationLevel::VmboMbo1 => P::VmboMbo1,
        EducationLevel::HavoVwoMbo => P::HavoVwoMbo,
        EducationLevel::HboWo => P::HboWo,
    }
}

fn bsn(client: &pb::Client) -> ApiResult<Bsn> {
    field("client.bsn", Bsn::parse(&client.bsn))
}

fn birth_date(client: &pb::Client) -> ApiResult<NaiveDate> {
    let name = "client.birth_date";
    field(
        name,
        client::birth_date(date(name, client.birth_date.as_ref())?, today()),
    )
}

/// Every field of a new client: the two without an empty value first, then
/// the rest as an update of all fields would set them.
fn client_details(client: &pb::Client) -> ApiResult<ClientDetails> {
    let mut details = ClientDetails {
        bsn: bsn(client)?,
        birth_date: birth_date(client)?,
        given_name: String::new(),
        surname_prefix: String::new(),
        surname: String::new(),
        education_level: EducationLevel::Unknown,
        work_experience: String::new(),
        skills: Vec::new(),
        wishes: String::new(),
        notes: String::new(),
        casemanager: String::new(),
    };
    for path in MUTABLE_FIELDS
        .into_iter()
        .filter(|p| !matches!(*p, "bsn" | "birth_date"))
    {
        apply(&mut details, parse_field(path, client)?);
    }
    Ok(details)
}

fn to_pb(record: ClientRecord) -> pb::Client {
    let d = record.details;
    pb::Client {
        name: format!("clients/{}", record.id),
        gemeente: record.gemeente.to_string(),
        bsn: d.bsn.as_str().to_owned(),
        given_name: d.given_name,
        surname_prefix: d.surname_prefix,
        surname: d.surname,
        birth_date: Some(to_date(d.birth_date)),
        education_level: to_pb_education_level(d.education_level) as i32,
        work_experience: d.work_experience,
        skills: d.skills,
        wishes: d.wishes,
        notes: d.notes,
        casemanager: d.casemanager,
        create_time: Some(timestamp(record.created_at)),
        revision: Some(revision(&record.revision)),
    }
}

fn client_filter(request: &pb::ListClientsRequest) -> ApiResult<(ClientFilter, NaiveDate)> {
    let casemanager = (!request.casemanager.is_empty())
        .then(|| {
            field(
                "casemanager",
                bounded(&request.casemanager, client::SUBJECT_MAX, true),
            )
        })
        .transpose()?;
    let fase = match pb::Fase::try_from(request.fase) {
        Ok(pb::Fase::Unspecified) => None,
        Ok(pb::Fase::NietIngedeeld) => Some(FaseFilter::NietIngedeeld),
        Ok(fase) => Some(FaseFilter::In(
            super::classifications::fase_from_pb(fase).expect("a recordable fase"),
        )),
        Err(_) => {
            return Err(ApiError::invalid(
                "fase",
                format!("{} is not a fase", request.fase),
            ));
        }
    };
    let doelgroep = (!request.doelgroep.is_empty())
        .then(|| field("doelgroep", DoelgroepCode::parse(&request.doelgroep)))
        .transpose()?;
    let on_date =
        convert::optional_date("on_date", request.on_date.as_ref())?.unwrap_or_else(today);
    Ok((
        ClientFilter {
            casemanager,
            fase,
            doelgroep,
        },
        on_date,
    ))
}

#[tonic::async_trait]
impl ClientService for ClientApi {
    async fn create_client(
        &self,
        request: Request<pb::CreateClientRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let details = client_details(
            request
                .client
                .as_ref()
                .ok_or_else(|| ApiError::required("client"))?,
        )?;
        let change = change(&caller, request.change.as_ref(), false)?;
        let record = self
            .store
            .create_client(&gemeente, details, &change)
            .await?;
        concerned.note(record.id);
        Ok(Response::new(to_pb(record)))
    }

    async fn get_client(
        &self,
        request: Request<pb::GetClientRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let id = client_name("name", &request.name)?;
        concerned.note(id);
        let horizon = self
            .store
            .horizon(convert::as_of(request.as_of.as_ref())?)
            .await?;
        let record = self.store.client(&caller.gemeente, id, horizon).await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn list_clients(
        &self,
        request: Request<pb::ListClientsRequest>,
    ) -> Result<Response<pb::ListClientsResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let (filter, on_date) = client_filter(&request)?;
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self
            .store
            .list_clients(&gemeente, &filter, on_date, page)
            .await?;
        concerned.note_all(page.items.iter().map(|record| record.id));
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListClientsResponse {
            clients: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_client(
        &self,
        request: Request<pb::UpdateClientRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let client = request
            .client
            .as_ref()
            .ok_or_else(|| ApiError::required("client"))?;
        let id = client_name("client.name", &client.name)?;
        concerned.note(id);
        let values = mask_paths(request.update_mask.as_ref(), &MUTABLE_FIELDS)?
            .into_iter()
            .map(|path| parse_field(path, client))
            .collect::<ApiResult<Vec<_>>>()?;
        let version = base_version(request.version)?;
        let change = change(&caller, request.change.as_ref(), true)?;
        let record = self
            .store
            .update_client(&caller.gemeente, id, version, &change, |mut details| {
                values
                    .into_iter()
                    .for_each(|value| apply(&mut details, value));
                details
            })
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn list_client_versions(
        &self,
        request: Request<pb::ListClientVersionsRequest>,
    ) -> Result<Response<pb::ListClientVersionsResponse>, Status> {
        let caller = caller(&request)?;
        let concerned = concerned(&request);
        let request = request.into_inner();
        let id = client_name("name", &request.name)?;
        concerned.note(id);
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self
            .store
            .client_versions(&caller.gemeente, id, page)
            .await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListClientVersionsResponse {
            versions: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }
}
