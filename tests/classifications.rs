//! ClassificationService: fase-indeling and participatieladder as a history.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    Classification, ClassificationScheme, CreateClassificationRequest, Fase,
    GetClassificationRequest, ListClassificationVersionsRequest, ListClassificationsRequest,
    LookupClassificationRequest, LookupClassificationResponse, Trede, UpdateClassificationRequest,
    classification, lookup_classification_response,
};
use clientvolg::proto::google::r#type::Date;
use common::*;
use tonic::Code;

both_databases!(
    fase_lookup_follows_valid_from,
    participatieladder_is_independent_of_fase,
    correction_keeps_the_old_answer_for_earlier_as_of,
    duplicate_valid_from_is_refused,
    bad_values_are_rejected,
    list_and_versions,
);

fn fase(f: Fase, from: Date) -> Classification {
    Classification {
        value: Some(classification::Value::Fase(f as i32)),
        valid_from: Some(from),
        motivation: "Na diagnosegesprek.".into(),
        ..Default::default()
    }
}

fn trede(t: Trede, from: Date) -> Classification {
    Classification {
        value: Some(classification::Value::Trede(t as i32)),
        valid_from: Some(from),
        ..Default::default()
    }
}

fn create_req(client: &str, c: Classification) -> CreateClassificationRequest {
    CreateClassificationRequest {
        parent: client.into(),
        classification: Some(c),
        change: Some(reason("diagnose")),
    }
}

async fn create(c: &mut Clients, client: &str, cl: Classification) -> Classification {
    c.classifications
        .create_classification(create_req(client, cl))
        .await
        .expect("CreateClassification")
        .into_inner()
}

async fn lookup(
    c: &mut Clients,
    client: &str,
    scheme: ClassificationScheme,
    on: Date,
    as_of: Option<prost_types::Timestamp>,
) -> LookupClassificationResponse {
    c.classifications
        .lookup_classification(LookupClassificationRequest {
            parent: client.into(),
            scheme: scheme as i32,
            date: Some(on),
            as_of,
        })
        .await
        .expect("LookupClassification")
        .into_inner()
}

async fn fase_on(c: &mut Clients, client: &str, on: Date) -> (Fase, Option<Classification>) {
    let r = lookup(c, client, ClassificationScheme::Fase, on, None).await;
    match r.value {
        Some(lookup_classification_response::Value::Fase(f)) => {
            (Fase::try_from(f).expect("known fase"), r.classification)
        }
        other => panic!("fase lookup answered {other:?}"),
    }
}

async fn trede_on(c: &mut Clients, client: &str, on: Date) -> Trede {
    let r = lookup(
        c,
        client,
        ClassificationScheme::Participatieladder,
        on,
        None,
    )
    .await;
    match r.value {
        Some(lookup_classification_response::Value::Trede(t)) => {
            Trede::try_from(t).expect("known trede")
        }
        other => panic!("trede lookup answered {other:?}"),
    }
}

async fn fase_lookup_follows_valid_from(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(400))).await;
    let f2 = create(&mut anna, &client.name, fase(Fase::Fase2, date(2025, 1, 1))).await;
    assert!(
        f2.name
            .starts_with(&format!("{}/classifications/", client.name)),
        "name {}",
        f2.name
    );
    assert_eq!(
        f2.classifier, "cm-anna",
        "classifier defaults to the caller"
    );
    assert_eq!(f2.motivation, "Na diagnosegesprek.");
    let rev = f2.revision.clone().unwrap();
    assert_eq!((rev.version, rev.actor.as_str()), (1, "cm-anna"));
    let f3 = create(&mut anna, &client.name, fase(Fase::Fase3, date(2025, 6, 1))).await;

    let (v, from) = fase_on(&mut anna, &client.name, date(2024, 12, 31)).await;
    assert_eq!(v, Fase::NietIngedeeld);
    assert!(from.is_none(), "niet ingedeeld has no classification");

    let (v, from) = fase_on(&mut anna, &client.name, date(2025, 1, 1)).await;
    assert_eq!(v, Fase::Fase2);
    assert_eq!(from.unwrap().name, f2.name);

    let (v, _) = fase_on(&mut anna, &client.name, date(2025, 3, 1)).await;
    assert_eq!(v, Fase::Fase2);
    let (v, _) = fase_on(&mut anna, &client.name, date(2025, 5, 31)).await;
    assert_eq!(v, Fase::Fase2);

    let (v, from) = fase_on(&mut anna, &client.name, date(2025, 6, 1)).await;
    assert_eq!(v, Fase::Fase3);
    assert_eq!(from.unwrap().name, f3.name);
    let (v, _) = fase_on(&mut anna, &client.name, date(2030, 1, 1)).await;
    assert_eq!(v, Fase::Fase3);

    // Created out of order: an earlier classification slots in before.
    create(
        &mut anna,
        &client.name,
        fase(Fase::Ontheffing, date(2024, 6, 1)),
    )
    .await;
    let (v, _) = fase_on(&mut anna, &client.name, date(2024, 12, 31)).await;
    assert_eq!(v, Fase::Ontheffing);
    let (v, _) = fase_on(&mut anna, &client.name, date(2025, 3, 1)).await;
    assert_eq!(v, Fase::Fase2);

    // Bad lookups.
    let result = anna
        .classifications
        .lookup_classification(LookupClassificationRequest {
            parent: client.name.clone(),
            scheme: ClassificationScheme::Unspecified as i32,
            date: Some(date(2025, 3, 1)),
            as_of: None,
        })
        .await;
    assert_invalid(result, "scheme");
    let result = anna
        .classifications
        .lookup_classification(LookupClassificationRequest {
            parent: client.name.clone(),
            scheme: ClassificationScheme::Fase as i32,
            date: None,
            as_of: None,
        })
        .await;
    assert_invalid(result, "date");
    let result = anna
        .classifications
        .lookup_classification(LookupClassificationRequest {
            parent: client.name.clone(),
            scheme: ClassificationScheme::Fase as i32,
            date: Some(date(2025, 3, 1)),
            as_of: Some(future_timestamp()),
        })
        .await;
    assert_invalid(result, "as_of");
    let result = anna
        .classifications
        .lookup_classification(LookupClassificationRequest {
            parent: format!("clients/{}", uuid::Uuid::new_v4()),
            scheme: ClassificationScheme::Fase as i32,
            date: Some(date(2025, 3, 1)),
            as_of: None,
        })
        .await;
    assert_code(result, Code::NotFound);
    app.cleanup().await;
}

async fn participatieladder_is_independent_of_fase(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(410))).await;
    create(&mut anna, &client.name, fase(Fase::Fase2, date(2025, 1, 1))).await;
    // Same valid_from in the other scheme is fine.
    create(
        &mut anna,
        &client.name,
        trede(Trede::Trede2, date(2025, 1, 1)),
    )
    .await;
    create(
        &mut anna,
        &client.name,
        trede(Trede::Trede4, date(2025, 4, 1)),
    )
    .await;

    assert_eq!(
        trede_on(&mut anna, &client.name, date(2024, 12, 31)).await,
        Trede::NietIngedeeld
    );
    assert_eq!(
        trede_on(&mut anna, &client.name, date(2025, 3, 1)).await,
        Trede::Trede2
    );
    assert_eq!(
        trede_on(&mut anna, &client.name, date(2025, 4, 1)).await,
        Trede::Trede4
    );
    // The ladder steps do not move the fase.
    let (v, _) = fase_on(&mut anna, &client.name, date(2025, 4, 1)).await;
    assert_eq!(v, Fase::Fase2);

    // A client with only a fase has no trede.
    let other = anna.create_client(sample_client(&bsn(411))).await;
    create(&mut anna, &other.name, fase(Fase::Fase1, date(2025, 1, 1))).await;
    assert_eq!(
        trede_on(&mut anna, &other.name, date(2025, 3, 1)).await,
        Trede::NietIngedeeld
    );
    app.cleanup().await;
}

async fn correction_keeps_the_old_answer_for_earlier_as_of(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(420))).await;
    let original = create(&mut anna, &client.name, fase(Fase::Fase2, date(2025, 1, 1))).await;
    tick().await;
    let corrected = app
        .bert()
        .classifications
        .update_classification(UpdateClassificationRequest {
            classification: Some(Classification {
                name: original.name.clone(),
                value: Some(classification::Value::Fase(Fase::Fase4 as i32)),
                ..Default::default()
            }),
            update_mask: mask(&["value"]),
            version: 1,
            change: Some(reason("verkeerd ingedeeld")),
        })
        .await
        .expect("UpdateClassification")
        .into_inner();
    assert_eq!(
        corrected.value,
        Some(classification::Value::Fase(Fase::Fase4 as i32))
    );
    assert_eq!(corrected.valid_from, Some(date(2025, 1, 1)));
    assert_eq!(corrected.motivation, original.motivation);
    let rev = corrected.revision.clone().unwrap();
    assert_eq!(
        (rev.version, rev.actor.as_str(), rev.reason.as_str()),
        (2, "cm-bert", "verkeerd ingedeeld")
    );

    let (now, _) = fase_on(&mut anna, &client.name, date(2025, 3, 1)).await;
    assert_eq!(now, Fase::Fase4);

    let before_correction = between(
        record_micros(&original.revision),
        record_micros(&corrected.revision),
    );
    let then = lookup(
        &mut anna,
        &client.name,
        ClassificationScheme::Fase,
        date(2025, 3, 1),
        Some(before_correction),
    )
    .await;
    assert_eq!(
        then.value,
        Some(lookup_classification_response::Value::Fase(
            Fase::Fase2 as i32
        ))
    );
    assert_eq!(then.classification.unwrap().revision.unwrap().version, 1);

    let got_then = anna
        .classifications
        .get_classification(GetClassificationRequest {
            name: original.name.clone(),
            as_of: Some(before_correction),
        })
        .await
        .expect("GetClassification as_of")
        .into_inner();
    assert_eq!(got_then, original);

    // Moving valid_from is a correction too.
    let moved = anna
        .classifications
        .update_classification(UpdateClassificationRequest {
            classification: Some(Classification {
                name: original.name.clone(),
                valid_from: Some(date(2025, 2, 1)),
                ..Default::default()
            }),
            update_mask: mask(&["valid_from"]),
            version: 2,
            change: Some(reason("datum beschikking")),
        })
        .await
        .expect("move valid_from")
        .into_inner();
    assert_eq!(moved.valid_from, Some(date(2025, 2, 1)));
    let (v, _) = fase_on(&mut anna, &client.name, date(2025, 1, 15)).await;
    assert_eq!(v, Fase::NietIngedeeld);

    // The scheme never changes.
    let result = anna
        .classifications
        .update_classification(UpdateClassificationRequest {
            classification: Some(Classification {
                name: original.name.clone(),
                value: Some(classification::Value::Trede(Trede::Trede3 as i32)),
                ..Default::default()
            }),
            update_mask: mask(&["value"]),
            version: 3,
            change: Some(reason("andere ladder")),
        })
        .await;
    let code = result.as_ref().map_err(|s| s.code()).err();
    assert!(
        matches!(code, Some(Code::InvalidArgument | Code::FailedPrecondition)),
        "changing a fase into a trede must be refused: {result:?}"
    );

    // Stale version and missing reason.
    let result = anna
        .classifications
        .update_classification(UpdateClassificationRequest {
            classification: Some(Classification {
                name: original.name.clone(),
                value: Some(classification::Value::Fase(Fase::Fase1 as i32)),
                ..Default::default()
            }),
            update_mask: mask(&["value"]),
            version: 1,
            change: Some(reason("te laat")),
        })
        .await;
    assert_code(result, Code::Aborted);
    let result = anna
        .classifications
        .update_classification(UpdateClassificationRequest {
            classification: Some(Classification {
                name: original.name.clone(),
                value: Some(classification::Value::Fase(Fase::Fase1 as i32)),
                ..Default::default()
            }),
            update_mask: mask(&["value"]),
            version: 3,
            change: None,
        })
        .await;
    assert_invalid(result, "change.reason");

    let versions = anna
        .classifications
        .list_classification_versions(ListClassificationVersionsRequest {
            name: original.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .versions;
    assert_eq!(versions.len(), 3);
    app.cleanup().await;
}

async fn duplicate_valid_from_is_refused(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(430))).await;
    create(&mut anna, &client.name, fase(Fase::Fase2, date(2025, 1, 1))).await;
    let result = anna
        .classifications
        .create_classification(create_req(
            &client.name,
            fase(Fase::Fase1, date(2025, 1, 1)),
        ))
        .await;
    assert_code(result, Code::FailedPrecondition);

    create(
        &mut anna,
        &client.name,
        trede(Trede::Trede1, date(2025, 1, 1)),
    )
    .await;
    let result = anna
        .classifications
        .create_classification(create_req(
            &client.name,
            trede(Trede::Trede5, date(2025, 1, 1)),
        ))
        .await;
    assert_code(result, Code::FailedPrecondition);

    // Moving another classification onto a taken date is refused as well.
    let later = create(&mut anna, &client.name, fase(Fase::Fase3, date(2025, 6, 1))).await;
    let result = anna
        .classifications
        .update_classification(UpdateClassificationRequest {
            classification: Some(Classification {
                name: later.name.clone(),
                valid_from: Some(date(2025, 1, 1)),
                ..Default::default()
            }),
            update_mask: mask(&["valid_from"]),
            version: 1,
            change: Some(reason("datum")),
        })
        .await;
    assert_code(result, Code::FailedPrecondition);

    let all = anna
        .classifications
        .list_classifications(ListClassificationsRequest {
            parent: client.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .classifications;
    assert_eq!(all.len(), 3, "refused classifications write nothing");
    let (v, _) = fase_on(&mut anna, &client.name, date(2025, 3, 1)).await;
    assert_eq!(v, Fase::Fase2);
    app.cleanup().await;
}

async fn bad_values_are_rejected(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(440))).await;
    let bad: Vec<(Classification, &str)> = vec![
        (
            fase(Fase::NietIngedeeld, date(2025, 1, 1)),
            "classification.value",
        ),
        (
            fase(Fase::Unspecified, date(2025, 1, 1)),
            "classification.value",
        ),
        (
            Classification {
                value: Some(classification::Value::Fase(99)),
                ..fase(Fase::Fase1, date(2025, 1, 1))
            },
            "classification.value",
        ),
        (
            trede(Trede::NietIngedeeld, date(2025, 1, 1)),
            "classification.value",
        ),
        (
            trede(Trede::Unspecified, date(2025, 1, 1)),
            "classification.value",
        ),
        (
            Classification {
                value: None,
                ..fase(Fase::Fase1, date(2025, 1, 1))
            },
            "classification.value",
        ),
        (
            Classification {
                valid_from: None,
                ..fase(Fase::Fase1, date(2025, 1, 1))
            },
            "classification.valid_from",
        ),
        (
            fase(Fase::Fase1, date(2025, 2, 29)),
            "classification.valid_from",
        ),
        (
            Classification {
                motivation: "m".repeat(2001),
                ..fase(Fase::Fase1, date(2025, 1, 1))
            },
            "classification.motivation",
        ),
    ];
    for (c, field) in bad {
        let result = anna
            .classifications
            .create_classification(create_req(&client.name, c))
            .await;
        assert_invalid(result, field);
    }
    let all = anna
        .classifications
        .list_classifications(ListClassificationsRequest {
            parent: client.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .classifications;
    assert!(all.is_empty(), "rejected classifications write nothing");

    let result = anna
        .classifications
        .create_classification(create_req(
            &format!("clients/{}", uuid::Uuid::new_v4()),
            fase(Fase::Fase1, date(2025, 1, 1)),
        ))
        .await;
    assert_code(result, Code::NotFound);
    app.cleanup().await;
}

async fn list_and_versions(app: TestApp) {
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(450))).await;
    let a = create(&mut anna, &client.name, fase(Fase::Fase3, date(2025, 6, 1))).await;
    let b = create(
        &mut anna,
        &client.name,
        trede(Trede::Trede2, date(2025, 3, 1)),
    )
    .await;
    let c = create(&mut anna, &client.name, fase(Fase::Fase2, date(2025, 1, 1))).await;
    let d = create(
        &mut anna,
        &client.name,
        Classification {
            classifier: "assessor-x".into(),
            ..trede(Trede::Trede3, date(2025, 9, 1))
        },
    )
    .await;
    assert_eq!(d.classifier, "assessor-x");

    let list = |scheme: ClassificationScheme| ListClassificationsRequest {
        parent: client.name.clone(),
        scheme: scheme as i32,
        ..Default::default()
    };
    let names = |v: Vec<Classification>| v.into_iter().map(|c| c.name).collect::<Vec<_>>();
    let both = anna
        .classifications
        .list_classifications(list(ClassificationScheme::Unspecified))
        .await
        .unwrap()
        .into_inner()
        .classifications;
    assert_eq!(
        names(both),
        vec![
            c.name.clone(),
            b.name.clone(),
            a.name.clone(),
            d.name.clone()
        ]
    );
    let fases = anna
        .classifications
        .list_classifications(list(ClassificationScheme::Fase))
        .await
        .unwrap()
        .into_inner()
        .classifications;
    assert_eq!(names(fases), vec![c.name.clone(), a.name.clone()]);
    let treden = anna
        .classifications
        .list_classifications(list(ClassificationScheme::Participatieladder))
        .await
        .unwrap()
        .into_inner()
        .classifications;
    assert_eq!(names(treden), vec![b.name.clone(), d.name.clone()]);

    anna.classifications
        .update_classification(UpdateClassificationRequest {
            classification: Some(Classification {
                name: a.name.clone(),
                motivation: "Aangevuld.".into(),
                ..Default::default()
            }),
            update_mask: mask(&["motivation"]),
            version: 1,
            change: Some(reason("motivering aangevuld")),
        })
        .await
        .expect("update motivation");
    let versions = anna
        .classifications
        .list_classification_versions(ListClassificationVersionsRequest {
            name: a.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .versions;
    let summary: Vec<(i64, String, String)> = versions
        .iter()
        .map(|v| {
            let r = v.revision.as_ref().unwrap();
            (r.version, r.reason.clone(), v.motivation.clone())
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, "diagnose".into(), "Na diagnosegesprek.".into()),
            (2, "motivering aangevuld".into(), "Aangevuld.".into())
        ]
    );
    for v in &versions {
        assert_eq!(
            v.value,
            Some(classification::Value::Fase(Fase::Fase3 as i32))
        );
    }
    app.cleanup().await;
}
