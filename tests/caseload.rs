//! ReportService.GetCaseloadReport: a casemanager's own caseload by fase and
//! the trajectories running, on SQLite and PostgreSQL.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    self as v1, CaseloadReport, Client, EndReason, Fase, GetCaseloadReportRequest, ReportTable,
    UpdateClientRequest, report_service_client::ReportServiceClient, report_value::Value as Cell,
};
use clientvolg::proto::google::r#type::Date;
use common::*;
use tonic::Code;

both_databases!(
    caseload_by_fase_and_running_trajectories,
    caseload_as_of_is_the_caseload_of_then,
    caseload_only_for_the_own_casemanager,
);

const FASE_ROWS: [&str; 6] = [
    "FASE_1",
    "FASE_2",
    "FASE_3",
    "FASE_4",
    "ONTHEFFING",
    "NIET_INGEDEELD",
];

fn reports(app: &TestApp, token: &str) -> ReportServiceClient<Authed> {
    ReportServiceClient::with_interceptor(app.channel.clone(), Bearer::new(token))
}

fn on(casemanager: &str, on_date: Date) -> GetCaseloadReportRequest {
    GetCaseloadReportRequest {
        parent: GEMEENTE.into(),
        casemanager: casemanager.into(),
        on_date: Some(on_date),
        as_of: None,
    }
}

async fn caseload(app: &TestApp, token: &str, request: GetCaseloadReportRequest) -> CaseloadReport {
    reports(app, token)
        .get_caseload_report(request)
        .await
        .expect("GetCaseloadReport")
        .into_inner()
}

#[track_caller]
fn count(tables: &[ReportTable], name: &str, row: &str, column: &str) -> i64 {
    let t = tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no table {name}"));
    let index = t
        .columns
        .iter()
        .position(|c| c == column)
        .unwrap_or_else(|| panic!("{name} has no column {column}: {:?}", t.columns));
    let r = t
        .rows
        .iter()
        .find(|r| r.label == row)
        .unwrap_or_else(|| panic!("{name} has no row {row}"));
    match r.values[index].value {
        Some(Cell::Count(n)) => n,
        other => panic!("{name} / {row} / {column}: expected a count, got {other:?}"),
    }
}

/// The `clients` column of `clients_per_fase` in row order.
fn per_fase(report: &CaseloadReport) -> Vec<(String, i64)> {
    let t = report
        .tables
        .iter()
        .find(|t| t.name == "clients_per_fase")
        .expect("table clients_per_fase");
    assert_eq!(t.columns, ["clients"]);
    t.rows
        .iter()
        .map(|r| {
            (
                r.label.clone(),
                count(&report.tables, "clients_per_fase", &r.label, "clients"),
            )
        })
        .collect()
}

fn fases(counts: [i64; 6]) -> Vec<(String, i64)> {
    FASE_ROWS
        .iter()
        .zip(counts)
        .map(|(l, n)| (l.to_string(), n))
        .collect()
}

async fn registered_client(c: &mut Clients, seed: u32, casemanager: &str) -> Client {
    let client = c
        .create_client(Client {
            casemanager: casemanager.into(),
            ..sample_client(&bsn(seed))
        })
        .await;
    c.registrations
        .create_registration(v1::CreateRegistrationRequest {
            parent: client.name.clone(),
            registration: Some(v1::Registration {
                kind: v1::RegistrationKind::Bijstand as i32,
                start_date: Some(date(2024, 1, 1)),
                end_date: None,
                ..Default::default()
            }),
            change: Some(reason("toekenning")),
        })
        .await
        .expect("CreateRegistration");
    client
}

/// A trajectory of `client` referred on `on`, outside any contract.
fn referral(client: &str, on: Date) -> v1::Trajectory {
    sample_trajectory(client, "", on, vec![priced_line("TRAINING", 1, 10_000)])
}

async fn caseload_by_fase_and_running_trajectories(app: TestApp) {
    let mut anna = app.anna();
    let c1 = registered_client(&mut anna, 1, "cm-anna").await;
    anna.classify_fase(&c1.name, Fase::Fase1, date(2024, 1, 1))
        .await;
    let c2 = registered_client(&mut anna, 2, "cm-anna").await;
    anna.classify_fase(&c2.name, Fase::Fase2, date(2024, 1, 1))
        .await;
    anna.classify_fase(&c2.name, Fase::Ontheffing, date(2025, 10, 1))
        .await;
    let c3 = registered_client(&mut anna, 3, "cm-anna").await;
    // Bert's client.
    let mut bert = app.bert();
    let c4 = registered_client(&mut bert, 4, "cm-bert").await;
    bert.classify_fase(&c4.name, Fase::Fase1, date(2024, 1, 1))
        .await;

    // c1: running from 2025-06-01.
    let t1 = anna
        .create_trajectory(referral(&c1.name, date(2025, 3, 1)))
        .await;
    anna.start_trajectory(&t1.name, date(2025, 6, 1), 1).await;
    // c2: running 2025-04-01 .. 2025-09-01.
    let t2 = anna
        .create_trajectory(referral(&c2.name, date(2025, 3, 1)))
        .await;
    anna.start_trajectory(&t2.name, date(2025, 4, 1), 1).await;
    anna.end_trajectory(&t2.name, date(2025, 9, 1), EndReason::NoShow, None, 2)
        .await;
    // c3: referred only.
    anna.create_trajectory(referral(&c3.name, date(2025, 11, 1)))
        .await;

    let r = caseload(&app, CM_ANNA, on("", date(2025, 12, 31))).await;
    assert_eq!(r.casemanager, "cm-anna");
    assert_eq!(r.on_date, Some(date(2025, 12, 31)));
    assert!(r.as_of.is_some());
    assert_eq!(per_fase(&r), fases([1, 0, 0, 0, 1, 1]));
    assert_eq!(count(&r.tables, "trajecten", "totaal", "lopend"), 1);
    let trajecten = r.tables.iter().find(|t| t.name == "trajecten").unwrap();
    assert_eq!(
        trajecten.columns,
        ["lopend", "rapportages_ontbrekend", "rapportages_te_laat"]
    );

    // Naming oneself explicitly is the same.
    let same = caseload(&app, CM_ANNA, on("cm-anna", date(2025, 12, 31))).await;
    assert_eq!(same.tables, r.tables);

    // 2025-05-01: c2 in FASE_2 and running, c1 not started yet.
    let r = caseload(&app, CM_ANNA, on("", date(2025, 5, 1))).await;
    assert_eq!(per_fase(&r), fases([1, 1, 0, 0, 0, 1]));
    assert_eq!(count(&r.tables, "trajecten", "totaal", "lopend"), 1);
    // 2025-09-01: t2 ended that day, t1 running.
    let r = caseload(&app, CM_ANNA, on("", date(2025, 9, 1))).await;
    assert_eq!(count(&r.tables, "trajecten", "totaal", "lopend"), 1);
    // 2025-07-01: both running.
    let r = caseload(&app, CM_ANNA, on("", date(2025, 7, 1))).await;
    assert_eq!(count(&r.tables, "trajecten", "totaal", "lopend"), 2);

    // Bert sees only his own client.
    let r = caseload(&app, CM_BERT, on("", date(2025, 12, 31))).await;
    assert_eq!(r.casemanager, "cm-bert");
    assert_eq!(per_fase(&r), fases([1, 0, 0, 0, 0, 0]));
    assert_eq!(count(&r.tables, "trajecten", "totaal", "lopend"), 0);
    app.cleanup().await;
}

/// (missing, late) progress reports of the caseload.
fn reports_overdue(report: &CaseloadReport) -> (i64, i64) {
    let cell = |column| count(&report.tables, "trajecten", "totaal", column);
    (cell("rapportages_ontbrekend"), cell("rapportages_te_laat"))
}

/// Later writes of every kind the caseload reads (a fase, a trajectory's
/// ending, a client handed to another casemanager, a new client, a progress
/// report received) leave the caseload as of an earlier instant as it was
/// then.
async fn caseload_as_of_is_the_caseload_of_then(app: TestApp) {
    let mut anna = app.anna();
    let c1 = registered_client(&mut anna, 11, "cm-anna").await;
    anna.classify_fase(&c1.name, Fase::Fase1, date(2024, 1, 1))
        .await;
    let c2 = registered_client(&mut anna, 12, "cm-anna").await;
    anna.classify_fase(&c2.name, Fase::Fase2, date(2024, 1, 1))
        .await;
    let t1 = anna
        .create_trajectory(referral(&c1.name, date(2025, 3, 1)))
        .await;
    anna.start_trajectory(&t1.name, date(2025, 6, 1), 1).await;
    // c2 referred under a contract (reports due 30 days after each
    // quarter): on 2025-12-31 the reports of 2025-Q1 to Q3 are missing.
    let mut fb = app.beheerder();
    let provider = fb
        .create_provider(sample_provider("WerkFit BV", PROVIDER_KVK))
        .await;
    let contract = fb.create_contract(sample_contract(&provider.name)).await;
    let t2 = anna
        .create_trajectory(sample_trajectory(
            &c2.name,
            &contract.name,
            date(2025, 3, 1),
            vec![line("BEMIDDELING", 1)],
        ))
        .await;
    let then = caseload(&app, CM_ANNA, on("", date(2025, 12, 31))).await;
    assert_eq!(per_fase(&then), fases([1, 1, 0, 0, 0, 0]));
    assert_eq!(count(&then.tables, "trajecten", "totaal", "lopend"), 1);
    assert_eq!(reports_overdue(&then), (3, 0));

    anna.classify_fase(&c2.name, Fase::Fase4, date(2025, 6, 1))
        .await;
    anna.end_trajectory(&t1.name, date(2025, 10, 1), EndReason::NoShow, None, 2)
        .await;
    app.bert()
        .clients
        .update_client(UpdateClientRequest {
            client: Some(Client {
                name: c1.name.clone(),
                casemanager: "cm-bert".into(),
                ..Default::default()
            }),
            update_mask: mask(&["casemanager"]),
            version: 1,
            change: Some(reason("overdracht caseload")),
        })
        .await
        .expect("UpdateClient");
    registered_client(&mut anna, 13, "cm-anna").await;
    // The 2025-Q1 report comes in, long after it was due.
    let resp = app
        .provider()
        .submit_reports(vec![sample_report(&t2.name, "2025-Q1", "t2-q1")])
        .await;
    assert_eq!(resp.accepted_count, 1, "{resp:?}");

    let now = caseload(&app, CM_ANNA, on("", date(2025, 12, 31))).await;
    assert_eq!(per_fase(&now), fases([0, 0, 0, 1, 0, 1]));
    assert_eq!(count(&now.tables, "trajecten", "totaal", "lopend"), 0);
    assert_eq!(reports_overdue(&now), (2, 1));
    let bert = caseload(&app, CM_BERT, on("", date(2025, 12, 31))).await;
    assert_eq!(per_fase(&bert), fases([1, 0, 0, 0, 0, 0]));

    let as_then = caseload(
        &app,
        CM_ANNA,
        GetCaseloadReportRequest {
            as_of: then.as_of,
            ..on("", date(2025, 12, 31))
        },
    )
    .await;
    assert_eq!(as_then.tables, then.tables);
    app.cleanup().await;
}

async fn caseload_only_for_the_own_casemanager(app: TestApp) {
    let result = reports(&app, CM_ANNA)
        .get_caseload_report(on("cm-bert", date(2025, 12, 31)))
        .await;
    assert_code(result, Code::PermissionDenied);
    for token in [DM_0363, FB_0363, PROVIDER_0363, AUDITOR_0363] {
        let result = reports(&app, token)
            .get_caseload_report(on("cm-anna", date(2025, 12, 31)))
            .await;
        assert_code(result, Code::PermissionDenied);
    }
    // Another gemeente's caseload is not for cm-anna either.
    let result = reports(&app, CM_ANNA)
        .get_caseload_report(GetCaseloadReportRequest {
            parent: GEMEENTE_0599.into(),
            ..on("", date(2025, 12, 31))
        })
        .await;
    assert!(result.is_err(), "0599 for cm-anna: {result:?}");
    // A future as_of is refused.
    let result = reports(&app, CM_ANNA)
        .get_caseload_report(GetCaseloadReportRequest {
            as_of: Some(future_timestamp()),
            ..on("", date(2025, 12, 31))
        })
        .await;
    assert_invalid(result, "as_of");
    app.cleanup().await;
}
