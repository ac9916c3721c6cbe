//! Doelgroepen: the gemeente's catalogue of codes, and each client's
//! valid-time history of doelgroep sets (assignments).

use super::client_timeline;
use super::clients::{ensure_client, stale};
use super::entities::{
    doelgroep_assignment_codes, doelgroep_assignment_versions, doelgroep_versions,
};
use super::spine::{Spine, version_row};
use super::{
    Page, PageRequest, Store, StoreError, StoreResult, begin_read, clock, latest_as_of, versions,
};
use crate::domain::classification::in_force_on;
use crate::domain::doelgroep::{DoelgroepCode, DoelgroepSet};
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::{Change, RecordedAt, Revision};
use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;
use uuid::Uuid;

/// A doelgroep as the gemeente defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoelgroepDefinition {
    pub display_name: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct DoelgroepRecord {
    pub gemeente: GemeenteCode,
    pub code: DoelgroepCode,
    pub definition: DoelgroepDefinition,
    pub revision: Revision,
}

/// A client's set of doelgroepen from `valid_from` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub valid_from: NaiveDate,
    pub codes: DoelgroepSet,
}

#[derive(Debug, Clone)]
pub struct AssignmentRecord {
    pub id: Uuid,
    pub client_id: Uuid,
    pub assignment: Assignment,
    pub revision: Revision,
}

impl Store {
    pub async fn create_doelgroep(
        &self,
        gemeente: &GemeenteCode,
        code: DoelgroepCode,
        definition: DoelgroepDefinition,
        change: &Change,
    ) -> StoreResult<DoelgroepRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        if doelgroep_row_as_of(&txn, gemeente, &code, versions::LATEST)
            .await?
            .is_some()
        {
            return Err(StoreError::AlreadyExists(format!(
                "doelgroep {code} is already defined"
            )));
        }
        let spine = Spine::new(change, recorded_at, 1);
        let row = doelgroep_row(Uuid::now_v7(), gemeente, &code, &definition, spine);
        doelgroep_versions::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        let record = doelgroep_as_of(&txn, gemeente, &code, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn doelgroep(
        &self,
        gemeente: &GemeenteCode,
        code: &DoelgroepCode,
        horizon: RecordedAt,
    ) -> StoreResult<DoelgroepRecord> {
        let txn = begin_read(&self.db, gemeente).await?;
        let result = doelgroep_as_of(&txn, gemeente, code, horizon).await?;
        txn.commit().await?;
        Ok(result)
    }

    pub async fn list_doelgroepen(
        &self,
        gemeente: &GemeenteCode,
        page: PageRequest,
    ) -> StoreResult<Page<DoelgroepRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        let rows = doelgroep_versions::Entity::find()
            .filter(doelgroep_versions::Column::Gemeente.eq(gemeente.as_str()))
            .filter(latest_as_of("doelgroep_versions", page.horizon))
            .order_by_asc(doelgroep_versions::Column::Code)
            .offset(page.offset)
            .limit(page.size + 1)
            .all(&txn)
            .await?;
        let result = Page::from_rows(rows, page).try_map(doelgroep_record)?;
        txn.commit().await?;
        Ok(result)
    }

    pub async fn update_doelgroep(
        &self,
        gemeente: &GemeenteCode,
        code: &DoelgroepCode,
        expected_version: i64,
        change: &Change,
        change_definition: impl FnOnce(DoelgroepDefinition) -> DoelgroepDefinition,
    ) -> StoreResult<DoelgroepRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        let current = doelgroep_row_as_of(&txn, gemeente, code, versions::LATEST)
            .await?
            .ok_or(StoreError::NotFound("doelgroep"))?;
        if current.version != expected_version {
            return Err(stale("doelgroep", current.version, expected_version));
        }
        let id = current.id;
        let definition = change_definition(doelgroep_record(current)?.definition);
        let spine = Spine::new(change, recorded_at, expected_version + 1);
        doelgroep_versions::Entity::insert(doelgroep_row(id, gemeente, code, &definition, spine))
            .exec_without_returning(&txn)
            .await?;
        let record = doelgroep_as_of(&txn, gemeente, code, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn create_assignment(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        assignment: Assignment,
        change: &Change,
    ) -> StoreResult<AssignmentRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        ensure_client(&txn, gemeente, client_id, versions::LATEST).await?;
        ensure_assignment_fits(&txn, gemeente, client_id, &assignment, None).await?;
        let id = Uuid::now_v7();
        insert_assignment(
            &txn,
            id,
            gemeente,
            client_id,
            &assignment,
            Spine::new(change, recorded_at, 1),
        )
        .await?;
        let record = assignment_as_of(&txn, gemeente, client_id, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn assignment(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        id: Uuid,
        horizon: RecordedAt,
    ) -> StoreResult<AssignmentRecord> {
        let txn = begin_read(&self.db, gemeente).await?;
        let result = assignment_as_of(&txn, gemeente, client_id, id, horizon).await?;
        txn.commit().await?;
        Ok(result)
    }

    /// The client's assignments as known at the page's horizon, by
    /// valid-from date.
    pub async fn list_assignments(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<AssignmentRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        ensure_client(&txn, gemeente, client_id, page.horizon).await?;
        let rows = timeline_query(gemeente, client_id, page.horizon)
            .offset(page.offset)
            .limit(page.size + 1)
            .all(&txn)
            .await?;
        let page = Page::from_rows(rows, page);
        let mut codes = codes_of(&txn, &page.items).await?;
        let result = page.try_map(|row| assignment_record(row, &mut codes))?;
        txn.commit().await?;
        Ok(result)
    }

    /// The client's doelgroepen on `day` as known at `horizon`.
    pub async fn assignment_on(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        day: NaiveDate,
        horizon: RecordedAt,
    ) -> StoreResult<Option<AssignmentRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        ensure_client(&txn, gemeente, client_id, horizon).await?;
        let result = assignment_on(&txn, gemeente, client_id, day, horizon).await?;
        txn.commit().await?;
        Ok(result)
    }

    pub async fn update_assignment(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        id: Uuid,
        expected_version: i64,
        change: &Change,
        change_assignment: impl FnOnce(Assignment) -> Assignment,
    ) -> StoreResult<AssignmentRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        let current = assignment_as_of(&txn, gemeente, client_id, id, versions::LATEST).await?;
        if current.revision.version != expected_version {
            return Err(stale(
                "doelgroep assignment",
                current.revision.version,
                expected_version,
            ));
        }
        let assignment = change_assignment(current.assignment);
        ensure_assignment_fits(&txn, gemeente, client_id, &assignment, Some(id)).await?;
        let spine = Spine::new(change, recorded_at, expected_version + 1);
        insert_assignment(&txn, id, gemeente, client_id, &assignment, spine).await?;
        let record = assignment_as_of(&txn, gemeente, client_id, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn assignment_versions(
        &self,
        gemeente: &GemeenteCode,
        client_id: Uuid,
        id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<AssignmentRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        assignment_as_of(&txn, gemeente, client_id, id, page.horizon).await?;
        let page =
            versions::history::<doelgroep_assignment_versions::Entity>(&txn, gemeente, id, page)
                .await?;
        let mut codes = codes_of(&txn, &page.items).await?;
        let result = page.try_map(|row| assignment_record(row, &mut codes))?;
        txn.commit().await?;
        Ok(result)
    }
}

pub(super) async fn assignment_on(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    day: NaiveDate,
    horizon: RecordedAt,
) -> StoreResult<Option<AssignmentRecord>> {
    let rows = timeline_query(gemeente, client_id, horizon)
        .filter(doelgroep_assignment_versions::Column::ValidFrom.lte(day))
        .all(db)
        .await?;
    let Some(row) = in_force_on(&rows, day, |row| row.valid_from).cloned() else {
        return Ok(None);
    };
    let mut codes = codes_of(db, std::slice::from_ref(&row)).await?;
    assignment_record(row, &mut codes).map(Some)
}

async fn doelgroep_row_as_of(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    code: &DoelgroepCode,
    horizon: RecordedAt,
) -> StoreResult<Option<doelgroep_versions::Model>> {
    Ok(doelgroep_versions::Entity::find()
        .filter(doelgroep_versions::Column::Gemeente.eq(gemeente.as_str()))
        .filter(doelgroep_versions::Column::Code.eq(code.as_str()))
        .filter(doelgroep_versions::Column::RecordedAt.lte(horizon.micros()))
        .order_by_desc(doelgroep_versions::Column::Version)
        .one(db)
        .await?)
}

async fn doelgroep_as_of(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    code: &DoelgroepCode,
    horizon: RecordedAt,
) -> StoreResult<DoelgroepRecord> {
    doelgroep_row_as_of(db, gemeente, code, horizon)
        .await?
        .ok_or(StoreError::NotFound("doelgroep"))
        .and_then(doelgroep_record)
}

fn doelgroep_row(
    id: Uuid,
    gemeente: &GemeenteCode,
    code: &DoelgroepCode,
    definition: &DoelgroepDefinition,
    spine: Spine,
) -> doelgroep_versions::ActiveModel {
    version_row!(doelgroep_versions, id, gemeente.as_str().to_owned(), spine, {
        code: code.as_str().to_owned(),
        display_name: definition.display_name.clone(),
        description: definition.description.clone(),
    })
}

fn doelgroep_record(row: doelgroep_versions::Model) -> StoreResult<DoelgroepRecord> {
    Ok(DoelgroepRecord {
        gemeente: GemeenteCode::parse(&row.gemeente)
            .map_err(|_| StoreError::corrupt("gemeente", &row.gemeente))?,
        code: DoelgroepCode::parse(&row.code)
            .map_err(|_| StoreError::corrupt("code", &row.code))?,
        revision: row.revision()?,
        definition: DoelgroepDefinition {
            display_name: row.display_name,
            description: row.description,
        },
    })
}

fn timeline_query(
    gemeente: &GemeenteCode,
    client_id: Uuid,
    horizon: RecordedAt,
) -> sea_orm::Select<doelgroep_assignment_versions::Entity> {
    doelgroep_assignment_versions::Entity::find()
        .filter(doelgroep_assignment_versions::Column::Gemeente.eq(gemeente.as_str()))
        .filter(doelgroep_assignment_versions::Column::ClientId.eq(client_id))
        .filter(latest_as_of("doelgroep_assignment_versions", horizon))
        .order_by_asc(doelgroep_assignment_versions::Column::ValidFrom)
        .order_by_asc(doelgroep_assignment_versions::Column::Id)
}

/// Every code must be defined by the gemeente, and one assignment per
/// valid-from date keeps the set on each day unambiguous.
async fn ensure_assignment_fits(
    txn: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    assignment: &Assignment,
    except: Option<Uuid>,
) -> StoreResult<()> {
    for code in &assignment.codes {
        if doelgroep_row_as_of(txn, gemeente, code, versions::LATEST)
            .await?
            .is_none()
        {
            return Err(StoreError::Invalid {
                field: "assignment.codes",
                reason: format!("doelgroep {code} is not defined in gemeente {gemeente}"),
            });
        }
    }
    let clash = timeline_query(gemeente, client_id, versions::LATEST)
        .filter(doelgroep_assignment_versions::Column::ValidFrom.eq(assignment.valid_from))
        .all(txn)
        .await?
        .into_iter()
        .any(|row| Some(row.id) != except);
    if clash {
        return Err(StoreError::Precondition {
            rule: "one_assignment_per_date",
            message: format!(
                "the client already has a doelgroep assignment valid from {}; correct that one instead",
                assignment.valid_from
            ),
        });
    }
    Ok(())
}

/// Every code must be defined in the gemeente's catalogue; `field` names
/// the codes in the caller's request.
pub(super) async fn ensure_defined(
    txn: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    codes: &DoelgroepSet,
    field: &'static str,
) -> StoreResult<()> {
    for code in codes {
        if doelgroep_row_as_of(txn, gemeente, code, versions::LATEST)
            .await?
            .is_none()
        {
            return Err(StoreError::Invalid {
                field,
                reason: format!("doelgroep {code} is not defined in gemeente {gemeente}"),
            });
        }
    }
    Ok(())
}

async fn insert_assignment(
    txn: &impl ConnectionTrait,
    id: Uuid,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    assignment: &Assignment,
    spine: Spine,
) -> StoreResult<()> {
    let version = spine.version;
    let recorded_at = RecordedAt::from_micros(spine.recorded_at);
    let row = version_row!(doelgroep_assignment_versions, id, gemeente.as_str().to_owned(), spine, {
        client_id: client_id,
        valid_from: assignment.valid_from,
    });
    doelgroep_assignment_versions::Entity::insert(row)
        .exec_without_returning(txn)
        .await?;
    if !assignment.codes.is_empty() {
        let members = assignment
            .codes
            .iter()
            .map(|code| doelgroep_assignment_codes::ActiveModel {
                assignment_id: Set(id),
                version: Set(version),
                gemeente: Set(gemeente.as_str().to_owned()),
                code: Set(code.as_str().to_owned()),
            });
        doelgroep_assignment_codes::Entity::insert_many(members)
            .exec_without_returning(txn)
            .await?;
    }
    client_timeline::refresh(txn, gemeente, client_id, recorded_at).await?;
    Ok(())
}

async fn assignment_as_of(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    id: Uuid,
    horizon: RecordedAt,
) -> StoreResult<AssignmentRecord> {
    let row =
        versions::one_as_of::<doelgroep_assignment_versions::Entity>(db, gemeente, id, horizon)
            .await?
            .filter(|row| row.client_id == client_id)
            .ok_or(StoreError::NotFound("doelgroep assignment"))?;
    let mut codes = codes_of(db, std::slice::from_ref(&row)).await?;
    assignment_record(row, &mut codes)
}

type CodesByVersion = HashMap<(Uuid, i64), DoelgroepSet>;

/// The member codes of the given assignment versions, in one query.
async fn codes_of(
    db: &impl ConnectionTrait,
    rows: &[doelgroep_assignment_versions::Model],
) -> StoreResult<CodesByVersion> {
    let mut codes = CodesByVersion::new();
    if rows.is_empty() {
        return Ok(codes);
    }
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let members = doelgroep_assignment_codes::Entity::find()
        .filter(doelgroep_assignment_codes::Column::AssignmentId.is_in(ids))
        .all(db)
        .await?;
    let wanted: std::collections::HashSet<(Uuid, i64)> =
        rows.iter().map(|row| (row.id, row.version)).collect();
    for member in members
        .into_iter()
        .filter(|m| wanted.contains(&(m.assignment_id, m.version)))
    {
        let code = DoelgroepCode::parse(&member.code)
            .map_err(|_| StoreError::corrupt("code", &member.code))?;
        codes
            .entry((member.assignment_id, member.version))
            .or_default()
            .insert(code);
    }
    Ok(codes)
}

fn assignment_record(
    row: doelgroep_assignment_versions::Model,
    codes: &mut CodesByVersion,
) -> StoreResult<AssignmentRecord> {
    Ok(AssignmentRecord {
        id: row.id,
        client_id: row.client_id,
        revision: row.revision()?,
        assignment: Assignment {
            valid_from: row.valid_from,
            codes: codes.remove(&(row.id, row.version)).unwrap_or_default(),
        },
    })
}
