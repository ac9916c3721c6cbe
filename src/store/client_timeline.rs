//! Keeps each client's timeline (crate `timeline`, table `client_timeline`,
//! docs/reports.md): every write of a client, an episode, a classification
//! or a doelgroep assignment ends by `refresh`, in its own transaction, so
//! that the timeline the report reads is always the one the history implies
//! at that transaction time. A refresh that changes nothing the timeline
//! says writes nothing; otherwise the client's generation is marked
//! superseded at the transaction's time and the new one written, so that a
//! report as of an earlier instant still reads the generation of then.

use super::StoreResult;
use super::as_of::a;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
use migration::client_timeline::{self, TABLE, TimelineRow};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Query, SelectStatement, UnionType};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Which fact a row of `facts`' query is.
const CLIENT: i64 = 0;
const EPISODE: i64 = 1;
const FASE: i64 = 2;
const ASSIGNMENT: i64 = 3;

/// Column `column` of the row read as `table`.
fn of(table: &str, column: &str) -> Option<Expr> {
    Some(Expr::col((a(table), a(column))))
}

/// One branch of `facts`' query: rows of table `current` (a table of latest
/// versions, read as `t`) whose `key` is the client, as (fact, text, date,
/// date, id, text).
fn branch(
    fact: i64,
    current: &str,
    key: &str,
    (gemeente, client_id): (&GemeenteCode, Uuid),
    columns: [Option<Expr>; 5],
) -> SelectStatement {
    let mut query = Query::select();
    query.expr_as(Expr::val(fact), a("fact"));
    for (column, (name, kind)) in columns.into_iter().zip([
        ("text", "TEXT"),
        ("day", "DATE"),
        ("until", "DATE"),
        ("id", "UUID"),
        ("code", "TEXT"),
    ]) {
        match column {
            Some(column) => query.expr_as(column, a(name)),
            None => query.expr_as(Expr::null().cast_as(a(kind)), a(name)),
        };
    }
    query
        .from_as(a(current), a("t"))
        .and_where(Expr::col((a("t"), a("gemeente"))).eq(gemeente.as_str()))
        .and_where(Expr::col((a("t"), a(key))).eq(client_id))
        .to_owned()
}

/// The latest version of every fact of the client a timeline is made of,
/// from the tables of latest versions (which the database has brought up
/// to date within this transaction), in one statement: a refresh ends many
/// writes. `None`: the client does not exist.
async fn facts(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
) -> StoreResult<Option<timeline::Facts>> {
    let client = (gemeente, client_id);
    let mut query = branch(
        CLIENT,
        "client_current",
        "id",
        client,
        [None, of("t", "birth_date"), None, None, None],
    );
    let assignments = branch(
        ASSIGNMENT,
        "doelgroep_assignment_current",
        "client_id",
        client,
        [
            None,
            of("t", "valid_from"),
            None,
            of("t", "id"),
            of("m", "code"),
        ],
    )
    .join_as(
        JoinType::LeftJoin,
        a("doelgroep_assignment_codes"),
        a("m"),
        Expr::col((a("m"), a("assignment_id")))
            .equals((a("t"), a("id")))
            .and(Expr::col((a("m"), a("version"))).equals((a("t"), a("version")))),
    )
    .to_owned();
    for more in [
        branch(
            EPISODE,
            "registration_current",
            "client_id",
            client,
            [
                of("t", "kind"),
                of("t", "start_date"),
                of("t", "end_date"),
                None,
                None,
            ],
        ),
        branch(
            FASE,
            "classification_current",
            "client_id",
            client,
            [of("t", "value"), of("t", "valid_from"), None, None, None],
        )
        .and_where(Expr::col((a("t"), a("scheme"))).eq("FASE"))
        .to_owned(),
        assignments,
    ] {
        query.union(UnionType::All, more);
    }
    let corrupt = |column, value: &str| super::StoreError::corrupt(column, value);
    let mut birth_date = None;
    let mut episodes = Vec::new();
    let mut fases = Vec::new();
    let mut assignments: BTreeMap<Uuid, timeline::Dated<Vec<String>>> = BTreeMap::new();
    for row in db.query_all(&query).await? {
        let fact: i64 = row.try_get_by_index(0)?;
        let text: Option<String> = row.try_get_by_index(1)?;
        let day: Option<chrono::NaiveDate> = row.try_get_by_index(2)?;
        let day = || day.ok_or_else(|| corrupt("day", "NULL"));
        match fact {
            CLIENT => birth_date = Some(day()?),
            EPISODE => {
                let code = text.unwrap_or_default();
                episodes.push(timeline::Episode {
                    kind: timeline::kind::bit(&code).ok_or_else(|| corrupt("kind", &code))?,
                    start: day()?,
                    end: row.try_get_by_index(3)?,
                });
            }
            FASE => fases.push(timeline::Dated {
                valid_from: day()?,
                value: text.unwrap_or_default(),
            }),
            ASSIGNMENT => {
                let assignment =
                    assignments
                        .entry(row.try_get_by_index(4)?)
                        .or_insert(timeline::Dated {
                            valid_from: day()?,
                            value: Vec::new(),
                        });
                assignment
                    .value
                    .extend(row.try_get_by_index::<Option<String>>(5)?);
            }
            other => return Err(corrupt("fact", &other.to_string())),
        }
    }
    Ok(birth_date.map(|birth_date| timeline::Facts {
        birth_date,
        episodes,
        fases,
        doelgroepen: assignments.into_values().collect(),
    }))
}

/// Brings the client's timeline up to date with its facts, at the
/// transaction time `recorded_at` of the write it ends. Each write
/// transaction changes one client's facts and calls this once, last: the
/// database lets a generation be closed but never changed or deleted
/// (migration 000010), so a second generation at the same instant would
/// collide with the first on the key.
pub(super) async fn refresh(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    recorded_at: RecordedAt,
) -> StoreResult<()> {
    let Some(facts) = facts(db, gemeente, client_id).await? else {
        return Ok(());
    };
    let segments = timeline::segments(&facts);
    let current = client_timeline::current_rows(db, gemeente.as_str(), client_id).await?;
    if !current.is_empty() && current.iter().map(|row| &row.segment).eq(segments.iter()) {
        return Ok(());
    }
    let at = recorded_at.micros();
    let this_client = Expr::col(a("gemeente"))
        .eq(gemeente.as_str())
        .and(Expr::col(a("client_id")).eq(client_id))
        .and(Expr::col(a("superseded_at")).is_null());
    if !current.is_empty() {
        db.execute(
            &Query::update()
                .table(a(TABLE))
                .value(a("superseded_at"), at)
                .cond_where(this_client)
                .to_owned(),
        )
        .await?;
    }
    let rows = TimelineRow::of_segments(gemeente.as_str(), client_id, at, None, &segments);
    client_timeline::insert(db, &rows).await?;
    Ok(())
}
