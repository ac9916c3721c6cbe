//! The append-only store. Every resource kind has a version table holding
//! the whole fact as it was after each change; nothing is updated or deleted
//! (triggers in the database refuse it). Current state is the highest
//! version per id; the state as of a transaction time T is the highest
//! version recorded at or before T.

pub(crate) mod as_of;
pub mod classifications;
mod client_timeline;
pub mod clients;
mod clock;
pub mod contracts;
pub mod doelgroepen;
pub mod entities;
pub mod processing_log;
pub mod progress_reports;
pub mod providers;
pub mod registrations;
mod spine;
pub mod trajectories;
mod versions;

use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
use migration::MigratorTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqlErr, Statement, TransactionTrait,
};
use std::time::Duration;

pub(crate) use clock::begin_write;
pub use clock::now;

/// What can go wrong in the store, in terms the API can answer with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The write was based on a version that is no longer the latest.
    #[error("{0}")]
    Stale(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// A rule that depends on other stored facts was broken; `rule` names it.
    #[error("{rule}: {message}")]
    Precondition { rule: &'static str, message: String },
    /// A value the store found wrong against what is stored (an undefined
    /// doelgroep code, a changed scheme); `field` names it in the caller's
    /// terms.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// A stored value could not be read back: a bug or a hand edit.
    #[error("stored {column} has an unexpected value {value:?}")]
    Corrupt { column: &'static str, value: String },
    #[error(transparent)]
    Database(DbErr),
}

impl StoreError {
    pub(crate) fn corrupt(column: &'static str, value: &str) -> Self {
        StoreError::Corrupt {
            column,
            value: value.to_owned(),
        }
    }
}

/// Rules from the domain that depend on stored facts.
impl From<crate::domain::RuleViolation> for StoreError {
    fn from(violation: crate::domain::RuleViolation) -> Self {
        StoreError::Precondition {
            rule: violation.rule,
            message: violation.message,
        }
    }
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        // With writers serialised by the clock this only happens when two
        // processes share one database and race on the same version.
        if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return StoreError::Stale(
                "the resource was changed concurrently; read it again".into(),
            );
        }
        StoreError::Database(err)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which slice of a list to read: at a fixed transaction time, so that the
/// pages of one listing never shift while a caller pages through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub horizon: RecordedAt,
    pub offset: u64,
    pub size: u64,
}

/// One page and, when there is more, where the next starts.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageRequest>,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with `limit = size + 1`.
    fn from_rows(mut items: Vec<T>, request: PageRequest) -> Self {
        let next = (items.len() as u64 > request.size).then(|| {
            items.truncate(request.size as usize);
            PageRequest {
                offset: request.offset + request.size,
                ..request
            }
        });
        Page { items, next }
    }

    fn try_map<U>(self, f: impl FnMut(T) -> StoreResult<U>) -> StoreResult<Page<U>> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<StoreResult<_>>()?,
            next: self.next,
        })
    }
}

/// `{alias}.version` is the latest version of its row's id recorded at or
/// before `horizon`, where `alias` names a version table `table` in the
/// enclosing query.
pub(crate) fn latest_as_of_in(table: &str, alias: &str, horizon: RecordedAt) -> Expr {
    let history = Alias::new(format!("{alias}_history"));
    let newest = Query::select()
        .expr(Func::max(Expr::col((
            history.clone(),
            Alias::new("version"),
        ))))
        .from_as(Alias::new(table), history.clone())
        .and_where(
            Expr::col((history.clone(), Alias::new("id")))
                .equals((Alias::new(alias), Alias::new("id"))),
        )
        .and_where(Expr::col((history, Alias::new("recorded_at"))).lte(horizon.micros()))
        .to_owned();
    Expr::col((Alias::new(alias), Alias::new("version"))).eq(newest)
}

/// `{alias}.gemeente` is `gemeente`. The code goes in as a CHAR(4), the
/// column's own type: compared as text instead, PostgreSQL would cast the
/// column on every row and use no index on it.
pub(crate) fn gemeente_is(alias: &str, gemeente: &GemeenteCode) -> Expr {
    Expr::col((Alias::new(alias), Alias::new("gemeente")))
        .eq(Expr::val(gemeente.as_str()).cast_as(Alias::new("CHAR(4)")))
}

/// `latest_as_of_in` for a table queried under its own name.
fn latest_as_of(table: &str, horizon: RecordedAt) -> Expr {
    latest_as_of_in(table, table, horizon)
}

/// Tells PostgreSQL's row-level security whose data this transaction works
/// on (`SET LOCAL clientvolg.gemeente`): the second wall behind the
/// gemeente every query names. It ends with the transaction, so a pooled
/// connection never carries it to the next caller. SQLite has no such
/// policies.
pub(crate) async fn set_tenant(
    txn: &DatabaseTransaction,
    gemeente: &GemeenteCode,
) -> StoreResult<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('clientvolg.gemeente', $1, true)",
            [gemeente.as_str().into()],
        ))
        .await?;
    }
    Ok(())
}

/// Starts a transaction that reads `gemeente`'s data. Reads run in a
/// transaction so that the tenant setting holds for them and ends with them.
pub(crate) async fn begin_read(
    db: &DatabaseConnection,
    gemeente: &GemeenteCode,
) -> StoreResult<DatabaseTransaction> {
    let txn = db.begin().await?;
    set_tenant(&txn, gemeente).await?;
    Ok(txn)
}

/// Starts a read-only transaction on `gemeente`'s data whose statements all
/// see the database as it was at its first: a report that reads in several
/// statements, and decides how to read from what an earlier one found, needs
/// them to agree. PostgreSQL gives each statement its own snapshot unless
/// asked for REPEATABLE READ; SQLite's read transactions (WAL) hold one from
/// their first read on.
pub(crate) async fn begin_snapshot_read(
    db: &DatabaseConnection,
    gemeente: &GemeenteCode,
) -> StoreResult<DatabaseTransaction> {
    let txn = match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(sea_orm::IsolationLevel::RepeatableRead),
                Some(sea_orm::AccessMode::ReadOnly),
            )
            .await?
        }
        _ => db.begin().await?,
    };
    set_tenant(&txn, gemeente).await?;
    Ok(txn)
}

/// The database behind the service.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    report_parallelism: usize,
}

/// How many connections one in- and outflow report counts on at the same
/// time, unless configured: PostgreSQL runs each on a core of its own (two
/// is what the smallest server has); SQLite's file gains nothing from more
/// than one.
fn default_report_parallelism(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Postgres => 2,
        _ => 1,
    }
}

impl Store {
    /// Connects to `url` (`sqlite://PATH?mode=rwc` or `postgres://…`) and
    /// applies pending migrations.
    pub async fn open(url: &str) -> StoreResult<Store> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
            });
        if url.starts_with("sqlite:") {
            create_sqlite_parent_dir(url)?;
        }
        let db = Database::connect(options).await?;
        migration::Migrator::up(&db, None).await?;
        warn_if_tenant_wall_is_down(&db).await?;
        let report_parallelism = default_report_parallelism(db.get_database_backend());
        Ok(Store {
            db,
            report_parallelism,
        })
    }

    /// Counts each in- and outflow report on `connections` connections at
    /// the same time (docs/reports.md).
    pub fn with_report_parallelism(mut self, connections: std::num::NonZeroUsize) -> Store {
        self.report_parallelism = connections.get();
        self
    }

    pub fn report_parallelism(&self) -> usize {
        self.report_parallelism
    }

    /// Reads with an `as_of` resolve it against the clock first; see
    /// `clock::horizon`.
    pub async fn horizon(&self, as_of: Option<RecordedAt>) -> StoreResult<RecordedAt> {
        clock::horizon(&self.db, as_of).await
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// Superusers and roles with BYPASSRLS pass PostgreSQL's row-level security:
/// the service still names the gemeente in every query, but the second wall
/// is down. Say so loudly rather than refuse, so that a developer's
/// `postgres` login still works.
async fn warn_if_tenant_wall_is_down(db: &DatabaseConnection) -> StoreResult<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_user::text, rolsuper OR rolbypassrls FROM pg_roles \
             WHERE rolname = current_user",
        ))
        .await?;
    if let Some(row) = row {
        let user: String = row.try_get_by_index(0)?;
        let bypasses: bool = row.try_get_by_index(1)?;
        if bypasses {
            tracing::warn!(
                role = %user,
                "connected to PostgreSQL as a superuser or a role with BYPASSRLS: row-level \
                 security between gemeenten does not apply; run the service as an ordinary role \
                 (docs/security.md)"
            );
        }
    }
    Ok(())
}

/// SQLite creates the file (with `mode=rwc`) but not its folder.
fn create_sqlite_parent_dir(url: &str) -> StoreResult<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            StoreError::Database(DbErr::Custom(format!(
                "cannot create {}: {e}",
                parent.display()
            )))
        })?;
    }
    Ok(())
}
