//! The clients' timelines (crate `timeline`, module `client_timeline`): per
//! client and change, the segments of valid time in which nothing the in-
//! and outflow report reads of the client changes. With them the report
//! looks a client's state on a day up in one row, instead of searching the
//! client's episodes, classifications and assignments for every day it
//! counts the client on (docs/reports.md, docs/benchmarks.md).
//!
//! Derived data, not history: the history stays the only truth. A
//! generation is never changed but to mark the moment it was superseded,
//! so that a report as of any instant reads the generation each client had
//! then (`recorded_at <= as_of < superseded_at`). The store writes a new
//! generation in the transaction of each change; this migration fills the
//! table with the generations replayed from the whole history, so that
//! reports as of earlier instants keep their numbers.
//!
//! Also the indexes the report and the store's upkeep read by client: the
//! trajectories per client with every column the report counts (on
//! PostgreSQL in the index itself, so that it needs no table access), the
//! clients of a gemeente by id, and the latest episodes, classifications
//! and assignments of a client.

use crate::client_timeline::{self, TABLE};
use crate::m20261125_000001_foundation::index;
use crate::m20261201_000008_tenant_policy_once_per_statement::tenant_policy;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000009_client_timeline"
    }
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// The history tables the timelines are replayed from.
const SOURCES: [&str; 5] = [
    "client_versions",
    "registration_versions",
    "classification_versions",
    "doelgroep_assignment_versions",
    "doelgroep_assignment_codes",
];

/// Clients replayed per round of the backfill.
const CLIENTS_PER_ROUND: u64 = 2_000;

fn table() -> TableCreateStatement {
    Table::create()
        .table(a(TABLE))
        .col(char_len(a("gemeente"), 4))
        .col(uuid(a("client_id")))
        .col(big_integer(a("recorded_at")))
        .col(big_integer_null(a("superseded_at")))
        .col(integer(a("seq")))
        .col(date_null(a("valid_from")))
        .col(date_null(a("valid_to")))
        .col(integer(a("kinds")))
        .col(integer(a("kinds_before")))
        .col(date_null(a("first_start")))
        .col(date_null(a("next_bijstand_start")))
        .col(date_null(a("next_instroom")))
        .col(date_null(a("next_uitstroom")))
        .col(string_len_null(a("fase"), 16))
        .col(text_null(a("doelgroepen")))
        .col(date(a("birth_date")))
        .primary_key(
            Index::create()
                .col(a("client_id"))
                .col(a("recorded_at"))
                .col(a("seq")),
        )
        .to_owned()
}

/// The indexes, per backend: PostgreSQL keeps the report's columns in the
/// index of the current generations (an index-only scan per range of
/// clients); SQLite has no INCLUDE.
fn indexes(backend: DbBackend) -> Vec<String> {
    let (timeline_columns, trajectory_columns) = match backend {
        DbBackend::Postgres => (
            " INCLUDE (recorded_at, valid_from, valid_to, kinds, kinds_before, first_start, \
             next_bijstand_start, next_instroom, next_uitstroom, fase, doelgroepen, birth_date)",
            " INCLUDE (recorded_at, referral_date, start_date, end_date, end_reason, \
             provider_id, contract_id, cost_cents)",
        ),
        _ => ("", ""),
    };
    vec![
        format!(
            "CREATE INDEX {TABLE}_current ON {TABLE} (gemeente, client_id){timeline_columns} \
             WHERE superseded_at IS NULL"
        ),
        format!(
            "CREATE INDEX {TABLE}_superseded ON {TABLE} (gemeente, superseded_at) \
             WHERE superseded_at IS NOT NULL"
        ),
        format!(
            "CREATE INDEX trajectory_current_client ON trajectory_current \
             (gemeente, client_id){trajectory_columns}"
        ),
        // The report splits a gemeente's clients into ranges of ids.
        "CREATE INDEX client_current_gemeente ON client_current (gemeente, id)".to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too: a half-filled table would be wrong.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let postgres = backend == DbBackend::Postgres;
        manager.create_table(table()).await?;
        for statement in indexes(backend) {
            db.execute_unprepared(&statement).await?;
        }
        for current in [
            "registration_current",
            "classification_current",
            "doelgroep_assignment_current",
        ] {
            manager
                .create_index(index(&format!("{current}_client"), current, &["client_id"]))
                .await?;
        }
        // The history's policies hold for its owner too (FORCE); the
        // backfill reads every gemeente, so they are relaxed for the owner
        // during this migration's transaction only, as in migration 000007.
        if postgres {
            for source in SOURCES {
                db.execute_unprepared(&format!("ALTER TABLE {source} NO FORCE ROW LEVEL SECURITY"))
                    .await?;
            }
        }
        let mut after = None;
        loop {
            let (rows, last) = client_timeline::replayed(db, after, CLIENTS_PER_ROUND).await?;
            if last.is_none() {
                break;
            }
            client_timeline::insert(db, &rows).await?;
            after = last;
        }
        if postgres {
            for source in SOURCES {
                db.execute_unprepared(&format!("ALTER TABLE {source} FORCE ROW LEVEL SECURITY"))
                    .await?;
            }
            db.execute_unprepared(&tenant_policy(TABLE)).await?;
        }
        Ok(())
    }
}
