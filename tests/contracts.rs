//! ContractService: contracts with reïntegratiebedrijven, their products and
//! dated prices, amendments that never lose a product or price, and ending a
//! contract early.

#[macro_use]
mod common;

use clientvolg::proto::clientvolg::v1::{
    Contract, CreateContractRequest, EndContractRequest, Fase, GetContractRequest,
    ListContractVersionsRequest, ListContractsRequest, PaymentModel, PriceUnit, Product,
    ProductKind, ResultAgreements, Source, UpdateContractRequest, Volume, VolumeKind,
};
use clientvolg::proto::google::r#type::Date;
use common::*;
use tonic::Code;

both_databases!(
    create_and_read_contract,
    bad_contracts_are_rejected,
    boundary_values_are_accepted,
    unknown_provider_is_not_found,
    update_adds_products_and_prices,
    update_never_removes_products_or_prices,
    update_is_validated_version_checked_and_reasoned,
    end_contract_only_earlier,
    list_contracts_by_start_date_and_provider,
    get_contract_as_of,
    other_gemeente_sees_not_found,
);

async fn provider(app: &TestApp, name: &str, kvk: &str) -> String {
    app.beheerder()
        .create_provider(sample_provider(name, kvk))
        .await
        .name
}

fn create_req(contract: Contract) -> CreateContractRequest {
    CreateContractRequest {
        parent: GEMEENTE.into(),
        contract: Some(contract),
        change: Some(reason("contract getekend")),
    }
}

async fn get(c: &mut Clients, name: &str) -> Contract {
    c.contracts
        .get_contract(GetContractRequest {
            name: name.into(),
            as_of: None,
        })
        .await
        .expect("GetContract")
        .into_inner()
}

/// A contract from `start` to `end` with one product priced from `start`.
fn simple_contract(provider: &str, display_name: &str, start: Date, end: Date) -> Contract {
    Contract {
        display_name: display_name.into(),
        start_date: Some(start),
        end_date: Some(end),
        products: vec![product(
            "BEMIDDELING",
            ProductKind::Bemiddeling,
            PriceUnit::PerTrajectory,
            vec![price(start, 100_000)],
        )],
        ..sample_contract(provider)
    }
}

async fn list(c: &mut Clients, provider: &str, page_size: i32) -> Vec<Contract> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .contracts
            .list_contracts(ListContractsRequest {
                parent: GEMEENTE.into(),
                provider: provider.into(),
                page_size,
                page_token: token.clone(),
                as_of: None,
            })
            .await
            .expect("ListContracts")
            .into_inner();
        if page_size > 0 {
            assert!(page.contracts.len() <= page_size as usize);
        }
        out.extend(page.contracts);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

fn update_req(
    contract: Contract,
    paths: &[&str],
    version: i64,
    why: &str,
) -> UpdateContractRequest {
    UpdateContractRequest {
        contract: Some(contract),
        update_mask: mask(paths),
        version,
        change: Some(reason(why)),
    }
}

fn end_req(name: &str, end: Option<Date>, version: i64, why: &str) -> EndContractRequest {
    EndContractRequest {
        name: name.into(),
        end_date: end,
        version,
        change: Some(reason(why)),
    }
}

async fn create_and_read_contract(app: TestApp) {
    let mut fb = app.beheerder();
    fb.create_doelgroep("JONGEREN").await;
    let provider = provider(&app, "WerkFit BV", "12345678").await;
    let input = Contract {
        target_fases: vec![Fase::Fase2 as i32, Fase::Fase3 as i32],
        target_doelgroepen: vec!["JONGEREN".into()],
        ..sample_contract(&provider)
    };
    let created = fb.create_contract(input.clone()).await;
    assert!(
        created.name.starts_with("contracts/") && created.name.len() > "contracts/".len(),
        "name {}",
        created.name
    );
    assert_eq!(created.gemeente, "0363");
    assert_eq!(created.provider, provider);
    assert_eq!(created.display_name, input.display_name);
    assert_eq!(created.start_date, Some(date(2025, 1, 1)));
    assert_eq!(created.end_date, Some(date(2025, 12, 31)));
    assert_eq!(created.target_fases, input.target_fases);
    assert_eq!(created.target_doelgroepen, input.target_doelgroepen);
    assert_eq!(created.products, input.products);
    assert_eq!(created.payment_model, PaymentModel::NoCureLessPay as i32);
    assert_eq!(created.input_share_percent, Some(60));
    assert_eq!(created.payment_terms, input.payment_terms);
    assert_eq!(created.result_agreements, input.result_agreements);
    assert_eq!(created.volume, input.volume);
    assert_eq!(created.report_due_days, 30);
    let rev = created.revision.clone().expect("revision");
    assert_eq!(rev.version, 1);
    assert_eq!(rev.actor, "fb-dirk");
    assert_eq!(rev.actor_role, "functioneel_beheerder");
    assert_eq!(rev.source, Source::FunctioneelBeheer as i32);
    assert_eq!(rev.reason, "contract getekend");

    for token in [CM_ANNA, DM_0363, FB_0363] {
        assert_eq!(get(&mut app.clients(token), &created.name).await, created);
        assert_eq!(
            list(&mut app.clients(token), "", 0).await,
            vec![created.clone()]
        );
        assert_eq!(
            app.clients(token).contract_versions(&created.name).await,
            vec![created.clone()]
        );
    }
    app.cleanup().await;
}

async fn bad_contracts_are_rejected(app: TestApp) {
    let mut fb = app.beheerder();
    fb.create_doelgroep("JONGEREN").await;
    let provider = provider(&app, "WerkFit BV", "12345678").await;
    let ok = sample_contract(&provider);
    let with_product = |p: Product| Contract {
        products: vec![p],
        ..ok.clone()
    };
    let coaching = ok.products[1].clone();

    let bad: Vec<(&str, Contract, &str)> = vec![
        (
            "no provider",
            Contract {
                provider: String::new(),
                ..ok.clone()
            },
            "contract.provider",
        ),
        (
            "malformed provider",
            Contract {
                provider: "nope".into(),
                ..ok.clone()
            },
            "contract.provider",
        ),
        (
            "no display name",
            Contract {
                display_name: String::new(),
                ..ok.clone()
            },
            "contract.display_name",
        ),
        (
            "display name of 201 characters",
            Contract {
                display_name: "x".repeat(201),
                ..ok.clone()
            },
            "contract.display_name",
        ),
        (
            "no start date",
            Contract {
                start_date: None,
                ..ok.clone()
            },
            "contract.start_date",
        ),
        (
            "no end date",
            Contract {
                end_date: None,
                ..ok.clone()
            },
            "contract.end_date",
        ),
        (
            "end before start",
            Contract {
                end_date: Some(date(2024, 12, 31)),
                ..ok.clone()
            },
            "contract.end_date",
        ),
        (
            "impossible end date",
            Contract {
                end_date: Some(date(2025, 2, 30)),
                ..ok.clone()
            },
            "contract.end_date",
        ),
        (
            "product without code",
            with_product(Product {
                code: String::new(),
                ..coaching.clone()
            }),
            "contract.products",
        ),
        (
            "product code in lower case",
            with_product(Product {
                code: "coaching".into(),
                ..coaching.clone()
            }),
            "contract.products",
        ),
        (
            "product code of 33 characters",
            with_product(Product {
                code: "C".repeat(33),
                ..coaching.clone()
            }),
            "contract.products",
        ),
        (
            "product without kind",
            with_product(Product {
                kind: ProductKind::Unspecified as i32,
                ..coaching.clone()
            }),
            "contract.products",
        ),
        (
            "product of an unknown kind",
            with_product(Product {
                kind: 42,
                ..coaching.clone()
            }),
            "contract.products",
        ),
        (
            "product without unit",
            with_product(Product {
                unit: PriceUnit::Unspecified as i32,
                ..coaching.clone()
            }),
            "contract.products",
        ),
        (
            "product without price",
            with_product(Product {
                prices: vec![],
                ..coaching.clone()
            }),
            "contract.products",
        ),
        (
            "negative price",
            with_product(Product {
                prices: vec![price(date(2025, 1, 1), -1)],
                ..coaching.clone()
            }),
            "contract.products",
        ),
        (
            "two prices from one date",
            with_product(Product {
                prices: vec![price(date(2025, 1, 1), 100), price(date(2025, 1, 1), 200)],
                ..coaching.clone()
            }),
            "contract.products",
        ),
        (
            "no price in force on the start",
            with_product(Product {
                prices: vec![price(date(2025, 1, 2), 100)],
                ..coaching.clone()
            }),
            "contract.products",
        ),
        (
            "price without date",
            with_product(Product {
                prices: vec![
                    price(date(2025, 1, 1), 100),
                    clientvolg::proto::clientvolg::v1::Price {
                        valid_from: None,
                        amount_cents: 100,
                    },
                ],
                ..coaching.clone()
            }),
            "contract.products",
        ),
        (
            "product description of 2001 characters",
            with_product(Product {
                description: "x".repeat(2001),
                ..coaching.clone()
            }),
            "contract.products",
        ),
        (
            "two products with one code",
            Contract {
                products: vec![coaching.clone(), coaching.clone()],
                ..ok.clone()
            },
            "contract.products",
        ),
        (
            "undefined doelgroep",
            Contract {
                target_doelgroepen: vec!["JONGEREN".into(), "ONBEKEND".into()],
                ..ok.clone()
            },
            "contract.target_doelgroepen",
        ),
        (
            "fase niet ingedeeld",
            Contract {
                target_fases: vec![Fase::Fase1 as i32, Fase::NietIngedeeld as i32],
                ..ok.clone()
            },
            "contract.target_fases",
        ),
        (
            "fase unspecified",
            Contract {
                target_fases: vec![Fase::Unspecified as i32],
                ..ok.clone()
            },
            "contract.target_fases",
        ),
        (
            "unknown fase",
            Contract {
                target_fases: vec![42],
                ..ok.clone()
            },
            "contract.target_fases",
        ),
        (
            "no payment model",
            Contract {
                payment_model: PaymentModel::Unspecified as i32,
                ..ok.clone()
            },
            "contract.payment_model",
        ),
        (
            "unknown payment model",
            Contract {
                payment_model: 42,
                ..ok.clone()
            },
            "contract.payment_model",
        ),
        (
            "payment terms of 2001 characters",
            Contract {
                payment_terms: "x".repeat(2001),
                ..ok.clone()
            },
            "contract.payment_terms",
        ),
        (
            "no volume",
            Contract {
                volume: None,
                ..ok.clone()
            },
            "contract.volume",
        ),
        (
            "volume without kind",
            Contract {
                volume: Some(Volume {
                    kind: VolumeKind::Unspecified as i32,
                    minimum: None,
                    maximum: None,
                }),
                ..ok.clone()
            },
            "contract.volume",
        ),
        (
            "volume minimum above maximum",
            Contract {
                volume: Some(Volume {
                    kind: VolumeKind::Volumecontract as i32,
                    minimum: Some(10),
                    maximum: Some(5),
                }),
                ..ok.clone()
            },
            "contract.volume",
        ),
        (
            "report due after 0 days",
            Contract {
                report_due_days: 0,
                ..ok.clone()
            },
            "contract.report_due_days",
        ),
        (
            "report due after 366 days",
            Contract {
                report_due_days: 366,
                ..ok.clone()
            },
            "contract.report_due_days",
        ),
        (
            "input share -1%",
            Contract {
                input_share_percent: Some(-1),
                ..ok.clone()
            },
            "contract.input_share_percent",
        ),
        (
            "input share 101%",
            Contract {
                input_share_percent: Some(101),
                ..ok.clone()
            },
            "contract.input_share_percent",
        ),
        (
            "placement target 101%",
            Contract {
                result_agreements: Some(ResultAgreements {
                    target_placement_percent: Some(101),
                    ..ok.result_agreements.clone().unwrap()
                }),
                ..ok.clone()
            },
            "contract.result_agreements",
        ),
        (
            "placement target -1%",
            Contract {
                result_agreements: Some(ResultAgreements {
                    target_placement_percent: Some(-1),
                    ..ok.result_agreements.clone().unwrap()
                }),
                ..ok.clone()
            },
            "contract.result_agreements",
        ),
        (
            "maximum duration 0 months",
            Contract {
                result_agreements: Some(ResultAgreements {
                    max_duration_months: Some(0),
                    ..ok.result_agreements.clone().unwrap()
                }),
                ..ok.clone()
            },
            "contract.result_agreements",
        ),
        (
            "maximum duration 121 months",
            Contract {
                result_agreements: Some(ResultAgreements {
                    max_duration_months: Some(121),
                    ..ok.result_agreements.clone().unwrap()
                }),
                ..ok.clone()
            },
            "contract.result_agreements",
        ),
    ];
    for (what, contract, field) in bad {
        let result = fb.contracts.create_contract(create_req(contract)).await;
        assert!(result.is_err(), "{what} was accepted");
        assert_invalid(result, field);
    }
    let result = fb
        .contracts
        .create_contract(CreateContractRequest {
            parent: GEMEENTE.into(),
            contract: None,
            change: None,
        })
        .await;
    assert_invalid(result, "contract");
    let result = fb
        .contracts
        .create_contract(CreateContractRequest {
            parent: GEMEENTE_0599.into(),
            contract: Some(ok.clone()),
            change: None,
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    assert!(list(&mut fb, "", 0).await.is_empty(), "nothing was written");

    // The valid contract itself is accepted.
    fb.create_contract(ok).await;
    app.cleanup().await;
}

async fn boundary_values_are_accepted(app: TestApp) {
    let mut fb = app.beheerder();
    fb.create_doelgroep("JONGEREN").await;
    fb.create_doelgroep("STATUSHOUDERS").await;
    let provider = provider(&app, "WerkFit BV", "12345678").await;
    let ok = sample_contract(&provider);
    let variants = vec![
        Contract {
            // One day long; a price of zero from before the start.
            start_date: Some(date(2025, 3, 1)),
            end_date: Some(date(2025, 3, 1)),
            products: vec![product(
                "GRATIS_INTAKE",
                ProductKind::Diagnose,
                PriceUnit::PerTrajectory,
                vec![price(date(2024, 1, 1), 0)],
            )],
            ..ok.clone()
        },
        Contract {
            report_due_days: 1,
            input_share_percent: Some(0),
            result_agreements: Some(ResultAgreements {
                target_placement_percent: Some(0),
                max_duration_months: Some(1),
                description: String::new(),
            }),
            volume: Some(Volume {
                kind: VolumeKind::Volumecontract as i32,
                minimum: Some(25),
                maximum: Some(25),
            }),
            ..ok.clone()
        },
        Contract {
            report_due_days: 365,
            input_share_percent: Some(100),
            result_agreements: Some(ResultAgreements {
                target_placement_percent: Some(100),
                max_duration_months: Some(120),
                description: String::new(),
            }),
            ..ok.clone()
        },
        Contract {
            // No result agreements, no input share, a volume without bounds,
            // every fase a contract can cover, two doelgroepen.
            result_agreements: None,
            input_share_percent: None,
            payment_model: PaymentModel::FixedPrice as i32,
            volume: Some(Volume {
                kind: VolumeKind::Raamcontract as i32,
                minimum: None,
                maximum: None,
            }),
            target_fases: vec![
                Fase::Fase1 as i32,
                Fase::Fase2 as i32,
                Fase::Fase3 as i32,
                Fase::Fase4 as i32,
                Fase::Ontheffing as i32,
            ],
            target_doelgroepen: vec!["JONGEREN".into(), "STATUSHOUDERS".into()],
            ..ok.clone()
        },
    ];
    let n = variants.len();
    for contract in variants {
        let created = fb
            .contracts
            .create_contract(create_req(contract.clone()))
            .await
            .unwrap_or_else(|s| panic!("{contract:?} refused: {s:?}"))
            .into_inner();
        assert_eq!(created.report_due_days, contract.report_due_days);
        assert_eq!(created.volume, contract.volume);
        // No result agreements may be answered as an empty message.
        assert_eq!(
            created.result_agreements.clone().unwrap_or_default(),
            contract.result_agreements.clone().unwrap_or_default()
        );
        assert_eq!(created.input_share_percent, contract.input_share_percent);
    }
    assert_eq!(list(&mut fb, "", 0).await.len(), n);
    app.cleanup().await;
}

async fn unknown_provider_is_not_found(app: TestApp) {
    let mut fb = app.beheerder();
    let result = fb
        .contracts
        .create_contract(create_req(sample_contract(&format!(
            "providers/{}",
            uuid::Uuid::new_v4()
        ))))
        .await;
    assert_code(result, Code::NotFound);
    let result = fb
        .contracts
        .get_contract(GetContractRequest {
            name: format!("contracts/{}", uuid::Uuid::new_v4()),
            as_of: None,
        })
        .await;
    assert_code(result, Code::NotFound);
    let result = fb
        .contracts
        .end_contract(end_req(
            &format!("contracts/{}", uuid::Uuid::new_v4()),
            Some(date(2025, 6, 30)),
            1,
            "opgezegd",
        ))
        .await;
    assert_code(result, Code::NotFound);
    let result = fb
        .contracts
        .get_contract(GetContractRequest {
            name: "contracts/".into(),
            as_of: None,
        })
        .await;
    assert_invalid(result, "name");
    assert!(list(&mut fb, "", 0).await.is_empty());
    app.cleanup().await;
}

async fn update_adds_products_and_prices(app: TestApp) {
    let mut fb = app.beheerder();
    let provider = provider(&app, "WerkFit BV", "12345678").await;
    let created = fb.create_contract(sample_contract(&provider)).await;

    // A later price for COACHING, a corrected amount for BEMIDDELING, and a
    // new product.
    let mut products = created.products.clone();
    products[0].prices[0].amount_cents = 260_000;
    products[1].prices.push(price(date(2025, 10, 1), 9_500));
    products.push(product(
        "SCHOLING",
        ProductKind::Scholing,
        PriceUnit::PerMonth,
        vec![price(date(2025, 1, 1), 40_000)],
    ));
    let updated = fb
        .contracts
        .update_contract(update_req(
            Contract {
                name: created.name.clone(),
                products: products.clone(),
                display_name: "ignored: not in the mask".into(),
                ..Default::default()
            },
            &["products"],
            1,
            "prijsindexatie en scholing erbij",
        ))
        .await
        .expect("UpdateContract adding products and prices")
        .into_inner();
    assert_eq!(updated.products, products);
    assert_eq!(updated.display_name, created.display_name);
    assert_eq!(updated.provider, created.provider);
    assert_eq!(updated.start_date, created.start_date);
    assert_eq!(version_of(&updated.revision), 2);
    assert_eq!(
        updated.revision.as_ref().unwrap().reason,
        "prijsindexatie en scholing erbij"
    );

    // Another field only; the products stay.
    let renamed = fb
        .contracts
        .update_contract(update_req(
            Contract {
                name: created.name.clone(),
                display_name: "Bemiddeling, coaching en scholing 2025".into(),
                report_due_days: 45,
                ..Default::default()
            },
            &["display_name", "report_due_days"],
            2,
            "naam",
        ))
        .await
        .expect("UpdateContract display_name")
        .into_inner();
    assert_eq!(renamed.products, products);
    assert_eq!(renamed.report_due_days, 45);
    assert_eq!(
        renamed.display_name,
        "Bemiddeling, coaching en scholing 2025"
    );
    assert_eq!(get(&mut app.anna(), &created.name).await, renamed);

    // Every version keeps the products and prices it had.
    let versions = fb.contract_versions(&created.name).await;
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[0], created);
    assert_eq!(versions[0].products[1].prices.len(), 2);
    assert_eq!(
        versions[0].products[0].prices[0].amount_cents,
        BEMIDDELING_PRICE
    );
    assert_eq!(versions[1].products, products);
    assert_eq!(versions[2], renamed);
    app.cleanup().await;
}

async fn update_never_removes_products_or_prices(app: TestApp) {
    let mut fb = app.beheerder();
    let provider = provider(&app, "WerkFit BV", "12345678").await;
    let created = fb.create_contract(sample_contract(&provider)).await;

    // Dropping COACHING.
    let result = fb
        .contracts
        .update_contract(update_req(
            Contract {
                name: created.name.clone(),
                products: vec![created.products[0].clone()],
                ..Default::default()
            },
            &["products"],
            1,
            "coaching vervalt",
        ))
        .await;
    assert_precondition(result, "products_are_kept");

    // Dropping COACHING's price from 2025-07-01.
    let mut fewer_prices = created.products.clone();
    fewer_prices[1].prices.truncate(1);
    let result = fb
        .contracts
        .update_contract(update_req(
            Contract {
                name: created.name.clone(),
                products: fewer_prices,
                ..Default::default()
            },
            &["products"],
            1,
            "prijsverhoging gaat niet door",
        ))
        .await;
    assert_precondition(result, "prices_are_kept");

    // Moving a price to another date removes the dated price as well.
    let mut moved = created.products.clone();
    moved[1].prices[1].valid_from = Some(date(2025, 8, 1));
    let result = fb
        .contracts
        .update_contract(update_req(
            Contract {
                name: created.name.clone(),
                products: moved,
                ..Default::default()
            },
            &["products"],
            1,
            "later ingegaan",
        ))
        .await;
    assert_precondition(result, "prices_are_kept");

    // An empty mask replaces everything: without products it removes them.
    let result = fb
        .contracts
        .update_contract(UpdateContractRequest {
            contract: Some(Contract {
                name: created.name.clone(),
                products: vec![],
                ..sample_contract(&provider)
            }),
            update_mask: None,
            version: 1,
            change: Some(reason("alles opnieuw")),
        })
        .await;
    assert_precondition(result, "products_are_kept");

    // Nothing was recorded.
    assert_eq!(
        fb.contract_versions(&created.name).await,
        vec![created.clone()]
    );
    app.cleanup().await;
}

async fn update_is_validated_version_checked_and_reasoned(app: TestApp) {
    let mut fb = app.beheerder();
    let provider = provider(&app, "WerkFit BV", "12345678").await;
    let other_provider = self::provider(&app, "Reakt", "87654321").await;
    let created = fb.create_contract(sample_contract(&provider)).await;
    let name = created.name.clone();

    let result = fb
        .contracts
        .update_contract(update_req(
            Contract {
                name: name.clone(),
                report_due_days: 0,
                ..Default::default()
            },
            &["report_due_days"],
            1,
            "sneller",
        ))
        .await;
    assert_invalid(result, "contract.report_due_days");
    let result = fb
        .contracts
        .update_contract(update_req(
            Contract {
                name: name.clone(),
                end_date: Some(date(2024, 6, 30)),
                ..Default::default()
            },
            &["end_date"],
            1,
            "typfout",
        ))
        .await;
    assert_invalid(result, "contract.end_date");
    let mut duplicate = created.products.clone();
    duplicate.push(created.products[0].clone());
    let result = fb
        .contracts
        .update_contract(update_req(
            Contract {
                name: name.clone(),
                products: duplicate,
                ..Default::default()
            },
            &["products"],
            1,
            "dubbel",
        ))
        .await;
    assert_invalid(result, "contract.products");
    // The provider never changes.
    let result = fb
        .contracts
        .update_contract(update_req(
            Contract {
                name: name.clone(),
                provider: other_provider,
                ..Default::default()
            },
            &["provider"],
            1,
            "overname",
        ))
        .await;
    assert_invalid(result, "update_mask");
    // A reason is required.
    let result = fb
        .contracts
        .update_contract(update_req(
            Contract {
                name: name.clone(),
                report_due_days: 60,
                ..Default::default()
            },
            &["report_due_days"],
            1,
            "",
        ))
        .await;
    assert_invalid(result, "change.reason");

    fb.contracts
        .update_contract(update_req(
            Contract {
                name: name.clone(),
                report_due_days: 60,
                ..Default::default()
            },
            &["report_due_days"],
            1,
            "langer",
        ))
        .await
        .expect("valid update");
    let result = fb
        .contracts
        .update_contract(update_req(
            Contract {
                name: name.clone(),
                report_due_days: 14,
                ..Default::default()
            },
            &["report_due_days"],
            1,
            "korter",
        ))
        .await;
    assert_code(result, Code::Aborted);
    let versions = fb.contract_versions(&name).await;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].report_due_days, 60);
    app.cleanup().await;
}

async fn end_contract_only_earlier(app: TestApp) {
    let mut fb = app.beheerder();
    let provider = provider(&app, "WerkFit BV", "12345678").await;
    let created = fb.create_contract(sample_contract(&provider)).await;
    let name = created.name.clone();

    let result = fb
        .contracts
        .end_contract(end_req(&name, None, 1, "opgezegd"))
        .await;
    assert_invalid(result, "end_date");
    let result = fb
        .contracts
        .end_contract(end_req(&name, Some(date(2025, 6, 30)), 1, ""))
        .await;
    assert_invalid(result, "change.reason");
    let result = fb
        .contracts
        .end_contract(end_req(&name, Some(date(2026, 3, 31)), 1, "verlengd"))
        .await;
    assert_precondition(result, "end_only_earlier");

    let ended = fb
        .contracts
        .end_contract(end_req(&name, Some(date(2025, 6, 30)), 1, "opgezegd"))
        .await
        .expect("EndContract earlier")
        .into_inner();
    assert_eq!(ended.end_date, Some(date(2025, 6, 30)));
    assert_eq!(ended.start_date, created.start_date);
    assert_eq!(ended.products, created.products);
    assert_eq!(version_of(&ended.revision), 2);
    assert_eq!(ended.revision.as_ref().unwrap().reason, "opgezegd");

    // The old end is no longer reachable.
    let result = fb
        .contracts
        .end_contract(end_req(&name, Some(date(2025, 9, 30)), 2, "toch later"))
        .await;
    assert_precondition(result, "end_only_earlier");
    let result = fb
        .contracts
        .end_contract(end_req(
            &name,
            Some(date(2024, 12, 31)),
            2,
            "nooit begonnen",
        ))
        .await;
    assert_precondition(result, "end_after_start");
    let result = fb
        .contracts
        .end_contract(end_req(&name, Some(date(2025, 3, 31)), 1, "stale"))
        .await;
    assert_code(result, Code::Aborted);

    // Ending on the start day is allowed.
    let last = fb
        .contracts
        .end_contract(end_req(&name, Some(date(2025, 1, 1)), 2, "direct gestopt"))
        .await
        .expect("EndContract on the start")
        .into_inner();
    assert_eq!(last.end_date, Some(date(2025, 1, 1)));

    let ends: Vec<Option<Date>> = fb
        .contract_versions(&name)
        .await
        .iter()
        .map(|v| v.end_date)
        .collect();
    assert_eq!(
        ends,
        vec![
            Some(date(2025, 12, 31)),
            Some(date(2025, 6, 30)),
            Some(date(2025, 1, 1))
        ]
    );
    app.cleanup().await;
}

async fn list_contracts_by_start_date_and_provider(app: TestApp) {
    let mut fb = app.beheerder();
    let p1 = provider(&app, "WerkFit BV", "12345678").await;
    let p2 = provider(&app, "Reakt", "87654321").await;
    let c2025 = fb
        .create_contract(simple_contract(
            &p1,
            "P1 2025",
            date(2025, 1, 1),
            date(2025, 12, 31),
        ))
        .await;
    let c2024 = fb
        .create_contract(simple_contract(
            &p2,
            "P2 2024",
            date(2024, 1, 1),
            date(2024, 12, 31),
        ))
        .await;
    let c2026 = fb
        .create_contract(simple_contract(
            &p1,
            "P1 2026",
            date(2026, 1, 1),
            date(2027, 12, 31),
        ))
        .await;
    let c2025b = fb
        .create_contract(simple_contract(
            &p2,
            "P2 mid 2025",
            date(2025, 7, 1),
            date(2026, 6, 30),
        ))
        .await;

    let names = |cs: Vec<Contract>| cs.into_iter().map(|c| c.name).collect::<Vec<_>>();
    for page_size in [0, 1, 3] {
        assert_eq!(
            names(list(&mut app.anna(), "", page_size).await),
            vec![
                c2024.name.clone(),
                c2025.name.clone(),
                c2025b.name.clone(),
                c2026.name.clone()
            ],
            "page_size {page_size}"
        );
    }
    assert_eq!(
        names(list(&mut fb, &p1, 1).await),
        vec![c2025.name.clone(), c2026.name.clone()]
    );
    assert_eq!(
        names(list(&mut fb, &p2, 0).await),
        vec![c2024.name.clone(), c2025b.name.clone()]
    );
    // A provider without contracts.
    let p3 = provider(&app, "Malkander", "11223344").await;
    assert!(list(&mut fb, &p3, 0).await.is_empty());

    let result = fb
        .contracts
        .list_contracts(ListContractsRequest {
            parent: GEMEENTE.into(),
            provider: "nope".into(),
            ..Default::default()
        })
        .await;
    assert_invalid(result, "provider");
    let result = fb
        .contracts
        .list_contracts(ListContractsRequest {
            parent: GEMEENTE.into(),
            page_token: "garbage".into(),
            ..Default::default()
        })
        .await;
    assert_invalid(result, "page_token");
    app.cleanup().await;
}

async fn get_contract_as_of(app: TestApp) {
    let mut fb = app.beheerder();
    let provider = provider(&app, "WerkFit BV", "12345678").await;
    let created = fb.create_contract(sample_contract(&provider)).await;
    tick().await;
    let ended = fb
        .contracts
        .end_contract(end_req(
            &created.name,
            Some(date(2025, 8, 31)),
            1,
            "opgezegd",
        ))
        .await
        .unwrap()
        .into_inner();
    let as_of = between(
        record_micros(&created.revision),
        record_micros(&ended.revision),
    );
    let old = fb
        .contracts
        .get_contract(GetContractRequest {
            name: created.name.clone(),
            as_of: Some(as_of),
        })
        .await
        .expect("GetContract as_of")
        .into_inner();
    assert_eq!(old, created);
    let listed_then = fb
        .contracts
        .list_contracts(ListContractsRequest {
            parent: GEMEENTE.into(),
            as_of: Some(as_of),
            ..Default::default()
        })
        .await
        .expect("ListContracts as_of")
        .into_inner()
        .contracts;
    assert_eq!(listed_then, vec![created.clone()]);
    let versions_then = fb
        .contracts
        .list_contract_versions(ListContractVersionsRequest {
            name: created.name.clone(),
            as_of: Some(as_of),
            ..Default::default()
        })
        .await
        .expect("ListContractVersions as_of")
        .into_inner()
        .versions;
    assert_eq!(versions_then, vec![created.clone()]);
    assert_eq!(get(&mut fb, &created.name).await, ended);
    app.cleanup().await;
}

async fn other_gemeente_sees_not_found(app: TestApp) {
    let mut fb = app.beheerder();
    let provider = provider(&app, "WerkFit BV", "12345678").await;
    let created = fb.create_contract(sample_contract(&provider)).await;
    let mut carla = app.carla();
    let result = carla
        .contracts
        .get_contract(GetContractRequest {
            name: created.name.clone(),
            as_of: None,
        })
        .await;
    assert_code(result, Code::NotFound);
    let result = carla
        .contracts
        .list_contract_versions(ListContractVersionsRequest {
            name: created.name.clone(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::NotFound);
    let result = carla
        .contracts
        .list_contracts(ListContractsRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    let own = carla
        .contracts
        .list_contracts(ListContractsRequest {
            parent: GEMEENTE_0599.into(),
            ..Default::default()
        })
        .await
        .expect("ListContracts of 0599")
        .into_inner();
    assert!(own.contracts.is_empty());
    // Filtering 0599's list by a provider of 0363 finds nothing of 0363.
    let filtered = carla
        .contracts
        .list_contracts(ListContractsRequest {
            parent: GEMEENTE_0599.into(),
            provider: provider.clone(),
            ..Default::default()
        })
        .await;
    if let Ok(resp) = filtered {
        assert!(resp.into_inner().contracts.is_empty());
    } else {
        assert_code(filtered, Code::NotFound);
    }
    app.cleanup().await;
}
