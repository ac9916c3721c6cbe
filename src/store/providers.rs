//! The gemeente's register of reïntegratiebedrijven.

use super::clients::stale;
use super::entities::provider_versions;
use super::spine::{Spine, version_row};
use super::{
    Page, PageRequest, Store, StoreError, StoreResult, begin_read, clock, latest_as_of, versions,
};
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::{Change, RecordedAt, Revision};
use crate::domain::provider::{KvkNumber, ProviderDetails, ProviderKind, ProviderSize};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct ProviderRecord {
    pub id: Uuid,
    pub gemeente: GemeenteCode,
    pub details: ProviderDetails,
    pub revision: Revision,
}

impl Store {
    pub async fn create_provider(
        &self,
        gemeente: &GemeenteCode,
        details: ProviderDetails,
        change: &Change,
    ) -> StoreResult<ProviderRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        ensure_kvk_free(&txn, gemeente, &details.kvk_number, None).await?;
        let id = Uuid::now_v7();
        let row = provider_row(id, gemeente, &details, Spine::new(change, recorded_at, 1))?;
        provider_versions::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        let record = provider_as_of(&txn, gemeente, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn provider(
        &self,
        gemeente: &GemeenteCode,
        id: Uuid,
        horizon: RecordedAt,
    ) -> StoreResult<ProviderRecord> {
        let txn = begin_read(&self.db, gemeente).await?;
        let result = provider_as_of(&txn, gemeente, id, horizon).await?;
        txn.commit().await?;
        Ok(result)
    }

    pub async fn list_providers(
        &self,
        gemeente: &GemeenteCode,
        page: PageRequest,
    ) -> StoreResult<Page<ProviderRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        let rows = provider_versions::Entity::find()
            .filter(provider_versions::Column::Gemeente.eq(gemeente.as_str()))
            .filter(latest_as_of("provider_versions", page.horizon))
            .order_by_asc(provider_versions::Column::DisplayName)
            .order_by_asc(provider_versions::Column::Id)
            .offset(page.offset)
            .limit(page.size + 1)
            .all(&txn)
            .await?;
        let result = Page::from_rows(rows, page).try_map(provider_record)?;
        txn.commit().await?;
        Ok(result)
    }

    pub async fn update_provider(
        &self,
        gemeente: &GemeenteCode,
        id: Uuid,
        expected_version: i64,
        change: &Change,
        change_details: impl FnOnce(ProviderDetails) -> ProviderDetails,
    ) -> StoreResult<ProviderRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        let current = provider_as_of(&txn, gemeente, id, versions::LATEST).await?;
        if current.revision.version != expected_version {
            return Err(stale(
                "provider",
                current.revision.version,
                expected_version,
            ));
        }
        let details = change_details(current.details);
        ensure_kvk_free(&txn, gemeente, &details.kvk_number, Some(id)).await?;
        let row = provider_row(
            id,
            gemeente,
            &details,
            Spine::new(change, recorded_at, expected_version + 1),
        )?;
        provider_versions::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        let record = provider_as_of(&txn, gemeente, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn provider_versions(
        &self,
        gemeente: &GemeenteCode,
        id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<ProviderRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        provider_as_of(&txn, gemeente, id, page.horizon).await?;
        let result = versions::history::<provider_versions::Entity>(&txn, gemeente, id, page)
            .await?
            .try_map(provider_record)?;
        txn.commit().await?;
        Ok(result)
    }
}

pub(super) async fn provider_as_of(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    id: Uuid,
    horizon: RecordedAt,
) -> StoreResult<ProviderRecord> {
    versions::one_as_of::<provider_versions::Entity>(db, gemeente, id, horizon)
        .await?
        .ok_or(StoreError::NotFound("provider"))
        .and_then(provider_record)
}

/// A KvK number identifies one provider in a gemeente's register.
async fn ensure_kvk_free(
    txn: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    kvk: &KvkNumber,
    except: Option<Uuid>,
) -> StoreResult<()> {
    let mut query = provider_versions::Entity::find()
        .filter(provider_versions::Column::Gemeente.eq(gemeente.as_str()))
        .filter(provider_versions::Column::KvkNumber.eq(kvk.as_str()))
        .filter(latest_as_of("provider_versions", versions::LATEST));
    if let Some(id) = except {
        query = query.filter(provider_versions::Column::Id.ne(id));
    }
    match query.one(txn).await? {
        Some(_) => Err(StoreError::AlreadyExists(format!(
            "a provider with KvK number {kvk} is already registered"
        ))),
        None => Ok(()),
    }
}

fn provider_row(
    id: Uuid,
    gemeente: &GemeenteCode,
    details: &ProviderDetails,
    spine: Spine,
) -> StoreResult<provider_versions::ActiveModel> {
    let specialisations = serde_json::to_string(&details.specialisations)
        .map_err(|e| StoreError::corrupt("specialisations", &e.to_string()))?;
    Ok(
        version_row!(provider_versions, id, gemeente.as_str().to_owned(), spine, {
            display_name: details.display_name.clone(),
            kvk_number: details.kvk_number.as_str().to_owned(),
            kind: details.kind.as_str().to_owned(),
            size: details.size.as_str().to_owned(),
            specialisations: specialisations,
        }),
    )
}

fn provider_record(row: provider_versions::Model) -> StoreResult<ProviderRecord> {
    Ok(ProviderRecord {
        id: row.id,
        gemeente: GemeenteCode::parse(&row.gemeente)
            .map_err(|_| StoreError::corrupt("gemeente", &row.gemeente))?,
        revision: row.revision()?,
        details: ProviderDetails {
            display_name: row.display_name,
            kvk_number: KvkNumber::parse(&row.kvk_number)
                .map_err(|_| StoreError::corrupt("kvk_number", &row.kvk_number))?,
            kind: ProviderKind::parse_stored(&row.kind)
                .ok_or_else(|| StoreError::corrupt("kind", &row.kind))?,
            size: ProviderSize::parse_stored(&row.size)
                .ok_or_else(|| StoreError::corrupt("size", &row.size))?,
            specialisations: serde_json::from_str(&row.specialisations)
                .map_err(|_| StoreError::corrupt("specialisations", &row.specialisations))?,
        },
    })
}
