//! Clients: one version row per change, the whole client in each.

use super::client_timeline;
use super::entities::client_versions;
use super::spine::{Spine, version_row};
use super::{
    Page, PageRequest, Store, StoreError, StoreResult, begin_read, clock, latest_as_of,
    latest_as_of_in, versions,
};
use crate::domain::bsn::Bsn;
use crate::domain::classification::{Fase, Scheme};
use crate::domain::client::{ClientDetails, EducationLevel};
use crate::domain::doelgroep::DoelgroepCode;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::{Change, RecordedAt, Revision};
use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query, SelectStatement, TableRef};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct ClientRecord {
    pub id: Uuid,
    pub gemeente: GemeenteCode,
    pub details: ClientDetails,
    pub created_at: RecordedAt,
    pub revision: Revision,
}

/// Which clients a listing selects.
#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    pub casemanager: Option<String>,
    pub fase: Option<FaseFilter>,
    pub doelgroep: Option<DoelgroepCode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaseFilter {
    In(Fase),
    NietIngedeeld,
}

impl Store {
    pub async fn create_client(
        &self,
        gemeente: &GemeenteCode,
        details: ClientDetails,
        change: &Change,
    ) -> StoreResult<ClientRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        ensure_bsn_free(&txn, gemeente, &details.bsn, None).await?;
        let id = Uuid::now_v7();
        let row = client_row(
            id,
            gemeente,
            &details,
            recorded_at,
            Spine::new(change, recorded_at, 1),
        )?;
        client_versions::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        client_timeline::refresh(&txn, gemeente, id, recorded_at).await?;
        let record = client_as_of(&txn, gemeente, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    /// The client as known at `horizon`.
    pub async fn client(
        &self,
        gemeente: &GemeenteCode,
        id: Uuid,
        horizon: RecordedAt,
    ) -> StoreResult<ClientRecord> {
        let txn = begin_read(&self.db, gemeente).await?;
        let result = client_as_of(&txn, gemeente, id, horizon).await?;
        txn.commit().await?;
        Ok(result)
    }

    pub async fn list_clients(
        &self,
        gemeente: &GemeenteCode,
        filter: &ClientFilter,
        on_date: NaiveDate,
        page: PageRequest,
    ) -> StoreResult<Page<ClientRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        let mut query = client_versions::Entity::find()
            .filter(client_versions::Column::Gemeente.eq(gemeente.as_str()))
            .filter(latest_as_of("client_versions", page.horizon));
        if let Some(casemanager) = &filter.casemanager {
            query = query.filter(client_versions::Column::Casemanager.eq(casemanager.as_str()));
        }
        if let Some(fase) = filter.fase {
            let fase_on_date = Expr::from(fase_on(on_date, page.horizon));
            query = query.filter(match fase {
                FaseFilter::In(fase) => fase_on_date.eq(fase.code()),
                FaseFilter::NietIngedeeld => fase_on_date.is_null(),
            });
        }
        if let Some(code) = &filter.doelgroep {
            query = query.filter(Expr::exists(in_doelgroep_on(code, on_date, page.horizon)));
        }
        let rows = query
            .order_by_asc(client_versions::Column::Id)
            .offset(page.offset)
            .limit(page.size + 1)
            .all(&txn)
            .await?;
        let result = Page::from_rows(rows, page).try_map(client_record)?;
        txn.commit().await?;
        Ok(result)
    }

    /// Records a new version of a client: `change_details` turns the latest
    /// details into the new ones. `expected_version` must be the latest.
    pub async fn update_client(
        &self,
        gemeente: &GemeenteCode,
        id: Uuid,
        expected_version: i64,
        change: &Change,
        change_details: impl FnOnce(ClientDetails) -> ClientDetails,
    ) -> StoreResult<ClientRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        let current = client_as_of(&txn, gemeente, id, versions::LATEST).await?;
        if current.revision.version != expected_version {
            return Err(stale("client", current.revision.version, expected_version));
        }
        let details = change_details(current.details);
        ensure_bsn_free(&txn, gemeente, &details.bsn, Some(id)).await?;
        let spine = Spine::new(change, recorded_at, expected_version + 1);
        let row = client_row(id, gemeente, &details, current.created_at, spine)?;
        client_versions::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        client_timeline::refresh(&txn, gemeente, id, recorded_at).await?;
        let record = client_as_of(&txn, gemeente, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    /// Every version of a client recorded at or before the page's horizon.
    pub async fn client_versions(
        &self,
        gemeente: &GemeenteCode,
        id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<ClientRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        client_as_of(&txn, gemeente, id, page.horizon).await?;
        let result = versions::history::<client_versions::Entity>(&txn, gemeente, id, page)
            .await?
            .try_map(client_record)?;
        txn.commit().await?;
        Ok(result)
    }
}

fn alias(name: &str) -> Alias {
    Alias::new(name)
}

/// The fase code of the listed client (`client_versions`) on `day`, as
/// known at `horizon`; NULL when niet ingedeeld.
fn fase_on(day: NaiveDate, horizon: RecordedAt) -> SelectStatement {
    let c = || alias("c");
    Query::select()
        .column((c(), alias("value")))
        .from_as(alias("classification_versions"), c())
        .and_where(
            Expr::col((c(), alias("client_id"))).equals((alias("client_versions"), alias("id"))),
        )
        .and_where(Expr::col((c(), alias("scheme"))).eq(Scheme::Fase.as_str()))
        .and_where(Expr::col((c(), alias("valid_from"))).lte(day))
        .and_where(latest_as_of_in("classification_versions", "c", horizon))
        .order_by((c(), alias("valid_from")), Order::Desc)
        .limit(1)
        .to_owned()
}

/// Rows only when the listed client's doelgroep set in force on `day` (the
/// assignment with the latest valid-from on or before it) holds `code`.
fn in_doelgroep_on(code: &DoelgroepCode, day: NaiveDate, horizon: RecordedAt) -> SelectStatement {
    let assignments = "doelgroep_assignment_versions";
    let (a, b, m) = (|| alias("a"), || alias("b"), || alias("m"));
    let latest_valid_from = Query::select()
        .expr(Func::max(Expr::col((b(), alias("valid_from")))))
        .from_as(alias(assignments), b())
        .and_where(Expr::col((b(), alias("client_id"))).equals((a(), alias("client_id"))))
        .and_where(Expr::col((b(), alias("valid_from"))).lte(day))
        .and_where(latest_as_of_in(assignments, "b", horizon))
        .to_owned();
    Query::select()
        .expr(Expr::val(1))
        .from_as(alias(assignments), a())
        .inner_join(
            TableRef::Table(alias("doelgroep_assignment_codes").into(), Some(m().into())),
            Expr::col((m(), alias("assignment_id")))
                .equals((a(), alias("id")))
                .and(Expr::col((m(), alias("version"))).equals((a(), alias("version")))),
        )
        .and_where(
            Expr::col((a(), alias("client_id"))).equals((alias("client_versions"), alias("id"))),
        )
        .and_where(Expr::col((m(), alias("code"))).eq(code.as_str()))
        .and_where(latest_as_of_in(assignments, "a", horizon))
        .and_where(Expr::col((a(), alias("valid_from"))).eq(latest_valid_from))
        .to_owned()
}

pub(super) fn stale(what: &str, latest: i64, expected: i64) -> StoreError {
    StoreError::Stale(format!(
        "the {what} is at version {latest}, the change was based on version {expected}; read it again"
    ))
}

/// The client as known at `horizon`, only within `gemeente`.
pub(super) async fn client_as_of(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    id: Uuid,
    horizon: RecordedAt,
) -> StoreResult<ClientRecord> {
    versions::one_as_of::<client_versions::Entity>(db, gemeente, id, horizon)
        .await?
        .ok_or(StoreError::NotFound("client"))
        .and_then(client_record)
}

/// A BSN identifies one client within a gemeente.
async fn ensure_bsn_free(
    txn: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    bsn: &Bsn,
    except: Option<Uuid>,
) -> StoreResult<()> {
    let mut query = client_versions::Entity::find()
        .filter(client_versions::Column::Gemeente.eq(gemeente.as_str()))
        .filter(client_versions::Column::Bsn.eq(bsn.as_str()))
        .filter(latest_as_of("client_versions", versions::LATEST));
    if let Some(id) = except {
        query = query.filter(client_versions::Column::Id.ne(id));
    }
    match query.one(txn).await? {
        Some(_) => Err(StoreError::AlreadyExists(
            "a client with this BSN is already registered in this gemeente".into(),
        )),
        None => Ok(()),
    }
}

fn client_row(
    id: Uuid,
    gemeente: &GemeenteCode,
    details: &ClientDetails,
    created_at: RecordedAt,
    spine: Spine,
) -> StoreResult<client_versions::ActiveModel> {
    let skills = serde_json::to_string(&details.skills)
        .map_err(|e| StoreError::corrupt("skills", &e.to_string()))?;
    Ok(
        version_row!(client_versions, id, gemeente.as_str().to_owned(), spine, {
            bsn: details.bsn.as_str().to_owned(),
            given_name: details.given_name.clone(),
            surname_prefix: details.surname_prefix.clone(),
            surname: details.surname.clone(),
            birth_date: details.birth_date,
            education_level: details.education_level.as_str().to_owned(),
            work_experience: details.work_experience.clone(),
            skills: skills,
            wishes: details.wishes.clone(),
            notes: details.notes.clone(),
            casemanager: details.casemanager.clone(),
            created_at: created_at.micros(),
        }),
    )
}

fn client_record(row: client_versions::Model) -> StoreResult<ClientRecord> {
    let revision = row.revision()?;
    Ok(ClientRecord {
        id: row.id,
        gemeente: GemeenteCode::parse(&row.gemeente)
            .map_err(|_| StoreError::corrupt("gemeente", &row.gemeente))?,
        details: ClientDetails {
            bsn: Bsn::parse(&row.bsn).map_err(|_| StoreError::corrupt("bsn", "(hidden)"))?,
            given_name: row.given_name,
            surname_prefix: row.surname_prefix,
            surname: row.surname,
            birth_date: row.birth_date,
            education_level: EducationLevel::parse_stored(&row.education_level)
                .ok_or_else(|| StoreError::corrupt("education_level", &row.education_level))?,
            work_experience: row.work_experience,
            skills: serde_json::from_str(&row.skills)
                .map_err(|_| StoreError::corrupt("skills", &row.skills))?,
            wishes: row.wishes,
            notes: row.notes,
            casemanager: row.casemanager,
        },
        created_at: RecordedAt::from_micros(row.created_at),
        revision,
    })
}

/// Used by child resources: the client must exist in the caller's gemeente
/// at `horizon`, else the child is as unknown as the client.
pub(super) async fn ensure_client(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    id: Uuid,
    horizon: RecordedAt,
) -> StoreResult<()> {
    client_as_of(db, gemeente, id, horizon).await.map(|_| ())
}
