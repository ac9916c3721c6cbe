//! Keeps each client's timeline (crate `timeline`, table `client_timeline`,
//! docs/reports.md): every write of a client, an episode, a classification
//! or a doelgroep assignment ends by `refresh`, in its own transaction, so
//! that the timeline the report reads is always the one the history implies
//! at that transaction time. A refresh that changes nothing the timeline
//! says writes nothing; otherwise the client's generation is marked
//! superseded at the transaction's time and the new one written, so that a
//! report as of an earlier instant still reads the generation of then.

use super::StoreResult;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
use migration::client_timeline::{self, TABLE, TimelineRow};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement};
use std::collections::BTreeMap;
use uuid::Uuid;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// `columns` of the rows of table `current` (a table of latest versions)
/// that belong to the client.
fn of_client(
    current: &str,
    key: &str,
    gemeente: &GemeenteCode,
    client_id: Uuid,
    columns: &[&str],
) -> SelectStatement {
    Query::select()
        .columns(columns.iter().map(|c| a(c)))
        .from(a(current))
        .and_where(Expr::col(a("gemeente")).eq(gemeente.as_str()))
        .and_where(Expr::col(a(key)).eq(client_id))
        .to_owned()
}

/// The latest version of every fact of the client a timeline is made of,
/// from the tables of latest versions (which the database has brought up
/// to date within this transaction). `None`: the client does not exist.
async fn facts(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    client_id: Uuid,
) -> StoreResult<Option<timeline::Facts>> {
    let corrupt = |column, value: &str| super::StoreError::corrupt(column, value);
    let Some(client) = db
        .query_one(&of_client(
            "client_current",
            "id",
            gemeente,
            client_id,
            &["birth_date"],
        ))
        .await?
    else {
        return Ok(None);
    };
    let mut facts = timeline::Facts {
        birth_date: client.try_get_by_index(0)?,
        episodes: Vec::new(),
        fases: Vec::new(),
        doelgroepen: Vec::new(),
    };
    let episodes = of_client(
        "registration_current",
        "client_id",
        gemeente,
        client_id,
        &["kind", "start_date", "end_date"],
    );
    for row in db.query_all(&episodes).await? {
        let code: String = row.try_get_by_index(0)?;
        facts.episodes.push(timeline::Episode {
            kind: timeline::kind::bit(&code).ok_or_else(|| corrupt("kind", &code))?,
            start: row.try_get_by_index(1)?,
            end: row.try_get_by_index(2)?,
        });
    }
    let fases = of_client(
        "classification_current",
        "client_id",
        gemeente,
        client_id,
        &["value", "valid_from"],
    )
    .and_where(Expr::col(a("scheme")).eq("FASE"))
    .to_owned();
    for row in db.query_all(&fases).await? {
        facts.fases.push(timeline::Dated {
            value: row.try_get_by_index(0)?,
            valid_from: row.try_get_by_index(1)?,
        });
    }
    let mut members: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
    let codes = Query::select()
        .column((a("m"), a("assignment_id")))
        .column((a("m"), a("code")))
        .from_as(a("doelgroep_assignment_current"), a("d"))
        .join_as(
            JoinType::InnerJoin,
            a("doelgroep_assignment_codes"),
            a("m"),
            Expr::col((a("m"), a("assignment_id")))
                .equals((a("d"), a("id")))
                .and(Expr::col((a("m"), a("version"))).equals((a("d"), a("version")))),
        )
        .and_where(Expr::col((a("d"), a("gemeente"))).eq(gemeente.as_str()))
        .and_where(Expr::col((a("d"), a("client_id"))).eq(client_id))
        .to_owned();
    for row in db.query_all(&codes).await? {
        members
            .entry(row.try_get_by_index(0)?)
            .or_default()
            .push(row.try_get_by_index(1)?);
    }
    let assignments = of_client(
        "doelgroep_assignment_current",
        "client_id",
        gemeente,
        client_id,
        &["id", "valid_from"],
    );
    for row in db.query_all(&assignments).await? {
        let id: Uuid = row.try_get_by_index(0)?;
        facts.doelgroepen.push(timeline::Dated {
            valid_from: row.try_get_by_index(1)?,
            value: members.remove(&id).unwrap_or_default(),
        });
    }
    Ok(Some(facts))
}

/// Brings the client's timeline up to date with its facts, at the
/// transaction time `recorded_at` of the write it ends.
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
    if current.first().is_some_and(|row| row.recorded_at == at) {
        // Written earlier in this same transaction: no instant ever saw it.
        db.execute(
            &Query::delete()
                .from_table(a(TABLE))
                .cond_where(this_client)
                .to_owned(),
        )
        .await?;
    } else {
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
