//! Classifications (fase-indeling and participatieladder) of a client: a
//! valid-time history whose entries are themselves versioned, so a
//! correction of a past classification never erases what was known before.

use super::client_timeline;
use super::clients::{ensure_client, stale};
use super::entities::classification_versions;
use super::spine::{Spine, version_row};
use super::{
    Page, PageRequest, Store, StoreError, StoreResult, begin_read, clock, latest_as_of, versions,
};
use crate::domain::classification::{Classification, ClassificationValue, Scheme, in_force_on};
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::{Change, RecordedAt, Revision};
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct ClassificationRecord {
    pub id: Uuid,
    pub client_id: Uuid,
    pub classification: Classification,
    pub revision: Revision,
}

impl Store {
    pub async fn create_classification(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        classification: Classification,
        change: &Change,
    ) -> StoreResult<ClassificationRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        let spine = Spine::new(change, recorded_at, 1);
        let id = create_in(&txn, gemeente, client_id, &classification, spine).await?;
        let record = classification_as_of(&txn, gemeente, client_id, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn classification(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        id: Uuid,
        horizon: RecordedAt,
    ) -> StoreResult<ClassificationRecord> {
        let txn = begin_read(&self.db, gemeente).await?;
        let result = classification_as_of(&txn, gemeente, client_id, id, horizon).await?;
        txn.commit().await?;
        Ok(result)
    }

    /// The client's classifications (of one scheme, or both) as known at the
    /// page's horizon, by valid-from date.
    pub async fn list_classifications(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        scheme: Option<Scheme>,
        page: PageRequest,
    ) -> StoreResult<Page<ClassificationRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        ensure_client(&txn, gemeente, client_id, page.horizon).await?;
        let rows = timeline_query(gemeente, client_id, scheme, page.horizon)
            .offset(page.offset)
            .limit(page.size + 1)
            .all(&txn)
            .await?;
        let result = Page::from_rows(rows, page).try_map(classification_record)?;
        txn.commit().await?;
        Ok(result)
    }

    /// The classification of `scheme` in force on `day`, as known at
    /// `horizon`; `None` is niet ingedeeld.
    pub async fn classification_on(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        scheme: Scheme,
        day: NaiveDate,
        horizon: RecordedAt,
    ) -> StoreResult<Option<ClassificationRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        ensure_client(&txn, gemeente, client_id, horizon).await?;
        let result = classification_on(&txn, gemeente, client_id, scheme, day, horizon).await?;
        txn.commit().await?;
        Ok(result)
    }

    pub async fn update_classification(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        id: Uuid,
        expected_version: i64,
        change: &Change,
        change_classification: impl FnOnce(Classification) -> Classification,
    ) -> StoreResult<ClassificationRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        let current = classification_as_of(&txn, gemeente, client_id, id, versions::LATEST).await?;
        if current.revision.version != expected_version {
            return Err(stale(
                "classification",
                current.revision.version,
                expected_version,
            ));
        }
        let scheme = current.classification.value.scheme();
        let classification = change_classification(current.classification);
        if classification.value.scheme() != scheme {
            return Err(StoreError::Invalid {
                field: "classification.value",
                reason: format!(
                    "the scheme of a classification cannot change (it is {})",
                    scheme.as_str()
                ),
            });
        }
        ensure_valid_from_free(&txn, gemeente, client_id, &classification, Some(id)).await?;
        let spine = Spine::new(change, recorded_at, expected_version + 1);
        let row = classification_row(id, gemeente, client_id, &classification, spine);
        classification_versions::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        client_timeline::refresh(&txn, gemeente, client_id, recorded_at).await?;
        let record = classification_as_of(&txn, gemeente, client_id, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn classification_versions(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<ClassificationRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        classification_as_of(&txn, gemeente, client_id, id, page.horizon).await?;
        let result = versions::history::<classification_versions::Entity>(&txn, gemeente, id, page)
            .await?
            .try_map(classification_record)?;
        txn.commit().await?;
        Ok(result)
    }
}

pub(super) async fn classification_on(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    scheme: Scheme,
    day: NaiveDate,
    horizon: RecordedAt,
) -> StoreResult<Option<ClassificationRecord>> {
    let timeline = timeline_query(gemeente, client_id, Some(scheme), horizon)
        .filter(classification_versions::Column::ValidFrom.lte(day))
        .all(db)
        .await?
        .into_iter()
        .map(classification_record)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(in_force_on(&timeline, day, |r| r.classification.valid_from).cloned())
}

/// Records a new classification inside a write transaction; used by the
/// store's own write paths (e.g. an accepted phase advice).
pub(super) async fn create_in(
    txn: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    classification: &Classification,
    spine: Spine,
) -> StoreResult<Uuid> {
    ensure_client(txn, gemeente, client_id, versions::LATEST).await?;
    ensure_valid_from_free(txn, gemeente, client_id, classification, None).await?;
    let id = Uuid::now_v7();
    let recorded_at = RecordedAt::from_micros(spine.recorded_at);
    let row = classification_row(id, gemeente, client_id, classification, spine);
    classification_versions::Entity::insert(row)
        .exec_without_returning(txn)
        .await?;
    client_timeline::refresh(txn, gemeente, client_id, recorded_at).await?;
    Ok(id)
}

fn timeline_query(
    gemeente: &GemeenteCode,
    client_id: Uuid,
    scheme: Option<Scheme>,
    horizon: RecordedAt,
) -> sea_orm::Select<classification_versions::Entity> {
    let mut query = classification_versions::Entity::find()
        .filter(classification_versions::Column::Gemeente.eq(gemeente.as_str()))
        .filter(classification_versions::Column::ClientId.eq(client_id))
        .filter(latest_as_of("classification_versions", horizon));
    if let Some(scheme) = scheme {
        query = query.filter(classification_versions::Column::Scheme.eq(scheme.as_str()));
    }
    query
        .order_by_asc(classification_versions::Column::ValidFrom)
        .order_by_asc(classification_versions::Column::Scheme)
        .order_by_asc(classification_versions::Column::Id)
}

async fn classification_as_of(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    id: Uuid,
    horizon: RecordedAt,
) -> StoreResult<ClassificationRecord> {
    versions::one_as_of::<classification_versions::Entity>(db, gemeente, id, horizon)
        .await?
        .filter(|row| row.client_id == client_id)
        .ok_or(StoreError::NotFound("classification"))
        .and_then(classification_record)
}

/// Two classifications of one scheme from the same date would make the
/// value on that date ambiguous.
async fn ensure_valid_from_free(
    txn: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    classification: &Classification,
    except: Option<Uuid>,
) -> StoreResult<()> {
    let scheme = classification.value.scheme();
    let clash = timeline_query(gemeente, client_id, Some(scheme), versions::LATEST)
        .filter(classification_versions::Column::ValidFrom.eq(classification.valid_from))
        .all(txn)
        .await?
        .into_iter()
        .any(|row| Some(row.id) != except);
    if clash {
        return Err(StoreError::Precondition {
            rule: "one_classification_per_date",
            message: format!(
                "the client already has a {} classification valid from {}; correct that one instead",
                scheme.as_str(),
                classification.valid_from
            ),
        });
    }
    Ok(())
}

fn classification_row(
    id: Uuid,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    classification: &Classification,
    spine: Spine,
) -> classification_versions::ActiveModel {
    version_row!(classification_versions, id, gemeente.as_str().to_owned(), spine, {
        client_id: client_id,
        scheme: classification.value.scheme().as_str().to_owned(),
        value: classification.value.code(),
        valid_from: classification.valid_from,
        motivation: classification.motivation.clone(),
        classifier: classification.classifier.clone(),
    })
}

fn classification_record(row: classification_versions::Model) -> StoreResult<ClassificationRecord> {
    let value = ClassificationValue::parse_stored(&row.value)
        .ok_or_else(|| StoreError::corrupt("value", &row.value))?;
    if Scheme::parse_stored(&row.scheme) != Some(value.scheme()) {
        return Err(StoreError::corrupt("scheme", &row.scheme));
    }
    Ok(ClassificationRecord {
        id: row.id,
        client_id: row.client_id,
        revision: row.revision()?,
        classification: Classification {
            value,
            valid_from: row.valid_from,
            motivation: row.motivation,
            classifier: row.classifier,
        },
    })
}
