//! Authentication, roles and tenancy; health and reflection without a token.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    Classification, ClassificationScheme, Client, CreateClassificationRequest, CreateClientRequest,
    CreateDoelgroepAssignmentRequest, CreateRegistrationRequest, DoelgroepAssignment, Fase,
    GetClientRequest, ListClassificationsRequest, ListClientVersionsRequest, ListClientsRequest,
    ListDoelgroepAssignmentsRequest, ListRegistrationsRequest, LookupClassificationRequest,
    LookupDoelgroepenRequest, Registration, RegistrationKind, UpdateClientRequest, classification,
};
use common::*;
use tonic::{Code, Status};

both_databases!(
    missing_or_unknown_token_is_unauthenticated,
    roles_without_client_access_are_denied,
    other_gemeente_sees_not_found,
    other_gemeente_parent_is_denied,
    health_without_token,
    reflection_without_token,
    new_services_role_refusals,
    provider_principal_is_confined,
);

/// Calls every client, registration, classification and assignment RPC on
/// `client_name` and returns (rpc, result code).
async fn call_everything(c: &mut Clients, client_name: &str) -> Vec<(&'static str, Code)> {
    fn code<T>(r: Result<T, Status>) -> Code {
        match r {
            Ok(_) => Code::Ok,
            Err(s) => s.code(),
        }
    }
    let mut out = Vec::new();
    out.push((
        "CreateClient",
        code(
            c.clients
                .create_client(CreateClientRequest {
                    parent: GEMEENTE.into(),
                    client: Some(sample_client(&bsn(999))),
                    change: Some(reason("intake")),
                })
                .await,
        ),
    ));
    out.push((
        "GetClient",
        code(
            c.clients
                .get_client(GetClientRequest {
                    name: client_name.into(),
                    as_of: None,
                })
                .await,
        ),
    ));
    out.push((
        "ListClients",
        code(
            c.clients
                .list_clients(ListClientsRequest {
                    parent: GEMEENTE.into(),
                    ..Default::default()
                })
                .await,
        ),
    ));
    out.push((
        "UpdateClient",
        code(
            c.clients
                .update_client(UpdateClientRequest {
                    client: Some(Client {
                        name: client_name.into(),
                        notes: "gewijzigd".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["notes"]),
                    version: 1,
                    change: Some(reason("gesprek")),
                })
                .await,
        ),
    ));
    out.push((
        "ListClientVersions",
        code(
            c.clients
                .list_client_versions(ListClientVersionsRequest {
                    name: client_name.into(),
                    ..Default::default()
                })
                .await,
        ),
    ));
    out.push((
        "CreateRegistration",
        code(
            c.registrations
                .create_registration(CreateRegistrationRequest {
                    parent: client_name.into(),
                    registration: Some(Registration {
                        kind: RegistrationKind::Bijstand as i32,
                        start_date: Some(date(2024, 1, 1)),
                        ..Default::default()
                    }),
                    change: Some(reason("toekenning")),
                })
                .await,
        ),
    ));
    out.push((
        "ListRegistrations",
        code(
            c.registrations
                .list_registrations(ListRegistrationsRequest {
                    parent: client_name.into(),
                    ..Default::default()
                })
                .await,
        ),
    ));
    out.push((
        "CreateClassification",
        code(
            c.classifications
                .create_classification(CreateClassificationRequest {
                    parent: client_name.into(),
                    classification: Some(Classification {
                        value: Some(classification::Value::Fase(Fase::Fase2 as i32)),
                        valid_from: Some(date(2025, 1, 1)),
                        ..Default::default()
                    }),
                    change: Some(reason("diagnose")),
                })
                .await,
        ),
    ));
    out.push((
        "ListClassifications",
        code(
            c.classifications
                .list_classifications(ListClassificationsRequest {
                    parent: client_name.into(),
                    ..Default::default()
                })
                .await,
        ),
    ));
    out.push((
        "LookupClassification",
        code(
            c.classifications
                .lookup_classification(LookupClassificationRequest {
                    parent: client_name.into(),
                    scheme: ClassificationScheme::Fase as i32,
                    date: Some(date(2025, 3, 1)),
                    as_of: None,
                })
                .await,
        ),
    ));
    out.push((
        "CreateDoelgroepAssignment",
        code(
            c.doelgroepen
                .create_doelgroep_assignment(CreateDoelgroepAssignmentRequest {
                    parent: client_name.into(),
                    assignment: Some(DoelgroepAssignment {
                        codes: vec![],
                        valid_from: Some(date(2025, 1, 1)),
                        ..Default::default()
                    }),
                    change: Some(reason("intake")),
                })
                .await,
        ),
    ));
    out.push((
        "ListDoelgroepAssignments",
        code(
            c.doelgroepen
                .list_doelgroep_assignments(ListDoelgroepAssignmentsRequest {
                    parent: client_name.into(),
                    ..Default::default()
                })
                .await,
        ),
    ));
    out.push((
        "LookupDoelgroepen",
        code(
            c.doelgroepen
                .lookup_doelgroepen(LookupDoelgroepenRequest {
                    parent: client_name.into(),
                    date: Some(date(2025, 3, 1)),
                    as_of: None,
                })
                .await,
        ),
    ));
    out
}

fn assert_all(results: &[(&str, Code)], expected: Code, who: &str) {
    let wrong: Vec<_> = results.iter().filter(|(_, c)| *c != expected).collect();
    assert!(
        wrong.is_empty(),
        "{who}: expected {expected:?} on every RPC, but got {wrong:?}"
    );
}

async fn missing_or_unknown_token_is_unauthenticated(app: TestApp) {
    let client = app.anna().create_client(sample_client(&bsn(600))).await;
    for (who, authorization) in [
        ("no authorization", None),
        ("unknown token", Some("Bearer not-a-token")),
        ("empty bearer", Some("Bearer ")),
        ("token without Bearer", Some(CM_ANNA)),
        ("basic auth", Some("Basic Y20tMDM2Mzp4")),
    ] {
        let mut c = app.clients_with_authorization(authorization);
        let results = call_everything(&mut c, &client.name).await;
        assert_all(&results, Code::Unauthenticated, who);
        let result = c
            .doelgroepen
            .list_doelgroepen(clientvolg::proto::clientvolg::v1::ListDoelgroepenRequest {
                parent: GEMEENTE.into(),
                ..Default::default()
            })
            .await;
        assert_code(result, Code::Unauthenticated);
    }
    // Nothing was written by any of them.
    let mut anna = app.anna();
    assert_eq!(anna.list_all_clients().await.len(), 1);
    assert_eq!(anna.client_versions(&client.name).await.len(), 1);
    app.cleanup().await;
}

async fn roles_without_client_access_are_denied(app: TestApp) {
    let client = app.anna().create_client(sample_client(&bsn(610))).await;
    for (who, token) in [
        ("data_manager", DM_0363),
        ("provider", PROVIDER_0363),
        ("auditor", AUDITOR_0363),
    ] {
        let results = call_everything(&mut app.clients(token), &client.name).await;
        assert_all(&results, Code::PermissionDenied, who);
    }
    // ...and nothing was written.
    let mut anna = app.anna();
    assert_eq!(anna.list_all_clients().await.len(), 1);
    assert_eq!(anna.client_versions(&client.name).await.len(), 1);
    let regs = anna
        .registrations
        .list_registrations(ListRegistrationsRequest {
            parent: client.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(regs.registrations.is_empty());

    // The casemanager may do all of it (sanity check of call_everything).
    let results = call_everything(&mut app.bert(), &client.name).await;
    assert_all(&results, Code::Ok, "casemanager cm-bert");
    app.cleanup().await;
}

async fn other_gemeente_sees_not_found(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(620))).await;
    let mut carla = app.carla();

    let mut results = call_everything(&mut carla, &client.name).await;
    // CreateClient and ListClients use the parent gemeenten/0363: denied.
    let parents: Vec<_> = results
        .iter()
        .filter(|(rpc, _)| *rpc == "CreateClient" || *rpc == "ListClients")
        .cloned()
        .collect();
    assert_all(
        &parents,
        Code::PermissionDenied,
        "cm-carla on gemeenten/0363",
    );
    results.retain(|(rpc, _)| *rpc != "CreateClient" && *rpc != "ListClients");
    assert_all(&results, Code::NotFound, "cm-carla on a client of 0363");

    // Exactly like an id that does not exist.
    let unknown = format!("clients/{}", uuid::Uuid::new_v4());
    let mut results = call_everything(&mut anna, &unknown).await;
    results.retain(|(rpc, _)| *rpc != "CreateClient" && *rpc != "ListClients");
    assert_all(&results, Code::NotFound, "cm-anna on an unknown client");

    // The client is untouched, and 0599's own list is empty.
    let got = anna
        .clients
        .get_client(GetClientRequest {
            name: client.name.clone(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.revision.unwrap().version, 1);
    assert_eq!(got.notes, client.notes);
    assert!(carla.list_all_clients_in(GEMEENTE_0599).await.is_empty());
    app.cleanup().await;
}

async fn other_gemeente_parent_is_denied(app: TestApp) {
    app.anna().create_client(sample_client(&bsn(630))).await;
    let mut carla = app.carla();
    let result = carla
        .clients
        .list_clients(ListClientsRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    let result = carla
        .clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(sample_client(&bsn(631))),
            change: None,
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    // And the other way round.
    let result = app
        .anna()
        .clients
        .list_clients(ListClientsRequest {
            parent: GEMEENTE_0599.into(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    assert_eq!(app.anna().list_all_clients().await.len(), 1);
    app.cleanup().await;
}

async fn health_without_token(app: TestApp) {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let mut health = HealthClient::new(app.channel.clone());
    let resp = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("Health/Check without a token")
        .into_inner();
    assert_eq!(resp.status, ServingStatus::Serving as i32);
    app.cleanup().await;
}

async fn reflection_without_token(app: TestApp) {
    let expected = [
        "clientvolg.v1.ClientService",
        "clientvolg.v1.RegistrationService",
        "clientvolg.v1.ClassificationService",
        "clientvolg.v1.DoelgroepService",
    ];

    {
        use tonic_reflection::pb::v1::{
            ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        };
        let mut client = ServerReflectionClient::new(app.channel.clone());
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = client
            .server_reflection_info(tokio_stream::once(request))
            .await
            .expect("reflection v1 without a token")
            .into_inner();
        let resp = stream
            .message()
            .await
            .expect("reflection v1 response")
            .expect("one response");
        let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
            panic!("unexpected v1 reflection answer: {resp:?}");
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        for s in expected {
            assert!(
                names.iter().any(|n| n == s),
                "v1 lists {names:?}, missing {s}"
            );
        }
    }
    {
        use tonic_reflection::pb::v1alpha::{
            ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        };
        let mut client = ServerReflectionClient::new(app.channel.clone());
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = client
            .server_reflection_info(tokio_stream::once(request))
            .await
            .expect("reflection v1alpha without a token")
            .into_inner();
        let resp = stream
            .message()
            .await
            .expect("reflection v1alpha response")
            .expect("one response");
        let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
            panic!("unexpected v1alpha reflection answer: {resp:?}");
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        for s in expected {
            assert!(
                names.iter().any(|n| n == s),
                "v1alpha lists {names:?}, missing {s}"
            );
        }
    }
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// Providers, contracts and trajectories: who may do what
// ---------------------------------------------------------------------------

mod new_services {
    use super::common::*;
    use clientvolg::proto::clientvolg::v1;
    use tonic::{Code, Status};

    fn code<T>(r: Result<T, Status>) -> Code {
        match r {
            Ok(_) => Code::Ok,
            Err(s) => s.code(),
        }
    }

    /// Get/List(Versions) of providers and contracts.
    pub async fn reads(
        c: &mut Clients,
        provider: &str,
        contract: &str,
    ) -> Vec<(&'static str, Code)> {
        vec![
            (
                "GetProvider",
                code(
                    c.providers
                        .get_provider(v1::GetProviderRequest {
                            name: provider.into(),
                            as_of: None,
                        })
                        .await,
                ),
            ),
            (
                "ListProviders",
                code(
                    c.providers
                        .list_providers(v1::ListProvidersRequest {
                            parent: GEMEENTE.into(),
                            ..Default::default()
                        })
                        .await,
                ),
            ),
            (
                "ListProviderVersions",
                code(
                    c.providers
                        .list_provider_versions(v1::ListProviderVersionsRequest {
                            name: provider.into(),
                            ..Default::default()
                        })
                        .await,
                ),
            ),
            (
                "GetContract",
                code(
                    c.contracts
                        .get_contract(v1::GetContractRequest {
                            name: contract.into(),
                            as_of: None,
                        })
                        .await,
                ),
            ),
            (
                "ListContracts",
                code(
                    c.contracts
                        .list_contracts(v1::ListContractsRequest {
                            parent: GEMEENTE.into(),
                            ..Default::default()
                        })
                        .await,
                ),
            ),
            (
                "ListContractVersions",
                code(
                    c.contracts
                        .list_contract_versions(v1::ListContractVersionsRequest {
                            name: contract.into(),
                            ..Default::default()
                        })
                        .await,
                ),
            ),
        ]
    }

    /// Create/Update of providers, Create/Update/End of contracts. Valid
    /// requests for a functioneel beheerder calling them once, in order.
    pub async fn writes(
        c: &mut Clients,
        provider: &str,
        contract: &str,
    ) -> Vec<(&'static str, Code)> {
        vec![
            (
                "CreateProvider",
                code(
                    c.providers
                        .create_provider(v1::CreateProviderRequest {
                            parent: GEMEENTE.into(),
                            provider: Some(sample_provider("Tweede BV", "99887766")),
                            change: None,
                        })
                        .await,
                ),
            ),
            (
                "UpdateProvider",
                code(
                    c.providers
                        .update_provider(v1::UpdateProviderRequest {
                            provider: Some(v1::Provider {
                                name: provider.into(),
                                display_name: "Hernoemd BV".into(),
                                ..Default::default()
                            }),
                            update_mask: mask(&["display_name"]),
                            version: 1,
                            change: Some(reason("nieuwe naam")),
                        })
                        .await,
                ),
            ),
            (
                "CreateContract",
                code(
                    c.contracts
                        .create_contract(v1::CreateContractRequest {
                            parent: GEMEENTE.into(),
                            contract: Some(sample_contract(provider)),
                            change: None,
                        })
                        .await,
                ),
            ),
            (
                "UpdateContract",
                code(
                    c.contracts
                        .update_contract(v1::UpdateContractRequest {
                            contract: Some(v1::Contract {
                                name: contract.into(),
                                report_due_days: 45,
                                ..Default::default()
                            }),
                            update_mask: mask(&["report_due_days"]),
                            version: 1,
                            change: Some(reason("langere termijn")),
                        })
                        .await,
                ),
            ),
            (
                "EndContract",
                code(
                    c.contracts
                        .end_contract(v1::EndContractRequest {
                            name: contract.into(),
                            end_date: Some(date(2025, 11, 30)),
                            version: 2,
                            change: Some(reason("opgezegd")),
                        })
                        .await,
                ),
            ),
        ]
    }

    /// Every TrajectoryService RPC. Valid requests for a casemanager calling
    /// them once, in order, on a trajectory at version 1.
    pub async fn trajectories(
        c: &mut Clients,
        client: &str,
        contract: &str,
        trajectory: &str,
    ) -> Vec<(&'static str, Code)> {
        vec![
            (
                "CreateTrajectory",
                code(
                    c.trajectories
                        .create_trajectory(create_trajectory_req(sample_trajectory(
                            client,
                            contract,
                            date(2025, 3, 1),
                            vec![line("BEMIDDELING", 1)],
                        )))
                        .await,
                ),
            ),
            (
                "GetTrajectory",
                code(
                    c.trajectories
                        .get_trajectory(v1::GetTrajectoryRequest {
                            name: trajectory.into(),
                            as_of: None,
                        })
                        .await,
                ),
            ),
            (
                "ListTrajectories",
                code(
                    c.trajectories
                        .list_trajectories(v1::ListTrajectoriesRequest {
                            parent: GEMEENTE.into(),
                            ..Default::default()
                        })
                        .await,
                ),
            ),
            (
                "StartTrajectory",
                code(
                    c.trajectories
                        .start_trajectory(start_req(trajectory, date(2025, 3, 15), 1))
                        .await,
                ),
            ),
            (
                "EndTrajectory",
                code(
                    c.trajectories
                        .end_trajectory(end_req(
                            trajectory,
                            date(2025, 9, 30),
                            v1::EndReason::CompletedWithoutWork,
                            None,
                            2,
                        ))
                        .await,
                ),
            ),
            (
                "UpdateTrajectory",
                code(
                    c.trajectories
                        .update_trajectory(v1::UpdateTrajectoryRequest {
                            trajectory: Some(v1::Trajectory {
                                name: trajectory.into(),
                                casemanager: "cm-bert".into(),
                                ..Default::default()
                            }),
                            update_mask: mask(&["casemanager"]),
                            version: 3,
                            change: Some(reason("overdracht")),
                        })
                        .await,
                ),
            ),
            (
                "ListTrajectoryVersions",
                code(
                    c.trajectories
                        .list_trajectory_versions(v1::ListTrajectoryVersionsRequest {
                            name: trajectory.into(),
                            ..Default::default()
                        })
                        .await,
                ),
            ),
        ]
    }
}

async fn new_services_role_refusals(app: TestApp) {
    use clientvolg::proto::clientvolg::v1::{
        GetContractRequest, GetProviderRequest, RegistrationKind,
    };

    let mut fb = app.beheerder();
    let provider = fb
        .create_provider(sample_provider("WerkFit BV", "12345678"))
        .await;
    let contract = fb.create_contract(sample_contract(&provider.name)).await;
    let mut anna = app.anna();
    let client = anna
        .create_registered_client(640, RegistrationKind::Bijstand, date(2024, 1, 1), None)
        .await;
    let trajectory = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 2, 1),
            vec![line("BEMIDDELING", 1)],
        ))
        .await;
    let (p, k, t, cl) = (
        provider.name.as_str(),
        contract.name.as_str(),
        trajectory.name.as_str(),
        client.name.as_str(),
    );

    // Without a valid token: UNAUTHENTICATED everywhere.
    for authorization in [None, Some("Bearer not-a-token")] {
        let mut c = app.clients_with_authorization(authorization);
        let mut results = new_services::reads(&mut c, p, k).await;
        results.extend(new_services::writes(&mut c, p, k).await);
        results.extend(new_services::trajectories(&mut c, cl, k, t).await);
        assert_all(&results, Code::Unauthenticated, "no valid token");
    }

    // Reading providers and contracts: casemanager, beheerder, data manager.
    for (who, token) in [
        ("casemanager", CM_BERT),
        ("functioneel_beheerder", FB_0363),
        ("data_manager", DM_0363),
    ] {
        let results = new_services::reads(&mut app.clients(token), p, k).await;
        assert_all(&results, Code::Ok, who);
    }
    for (who, token) in [("provider", PROVIDER_0363), ("auditor", AUDITOR_0363)] {
        let results = new_services::reads(&mut app.clients(token), p, k).await;
        assert_all(&results, Code::PermissionDenied, who);
    }

    // Writing providers and contracts: only the functioneel beheerder.
    for (who, token) in [
        ("casemanager", CM_ANNA),
        ("data_manager", DM_0363),
        ("provider", PROVIDER_0363),
        ("auditor", AUDITOR_0363),
    ] {
        let results = new_services::writes(&mut app.clients(token), p, k).await;
        assert_all(&results, Code::PermissionDenied, who);
    }

    // Trajectories: only casemanagers.
    for (who, token) in [
        ("functioneel_beheerder", FB_0363),
        ("data_manager", DM_0363),
        ("provider", PROVIDER_0363),
        ("auditor", AUDITOR_0363),
    ] {
        let results = new_services::trajectories(&mut app.clients(token), cl, k, t).await;
        assert_all(&results, Code::PermissionDenied, who);
    }

    // Nothing was written by any of them.
    assert_eq!(fb.provider_versions(p).await.len(), 1);
    assert_eq!(fb.contract_versions(k).await.len(), 1);
    assert_eq!(anna.trajectory_versions(t).await.len(), 1);
    assert_eq!(
        anna.list_trajectories(
            clientvolg::proto::clientvolg::v1::ListTrajectoriesRequest::default(),
            0
        )
        .await
        .len(),
        1
    );

    // Sanity check of the calls: the allowed roles succeed on every one.
    let results = new_services::writes(&mut fb, p, k).await;
    assert_all(&results, Code::Ok, "functioneel_beheerder writing");
    let results = new_services::trajectories(&mut app.bert(), cl, k, t).await;
    assert_all(&results, Code::Ok, "casemanager cm-bert on trajectories");
    let got = anna
        .providers
        .get_provider(GetProviderRequest {
            name: p.into(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.revision.unwrap().version, 2);
    let got = anna
        .contracts
        .get_contract(GetContractRequest {
            name: k.into(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.revision.unwrap().version, 3);
    assert_eq!(anna.trajectory_versions(t).await.len(), 4);
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// The provider principal (a reïntegratiebedrijf's own system)
// ---------------------------------------------------------------------------

async fn provider_principal_is_confined(app: TestApp) {
    use clientvolg::proto::clientvolg::v1::{
        ListAssignedTrajectoriesRequest, ListDoelgroepenRequest, ListTrajectoriesRequest,
        RegistrationKind, SubmitProgressReportsRequest,
    };

    let mut fb = app.beheerder();
    let provider = fb
        .create_provider(sample_provider("WerkFit BV", PROVIDER_KVK))
        .await;
    let contract = fb.create_contract(sample_contract(&provider.name)).await;
    let mut anna = app.anna();
    let client = anna
        .create_registered_client(650, RegistrationKind::Bijstand, date(2024, 1, 1), None)
        .await;
    let trajectory = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 2, 1),
            vec![line("BEMIDDELING", 1)],
        ))
        .await;
    let (p, k, t, cl) = (
        provider.name.as_str(),
        contract.name.as_str(),
        trajectory.name.as_str(),
        client.name.as_str(),
    );

    // Clients, registrations, classifications, doelgroepen, providers,
    // contracts and trajectories are closed to every provider principal,
    // including one whose KvK number is not registered here.
    for (who, token) in [
        ("prov-frank", PROVIDER_0363),
        ("prov-henk", PROVIDER_OTHER_0363),
    ] {
        let mut c = app.clients(token);
        let mut results = call_everything(&mut c, cl).await;
        results.extend(new_services::reads(&mut c, p, k).await);
        results.extend(new_services::writes(&mut c, p, k).await);
        results.extend(new_services::trajectories(&mut c, cl, k, t).await);
        let doelgroepen = c
            .doelgroepen
            .list_doelgroepen(ListDoelgroepenRequest {
                parent: GEMEENTE.into(),
                ..Default::default()
            })
            .await;
        results.push((
            "ListDoelgroepen",
            match doelgroepen {
                Ok(_) => Code::Ok,
                Err(s) => s.code(),
            },
        ));
        assert_all(&results, Code::PermissionDenied, who);
    }

    // Nothing was written by them.
    assert_eq!(anna.list_all_clients().await.len(), 1);
    assert_eq!(anna.client_versions(cl).await.len(), 1);
    assert_eq!(fb.provider_versions(p).await.len(), 1);
    assert_eq!(fb.contract_versions(k).await.len(), 1);
    assert_eq!(anna.trajectory_versions(t).await.len(), 1);
    assert_eq!(
        anna.list_trajectories(ListTrajectoriesRequest::default(), 0)
            .await
            .len(),
        1
    );

    // What the provider may do: see its trajectory, by the client's name
    // only, and report on it.
    let mut frank = app.provider();
    let assigned = frank.assigned_trajectories(0).await;
    assert_eq!(assigned.len(), 1);
    assert_eq!(assigned[0].trajectory, t);
    assert_eq!(assigned[0].client_display_name, "Johanna van der Berg");
    let resp = frank
        .submit_reports(vec![sample_report(t, "2025-Q1", "eerste")])
        .await;
    assert_eq!(resp.accepted_count, 1, "{resp:?}");

    // A provider principal whose KvK number has no provider in this
    // gemeente reaches nothing.
    let mut henk = app.other_provider();
    assert!(henk.assigned_trajectories(0).await.is_empty());
    let resp = henk
        .submit_reports(vec![sample_report(t, "2025-Q2", "niet van mij")])
        .await;
    assert_eq!(resp.accepted_count, 0);
    let rejection = resp.results[0].rejection.as_ref().expect("rejected");
    assert_eq!(
        (rejection.code.as_str(), rejection.field.as_str()),
        ("NOT_FOUND", "trajectory")
    );

    // And only in its own gemeente.
    for result in [
        frank
            .progress_reports
            .list_assigned_trajectories(ListAssignedTrajectoriesRequest {
                parent: GEMEENTE_0599.into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        frank
            .progress_reports
            .submit_progress_reports(SubmitProgressReportsRequest {
                parent: GEMEENTE_0599.into(),
                reports: vec![sample_report(t, "2025-Q2", "elders")],
            })
            .await
            .map(|_| ()),
    ] {
        assert_code(result.map(tonic::Response::new), Code::PermissionDenied);
    }
    assert_eq!(anna.list_reports(t).await.len(), 1);
    app.cleanup().await;
}
