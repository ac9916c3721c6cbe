//! The columns every version row carries besides its fact: which version,
//! when it was recorded, by whom, from where and why.

use crate::domain::history::{Change, RecordedAt};

pub(super) struct Spine {
    pub version: i64,
    pub recorded_at: i64,
    pub actor: String,
    pub actor_role: String,
    pub source: String,
    pub reason: Option<String>,
}

impl Spine {
    pub fn new(change: &Change, recorded_at: RecordedAt, version: i64) -> Self {
        Spine {
            version,
            recorded_at: recorded_at.micros(),
            actor: change.actor.subject.clone(),
            actor_role: change.actor.role.to_owned(),
            source: change.source.as_str().to_owned(),
            reason: change.reason.clone(),
        }
    }
}

/// Builds the ActiveModel of a version row from its id, tenant, spine and
/// the fact's own columns.
macro_rules! version_row {
    ($entity:ident, $id:expr, $gemeente:expr, $spine:expr, { $($field:ident: $value:expr),* $(,)? }) => {{
        let spine: $crate::store::spine::Spine = $spine;
        $entity::ActiveModel {
            id: sea_orm::Set($id),
            version: sea_orm::Set(spine.version),
            gemeente: sea_orm::Set($gemeente),
            recorded_at: sea_orm::Set(spine.recorded_at),
            actor: sea_orm::Set(spine.actor),
            actor_role: sea_orm::Set(spine.actor_role),
            source: sea_orm::Set(spine.source),
            reason: sea_orm::Set(spine.reason),
            $($field: sea_orm::Set($value),)*
        }
    }};
}
pub(super) use version_row;
