//! DoelgroepService: definitions by the functioneel beheerder, and a client's
//! doelgroepen as a history of assignments.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    CreateDoelgroepAssignmentRequest, CreateDoelgroepRequest, Doelgroep, DoelgroepAssignment,
    GetDoelgroepAssignmentRequest, GetDoelgroepRequest, ListDoelgroepAssignmentVersionsRequest,
    ListDoelgroepAssignmentsRequest, ListDoelgroepenRequest, LookupDoelgroepenRequest, Source,
    UpdateDoelgroepAssignmentRequest, UpdateDoelgroepRequest,
};
use clientvolg::proto::google::r#type::Date;
use common::*;
use tonic::Code;

both_databases!(
    beheerder_defines_doelgroepen,
    only_the_beheerder_defines_doelgroepen,
    bad_doelgroep_codes_are_rejected,
    update_doelgroep,
    assignments_answer_per_date,
    assignment_codes_must_be_defined,
    duplicate_assignment_valid_from_is_refused,
    assignment_correction_and_as_of,
);

fn doelgroep_req(code: &str, display: &str) -> CreateDoelgroepRequest {
    CreateDoelgroepRequest {
        parent: GEMEENTE.into(),
        doelgroep: Some(Doelgroep {
            code: code.into(),
            display_name: display.into(),
            description: format!("Doelgroep {display}"),
            ..Default::default()
        }),
        change: Some(reason("beleid 2025")),
    }
}

async fn define_standard(app: &TestApp) -> (Doelgroep, Doelgroep) {
    let mut fb = app.beheerder();
    let j = fb
        .doelgroepen
        .create_doelgroep(doelgroep_req("JONGEREN", "Jongeren tot 27 jaar"))
        .await
        .expect("CreateDoelgroep JONGEREN")
        .into_inner();
    let s = fb
        .doelgroepen
        .create_doelgroep(doelgroep_req("STATUSHOUDERS", "Statushouders"))
        .await
        .expect("CreateDoelgroep STATUSHOUDERS")
        .into_inner();
    (j, s)
}

fn assign_req(client: &str, codes: &[&str], from: Date) -> CreateDoelgroepAssignmentRequest {
    CreateDoelgroepAssignmentRequest {
        parent: client.into(),
        assignment: Some(DoelgroepAssignment {
            codes: codes.iter().map(|s| s.to_string()).collect(),
            valid_from: Some(from),
            ..Default::default()
        }),
        change: Some(reason("intake")),
    }
}

async fn assign(c: &mut Clients, client: &str, codes: &[&str], from: Date) -> DoelgroepAssignment {
    c.doelgroepen
        .create_doelgroep_assignment(assign_req(client, codes, from))
        .await
        .expect("CreateDoelgroepAssignment")
        .into_inner()
}

async fn lookup(
    c: &mut Clients,
    client: &str,
    on: Date,
    as_of: Option<prost_types::Timestamp>,
) -> (Vec<String>, Option<DoelgroepAssignment>) {
    let r = c
        .doelgroepen
        .lookup_doelgroepen(LookupDoelgroepenRequest {
            parent: client.into(),
            date: Some(on),
            as_of,
        })
        .await
        .expect("LookupDoelgroepen")
        .into_inner();
    (r.codes, r.assignment)
}

async fn beheerder_defines_doelgroepen(app: TestApp) {
    let (j, s) = define_standard(&app).await;
    assert_eq!(j.name, "gemeenten/0363/doelgroepen/JONGEREN");
    assert_eq!(j.code, "JONGEREN");
    assert_eq!(j.display_name, "Jongeren tot 27 jaar");
    let rev = j.revision.clone().unwrap();
    assert_eq!(rev.version, 1);
    assert_eq!(rev.actor, "fb-dirk");
    assert_eq!(rev.actor_role, "functioneel_beheerder");
    assert_eq!(
        rev.source,
        Source::FunctioneelBeheer as i32,
        "default source of a functioneel beheerder"
    );
    assert_eq!(rev.reason, "beleid 2025");
    assert_eq!(s.name, "gemeenten/0363/doelgroepen/STATUSHOUDERS");

    // A casemanager reads and lists them.
    let mut anna = app.anna();
    let got = anna
        .doelgroepen
        .get_doelgroep(GetDoelgroepRequest {
            name: j.name.clone(),
            as_of: None,
        })
        .await
        .expect("GetDoelgroep")
        .into_inner();
    assert_eq!(got, j);
    let listed = anna
        .doelgroepen
        .list_doelgroepen(ListDoelgroepenRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await
        .expect("ListDoelgroepen")
        .into_inner()
        .doelgroepen;
    let codes: Vec<_> = listed.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, vec!["JONGEREN", "STATUSHOUDERS"], "ordered by code");

    // A code is unique in the gemeente.
    let result = app
        .beheerder()
        .doelgroepen
        .create_doelgroep(doelgroep_req("JONGEREN", "Nogmaals"))
        .await;
    assert!(result.is_err(), "duplicate code accepted: {result:?}");
    let listed = anna
        .doelgroepen
        .list_doelgroepen(ListDoelgroepenRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .doelgroepen;
    assert_eq!(listed.len(), 2);

    // Another gemeente does not see them.
    let mut carla = app.carla();
    let result = carla
        .doelgroepen
        .get_doelgroep(GetDoelgroepRequest {
            name: j.name.clone(),
            as_of: None,
        })
        .await;
    let code = result.as_ref().map_err(|s| s.code()).err();
    assert!(
        matches!(code, Some(Code::NotFound | Code::PermissionDenied)),
        "0599 read a doelgroep of 0363: {result:?}"
    );
    let result = carla
        .doelgroepen
        .list_doelgroepen(ListDoelgroepenRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    let unknown = anna
        .doelgroepen
        .get_doelgroep(GetDoelgroepRequest {
            name: "gemeenten/0363/doelgroepen/ONBEKEND".into(),
            as_of: None,
        })
        .await;
    assert_code(unknown, Code::NotFound);
    app.cleanup().await;
}

async fn only_the_beheerder_defines_doelgroepen(app: TestApp) {
    for token in [CM_ANNA, DM_0363, PROVIDER_0363, AUDITOR_0363] {
        let result = app
            .clients(token)
            .doelgroepen
            .create_doelgroep(doelgroep_req("JONGEREN", "Jongeren"))
            .await;
        assert_code(result, Code::PermissionDenied);
    }
    let (j, _) = define_standard(&app).await;
    let result = app
        .anna()
        .doelgroepen
        .update_doelgroep(UpdateDoelgroepRequest {
            doelgroep: Some(Doelgroep {
                name: j.name.clone(),
                display_name: "Jong".into(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
            version: 1,
            change: Some(reason("korter")),
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    let got = app
        .anna()
        .doelgroepen
        .get_doelgroep(GetDoelgroepRequest {
            name: j.name.clone(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.display_name, "Jongeren tot 27 jaar");
    assert_eq!(got.revision.unwrap().version, 1);

    // Parent of another gemeente.
    let result = app
        .beheerder()
        .doelgroepen
        .create_doelgroep(CreateDoelgroepRequest {
            parent: GEMEENTE_0599.into(),
            ..doelgroep_req("OUDEREN", "Ouderen")
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    app.cleanup().await;
}

async fn bad_doelgroep_codes_are_rejected(app: TestApp) {
    let mut fb = app.beheerder();
    let long = "A".repeat(33);
    for code in [
        "jong eren",
        "JONG EREN",
        "jongeren",
        "",
        "JONGEREN-27",
        "ÉÉN",
        long.as_str(),
    ] {
        let result = fb
            .doelgroepen
            .create_doelgroep(doelgroep_req(code, "Jongeren"))
            .await;
        assert_invalid(result, "doelgroep.code");
    }
    let result = fb
        .doelgroepen
        .create_doelgroep(doelgroep_req("JONGEREN", ""))
        .await;
    assert_invalid(result, "doelgroep.display_name");
    let result = fb
        .doelgroepen
        .create_doelgroep(doelgroep_req("JONGEREN", &"d".repeat(201)))
        .await;
    assert_invalid(result, "doelgroep.display_name");

    // A functioneel beheerder records SOURCE_FUNCTIONEEL_BEHEER or
    // SOURCE_IMPORT only.
    let result = fb
        .doelgroepen
        .create_doelgroep(CreateDoelgroepRequest {
            change: Some(clientvolg::proto::clientvolg::v1::ChangeContext {
                reason: "x".into(),
                source: Source::Casemanager as i32,
            }),
            ..doelgroep_req("JONGEREN", "Jongeren")
        })
        .await;
    assert_invalid(result, "change.source");
    let imported = fb
        .doelgroepen
        .create_doelgroep(CreateDoelgroepRequest {
            change: Some(clientvolg::proto::clientvolg::v1::ChangeContext {
                reason: "overgenomen uit oud systeem".into(),
                source: Source::Import as i32,
            }),
            ..doelgroep_req("IMPORT_1", "Geimporteerd")
        })
        .await
        .expect("CreateDoelgroep with SOURCE_IMPORT")
        .into_inner();
    assert_eq!(imported.revision.unwrap().source, Source::Import as i32);

    // The limits themselves are fine.
    let max = "Z_9".repeat(10) + "AB";
    assert_eq!(max.len(), 32);
    for code in ["A", "JONGEREN_27", max.as_str()] {
        fb.doelgroepen
            .create_doelgroep(doelgroep_req(code, "ok"))
            .await
            .unwrap_or_else(|e| panic!("code {code} refused: {e:?}"));
    }
    let listed = fb
        .doelgroepen
        .list_doelgroepen(ListDoelgroepenRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .doelgroepen;
    assert_eq!(listed.len(), 4);
    app.cleanup().await;
}

async fn update_doelgroep(app: TestApp) {
    let (j, _) = define_standard(&app).await;
    let mut fb = app.beheerder();
    let updated = fb
        .doelgroepen
        .update_doelgroep(UpdateDoelgroepRequest {
            doelgroep: Some(Doelgroep {
                name: j.name.clone(),
                display_name: "Jongeren tot 28 jaar".into(),
                description: "niet in het mask".into(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
            version: 1,
            change: Some(reason("leeftijdsgrens verhoogd")),
        })
        .await
        .expect("UpdateDoelgroep")
        .into_inner();
    assert_eq!(updated.display_name, "Jongeren tot 28 jaar");
    assert_eq!(updated.description, j.description);
    assert_eq!(updated.code, "JONGEREN");
    assert_eq!(updated.revision.as_ref().unwrap().version, 2);

    let result = fb
        .doelgroepen
        .update_doelgroep(UpdateDoelgroepRequest {
            doelgroep: Some(Doelgroep {
                name: j.name.clone(),
                display_name: "Oud".into(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
            version: 1,
            change: Some(reason("te laat")),
        })
        .await;
    assert_code(result, Code::Aborted);
    let result = fb
        .doelgroepen
        .update_doelgroep(UpdateDoelgroepRequest {
            doelgroep: Some(Doelgroep {
                name: j.name.clone(),
                display_name: "Oud".into(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
            version: 2,
            change: Some(reason("")),
        })
        .await;
    assert_invalid(result, "change.reason");

    let then = fb
        .doelgroepen
        .get_doelgroep(GetDoelgroepRequest {
            name: j.name.clone(),
            as_of: Some(timestamp_from_micros(record_micros(&j.revision))),
        })
        .await
        .expect("GetDoelgroep as_of")
        .into_inner();
    assert_eq!(then, j);
    app.cleanup().await;
}

async fn assignments_answer_per_date(app: TestApp) {
    define_standard(&app).await;
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(500))).await;
    let first = assign(&mut anna, &client.name, &["JONGEREN"], date(2025, 1, 1)).await;
    assert!(
        first
            .name
            .starts_with(&format!("{}/doelgroepAssignments/", client.name)),
        "name {}",
        first.name
    );
    assert_eq!(first.codes, vec!["JONGEREN"]);
    assert_eq!(first.revision.as_ref().unwrap().version, 1);
    assert_eq!(first.revision.as_ref().unwrap().actor, "cm-anna");
    let none = assign(&mut anna, &client.name, &[], date(2025, 7, 1)).await;
    assert!(none.codes.is_empty());

    let (codes, from) = lookup(&mut anna, &client.name, date(2024, 12, 31), None).await;
    assert!(codes.is_empty());
    assert!(from.is_none(), "no assignment holds before 2025-01-01");

    let (codes, from) = lookup(&mut anna, &client.name, date(2025, 1, 1), None).await;
    assert_eq!(codes, vec!["JONGEREN"]);
    assert_eq!(from.unwrap().name, first.name);
    let (codes, _) = lookup(&mut anna, &client.name, date(2025, 6, 30), None).await;
    assert_eq!(codes, vec!["JONGEREN"]);

    let (codes, from) = lookup(&mut anna, &client.name, date(2025, 7, 1), None).await;
    assert!(codes.is_empty());
    assert_eq!(from.unwrap().name, none.name, "the empty assignment holds");
    let (codes, _) = lookup(&mut anna, &client.name, date(2026, 1, 1), None).await;
    assert!(codes.is_empty());

    // Several codes come back sorted.
    let both = assign(
        &mut anna,
        &client.name,
        &["STATUSHOUDERS", "JONGEREN"],
        date(2026, 1, 1),
    )
    .await;
    assert_eq!(both.codes, vec!["JONGEREN", "STATUSHOUDERS"]);
    let (codes, _) = lookup(&mut anna, &client.name, date(2026, 2, 1), None).await;
    assert_eq!(codes, vec!["JONGEREN", "STATUSHOUDERS"]);

    let listed = anna
        .doelgroepen
        .list_doelgroep_assignments(ListDoelgroepAssignmentsRequest {
            parent: client.name.clone(),
            ..Default::default()
        })
        .await
        .expect("ListDoelgroepAssignments")
        .into_inner()
        .assignments;
    let dates: Vec<Date> = listed.iter().map(|a| a.valid_from.unwrap()).collect();
    assert_eq!(
        dates,
        vec![date(2025, 1, 1), date(2025, 7, 1), date(2026, 1, 1)]
    );

    let result = anna
        .doelgroepen
        .lookup_doelgroepen(LookupDoelgroepenRequest {
            parent: client.name.clone(),
            date: None,
            as_of: None,
        })
        .await;
    assert_invalid(result, "date");
    app.cleanup().await;
}

async fn assignment_codes_must_be_defined(app: TestApp) {
    define_standard(&app).await;
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(510))).await;
    for codes in [
        vec!["ONBEKEND"],
        vec!["JONGEREN", "ONBEKEND"],
        vec!["jongeren"],
        vec!["jong eren"],
    ] {
        let result = anna
            .doelgroepen
            .create_doelgroep_assignment(assign_req(&client.name, &codes, date(2025, 1, 1)))
            .await;
        assert_invalid(result, "assignment.codes");
    }
    let result = anna
        .doelgroepen
        .create_doelgroep_assignment(CreateDoelgroepAssignmentRequest {
            parent: client.name.clone(),
            assignment: Some(DoelgroepAssignment {
                codes: vec!["JONGEREN".into()],
                valid_from: None,
                ..Default::default()
            }),
            change: None,
        })
        .await;
    assert_invalid(result, "assignment.valid_from");

    let listed = anna
        .doelgroepen
        .list_doelgroep_assignments(ListDoelgroepAssignmentsRequest {
            parent: client.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assignments;
    assert!(listed.is_empty(), "rejected assignments write nothing");

    let result = anna
        .doelgroepen
        .create_doelgroep_assignment(assign_req(
            &format!("clients/{}", uuid::Uuid::new_v4()),
            &["JONGEREN"],
            date(2025, 1, 1),
        ))
        .await;
    assert_code(result, Code::NotFound);
    app.cleanup().await;
}

async fn duplicate_assignment_valid_from_is_refused(app: TestApp) {
    define_standard(&app).await;
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(520))).await;
    assign(&mut anna, &client.name, &["JONGEREN"], date(2025, 1, 1)).await;
    let result = anna
        .doelgroepen
        .create_doelgroep_assignment(assign_req(
            &client.name,
            &["STATUSHOUDERS"],
            date(2025, 1, 1),
        ))
        .await;
    assert_code(result, Code::FailedPrecondition);
    let (codes, _) = lookup(&mut anna, &client.name, date(2025, 1, 1), None).await;
    assert_eq!(codes, vec!["JONGEREN"]);

    // The same date for another client is fine.
    let other = anna.create_client(sample_client(&bsn(521))).await;
    assign(&mut anna, &other.name, &["STATUSHOUDERS"], date(2025, 1, 1)).await;
    app.cleanup().await;
}

async fn assignment_correction_and_as_of(app: TestApp) {
    define_standard(&app).await;
    let mut anna = app.anna();
    let client = anna.create_client(sample_client(&bsn(530))).await;
    let original = assign(&mut anna, &client.name, &["JONGEREN"], date(2025, 1, 1)).await;
    tick().await;
    let corrected = anna
        .doelgroepen
        .update_doelgroep_assignment(UpdateDoelgroepAssignmentRequest {
            assignment: Some(DoelgroepAssignment {
                name: original.name.clone(),
                codes: vec!["STATUSHOUDERS".into()],
                ..Default::default()
            }),
            update_mask: mask(&["codes"]),
            version: 1,
            change: Some(reason("verkeerde doelgroep")),
        })
        .await
        .expect("UpdateDoelgroepAssignment")
        .into_inner();
    assert_eq!(corrected.codes, vec!["STATUSHOUDERS"]);
    assert_eq!(corrected.valid_from, Some(date(2025, 1, 1)));
    assert_eq!(corrected.revision.as_ref().unwrap().version, 2);

    let (now, _) = lookup(&mut anna, &client.name, date(2025, 3, 1), None).await;
    assert_eq!(now, vec!["STATUSHOUDERS"]);
    let before = between(
        record_micros(&original.revision),
        record_micros(&corrected.revision),
    );
    let (then, from) = lookup(&mut anna, &client.name, date(2025, 3, 1), Some(before)).await;
    assert_eq!(then, vec!["JONGEREN"]);
    assert_eq!(from.unwrap().revision.unwrap().version, 1);

    let got_then = anna
        .doelgroepen
        .get_doelgroep_assignment(GetDoelgroepAssignmentRequest {
            name: original.name.clone(),
            as_of: Some(before),
        })
        .await
        .expect("GetDoelgroepAssignment as_of")
        .into_inner();
    assert_eq!(got_then, original);

    // Unknown code on correction, stale version.
    let result = anna
        .doelgroepen
        .update_doelgroep_assignment(UpdateDoelgroepAssignmentRequest {
            assignment: Some(DoelgroepAssignment {
                name: original.name.clone(),
                codes: vec!["ONBEKEND".into()],
                ..Default::default()
            }),
            update_mask: mask(&["codes"]),
            version: 2,
            change: Some(reason("x")),
        })
        .await;
    assert_invalid(result, "assignment.codes");
    let result = anna
        .doelgroepen
        .update_doelgroep_assignment(UpdateDoelgroepAssignmentRequest {
            assignment: Some(DoelgroepAssignment {
                name: original.name.clone(),
                codes: vec![],
                ..Default::default()
            }),
            update_mask: mask(&["codes"]),
            version: 1,
            change: Some(reason("x")),
        })
        .await;
    assert_code(result, Code::Aborted);

    let versions = anna
        .doelgroepen
        .list_doelgroep_assignment_versions(ListDoelgroepAssignmentVersionsRequest {
            name: original.name.clone(),
            ..Default::default()
        })
        .await
        .expect("ListDoelgroepAssignmentVersions")
        .into_inner()
        .versions;
    let summary: Vec<(i64, Vec<String>, String)> = versions
        .iter()
        .map(|v| {
            let r = v.revision.as_ref().unwrap();
            (r.version, v.codes.clone(), r.reason.clone())
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, vec!["JONGEREN".to_string()], "intake".to_string()),
            (
                2,
                vec!["STATUSHOUDERS".to_string()],
                "verkeerde doelgroep".to_string()
            ),
        ]
    );
    app.cleanup().await;
}
