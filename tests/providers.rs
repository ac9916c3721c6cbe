//! ProviderService: the gemeente's register of reïntegratiebedrijven.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    CreateProviderRequest, GetProviderRequest, ListProviderVersionsRequest, ListProvidersRequest,
    Provider, ProviderKind, ProviderSize, Source, UpdateProviderRequest,
};
use common::*;
use tonic::Code;

both_databases!(
    create_get_and_update_provider,
    bad_providers_are_rejected,
    kvk_number_is_unique_in_the_gemeente,
    list_is_ordered_by_name_and_paged,
    get_provider_as_of,
    stale_or_unreasoned_update_is_refused,
    other_gemeente_sees_not_found,
);

fn create_req(parent: &str, provider: Provider) -> CreateProviderRequest {
    CreateProviderRequest {
        parent: parent.into(),
        provider: Some(provider),
        change: Some(reason("aanbesteding gegund")),
    }
}

async fn get(c: &mut Clients, name: &str) -> Provider {
    c.providers
        .get_provider(GetProviderRequest {
            name: name.into(),
            as_of: None,
        })
        .await
        .expect("GetProvider")
        .into_inner()
}

async fn list(c: &mut Clients, page_size: i32) -> Vec<Provider> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .providers
            .list_providers(ListProvidersRequest {
                parent: GEMEENTE.into(),
                page_size,
                page_token: token.clone(),
                as_of: None,
            })
            .await
            .expect("ListProviders")
            .into_inner();
        assert!(page.providers.len() <= page_size.max(1) as usize || page_size == 0);
        out.extend(page.providers);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

async fn create_get_and_update_provider(app: TestApp) {
    let mut fb = app.beheerder();
    let input = sample_provider("WerkFit BV", "12345678");
    let created = fb.create_provider(input.clone()).await;
    assert!(
        created.name.starts_with("providers/") && created.name.len() > "providers/".len(),
        "name {}",
        created.name
    );
    assert_eq!(created.gemeente, "0363");
    assert_eq!(created.display_name, "WerkFit BV");
    assert_eq!(created.kvk_number, "12345678");
    assert_eq!(created.kind, ProviderKind::Commercial as i32);
    assert_eq!(created.size, ProviderSize::Medium as i32);
    assert_eq!(created.specialisations, input.specialisations);
    let rev = created.revision.clone().expect("revision");
    assert_eq!(rev.version, 1);
    assert_eq!(rev.actor, "fb-dirk");
    assert_eq!(rev.actor_role, "functioneel_beheerder");
    assert_eq!(rev.source, Source::FunctioneelBeheer as i32);
    assert_eq!(rev.reason, "aanbesteding gegund");

    // Casemanagers, data managers and the beheerder read it.
    for token in [CM_ANNA, DM_0363, FB_0363] {
        assert_eq!(get(&mut app.clients(token), &created.name).await, created);
    }

    // Change the size only.
    let updated = fb
        .providers
        .update_provider(UpdateProviderRequest {
            provider: Some(Provider {
                name: created.name.clone(),
                size: ProviderSize::Large as i32,
                display_name: "ignored, not in the mask".into(),
                ..Default::default()
            }),
            update_mask: mask(&["size"]),
            version: 1,
            change: Some(reason("gegroeid")),
        })
        .await
        .expect("UpdateProvider")
        .into_inner();
    assert_eq!(updated.name, created.name);
    assert_eq!(updated.size, ProviderSize::Large as i32);
    assert_eq!(updated.display_name, "WerkFit BV", "not in the mask");
    assert_eq!(updated.kvk_number, "12345678");
    assert_eq!(updated.specialisations, created.specialisations);
    assert_eq!(version_of(&updated.revision), 2);
    assert_eq!(updated.revision.as_ref().unwrap().reason, "gegroeid");

    // An empty mask replaces all five fields.
    let replaced = fb
        .providers
        .update_provider(UpdateProviderRequest {
            provider: Some(Provider {
                name: created.name.clone(),
                ..sample_provider("WerkFit Groep BV", "87654321")
            }),
            update_mask: None,
            version: 2,
            change: Some(reason("fusie")),
        })
        .await
        .expect("UpdateProvider, empty mask")
        .into_inner();
    assert_eq!(replaced.display_name, "WerkFit Groep BV");
    assert_eq!(replaced.kvk_number, "87654321");
    assert_eq!(replaced.size, ProviderSize::Medium as i32);
    assert_eq!(version_of(&replaced.revision), 3);
    assert_eq!(get(&mut app.anna(), &created.name).await, replaced);

    let versions = fb.provider_versions(&created.name).await;
    let summary: Vec<(i64, String, i32, String)> = versions
        .iter()
        .map(|v| {
            (
                version_of(&v.revision),
                v.display_name.clone(),
                v.size,
                v.revision.as_ref().unwrap().reason.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                1,
                "WerkFit BV".into(),
                ProviderSize::Medium as i32,
                "aanbesteding gegund".into()
            ),
            (
                2,
                "WerkFit BV".into(),
                ProviderSize::Large as i32,
                "gegroeid".into()
            ),
            (
                3,
                "WerkFit Groep BV".into(),
                ProviderSize::Medium as i32,
                "fusie".into()
            ),
        ]
    );
    // The data manager may read the versions too.
    assert_eq!(
        app.clients(DM_0363)
            .provider_versions(&created.name)
            .await
            .len(),
        3
    );
    app.cleanup().await;
}

async fn bad_providers_are_rejected(app: TestApp) {
    let mut fb = app.beheerder();
    let ok = sample_provider("Baanbrekers", "11223344");
    let bad: Vec<(&str, Provider, &str)> = vec![
        (
            "no display name",
            Provider {
                display_name: String::new(),
                ..ok.clone()
            },
            "provider.display_name",
        ),
        (
            "blank display name",
            Provider {
                display_name: "   ".into(),
                ..ok.clone()
            },
            "provider.display_name",
        ),
        (
            "display name of 201 characters",
            Provider {
                display_name: "x".repeat(201),
                ..ok.clone()
            },
            "provider.display_name",
        ),
        (
            "no KvK number",
            Provider {
                kvk_number: String::new(),
                ..ok.clone()
            },
            "provider.kvk_number",
        ),
        (
            "7-digit KvK number",
            Provider {
                kvk_number: "1234567".into(),
                ..ok.clone()
            },
            "provider.kvk_number",
        ),
        (
            "9-digit KvK number",
            Provider {
                kvk_number: "123456789".into(),
                ..ok.clone()
            },
            "provider.kvk_number",
        ),
        (
            "KvK number with a letter",
            Provider {
                kvk_number: "1234567A".into(),
                ..ok.clone()
            },
            "provider.kvk_number",
        ),
        (
            "unknown kind",
            Provider {
                kind: 42,
                ..ok.clone()
            },
            "provider.kind",
        ),
        (
            "unknown size",
            Provider {
                size: 42,
                ..ok.clone()
            },
            "provider.size",
        ),
        (
            "21 specialisations",
            Provider {
                specialisations: (0..21).map(|i| format!("s{i}")).collect(),
                ..ok.clone()
            },
            "provider.specialisations",
        ),
        (
            "a specialisation of 101 characters",
            Provider {
                specialisations: vec!["x".repeat(101)],
                ..ok.clone()
            },
            "provider.specialisations",
        ),
    ];
    for (what, provider, field) in bad {
        let result = fb
            .providers
            .create_provider(create_req(GEMEENTE, provider))
            .await;
        assert!(result.is_err(), "{what} was accepted");
        assert_invalid(result, field);
    }
    // A missing provider.
    let result = fb
        .providers
        .create_provider(CreateProviderRequest {
            parent: GEMEENTE.into(),
            provider: None,
            change: None,
        })
        .await;
    assert_invalid(result, "provider");
    // A malformed parent; another gemeente's parent.
    let result = fb
        .providers
        .create_provider(create_req("gemeenten/36", ok.clone()))
        .await;
    assert_invalid(result, "parent");
    let result = fb
        .providers
        .create_provider(create_req(GEMEENTE_0599, ok.clone()))
        .await;
    assert_code(result, Code::PermissionDenied);
    assert!(list(&mut fb, 50).await.is_empty(), "nothing was written");

    // Unspecified kind and size are allowed ("not recorded"); so are no
    // specialisations, 20 of them, and names at their maximum length.
    let minimal = fb
        .create_provider(Provider {
            display_name: "x".repeat(200),
            kvk_number: "00000001".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(minimal.kind, ProviderKind::Unspecified as i32);
    assert_eq!(minimal.size, ProviderSize::Unspecified as i32);
    assert!(minimal.specialisations.is_empty());
    fb.create_provider(Provider {
        specialisations: (0..20).map(|i| format!("{i}{}", "s".repeat(98))).collect(),
        ..ok.clone()
    })
    .await;

    // Updates are validated the same way.
    for (provider, paths, field) in [
        (
            Provider {
                kvk_number: "1234".into(),
                ..Default::default()
            },
            vec!["kvk_number"],
            "provider.kvk_number",
        ),
        (
            Provider {
                display_name: String::new(),
                ..Default::default()
            },
            vec!["display_name"],
            "provider.display_name",
        ),
        (
            Provider {
                kind: 99,
                ..Default::default()
            },
            vec!["kind"],
            "provider.kind",
        ),
    ] {
        let result = fb
            .providers
            .update_provider(UpdateProviderRequest {
                provider: Some(Provider {
                    name: minimal.name.clone(),
                    ..provider
                }),
                update_mask: mask(&paths),
                version: 1,
                change: Some(reason("correctie")),
            })
            .await;
        assert_invalid(result, field);
    }
    let result = fb
        .providers
        .update_provider(UpdateProviderRequest {
            provider: Some(Provider {
                name: minimal.name.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["gemeente"]),
            version: 1,
            change: Some(reason("correctie")),
        })
        .await;
    assert_invalid(result, "update_mask");
    assert_eq!(fb.provider_versions(&minimal.name).await.len(), 1);
    app.cleanup().await;
}

async fn kvk_number_is_unique_in_the_gemeente(app: TestApp) {
    let mut fb = app.beheerder();
    let first = fb
        .create_provider(sample_provider("Baanbrekers", "11223344"))
        .await;
    let result = fb
        .providers
        .create_provider(create_req(
            GEMEENTE,
            sample_provider("Baanbrekers Noord", "11223344"),
        ))
        .await;
    assert_code(result, Code::AlreadyExists);

    // Changing another provider to the same KvK number is refused as well.
    let second = fb
        .create_provider(sample_provider("Aan de Slag", "55667788"))
        .await;
    let result = fb
        .providers
        .update_provider(UpdateProviderRequest {
            provider: Some(Provider {
                name: second.name.clone(),
                kvk_number: "11223344".into(),
                ..Default::default()
            }),
            update_mask: mask(&["kvk_number"]),
            version: 1,
            change: Some(reason("typfout")),
        })
        .await;
    assert_code(result, Code::AlreadyExists);

    // Keeping one's own number is no conflict.
    let kept = fb
        .providers
        .update_provider(UpdateProviderRequest {
            provider: Some(Provider {
                name: first.name.clone(),
                ..sample_provider("Baanbrekers BV", "11223344")
            }),
            update_mask: None,
            version: 1,
            change: Some(reason("rechtsvorm")),
        })
        .await
        .expect("update keeping the KvK number")
        .into_inner();
    assert_eq!(kept.kvk_number, "11223344");
    assert_eq!(list(&mut fb, 50).await.len(), 2);
    app.cleanup().await;
}

async fn list_is_ordered_by_name_and_paged(app: TestApp) {
    let mut fb = app.beheerder();
    let names = [
        "Werkfit",
        "Aan de Slag",
        "Reakt",
        "Baanbrekers",
        "Malkander",
    ];
    for (i, name) in names.iter().enumerate() {
        fb.create_provider(sample_provider(name, &format!("1000000{i}")))
            .await;
    }
    let mut expected: Vec<&str> = names.to_vec();
    expected.sort();
    for page_size in [0, 1, 2, 5, 600] {
        let listed = list(&mut app.anna(), page_size).await;
        let got: Vec<&str> = listed.iter().map(|p| p.display_name.as_str()).collect();
        assert_eq!(got, expected, "page_size {page_size}");
    }
    let first_page = fb
        .providers
        .list_providers(ListProvidersRequest {
            parent: GEMEENTE.into(),
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first_page.providers.len(), 2);
    assert!(!first_page.next_page_token.is_empty());

    let result = fb
        .providers
        .list_providers(ListProvidersRequest {
            parent: GEMEENTE.into(),
            page_token: "not-a-token".into(),
            ..Default::default()
        })
        .await;
    assert_invalid(result, "page_token");
    let result = fb
        .providers
        .list_providers(ListProvidersRequest {
            parent: GEMEENTE.into(),
            page_size: -1,
            ..Default::default()
        })
        .await;
    assert_invalid(result, "page_size");
    app.cleanup().await;
}

async fn get_provider_as_of(app: TestApp) {
    let mut fb = app.beheerder();
    let created = fb
        .create_provider(sample_provider("Reakt", "22334455"))
        .await;
    tick().await;
    let updated = fb
        .providers
        .update_provider(UpdateProviderRequest {
            provider: Some(Provider {
                name: created.name.clone(),
                display_name: "Reakt Re-integratie".into(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
            version: 1,
            change: Some(reason("nieuwe naam")),
        })
        .await
        .unwrap()
        .into_inner();
    let as_of = between(
        record_micros(&created.revision),
        record_micros(&updated.revision),
    );
    let old = fb
        .providers
        .get_provider(GetProviderRequest {
            name: created.name.clone(),
            as_of: Some(as_of),
        })
        .await
        .expect("GetProvider as_of")
        .into_inner();
    assert_eq!(old, created);
    let listed_then = fb
        .providers
        .list_providers(ListProvidersRequest {
            parent: GEMEENTE.into(),
            as_of: Some(as_of),
            ..Default::default()
        })
        .await
        .expect("ListProviders as_of")
        .into_inner()
        .providers;
    assert_eq!(listed_then, vec![created.clone()]);
    let versions_then = fb
        .providers
        .list_provider_versions(ListProviderVersionsRequest {
            name: created.name.clone(),
            as_of: Some(as_of),
            ..Default::default()
        })
        .await
        .expect("ListProviderVersions as_of")
        .into_inner()
        .versions;
    assert_eq!(versions_then, vec![created.clone()]);
    assert_eq!(get(&mut fb, &created.name).await, updated);
    let result = fb
        .providers
        .get_provider(GetProviderRequest {
            name: created.name.clone(),
            as_of: Some(future_timestamp()),
        })
        .await;
    assert_invalid(result, "as_of");
    app.cleanup().await;
}

async fn stale_or_unreasoned_update_is_refused(app: TestApp) {
    let mut fb = app.beheerder();
    let created = fb
        .create_provider(sample_provider("Malkander", "33445566"))
        .await;
    let upd = |version: i64, name: &str, why: &str| UpdateProviderRequest {
        provider: Some(Provider {
            name: created.name.clone(),
            display_name: name.into(),
            ..Default::default()
        }),
        update_mask: mask(&["display_name"]),
        version,
        change: Some(reason(why)),
    };
    let result = fb
        .providers
        .update_provider(upd(1, "Malkander BV", ""))
        .await;
    assert_invalid(result, "change.reason");
    fb.providers
        .update_provider(upd(1, "Malkander BV", "rechtsvorm"))
        .await
        .expect("first update");
    let result = fb
        .providers
        .update_provider(upd(1, "Malkander Groep", "fusie"))
        .await;
    assert_code(result, Code::Aborted);
    let versions = fb.provider_versions(&created.name).await;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].display_name, "Malkander BV");

    // Unknown and malformed names.
    let result = fb
        .providers
        .get_provider(GetProviderRequest {
            name: format!("providers/{}", uuid::Uuid::new_v4()),
            as_of: None,
        })
        .await;
    assert_code(result, Code::NotFound);
    let result = fb
        .providers
        .update_provider(UpdateProviderRequest {
            provider: Some(Provider {
                name: format!("providers/{}", uuid::Uuid::new_v4()),
                display_name: "X".into(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
            version: 1,
            change: Some(reason("x")),
        })
        .await;
    assert_code(result, Code::NotFound);
    let result = fb
        .providers
        .get_provider(GetProviderRequest {
            name: "providers/".into(),
            as_of: None,
        })
        .await;
    assert_invalid(result, "name");
    app.cleanup().await;
}

async fn other_gemeente_sees_not_found(app: TestApp) {
    let created = app
        .beheerder()
        .create_provider(sample_provider("Werkfit", "44556677"))
        .await;
    let mut carla = app.carla();
    let result = carla
        .providers
        .get_provider(GetProviderRequest {
            name: created.name.clone(),
            as_of: None,
        })
        .await;
    assert_code(result, Code::NotFound);
    let result = carla
        .providers
        .list_provider_versions(ListProviderVersionsRequest {
            name: created.name.clone(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::NotFound);
    let result = carla
        .providers
        .list_providers(ListProvidersRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    let own = carla
        .providers
        .list_providers(ListProvidersRequest {
            parent: GEMEENTE_0599.into(),
            ..Default::default()
        })
        .await
        .expect("ListProviders of 0599")
        .into_inner();
    assert!(own.providers.is_empty(), "0599 has no providers");
    app.cleanup().await;
}
