//! Database migrations, applied on start-up and by `clientvolg migrate`.
//! Each migration runs on SQLite and PostgreSQL alike; what differs between
//! them (triggers) is spelled out per backend.

pub use sea_orm_migration::prelude::*;

mod append_only;
pub mod client_timeline;
mod m20261125_000001_foundation;
mod m20261125_000002_trajectories;
mod m20261125_000003_progress_reports;
mod m20261125_000004_processing_log;
mod m20261125_000006_row_level_security;
mod m20261125_000007_current_versions;
mod m20261201_000008_tenant_policy_once_per_statement;
mod m20261201_000009_client_timeline;
mod m20261202_000010_timeline_generations_kept;
mod m20261202_000011_casemanager_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_foundation::Migration),
            Box::new(m20261125_000002_trajectories::Migration),
            Box::new(m20261125_000003_progress_reports::Migration),
            Box::new(m20261125_000004_processing_log::Migration),
            Box::new(m20261125_000006_row_level_security::Migration),
            Box::new(m20261125_000007_current_versions::Migration),
            Box::new(m20261201_000008_tenant_policy_once_per_statement::Migration),
            Box::new(m20261201_000009_client_timeline::Migration),
            Box::new(m20261202_000010_timeline_generations_kept::Migration),
            Box::new(m20261202_000011_casemanager_indexes::Migration),
        ]
    }
}
