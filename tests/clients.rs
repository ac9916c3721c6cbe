//! ClientService: create, read, validate, update with optimistic locking.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    ChangeContext, Client, CreateClientRequest, EducationLevel, GetClientRequest, Source,
    UpdateClientRequest,
};
use common::*;
use tonic::Code;

both_databases!(
    create_and_get_round_trip,
    create_records_source_and_reason,
    create_rejects_bad_input_and_writes_nothing,
    create_accepts_limits,
    duplicate_bsn_is_rejected_per_gemeente,
    get_unknown_client_is_not_found,
    update_with_mask_changes_only_masked_fields,
    update_with_empty_mask_replaces_all_fields,
    update_with_stale_version_is_aborted,
    update_requires_reason_and_version,
    update_validates_new_values,
    update_unknown_client_is_not_found,
    concurrent_updates_from_same_version_one_wins,
);

async fn create_and_get_round_trip(app: TestApp) {
    let mut anna = app.anna();
    let input = sample_client(&bsn(1));
    let created = anna.create_client(input.clone()).await;

    assert!(
        created.name.starts_with("clients/") && created.name.len() > "clients/".len(),
        "name: {}",
        created.name
    );
    assert_eq!(created.gemeente, "0363");
    assert_eq!(created.bsn, input.bsn);
    assert_eq!(created.given_name, "Johanna");
    assert_eq!(created.surname_prefix, "van der");
    assert_eq!(created.surname, "Berg");
    assert_eq!(created.birth_date, Some(date(1990, 5, 17)));
    assert_eq!(created.education_level, EducationLevel::VmboMbo1 as i32);
    assert_eq!(created.work_experience, input.work_experience);
    assert_eq!(created.skills, input.skills);
    assert_eq!(created.wishes, input.wishes);
    assert_eq!(created.notes, input.notes);
    assert_eq!(created.casemanager, "cm-anna");
    let create_time = created.create_time.expect("create_time set");
    assert!(
        create_time.seconds > 1_700_000_000,
        "create_time {create_time:?}"
    );

    let rev = created.revision.clone().expect("revision");
    assert_eq!(rev.version, 1);
    assert_eq!(rev.actor, "cm-anna");
    assert_eq!(rev.actor_role, "casemanager");
    assert_eq!(rev.source, Source::Casemanager as i32, "default source");
    assert_eq!(rev.reason, "intake");
    let rt = rev.record_time.expect("record_time set");
    let now_us = chrono::Utc::now().timestamp_micros();
    let rt_us = micros(&rt);
    assert!(
        rt_us <= now_us && rt_us > now_us - 600 * 1_000_000,
        "record_time {rt:?} not recent"
    );

    let got = anna
        .clients
        .get_client(GetClientRequest {
            name: created.name.clone(),
            as_of: None,
        })
        .await
        .expect("GetClient")
        .into_inner();
    assert_eq!(got, created, "GetClient answers what CreateClient answered");

    // Another casemanager of the same gemeente sees the client too.
    let got_by_bert = app
        .bert()
        .clients
        .get_client(GetClientRequest {
            name: created.name.clone(),
            as_of: None,
        })
        .await
        .expect("GetClient by cm-bert")
        .into_inner();
    assert_eq!(got_by_bert.bsn, created.bsn);

    let listed = anna.list_all_clients().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, created.name);
    app.cleanup().await;
}

async fn create_records_source_and_reason(app: TestApp) {
    let mut anna = app.anna();
    let created = anna
        .clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(sample_client(&bsn(2))),
            change: Some(ChangeContext {
                reason: "import uitkeringsadministratie".into(),
                source: Source::Import as i32,
            }),
        })
        .await
        .expect("CreateClient with SOURCE_IMPORT")
        .into_inner();
    let rev = created.revision.expect("revision");
    assert_eq!(rev.source, Source::Import as i32);
    assert_eq!(rev.reason, "import uitkeringsadministratie");

    // Without a change context at all: default source, empty reason.
    let created = anna
        .clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(sample_client(&bsn(3))),
            change: None,
        })
        .await
        .expect("CreateClient without change context")
        .into_inner();
    let rev = created.revision.expect("revision");
    assert_eq!(rev.version, 1);
    assert_eq!(rev.source, Source::Casemanager as i32);
    assert_eq!(rev.reason, "");

    // A casemanager may not claim a provider report (or any other source
    // than casemanager or import).
    for source in [
        Source::ProviderReport,
        Source::ProviderAdvice,
        Source::FunctioneelBeheer,
    ] {
        let result = anna
            .clients
            .create_client(CreateClientRequest {
                parent: GEMEENTE.into(),
                client: Some(sample_client(&bsn(4))),
                change: Some(ChangeContext {
                    reason: "rapportage".into(),
                    source: source as i32,
                }),
            })
            .await;
        assert_invalid(result, "change.source");
    }
    let result = anna
        .clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(sample_client(&bsn(4))),
            change: Some(ChangeContext {
                reason: "onbekende bron".into(),
                source: 99,
            }),
        })
        .await;
    assert_invalid(result, "change.source");
    assert_eq!(anna.list_all_clients().await.len(), 2);
    app.cleanup().await;
}

async fn create_rejects_bad_input_and_writes_nothing(app: TestApp) {
    let mut anna = app.anna();
    let good = || sample_client(&bsn(10));

    // (description, parent, client, expected field)
    let mut cases: Vec<(&str, &str, Client, &str)> = Vec::new();
    cases.push((
        "bsn failing the elfproef",
        GEMEENTE,
        Client {
            bsn: INVALID_BSN.into(),
            ..good()
        },
        "client.bsn",
    ));
    cases.push((
        "bsn of 8 digits",
        GEMEENTE,
        Client {
            bsn: "12345678".into(),
            ..good()
        },
        "client.bsn",
    ));
    cases.push((
        "bsn with a letter",
        GEMEENTE,
        Client {
            bsn: "12345678a".into(),
            ..good()
        },
        "client.bsn",
    ));
    cases.push((
        "empty bsn",
        GEMEENTE,
        Client {
            bsn: "".into(),
            ..good()
        },
        "client.bsn",
    ));
    cases.push((
        "parent with a 2-digit gemeente",
        "gemeenten/36",
        good(),
        "parent",
    ));
    cases.push(("empty parent", "", good(), "parent"));
    cases.push((
        "parent that is no gemeente",
        "clients/0363",
        good(),
        "parent",
    ));
    cases.push((
        "missing given_name",
        GEMEENTE,
        Client {
            given_name: "".into(),
            ..good()
        },
        "client.given_name",
    ));
    cases.push((
        "given_name of 201 characters",
        GEMEENTE,
        Client {
            given_name: "a".repeat(201),
            ..good()
        },
        "client.given_name",
    ));
    cases.push((
        "missing surname",
        GEMEENTE,
        Client {
            surname: "".into(),
            ..good()
        },
        "client.surname",
    ));
    cases.push((
        "surname_prefix of 21 characters",
        GEMEENTE,
        Client {
            surname_prefix: "v".repeat(21),
            ..good()
        },
        "client.surname_prefix",
    ));
    cases.push((
        "missing birth_date",
        GEMEENTE,
        Client {
            birth_date: None,
            ..good()
        },
        "client.birth_date",
    ));
    cases.push((
        "birth_date in the future",
        GEMEENTE,
        Client {
            birth_date: Some(days_from_today(400)),
            ..good()
        },
        "client.birth_date",
    ));
    cases.push((
        "birth_date 2025-02-30",
        GEMEENTE,
        Client {
            birth_date: Some(date(2025, 2, 30)),
            ..good()
        },
        "client.birth_date",
    ));
    cases.push((
        "birth_date with month 13",
        GEMEENTE,
        Client {
            birth_date: Some(date(1990, 13, 1)),
            ..good()
        },
        "client.birth_date",
    ));
    cases.push((
        "birth_date without a day (partial date)",
        GEMEENTE,
        Client {
            birth_date: Some(date(1990, 5, 0)),
            ..good()
        },
        "client.birth_date",
    ));
    cases.push((
        "notes of 2,001 characters",
        GEMEENTE,
        Client {
            notes: "n".repeat(2001),
            ..good()
        },
        "client.notes",
    ));
    cases.push((
        "work_experience of 2,001 characters",
        GEMEENTE,
        Client {
            work_experience: "w".repeat(2001),
            ..good()
        },
        "client.work_experience",
    ));
    cases.push((
        "wishes of 2,001 characters",
        GEMEENTE,
        Client {
            wishes: "w".repeat(2001),
            ..good()
        },
        "client.wishes",
    ));
    cases.push((
        "51 skills",
        GEMEENTE,
        Client {
            skills: (0..51).map(|i| format!("skill {i}")).collect(),
            ..good()
        },
        "client.skills",
    ));
    cases.push((
        "a skill of 101 characters",
        GEMEENTE,
        Client {
            skills: vec!["s".repeat(101)],
            ..good()
        },
        "client.skills",
    ));
    cases.push((
        "education_level 99",
        GEMEENTE,
        Client {
            education_level: 99,
            ..good()
        },
        "client.education_level",
    ));
    cases.push((
        "missing casemanager",
        GEMEENTE,
        Client {
            casemanager: "".into(),
            ..good()
        },
        "client.casemanager",
    ));
    cases.push((
        "casemanager of 101 characters",
        GEMEENTE,
        Client {
            casemanager: "c".repeat(101),
            ..good()
        },
        "client.casemanager",
    ));

    for (what, parent, client, field) in cases {
        eprintln!("case: {what}");
        let result = anna
            .clients
            .create_client(CreateClientRequest {
                parent: parent.into(),
                client: Some(client),
                change: Some(reason("intake")),
            })
            .await;
        assert_invalid(result, field);
    }

    // A reason over 500 characters is rejected too.
    let result = anna
        .clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(good()),
            change: Some(reason(&"r".repeat(501))),
        })
        .await;
    assert_invalid(result, "change.reason");

    // No client at all.
    let result = anna
        .clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE.into(),
            client: None,
            change: Some(reason("intake")),
        })
        .await;
    assert_invalid(result, "client");

    assert!(
        anna.list_all_clients().await.is_empty(),
        "rejected creations must not write anything"
    );
    app.cleanup().await;
}

async fn create_accepts_limits(app: TestApp) {
    let mut anna = app.anna();
    let client = Client {
        given_name: "g".repeat(200),
        surname: "s".repeat(200),
        surname_prefix: "p".repeat(20),
        notes: "n".repeat(2000),
        wishes: "w".repeat(2000),
        work_experience: "e".repeat(2000),
        skills: (0..50).map(|i| format!("{i:0>100}")).collect(),
        casemanager: "c".repeat(100),
        education_level: EducationLevel::HboWo as i32,
        birth_date: Some(today()),
        ..sample_client(&bsn(11))
    };
    let created = anna.create_client(client.clone()).await;
    assert_eq!(created.notes.len(), 2000);
    assert_eq!(created.skills, client.skills);
    assert_eq!(created.birth_date, Some(today()));

    // Multi-byte characters count as characters: 2,000 × "ë" is allowed.
    let created = anna
        .create_client(Client {
            notes: "ë".repeat(2000),
            ..sample_client(&bsn(12))
        })
        .await;
    assert_eq!(created.notes.chars().count(), 2000);
    app.cleanup().await;
}

async fn duplicate_bsn_is_rejected_per_gemeente(app: TestApp) {
    let mut anna = app.anna();
    let the_bsn = bsn(20);
    anna.create_client(sample_client(&the_bsn)).await;

    let result = anna
        .clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(Client {
                given_name: "Ander".into(),
                ..sample_client(&the_bsn)
            }),
            change: Some(reason("intake")),
        })
        .await;
    assert_code(result, Code::AlreadyExists);

    // The other casemanager of 0363 gets the same answer.
    let result = app
        .bert()
        .clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(sample_client(&the_bsn)),
            change: None,
        })
        .await;
    assert_code(result, Code::AlreadyExists);
    assert_eq!(anna.list_all_clients().await.len(), 1);

    // The same BSN in another gemeente is a different client.
    let mut carla = app.carla();
    let other = carla
        .clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE_0599.into(),
            client: Some(Client {
                casemanager: "cm-carla".into(),
                ..sample_client(&the_bsn)
            }),
            change: Some(reason("intake")),
        })
        .await
        .expect("same BSN in 0599")
        .into_inner();
    assert_eq!(other.gemeente, "0599");
    assert_eq!(carla.list_all_clients_in(GEMEENTE_0599).await.len(), 1);
    assert_eq!(anna.list_all_clients().await.len(), 1);
    app.cleanup().await;
}

async fn get_unknown_client_is_not_found(app: TestApp) {
    let mut anna = app.anna();
    let result = anna
        .clients
        .get_client(GetClientRequest {
            name: format!("clients/{}", uuid::Uuid::new_v4()),
            as_of: None,
        })
        .await;
    assert_code(result, Code::NotFound);
    app.cleanup().await;
}

async fn update_with_mask_changes_only_masked_fields(app: TestApp) {
    let mut anna = app.anna();
    let created = anna.create_client(sample_client(&bsn(30))).await;

    // Only `casemanager` is in the mask: the empty given_name etc. are ignored.
    let updated = app
        .bert()
        .clients
        .update_client(UpdateClientRequest {
            client: Some(Client {
                name: created.name.clone(),
                casemanager: "cm-bert".into(),
                ..Default::default()
            }),
            update_mask: mask(&["casemanager"]),
            version: 1,
            change: Some(reason("overdracht caseload")),
        })
        .await
        .expect("UpdateClient")
        .into_inner();

    assert_eq!(updated.name, created.name);
    assert_eq!(updated.casemanager, "cm-bert");
    assert_eq!(updated.bsn, created.bsn);
    assert_eq!(updated.given_name, created.given_name);
    assert_eq!(updated.surname_prefix, created.surname_prefix);
    assert_eq!(updated.surname, created.surname);
    assert_eq!(updated.birth_date, created.birth_date);
    assert_eq!(updated.education_level, created.education_level);
    assert_eq!(updated.work_experience, created.work_experience);
    assert_eq!(updated.skills, created.skills);
    assert_eq!(updated.wishes, created.wishes);
    assert_eq!(updated.notes, created.notes);
    assert_eq!(updated.gemeente, "0363");
    assert_eq!(
        updated.create_time, created.create_time,
        "create_time never changes"
    );
    let rev = updated.revision.clone().expect("revision");
    assert_eq!(rev.version, 2);
    assert_eq!(rev.actor, "cm-bert");
    assert_eq!(rev.actor_role, "casemanager");
    assert_eq!(rev.reason, "overdracht caseload");
    assert_eq!(rev.source, Source::Casemanager as i32);
    assert!(record_micros(&updated.revision) > record_micros(&created.revision));

    let got = anna
        .clients
        .get_client(GetClientRequest {
            name: created.name.clone(),
            as_of: None,
        })
        .await
        .expect("GetClient")
        .into_inner();
    assert_eq!(got, updated);

    // Two fields at once.
    let updated = anna
        .clients
        .update_client(UpdateClientRequest {
            client: Some(Client {
                name: created.name.clone(),
                surname: "Jansen".into(),
                given_name: "Jo".into(),
                notes: "ignored, not in the mask".into(),
                ..Default::default()
            }),
            update_mask: mask(&["surname", "given_name"]),
            version: 2,
            change: Some(reason("naamswijziging")),
        })
        .await
        .expect("UpdateClient surname,given_name")
        .into_inner();
    assert_eq!(updated.surname, "Jansen");
    assert_eq!(updated.given_name, "Jo");
    assert_eq!(updated.notes, created.notes);
    assert_eq!(updated.casemanager, "cm-bert");
    assert_eq!(updated.revision.unwrap().version, 3);

    // A path that is not an updatable field is rejected.
    let result = anna
        .clients
        .update_client(UpdateClientRequest {
            client: Some(Client {
                name: created.name.clone(),
                gemeente: "0599".into(),
                ..Default::default()
            }),
            update_mask: mask(&["gemeente"]),
            version: 3,
            change: Some(reason("verhuizing")),
        })
        .await;
    assert_invalid(result, "update_mask");
    assert_eq!(anna.client_versions(&created.name).await.len(), 3);
    app.cleanup().await;
}

async fn update_with_empty_mask_replaces_all_fields(app: TestApp) {
    let mut anna = app.anna();
    let created = anna.create_client(sample_client(&bsn(31))).await;
    let new_bsn = bsn(32);
    let replacement = Client {
        name: created.name.clone(),
        bsn: new_bsn.clone(),
        given_name: "Pieter".into(),
        surname_prefix: "".into(),
        surname: "Bakker".into(),
        birth_date: Some(date(1985, 1, 31)),
        education_level: EducationLevel::HavoVwoMbo as i32,
        work_experience: "".into(),
        skills: vec![],
        wishes: "".into(),
        notes: "".into(),
        casemanager: "cm-bert".into(),
        ..Default::default()
    };
    let updated = anna
        .clients
        .update_client(UpdateClientRequest {
            client: Some(replacement.clone()),
            update_mask: None,
            version: 1,
            change: Some(reason("correctie intake")),
        })
        .await
        .expect("UpdateClient without mask")
        .into_inner();
    assert_eq!(updated.bsn, new_bsn);
    assert_eq!(updated.given_name, "Pieter");
    assert_eq!(updated.surname_prefix, "");
    assert_eq!(updated.surname, "Bakker");
    assert_eq!(updated.birth_date, Some(date(1985, 1, 31)));
    assert_eq!(updated.education_level, EducationLevel::HavoVwoMbo as i32);
    assert!(updated.skills.is_empty());
    assert_eq!(updated.notes, "");
    assert_eq!(updated.casemanager, "cm-bert");
    assert_eq!(updated.revision.unwrap().version, 2);
    app.cleanup().await;
}

async fn update_with_stale_version_is_aborted(app: TestApp) {
    let mut anna = app.anna();
    let created = anna.create_client(sample_client(&bsn(40))).await;
    let v2 = anna
        .clients
        .update_client(UpdateClientRequest {
            client: Some(Client {
                name: created.name.clone(),
                notes: "eerste wijziging".into(),
                ..Default::default()
            }),
            update_mask: mask(&["notes"]),
            version: 1,
            change: Some(reason("gesprek")),
        })
        .await
        .expect("first update")
        .into_inner();
    assert_eq!(v2.revision.as_ref().unwrap().version, 2);

    for stale in [1, 3, 99] {
        let result = anna
            .clients
            .update_client(UpdateClientRequest {
                client: Some(Client {
                    name: created.name.clone(),
                    notes: format!("gebaseerd op versie {stale}"),
                    ..Default::default()
                }),
                update_mask: mask(&["notes"]),
                version: stale,
                change: Some(reason("gesprek")),
            })
            .await;
        assert_code(result, Code::Aborted);
    }

    let versions = anna.client_versions(&created.name).await;
    assert_eq!(versions.len(), 2, "an aborted update writes nothing");
    let got = anna
        .clients
        .get_client(GetClientRequest {
            name: created.name.clone(),
            as_of: None,
        })
        .await
        .expect("GetClient")
        .into_inner();
    assert_eq!(got.notes, "eerste wijziging");
    assert_eq!(got.revision.unwrap().version, 2);
    app.cleanup().await;
}

async fn update_requires_reason_and_version(app: TestApp) {
    let mut anna = app.anna();
    let created = anna.create_client(sample_client(&bsn(50))).await;
    let change = |ctx: Option<ChangeContext>, version: i64| UpdateClientRequest {
        client: Some(Client {
            name: created.name.clone(),
            casemanager: "cm-bert".into(),
            ..Default::default()
        }),
        update_mask: mask(&["casemanager"]),
        version,
        change: ctx,
    };

    assert_invalid(
        anna.clients.update_client(change(None, 1)).await,
        "change.reason",
    );
    assert_invalid(
        anna.clients
            .update_client(change(Some(reason("")), 1))
            .await,
        "change.reason",
    );
    assert_invalid(
        anna.clients
            .update_client(change(Some(reason(&"x".repeat(501))), 1))
            .await,
        "change.reason",
    );
    assert_invalid(
        anna.clients
            .update_client(change(Some(reason("overdracht")), 0))
            .await,
        "version",
    );

    assert_eq!(anna.client_versions(&created.name).await.len(), 1);
    let got = anna
        .clients
        .get_client(GetClientRequest {
            name: created.name.clone(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.casemanager, "cm-anna");
    app.cleanup().await;
}

async fn update_validates_new_values(app: TestApp) {
    let mut anna = app.anna();
    let created = anna.create_client(sample_client(&bsn(60))).await;
    let upd = |client: Client, paths: &[&str]| UpdateClientRequest {
        client: Some(Client {
            name: created.name.clone(),
            ..client
        }),
        update_mask: mask(paths),
        version: 1,
        change: Some(reason("correctie")),
    };
    assert_invalid(
        anna.clients
            .update_client(upd(
                Client {
                    bsn: INVALID_BSN.into(),
                    ..Default::default()
                },
                &["bsn"],
            ))
            .await,
        "client.bsn",
    );
    assert_invalid(
        anna.clients
            .update_client(upd(
                Client {
                    birth_date: Some(date(2025, 2, 30)),
                    ..Default::default()
                },
                &["birth_date"],
            ))
            .await,
        "client.birth_date",
    );
    assert_invalid(
        anna.clients
            .update_client(upd(Client::default(), &["given_name"]))
            .await,
        "client.given_name",
    );
    assert_invalid(
        anna.clients
            .update_client(upd(
                Client {
                    education_level: 99,
                    ..Default::default()
                },
                &["education_level"],
            ))
            .await,
        "client.education_level",
    );

    // Changing the BSN to one another client of the gemeente has.
    let other_bsn = bsn(61);
    anna.create_client(sample_client(&other_bsn)).await;
    let result = anna
        .clients
        .update_client(upd(
            Client {
                bsn: other_bsn,
                ..Default::default()
            },
            &["bsn"],
        ))
        .await;
    assert_code(result, Code::AlreadyExists);

    assert_eq!(anna.client_versions(&created.name).await.len(), 1);
    app.cleanup().await;
}

async fn update_unknown_client_is_not_found(app: TestApp) {
    let mut anna = app.anna();
    let result = anna
        .clients
        .update_client(UpdateClientRequest {
            client: Some(Client {
                name: format!("clients/{}", uuid::Uuid::new_v4()),
                casemanager: "cm-bert".into(),
                ..Default::default()
            }),
            update_mask: mask(&["casemanager"]),
            version: 1,
            change: Some(reason("overdracht")),
        })
        .await;
    assert_code(result, Code::NotFound);
    app.cleanup().await;
}

async fn concurrent_updates_from_same_version_one_wins(app: TestApp) {
    let anna = app.anna();
    let bert = app.bert();
    let created = anna.clone().create_client(sample_client(&bsn(70))).await;

    for round in 1..=5i64 {
        let request = |who: &str| UpdateClientRequest {
            client: Some(Client {
                name: created.name.clone(),
                notes: format!("ronde {round} door {who}"),
                ..Default::default()
            }),
            update_mask: mask(&["notes"]),
            version: round,
            change: Some(reason(&format!("ronde {round}"))),
        };
        let mut a = anna.clone();
        let mut b = bert.clone();
        let ra = request("anna");
        let rb = request("bert");
        let (left, right) = tokio::join!(
            tokio::spawn(async move { a.clients.update_client(ra).await }),
            tokio::spawn(async move { b.clients.update_client(rb).await }),
        );
        let results = [left.unwrap(), right.unwrap()];
        let ok: Vec<_> = results.iter().filter(|r| r.is_ok()).collect();
        let aborted = results
            .iter()
            .filter(|r| matches!(r, Err(s) if s.code() == Code::Aborted))
            .count();
        assert_eq!(
            (ok.len(), aborted),
            (1, 1),
            "round {round}: exactly one update wins, the other is ABORTED: {results:?}"
        );
        let winner = ok[0].as_ref().unwrap().get_ref();
        assert_eq!(winner.revision.as_ref().unwrap().version, round + 1);
    }

    let versions = anna.clone().client_versions(&created.name).await;
    assert_eq!(versions.len(), 6);
    for (i, v) in versions.iter().enumerate() {
        assert_eq!(v.revision.as_ref().unwrap().version, i as i64 + 1);
    }
    app.cleanup().await;
}
