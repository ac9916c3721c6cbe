//! ProviderService: the gemeente's register of reïntegratiebedrijven.

use super::convert::{
    self, base_version, caller, change, field, mask_paths, next_page_token, own_gemeente,
    page_request, resource_name, revision,
};
use super::error::{ApiError, ApiResult};
use crate::domain::client::{NAME_MAX, SKILL_MAX};
use crate::domain::provider::{KvkNumber, ProviderDetails, ProviderKind, ProviderSize};
use crate::domain::text::bounded;
use crate::proto::clientvolg::v1::{self as pb, provider_service_server::ProviderService};
use crate::store::Store;
use crate::store::providers::ProviderRecord;
use tonic::{Request, Response, Status};

const COLLECTION: &str = "providers";
const MUTABLE_FIELDS: [&str; 5] = [
    "display_name",
    "kvk_number",
    "kind",
    "size",
    "specialisations",
];
const SPECIALISATIONS_MAX: usize = 20;

pub struct ProviderApi {
    store: Store,
}

impl ProviderApi {
    pub fn new(store: Store) -> Self {
        ProviderApi { store }
    }
}

fn display_name(provider: &pb::Provider) -> ApiResult<String> {
    field(
        "provider.display_name",
        bounded(&provider.display_name, NAME_MAX, true),
    )
}

fn kvk_number(provider: &pb::Provider) -> ApiResult<KvkNumber> {
    field(
        "provider.kvk_number",
        KvkNumber::parse(&provider.kvk_number),
    )
}

fn kind(provider: &pb::Provider) -> ApiResult<ProviderKind> {
    use pb::ProviderKind as P;
    Ok(match P::try_from(provider.kind) {
        Ok(P::Unspecified) => ProviderKind::Unknown,
        Ok(P::Commercial) => ProviderKind::Commercial,
        Ok(P::NonProfit) => ProviderKind::NonProfit,
        Ok(P::SocialEnterprise) => ProviderKind::SocialEnterprise,
        Ok(P::Education) => ProviderKind::Education,
        Err(_) => {
            return Err(ApiError::invalid(
                "provider.kind",
                format!("{} is not a provider kind", provider.kind),
            ));
        }
    })
}

fn size(provider: &pb::Provider) -> ApiResult<ProviderSize> {
    use pb::ProviderSize as P;
    Ok(match P::try_from(provider.size) {
        Ok(P::Unspecified) => ProviderSize::Unknown,
        Ok(P::Small) => ProviderSize::Small,
        Ok(P::Medium) => ProviderSize::Medium,
        Ok(P::Large) => ProviderSize::Large,
        Err(_) => {
            return Err(ApiError::invalid(
                "provider.size",
                format!("{} is not a provider size", provider.size),
            ));
        }
    })
}

fn specialisations(provider: &pb::Provider) -> ApiResult<Vec<String>> {
    let name = "provider.specialisations";
    if provider.specialisations.len() > SPECIALISATIONS_MAX {
        return Err(ApiError::invalid(
            name,
            format!("at most {SPECIALISATIONS_MAX} are allowed"),
        ));
    }
    let mut list: Vec<String> = Vec::new();
    for raw in &provider.specialisations {
        let entry = field(name, bounded(raw, SKILL_MAX, false))?;
        if !entry.is_empty() && !list.contains(&entry) {
            list.push(entry);
        }
    }
    Ok(list)
}

fn to_pb(record: ProviderRecord) -> pb::Provider {
    let d = record.details;
    pb::Provider {
        name: format!("{COLLECTION}/{}", record.id),
        gemeente: record.gemeente.to_string(),
        display_name: d.display_name,
        kvk_number: d.kvk_number.to_string(),
        kind: match d.kind {
            ProviderKind::Unknown => pb::ProviderKind::Unspecified,
            ProviderKind::Commercial => pb::ProviderKind::Commercial,
            ProviderKind::NonProfit => pb::ProviderKind::NonProfit,
            ProviderKind::SocialEnterprise => pb::ProviderKind::SocialEnterprise,
            ProviderKind::Education => pb::ProviderKind::Education,
        } as i32,
        size: match d.size {
            ProviderSize::Unknown => pb::ProviderSize::Unspecified,
            ProviderSize::Small => pb::ProviderSize::Small,
            ProviderSize::Medium => pb::ProviderSize::Medium,
            ProviderSize::Large => pb::ProviderSize::Large,
        } as i32,
        specialisations: d.specialisations,
        revision: Some(revision(&record.revision)),
    }
}

#[tonic::async_trait]
impl ProviderService for ProviderApi {
    async fn create_provider(
        &self,
        request: Request<pb::CreateProviderRequest>,
    ) -> Result<Response<pb::Provider>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let provider = request
            .provider
            .as_ref()
            .ok_or_else(|| ApiError::required("provider"))?;
        let details = ProviderDetails {
            display_name: display_name(provider)?,
            kvk_number: kvk_number(provider)?,
            kind: kind(provider)?,
            size: size(provider)?,
            specialisations: specialisations(provider)?,
        };
        let change = change(&caller, request.change.as_ref(), false)?;
        let record = self
            .store
            .create_provider(&gemeente, details, &change)
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn get_provider(
        &self,
        request: Request<pb::GetProviderRequest>,
    ) -> Result<Response<pb::Provider>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let id = resource_name("name", &request.name, COLLECTION)?;
        let horizon = self
            .store
            .horizon(convert::as_of(request.as_of.as_ref())?)
            .await?;
        Ok(Response::new(to_pb(
            self.store.provider(&caller.gemeente, id, horizon).await?,
        )))
    }

    async fn list_providers(
        &self,
        request: Request<pb::ListProvidersRequest>,
    ) -> Result<Response<pb::ListProvidersResponse>, Status> {
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
        let page = self.store.list_providers(&gemeente, page).await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListProvidersResponse {
            providers: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_provider(
        &self,
        request: Request<pb::UpdateProviderRequest>,
    ) -> Result<Response<pb::Provider>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let provider = request
            .provider
            .as_ref()
            .ok_or_else(|| ApiError::required("provider"))?;
        let id = resource_name("provider.name", &provider.name, COLLECTION)?;
        let paths = mask_paths(request.update_mask.as_ref(), &MUTABLE_FIELDS)?;
        let wants = |path: &str| paths.contains(&path);
        let new_display_name = wants("display_name")
            .then(|| display_name(provider))
            .transpose()?;
        let new_kvk = wants("kvk_number")
            .then(|| kvk_number(provider))
            .transpose()?;
        let new_kind = wants("kind").then(|| kind(provider)).transpose()?;
        let new_size = wants("size").then(|| size(provider)).transpose()?;
        let new_specialisations = wants("specialisations")
            .then(|| specialisations(provider))
            .transpose()?;
        let version = base_version(request.version)?;
        let change = change(&caller, request.change.as_ref(), true)?;
        let record = self
            .store
            .update_provider(&caller.gemeente, id, version, &change, |current| {
                ProviderDetails {
                    display_name: new_display_name.unwrap_or(current.display_name),
                    kvk_number: new_kvk.unwrap_or(current.kvk_number),
                    kind: new_kind.unwrap_or(current.kind),
                    size: new_size.unwrap_or(current.size),
                    specialisations: new_specialisations.unwrap_or(current.specialisations),
                }
            })
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn list_provider_versions(
        &self,
        request: Request<pb::ListProviderVersionsRequest>,
    ) -> Result<Response<pb::ListProviderVersionsResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let id = resource_name("name", &request.name, COLLECTION)?;
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self
            .store
            .provider_versions(&caller.gemeente, id, page)
            .await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListProviderVersionsResponse {
            versions: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }
}
