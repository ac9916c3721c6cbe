//! The bulk writer of demo data, for benchmark-sized gemeenten (a million
//! clients): the facts `plan_client` draws, written as the very version rows
//! the store writes, but thousands per statement and per transaction instead
//! of one transaction per fact. Each transaction still begins as the store's
//! writes do (`store::begin_write`): it takes its `recorded_at` from the
//! transaction clock and sets the tenant for row-level security, so
//! transaction times stay strictly increasing and `as_of` reads keep their
//! meaning; a trajectory's later versions (start, end, correction) are
//! written in later transactions than its referral, as they would be in real
//! life. The rules are not checked again here: the generator already judged
//! every fact by the store's domain rules, and the test `demo_bulk` checks
//! that both writers give the same report.

use super::{ClientPlan, Generated, Random, Setup, TrajectoryPlan, plan_client, set_up};
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::{Change, RecordedAt};
use crate::domain::trajectory::Lifecycle;
use crate::store::entities::{
    classification_versions, client_versions, doelgroep_assignment_codes,
    doelgroep_assignment_versions, registration_versions, trajectory_lines, trajectory_versions,
};
use crate::store::{Store, StoreError, StoreResult, begin_read, begin_write};
use migration::client_timeline::{self, TimelineRow};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, Iterable, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

/// Clients planned and written together: a few tens of thousands of rows
/// per transaction.
const CLIENTS_PER_BATCH: u64 = 5_000;
/// Bind parameters per INSERT: SQLite allows 32,766, PostgreSQL 65,535.
const PARAMETERS_PER_STATEMENT: usize = 30_000;

/// Fills an empty `gemeente` with `clients` clients and their history, the
/// same facts as `generate` with the same seed, in large batches.
pub async fn generate_bulk(
    store: &Store,
    gemeente: &GemeenteCode,
    clients: u64,
    seed: u64,
) -> StoreResult<Generated> {
    let db = store.connection();
    // The store refuses a second client with the same BSN; checking that per
    // client would undo the point of batches, so start from nothing.
    let txn = begin_read(db, gemeente).await?;
    let existing = client_versions::Entity::find()
        .filter(client_versions::Column::Gemeente.eq(gemeente.as_str()))
        .count(&txn)
        .await?;
    txn.commit().await?;
    if existing > 0 {
        return Err(StoreError::Precondition {
            rule: "empty_gemeente",
            message: format!(
                "bulk demo data needs a gemeente without clients; {gemeente} has some"
            ),
        });
    }
    let mut random = Random(seed);
    let setup = set_up(store, gemeente, &mut random, seed, clients).await?;
    let mut generated = Generated::default();
    let mut next = 0;
    while next < clients {
        let last = Ord::min(next + CLIENTS_PER_BATCH, clients);
        let batch: Vec<ClientPlan> = (next..last)
            .map(|n| plan_client(&mut random, seed, n, &setup))
            .collect();
        write_batch(db, gemeente, &setup, &batch, next == 0).await?;
        for plan in &batch {
            generated.add(plan);
        }
        next = last;
    }
    Ok(generated)
}

/// Statistics for PostgreSQL's planner once the first rows are in, as
/// autovacuum would gather them (where it runs, and slower than a bulk load
/// grows the tables): planned on the nearly empty tables, the triggers'
/// look-ups of one trajectory can scan the whole table (or a gemeente's
/// index range) instead of one primary-key entry, and a connection keeps
/// such a plan while the tables grow.
async fn analyse(db: &DatabaseConnection) -> StoreResult<()> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    }
    Ok(())
}

/// The spine every version row carries (as `store::spine::Spine`).
struct Spine<'a> {
    gemeente: &'a GemeenteCode,
    change: &'a Change,
    recorded_at: RecordedAt,
    version: i64,
}

/// A version row's ActiveModel from its id, spine and own columns.
macro_rules! version_row {
    ($entity:ident, $id:expr, $spine:expr, { $($field:ident: $value:expr),* $(,)? }) => {{
        let spine: &Spine = $spine;
        $entity::ActiveModel {
            id: Set($id),
            version: Set(spine.version),
            gemeente: Set(spine.gemeente.as_str().to_owned()),
            recorded_at: Set(spine.recorded_at.micros()),
            actor: Set(spine.change.actor.subject.clone()),
            actor_role: Set(spine.change.actor.role.to_owned()),
            source: Set(spine.change.source.as_str().to_owned()),
            reason: Set(spine.change.reason.clone()),
            $($field: Set($value),)*
        }
    }};
}

/// A trajectory of the batch: its id, whose it is, and its plan.
struct Referred<'a> {
    id: Uuid,
    client_id: Uuid,
    casemanager: &'a str,
    plan: &'a TrajectoryPlan,
}

/// The rows of one transaction, by table.
#[derive(Default)]
struct Rows {
    clients: Vec<client_versions::ActiveModel>,
    registrations: Vec<registration_versions::ActiveModel>,
    classifications: Vec<classification_versions::ActiveModel>,
    assignments: Vec<doelgroep_assignment_versions::ActiveModel>,
    assignment_codes: Vec<doelgroep_assignment_codes::ActiveModel>,
    trajectories: Vec<trajectory_versions::ActiveModel>,
    lines: Vec<trajectory_lines::ActiveModel>,
}

impl Rows {
    async fn insert(self, txn: &DatabaseTransaction) -> StoreResult<()> {
        insert_all::<client_versions::Entity>(txn, self.clients).await?;
        insert_all::<registration_versions::Entity>(txn, self.registrations).await?;
        insert_all::<classification_versions::Entity>(txn, self.classifications).await?;
        insert_all::<doelgroep_assignment_versions::Entity>(txn, self.assignments).await?;
        insert_all::<doelgroep_assignment_codes::Entity>(txn, self.assignment_codes).await?;
        // Lines before their versions, as in the store (see
        // `store::trajectories::insert`).
        insert_all::<trajectory_lines::Entity>(txn, self.lines).await?;
        insert_all::<trajectory_versions::Entity>(txn, self.trajectories).await
    }

    /// Version `spine.version` of a trajectory with `lifecycle`, and its
    /// lines (every version carries its lines, as in the store).
    fn trajectory(
        &mut self,
        setup: &Setup,
        referred: &Referred,
        lifecycle: &Lifecycle,
        spine: &Spine,
    ) {
        let Referred {
            id,
            client_id,
            casemanager,
            plan,
        } = *referred;
        let contract = plan.contract.map(|i| &setup.contracts[i]);
        let ending = lifecycle.ending();
        let job = ending.and_then(|e| e.job.as_ref());
        self.trajectories
            .push(version_row!(trajectory_versions, id, spine, {
                client_id: client_id,
                contract_id: contract.map(|c| c.id),
                provider_id: contract.map(|c| c.provider_id),
                kind: plan.kind.as_str().to_owned(),
                casemanager: casemanager.to_owned(),
                referral_date: lifecycle.referral(),
                start_date: lifecycle.start(),
                end_date: ending.map(|e| e.date),
                end_reason: ending.map(|e| e.reason.as_str().to_owned()),
                job_contract_kind: job.map(|j| j.contract_kind.as_str().to_owned()),
                job_hours_per_week: job.map(|j| j.hours_per_week),
                job_title: job.map(|j| j.job_title.clone()),
                employer_name: job.map(|j| j.employer_name.clone()),
                target_group_exception: plan.target_group_exception.clone(),
                progress_report_id: None,
            }));
        for (line, line_no) in plan.lines.iter().zip(1..) {
            self.lines.push(trajectory_lines::ActiveModel {
                trajectory_id: Set(id),
                version: Set(spine.version),
                gemeente: Set(spine.gemeente.as_str().to_owned()),
                line_no: Set(line_no),
                product_code: Set(line.product_code.to_string()),
                quantity: Set(line.quantity as i32),
                unit: Set(line.unit.as_str().to_owned()),
                unit_price_cents: Set(line.unit_price_cents),
            });
        }
    }
}

/// Inserts `rows` with as many rows per statement as the parameter limit
/// allows.
async fn insert_all<E>(txn: &DatabaseTransaction, rows: Vec<E::ActiveModel>) -> StoreResult<()>
where
    E: EntityTrait,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let per_statement = (PARAMETERS_PER_STATEMENT / E::Column::iter().count()).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<E::ActiveModel> = rows.by_ref().take(per_statement).collect();
        E::insert_many(chunk).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// Writes a batch of clients: the first version of every fact in one
/// transaction, then each later trajectory version number in a transaction
/// of its own; for the `first` batch the planner's statistics in between.
async fn write_batch(
    db: &DatabaseConnection,
    gemeente: &GemeenteCode,
    setup: &Setup,
    batch: &[ClientPlan],
    first: bool,
) -> StoreResult<()> {
    let (txn, recorded_at) = begin_write(db, gemeente).await?;
    let mut rows = Rows::default();
    let mut timelines = Vec::new();
    let mut trajectories = Vec::new();
    for plan in batch {
        let spine = Spine {
            gemeente,
            change: &plan.change,
            recorded_at,
            version: 1,
        };
        let client_id = Uuid::now_v7();
        let details = &plan.details;
        let skills = serde_json::to_string(&details.skills)
            .map_err(|e| StoreError::corrupt("skills", &e.to_string()))?;
        rows.clients
            .push(version_row!(client_versions, client_id, &spine, {
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
                created_at: recorded_at.micros(),
            }));
        for episode in &plan.episodes {
            rows.registrations.push(
                version_row!(registration_versions, Uuid::now_v7(), &spine, {
                    client_id: client_id,
                    kind: episode.kind.as_str().to_owned(),
                    start_date: episode.span.start,
                    end_date: episode.span.end,
                }),
            );
        }
        if let Some(classification) = &plan.classification {
            rows.classifications.push(
                version_row!(classification_versions, Uuid::now_v7(), &spine, {
                    client_id: client_id,
                    scheme: classification.value.scheme().as_str().to_owned(),
                    value: classification.value.code(),
                    valid_from: classification.valid_from,
                    motivation: classification.motivation.clone(),
                    classifier: classification.classifier.clone(),
                }),
            );
        }
        if let Some(assignment) = &plan.assignment {
            let id = Uuid::now_v7();
            rows.assignments
                .push(version_row!(doelgroep_assignment_versions, id, &spine, {
                    client_id: client_id,
                    valid_from: assignment.valid_from,
                }));
            for code in &assignment.codes {
                rows.assignment_codes
                    .push(doelgroep_assignment_codes::ActiveModel {
                        assignment_id: Set(id),
                        version: Set(1),
                        gemeente: Set(gemeente.as_str().to_owned()),
                        code: Set(code.as_str().to_owned()),
                    });
            }
        }
        // What the store's refresh would write after these facts.
        timelines.extend(TimelineRow::of_segments(
            gemeente.as_str(),
            client_id,
            recorded_at.micros(),
            None,
            &timeline::segments(&plan.timeline_facts()),
        ));
        for trajectory in &plan.trajectories {
            let referred = Referred {
                id: Uuid::now_v7(),
                client_id,
                casemanager: &details.casemanager,
                plan: trajectory,
            };
            let lifecycle = Lifecycle::referred(trajectory.referral_date);
            rows.trajectory(setup, &referred, &lifecycle, &spine);
            trajectories.push(referred);
        }
    }
    rows.insert(&txn).await?;
    client_timeline::insert(&txn, &timelines).await?;
    txn.commit().await?;
    if first {
        analyse(db).await?;
    }
    let most = trajectories
        .iter()
        .map(|t| t.plan.changes.len())
        .max()
        .unwrap_or(0);
    for step in 0..most {
        let (txn, recorded_at) = begin_write(db, gemeente).await?;
        let mut rows = Rows::default();
        for trajectory in &trajectories {
            if let Some(planned) = trajectory.plan.changes.get(step) {
                let spine = Spine {
                    gemeente,
                    change: &planned.change,
                    recorded_at,
                    version: step as i64 + 2,
                };
                rows.trajectory(setup, trajectory, &planned.lifecycle, &spine);
            }
        }
        rows.insert(&txn).await?;
        txn.commit().await?;
    }
    Ok(())
}
