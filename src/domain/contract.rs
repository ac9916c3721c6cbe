//! Contracts between a gemeente and a reïntegratiebedrijf: what is bought
//! (products with prices), for whom (target group), on what terms (payment
//! model, result agreements, volume) and when quarterly reports are due.
//! Prices carry their own valid-from dates, so an amendment adds a price and
//! never loses one: the seeds name missing prices as a main reason
//! municipalities could not judge their providers.

use super::classification::{Fase, in_force_on};
use super::code::Code;
use super::dates::DateSpan;
use super::doelgroep::DoelgroepSet;
use super::{Invalid, RuleViolation, refuse, stored_enum};
use chrono::NaiveDate;
use std::collections::BTreeSet;

/// An amount in euro cents.
pub type Cents = i64;

/// The most products one contract may hold. Real contracts have a handful;
/// the bound keeps one request from making the server check and store
/// thousands.
pub const PRODUCTS_MAX: usize = 50;
/// The most dated prices one product may hold (a new price a quarter for 25
/// years).
pub const PRICES_MAX: usize = 100;

/// What a price is paid per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceUnit {
    PerTrajectory,
    PerMonth,
    PerHour,
    PerResult,
}

stored_enum!(PriceUnit {
    PerTrajectory => "per_trajectory",
    PerMonth => "per_month",
    PerHour => "per_hour",
    PerResult => "per_result",
});

/// The building blocks a gemeente buys (product / instrument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductKind {
    Diagnose,
    Scholing,
    Sollicitatietraining,
    Werkervaringsplaats,
    Coaching,
    Bemiddeling,
    SocialeActivering,
    Jobcoaching,
    Other,
}

stored_enum!(ProductKind {
    Diagnose => "diagnose",
    Scholing => "scholing",
    Sollicitatietraining => "sollicitatietraining",
    Werkervaringsplaats => "werkervaringsplaats",
    Coaching => "coaching",
    Bemiddeling => "bemiddeling",
    SocialeActivering => "sociale_activering",
    Jobcoaching => "jobcoaching",
    Other => "other",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentModel {
    FixedPrice,
    NoCureNoPay,
    NoCureLessPay,
    BaseFeePlusBonus,
}

stored_enum!(PaymentModel {
    FixedPrice => "fixed_price",
    NoCureNoPay => "no_cure_no_pay",
    NoCureLessPay => "no_cure_less_pay",
    BaseFeePlusBonus => "base_fee_plus_bonus",
});

/// Raamcontract (no guaranteed volume) or volumecontract (guaranteed number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeKind {
    Raamcontract,
    Volumecontract,
}

stored_enum!(VolumeKind { Raamcontract => "raamcontract", Volumecontract => "volumecontract" });

/// A price from a date on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DatedPrice {
    pub valid_from: NaiveDate,
    pub cents: Cents,
}

/// A product or instrument bought under the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Unique within the contract, e.g. `DIAG`.
    pub code: Code,
    pub kind: ProductKind,
    pub description: String,
    pub unit: PriceUnit,
    /// Sorted by valid_from, at least one, no two on one date.
    pub prices: Vec<DatedPrice>,
}

impl Product {
    pub fn new(
        code: Code,
        kind: ProductKind,
        description: String,
        unit: PriceUnit,
        mut prices: Vec<DatedPrice>,
    ) -> Result<Self, Invalid> {
        if prices.is_empty() {
            return Err(Invalid::new(format!(
                "product {code} needs at least one price"
            )));
        }
        if prices.len() > PRICES_MAX {
            return Err(Invalid::new(format!(
                "product {code} has more than {PRICES_MAX} prices"
            )));
        }
        if let Some(price) = prices.iter().find(|p| p.cents < 0) {
            return Err(Invalid::new(format!(
                "product {code}: price from {} is negative",
                price.valid_from
            )));
        }
        prices.sort_by_key(|p| p.valid_from);
        if prices
            .windows(2)
            .any(|pair| pair[0].valid_from == pair[1].valid_from)
        {
            return Err(Invalid::new(format!(
                "product {code} has two prices from one date"
            )));
        }
        Ok(Product {
            code,
            kind,
            description,
            unit,
            prices,
        })
    }

    /// The price in force on `day`.
    pub fn price_on(&self, day: NaiveDate) -> Option<Cents> {
        in_force_on(&self.prices, day, |p| p.valid_from).map(|p| p.cents)
    }
}

/// Whom the contract was bought for. An empty list does not restrict.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetGroup {
    pub fases: BTreeSet<Fase>,
    pub doelgroepen: DoelgroepSet,
}

impl TargetGroup {
    /// Does a client with this fase and these doelgroepen on the referral
    /// date belong to the target group? Each non-empty list must match.
    pub fn covers(&self, fase: Option<Fase>, doelgroepen: &DoelgroepSet) -> bool {
        let fase_fits = self.fases.is_empty() || fase.is_some_and(|f| self.fases.contains(&f));
        let doelgroep_fits =
            self.doelgroepen.is_empty() || !self.doelgroepen.is_disjoint(doelgroepen);
        fase_fits && doelgroep_fits
    }
}

/// The result agreements (resultaatafspraken).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResultAgreements {
    /// Target share of trajectories ending in work, 0–100.
    pub target_placement_percent: Option<u8>,
    /// Maximum duration of a trajectory in months.
    pub max_duration_months: Option<u16>,
    pub description: String,
}

/// The volume agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub kind: VolumeKind,
    pub minimum: Option<u32>,
    pub maximum: Option<u32>,
}

impl Volume {
    pub fn new(
        kind: VolumeKind,
        minimum: Option<u32>,
        maximum: Option<u32>,
    ) -> Result<Self, Invalid> {
        if let (Some(min), Some(max)) = (minimum, maximum)
            && min > max
        {
            return Err(Invalid::new("the minimum volume exceeds the maximum"));
        }
        Ok(Volume {
            kind,
            minimum,
            maximum,
        })
    }
}

/// Everything agreed in a contract, already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractTerms {
    pub display_name: String,
    pub period: DateSpan,
    pub target_group: TargetGroup,
    pub products: Vec<Product>,
    pub payment_model: PaymentModel,
    /// For no cure, less pay: the share paid on input, 0–100.
    pub input_share_percent: Option<u8>,
    pub payment_terms: String,
    pub results: ResultAgreements,
    pub volume: Volume,
    /// Days after a quarter's end within which the kwartaalrapportage is due.
    pub report_due_days: u16,
}

impl ContractTerms {
    /// The rules across fields: a contract has an end, product codes are
    /// unique, every product has a price from the contract's start.
    pub fn check(&self) -> Result<(), (&'static str, Invalid)> {
        if self.period.end.is_none() {
            return Err((
                "contract.end_date",
                Invalid::new("a contract has an end date"),
            ));
        }
        if self.products.len() > PRODUCTS_MAX {
            return Err((
                "contract.products",
                Invalid::new(format!("at most {PRODUCTS_MAX} products are allowed")),
            ));
        }
        let mut codes = BTreeSet::new();
        for product in &self.products {
            if !codes.insert(&product.code) {
                return Err((
                    "contract.products",
                    Invalid::new(format!("product code {} is used twice", product.code)),
                ));
            }
            if product.price_on(self.period.start).is_none() {
                return Err((
                    "contract.products",
                    Invalid::new(format!(
                        "product {} has no price on the contract's start date",
                        product.code
                    )),
                ));
            }
        }
        Ok(())
    }

    pub fn product(&self, code: &Code) -> Option<&Product> {
        self.products.iter().find(|p| &p.code == code)
    }

    /// An amendment may add products and dated prices and correct amounts
    /// and texts, but never drop a product or a dated price: what was bought
    /// at which price stays on the contract.
    pub fn check_amendment(&self, amended: &ContractTerms) -> Result<(), RuleViolation> {
        for product in &self.products {
            let Some(kept) = amended.product(&product.code) else {
                return Err(refuse(
                    "products_are_kept",
                    format!(
                        "product {} cannot be removed from the contract",
                        product.code
                    ),
                ));
            };
            for price in &product.prices {
                if !kept.prices.iter().any(|p| p.valid_from == price.valid_from) {
                    return Err(refuse(
                        "prices_are_kept",
                        format!(
                            "the price of {} from {} cannot be removed; add a price from a later date",
                            product.code, price.valid_from
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Ends the contract early on `date`: not before its start, not after
    /// its current end.
    pub fn end_on(mut self, date: NaiveDate) -> Result<ContractTerms, RuleViolation> {
        if date < self.period.start {
            return Err(refuse(
                "end_after_start",
                "a contract cannot end before it starts",
            ));
        }
        if self.period.end.is_some_and(|end| date > end) {
            return Err(refuse(
                "end_only_earlier",
                "ending a contract can only bring its end date forward",
            ));
        }
        self.period.end = Some(date);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn code(raw: &str) -> Code {
        Code::parse(raw).unwrap()
    }

    #[test]
    fn the_price_in_force_on_a_date() {
        let product = Product::new(
            code("DIAG"),
            ProductKind::Diagnose,
            String::new(),
            PriceUnit::PerTrajectory,
            vec![
                DatedPrice {
                    valid_from: d(2026, 1, 1),
                    cents: 90_000,
                },
                DatedPrice {
                    valid_from: d(2025, 1, 1),
                    cents: 80_000,
                },
            ],
        )
        .unwrap();
        assert_eq!(product.price_on(d(2024, 12, 31)), None);
        assert_eq!(product.price_on(d(2025, 6, 1)), Some(80_000));
        assert_eq!(product.price_on(d(2026, 1, 1)), Some(90_000));
    }

    #[test]
    fn products_need_prices_without_clashes() {
        let make = |prices| {
            Product::new(
                code("X"),
                ProductKind::Other,
                String::new(),
                PriceUnit::PerHour,
                prices,
            )
        };
        assert!(make(vec![]).is_err());
        assert!(
            make(vec![DatedPrice {
                valid_from: d(2025, 1, 1),
                cents: -1
            }])
            .is_err()
        );
        let twice = vec![
            DatedPrice {
                valid_from: d(2025, 1, 1),
                cents: 1
            };
            2
        ];
        assert!(make(twice).is_err());
        let daily = |n: u64| {
            (0..n)
                .map(|i| DatedPrice {
                    valid_from: d(2025, 1, 1) + chrono::Days::new(i),
                    cents: 1,
                })
                .collect()
        };
        assert!(make(daily(PRICES_MAX as u64)).is_ok());
        assert!(make(daily(PRICES_MAX as u64 + 1)).is_err());
    }

    #[test]
    fn a_contract_holds_a_bounded_number_of_products() {
        let products = |n: usize| {
            (0..n)
                .map(|i| product(&format!("P{i}"), &[(d(2025, 1, 1), 100)]))
                .collect()
        };
        assert!(terms(products(PRODUCTS_MAX)).check().is_ok());
        let (field, _) = terms(products(PRODUCTS_MAX + 1)).check().unwrap_err();
        assert_eq!(field, "contract.products");
    }

    #[test]
    fn target_groups_restrict_only_where_given() {
        let jongeren: DoelgroepSet = [code("JONGEREN")].into();
        let open = TargetGroup::default();
        assert!(open.covers(None, &DoelgroepSet::new()));
        let fase_2_3 = TargetGroup {
            fases: [Fase::Fase2, Fase::Fase3].into(),
            ..Default::default()
        };
        assert!(fase_2_3.covers(Some(Fase::Fase2), &DoelgroepSet::new()));
        assert!(!fase_2_3.covers(Some(Fase::Fase1), &DoelgroepSet::new()));
        assert!(!fase_2_3.covers(None, &DoelgroepSet::new()));
        let both = TargetGroup {
            doelgroepen: jongeren.clone(),
            ..fase_2_3
        };
        assert!(both.covers(Some(Fase::Fase3), &jongeren));
        assert!(!both.covers(Some(Fase::Fase3), &DoelgroepSet::new()));
    }

    fn terms(products: Vec<Product>) -> ContractTerms {
        ContractTerms {
            display_name: "Bemiddeling".into(),
            period: DateSpan::new(d(2025, 1, 1), Some(d(2026, 12, 31))).unwrap(),
            target_group: TargetGroup::default(),
            products,
            payment_model: PaymentModel::FixedPrice,
            input_share_percent: None,
            payment_terms: String::new(),
            results: ResultAgreements::default(),
            volume: Volume::new(VolumeKind::Raamcontract, None, None).unwrap(),
            report_due_days: 30,
        }
    }

    fn product(code_: &str, prices: &[(NaiveDate, Cents)]) -> Product {
        let prices = prices.iter().map(|(valid_from, cents)| DatedPrice {
            valid_from: *valid_from,
            cents: *cents,
        });
        Product::new(
            code(code_),
            ProductKind::Coaching,
            String::new(),
            PriceUnit::PerHour,
            prices.collect(),
        )
        .unwrap()
    }

    #[test]
    fn amendments_keep_products_and_prices() {
        let before = terms(vec![
            product("A", &[(d(2025, 1, 1), 100)]),
            product("B", &[(d(2025, 1, 1), 200)]),
        ]);
        let added = terms(vec![
            product("A", &[(d(2025, 1, 1), 100), (d(2026, 1, 1), 110)]),
            product("B", &[(d(2025, 1, 1), 250)]),
            product("C", &[(d(2025, 1, 1), 300)]),
        ]);
        assert!(before.check_amendment(&added).is_ok());
        let dropped = terms(vec![product("A", &[(d(2025, 1, 1), 100)])]);
        assert_eq!(
            before.check_amendment(&dropped).unwrap_err().rule,
            "products_are_kept"
        );
        let moved = terms(vec![
            product("A", &[(d(2025, 2, 1), 100)]),
            product("B", &[(d(2025, 1, 1), 200)]),
        ]);
        assert_eq!(
            before.check_amendment(&moved).unwrap_err().rule,
            "prices_are_kept"
        );
    }

    #[test]
    fn contracts_end_only_earlier() {
        let contract = terms(vec![]);
        assert_eq!(
            contract.clone().end_on(d(2025, 6, 30)).unwrap().period.end,
            Some(d(2025, 6, 30))
        );
        assert_eq!(
            contract.clone().end_on(d(2024, 12, 31)).unwrap_err().rule,
            "end_after_start"
        );
        assert_eq!(
            contract.end_on(d(2027, 1, 1)).unwrap_err().rule,
            "end_only_earlier"
        );
    }

    #[test]
    fn contract_checks() {
        assert!(
            terms(vec![product("A", &[(d(2025, 1, 1), 1)])])
                .check()
                .is_ok()
        );
        let late_price = terms(vec![product("A", &[(d(2025, 2, 1), 1)])]);
        assert!(late_price.check().is_err());
        let twice = terms(vec![
            product("A", &[(d(2025, 1, 1), 1)]),
            product("A", &[(d(2025, 1, 1), 2)]),
        ]);
        assert!(twice.check().is_err());
    }

    #[test]
    fn volumes_are_ordered() {
        assert!(Volume::new(VolumeKind::Volumecontract, Some(10), Some(5)).is_err());
        assert!(Volume::new(VolumeKind::Raamcontract, None, Some(5)).is_ok());
    }
}
