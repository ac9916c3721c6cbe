//! ContractService: contracts with reïntegratiebedrijven.

use super::classifications::fase_from_pb;
use super::convert::{
    self, base_version, caller, change, date, field, from_table, mask_paths, next_page_token,
    optional_resource_name, own_gemeente, page_request, resource_name, revision, to_date, to_table,
};
use super::error::{ApiError, ApiResult};
use crate::domain::Invalid;
use crate::domain::client::{LONG_TEXT_MAX, NAME_MAX};
use crate::domain::code::Code;
use crate::domain::contract::{
    ContractTerms, DatedPrice, PaymentModel, PriceUnit, Product, ProductKind, ResultAgreements,
    TargetGroup, Volume, VolumeKind,
};
use crate::domain::dates::DateSpan;
use crate::domain::doelgroep::doelgroep_set;
use crate::domain::text::bounded;
use crate::proto::clientvolg::v1::{self as pb, contract_service_server::ContractService};
use crate::store::contracts::ContractRecord;
use crate::store::{Store, StoreError};
use chrono::NaiveDate;
use std::collections::BTreeSet;
use tonic::{Request, Response, Status};

const COLLECTION: &str = "contracts";
const MUTABLE_FIELDS: [&str; 12] = [
    "display_name",
    "start_date",
    "end_date",
    "target_fases",
    "target_doelgroepen",
    "products",
    "payment_model",
    "input_share_percent",
    "payment_terms",
    "result_agreements",
    "volume",
    "report_due_days",
];

pub struct ContractApi {
    store: Store,
}

impl ContractApi {
    pub fn new(store: Store) -> Self {
        ContractApi { store }
    }
}

pub(super) fn price_unit(raw: i32) -> Option<PriceUnit> {
    match pb::PriceUnit::try_from(raw) {
        Ok(pb::PriceUnit::PerTrajectory) => Some(PriceUnit::PerTrajectory),
        Ok(pb::PriceUnit::PerMonth) => Some(PriceUnit::PerMonth),
        Ok(pb::PriceUnit::PerHour) => Some(PriceUnit::PerHour),
        Ok(pb::PriceUnit::PerResult) => Some(PriceUnit::PerResult),
        Ok(pb::PriceUnit::Unspecified) | Err(_) => None,
    }
}

pub(super) fn to_pb_price_unit(unit: PriceUnit) -> pb::PriceUnit {
    match unit {
        PriceUnit::PerTrajectory => pb::PriceUnit::PerTrajectory,
        PriceUnit::PerMonth => pb::PriceUnit::PerMonth,
        PriceUnit::PerHour => pb::PriceUnit::PerHour,
        PriceUnit::PerResult => pb::PriceUnit::PerResult,
    }
}

const PRODUCT_KINDS: [(pb::ProductKind, ProductKind); 9] = [
    (pb::ProductKind::Diagnose, ProductKind::Diagnose),
    (pb::ProductKind::Scholing, ProductKind::Scholing),
    (
        pb::ProductKind::Sollicitatietraining,
        ProductKind::Sollicitatietraining,
    ),
    (
        pb::ProductKind::Werkervaringsplaats,
        ProductKind::Werkervaringsplaats,
    ),
    (pb::ProductKind::Coaching, ProductKind::Coaching),
    (pb::ProductKind::Bemiddeling, ProductKind::Bemiddeling),
    (
        pb::ProductKind::SocialeActivering,
        ProductKind::SocialeActivering,
    ),
    (pb::ProductKind::Jobcoaching, ProductKind::Jobcoaching),
    (pb::ProductKind::Other, ProductKind::Other),
];

const PAYMENT_MODELS: [(pb::PaymentModel, PaymentModel); 4] = [
    (pb::PaymentModel::FixedPrice, PaymentModel::FixedPrice),
    (pb::PaymentModel::NoCureNoPay, PaymentModel::NoCureNoPay),
    (pb::PaymentModel::NoCureLessPay, PaymentModel::NoCureLessPay),
    (
        pb::PaymentModel::BaseFeePlusBonus,
        PaymentModel::BaseFeePlusBonus,
    ),
];

const VOLUME_KINDS: [(pb::VolumeKind, VolumeKind); 2] = [
    (pb::VolumeKind::Raamcontract, VolumeKind::Raamcontract),
    (pb::VolumeKind::Volumecontract, VolumeKind::Volumecontract),
];

fn percent(name: &str, value: Option<i32>) -> ApiResult<Option<u8>> {
    value
        .map(|v| {
            u8::try_from(v)
                .ok()
                .filter(|v| *v <= 100)
                .ok_or_else(|| ApiError::invalid(name, "must be 0 to 100"))
        })
        .transpose()
}

fn product(raw: &pb::Product) -> Result<Product, Invalid> {
    let code = Code::parse(&raw.code)?;
    let kind = from_table(&PRODUCT_KINDS, raw.kind).ok_or_else(|| {
        Invalid::new(format!(
            "product {code}: {} is not a product kind",
            raw.kind
        ))
    })?;
    let unit = price_unit(raw.unit)
        .ok_or_else(|| Invalid::new(format!("product {code}: a price unit is required")))?;
    let description = bounded(&raw.description, LONG_TEXT_MAX, false)?;
    let prices = raw
        .prices
        .iter()
        .map(|price| {
            let valid_from = price
                .valid_from
                .as_ref()
                .ok_or_else(|| Invalid::new("a price needs valid_from"))?;
            let valid_from = crate::domain::dates::calendar_date(
                valid_from.year,
                u32::try_from(valid_from.month).unwrap_or(0),
                u32::try_from(valid_from.day).unwrap_or(0),
            )?;
            Ok(DatedPrice {
                valid_from,
                cents: price.amount_cents,
            })
        })
        .collect::<Result<Vec<_>, Invalid>>()?;
    Product::new(code, kind, description, unit, prices)
}

fn to_pb_product(product: &Product) -> pb::Product {
    pb::Product {
        code: product.code.to_string(),
        kind: to_table(&PRODUCT_KINDS, product.kind),
        description: product.description.clone(),
        unit: to_pb_price_unit(product.unit) as i32,
        prices: product
            .prices
            .iter()
            .map(|p| pb::Price {
                valid_from: Some(to_date(p.valid_from)),
                amount_cents: p.cents,
            })
            .collect(),
    }
}

/// One field of a contract, parsed; what an update mask path sets.
enum ContractField {
    DisplayName(String),
    StartDate(NaiveDate),
    EndDate(NaiveDate),
    TargetFases(BTreeSet<crate::domain::classification::Fase>),
    TargetDoelgroepen(crate::domain::doelgroep::DoelgroepSet),
    Products(Vec<Product>),
    PaymentModel(PaymentModel),
    InputSharePercent(Option<u8>),
    PaymentTerms(String),
    ResultAgreements(ResultAgreements),
    Volume(Volume),
    ReportDueDays(u16),
}

fn parse_field(path: &str, c: &pb::Contract) -> ApiResult<ContractField> {
    let name = format!("contract.{path}");
    Ok(match path {
        "display_name" => {
            ContractField::DisplayName(field(&name, bounded(&c.display_name, NAME_MAX, true))?)
        }
        "start_date" => ContractField::StartDate(date(&name, c.start_date.as_ref())?),
        "end_date" => ContractField::EndDate(date(&name, c.end_date.as_ref())?),
        "target_fases" => ContractField::TargetFases(
            c.target_fases
                .iter()
                .map(|raw| {
                    pb::Fase::try_from(*raw)
                        .ok()
                        .and_then(fase_from_pb)
                        .ok_or_else(|| {
                            ApiError::invalid(
                                &name,
                                format!("{raw} is not a fase a contract can cover"),
                            )
                        })
                })
                .collect::<ApiResult<_>>()?,
        ),
        "target_doelgroepen" => {
            ContractField::TargetDoelgroepen(field(&name, doelgroep_set(&c.target_doelgroepen))?)
        }
        "products" => ContractField::Products(
            c.products
                .iter()
                .map(|p| field(&name, product(p)))
                .collect::<ApiResult<_>>()?,
        ),
        "payment_model" => ContractField::PaymentModel(
            from_table(&PAYMENT_MODELS, c.payment_model)
                .ok_or_else(|| ApiError::invalid(&name, "a payment model is required"))?,
        ),
        "input_share_percent" => {
            ContractField::InputSharePercent(percent(&name, c.input_share_percent)?)
        }
        "payment_terms" => ContractField::PaymentTerms(field(
            &name,
            bounded(&c.payment_terms, LONG_TEXT_MAX, false),
        )?),
        "result_agreements" => {
            let raw = c.result_agreements.clone().unwrap_or_default();
            let max_duration_months = raw
                .max_duration_months
                .map(|m| {
                    u16::try_from(m)
                        .ok()
                        .filter(|m| (1..=120).contains(m))
                        .ok_or_else(|| {
                            ApiError::invalid(&name, "max_duration_months must be 1 to 120")
                        })
                })
                .transpose()?;
            ContractField::ResultAgreements(ResultAgreements {
                target_placement_percent: percent(&name, raw.target_placement_percent)?,
                max_duration_months,
                description: field(&name, bounded(&raw.description, LONG_TEXT_MAX, false))?,
            })
        }
        "volume" => {
            let raw = c.volume.as_ref().ok_or_else(|| ApiError::required(&name))?;
            let kind = from_table(&VOLUME_KINDS, raw.kind)
                .ok_or_else(|| ApiError::invalid(&name, "a volume kind is required"))?;
            let count = |v: Option<i32>| {
                v.map(|v| {
                    u32::try_from(v)
                        .map_err(|_| ApiError::invalid(&name, "volumes are not negative"))
                })
                .transpose()
            };
            ContractField::Volume(field(
                &name,
                Volume::new(kind, count(raw.minimum)?, count(raw.maximum)?),
            )?)
        }
        "report_due_days" => ContractField::ReportDueDays(
            u16::try_from(c.report_due_days)
                .ok()
                .filter(|d| (1..=365).contains(d))
                .ok_or_else(|| ApiError::invalid(&name, "must be 1 to 365 days"))?,
        ),
        other => {
            return Err(ApiError::invalid(
                "update_mask",
                format!("{other:?} cannot be changed"),
            ));
        }
    })
}

/// Applies a field; the period is checked afterwards, as a whole.
fn apply(terms: &mut ContractTerms, value: ContractField) {
    match value {
        ContractField::DisplayName(v) => terms.display_name = v,
        ContractField::StartDate(v) => terms.period.start = v,
        ContractField::EndDate(v) => terms.period.end = Some(v),
        ContractField::TargetFases(v) => terms.target_group.fases = v,
        ContractField::TargetDoelgroepen(v) => terms.target_group.doelgroepen = v,
        ContractField::Products(v) => terms.products = v,
        ContractField::PaymentModel(v) => terms.payment_model = v,
        ContractField::InputSharePercent(v) => terms.input_share_percent = v,
        ContractField::PaymentTerms(v) => terms.payment_terms = v,
        ContractField::ResultAgreements(v) => terms.results = v,
        ContractField::Volume(v) => terms.volume = v,
        ContractField::ReportDueDays(v) => terms.report_due_days = v,
    }
}

/// The rules across fields, named by the field the caller should fix.
fn checked(terms: ContractTerms) -> Result<ContractTerms, StoreError> {
    DateSpan::new(terms.period.start, terms.period.end).map_err(|Invalid(reason)| {
        StoreError::Invalid {
            field: "contract.end_date",
            reason,
        }
    })?;
    terms
        .check()
        .map_err(|(field, Invalid(reason))| StoreError::Invalid { field, reason })?;
    Ok(terms)
}

fn new_terms(c: &pb::Contract) -> ApiResult<ContractTerms> {
    let start = date("contract.start_date", c.start_date.as_ref())?;
    let mut terms = ContractTerms {
        display_name: String::new(),
        period: DateSpan { start, end: None },
        target_group: TargetGroup::default(),
        products: Vec::new(),
        payment_model: PaymentModel::FixedPrice,
        input_share_percent: None,
        payment_terms: String::new(),
        results: ResultAgreements::default(),
        volume: Volume::new(VolumeKind::Raamcontract, None, None)
            .map_err(|Invalid(r)| ApiError::invalid("contract.volume", r))?,
        report_due_days: 0,
    };
    for path in MUTABLE_FIELDS.into_iter().filter(|p| *p != "start_date") {
        apply(&mut terms, parse_field(path, c)?);
    }
    Ok(checked(terms)?)
}

fn to_pb(record: ContractRecord) -> pb::Contract {
    let t = record.terms;
    pb::Contract {
        name: format!("{COLLECTION}/{}", record.id),
        gemeente: record.gemeente.to_string(),
        provider: format!("providers/{}", record.provider_id),
        display_name: t.display_name,
        start_date: Some(to_date(t.period.start)),
        end_date: t.period.end.map(to_date),
        target_fases: t
            .target_group
            .fases
            .iter()
            .map(|f| super::classifications::to_pb_fase(*f) as i32)
            .collect(),
        target_doelgroepen: t
            .target_group
            .doelgroepen
            .iter()
            .map(ToString::to_string)
            .collect(),
        products: t.products.iter().map(to_pb_product).collect(),
        payment_model: to_table(&PAYMENT_MODELS, t.payment_model),
        input_share_percent: t.input_share_percent.map(i32::from),
        payment_terms: t.payment_terms,
        result_agreements: Some(pb::ResultAgreements {
            target_placement_percent: t.results.target_placement_percent.map(i32::from),
            max_duration_months: t.results.max_duration_months.map(i32::from),
            description: t.results.description,
        }),
        volume: Some(pb::Volume {
            kind: to_table(&VOLUME_KINDS, t.volume.kind),
            minimum: t.volume.minimum.map(|v| v as i32),
            maximum: t.volume.maximum.map(|v| v as i32),
        }),
        report_due_days: i32::from(t.report_due_days),
        revision: Some(revision(&record.revision)),
    }
}

#[tonic::async_trait]
impl ContractService for ContractApi {
    async fn create_contract(
        &self,
        request: Request<pb::CreateContractRequest>,
    ) -> Result<Response<pb::Contract>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let contract = request
            .contract
            .as_ref()
            .ok_or_else(|| ApiError::required("contract"))?;
        let provider_id = resource_name("contract.provider", &contract.provider, "providers")?;
        let terms = new_terms(contract)?;
        let change = change(&caller, request.change.as_ref(), false)?;
        let record = self
            .store
            .create_contract(&gemeente, provider_id, terms, &change)
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn get_contract(
        &self,
        request: Request<pb::GetContractRequest>,
    ) -> Result<Response<pb::Contract>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let id = resource_name("name", &request.name, COLLECTION)?;
        let horizon = self
            .store
            .horizon(convert::as_of(request.as_of.as_ref())?)
            .await?;
        Ok(Response::new(to_pb(
            self.store.contract(&caller.gemeente, id, horizon).await?,
        )))
    }

    async fn list_contracts(
        &self,
        request: Request<pb::ListContractsRequest>,
    ) -> Result<Response<pb::ListContractsResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let gemeente = own_gemeente(&caller, &request.parent)?;
        let provider = optional_resource_name("provider", &request.provider, "providers")?;
        let page = page_request(
            &self.store,
            request.page_size,
            &request.page_token,
            request.as_of.as_ref(),
        )
        .await?;
        let page = self.store.list_contracts(&gemeente, provider, page).await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListContractsResponse {
            contracts: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_contract(
        &self,
        request: Request<pb::UpdateContractRequest>,
    ) -> Result<Response<pb::Contract>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let contract = request
            .contract
            .as_ref()
            .ok_or_else(|| ApiError::required("contract"))?;
        let id = resource_name("contract.name", &contract.name, COLLECTION)?;
        let values = mask_paths(request.update_mask.as_ref(), &MUTABLE_FIELDS)?
            .into_iter()
            .map(|path| parse_field(path, contract))
            .collect::<ApiResult<Vec<_>>>()?;
        let version = base_version(request.version)?;
        let change = change(&caller, request.change.as_ref(), true)?;
        let record = self
            .store
            .update_contract(&caller.gemeente, id, version, &change, |mut terms| {
                values
                    .into_iter()
                    .for_each(|value| apply(&mut terms, value));
                checked(terms)
            })
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn end_contract(
        &self,
        request: Request<pb::EndContractRequest>,
    ) -> Result<Response<pb::Contract>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let id = resource_name("name", &request.name, COLLECTION)?;
        let end = date("end_date", request.end_date.as_ref())?;
        let version = base_version(request.version)?;
        let change = change(&caller, request.change.as_ref(), true)?;
        let record = self
            .store
            .update_contract(&caller.gemeente, id, version, &change, |terms| {
                Ok(terms.end_on(end)?)
            })
            .await?;
        Ok(Response::new(to_pb(record)))
    }

    async fn list_contract_versions(
        &self,
        request: Request<pb::ListContractVersionsRequest>,
    ) -> Result<Response<pb::ListContractVersionsResponse>, Status> {
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
            .contract_versions(&caller.gemeente, id, page)
            .await?;
        let next_page_token = next_page_token(&page);
        Ok(Response::new(pb::ListContractVersionsResponse {
            versions: page.items.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }
}
