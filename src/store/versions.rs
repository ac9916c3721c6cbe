//! Reads shared by every version table. They rely on the common spine of
//! columns (`id`, `version`, `gemeente`, `recorded_at`), so one
//! implementation serves all resource kinds.

use super::{Page, PageRequest, StoreResult};
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::RecordedAt;
use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

fn col(name: &'static str) -> Expr {
    Expr::col(Alias::new(name))
}

/// The latest version of `id` in `gemeente` recorded at or before `horizon`.
pub(super) async fn one_as_of<E: EntityTrait>(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    id: Uuid,
    horizon: RecordedAt,
) -> StoreResult<Option<E::Model>> {
    Ok(E::find()
        .filter(col("id").eq(id))
        .filter(col("gemeente").eq(gemeente.as_str()))
        .filter(col("recorded_at").lte(horizon.micros()))
        .order_by_desc(col("version"))
        .one(db)
        .await?)
}

/// Far enough in the future to see every committed version; used inside
/// write transactions, where the clock lock keeps the latest version final.
pub(super) const LATEST: RecordedAt = RecordedAt::MAX;

/// The versions of `id` recorded at or before the page's horizon, oldest
/// first.
pub(super) async fn history<E: EntityTrait>(
    db: &impl ConnectionTrait,
    gemeente: &GemeenteCode,
    id: Uuid,
    page: PageRequest,
) -> StoreResult<Page<E::Model>> {
    let rows = E::find()
        .filter(col("id").eq(id))
        .filter(col("gemeente").eq(gemeente.as_str()))
        .filter(col("recorded_at").lte(page.horizon.micros()))
        .order_by_asc(col("version"))
        .offset(page.offset)
        .limit(page.size + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, page))
}
