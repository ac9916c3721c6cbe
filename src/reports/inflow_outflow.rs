//! The MOSA-style in- and outflow report (docs/reports.md): tables 1–8, per
//! reïntegratiebedrijf and per contract, and duurzaamheid. The snapshot of
//! the history at the report's transaction time is materialised once, in
//! the report's read transaction; each count is a query over it.

use super::sql::{
    ColumnType, Reach, a, col, constants, cte, materialise, materialise_snapshots, numbers,
    read_transaction, sum, tune_for_counting, with,
};
use super::{Edges, InflowOutflowReport, ReportRequest, Row, Table, Value};
use crate::domain::dates::latest_start_with_full_months;
use crate::domain::registration::RegistrationKind;
use crate::domain::trajectory::EndReason;
use crate::store::entities::{doelgroep_versions, provider_versions};
use crate::store::{Store, StoreError, StoreResult};
use chrono::NaiveDate;
use sea_orm::sea_query::{
    CommonTableExpression, Expr, ExprTrait, Func, JoinType, Query, SelectStatement, UnionType,
    Value as SqlValue, WithQuery,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// The columns of tables 3–8.
pub const COLUMNS: [&str; 7] = [
    "doorverwezen",
    "ingestroomd",
    "uitstroom_werk_regulier",
    "uitstroom_werk_gesubsidieerd",
    "uitstroom_werk",
    "uitstroom_zonder_werk",
    "bestand",
];

const FASE_ROWS: [&str; 6] = [
    "FASE_1",
    "FASE_2",
    "FASE_3",
    "FASE_4",
    "ONTHEFFING",
    "NIET_INGEDEELD",
];
const NO_DOELGROEP: &str = "geen doelgroep";
const NO_REGISTRATION: &str = "geen inschrijving";
const UNKNOWN_DURATION: &str = "onbekend";
/// Lasting outflow: no return to bijstand within this many days.
const DUURZAAMHEID_DAYS: u64 = 183;
/// Longest trajectory the duration calendar covers.
const MAX_DURATION_DAYS: i64 = 15_000;

fn bijstand_kinds() -> Vec<&'static str> {
    RegistrationKind::ALL
        .iter()
        .filter(|k| k.is_bijstand_kind())
        .map(|k| k.as_str())
        .collect()
}

fn work_reasons() -> [&'static str; 2] {
    [
        EndReason::WorkRegular.as_str(),
        EndReason::WorkSubsidised.as_str(),
    ]
}

fn in_period(expr: Expr, request: &ReportRequest) -> Expr {
    expr.between(request.period_start, request.period_end)
}

/// `alias` (an `ep` row) is active on the day in `day`.
fn active_on(alias: &str, day: Expr) -> Expr {
    col(alias, "start_date").lte(day.clone()).and(
        col(alias, "end_date")
            .is_null()
            .or(col(alias, "end_date").gte(day)),
    )
}

fn bijstand_episode(alias: &str) -> Expr {
    col(alias, "kind").is_in(bijstand_kinds())
}

/// The calendar of every day of the period: the day before and after it,
/// 183 days later, and for each age and duration edge the latest date a
/// birth or a registration start may have to have reached it.
fn calendar(request: &ReportRequest) -> CommonTableExpression {
    let ages = request.age_edges.months();
    let durations = request.duration_edges.months();
    let mut columns = vec![
        "day".to_owned(),
        "prev_day".into(),
        "next_day".into(),
        "plus183".into(),
    ];
    columns.extend((0..ages.len()).map(|i| format!("age_{i}")));
    columns.extend((0..durations.len()).map(|i| format!("duration_{i}")));
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let rows = request
        .period_start
        .iter_days()
        .take_while(|day| *day <= request.period_end)
        .map(|day| {
            let mut row: Vec<SqlValue> = vec![
                day.into(),
                day.pred_opt().unwrap_or(day).into(),
                day.succ_opt().unwrap_or(day).into(),
                (day + chrono::Days::new(DUURZAAMHEID_DAYS)).into(),
            ];
            row.extend(
                ages.iter()
                    .map(|m| latest_start_with_full_months(day, *m).into()),
            );
            row.extend(
                durations
                    .iter()
                    .map(|m| latest_start_with_full_months(day, *m).into()),
            );
            row
        })
        .collect();
    constants("cal", &names, rows)
}

/// Per client, the latest date in the period of each kind of trajectory
/// event, in one pass over the trajectories: `doorverwezen`, `ingestroomd`,
/// `werk` (a work ending), `regulier` (a regular work ending) and `zonder`
/// (an ending without work).
fn latest_events(request: &ReportRequest) -> SelectStatement {
    let in_p = |column: &str| in_period(col("tr", column), request);
    let latest = |condition: Expr, column: &str| {
        Func::max(Expr::case(condition, col("tr", column)).finally(Expr::null()))
    };
    let reason = || col("tr", "end_reason");
    Query::select()
        .column((a("tr"), a("client_id")))
        .expr_as(
            latest(in_p("referral_date"), "referral_date"),
            a("doorverwezen"),
        )
        .expr_as(latest(in_p("start_date"), "start_date"), a("ingestroomd"))
        .expr_as(
            latest(
                in_p("end_date").and(reason().is_in(work_reasons())),
                "end_date",
            ),
            a("werk"),
        )
        .expr_as(
            latest(
                in_p("end_date").and(reason().eq(EndReason::WorkRegular.as_str())),
                "end_date",
            ),
            a("regulier"),
        )
        .expr_as(
            latest(
                in_p("end_date")
                    .and(reason().is_not_null())
                    .and(reason().is_not_in(work_reasons())),
                "end_date",
            ),
            a("zonder"),
        )
        .from(a("tr"))
        .and_where(
            in_p("referral_date")
                .or(in_p("start_date"))
                .or(in_p("end_date")),
        )
        .group_by_col((a("tr"), a("client_id")))
        .to_owned()
}

/// One row per column (its index in `COLUMNS`) and client: (col, client_id,
/// d) where d is the latest qualifying event date in the period, the day
/// the client's row is evaluated on. A client with both kinds of work
/// ending counts in the kind of its latest (same day: regulier); uitval
/// only counts clients without a work ending in the period.
fn events(request: &ReportRequest) -> SelectStatement {
    let from_latest = |index: i64, date: &str, condition: Expr| {
        Query::select()
            .expr_as(Expr::val(index), a("col"))
            .column((a("pc"), a("client_id")))
            .expr_as(col("pc", date), a("d"))
            .from(a("pc"))
            .and_where(condition)
            .to_owned()
    };
    let has = |column: &str| col("pc", column).is_not_null();
    let mut union = from_latest(0, "doorverwezen", has("doorverwezen"));
    for branch in [
        from_latest(1, "ingestroomd", has("ingestroomd")),
        from_latest(2, "werk", col("pc", "regulier").eq(col("pc", "werk"))),
        from_latest(
            3,
            "werk",
            has("werk").and(
                col("pc", "regulier")
                    .is_null()
                    .or(col("pc", "regulier").lt(col("pc", "werk"))),
            ),
        ),
        from_latest(4, "werk", has("werk")),
        from_latest(5, "zonder", has("zonder").and(col("pc", "werk").is_null())),
        Query::select()
            .distinct()
            .expr_as(Expr::val(6i64), a("col"))
            .column((a("ep"), a("client_id")))
            .expr_as(Expr::val(request.period_end), a("d"))
            .from(a("ep"))
            .and_where(active_on("ep", Expr::val(request.period_end)))
            .to_owned(),
    ] {
        union.union(UnionType::All, branch);
    }
    union
}

/// Bucket index of `value` against calendar columns `{prefix}_{i}`: the
/// number of edges reached (dates on or before the edge's constant).
fn bucket(value: Expr, prefix: &str, edges: &Edges) -> Expr {
    let mut case = None::<sea_orm::sea_query::CaseStatement>;
    for index in (0..edges.months().len()).rev() {
        let reached = value.clone().lte(col("cal", &format!("{prefix}_{index}")));
        let result = Expr::val(index as i64 + 1);
        case = Some(match case {
            None => Expr::case(reached, result),
            Some(case) => case.case(reached, result),
        });
    }
    case.expect("at least one edge")
        .finally(Expr::val(0i64))
        .into()
}

/// The rows of snapshot `table` (fases, doelgroep assignments) with the
/// day each stops being in force, `valid_to`: the client's next later
/// `valid_from` in it (NULL: still in force). A row is in force on day `d`
/// when `valid_from <= d < valid_to`, exactly when its `valid_from` is the
/// latest on or before `d`, so a (client, day) pair finds it with one join
/// instead of a search for the latest.
fn intervals(table: &str, columns: &[&str]) -> WithQuery {
    let starts = Query::select()
        .distinct()
        .column(a("client_id"))
        .column(a("valid_from"))
        .from(a(table))
        .to_owned();
    let ends = Query::select()
        .column(a("client_id"))
        .column(a("valid_from"))
        .expr_as(
            Expr::cust("LEAD(valid_from) OVER (PARTITION BY client_id ORDER BY valid_from)"),
            a("valid_to"),
        )
        .from(a("starts"))
        .to_owned();
    let mut query = Query::select();
    for column in columns {
        query.column((a(table), a(column)));
    }
    query
        .column((a("ends"), a("valid_to")))
        .from(a(table))
        .join(
            JoinType::InnerJoin,
            a("ends"),
            col("ends", "client_id")
                .equals((a(table), a("client_id")))
                .and(col("ends", "valid_from").equals((a(table), a("valid_from")))),
        );
    with(
        vec![cte("starts", starts), cte("ends", ends)],
        query.to_owned(),
    )
}

/// Row `alias` of an interval table is in force on day `day`.
fn in_force(alias: &str, day: Expr) -> Expr {
    col(alias, "valid_from").lte(day.clone()).and(
        col(alias, "valid_to")
            .is_null()
            .or(col(alias, "valid_to").gt(day)),
    )
}

/// The evaluated rows `en`: per column and client (from the table `ev` of
/// `events`) its day `d`, whether it was in bijstand then, its fase (from
/// the interval table `fi`), and its age and duration buckets. The episodes
/// active on the day are looked up per row of `ev` (nearly every (client,
/// day) pair occurs once: looking them up per distinct pair and joining
/// back cost more than it saved); the doelgroepen in force are joined when
/// they are counted.
fn evaluated(request: &ReportRequest) -> WithQuery {
    let active = active_on("ep", col("ev", "d"));
    let on_day = Query::select()
        .column((a("ev"), a("col")))
        .column((a("ev"), a("client_id")))
        .column((a("ev"), a("d")))
        .expr_as(
            Func::max(
                Expr::case(active.clone().and(bijstand_episode("ep")), Expr::val(1i64))
                    .finally(Expr::val(0i64)),
            ),
            a("bijstand"),
        )
        .expr_as(
            Func::min(Expr::case(active, col("ep", "start_date")).finally(Expr::null())),
            a("first_start"),
        )
        .from(a("ev"))
        .join(
            JoinType::LeftJoin,
            a("ep"),
            col("ep", "client_id").equals((a("ev"), a("client_id"))),
        )
        .group_by_col((a("ev"), a("col")))
        .group_by_col((a("ev"), a("client_id")))
        .group_by_col((a("ev"), a("d")))
        .to_owned();
    let duration =
        Expr::case(col("od", "first_start").is_null(), Expr::val(-1i64)).finally(bucket(
            col("od", "first_start"),
            "duration",
            &request.duration_edges,
        ));
    let en = Query::select()
        .column((a("od"), a("col")))
        .column((a("od"), a("client_id")))
        .column((a("od"), a("d")))
        .column((a("od"), a("bijstand")))
        .expr_as(col("fi", "value"), a("fase"))
        .expr_as(
            bucket(col("cl", "birth_date"), "age", &request.age_edges),
            a("age"),
        )
        .expr_as(duration, a("duration"))
        .from(a("od"))
        .join(
            JoinType::InnerJoin,
            a("cl"),
            col("cl", "id").equals((a("od"), a("client_id"))),
        )
        .join(
            JoinType::InnerJoin,
            a("cal"),
            col("cal", "day").equals((a("od"), a("d"))),
        )
        .join(
            JoinType::LeftJoin,
            a("fi"),
            col("fi", "client_id")
                .equals((a("od"), a("client_id")))
                .and(in_force("fi", col("od", "d"))),
        )
        .to_owned();
    let mut ctes = base(request);
    ctes.push(cte("od", on_day));
    with(ctes, en)
}

/// The columns of the temporary tables `ev` and `en`.
const EV_COLUMNS: [(&str, ColumnType); 3] = [
    ("col", ColumnType::Integer),
    ("client_id", ColumnType::Uuid),
    ("d", ColumnType::Date),
];
const EN_COLUMNS: [(&str, ColumnType); 7] = [
    ("col", ColumnType::Integer),
    ("client_id", ColumnType::Uuid),
    ("d", ColumnType::Date),
    ("bijstand", ColumnType::Integer),
    ("fase", ColumnType::Text),
    ("age", ColumnType::Integer),
    ("duration", ColumnType::Integer),
];
/// The columns of the temporary table `days`: each day from the first start
/// of a trajectory ended in the period to the period's end, and its ordinal.
const DAYS_COLUMNS: [(&str, ColumnType); 2] =
    [("day", ColumnType::Date), ("ordinal", ColumnType::Integer)];
/// The columns of the interval tables `fi` (of `fa`) and `gi` (of `dg`).
const FI_COLUMNS: [(&str, ColumnType); 4] = [
    ("client_id", ColumnType::Uuid),
    ("value", ColumnType::Text),
    ("valid_from", ColumnType::Date),
    ("valid_to", ColumnType::Date),
];
const GI_COLUMNS: [(&str, ColumnType); 4] = [
    ("client_id", ColumnType::Uuid),
    ("code", ColumnType::Text),
    ("valid_from", ColumnType::Date),
    ("valid_to", ColumnType::Date),
];

/// The common table expressions every query starts with (the snapshots
/// are temporary tables by then).
fn base(request: &ReportRequest) -> Vec<CommonTableExpression> {
    vec![calendar(request)]
}

/// Counts of one column by every dimension.
#[derive(Default)]
struct ColumnCounts {
    total: i64,
    bijstand: i64,
    by_fase: HashMap<Option<String>, i64>,
    by_age: HashMap<Option<String>, i64>,
    by_duration: HashMap<Option<String>, i64>,
    by_doelgroep: HashMap<Option<String>, i64>,
    by_kind: HashMap<Option<String>, i64>,
}

/// Tables 3–8 and the terugval of duurzaamheid in one statement: the
/// evaluated rows are built once and grouped by each dimension, every
/// grouping a branch of one UNION ALL of (dimension, column, label, count).
async fn column_counts(
    db: &impl ConnectionTrait,
    request: &ReportRequest,
) -> StoreResult<(Vec<ColumnCounts>, i64)> {
    let text = |expr: Expr| Expr::from(Func::cast_as(expr, a("TEXT")));
    // A label of NULL for the counts without one.
    let grouping = |dimension: &str, label: Option<Expr>, count: Expr| {
        let mut query = Query::select();
        query
            .expr_as(Expr::val(dimension), a("dimension"))
            .column((a("en"), a("col")))
            .expr_as(
                label.clone().unwrap_or_else(|| text(Expr::null())),
                a("label"),
            )
            .expr_as(count, a("n"))
            .from(a("en"))
            .group_by_col((a("en"), a("col")));
        if let Some(label) = label {
            query.add_group_by([label]);
        }
        query
    };
    // `en` has one row per (column, client). Joined with the doelgroep codes
    // in force, or the episodes active, on the row's day it still has one
    // row per (column, client, label), so counting rows counts distinct
    // clients: the store allows one fase and one doelgroep assignment per
    // client and valid-from, and no two episodes of one kind on one day.
    let rows = || col("en", "client_id").count();
    let mut union = grouping("total", None, rows());
    let by_doelgroep = grouping("doelgroep", Some(text(col("gi", "code"))), rows())
        .join(
            JoinType::LeftJoin,
            a("gi"),
            col("gi", "client_id")
                .equals((a("en"), a("client_id")))
                .and(in_force("gi", col("en", "d"))),
        )
        .to_owned();
    let by_kind = grouping("kind", Some(text(col("ep", "kind"))), rows())
        .join(
            JoinType::LeftJoin,
            a("ep"),
            col("ep", "client_id")
                .equals((a("en"), a("client_id")))
                .and(active_on("ep", col("en", "d"))),
        )
        .to_owned();
    let returned = Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(a("ep"))
            .and_where(col("ep", "client_id").equals((a("en"), a("client_id"))))
            .and_where(bijstand_episode("ep"))
            .and_where(col("ep", "start_date").gt(col("en", "d")))
            .and_where(col("ep", "start_date").lte(col("cal", "plus183")))
            .to_owned(),
    );
    let terugval = grouping("terugval", None, rows())
        .join(
            JoinType::InnerJoin,
            a("cal"),
            col("cal", "day").equals((a("en"), a("d"))),
        )
        .and_where(col("en", "col").eq(4i64))
        .and_where(returned)
        .to_owned();
    for branch in [
        grouping("bijstand", None, sum(col("en", "bijstand"))),
        grouping("fase", Some(text(col("en", "fase"))), rows()),
        grouping("age", Some(text(col("en", "age"))), rows()),
        grouping("duration", Some(text(col("en", "duration"))), rows()),
        by_doelgroep,
        by_kind,
        terugval,
    ] {
        union.union(UnionType::All, branch);
    }
    // Materialised with their statistics, so that the groupings below are
    // planned on the real numbers of rows.
    let mut ctes = base(request);
    ctes.push(cte("pc", latest_events(request)));
    materialise(
        db,
        "ev",
        &EV_COLUMNS,
        &with(ctes, events(request)),
        &["client_id"],
    )
    .await?;
    materialise(
        db,
        "fi",
        &FI_COLUMNS,
        &intervals("fa", &["client_id", "value", "valid_from"]),
        &["client_id"],
    )
    .await?;
    materialise(
        db,
        "gi",
        &GI_COLUMNS,
        &intervals("dg", &["client_id", "code", "valid_from"]),
        &["client_id"],
    )
    .await?;
    materialise(db, "en", &EN_COLUMNS, &evaluated(request), &["client_id"]).await?;
    let mut counts: Vec<ColumnCounts> = COLUMNS.iter().map(|_| ColumnCounts::default()).collect();
    let mut terugval = 0;
    for row in db.query_all(&with(base(request), union)).await? {
        let dimension: String = row.try_get_by_index(0)?;
        let column: i64 = row.try_get_by_index(1)?;
        let label: Option<String> = row.try_get_by_index(2)?;
        let n = row.try_get_by_index::<Option<i64>>(3)?.unwrap_or(0);
        let counts = usize::try_from(column)
            .ok()
            .and_then(|c| counts.get_mut(c))
            .ok_or_else(|| StoreError::corrupt("col", &column.to_string()))?;
        match dimension.as_str() {
            "total" => counts.total = n,
            "bijstand" => counts.bijstand = n,
            "fase" => drop(counts.by_fase.insert(label, n)),
            "age" => drop(counts.by_age.insert(label, n)),
            "duration" => drop(counts.by_duration.insert(label, n)),
            "doelgroep" => drop(counts.by_doelgroep.insert(label, n)),
            "kind" => drop(counts.by_kind.insert(label, n)),
            _ => terugval = n,
        }
    }
    Ok((counts, terugval))
}

impl Store {
    pub async fn inflow_outflow_report(
        &self,
        request: &ReportRequest,
    ) -> StoreResult<InflowOutflowReport> {
        let txn = read_transaction(self, &request.gemeente).await?;
        let reach = Reach {
            period_start: request.period_start,
            period_end: request.period_end,
            last_episode_start: request.period_end + chrono::Days::new(DUURZAAMHEID_DAYS),
        };
        materialise_snapshots(&txn, &request.gemeente, request.horizon, &reach).await?;
        tune_for_counting(&txn).await?;
        let report = counted(&txn, request).await;
        txn.rollback().await?;
        report
    }
}

/// The whole report, counted over the materialised snapshots.
async fn counted(
    db: &impl ConnectionTrait,
    request: &ReportRequest,
) -> StoreResult<InflowOutflowReport> {
    let (counts, terugval) = column_counts(db, request).await?;
    let row = |label: &str, get: &dyn Fn(&ColumnCounts) -> i64| Row {
        label: label.to_owned(),
        values: counts.iter().map(|c| Value::Count(get(c))).collect(),
    };
    let keyed = |label: &str,
                 key: Option<&str>,
                 pick: fn(&ColumnCounts) -> &HashMap<Option<String>, i64>| {
        let key = key.map(str::to_owned);
        row(label, &move |c: &ColumnCounts| {
            pick(c).get(&key).copied().unwrap_or(0)
        })
    };
    let columns = COLUMNS.to_vec();
    let doelgroepen = doelgroep_codes(db, request).await?;
    let mut tables = vec![
        bijstandsvolume(db, request).await?,
        in_uitstroom(db, request).await?,
    ];
    tables.push(Table {
        name: "3_trajectgegevens_totaal",
        title: "Trajectgegevens totaal",
        columns: columns.clone(),
        rows: vec![
            row("totaal", &|c| c.total),
            row("waarvan bijstand", &|c| c.bijstand),
        ],
    });
    let mut doelgroep_rows: Vec<Row> = doelgroepen
        .iter()
        .map(|code| keyed(code, Some(code), |c| &c.by_doelgroep))
        .collect();
    doelgroep_rows.push(keyed(NO_DOELGROEP, None, |c| &c.by_doelgroep));
    tables.push(Table {
        name: "4_doelgroepen",
        title: "Doelgroepen",
        columns: columns.clone(),
        rows: doelgroep_rows,
    });
    let mut kind_rows: Vec<Row> = RegistrationKind::ALL
        .iter()
        .map(|k| keyed(k.as_str(), Some(k.as_str()), |c| &c.by_kind))
        .collect();
    kind_rows.push(keyed(NO_REGISTRATION, None, |c| &c.by_kind));
    tables.push(Table {
        name: "5_uitkeringssoort",
        title: "Uitkeringssoort",
        columns: columns.clone(),
        rows: kind_rows,
    });
    let fase_rows = FASE_ROWS
        .iter()
        .map(|f| keyed(f, (*f != "NIET_INGEDEELD").then_some(*f), |c| &c.by_fase))
        .collect();
    tables.push(Table {
        name: "6_fasering",
        title: "Fasering",
        columns: columns.clone(),
        rows: fase_rows,
    });
    let mut duration_rows: Vec<Row> = request
        .duration_edges
        .labels("y")
        .iter()
        .enumerate()
        .map(|(i, label)| keyed(label, Some(&i.to_string()), |c| &c.by_duration))
        .collect();
    duration_rows.push(keyed(UNKNOWN_DURATION, Some("-1"), |c| &c.by_duration));
    tables.push(Table {
        name: "7_inschrijvingsduur",
        title: "Inschrijvingsduur",
        columns: columns.clone(),
        rows: duration_rows,
    });
    let age_rows = request
        .age_edges
        .labels("")
        .iter()
        .enumerate()
        .map(|(i, label)| keyed(label, Some(&i.to_string()), |c| &c.by_age))
        .collect();
    tables.push(Table {
        name: "8_leeftijd",
        title: "Leeftijd",
        columns,
        rows: age_rows,
    });
    let owners = per_owner(db, request).await?;
    let names = provider_names(db, request).await?;
    tables.push(owner_table(&owners, "provider_id", &names));
    tables.push(owner_table(&owners, "contract_id", &names));
    tables.push(duurzaamheid(counts[4].total, terugval));
    Ok(InflowOutflowReport {
        gemeente: request.gemeente.to_string(),
        period_start: request.period_start,
        period_end: request.period_end,
        as_of: request.horizon.to_datetime(),
        tables,
    })
}

/// The doelgroep codes the gemeente had defined at the report's time.
async fn doelgroep_codes(
    db: &impl ConnectionTrait,
    request: &ReportRequest,
) -> StoreResult<Vec<String>> {
    Ok(doelgroep_versions::Entity::find()
        .filter(doelgroep_versions::Column::Gemeente.eq(request.gemeente.as_str()))
        .filter(doelgroep_versions::Column::Version.eq(1))
        .filter(doelgroep_versions::Column::RecordedAt.lte(request.horizon.micros()))
        .order_by_asc(doelgroep_versions::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.code)
        .collect())
}

/// Table 1: clients in bijstand on the day before the period and on its end.
async fn bijstandsvolume(db: &impl ConnectionTrait, request: &ReportRequest) -> StoreResult<Table> {
    let day_before = request
        .period_start
        .pred_opt()
        .unwrap_or(request.period_start);
    let distinct_active = |day: NaiveDate| {
        Expr::case(active_on("ep", Expr::val(day)), col("ep", "client_id"))
            .finally(Expr::null())
            .count_distinct()
    };
    let query = Query::select()
        .expr(distinct_active(day_before))
        .expr(distinct_active(request.period_end))
        .from(a("ep"))
        .and_where(bijstand_episode("ep"))
        .to_owned();
    let values = numbers(db, &with(base(request), query), 2).await?;
    Ok(Table {
        name: "1_bijstandsvolume",
        title: "Bijstandsvolume",
        columns: vec!["dag_voor_periode", "peildatum"],
        rows: vec![Row {
            label: "bijstand".into(),
            values: values.into_iter().map(Value::Count).collect(),
        }],
    })
}

/// Table 2: clients flowing into and out of bijstand in the period.
async fn in_uitstroom(db: &impl ConnectionTrait, request: &ReportRequest) -> StoreResult<Table> {
    let flow = |date_column: &str, neighbour: &str| {
        let covered = Query::select()
            .expr(Expr::val(1))
            .from_as(a("ep"), a("e2"))
            .and_where(col("e2", "client_id").equals((a("e"), a("client_id"))))
            .and_where(bijstand_episode("e2"))
            .and_where(active_on("e2", col("cal", neighbour)))
            .to_owned();
        Query::select()
            .expr(col("e", "client_id").count_distinct())
            .from_as(a("ep"), a("e"))
            .join(
                JoinType::InnerJoin,
                a("cal"),
                col("cal", "day").equals((a("e"), a(date_column))),
            )
            .and_where(bijstand_episode("e"))
            .and_where(Expr::exists(covered).not())
            .to_owned()
    };
    let instroom = numbers(db, &with(base(request), flow("start_date", "prev_day")), 1).await?[0];
    let uitstroom = numbers(db, &with(base(request), flow("end_date", "next_day")), 1).await?[0];
    Ok(Table {
        name: "2_in_uitstroom_bijstand",
        title: "In- en uitstroom bijstand",
        columns: vec!["instroom", "uitstroom"],
        rows: vec![Row {
            label: "bijstand".into(),
            values: vec![Value::Count(instroom), Value::Count(uitstroom)],
        }],
    })
}

/// The sums per (provider, contract) the tables per reïntegratiebedrijf and
/// per contract are made of; a contract belongs to one provider, so the
/// provider's sums are those of its contracts.
struct OwnerSums {
    provider_id: Option<uuid::Uuid>,
    contract_id: Option<uuid::Uuid>,
    /// doorverwezen, gestart, beëindigd regulier, gesubsidieerd, zonder
    /// werk, lopend, duration days, measured endings, cost of the ended.
    sums: [i64; 9],
}

/// Counts of trajectories, durations and cost per (provider, contract), in
/// one query.
async fn per_owner(
    db: &impl ConnectionTrait,
    request: &ReportRequest,
) -> StoreResult<Vec<OwnerSums>> {
    let ended = in_period(col("tr", "end_date"), request);
    let first_start = Query::select()
        .expr(Func::min(col("tr", "start_date")))
        .from(a("tr"))
        .and_where(ended.clone())
        .to_owned();
    let first_start: Option<NaiveDate> = db
        .query_one(&with(base(request), first_start))
        .await?
        .and_then(|row| row.try_get_by_index::<Option<NaiveDate>>(0).ok().flatten());
    let from = Ord::min(
        first_start.unwrap_or(request.period_start),
        request.period_start,
    );
    if request.period_end.signed_duration_since(from).num_days() > MAX_DURATION_DAYS {
        return Err(StoreError::Precondition {
            rule: "trajectory_duration",
            message: format!(
                "a trajectory ended in the period started on {from}, too long ago to measure"
            ),
        });
    }
    let ordinals = constants(
        "ordinals",
        &["day", "ordinal"],
        from.iter_days()
            .take_while(|day| *day <= request.period_end)
            .enumerate()
            .map(|(ordinal, day)| vec![day.into(), (ordinal as i64).into()])
            .collect(),
    );
    // A table (on SQLite with an index on the day): joined twice with every
    // trajectory, a list of constants would be scanned per trajectory.
    materialise(
        db,
        "days",
        &DAYS_COLUMNS,
        &with(
            vec![ordinals],
            Query::select()
                .column(a("day"))
                .column(a("ordinal"))
                .from(a("ordinals"))
                .to_owned(),
        ),
        &["day"],
    )
    .await?;
    let flag =
        |condition: Expr| sum(Expr::case(condition, Expr::val(1i64)).finally(Expr::val(0i64)));
    let reason = |r: EndReason| col("tr", "end_reason").eq(r.as_str());
    let measured = ended.clone().and(col("tr", "start_date").is_not_null());
    let query = Query::select()
        .column((a("tr"), a("provider_id")))
        .column((a("tr"), a("contract_id")))
        .expr(flag(in_period(col("tr", "referral_date"), request)))
        .expr(flag(in_period(col("tr", "start_date"), request)))
        .expr(flag(ended.clone().and(reason(EndReason::WorkRegular))))
        .expr(flag(ended.clone().and(reason(EndReason::WorkSubsidised))))
        .expr(flag(
            ended
                .clone()
                .and(col("tr", "end_reason").is_not_in(work_reasons())),
        ))
        .expr(flag(
            col("tr", "start_date").lte(request.period_end).and(
                col("tr", "end_date")
                    .is_null()
                    .or(col("tr", "end_date").gt(request.period_end)),
            ),
        ))
        .expr(sum(Expr::case(
            measured.clone(),
            col("de", "ordinal").sub(col("ds", "ordinal")),
        )
        .finally(Expr::val(0i64))))
        .expr(flag(measured))
        .expr(sum(
            Expr::case(ended, col("tr", "cost_cents")).finally(Expr::val(0i64))
        ))
        .from(a("tr"))
        .join_as(
            JoinType::LeftJoin,
            a("days"),
            a("ds"),
            col("ds", "day").equals((a("tr"), a("start_date"))),
        )
        .join_as(
            JoinType::LeftJoin,
            a("days"),
            a("de"),
            col("de", "day").equals((a("tr"), a("end_date"))),
        )
        .group_by_col((a("tr"), a("provider_id")))
        .group_by_col((a("tr"), a("contract_id")))
        .to_owned();
    let mut owners = Vec::new();
    for row in db.query_all(&with(base(request), query)).await? {
        let mut sums = [0; 9];
        for (i, sum) in sums.iter_mut().enumerate() {
            *sum = row.try_get_by_index::<Option<i64>>(i + 2)?.unwrap_or(0);
        }
        owners.push(OwnerSums {
            provider_id: row.try_get_by_index(0)?,
            contract_id: row.try_get_by_index(1)?,
            sums,
        });
    }
    Ok(owners)
}

/// The table per reïntegratiebedrijf (`key` provider_id) or per contract
/// (contract_id): counts of trajectories, placement rate, mean duration and
/// cost.
fn owner_table(owners: &[OwnerSums], key: &str, names: &HashMap<uuid::Uuid, String>) -> Table {
    let mut by_owner: std::collections::BTreeMap<Option<uuid::Uuid>, [i64; 9]> = Default::default();
    for owner in owners {
        let id = if key == "provider_id" {
            owner.provider_id
        } else {
            owner.contract_id
        };
        let total = by_owner.entry(id).or_default();
        for (total, sum) in total.iter_mut().zip(owner.sums) {
            *total += sum;
        }
    }
    let mut table_rows = Vec::with_capacity(by_owner.len());
    for (owner, sums) in by_owner {
        let n = |i: usize| sums[i - 1];
        let (regulier, gesubsidieerd, zonder) = (n(3), n(4), n(5));
        let (duration_days, measured, cost) = (n(7), n(8), n(9));
        let work = regulier + gesubsidieerd;
        let endings = work + zonder;
        let label = match (owner, key) {
            (None, _) => "eigen beheer".to_owned(),
            (Some(id), "provider_id") => match names.get(&id) {
                Some(name) => format!("providers/{id} ({name})"),
                None => format!("providers/{id}"),
            },
            (Some(id), _) => format!("contracts/{id}"),
        };
        let ratio = |num: i64, den: i64| {
            if den == 0 {
                Value::Missing
            } else {
                Value::Number(num as f64 / den as f64)
            }
        };
        table_rows.push(Row {
            label,
            values: vec![
                Value::Count(n(1)),
                Value::Count(n(2)),
                Value::Count(regulier),
                Value::Count(gesubsidieerd),
                Value::Count(zonder),
                Value::Count(n(6)),
                ratio(work, endings),
                ratio(duration_days, measured),
                Value::Count(cost),
                ratio(cost, work),
            ],
        });
    }
    table_rows.sort_by(|x, y| x.label.cmp(&y.label));
    let (name, title) = if key == "provider_id" {
        (
            "per_reintegratiebedrijf",
            "Per reïntegratiebedrijf (trajecten)",
        )
    } else {
        ("per_contract", "Per contract (trajecten)")
    };
    Table {
        name,
        title,
        columns: vec![
            "doorverwezen",
            "gestart",
            "beeindigd_werk_regulier",
            "beeindigd_werk_gesubsidieerd",
            "beeindigd_zonder_werk",
            "lopend_op_peildatum",
            "plaatsingspercentage",
            "gemiddelde_duur_dagen",
            "kosten_beeindigd_cents",
            "kosten_per_uitstroom_werk_cents",
        ],
        rows: table_rows,
    }
}

async fn provider_names(
    db: &impl ConnectionTrait,
    request: &ReportRequest,
) -> StoreResult<HashMap<uuid::Uuid, String>> {
    let rows = provider_versions::Entity::find()
        .filter(provider_versions::Column::Gemeente.eq(request.gemeente.as_str()))
        .filter(crate::store::latest_as_of_in(
            "provider_versions",
            "provider_versions",
            request.horizon,
        ))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.id, row.display_name))
        .collect())
}

/// Of the clients counted in `uitstroom_werk`, those back in bijstand within
/// 183 days after the work ending that decided their row (`terugval`,
/// counted with tables 3–8).
fn duurzaamheid(uitstroom_werk: i64, terugval: i64) -> Table {
    let share = |n: i64| {
        if uitstroom_werk == 0 {
            Value::Missing
        } else {
            Value::Number(n as f64 / uitstroom_werk as f64)
        }
    };
    Table {
        name: "duurzaamheid",
        title: "Duurzaamheid van uitstroom naar werk (terugval binnen 183 dagen)",
        columns: vec![
            "uitstroom_werk",
            "terugval",
            "aandeel_terugval",
            "duurzaam",
            "aandeel_duurzaam",
        ],
        rows: vec![Row {
            label: "totaal".into(),
            values: vec![
                Value::Count(uitstroom_werk),
                Value::Count(terugval),
                share(terugval),
                Value::Count(uitstroom_werk - terugval),
                share(uitstroom_werk - terugval),
            ],
        }],
    }
}
