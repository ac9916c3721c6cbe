//! Which roles may call which RPC: the one table the server enforces. A
//! method missing from the table is refused for everybody, so a new RPC is
//! closed until someone decides who may use it. docs/security.md explains
//! the roles.

use super::Role;

const CASEMANAGER: &[Role] = &[Role::Casemanager];
const PROVIDER: &[Role] = &[Role::Provider];
const REPORT_READERS: &[Role] = &[Role::Casemanager, Role::Provider];
const DATA_MANAGER: &[Role] = &[Role::DataManager];
const OVERDUE_READERS: &[Role] = &[Role::Casemanager, Role::DataManager];
const BEHEER: &[Role] = &[Role::FunctioneelBeheerder];
const AUDITOR: &[Role] = &[Role::Auditor];
const CATALOGUE_READERS: &[Role] = &[
    Role::Casemanager,
    Role::FunctioneelBeheerder,
    Role::DataManager,
];

/// (full gRPC method path, roles allowed to call it)
pub const POLICY: &[(&str, &[Role])] = &[
    ("/clientvolg.v1.ClientService/CreateClient", CASEMANAGER),
    ("/clientvolg.v1.ClientService/GetClient", CASEMANAGER),
    ("/clientvolg.v1.ClientService/ListClients", CASEMANAGER),
    ("/clientvolg.v1.ClientService/UpdateClient", CASEMANAGER),
    (
        "/clientvolg.v1.ClientService/ListClientVersions",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.RegistrationService/CreateRegistration",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.RegistrationService/GetRegistration",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.RegistrationService/ListRegistrations",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.RegistrationService/UpdateRegistration",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.RegistrationService/ListRegistrationVersions",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.ClassificationService/CreateClassification",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.ClassificationService/GetClassification",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.ClassificationService/ListClassifications",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.ClassificationService/UpdateClassification",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.ClassificationService/ListClassificationVersions",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.ClassificationService/LookupClassification",
        CASEMANAGER,
    ),
    ("/clientvolg.v1.DoelgroepService/CreateDoelgroep", BEHEER),
    (
        "/clientvolg.v1.DoelgroepService/GetDoelgroep",
        CATALOGUE_READERS,
    ),
    (
        "/clientvolg.v1.DoelgroepService/ListDoelgroepen",
        CATALOGUE_READERS,
    ),
    ("/clientvolg.v1.DoelgroepService/UpdateDoelgroep", BEHEER),
    (
        "/clientvolg.v1.DoelgroepService/CreateDoelgroepAssignment",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.DoelgroepService/GetDoelgroepAssignment",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.DoelgroepService/ListDoelgroepAssignments",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.DoelgroepService/UpdateDoelgroepAssignment",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.DoelgroepService/ListDoelgroepAssignmentVersions",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.DoelgroepService/LookupDoelgroepen",
        CASEMANAGER,
    ),
    ("/clientvolg.v1.ProviderService/CreateProvider", BEHEER),
    (
        "/clientvolg.v1.ProviderService/GetProvider",
        CATALOGUE_READERS,
    ),
    (
        "/clientvolg.v1.ProviderService/ListProviders",
        CATALOGUE_READERS,
    ),
    ("/clientvolg.v1.ProviderService/UpdateProvider", BEHEER),
    (
        "/clientvolg.v1.ProviderService/ListProviderVersions",
        CATALOGUE_READERS,
    ),
    ("/clientvolg.v1.ContractService/CreateContract", BEHEER),
    (
        "/clientvolg.v1.ContractService/GetContract",
        CATALOGUE_READERS,
    ),
    (
        "/clientvolg.v1.ContractService/ListContracts",
        CATALOGUE_READERS,
    ),
    ("/clientvolg.v1.ContractService/UpdateContract", BEHEER),
    ("/clientvolg.v1.ContractService/EndContract", BEHEER),
    (
        "/clientvolg.v1.ContractService/ListContractVersions",
        CATALOGUE_READERS,
    ),
    (
        "/clientvolg.v1.TrajectoryService/CreateTrajectory",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.TrajectoryService/GetTrajectory",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.TrajectoryService/ListTrajectories",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.TrajectoryService/StartTrajectory",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.TrajectoryService/EndTrajectory",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.TrajectoryService/UpdateTrajectory",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.TrajectoryService/ListTrajectoryVersions",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.ProgressReportService/SubmitProgressReports",
        PROVIDER,
    ),
    (
        "/clientvolg.v1.ProgressReportService/ListAssignedTrajectories",
        PROVIDER,
    ),
    (
        "/clientvolg.v1.ProgressReportService/GetProgressReport",
        REPORT_READERS,
    ),
    (
        "/clientvolg.v1.ProgressReportService/ListProgressReports",
        REPORT_READERS,
    ),
    (
        "/clientvolg.v1.ProgressReportService/ListProgressReportVersions",
        REPORT_READERS,
    ),
    (
        "/clientvolg.v1.ProgressReportService/RespondToPhaseAdvice",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.ProgressReportService/ListOverdueReports",
        OVERDUE_READERS,
    ),
    (
        "/clientvolg.v1.ReportService/GetInflowOutflowReport",
        DATA_MANAGER,
    ),
    (
        "/clientvolg.v1.ReportService/GetCaseloadReport",
        CASEMANAGER,
    ),
    (
        "/clientvolg.v1.ProcessingLogService/ListProcessingRecords",
        AUDITOR,
    ),
];

/// Services anyone may call without a token: health checks and reflection.
pub fn is_public(method: &str) -> bool {
    method.starts_with("/grpc.health.v1.Health/") || method.starts_with("/grpc.reflection.")
}

/// May `role` call `method`?
pub fn allows(method: &str, role: Role) -> bool {
    POLICY
        .iter()
        .find(|(path, _)| *path == method)
        .is_some_and(|(_, roles)| roles.contains(&role))
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// Every RPC of the API contract has a row, and every row an RPC.
    #[test]
    fn the_policy_covers_exactly_the_api() {
        let set =
            prost_types::FileDescriptorSet::decode(crate::proto::FILE_DESCRIPTOR_SET).unwrap();
        let mut methods: Vec<String> = set
            .file
            .iter()
            .filter(|file| file.package() == "clientvolg.v1")
            .flat_map(|file| {
                file.service.iter().flat_map(move |service| {
                    service.method.iter().map(move |m| {
                        format!("/{}.{}/{}", file.package(), service.name(), m.name())
                    })
                })
            })
            .collect();
        methods.sort();
        let mut rows: Vec<String> = POLICY.iter().map(|(path, _)| path.to_string()).collect();
        rows.sort();
        assert_eq!(methods, rows);
    }

    /// docs/security.md shows the table; it must say what the code does.
    #[test]
    fn the_security_page_shows_this_table() {
        let page = include_str!("../../docs/security.md");
        let mut documented: Vec<(String, Vec<Role>)> = page
            .lines()
            .filter(|line| line.starts_with("| `/clientvolg.v1."))
            .map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let path = cells[1].trim_matches('`').to_owned();
                let roles = Role::ALL
                    .iter()
                    .zip(&cells[2..7])
                    .filter(|(_, mark)| !mark.is_empty())
                    .map(|(role, _)| *role);
                (path, roles.collect())
            })
            .collect();
        documented.sort_by(|a, b| a.0.cmp(&b.0));
        let mut enforced: Vec<(String, Vec<Role>)> = POLICY
            .iter()
            .map(|(path, roles)| (path.to_string(), roles.to_vec()))
            .collect();
        enforced.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, roles) in enforced.iter_mut() {
            roles.sort_by_key(|role| Role::ALL.iter().position(|r| r == role));
        }
        assert_eq!(documented, enforced, "docs/security.md and POLICY differ");
    }

    /// The page's last column says which RPCs the processing log records.
    #[test]
    fn the_security_page_shows_what_is_logged() {
        let page = include_str!("../../docs/security.md");
        let mut documented: Vec<(String, String)> = page
            .lines()
            .filter(|line| line.starts_with("| `/clientvolg.v1."))
            .map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                (cells[1].trim_matches('`').to_owned(), cells[7].to_owned())
            })
            .collect();
        documented.sort();
        let mut logged: Vec<(String, String)> = POLICY
            .iter()
            .map(|(path, _)| {
                let processing = crate::audit::processing_of(path)
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default();
                (path.to_string(), processing)
            })
            .collect();
        logged.sort();
        assert_eq!(
            documented, logged,
            "docs/security.md and audit::PERSONAL_DATA differ"
        );
    }

    #[test]
    fn unknown_methods_are_refused() {
        for role in Role::ALL {
            assert!(!allows("/clientvolg.v1.ClientService/DeleteClient", role));
        }
        assert!(allows(
            "/clientvolg.v1.ClientService/GetClient",
            Role::Casemanager
        ));
        assert!(!allows(
            "/clientvolg.v1.ClientService/GetClient",
            Role::DataManager
        ));
    }
}
