use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "trajectory_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i64,
    pub gemeente: String,
    pub client_id: Uuid,
    pub contract_id: Option<Uuid>,
    pub provider_id: Option<Uuid>,
    pub kind: String,
    pub casemanager: String,
    pub referral_date: Date,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub end_reason: Option<String>,
    pub job_contract_kind: Option<String>,
    pub job_hours_per_week: Option<f64>,
    pub job_title: Option<String>,
    pub employer_name: Option<String>,
    pub target_group_exception: Option<String>,
    /// The kwartaalrapportage this version's start or end came from.
    pub progress_report_id: Option<Uuid>,
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
