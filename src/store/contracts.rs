//! Contracts with reïntegratiebedrijven. Products, prices and the target
//! group are stored as JSON in each version: they are always read whole, by
//! the rules in `domain::contract`.

use super::clients::stale;
use super::entities::contract_versions;
use super::providers::provider_as_of;
use super::spine::{Spine, version_row};
use super::{
    Page, PageRequest, Store, StoreError, StoreResult, begin_read, clock, latest_as_of, versions,
};
use crate::domain::classification::{ClassificationValue, Fase};
use crate::domain::code::Code;
use crate::domain::contract::{
    ContractTerms, DatedPrice, PaymentModel, PriceUnit, Product, ProductKind, ResultAgreements,
    TargetGroup, Volume, VolumeKind,
};
use crate::domain::dates::DateSpan;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::{Change, RecordedAt, Revision};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct ContractRecord {
    pub id: Uuid,
    pub gemeente: GemeenteCode,
    pub provider_id: Uuid,
    pub terms: ContractTerms,
    pub revision: Revision,
}

#[derive(Serialize, Deserialize)]
struct StoredProduct {
    code: String,
    kind: String,
    description: String,
    unit: String,
    prices: Vec<DatedPrice>,
}

impl Store {
    pub async fn create_contract(
        &self,
        gemeente: &GemeenteCode,
        provider_id: Uuid,
        terms: ContractTerms,
        change: &Change,
    ) -> StoreResult<ContractRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        provider_as_of(&txn, gemeente, provider_id, versions::LATEST).await?;
        super::doelgroepen::ensure_defined(
            &txn,
            gemeente,
            &terms.target_group.doelgroepen,
            "contract.target_doelgroepen",
        )
        .await?;
        let id = Uuid::now_v7();
        let row = contract_row(
            id,
            gemeente,
            provider_id,
            &terms,
            Spine::new(change, recorded_at, 1),
        )?;
        contract_versions::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        let record = contract_as_of(&txn, gemeente, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn contract(
        &self,
        gemeente: &GemeenteCode,
        id: Uuid,
        horizon: RecordedAt,
    ) -> StoreResult<ContractRecord> {
        let txn = begin_read(&self.db, gemeente).await?;
        let result = contract_as_of(&txn, gemeente, id, horizon).await?;
        txn.commit().await?;
        Ok(result)
    }

    pub async fn list_contracts(
        &self,
        gemeente: &GemeenteCode,
        provider_id: Option<Uuid>,
        page: PageRequest,
    ) -> StoreResult<Page<ContractRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        let mut query = contract_versions::Entity::find()
            .filter(contract_versions::Column::Gemeente.eq(gemeente.as_str()))
            .filter(latest_as_of("contract_versions", page.horizon));
        if let Some(provider_id) = provider_id {
            query = query.filter(contract_versions::Column::ProviderId.eq(provider_id));
        }
        let rows = query
            .order_by_asc(contract_versions::Column::StartDate)
            .order_by_asc(contract_versions::Column::Id)
            .offset(page.offset)
            .limit(page.size + 1)
            .all(&txn)
            .await?;
        let result = Page::from_rows(rows, page).try_map(contract_record)?;
        txn.commit().await?;
        Ok(result)
    }

    /// Amends a contract: `amend` turns the latest terms into the new ones,
    /// which must keep every product and dated price.
    pub async fn update_contract(
        &self,
        gemeente: &GemeenteCode,
        id: Uuid,
        expected_version: i64,
        change: &Change,
        amend: impl FnOnce(ContractTerms) -> Result<ContractTerms, StoreError>,
    ) -> StoreResult<ContractRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        let current = contract_as_of(&txn, gemeente, id, versions::LATEST).await?;
        if current.revision.version != expected_version {
            return Err(stale(
                "contract",
                current.revision.version,
                expected_version,
            ));
        }
        let terms = amend(current.terms.clone())?;
        current.terms.check_amendment(&terms)?;
        super::doelgroepen::ensure_defined(
            &txn,
            gemeente,
            &terms.target_group.doelgroepen,
            "contract.target_doelgroepen",
        )
        .await?;
        let spine = Spine::new(change, recorded_at, expected_version + 1);
        let row = contract_row(id, gemeente, current.provider_id, &terms, spine)?;
        contract_versions::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        let record = contract_as_of(&txn, gemeente, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn contract_versions(
        &self,
        gemeente: &GemeenteCode,
        id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<ContractRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        contract_as_of(&txn, gemeente, id, page.horizon).await?;
        let result = versions::history::<contract_versions::Entity>(&txn, gemeente, id, page)
            .await?
            .try_map(contract_record)?;
        txn.commit().await?;
        Ok(result)
    }
}

pub(super) async fn contract_as_of(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    id: Uuid,
    horizon: RecordedAt,
) -> StoreResult<ContractRecord> {
    versions::one_as_of::<contract_versions::Entity>(db, gemeente, id, horizon)
        .await?
        .ok_or(StoreError::NotFound("contract"))
        .and_then(contract_record)
}

fn json<T: Serialize>(column: &'static str, value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::corrupt(column, &e.to_string()))
}

fn contract_row(
    id: Uuid,
    gemeente: &GemeenteCode,
    provider_id: Uuid,
    terms: &ContractTerms,
    spine: Spine,
) -> StoreResult<contract_versions::ActiveModel> {
    let fases: Vec<&str> = terms.target_group.fases.iter().map(|f| f.code()).collect();
    let doelgroepen: Vec<&str> = terms
        .target_group
        .doelgroepen
        .iter()
        .map(Code::as_str)
        .collect();
    let products: Vec<StoredProduct> = terms
        .products
        .iter()
        .map(|p| StoredProduct {
            code: p.code.to_string(),
            kind: p.kind.as_str().to_owned(),
            description: p.description.clone(),
            unit: p.unit.as_str().to_owned(),
            prices: p.prices.clone(),
        })
        .collect();
    let end = terms
        .period
        .end
        .ok_or_else(|| StoreError::corrupt("end_date", "a contract without an end"))?;
    Ok(
        version_row!(contract_versions, id, gemeente.as_str().to_owned(), spine, {
            provider_id: provider_id,
            display_name: terms.display_name.clone(),
            start_date: terms.period.start,
            end_date: end,
            target_fases: json("target_fases", &fases)?,
            target_doelgroepen: json("target_doelgroepen", &doelgroepen)?,
            products: json("products", &products)?,
            payment_model: terms.payment_model.as_str().to_owned(),
            input_share_percent: terms.input_share_percent.map(i32::from),
            payment_terms: terms.payment_terms.clone(),
            target_placement_percent: terms.results.target_placement_percent.map(i32::from),
            max_duration_months: terms.results.max_duration_months.map(i32::from),
            results_description: terms.results.description.clone(),
            volume_kind: terms.volume.kind.as_str().to_owned(),
            volume_minimum: terms.volume.minimum.map(|v| v as i32),
            volume_maximum: terms.volume.maximum.map(|v| v as i32),
            report_due_days: i32::from(terms.report_due_days),
        }),
    )
}

fn contract_record(row: contract_versions::Model) -> StoreResult<ContractRecord> {
    let corrupt = |column: &'static str, value: &str| StoreError::corrupt(column, value);
    let fase_codes: Vec<String> = serde_json::from_str(&row.target_fases)
        .map_err(|_| corrupt("target_fases", &row.target_fases))?;
    let fases = fase_codes
        .iter()
        .map(|code| match ClassificationValue::parse_stored(code) {
            Some(ClassificationValue::Fase(fase)) => Ok::<Fase, StoreError>(fase),
            _ => Err(corrupt("target_fases", code)),
        })
        .collect::<StoreResult<_>>()?;
    let doelgroep_codes: Vec<String> = serde_json::from_str(&row.target_doelgroepen)
        .map_err(|_| corrupt("target_doelgroepen", &row.target_doelgroepen))?;
    let doelgroepen = doelgroep_codes
        .iter()
        .map(|code| Code::parse(code).map_err(|_| corrupt("target_doelgroepen", code)))
        .collect::<StoreResult<_>>()?;
    let stored: Vec<StoredProduct> =
        serde_json::from_str(&row.products).map_err(|_| corrupt("products", &row.products))?;
    let products = stored
        .into_iter()
        .map(|p| {
            Product::new(
                Code::parse(&p.code).map_err(|_| corrupt("products", &p.code))?,
                ProductKind::parse_stored(&p.kind).ok_or_else(|| corrupt("products", &p.kind))?,
                p.description,
                PriceUnit::parse_stored(&p.unit).ok_or_else(|| corrupt("products", &p.unit))?,
                p.prices,
            )
            .map_err(|_| corrupt("products", "prices"))
        })
        .collect::<StoreResult<_>>()?;
    let percent = |column: &'static str, value: Option<i32>| {
        value
            .map(|v| u8::try_from(v).map_err(|_| corrupt(column, &v.to_string())))
            .transpose()
    };
    let count = |column: &'static str, value: Option<i32>| {
        value
            .map(|v| u32::try_from(v).map_err(|_| corrupt(column, &v.to_string())))
            .transpose()
    };
    Ok(ContractRecord {
        id: row.id,
        gemeente: GemeenteCode::parse(&row.gemeente)
            .map_err(|_| corrupt("gemeente", &row.gemeente))?,
        provider_id: row.provider_id,
        revision: row.revision()?,
        terms: ContractTerms {
            display_name: row.display_name,
            period: DateSpan::new(row.start_date, Some(row.end_date))
                .map_err(|_| corrupt("end_date", "before start"))?,
            target_group: TargetGroup { fases, doelgroepen },
            products,
            payment_model: PaymentModel::parse_stored(&row.payment_model)
                .ok_or_else(|| corrupt("payment_model", &row.payment_model))?,
            input_share_percent: percent("input_share_percent", row.input_share_percent)?,
            payment_terms: row.payment_terms,
            results: ResultAgreements {
                target_placement_percent: percent(
                    "target_placement_percent",
                    row.target_placement_percent,
                )?,
                max_duration_months: row
                    .max_duration_months
                    .map(|v| {
                        u16::try_from(v).map_err(|_| corrupt("max_duration_months", &v.to_string()))
                    })
                    .transpose()?,
                description: row.results_description,
            },
            volume: Volume::new(
                VolumeKind::parse_stored(&row.volume_kind)
                    .ok_or_else(|| corrupt("volume_kind", &row.volume_kind))?,
                count("volume_minimum", row.volume_minimum)?,
                count("volume_maximum", row.volume_maximum)?,
            )
            .map_err(|_| corrupt("volume", "minimum above maximum"))?,
            report_due_days: u16::try_from(row.report_due_days)
                .map_err(|_| corrupt("report_due_days", &row.report_due_days.to_string()))?,
        },
    })
}
