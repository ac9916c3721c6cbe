//! A re-integratietraject and its lifecycle. A trajectory is referred
//! (doorverwezen), may start (ingestroomd) and ends with a reason: work, or
//! uitval (ended without work). The dates only move forward:
//!
//! ```text
//!   refer ──▶ Doorverwezen ──start──▶ Lopend ──end──▶ Beëindigd
//!                  │                                  ▲
//!                  └──────────────end─────────────────┘   (uitval before the start)
//! ```
//!
//! referral ≤ start ≤ end; an end needs a reason; a work ending needs the
//! new job's details. Corrections of dates or reasons pass the same checks.

use super::classification::Fase;
use super::code::Code;
use super::contract::{Cents, ContractTerms, PriceUnit};
use super::doelgroep::DoelgroepSet;
use super::text::bounded;
use super::{Invalid, RuleViolation, refuse, stored_enum};
use chrono::NaiveDate;

/// The kind of trajectory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrajectoryKind {
    /// Bemiddeling naar werk: placement.
    Bemiddeling,
    SocialeActivering,
    Zorgtraject,
    Scholing,
    Werkervaring,
    Diagnose,
    Other,
}

stored_enum!(TrajectoryKind {
    Bemiddeling => "bemiddeling",
    SocialeActivering => "sociale_activering",
    Zorgtraject => "zorgtraject",
    Scholing => "scholing",
    Werkervaring => "werkervaring",
    Diagnose => "diagnose",
    Other => "other",
});

/// Why a trajectory ended. Two families: work (uitstroom naar werk) and
/// without work (uitval).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Regulier werk.
    WorkRegular,
    /// Gesubsidieerde arbeid.
    WorkSubsidised,
    Medical,
    Moved,
    NoShow,
    Refusal,
    CompletedWithoutWork,
    /// The benefit ended for another reason.
    BenefitEnded,
    Other,
}

stored_enum!(EndReason {
    WorkRegular => "work_regular",
    WorkSubsidised => "work_subsidised",
    Medical => "medical",
    Moved => "moved",
    NoShow => "no_show",
    Refusal => "refusal",
    CompletedWithoutWork => "completed_without_work",
    BenefitEnded => "benefit_ended",
    Other => "other",
});

impl EndReason {
    pub fn is_work(self) -> bool {
        matches!(self, EndReason::WorkRegular | EndReason::WorkSubsidised)
    }
}

/// The kind of employment contract of a new job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobContractKind {
    Permanent,
    Temporary,
    TempAgency,
    SelfEmployed,
    Subsidised,
}

stored_enum!(JobContractKind {
    Permanent => "permanent",
    Temporary => "temporary",
    TempAgency => "temp_agency",
    SelfEmployed => "self_employed",
    Subsidised => "subsidised",
});

/// The job a client went to: the details the seeds found always missing.
#[derive(Debug, Clone, PartialEq)]
pub struct JobDetails {
    pub contract_kind: JobContractKind,
    pub hours_per_week: f64,
    pub job_title: String,
    pub employer_name: String,
}

impl JobDetails {
    pub fn new(
        contract_kind: JobContractKind,
        hours_per_week: f64,
        job_title: &str,
        employer_name: &str,
    ) -> Result<Self, (&'static str, Invalid)> {
        if !(hours_per_week > 0.0 && hours_per_week <= 80.0) {
            return Err((
                "hours_per_week",
                Invalid::new("must be more than 0 and at most 80"),
            ));
        }
        Ok(JobDetails {
            contract_kind,
            hours_per_week,
            job_title: bounded(job_title, 200, true).map_err(|e| ("job_title", e))?,
            employer_name: bounded(employer_name, 200, true).map_err(|e| ("employer_name", e))?,
        })
    }
}

/// How a trajectory ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Ending {
    pub date: NaiveDate,
    pub reason: EndReason,
    /// Present exactly for work endings.
    pub job: Option<JobDetails>,
}

impl Ending {
    pub fn new(
        date: NaiveDate,
        reason: EndReason,
        job: Option<JobDetails>,
    ) -> Result<Self, (&'static str, Invalid)> {
        match (reason.is_work(), &job) {
            (true, None) => Err(("job", Invalid::new("a work ending needs the job's details"))),
            (false, Some(_)) => Err(("job", Invalid::new("only a work ending has job details"))),
            _ => Ok(Ending { date, reason, job }),
        }
    }
}

/// Where a trajectory is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Doorverwezen,
    Lopend,
    Beeindigd,
}

stored_enum!(Status { Doorverwezen => "doorverwezen", Lopend => "lopend", Beeindigd => "beeindigd" });

/// The dates of a trajectory, which always satisfy the lifecycle rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Lifecycle {
    referral: NaiveDate,
    start: Option<NaiveDate>,
    ending: Option<Ending>,
}

impl Lifecycle {
    /// A referral (doorverwijzing).
    pub fn referred(referral: NaiveDate) -> Self {
        Lifecycle {
            referral,
            start: None,
            ending: None,
        }
    }

    /// Rebuilds a lifecycle from its parts, checking every rule; used for
    /// corrections and for reading what is stored.
    pub fn from_parts(
        referral: NaiveDate,
        start: Option<NaiveDate>,
        ending: Option<Ending>,
    ) -> Result<Self, RuleViolation> {
        if let Some(start) = start
            && start < referral
        {
            return Err(refuse(
                "start_after_referral",
                "a trajectory cannot start before its referral",
            ));
        }
        if let Some(ending) = &ending {
            if ending.date < referral {
                return Err(refuse(
                    "end_after_referral",
                    "a trajectory cannot end before its referral",
                ));
            }
            if let Some(start) = start
                && ending.date < start
            {
                return Err(refuse(
                    "end_after_start",
                    "a trajectory cannot end before it started",
                ));
            }
        }
        Ok(Lifecycle {
            referral,
            start,
            ending,
        })
    }

    pub fn referral(&self) -> NaiveDate {
        self.referral
    }

    pub fn start(&self) -> Option<NaiveDate> {
        self.start
    }

    pub fn ending(&self) -> Option<&Ending> {
        self.ending.as_ref()
    }

    pub fn status(&self) -> Status {
        match (&self.start, &self.ending) {
            (_, Some(_)) => Status::Beeindigd,
            (Some(_), None) => Status::Lopend,
            (None, None) => Status::Doorverwezen,
        }
    }

    /// Start (instroom) on `date`.
    pub fn start_on(self, date: NaiveDate) -> Result<Self, RuleViolation> {
        if self.ending.is_some() {
            return Err(refuse(
                "no_start_after_end",
                "an ended trajectory cannot start",
            ));
        }
        if self.start.is_some() {
            return Err(refuse(
                "started_once",
                "the trajectory has already started; correct the start date instead",
            ));
        }
        Lifecycle::from_parts(self.referral, Some(date), None)
    }

    /// End with a reason (uitstroom or uitval).
    pub fn end(self, ending: Ending) -> Result<Self, RuleViolation> {
        if self.ending.is_some() {
            return Err(refuse(
                "ended_once",
                "the trajectory has already ended; correct the ending instead",
            ));
        }
        Lifecycle::from_parts(self.referral, self.start, Some(ending))
    }
}

/// A product line as the caller asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRequest {
    pub product_code: Code,
    /// At least 1.
    pub quantity: u32,
    /// Only used in eigen beheer; under a contract the price is copied.
    pub unit_price_cents: Cents,
    pub unit: PriceUnit,
}

/// A product line with its price fixed at the referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub product_code: Code,
    pub quantity: u32,
    pub unit: PriceUnit,
    pub unit_price_cents: Cents,
}

impl Line {
    pub fn cost(&self) -> Cents {
        Cents::from(self.quantity) * self.unit_price_cents
    }

    /// The request that would price this line again.
    pub fn as_request(&self) -> LineRequest {
        LineRequest {
            product_code: self.product_code.clone(),
            quantity: self.quantity,
            unit_price_cents: self.unit_price_cents,
            unit: self.unit,
        }
    }
}

/// Why lines could not be priced: a line names no product of the contract
/// (the caller's mistake), or the product had no price on the referral
/// date (a fact of the contract).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PricingError {
    UnknownProduct(Invalid),
    NoPrice(RuleViolation),
}

/// Prices the lines: under a contract each product's price in force on the
/// referral date is copied onto the line, so that later price changes never
/// rewrite what the trajectory cost; in eigen beheer the caller's price
/// stands.
pub fn price_lines(
    requests: &[LineRequest],
    contract: Option<&ContractTerms>,
    referral: NaiveDate,
) -> Result<Vec<Line>, PricingError> {
    requests
        .iter()
        .map(|request| {
            let Some(contract) = contract else {
                return Ok(Line {
                    product_code: request.product_code.clone(),
                    quantity: request.quantity,
                    unit: request.unit,
                    unit_price_cents: request.unit_price_cents,
                });
            };
            let product = contract.product(&request.product_code).ok_or_else(|| {
                PricingError::UnknownProduct(Invalid::new(format!(
                    "{} is not a product of the contract",
                    request.product_code
                )))
            })?;
            let price = product.price_on(referral).ok_or_else(|| {
                PricingError::NoPrice(refuse(
                    "price_on_referral_date",
                    format!("product {} has no price on {referral}", product.code),
                ))
            })?;
            Ok(Line {
                product_code: product.code.clone(),
                quantity: request.quantity,
                unit: product.unit,
                unit_price_cents: price,
            })
        })
        .collect()
}

/// What the store knows about the client on the referral date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOnReferral {
    /// Has a registration episode active on the referral date.
    pub registered: bool,
    pub fase: Option<Fase>,
    pub doelgroepen: DoelgroepSet,
}

/// The rules of a referral: the client is registered at the gemeente on the
/// referral date, and under a contract the referral lies in its period and
/// the client fits its target group, unless an exception says why not.
pub fn check_referral(
    referral: NaiveDate,
    contract: Option<&ContractTerms>,
    client: &ClientOnReferral,
    target_group_exception: Option<&str>,
) -> Result<(), RuleViolation> {
    if !client.registered {
        return Err(refuse(
            "client_registered",
            format!("the client has no registration episode at the gemeente on {referral}"),
        ));
    }
    let Some(contract) = contract else {
        return Ok(());
    };
    check_in_period("referral", referral, contract)?;
    if target_group_exception.is_none()
        && !contract
            .target_group
            .covers(client.fase, &client.doelgroepen)
    {
        return Err(refuse(
            "target_group",
            "the client is outside the contract's target group on the referral date; \
             give target_group_exception to refer anyway",
        ));
    }
    Ok(())
}

/// A start under a contract lies in the contract's period.
pub fn check_start(
    start: NaiveDate,
    contract: Option<&ContractTerms>,
) -> Result<(), RuleViolation> {
    contract.map_or(Ok(()), |contract| check_in_period("start", start, contract))
}

fn check_in_period(
    what: &str,
    day: NaiveDate,
    contract: &ContractTerms,
) -> Result<(), RuleViolation> {
    if contract.period.contains(day) {
        Ok(())
    } else {
        Err(refuse(
            "within_contract_period",
            format!("the {what} date {day} lies outside the contract's period"),
        ))
    }
}

/// A trajectory's own facts; who and under what contract is kept beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    pub kind: TrajectoryKind,
    pub casemanager: String,
    pub lifecycle: Lifecycle,
    pub lines: Vec<Line>,
    pub target_group_exception: Option<String>,
}

impl Trajectory {
    pub fn cost(&self) -> Cents {
        self.lines.iter().map(Line::cost).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn uitval(date: NaiveDate) -> Ending {
        Ending::new(date, EndReason::NoShow, None).unwrap()
    }

    #[test]
    fn referral_start_end_in_order() {
        let referred = Lifecycle::referred(d(2025, 1, 10));
        assert_eq!(referred.status(), Status::Doorverwezen);
        let running = referred.clone().start_on(d(2025, 2, 1)).unwrap();
        assert_eq!(running.status(), Status::Lopend);
        let ended = running.clone().end(uitval(d(2025, 6, 30))).unwrap();
        assert_eq!(ended.status(), Status::Beeindigd);
        assert_eq!(
            referred.clone().start_on(d(2025, 1, 9)).unwrap_err().rule,
            "start_after_referral"
        );
        assert_eq!(
            running
                .clone()
                .end(uitval(d(2025, 1, 31)))
                .unwrap_err()
                .rule,
            "end_after_start"
        );
        assert_eq!(
            running.start_on(d(2025, 3, 1)).unwrap_err().rule,
            "started_once"
        );
        assert_eq!(
            ended.clone().start_on(d(2025, 7, 1)).unwrap_err().rule,
            "no_start_after_end"
        );
        assert_eq!(
            ended.end(uitval(d(2025, 7, 1))).unwrap_err().rule,
            "ended_once"
        );
    }

    #[test]
    fn uitval_before_the_start_is_an_ending() {
        let ended = Lifecycle::referred(d(2025, 1, 10))
            .end(uitval(d(2025, 1, 20)))
            .unwrap();
        assert_eq!(ended.status(), Status::Beeindigd);
        assert_eq!(ended.start(), None);
        let too_early = Lifecycle::referred(d(2025, 1, 10)).end(uitval(d(2025, 1, 9)));
        assert_eq!(too_early.unwrap_err().rule, "end_after_referral");
    }

    #[test]
    fn work_endings_need_job_details() {
        let job = JobDetails::new(
            JobContractKind::Temporary,
            32.0,
            "magazijnmedewerker",
            "Bol BV",
        )
        .unwrap();
        assert!(Ending::new(d(2025, 1, 1), EndReason::WorkRegular, None).is_err());
        assert!(Ending::new(d(2025, 1, 1), EndReason::WorkRegular, Some(job.clone())).is_ok());
        assert!(Ending::new(d(2025, 1, 1), EndReason::Moved, Some(job)).is_err());
        assert!(EndReason::WorkSubsidised.is_work() && !EndReason::CompletedWithoutWork.is_work());
        assert!(JobDetails::new(JobContractKind::Permanent, 0.0, "x", "y").is_err());
        assert!(JobDetails::new(JobContractKind::Permanent, 38.0, "", "y").is_err());
    }

    fn contract() -> ContractTerms {
        use crate::domain::contract::*;
        use crate::domain::dates::DateSpan;
        let product = Product::new(
            Code::parse("COACH").unwrap(),
            ProductKind::Coaching,
            String::new(),
            PriceUnit::PerHour,
            vec![
                DatedPrice {
                    valid_from: d(2025, 1, 1),
                    cents: 8_000,
                },
                DatedPrice {
                    valid_from: d(2025, 7, 1),
                    cents: 8_500,
                },
            ],
        )
        .unwrap();
        ContractTerms {
            display_name: "Coaching fase 2".into(),
            period: DateSpan::new(d(2025, 1, 1), Some(d(2025, 12, 31))).unwrap(),
            target_group: TargetGroup {
                fases: [Fase::Fase2].into(),
                ..Default::default()
            },
            products: vec![product],
            payment_model: PaymentModel::FixedPrice,
            input_share_percent: None,
            payment_terms: String::new(),
            results: ResultAgreements::default(),
            volume: Volume::new(VolumeKind::Raamcontract, None, None).unwrap(),
            report_due_days: 30,
        }
    }

    fn coaching(hours: u32) -> LineRequest {
        LineRequest {
            product_code: Code::parse("COACH").unwrap(),
            quantity: hours,
            unit_price_cents: 1,
            unit: PriceUnit::PerTrajectory,
        }
    }

    #[test]
    fn lines_copy_the_price_on_the_referral_date() {
        let contract = contract();
        let lines = price_lines(&[coaching(10)], Some(&contract), d(2025, 6, 30)).unwrap();
        assert_eq!(
            (lines[0].unit_price_cents, lines[0].unit, lines[0].cost()),
            (8_000, PriceUnit::PerHour, 80_000)
        );
        let later = price_lines(&[coaching(10)], Some(&contract), d(2025, 7, 1)).unwrap();
        assert_eq!(later[0].unit_price_cents, 8_500);
        assert!(matches!(
            price_lines(&[coaching(1)], Some(&contract), d(2024, 12, 1)),
            Err(PricingError::NoPrice(_))
        ));
        let unknown = LineRequest {
            product_code: Code::parse("X").unwrap(),
            ..coaching(1)
        };
        assert!(matches!(
            price_lines(&[unknown], Some(&contract), d(2025, 6, 1)),
            Err(PricingError::UnknownProduct(_))
        ));
        let own = price_lines(&[coaching(3)], None, d(2025, 6, 1)).unwrap();
        assert_eq!(own[0].cost(), 3);
    }

    #[test]
    fn referral_rules() {
        let contract = contract();
        let fase_2 = ClientOnReferral {
            registered: true,
            fase: Some(Fase::Fase2),
            doelgroepen: DoelgroepSet::new(),
        };
        let fase_4 = ClientOnReferral {
            fase: Some(Fase::Fase4),
            ..fase_2.clone()
        };
        let unregistered = ClientOnReferral {
            registered: false,
            ..fase_2.clone()
        };
        let rule = |r: Result<(), RuleViolation>| r.err().map(|v| v.rule);
        assert_eq!(
            rule(check_referral(
                d(2025, 3, 1),
                Some(&contract),
                &fase_2,
                None
            )),
            None
        );
        assert_eq!(
            rule(check_referral(d(2025, 3, 1), None, &unregistered, None)),
            Some("client_registered")
        );
        assert_eq!(
            rule(check_referral(
                d(2026, 1, 1),
                Some(&contract),
                &fase_2,
                None
            )),
            Some("within_contract_period")
        );
        assert_eq!(
            rule(check_referral(
                d(2025, 3, 1),
                Some(&contract),
                &fase_4,
                None
            )),
            Some("target_group")
        );
        assert_eq!(
            rule(check_referral(
                d(2025, 3, 1),
                Some(&contract),
                &fase_4,
                Some("maatwerk")
            )),
            None
        );
        assert_eq!(
            rule(check_start(d(2026, 1, 1), Some(&contract))),
            Some("within_contract_period")
        );
        assert_eq!(rule(check_start(d(2026, 1, 1), None)), None);
    }
}
