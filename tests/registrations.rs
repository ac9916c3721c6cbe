//! RegistrationService: episodes of bijstand, IOAW, nugger, ... per client.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    CreateRegistrationRequest, GetRegistrationRequest, ListRegistrationVersionsRequest,
    ListRegistrationsRequest, Registration, RegistrationKind, Source, UpdateRegistrationRequest,
};
use clientvolg::proto::google::r#type::Date;
use common::*;
use tonic::Code;

both_databases!(
    create_end_and_correct,
    bad_registrations_are_rejected,
    overlapping_episodes_of_one_kind_are_refused,
    different_kinds_may_overlap,
    list_is_ordered_by_start_date,
    get_registration_as_of,
    stale_update_is_aborted,
);

fn episode(kind: RegistrationKind, start: Date, end: Option<Date>) -> Registration {
    Registration {
        kind: kind as i32,
        start_date: Some(start),
        end_date: end,
        ..Default::default()
    }
}

fn create_req(client: &str, reg: Registration) -> CreateRegistrationRequest {
    CreateRegistrationRequest {
        parent: client.into(),
        registration: Some(reg),
        change: Some(reason("aanvraag toegekend")),
    }
}

async fn create(c: &mut Clients, client: &str, reg: Registration) -> Registration {
    c.registrations
        .create_registration(create_req(client, reg))
        .await
        .expect("CreateRegistration")
        .into_inner()
}

async fn list(c: &mut Clients, client: &str) -> Vec<Registration> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .registrations
            .list_registrations(ListRegistrationsRequest {
                parent: client.into(),
                page_size: 2,
                page_token: token.clone(),
                as_of: None,
            })
            .await
            .expect("ListRegistrations")
            .into_inner();
        out.extend(page.registrations);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

async fn create_end_and_correct(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(300))).await;

    let reg = create(
        &mut anna,
        &client.name,
        episode(RegistrationKind::Bijstand, date(2024, 1, 1), None),
    )
    .await;
    assert!(
        reg.name
            .starts_with(&format!("{}/registrations/", client.name)),
        "name {}",
        reg.name
    );
    assert_eq!(reg.kind, RegistrationKind::Bijstand as i32);
    assert_eq!(reg.start_date, Some(date(2024, 1, 1)));
    assert_eq!(reg.end_date, None, "a running episode has no end date");
    let rev = reg.revision.clone().unwrap();
    assert_eq!(rev.version, 1);
    assert_eq!(rev.actor, "cm-anna");
    assert_eq!(rev.actor_role, "casemanager");
    assert_eq!(rev.source, Source::Casemanager as i32);
    assert_eq!(rev.reason, "aanvraag toegekend");

    // End it: only end_date in the mask.
    let ended = anna
        .registrations
        .update_registration(UpdateRegistrationRequest {
            registration: Some(Registration {
                name: reg.name.clone(),
                end_date: Some(date(2024, 12, 31)),
                ..Default::default()
            }),
            update_mask: mask(&["end_date"]),
            version: 1,
            change: Some(reason("uitstroom naar werk")),
        })
        .await
        .expect("end the episode")
        .into_inner();
    assert_eq!(ended.kind, RegistrationKind::Bijstand as i32);
    assert_eq!(ended.start_date, Some(date(2024, 1, 1)));
    assert_eq!(ended.end_date, Some(date(2024, 12, 31)));
    assert_eq!(ended.revision.as_ref().unwrap().version, 2);
    assert_eq!(
        ended.revision.as_ref().unwrap().reason,
        "uitstroom naar werk"
    );

    // Correct the start date.
    let corrected = app
        .bert()
        .registrations
        .update_registration(UpdateRegistrationRequest {
            registration: Some(Registration {
                name: reg.name.clone(),
                start_date: Some(date(2024, 2, 1)),
                ..Default::default()
            }),
            update_mask: mask(&["start_date"]),
            version: 2,
            change: Some(reason("startdatum volgens beschikking")),
        })
        .await
        .expect("correct the start")
        .into_inner();
    assert_eq!(corrected.start_date, Some(date(2024, 2, 1)));
    assert_eq!(corrected.end_date, Some(date(2024, 12, 31)));
    assert_eq!(corrected.revision.as_ref().unwrap().version, 3);
    assert_eq!(corrected.revision.as_ref().unwrap().actor, "cm-bert");

    // Reopen it: end_date in the mask, absent in the message.
    let reopened = anna
        .registrations
        .update_registration(UpdateRegistrationRequest {
            registration: Some(Registration {
                name: reg.name.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["end_date"]),
            version: 3,
            change: Some(reason("uitstroom ging niet door")),
        })
        .await
        .expect("reopen")
        .into_inner();
    assert_eq!(reopened.end_date, None);
    assert_eq!(reopened.start_date, Some(date(2024, 2, 1)));
    assert_eq!(reopened.revision.as_ref().unwrap().version, 4);

    let got = anna
        .registrations
        .get_registration(GetRegistrationRequest {
            name: reg.name.clone(),
            as_of: None,
        })
        .await
        .expect("GetRegistration")
        .into_inner();
    assert_eq!(got, reopened);

    let versions = anna
        .registrations
        .list_registration_versions(ListRegistrationVersionsRequest {
            name: reg.name.clone(),
            ..Default::default()
        })
        .await
        .expect("ListRegistrationVersions")
        .into_inner()
        .versions;
    let summary: Vec<(i64, String, Option<Date>, Option<Date>)> = versions
        .iter()
        .map(|v| {
            let r = v.revision.as_ref().unwrap();
            (r.version, r.reason.clone(), v.start_date, v.end_date)
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, "aanvraag toegekend".into(), Some(date(2024, 1, 1)), None),
            (
                2,
                "uitstroom naar werk".into(),
                Some(date(2024, 1, 1)),
                Some(date(2024, 12, 31))
            ),
            (
                3,
                "startdatum volgens beschikking".into(),
                Some(date(2024, 2, 1)),
                Some(date(2024, 12, 31))
            ),
            (
                4,
                "uitstroom ging niet door".into(),
                Some(date(2024, 2, 1)),
                None
            ),
        ]
    );

    // Updates need a reason.
    let result = anna
        .registrations
        .update_registration(UpdateRegistrationRequest {
            registration: Some(Registration {
                name: reg.name.clone(),
                end_date: Some(date(2025, 1, 31)),
                ..Default::default()
            }),
            update_mask: mask(&["end_date"]),
            version: 4,
            change: Some(reason("")),
        })
        .await;
    assert_invalid(result, "change.reason");
    assert_eq!(list(&mut anna, &client.name).await.len(), 1);
    app.cleanup().await;
}

async fn bad_registrations_are_rejected(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(310))).await;
    let bad = [
        (
            episode(
                RegistrationKind::Bijstand,
                date(2024, 6, 1),
                Some(date(2024, 5, 31)),
            ),
            "registration.end_date",
        ),
        (
            episode(RegistrationKind::Unspecified, date(2024, 6, 1), None),
            "registration.kind",
        ),
        (
            Registration {
                kind: 42,
                start_date: Some(date(2024, 6, 1)),
                ..Default::default()
            },
            "registration.kind",
        ),
        (
            Registration {
                kind: RegistrationKind::Bijstand as i32,
                ..Default::default()
            },
            "registration.start_date",
        ),
        (
            episode(RegistrationKind::Bijstand, date(2024, 2, 30), None),
            "registration.start_date",
        ),
        (
            episode(
                RegistrationKind::Bijstand,
                date(2024, 1, 1),
                Some(date(2024, 4, 31)),
            ),
            "registration.end_date",
        ),
    ];
    for (reg, field) in bad {
        let result = anna
            .registrations
            .create_registration(create_req(&client.name, reg))
            .await;
        assert_invalid(result, field);
    }
    let result = anna
        .registrations
        .create_registration(create_req(
            "clients/",
            episode(RegistrationKind::Bijstand, date(2024, 1, 1), None),
        ))
        .await;
    assert_invalid(result, "parent");
    assert!(list(&mut anna, &client.name).await.is_empty());

    // A one-day episode (end == start) is fine.
    create(
        &mut anna,
        &client.name,
        episode(
            RegistrationKind::Nugger,
            date(2024, 6, 1),
            Some(date(2024, 6, 1)),
        ),
    )
    .await;

    // Ending before the start on update is rejected as well.
    let reg = create(
        &mut anna,
        &client.name,
        episode(RegistrationKind::Bijstand, date(2024, 6, 1), None),
    )
    .await;
    let result = anna
        .registrations
        .update_registration(UpdateRegistrationRequest {
            registration: Some(Registration {
                name: reg.name.clone(),
                end_date: Some(date(2024, 1, 1)),
                ..Default::default()
            }),
            update_mask: mask(&["end_date"]),
            version: 1,
            change: Some(reason("beëindigd")),
        })
        .await;
    assert_invalid(result, "registration.end_date");

    // Unknown client.
    let result = anna
        .registrations
        .create_registration(create_req(
            &format!("clients/{}", uuid::Uuid::new_v4()),
            episode(RegistrationKind::Bijstand, date(2024, 1, 1), None),
        ))
        .await;
    assert_code(result, Code::NotFound);
    assert_eq!(list(&mut anna, &client.name).await.len(), 2);
    app.cleanup().await;
}

async fn overlapping_episodes_of_one_kind_are_refused(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(320))).await;
    let first = create(
        &mut anna,
        &client.name,
        episode(
            RegistrationKind::Bijstand,
            date(2024, 1, 1),
            Some(date(2024, 12, 31)),
        ),
    )
    .await;

    let overlapping = [
        episode(RegistrationKind::Bijstand, date(2024, 6, 1), None),
        episode(
            RegistrationKind::Bijstand,
            date(2023, 6, 1),
            Some(date(2024, 1, 1)),
        ),
        episode(
            RegistrationKind::Bijstand,
            date(2024, 12, 31),
            Some(date(2025, 3, 1)),
        ),
        episode(
            RegistrationKind::Bijstand,
            date(2024, 3, 1),
            Some(date(2024, 3, 31)),
        ),
        episode(RegistrationKind::Bijstand, date(2023, 1, 1), None),
    ];
    for reg in overlapping {
        let result = anna
            .registrations
            .create_registration(create_req(&client.name, reg.clone()))
            .await;
        let status = assert_code(result, Code::FailedPrecondition);
        assert!(!status.message().is_empty(), "say why: {reg:?}");
    }
    assert_eq!(
        list(&mut anna, &client.name).await.len(),
        1,
        "a refused episode writes nothing"
    );

    // Adjacent is not overlapping (end dates are inclusive).
    let second = create(
        &mut anna,
        &client.name,
        episode(RegistrationKind::Bijstand, date(2025, 1, 1), None),
    )
    .await;
    // Once a later episode runs, an open episode after it overlaps too.
    let result = anna
        .registrations
        .create_registration(create_req(
            &client.name,
            episode(RegistrationKind::Bijstand, date(2026, 1, 1), None),
        ))
        .await;
    assert_code(result, Code::FailedPrecondition);

    // An update that would make two episodes overlap is refused too.
    let result = anna
        .registrations
        .update_registration(UpdateRegistrationRequest {
            registration: Some(Registration {
                name: first.name.clone(),
                end_date: Some(date(2025, 2, 1)),
                ..Default::default()
            }),
            update_mask: mask(&["end_date"]),
            version: 1,
            change: Some(reason("verlengd")),
        })
        .await;
    assert_code(result, Code::FailedPrecondition);
    let got = anna
        .registrations
        .get_registration(GetRegistrationRequest {
            name: first.name.clone(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.end_date, Some(date(2024, 12, 31)));
    assert_eq!(got.revision.unwrap().version, 1);

    // Another client may have the same episode.
    let other = anna.create_client(sample_client(&bsn(321))).await;
    create(
        &mut anna,
        &other.name,
        episode(RegistrationKind::Bijstand, date(2024, 6, 1), None),
    )
    .await;

    let listed = list(&mut anna, &client.name).await;
    assert_eq!(
        listed.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        vec![first.name, second.name]
    );
    app.cleanup().await;
}

async fn different_kinds_may_overlap(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(330))).await;
    create(
        &mut anna,
        &client.name,
        episode(RegistrationKind::Bijstand, date(2024, 1, 1), None),
    )
    .await;
    create(
        &mut anna,
        &client.name,
        episode(RegistrationKind::Anw, date(2024, 3, 1), None),
    )
    .await;
    create(
        &mut anna,
        &client.name,
        episode(
            RegistrationKind::Ioaw,
            date(2024, 2, 1),
            Some(date(2024, 8, 31)),
        ),
    )
    .await;
    assert_eq!(list(&mut anna, &client.name).await.len(), 3);
    app.cleanup().await;
}

async fn list_is_ordered_by_start_date(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(340))).await;
    let starts = [
        (RegistrationKind::Bijstand, date(2024, 5, 1)),
        (RegistrationKind::Nugger, date(2021, 1, 1)),
        (RegistrationKind::Ioaz, date(2023, 7, 15)),
        (RegistrationKind::Anw, date(2022, 2, 2)),
        (RegistrationKind::Ioaw, date(2024, 1, 1)),
    ];
    for (kind, start) in starts {
        create(&mut anna, &client.name, episode(kind, start, None)).await;
    }
    // Paged by two (see `list`).
    let listed = list(&mut anna, &client.name).await;
    let got: Vec<Date> = listed.iter().map(|r| r.start_date.unwrap()).collect();
    assert_eq!(
        got,
        vec![
            date(2021, 1, 1),
            date(2022, 2, 2),
            date(2023, 7, 15),
            date(2024, 1, 1),
            date(2024, 5, 1)
        ]
    );
    app.cleanup().await;
}

async fn get_registration_as_of(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(350))).await;
    let reg = create(
        &mut anna,
        &client.name,
        episode(RegistrationKind::Bijstand, date(2024, 1, 1), None),
    )
    .await;
    tick().await;
    let ended = anna
        .registrations
        .update_registration(UpdateRegistrationRequest {
            registration: Some(Registration {
                name: reg.name.clone(),
                end_date: Some(date(2024, 6, 30)),
                ..Default::default()
            }),
            update_mask: mask(&["end_date"]),
            version: 1,
            change: Some(reason("uitstroom")),
        })
        .await
        .unwrap()
        .into_inner();
    let as_of = between(record_micros(&reg.revision), record_micros(&ended.revision));
    let old = anna
        .registrations
        .get_registration(GetRegistrationRequest {
            name: reg.name.clone(),
            as_of: Some(as_of),
        })
        .await
        .expect("GetRegistration as_of")
        .into_inner();
    assert_eq!(old, reg);
    let listed_then = anna
        .registrations
        .list_registrations(ListRegistrationsRequest {
            parent: client.name.clone(),
            as_of: Some(as_of),
            ..Default::default()
        })
        .await
        .expect("ListRegistrations as_of")
        .into_inner()
        .registrations;
    assert_eq!(listed_then, vec![reg.clone()]);

    let result = anna
        .registrations
        .get_registration(GetRegistrationRequest {
            name: reg.name.clone(),
            as_of: Some(future_timestamp()),
        })
        .await;
    assert_invalid(result, "as_of");
    app.cleanup().await;
}

async fn stale_update_is_aborted(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(360))).await;
    let reg = create(
        &mut anna,
        &client.name,
        episode(RegistrationKind::Bijstand, date(2024, 1, 1), None),
    )
    .await;
    let upd = |version, end| UpdateRegistrationRequest {
        registration: Some(Registration {
            name: reg.name.clone(),
            end_date: Some(end),
            ..Default::default()
        }),
        update_mask: mask(&["end_date"]),
        version,
        change: Some(reason("uitstroom")),
    };
    anna.registrations
        .update_registration(upd(1, date(2024, 6, 30)))
        .await
        .expect("first update");
    let result = anna
        .registrations
        .update_registration(upd(1, date(2024, 3, 31)))
        .await;
    assert_code(result, Code::Aborted);
    let versions = anna
        .registrations
        .list_registration_versions(ListRegistrationVersionsRequest {
            name: reg.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .versions;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].end_date, Some(date(2024, 6, 30)));

    let result = anna
        .registrations
        .get_registration(GetRegistrationRequest {
            name: format!("{}/registrations/{}", client.name, uuid::Uuid::new_v4()),
            as_of: None,
        })
        .await;
    assert_code(result, Code::NotFound);
    app.cleanup().await;
}
