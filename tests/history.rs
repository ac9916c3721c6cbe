//! Versions and transaction time: ListClientVersions, `as_of` reads, and
//! record_times that only grow.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    ChangeContext, Client, GetClientRequest, ListClientVersionsRequest, ListClientsRequest, Source,
    UpdateClientRequest,
};
use common::*;
use tonic::Code;

both_databases!(
    versions_are_listed_oldest_first_with_who_why_and_source,
    versions_paginate,
    get_client_as_of_answers_the_version_known_then,
    as_of_in_the_future_is_rejected,
    record_times_strictly_increase,
    list_clients_as_of_hides_later_clients,
);

async fn update_notes(
    c: &mut Clients,
    name: &str,
    version: i64,
    notes: &str,
    ctx: ChangeContext,
) -> Client {
    c.clients
        .update_client(UpdateClientRequest {
            client: Some(Client {
                name: name.into(),
                notes: notes.into(),
                ..Default::default()
            }),
            update_mask: mask(&["notes"]),
            version,
            change: Some(ctx),
        })
        .await
        .expect("UpdateClient")
        .into_inner()
}

async fn versions_are_listed_oldest_first_with_who_why_and_source(app: TestApp) {
    let mut anna = app.anna();
    let mut bert = app.bert();
    let created = anna.create_client(sample_client(&bsn(100))).await;
    update_notes(&mut bert, &created.name, 1, "tweede", reason("gesprek 1")).await;
    update_notes(
        &mut anna,
        &created.name,
        2,
        "derde",
        ChangeContext {
            reason: "import correctie".into(),
            source: Source::Import as i32,
        },
    )
    .await;

    let versions = anna.client_versions(&created.name).await;
    assert_eq!(versions.len(), 3);
    let summary: Vec<(i64, String, String, String, i32)> = versions
        .iter()
        .map(|v| {
            let r = v.revision.clone().unwrap();
            (r.version, r.actor, r.actor_role, r.reason, r.source)
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                1,
                "cm-anna".into(),
                "casemanager".into(),
                "intake".into(),
                Source::Casemanager as i32
            ),
            (
                2,
                "cm-bert".into(),
                "casemanager".into(),
                "gesprek 1".into(),
                Source::Casemanager as i32
            ),
            (
                3,
                "cm-anna".into(),
                "casemanager".into(),
                "import correctie".into(),
                Source::Import as i32
            ),
        ]
    );
    // Each version is the whole client as it was after that change.
    assert_eq!(versions[0].notes, created.notes);
    assert_eq!(versions[1].notes, "tweede");
    assert_eq!(versions[2].notes, "derde");
    for v in &versions {
        assert_eq!(v.name, created.name);
        assert_eq!(v.bsn, created.bsn);
        assert_eq!(v.given_name, created.given_name);
    }

    // as_of on the version list: only versions recorded at or before it.
    let t2 = record_micros(&versions[1].revision);
    let upto2 = anna
        .clients
        .list_client_versions(ListClientVersionsRequest {
            name: created.name.clone(),
            as_of: Some(timestamp_from_micros(t2)),
            ..Default::default()
        })
        .await
        .expect("ListClientVersions as_of")
        .into_inner();
    let numbers: Vec<i64> = upto2
        .versions
        .iter()
        .map(|v| v.revision.as_ref().unwrap().version)
        .collect();
    assert_eq!(numbers, vec![1, 2]);

    // Unknown client.
    let result = anna
        .clients
        .list_client_versions(ListClientVersionsRequest {
            name: format!("clients/{}", uuid::Uuid::new_v4()),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::NotFound);
    app.cleanup().await;
}

async fn versions_paginate(app: TestApp) {
    let mut anna = app.anna();
    let created = anna.create_client(sample_client(&bsn(101))).await;
    for v in 1..5 {
        update_notes(&mut anna, &created.name, v, &format!("n{v}"), reason("r")).await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = anna
            .clients
            .list_client_versions(ListClientVersionsRequest {
                name: created.name.clone(),
                page_size: 2,
                page_token: token.clone(),
                as_of: None,
            })
            .await
            .expect("ListClientVersions page")
            .into_inner();
        assert!(page.versions.len() <= 2);
        pages += 1;
        seen.extend(
            page.versions
                .iter()
                .map(|v| v.revision.as_ref().unwrap().version),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, vec![1, 2, 3, 4, 5]);
    assert_eq!(pages, 3);

    let result = anna
        .clients
        .list_client_versions(ListClientVersionsRequest {
            name: created.name.clone(),
            page_size: 2,
            page_token: "not-a-token".into(),
            as_of: None,
        })
        .await;
    assert_invalid(result, "page_token");
    app.cleanup().await;
}

async fn get_client_as_of_answers_the_version_known_then(app: TestApp) {
    let mut anna = app.anna();
    let created = anna.create_client(sample_client(&bsn(110))).await;
    tick().await;
    let v2 = update_notes(&mut anna, &created.name, 1, "na gesprek", reason("gesprek")).await;
    let t1 = record_micros(&created.revision);
    let t2 = record_micros(&v2.revision);
    let between_1_and_2 = between(t1, t2);

    let get = |as_of| GetClientRequest {
        name: created.name.clone(),
        as_of,
    };
    let old = anna
        .clients
        .get_client(get(Some(between_1_and_2)))
        .await
        .expect("GetClient as_of")
        .into_inner();
    assert_eq!(old.revision.as_ref().unwrap().version, 1);
    assert_eq!(old.notes, created.notes);
    assert_eq!(old, created, "as_of answers version 1 exactly as it was");

    // At exactly a record_time, that version is known.
    let at_t2 = anna
        .clients
        .get_client(get(Some(timestamp_from_micros(t2))))
        .await
        .expect("GetClient as_of = t2")
        .into_inner();
    assert_eq!(at_t2.revision.as_ref().unwrap().version, 2);

    // Later changes do not change what was known at that moment.
    tick().await;
    update_notes(
        &mut anna,
        &created.name,
        2,
        "nog later",
        reason("gesprek 2"),
    )
    .await;
    let old_again = anna
        .clients
        .get_client(get(Some(between_1_and_2)))
        .await
        .expect("GetClient as_of after a third version")
        .into_inner();
    assert_eq!(old_again, old);

    let now = anna
        .clients
        .get_client(get(None))
        .await
        .expect("GetClient now")
        .into_inner();
    assert_eq!(now.revision.as_ref().unwrap().version, 3);
    assert_eq!(now.notes, "nog later");

    // Before the client existed it is not found.
    let result = anna
        .clients
        .get_client(get(Some(timestamp_from_micros(t1 - 1_000_000))))
        .await;
    assert_code(result, Code::NotFound);
    app.cleanup().await;
}

async fn as_of_in_the_future_is_rejected(app: TestApp) {
    let mut anna = app.anna();
    let created = anna.create_client(sample_client(&bsn(120))).await;
    let result = anna
        .clients
        .get_client(GetClientRequest {
            name: created.name.clone(),
            as_of: Some(future_timestamp()),
        })
        .await;
    assert_invalid(result, "as_of");

    let result = anna
        .clients
        .list_clients(ListClientsRequest {
            parent: GEMEENTE.into(),
            as_of: Some(future_timestamp()),
            ..Default::default()
        })
        .await;
    assert_invalid(result, "as_of");

    let result = anna
        .clients
        .list_client_versions(ListClientVersionsRequest {
            name: created.name.clone(),
            as_of: Some(future_timestamp()),
            ..Default::default()
        })
        .await;
    assert_invalid(result, "as_of");
    app.cleanup().await;
}

async fn record_times_strictly_increase(app: TestApp) {
    // No sleeps: the server itself must hand out growing record_times.
    let mut anna = app.anna();
    let mut times = Vec::new();
    let a = anna.create_client(sample_client(&bsn(130))).await;
    times.push(record_micros(&a.revision));
    let b = anna.create_client(sample_client(&bsn(131))).await;
    times.push(record_micros(&b.revision));
    for v in 1..=3 {
        let u = update_notes(&mut anna, &a.name, v, &format!("n{v}"), reason("r")).await;
        times.push(record_micros(&u.revision));
    }
    for w in times.windows(2) {
        assert!(
            w[0] < w[1],
            "record_times must strictly increase: {times:?}"
        );
    }
    // ...and are what the version list reports.
    let versions = anna.client_versions(&a.name).await;
    let listed: Vec<i64> = versions
        .iter()
        .map(|v| record_micros(&v.revision))
        .collect();
    assert_eq!(listed, vec![times[0], times[2], times[3], times[4]]);
    app.cleanup().await;
}

async fn list_clients_as_of_hides_later_clients(app: TestApp) {
    let mut anna = app.anna();
    let first = anna.create_client(sample_client(&bsn(140))).await;
    tick().await;
    let second = anna.create_client(sample_client(&bsn(141))).await;
    let as_of = between(
        record_micros(&first.revision),
        record_micros(&second.revision),
    );
    let page = anna
        .clients
        .list_clients(ListClientsRequest {
            parent: GEMEENTE.into(),
            as_of: Some(as_of),
            ..Default::default()
        })
        .await
        .expect("ListClients as_of")
        .into_inner();
    let names: Vec<_> = page.clients.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, vec![first.name.clone()]);
    app.cleanup().await;
}
