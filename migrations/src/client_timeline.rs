//! The stored form of the clients' timelines (`client_timeline`, crate
//! `timeline`): its columns, writing and reading rows, and the generations
//! replayed from the history, which the migration that made the table fills
//! it with and a test compares the table with. It lives beside the
//! migrations because the migration needs it and cannot use the service's
//! code; the service's store writes and reads the table through it too, so
//! that there is one row format.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};
use std::collections::BTreeMap;
use timeline::{Dated, Episode, Fact, Generation, Segment, Version};
use uuid::Uuid;

pub const TABLE: &str = "client_timeline";

/// The columns of a row that say which generation of whose timeline it
/// belongs to.
const SPINE: [&str; 5] = [
    "gemeente",
    "client_id",
    "recorded_at",
    "superseded_at",
    "seq",
];

/// The columns of a row that hold its segment (`timeline::Segment`), in
/// the order of its fields.
pub const SEGMENT_COLUMNS: [&str; 11] = [
    "valid_from",
    "valid_to",
    "kinds",
    "kinds_before",
    "first_start",
    "next_bijstand_start",
    "next_instroom",
    "next_uitstroom",
    "fase",
    "doelgroepen",
    "birth_date",
];

/// The columns no write may change once a row is in: all but
/// `superseded_at` (migration 000010).
pub fn fixed_columns() -> Vec<&'static str> {
    SPINE
        .iter()
        .chain(SEGMENT_COLUMNS.iter())
        .copied()
        .filter(|column| *column != "superseded_at")
        .collect()
}

/// The columns of a row, in the order `insert` writes them and `read`
/// reads them.
fn columns() -> impl Iterator<Item = Alias> {
    SPINE.iter().chain(SEGMENT_COLUMNS.iter()).map(|c| a(c))
}

/// One stored segment: segment `seq` of the generation the client got at
/// `recorded_at`, which held until `superseded_at` (`None`: still the
/// client's timeline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRow {
    pub gemeente: String,
    pub client_id: Uuid,
    pub recorded_at: i64,
    pub superseded_at: Option<i64>,
    pub seq: i32,
    pub segment: Segment,
}

impl TimelineRow {
    /// The rows of one client's generations, each superseded by the next.
    pub fn of_generations(
        gemeente: &str,
        client_id: Uuid,
        generations: &[Generation],
    ) -> Vec<Self> {
        let mut rows = Vec::new();
        for (i, generation) in generations.iter().enumerate() {
            let superseded_at = generations.get(i + 1).map(|next| next.recorded_at);
            rows.extend(Self::of_segments(
                gemeente,
                client_id,
                generation.recorded_at,
                superseded_at,
                &generation.segments,
            ));
        }
        rows
    }

    pub fn of_segments(
        gemeente: &str,
        client_id: Uuid,
        recorded_at: i64,
        superseded_at: Option<i64>,
        segments: &[Segment],
    ) -> Vec<Self> {
        segments
            .iter()
            .zip(0..)
            .map(|(segment, seq)| TimelineRow {
                gemeente: gemeente.to_owned(),
                client_id,
                recorded_at,
                superseded_at,
                seq,
                segment: segment.clone(),
            })
            .collect()
    }

    fn values(&self) -> Vec<SimpleExpr> {
        let s = &self.segment;
        vec![
            self.gemeente.clone().into(),
            self.client_id.into(),
            self.recorded_at.into(),
            self.superseded_at.into(),
            self.seq.into(),
            s.valid_from.into(),
            s.valid_to.into(),
            i32::from(s.kinds).into(),
            i32::from(s.kinds_before).into(),
            s.first_start.into(),
            s.next_bijstand_start.into(),
            s.next_instroom.into(),
            s.next_uitstroom.into(),
            s.fase.clone().into(),
            s.doelgroepen.clone().into(),
            s.birth_date.into(),
        ]
    }

    /// A row read back with the columns in `columns()` order.
    pub fn read(row: &QueryResult) -> Result<Self, DbErr> {
        let kinds = |i: usize| -> Result<u8, DbErr> {
            let value: i32 = row.try_get_by_index(i)?;
            <u8 as TryFrom<i32>>::try_from(value)
                .map_err(|_| DbErr::Custom(format!("kinds {value} out of range")))
        };
        Ok(TimelineRow {
            gemeente: row.try_get_by_index(0)?,
            client_id: row.try_get_by_index(1)?,
            recorded_at: row.try_get_by_index(2)?,
            superseded_at: row.try_get_by_index(3)?,
            seq: row.try_get_by_index(4)?,
            segment: Segment {
                valid_from: row.try_get_by_index(5)?,
                valid_to: row.try_get_by_index(6)?,
                kinds: kinds(7)?,
                kinds_before: kinds(8)?,
                first_start: row.try_get_by_index(9)?,
                next_bijstand_start: row.try_get_by_index(10)?,
                next_instroom: row.try_get_by_index(11)?,
                next_uitstroom: row.try_get_by_index(12)?,
                fase: row.try_get_by_index(13)?,
                doelgroepen: row.try_get_by_index(14)?,
                birth_date: row.try_get_by_index(15)?,
            },
        })
    }
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// Bind parameters per INSERT: SQLite allows 32,766, PostgreSQL 65,535.
const PARAMETERS_PER_STATEMENT: usize = 30_000;

/// Inserts `rows`, as many per statement as the parameter limit allows.
pub async fn insert(db: &impl ConnectionTrait, rows: &[TimelineRow]) -> Result<(), DbErr> {
    for chunk in rows.chunks(PARAMETERS_PER_STATEMENT / (SPINE.len() + SEGMENT_COLUMNS.len())) {
        let mut insert = Query::insert();
        insert.into_table(a(TABLE)).columns(columns());
        for row in chunk {
            insert
                .values(row.values())
                .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        db.execute(&insert).await?;
    }
    Ok(())
}

/// The rows of a client's generation that is still its timeline, by `seq`.
pub async fn current_rows(
    db: &impl ConnectionTrait,
    gemeente: &str,
    client_id: Uuid,
) -> Result<Vec<TimelineRow>, DbErr> {
    let query = Query::select()
        .columns(columns())
        .from(a(TABLE))
        .and_where(Expr::col(a("gemeente")).eq(gemeente))
        .and_where(Expr::col(a("client_id")).eq(client_id))
        .and_where(Expr::col(a("superseded_at")).is_null())
        .order_by(a("seq"), Order::Asc)
        .to_owned();
    db.query_all(&query)
        .await?
        .iter()
        .map(TimelineRow::read)
        .collect()
}

/// Every row of the table, in key order (for checks and tests).
pub async fn all_rows(db: &impl ConnectionTrait) -> Result<Vec<TimelineRow>, DbErr> {
    let query = Query::select()
        .columns(columns())
        .from(a(TABLE))
        .order_by(a("client_id"), Order::Asc)
        .order_by(a("recorded_at"), Order::Asc)
        .order_by(a("seq"), Order::Asc)
        .to_owned();
    db.query_all(&query)
        .await?
        .iter()
        .map(TimelineRow::read)
        .collect()
}

/// The rows the history says the table holds for the clients with ids
/// after `after` (all, without), at most `limit` clients, in id order:
/// every generation replayed from every version of the clients' facts; and
/// the last of those clients (`None`: there were none). The connection must
/// see every gemeente (no tenant wall on it).
pub async fn replayed(
    db: &impl ConnectionTrait,
    after: Option<Uuid>,
    limit: u64,
) -> Result<(Vec<TimelineRow>, Option<Uuid>), DbErr> {
    let backend = db.get_database_backend();
    let mut clients = Query::select();
    clients
        .columns([a("id"), a("gemeente")])
        .from(a("client_versions"))
        .and_where(Expr::col(a("version")).eq(1))
        .order_by(a("id"), Order::Asc)
        .limit(limit);
    if let Some(after) = after {
        clients.and_where(Expr::col(a("id")).gt(after));
    }
    let clients: Vec<(Uuid, String)> = db
        .query_all(&clients.to_owned())
        .await?
        .iter()
        .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
        .collect::<Result<_, DbErr>>()?;
    let (Some((first, _)), Some((last, _))) = (clients.first(), clients.last()) else {
        return Ok((Vec::new(), None));
    };
    let (first, last) = (*first, *last);
    let mut versions: BTreeMap<Uuid, Vec<Version>> = BTreeMap::new();
    // Each statement names the clients' id range as `{lo}` and `{hi}`.
    let range = |sql: &str| {
        let (lo, hi) = match backend {
            DbBackend::Postgres => ("$1", "$2"),
            _ => ("?", "?"),
        };
        Statement::from_sql_and_values(
            backend,
            sql.replace("{lo}", lo).replace("{hi}", hi),
            [Value::from(first), Value::from(last)],
        )
    };
    for row in db
        .query_all_raw(range(
            "SELECT id, version, recorded_at, birth_date FROM client_versions \
             WHERE id >= {lo} AND id <= {hi}",
        ))
        .await?
    {
        let id: Uuid = row.try_get_by_index(0)?;
        versions.entry(id).or_default().push(Version {
            fact: id,
            version: row.try_get_by_index(1)?,
            recorded_at: row.try_get_by_index(2)?,
            value: Fact::Client {
                birth_date: row.try_get_by_index(3)?,
            },
        });
    }
    for row in db
        .query_all_raw(range(
            "SELECT client_id, id, version, recorded_at, kind, start_date, end_date \
             FROM registration_versions WHERE client_id >= {lo} AND client_id <= {hi}",
        ))
        .await?
    {
        let code: String = row.try_get_by_index(4)?;
        let kind = timeline::kind::bit(&code)
            .ok_or_else(|| DbErr::Custom(format!("unknown registration kind {code:?}")))?;
        push(
            &mut versions,
            &row,
            Fact::Episode(Episode {
                kind,
                start: row.try_get_by_index(5)?,
                end: row.try_get_by_index(6)?,
            }),
        )?;
    }
    for row in db
        .query_all_raw(range(
            "SELECT client_id, id, version, recorded_at, scheme, value, valid_from \
             FROM classification_versions WHERE client_id >= {lo} AND client_id <= {hi}",
        ))
        .await?
    {
        let scheme: String = row.try_get_by_index(4)?;
        let fase = (scheme == "FASE")
            .then(|| -> Result<_, DbErr> {
                Ok(Dated {
                    valid_from: row.try_get_by_index(6)?,
                    value: row.try_get_by_index(5)?,
                })
            })
            .transpose()?;
        push(&mut versions, &row, Fact::Classification(fase))?;
    }
    let mut codes: BTreeMap<(Uuid, i64), Vec<String>> = BTreeMap::new();
    for row in db
        .query_all_raw(range(
            "SELECT c.assignment_id, c.version, c.code FROM doelgroep_assignment_codes c \
             JOIN doelgroep_assignment_versions v ON v.id = c.assignment_id AND v.version = c.version \
             WHERE v.client_id >= {lo} AND v.client_id <= {hi}",
        ))
        .await?
    {
        codes
            .entry((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
            .or_default()
            .push(row.try_get_by_index(2)?);
    }
    for row in db
        .query_all_raw(range(
            "SELECT client_id, id, version, recorded_at, valid_from \
             FROM doelgroep_assignment_versions WHERE client_id >= {lo} AND client_id <= {hi}",
        ))
        .await?
    {
        let key = (row.try_get_by_index(1)?, row.try_get_by_index(2)?);
        push(
            &mut versions,
            &row,
            Fact::Doelgroepen(Dated {
                valid_from: row.try_get_by_index(4)?,
                value: codes.remove(&key).unwrap_or_default(),
            }),
        )?;
    }
    let mut rows = Vec::new();
    for (client_id, gemeente) in clients {
        let generations = timeline::replay(versions.remove(&client_id).unwrap_or_default());
        rows.extend(TimelineRow::of_generations(
            &gemeente,
            client_id,
            &generations,
        ));
    }
    Ok((rows, Some(last)))
}

/// Adds the version in `row` (client_id, id, version, recorded_at first).
fn push(
    versions: &mut BTreeMap<Uuid, Vec<Version>>,
    row: &QueryResult,
    value: Fact,
) -> Result<(), DbErr> {
    let client_id: Uuid = row.try_get_by_index(0)?;
    versions.entry(client_id).or_default().push(Version {
        fact: row.try_get_by_index(1)?,
        version: row.try_get_by_index(2)?,
        recorded_at: row.try_get_by_index(3)?,
        value,
    });
    Ok(())
}
