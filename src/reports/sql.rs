//! Building blocks of the report queries: the snapshot of each version table
//! as of the report's transaction time (as common table expressions), the
//! calendar of date constants, and reading grouped counts back.

use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
use crate::store::latest_as_of_in;
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, JoinType, Query, SelectStatement, Value,
    ValueTuple, WithClause, WithQuery,
};
use sea_orm::{ConnectionTrait, DbErr};

pub(super) fn a(name: &str) -> Alias {
    Alias::new(name)
}

pub(super) fn col(table: &str, column: &str) -> Expr {
    Expr::col((a(table), a(column)))
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
