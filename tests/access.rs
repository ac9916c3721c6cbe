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
