//! Realistic synthetic data for trying the reports and for benchmarks:
//! `clientvolg demo-data --gemeente 0363 --clients 1000 --seed 7`. The same
//! seed gives the same data. One generator draws each client's facts
//! (episodes, fases, doelgroepen, trajectories with endings, corrections
//! recorded later) and judges them with the same domain rules the store
//! applies; two writers record them: through the store, one transaction per
//! fact as the API would (`generate`), or in large batches of the same
//! version rows for benchmark-sized data (`generate_bulk`, see `bulk`).

mod bulk;

pub use bulk::generate_bulk;

use crate::domain::bsn::Bsn;
use crate::domain::classification::{Classification, ClassificationValue, Fase};
use crate::domain::client::{ClientDetails, EducationLevel};
use crate::domain::code::Code;
use crate::domain::contract::{
    ContractTerms, DatedPrice, PaymentModel, PriceUnit, Product, ProductKind, ResultAgreements,
    TargetGroup, Volume, VolumeKind,
};
use crate::domain::dates::DateSpan;
use crate::domain::doelgroep::DoelgroepSet;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::history::{Actor, Change, Source};
use crate::domain::provider::{KvkNumber, ProviderDetails, ProviderKind, ProviderSize};
use crate::domain::registration::{Episode, RegistrationKind};
use crate::domain::trajectory::{
    ClientOnReferral, EndReason, Ending, JobContractKind, JobDetails, Lifecycle, Line, LineRequest,
    TrajectoryKind, check_referral, check_start, price_lines,
};
use crate::store::doelgroepen::{Assignment, DoelgroepDefinition};
use crate::store::trajectories::{Correction, Referral, TrajectoryChange};
use crate::store::{Store, StoreError, StoreResult};
use chrono::NaiveDate;

/// A small deterministic generator (SplitMix64): reproducible across
/// platforms, no dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn day_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(0) as u64;
        from + chrono::Days::new(self.below(span + 1))
    }
}

/// A BSN that passes the elfproef, unique per `n` below 1,700,000: valid
/// numbers lie at most a few dozen apart, candidates 500 apart.
fn bsn_for(seed: u64, n: u64) -> Bsn {
    let mut base = 100_000_000 + (seed % 400 + n * 500) % 850_000_000;
    loop {
        let digits: Vec<i64> = format!("{base:09}")
            .bytes()
            .map(|b| i64::from(b - b'0'))
            .collect();
        let sum: i64 = digits
            .iter()
            .zip([9, 8, 7, 6, 5, 4, 3, 2, -1])
            .map(|(d, w)| d * w)
            .sum();
        if sum % 11 == 0
            && let Ok(bsn) = Bsn::parse(&format!("{base:09}"))
        {
            return bsn;
        }
        base += 1;
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a fixed calendar date")
}

fn code(raw: &str) -> Code {
    Code::parse(raw).expect("a fixed code")
}

/// What was generated.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    pub clients: u64,
    pub episodes: u64,
    pub trajectories: u64,
    pub corrections: u64,
}

impl Generated {
    fn add(&mut self, client: &ClientPlan) {
        self.clients += 1;
        self.episodes += client.episodes.len() as u64;
        self.trajectories += client.trajectories.len() as u64;
        self.corrections += client
            .trajectories
            .iter()
            .flat_map(|t| &t.changes)
            .filter(|c| matches!(c.step, TrajectoryChange::Correct(_)))
            .count() as u64;
    }
}

const DOELGROEPEN: [(&str, &str); 4] = [
    ("JONGEREN", "Jongeren tot 27 jaar"),
    ("STATUSHOUDERS", "Statushouders"),
    ("ALLEENSTAANDE_OUDERS", "Alleenstaande ouders"),
    ("VIJFTIG_PLUS", "50-plussers"),
];

/// A contract the generator refers clients under.
struct DemoContract {
    id: uuid::Uuid,
    provider_id: uuid::Uuid,
    terms: ContractTerms,
    /// 0: fase 1–2, 1: fase 2–3, 2: every fase.
    group: u64,
}

/// What every client is generated against: the gemeente's contracts and
/// casemanagers.
struct Setup {
    contracts: Vec<DemoContract>,
    casemanagers: Vec<String>,
}

/// One client's facts in the order a casemanager records them.
struct ClientPlan {
    change: Change,
    details: ClientDetails,
    episodes: Vec<Episode>,
    classification: Option<Classification>,
    assignment: Option<Assignment>,
    trajectories: Vec<TrajectoryPlan>,
}

impl ClientPlan {
    /// The facts the client's timeline is made of, as the store would read
    /// them back after recording the plan.
    fn timeline_facts(&self) -> timeline::Facts {
        timeline::Facts {
            birth_date: self.details.birth_date,
            episodes: self
                .episodes
                .iter()
                .map(|e| timeline::Episode {
                    kind: e.kind.timeline_bit(),
                    start: e.span.start,
                    end: e.span.end,
                })
                .collect(),
            fases: self
                .classification
                .iter()
                .filter_map(|c| match c.value {
                    ClassificationValue::Fase(fase) => Some(timeline::Dated {
                        valid_from: c.valid_from,
                        value: fase.code().to_owned(),
                    }),
                    ClassificationValue::Trede(_) => None,
                })
                .collect(),
            doelgroepen: self
                .assignment
                .iter()
                .map(|a| timeline::Dated {
                    valid_from: a.valid_from,
                    value: a.codes.iter().map(|c| c.as_str().to_owned()).collect(),
                })
                .collect(),
        }
    }
}

/// A referral and the later versions of its trajectory.
struct TrajectoryPlan {
    /// Index into `Setup::contracts`; `None` is eigen beheer.
    contract: Option<usize>,
    kind: TrajectoryKind,
    referral_date: NaiveDate,
    requests: Vec<LineRequest>,
    /// The lines as priced on the referral date; every version carries them.
    lines: Vec<Line>,
    target_group_exception: Option<String>,
    /// Version 2, 3, …: the step as the store is asked for it, the change
    /// it is recorded with and the lifecycle after it.
    changes: Vec<PlannedChange>,
}

struct PlannedChange {
    step: TrajectoryChange,
    change: Change,
    lifecycle: Lifecycle,
}

/// Fills `gemeente` with `clients` clients and their history, through the
/// store: one transaction per fact.
pub async fn generate(
    store: &Store,
    gemeente: &GemeenteCode,
    clients: u64,
    seed: u64,
) -> StoreResult<Generated> {
    let mut random = Random(seed);
    let setup = set_up(store, gemeente, &mut random, seed, clients).await?;
    let mut generated = Generated::default();
    for n in 0..clients {
        let plan = plan_client(&mut random, seed, n, &setup);
        if record_client(store, gemeente, &setup, &plan).await? {
            generated.add(&plan);
        }
    }
    Ok(generated)
}

/// About how many clients a casemanager of work and income holds: the demo
/// gemeente has one casemanager (`cm-demo-1`, `cm-demo-2`, …) per this many
/// clients, at least eight, so that a demo caseload is the size of a real
/// one whatever the number of clients.
const CASELOAD: u64 = 250;

/// The casemanagers of a demo gemeente of `clients` clients.
fn casemanagers(clients: u64) -> Vec<String> {
    (1..=clients.div_ceil(CASELOAD).max(8))
        .map(|i| format!("cm-demo-{i}"))
        .collect()
}

/// The doelgroepen, providers and contracts of the gemeente, through the
/// store (a handful of facts, the same for both writers), and the
/// casemanagers for `clients` clients.
async fn set_up(
    store: &Store,
    gemeente: &GemeenteCode,
    random: &mut Random,
    seed: u64,
    clients: u64,
) -> StoreResult<Setup> {
    let beheer = Change {
        actor: Actor {
            subject: "demo-beheer".into(),
            role: "functioneel_beheerder",
        },
        source: Source::Import,
        reason: Some("demo data".into()),
    };
    for (doelgroep, name) in DOELGROEPEN {
        let definition = DoelgroepDefinition {
            display_name: name.into(),
            description: String::new(),
        };
        match store
            .create_doelgroep(gemeente, code(doelgroep), definition, &beheer)
            .await
        {
            Ok(_) | Err(StoreError::AlreadyExists(_)) => {}
            Err(err) => return Err(err),
        }
    }
    let mut contracts = Vec::new();
    for index in 0..6u64 {
        let details = ProviderDetails {
            display_name: format!("Reïntegratiebedrijf {}", index + 1),
            kvk_number: KvkNumber::parse(&format!(
                "{:08}",
                60_000_000 + seed % 1_000_000 * 7 + index
            ))
            .expect("eight digits"),
            kind: *random.pick(&[
                ProviderKind::Commercial,
                ProviderKind::NonProfit,
                ProviderKind::SocialEnterprise,
            ]),
            size: *random.pick(&[
                ProviderSize::Small,
                ProviderSize::Medium,
                ProviderSize::Large,
            ]),
            specialisations: vec![],
        };
        let provider = store.create_provider(gemeente, details, &beheer).await?;
        let fases = match index % 3 {
            0 => [Fase::Fase1, Fase::Fase2].into(),
            1 => [Fase::Fase2, Fase::Fase3].into(),
            _ => Default::default(),
        };
        let product = |code_: &str, kind, unit, cents: i64| {
            Product::new(
                code(code_),
                kind,
                String::new(),
                unit,
                vec![
                    DatedPrice {
                        valid_from: date(2023, 1, 1),
                        cents,
                    },
                    DatedPrice {
                        valid_from: date(2025, 1, 1),
                        cents: cents * 105 / 100,
                    },
                ],
            )
            .expect("valid demo product")
        };
        let terms = ContractTerms {
            display_name: format!("Contract {} 2023-2026", index + 1),
            period: DateSpan::new(date(2023, 1, 1), Some(date(2026, 12, 31))).expect("ordered"),
            target_group: TargetGroup {
                fases,
                doelgroepen: DoelgroepSet::new(),
            },
            products: vec![
                product(
                    "DIAGNOSE",
                    ProductKind::Diagnose,
                    PriceUnit::PerTrajectory,
                    95_000,
                ),
                product("COACHING", ProductKind::Coaching, PriceUnit::PerHour, 8_500),
                product(
                    "PLAATSING",
                    ProductKind::Bemiddeling,
                    PriceUnit::PerResult,
                    250_000,
                ),
            ],
            payment_model: *random.pick(&[PaymentModel::FixedPrice, PaymentModel::NoCureLessPay]),
            input_share_percent: Some(60),
            payment_terms: String::new(),
            results: ResultAgreements {
                target_placement_percent: Some(40),
                max_duration_months: Some(12),
                description: String::new(),
            },
            volume: Volume::new(VolumeKind::Raamcontract, None, None).expect("valid volume"),
            report_due_days: 30,
        };
        let contract = store
            .create_contract(gemeente, provider.id, terms, &beheer)
            .await?;
        contracts.push(DemoContract {
            id: contract.id,
            provider_id: contract.provider_id,
            terms: contract.terms,
            group: index % 3,
        });
    }
    Ok(Setup {
        contracts,
        casemanagers: casemanagers(clients),
    })
}

/// Draws client `n` and its history. Referrals and steps the store would
/// refuse (no registration on the referral date, outside the contract's
/// target group) are judged here by the same domain rules and left out, so
/// both writers record exactly the same facts.
fn plan_client(random: &mut Random, seed: u64, n: u64, setup: &Setup) -> ClientPlan {
    let casemanager = random.pick(&setup.casemanagers).clone();
    let change = Change {
        actor: Actor {
            subject: casemanager.clone(),
            role: "casemanager",
        },
        source: Source::Casemanager,
        reason: None,
    };
    let birth = random.day_between(date(1960, 1, 1), date(2006, 12, 31));
    let details = ClientDetails {
        bsn: bsn_for(seed, n),
        given_name: random
            .pick(&[
                "Anna", "Mohammed", "Sanne", "Daan", "Fatima", "Jan", "Eva", "Yusuf",
            ])
            .to_string(),
        surname_prefix: random.pick(&["", "", "van", "de", "van der"]).to_string(),
        surname: random
            .pick(&[
                "Jansen",
                "Bakker",
                "Yilmaz",
                "Visser",
                "El Amrani",
                "Smit",
                "Meijer",
            ])
            .to_string(),
        birth_date: birth,
        education_level: *random.pick(&[
            EducationLevel::Basisonderwijs,
            EducationLevel::VmboMbo1,
            EducationLevel::HavoVwoMbo,
        ]),
        work_experience: String::new(),
        skills: vec![],
        wishes: String::new(),
        notes: String::new(),
        casemanager,
    };
    let start = random.day_between(date(2019, 1, 1), date(2025, 9, 30));
    let end = random
        .chance(40)
        .then(|| random.day_between(start, date(2026, 6, 30)));
    let kind = *random.pick(&[
        RegistrationKind::Bijstand,
        RegistrationKind::Bijstand,
        RegistrationKind::Bijstand,
        RegistrationKind::Ioaw,
        RegistrationKind::Nugger,
        RegistrationKind::Anw,
    ]);
    let mut episodes = vec![Episode {
        kind,
        span: DateSpan::new(start, end).expect("end after start"),
    }];
    if let Some(end) = end
        && random.chance(25)
    {
        let again = random.day_between(end + chrono::Days::new(30), end + chrono::Days::new(400));
        episodes.push(Episode {
            kind: RegistrationKind::Bijstand,
            span: DateSpan::new(again, None).expect("open"),
        });
    }
    let fase = *random.pick(&[
        Fase::Fase1,
        Fase::Fase2,
        Fase::Fase2,
        Fase::Fase3,
        Fase::Fase4,
        Fase::Ontheffing,
    ]);
    let classification = random.chance(85).then(|| Classification {
        value: ClassificationValue::Fase(fase),
        valid_from: start,
        motivation: String::new(),
        classifier: change.actor.subject.clone(),
    });
    let assignment = random.chance(50).then(|| Assignment {
        valid_from: start,
        codes: [code(random.pick(&DOELGROEPEN).0)].into(),
    });
    // What the referral rules see on a day: the same facts the store reads
    // inside its write transaction.
    let on_day = |day: NaiveDate| ClientOnReferral {
        registered: episodes.iter().any(|e| e.span.contains(day)),
        fase: classification
            .as_ref()
            .filter(|c| c.valid_from <= day)
            .and_then(|c| match c.value {
                ClassificationValue::Fase(fase) => Some(fase),
                ClassificationValue::Trede(_) => None,
            }),
        doelgroepen: assignment
            .as_ref()
            .filter(|a| a.valid_from <= day)
            .map(|a| a.codes.clone())
            .unwrap_or_default(),
    };
    let mut trajectories = Vec::new();
    // 0 to 6 referrals: about 2.6 trajectories per client once the rules
    // have refused some, the scale of the report benchmark.
    for _ in 0..random.below(7) {
        let contract_index = random.below(setup.contracts.len() as u64) as usize;
        let fits = match setup.contracts[contract_index].group {
            0 => matches!(fase, Fase::Fase1 | Fase::Fase2),
            1 => matches!(fase, Fase::Fase2 | Fase::Fase3),
            _ => true,
        };
        let active_until = end.unwrap_or(date(2026, 6, 30)).min(date(2026, 6, 30));
        let referral = random.day_between(
            start.max(date(2023, 1, 1)),
            active_until.max(date(2023, 1, 1)),
        );
        if referral < start || referral > active_until {
            continue;
        }
        let under_contract = random.chance(85);
        let kind = *random.pick(&[
            TrajectoryKind::Bemiddeling,
            TrajectoryKind::Scholing,
            TrajectoryKind::SocialeActivering,
        ]);
        let requests = vec![
            LineRequest {
                product_code: code("DIAGNOSE"),
                quantity: 1,
                unit_price_cents: 90_000,
                unit: PriceUnit::PerTrajectory,
            },
            LineRequest {
                product_code: code("COACHING"),
                quantity: 5 + random.below(30) as u32,
                unit_price_cents: 8_000,
                unit: PriceUnit::PerHour,
            },
        ];
        let target_group_exception = (under_contract && !fits).then(|| "maatwerk".to_owned());
        let contract = under_contract.then_some(contract_index);
        let terms = contract.map(|i| &setup.contracts[i].terms);
        if check_referral(
            referral,
            terms,
            &on_day(referral),
            target_group_exception.as_deref(),
        )
        .is_err()
        {
            continue;
        }
        let Ok(lines) = price_lines(&requests, terms, referral) else {
            continue;
        };
        let mut lifecycle = Lifecycle::referred(referral);
        let mut changes = Vec::new();
        if random.chance(80) {
            let started = random.day_between(referral, referral + chrono::Days::new(60));
            if check_start(started, terms).is_ok()
                && let Ok(after) = lifecycle.clone().start_on(started)
            {
                lifecycle = after;
                changes.push(PlannedChange {
                    step: TrajectoryChange::Start(started),
                    change: change.clone(),
                    lifecycle: lifecycle.clone(),
                });
            }
            if random.chance(70) {
                let ended = random.day_between(started, started + chrono::Days::new(540));
                let reason = *random.pick(&[
                    EndReason::WorkRegular,
                    EndReason::WorkRegular,
                    EndReason::WorkSubsidised,
                    EndReason::Medical,
                    EndReason::NoShow,
                    EndReason::CompletedWithoutWork,
                    EndReason::Moved,
                ]);
                let job = reason.is_work().then(|| {
                    JobDetails::new(
                        JobContractKind::Temporary,
                        24.0 + random.below(16) as f64,
                        "medewerker",
                        "Werkgever BV",
                    )
                    .expect("valid demo job")
                });
                let ending = Ending::new(ended, reason, job).expect("job matches reason");
                if let Ok(after) = lifecycle.clone().end(ending.clone()) {
                    lifecycle = after;
                    changes.push(PlannedChange {
                        step: TrajectoryChange::End(ending.clone()),
                        change: change.clone(),
                        lifecycle: lifecycle.clone(),
                    });
                    if random.chance(10) {
                        // A correction recorded later: the end date was a week off.
                        let corrected = Ending {
                            date: ending.date + chrono::Days::new(7),
                            ..ending
                        };
                        if let Ok(after) = Lifecycle::from_parts(
                            lifecycle.referral(),
                            lifecycle.start(),
                            Some(corrected.clone()),
                        ) {
                            changes.push(PlannedChange {
                                step: TrajectoryChange::Correct(Correction {
                                    ending: Some(Some(corrected)),
                                    ..Default::default()
                                }),
                                change: Change {
                                    reason: Some("einddatum gecorrigeerd".into()),
                                    ..change.clone()
                                },
                                lifecycle: after,
                            });
                        }
                    }
                }
            }
        }
        trajectories.push(TrajectoryPlan {
            contract,
            kind,
            referral_date: referral,
            requests,
            lines,
            target_group_exception,
            changes,
        });
    }
    ClientPlan {
        change,
        details,
        episodes,
        classification,
        assignment,
        trajectories,
    }
}

/// Records one client through the store, as the API would. False when a
/// client with its BSN already exists (data generated before with this
/// seed); every other refusal is a bug in the generator and an error.
async fn record_client(
    store: &Store,
    gemeente: &GemeenteCode,
    setup: &Setup,
    plan: &ClientPlan,
) -> StoreResult<bool> {
    let change = &plan.change;
    let client = match store
        .create_client(gemeente, plan.details.clone(), change)
        .await
    {
        Ok(client) => client,
        Err(StoreError::AlreadyExists(_)) => return Ok(false),
        Err(err) => return Err(err),
    };
    for episode in &plan.episodes {
        store
            .create_registration(gemeente, client.id, *episode, change)
            .await?;
    }
    if let Some(classification) = &plan.classification {
        store
            .create_classification(gemeente, client.id, classification.clone(), change)
            .await?;
    }
    if let Some(assignment) = &plan.assignment {
        store
            .create_assignment(gemeente, client.id, assignment.clone(), change)
            .await?;
    }
    for trajectory in &plan.trajectories {
        let referral = Referral {
            client_id: client.id,
            contract_id: trajectory.contract.map(|i| setup.contracts[i].id),
            kind: trajectory.kind,
            casemanager: change.actor.subject.clone(),
            referral_date: trajectory.referral_date,
            lines: trajectory.requests.clone(),
            target_group_exception: trajectory.target_group_exception.clone(),
        };
        let record = store.create_trajectory(gemeente, referral, change).await?;
        for (version, planned) in (1..).zip(&trajectory.changes) {
            store
                .change_trajectory(
                    gemeente,
                    record.id,
                    version,
                    &planned.change,
                    planned.step.clone(),
                )
                .await?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_bsns_pass_the_elfproef_and_differ() {
        let bsns: std::collections::HashSet<String> = (0..5000)
            .map(|n| bsn_for(7, n).as_str().to_owned())
            .collect();
        assert_eq!(bsns.len(), 5000);
    }

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let (mut a, mut b) = (Random(7), Random(7));
        let draws: Vec<u64> = (0..10).map(|_| a.below(1000)).collect();
        assert_eq!(draws, (0..10).map(|_| b.below(1000)).collect::<Vec<_>>());
    }

    #[test]
    fn a_casemanager_per_caseload_of_clients_and_at_least_eight() {
        assert_eq!(casemanagers(0).len(), 8);
        assert_eq!(casemanagers(2_000).len(), 8);
        assert_eq!(casemanagers(2_001).len(), 9);
        assert_eq!(casemanagers(1_000_000).len(), 4_000);
        assert_eq!(casemanagers(1_000_000)[3_999], "cm-demo-4000");
    }
}
