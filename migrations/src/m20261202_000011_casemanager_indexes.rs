//! A casemanager's caseload (`reports::caseload`) reads the clients and
//! trajectories assigned to them from the tables of latest versions; these
//! indexes find those rows without reading the whole gemeente's.

use crate::m20261125_000001_foundation::index;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000011_casemanager_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["client_current", "trajectory_current"] {
            manager
                .create_index(index(
                    &format!("{table}_casemanager"),
                    table,
                    &["gemeente", "casemanager"],
                ))
                .await?;
        }
        Ok(())
    }
}
