//! Building blocks of the report queries: the report's read transaction,
//! the timelines as of the report's transaction time (the current ones, and
//! the generations superseded since), the calendar of date constants, and
//! reading grouped counts back. The facts as of that time come from
//! `store::as_of`, which the store's own as-of listings share.

use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
pub(super) use crate::store::as_of::{a, changed_after, col, latest_versions, sum};
pub(super) use crate::store::gemeente_is;
use crate::store::{Store, StoreResult};
use sea_orm::sea_query::{
    CommonTableExpression, Expr, ExprTrait, Query, SelectStatement, UnionType, Value, ValueTuple,
    WithClause, WithQuery,
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr};

pub(super) fn cte(name: &str, query: SelectStatement) -> CommonTableExpression {
    CommonTableExpression::new()
        .query(query)
        .table_name(a(name))
        .to_owned()
}

/// The clients' timeline segments as of `horizon` (each client's generation
/// recorded at or before it and not superseded by then), read as `s`, with
/// the client id and `columns`, passing `filters` (written against `s`):
/// the current generations, and, when some were superseded after the
/// horizon (`changed`), those they replaced.
pub(super) fn timeline_generations(
    (gemeente, horizon): (&GemeenteCode, RecordedAt),
    columns: &[&str],
    filters: Vec<Expr>,
    changed: bool,
) -> SelectStatement {
    let branch = |still_current: bool| {
        let mut query = Query::select();
        query.column((a("s"), a("client_id")));
        for column in columns {
            query.column((a("s"), a(column)));
        }
        let superseded = col("s", "superseded_at");
        query
            .from_as(a(migration::client_timeline::TABLE), a("s"))
            .and_where(gemeente_is("s", gemeente))
            .and_where(col("s", "recorded_at").lte(horizon.micros()))
            .and_where(if still_current {
                superseded.is_null()
            } else {
                superseded.gt(horizon.micros())
            });
        for filter in &filters {
            query.and_where(filter.clone());
        }
        query
    };
    let mut segments = branch(true);
    if changed {
        segments.union(UnionType::All, branch(false));
    }
    segments
}

/// Segment `alias` holds on `day`.
pub(super) fn holds_on(alias: &str, day: Expr) -> Expr {
    col(alias, "valid_from")
        .is_null()
        .or(col(alias, "valid_from").lte(day.clone()))
        .and(
            col(alias, "valid_to")
                .is_null()
                .or(col(alias, "valid_to").gt(day)),
        )
}

/// Opens a read transaction for a report's statements that each read as of
/// the report's transaction time, so need no common snapshot (the in- and
/// outflow report's split into ranges and its names). It
/// carries the gemeente for PostgreSQL's row-level security, like every
/// transaction of the store.
pub(super) async fn read_transaction(
    store: &Store,
    gemeente: &GemeenteCode,
) -> StoreResult<DatabaseTransaction> {
    crate::store::begin_read(store.connection(), gemeente).await
}

/// Opens a read transaction for counting in several statements that must
/// see one state of the database (`store::begin_snapshot_read`).
pub(super) async fn snapshot_transaction(
    store: &Store,
    gemeente: &GemeenteCode,
) -> StoreResult<DatabaseTransaction> {
    crate::store::begin_snapshot_read(store.connection(), gemeente).await
}

/// Settings, for this transaction only, of statements that count a whole
/// gemeente (or a range of its clients) on PostgreSQL: memory for their
/// hashes and sorts, which the server's default (4 MB) would spill to disk;
/// no JIT compilation, which costs them more time than it saves; the cost
/// of a random page read as on SSD or in memory, so that the planner reads
/// a range of clients by the covering indexes, in client order, instead of
/// scanning whole tables and hashing every client; and, when
/// the report already counts on several connections at once (`alongside`),
/// no parallel workers besides, which would only compete with the other
/// connections for the same cores (docs/benchmarks.md).
pub(super) async fn tune_for_counting(
    txn: &DatabaseTransaction,
    alongside: bool,
) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let mut settings = format!(
        "SET LOCAL work_mem = '{}'; SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1",
        super::POSTGRES_REPORT_WORK_MEM
    );
    if alongside {
        settings.push_str("; SET LOCAL max_parallel_workers_per_gather = 0");
    }
    txn.execute_unprepared(&settings).await?;
    Ok(())
}

/// A table of constants, one row per element of `rows`, with the given
/// column names (a VALUES list: the database does no date arithmetic).
pub(super) fn constants(
    name: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> CommonTableExpression {
    let mut query = Query::select();
    for (index, column) in columns.iter().enumerate() {
        query.expr_as(Expr::col(a(&format!("column{}", index + 1))), a(column));
    }
    query.from_values(rows.into_iter().map(ValueTuple::Many), a("v"));
    cte(name, query.to_owned())
}

pub(super) fn with(ctes: Vec<CommonTableExpression>, query: SelectStatement) -> WithQuery {
    let mut clause = WithClause::new();
    for cte in ctes {
        clause.cte(cte);
    }
    query.with(clause)
}

/// Rows of (label, count): a grouping label (NULL allowed) and a count.
pub(super) async fn grouped(
    db: &impl ConnectionTrait,
    query: &WithQuery,
) -> Result<Vec<(Option<String>, i64)>, DbErr> {
    db.query_all(query)
        .await?
        .iter()
        .map(|row| Ok((label_of(row)?, row.try_get_by_index::<i64>(1)?)))
        .collect()
}

/// A grouping label read as text whatever its SQL type (codes, bucket
/// numbers, ids).
fn label_of(row: &sea_orm::QueryResult) -> Result<Option<String>, DbErr> {
    if let Ok(text) = row.try_get_by_index::<Option<String>>(0) {
        return Ok(text);
    }
    if let Ok(number) = row.try_get_by_index::<Option<i64>>(0) {
        return Ok(number.map(|n| n.to_string()));
    }
    if let Ok(number) = row.try_get_by_index::<Option<i32>>(0) {
        return Ok(number.map(|n| n.to_string()));
    }
    Ok(row
        .try_get_by_index::<Option<uuid::Uuid>>(0)?
        .map(|id| id.to_string()))
}

/// One row of numbers, each read as i64 (NULL as 0).
pub(super) async fn numbers(
    db: &impl ConnectionTrait,
    query: &WithQuery,
    count: usize,
) -> Result<Vec<i64>, DbErr> {
    let rows = db.query_all(query).await?;
    let Some(row) = rows.first() else {
        return Ok(vec![0; count]);
    };
    (0..count)
        .map(|i| Ok(row.try_get_by_index::<Option<i64>>(i)?.unwrap_or(0)))
        .collect()
}
