//! sea-orm entities, one per table. Version tables share a spine of columns
//! (see the foundation migration); `revision()` reads it back.

pub mod classification_versions;
pub mod client_versions;
pub mod contract_versions;
pub mod doelgroep_assignment_codes;
pub mod doelgroep_assignment_versions;
pub mod doelgroep_versions;
pub mod processing_log;
pub mod processing_log_clients;
pub mod progress_report_submissions;
pub mod progress_report_versions;
pub mod provider_versions;
pub mod registration_versions;
pub mod trajectory_lines;
pub mod trajectory_versions;
pub mod transaction_clock;

/// Implements `revision()` for a version table's model.
macro_rules! revision_of {
    ($model:ty) => {
        impl $model {
            pub fn revision(
                &self,
            ) -> Result<crate::domain::history::Revision, crate::store::StoreError> {
                Ok(crate::domain::history::Revision {
                    version: self.version,
                    recorded_at: crate::domain::history::RecordedAt::from_micros(self.recorded_at),
                    actor: self.actor.clone(),
                    actor_role: self.actor_role.clone(),
                    source: crate::domain::history::Source::parse_stored(&self.source)
                        .ok_or_else(|| crate::store::StoreError::corrupt("source", &self.source))?,
                    reason: self.reason.clone(),
                })
            }
        }
    };
}
pub(crate) use revision_of;
