//! The MOSA-style in- and outflow report (docs/reports.md): tables 1–8, per
//! reïntegratiebedrijf and per contract, and duurzaamheid. Everything is
//! counted in the database from two sources: the trajectories' latest
//! versions as of the report's transaction time, and the clients'
//! timelines (crate `timeline`), in which a client's state on a day is one
//! row. The clients are split into ranges of ids that are counted at the
//! same time, each on a connection of its own; every number of the report
//! counts clients or trajectories, which belong to one range, so the
//! ranges' numbers add up to the gemeente's.

use super::sql::{
    a, changed_after, col, constants, cte, gemeente_is, holds_on, latest_versions,
    read_transaction, snapshot_transaction, sum, timeline_generations, tune_for_counting, with,
};
use super::{Edges, InflowOutflowReport, ReportRequest, Row, Table, Value};
use crate::domain::dates::latest_start_with_full_months;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::registration::RegistrationKind;
use crate::domain::trajectory::EndReason;
use crate::store::entities::{doelgroep_versions, provider_versions};
use crate::store::{Store, StoreError, StoreResult};
use chrono::NaiveDate;
use migration::client_timeline::SEGMENT_COLUMNS;
use sea_orm::sea_query::{
    Asterisk, CommonTableExpression, Expr, ExprTrait, Func, JoinType, Query, SelectStatement,
    UnionType, Value as SqlValue,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

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
/// Indexes into `COLUMNS`. The counting statement names every column but
/// `uitstroom_werk`: its pairs are those of regulier and gesubsidieerd
/// together, evaluated on the same day, so it is their sum in every row.
const DOORVERWEZEN: usize = 0;
const INGESTROOMD: usize = 1;
const REGULIER: usize = 2;
const GESUBSIDIEERD: usize = 3;
const WERK: usize = 4;
const ZONDER_WERK: usize = 5;
const BESTAND: usize = 6;

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

fn work_reasons() -> [&'static str; 2] {
    [
        EndReason::WorkRegular.as_str(),
        EndReason::WorkSubsidised.as_str(),
    ]
}

fn in_period(expr: Expr, request: &ReportRequest) -> Expr {
    expr.between(request.period_start, request.period_end)
}

fn day_before(day: NaiveDate) -> NaiveDate {
    day.pred_opt().unwrap_or(day)
}

fn day_after(day: NaiveDate) -> NaiveDate {
    day.succ_opt().unwrap_or(day)
}

/// A range of client ids, `from` inclusive and `to` exclusive (`None`: no
/// bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ClientRange {
    from: Option<Uuid>,
    to: Option<Uuid>,
}

impl ClientRange {
    const ALL: ClientRange = ClientRange {
        from: None,
        to: None,
    };

    /// `{alias}.{column}` lies in the range.
    fn holds(&self, alias: &str, column: &str) -> Vec<Expr> {
        let mut filters = Vec::new();
        if let Some(from) = self.from {
            filters.push(col(alias, column).gte(from));
        }
        if let Some(to) = self.to {
            filters.push(col(alias, column).lt(to));
        }
        filters
    }
}

/// The calendar of every day of the period (a VALUES list computed here,
/// so that the database does no date arithmetic): its ordinal from the
/// first day, the day 183 days later, and for each age and duration edge
/// the latest date a birth or a registration start may have to have
/// reached it.
fn calendar(request: &ReportRequest) -> CommonTableExpression {
    let ages = request.age_edges.months();
    let durations = request.duration_edges.months();
    let mut columns = vec!["day".to_owned(), "ordinal".into(), "plus183".into()];
    columns.extend((0..ages.len()).map(|i| format!("age_{i}")));
    columns.extend((0..durations.len()).map(|i| format!("duration_{i}")));
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let rows = request
        .period_start
        .iter_days()
        .take_while(|day| *day <= request.period_end)
        .zip(0i32..)
        .map(|(day, ordinal)| {
            let mut row: Vec<SqlValue> = vec![
                day.into(),
                ordinal.into(),
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

/// What changed after the report's transaction time, as seen by the range's
/// transaction: only then do the counts need the history beside the tables
/// of latest versions and the current timelines (`latest_versions`).
#[derive(Debug, Clone, Copy)]
struct Changed {
    /// A trajectory has a version recorded after the horizon.
    trajectories: bool,
    /// A client's timeline generation was superseded after the horizon.
    timelines: bool,
}

impl Changed {
    async fn since(db: &impl ConnectionTrait, request: &ReportRequest) -> StoreResult<Changed> {
        let at = (&request.gemeente, request.horizon);
        Ok(Changed {
            trajectories: changed_after(db, at, "trajectory_current", "recorded_at").await?,
            timelines: changed_after(db, at, migration::client_timeline::TABLE, "superseded_at")
                .await?,
        })
    }
}

/// The trajectories of the range as of the report's transaction time that
/// can count anywhere: referred on or before the period's end and not ended
/// before it began (a trajectory cannot start or end before its referral).
fn trajectories(request: &ReportRequest, range: &ClientRange, changed: Changed) -> SelectStatement {
    let mut filters = vec![
        col("t", "referral_date").lte(request.period_end),
        col("t", "end_date")
            .is_null()
            .or(col("t", "end_date").gte(request.period_start)),
    ];
    filters.extend(range.holds("t", "client_id"));
    latest_versions(
        ("trajectory_versions", "trajectory_current"),
        "t",
        &[
            "client_id",
            "provider_id",
            "contract_id",
            "referral_date",
            "start_date",
            "end_date",
            "end_reason",
            "cost_cents",
        ],
        (&request.gemeente, request.horizon),
        filters,
        changed.trajectories,
    )
}

/// Per client, the latest date in the period of each kind of trajectory
/// event, in one pass over the trajectories `tr`: `doorverwezen`,
/// `ingestroomd`, `werk` (a work ending), `regulier` (a regular work
/// ending) and `zonder` (an ending without work).
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

/// The timeline segments of the range's clients as of the report's
/// transaction time (each client's generation recorded at or before it and
/// not superseded by then) that hold on some day from the day before the
/// period to the day after it.
fn timelines(request: &ReportRequest, range: &ClientRange, changed: Changed) -> SelectStatement {
    let mut filters = vec![
        col("s", "valid_to")
            .is_null()
            .or(col("s", "valid_to").gt(day_before(request.period_start))),
        col("s", "valid_from")
            .is_null()
            .or(col("s", "valid_from").lte(day_after(request.period_end))),
    ];
    filters.extend(range.holds("s", "client_id"));
    timeline_generations(
        (&request.gemeente, request.horizon),
        &SEGMENT_COLUMNS,
        filters,
        changed.timelines,
    )
}

/// The kinds of segment `alias` (column `column`) include a bijstand kind.
fn bijstand(alias: &str, column: &str) -> Expr {
    col(alias, column)
        .bit_and(i64::from(timeline::kind::BIJSTAND_KINDS))
        .ne(0)
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

/// The cube's columns beyond those of tables 3–8 (`COLUMNS`): counts for
/// tables 1 and 2, without breakdown.
const BIJSTAND_DAY_BEFORE: usize = 7;
const INSTROOM: usize = 8;
const UITSTROOM: usize = 9;

/// The segment columns every row of the cube's union carries.
const EVALUATED: [&str; 6] = [
    "kinds",
    "first_start",
    "next_bijstand_start",
    "fase",
    "doelgroepen",
    "birth_date",
];

/// Tables 1–8 and the terugval of duurzaamheid for the range, in one
/// statement over one pass of the timelines: each segment (`j`, with the
/// client's latest trajectory events in the period from `pc`) gives the
/// (column, client) pairs whose day it holds — the latest referral, start,
/// work ending or ending without work, and the period's last day for
/// bestand — counted by everything tables 3–8 break a column down by; and
/// for tables 1 and 2 the segments holding the day before the period in
/// bijstand, and those where the client's last flow into, and out of,
/// bijstand in the period happens. The answer is a small cube of counts
/// (a row per combination that occurs) whose sums are the tables; see
/// `CubeRow`.
fn cube_query(
    request: &ReportRequest,
    range: &ClientRange,
    changed: Changed,
) -> sea_orm::sea_query::WithQuery {
    let mut joined = Query::select();
    for column in SEGMENT_COLUMNS {
        joined.column((a("t"), a(column)));
    }
    for column in ["doorverwezen", "ingestroomd", "werk", "regulier", "zonder"] {
        joined.column((a("pc"), a(column)));
    }
    joined
        .from_subquery(timelines(request, range, changed), a("t"))
        .join(
            JoinType::LeftJoin,
            a("pc"),
            col("pc", "client_id").equals((a("t"), a("client_id"))),
        );
    let index = |i: usize| Expr::val(i as i64);
    // A (column, client) pair evaluated on `day`, where the segment holds it
    // (and meets `condition`).
    let evaluated = |column: Expr, day: Expr, condition: Option<Expr>| {
        let mut query = Query::select();
        query.expr_as(column, a("col")).expr_as(day.clone(), a("d"));
        for segment_column in EVALUATED {
            query.column((a("j"), a(segment_column)));
        }
        query
            .expr_as(Expr::val(1i32), a("w"))
            .from(a("j"))
            .and_where(day.clone().is_not_null())
            .and_where(holds_on("j", day));
        if let Some(condition) = condition {
            query.and_where(condition);
        }
        query
    };
    // Segments counted for tables 1 and 2, without breakdown: one pass for
    // all three columns, which no segment can meet two of (the day before
    // the period lies before either kind of flow in it).
    let counted = |columns: Vec<(usize, Expr)>| {
        let mut which = None::<sea_orm::sea_query::CaseStatement>;
        for (column, condition) in columns {
            which = Some(match which {
                None => Expr::case(condition, index(column)),
                Some(case) => case.case(condition, index(column)),
            });
        }
        let which = Query::select()
            .expr_as(which.expect("columns").finally(Expr::null()), a("col"))
            .from(a("j"))
            .to_owned();
        let mut query = Query::select();
        query
            .column((a("c"), a("col")))
            .expr_as(Func::cast_as(Expr::null(), a("DATE")), a("d"));
        for segment_column in EVALUATED {
            query.expr_as(Expr::null(), a(segment_column));
        }
        query
            .expr_as(
                Func::cast_as(Expr::col(Asterisk).count(), a("INTEGER")),
                a("w"),
            )
            .from_subquery(which, a("c"))
            .and_where(col("c", "col").is_not_null())
            .group_by_col((a("c"), a("col")))
            .to_owned()
    };
    let day = |column: &str| col("j", column);
    let work_kind = Expr::case(col("j", "regulier").eq(col("j", "werk")), index(REGULIER))
        .finally(index(GESUBSIDIEERD));
    let (first, last) = (request.period_start, request.period_end);
    let last_of =
        |next: &str, last: NaiveDate| col("j", next).is_null().or(col("j", next).gt(last));
    let instroom = col("j", "valid_from")
        .between(first, last)
        .and(bijstand("j", "kinds"))
        .and(bijstand("j", "kinds_before").not())
        .and(last_of("next_instroom", last));
    let uitstroom = col("j", "valid_from")
        .between(day_after(first), day_after(last))
        .and(bijstand("j", "kinds_before"))
        .and(bijstand("j", "kinds").not())
        .and(last_of("next_uitstroom", day_after(last)));
    let mut union = evaluated(index(DOORVERWEZEN), day("doorverwezen"), None);
    for branch in [
        evaluated(index(INGESTROOMD), day("ingestroomd"), None),
        evaluated(work_kind.into(), day("werk"), None),
        evaluated(
            index(ZONDER_WERK),
            day("zonder"),
            Some(col("j", "werk").is_null()),
        ),
        evaluated(
            index(BESTAND),
            Expr::val(last),
            Some(col("j", "kinds").ne(0)),
        ),
        counted(vec![
            (
                BIJSTAND_DAY_BEFORE,
                holds_on("j", Expr::val(day_before(first))).and(bijstand("j", "kinds")),
            ),
            (INSTROOM, instroom),
            (UITSTROOM, uitstroom),
        ]),
    ] {
        union.union(UnionType::All, branch);
    }
    let duration = Expr::case(col("x", "first_start").is_null(), Expr::val(-1i64)).finally(bucket(
        col("x", "first_start"),
        "duration",
        &request.duration_edges,
    ));
    let returned = col("x", "next_bijstand_start").lte(col("cal", "plus183"));
    let dimensions = Query::select()
        .column((a("x"), a("col")))
        .expr_as(Func::cast_as(col("x", "kinds"), a("BIGINT")), a("kinds"))
        .column((a("x"), a("fase")))
        .column((a("x"), a("doelgroepen")))
        .expr_as(
            bucket(col("x", "birth_date"), "age", &request.age_edges),
            a("age"),
        )
        .expr_as(duration, a("duration"))
        .expr_as(
            Expr::case(returned, Expr::val(1i64)).finally(Expr::val(0i64)),
            a("terugval"),
        )
        .column((a("x"), a("w")))
        .from_subquery(union, a("x"))
        .join(
            JoinType::LeftJoin,
            a("cal"),
            col("cal", "day").equals((a("x"), a("d"))),
        )
        .to_owned();
    let keys = [
        "col",
        "kinds",
        "fase",
        "doelgroepen",
        "age",
        "duration",
        "terugval",
    ];
    let mut cube = Query::select();
    for key in keys {
        cube.column((a("y"), a(key)));
    }
    cube.expr_as(sum(col("y", "w")), a("n"))
        .from_subquery(dimensions, a("y"));
    for key in keys {
        cube.group_by_col((a("y"), a(key)));
    }
    with(
        vec![
            calendar(request),
            cte("tr", trajectories(request, range, changed)),
            cte("pc", latest_events(request)),
            cte("j", joined.to_owned()).materialized(true).to_owned(),
        ],
        cube.to_owned(),
    )
}

/// One cell of the cube: `n` (column, client) pairs of column `col` whose
/// client had registration kinds `kinds` (`timeline::kind` bits), fase
/// `fase` and doelgroepen `doelgroepen` on the pair's day, was in age
/// bucket `age` and duration bucket `duration` (-1: onbekend) then, and for
/// a work ending came back into bijstand within 183 days (`terugval`). For
/// the columns of tables 1 and 2 only `n` counts.
#[derive(Debug, Clone)]
struct CubeRow {
    col: usize,
    kinds: u8,
    fase: Option<String>,
    doelgroepen: Option<String>,
    age: i64,
    duration: i64,
    terugval: bool,
    n: i64,
}

impl CubeRow {
    fn read(row: &sea_orm::QueryResult) -> StoreResult<Self> {
        let column: i64 = row.try_get_by_index(0)?;
        let kinds = row.try_get_by_index::<Option<i64>>(1)?.unwrap_or(0);
        Ok(CubeRow {
            col: usize::try_from(column)
                .ok()
                .filter(|c| *c <= UITSTROOM && *c != WERK)
                .ok_or_else(|| StoreError::corrupt("col", &column.to_string()))?,
            kinds: u8::try_from(kinds)
                .map_err(|_| StoreError::corrupt("kinds", &kinds.to_string()))?,
            fase: row.try_get_by_index(2)?,
            doelgroepen: row.try_get_by_index(3)?,
            age: row.try_get_by_index(4)?,
            duration: row.try_get_by_index(5)?,
            terugval: row.try_get_by_index::<i64>(6)? != 0,
            n: row.try_get_by_index::<Option<i64>>(7)?.unwrap_or(0),
        })
    }
}

/// The counts per (provider, contract, start date) for the tables per
/// reïntegratiebedrijf and per contract, from the range's trajectories;
/// the start date is there for the durations, which are days between two
/// dates and so are summed here rather than in the database: the ordinals
/// of the end dates (the calendar's) in the database, those of the start
/// dates from the groups' start dates.
fn owners_query(
    request: &ReportRequest,
    range: &ClientRange,
    changed: Changed,
) -> sea_orm::sea_query::WithQuery {
    let ended = in_period(col("tr", "end_date"), request);
    // Counted rather than summed: PostgreSQL adds BIGINTs up in NUMERIC.
    let flag =
        |condition: Expr| Func::count(Expr::case(condition, Expr::val(1i32)).finally(Expr::null()));
    let reason = |r: EndReason| col("tr", "end_reason").eq(r.as_str());
    let measured = ended.clone().and(col("tr", "start_date").is_not_null());
    let query = Query::select()
        .column((a("tr"), a("provider_id")))
        .column((a("tr"), a("contract_id")))
        .column((a("tr"), a("start_date")))
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
        .expr(sum(
            Expr::case(measured.clone(), col("cal", "ordinal")).finally(Expr::val(0i32))
        ))
        .expr(flag(measured))
        .expr(sum(
            Expr::case(ended, col("tr", "cost_cents")).finally(Expr::val(0i64))
        ))
        .from(a("tr"))
        .join(
            JoinType::LeftJoin,
            a("cal"),
            col("cal", "day").equals((a("tr"), a("end_date"))),
        )
        .group_by_col((a("tr"), a("provider_id")))
        .group_by_col((a("tr"), a("contract_id")))
        .group_by_col((a("tr"), a("start_date")))
        .to_owned();
    with(
        vec![
            calendar(request),
            cte("tr", trajectories(request, range, changed)),
        ],
        query,
    )
}

/// What one range of clients counts to.
#[derive(Debug, Default)]
struct Counts {
    cube: Vec<CubeRow>,
    /// Per (provider, contract): doorverwezen, gestart, beëindigd regulier,
    /// gesubsidieerd, zonder werk, lopend, duration days, measured endings,
    /// cost of the ended. A contract belongs to one provider, so a
    /// provider's sums are those of its contracts.
    owners: BTreeMap<(Option<Uuid>, Option<Uuid>), [i64; 9]>,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.cube.extend(other.cube);
        for (owner, sums) in other.owners {
            let total = self.owners.entry(owner).or_default();
            for (total, n) in total.iter_mut().zip(sums) {
                *total += n;
            }
        }
    }
}

/// Counts one range of clients in a transaction of its own, whose
/// statements all see one state of the database; `alongside`: other ranges
/// are counted at the same time.
async fn count_range(
    store: Store,
    request: ReportRequest,
    range: ClientRange,
    alongside: bool,
) -> StoreResult<Counts> {
    let txn = snapshot_transaction(&store, &request.gemeente).await?;
    tune_for_counting(&txn, alongside).await?;
    let changed = Changed::since(&txn, &request).await?;
    let cube = txn
        .query_all(&cube_query(&request, &range, changed))
        .await?
        .iter()
        .map(CubeRow::read)
        .collect::<StoreResult<Vec<_>>>()?;
    let mut owners: BTreeMap<(Option<Uuid>, Option<Uuid>), [i64; 9]> = BTreeMap::new();
    for row in txn
        .query_all(&owners_query(&request, &range, changed))
        .await?
    {
        let start: Option<NaiveDate> = row.try_get_by_index(2)?;
        let mut sums = [0; 9];
        for (i, sum) in sums.iter_mut().enumerate() {
            *sum = row.try_get_by_index::<Option<i64>>(i + 3)?.unwrap_or(0);
        }
        // Σ (end − start) = Σ end ordinals − measured endings × the start's
        // ordinal (days from the period's first day).
        if let Some(start) = start {
            sums[6] -= sums[7] * (start - request.period_start).num_days();
        }
        let total = owners
            .entry((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
            .or_default();
        for (total, n) in total.iter_mut().zip(sums) {
            *total += n;
        }
    }
    txn.rollback().await?;
    Ok(Counts { cube, owners })
}

/// Splits the gemeente's clients into `parts` ranges of ids with about as
/// many clients each (the client ids a range begins at are counted out by
/// the database; the split only balances the work, any split gives the same
/// numbers).
async fn ranges(
    store: &Store,
    gemeente: &GemeenteCode,
    parts: usize,
) -> StoreResult<Vec<ClientRange>> {
    if parts <= 1 {
        return Ok(vec![ClientRange::ALL]);
    }
    let txn = read_transaction(store, gemeente).await?;
    let clients = || {
        Query::select()
            .from_as(a("client_current"), a("c"))
            .and_where(gemeente_is("c", gemeente))
            .to_owned()
    };
    let count = txn
        .query_one(
            &clients()
                .expr(Expr::col((a("c"), a("id"))).count())
                .to_owned(),
        )
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    let count = u64::try_from(count).unwrap_or(0);
    let mut starts = Vec::new();
    for part in 1..parts as u64 {
        let offset = count * part / parts as u64;
        if offset == 0 {
            continue;
        }
        let start = txn
            .query_one(
                &clients()
                    .column((a("c"), a("id")))
                    .order_by((a("c"), a("id")), sea_orm::sea_query::Order::Asc)
                    .offset(offset)
                    .limit(1)
                    .to_owned(),
            )
            .await?
            .map(|row| row.try_get_by_index::<Uuid>(0))
            .transpose()?;
        starts.extend(start);
    }
    txn.commit().await?;
    starts.dedup();
    let mut ranges = Vec::with_capacity(starts.len() + 1);
    let mut from = None;
    for start in starts {
        ranges.push(ClientRange {
            from,
            to: Some(start),
        });
        from = Some(start);
    }
    ranges.push(ClientRange { from, to: None });
    Ok(ranges)
}

impl Store {
    pub async fn inflow_outflow_report(
        &self,
        request: &ReportRequest,
    ) -> StoreResult<InflowOutflowReport> {
        let ranges = ranges(self, &request.gemeente, self.report_parallelism()).await?;
        let alongside = ranges.len() > 1;
        let mut counting = tokio::task::JoinSet::new();
        for range in ranges {
            counting.spawn(count_range(self.clone(), request.clone(), range, alongside));
        }
        let mut counts = Counts::default();
        while let Some(counted) = counting.join_next().await {
            match counted {
                Ok(range) => counts.add(range?),
                Err(failed) => std::panic::resume_unwind(failed.into_panic()),
            }
        }
        let txn = read_transaction(self, &request.gemeente).await?;
        let doelgroepen = doelgroep_codes(&txn, request).await?;
        let names = provider_names(&txn, request).await?;
        txn.commit().await?;
        Ok(InflowOutflowReport {
            gemeente: request.gemeente.to_string(),
            period_start: request.period_start,
            period_end: request.period_end,
            as_of: request.horizon.to_datetime(),
            tables: tables(request, &counts, &doelgroepen, &names),
        })
    }
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

impl ColumnCounts {
    fn add(&mut self, row: &CubeRow) {
        let n = row.n;
        self.total += n;
        if row.kinds & timeline::kind::BIJSTAND_KINDS != 0 {
            self.bijstand += n;
        }
        *self.by_fase.entry(row.fase.clone()).or_default() += n;
        *self.by_age.entry(Some(row.age.to_string())).or_default() += n;
        *self
            .by_duration
            .entry(Some(row.duration.to_string()))
            .or_default() += n;
        match &row.doelgroepen {
            None => *self.by_doelgroep.entry(None).or_default() += n,
            Some(codes) => {
                for code in codes.split(timeline::CODE_SEPARATOR) {
                    *self.by_doelgroep.entry(Some(code.to_owned())).or_default() += n;
                }
            }
        }
        let kinds: Vec<&str> = RegistrationKind::ALL
            .iter()
            .filter(|k| row.kinds & k.timeline_bit() != 0)
            .map(|k| k.as_str())
            .collect();
        if kinds.is_empty() {
            *self.by_kind.entry(None).or_default() += n;
        }
        for kind in kinds {
            *self.by_kind.entry(Some(kind.to_owned())).or_default() += n;
        }
    }
}

/// Every table of the report from the counts of all ranges.
fn tables(
    request: &ReportRequest,
    counts: &Counts,
    doelgroepen: &[String],
    names: &HashMap<Uuid, String>,
) -> Vec<Table> {
    let mut columns: Vec<ColumnCounts> = COLUMNS.iter().map(|_| ColumnCounts::default()).collect();
    let (mut terugval, mut before, mut instroom, mut uitstroom) = (0, 0, 0, 0);
    for row in &counts.cube {
        match row.col {
            BIJSTAND_DAY_BEFORE => before += row.n,
            INSTROOM => instroom += row.n,
            UITSTROOM => uitstroom += row.n,
            column => {
                columns[column].add(row);
                if column == REGULIER || column == GESUBSIDIEERD {
                    columns[WERK].add(row);
                    if row.terugval {
                        terugval += row.n;
                    }
                }
            }
        }
    }
    // Every client with a registration on the period's last day is in
    // bestand, so those in bijstand then are its `waarvan bijstand`.
    let peildatum = columns[BESTAND].bijstand;
    let row = |label: &str, get: &dyn Fn(&ColumnCounts) -> i64| Row {
        label: label.to_owned(),
        values: columns.iter().map(|c| Value::Count(get(c))).collect(),
    };
    let keyed = |label: &str,
                 key: Option<&str>,
                 pick: fn(&ColumnCounts) -> &HashMap<Option<String>, i64>| {
        let key = key.map(str::to_owned);
        row(label, &move |c: &ColumnCounts| {
            pick(c).get(&key).copied().unwrap_or(0)
        })
    };
    let column_names = COLUMNS.to_vec();
    let mut tables = vec![
        Table {
            name: "1_bijstandsvolume",
            title: "Bijstandsvolume",
            columns: vec!["dag_voor_periode", "peildatum"],
            rows: vec![Row {
                label: "bijstand".into(),
                values: vec![Value::Count(before), Value::Count(peildatum)],
            }],
        },
        Table {
            name: "2_in_uitstroom_bijstand",
            title: "In- en uitstroom bijstand",
            columns: vec!["instroom", "uitstroom"],
            rows: vec![Row {
                label: "bijstand".into(),
                values: vec![Value::Count(instroom), Value::Count(uitstroom)],
            }],
        },
        Table {
            name: "3_trajectgegevens_totaal",
            title: "Trajectgegevens totaal",
            columns: column_names.clone(),
            rows: vec![
                row("totaal", &|c| c.total),
                row("waarvan bijstand", &|c| c.bijstand),
            ],
        },
    ];
    let mut doelgroep_rows: Vec<Row> = doelgroepen
        .iter()
        .map(|code| keyed(code, Some(code), |c| &c.by_doelgroep))
        .collect();
    doelgroep_rows.push(keyed(NO_DOELGROEP, None, |c| &c.by_doelgroep));
    tables.push(Table {
        name: "4_doelgroepen",
        title: "Doelgroepen",
        columns: column_names.clone(),
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
        columns: column_names.clone(),
        rows: kind_rows,
    });
    let fase_rows = FASE_ROWS
        .iter()
        .map(|f| keyed(f, (*f != "NIET_INGEDEELD").then_some(*f), |c| &c.by_fase))
        .collect();
    tables.push(Table {
        name: "6_fasering",
        title: "Fasering",
        columns: column_names.clone(),
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
        columns: column_names.clone(),
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
        columns: column_names,
        rows: age_rows,
    });
    tables.push(owner_table(&counts.owners, "provider_id", names));
    tables.push(owner_table(&counts.owners, "contract_id", names));
    tables.push(duurzaamheid(columns[WERK].total, terugval));
    tables
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

/// The table per reïntegratiebedrijf (`key` provider_id) or per contract
/// (contract_id): counts of trajectories, placement rate, mean duration and
/// cost.
fn owner_table(
    owners: &BTreeMap<(Option<Uuid>, Option<Uuid>), [i64; 9]>,
    key: &str,
    names: &HashMap<Uuid, String>,
) -> Table {
    let mut by_owner: BTreeMap<Option<Uuid>, [i64; 9]> = BTreeMap::new();
    for (&(provider_id, contract_id), sums) in owners {
        let id = if key == "provider_id" {
            provider_id
        } else {
            contract_id
        };
        let total = by_owner.entry(id).or_default();
        for (total, sum) in total.iter_mut().zip(sums) {
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
) -> StoreResult<HashMap<Uuid, String>> {
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
