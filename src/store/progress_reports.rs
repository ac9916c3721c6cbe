//! Kwartaalrapportages. A batch is judged item by item inside one write
//! transaction: every check runs before an item writes anything, so a bad
//! item is rejected without touching the good ones. Idempotency keys make a
//! retried batch answer as the first one did.

use super::classifications;
use super::clients::stale;
use super::contracts::contract_as_of;
use super::entities::{
    client_versions, progress_report_submissions, progress_report_versions, provider_versions,
};
use super::spine::{Spine, version_row};
use super::trajectories::{
    StoredEnding, TrajectoryRecord, append_reported_lifecycle, records_of, trajectory_as_of,
};
use super::{
    Page, PageRequest, Store, StoreError, StoreResult, as_of, begin_read, begin_snapshot_read,
    clock, latest_as_of, versions,
};
use crate::domain::RuleViolation;
use crate::domain::classification::{Classification, ClassificationValue};
use crate::domain::dates::{DateSpan, Quarter};
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::{Change, RecordedAt, Revision, Source};
use crate::domain::progress::{PhaseAdvice, ProgressReport, ProgressStatus, due_date};
use crate::domain::provider::KvkNumber;
use crate::domain::trajectory::check_start;
use chrono::NaiveDate;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// A casemanager's answer to a phase advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdviceResponse {
    pub accepted: bool,
    pub comment: String,
    /// For an accepted advice: the client and the classification it became.
    pub classification: Option<(Uuid, Uuid)>,
    pub responder: String,
}

#[derive(Debug, Clone)]
pub struct ProgressReportRecord {
    pub id: Uuid,
    pub trajectory_id: Uuid,
    pub report: ProgressReport,
    pub advice_response: Option<AdviceResponse>,
    pub received_at: RecordedAt,
    pub revision: Revision,
}

/// One item of a batch, parsed at the edge.
#[derive(Debug, Clone)]
pub struct SubmissionItem {
    pub idempotency_key: String,
    /// SHA-256 of the item as submitted: a key reused for other content is
    /// refused.
    pub content_hash: String,
    pub trajectory_id: Uuid,
    pub report: ProgressReport,
}

/// Why an item was refused, in the terms of a gRPC status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    InvalidArgument { field: String, message: String },
    NotFound(String),
    FailedPrecondition(RuleViolation),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    Accepted {
        trajectory_id: Uuid,
        quarter: Quarter,
        version: i64,
    },
    Rejected(Rejection),
}

/// The provider principal: its KvK number within one gemeente.
pub struct ProviderScope<'a> {
    pub gemeente: &'a GemeenteCode,
    pub kvk: &'a KvkNumber,
}

/// One expected report that is missing or came late.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueReport {
    pub trajectory_id: Uuid,
    pub quarter: Quarter,
    pub due_date: NaiveDate,
    pub received_at: Option<RecordedAt>,
    pub provider_id: Uuid,
    pub contract_id: Uuid,
    pub casemanager: String,
}

#[derive(Debug, Clone, Default)]
pub struct OverdueFilter {
    pub provider_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub casemanager: Option<String>,
}

/// A trajectory as a provider sees it: the client only by name.
#[derive(Debug, Clone)]
pub struct AssignedTrajectory {
    pub trajectory: TrajectoryRecord,
    pub client_display_name: String,
}

fn not_found() -> Rejection {
    Rejection::NotFound("no trajectory of this provider has that name".into())
}

/// A trajectory under a contract whose reports `overdue_reports` checks.
struct OverdueCandidate {
    id: Uuid,
    contract_id: Option<Uuid>,
    provider_id: Option<Uuid>,
    referral_date: NaiveDate,
    end_date: Option<NaiveDate>,
    casemanager: String,
}

impl OverdueCandidate {
    const COLUMNS: [&str; 6] = [
        "id",
        "contract_id",
        "provider_id",
        "referral_date",
        "end_date",
        "casemanager",
    ];

    fn read(row: &sea_orm::QueryResult) -> StoreResult<Self> {
        Ok(OverdueCandidate {
            id: row.try_get_by_index(0)?,
            contract_id: row.try_get_by_index(1)?,
            provider_id: row.try_get_by_index(2)?,
            referral_date: row.try_get_by_index(3)?,
            end_date: row.try_get_by_index(4)?,
            casemanager: row.try_get_by_index(5)?,
        })
    }
}

impl Store {
    pub async fn submit_progress_reports(
        &self,
        scope: &ProviderScope<'_>,
        items: Vec<Result<SubmissionItem, Rejection>>,
        change: &Change,
        today: NaiveDate,
    ) -> StoreResult<Vec<ItemOutcome>> {
        let (txn, recorded_at) = clock::begin_write(&self.db, scope.gemeente).await?;
        let own_providers = provider_ids(&txn, scope, versions::LATEST).await?;
        let mut outcomes = Vec::with_capacity(items.len());
        for item in items {
            let outcome = match item {
                Err(rejection) => ItemOutcome::Rejected(rejection),
                Ok(item) => {
                    submit_one(
                        &txn,
                        scope,
                        &own_providers,
                        item,
                        change,
                        recorded_at,
                        today,
                    )
                    .await?
                }
            };
            outcomes.push(outcome);
        }
        txn.commit().await?;
        Ok(outcomes)
    }

    pub async fn progress_report(
        &self,
        gemeente: &GemeenteCode,
        trajectory_id: Uuid,
        quarter: Quarter,
        horizon: RecordedAt,
    ) -> StoreResult<ProgressReportRecord> {
        let txn = begin_read(&self.db, gemeente).await?;
        let result = report_as_of(&txn, gemeente, trajectory_id, quarter, horizon)
            .await?
            .ok_or(StoreError::NotFound("progress report"))?;
        txn.commit().await?;
        Ok(result)
    }

    /// A trajectory's reports as known at the page's horizon, by quarter.
    pub async fn list_progress_reports(
        &self,
        gemeente: &GemeenteCode,
        trajectory_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<ProgressReportRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        trajectory_as_of(&txn, gemeente, trajectory_id, page.horizon).await?;
        let rows = progress_report_versions::Entity::find()
            .filter(progress_report_versions::Column::Gemeente.eq(gemeente.as_str()))
            .filter(progress_report_versions::Column::TrajectoryId.eq(trajectory_id))
            .filter(latest_as_of("progress_report_versions", page.horizon))
            .order_by_asc(progress_report_versions::Column::Quarter)
            .offset(page.offset)
            .limit(page.size + 1)
            .all(&txn)
            .await?;
        let result = Page::from_rows(rows, page).try_map(report_record)?;
        txn.commit().await?;
        Ok(result)
    }

    pub async fn progress_report_versions(
        &self,
        gemeente: &GemeenteCode,
        trajectory_id: Uuid,
        quarter: Quarter,
        page: PageRequest,
    ) -> StoreResult<Page<ProgressReportRecord>> {
        let txn = begin_read(&self.db, gemeente).await?;
        let current = report_as_of(&txn, gemeente, trajectory_id, quarter, page.horizon)
            .await?
            .ok_or(StoreError::NotFound("progress report"))?;
        let result =
            versions::history::<progress_report_versions::Entity>(&txn, gemeente, current.id, page)
                .await?
                .try_map(report_record)?;
        txn.commit().await?;
        Ok(result)
    }

    /// Is the trajectory under a contract of this provider (as known at
    /// `horizon`)?
    pub async fn trajectory_of_provider(
        &self,
        scope: &ProviderScope<'_>,
        trajectory_id: Uuid,
        horizon: RecordedAt,
    ) -> StoreResult<bool> {
        let txn = begin_read(&self.db, scope.gemeente).await?;
        let own = provider_ids(&txn, scope, horizon).await?;
        let result = match trajectory_as_of(&txn, scope.gemeente, trajectory_id, horizon).await {
            Ok(trajectory) => Ok(trajectory.provider_id.is_some_and(|id| own.contains(&id))),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(err) => Err(err),
        }?;
        txn.commit().await?;
        Ok(result)
    }

    /// Records a casemanager's answer to the phase advice as a new version
    /// of the report; an accepted advice also becomes a fase classification
    /// with source provider advice.
    pub async fn respond_to_phase_advice(
        &self,
        gemeente: &GemeenteCode,
        trajectory_id: Uuid,
        quarter: Quarter,
        expected_version: i64,
        response: (bool, String, Option<NaiveDate>),
        change: &Change,
    ) -> StoreResult<ProgressReportRecord> {
        let (accept, comment, valid_from) = response;
        let (txn, recorded_at) = clock::begin_write(&self.db, gemeente).await?;
        let current = report_as_of(&txn, gemeente, trajectory_id, quarter, versions::LATEST)
            .await?
            .ok_or(StoreError::NotFound("progress report"))?;
        if current.revision.version != expected_version {
            return Err(stale(
                "progress report",
                current.revision.version,
                expected_version,
            ));
        }
        let advice = current
            .report
            .phase_advice
            .clone()
            .ok_or(StoreError::Precondition {
                rule: "advice_given",
                message: "this report holds no phase advice".into(),
            })?;
        let classification = if accept {
            let trajectory =
                trajectory_as_of(&txn, gemeente, trajectory_id, versions::LATEST).await?;
            let classification = Classification {
                value: ClassificationValue::Fase(advice.fase),
                valid_from: valid_from.unwrap_or_else(|| quarter.next().first_day()),
                motivation: advice_motivation(&advice, &comment),
                classifier: change.actor.subject.clone(),
            };
            let advice_change = Change {
                source: Source::ProviderAdvice,
                ..change.clone()
            };
            let spine = Spine::new(&advice_change, recorded_at, 1);
            let id = classifications::create_in(
                &txn,
                gemeente,
                trajectory.client_id,
                &classification,
                spine,
            )
            .await?;
            Some((trajectory.client_id, id))
        } else {
            None
        };
        let response = AdviceResponse {
            accepted: accept,
            comment,
            classification,
            responder: change.actor.subject.clone(),
        };
        let spine = Spine::new(change, recorded_at, expected_version + 1);
        let row = report_row(
            current.id,
            gemeente,
            trajectory_id,
            &current.report,
            Some(&response),
            current.received_at,
            spine,
        )?;
        progress_report_versions::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        let record = report_as_of(&txn, gemeente, trajectory_id, quarter, versions::LATEST)
            .await?
            .ok_or(StoreError::NotFound("progress report"))?;
        txn.commit().await?;
        Ok(record)
    }

    /// The reports missing or late on `on_date` for trajectories under
    /// contracts, as known at `horizon`: one report is expected for every
    /// quarter a trajectory ran in (referral to end), due the contract's
    /// report-due days after the quarter's end. A report received after the
    /// horizon was still missing then.
    pub async fn overdue_reports(
        &self,
        gemeente: &GemeenteCode,
        filter: &OverdueFilter,
        on_date: NaiveDate,
        horizon: RecordedAt,
    ) -> StoreResult<Vec<OverdueReport>> {
        // One snapshot: whether trajectories changed after the horizon
        // decides how the next statement reads them.
        let txn = begin_snapshot_read(&self.db, gemeente).await?;
        let at = (gemeente, horizon);
        // The trajectories' latest versions as of the horizon, from the table
        // that keeps them (by the index on the casemanager where a
        // casemanager asks, migration 000011), with the history only for
        // those changed since.
        let column = |name: &str| as_of::col("t", name);
        let mut filters = vec![column("contract_id").is_not_null()];
        if let Some(id) = filter.provider_id {
            filters.push(column("provider_id").eq(id));
        }
        if let Some(id) = filter.contract_id {
            filters.push(column("contract_id").eq(id));
        }
        if let Some(casemanager) = &filter.casemanager {
            filters.push(column("casemanager").eq(casemanager.as_str()));
        }
        let changed = as_of::changed_after(&txn, at, "trajectory_current", "recorded_at").await?;
        let query = as_of::latest_versions(
            ("trajectory_versions", "trajectory_current"),
            "t",
            &OverdueCandidate::COLUMNS,
            at,
            filters,
            changed,
        );
        let mut trajectories = txn
            .query_all(&query)
            .await?
            .iter()
            .map(OverdueCandidate::read)
            .collect::<StoreResult<Vec<_>>>()?;
        trajectories.sort_by_key(|t| t.id);
        let ids: Vec<Uuid> = trajectories.iter().map(|t| t.id).collect();
        let mut received: HashMap<(Uuid, String), i64> = HashMap::new();
        for chunk in ids.chunks(500) {
            let reports = progress_report_versions::Entity::find()
                .filter(progress_report_versions::Column::Gemeente.eq(gemeente.as_str()))
                .filter(progress_report_versions::Column::TrajectoryId.is_in(chunk.to_vec()))
                .filter(progress_report_versions::Column::Version.eq(1))
                .filter(progress_report_versions::Column::RecordedAt.lte(horizon.micros()))
                .all(&txn)
                .await?;
            for report in reports {
                received.insert((report.trajectory_id, report.quarter), report.received_at);
            }
        }
        let mut due_days = HashMap::new();
        let mut overdue = Vec::new();
        for row in trajectories {
            let (Some(contract_id), Some(provider_id)) = (row.contract_id, row.provider_id) else {
                continue;
            };
            let days = match due_days.get(&contract_id) {
                Some(days) => *days,
                None => {
                    let days = contract_as_of(&txn, gemeente, contract_id, horizon)
                        .await?
                        .terms
                        .report_due_days;
                    due_days.insert(contract_id, days);
                    days
                }
            };
            let run = DateSpan {
                start: row.referral_date,
                end: row.end_date,
            };
            for quarter in Quarter::overlapping(run, on_date) {
                let due = due_date(quarter, days);
                let received_at = received
                    .get(&(row.id, quarter.to_string()))
                    .map(|at| RecordedAt::from_micros(*at));
                let late = match received_at {
                    None => due < on_date,
                    Some(at) => at.to_datetime().date_naive() > due,
                };
                if late {
                    overdue.push(OverdueReport {
                        trajectory_id: row.id,
                        quarter,
                        due_date: due,
                        received_at,
                        provider_id,
                        contract_id,
                        casemanager: row.casemanager.clone(),
                    });
                }
            }
        }
        txn.commit().await?;
        Ok(overdue)
    }

    /// The trajectories under this provider's contracts, with the client's
    /// name only.
    pub async fn assigned_trajectories(
        &self,
        scope: &ProviderScope<'_>,
        page: PageRequest,
    ) -> StoreResult<Page<AssignedTrajectory>> {
        let txn = begin_read(&self.db, scope.gemeente).await?;
        use super::entities::trajectory_versions::{Column, Entity};
        let own: Vec<Uuid> = provider_ids(&txn, scope, page.horizon)
            .await?
            .into_iter()
            .collect();
        let rows = Entity::find()
            .filter(Column::Gemeente.eq(scope.gemeente.as_str()))
            .filter(Column::ProviderId.is_in(own))
            .filter(latest_as_of("trajectory_versions", page.horizon))
            .order_by_asc(Column::ReferralDate)
            .order_by_asc(Column::Id)
            .offset(page.offset)
            .limit(page.size + 1)
            .all(&txn)
            .await?;
        let horizon = page.horizon;
        let client_ids: Vec<Uuid> = rows.iter().map(|row| row.client_id).collect();
        let page = records_of(&txn, Page::from_rows(rows, page)).await?;
        // The clients' names, in one query.
        let names: HashMap<Uuid, String> = client_versions::Entity::find()
            .filter(client_versions::Column::Gemeente.eq(scope.gemeente.as_str()))
            .filter(client_versions::Column::Id.is_in(client_ids))
            .filter(latest_as_of("client_versions", horizon))
            .all(&txn)
            .await?
            .into_iter()
            .map(|client| {
                let parts = [client.given_name, client.surname_prefix, client.surname];
                let name = parts
                    .into_iter()
                    .filter(|part| !part.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                (client.id, name)
            })
            .collect();
        let items = page
            .items
            .into_iter()
            .map(|trajectory| {
                let client_display_name = names
                    .get(&trajectory.client_id)
                    .cloned()
                    .ok_or(StoreError::NotFound("client"))?;
                Ok(AssignedTrajectory {
                    trajectory,
                    client_display_name,
                })
            })
            .collect::<StoreResult<_>>()?;
        txn.commit().await?;
        Ok(Page {
            items,
            next: page.next,
        })
    }
}

fn advice_motivation(advice: &PhaseAdvice, comment: &str) -> String {
    if comment.is_empty() {
        format!(
            "Fase-advies van de reïntegratiebedrijf: {}",
            advice.motivation
        )
    } else {
        format!(
            "Fase-advies van de reïntegratiebedrijf: {} — casemanager: {comment}",
            advice.motivation
        )
    }
}

/// The provider resources of the gemeente that carry the principal's KvK.
async fn provider_ids(
    db: &impl ConnectionTrait,
    scope: &ProviderScope<'_>,
    horizon: RecordedAt,
) -> StoreResult<HashSet<Uuid>> {
    Ok(provider_versions::Entity::find()
        .filter(provider_versions::Column::Gemeente.eq(scope.gemeente.as_str()))
        .filter(provider_versions::Column::KvkNumber.eq(scope.kvk.as_str()))
        .filter(latest_as_of("provider_versions", horizon))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect())
}

async fn submit_one(
    txn: &impl ConnectionTrait,
    scope: &ProviderScope<'_>,
    own_providers: &HashSet<Uuid>,
    item: SubmissionItem,
    change: &Change,
    recorded_at: RecordedAt,
    today: NaiveDate,
) -> StoreResult<ItemOutcome> {
    let gemeente = scope.gemeente;
    let earlier = progress_report_submissions::Entity::find_by_id((
        gemeente.as_str().to_owned(),
        scope.kvk.as_str().to_owned(),
        item.idempotency_key.clone(),
    ))
    .one(txn)
    .await?;
    if let Some(earlier) = earlier {
        if earlier.content_hash != item.content_hash {
            return Ok(ItemOutcome::Rejected(Rejection::InvalidArgument {
                field: "idempotency_key".into(),
                message: "this key was used before for a different report".into(),
            }));
        }
        let row = progress_report_versions::Entity::find_by_id((
            earlier.report_id,
            earlier.report_version,
        ))
        .one(txn)
        .await?
        .ok_or_else(|| StoreError::corrupt("progress_report_submissions", "report missing"))?;
        let quarter = Quarter::parse(&row.quarter)
            .map_err(|_| StoreError::corrupt("quarter", &row.quarter))?;
        return Ok(ItemOutcome::Accepted {
            trajectory_id: row.trajectory_id,
            quarter,
            version: row.version,
        });
    }
    let trajectory =
        match trajectory_as_of(txn, gemeente, item.trajectory_id, versions::LATEST).await {
            Ok(t) if t.provider_id.is_some_and(|id| own_providers.contains(&id)) => t,
            Ok(_) | Err(StoreError::NotFound(_)) => return Ok(ItemOutcome::Rejected(not_found())),
            Err(err) => return Err(err),
        };
    let lifecycle = &trajectory.trajectory.lifecycle;
    if let Err(violation) = item.report.check(lifecycle, today) {
        return Ok(ItemOutcome::Rejected(Rejection::FailedPrecondition(
            violation,
        )));
    }
    let new_lifecycle = match item.report.apply_to(lifecycle) {
        Ok(new) => new,
        Err(violation) => {
            return Ok(ItemOutcome::Rejected(Rejection::FailedPrecondition(
                violation,
            )));
        }
    };
    if let (Some(new), Some(contract_id)) = (&new_lifecycle, trajectory.contract_id)
        && let Some(start) = new.start()
        && Some(start) != lifecycle.start()
    {
        let contract = contract_as_of(txn, gemeente, contract_id, versions::LATEST).await?;
        if let Err(violation) = check_start(start, Some(&contract.terms)) {
            return Ok(ItemOutcome::Rejected(Rejection::FailedPrecondition(
                violation,
            )));
        }
    }
    let quarter = item.report.quarter;
    let existing = report_as_of(txn, gemeente, trajectory.id, quarter, versions::LATEST).await?;
    let (id, version, received_at) = match &existing {
        Some(report) => (report.id, report.revision.version + 1, report.received_at),
        None => (Uuid::now_v7(), 1, recorded_at),
    };
    let reason = Change {
        reason: Some(format!("kwartaalrapportage {quarter}")),
        ..change.clone()
    };
    let row = report_row(
        id,
        gemeente,
        trajectory.id,
        &item.report,
        None,
        received_at,
        Spine::new(&reason, recorded_at, version),
    )?;
    progress_report_versions::Entity::insert(row)
        .exec_without_returning(txn)
        .await?;
    progress_report_submissions::Entity::insert(progress_report_submissions::ActiveModel {
        gemeente: sea_orm::Set(gemeente.as_str().to_owned()),
        provider_kvk: sea_orm::Set(scope.kvk.as_str().to_owned()),
        idempotency_key: sea_orm::Set(item.idempotency_key),
        report_id: sea_orm::Set(id),
        report_version: sea_orm::Set(version),
        content_hash: sea_orm::Set(item.content_hash),
        recorded_at: sea_orm::Set(recorded_at.micros()),
    })
    .exec_without_returning(txn)
    .await?;
    if let Some(new_lifecycle) = new_lifecycle {
        let spine = Spine::new(&reason, recorded_at, trajectory.revision.version + 1);
        append_reported_lifecycle(txn, gemeente, &trajectory, new_lifecycle, spine, id).await?;
    }
    Ok(ItemOutcome::Accepted {
        trajectory_id: trajectory.id,
        quarter,
        version,
    })
}

async fn report_as_of(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    trajectory_id: Uuid,
    quarter: Quarter,
    horizon: RecordedAt,
) -> StoreResult<Option<ProgressReportRecord>> {
    progress_report_versions::Entity::find()
        .filter(progress_report_versions::Column::Gemeente.eq(gemeente.as_str()))
        .filter(progress_report_versions::Column::TrajectoryId.eq(trajectory_id))
        .filter(progress_report_versions::Column::Quarter.eq(quarter.to_string()))
        .filter(progress_report_versions::Column::RecordedAt.lte(horizon.micros()))
        .order_by_desc(progress_report_versions::Column::Version)
        .one(db)
        .await?
        .map(report_record)
        .transpose()
}

fn json(column: &'static str, value: &[String]) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::corrupt(column, &e.to_string()))
}

fn report_row(
    id: Uuid,
    gemeente: &GemeenteCode,
    trajectory_id: Uuid,
    report: &ProgressReport,
    response: Option<&AdviceResponse>,
    received_at: RecordedAt,
    spine: Spine,
) -> StoreResult<progress_report_versions::ActiveModel> {
    let ending = report.ending.as_ref();
    let job = ending.and_then(|e| e.job.as_ref());
    Ok(
        version_row!(progress_report_versions, id, gemeente.as_str().to_owned(), spine, {
            trajectory_id: trajectory_id,
            quarter: report.quarter.to_string(),
            status: report.status.as_str().to_owned(),
            appointments_planned: report.appointments_planned as i32,
            appointments_kept: report.appointments_kept as i32,
            activities: json("activities", &report.activities)?,
            instruments: json("instruments", &report.instruments)?,
            advice_fase: report.phase_advice.as_ref().map(|a| a.fase.code().to_owned()),
            advice_motivation: report.phase_advice.as_ref().map(|a| a.motivation.clone()),
            next_steps: report.next_steps.clone(),
            reported_start: report.started_on,
            reported_end: ending.map(|e| e.date),
            end_reason: ending.map(|e| e.reason.as_str().to_owned()),
            job_contract_kind: job.map(|j| j.contract_kind.as_str().to_owned()),
            job_hours_per_week: job.map(|j| j.hours_per_week),
            job_title: job.map(|j| j.job_title.clone()),
            employer_name: job.map(|j| j.employer_name.clone()),
            remarks: report.remarks.clone(),
            advice_accepted: response.map(|r| r.accepted),
            advice_comment: response.map(|r| r.comment.clone()),
            advice_client_id: response.and_then(|r| r.classification.map(|(client, _)| client)),
            advice_classification_id: response.and_then(|r| r.classification.map(|(_, id)| id)),
            advice_responder: response.map(|r| r.responder.clone()),
            received_at: received_at.micros(),
        }),
    )
}

fn report_record(row: progress_report_versions::Model) -> StoreResult<ProgressReportRecord> {
    let corrupt = |column: &'static str, value: &str| StoreError::corrupt(column, value);
    let ending = StoredEnding {
        date: row.reported_end,
        reason: row.end_reason.as_deref(),
        job_contract_kind: row.job_contract_kind.as_deref(),
        hours_per_week: row.job_hours_per_week,
        job_title: row.job_title.as_deref(),
        employer_name: row.employer_name.as_deref(),
    }
    .read()?;
    let phase_advice = match (&row.advice_fase, &row.advice_motivation) {
        (Some(code), Some(motivation)) => match ClassificationValue::parse_stored(code) {
            Some(ClassificationValue::Fase(fase)) => Some(PhaseAdvice {
                fase,
                motivation: motivation.clone(),
            }),
            _ => return Err(corrupt("advice_fase", code)),
        },
        _ => None,
    };
    let advice_response = row.advice_accepted.map(|accepted| AdviceResponse {
        accepted,
        comment: row.advice_comment.clone().unwrap_or_default(),
        classification: row.advice_client_id.zip(row.advice_classification_id),
        responder: row.advice_responder.clone().unwrap_or_default(),
    });
    let list = |column: &'static str, raw: &str| -> StoreResult<Vec<String>> {
        serde_json::from_str(raw).map_err(|_| corrupt(column, raw))
    };
    Ok(ProgressReportRecord {
        id: row.id,
        trajectory_id: row.trajectory_id,
        revision: row.revision()?,
        received_at: RecordedAt::from_micros(row.received_at),
        advice_response,
        report: ProgressReport {
            quarter: Quarter::parse(&row.quarter).map_err(|_| corrupt("quarter", &row.quarter))?,
            status: ProgressStatus::parse_stored(&row.status)
                .ok_or_else(|| corrupt("status", &row.status))?,
            appointments_planned: u32::try_from(row.appointments_planned)
                .map_err(|_| corrupt("appointments_planned", "negative"))?,
            appointments_kept: u32::try_from(row.appointments_kept)
                .map_err(|_| corrupt("appointments_kept", "negative"))?,
            activities: list("activities", &row.activities)?,
            instruments: list("instruments", &row.instruments)?,
            phase_advice,
            next_steps: row.next_steps,
            started_on: row.reported_start,
            ending,
            remarks: row.remarks,
        },
    })
}
