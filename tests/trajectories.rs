//! TrajectoryService: referral (doorverwijzing) under a contract or in eigen
//! beheer, start, end, corrections, listing; the new history tables are
//! append-only.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    Client, Contract, CreateClientRequest, CreateRegistrationRequest, EndReason, Fase,
    GetTrajectoryRequest, Job, JobContractKind, ListTrajectoriesRequest,
    ListTrajectoryVersionsRequest, PriceUnit, Registration, RegistrationKind, Source, Trajectory,
    TrajectoryKind, TrajectoryLine, TrajectoryStatus, UpdateContractRequest,
    UpdateTrajectoryRequest,
};
use clientvolg::proto::google::r#type::Date;
use common::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tonic::Code;

both_databases!(
    referral_under_a_contract_copies_prices,
    later_contract_changes_do_not_rewrite_line_prices,
    eigen_beheer_takes_the_callers_prices,
    bad_trajectories_are_rejected,
    client_must_be_registered_on_the_referral_date,
    referral_within_contract_period,
    target_group_is_checked_on_the_referral_date,
    target_group_with_only_fases_or_only_doelgroepen,
    start_and_end_do_not_recheck_the_target_group,
    start_and_end_move_the_status,
    start_rules,
    end_rules,
    end_without_start_is_uitval,
    corrections_are_new_versions,
    withdrawing_a_start,
    correcting_referral_date_or_lines_copies_prices_again,
    list_trajectories_with_filters,
    other_gemeente_sees_not_found,
    new_history_tables_reject_update_and_delete,
);

/// A provider and the sample contract (2025, no target group) with it.
async fn contract(app: &TestApp) -> Contract {
    let mut fb = app.beheerder();
    let provider = fb
        .create_provider(sample_provider("WerkFit BV", "12345678"))
        .await;
    fb.create_contract(sample_contract(&provider.name)).await
}

fn coaching(quantity: i32) -> TrajectoryLine {
    line("COACHING", quantity)
}

fn bemiddeling() -> TrajectoryLine {
    line("BEMIDDELING", 1)
}

/// The lines as (code, quantity, unit price, unit).
fn lines_of(t: &Trajectory) -> Vec<(String, i32, i64, i32)> {
    t.lines
        .iter()
        .map(|l| {
            (
                l.product_code.clone(),
                l.quantity,
                l.unit_price_cents,
                l.unit,
            )
        })
        .collect()
}

fn l(code: &str, quantity: i32, price: i64, unit: PriceUnit) -> (String, i32, i64, i32) {
    (code.into(), quantity, price, unit as i32)
}

fn update_req(
    trajectory: Trajectory,
    paths: &[&str],
    version: i64,
    why: &str,
) -> UpdateTrajectoryRequest {
    UpdateTrajectoryRequest {
        trajectory: Some(trajectory),
        update_mask: mask(paths),
        version,
        change: Some(reason(why)),
    }
}

async fn get_as_of(c: &mut Clients, name: &str, as_of: prost_types::Timestamp) -> Trajectory {
    c.trajectories
        .get_trajectory(GetTrajectoryRequest {
            name: name.into(),
            as_of: Some(as_of),
        })
        .await
        .expect("GetTrajectory as_of")
        .into_inner()
}

// ---------------------------------------------------------------------------

async fn referral_under_a_contract_copies_prices(app: TestApp) {
    let contract = contract(&app).await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(100).await;

    // A unit price given by the caller is output only under a contract.
    let mut given = bemiddeling();
    given.unit_price_cents = 1;
    let t = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 8, 15),
            vec![given, coaching(10)],
        ))
        .await;
    assert!(
        t.name.starts_with("trajectories/") && t.name.len() > "trajectories/".len(),
        "name {}",
        t.name
    );
    assert_eq!(t.client, client.name);
    assert_eq!(t.contract, contract.name);
    assert_eq!(t.provider, contract.provider);
    assert_eq!(t.kind, TrajectoryKind::Bemiddeling as i32);
    assert_eq!(t.casemanager, "cm-anna");
    assert_eq!(t.referral_date, Some(date(2025, 8, 15)));
    assert_eq!(t.start_date, None);
    assert_eq!(t.end_date, None);
    assert_eq!(t.end_reason, EndReason::Unspecified as i32);
    assert_eq!(t.job, None);
    assert_eq!(t.target_group_exception, "");
    assert_eq!(t.status, TrajectoryStatus::Doorverwezen as i32);
    assert_eq!(
        lines_of(&t),
        vec![
            l(
                "BEMIDDELING",
                1,
                BEMIDDELING_PRICE,
                PriceUnit::PerTrajectory
            ),
            l("COACHING", 10, COACHING_PRICE_H2, PriceUnit::PerHour),
        ]
    );
    assert_eq!(t.cost_cents, BEMIDDELING_PRICE + 10 * COACHING_PRICE_H2);
    let rev = t.revision.clone().expect("revision");
    assert_eq!(rev.version, 1);
    assert_eq!(rev.actor, "cm-anna");
    assert_eq!(rev.actor_role, "casemanager");
    assert_eq!(rev.source, Source::Casemanager as i32);
    assert_eq!(rev.reason, "doorverwijzing");

    // Another casemanager of the gemeente reads the same.
    assert_eq!(app.bert().get_trajectory(&t.name).await, t);

    // The price in force on the referral date: the first price until
    // 2025-06-30, the second from 2025-07-01.
    for (referral, expected) in [
        (date(2025, 1, 1), COACHING_PRICE_H1),
        (date(2025, 3, 1), COACHING_PRICE_H1),
        (date(2025, 6, 30), COACHING_PRICE_H1),
        (date(2025, 7, 1), COACHING_PRICE_H2),
        (date(2025, 12, 31), COACHING_PRICE_H2),
    ] {
        let t = anna
            .create_trajectory(sample_trajectory(
                &client.name,
                &contract.name,
                referral,
                vec![coaching(4)],
            ))
            .await;
        assert_eq!(
            lines_of(&t),
            vec![l("COACHING", 4, expected, PriceUnit::PerHour)],
            "referral {referral:?}"
        );
        assert_eq!(t.cost_cents, 4 * expected, "referral {referral:?}");
    }
    app.cleanup().await;
}

async fn later_contract_changes_do_not_rewrite_line_prices(app: TestApp) {
    let contract = contract(&app).await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(110).await;
    let late = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 8, 15),
            vec![coaching(10)],
        ))
        .await;
    let early = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 3, 1),
            vec![coaching(2), bemiddeling()],
        ))
        .await;

    // The beheerder corrects both COACHING amounts, adds a later price and
    // corrects BEMIDDELING.
    let mut products = contract.products.clone();
    products[0].prices[0].amount_cents = 300_000;
    products[1].prices[0].amount_cents = 8_000;
    products[1].prices[1].amount_cents = 9_900;
    products[1].prices.push(price(date(2025, 8, 1), 9_500));
    app.beheerder()
        .contracts
        .update_contract(UpdateContractRequest {
            contract: Some(Contract {
                name: contract.name.clone(),
                products,
                ..Default::default()
            }),
            update_mask: mask(&["products"]),
            version: 1,
            change: Some(reason("prijscorrectie")),
        })
        .await
        .expect("UpdateContract prices");

    // Existing trajectories keep what they cost.
    let late_now = anna.get_trajectory(&late.name).await;
    assert_eq!(late_now, late);
    assert_eq!(late_now.cost_cents, 10 * COACHING_PRICE_H2);
    let early_now = anna.get_trajectory(&early.name).await;
    assert_eq!(early_now, early);
    assert_eq!(
        early_now.cost_cents,
        2 * COACHING_PRICE_H1 + BEMIDDELING_PRICE
    );
    assert_eq!(anna.trajectory_versions(&late.name).await.len(), 1);

    // New referrals get the new prices.
    for (referral, expected) in [
        (date(2025, 8, 15), 9_500),
        (date(2025, 7, 15), 9_900),
        (date(2025, 3, 1), 8_000),
    ] {
        let t = anna
            .create_trajectory(sample_trajectory(
                &client.name,
                &contract.name,
                referral,
                vec![coaching(10), bemiddeling()],
            ))
            .await;
        assert_eq!(
            lines_of(&t),
            vec![
                l("COACHING", 10, expected, PriceUnit::PerHour),
                l("BEMIDDELING", 1, 300_000, PriceUnit::PerTrajectory),
            ],
            "referral {referral:?}"
        );
        assert_eq!(t.cost_cents, 10 * expected + 300_000);
    }
    app.cleanup().await;
}

async fn eigen_beheer_takes_the_callers_prices(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(120).await;
    let t = anna
        .create_trajectory(Trajectory {
            kind: TrajectoryKind::SocialeActivering as i32,
            ..sample_trajectory(
                &client.name,
                "",
                date(2024, 6, 1),
                vec![
                    priced_line("TAALCURSUS", 3, 12_000),
                    TrajectoryLine {
                        product_code: "BEGELEIDING".into(),
                        quantity: 20,
                        unit_price_cents: 4_500,
                        unit: PriceUnit::PerHour as i32,
                    },
                    priced_line("INTAKE", 1, 0),
                ],
            )
        })
        .await;
    assert_eq!(t.contract, "");
    assert_eq!(t.provider, "", "eigen beheer has no provider");
    assert_eq!(t.kind, TrajectoryKind::SocialeActivering as i32);
    assert_eq!(t.status, TrajectoryStatus::Doorverwezen as i32);
    assert_eq!(
        lines_of(&t),
        vec![
            l("TAALCURSUS", 3, 12_000, PriceUnit::PerTrajectory),
            l("BEGELEIDING", 20, 4_500, PriceUnit::PerHour),
            l("INTAKE", 1, 0, PriceUnit::PerTrajectory),
        ]
    );
    assert_eq!(t.cost_cents, 3 * 12_000 + 20 * 4_500);

    // No lines at all is a trajectory without cost.
    let empty = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            "",
            date(2024, 6, 1),
            vec![],
        ))
        .await;
    assert!(empty.lines.is_empty());
    assert_eq!(empty.cost_cents, 0);

    for (what, bad) in [
        ("negative price", priced_line("TAALCURSUS", 1, -1)),
        ("quantity 0", priced_line("TAALCURSUS", 0, 100)),
        ("negative quantity", priced_line("TAALCURSUS", -2, 100)),
        ("no code", priced_line("", 1, 100)),
        (
            "code of 33 characters",
            priced_line(&"C".repeat(33), 1, 100),
        ),
        (
            "unknown unit",
            TrajectoryLine {
                unit: 42,
                ..priced_line("TAALCURSUS", 1, 100)
            },
        ),
    ] {
        let result = anna
            .trajectories
            .create_trajectory(create_trajectory_req(sample_trajectory(
                &client.name,
                "",
                date(2024, 6, 1),
                vec![priced_line("INTAKE", 1, 0), bad],
            )))
            .await;
        assert!(result.is_err(), "{what} was accepted");
        assert_invalid(result, "trajectory.lines");
    }
    assert_eq!(
        anna.list_trajectories(ListTrajectoriesRequest::default(), 0)
            .await
            .len(),
        2
    );
    app.cleanup().await;
}

async fn bad_trajectories_are_rejected(app: TestApp) {
    let contract = contract(&app).await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(130).await;
    let ok = sample_trajectory(
        &client.name,
        &contract.name,
        date(2025, 3, 1),
        vec![coaching(2)],
    );
    let bad: Vec<(&str, Trajectory, &str)> = vec![
        (
            "no client",
            Trajectory {
                client: String::new(),
                ..ok.clone()
            },
            "trajectory.client",
        ),
        (
            "malformed client",
            Trajectory {
                client: "nope".into(),
                ..ok.clone()
            },
            "trajectory.client",
        ),
        (
            "malformed contract",
            Trajectory {
                contract: "nope".into(),
                ..ok.clone()
            },
            "trajectory.contract",
        ),
        (
            "no kind",
            Trajectory {
                kind: TrajectoryKind::Unspecified as i32,
                ..ok.clone()
            },
            "trajectory.kind",
        ),
        (
            "unknown kind",
            Trajectory {
                kind: 42,
                ..ok.clone()
            },
            "trajectory.kind",
        ),
        (
            "no casemanager",
            Trajectory {
                casemanager: String::new(),
                ..ok.clone()
            },
            "trajectory.casemanager",
        ),
        (
            "casemanager of 101 characters",
            Trajectory {
                casemanager: "c".repeat(101),
                ..ok.clone()
            },
            "trajectory.casemanager",
        ),
        (
            "no referral date",
            Trajectory {
                referral_date: None,
                ..ok.clone()
            },
            "trajectory.referral_date",
        ),
        (
            "impossible referral date",
            Trajectory {
                referral_date: Some(date(2025, 2, 30)),
                ..ok.clone()
            },
            "trajectory.referral_date",
        ),
        (
            "product not in the contract",
            Trajectory {
                lines: vec![coaching(1), line("SCHOLING", 1)],
                ..ok.clone()
            },
            "trajectory.lines",
        ),
        (
            "quantity 0",
            Trajectory {
                lines: vec![coaching(0)],
                ..ok.clone()
            },
            "trajectory.lines",
        ),
        (
            "negative quantity",
            Trajectory {
                lines: vec![bemiddeling(), coaching(-1)],
                ..ok.clone()
            },
            "trajectory.lines",
        ),
        (
            "exception of 501 characters",
            Trajectory {
                target_group_exception: "x".repeat(501),
                ..ok.clone()
            },
            "trajectory.target_group_exception",
        ),
    ];
    for (what, t, field) in bad {
        let result = anna
            .trajectories
            .create_trajectory(create_trajectory_req(t))
            .await;
        assert!(result.is_err(), "{what} was accepted");
        assert_invalid(result, field);
    }
    let result = anna
        .trajectories
        .create_trajectory(clientvolg::proto::clientvolg::v1::CreateTrajectoryRequest {
            parent: GEMEENTE.into(),
            trajectory: None,
            change: None,
        })
        .await;
    assert_invalid(result, "trajectory");

    // Unknown client, unknown contract, a client of another gemeente.
    let result = anna
        .trajectories
        .create_trajectory(create_trajectory_req(Trajectory {
            client: format!("clients/{}", uuid::Uuid::new_v4()),
            ..ok.clone()
        }))
        .await;
    assert_code(result, Code::NotFound);
    let result = anna
        .trajectories
        .create_trajectory(create_trajectory_req(Trajectory {
            contract: format!("contracts/{}", uuid::Uuid::new_v4()),
            ..ok.clone()
        }))
        .await;
    assert_code(result, Code::NotFound);
    let carla_client = carla_registered_client(&app, 131).await;
    let result = anna
        .trajectories
        .create_trajectory(create_trajectory_req(Trajectory {
            client: carla_client.name.clone(),
            ..ok.clone()
        }))
        .await;
    assert_code(result, Code::NotFound);

    // Another gemeente's parent.
    let result = anna
        .trajectories
        .create_trajectory(clientvolg::proto::clientvolg::v1::CreateTrajectoryRequest {
            parent: GEMEENTE_0599.into(),
            trajectory: Some(ok.clone()),
            change: None,
        })
        .await;
    assert_code(result, Code::PermissionDenied);

    assert!(
        anna.list_trajectories(ListTrajectoriesRequest::default(), 0)
            .await
            .is_empty(),
        "nothing was written"
    );
    // The valid trajectory itself is accepted.
    anna.create_trajectory(ok).await;
    app.cleanup().await;
}

/// A client of 0599 (cm-carla) in bijstand since 2024.
async fn carla_registered_client(app: &TestApp, seed: u32) -> Client {
    let mut carla = app.carla();
    let client = carla
        .clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE_0599.into(),
            client: Some(Client {
                casemanager: "cm-carla".into(),
                ..sample_client(&bsn(seed))
            }),
            change: Some(reason("intake")),
        })
        .await
        .expect("CreateClient in 0599")
        .into_inner();
    carla
        .registrations
        .create_registration(CreateRegistrationRequest {
            parent: client.name.clone(),
            registration: Some(Registration {
                kind: RegistrationKind::Bijstand as i32,
                start_date: Some(date(2024, 1, 1)),
                ..Default::default()
            }),
            change: None,
        })
        .await
        .expect("CreateRegistration in 0599");
    client
}

async fn client_must_be_registered_on_the_referral_date(app: TestApp) {
    let contract = contract(&app).await;
    let mut anna = app.anna();
    let unregistered = anna.create_client(sample_client(&bsn(140))).await;
    for contract_name in ["", contract.name.as_str()] {
        let result = anna
            .trajectories
            .create_trajectory(create_trajectory_req(sample_trajectory(
                &unregistered.name,
                contract_name,
                date(2025, 3, 1),
                vec![],
            )))
            .await;
        assert_precondition(result, "client_registered");
    }

    // Registered in 2024 only (end inclusive).
    let in_2024 = anna
        .create_registered_client(
            141,
            RegistrationKind::Bijstand,
            date(2024, 1, 1),
            Some(date(2024, 12, 31)),
        )
        .await;
    for referral in [date(2023, 12, 31), date(2025, 1, 1)] {
        let result = anna
            .trajectories
            .create_trajectory(create_trajectory_req(sample_trajectory(
                &in_2024.name,
                "",
                referral,
                vec![],
            )))
            .await;
        assert_precondition(result, "client_registered");
    }
    let result = anna
        .trajectories
        .create_trajectory(create_trajectory_req(sample_trajectory(
            &in_2024.name,
            &contract.name,
            date(2025, 3, 1),
            vec![],
        )))
        .await;
    assert_precondition(result, "client_registered");
    for referral in [date(2024, 1, 1), date(2024, 12, 31)] {
        anna.create_trajectory(sample_trajectory(&in_2024.name, "", referral, vec![]))
            .await;
    }

    // Any kind of registration counts: a nugger from 2025-02-01.
    let nugger = anna
        .create_registered_client(142, RegistrationKind::Nugger, date(2025, 2, 1), None)
        .await;
    let result = anna
        .trajectories
        .create_trajectory(create_trajectory_req(sample_trajectory(
            &nugger.name,
            &contract.name,
            date(2025, 1, 31),
            vec![],
        )))
        .await;
    assert_precondition(result, "client_registered");
    anna.create_trajectory(sample_trajectory(
        &nugger.name,
        &contract.name,
        date(2025, 2, 1),
        vec![coaching(1)],
    ))
    .await;
    assert_eq!(
        anna.list_trajectories(ListTrajectoriesRequest::default(), 0)
            .await
            .len(),
        3
    );
    app.cleanup().await;
}

async fn referral_within_contract_period(app: TestApp) {
    let contract = contract(&app).await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(150).await;
    for referral in [date(2024, 12, 31), date(2026, 1, 1)] {
        let result = anna
            .trajectories
            .create_trajectory(create_trajectory_req(sample_trajectory(
                &client.name,
                &contract.name,
                referral,
                vec![],
            )))
            .await;
        assert_precondition(result, "within_contract_period");
    }
    // The first and the last day are inside.
    for referral in [date(2025, 1, 1), date(2025, 12, 31)] {
        anna.create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            referral,
            vec![bemiddeling()],
        ))
        .await;
    }

    // After the contract is ended early, later referrals cannot use it.
    app.beheerder()
        .contracts
        .end_contract(clientvolg::proto::clientvolg::v1::EndContractRequest {
            name: contract.name.clone(),
            end_date: Some(date(2025, 6, 30)),
            version: 1,
            change: Some(reason("opgezegd")),
        })
        .await
        .expect("EndContract");
    let result = anna
        .trajectories
        .create_trajectory(create_trajectory_req(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 7, 1),
            vec![bemiddeling()],
        )))
        .await;
    assert_precondition(result, "within_contract_period");
    anna.create_trajectory(sample_trajectory(
        &client.name,
        &contract.name,
        date(2025, 6, 30),
        vec![bemiddeling()],
    ))
    .await;
    assert_eq!(
        anna.list_trajectories(ListTrajectoriesRequest::default(), 0)
            .await
            .len(),
        3
    );
    app.cleanup().await;
}

async fn target_group_is_checked_on_the_referral_date(app: TestApp) {
    let mut fb = app.beheerder();
    for code in ["JONGEREN", "STATUSHOUDERS", "OUDEREN"] {
        fb.create_doelgroep(code).await;
    }
    let provider = fb
        .create_provider(sample_provider("WerkFit BV", "12345678"))
        .await;
    let contract = fb
        .create_contract(Contract {
            target_fases: vec![Fase::Fase2 as i32, Fase::Fase3 as i32],
            target_doelgroepen: vec!["JONGEREN".into(), "STATUSHOUDERS".into()],
            ..sample_contract(&provider.name)
        })
        .await;
    let mut anna = app.anna();
    let jan1 = date(2025, 1, 1);

    let refer = |client: &str, referral: Date, exception: &str| {
        create_trajectory_req(Trajectory {
            target_group_exception: exception.into(),
            ..sample_trajectory(client, &contract.name, referral, vec![coaching(1)])
        })
    };

    // Fits: fase 2 and JONGEREN.
    let fits = anna.create_bijstand_client(160).await;
    anna.classify_fase(&fits.name, Fase::Fase2, jan1).await;
    anna.assign_doelgroepen(&fits.name, &["JONGEREN"], jan1)
        .await;
    let t = anna
        .trajectories
        .create_trajectory(refer(&fits.name, date(2025, 3, 1), ""))
        .await
        .expect("a client in the target group")
        .into_inner();
    assert_eq!(t.target_group_exception, "");

    // Fase 1: outside the target group; accepted with an exception.
    let fase1 = anna.create_bijstand_client(161).await;
    anna.classify_fase(&fase1.name, Fase::Fase1, jan1).await;
    anna.assign_doelgroepen(&fase1.name, &["JONGEREN"], jan1)
        .await;
    let result = anna
        .trajectories
        .create_trajectory(refer(&fase1.name, date(2025, 3, 1), ""))
        .await;
    assert_precondition(result, "target_group");
    let excepted = anna
        .trajectories
        .create_trajectory(refer(
            &fase1.name,
            date(2025, 3, 1),
            "Fase 1, maar taalachterstand; bemiddeling nodig",
        ))
        .await
        .expect("accepted with an exception")
        .into_inner();
    assert_eq!(
        excepted.target_group_exception,
        "Fase 1, maar taalachterstand; bemiddeling nodig"
    );
    assert_eq!(anna.get_trajectory(&excepted.name).await, excepted);

    // Fase 3 without any doelgroep.
    let no_doelgroep = anna.create_bijstand_client(162).await;
    anna.classify_fase(&no_doelgroep.name, Fase::Fase3, jan1)
        .await;
    let result = anna
        .trajectories
        .create_trajectory(refer(&no_doelgroep.name, date(2025, 3, 1), ""))
        .await;
    assert_precondition(result, "target_group");

    // Fase 2 in another doelgroep.
    let other_doelgroep = anna.create_bijstand_client(163).await;
    anna.classify_fase(&other_doelgroep.name, Fase::Fase2, jan1)
        .await;
    anna.assign_doelgroepen(&other_doelgroep.name, &["OUDEREN"], jan1)
        .await;
    let result = anna
        .trajectories
        .create_trajectory(refer(&other_doelgroep.name, date(2025, 3, 1), ""))
        .await;
    assert_precondition(result, "target_group");

    // Not classified (niet ingedeeld) but a JONGERE.
    let unclassified = anna.create_bijstand_client(164).await;
    anna.assign_doelgroepen(&unclassified.name, &["JONGEREN"], jan1)
        .await;
    let result = anna
        .trajectories
        .create_trajectory(refer(&unclassified.name, date(2025, 3, 1), ""))
        .await;
    assert_precondition(result, "target_group");

    // The fase on the referral date counts: fase 4 until May, fase 2 from
    // 2025-06-01.
    let later = anna.create_bijstand_client(165).await;
    anna.classify_fase(&later.name, Fase::Fase4, jan1).await;
    anna.classify_fase(&later.name, Fase::Fase2, date(2025, 6, 1))
        .await;
    anna.assign_doelgroepen(&later.name, &["STATUSHOUDERS"], jan1)
        .await;
    let result = anna
        .trajectories
        .create_trajectory(refer(&later.name, date(2025, 5, 31), ""))
        .await;
    assert_precondition(result, "target_group");
    anna.trajectories
        .create_trajectory(refer(&later.name, date(2025, 6, 1), ""))
        .await
        .expect("fase 2 from 2025-06-01");

    // So do the doelgroepen on the referral date: none from 2025-05-01.
    let left = anna.create_bijstand_client(166).await;
    anna.classify_fase(&left.name, Fase::Fase2, jan1).await;
    anna.assign_doelgroepen(&left.name, &["STATUSHOUDERS"], jan1)
        .await;
    anna.assign_doelgroepen(&left.name, &[], date(2025, 5, 1))
        .await;
    anna.trajectories
        .create_trajectory(refer(&left.name, date(2025, 4, 30), ""))
        .await
        .expect("a statushouder until 2025-04-30");
    let result = anna
        .trajectories
        .create_trajectory(refer(&left.name, date(2025, 5, 1), ""))
        .await;
    assert_precondition(result, "target_group");

    let all = anna
        .list_trajectories(ListTrajectoriesRequest::default(), 0)
        .await;
    assert_eq!(all.len(), 4);
    let with_exception: Vec<&str> = all
        .iter()
        .filter(|t| !t.target_group_exception.is_empty())
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(with_exception, vec![excepted.name.as_str()]);
    app.cleanup().await;
}

async fn target_group_with_only_fases_or_only_doelgroepen(app: TestApp) {
    let mut fb = app.beheerder();
    fb.create_doelgroep("JONGEREN").await;
    let provider = fb
        .create_provider(sample_provider("WerkFit BV", "12345678"))
        .await;
    let fases_only = fb
        .create_contract(Contract {
            target_fases: vec![Fase::Fase2 as i32],
            ..sample_contract(&provider.name)
        })
        .await;
    let doelgroepen_only = fb
        .create_contract(Contract {
            target_doelgroepen: vec!["JONGEREN".into()],
            ..sample_contract(&provider.name)
        })
        .await;
    let mut anna = app.anna();
    let jan1 = date(2025, 1, 1);

    // Fase 2 without doelgroep: fits the fases-only contract only.
    let fase2 = anna.create_bijstand_client(170).await;
    anna.classify_fase(&fase2.name, Fase::Fase2, jan1).await;
    anna.create_trajectory(sample_trajectory(
        &fase2.name,
        &fases_only.name,
        date(2025, 3, 1),
        vec![],
    ))
    .await;
    let result = anna
        .trajectories
        .create_trajectory(create_trajectory_req(sample_trajectory(
            &fase2.name,
            &doelgroepen_only.name,
            date(2025, 3, 1),
            vec![],
        )))
        .await;
    assert_precondition(result, "target_group");

    // A JONGERE without fase: fits the doelgroepen-only contract only.
    let jongere = anna.create_bijstand_client(171).await;
    anna.assign_doelgroepen(&jongere.name, &["JONGEREN"], jan1)
        .await;
    anna.create_trajectory(sample_trajectory(
        &jongere.name,
        &doelgroepen_only.name,
        date(2025, 3, 1),
        vec![],
    ))
    .await;
    let result = anna
        .trajectories
        .create_trajectory(create_trajectory_req(sample_trajectory(
            &jongere.name,
            &fases_only.name,
            date(2025, 3, 1),
            vec![],
        )))
        .await;
    assert_precondition(result, "target_group");
    app.cleanup().await;
}

async fn start_and_end_do_not_recheck_the_target_group(app: TestApp) {
    let mut fb = app.beheerder();
    fb.create_doelgroep("JONGEREN").await;
    let provider = fb
        .create_provider(sample_provider("WerkFit BV", "12345678"))
        .await;
    let contract = fb
        .create_contract(Contract {
            target_fases: vec![Fase::Fase2 as i32],
            target_doelgroepen: vec!["JONGEREN".into()],
            ..sample_contract(&provider.name)
        })
        .await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(175).await;
    anna.classify_fase(&client.name, Fase::Fase2, date(2025, 1, 1))
        .await;
    anna.assign_doelgroepen(&client.name, &["JONGEREN"], date(2025, 1, 1))
        .await;
    let t = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 3, 1),
            vec![bemiddeling()],
        ))
        .await;

    // Later the client is reclassified, even from before the referral: the
    // trajectory was referred rightly and can still start and end.
    anna.classify_fase(&client.name, Fase::Fase4, date(2024, 12, 1))
        .await;
    anna.assign_doelgroepen(&client.name, &[], date(2025, 2, 1))
        .await;
    let result = anna
        .trajectories
        .create_trajectory(create_trajectory_req(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 3, 1),
            vec![bemiddeling()],
        )))
        .await;
    assert_precondition(result, "target_group");
    anna.start_trajectory(&t.name, date(2025, 3, 15), 1).await;
    let ended = anna
        .end_trajectory(
            &t.name,
            date(2025, 9, 1),
            EndReason::WorkRegular,
            Some(sample_job()),
            2,
        )
        .await;
    assert_eq!(ended.status, TrajectoryStatus::Beeindigd as i32);
    app.cleanup().await;
}

async fn start_and_end_move_the_status(app: TestApp) {
    let contract = contract(&app).await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(180).await;
    let created = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 8, 15),
            vec![bemiddeling(), coaching(10)],
        ))
        .await;
    assert_eq!(created.status, TrajectoryStatus::Doorverwezen as i32);

    let started = anna
        .start_trajectory(&created.name, date(2025, 9, 1), 1)
        .await;
    assert_eq!(started.status, TrajectoryStatus::Lopend as i32);
    assert_eq!(started.start_date, Some(date(2025, 9, 1)));
    assert_eq!(started.end_date, None);
    assert_eq!(started.referral_date, created.referral_date);
    assert_eq!(started.lines, created.lines);
    assert_eq!(started.cost_cents, created.cost_cents);
    let rev = started.revision.clone().unwrap();
    assert_eq!(rev.version, 2);
    assert_eq!(rev.actor, "cm-anna");
    assert_eq!(rev.reason, "instroom gemeld");

    let ended = app
        .bert()
        .end_trajectory(
            &created.name,
            date(2025, 12, 15),
            EndReason::WorkRegular,
            Some(sample_job()),
            2,
        )
        .await;
    assert_eq!(ended.status, TrajectoryStatus::Beeindigd as i32);
    assert_eq!(ended.start_date, Some(date(2025, 9, 1)));
    assert_eq!(ended.end_date, Some(date(2025, 12, 15)));
    assert_eq!(ended.end_reason, EndReason::WorkRegular as i32);
    assert_eq!(ended.job, Some(sample_job()));
    assert_eq!(ended.lines, created.lines);
    assert_eq!(ended.cost_cents, created.cost_cents);
    let rev = ended.revision.clone().unwrap();
    assert_eq!(rev.version, 3);
    assert_eq!(rev.actor, "cm-bert");
    assert_eq!(ended.casemanager, "cm-anna", "the responsible one stays");

    assert_eq!(anna.get_trajectory(&created.name).await, ended);
    let statuses: Vec<(i64, i32)> = anna
        .trajectory_versions(&created.name)
        .await
        .iter()
        .map(|v| (version_of(&v.revision), v.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (1, TrajectoryStatus::Doorverwezen as i32),
            (2, TrajectoryStatus::Lopend as i32),
            (3, TrajectoryStatus::Beeindigd as i32),
        ]
    );

    // Start on the referral day and end on the start day: both allowed.
    let same_day = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            "",
            date(2025, 2, 3),
            vec![],
        ))
        .await;
    anna.start_trajectory(&same_day.name, date(2025, 2, 3), 1)
        .await;
    let done = anna
        .end_trajectory(
            &same_day.name,
            date(2025, 2, 3),
            EndReason::CompletedWithoutWork,
            None,
            2,
        )
        .await;
    assert_eq!(done.status, TrajectoryStatus::Beeindigd as i32);
    assert_eq!(done.job, None);
    app.cleanup().await;
}

async fn start_rules(app: TestApp) {
    let contract = contract(&app).await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(190).await;
    let t = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 6, 1),
            vec![bemiddeling()],
        ))
        .await;

    let result = anna
        .trajectories
        .start_trajectory(start_req(&t.name, date(2025, 5, 31), 1))
        .await;
    assert_precondition(result, "start_after_referral");
    let result = anna
        .trajectories
        .start_trajectory(start_req(&t.name, date(2026, 1, 1), 1))
        .await;
    assert_precondition(result, "within_contract_period");
    let result = anna
        .trajectories
        .start_trajectory(clientvolg::proto::clientvolg::v1::StartTrajectoryRequest {
            start_date: None,
            ..start_req(&t.name, date(2025, 6, 2), 1)
        })
        .await;
    assert_invalid(result, "start_date");
    let result = anna
        .trajectories
        .start_trajectory(start_req(&t.name, date(2025, 2, 30), 1))
        .await;
    assert_invalid(result, "start_date");

    // Stale version: another casemanager took the trajectory over meanwhile.
    let handed_over = anna
        .trajectories
        .update_trajectory(update_req(
            Trajectory {
                name: t.name.clone(),
                casemanager: "cm-bert".into(),
                ..Default::default()
            },
            &["casemanager"],
            1,
            "overdracht",
        ))
        .await
        .expect("hand over")
        .into_inner();
    assert_eq!(handed_over.casemanager, "cm-bert");
    assert_eq!(version_of(&handed_over.revision), 2);
    let result = anna
        .trajectories
        .start_trajectory(start_req(&t.name, date(2025, 6, 2), 1))
        .await;
    assert_code(result, Code::Aborted);

    // After the contract is ended early, a start after its end is refused.
    app.beheerder()
        .contracts
        .end_contract(clientvolg::proto::clientvolg::v1::EndContractRequest {
            name: contract.name.clone(),
            end_date: Some(date(2025, 8, 31)),
            version: 1,
            change: Some(reason("opgezegd")),
        })
        .await
        .expect("EndContract");
    let result = anna
        .trajectories
        .start_trajectory(start_req(&t.name, date(2025, 9, 1), 2))
        .await;
    assert_precondition(result, "within_contract_period");

    let started = anna.start_trajectory(&t.name, date(2025, 8, 31), 2).await;
    assert_eq!(started.status, TrajectoryStatus::Lopend as i32);
    let result = anna
        .trajectories
        .start_trajectory(start_req(&t.name, date(2025, 8, 30), 3))
        .await;
    assert_precondition(result, "started_once");

    // The end may lie after the contract's (early) end: StartTrajectory and
    // the referral are bound to the period, the end is not.
    anna.end_trajectory(&t.name, date(2025, 10, 1), EndReason::Moved, None, 3)
        .await;
    let result = anna
        .trajectories
        .start_trajectory(start_req(&t.name, date(2025, 8, 31), 4))
        .await;
    assert_precondition(result, "no_start_after_end");

    // Unknown trajectory.
    let result = anna
        .trajectories
        .start_trajectory(start_req(
            &format!("trajectories/{}", uuid::Uuid::new_v4()),
            date(2025, 8, 31),
            1,
        ))
        .await;
    assert_code(result, Code::NotFound);
    assert_eq!(anna.trajectory_versions(&t.name).await.len(), 4);
    app.cleanup().await;
}

async fn end_rules(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(200).await;
    let t = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            "",
            date(2025, 3, 1),
            vec![priced_line("TRAINING", 1, 50_000)],
        ))
        .await;
    anna.start_trajectory(&t.name, date(2025, 4, 1), 1).await;
    let end =
        |reason: EndReason, job: Option<Job>| end_req(&t.name, date(2025, 9, 30), reason, job, 2);
    let job = sample_job();

    let invalid: Vec<(
        &str,
        clientvolg::proto::clientvolg::v1::EndTrajectoryRequest,
        &str,
    )> = vec![
        ("no reason", end(EndReason::Unspecified, None), "end_reason"),
        (
            "unknown reason",
            clientvolg::proto::clientvolg::v1::EndTrajectoryRequest {
                end_reason: 42,
                ..end(EndReason::Medical, None)
            },
            "end_reason",
        ),
        (
            "regular work without job",
            end(EndReason::WorkRegular, None),
            "job",
        ),
        (
            "subsidised work without job",
            end(EndReason::WorkSubsidised, None),
            "job",
        ),
        (
            "medical with a job",
            end(EndReason::Medical, Some(job.clone())),
            "job",
        ),
        (
            "no show with a job",
            end(EndReason::NoShow, Some(job.clone())),
            "job",
        ),
        (
            "job without contract kind",
            end(
                EndReason::WorkRegular,
                Some(Job {
                    contract_kind: JobContractKind::Unspecified as i32,
                    ..job.clone()
                }),
            ),
            "job.contract_kind",
        ),
        (
            "job of an unknown contract kind",
            end(
                EndReason::WorkRegular,
                Some(Job {
                    contract_kind: 42,
                    ..job.clone()
                }),
            ),
            "job.contract_kind",
        ),
        (
            "job of 0 hours",
            end(
                EndReason::WorkRegular,
                Some(Job {
                    hours_per_week: 0.0,
                    ..job.clone()
                }),
            ),
            "job.hours_per_week",
        ),
        (
            "job of negative hours",
            end(
                EndReason::WorkRegular,
                Some(Job {
                    hours_per_week: -8.0,
                    ..job.clone()
                }),
            ),
            "job.hours_per_week",
        ),
        (
            "job of 80.5 hours",
            end(
                EndReason::WorkRegular,
                Some(Job {
                    hours_per_week: 80.5,
                    ..job.clone()
                }),
            ),
            "job.hours_per_week",
        ),
        (
            "job of NaN hours",
            end(
                EndReason::WorkRegular,
                Some(Job {
                    hours_per_week: f64::NAN,
                    ..job.clone()
                }),
            ),
            "job.hours_per_week",
        ),
        (
            "job without title",
            end(
                EndReason::WorkRegular,
                Some(Job {
                    job_title: String::new(),
                    ..job.clone()
                }),
            ),
            "job.job_title",
        ),
        (
            "job title of 201 characters",
            end(
                EndReason::WorkRegular,
                Some(Job {
                    job_title: "t".repeat(201),
                    ..job.clone()
                }),
            ),
            "job.job_title",
        ),
        (
            "job without employer",
            end(
                EndReason::WorkSubsidised,
                Some(Job {
                    employer_name: String::new(),
                    ..job.clone()
                }),
            ),
            "job.employer_name",
        ),
        (
            "no end date",
            clientvolg::proto::clientvolg::v1::EndTrajectoryRequest {
                end_date: None,
                ..end(EndReason::Medical, None)
            },
            "end_date",
        ),
    ];
    for (what, request, field) in invalid {
        let result = anna.trajectories.end_trajectory(request).await;
        assert!(result.is_err(), "{what} was accepted");
        assert_invalid(result, field);
    }

    let result = anna
        .trajectories
        .end_trajectory(end_req(
            &t.name,
            date(2025, 3, 31),
            EndReason::Medical,
            None,
            2,
        ))
        .await;
    assert_precondition(result, "end_after_start");
    let result = anna
        .trajectories
        .end_trajectory(end_req(
            &t.name,
            date(2025, 9, 30),
            EndReason::Medical,
            None,
            1,
        ))
        .await;
    assert_code(result, Code::Aborted);
    assert_eq!(
        anna.trajectory_versions(&t.name).await.len(),
        2,
        "nothing written"
    );

    // Subsidised work of 80 hours a week, ending on the start day.
    let subsidised = Job {
        contract_kind: JobContractKind::Subsidised as i32,
        hours_per_week: 80.0,
        job_title: "Groenvoorziener".into(),
        employer_name: "Sociale werkvoorziening Amsterdam".into(),
    };
    let ended = anna
        .end_trajectory(
            &t.name,
            date(2025, 4, 1),
            EndReason::WorkSubsidised,
            Some(subsidised.clone()),
            2,
        )
        .await;
    assert_eq!(ended.status, TrajectoryStatus::Beeindigd as i32);
    assert_eq!(ended.end_reason, EndReason::WorkSubsidised as i32);
    assert_eq!(ended.job, Some(subsidised.clone()));
    assert_eq!(anna.get_trajectory(&t.name).await.job, Some(subsidised));

    let result = anna
        .trajectories
        .end_trajectory(end_req(
            &t.name,
            date(2025, 10, 31),
            EndReason::Medical,
            None,
            3,
        ))
        .await;
    assert_precondition(result, "ended_once");
    assert_eq!(anna.trajectory_versions(&t.name).await.len(), 3);
    app.cleanup().await;
}

async fn end_without_start_is_uitval(app: TestApp) {
    let contract = contract(&app).await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(210).await;
    let t = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 3, 1),
            vec![bemiddeling()],
        ))
        .await;
    let result = anna
        .trajectories
        .end_trajectory(end_req(
            &t.name,
            date(2025, 2, 28),
            EndReason::NoShow,
            None,
            1,
        ))
        .await;
    assert_precondition(result, "end_after_referral");

    let ended = anna
        .end_trajectory(&t.name, date(2025, 3, 10), EndReason::NoShow, None, 1)
        .await;
    assert_eq!(ended.status, TrajectoryStatus::Beeindigd as i32);
    assert_eq!(ended.start_date, None, "never started");
    assert_eq!(ended.end_date, Some(date(2025, 3, 10)));
    assert_eq!(ended.end_reason, EndReason::NoShow as i32);
    assert_eq!(ended.job, None);
    assert_eq!(version_of(&ended.revision), 2);

    let result = anna
        .trajectories
        .start_trajectory(start_req(&t.name, date(2025, 3, 5), 2))
        .await;
    assert_precondition(result, "no_start_after_end");
    assert_eq!(anna.get_trajectory(&t.name).await, ended);
    app.cleanup().await;
}

/// (version, actor, source, reason, start, end, status) of one version.
type VersionSummary = (i64, String, i32, String, Option<Date>, Option<Date>, i32);

async fn corrections_are_new_versions(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(220).await;
    let t = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            "",
            date(2025, 3, 1),
            vec![priced_line("TRAINING", 2, 10_000)],
        ))
        .await;
    anna.start_trajectory(&t.name, date(2025, 4, 1), 1).await;
    let v3 = anna
        .end_trajectory(&t.name, date(2025, 6, 30), EndReason::NoShow, None, 2)
        .await;
    tick().await;

    // A reason is required; the version must be current.
    let correct_start = |start: Date, version: i64, why: &str| {
        update_req(
            Trajectory {
                name: t.name.clone(),
                start_date: Some(start),
                ..Default::default()
            },
            &["start_date"],
            version,
            why,
        )
    };
    let result = anna
        .trajectories
        .update_trajectory(correct_start(date(2025, 4, 7), 3, ""))
        .await;
    assert_invalid(result, "change.reason");
    let result = anna
        .trajectories
        .update_trajectory(correct_start(date(2025, 4, 7), 2, "startdatum"))
        .await;
    assert_code(result, Code::Aborted);
    // Corrections pass the lifecycle rules.
    let result = anna
        .trajectories
        .update_trajectory(correct_start(date(2025, 7, 1), 3, "start na einde"))
        .await;
    assert_some_precondition(result);
    let result = anna
        .trajectories
        .update_trajectory(correct_start(date(2025, 2, 1), 3, "start voor verwijzing"))
        .await;
    assert_precondition(result, "start_after_referral");
    let result = anna
        .trajectories
        .update_trajectory(update_req(
            Trajectory {
                name: t.name.clone(),
                end_date: Some(date(2025, 3, 31)),
                end_reason: EndReason::NoShow as i32,
                ..Default::default()
            },
            &["end_date", "end_reason"],
            3,
            "einde voor start",
        ))
        .await;
    assert_some_precondition(result);
    assert_eq!(anna.trajectory_versions(&t.name).await.len(), 3);

    // Correct the start date, by another casemanager from an import.
    let mut bert = app.bert();
    let v4 = bert
        .trajectories
        .update_trajectory(UpdateTrajectoryRequest {
            change: Some(clientvolg::proto::clientvolg::v1::ChangeContext {
                reason: "startdatum volgens rapportage".into(),
                source: Source::Import as i32,
            }),
            ..correct_start(date(2025, 4, 7), 3, "")
        })
        .await
        .expect("correct the start date")
        .into_inner();
    assert_eq!(v4.start_date, Some(date(2025, 4, 7)));
    assert_eq!(v4.end_date, Some(date(2025, 6, 30)));
    assert_eq!(v4.end_reason, EndReason::NoShow as i32);
    assert_eq!(v4.status, TrajectoryStatus::Beeindigd as i32);
    assert_eq!(v4.lines, t.lines);
    assert_eq!(v4.cost_cents, 20_000);
    tick().await;

    // Withdraw the end recorded in error: end_date in the mask, absent.
    let v5 = anna
        .trajectories
        .update_trajectory(update_req(
            Trajectory {
                name: t.name.clone(),
                ..Default::default()
            },
            &["end_date"],
            4,
            "einde ten onrechte geregistreerd",
        ))
        .await
        .expect("withdraw the end")
        .into_inner();
    assert_eq!(v5.status, TrajectoryStatus::Lopend as i32);
    assert_eq!(v5.end_date, None);
    assert_eq!(v5.end_reason, EndReason::Unspecified as i32);
    assert_eq!(v5.job, None);
    assert_eq!(v5.start_date, Some(date(2025, 4, 7)));

    // Now it can be ended again, with work.
    let v6 = anna
        .end_trajectory(
            &t.name,
            date(2025, 8, 31),
            EndReason::WorkRegular,
            Some(sample_job()),
            5,
        )
        .await;
    assert_eq!(v6.status, TrajectoryStatus::Beeindigd as i32);
    assert_eq!(v6.job, Some(sample_job()));

    let summary: Vec<VersionSummary> = anna
        .trajectory_versions(&t.name)
        .await
        .iter()
        .map(|v| {
            let r = v.revision.as_ref().unwrap();
            (
                r.version,
                r.actor.clone(),
                r.source,
                r.reason.clone(),
                v.start_date,
                v.end_date,
                v.status,
            )
        })
        .collect();
    let cm = Source::Casemanager as i32;
    assert_eq!(
        summary,
        vec![
            (
                1,
                "cm-anna".into(),
                cm,
                "doorverwijzing".into(),
                None,
                None,
                TrajectoryStatus::Doorverwezen as i32
            ),
            (
                2,
                "cm-anna".into(),
                cm,
                "instroom gemeld".into(),
                Some(date(2025, 4, 1)),
                None,
                TrajectoryStatus::Lopend as i32
            ),
            (
                3,
                "cm-anna".into(),
                cm,
                "uitstroom gemeld".into(),
                Some(date(2025, 4, 1)),
                Some(date(2025, 6, 30)),
                TrajectoryStatus::Beeindigd as i32
            ),
            (
                4,
                "cm-bert".into(),
                Source::Import as i32,
                "startdatum volgens rapportage".into(),
                Some(date(2025, 4, 7)),
                Some(date(2025, 6, 30)),
                TrajectoryStatus::Beeindigd as i32
            ),
            (
                5,
                "cm-anna".into(),
                cm,
                "einde ten onrechte geregistreerd".into(),
                Some(date(2025, 4, 7)),
                None,
                TrajectoryStatus::Lopend as i32
            ),
            (
                6,
                "cm-anna".into(),
                cm,
                "uitstroom gemeld".into(),
                Some(date(2025, 4, 7)),
                Some(date(2025, 8, 31)),
                TrajectoryStatus::Beeindigd as i32
            ),
        ]
    );

    // As known before the correction: the old dates.
    let before_correction = between(record_micros(&v3.revision), record_micros(&v4.revision));
    assert_eq!(get_as_of(&mut anna, &t.name, before_correction).await, v3);
    let before_withdrawal = between(record_micros(&v4.revision), record_micros(&v5.revision));
    let then = get_as_of(&mut anna, &t.name, before_withdrawal).await;
    assert_eq!(then, v4);
    assert_eq!(then.start_date, Some(date(2025, 4, 7)));
    // The list as known then, and the versions as known then.
    let listed_then = anna
        .trajectories
        .list_trajectories(ListTrajectoriesRequest {
            parent: GEMEENTE.into(),
            as_of: Some(before_correction),
            ..Default::default()
        })
        .await
        .expect("ListTrajectories as_of")
        .into_inner()
        .trajectories;
    assert_eq!(listed_then, vec![v3.clone()]);
    let versions_then = anna
        .trajectories
        .list_trajectory_versions(ListTrajectoryVersionsRequest {
            name: t.name.clone(),
            as_of: Some(before_correction),
            ..Default::default()
        })
        .await
        .expect("ListTrajectoryVersions as_of")
        .into_inner()
        .versions;
    assert_eq!(versions_then.len(), 3);
    assert_eq!(versions_then[2], v3);
    app.cleanup().await;
}

async fn withdrawing_a_start(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(230).await;
    let t = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            "",
            date(2025, 3, 1),
            vec![],
        ))
        .await;
    anna.start_trajectory(&t.name, date(2025, 3, 15), 1).await;
    let withdrawn = anna
        .trajectories
        .update_trajectory(update_req(
            Trajectory {
                name: t.name.clone(),
                ..Default::default()
            },
            &["start_date"],
            2,
            "cliënt is niet begonnen",
        ))
        .await
        .expect("withdraw the start")
        .into_inner();
    assert_eq!(withdrawn.start_date, None);
    assert_eq!(withdrawn.status, TrajectoryStatus::Doorverwezen as i32);
    assert_eq!(version_of(&withdrawn.revision), 3);
    // It can be started again.
    let restarted = anna.start_trajectory(&t.name, date(2025, 4, 1), 3).await;
    assert_eq!(restarted.status, TrajectoryStatus::Lopend as i32);
    assert_eq!(restarted.start_date, Some(date(2025, 4, 1)));

    // Fields that never change cannot be corrected.
    for path in ["client", "contract", "provider", "status", "cost_cents"] {
        let result = anna
            .trajectories
            .update_trajectory(update_req(
                Trajectory {
                    name: t.name.clone(),
                    ..Default::default()
                },
                &[path],
                4,
                "poging",
            ))
            .await;
        assert_invalid(result, "update_mask");
    }
    assert_eq!(anna.trajectory_versions(&t.name).await.len(), 4);
    app.cleanup().await;
}

async fn correcting_referral_date_or_lines_copies_prices_again(app: TestApp) {
    let contract = contract(&app).await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(240).await;
    let t = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 8, 15),
            vec![coaching(10)],
        ))
        .await;
    assert_eq!(t.cost_cents, 10 * COACHING_PRICE_H2);

    let moved = anna
        .trajectories
        .update_trajectory(update_req(
            Trajectory {
                name: t.name.clone(),
                referral_date: Some(date(2025, 3, 1)),
                ..Default::default()
            },
            &["referral_date"],
            1,
            "verwijsdatum volgens beschikking",
        ))
        .await
        .expect("correct the referral date")
        .into_inner();
    assert_eq!(moved.referral_date, Some(date(2025, 3, 1)));
    assert_eq!(
        lines_of(&moved),
        vec![l("COACHING", 10, COACHING_PRICE_H1, PriceUnit::PerHour)]
    );
    assert_eq!(moved.cost_cents, 10 * COACHING_PRICE_H1);

    let relined = anna
        .trajectories
        .update_trajectory(update_req(
            Trajectory {
                name: t.name.clone(),
                lines: vec![coaching(12), bemiddeling()],
                ..Default::default()
            },
            &["lines"],
            2,
            "bemiddeling erbij",
        ))
        .await
        .expect("correct the lines")
        .into_inner();
    assert_eq!(
        lines_of(&relined),
        vec![
            l("COACHING", 12, COACHING_PRICE_H1, PriceUnit::PerHour),
            l(
                "BEMIDDELING",
                1,
                BEMIDDELING_PRICE,
                PriceUnit::PerTrajectory
            ),
        ]
    );
    assert_eq!(
        relined.cost_cents,
        12 * COACHING_PRICE_H1 + BEMIDDELING_PRICE
    );

    // The contract rules hold for corrections too.
    let result = anna
        .trajectories
        .update_trajectory(update_req(
            Trajectory {
                name: t.name.clone(),
                referral_date: Some(date(2026, 2, 1)),
                ..Default::default()
            },
            &["referral_date"],
            3,
            "typfout",
        ))
        .await;
    assert_precondition(result, "within_contract_period");
    let result = anna
        .trajectories
        .update_trajectory(update_req(
            Trajectory {
                name: t.name.clone(),
                lines: vec![line("ONBEKEND", 1)],
                ..Default::default()
            },
            &["lines"],
            3,
            "ander product",
        ))
        .await;
    assert_invalid(result, "trajectory.lines");
    // Moving the referral before the client's registration.
    let result = anna
        .trajectories
        .update_trajectory(update_req(
            Trajectory {
                name: t.name.clone(),
                referral_date: Some(date(2023, 12, 31)),
                ..Default::default()
            },
            &["referral_date"],
            3,
            "typfout",
        ))
        .await;
    assert_code(result, Code::FailedPrecondition);

    // The versions keep their own prices.
    let costs: Vec<i64> = anna
        .trajectory_versions(&t.name)
        .await
        .iter()
        .map(|v| v.cost_cents)
        .collect();
    assert_eq!(
        costs,
        vec![
            10 * COACHING_PRICE_H2,
            10 * COACHING_PRICE_H1,
            12 * COACHING_PRICE_H1 + BEMIDDELING_PRICE
        ]
    );
    app.cleanup().await;
}

async fn list_trajectories_with_filters(app: TestApp) {
    let mut fb = app.beheerder();
    let p1 = fb
        .create_provider(sample_provider("WerkFit BV", "12345678"))
        .await;
    let p2 = fb
        .create_provider(sample_provider("Reakt", "87654321"))
        .await;
    let ca = fb.create_contract(sample_contract(&p1.name)).await;
    let cb = fb.create_contract(sample_contract(&p2.name)).await;
    let mut anna = app.anna();
    let x = anna.create_bijstand_client(250).await;
    let y = anna.create_bijstand_client(251).await;

    let mk = |client: &Client, contract: &str, cm: &str, referral: Date| Trajectory {
        casemanager: cm.into(),
        ..sample_trajectory(&client.name, contract, referral, vec![])
    };
    let t1 = anna
        .create_trajectory(mk(&x, &ca.name, "cm-anna", date(2025, 2, 1)))
        .await;
    let t2 = anna
        .create_trajectory(mk(&y, &cb.name, "cm-bert", date(2025, 3, 1)))
        .await;
    let t3 = anna
        .create_trajectory(mk(&x, "", "cm-anna", date(2025, 1, 15)))
        .await;
    let t4 = anna
        .create_trajectory(mk(&y, &ca.name, "cm-anna", date(2025, 4, 1)))
        .await;
    let t4 = anna.start_trajectory(&t4.name, date(2025, 4, 15), 1).await;
    let t5 = anna
        .create_trajectory(mk(&x, &cb.name, "cm-bert", date(2025, 5, 1)))
        .await;
    let t5 = anna
        .end_trajectory(&t5.name, date(2025, 5, 10), EndReason::NoShow, None, 1)
        .await;

    // Everything, in referral order, on any page size; as read by Get.
    let all = vec![t3.clone(), t1.clone(), t2.clone(), t4.clone(), t5.clone()];
    for page_size in [0, 1, 2, 10] {
        assert_eq!(
            anna.list_trajectories(ListTrajectoriesRequest::default(), page_size)
                .await,
            all,
            "page_size {page_size}"
        );
    }
    assert_eq!(
        app.bert()
            .list_trajectories(ListTrajectoriesRequest::default(), 2)
            .await,
        all
    );

    let names = |ts: Vec<Trajectory>| ts.into_iter().map(|t| t.name).collect::<Vec<_>>();
    let cases: Vec<(&str, ListTrajectoriesRequest, Vec<&Trajectory>)> = vec![
        (
            "client x",
            ListTrajectoriesRequest {
                client: x.name.clone(),
                ..Default::default()
            },
            vec![&t3, &t1, &t5],
        ),
        (
            "provider p1",
            ListTrajectoriesRequest {
                provider: p1.name.clone(),
                ..Default::default()
            },
            vec![&t1, &t4],
        ),
        (
            "provider p2",
            ListTrajectoriesRequest {
                provider: p2.name.clone(),
                ..Default::default()
            },
            vec![&t2, &t5],
        ),
        (
            "contract cb",
            ListTrajectoriesRequest {
                contract: cb.name.clone(),
                ..Default::default()
            },
            vec![&t2, &t5],
        ),
        (
            "casemanager cm-bert",
            ListTrajectoriesRequest {
                casemanager: "cm-bert".into(),
                ..Default::default()
            },
            vec![&t2, &t5],
        ),
        (
            "casemanager nobody",
            ListTrajectoriesRequest {
                casemanager: "cm-nobody".into(),
                ..Default::default()
            },
            vec![],
        ),
        (
            "doorverwezen",
            ListTrajectoriesRequest {
                status: TrajectoryStatus::Doorverwezen as i32,
                ..Default::default()
            },
            vec![&t3, &t1, &t2],
        ),
        (
            "lopend",
            ListTrajectoriesRequest {
                status: TrajectoryStatus::Lopend as i32,
                ..Default::default()
            },
            vec![&t4],
        ),
        (
            "beeindigd",
            ListTrajectoriesRequest {
                status: TrajectoryStatus::Beeindigd as i32,
                ..Default::default()
            },
            vec![&t5],
        ),
        (
            "client y and provider p1",
            ListTrajectoriesRequest {
                client: y.name.clone(),
                provider: p1.name.clone(),
                ..Default::default()
            },
            vec![&t4],
        ),
        (
            "client x, contract ca, doorverwezen, cm-anna",
            ListTrajectoriesRequest {
                client: x.name.clone(),
                contract: ca.name.clone(),
                status: TrajectoryStatus::Doorverwezen as i32,
                casemanager: "cm-anna".into(),
                ..Default::default()
            },
            vec![&t1],
        ),
        (
            "contract cb and lopend",
            ListTrajectoriesRequest {
                contract: cb.name.clone(),
                status: TrajectoryStatus::Lopend as i32,
                ..Default::default()
            },
            vec![],
        ),
    ];
    for (what, filter, expected) in cases {
        for page_size in [0, 1] {
            let got = anna.list_trajectories(filter.clone(), page_size).await;
            assert_eq!(
                names(got),
                expected.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
                "{what}, page_size {page_size}"
            );
        }
    }

    for (filter, field) in [
        (
            ListTrajectoriesRequest {
                client: "nope".into(),
                ..Default::default()
            },
            "client",
        ),
        (
            ListTrajectoriesRequest {
                provider: "nope".into(),
                ..Default::default()
            },
            "provider",
        ),
        (
            ListTrajectoriesRequest {
                contract: "nope".into(),
                ..Default::default()
            },
            "contract",
        ),
        (
            ListTrajectoriesRequest {
                status: 42,
                ..Default::default()
            },
            "status",
        ),
        (
            ListTrajectoriesRequest {
                page_token: "garbage".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            ListTrajectoriesRequest {
                page_size: -1,
                ..Default::default()
            },
            "page_size",
        ),
    ] {
        let result = anna
            .trajectories
            .list_trajectories(ListTrajectoriesRequest {
                parent: GEMEENTE.into(),
                ..filter
            })
            .await;
        assert_invalid(result, field);
    }
    let result = anna
        .trajectories
        .list_trajectories(ListTrajectoriesRequest {
            parent: GEMEENTE_0599.into(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    app.cleanup().await;
}

async fn other_gemeente_sees_not_found(app: TestApp) {
    let contract = contract(&app).await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(260).await;
    let t = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 3, 1),
            vec![bemiddeling()],
        ))
        .await;
    let carla_client = carla_registered_client(&app, 261).await;

    async fn everything_on(c: &mut Clients, name: &str) -> Vec<(&'static str, Code)> {
        fn code<T>(r: Result<T, tonic::Status>) -> Code {
            match r {
                Ok(_) => Code::Ok,
                Err(s) => s.code(),
            }
        }
        vec![
            (
                "GetTrajectory",
                code(
                    c.trajectories
                        .get_trajectory(GetTrajectoryRequest {
                            name: name.into(),
                            as_of: None,
                        })
                        .await,
                ),
            ),
            (
                "StartTrajectory",
                code(
                    c.trajectories
                        .start_trajectory(start_req(name, date(2025, 3, 2), 1))
                        .await,
                ),
            ),
            (
                "EndTrajectory",
                code(
                    c.trajectories
                        .end_trajectory(end_req(name, date(2025, 3, 2), EndReason::Moved, None, 1))
                        .await,
                ),
            ),
            (
                "UpdateTrajectory",
                code(
                    c.trajectories
                        .update_trajectory(update_req(
                            Trajectory {
                                name: name.into(),
                                casemanager: "cm-carla".into(),
                                ..Default::default()
                            },
                            &["casemanager"],
                            1,
                            "overname",
                        ))
                        .await,
                ),
            ),
            (
                "ListTrajectoryVersions",
                code(
                    c.trajectories
                        .list_trajectory_versions(ListTrajectoryVersionsRequest {
                            name: name.into(),
                            ..Default::default()
                        })
                        .await,
                ),
            ),
        ]
    }

    let mut carla = app.carla();
    let results = everything_on(&mut carla, &t.name).await;
    assert!(
        results.iter().all(|(_, c)| *c == Code::NotFound),
        "cm-carla on a trajectory of 0363: {results:?}"
    );
    let unknown = format!("trajectories/{}", uuid::Uuid::new_v4());
    let results = everything_on(&mut anna, &unknown).await;
    assert!(
        results.iter().all(|(_, c)| *c == Code::NotFound),
        "cm-anna on an unknown trajectory: {results:?}"
    );

    // Carla cannot refer her client to 0363's contract, nor 0363's client.
    let in_0599 = |t: Trajectory| clientvolg::proto::clientvolg::v1::CreateTrajectoryRequest {
        parent: GEMEENTE_0599.into(),
        trajectory: Some(Trajectory {
            casemanager: "cm-carla".into(),
            ..t
        }),
        change: None,
    };
    let result = carla
        .trajectories
        .create_trajectory(in_0599(sample_trajectory(
            &carla_client.name,
            &contract.name,
            date(2025, 3, 1),
            vec![],
        )))
        .await;
    assert_code(result, Code::NotFound);
    let result = carla
        .trajectories
        .create_trajectory(in_0599(sample_trajectory(
            &client.name,
            "",
            date(2025, 3, 1),
            vec![],
        )))
        .await;
    assert_code(result, Code::NotFound);
    let result = carla
        .trajectories
        .create_trajectory(create_trajectory_req(sample_trajectory(
            &client.name,
            "",
            date(2025, 3, 1),
            vec![],
        )))
        .await;
    assert_code(result, Code::PermissionDenied);
    let result = carla
        .trajectories
        .list_trajectories(ListTrajectoriesRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);

    // Carla's own eigen-beheer trajectory works, and 0363 does not see it.
    let own = carla
        .trajectories
        .create_trajectory(in_0599(sample_trajectory(
            &carla_client.name,
            "",
            date(2025, 3, 1),
            vec![],
        )))
        .await
        .expect("a trajectory in 0599")
        .into_inner();
    let results = everything_on(&mut anna, &own.name).await;
    assert!(
        results.iter().all(|(_, c)| *c == Code::NotFound),
        "cm-anna on a trajectory of 0599: {results:?}"
    );
    // A filter on 0363's client in 0599's list finds nothing of 0363.
    let filtered = carla
        .trajectories
        .list_trajectories(ListTrajectoriesRequest {
            parent: GEMEENTE_0599.into(),
            client: client.name.clone(),
            ..Default::default()
        })
        .await;
    if let Ok(resp) = filtered {
        assert!(resp.into_inner().trajectories.is_empty());
    } else {
        assert_code(filtered, Code::NotFound);
    }

    // 0363's trajectory is untouched.
    assert_eq!(anna.get_trajectory(&t.name).await, t);
    assert_eq!(
        anna.list_trajectories(ListTrajectoriesRequest::default(), 0)
            .await,
        vec![t]
    );
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// Append-only, as in tests/append_only.rs
// ---------------------------------------------------------------------------

const NEW_HISTORY_TABLES: &[&str] = &[
    "provider_versions",
    "contract_versions",
    "trajectory_versions",
    "trajectory_lines",
];

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("one row");
    row.try_get_by_index::<i64>(0)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn fingerprint(db: &DatabaseConnection, table: &str) -> (i64, i64) {
    let count = scalar(db, &format!("SELECT COUNT(*) FROM {table}")).await;
    let versions = scalar(
        db,
        &format!("SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM {table}"),
    )
    .await;
    (count, versions)
}

async fn new_history_tables_reject_update_and_delete(app: TestApp) {
    let contract = contract(&app).await;
    let mut anna = app.anna();
    let client = anna.create_bijstand_client(270).await;
    let t = anna
        .create_trajectory(sample_trajectory(
            &client.name,
            &contract.name,
            date(2025, 3, 1),
            vec![bemiddeling(), coaching(3)],
        ))
        .await;

    let db = raw_connection(&app.admin_database_url).await;
    for table in NEW_HISTORY_TABLES {
        let before = fingerprint(&db, table).await;
        assert!(before.0 > 0, "{table} should hold rows by now");

        let update = db
            .execute_unprepared(&format!("UPDATE {table} SET version = version + 1000"))
            .await;
        assert!(
            update.is_err(),
            "UPDATE on {table} was accepted ({:?}): the table must be append-only",
            update.map(|r| r.rows_affected())
        );
        let update_where = db
            .execute_unprepared(&format!(
                "UPDATE {table} SET version = version + 1 WHERE version = 1"
            ))
            .await;
        assert!(
            update_where.is_err(),
            "UPDATE … WHERE on {table} was accepted"
        );
        let delete = db.execute_unprepared(&format!("DELETE FROM {table}")).await;
        assert!(
            delete.is_err(),
            "DELETE on {table} was accepted ({:?}): the table must be append-only",
            delete.map(|r| r.rows_affected())
        );
        let delete_where = db
            .execute_unprepared(&format!("DELETE FROM {table} WHERE version = 1"))
            .await;
        assert!(
            delete_where.is_err(),
            "DELETE … WHERE on {table} was accepted"
        );
        if app.backend == Backend::Postgres {
            let truncate = db
                .execute_unprepared(&format!("TRUNCATE {table} CASCADE"))
                .await;
            assert!(truncate.is_err(), "TRUNCATE on {table} was accepted");
        }
        assert_eq!(
            fingerprint(&db, table).await,
            before,
            "{table} changed although every UPDATE/DELETE failed"
        );
    }

    // The trajectory reads as before, and appending still works.
    assert_eq!(anna.get_trajectory(&t.name).await, t);
    anna.start_trajectory(&t.name, date(2025, 3, 10), 1).await;
    assert_eq!(fingerprint(&db, "trajectory_versions").await.0, 2);
    let _ = db.close().await;
    app.cleanup().await;
}
