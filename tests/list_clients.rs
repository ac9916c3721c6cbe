//! ListClients: order, pagination at one moment, page tokens and filters.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    Classification, Client, CreateClassificationRequest, CreateDoelgroepAssignmentRequest,
    CreateDoelgroepRequest, Doelgroep, DoelgroepAssignment, Fase, ListClientsRequest, Trede,
    classification,
};
use clientvolg::proto::google::r#type::Date;
use common::*;

both_databases!(
    pages_of_three,
    page_size_defaults_and_limits,
    later_pages_are_read_at_the_moment_of_the_first,
    bad_page_token_is_rejected,
    filter_by_casemanager,
    filter_by_fase_on_date,
    filter_by_doelgroep_on_date,
    bad_parent_is_rejected,
);

fn names(clients: &[Client]) -> Vec<String> {
    clients.iter().map(|c| c.name.clone()).collect()
}

async fn list(c: &mut Clients, req: ListClientsRequest) -> Vec<Client> {
    let mut out = Vec::new();
    let mut req = req;
    loop {
        let page = c
            .clients
            .list_clients(req.clone())
            .await
            .expect("ListClients")
            .into_inner();
        out.extend(page.clients);
        if page.next_page_token.is_empty() {
            return out;
        }
        req.page_token = page.next_page_token;
    }
}

fn filter() -> ListClientsRequest {
    ListClientsRequest {
        parent: GEMEENTE.into(),
        ..Default::default()
    }
}

async fn pages_of_three(app: TestApp) {
    let mut anna = app.anna();
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(anna.create_client(sample_client(&bsn(200 + i))).await.name);
    }
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = anna
            .clients
            .list_clients(ListClientsRequest {
                parent: GEMEENTE.into(),
                page_size: 3,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("ListClients")
            .into_inner();
        sizes.push(page.clients.len());
        seen.extend(names(&page.clients));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
        assert!(sizes.len() < 10, "pagination does not end");
    }
    assert_eq!(sizes, vec![3, 3, 1]);
    assert_eq!(seen, created, "ordered by creation, each client once");
    app.cleanup().await;
}

async fn page_size_defaults_and_limits(app: TestApp) {
    let mut anna = app.anna();
    for i in 0..3 {
        anna.create_client(sample_client(&bsn(210 + i))).await;
    }
    for page_size in [0, 501, 100_000] {
        let page = anna
            .clients
            .list_clients(ListClientsRequest {
                page_size,
                ..filter()
            })
            .await
            .expect("ListClients")
            .into_inner();
        assert_eq!(page.clients.len(), 3, "page_size {page_size}");
        assert!(page.next_page_token.is_empty());
    }
    app.cleanup().await;
}

async fn later_pages_are_read_at_the_moment_of_the_first(app: TestApp) {
    let mut anna = app.anna();
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(anna.create_client(sample_client(&bsn(220 + i))).await);
    }
    let first = anna
        .clients
        .list_clients(ListClientsRequest {
            page_size: 3,
            ..filter()
        })
        .await
        .expect("page 1")
        .into_inner();
    assert_eq!(first.clients.len(), 3);
    assert!(!first.next_page_token.is_empty());

    // Written between page 1 and page 2: a new client, and a change to one
    // that is still to come.
    let late = anna.create_client(sample_client(&bsn(230))).await;
    let changed = anna
        .clients
        .update_client(clientvolg::proto::clientvolg::v1::UpdateClientRequest {
            client: Some(Client {
                name: created[4].name.clone(),
                notes: "gewijzigd tussen de pagina's".into(),
                ..Default::default()
            }),
            update_mask: mask(&["notes"]),
            version: 1,
            change: Some(reason("gesprek")),
        })
        .await
        .expect("update between pages")
        .into_inner();
    assert_eq!(changed.revision.unwrap().version, 2);

    let mut rest = Vec::new();
    let mut token = first.next_page_token.clone();
    while !token.is_empty() {
        let page = anna
            .clients
            .list_clients(ListClientsRequest {
                page_size: 3,
                page_token: token.clone(),
                ..filter()
            })
            .await
            .expect("next page")
            .into_inner();
        rest.extend(page.clients);
        token = page.next_page_token;
    }
    assert_eq!(names(&rest), names(&created[3..]));
    assert!(!names(&rest).contains(&late.name));
    let last = rest.last().unwrap();
    assert_eq!(
        last.notes, created[4].notes,
        "page 2 shows the client as it was at page 1"
    );
    assert_eq!(last.revision.as_ref().unwrap().version, 1);

    // A new listing sees everything.
    assert_eq!(anna.list_all_clients().await.len(), 6);
    app.cleanup().await;
}

async fn bad_page_token_is_rejected(app: TestApp) {
    let mut anna = app.anna();
    for i in 0..3 {
        anna.create_client(sample_client(&bsn(240 + i))).await;
    }
    for token in ["garbage", "!!!", "clients/0363"] {
        let result = anna
            .clients
            .list_clients(ListClientsRequest {
                page_size: 1,
                page_token: token.into(),
                ..filter()
            })
            .await;
        assert_invalid(result, "page_token");
    }

    app.cleanup().await;
}

async fn filter_by_casemanager(app: TestApp) {
    let mut anna = app.anna();
    let a1 = anna.create_client(sample_client(&bsn(250))).await;
    let b1 = anna
        .create_client(Client {
            casemanager: "cm-bert".into(),
            ..sample_client(&bsn(251))
        })
        .await;
    let a2 = anna.create_client(sample_client(&bsn(252))).await;

    let of_anna = list(
        &mut anna,
        ListClientsRequest {
            casemanager: "cm-anna".into(),
            ..filter()
        },
    )
    .await;
    assert_eq!(names(&of_anna), vec![a1.name.clone(), a2.name.clone()]);
    let of_bert = list(
        &mut anna,
        ListClientsRequest {
            casemanager: "cm-bert".into(),
            ..filter()
        },
    )
    .await;
    assert_eq!(names(&of_bert), vec![b1.name.clone()]);
    let of_nobody = list(
        &mut anna,
        ListClientsRequest {
            casemanager: "cm-nobody".into(),
            ..filter()
        },
    )
    .await;
    assert!(of_nobody.is_empty());
    app.cleanup().await;
}

async fn classify(c: &mut Clients, client: &str, fase: Fase, from: Date) {
    c.classifications
        .create_classification(CreateClassificationRequest {
            parent: client.into(),
            classification: Some(Classification {
                value: Some(classification::Value::Fase(fase as i32)),
                valid_from: Some(from),
                motivation: "test".into(),
                ..Default::default()
            }),
            change: Some(reason("diagnose")),
        })
        .await
        .expect("CreateClassification");
}

async fn filter_by_fase_on_date(app: TestApp) {
    let mut anna = app.anna();
    let a = anna.create_client(sample_client(&bsn(260))).await;
    let b = anna.create_client(sample_client(&bsn(261))).await;
    let c = anna.create_client(sample_client(&bsn(262))).await;
    classify(&mut anna, &a.name, Fase::Fase2, date(2025, 1, 1)).await;
    classify(&mut anna, &a.name, Fase::Fase3, date(2025, 6, 1)).await;
    classify(&mut anna, &b.name, Fase::Fase3, date(2025, 1, 1)).await;
    // A trede is another scheme and does not count as a fase.
    anna.classifications
        .create_classification(CreateClassificationRequest {
            parent: c.name.clone(),
            classification: Some(Classification {
                value: Some(classification::Value::Trede(Trede::Trede2 as i32)),
                valid_from: Some(date(2025, 1, 1)),
                ..Default::default()
            }),
            change: Some(reason("diagnose")),
        })
        .await
        .expect("CreateClassification trede");

    let by = |fase: Fase, on: Date| ListClientsRequest {
        fase: fase as i32,
        on_date: Some(on),
        ..filter()
    };
    let m = date(2025, 3, 1);
    assert_eq!(
        names(&list(&mut anna, by(Fase::Fase2, m)).await),
        vec![a.name.clone()]
    );
    assert_eq!(
        names(&list(&mut anna, by(Fase::Fase3, m)).await),
        vec![b.name.clone()]
    );
    assert_eq!(
        names(&list(&mut anna, by(Fase::NietIngedeeld, m)).await),
        vec![c.name.clone()]
    );
    assert!(list(&mut anna, by(Fase::Fase1, m)).await.is_empty());

    let june = date(2025, 6, 1);
    assert!(list(&mut anna, by(Fase::Fase2, june)).await.is_empty());
    assert_eq!(
        names(&list(&mut anna, by(Fase::Fase3, june)).await),
        vec![a.name.clone(), b.name.clone()]
    );

    let before = date(2024, 12, 31);
    assert_eq!(
        names(&list(&mut anna, by(Fase::NietIngedeeld, before)).await),
        vec![a.name.clone(), b.name.clone(), c.name.clone()]
    );
    assert!(list(&mut anna, by(Fase::Fase3, before)).await.is_empty());

    // Combined with the casemanager filter.
    let combined = list(
        &mut anna,
        ListClientsRequest {
            casemanager: "cm-bert".into(),
            ..by(Fase::Fase3, june)
        },
    )
    .await;
    assert!(combined.is_empty());

    // An unknown fase value is bad input.
    let result = anna
        .clients
        .list_clients(ListClientsRequest {
            fase: 99,
            on_date: Some(m),
            ..filter()
        })
        .await;
    assert_invalid(result, "fase");
    let result = anna
        .clients
        .list_clients(ListClientsRequest {
            fase: Fase::Fase2 as i32,
            on_date: Some(date(2025, 2, 30)),
            ..filter()
        })
        .await;
    assert_invalid(result, "on_date");
    app.cleanup().await;
}

async fn filter_by_doelgroep_on_date(app: TestApp) {
    let mut beheerder = app.beheerder();
    for code in ["JONGEREN", "STATUSHOUDERS"] {
        beheerder
            .doelgroepen
            .create_doelgroep(CreateDoelgroepRequest {
                parent: GEMEENTE.into(),
                doelgroep: Some(Doelgroep {
                    code: code.into(),
                    display_name: code.to_lowercase(),
                    ..Default::default()
                }),
                change: None,
            })
            .await
            .expect("CreateDoelgroep");
    }
    let mut anna = app.anna();
    let a = anna.create_client(sample_client(&bsn(270))).await;
    let b = anna.create_client(sample_client(&bsn(271))).await;
    let _c = anna.create_client(sample_client(&bsn(272))).await;
    let assign = |client: &str, codes: &[&str], from: Date| CreateDoelgroepAssignmentRequest {
        parent: client.into(),
        assignment: Some(DoelgroepAssignment {
            codes: codes.iter().map(|s| s.to_string()).collect(),
            valid_from: Some(from),
            ..Default::default()
        }),
        change: Some(reason("intake")),
    };
    for req in [
        assign(&a.name, &["JONGEREN"], date(2025, 1, 1)),
        assign(&a.name, &[], date(2025, 7, 1)),
        assign(&b.name, &["JONGEREN", "STATUSHOUDERS"], date(2025, 3, 1)),
    ] {
        anna.doelgroepen
            .create_doelgroep_assignment(req)
            .await
            .expect("CreateDoelgroepAssignment");
    }
    let by = |code: &str, on: Date| ListClientsRequest {
        doelgroep: code.into(),
        on_date: Some(on),
        ..filter()
    };
    assert_eq!(
        names(&list(&mut anna, by("JONGEREN", date(2025, 2, 1))).await),
        vec![a.name.clone()]
    );
    assert_eq!(
        names(&list(&mut anna, by("JONGEREN", date(2025, 3, 1))).await),
        vec![a.name.clone(), b.name.clone()]
    );
    assert_eq!(
        names(&list(&mut anna, by("JONGEREN", date(2025, 7, 1))).await),
        vec![b.name.clone()]
    );
    assert_eq!(
        names(&list(&mut anna, by("STATUSHOUDERS", date(2025, 8, 1))).await),
        vec![b.name.clone()]
    );
    assert!(
        list(&mut anna, by("JONGEREN", date(2024, 12, 31)))
            .await
            .is_empty()
    );
    assert!(
        list(&mut anna, by("STATUSHOUDERS", date(2025, 2, 28)))
            .await
            .is_empty()
    );
    app.cleanup().await;
}

async fn bad_parent_is_rejected(app: TestApp) {
    let mut anna = app.anna();
    for parent in ["", "gemeenten/36", "gemeenten/03633", "0363"] {
        let result = anna
            .clients
            .list_clients(ListClientsRequest {
                parent: parent.into(),
                ..Default::default()
            })
            .await;
        assert_invalid(result, "parent");
    }
    app.cleanup().await;
}
