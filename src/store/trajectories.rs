//! Trajectories: a version row per change, with the product lines of each
//! version in `trajectory_lines`. Writes gather the facts the referral rules
//! need (the client's registration, fase and doelgroepen on the referral
//! date; the contract) inside the write transaction and let
//! `domain::trajectory` judge them.

use super::classifications::classification_on;
use super::clients::{ensure_client, stale};
use super::contracts::{ContractRecord, contract_as_of};
use super::doelgroepen::assignment_on;
use super::entities::{trajectory_lines, trajectory_versions};
use super::registrations::registered_on;
use super::spine::{Spine, version_row};
use super::{
    Page, PageRequest, Store, StoreError, StoreResult, begin_read, clock, latest_as_of, versions,
};
use crate::domain::classification::{ClassificationValue, Scheme};
use crate::domain::code::Code;
use crate::domain::contract::PriceUnit;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::{Change, RecordedAt, Revision};
use crate::domain::trajectory::{
    ClientOnReferral, EndReason, Ending, JobContractKind, JobDetails, Lifecycle, Line, LineRequest,
    PricingError, Status, Trajectory, TrajectoryKind, check_referral, check_start, price_lines,
};
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct TrajectoryRecord {
    pub id: Uuid,
    pub client_id: Uuid,
    pub contract_id: Option<Uuid>,
    pub provider_id: Option<Uuid>,
    pub trajectory: Trajectory,
    pub revision: Revision,
}

/// A referral as the casemanager asks for it.
#[derive(Debug, Clone)]
pub struct Referral {
    pub client_id: Uuid,
    pub contract_id: Option<Uuid>,
    pub kind: TrajectoryKind,
    pub casemanager: String,
    pub referral_date: NaiveDate,
    pub lines: Vec<LineRequest>,
    pub target_group_exception: Option<String>,
}

/// A correction of a recorded trajectory; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct Correction {
    pub kind: Option<TrajectoryKind>,
    pub casemanager: Option<String>,
    pub referral_date: Option<NaiveDate>,
    pub start_date: Option<Option<NaiveDate>>,
    pub ending: Option<Option<Ending>>,
    pub lines: Option<Vec<LineRequest>>,
    pub target_group_exception: Option<Option<String>>,
}

/// A step in a trajectory's life.
#[derive(Debug, Clone)]
pub enum TrajectoryChange {
    Start(NaiveDate),
    End(Ending),
    Correct(Correction),
}

/// Which trajectories a listing selects.
#[derive(Debug, Clone, Default)]
pub struct TrajectoryFilter {
    pub client_id: Option<Uuid>,
    pub provider_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub casemanager: Option<String>,
    pub status: Option<Status>,
}

impl Store {
    pub async fn create_trajectory(
        &self,
        gemeente: &GemeenteCode,
        referral: Referral,
        change: &Change,
    ) -> StoreResult<TrajectoryRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        ensure_client(&txn, gemeente, referral.client_id, versions::LATEST).await?;
        let contract = match referral.contract_id {
            Some(id) => Some(contract_as_of(&txn, gemeente, id, versions::LATEST).await?),
            None => None,
        };
        let terms = contract.as_ref().map(|c| &c.terms);
        let client = client_on(&txn, gemeente, referral.client_id, referral.referral_date).await?;
        check_referral(
            referral.referral_date,
            terms,
            &client,
            referral.target_group_exception.as_deref(),
        )?;
        let lines = priced(&referral.lines, contract.as_ref(), referral.referral_date)?;
        let trajectory = Trajectory {
            kind: referral.kind,
            casemanager: referral.casemanager,
            lifecycle: Lifecycle::referred(referral.referral_date),
            lines,
            target_group_exception: referral.target_group_exception,
        };
        let id = Uuid::now_v7();
        let (contract_id, provider_id) = (
            contract.as_ref().map(|c| c.id),
            contract.as_ref().map(|c| c.provider_id),
        );
        let parties = Parties {
            id,
            client_id: referral.client_id,
            contract_id,
            provider_id,
        };
        insert(
            &txn,
            gemeente,
            &parties,
            &trajectory,
            Spine::new(change, recorded_at, 1),
            None,
        )
        .await?;
        let record = trajectory_as_of(&txn, gemeente, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn trajectory(
        &self,
        gemeente: &GemeenteCode,
        id: Uuid,
        horizon: RecordedAt,
    ) -> StoreResult<TrajectoryRecord> {
        let txn = begin_read(&self.db, gemeente).await?;
        let result = trajectory_as_of(&txn, gemeente, id, horizon).await?;
        txn.commit().await?;
        Ok(result)
    }

    /// Trajectories as known at the page's horizon, by referral date. With
    /// a client filter this is "the client's other trajectories", served by
    /// the index on `client_id`.
    pub async fn list_trajectories(
        &self,
        gemeente: &GemeenteCode,
        filter: &TrajectoryFilter,
        page: PageRequest,
    ) -> StoreResult<Page<TrajectoryRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        use trajectory_versions::Column;
        let mut query = trajectory_versions::Entity::find()
            .filter(Column::Gemeente.eq(gemeente.as_str()))
            .filter(latest_as_of("trajectory_versions", page.horizon));
        if let Some(id) = filter.client_id {
            query = query.filter(Column::ClientId.eq(id));
        }
        if let Some(id) = filter.provider_id {
            query = query.filter(Column::ProviderId.eq(id));
        }
        if let Some(id) = filter.contract_id {
            query = query.filter(Column::ContractId.eq(id));
        }
        if let Some(casemanager) = &filter.casemanager {
            query = query.filter(Column::Casemanager.eq(casemanager.as_str()));
        }
        query = match filter.status {
            None => query,
            Some(Status::Doorverwezen) => query
                .filter(Column::StartDate.is_null())
                .filter(Column::EndDate.is_null()),
            Some(Status::Lopend) => query
                .filter(Column::StartDate.is_not_null())
                .filter(Column::EndDate.is_null()),
            Some(Status::Beeindigd) => query.filter(Column::EndDate.is_not_null()),
        };
        let rows = query
            .order_by_asc(Column::ReferralDate)
            .order_by_asc(Column::Id)
            .offset(page.offset)
            .limit(page.size + 1)
            .all(&txn)
            .await?;
        let result = records_of(&txn, Page::from_rows(rows, page)).await?;
        txn.commit().await?;
        Ok(result)
    }

    /// Starts, ends or corrects a trajectory. The rules are checked for what
    /// changes: the referral rules when the referral date moves, the contract
    /// period when the start moves, the lifecycle always; prices are copied
    /// again when the referral date or the lines change.
    pub async fn change_trajectory(
        &self,
        gemeente: &GemeenteCode,
        id: Uuid,
        expected_version: i64,
        change: &Change,
        step: TrajectoryChange,
    ) -> StoreResult<TrajectoryRecord> {
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        let current = trajectory_as_of(&txn, gemeente, id, versions::LATEST).await?;
        if current.revision.version != expected_version {
            return Err(stale(
                "trajectory",
                current.revision.version,
                expected_version,
            ));
        }
        let contract = match current.contract_id {
            Some(contract_id) => {
                Some(contract_as_of(&txn, gemeente, contract_id, versions::LATEST).await?)
            }
            None => None,
        };
        let terms = contract.as_ref().map(|c| &c.terms);
        let before = current.trajectory.clone();
        let mut after = before.clone();
        let mut new_lines = None;
        match step {
            TrajectoryChange::Start(date) => {
                after.lifecycle = before.lifecycle.clone().start_on(date)?
            }
            TrajectoryChange::End(ending) => {
                after.lifecycle = before.lifecycle.clone().end(ending)?
            }
            TrajectoryChange::Correct(correction) => {
                after.lifecycle = Lifecycle::from_parts(
                    correction
                        .referral_date
                        .unwrap_or(before.lifecycle.referral()),
                    correction.start_date.unwrap_or(before.lifecycle.start()),
                    correction
                        .ending
                        .unwrap_or_else(|| before.lifecycle.ending().cloned()),
                )?;
                after.kind = correction.kind.unwrap_or(before.kind);
                after.casemanager = correction
                    .casemanager
                    .unwrap_or_else(|| before.casemanager.clone());
                after.target_group_exception = correction
                    .target_group_exception
                    .unwrap_or_else(|| before.target_group_exception.clone());
                new_lines = correction.lines;
            }
        }
        let referral = after.lifecycle.referral();
        if referral != before.lifecycle.referral()
            || after.target_group_exception != before.target_group_exception
        {
            let client = client_on(&txn, gemeente, current.client_id, referral).await?;
            check_referral(
                referral,
                terms,
                &client,
                after.target_group_exception.as_deref(),
            )?;
        }
        if let Some(start) = after.lifecycle.start()
            && Some(start) != before.lifecycle.start()
        {
            check_start(start, terms)?;
        }
        if referral != before.lifecycle.referral() || new_lines.is_some() {
            let requests =
                new_lines.unwrap_or_else(|| before.lines.iter().map(Line::as_request).collect());
            after.lines = priced(&requests, contract.as_ref(), referral)?;
        }
        let parties = Parties {
            id,
            client_id: current.client_id,
            contract_id: current.contract_id,
            provider_id: current.provider_id,
        };
        insert(
            &txn,
            gemeente,
            &parties,
            &after,
            Spine::new(change, recorded_at, expected_version + 1),
            None,
        )
        .await?;
        let record = trajectory_as_of(&txn, gemeente, id, versions::LATEST).await?;
        txn.commit().await?;
        Ok(record)
    }

    pub async fn trajectory_versions(
        &self,
        gemeente: &GemeenteCode,
        id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<TrajectoryRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        trajectory_as_of(&txn, gemeente, id, page.horizon).await?;
        let page =
            versions::history::<trajectory_versions::Entity>(&txn, gemeente, id, page).await?;
        let mut lines = lines_of(&txn, &page.items).await?;
        let result = page.try_map(|row| trajectory_record(row, &mut lines))?;
        txn.commit().await?;
        Ok(result)
    }

    /// The clients the given trajectories of the gemeente belong to, for the
    /// processing log of calls that name only trajectories. A trajectory's
    /// client never changes, so any version answers.
    pub async fn clients_of_trajectories(
        &self,
        gemeente: &GemeenteCode,
        ids: &[Uuid],
    ) -> StoreResult<Vec<Uuid>> {
        let txn = begin_read(&self.db, gemeente).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut clients = Vec::new();
        for chunk in ids.chunks(1_000) {
            let found: Vec<Uuid> = trajectory_versions::Entity::find()
                .select_only()
                .column(trajectory_versions::Column::ClientId)
                .distinct()
                .filter(trajectory_versions::Column::Gemeente.eq(gemeente.as_str()))
                .filter(trajectory_versions::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&txn)
                .await?;
            clients.extend(found);
        }
        clients.sort_unstable();
        clients.dedup();
        txn.commit().await?;
        Ok(clients)
    }
}

/// The facts about the client on the referral date that the rules need.
async fn client_on(
    txn: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    day: NaiveDate,
) -> StoreResult<ClientOnReferral> {
    let fase = classification_on(
        txn,
        gemeente,
        client_id,
        Scheme::Fase,
        day,
        versions::LATEST,
    )
    .await?
    .and_then(|record| match record.classification.value {
        ClassificationValue::Fase(fase) => Some(fase),
        ClassificationValue::Trede(_) => None,
    });
    let doelgroepen = assignment_on(txn, gemeente, client_id, day, versions::LATEST)
        .await?
        .map(|record| record.assignment.codes)
        .unwrap_or_default();
    Ok(ClientOnReferral {
        registered: registered_on(txn, gemeente, client_id, day).await?,
        fase,
        doelgroepen,
    })
}

fn priced(
    requests: &[LineRequest],
    contract: Option<&ContractRecord>,
    referral: NaiveDate,
) -> StoreResult<Vec<Line>> {
    price_lines(requests, contract.map(|c| &c.terms), referral).map_err(|err| match err {
        PricingError::UnknownProduct(invalid) => StoreError::Invalid {
            field: "trajectory.lines",
            reason: invalid.0,
        },
        PricingError::NoPrice(violation) => violation.into(),
    })
}

/// Who and what a trajectory is about; fixed at the referral.
struct Parties {
    id: Uuid,
    client_id: Uuid,
    contract_id: Option<Uuid>,
    provider_id: Option<Uuid>,
}

async fn insert(
    txn: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    record: &Parties,
    t: &Trajectory,
    spine: Spine,
    progress_report_id: Option<Uuid>,
) -> StoreResult<()> {
    let ending = t.lifecycle.ending();
    let job = ending.and_then(|e| e.job.as_ref());
    let version = spine.version;
    let row = version_row!(trajectory_versions, record.id, gemeente.as_str().to_owned(), spine, {
        client_id: record.client_id,
        contract_id: record.contract_id,
        provider_id: record.provider_id,
        kind: t.kind.as_str().to_owned(),
        casemanager: t.casemanager.clone(),
        referral_date: t.lifecycle.referral(),
        start_date: t.lifecycle.start(),
        end_date: ending.map(|e| e.date),
        end_reason: ending.map(|e| e.reason.as_str().to_owned()),
        job_contract_kind: job.map(|j| j.contract_kind.as_str().to_owned()),
        job_hours_per_week: job.map(|j| j.hours_per_week),
        job_title: job.map(|j| j.job_title.clone()),
        employer_name: job.map(|j| j.employer_name.clone()),
        target_group_exception: t.target_group_exception.clone(),
        progress_report_id: progress_report_id,
    });
    // The lines first: the version's insert then finds them, and the
    // database's table of latest versions takes their cost with the
    // version instead of updating its row once more for the lines
    // (migration m20261125_000007; either order gives the same rows).
    if !t.lines.is_empty() {
        let lines = t
            .lines
            .iter()
            .zip(1..)
            .map(|(line, line_no)| trajectory_lines::ActiveModel {
                trajectory_id: Set(record.id),
                version: Set(version),
                gemeente: Set(gemeente.as_str().to_owned()),
                line_no: Set(line_no),
                product_code: Set(line.product_code.to_string()),
                quantity: Set(line.quantity as i32),
                unit: Set(line.unit.as_str().to_owned()),
                unit_price_cents: Set(line.unit_price_cents),
            });
        trajectory_lines::Entity::insert_many(lines)
            .exec_without_returning(txn)
            .await?;
    }
    trajectory_versions::Entity::insert(row)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Records a new version of `current` with another lifecycle, from a
/// provider's kwartaalrapportage.
pub(super) async fn append_reported_lifecycle(
    txn: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    current: &TrajectoryRecord,
    lifecycle: Lifecycle,
    spine: Spine,
    report_id: Uuid,
) -> StoreResult<()> {
    let parties = Parties {
        id: current.id,
        client_id: current.client_id,
        contract_id: current.contract_id,
        provider_id: current.provider_id,
    };
    let trajectory = Trajectory {
        lifecycle,
        ..current.trajectory.clone()
    };
    insert(txn, gemeente, &parties, &trajectory, spine, Some(report_id)).await
}

pub(super) async fn trajectory_as_of(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    id: Uuid,
    horizon: RecordedAt,
) -> StoreResult<TrajectoryRecord> {
    let row = versions::one_as_of::<trajectory_versions::Entity>(db, gemeente, id, horizon)
        .await?
        .ok_or(StoreError::NotFound("trajectory"))?;
    let mut lines = lines_of(db, std::slice::from_ref(&row)).await?;
    trajectory_record(row, &mut lines)
}

/// A page of trajectory version rows with their lines, in one query.
pub(super) async fn records_of(
    db: &impl ConnectionTrait,
    page: Page<trajectory_versions::Model>,
) -> StoreResult<Page<TrajectoryRecord>> {
    let mut lines = lines_of(db, &page.items).await?;
    page.try_map(|row| trajectory_record(row, &mut lines))
}

type LinesByVersion = HashMap<(Uuid, i64), Vec<trajectory_lines::Model>>;

/// The lines of the given trajectory versions, in one query.
async fn lines_of(
    db: &impl ConnectionTrait,
    rows: &[trajectory_versions::Model],
) -> StoreResult<LinesByVersion> {
    let mut lines = LinesByVersion::new();
    if rows.is_empty() {
        return Ok(lines);
    }
    let mut condition = sea_orm::Condition::any();
    for row in rows {
        condition = condition.add(
            Expr::col(trajectory_lines::Column::TrajectoryId)
                .eq(row.id)
                .and(Expr::col(trajectory_lines::Column::Version).eq(row.version)),
        );
    }
    let found = trajectory_lines::Entity::find()
        .filter(condition)
        .order_by_asc(trajectory_lines::Column::LineNo)
        .all(db)
        .await?;
    for line in found {
        lines
            .entry((line.trajectory_id, line.version))
            .or_default()
            .push(line);
    }
    Ok(lines)
}

/// The columns an ending is stored in, on trajectory and report versions.
pub(super) struct StoredEnding<'a> {
    pub date: Option<NaiveDate>,
    pub reason: Option<&'a str>,
    pub job_contract_kind: Option<&'a str>,
    pub hours_per_week: Option<f64>,
    pub job_title: Option<&'a str>,
    pub employer_name: Option<&'a str>,
}

impl StoredEnding<'_> {
    pub fn read(self) -> StoreResult<Option<Ending>> {
        let corrupt = |column: &'static str, value: &str| StoreError::corrupt(column, value);
        let job = match (
            self.job_contract_kind,
            self.hours_per_week,
            self.job_title,
            self.employer_name,
        ) {
            (Some(kind), Some(hours), Some(title), Some(employer)) => Some(
                JobDetails::new(
                    JobContractKind::parse_stored(kind)
                        .ok_or_else(|| corrupt("job_contract_kind", kind))?,
                    hours,
                    title,
                    employer,
                )
                .map_err(|(column, _)| corrupt(column, "invalid job"))?,
            ),
            _ => None,
        };
        match (self.date, self.reason) {
            (Some(date), Some(reason)) => Ending::new(
                date,
                EndReason::parse_stored(reason).ok_or_else(|| corrupt("end_reason", reason))?,
                job,
            )
            .map(Some)
            .map_err(|(column, _)| corrupt(column, "job does not fit the end reason")),
            (None, None) => Ok(None),
            _ => Err(corrupt(
                "end_reason",
                "end date and reason must go together",
            )),
        }
    }
}

fn trajectory_record(
    row: trajectory_versions::Model,
    lines: &mut LinesByVersion,
) -> StoreResult<TrajectoryRecord> {
    let corrupt = |column: &'static str, value: &str| StoreError::corrupt(column, value);
    let ending = StoredEnding {
        date: row.end_date,
        reason: row.end_reason.as_deref(),
        job_contract_kind: row.job_contract_kind.as_deref(),
        hours_per_week: row.job_hours_per_week,
        job_title: row.job_title.as_deref(),
        employer_name: row.employer_name.as_deref(),
    }
    .read()?;
    let lifecycle = Lifecycle::from_parts(row.referral_date, row.start_date, ending)
        .map_err(|violation| corrupt("referral_date", violation.rule))?;
    let lines = lines
        .remove(&(row.id, row.version))
        .unwrap_or_default()
        .into_iter()
        .map(|line| {
            Ok(Line {
                product_code: Code::parse(&line.product_code)
                    .map_err(|_| corrupt("product_code", &line.product_code))?,
                quantity: u32::try_from(line.quantity)
                    .map_err(|_| corrupt("quantity", &line.quantity.to_string()))?,
                unit: PriceUnit::parse_stored(&line.unit)
                    .ok_or_else(|| corrupt("unit", &line.unit))?,
                unit_price_cents: line.unit_price_cents,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(TrajectoryRecord {
        id: row.id,
        client_id: row.client_id,
        contract_id: row.contract_id,
        provider_id: row.provider_id,
        revision: row.revision()?,
        trajectory: Trajectory {
            kind: TrajectoryKind::parse_stored(&row.kind)
                .ok_or_else(|| corrupt("kind", &row.kind))?,
            casemanager: row.casemanager,
            lifecycle,
            lines,
            target_group_exception: row.target_group_exception,
        },
    })
}
