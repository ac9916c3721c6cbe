use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contract_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i64,
    pub gemeente: String,
    pub provider_id: Uuid,
    pub display_name: String,
    pub start_date: Date,
    pub end_date: Date,
    /// JSON array of fase codes.
    pub target_fases: String,
    /// JSON array of doelgroep codes.
    pub target_doelgroepen: String,
    /// JSON array of products with their dated prices.
    pub products: String,
    pub payment_model: String,
    pub input_share_percent: Option<i32>,
    pub payment_terms: String,
    pub target_placement_percent: Option<i32>,
    pub max_duration_months: Option<i32>,
    pub results_description: String,
    pub volume_kind: String,
    pub volume_minimum: Option<i32>,
    pub volume_maximum: Option<i32>,
    pub report_due_days: i32,
    pub recorded_at: i64,
    pub actor: String,
    pub actor_role: String,
    pub source: String,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

super::revision_of!(Model);
