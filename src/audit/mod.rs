//! The processing log (verwerkingenlog). Every call that reads or changes a
//! client's personal data leaves a record of who made it, when, for which
//! clients, why and how it ended; the auditor reads them back. Which calls
//! those are is the one table below; the layer in `layer.rs` does the
//! logging around the handlers, and each handler only says which clients a
//! call concerned (`ClientsConcerned`), because only it knows.
//!
//! The fields follow the Logboek dataverwerkingen standard of Logius;
//! docs/security.md maps them.

pub mod layer;

use crate::domain::processing::Processing;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// The request metadata that carries the purpose (doelbinding). Required for
/// every read of personal data; kept with writes when sent.
pub const PURPOSE_METADATA: &str = "clientvolg-purpose";

/// W3C Trace Context: a caller that sends it links our record to its own.
pub const TRACEPARENT_METADATA: &str = "traceparent";

const READ: Processing = Processing::Read;
const WRITE: Processing = Processing::Write;

/// (full gRPC method path, what it does with personal data). An RPC missing
/// here processes no personal data: catalogue data (doelgroep codes,
/// providers, contracts) and counts.
pub const PERSONAL_DATA: &[(&str, Processing)] = &[
    ("/clientvolg.v1.ClientService/CreateClient", WRITE),
    ("/clientvolg.v1.ClientService/GetClient", READ),
    ("/clientvolg.v1.ClientService/ListClients", READ),
    ("/clientvolg.v1.ClientService/UpdateClient", WRITE),
    ("/clientvolg.v1.ClientService/ListClientVersions", READ),
    (
        "/clientvolg.v1.RegistrationService/CreateRegistration",
        WRITE,
    ),
    ("/clientvolg.v1.RegistrationService/GetRegistration", READ),
    ("/clientvolg.v1.RegistrationService/ListRegistrations", READ),
    (
        "/clientvolg.v1.RegistrationService/UpdateRegistration",
        WRITE,
    ),
    (
        "/clientvolg.v1.RegistrationService/ListRegistrationVersions",
        READ,
    ),
    (
        "/clientvolg.v1.ClassificationService/CreateClassification",
        WRITE,
    ),
    (
        "/clientvolg.v1.ClassificationService/GetClassification",
        READ,
    ),
    (
        "/clientvolg.v1.ClassificationService/ListClassifications",
        READ,
    ),
    (
        "/clientvolg.v1.ClassificationService/UpdateClassification",
        WRITE,
    ),
    (
        "/clientvolg.v1.ClassificationService/ListClassificationVersions",
        READ,
    ),
    (
        "/clientvolg.v1.ClassificationService/LookupClassification",
        READ,
    ),
    (
        "/clientvolg.v1.DoelgroepService/CreateDoelgroepAssignment",
        WRITE,
    ),
    (
        "/clientvolg.v1.DoelgroepService/GetDoelgroepAssignment",
        READ,
    ),
    (
        "/clientvolg.v1.DoelgroepService/ListDoelgroepAssignments",
        READ,
    ),
    (
        "/clientvolg.v1.DoelgroepService/UpdateDoelgroepAssignment",
        WRITE,
    ),
    (
        "/clientvolg.v1.DoelgroepService/ListDoelgroepAssignmentVersions",
        READ,
    ),
    ("/clientvolg.v1.DoelgroepService/LookupDoelgroepen", READ),
    ("/clientvolg.v1.TrajectoryService/CreateTrajectory", WRITE),
    ("/clientvolg.v1.TrajectoryService/GetTrajectory", READ),
    ("/clientvolg.v1.TrajectoryService/ListTrajectories", READ),
    ("/clientvolg.v1.TrajectoryService/StartTrajectory", WRITE),
    ("/clientvolg.v1.TrajectoryService/EndTrajectory", WRITE),
    ("/clientvolg.v1.TrajectoryService/UpdateTrajectory", WRITE),
    (
        "/clientvolg.v1.TrajectoryService/ListTrajectoryVersions",
        READ,
    ),
    (
        "/clientvolg.v1.ProgressReportService/SubmitProgressReports",
        WRITE,
    ),
    (
        "/clientvolg.v1.ProgressReportService/ListAssignedTrajectories",
        READ,
    ),
    (
        "/clientvolg.v1.ProgressReportService/GetProgressReport",
        READ,
    ),
    (
        "/clientvolg.v1.ProgressReportService/ListProgressReports",
        READ,
    ),
    (
        "/clientvolg.v1.ProgressReportService/ListProgressReportVersions",
        READ,
    ),
    (
        "/clientvolg.v1.ProgressReportService/RespondToPhaseAdvice",
        WRITE,
    ),
    (
        "/clientvolg.v1.ProgressReportService/ListOverdueReports",
        READ,
    ),
    // The log itself says who looked at which client: reading it is logged
    // too, so that the auditor's own look is on record.
    (
        "/clientvolg.v1.ProcessingLogService/ListProcessingRecords",
        READ,
    ),
];

/// What `method` does with personal data, if anything.
pub fn processing_of(method: &str) -> Option<Processing> {
    PERSONAL_DATA
        .iter()
        .find(|(path, _)| *path == method)
        .map(|(_, processing)| *processing)
}

/// The clients a call concerned. The layer puts one into each logged
/// request; the handler notes every client whose data it read, changed or
/// was asked for (so that a refused guess at another gemeente's client is on
/// record too).
#[derive(Debug, Clone, Default)]
pub struct ClientsConcerned(Arc<Mutex<BTreeSet<Uuid>>>);

impl ClientsConcerned {
    pub fn note(&self, client: Uuid) {
        self.ids().insert(client);
    }

    pub fn note_all(&self, clients: impl IntoIterator<Item = Uuid>) {
        self.ids().extend(clients);
    }

    fn take(&self) -> Vec<Uuid> {
        std::mem::take(&mut *self.ids()).into_iter().collect()
    }

    fn ids(&self) -> std::sync::MutexGuard<'_, BTreeSet<Uuid>> {
        // A panic while holding the lock leaves a set that is still valid.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::POLICY;

    /// Every logged method is a real RPC, listed once.
    #[test]
    fn every_logged_method_is_in_the_policy() {
        for (method, _) in PERSONAL_DATA {
            assert!(
                POLICY.iter().any(|(path, _)| path == method),
                "{method} is not an RPC"
            );
            assert_eq!(
                PERSONAL_DATA.iter().filter(|(m, _)| m == method).count(),
                1,
                "{method} is listed twice"
            );
        }
    }

    /// A service that handles clients' data is logged in full: a new RPC on
    /// one of them must be classified before this test passes.
    #[test]
    fn client_data_services_are_logged_entirely() {
        for (method, _) in POLICY {
            let personal_service = [
                "ClientService",
                "RegistrationService",
                "ClassificationService",
                "TrajectoryService",
                "ProgressReportService",
                "ProcessingLogService",
            ]
            .iter()
            .any(|service| method.starts_with(&format!("/clientvolg.v1.{service}/")));
            let assignment = method.starts_with("/clientvolg.v1.DoelgroepService/")
                && (method.contains("Assignment") || method.ends_with("/LookupDoelgroepen"));
            if personal_service || assignment {
                assert!(processing_of(method).is_some(), "{method} is not logged");
            }
        }
    }

    #[test]
    fn concerned_clients_are_kept_once_in_order() {
        let concerned = ClientsConcerned::default();
        let (a, b) = (Uuid::from_u128(2), Uuid::from_u128(1));
        concerned.note(a);
        concerned.note_all([b, a]);
        assert_eq!(concerned.clone().take(), vec![b, a]);
        assert!(concerned.take().is_empty());
    }
}
