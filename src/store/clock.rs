//! The transaction clock: one row holding the last transaction time handed
//! out. Every write transaction bumps it as its first statement, which takes
//! the row's write lock until commit. So writers are serialised, each
//! transaction gets one `recorded_at` for all the versions it writes, and
//! transaction times increase strictly in commit order. A reader can then
//! trust that nothing will ever appear at or before the clock's committed
//! value: that is what makes an `as_of` read answer the same forever.

use super::StoreResult;
use super::entities::transaction_clock;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, TransactionTrait,
};

/// Wall-clock time as a transaction time.
pub fn now() -> RecordedAt {
    RecordedAt::from_datetime(chrono::Utc::now())
}

/// Moves the clock to at least `at` (and past its last value when `strictly`)
/// and returns its new value.
async fn advance(
    txn: &DatabaseTransaction,
    at: RecordedAt,
    strictly: bool,
) -> StoreResult<RecordedAt> {
    let last = Expr::col(transaction_clock::Column::LastRecordedAt);
    let floor = if strictly { last.clone().add(1) } else { last };
    let update = Query::update()
        .table(transaction_clock::Entity)
        .value(
            transaction_clock::Column::LastRecordedAt,
            Expr::case(floor.clone().lt(at.micros()), at.micros()).finally(floor),
        )
        .and_where(Expr::col(transaction_clock::Column::Id).eq(1))
        .to_owned();
    txn.execute(&update).await?;
    let row = transaction_clock::Entity::find_by_id(1)
        .one(txn)
        .await?
        .ok_or_else(|| super::StoreError::corrupt("transaction_clock", "missing row"))?;
    Ok(RecordedAt::from_micros(row.last_recorded_at))
}

/// Starts a write transaction on `gemeente`'s data and hands out its
/// transaction time.
pub(crate) async fn begin_write(
    db: &DatabaseConnection,
    gemeente: &GemeenteCode,
) -> StoreResult<(DatabaseTransaction, RecordedAt)> {
    let txn = db.begin().await?;
    super::set_tenant(&txn, gemeente).await?;
    let recorded_at = advance(&txn, now(), true).await?;
    Ok((txn, recorded_at))
}

/// The transaction time a read is answered at. Without `as_of`: the last
/// committed transaction time. With an `as_of` the clock has not reached
/// yet (a moment that just passed), the clock is first moved up to it, after
/// any writer still holding an earlier time has committed; later writers get
/// later times, so the answer can no longer change. The caller refuses
/// `as_of` values in the future.
pub(super) async fn horizon(
    db: &DatabaseConnection,
    as_of: Option<RecordedAt>,
) -> StoreResult<RecordedAt> {
    let committed = transaction_clock::Entity::find_by_id(1)
        .one(db)
        .await?
        .map(|row| RecordedAt::from_micros(row.last_recorded_at))
        .ok_or_else(|| super::StoreError::corrupt("transaction_clock", "missing row"))?;
    match as_of {
        None => Ok(committed),
        Some(at) if at <= committed => Ok(at),
        Some(at) => {
            let txn = db.begin().await?;
            advance(&txn, at, false).await?;
            txn.commit().await?;
            Ok(at)
        }
    }
}
