//! Reads as of a transaction time over the tables of latest versions
//! (`client_current`, `trajectory_current`, migration 000007): those tables
//! answer "now" by index, and the history is needed beside them only for the
//! facts that changed after the horizon. The reports and the store's own
//! as-of listings (the overdue progress reports) share these blocks, so
//! every count as of a moment reads that moment the same way.

use super::gemeente_is;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, JoinType, Query, QueryStatementBuilder, SelectStatement,
    UnionType,
};
use sea_orm::{ConnectionTrait, DbErr};

pub(crate) fn a(name: &str) -> Alias {
    Alias::new(name)
}

pub(crate) fn col(table: &str, column: &str) -> Expr {
    Expr::col((a(table), a(column)))
}

/// SUM as a BIGINT: PostgreSQL sums integers into NUMERIC otherwise.
pub(crate) fn sum(expr: impl Into<Expr>) -> Expr {
    Func::cast_as(Func::sum(expr.into()), a("BIGINT")).into()
}

/// Whether a row of the gemeente in `table` has `column` after `horizon`:
/// for a table of latest versions (`recorded_at`), a fact changed since; for
/// the timelines (`superseded_at`), a generation was replaced since. Only
/// then does a count as of `horizon` need the history beside them
/// (`latest_versions`, `timeline_generations`).
pub(crate) async fn changed_after(
    db: &impl ConnectionTrait,
    (gemeente, horizon): (&GemeenteCode, RecordedAt),
    table: &str,
    column: &str,
) -> Result<bool, DbErr> {
    let any = Query::select()
        .expr(Expr::val(1))
        .from_as(a(table), a("x"))
        .and_where(gemeente_is("x", gemeente))
        .and_where(col("x", column).gt(horizon.micros()))
        .limit(1)
        .to_owned();
    Ok(db.query_one(&any).await?.is_some())
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

/// The latest version as of `horizon` of every fact of `gemeente` in history
/// table `history`, whose latest versions table `current` keeps, with
/// `columns` and passing `filters` (both written against `alias`, the name
/// either table is read as): the rows of `current` recorded at or before the
/// horizon, and, when some facts changed after it (`changed`; never when the
/// horizon is the clock's last value), their latest version by then in the
/// history, one index lookup each. Without that second part the database
/// can read `current` in the order of an index, which spares it sorting or
/// hashing what it groups.
pub(crate) fn latest_versions(
    (history, current): (&str, &str),
    alias: &str,
    columns: &[&str],
    (gemeente, horizon): (&GemeenteCode, RecordedAt),
    filters: Vec<Expr>,
    changed: bool,
) -> SelectStatement {
    let mut latest = Query::select();
    for column in columns {
        latest.expr_as(col(alias, column), a(column));
    }
    latest
        .from_as(a(current), a(alias))
        .and_where(gemeente_is(alias, gemeente))
        .and_where(col(alias, "recorded_at").lte(horizon.micros()));
    if !changed {
        for filter in filters {
            latest.and_where(filter);
        }
        return latest;
    }
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
        // The gemeente is named on `current` only: the history rows are those
        // of its ids, the same facts. Named on the history too, it would let
        // SQLite, which keeps no statistics, look each changed fact's
        // versions up through an index on (gemeente, …) that a filter also
        // constrains (contract, provider, referral date) instead of by the
        // primary key: a scan of the gemeente's versions per changed fact.
        .and_where(gemeente_is(&now, gemeente))
        .and_where(col(&now, "recorded_at").gt(horizon.micros()))
        .and_where(col(alias, "recorded_at").lte(horizon.micros()))
        .and_where(newest_as_of(history, alias, horizon));
    for filter in filters {
        latest.and_where(filter.clone());
        changed.and_where(filter);
    }
    latest.union(UnionType::All, changed).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use sea_orm::{DbBackend, Statement};

    /// SQLite plans without statistics, by rules of thumb that prefer an
    /// index with more constrained columns. The history of the facts that
    /// changed after the horizon must still be looked up by primary key,
    /// whatever the filters constrain; a plan that searched an index on
    /// (gemeente, contract) instead read the gemeente's versions once per
    /// changed trajectory (a demo caseload as of a past moment took 54 s).
    #[tokio::test]
    async fn the_history_of_changed_facts_is_read_by_primary_key() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("plan.db").display());
        let store = Store::open(&url).await.expect("open the store");
        let gemeente = GemeenteCode::parse("0363").expect("gemeente code");
        let filters = vec![
            col("t", "contract_id").is_not_null(),
            col("t", "provider_id").is_not_null(),
            col("t", "referral_date").lte(chrono::NaiveDate::from_ymd_opt(2025, 12, 31)),
        ];
        let query = latest_versions(
            ("trajectory_versions", "trajectory_current"),
            "t",
            &["id"],
            (&gemeente, RecordedAt::from_micros(1)),
            filters,
            true,
        );
        let (sql, values) = query.build(sea_orm::sea_query::SqliteQueryBuilder);
        let plan: Vec<String> = store
            .connection()
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!("EXPLAIN QUERY PLAN {sql}"),
                values,
            ))
            .await
            .expect("EXPLAIN QUERY PLAN")
            .iter()
            .map(|row| row.try_get_by_index::<String>(3).expect("detail"))
            .collect();
        let history: Vec<&String> = plan
            .iter()
            .filter(|step| step.contains(" t USING") || step.starts_with("SCAN t "))
            .filter(|step| !step.contains("trajectory_current"))
            .collect();
        assert_eq!(history.len(), 1, "one read of the history: {plan:#?}");
        assert!(
            history[0].contains("sqlite_autoindex_trajectory_versions_1 (id=?)"),
            "the history by primary key: {plan:#?}"
        );
    }
}
