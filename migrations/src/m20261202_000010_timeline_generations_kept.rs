//! The clients' timelines (migration 000009) are derived data, but a report
//! as of an instant reads the generation each client had then, so that
//! generation must stay as it was: from here on the database, not only the
//! store, refuses to delete a generation or change one but to close it
//! (`superseded_at`, once).

use crate::append_only;
use crate::client_timeline::{TABLE, fixed_columns};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000010_timeline_generations_kept"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        append_only::protect_generations(manager, TABLE, &fixed_columns()).await
    }
}
