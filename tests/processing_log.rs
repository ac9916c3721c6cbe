//! The processing log (verwerkingenlog): a scenario that calls every RPC
//! touching personal data finds each call in the log with its client, actor,
//! purpose and outcome; reads without a purpose are refused; the auditor
//! filters by client, actor and period and pages through; the log's rows
//! cannot be changed.

#[macro_use]
mod common;

use clientvolg::audit::PERSONAL_DATA;
use clientvolg::proto::clientvolg::v1::{
    self as v1, ListProcessingRecordsRequest, ProcessingKind, ProcessingRecord,
};
use common::*;
use sea_orm::ConnectionTrait;
use std::collections::BTreeSet;
use tonic::{Code, Response, Status};
use tonic_types::StatusExt;

both_databases!(
    every_personal_data_call_is_logged,
    reads_need_a_purpose,
    auditor_filters_and_pages,
    the_callers_trace_is_continued,
    log_rows_cannot_be_changed,
    a_read_that_cannot_be_logged_is_not_answered,
);

/// The canonical name of a call's outcome, as the log stores it.
fn outcome<T>(result: &Result<Response<T>, Status>) -> String {
    let code = match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    };
    clientvolg::audit::layer::code_name(code).to_owned()
}

/// Every record the auditor of 0363 can list with `filter`, following all
/// pages of `page_size`.
async fn records(
    app: &TestApp,
    filter: ListProcessingRecordsRequest,
    page_size: i32,
) -> Vec<ProcessingRecord> {
    let mut auditor = app.auditor();
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = auditor
            .processing_log
            .list_processing_records(ListProcessingRecordsRequest {
                parent: GEMEENTE.into(),
                page_size,
                page_token: page_token.clone(),
                ..filter.clone()
            })
            .await
            .expect("ListProcessingRecords")
            .into_inner();
        assert!(page.processing_records.len() <= page_size as usize);
        out.extend(page.processing_records);
        if page.next_page_token.is_empty() {
            return out;
        }
        page_token = page.next_page_token;
    }
}

/// One call of the scenario: the RPC, the client it concerned (if the test
/// knows it), and how it ended.
struct Expected {
    method: &'static str,
    client: Option<String>,
    outcome: String,
}

fn rpc(method: &str) -> String {
    format!("/clientvolg.v1.{method}")
}

async fn every_personal_data_call_is_logged(app: TestApp) {
    let mut fb = app.beheerder();
    let provider = fb
        .create_provider(sample_provider("WerkFit BV", PROVIDER_KVK))
        .await;
    let contract = fb.create_contract(sample_contract(&provider.name)).await;
    fb.create_doelgroep("JONGEREN").await;

    let mut anna = app.anna();
    let mut expected: Vec<Expected> = Vec::new();
    macro_rules! call {
        ($method:literal, $client:expr, $call:expr) => {{
            let result = $call.await;
            expected.push(Expected {
                method: $method,
                client: $client,
                outcome: outcome(&result),
            });
            result
        }};
    }

    // Clients.
    let client = call!(
        "ClientService/CreateClient",
        None,
        anna.clients.create_client(v1::CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(sample_client(&bsn(800))),
            change: None,
        })
    )
    .expect("CreateClient")
    .into_inner();
    let c = Some(client.name.clone());
    expected.last_mut().unwrap().client = c.clone();
    call!(
        "ClientService/GetClient",
        c.clone(),
        anna.clients.get_client(v1::GetClientRequest {
            name: client.name.clone(),
            as_of: None,
        })
    )
    .expect("GetClient");
    call!(
        "ClientService/ListClients",
        c.clone(),
        anna.clients.list_clients(v1::ListClientsRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
    )
    .expect("ListClients");
    call!(
        "ClientService/UpdateClient",
        c.clone(),
        anna.clients.update_client(v1::UpdateClientRequest {
            client: Some(v1::Client {
                name: client.name.clone(),
                notes: "Wil in de zorg werken.".into(),
                ..Default::default()
            }),
            update_mask: mask(&["notes"]),
            version: 1,
            change: Some(reason("gesprek")),
        })
    )
    .expect("UpdateClient");
    call!(
        "ClientService/ListClientVersions",
        c.clone(),
        anna.clients
            .list_client_versions(v1::ListClientVersionsRequest {
                name: client.name.clone(),
                ..Default::default()
            })
    )
    .expect("ListClientVersions");

    // Registrations.
    let registration = call!(
        "RegistrationService/CreateRegistration",
        c.clone(),
        anna.registrations
            .create_registration(v1::CreateRegistrationRequest {
                parent: client.name.clone(),
                registration: Some(v1::Registration {
                    kind: v1::RegistrationKind::Bijstand as i32,
                    start_date: Some(date(2024, 1, 1)),
                    ..Default::default()
                }),
                change: None,
            })
    )
    .expect("CreateRegistration")
    .into_inner();
    call!(
        "RegistrationService/GetRegistration",
        c.clone(),
        anna.registrations
            .get_registration(v1::GetRegistrationRequest {
                name: registration.name.clone(),
                as_of: None,
            })
    )
    .expect("GetRegistration");
    call!(
        "RegistrationService/ListRegistrations",
        c.clone(),
        anna.registrations
            .list_registrations(v1::ListRegistrationsRequest {
                parent: client.name.clone(),
                ..Default::default()
            })
    )
    .expect("ListRegistrations");
    // A stale version: refused, and still on record.
    let stale = call!(
        "RegistrationService/UpdateRegistration",
        c.clone(),
        anna.registrations
            .update_registration(v1::UpdateRegistrationRequest {
                registration: Some(v1::Registration {
                    name: registration.name.clone(),
                    start_date: Some(date(2024, 2, 1)),
                    ..Default::default()
                }),
                update_mask: mask(&["start_date"]),
                version: 7,
                change: Some(reason("correctie")),
            })
    );
    assert_code(stale, Code::Aborted);
    call!(
        "RegistrationService/ListRegistrationVersions",
        c.clone(),
        anna.registrations
            .list_registration_versions(v1::ListRegistrationVersionsRequest {
                name: registration.name.clone(),
                ..Default::default()
            })
    )
    .expect("ListRegistrationVersions");

    // Classifications.
    let classification = call!(
        "ClassificationService/CreateClassification",
        c.clone(),
        anna.classifications
            .create_classification(v1::CreateClassificationRequest {
                parent: client.name.clone(),
                classification: Some(v1::Classification {
                    value: Some(v1::classification::Value::Fase(v1::Fase::Fase2 as i32)),
                    valid_from: Some(date(2024, 1, 1)),
                    ..Default::default()
                }),
                change: None,
            })
    )
    .expect("CreateClassification")
    .into_inner();
    call!(
        "ClassificationService/GetClassification",
        c.clone(),
        anna.classifications
            .get_classification(v1::GetClassificationRequest {
                name: classification.name.clone(),
                as_of: None,
            })
    )
    .expect("GetClassification");
    call!(
        "ClassificationService/ListClassifications",
        c.clone(),
        anna.classifications
            .list_classifications(v1::ListClassificationsRequest {
                parent: client.name.clone(),
                ..Default::default()
            })
    )
    .expect("ListClassifications");
    call!(
        "ClassificationService/UpdateClassification",
        c.clone(),
        anna.classifications
            .update_classification(v1::UpdateClassificationRequest {
                classification: Some(v1::Classification {
                    name: classification.name.clone(),
                    value: Some(v1::classification::Value::Fase(v1::Fase::Fase3 as i32)),
                    ..Default::default()
                }),
                update_mask: mask(&["value"]),
                version: 1,
                change: Some(reason("herindeling")),
            })
    )
    .expect("UpdateClassification");
    call!(
        "ClassificationService/ListClassificationVersions",
        c.clone(),
        anna.classifications
            .list_classification_versions(v1::ListClassificationVersionsRequest {
                name: classification.name.clone(),
                ..Default::default()
            })
    )
    .expect("ListClassificationVersions");
    call!(
        "ClassificationService/LookupClassification",
        c.clone(),
        anna.classifications
            .lookup_classification(v1::LookupClassificationRequest {
                parent: client.name.clone(),
                scheme: v1::ClassificationScheme::Fase as i32,
                date: Some(date(2025, 1, 1)),
                as_of: None,
            })
    )
    .expect("LookupClassification");

    // Doelgroepen.
    let assignment = call!(
        "DoelgroepService/CreateDoelgroepAssignment",
        c.clone(),
        anna.doelgroepen
            .create_doelgroep_assignment(v1::CreateDoelgroepAssignmentRequest {
                parent: client.name.clone(),
                assignment: Some(v1::DoelgroepAssignment {
                    codes: vec!["JONGEREN".into()],
                    valid_from: Some(date(2024, 1, 1)),
                    ..Default::default()
                }),
                change: None,
            })
    )
    .expect("CreateDoelgroepAssignment")
    .into_inner();
    call!(
        "DoelgroepService/GetDoelgroepAssignment",
        c.clone(),
        anna.doelgroepen
            .get_doelgroep_assignment(v1::GetDoelgroepAssignmentRequest {
                name: assignment.name.clone(),
                as_of: None,
            })
    )
    .expect("GetDoelgroepAssignment");
    call!(
        "DoelgroepService/ListDoelgroepAssignments",
        c.clone(),
        anna.doelgroepen
            .list_doelgroep_assignments(v1::ListDoelgroepAssignmentsRequest {
                parent: client.name.clone(),
                ..Default::default()
            })
    )
    .expect("ListDoelgroepAssignments");
    call!(
        "DoelgroepService/UpdateDoelgroepAssignment",
        c.clone(),
        anna.doelgroepen
            .update_doelgroep_assignment(v1::UpdateDoelgroepAssignmentRequest {
                assignment: Some(v1::DoelgroepAssignment {
                    name: assignment.name.clone(),
                    codes: vec![],
                    ..Default::default()
                }),
                update_mask: mask(&["codes"]),
                version: 1,
                change: Some(reason("niet langer jongere")),
            })
    )
    .expect("UpdateDoelgroepAssignment");
    call!(
        "DoelgroepService/ListDoelgroepAssignmentVersions",
        c.clone(),
        anna.doelgroepen.list_doelgroep_assignment_versions(
            v1::ListDoelgroepAssignmentVersionsRequest {
                name: assignment.name.clone(),
                ..Default::default()
            }
        )
    )
    .expect("ListDoelgroepAssignmentVersions");
    call!(
        "DoelgroepService/LookupDoelgroepen",
        c.clone(),
        anna.doelgroepen
            .lookup_doelgroepen(v1::LookupDoelgroepenRequest {
                parent: client.name.clone(),
                date: Some(date(2025, 1, 1)),
                as_of: None,
            })
    )
    .expect("LookupDoelgroepen");

    // Trajectories.
    let trajectory = call!(
        "TrajectoryService/CreateTrajectory",
        c.clone(),
        anna.trajectories
            .create_trajectory(create_trajectory_req(sample_trajectory(
                &client.name,
                &contract.name,
                date(2025, 2, 1),
                vec![line("BEMIDDELING", 1)],
            )))
    )
    .expect("CreateTrajectory")
    .into_inner();
    call!(
        "TrajectoryService/GetTrajectory",
        c.clone(),
        anna.trajectories.get_trajectory(v1::GetTrajectoryRequest {
            name: trajectory.name.clone(),
            as_of: None,
        })
    )
    .expect("GetTrajectory");
    call!(
        "TrajectoryService/ListTrajectories",
        c.clone(),
        anna.trajectories
            .list_trajectories(v1::ListTrajectoriesRequest {
                parent: GEMEENTE.into(),
                ..Default::default()
            })
    )
    .expect("ListTrajectories");
    call!(
        "TrajectoryService/StartTrajectory",
        c.clone(),
        anna.trajectories
            .start_trajectory(start_req(&trajectory.name, date(2025, 2, 10), 1))
    )
    .expect("StartTrajectory");
    call!(
        "TrajectoryService/UpdateTrajectory",
        c.clone(),
        anna.trajectories
            .update_trajectory(v1::UpdateTrajectoryRequest {
                trajectory: Some(v1::Trajectory {
                    name: trajectory.name.clone(),
                    casemanager: "cm-bert".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["casemanager"]),
                version: 2,
                change: Some(reason("overdracht")),
            })
    )
    .expect("UpdateTrajectory");
    call!(
        "TrajectoryService/ListTrajectoryVersions",
        c.clone(),
        anna.trajectories
            .list_trajectory_versions(v1::ListTrajectoryVersionsRequest {
                name: trajectory.name.clone(),
                ..Default::default()
            })
    )
    .expect("ListTrajectoryVersions");

    // Kwartaalrapportages, by the provider and the casemanager.
    let mut provider_clients = app.provider();
    let submitted = call!(
        "ProgressReportService/SubmitProgressReports",
        c.clone(),
        provider_clients.progress_reports.submit_progress_reports(
            v1::SubmitProgressReportsRequest {
                parent: GEMEENTE.into(),
                reports: vec![sample_report(&trajectory.name, "2025-Q1", "q1")],
            }
        )
    )
    .expect("SubmitProgressReports")
    .into_inner();
    let report = submitted.results[0].report.clone();
    assert!(!report.is_empty(), "the report was accepted: {submitted:?}");
    call!(
        "ProgressReportService/ListAssignedTrajectories",
        c.clone(),
        provider_clients
            .progress_reports
            .list_assigned_trajectories(v1::ListAssignedTrajectoriesRequest {
                parent: GEMEENTE.into(),
                ..Default::default()
            })
    )
    .expect("ListAssignedTrajectories");
    call!(
        "ProgressReportService/GetProgressReport",
        c.clone(),
        provider_clients
            .progress_reports
            .get_progress_report(v1::GetProgressReportRequest {
                name: report.clone(),
                as_of: None,
            })
    )
    .expect("GetProgressReport");
    call!(
        "ProgressReportService/ListProgressReports",
        c.clone(),
        anna.progress_reports
            .list_progress_reports(v1::ListProgressReportsRequest {
                parent: trajectory.name.clone(),
                ..Default::default()
            })
    )
    .expect("ListProgressReports");
    call!(
        "ProgressReportService/ListProgressReportVersions",
        c.clone(),
        anna.progress_reports.list_progress_report_versions(
            v1::ListProgressReportVersionsRequest {
                name: report.clone(),
                ..Default::default()
            }
        )
    )
    .expect("ListProgressReportVersions");
    // The report carries no phase advice: refused, and still on record.
    let no_advice = call!(
        "ProgressReportService/RespondToPhaseAdvice",
        c.clone(),
        anna.progress_reports
            .respond_to_phase_advice(v1::RespondToPhaseAdviceRequest {
                name: report.clone(),
                accept: true,
                version: 1,
                ..Default::default()
            })
    );
    assert!(no_advice.is_err(), "there is no advice to answer");
    call!(
        "ProgressReportService/ListOverdueReports",
        None,
        anna.progress_reports
            .list_overdue_reports(v1::ListOverdueReportsRequest {
                parent: GEMEENTE.into(),
                ..Default::default()
            })
    )
    .expect("ListOverdueReports");

    // Version 3: created, started, casemanager changed.
    call!(
        "TrajectoryService/EndTrajectory",
        c.clone(),
        anna.trajectories.end_trajectory(end_req(
            &trajectory.name,
            date(2025, 6, 30),
            v1::EndReason::WorkRegular,
            Some(sample_job()),
            3,
        ))
    )
    .expect("EndTrajectory");

    // The scenario called every RPC that processes personal data, but the
    // auditor's own.
    let called: BTreeSet<String> = expected.iter().map(|e| rpc(e.method)).collect();
    let logged: BTreeSet<String> = PERSONAL_DATA
        .iter()
        .map(|(method, _)| method.to_string())
        .filter(|method| !method.contains("ProcessingLogService"))
        .collect();
    assert_eq!(called, logged, "the scenario misses some RPC");

    let log = records(&app, ListProcessingRecordsRequest::default(), 500).await;
    assert_eq!(
        log.len(),
        expected.len(),
        "one record per call, nothing for catalogue calls: {log:#?}"
    );
    for (record, call) in log.iter().zip(&expected) {
        assert_eq!(record.rpc, rpc(call.method), "records are in call order");
        assert_eq!(record.outcome, call.outcome, "{}", call.method);
        if let Some(client) = &call.client {
            assert_eq!(record.clients, vec![client.clone()], "{}", call.method);
        }
        let (actor, role, organisation) = if call.method.contains("SubmitProgressReports")
            || call.method.contains("ListAssignedTrajectories")
            || call.method.contains("GetProgressReport")
        {
            ("prov-frank", "provider", format!("kvk:{PROVIDER_KVK}"))
        } else {
            ("cm-anna", "casemanager", "gemeente:0363".to_string())
        };
        assert_eq!(
            (
                record.actor.as_str(),
                record.actor_role.as_str(),
                &record.organisation
            ),
            (actor, role, &organisation),
            "{}",
            call.method
        );
        assert_eq!(record.purpose, PURPOSE, "{}", call.method);
        let kind = clientvolg::audit::processing_of(&record.rpc).unwrap();
        let expected_kind = match kind {
            clientvolg::domain::processing::Processing::Read => ProcessingKind::Read,
            clientvolg::domain::processing::Processing::Write => ProcessingKind::Write,
        };
        assert_eq!(record.kind, expected_kind as i32, "{}", call.method);
        assert_eq!(record.trace_id.len(), 32);
        assert_eq!(record.span_id.len(), 16);
        let (start, end) = (
            micros(record.start_time.as_ref().unwrap()),
            micros(record.end_time.as_ref().unwrap()),
        );
        assert!(start <= end, "{}", call.method);
        assert!(record.name.starts_with("gemeenten/0363/processingRecords/"));
    }

    // The auditor's own look is on record too, for the next look.
    let again = records(&app, ListProcessingRecordsRequest::default(), 500).await;
    let own = &again[log.len()];
    assert_eq!(own.rpc, rpc("ProcessingLogService/ListProcessingRecords"));
    assert_eq!(own.actor, "aud-gerda");
    assert_eq!(own.organisation, "gemeente:0363");
    app.cleanup().await;
}

async fn reads_need_a_purpose(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(801))).await;
    let mut silent = app.clients_with_purpose(CM_ANNA, None);

    let refused = silent
        .clients
        .get_client(v1::GetClientRequest {
            name: client.name.clone(),
            as_of: None,
        })
        .await;
    let status = assert_code(refused, Code::InvalidArgument);
    let bad_request = status
        .get_details_bad_request()
        .expect("BadRequest details");
    assert_eq!(
        bad_request.field_violations[0].field,
        clientvolg::audit::PURPOSE_METADATA
    );

    // A write without a purpose is accepted and logged without one.
    silent
        .clients
        .create_client(v1::CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(sample_client(&bsn(802))),
            change: None,
        })
        .await
        .expect("a write needs no stated purpose");
    // Catalogue data is no personal data: no purpose needed, nothing logged.
    silent
        .providers
        .list_providers(v1::ListProvidersRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await
        .expect("ListProviders");

    for purpose in ["", "   ", &"x".repeat(301)] {
        let mut odd = app.clients_with_purpose(CM_ANNA, Some(purpose));
        let refused = odd
            .clients
            .get_client(v1::GetClientRequest {
                name: client.name.clone(),
                as_of: None,
            })
            .await;
        assert_invalid(refused, clientvolg::audit::PURPOSE_METADATA);
    }

    let log = records(&app, ListProcessingRecordsRequest::default(), 50).await;
    let rpcs: Vec<(&str, &str)> = log
        .iter()
        .map(|r| (r.rpc.as_str(), r.purpose.as_str()))
        .collect();
    assert_eq!(
        rpcs,
        vec![
            ("/clientvolg.v1.ClientService/CreateClient", PURPOSE),
            ("/clientvolg.v1.ClientService/CreateClient", ""),
        ],
        "refused reads read nothing and are not processing"
    );
    app.cleanup().await;
}

async fn auditor_filters_and_pages(app: TestApp) {
    let mut anna = app.anna();
    let a = anna.create_client(sample_client(&bsn(810))).await;
    let b = anna.create_client(sample_client(&bsn(811))).await;
    tick().await;
    let between = now_micros();
    tick().await;
    let mut bert = app.bert();
    for _ in 0..3 {
        bert.clients
            .get_client(v1::GetClientRequest {
                name: b.name.clone(),
                as_of: None,
            })
            .await
            .expect("GetClient");
    }
    anna.clients
        .get_client(v1::GetClientRequest {
            name: a.name.clone(),
            as_of: None,
        })
        .await
        .expect("GetClient");
    // Another gemeente's casemanager guessing a 0363 id: in 0599's log,
    // never in 0363's.
    let guess = app
        .carla()
        .clients
        .get_client(v1::GetClientRequest {
            name: a.name.clone(),
            as_of: None,
        })
        .await;
    assert_code(guess, Code::NotFound);

    let about_a = records(
        &app,
        ListProcessingRecordsRequest {
            client: a.name.clone(),
            ..Default::default()
        },
        50,
    )
    .await;
    assert_eq!(about_a.len(), 2, "created and read by anna: {about_a:#?}");
    assert!(about_a.iter().all(|r| r.clients == vec![a.name.clone()]));
    assert!(about_a.iter().all(|r| r.actor == "cm-anna"));

    let by_bert = records(
        &app,
        ListProcessingRecordsRequest {
            actor: "cm-bert".into(),
            ..Default::default()
        },
        2,
    )
    .await;
    assert_eq!(by_bert.len(), 3);
    assert!(
        by_bert
            .iter()
            .all(|r| r.clients == vec![b.name.clone()] && r.outcome == "OK")
    );

    let before = records(
        &app,
        ListProcessingRecordsRequest {
            end_time: Some(timestamp_from_micros(between)),
            ..Default::default()
        },
        50,
    )
    .await;
    assert_eq!(before.len(), 2, "the two creations");
    let after = records(
        &app,
        ListProcessingRecordsRequest {
            start_time: Some(timestamp_from_micros(between)),
            ..Default::default()
        },
        50,
    )
    .await;
    // The four reads, and the auditor's five earlier listings.
    let reads: Vec<&ProcessingRecord> = after
        .iter()
        .filter(|r| r.rpc.contains("ClientService"))
        .collect();
    assert_eq!(reads.len(), 4);
    assert!(
        after
            .iter()
            .all(|r| micros(r.start_time.as_ref().unwrap()) >= between)
    );

    // Pages of one: the same records, in the same order, each once.
    let all = records(&app, ListProcessingRecordsRequest::default(), 500).await;
    let paged = records(&app, ListProcessingRecordsRequest::default(), 1).await;
    assert_eq!(paged[..all.len()], all[..]);
    let names: BTreeSet<&str> = all.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), all.len());

    // An auditor stays in its gemeente.
    let other = app
        .auditor()
        .processing_log
        .list_processing_records(ListProcessingRecordsRequest {
            parent: GEMEENTE_0599.into(),
            ..Default::default()
        })
        .await;
    assert_code(other, Code::PermissionDenied);
    let bad_client = app
        .auditor()
        .processing_log
        .list_processing_records(ListProcessingRecordsRequest {
            parent: GEMEENTE.into(),
            client: "clients/not-a-uuid".into(),
            ..Default::default()
        })
        .await;
    assert_invalid(bad_client, "client");
    let bad_token = app
        .auditor()
        .processing_log
        .list_processing_records(ListProcessingRecordsRequest {
            parent: GEMEENTE.into(),
            page_token: "v1.1.2".into(),
            ..Default::default()
        })
        .await;
    assert_invalid(bad_token, "page_token");
    let bad_time = app
        .auditor()
        .processing_log
        .list_processing_records(ListProcessingRecordsRequest {
            parent: GEMEENTE.into(),
            start_time: Some(prost_types::Timestamp {
                seconds: 0,
                nanos: -1,
            }),
            ..Default::default()
        })
        .await;
    assert_invalid(bad_time, "start_time");
    app.cleanup().await;
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

async fn the_callers_trace_is_continued(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(820))).await;
    let mut request = tonic::Request::new(v1::GetClientRequest {
        name: client.name.clone(),
        as_of: None,
    });
    request.metadata_mut().insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap(),
    );
    anna.clients.get_client(request).await.expect("GetClient");
    let log = records(&app, ListProcessingRecordsRequest::default(), 50).await;
    let read = log
        .iter()
        .find(|r| r.rpc.ends_with("/GetClient"))
        .expect("the read is logged");
    assert_eq!(read.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(read.parent_span_id, "00f067aa0ba902b7");
    let created = &log[0];
    assert_eq!(created.parent_span_id, "", "no traceparent, a new trace");
    assert_ne!(created.trace_id, read.trace_id);
    app.cleanup().await;
}

async fn log_rows_cannot_be_changed(app: TestApp) {
    let mut anna = app.anna();
    anna.create_client(sample_client(&bsn(830))).await;
    let db = raw_connection(&app.admin_database_url).await;
    for table in ["processing_log", "processing_log_clients"] {
        let count = |db: &sea_orm::DatabaseConnection| {
            let db = db.clone();
            let sql = format!("SELECT COUNT(*) FROM {table}");
            async move {
                db.query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get_by_index::<i64>(0)
                .unwrap()
            }
        };
        assert_eq!(count(&db).await, 1, "{table} holds the creation");
        let update = db
            .execute_unprepared(&format!("UPDATE {table} SET started_at = 0"))
            .await;
        assert!(update.is_err(), "UPDATE on {table} was accepted");
        let delete = db.execute_unprepared(&format!("DELETE FROM {table}")).await;
        assert!(delete.is_err(), "DELETE on {table} was accepted");
        assert_eq!(count(&db).await, 1, "{table} is unchanged");
    }
    app.cleanup().await;
}

async fn a_read_that_cannot_be_logged_is_not_answered(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(840))).await;
    // Break the log from outside, as a full disk or a revoked grant would.
    let db = raw_connection(&app.admin_database_url).await;
    let statements: &[&str] = match app.backend {
        Backend::Sqlite => &[
            "CREATE TRIGGER processing_log_broken BEFORE INSERT ON processing_log \
             BEGIN SELECT RAISE(ABORT, 'log unavailable'); END",
        ],
        Backend::Postgres => &[
            "CREATE FUNCTION processing_log_broken() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'log unavailable'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER processing_log_broken BEFORE INSERT ON processing_log \
             FOR EACH ROW EXECUTE FUNCTION processing_log_broken()",
        ],
    };
    for sql in statements {
        db.execute_unprepared(sql).await.expect(sql);
    }

    let read = anna
        .clients
        .get_client(v1::GetClientRequest {
            name: client.name.clone(),
            as_of: None,
        })
        .await;
    let status = assert_code(read, Code::Unavailable);
    assert!(
        !status.message().contains(&client.given_name),
        "no personal data in the refusal"
    );
    // A write has committed before the log is written: it is answered, and
    // its history rows name who and when.
    let written = anna
        .clients
        .create_client(v1::CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(sample_client(&bsn(841))),
            change: None,
        })
        .await
        .expect("the write is answered");
    assert!(!written.into_inner().name.is_empty());
    app.cleanup().await;
}
