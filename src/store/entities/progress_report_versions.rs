use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "progress_report_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i64,
    pub gemeente: String,
    pub trajectory_id: Uuid,
    pub quarter: String,
    pub status: String,
    pub appointments_planned: i32,
    pub appointments_kept: i32,
    /// JSON array of strings.
    pub activities: String,
    /// JSON array of strings.
    pub instruments: String,
    pub advice_fase: Option<String>,
    pub advice_motivation: Option<String>,
    pub next_steps: String,
    pub reported_start: Option<Date>,
    pub reported_end: Option<Date>,
    pub end_reason: Option<String>,
    pub job_contract_kind: Option<String>,
    pub job_hours_per_week: Option<f64>,
    pub job_title: Option<String>,
    pub employer_name: Option<String>,
    pub remarks: String,
    pub advice_accepted: Option<bool>,
    pub advice_comment: Option<String>,
    pub advice_client_id: Option<Uuid>,
    pub advice_classification_id: Option<Uuid>,
    pub advice_responder: Option<String>,
    /// When the first version arrived (µs since the epoch); decides lateness.
    pub received_at: i64,
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
