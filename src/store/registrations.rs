//! Registration episodes of a client, each a chain of versions.

use super::client_timeline;
use super::clients::{ensure_client, stale};
use super::entities::registration_versions;
use super::spine::{Spine, version_row};
use super::{
    Page, PageRequest, Store, StoreError, StoreResult, begin_read, clock, latest_as_of, versions,
};
use crate::domain::dates::DateSpan;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::{Change, RecordedAt, Revision};
use crate::domain::registration::{Episode, RegistrationKind};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct RegistrationRecord {
    pub id: Uuid,
    pub client_id: Uuid,
    pub episode: Episode,
    pub revision: Revision,
}

impl Store {
    pub async fn create_registration(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        episode: Episode,
        change: &Change,
    ) -> StoreResult<RegistrationRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        ensure_client(&txn, gemeente, client_id, versions::LATEST).await?;
        ensure_no_overlap(&txn, gemeente, client_id, &episode, None).await?;
        let id = Uuid::now_v7();
        let row = registration_row(
            id,
            gemeente,
            client_id,
            &episode,
            Spine::new(change, recorded_at, 1),
        );
        registration_versions::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        client_timeline::refresh(&txn, gemeente, client_id, recorded_at).await?;
        let record = registration_as_of(&txn, gemeente, client_id, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn registration(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        id: Uuid,
        horizon: RecordedAt,
    ) -> StoreResult<RegistrationRecord> {
        let txn = begin_read(&self.db, gemeente).await?;
        let result = registration_as_of(&txn, gemeente, client_id, id, horizon).await?;
        txn.commit().await?;
        Ok(result)
    }

    /// A client's episodes as known at the page's horizon, by start date.
    pub async fn list_registrations(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<RegistrationRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        ensure_client(&txn, gemeente, client_id, page.horizon).await?;
        let rows = episodes_query(gemeente, client_id, page.horizon)
            .offset(page.offset)
            .limit(page.size + 1)
            .all(&txn)
            .await?;
        let result = Page::from_rows(rows, page).try_map(registration_record)?;
        txn.commit().await?;
        Ok(result)
    }

    pub async fn update_registration(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        id: Uuid,
        expected_version: i64,
        change: &Change,
        change_episode: impl FnOnce(Episode) -> Result<Episode, StoreError>,
    ) -> StoreResult<RegistrationRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        let current = registration_as_of(&txn, gemeente, client_id, id, versions::LATEST).await?;
        if current.revision.version != expected_version {
            return Err(stale(
                "registration",
                current.revision.version,
                expected_version,
            ));
        }
        let episode = change_episode(current.episode)?;
        ensure_no_overlap(&txn, gemeente, client_id, &episode, Some(id)).await?;
        let spine = Spine::new(change, recorded_at, expected_version + 1);
        let row = registration_row(id, gemeente, client_id, &episode, spine);
        registration_versions::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        client_timeline::refresh(&txn, gemeente, client_id, recorded_at).await?;
        let record = registration_as_of(&txn, gemeente, client_id, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn registration_versions(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<RegistrationRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        registration_as_of(&txn, gemeente, client_id, id, page.horizon).await?;
        let result = versions::history::<registration_versions::Entity>(&txn, gemeente, id, page)
            .await?
            .try_map(registration_record)?;
        txn.commit().await?;
        Ok(result)
    }
}

/// Does the client have any episode active on `day` (latest versions)?
pub(super) async fn registered_on(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    day: chrono::NaiveDate,
) -> StoreResult<bool> {
    for row in episodes_query(gemeente, client_id, versions::LATEST)
        .all(db)
        .await?
    {
        if registration_record(row)?.episode.span.contains(day) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn episodes_query(
    gemeente: &GemeenteCode,
    client_id: Uuid,
    horizon: RecordedAt,
) -> sea_orm::Select<registration_versions::Entity> {
    registration_versions::Entity::find()
        .filter(registration_versions::Column::Gemeente.eq(gemeente.as_str()))
        .filter(registration_versions::Column::ClientId.eq(client_id))
        .filter(latest_as_of("registration_versions", horizon))
        .order_by_asc(registration_versions::Column::StartDate)
        .order_by_asc(registration_versions::Column::Id)
}

/// An episode is found under its own client only.
async fn registration_as_of(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    id: Uuid,
    horizon: RecordedAt,
) -> StoreResult<RegistrationRecord> {
    versions::one_as_of::<registration_versions::Entity>(db, gemeente, id, horizon)
        .await?
        .filter(|row| row.client_id == client_id)
        .ok_or(StoreError::NotFound("registration"))
        .and_then(registration_record)
}

async fn ensure_no_overlap(
    txn: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    episode: &Episode,
    except: Option<Uuid>,
) -> StoreResult<()> {
    let others = episodes_query(gemeente, client_id, versions::LATEST)
        .all(txn)
        .await?;
    for other in others.into_iter().filter(|row| Some(row.id) != except) {
        let other = registration_record(other)?;
        if episode.conflicts_with(&other.episode) {
            return Err(StoreError::Precondition {
                rule: "no_overlapping_episodes",
                message: format!(
                    "the client already has a {} episode from {} that overlaps this one",
                    other.episode.kind.as_str(),
                    other.episode.span.start
                ),
            });
        }
    }
    Ok(())
}

fn registration_row(
    id: Uuid,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    episode: &Episode,
    spine: Spine,
) -> registration_versions::ActiveModel {
    version_row!(registration_versions, id, gemeente.as_str().to_owned(), spine, {
        client_id: client_id,
        kind: episode.kind.as_str().to_owned(),
        start_date: episode.span.start,
        end_date: episode.span.end,
    })
}

fn registration_record(row: registration_versions::Model) -> StoreResult<RegistrationRecord> {
    let kind = RegistrationKind::parse_stored(&row.kind)
        .ok_or_else(|| StoreError::corrupt("kind", &row.kind))?;
    let span = DateSpan::new(row.start_date, row.end_date)
        .map_err(|_| StoreError::corrupt("end_date", "before start_date"))?;
    Ok(RegistrationRecord {
        id: row.id,
        client_id: row.client_id,
        episode: Episode { kind, span },
        revision: row.revision()?,
    })
}
