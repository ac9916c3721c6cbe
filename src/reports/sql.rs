//! Building blocks of the report queries: the report's read transaction,
//! the snapshot of each version table as of the report's transaction time
//! (as common table expressions, or materialised once per report into
//! temporary tables), the calendar of date constants, and reading grouped
//! counts back.

use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
use crate::store::latest_as_of_in;
use crate::store::{Store, StoreResult};
use chrono::NaiveDate;
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, Func, JoinType, Query, QueryStatementBuilder,
    SelectStatement, UnionType, Value, ValueTuple, WithClause, WithQuery,
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr};

pub(super) fn a(name: &str) -> Alias {
    Alias::new(name)
}

pub(super) fn col(table: &str, column: &str) -> Expr {
    Expr::col((a(table), a(column)))
}

/// SUM as a BIGINT: PostgreSQL sums integers into NUMERIC otherwise.
pub(super) fn sum(expr: impl Into<Expr>) -> Expr {
    Func::cast_as(Func::sum(expr.into()), a("BIGINT")).into()
}

pub(super) fn cte(name: &str, query: SelectStatement) -> CommonTableExpression {
    CommonTableExpression::new()
        .query(query)
        .table_name(a(name))
        .to_owned()
}

/// A snapshot is referenced many times per query; inlined (not
/// materialised) the database can reach the base tables' indexes through it.
fn snapshot_cte(name: &str, query: SelectStatement) -> CommonTableExpression {
    cte(name, query).materialized(false).to_owned()
}

/// The latest version, as of `horizon`, of every row of a version table of
/// `gemeente`, with the given columns.
fn snapshot(
    table: &str,
    alias: &str,
    gemeente: &GemeenteCode,
    horizon: RecordedAt,
    columns: &[&str],
) -> SelectStatement {
    let mut query = Query::select();
    for column in columns {
        query.column((a(alias), a(column)));
    }
    query
        .from_as(a(table), a(alias))
        .and_where(col(alias, "gemeente").eq(gemeente.as_str()))
        .and_where(latest_as_of_in(table, alias, horizon))
        .to_owned()
}

/// The facts a report reads, as they were known at `horizon`:
/// `ep` registration episodes, `tr` trajectories, `cl` clients, `fa` fase
/// classifications, `dg` doelgroep assignments with one row per code (a
/// NULL code for an empty set).
pub(super) fn snapshots(
    gemeente: &GemeenteCode,
    horizon: RecordedAt,
) -> Vec<CommonTableExpression> {
    let dg = Query::select()
        .column((a("d"), a("client_id")))
        .column((a("d"), a("valid_from")))
        .column((a("m"), a("code")))
        .from_as(a("doelgroep_assignment_versions"), a("d"))
        .join_as(
            JoinType::LeftJoin,
            a("doelgroep_assignment_codes"),
            a("m"),
            col("m", "assignment_id")
                .equals((a("d"), a("id")))
                .and(col("m", "version").equals((a("d"), a("version")))),
        )
        .and_where(col("d", "gemeente").eq(gemeente.as_str()))
        .and_where(latest_as_of_in(
            "doelgroep_assignment_versions",
            "d",
            horizon,
        ))
        .to_owned();
    vec![
        snapshot_cte(
            "ep",
            snapshot(
                "registration_versions",
                "r",
                gemeente,
                horizon,
                &["client_id", "kind", "start_date", "end_date"],
            ),
        ),
        snapshot_cte(
            "tr",
            snapshot(
                "trajectory_versions",
                "t",
                gemeente,
                horizon,
                &[
                    "id",
                    "version",
                    "client_id",
                    "provider_id",
                    "contract_id",
                    "casemanager",
                    "referral_date",
                    "start_date",
                    "end_date",
                    "end_reason",
                ],
            ),
        ),
        snapshot_cte(
            "cl",
            snapshot(
                "client_versions",
                "c",
                gemeente,
                horizon,
                &["id", "birth_date", "casemanager"],
            ),
        ),
        snapshot_cte(
            "fa",
            snapshot(
                "classification_versions",
                "f",
                gemeente,
                horizon,
                &["client_id", "value", "valid_from"],
            )
            .and_where(col("f", "scheme").eq("FASE"))
            .to_owned(),
        ),
        snapshot_cte("dg", dg),
    ]
}

/// Opens the read transaction a report runs in: every query of one report
/// goes through it, on one connection, so that temporary tables are seen
/// by all of them. It carries the gemeente for PostgreSQL's row-level
/// security, like every transaction of the store. The report rolls it back
/// when it is done, which also drops its temporary tables.
pub(super) async fn read_transaction(
    store: &Store,
    gemeente: &GemeenteCode,
) -> StoreResult<DatabaseTransaction> {
    crate::store::begin_read(store.connection(), gemeente).await
}

/// Settings, for this transaction only, of a report that counts a whole
/// gemeente on PostgreSQL.
pub(super) async fn tune_for_counting(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    txn.execute_unprepared(&format!(
        "SET LOCAL work_mem = '{}'",
        super::POSTGRES_REPORT_WORK_MEM
    ))
    .await?;
    // Every such query is a set operation over hundreds of thousands of
    // rows, but PostgreSQL underestimates joins on (client, day) pairs a
    // hundredfold and then picks nested loops of index lookups, a third
    // slower at 200,000 clients than hash joins (docs/benchmarks.md). Set
    // after the snapshots are materialised: their search for the facts
    // changed after `as_of` is a few index lookups, not a scan.
    txn.execute_unprepared("SET LOCAL enable_nestloop = off")
        .await?;
    Ok(())
}

/// `{alias}` (a row of version table `table`) has no newer version recorded
/// at or before `horizon`: it is the latest version as of `horizon`. The
/// same rows as `store::latest_as_of_in`, written as an anti-join so that
/// the database can answer it for a whole table in one pass instead of one
/// lookup per row.
fn newest_as_of(table: &str, alias: &str, horizon: RecordedAt) -> Expr {
    let newer = format!("{alias}_newer");
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from_as(a(table), a(&newer))
            .and_where(col(&newer, "id").equals((a(alias), a("id"))))
            .and_where(col(&newer, "version").gt(col(alias, "version")))
            .and_where(col(&newer, "recorded_at").lte(horizon.micros()))
            .to_owned(),
    )
    .not()
}

/// The days a report reads facts for; rows outside them cannot change its
/// numbers, so the materialised snapshots leave them out.
pub(super) struct Reach {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The last day after the period an episode start is looked at
    /// (duurzaamheid: 183 days after a work ending).
    pub last_episode_start: NaiveDate,
}

/// One temporary table: its name, the query filling it, and its indexes.
struct Materialised {
    name: &'static str,
    /// The select with its filters (run as INSERT … SELECT).
    fill: SelectStatement,
    /// The same columns with no rows, to create the table from: PostgreSQL
    /// takes no bind parameters in CREATE TABLE … AS.
    shape: SelectStatement,
    indexes: &'static [&'static [&'static str]],
}

/// The column of `trajectory_current` that is no column of the history: a
/// version's cost, from its lines.
const COST: &str = "cost_cents";

/// Column `column` of history row `alias`; for `COST`, the sum over the
/// version's lines, as `trajectory_current` keeps it.
fn history_column(alias: &str, column: &str) -> Expr {
    if column != COST {
        return col(alias, column);
    }
    let cost = Query::select()
        .expr(sum(col("l", "quantity").mul(col("l", "unit_price_cents"))))
        .from_as(a("trajectory_lines"), a("l"))
        .and_where(col("l", "trajectory_id").equals((a(alias), a("id"))))
        .and_where(col("l", "version").equals((a(alias), a("version"))))
        .to_owned();
    Func::coalesce([
        Expr::SubQuery(None, Box::new(cost.into_sub_query_statement())),
        Expr::val(0i64),
    ])
    .into()
}

/// Which rows a snapshot holds: a gemeente's, as of an instant, passing the
/// filters (written against the snapshot's alias). None: no rows, for the
/// shape of its temporary table.
type Scope<'a> = Option<(&'a GemeenteCode, RecordedAt, Vec<Expr>)>;

/// The rows of one snapshot of the facts in history table `history`, whose
/// latest versions table `current` keeps (both read as `alias`, so that the
/// filters apply to either): the latest versions recorded at or before the
/// instant, and, for the facts changed after it, their latest version in
/// the history as of the instant.
fn snapshot_select(
    (history, current): (&str, &str),
    alias: &str,
    columns: &[&str],
    scope: Scope,
) -> SelectStatement {
    let mut latest = Query::select();
    for column in columns {
        latest.expr_as(col(alias, column), a(column));
    }
    latest.from_as(a(current), a(alias));
    let Some((gemeente, horizon, filters)) = scope else {
        return latest.and_where(Expr::cust("1 = 0")).to_owned();
    };
    latest
        .and_where(col(alias, "gemeente").eq(gemeente.as_str()))
        .and_where(col(alias, "recorded_at").lte(horizon.micros()));
    let now = format!("{alias}_now");
    let mut changed = Query::select();
    for column in columns {
        changed.expr_as(history_column(alias, column), a(column));
    }
    changed
        .from_as(a(history), a(alias))
        .join_as(
            JoinType::InnerJoin,
            a(current),
            a(&now),
            col(&now, "id").equals((a(alias), a("id"))),
        )
        .and_where(col(&now, "gemeente").eq(gemeente.as_str()))
        .and_where(col(&now, "recorded_at").gt(horizon.micros()))
        .and_where(col(alias, "gemeente").eq(gemeente.as_str()))
        .and_where(col(alias, "recorded_at").lte(horizon.micros()))
        .and_where(newest_as_of(history, alias, horizon));
    for filter in filters {
        latest.and_where(filter.clone());
        changed.and_where(filter);
    }
    latest.union(UnionType::All, changed).to_owned()
}

/// The doelgroep assignments in `scope`, one row per code of each (a NULL
/// code for an empty set).
fn assignments(scope: Scope) -> SelectStatement {
    let latest = snapshot_select(
        (
            "doelgroep_assignment_versions",
            "doelgroep_assignment_current",
        ),
        "d",
        &["id", "version", "client_id", "valid_from"],
        scope,
    );
    Query::select()
        .column((a("s"), a("client_id")))
        .column((a("s"), a("valid_from")))
        .column((a("m"), a("code")))
        .from_subquery(latest, a("s"))
        .join_as(
            JoinType::LeftJoin,
            a("doelgroep_assignment_codes"),
            a("m"),
            col("m", "assignment_id")
                .equals((a("s"), a("id")))
                .and(col("m", "version").equals((a("s"), a("version")))),
        )
        .to_owned()
}

/// Materialises the snapshots as temporary tables `ep`, `tr` (with each
/// trajectory's `cost_cents`), `cl`, `fa` and `dg` (the same rows and names
/// as `snapshots`, limited to `reach`), each with the indexes the report's
/// lookups need. Built once per report from the tables of latest versions
/// (migration m20261125_000007), they spare every later query the search
/// for the latest versions.
pub(super) async fn materialise_snapshots(
    txn: &DatabaseTransaction,
    gemeente: &GemeenteCode,
    horizon: RecordedAt,
    reach: &Reach,
) -> Result<(), DbErr> {
    let snapshot = |name, tables, alias, columns: &[&str], filters, indexes| Materialised {
        name,
        fill: snapshot_select(tables, alias, columns, Some((gemeente, horizon, filters))),
        shape: snapshot_select(tables, alias, columns, None),
        indexes,
    };
    let open_or_from = |alias: &str, day: NaiveDate| {
        col(alias, "end_date")
            .is_null()
            .or(col(alias, "end_date").gte(day))
    };
    let day_before = reach.period_start.pred_opt().unwrap_or(reach.period_start);
    let tables = [
        snapshot(
            "ep",
            ("registration_versions", "registration_current"),
            "r",
            &["client_id", "kind", "start_date", "end_date"],
            vec![
                col("r", "start_date").lte(reach.last_episode_start),
                open_or_from("r", day_before),
            ],
            &[&["client_id", "start_date"]],
        ),
        // A trajectory referred after the period, or ended before it,
        // counts nowhere (it cannot start or end before its referral).
        snapshot(
            "tr",
            ("trajectory_versions", "trajectory_current"),
            "t",
            &[
                "id",
                "version",
                "client_id",
                "provider_id",
                "contract_id",
                "casemanager",
                "referral_date",
                "start_date",
                "end_date",
                "end_reason",
                COST,
            ],
            vec![
                col("t", "referral_date").lte(reach.period_end),
                open_or_from("t", reach.period_start),
            ],
            &[&["client_id", "end_date"]],
        ),
        snapshot(
            "cl",
            ("client_versions", "client_current"),
            "c",
            &["id", "birth_date", "casemanager"],
            vec![],
            &[&["id"]],
        ),
        snapshot(
            "fa",
            ("classification_versions", "classification_current"),
            "f",
            &["client_id", "value", "valid_from"],
            vec![
                col("f", "scheme").eq("FASE"),
                col("f", "valid_from").lte(reach.period_end),
            ],
            &[&["client_id", "valid_from"]],
        ),
        Materialised {
            name: "dg",
            fill: assignments(Some((
                gemeente,
                horizon,
                vec![col("d", "valid_from").lte(reach.period_end)],
            ))),
            shape: assignments(None),
            indexes: &[&["client_id", "valid_from"]],
        },
    ];
    let backend = txn.get_database_backend();
    for table in tables {
        let mut create = backend.build(&table.shape);
        create.sql = format!("CREATE TEMPORARY TABLE {} AS {}", table.name, create.sql);
        txn.execute_raw(create).await?;
        let mut fill = backend.build(&table.fill);
        fill.sql = format!("INSERT INTO {} {}", table.name, fill.sql);
        txn.execute_raw(fill).await?;
        for (i, columns) in indexes_for(backend, table.indexes).iter().enumerate() {
            txn.execute_unprepared(&format!(
                "CREATE INDEX {name}_{i} ON {name} ({})",
                columns.join(", "),
                name = table.name
            ))
            .await?;
        }
        // Temporary tables get no automatic statistics in PostgreSQL;
        // without them the planner guesses their sizes badly.
        if backend == DbBackend::Postgres {
            txn.execute_unprepared(&format!("ANALYZE {}", table.name))
                .await?;
        }
    }
    Ok(())
}

/// The indexes a temporary table gets: SQLite joins by nested loops over
/// them; PostgreSQL, with nested loops off for the counting, joins the
/// whole tables by hashing and would only spend time building them.
fn indexes_for<T>(backend: DbBackend, indexes: &[T]) -> &[T] {
    if backend == DbBackend::Postgres {
        &[]
    } else {
        indexes
    }
}

/// The type of a column of a temporary table filled from a query.
#[derive(Clone, Copy)]
pub(super) enum ColumnType {
    Integer,
    Text,
    Date,
    Uuid,
}

impl ColumnType {
    /// PostgreSQL needs the types; SQLite columns without a declared type
    /// keep every value as the query produced it (dates as text, ids as
    /// blobs), exactly as in the tables they come from.
    fn declared(self, backend: DbBackend) -> &'static str {
        match (backend, self) {
            (DbBackend::Postgres, ColumnType::Integer) => " BIGINT",
            (DbBackend::Postgres, ColumnType::Text) => " TEXT",
            (DbBackend::Postgres, ColumnType::Date) => " DATE",
            (DbBackend::Postgres, ColumnType::Uuid) => " UUID",
            _ => "",
        }
    }
}

/// Materialises the rows of `query` as the temporary table `name` with the
/// given columns and indexes, and on PostgreSQL its statistics.
pub(super) async fn materialise(
    txn: &impl ConnectionTrait,
    name: &str,
    columns: &[(&str, ColumnType)],
    query: &WithQuery,
    indexes: &[&str],
) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    let declared: Vec<String> = columns
        .iter()
        .map(|(column, kind)| format!("{column}{}", kind.declared(backend)))
        .collect();
    txn.execute_unprepared(&format!(
        "CREATE TEMPORARY TABLE {name} ({})",
        declared.join(", ")
    ))
    .await?;
    let mut fill = backend.build(query);
    fill.sql = format!("INSERT INTO {name} {}", fill.sql);
    txn.execute_raw(fill).await?;
    for column in indexes_for(backend, indexes) {
        txn.execute_unprepared(&format!(
            "CREATE INDEX {name}_{column} ON {name} ({column})"
        ))
        .await?;
    }
    if backend == DbBackend::Postgres {
        txn.execute_unprepared(&format!("ANALYZE {name}")).await?;
    }
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
