use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "progress_report_submissions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub gemeente: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_kvk: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub idempotency_key: String,
    pub report_id: Uuid,
    pub report_version: i64,
    /// SHA-256 of the submitted item, hex.
    pub content_hash: String,
    pub recorded_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
