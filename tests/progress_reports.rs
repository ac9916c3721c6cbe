//! ProgressReportService: kwartaalrapportages submitted in bulk by a
//! reïntegratiebedrijf (the provider principal), per-item results,
//! idempotency keys, corrections, starts and ends applied to trajectories,
//! phase advice answered by casemanagers, the overdue listing, the provider's
//! view of its trajectories, who may do what, and append-only history.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    AssignedTrajectory, ClassificationScheme, Client, Contract, EndReason, Fase,
    ListOverdueReportsRequest, ListOverdueReportsResponse, ListTrajectoriesRequest,
    LookupClassificationRequest, OverdueReport, OverdueState, PhaseAdvice, ProgressReport,
    ProgressStatus, Provider, RegistrationKind, RespondToPhaseAdviceRequest, Source,
    SubmitProgressReportsRequest, SubmitProgressReportsResponse, Trajectory, TrajectoryKind,
    TrajectoryStatus, UpdateTrajectoryRequest, lookup_classification_response,
};
use clientvolg::proto::google::r#type::Date;
use common::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tonic::{Code, Status};

both_databases!(
    submitted_reports_read_back,
    idempotent_retry,
    mixed_batch_keeps_the_good_items,
    batch_limit,
    foreign_trajectories_are_not_found,
    second_report_is_a_correction,
    reported_start_and_end_are_applied,
    phase_advice_accepted,
    phase_advice_declined_and_refused,
    overdue_reports,
    assigned_trajectories,
    role_refusals,
    report_tables_reject_update_and_delete,
);

// ---------------------------------------------------------------------------
// Set-up helpers
// ---------------------------------------------------------------------------

/// The provider of the harness's provider token (KvK 12345678) and the
/// sample contract (2025, report due days 30) with it.
async fn own_contract(app: &TestApp) -> (Provider, Contract) {
    let mut fb = app.beheerder();
    let provider = fb
        .create_provider(sample_provider("WerkFit BV", PROVIDER_KVK))
        .await;
    let contract = fb.create_contract(sample_contract(&provider.name)).await;
    (provider, contract)
}

/// "Another provider" (KvK 87654321) and a 2025 contract with it.
async fn other_contract(app: &TestApp) -> (Provider, Contract) {
    let mut fb = app.beheerder();
    let provider = fb
        .create_provider(sample_provider("Anders Werk BV", OTHER_PROVIDER_KVK))
        .await;
    let contract = fb.create_contract(sample_contract(&provider.name)).await;
    (provider, contract)
}

/// A new bijstand client (seed `seed`) of cm-anna with a trajectory under
/// `contract` (empty: eigen beheer) referred on `referral`.
async fn referred(
    app: &TestApp,
    seed: u32,
    contract: &str,
    referral: Date,
) -> (Client, Trajectory) {
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(seed).await;
    let lines = if contract.is_empty() {
        vec![priced_line("INTAKE", 1, 0)]
    } else {
        vec![line("BEMIDDELING", 1)]
    };
    let t = anna
        .create_trajectory(sample_trajectory(&client.name, contract, referral, lines))
        .await;
    (client, t)
}

fn report_name(trajectory: &str, quarter: &str) -> String {
    format!("{trajectory}/progressReports/{quarter}")
}

fn with_advice(mut report: ProgressReport, fase: Fase, motivation: &str) -> ProgressReport {
    report.phase_advice = Some(PhaseAdvice {
        proposed_fase: fase as i32,
        motivation: motivation.into(),
    });
    report
}

fn code<T>(r: Result<T, Status>) -> Code {
    match r {
        Ok(_) => Code::Ok,
        Err(s) => s.code(),
    }
}

fn assert_counts(resp: &SubmitProgressReportsResponse, accepted: i32, rejected: i32) {
    assert_eq!(
        (resp.accepted_count, resp.rejected_count),
        (accepted, rejected),
        "accepted/rejected counts of {:#?}",
        resp.results
    );
    assert_eq!(resp.results.len() as i32, accepted + rejected);
    let really_accepted = resp
        .results
        .iter()
        .filter(|r| r.rejection.is_none())
        .count() as i32;
    assert_eq!(
        really_accepted, accepted,
        "accepted_count disagrees with the results"
    );
}

/// Results are in request order with their index and key.
fn assert_in_order(resp: &SubmitProgressReportsResponse, sent: &[ProgressReport]) {
    assert_eq!(resp.results.len(), sent.len(), "one result per item");
    for (i, (result, item)) in resp.results.iter().zip(sent).enumerate() {
        assert_eq!(
            result.index, i as i32,
            "result {i} has index {}",
            result.index
        );
        assert_eq!(
            result.idempotency_key, item.idempotency_key,
            "result {i} carries another key"
        );
    }
}

/// A calendar quarter, computed on the test side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Q {
    year: i32,
    n: i32,
}

impl Q {
    fn of(d: &Date) -> Q {
        Q {
            year: d.year,
            n: (d.month - 1) / 3 + 1,
        }
    }
    fn next(self) -> Q {
        if self.n == 4 {
            Q {
                year: self.year + 1,
                n: 1,
            }
        } else {
            Q {
                year: self.year,
                n: self.n + 1,
            }
        }
    }
    fn prev(self) -> Q {
        if self.n == 1 {
            Q {
                year: self.year - 1,
                n: 4,
            }
        } else {
            Q {
                year: self.year,
                n: self.n - 1,
            }
        }
    }
    fn first(self) -> Date {
        date(self.year, (self.n - 1) * 3 + 1, 1)
    }
    fn name(self) -> String {
        format!("{}-Q{}", self.year, self.n)
    }
}

// ---------------------------------------------------------------------------

async fn submitted_reports_read_back(app: TestApp) {
    let (_, contract) = own_contract(&app).await;
    let (_, t) = referred(&app, 100, &contract.name, date(2025, 2, 10)).await;
    let mut prov = app.provider();

    let full = ProgressReport {
        status: ProgressStatus::Delayed as i32,
        appointments_planned: 8,
        appointments_kept: 8,
        activities: vec!["sollicitatietraining".into(), "werkervaringsplaats".into()],
        instruments: vec!["COACHING".into(), "JOBCOACHING".into()],
        next_steps: "Gesprek met werkgever in juli.".into(),
        remarks: "Twee keer ziek gemeld.".into(),
        ..sample_report(&t.name, "2025-Q2", "wf-2025-Q2-1")
    };
    let resp = prov.submit_reports(vec![full.clone()]).await;
    assert_counts(&resp, 1, 0);
    assert_in_order(&resp, std::slice::from_ref(&full));
    let q2 = report_name(&t.name, "2025-Q2");
    assert_eq!(accepted(&resp.results[0]), (q2.clone(), 1));

    // The casemanager and the provider read what was sent.
    let got = app.anna().get_report(&q2).await;
    assert_eq!(got.name, q2);
    assert_eq!(got.trajectory, t.name);
    assert_eq!(got.quarter, "2025-Q2");
    assert_eq!(got.status, ProgressStatus::Delayed as i32);
    assert_eq!((got.appointments_planned, got.appointments_kept), (8, 8));
    assert_eq!(got.activities, full.activities);
    assert_eq!(got.instruments, full.instruments);
    assert_eq!(got.next_steps, full.next_steps);
    assert_eq!(got.remarks, full.remarks);
    assert_eq!(got.phase_advice, None);
    assert_eq!((got.start_date, got.end_date), (None, None));
    assert_eq!(got.end_reason, EndReason::Unspecified as i32);
    assert_eq!(got.job, None);
    assert_eq!(got.advice_response, None);
    assert!(got.receive_time.is_some(), "receive_time is set");
    let rev = got.revision.clone().expect("revision");
    assert_eq!(rev.version, 1);
    assert_eq!(rev.actor, "prov-frank");
    assert_eq!(rev.actor_role, "provider");
    assert_eq!(rev.source, Source::ProviderReport as i32);
    assert_eq!(prov.get_report(&q2).await, got);
    assert_eq!(app.bert().get_report(&q2).await, got);

    // Reports are listed by quarter, whatever the order they came in.
    let resp = prov
        .submit_reports(vec![
            sample_report(&t.name, "2025-Q3", "wf-2025-Q3-1"),
            sample_report(&t.name, "2025-Q1", "wf-2025-Q1-1"),
        ])
        .await;
    assert_counts(&resp, 2, 0);
    let quarters: Vec<String> = app
        .anna()
        .list_reports(&t.name)
        .await
        .into_iter()
        .map(|r| r.quarter)
        .collect();
    assert_eq!(quarters, ["2025-Q1", "2025-Q2", "2025-Q3"]);
    assert_eq!(prov.list_reports(&t.name).await.len(), 3);

    // Unknown and malformed names.
    let mut anna = app.anna();
    let result = anna
        .progress_reports
        .get_progress_report(
            clientvolg::proto::clientvolg::v1::GetProgressReportRequest {
                name: report_name(&t.name, "2025-Q4"),
                as_of: None,
            },
        )
        .await;
    assert_code(result, Code::NotFound);
    let unknown = format!("trajectories/{}", uuid::Uuid::new_v4());
    let result = anna
        .progress_reports
        .get_progress_report(
            clientvolg::proto::clientvolg::v1::GetProgressReportRequest {
                name: report_name(&unknown, "2025-Q2"),
                as_of: None,
            },
        )
        .await;
    assert_code(result, Code::NotFound);
    for bad in [
        String::new(),
        "nope".to_string(),
        report_name(&t.name, "2025-Q5"),
        format!("{}/reports/2025-Q2", t.name),
        "trajectories/not-a-uuid/progressReports/2025-Q2".to_string(),
    ] {
        let result = anna
            .progress_reports
            .get_progress_report(
                clientvolg::proto::clientvolg::v1::GetProgressReportRequest {
                    name: bad.clone(),
                    as_of: None,
                },
            )
            .await;
        assert!(result.is_err(), "name {bad:?} was accepted");
        assert_invalid(result, "name");
    }

    // Another gemeente's casemanager does not see it.
    let result = app
        .carla()
        .progress_reports
        .get_progress_report(
            clientvolg::proto::clientvolg::v1::GetProgressReportRequest {
                name: q2.clone(),
                as_of: None,
            },
        )
        .await;
    assert_code(result, Code::NotFound);
    app.cleanup().await;
}

async fn idempotent_retry(app: TestApp) {
    let (_, contract) = own_contract(&app).await;
    let (_, t) = referred(&app, 110, &contract.name, date(2025, 2, 10)).await;
    let (_, u) = referred(&app, 111, &contract.name, date(2025, 3, 1)).await;
    let mut prov = app.provider();
    let batch = vec![
        sample_report(&t.name, "2025-Q1", "k-t-q1"),
        ProgressReport {
            start_date: Some(date(2025, 4, 2)),
            ..sample_report(&t.name, "2025-Q2", "k-t-q2")
        },
        sample_report(&u.name, "2025-Q1", "k-u-q1"),
        // Invalid: rejected the first time and every time after.
        ProgressReport {
            appointments_kept: 9,
            ..sample_report(&u.name, "2025-Q2", "k-u-q2-bad")
        },
    ];
    let first = prov.submit_reports(batch.clone()).await;
    assert_counts(&first, 3, 1);
    assert_in_order(&first, &batch);
    assert_eq!(
        accepted(&first.results[0]),
        (report_name(&t.name, "2025-Q1"), 1)
    );
    assert_eq!(
        accepted(&first.results[1]),
        (report_name(&t.name, "2025-Q2"), 1)
    );
    assert_eq!(
        accepted(&first.results[2]),
        (report_name(&u.name, "2025-Q1"), 1)
    );
    assert_rejected(&first.results[3], "INVALID_ARGUMENT", "appointments_kept");
    let mut anna = app.anna();
    let t_q1 = anna.get_report(&report_name(&t.name, "2025-Q1")).await;
    let trajectory_versions = anna.trajectory_versions(&t.name).await.len();
    assert_eq!(trajectory_versions, 2, "the reported start is applied once");

    // The whole batch again (a retry after a lost answer): the same answer,
    // nothing recorded twice.
    tick().await;
    let again = prov.submit_reports(batch.clone()).await;
    assert_eq!(again, first, "a resent batch answers as the first time");
    for (name, versions) in [
        (report_name(&t.name, "2025-Q1"), 1),
        (report_name(&t.name, "2025-Q2"), 1),
        (report_name(&u.name, "2025-Q1"), 1),
    ] {
        assert_eq!(
            anna.report_versions(&name).await.len(),
            versions,
            "{name} recorded twice"
        );
    }
    assert_eq!(anna.get_report(&t_q1.name).await, t_q1);
    assert_eq!(anna.trajectory_versions(&t.name).await.len(), 2);
    assert_eq!(anna.list_reports(&u.name).await.len(), 1);

    // One item of it again, in another position of another batch: the same
    // result for it, only the new item is recorded.
    let mixed = vec![
        sample_report(&u.name, "2025-Q2", "k-u-q2"),
        sample_report(&t.name, "2025-Q1", "k-t-q1"),
    ];
    let resp = prov.submit_reports(mixed.clone()).await;
    assert_counts(&resp, 2, 0);
    assert_in_order(&resp, &mixed);
    assert_eq!(
        accepted(&resp.results[0]),
        (report_name(&u.name, "2025-Q2"), 1)
    );
    assert_eq!(
        accepted(&resp.results[1]),
        (report_name(&t.name, "2025-Q1"), 1)
    );
    assert_eq!(anna.report_versions(&t_q1.name).await.len(), 1);

    // The same key with other content is refused, and records nothing.
    let changed = ProgressReport {
        remarks: "toch anders".into(),
        ..sample_report(&t.name, "2025-Q1", "k-t-q1")
    };
    let resp = prov.submit_reports(vec![changed]).await;
    assert_counts(&resp, 0, 1);
    assert_rejected(&resp.results[0], "INVALID_ARGUMENT", "idempotency_key");
    // ...even for another quarter or trajectory.
    let resp = prov
        .submit_reports(vec![sample_report(&u.name, "2025-Q3", "k-t-q1")])
        .await;
    assert_rejected(&resp.results[0], "INVALID_ARGUMENT", "idempotency_key");
    assert_eq!(anna.report_versions(&t_q1.name).await.len(), 1);
    assert_eq!(anna.get_report(&t_q1.name).await, t_q1);
    assert_eq!(anna.list_reports(&u.name).await.len(), 2);

    // The same item twice in one batch is recorded once.
    let twice = vec![
        sample_report(&u.name, "2025-Q3", "k-u-q3"),
        sample_report(&u.name, "2025-Q3", "k-u-q3"),
    ];
    let resp = prov.submit_reports(twice).await;
    assert_counts(&resp, 2, 0);
    assert_eq!(accepted(&resp.results[0]), accepted(&resp.results[1]));
    assert_eq!(
        anna.report_versions(&report_name(&u.name, "2025-Q3"))
            .await
            .len(),
        1
    );

    // A fixed invalid item with a new key is accepted.
    let resp = prov
        .submit_reports(vec![sample_report(&u.name, "2025-Q2", "k-u-q2-fixed")])
        .await;
    assert_eq!(
        accepted(&resp.results[0]),
        (report_name(&u.name, "2025-Q2"), 2)
    );
    app.cleanup().await;
}

async fn mixed_batch_keeps_the_good_items(app: TestApp) {
    let (_, contract) = own_contract(&app).await;
    let (_, foreign_contract) = other_contract(&app).await;
    let mut anna = app.anna();
    // a: referred, not started.
    let (_, a) = referred(&app, 120, &contract.name, date(2025, 2, 10)).await;
    // b: started on 2025-03-01.
    let (_, b) = referred(&app, 121, &contract.name, date(2025, 2, 1)).await;
    anna.start_trajectory(&b.name, date(2025, 3, 1), 1).await;
    // d: referred at the end of the contract period.
    let (_, d) = referred(&app, 122, &contract.name, date(2025, 12, 1)).await;
    let (_, foreign) = referred(&app, 123, &foreign_contract.name, date(2025, 2, 1)).await;
    let (_, eigen) = referred(&app, 124, "", date(2025, 2, 1)).await;
    let unknown = format!("trajectories/{}", uuid::Uuid::new_v4());
    let future_quarter = Q::of(&today()).next().name();
    let ok = |quarter: &str, key: &str| sample_report(&a.name, quarter, key);

    // (item, expected: None = accepted, or (code, field or rule))
    let items: Vec<(ProgressReport, Option<(&str, &str)>)> = vec![
        (ok("2025-Q1", "good-1"), None),
        (
            ok("2025-Q1", ""),
            Some(("INVALID_ARGUMENT", "idempotency_key")),
        ),
        (
            ok("2025-Q1", &"k".repeat(101)),
            Some(("INVALID_ARGUMENT", "idempotency_key")),
        ),
        (
            ProgressReport {
                trajectory: "nope".into(),
                ..ok("2025-Q1", "bad-trajectory")
            },
            Some(("INVALID_ARGUMENT", "trajectory")),
        ),
        (
            ok("2025-Q5", "bad-quarter"),
            Some(("INVALID_ARGUMENT", "quarter")),
        ),
        (
            ok("2025Q1", "bad-quarter-2"),
            Some(("INVALID_ARGUMENT", "quarter")),
        ),
        (
            ProgressReport {
                status: ProgressStatus::Unspecified as i32,
                ..ok("2025-Q1", "no-status")
            },
            Some(("INVALID_ARGUMENT", "status")),
        ),
        (
            ProgressReport {
                appointments_planned: 3,
                appointments_kept: 4,
                ..ok("2025-Q1", "kept-more")
            },
            Some(("INVALID_ARGUMENT", "appointments_kept")),
        ),
        (
            ProgressReport {
                appointments_planned: -1,
                appointments_kept: 0,
                ..ok("2025-Q1", "negative")
            },
            Some(("INVALID_ARGUMENT", "appointments_planned")),
        ),
        (ok("2025-Q2", "good-2"), None),
        (
            ProgressReport {
                activities: (0..21).map(|i| format!("activiteit {i}")).collect(),
                ..ok("2025-Q1", "21-activities")
            },
            Some(("INVALID_ARGUMENT", "activities")),
        ),
        (
            ProgressReport {
                activities: vec!["kort".into(), "a".repeat(201)],
                ..ok("2025-Q1", "long-activity")
            },
            Some(("INVALID_ARGUMENT", "activities")),
        ),
        (
            with_advice(
                ok("2025-Q1", "advice-niet-ingedeeld"),
                Fase::NietIngedeeld,
                "waarom",
            ),
            Some(("INVALID_ARGUMENT", "phase_advice.proposed_fase")),
        ),
        (
            ProgressReport {
                end_date: Some(date(2025, 3, 20)),
                ..ok("2025-Q1", "end-without-reason")
            },
            Some(("INVALID_ARGUMENT", "end_reason")),
        ),
        (
            ProgressReport {
                end_date: Some(date(2025, 3, 20)),
                end_reason: EndReason::WorkRegular as i32,
                ..ok("2025-Q1", "work-without-job")
            },
            Some(("INVALID_ARGUMENT", "job")),
        ),
        (
            ProgressReport {
                remarks: "r".repeat(1001),
                ..ok("2025-Q1", "long-remarks")
            },
            Some(("INVALID_ARGUMENT", "remarks")),
        ),
        (
            sample_report(&unknown, "2025-Q1", "unknown"),
            Some(("NOT_FOUND", "trajectory")),
        ),
        (
            sample_report(&foreign.name, "2025-Q1", "foreign"),
            Some(("NOT_FOUND", "trajectory")),
        ),
        (
            sample_report(&eigen.name, "2025-Q1", "eigen-beheer"),
            Some(("NOT_FOUND", "trajectory")),
        ),
        (
            ok(&future_quarter, "future"),
            Some(("FAILED_PRECONDITION", "quarter_not_begun")),
        ),
        (
            ok("2024-Q4", "before-referral"),
            Some(("FAILED_PRECONDITION", "quarter_outside_trajectory")),
        ),
        (
            ProgressReport {
                start_date: Some(date(2025, 4, 1)),
                ..ok("2025-Q1", "start-outside-quarter")
            },
            Some(("FAILED_PRECONDITION", "date_in_quarter")),
        ),
        (
            ProgressReport {
                end_date: Some(date(2025, 7, 1)),
                end_reason: EndReason::Moved as i32,
                ..ok("2025-Q2", "end-outside-quarter")
            },
            Some(("FAILED_PRECONDITION", "date_in_quarter")),
        ),
        (
            ProgressReport {
                start_date: Some(date(2025, 2, 1)),
                ..ok("2025-Q1", "start-before-referral")
            },
            Some(("FAILED_PRECONDITION", "start_after_referral")),
        ),
        (
            ProgressReport {
                end_date: Some(date(2025, 2, 20)),
                end_reason: EndReason::NoShow as i32,
                ..sample_report(&b.name, "2025-Q1", "end-before-start")
            },
            Some(("FAILED_PRECONDITION", "end_after_start")),
        ),
        (
            ProgressReport {
                start_date: Some(date(2026, 1, 15)),
                ..sample_report(&d.name, "2026-Q1", "start-after-contract")
            },
            Some(("FAILED_PRECONDITION", "within_contract_period")),
        ),
        // A correction of good-1 within the same batch.
        (
            ProgressReport {
                remarks: "aanvulling".into(),
                ..ok("2025-Q1", "good-3")
            },
            None,
        ),
    ];
    let sent: Vec<ProgressReport> = items.iter().map(|(r, _)| r.clone()).collect();
    let resp = app.provider().submit_reports(sent.clone()).await;
    let good = items.iter().filter(|(_, e)| e.is_none()).count() as i32;
    assert_eq!(good, 3);
    assert_counts(&resp, good, items.len() as i32 - good);
    assert_in_order(&resp, &sent);
    for ((item, expected), result) in items.iter().zip(&resp.results) {
        match expected {
            None => {
                accepted(result);
            }
            Some((code, what)) => {
                assert!(
                    result.rejection.is_some(),
                    "item {} ({}) should be rejected",
                    result.index,
                    item.idempotency_key
                );
                assert_rejected(result, code, what);
            }
        }
    }
    assert_eq!(
        accepted(&resp.results[0]),
        (report_name(&a.name, "2025-Q1"), 1)
    );
    assert_eq!(
        accepted(&resp.results[9]),
        (report_name(&a.name, "2025-Q2"), 1)
    );
    assert_eq!(
        accepted(resp.results.last().unwrap()),
        (report_name(&a.name, "2025-Q1"), 2)
    );

    // Only the good items were recorded; no trajectory changed.
    let reports = anna.list_reports(&a.name).await;
    let got: Vec<(String, i64, String)> = reports
        .iter()
        .map(|r| {
            (
                r.quarter.clone(),
                version_of(&r.revision),
                r.remarks.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("2025-Q1".to_string(), 2, "aanvulling".to_string()),
            ("2025-Q2".to_string(), 1, String::new()),
        ]
    );
    for (t, versions) in [(&a, 1), (&b, 2), (&d, 1), (&foreign, 1), (&eigen, 1)] {
        assert_eq!(
            anna.trajectory_versions(&t.name).await.len(),
            versions,
            "{} changed",
            t.name
        );
        if t.name != a.name {
            assert!(anna.list_reports(&t.name).await.is_empty());
        }
    }

    // Rejected keys were not used up: fixed items go in with the same keys.
    let fixed = vec![
        ok("2025-Q3", "kept-more"),
        ProgressReport {
            start_date: Some(date(2025, 3, 3)),
            ..ok("2025-Q1", "start-outside-quarter")
        },
    ];
    let resp = app.provider().submit_reports(fixed).await;
    assert_counts(&resp, 2, 0);
    assert_eq!(
        anna.get_trajectory(&a.name).await.start_date,
        Some(date(2025, 3, 3))
    );
    app.cleanup().await;
}

async fn batch_limit(app: TestApp) {
    let (_, contract) = own_contract(&app).await;
    let (_, t) = referred(&app, 130, &contract.name, date(2025, 2, 10)).await;
    let mut prov = app.provider();

    // 10,001 items: the whole call is refused and nothing is recorded, not
    // even the valid first item.
    let mut reports: Vec<ProgressReport> = (0..10_001)
        .map(|i| sample_report(&t.name, "2025-Q1", &format!("big-{i}")))
        .collect();
    reports[0].quarter = "2025-Q2".into();
    let result = prov
        .progress_reports
        .submit_progress_reports(SubmitProgressReportsRequest {
            parent: GEMEENTE.into(),
            reports: reports.clone(),
        })
        .await;
    assert_invalid(result, "reports");
    assert!(app.anna().list_reports(&t.name).await.is_empty());

    // 10,000 items are taken; here all but the first are invalid (no key),
    // so the batch stays cheap.
    reports.truncate(10_000);
    for r in reports.iter_mut().skip(1) {
        r.idempotency_key.clear();
    }
    let resp = prov.submit_reports(reports).await;
    assert_counts(&resp, 1, 9_999);
    assert_eq!(
        accepted(&resp.results[0]),
        (report_name(&t.name, "2025-Q2"), 1)
    );
    assert_eq!(resp.results[9_999].index, 9_999);
    assert_rejected(&resp.results[9_999], "INVALID_ARGUMENT", "idempotency_key");

    // Another gemeente as parent is refused.
    let result = prov
        .progress_reports
        .submit_progress_reports(SubmitProgressReportsRequest {
            parent: GEMEENTE_0599.into(),
            reports: vec![sample_report(&t.name, "2025-Q3", "elders")],
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    assert_eq!(app.anna().list_reports(&t.name).await.len(), 1);
    app.cleanup().await;
}

async fn foreign_trajectories_are_not_found(app: TestApp) {
    let (_, own) = own_contract(&app).await;
    let (_, foreign) = other_contract(&app).await;
    let (_, mine) = referred(&app, 140, &own.name, date(2025, 2, 1)).await;
    let (_, theirs) = referred(&app, 141, &foreign.name, date(2025, 2, 1)).await;
    let (_, eigen) = referred(&app, 142, "", date(2025, 2, 1)).await;
    let mut frank = app.provider();
    let mut henk = app.other_provider();

    // Each provider reports on its own trajectory, with the same key: keys
    // are the provider's own.
    let resp = frank
        .submit_reports(vec![sample_report(&mine.name, "2025-Q1", "q1")])
        .await;
    accepted(&resp.results[0]);
    let resp = henk
        .submit_reports(vec![ProgressReport {
            remarks: "van Anders Werk".into(),
            ..sample_report(&theirs.name, "2025-Q1", "q1")
        }])
        .await;
    assert_eq!(
        accepted(&resp.results[0]),
        (report_name(&theirs.name, "2025-Q1"), 1)
    );

    // Neither reaches the other's trajectory, nor one in eigen beheer: as
    // unknown as a trajectory that does not exist.
    let resp = frank
        .submit_reports(vec![
            sample_report(&theirs.name, "2025-Q2", "f-theirs"),
            sample_report(&eigen.name, "2025-Q1", "f-eigen"),
        ])
        .await;
    assert_counts(&resp, 0, 2);
    assert_rejected(&resp.results[0], "NOT_FOUND", "trajectory");
    assert_rejected(&resp.results[1], "NOT_FOUND", "trajectory");
    let resp = henk
        .submit_reports(vec![sample_report(&mine.name, "2025-Q2", "h-mine")])
        .await;
    assert_rejected(&resp.results[0], "NOT_FOUND", "trajectory");

    // Reading another provider's reports: NOT_FOUND.
    for (who, c, trajectory) in [
        ("prov-frank", &mut frank, &theirs),
        ("prov-henk", &mut henk, &mine),
    ] {
        let name = report_name(&trajectory.name, "2025-Q1");
        let results = [
            code(
                c.progress_reports
                    .get_progress_report(
                        clientvolg::proto::clientvolg::v1::GetProgressReportRequest {
                            name: name.clone(),
                            as_of: None,
                        },
                    )
                    .await,
            ),
            code(
                c.progress_reports
                    .list_progress_reports(
                        clientvolg::proto::clientvolg::v1::ListProgressReportsRequest {
                            parent: trajectory.name.clone(),
                            ..Default::default()
                        },
                    )
                    .await,
            ),
            code(
                c.progress_reports
                    .list_progress_report_versions(
                        clientvolg::proto::clientvolg::v1::ListProgressReportVersionsRequest {
                            name: name.clone(),
                            ..Default::default()
                        },
                    )
                    .await,
            ),
        ];
        assert_eq!(results, [Code::NotFound; 3], "{who} on {name}");
    }
    let result = frank
        .progress_reports
        .list_progress_reports(
            clientvolg::proto::clientvolg::v1::ListProgressReportsRequest {
                parent: eigen.name.clone(),
                ..Default::default()
            },
        )
        .await;
    assert_code(result, Code::NotFound);

    // The casemanager sees both, untouched.
    let mut anna = app.anna();
    let mine_reports = anna.list_reports(&mine.name).await;
    assert_eq!(mine_reports.len(), 1);
    assert_eq!(mine_reports[0].remarks, "");
    assert_eq!(version_of(&mine_reports[0].revision), 1);
    let theirs_reports = anna.list_reports(&theirs.name).await;
    assert_eq!(theirs_reports.len(), 1);
    assert_eq!(theirs_reports[0].remarks, "van Anders Werk");
    assert_eq!(
        theirs_reports[0].revision.as_ref().unwrap().actor,
        "prov-henk"
    );
    assert!(anna.list_reports(&eigen.name).await.is_empty());

    // The same KvK in another gemeente reaches nothing here.
    let mut ina = app.clients(PROVIDER_0599);
    let result = ina
        .progress_reports
        .submit_progress_reports(SubmitProgressReportsRequest {
            parent: GEMEENTE_0599.into(),
            reports: vec![sample_report(&mine.name, "2025-Q2", "ina")],
        })
        .await
        .expect("SubmitProgressReports in 0599")
        .into_inner();
    assert_rejected(&result.results[0], "NOT_FOUND", "trajectory");
    let result = ina
        .progress_reports
        .get_progress_report(
            clientvolg::proto::clientvolg::v1::GetProgressReportRequest {
                name: report_name(&mine.name, "2025-Q1"),
                as_of: None,
            },
        )
        .await;
    assert_code(result, Code::NotFound);
    assert_eq!(anna.list_reports(&mine.name).await.len(), 1);
    app.cleanup().await;
}

async fn second_report_is_a_correction(app: TestApp) {
    let (_, contract) = own_contract(&app).await;
    let (_, t) = referred(&app, 150, &contract.name, date(2025, 2, 10)).await;
    let mut prov = app.provider();
    let name = report_name(&t.name, "2025-Q1");

    let v1 = ProgressReport {
        remarks: "eerste versie".into(),
        ..sample_report(&t.name, "2025-Q1", "a")
    };
    let resp = prov.submit_reports(vec![v1.clone()]).await;
    assert_eq!(accepted(&resp.results[0]), (name.clone(), 1));
    let first = prov.get_report(&name).await;
    tick().await;
    let v2 = ProgressReport {
        status: ProgressStatus::AtRisk as i32,
        appointments_planned: 10,
        appointments_kept: 2,
        remarks: "gecorrigeerd: veel afspraken gemist".into(),
        ..sample_report(&t.name, "2025-Q1", "b")
    };
    let resp = prov.submit_reports(vec![v2.clone()]).await;
    assert_eq!(accepted(&resp.results[0]), (name.clone(), 2));

    let mut anna = app.anna();
    let now = anna.get_report(&name).await;
    assert_eq!(version_of(&now.revision), 2);
    assert_eq!(now.status, ProgressStatus::AtRisk as i32);
    assert_eq!((now.appointments_planned, now.appointments_kept), (10, 2));
    assert_eq!(now.remarks, v2.remarks);
    assert_eq!(
        now.receive_time, first.receive_time,
        "receive_time is when the first version came in"
    );
    assert!(
        record_micros(&now.revision) > record_micros(&first.revision),
        "the correction is recorded later"
    );

    let versions = anna.report_versions(&name).await;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0], first);
    assert_eq!(versions[1], now);
    assert_eq!(
        versions
            .iter()
            .map(|v| v.remarks.as_str())
            .collect::<Vec<_>>(),
        [v1.remarks.as_str(), v2.remarks.as_str()]
    );
    // The provider sees the same history.
    assert_eq!(prov.report_versions(&name).await, versions);

    // As known before the correction: the first version.
    let as_of = between(record_micros(&first.revision), record_micros(&now.revision));
    let old = anna
        .progress_reports
        .get_progress_report(
            clientvolg::proto::clientvolg::v1::GetProgressReportRequest {
                name: name.clone(),
                as_of: Some(as_of),
            },
        )
        .await
        .expect("GetProgressReport as_of")
        .into_inner();
    assert_eq!(old, first);

    // Retrying either submission answers its own version and adds nothing.
    let resp = prov.submit_reports(vec![v1, v2]).await;
    assert_eq!(accepted(&resp.results[0]), (name.clone(), 1));
    assert_eq!(accepted(&resp.results[1]), (name.clone(), 2));
    assert_eq!(anna.report_versions(&name).await.len(), 2);

    // A third report with a new key is version 3; still one report listed.
    let resp = prov
        .submit_reports(vec![sample_report(&t.name, "2025-Q1", "c")])
        .await;
    assert_eq!(accepted(&resp.results[0]), (name.clone(), 3));
    let listed = anna.list_reports(&t.name).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(version_of(&listed[0].revision), 3);
    app.cleanup().await;
}

async fn reported_start_and_end_are_applied(app: TestApp) {
    let (_, contract) = own_contract(&app).await;
    let (_, t) = referred(&app, 160, &contract.name, date(2025, 2, 10)).await;
    let mut prov = app.provider();
    let mut anna = app.anna();
    let doorverwezen = anna.get_trajectory(&t.name).await;
    assert_eq!(doorverwezen.status, TrajectoryStatus::Doorverwezen as i32);

    // The start.
    let start_report = ProgressReport {
        start_date: Some(date(2025, 3, 3)),
        ..sample_report(&t.name, "2025-Q1", "start")
    };
    let resp = prov.submit_reports(vec![start_report]).await;
    accepted(&resp.results[0]);
    let started = anna.get_trajectory(&t.name).await;
    assert_eq!(started.start_date, Some(date(2025, 3, 3)));
    assert_eq!(started.status, TrajectoryStatus::Lopend as i32);
    assert_eq!(started.end_date, None);
    let rev = started.revision.clone().unwrap();
    assert_eq!(rev.version, 2);
    assert_eq!(rev.source, Source::ProviderReport as i32);
    assert_eq!(rev.actor, "prov-frank");
    assert_eq!(rev.actor_role, "provider");
    // The rest of the trajectory is as it was.
    assert_eq!(started.client, doorverwezen.client);
    assert_eq!(started.contract, doorverwezen.contract);
    assert_eq!(started.casemanager, doorverwezen.casemanager);
    assert_eq!(started.lines, doorverwezen.lines);
    assert_eq!(started.cost_cents, doorverwezen.cost_cents);
    let versions = anna.trajectory_versions(&t.name).await;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0], doorverwezen);
    assert_eq!(versions[1], started);
    let report = anna.get_report(&report_name(&t.name, "2025-Q1")).await;
    assert_eq!(report.start_date, Some(date(2025, 3, 3)));

    // The same start again (a corrected Q1 report): no new trajectory version.
    let resp = prov
        .submit_reports(vec![ProgressReport {
            start_date: Some(date(2025, 3, 3)),
            remarks: "aangevuld".into(),
            ..sample_report(&t.name, "2025-Q1", "start-again")
        }])
        .await;
    assert_eq!(
        accepted(&resp.results[0]),
        (report_name(&t.name, "2025-Q1"), 2)
    );
    assert_eq!(anna.trajectory_versions(&t.name).await.len(), 2);
    assert_eq!(anna.get_trajectory(&t.name).await, started);

    // The provider sees the trajectory running.
    let assigned = prov.assigned_trajectories(0).await;
    assert_eq!(assigned.len(), 1);
    assert_eq!(assigned[0].status, TrajectoryStatus::Lopend as i32);
    assert_eq!(assigned[0].start_date, Some(date(2025, 3, 3)));

    // A work ending needs the job; a non-work ending takes none.
    let resp = prov
        .submit_reports(vec![
            ProgressReport {
                end_date: Some(date(2025, 8, 29)),
                end_reason: EndReason::WorkRegular as i32,
                ..sample_report(&t.name, "2025-Q3", "end-no-job")
            },
            ProgressReport {
                end_date: Some(date(2025, 8, 29)),
                end_reason: EndReason::Moved as i32,
                job: Some(sample_job()),
                ..sample_report(&t.name, "2025-Q3", "moved-with-job")
            },
        ])
        .await;
    assert_counts(&resp, 0, 2);
    assert_rejected(&resp.results[0], "INVALID_ARGUMENT", "job");
    assert_eq!(
        resp.results[1].rejection.as_ref().unwrap().code,
        "INVALID_ARGUMENT"
    );
    assert_eq!(anna.trajectory_versions(&t.name).await.len(), 2);

    // The end, to work.
    let resp = prov
        .submit_reports(vec![ProgressReport {
            end_date: Some(date(2025, 8, 29)),
            end_reason: EndReason::WorkRegular as i32,
            job: Some(sample_job()),
            ..sample_report(&t.name, "2025-Q3", "end")
        }])
        .await;
    accepted(&resp.results[0]);
    let ended = anna.get_trajectory(&t.name).await;
    assert_eq!(ended.status, TrajectoryStatus::Beeindigd as i32);
    assert_eq!(ended.start_date, Some(date(2025, 3, 3)));
    assert_eq!(ended.end_date, Some(date(2025, 8, 29)));
    assert_eq!(ended.end_reason, EndReason::WorkRegular as i32);
    assert_eq!(ended.job, Some(sample_job()));
    let rev = ended.revision.clone().unwrap();
    assert_eq!(rev.version, 3);
    assert_eq!(rev.source, Source::ProviderReport as i32);
    assert_eq!(rev.actor, "prov-frank");
    let report = anna.get_report(&report_name(&t.name, "2025-Q3")).await;
    assert_eq!(report.end_date, Some(date(2025, 8, 29)));
    assert_eq!(report.end_reason, EndReason::WorkRegular as i32);
    assert_eq!(report.job, Some(sample_job()));

    // After the end there is nothing to report on.
    let resp = prov
        .submit_reports(vec![sample_report(&t.name, "2025-Q4", "after-end")])
        .await;
    assert_rejected(
        &resp.results[0],
        "FAILED_PRECONDITION",
        "quarter_outside_trajectory",
    );

    // The casemanager corrects the end date afterwards: a later version.
    let corrected = anna
        .trajectories
        .update_trajectory(UpdateTrajectoryRequest {
            trajectory: Some(Trajectory {
                name: t.name.clone(),
                end_date: Some(date(2025, 8, 31)),
                end_reason: EndReason::WorkRegular as i32,
                job: Some(sample_job()),
                ..Default::default()
            }),
            update_mask: mask(&["end_date"]),
            version: 3,
            change: Some(reason("einddatum volgens contract werkgever")),
        })
        .await
        .expect("UpdateTrajectory after a reported end")
        .into_inner();
    assert_eq!(corrected.end_date, Some(date(2025, 8, 31)));
    assert_eq!(corrected.end_reason, EndReason::WorkRegular as i32);
    let rev = corrected.revision.clone().unwrap();
    assert_eq!(rev.version, 4);
    assert_eq!(rev.actor, "cm-anna");
    assert_eq!(rev.source, Source::Casemanager as i32);
    let versions = anna.trajectory_versions(&t.name).await;
    assert_eq!(versions.len(), 4);
    let sources: Vec<i32> = versions
        .iter()
        .map(|v| v.revision.as_ref().unwrap().source)
        .collect();
    assert_eq!(
        sources,
        [
            Source::Casemanager as i32,
            Source::ProviderReport as i32,
            Source::ProviderReport as i32,
            Source::Casemanager as i32,
        ]
    );

    // An uitval before the start, reported by the provider.
    let (_, u) = referred(&app, 161, &contract.name, date(2025, 4, 1)).await;
    let resp = prov
        .submit_reports(vec![ProgressReport {
            end_date: Some(date(2025, 5, 15)),
            end_reason: EndReason::NoShow as i32,
            ..sample_report(&u.name, "2025-Q2", "uitval")
        }])
        .await;
    accepted(&resp.results[0]);
    let u_now = anna.get_trajectory(&u.name).await;
    assert_eq!(u_now.status, TrajectoryStatus::Beeindigd as i32);
    assert_eq!(u_now.start_date, None);
    assert_eq!(u_now.end_reason, EndReason::NoShow as i32);
    assert_eq!(u_now.job, None);
    app.cleanup().await;
}

async fn lookup_fase(
    c: &mut Clients,
    client: &str,
    on: Date,
) -> (
    i32,
    Option<clientvolg::proto::clientvolg::v1::Classification>,
) {
    let resp = c
        .classifications
        .lookup_classification(LookupClassificationRequest {
            parent: client.into(),
            scheme: ClassificationScheme::Fase as i32,
            date: Some(on),
            as_of: None,
        })
        .await
        .expect("LookupClassification")
        .into_inner();
    let fase = match resp.value {
        Some(lookup_classification_response::Value::Fase(f)) => f,
        other => panic!("LookupClassification answered {other:?}"),
    };
    (fase, resp.classification)
}

fn respond(
    name: &str,
    accept: bool,
    comment: &str,
    valid_from: Option<Date>,
    version: i64,
) -> RespondToPhaseAdviceRequest {
    RespondToPhaseAdviceRequest {
        name: name.into(),
        accept,
        comment: comment.into(),
        valid_from,
        version,
    }
}

async fn phase_advice_accepted(app: TestApp) {
    let (_, contract) = own_contract(&app).await;
    let (client, t) = referred(&app, 170, &contract.name, date(2025, 2, 10)).await;
    let mut anna = app.anna();
    anna.classify_fase(&client.name, Fase::Fase3, date(2025, 1, 1))
        .await;
    let mut prov = app.provider();
    let resp = prov
        .submit_reports(vec![
            with_advice(
                sample_report(&t.name, "2025-Q2", "q2-advice"),
                Fase::Fase2,
                "Werkt zelfstandig, klaar voor bemiddeling.",
            ),
            with_advice(
                sample_report(&t.name, "2025-Q3", "q3-advice"),
                Fase::Fase1,
                "Direct bemiddelbaar.",
            ),
        ])
        .await;
    assert_counts(&resp, 2, 0);
    let q2 = report_name(&t.name, "2025-Q2");
    let q3 = report_name(&t.name, "2025-Q3");
    let report = anna.get_report(&q2).await;
    assert_eq!(
        report.phase_advice,
        Some(PhaseAdvice {
            proposed_fase: Fase::Fase2 as i32,
            motivation: "Werkt zelfstandig, klaar voor bemiddeling.".into(),
        })
    );
    assert_eq!(report.advice_response, None);

    // Accepted without a date: the fase holds from the next quarter.
    let answered = anna
        .progress_reports
        .respond_to_phase_advice(respond(&q2, true, "Eens.", None, 1))
        .await
        .expect("RespondToPhaseAdvice accept")
        .into_inner();
    assert_eq!(version_of(&answered.revision), 2);
    assert_eq!(answered.revision.as_ref().unwrap().actor, "cm-anna");
    assert_eq!(answered.phase_advice, report.phase_advice);
    assert_eq!(answered.remarks, report.remarks);
    assert_eq!(answered.receive_time, report.receive_time);
    let response = answered.advice_response.clone().expect("advice_response");
    assert!(response.accepted);
    assert_eq!(response.comment, "Eens.");
    assert_eq!(response.responder, "cm-anna");
    assert!(
        response
            .classification
            .starts_with(&format!("{}/classifications/", client.name)),
        "classification {:?} is not one of {}",
        response.classification,
        client.name
    );
    assert_eq!(anna.get_report(&q2).await, answered);
    let versions = anna.report_versions(&q2).await;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0], report);
    assert_eq!(versions[1], answered);
    assert_eq!(
        prov.get_report(&q2).await,
        answered,
        "the provider sees the answer"
    );

    let (fase, _) = lookup_fase(&mut anna, &client.name, date(2025, 6, 30)).await;
    assert_eq!(
        fase,
        Fase::Fase3 as i32,
        "before the next quarter: the old fase"
    );
    for on in [date(2025, 7, 1), date(2025, 12, 31)] {
        let (fase, classification) = lookup_fase(&mut anna, &client.name, on).await;
        assert_eq!(fase, Fase::Fase2 as i32, "on {on:?}");
        let classification = classification.expect("the classification");
        assert_eq!(classification.name, response.classification);
        assert_eq!(classification.valid_from, Some(date(2025, 7, 1)));
        let rev = classification.revision.expect("revision");
        assert_eq!(rev.source, Source::ProviderAdvice as i32);
        assert_eq!(rev.actor, "cm-anna");
    }

    // Answering again on the old version: ABORTED, nothing recorded.
    let result = anna
        .progress_reports
        .respond_to_phase_advice(respond(&q2, false, "Toch niet.", None, 1))
        .await;
    assert_code(result, Code::Aborted);
    assert_eq!(anna.report_versions(&q2).await.len(), 2);

    // Accepted with a date of the casemanager's choosing.
    let answered = anna
        .progress_reports
        .respond_to_phase_advice(respond(&q3, true, "", Some(date(2025, 8, 15)), 1))
        .await
        .expect("RespondToPhaseAdvice accept with valid_from")
        .into_inner();
    let response = answered.advice_response.expect("advice_response");
    assert!(response.accepted);
    let (fase, _) = lookup_fase(&mut anna, &client.name, date(2025, 8, 14)).await;
    assert_eq!(fase, Fase::Fase2 as i32);
    let (fase, classification) = lookup_fase(&mut anna, &client.name, date(2025, 8, 15)).await;
    assert_eq!(fase, Fase::Fase1 as i32);
    assert_eq!(classification.unwrap().name, response.classification);
    app.cleanup().await;
}

async fn phase_advice_declined_and_refused(app: TestApp) {
    let (_, contract) = own_contract(&app).await;
    let (client, t) = referred(&app, 180, &contract.name, date(2025, 2, 10)).await;
    let mut anna = app.anna();
    anna.classify_fase(&client.name, Fase::Fase3, date(2025, 1, 1))
        .await;
    let mut prov = app.provider();
    let resp = prov
        .submit_reports(vec![
            with_advice(
                sample_report(&t.name, "2025-Q1", "q1-advice"),
                Fase::Fase4,
                "Zorg nodig.",
            ),
            sample_report(&t.name, "2025-Q2", "q2-no-advice"),
        ])
        .await;
    assert_counts(&resp, 2, 0);
    let q1 = report_name(&t.name, "2025-Q1");
    let q2 = report_name(&t.name, "2025-Q2");

    // Declining needs a comment.
    let result = anna
        .progress_reports
        .respond_to_phase_advice(respond(&q1, false, "", None, 1))
        .await;
    assert_invalid(result, "comment");
    assert_eq!(anna.report_versions(&q1).await.len(), 1);

    let declined = anna
        .progress_reports
        .respond_to_phase_advice(respond(
            &q1,
            false,
            "Klant volgt scholing, fase 3 blijft.",
            None,
            1,
        ))
        .await
        .expect("RespondToPhaseAdvice decline")
        .into_inner();
    assert_eq!(version_of(&declined.revision), 2);
    let response = declined.advice_response.expect("advice_response");
    assert!(!response.accepted);
    assert_eq!(response.comment, "Klant volgt scholing, fase 3 blijft.");
    assert_eq!(
        response.classification, "",
        "a declined advice classifies nothing"
    );
    assert_eq!(response.responder, "cm-anna");
    for on in [date(2025, 4, 1), date(2026, 1, 1)] {
        let (fase, classification) = lookup_fase(&mut anna, &client.name, on).await;
        assert_eq!(fase, Fase::Fase3 as i32);
        assert_eq!(
            classification.unwrap().revision.unwrap().source,
            Source::Casemanager as i32
        );
    }

    // A report without advice cannot be answered.
    let result = anna
        .progress_reports
        .respond_to_phase_advice(respond(&q2, true, "", None, 1))
        .await;
    assert_precondition(result, "advice_given");
    assert_eq!(anna.report_versions(&q2).await.len(), 1);

    // A report that does not exist.
    let result = anna
        .progress_reports
        .respond_to_phase_advice(respond(&report_name(&t.name, "2025-Q3"), true, "", None, 1))
        .await;
    assert_code(result, Code::NotFound);
    // Stale.
    let result = anna
        .progress_reports
        .respond_to_phase_advice(respond(&q1, true, "", None, 1))
        .await;
    assert_code(result, Code::Aborted);
    assert_eq!(anna.report_versions(&q1).await.len(), 2);
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// Overdue reports
// ---------------------------------------------------------------------------

async fn overdue(c: &mut Clients, filter: ListOverdueReportsRequest) -> ListOverdueReportsResponse {
    c.progress_reports
        .list_overdue_reports(ListOverdueReportsRequest {
            parent: GEMEENTE.into(),
            ..filter
        })
        .await
        .expect("ListOverdueReports")
        .into_inner()
}

/// (trajectory, quarter, state) of each entry.
fn entries(resp: &ListOverdueReportsResponse) -> Vec<(String, String, i32)> {
    resp.reports
        .iter()
        .map(|r| (r.trajectory.clone(), r.quarter.clone(), r.state))
        .collect()
}

fn sorted(mut v: Vec<(String, String, i32)>) -> Vec<(String, String, i32)> {
    v.sort();
    v
}

async fn overdue_reports(app: TestApp) {
    let (p1, k1) = own_contract(&app).await;
    let (p2, k2) = other_contract(&app).await;
    let mut anna = app.anna();
    let mut fb = app.beheerder();
    const MISSING: i32 = OverdueState::Missing as i32;
    const LATE: i32 = OverdueState::Late as i32;

    // t1 (k1, cm-anna) ran 2025-02-01 .. 2025-08-15: Q1, Q2, Q3 of 2025.
    let (_, t1) = referred(&app, 190, &k1.name, date(2025, 2, 1)).await;
    anna.start_trajectory(&t1.name, date(2025, 2, 15), 1).await;
    anna.end_trajectory(
        &t1.name,
        date(2025, 8, 15),
        EndReason::CompletedWithoutWork,
        None,
        2,
    )
    .await;
    // t2 (k1, cm-bert) runs from 2025-10-01.
    let (_, t2) = referred(&app, 191, &k1.name, date(2025, 10, 1)).await;
    app.bert()
        .trajectories
        .update_trajectory(UpdateTrajectoryRequest {
            trajectory: Some(Trajectory {
                name: t2.name.clone(),
                casemanager: "cm-bert".into(),
                ..Default::default()
            }),
            update_mask: mask(&["casemanager"]),
            version: 1,
            change: Some(reason("overdracht")),
        })
        .await
        .expect("hand t2 over to cm-bert");
    // t3 (k2, the other provider) ran 2025-05-01 .. 2025-06-30: Q2 of 2025.
    let (_, t3) = referred(&app, 192, &k2.name, date(2025, 5, 1)).await;
    anna.end_trajectory(&t3.name, date(2025, 6, 30), EndReason::Moved, None, 1)
        .await;
    // Eigen beheer: no reports expected.
    let (_, eigen) = referred(&app, 193, "", date(2025, 2, 1)).await;
    // t5 under a contract with a year to report, referred last quarter; its
    // report for last quarter comes in on time.
    let last_quarter = Q::of(&today()).prev();
    let mut generous = sample_contract(&p1.name);
    generous.display_name = "Ruime termijn".into();
    generous.start_date = Some(last_quarter.first());
    generous.end_date = Some(date(last_quarter.year + 2, 12, 31));
    generous.products.iter_mut().for_each(|p| {
        p.prices = vec![price(last_quarter.first(), 10_000)];
    });
    generous.report_due_days = 365;
    let k3 = fb.create_contract(generous).await;
    let (_, t5) = referred(&app, 194, &k3.name, last_quarter.first()).await;

    let mut prov = app.provider();
    let resp = prov
        .submit_reports(vec![
            sample_report(&t1.name, "2025-Q1", "t1-q1"),
            sample_report(&t5.name, &last_quarter.name(), "t5-last"),
        ])
        .await;
    assert_counts(&resp, 2, 0);
    let t1_q1 = anna.get_report(&report_name(&t1.name, "2025-Q1")).await;

    // On 2026-02-15.
    let on = date(2026, 2, 15);
    let all = overdue(
        &mut anna,
        ListOverdueReportsRequest {
            on_date: Some(on),
            ..Default::default()
        },
    )
    .await;
    let expected = sorted(vec![
        (t1.name.clone(), "2025-Q1".into(), LATE),
        (t1.name.clone(), "2025-Q2".into(), MISSING),
        (t1.name.clone(), "2025-Q3".into(), MISSING),
        (t2.name.clone(), "2025-Q4".into(), MISSING),
        (t3.name.clone(), "2025-Q2".into(), MISSING),
    ]);
    assert_eq!(sorted(entries(&all)), expected);
    assert_eq!(entries(&all), expected, "listed by trajectory and quarter");
    assert_eq!((all.missing_count, all.late_count), (4, 1));
    assert_eq!(all.next_page_token, "");
    let find = |t: &str, q: &str| -> OverdueReport {
        all.reports
            .iter()
            .find(|r| r.trajectory == t && r.quarter == q)
            .cloned()
            .unwrap()
    };
    let late = find(&t1.name, "2025-Q1");
    assert_eq!(late.due_date, Some(date(2025, 4, 30)));
    assert_eq!(late.receive_time, t1_q1.receive_time);
    assert_eq!(late.provider, p1.name);
    assert_eq!(late.contract, k1.name);
    assert_eq!(late.casemanager, "cm-anna");
    let missing = find(&t1.name, "2025-Q3");
    assert_eq!(missing.due_date, Some(date(2025, 10, 30)));
    assert_eq!(missing.receive_time, None);
    let missing = find(&t2.name, "2025-Q4");
    assert_eq!(missing.due_date, Some(date(2026, 1, 30)));
    assert_eq!(missing.casemanager, "cm-bert");
    assert_eq!(missing.provider, p1.name);
    let missing = find(&t3.name, "2025-Q2");
    assert_eq!(missing.due_date, Some(date(2025, 7, 30)));
    assert_eq!(missing.provider, p2.name);
    assert_eq!(missing.contract, k2.name);
    for r in &all.reports {
        assert!(r.trajectory != eigen.name && r.trajectory != t5.name);
    }

    // A data manager sees the same.
    assert_eq!(
        overdue(
            &mut app.clients(DM_0363),
            ListOverdueReportsRequest {
                on_date: Some(on),
                ..Default::default()
            }
        )
        .await,
        all
    );

    // Pages of two: the totals on every page, the entries all once.
    let mut paged = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = overdue(
            &mut anna,
            ListOverdueReportsRequest {
                on_date: Some(on),
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            },
        )
        .await;
        pages += 1;
        assert!(page.reports.len() <= 2);
        assert_eq!(
            (page.missing_count, page.late_count),
            (4, 1),
            "page {pages}"
        );
        paged.extend(page.reports);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(paged, all.reports);

    // Filters.
    for (what, filter, expected, counts) in [
        (
            "provider p2",
            ListOverdueReportsRequest {
                provider: p2.name.clone(),
                ..Default::default()
            },
            vec![(t3.name.clone(), "2025-Q2".to_string(), MISSING)],
            (1, 0),
        ),
        (
            "contract k1",
            ListOverdueReportsRequest {
                contract: k1.name.clone(),
                ..Default::default()
            },
            vec![
                (t1.name.clone(), "2025-Q1".to_string(), LATE),
                (t1.name.clone(), "2025-Q2".to_string(), MISSING),
                (t1.name.clone(), "2025-Q3".to_string(), MISSING),
                (t2.name.clone(), "2025-Q4".to_string(), MISSING),
            ],
            (3, 1),
        ),
        (
            "contract k3",
            ListOverdueReportsRequest {
                contract: k3.name.clone(),
                ..Default::default()
            },
            vec![],
            (0, 0),
        ),
        (
            "casemanager cm-bert",
            ListOverdueReportsRequest {
                casemanager: "cm-bert".into(),
                ..Default::default()
            },
            vec![(t2.name.clone(), "2025-Q4".to_string(), MISSING)],
            (1, 0),
        ),
        (
            "provider p1 and casemanager cm-anna",
            ListOverdueReportsRequest {
                provider: p1.name.clone(),
                casemanager: "cm-anna".into(),
                ..Default::default()
            },
            vec![
                (t1.name.clone(), "2025-Q1".to_string(), LATE),
                (t1.name.clone(), "2025-Q2".to_string(), MISSING),
                (t1.name.clone(), "2025-Q3".to_string(), MISSING),
            ],
            (2, 1),
        ),
    ] {
        let resp = overdue(
            &mut anna,
            ListOverdueReportsRequest {
                on_date: Some(on),
                ..filter
            },
        )
        .await;
        assert_eq!(sorted(entries(&resp)), sorted(expected), "{what}");
        assert_eq!((resp.missing_count, resp.late_count), counts, "{what}");
    }

    // Earlier, on 2025-07-15: nothing was missing yet (Q2's reports are due
    // 2025-07-30); the Q1 report still came late.
    let early = overdue(
        &mut anna,
        ListOverdueReportsRequest {
            on_date: Some(date(2025, 7, 15)),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        entries(&early),
        [(t1.name.clone(), "2025-Q1".to_string(), LATE)]
    );
    assert_eq!((early.missing_count, early.late_count), (0, 1));

    // A first page, read before the next reports come in.
    let first_page = overdue(
        &mut anna,
        ListOverdueReportsRequest {
            on_date: Some(on),
            page_size: 2,
            ..Default::default()
        },
    )
    .await;

    // A missing report that comes in late turns LATE; a correction of the
    // late one does not move its receive time.
    let resp = prov
        .submit_reports(vec![
            sample_report(&t1.name, "2025-Q2", "t1-q2"),
            sample_report(&t1.name, "2025-Q1", "t1-q1-correction"),
        ])
        .await;
    assert_counts(&resp, 2, 0);
    let later = overdue(
        &mut anna,
        ListOverdueReportsRequest {
            on_date: Some(on),
            ..Default::default()
        },
    )
    .await;
    assert_eq!((later.missing_count, later.late_count), (3, 2));
    let q1 = later
        .reports
        .iter()
        .find(|r| r.trajectory == t1.name && r.quarter == "2025-Q1")
        .unwrap();
    assert_eq!(q1.receive_time, t1_q1.receive_time);
    let q2 = later
        .reports
        .iter()
        .find(|r| r.trajectory == t1.name && r.quarter == "2025-Q2")
        .unwrap();
    assert_eq!(q2.state, LATE);
    assert!(q2.receive_time.is_some());

    // The pages after the first keep its time: the list as it was, with
    // neither the report received in between nor a skipped entry.
    let mut paged = first_page.reports.clone();
    let mut token = first_page.next_page_token.clone();
    while !token.is_empty() {
        let page = overdue(
            &mut anna,
            ListOverdueReportsRequest {
                on_date: Some(on),
                page_size: 2,
                page_token: token,
                ..Default::default()
            },
        )
        .await;
        assert_eq!((page.missing_count, page.late_count), (4, 1));
        paged.extend(page.reports);
        token = page.next_page_token;
    }
    assert_eq!(paged, all.reports);

    // t2 handed back to cm-anna; as of a moment before the reports came in,
    // the list, and cm-bert's, are as they were then.
    anna.trajectories
        .update_trajectory(UpdateTrajectoryRequest {
            trajectory: Some(Trajectory {
                name: t2.name.clone(),
                casemanager: "cm-anna".into(),
                ..Default::default()
            }),
            update_mask: mask(&["casemanager"]),
            version: 2,
            change: Some(reason("terug naar cm-anna")),
        })
        .await
        .expect("hand t2 back");
    let before = between(
        micros(t1_q1.receive_time.as_ref().unwrap()),
        micros(q2.receive_time.as_ref().unwrap()),
    );
    let then = overdue(
        &mut anna,
        ListOverdueReportsRequest {
            on_date: Some(on),
            as_of: Some(before),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(then, all);
    let bert_then = overdue(
        &mut anna,
        ListOverdueReportsRequest {
            on_date: Some(on),
            casemanager: "cm-bert".into(),
            as_of: Some(before),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        entries(&bert_then),
        [(t2.name.clone(), "2025-Q4".to_string(), MISSING)]
    );
    let bert_now = overdue(
        &mut anna,
        ListOverdueReportsRequest {
            on_date: Some(on),
            casemanager: "cm-bert".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(entries(&bert_now), []);
    let result = anna
        .progress_reports
        .list_overdue_reports(ListOverdueReportsRequest {
            parent: GEMEENTE.into(),
            as_of: Some(future_timestamp()),
            ..Default::default()
        })
        .await;
    assert_invalid(result, "as_of");

    // Today (the default): t5's on-time report and its running quarter are
    // not overdue; everything listed was due before today.
    let now = overdue(&mut anna, ListOverdueReportsRequest::default()).await;
    let today = today();
    let today_key = (today.year, today.month, today.day);
    for r in &now.reports {
        assert_ne!(r.trajectory, t5.name, "t5 is not overdue: {r:?}");
        assert_ne!(r.trajectory, eigen.name);
        let due = r.due_date.as_ref().unwrap();
        if r.state == MISSING {
            assert!(
                (due.year, due.month, due.day) < today_key,
                "{r:?} is not due yet"
            );
        }
    }
    assert!(
        now.reports
            .iter()
            .any(|r| r.trajectory == t2.name && r.quarter == "2025-Q4" && r.state == MISSING)
    );
    assert_eq!(
        now.missing_count as usize,
        now.reports.iter().filter(|r| r.state == MISSING).count()
    );

    // Refusals: another gemeente's parent, a malformed filter.
    let result = anna
        .progress_reports
        .list_overdue_reports(ListOverdueReportsRequest {
            parent: GEMEENTE_0599.into(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    let result = anna
        .progress_reports
        .list_overdue_reports(ListOverdueReportsRequest {
            parent: GEMEENTE.into(),
            provider: "nope".into(),
            ..Default::default()
        })
        .await;
    assert_invalid(result, "provider");
    app.cleanup().await;
}

// ---------------------------------------------------------------------------

async fn assigned_trajectories(app: TestApp) {
    let (_, own) = own_contract(&app).await;
    let (_, foreign) = other_contract(&app).await;
    let mut anna = app.anna();
    let named = |seed: u32, given: &str, prefix: &str, surname: &str| Client {
        given_name: given.into(),
        surname_prefix: prefix.into(),
        surname: surname.into(),
        ..sample_client(&bsn(seed))
    };
    let anna_jansen = anna.create_client(named(200, "Anna", "", "Jansen")).await;
    let johanna = anna
        .create_client(named(201, "Johanna", "van der", "Berg"))
        .await;
    for c in [&anna_jansen, &johanna] {
        anna.registrations
            .create_registration(
                clientvolg::proto::clientvolg::v1::CreateRegistrationRequest {
                    parent: c.name.clone(),
                    registration: Some(clientvolg::proto::clientvolg::v1::Registration {
                        kind: RegistrationKind::Bijstand as i32,
                        start_date: Some(date(2024, 1, 1)),
                        ..Default::default()
                    }),
                    change: Some(reason("toekenning")),
                },
            )
            .await
            .expect("CreateRegistration");
    }
    let traj = |client: &Client, contract: &str, referral: Date| {
        sample_trajectory(
            &client.name,
            contract,
            referral,
            if contract.is_empty() {
                vec![priced_line("INTAKE", 1, 0)]
            } else {
                vec![line("BEMIDDELING", 1)]
            },
        )
    };
    let t1 = anna
        .create_trajectory(traj(&anna_jansen, &own.name, date(2025, 3, 1)))
        .await;
    let t2 = anna
        .create_trajectory(traj(&johanna, &own.name, date(2025, 2, 1)))
        .await;
    anna.start_trajectory(&t2.name, date(2025, 2, 10), 1).await;
    let t3 = anna
        .create_trajectory(traj(&johanna, &foreign.name, date(2025, 1, 15)))
        .await;
    anna.create_trajectory(traj(&anna_jansen, "", date(2025, 1, 1)))
        .await;
    let t5 = anna
        .create_trajectory(Trajectory {
            kind: TrajectoryKind::SocialeActivering as i32,
            ..traj(&anna_jansen, &own.name, date(2025, 4, 1))
        })
        .await;
    anna.end_trajectory(&t5.name, date(2025, 5, 1), EndReason::Refusal, None, 1)
        .await;

    let mut prov = app.provider();
    let one_page = prov.assigned_trajectories(0).await;
    assert_eq!(prov.assigned_trajectories(2).await, one_page);
    assert_eq!(prov.assigned_trajectories(1).await, one_page);
    let expected = vec![
        AssignedTrajectory {
            trajectory: t2.name.clone(),
            client_display_name: "Johanna van der Berg".into(),
            contract: own.name.clone(),
            kind: TrajectoryKind::Bemiddeling as i32,
            referral_date: Some(date(2025, 2, 1)),
            start_date: Some(date(2025, 2, 10)),
            end_date: None,
            status: TrajectoryStatus::Lopend as i32,
        },
        AssignedTrajectory {
            trajectory: t1.name.clone(),
            client_display_name: "Anna Jansen".into(),
            contract: own.name.clone(),
            kind: TrajectoryKind::Bemiddeling as i32,
            referral_date: Some(date(2025, 3, 1)),
            start_date: None,
            end_date: None,
            status: TrajectoryStatus::Doorverwezen as i32,
        },
        AssignedTrajectory {
            trajectory: t5.name.clone(),
            client_display_name: "Anna Jansen".into(),
            contract: own.name.clone(),
            kind: TrajectoryKind::SocialeActivering as i32,
            referral_date: Some(date(2025, 4, 1)),
            start_date: None,
            end_date: Some(date(2025, 5, 1)),
            status: TrajectoryStatus::Beeindigd as i32,
        },
    ];
    assert_eq!(one_page, expected);

    // The other provider sees only its own.
    let theirs = app.other_provider().assigned_trajectories(0).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].trajectory, t3.name);
    assert_eq!(theirs[0].client_display_name, "Johanna van der Berg");
    // The same KvK in another gemeente sees nothing of 0363.
    let ina = app
        .clients(PROVIDER_0599)
        .progress_reports
        .list_assigned_trajectories(
            clientvolg::proto::clientvolg::v1::ListAssignedTrajectoriesRequest {
                parent: GEMEENTE_0599.into(),
                ..Default::default()
            },
        )
        .await
        .expect("ListAssignedTrajectories in 0599")
        .into_inner();
    assert!(ina.trajectories.is_empty());
    let result = app
        .clients(PROVIDER_0599)
        .progress_reports
        .list_assigned_trajectories(
            clientvolg::proto::clientvolg::v1::ListAssignedTrajectoriesRequest {
                parent: GEMEENTE.into(),
                ..Default::default()
            },
        )
        .await;
    assert_code(result, Code::PermissionDenied);

    // The casemanager's list is wider (sanity check of the filter).
    assert_eq!(
        anna.list_trajectories(ListTrajectoriesRequest::default(), 0)
            .await
            .len(),
        5
    );
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// Who may do what
// ---------------------------------------------------------------------------

/// Every ProgressReportService RPC with a valid request: the item submitted
/// is the one the report was created with (so a provider's call is an
/// idempotent retry), the answer accepts the advice of version 1.
async fn call_every_rpc(
    c: &mut Clients,
    trajectory: &str,
    parent: &str,
) -> Vec<(&'static str, Code)> {
    use clientvolg::proto::clientvolg::v1 as pb;
    let name = report_name(trajectory, "2025-Q1");
    vec![
        (
            "SubmitProgressReports",
            code(
                c.progress_reports
                    .submit_progress_reports(SubmitProgressReportsRequest {
                        parent: parent.into(),
                        reports: vec![advised_report(trajectory)],
                    })
                    .await,
            ),
        ),
        (
            "ListAssignedTrajectories",
            code(
                c.progress_reports
                    .list_assigned_trajectories(pb::ListAssignedTrajectoriesRequest {
                        parent: parent.into(),
                        ..Default::default()
                    })
                    .await,
            ),
        ),
        (
            "GetProgressReport",
            code(
                c.progress_reports
                    .get_progress_report(pb::GetProgressReportRequest {
                        name: name.clone(),
                        as_of: None,
                    })
                    .await,
            ),
        ),
        (
            "ListProgressReports",
            code(
                c.progress_reports
                    .list_progress_reports(pb::ListProgressReportsRequest {
                        parent: trajectory.into(),
                        ..Default::default()
                    })
                    .await,
            ),
        ),
        (
            "ListProgressReportVersions",
            code(
                c.progress_reports
                    .list_progress_report_versions(pb::ListProgressReportVersionsRequest {
                        name: name.clone(),
                        ..Default::default()
                    })
                    .await,
            ),
        ),
        (
            "RespondToPhaseAdvice",
            code(
                c.progress_reports
                    .respond_to_phase_advice(respond(&name, true, "Eens.", None, 1))
                    .await,
            ),
        ),
        (
            "ListOverdueReports",
            code(
                c.progress_reports
                    .list_overdue_reports(pb::ListOverdueReportsRequest {
                        parent: parent.into(),
                        ..Default::default()
                    })
                    .await,
            ),
        ),
    ]
}

fn advised_report(trajectory: &str) -> ProgressReport {
    with_advice(
        sample_report(trajectory, "2025-Q1", "role-q1"),
        Fase::Fase2,
        "Klaar voor bemiddeling.",
    )
}

/// Asserts each RPC's code: `expected` maps RPC names to codes, `other` is
/// the code of every RPC not in it.
#[track_caller]
fn assert_codes(results: &[(&str, Code)], expected: &[(&str, Code)], other: Code, who: &str) {
    let wrong: Vec<_> = results
        .iter()
        .filter(|(rpc, got)| {
            let want = expected
                .iter()
                .find(|(r, _)| r == rpc)
                .map_or(other, |(_, c)| *c);
            *got != want
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{who}: unexpected codes {wrong:?} (expected {expected:?}, otherwise {other:?})"
    );
}

async fn role_refusals(app: TestApp) {
    let (_, contract) = own_contract(&app).await;
    let (client, t) = referred(&app, 210, &contract.name, date(2025, 2, 10)).await;
    let resp = app
        .provider()
        .submit_reports(vec![advised_report(&t.name)])
        .await;
    assert_counts(&resp, 1, 0);
    let name = report_name(&t.name, "2025-Q1");

    for authorization in [None, Some("Bearer not-a-token"), Some(PROVIDER_0363)] {
        let mut c = app.clients_with_authorization(authorization);
        let results = call_every_rpc(&mut c, &t.name, GEMEENTE).await;
        assert_codes(
            &results,
            &[],
            Code::Unauthenticated,
            &format!("{authorization:?}"),
        );
    }
    for (who, token) in [
        ("functioneel_beheerder", FB_0363),
        ("auditor", AUDITOR_0363),
    ] {
        let results = call_every_rpc(&mut app.clients(token), &t.name, GEMEENTE).await;
        assert_codes(&results, &[], Code::PermissionDenied, who);
    }
    let results = call_every_rpc(&mut app.clients(DM_0363), &t.name, GEMEENTE).await;
    assert_codes(
        &results,
        &[("ListOverdueReports", Code::Ok)],
        Code::PermissionDenied,
        "data_manager",
    );
    let results = call_every_rpc(&mut app.provider(), &t.name, GEMEENTE).await;
    assert_codes(
        &results,
        &[
            ("RespondToPhaseAdvice", Code::PermissionDenied),
            ("ListOverdueReports", Code::PermissionDenied),
        ],
        Code::Ok,
        "provider prov-frank",
    );
    // Another provider: its calls work, but this trajectory is not its own.
    let results = call_every_rpc(&mut app.other_provider(), &t.name, GEMEENTE).await;
    assert_codes(
        &results,
        &[
            ("SubmitProgressReports", Code::Ok),
            ("ListAssignedTrajectories", Code::Ok),
            ("RespondToPhaseAdvice", Code::PermissionDenied),
            ("ListOverdueReports", Code::PermissionDenied),
        ],
        Code::NotFound,
        "provider prov-henk",
    );
    // Another gemeente: its parent is refused, 0363's report is unknown.
    let results = call_every_rpc(&mut app.carla(), &t.name, GEMEENTE).await;
    assert_codes(
        &results,
        &[
            ("GetProgressReport", Code::NotFound),
            ("ListProgressReports", Code::NotFound),
            ("ListProgressReportVersions", Code::NotFound),
            ("RespondToPhaseAdvice", Code::NotFound),
        ],
        Code::PermissionDenied,
        "casemanager cm-carla of 0599",
    );
    let results = call_every_rpc(&mut app.clients(PROVIDER_0599), &t.name, GEMEENTE).await;
    assert_codes(
        &results,
        &[
            ("GetProgressReport", Code::NotFound),
            ("ListProgressReports", Code::NotFound),
            ("ListProgressReportVersions", Code::NotFound),
        ],
        Code::PermissionDenied,
        "provider prov-ina of 0599",
    );

    // Nothing was written by any of them.
    let mut anna = app.anna();
    assert_eq!(anna.report_versions(&name).await.len(), 1);
    assert_eq!(anna.list_reports(&t.name).await.len(), 1);
    let (fase, _) = lookup_fase(&mut anna, &client.name, date(2025, 4, 1)).await;
    assert_eq!(fase, Fase::NietIngedeeld as i32);

    // The casemanager: reads, answers and the overdue list; not the
    // provider's RPCs.
    let results = call_every_rpc(&mut app.bert(), &t.name, GEMEENTE).await;
    assert_codes(
        &results,
        &[
            ("SubmitProgressReports", Code::PermissionDenied),
            ("ListAssignedTrajectories", Code::PermissionDenied),
        ],
        Code::Ok,
        "casemanager cm-bert",
    );
    assert_eq!(anna.report_versions(&name).await.len(), 2);
    let (fase, _) = lookup_fase(&mut anna, &client.name, date(2025, 4, 1)).await;
    assert_eq!(fase, Fase::Fase2 as i32);
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// Append-only
// ---------------------------------------------------------------------------

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("one row");
    row.try_get_by_index::<i64>(0)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn fingerprint(db: &DatabaseConnection, table: &str, column: &str) -> (i64, i64) {
    let count = scalar(db, &format!("SELECT COUNT(*) FROM {table}")).await;
    let sum = scalar(
        db,
        &format!("SELECT CAST(COALESCE(SUM({column}), 0) AS BIGINT) FROM {table}"),
    )
    .await;
    (count, sum)
}

async fn report_tables_reject_update_and_delete(app: TestApp) {
    let (_, contract) = own_contract(&app).await;
    let (_, t) = referred(&app, 220, &contract.name, date(2025, 2, 10)).await;
    let mut prov = app.provider();
    let resp = prov
        .submit_reports(vec![
            sample_report(&t.name, "2025-Q1", "a"),
            sample_report(&t.name, "2025-Q1", "b"),
            sample_report(&t.name, "2025-Q2", "c"),
        ])
        .await;
    assert_counts(&resp, 3, 0);

    let db = raw_connection(&app.admin_database_url).await;
    for (table, column) in [
        ("progress_report_versions", "version"),
        ("progress_report_submissions", "report_version"),
    ] {
        let before = fingerprint(&db, table, column).await;
        assert_eq!(before.0, 3, "{table} holds the three submissions");
        for sql in [
            format!("UPDATE {table} SET {column} = {column} + 1000"),
            format!("UPDATE {table} SET {column} = {column} + 1 WHERE {column} = 1"),
            format!("DELETE FROM {table}"),
            format!("DELETE FROM {table} WHERE {column} = 1"),
        ] {
            let result = db.execute_unprepared(&sql).await;
            assert!(
                result.is_err(),
                "`{sql}` was accepted ({:?}): {table} must be append-only",
                result.map(|r| r.rows_affected())
            );
        }
        if app.backend == Backend::Postgres {
            let truncate = db
                .execute_unprepared(&format!("TRUNCATE {table} CASCADE"))
                .await;
            assert!(truncate.is_err(), "TRUNCATE on {table} was accepted");
        }
        assert_eq!(
            fingerprint(&db, table, column).await,
            before,
            "{table} changed although every UPDATE/DELETE failed"
        );
    }

    // Appending still works, and the retry still answers from the record.
    let resp = prov
        .submit_reports(vec![
            sample_report(&t.name, "2025-Q1", "a"),
            sample_report(&t.name, "2025-Q3", "d"),
        ])
        .await;
    assert_eq!(
        accepted(&resp.results[0]),
        (report_name(&t.name, "2025-Q1"), 1)
    );
    assert_eq!(
        accepted(&resp.results[1]),
        (report_name(&t.name, "2025-Q3"), 1)
    );
    assert_eq!(
        fingerprint(&db, "progress_report_versions", "version")
            .await
            .0,
        4
    );
    let _ = db.close().await;
    app.cleanup().await;
}
