use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i64,
    pub gemeente: String,
    pub bsn: String,
    pub given_name: String,
    pub surname_prefix: String,
    pub surname: String,
    pub birth_date: Date,
    pub education_level: String,
    pub work_experience: String,
    /// JSON array of strings.
    pub skills: String,
    pub wishes: String,
    pub notes: String,
    pub casemanager: String,
    pub created_at: i64,
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
