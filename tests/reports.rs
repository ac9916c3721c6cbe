//! ReportService.GetInflowOutflowReport: the MOSA-style in- and outflow report
//! (docs: /work/shared/specs/mosa-report.md), one test per rule of the
//! specification on small hand-built data whose expected numbers are worked
//! out by hand from the specification; the partition invariant on generated
//! data; `as_of`; role refusals and bad input; and the `clientvolg report
//! inflow-outflow` command against the gRPC answer.

#[macro_use]
mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use clientvolg::proto::clientvolg::v1::{
    self as v1, Client, EndReason, Fase, GetInflowOutflowReportRequest, InflowOutflowReport,
    RegistrationKind, ReportTable, Trajectory, report_service_client::ReportServiceClient,
    report_value::Value as Cell,
};
use clientvolg::proto::google::r#type::Date;
use common::*;
use tonic::Code;

both_databases!(
    layout_of_an_empty_report,
    only_the_own_gemeente_counts,
    bijstandsvolume_on_the_day_before_and_on_the_peildatum,
    instroom_and_uitstroom_bijstand,
    doorverwezen_and_ingestroomd_on_the_latest_date,
    work_endings_count_once_in_the_latest_kind,
    uitval_excludes_clients_with_a_work_ending,
    bestand_and_waarvan_bijstand,
    doelgroepen_rows,
    uitkeringssoort_rows,
    fasering_rows,
    inschrijvingsduur_boundaries,
    leeftijd_boundaries,
    custom_bucket_edges,
    per_provider_and_per_contract,
    duurzaamheid_terugval_window,
    partition_invariant_on_generated_data,
    as_of_answers_the_same_numbers_forever,
    bad_input_is_rejected,
    roles_are_enforced,
);

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

const T1: &str = "1_bijstandsvolume";
const T2: &str = "2_in_uitstroom_bijstand";
const T3: &str = "3_trajectgegevens_totaal";
const T4: &str = "4_doelgroepen";
const T5: &str = "5_uitkeringssoort";
const T6: &str = "6_fasering";
const T7: &str = "7_inschrijvingsduur";
const T8: &str = "8_leeftijd";
const PER_PROVIDER: &str = "per_reintegratiebedrijf";
const PER_CONTRACT: &str = "per_contract";
const DUURZAAMHEID: &str = "duurzaamheid";

const COLUMNS: [&str; 7] = [
    "doorverwezen",
    "ingestroomd",
    "uitstroom_werk_regulier",
    "uitstroom_werk_gesubsidieerd",
    "uitstroom_werk",
    "uitstroom_zonder_werk",
    "bestand",
];
const FASE_ROWS: [&str; 6] = [
    "FASE_1",
    "FASE_2",
    "FASE_3",
    "FASE_4",
    "ONTHEFFING",
    "NIET_INGEDEELD",
];
const KIND_ROWS: [&str; 6] = [
    "BIJSTAND",
    "IOAW",
    "IOAZ",
    "ANW",
    "NUGGER",
    "geen inschrijving",
];
const DURATION_ROWS: [&str; 4] = ["<1y", "1-3y", ">=3y", "onbekend"];
const AGE_ROWS: [&str; 4] = ["<23", "23-30", "30-57.5", ">=57.5"];
const OWNER_COLUMNS: [&str; 10] = [
    "doorverwezen",
    "gestart",
    "beeindigd_werk_regulier",
    "beeindigd_werk_gesubsidieerd",
    "beeindigd_zonder_werk",
    "lopend_op_peildatum",
    "plaatsingspercentage",
    "gemiddelde_duur_dagen",
    "kosten_beeindigd_cents",
    "kosten_per_uitstroom_werk_cents",
];

// ---------------------------------------------------------------------------
// Requests and reading the answer
// ---------------------------------------------------------------------------

fn d(year: i32, month: i32, day: i32) -> Date {
    date(year, month, day)
}

fn reports(app: &TestApp, token: &str) -> ReportServiceClient<Authed> {
    ReportServiceClient::with_interceptor(app.channel.clone(), Bearer::new(token))
}

fn period(start: Date, end: Date) -> GetInflowOutflowReportRequest {
    GetInflowOutflowReportRequest {
        parent: GEMEENTE.into(),
        period_start: Some(start),
        period_end: Some(end),
        ..Default::default()
    }
}

/// The calendar year 2025.
fn year_2025() -> GetInflowOutflowReportRequest {
    period(d(2025, 1, 1), d(2025, 12, 31))
}

/// The report as the data manager of 0363; panics on failure.
async fn report(app: &TestApp, request: GetInflowOutflowReportRequest) -> InflowOutflowReport {
    reports(app, DM_0363)
        .get_inflow_outflow_report(request)
        .await
        .expect("GetInflowOutflowReport")
        .into_inner()
}

#[track_caller]
fn table<'a>(tables: &'a [ReportTable], name: &str) -> &'a ReportTable {
    tables.iter().find(|t| t.name == name).unwrap_or_else(|| {
        panic!(
            "no table {name}; tables: {:?}",
            tables.iter().map(|t| &t.name).collect::<Vec<_>>()
        )
    })
}

fn labels(t: &ReportTable) -> Vec<&str> {
    t.rows.iter().map(|r| r.label.as_str()).collect()
}

#[track_caller]
fn cell(tables: &[ReportTable], name: &str, row: &str, column: &str) -> Option<Cell> {
    let t = table(tables, name);
    let index = t
        .columns
        .iter()
        .position(|c| c == column)
        .unwrap_or_else(|| panic!("table {name} has no column {column}: {:?}", t.columns));
    let r = t
        .rows
        .iter()
        .find(|r| r.label == row)
        .unwrap_or_else(|| panic!("table {name} has no row {row:?}: {:?}", labels(t)));
    assert_eq!(
        r.values.len(),
        t.columns.len(),
        "table {name} row {row}: one value per column"
    );
    r.values[index].value
}

/// A count cell; panics when the cell is not a count.
#[track_caller]
fn count(tables: &[ReportTable], name: &str, row: &str, column: &str) -> i64 {
    match cell(tables, name, row, column) {
        Some(Cell::Count(n)) => n,
        other => panic!("{name} / {row} / {column}: expected a count, got {other:?}"),
    }
}

/// A number cell (rate, mean); panics when the cell is not a number.
#[track_caller]
fn number(tables: &[ReportTable], name: &str, row: &str, column: &str) -> f64 {
    match cell(tables, name, row, column) {
        Some(Cell::Number(x)) => x,
        other => panic!("{name} / {row} / {column}: expected a number, got {other:?}"),
    }
}

/// An amount in cents, given as a count or a number.
#[track_caller]
fn amount(tables: &[ReportTable], name: &str, row: &str, column: &str) -> f64 {
    match cell(tables, name, row, column) {
        Some(Cell::Count(n)) => n as f64,
        Some(Cell::Number(x)) => x,
        None => panic!("{name} / {row} / {column}: expected an amount, got nothing"),
    }
}

#[track_caller]
fn assert_close(got: f64, expected: f64, what: &str) {
    assert!(
        (got - expected).abs() < 1e-6,
        "{what}: expected {expected}, got {got}"
    );
}

/// Every row of `column` in a table as label → count.
#[track_caller]
fn column_of(tables: &[ReportTable], name: &str, column: &str) -> BTreeMap<String, i64> {
    let t = table(tables, name);
    t.rows
        .iter()
        .map(|r| (r.label.clone(), count(tables, name, &r.label, column)))
        .collect()
}

/// Asserts a whole column: the listed rows have the listed counts and every
/// other row of the table is 0.
#[track_caller]
fn assert_column(tables: &[ReportTable], name: &str, column: &str, expected: &[(&str, i64)]) {
    let got = column_of(tables, name, column);
    for (label, _) in expected {
        assert!(
            got.contains_key(*label),
            "{name}: no row {label:?}, rows {:?}",
            got.keys()
        );
    }
    let want: BTreeMap<String, i64> = got
        .keys()
        .map(|label| {
            let n = expected
                .iter()
                .find(|(l, _)| *l == label)
                .map_or(0, |(_, n)| *n);
            (label.clone(), n)
        })
        .collect();
    assert_eq!(got, want, "{name} column {column}");
}

// ---------------------------------------------------------------------------
// Building data through the API
// ---------------------------------------------------------------------------

/// A client of cm-anna born on `birth`, without registration.
async fn client_born(c: &mut Clients, seed: u32, birth: Date) -> Client {
    c.create_client(Client {
        birth_date: Some(birth),
        ..sample_client(&bsn(seed))
    })
    .await
}

type Episode = (RegistrationKind, Date, Option<Date>);
/// (referral, end, reason) of an ended trajectory.
type Ending = (Date, Date, EndReason);
/// (referral, start, end and reason) of a generated trajectory.
type GeneratedTrajectory = (NaiveDate, Option<NaiveDate>, Option<(NaiveDate, EndReason)>);

async fn register(
    c: &mut Clients,
    client: &Client,
    kind: RegistrationKind,
    start: Date,
    end: Option<Date>,
) -> v1::Registration {
    c.registrations
        .create_registration(v1::CreateRegistrationRequest {
            parent: client.name.clone(),
            registration: Some(v1::Registration {
                kind: kind as i32,
                start_date: Some(start),
                end_date: end,
                ..Default::default()
            }),
            change: Some(reason("toekenning")),
        })
        .await
        .expect("CreateRegistration")
        .into_inner()
}

/// A client (born 1990-05-17) with the given episodes.
async fn registered(c: &mut Clients, seed: u32, episodes: &[Episode]) -> Client {
    registered_born(c, seed, d(1990, 5, 17), episodes).await
}

async fn registered_born(c: &mut Clients, seed: u32, birth: Date, episodes: &[Episode]) -> Client {
    let client = client_born(c, seed, birth).await;
    for (kind, start, end) in episodes {
        register(c, &client, *kind, *start, *end).await;
    }
    client
}

/// A client in bijstand since 2024-01-01, still running.
async fn bijstand(c: &mut Clients, seed: u32) -> Client {
    registered(
        c,
        seed,
        &[(RegistrationKind::Bijstand, d(2024, 1, 1), None)],
    )
    .await
}

async fn trede(c: &mut Clients, client: &Client, trede: v1::Trede, from: Date) {
    c.classifications
        .create_classification(v1::CreateClassificationRequest {
            parent: client.name.clone(),
            classification: Some(v1::Classification {
                value: Some(v1::classification::Value::Trede(trede as i32)),
                valid_from: Some(from),
                ..Default::default()
            }),
            change: None,
        })
        .await
        .expect("CreateClassification (trede)");
}

/// A trajectory under `contract` (empty: eigen beheer) with `lines`, started
/// and ended as given (a work ending gets a job).
async fn trajectory_with(
    c: &mut Clients,
    client: &Client,
    contract: &str,
    referral: Date,
    lines: Vec<v1::TrajectoryLine>,
    start: Option<Date>,
    end: Option<(Date, EndReason)>,
) -> Trajectory {
    let mut t = c
        .create_trajectory(sample_trajectory(&client.name, contract, referral, lines))
        .await;
    if let Some(start) = start {
        t = c
            .start_trajectory(&t.name, start, version_of(&t.revision))
            .await;
    }
    if let Some((end, why)) = end {
        let job =
            matches!(why, EndReason::WorkRegular | EndReason::WorkSubsidised).then(sample_job);
        t = c
            .end_trajectory(&t.name, end, why, job, version_of(&t.revision))
            .await;
    }
    t
}

/// A trajectory in eigen beheer (one line of 100 euro).
async fn trajectory(
    c: &mut Clients,
    client: &Client,
    referral: Date,
    start: Option<Date>,
    end: Option<(Date, EndReason)>,
) -> Trajectory {
    trajectory_with(
        c,
        client,
        "",
        referral,
        vec![priced_line("TRAINING", 1, 10_000)],
        start,
        end,
    )
    .await
}

// ---------------------------------------------------------------------------
// Layout and tenant
// ---------------------------------------------------------------------------

async fn layout_of_an_empty_report(app: TestApp) {
    let r = report(&app, year_2025()).await;
    assert_eq!(r.period_start, Some(d(2025, 1, 1)));
    assert_eq!(r.period_end, Some(d(2025, 12, 31)));
    assert!(r.as_of.is_some(), "the response says which as_of was used");
    let names: Vec<&str> = r.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            T1,
            T2,
            T3,
            T4,
            T5,
            T6,
            T7,
            T8,
            PER_PROVIDER,
            PER_CONTRACT,
            DUURZAAMHEID
        ],
        "the tables, in the order of the specification"
    );
    let t1 = table(&r.tables, T1);
    assert_eq!(t1.columns, ["dag_voor_periode", "peildatum"]);
    assert_eq!(labels(t1), ["bijstand"]);
    let t2 = table(&r.tables, T2);
    assert_eq!(t2.columns, ["instroom", "uitstroom"]);
    assert_eq!(labels(t2), ["bijstand"]);
    for name in [T3, T4, T5, T6, T7, T8] {
        assert_eq!(table(&r.tables, name).columns, COLUMNS, "columns of {name}");
    }
    assert_eq!(labels(table(&r.tables, T3)), ["totaal", "waarvan bijstand"]);
    assert_eq!(
        labels(table(&r.tables, T4)),
        ["geen doelgroep"],
        "no doelgroep defined yet"
    );
    assert_eq!(labels(table(&r.tables, T5)), KIND_ROWS);
    assert_eq!(labels(table(&r.tables, T6)), FASE_ROWS);
    assert_eq!(labels(table(&r.tables, T7)), DURATION_ROWS);
    assert_eq!(labels(table(&r.tables, T8)), AGE_ROWS);
    assert_eq!(table(&r.tables, PER_PROVIDER).columns, OWNER_COLUMNS);
    assert_eq!(table(&r.tables, PER_CONTRACT).columns, OWNER_COLUMNS);
    let dz = table(&r.tables, DUURZAAMHEID);
    assert_eq!(
        dz.columns,
        [
            "uitstroom_werk",
            "terugval",
            "aandeel_terugval",
            "duurzaam",
            "aandeel_duurzaam"
        ]
    );
    assert_eq!(labels(dz), ["totaal"]);
    assert_eq!(
        count(&r.tables, DUURZAAMHEID, "totaal", "uitstroom_werk"),
        0
    );
    assert_eq!(count(&r.tables, DUURZAAMHEID, "totaal", "terugval"), 0);

    // Nothing recorded: every count of tables 1-8 is 0.
    for name in [T1, T2, T3, T4, T5, T6, T7, T8] {
        let t = table(&r.tables, name);
        for row in &t.rows {
            for (column, value) in t.columns.iter().zip(&row.values) {
                assert_eq!(
                    value.value,
                    Some(Cell::Count(0)),
                    "{name} / {} / {column}",
                    row.label
                );
            }
        }
    }
    app.cleanup().await;
}

async fn only_the_own_gemeente_counts(app: TestApp) {
    // A bijstand client with a trajectory in 0599 ...
    let mut carla = app.carla();
    let other = carla
        .clients
        .create_client(v1::CreateClientRequest {
            parent: GEMEENTE_0599.into(),
            client: Some(Client {
                casemanager: "cm-carla".into(),
                ..sample_client(&bsn(1))
            }),
            change: Some(reason("intake")),
        })
        .await
        .expect("CreateClient in 0599")
        .into_inner();
    register(
        &mut carla,
        &other,
        RegistrationKind::Bijstand,
        d(2024, 1, 1),
        None,
    )
    .await;
    carla
        .trajectories
        .create_trajectory(v1::CreateTrajectoryRequest {
            parent: GEMEENTE_0599.into(),
            trajectory: Some(v1::Trajectory {
                casemanager: "cm-carla".into(),
                ..sample_trajectory(
                    &other.name,
                    "",
                    d(2025, 3, 1),
                    vec![priced_line("TRAINING", 1, 10_000)],
                )
            }),
            change: Some(reason("doorverwijzing")),
        })
        .await
        .expect("CreateTrajectory in 0599");
    // ... and one in 0363.
    let mut anna = app.anna();
    let own = bijstand(&mut anna, 2).await;
    trajectory(&mut anna, &own, d(2025, 3, 1), None, None).await;

    let r = report(&app, year_2025()).await;
    assert_eq!(count(&r.tables, T1, "bijstand", "dag_voor_periode"), 1);
    assert_eq!(count(&r.tables, T1, "bijstand", "peildatum"), 1);
    assert_eq!(count(&r.tables, T3, "totaal", "doorverwezen"), 1);
    assert_eq!(count(&r.tables, T3, "totaal", "bestand"), 1);
    assert_eq!(
        count(&r.tables, PER_CONTRACT, "eigen beheer", "doorverwezen"),
        1
    );

    // The data manager of 0363 cannot ask for 0599.
    let result = reports(&app, DM_0363)
        .get_inflow_outflow_report(GetInflowOutflowReportRequest {
            parent: GEMEENTE_0599.into(),
            ..year_2025()
        })
        .await;
    assert!(result.is_err(), "another gemeente's report: {result:?}");
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// Tables 1 and 2
// ---------------------------------------------------------------------------

async fn bijstandsvolume_on_the_day_before_and_on_the_peildatum(app: TestApp) {
    use RegistrationKind::*;
    let mut anna = app.anna();
    // 1: both days.
    registered(&mut anna, 1, &[(Bijstand, d(2024, 1, 1), None)]).await;
    // 2: IOAW on the day before only (ends 2025-06-30).
    registered(
        &mut anna,
        2,
        &[(Ioaw, d(2024, 12, 31), Some(d(2025, 6, 30)))],
    )
    .await;
    // 3: IOAZ starting on the peildatum.
    registered(&mut anna, 3, &[(Ioaz, d(2025, 12, 31), None)]).await;
    // 4, 5: ANW and Nugger are no bijstand kinds.
    registered(&mut anna, 4, &[(Anw, d(2024, 1, 1), None)]).await;
    registered(&mut anna, 5, &[(Nugger, d(2024, 1, 1), None)]).await;
    // 6: ended two days before the period.
    registered(
        &mut anna,
        6,
        &[(Bijstand, d(2024, 1, 1), Some(d(2024, 12, 30)))],
    )
    .await;
    // 7: starts on period_start: not on the day before.
    registered(&mut anna, 7, &[(Bijstand, d(2025, 1, 1), None)]).await;
    // 8: bijstand on the day before, IOAW on the peildatum: once each day.
    registered(
        &mut anna,
        8,
        &[
            (Bijstand, d(2024, 6, 1), Some(d(2024, 12, 31))),
            (Ioaw, d(2025, 1, 1), None),
        ],
    )
    .await;
    // 9: ANW with aanvullende bijstand: one client.
    registered(
        &mut anna,
        9,
        &[(Bijstand, d(2024, 1, 1), None), (Anw, d(2024, 1, 1), None)],
    )
    .await;

    let r = report(&app, year_2025()).await;
    // Day before 2024-12-31: 1, 2, 8, 9. Peildatum 2025-12-31: 1, 3, 7, 8, 9.
    assert_eq!(count(&r.tables, T1, "bijstand", "dag_voor_periode"), 4);
    assert_eq!(count(&r.tables, T1, "bijstand", "peildatum"), 5);

    // 2025-07-01 .. 2025-12-30: day before 2025-06-30: 1, 2, 7, 8, 9;
    // peildatum 2025-12-30: 1, 7, 8, 9.
    let r = report(&app, period(d(2025, 7, 1), d(2025, 12, 30))).await;
    assert_eq!(count(&r.tables, T1, "bijstand", "dag_voor_periode"), 5);
    assert_eq!(count(&r.tables, T1, "bijstand", "peildatum"), 4);
    app.cleanup().await;
}

async fn instroom_and_uitstroom_bijstand(app: TestApp) {
    use RegistrationKind::*;
    let mut anna = app.anna();
    let cases: Vec<(u32, Vec<Episode>)> = vec![
        // a: new bijstand after a gap: instroom.
        (
            1,
            vec![
                (Bijstand, d(2023, 1, 1), Some(d(2023, 12, 31))),
                (Bijstand, d(2025, 3, 1), None),
            ],
        ),
        // b: IOAZ directly continuing bijstand: neither.
        (
            2,
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2025, 3, 31))),
                (Ioaz, d(2025, 4, 1), None),
            ],
        ),
        // c: ends in the period: uitstroom.
        (3, vec![(Bijstand, d(2024, 1, 1), Some(d(2025, 6, 30)))]),
        // d: starts and ends in the period: both.
        (4, vec![(Bijstand, d(2025, 2, 1), Some(d(2025, 5, 31)))]),
        // e: ANW only: neither.
        (5, vec![(Anw, d(2025, 2, 1), None)]),
        // f: bijstand on top of a running ANW: both.
        (
            6,
            vec![
                (Anw, d(2024, 1, 1), None),
                (Bijstand, d(2025, 5, 1), Some(d(2025, 8, 31))),
            ],
        ),
        // g: starts on the peildatum: instroom.
        (7, vec![(Bijstand, d(2025, 12, 31), None)]),
        // h: ends on the peildatum, nothing after: uitstroom.
        (8, vec![(Bijstand, d(2024, 1, 1), Some(d(2025, 12, 31)))]),
        // i: ended on the day before the period, IOAW continues: neither.
        (
            9,
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2024, 12, 31))),
                (Ioaw, d(2025, 1, 1), None),
            ],
        ),
        // j: starts on period_start: instroom.
        (10, vec![(Bijstand, d(2025, 1, 1), None)]),
        // k: two adjacent bijstand episodes: neither.
        (
            11,
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2025, 3, 31))),
                (Bijstand, d(2025, 4, 1), None),
            ],
        ),
        // l: one day without bijstand (2025-03-31): both.
        (
            12,
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2025, 3, 30))),
                (Bijstand, d(2025, 4, 1), None),
            ],
        ),
        // m: overlapping IOAW and bijstand: no instroom (IOAW active on
        // 2025-05-31); the IOAW end is covered, the bijstand end is uitstroom.
        (
            13,
            vec![
                (Ioaw, d(2024, 1, 1), Some(d(2025, 7, 31))),
                (Bijstand, d(2025, 6, 1), Some(d(2025, 9, 30))),
            ],
        ),
        // n: out, in, out again: counted once in each column.
        (
            14,
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2025, 2, 28))),
                (Bijstand, d(2025, 5, 1), Some(d(2025, 8, 31))),
            ],
        ),
    ];
    for (seed, episodes) in &cases {
        registered(&mut anna, *seed, episodes).await;
    }
    let r = report(&app, year_2025()).await;
    // instroom: a, d, f, g, j, l, n; uitstroom: c, d, f, h, l, m, n.
    assert_eq!(count(&r.tables, T2, "bijstand", "instroom"), 7);
    assert_eq!(count(&r.tables, T2, "bijstand", "uitstroom"), 7);
    // Volume: 2024-12-31: b, c, h, i, k, l, m, n; 2025-12-31: a, b, g, h, i, j,
    // k, l (8 + 7 - 7 = 8).
    assert_eq!(count(&r.tables, T1, "bijstand", "dag_voor_periode"), 8);
    assert_eq!(count(&r.tables, T1, "bijstand", "peildatum"), 8);

    // The second quarter: instroom f (05-01), l (04-01), n (05-01);
    // uitstroom c (06-30), d (05-31).
    let r = report(&app, period(d(2025, 4, 1), d(2025, 6, 30))).await;
    assert_eq!(count(&r.tables, T2, "bijstand", "instroom"), 3);
    assert_eq!(count(&r.tables, T2, "bijstand", "uitstroom"), 2);
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// Columns of tables 3-8
// ---------------------------------------------------------------------------

async fn doorverwezen_and_ingestroomd_on_the_latest_date(app: TestApp) {
    let mut anna = app.anna();
    // X: FASE_1, FASE_3 from 2025-06-01; referred and started twice.
    let x = bijstand(&mut anna, 1).await;
    anna.classify_fase(&x.name, Fase::Fase1, d(2024, 1, 1))
        .await;
    anna.classify_fase(&x.name, Fase::Fase3, d(2025, 6, 1))
        .await;
    trajectory(&mut anna, &x, d(2025, 3, 1), Some(d(2025, 3, 15)), None).await;
    trajectory(&mut anna, &x, d(2025, 9, 1), Some(d(2025, 9, 15)), None).await;
    // Y: FASE_2; referred before the period, started in it.
    let y = bijstand(&mut anna, 2).await;
    anna.classify_fase(&y.name, Fase::Fase2, d(2024, 1, 1))
        .await;
    trajectory(&mut anna, &y, d(2024, 11, 1), Some(d(2025, 2, 1)), None).await;
    // Z: FASE_4 from the referral date itself.
    let z = bijstand(&mut anna, 3).await;
    anna.classify_fase(&z.name, Fase::Fase1, d(2024, 1, 1))
        .await;
    anna.classify_fase(&z.name, Fase::Fase4, d(2025, 12, 1))
        .await;
    trajectory(&mut anna, &z, d(2025, 12, 1), None, None).await;
    // W: FASE_1; referred in the period, started after it.
    let w = bijstand(&mut anna, 4).await;
    anna.classify_fase(&w.name, Fase::Fase1, d(2024, 1, 1))
        .await;
    trajectory(&mut anna, &w, d(2025, 1, 10), Some(d(2026, 1, 5)), None).await;

    let r = report(&app, year_2025()).await;
    assert_eq!(count(&r.tables, T3, "totaal", "doorverwezen"), 3);
    assert_eq!(count(&r.tables, T3, "waarvan bijstand", "doorverwezen"), 3);
    assert_column(
        &r.tables,
        T6,
        "doorverwezen",
        &[("FASE_1", 1), ("FASE_3", 1), ("FASE_4", 1)],
    );
    assert_eq!(count(&r.tables, T3, "totaal", "ingestroomd"), 2);
    assert_column(
        &r.tables,
        T6,
        "ingestroomd",
        &[("FASE_2", 1), ("FASE_3", 1)],
    );
    assert_eq!(count(&r.tables, T3, "totaal", "bestand"), 4);
    assert_column(
        &r.tables,
        T6,
        "bestand",
        &[("FASE_1", 1), ("FASE_2", 1), ("FASE_3", 1), ("FASE_4", 1)],
    );

    // The first half of 2025: X referred (03-01) and started (03-15) in
    // FASE_1; Y started; W referred; Z not yet.
    let r = report(&app, period(d(2025, 1, 1), d(2025, 6, 30))).await;
    assert_column(&r.tables, T6, "doorverwezen", &[("FASE_1", 2)]);
    assert_column(
        &r.tables,
        T6,
        "ingestroomd",
        &[("FASE_1", 1), ("FASE_2", 1)],
    );
    app.cleanup().await;
}

async fn work_endings_count_once_in_the_latest_kind(app: TestApp) {
    use EndReason::*;
    let mut anna = app.anna();
    // A: subsidised, then regular (latest) in FASE_2 (from 2025-06-01).
    let a = bijstand(&mut anna, 1).await;
    anna.classify_fase(&a.name, Fase::Fase1, d(2024, 1, 1))
        .await;
    anna.classify_fase(&a.name, Fase::Fase2, d(2025, 6, 1))
        .await;
    let ref_ = d(2025, 1, 10);
    trajectory(
        &mut anna,
        &a,
        ref_,
        Some(ref_),
        Some((d(2025, 3, 31), WorkSubsidised)),
    )
    .await;
    trajectory(
        &mut anna,
        &a,
        d(2025, 4, 1),
        Some(d(2025, 4, 1)),
        Some((d(2025, 8, 31), WorkRegular)),
    )
    .await;
    // B: regular, then subsidised (latest).
    let b = bijstand(&mut anna, 2).await;
    trajectory(
        &mut anna,
        &b,
        ref_,
        Some(ref_),
        Some((d(2025, 4, 30), WorkRegular)),
    )
    .await;
    trajectory(
        &mut anna,
        &b,
        d(2025, 5, 1),
        None,
        Some((d(2025, 10, 31), WorkSubsidised)),
    )
    .await;
    // C: both on the same day: regulier (subsidised recorded first).
    let c = bijstand(&mut anna, 3).await;
    trajectory(
        &mut anna,
        &c,
        ref_,
        None,
        Some((d(2025, 6, 30), WorkSubsidised)),
    )
    .await;
    trajectory(
        &mut anna,
        &c,
        d(2025, 2, 1),
        None,
        Some((d(2025, 6, 30), WorkRegular)),
    )
    .await;
    // C2: both on the same day, regular recorded first: regulier.
    let c2 = bijstand(&mut anna, 4).await;
    trajectory(
        &mut anna,
        &c2,
        ref_,
        None,
        Some((d(2025, 7, 31), WorkRegular)),
    )
    .await;
    trajectory(
        &mut anna,
        &c2,
        d(2025, 2, 1),
        None,
        Some((d(2025, 7, 31), WorkSubsidised)),
    )
    .await;
    // D: a regular ending before the period does not count.
    let dd = bijstand(&mut anna, 5).await;
    trajectory(
        &mut anna,
        &dd,
        d(2024, 6, 1),
        Some(d(2024, 6, 1)),
        Some((d(2024, 12, 31), WorkRegular)),
    )
    .await;
    trajectory(
        &mut anna,
        &dd,
        ref_,
        None,
        Some((d(2025, 2, 28), WorkSubsidised)),
    )
    .await;

    let r = report(&app, year_2025()).await;
    assert_eq!(count(&r.tables, T3, "totaal", "uitstroom_werk_regulier"), 3);
    assert_eq!(
        count(&r.tables, T3, "totaal", "uitstroom_werk_gesubsidieerd"),
        2
    );
    assert_eq!(count(&r.tables, T3, "totaal", "uitstroom_werk"), 5);
    assert_eq!(count(&r.tables, T3, "totaal", "uitstroom_zonder_werk"), 0);
    assert_eq!(
        count(&r.tables, T3, "waarvan bijstand", "uitstroom_werk"),
        5
    );
    assert_column(
        &r.tables,
        T6,
        "uitstroom_werk_regulier",
        &[("FASE_2", 1), ("NIET_INGEDEELD", 2)],
    );
    assert_column(
        &r.tables,
        T6,
        "uitstroom_werk_gesubsidieerd",
        &[("NIET_INGEDEELD", 2)],
    );
    assert_column(
        &r.tables,
        T6,
        "uitstroom_werk",
        &[("FASE_2", 1), ("NIET_INGEDEELD", 4)],
    );

    // The first half of 2025: A subsidised (03-31, FASE_1), B regular
    // (04-30), C regular (06-30), D subsidised (02-28); C2 not yet.
    let r = report(&app, period(d(2025, 1, 1), d(2025, 6, 30))).await;
    assert_eq!(count(&r.tables, T3, "totaal", "uitstroom_werk_regulier"), 2);
    assert_eq!(
        count(&r.tables, T3, "totaal", "uitstroom_werk_gesubsidieerd"),
        2
    );
    assert_eq!(count(&r.tables, T3, "totaal", "uitstroom_werk"), 4);
    assert_column(
        &r.tables,
        T6,
        "uitstroom_werk_gesubsidieerd",
        &[("FASE_1", 1), ("NIET_INGEDEELD", 1)],
    );
    app.cleanup().await;
}

async fn uitval_excludes_clients_with_a_work_ending(app: TestApp) {
    use EndReason::*;
    let mut anna = app.anna();
    let ref_ = d(2025, 1, 10);
    // E: uitval, then work: not uitval.
    let e = bijstand(&mut anna, 1).await;
    trajectory(&mut anna, &e, ref_, None, Some((d(2025, 3, 1), NoShow))).await;
    trajectory(
        &mut anna,
        &e,
        d(2025, 3, 2),
        None,
        Some((d(2025, 5, 1), WorkRegular)),
    )
    .await;
    // F: work before the period, uitval in it: uitval.
    let f = bijstand(&mut anna, 2).await;
    trajectory(
        &mut anna,
        &f,
        d(2024, 6, 1),
        None,
        Some((d(2024, 11, 30), WorkRegular)),
    )
    .await;
    trajectory(&mut anna, &f, ref_, None, Some((d(2025, 4, 30), Medical))).await;
    // G: two uitval endings; the row is that of the latest (FASE_4).
    let g = bijstand(&mut anna, 3).await;
    anna.classify_fase(&g.name, Fase::Fase1, d(2024, 1, 1))
        .await;
    anna.classify_fase(&g.name, Fase::Fase4, d(2025, 9, 1))
        .await;
    trajectory(
        &mut anna,
        &g,
        ref_,
        Some(ref_),
        Some((d(2025, 2, 28), Medical)),
    )
    .await;
    trajectory(
        &mut anna,
        &g,
        d(2025, 3, 1),
        Some(d(2025, 3, 1)),
        Some((d(2025, 9, 30), Refusal)),
    )
    .await;
    // H: work, then uitval: not uitval.
    let h = bijstand(&mut anna, 4).await;
    trajectory(
        &mut anna,
        &h,
        ref_,
        None,
        Some((d(2025, 2, 1), WorkSubsidised)),
    )
    .await;
    trajectory(
        &mut anna,
        &h,
        d(2025, 2, 2),
        None,
        Some((d(2025, 10, 1), Moved)),
    )
    .await;
    // I: uitval after the period.
    let i = bijstand(&mut anna, 5).await;
    trajectory(
        &mut anna,
        &i,
        d(2025, 6, 1),
        None,
        Some((d(2026, 1, 15), CompletedWithoutWork)),
    )
    .await;
    // J: uitval on the peildatum.
    let j = bijstand(&mut anna, 6).await;
    trajectory(
        &mut anna,
        &j,
        d(2025, 6, 1),
        None,
        Some((d(2025, 12, 31), BenefitEnded)),
    )
    .await;

    let r = report(&app, year_2025()).await;
    assert_eq!(count(&r.tables, T3, "totaal", "uitstroom_zonder_werk"), 3);
    assert_column(
        &r.tables,
        T6,
        "uitstroom_zonder_werk",
        &[("FASE_4", 1), ("NIET_INGEDEELD", 2)],
    );
    assert_eq!(count(&r.tables, T3, "totaal", "uitstroom_werk"), 2);
    assert_eq!(count(&r.tables, T3, "totaal", "uitstroom_werk_regulier"), 1);
    assert_eq!(
        count(&r.tables, T3, "totaal", "uitstroom_werk_gesubsidieerd"),
        1
    );

    // 2025-03-01 .. 2025-03-31: only E's no-show (03-01): uitval.
    let r = report(&app, period(d(2025, 3, 1), d(2025, 3, 31))).await;
    assert_eq!(count(&r.tables, T3, "totaal", "uitstroom_zonder_werk"), 1);
    assert_eq!(count(&r.tables, T3, "totaal", "uitstroom_werk"), 0);
    app.cleanup().await;
}

async fn bestand_and_waarvan_bijstand(app: TestApp) {
    use RegistrationKind::*;
    let mut anna = app.anna();
    // P: bijstand running.
    registered(&mut anna, 1, &[(Bijstand, d(2024, 1, 1), None)]).await;
    // Q: Nugger running: bestand, not bijstand.
    registered(&mut anna, 2, &[(Nugger, d(2024, 1, 1), None)]).await;
    // R: ANW ending on the peildatum: bestand.
    registered(&mut anna, 3, &[(Anw, d(2024, 1, 1), Some(d(2025, 12, 31)))]).await;
    // S: bijstand ending the day before the peildatum: not bestand.
    registered(
        &mut anna,
        4,
        &[(Bijstand, d(2024, 1, 1), Some(d(2025, 12, 30)))],
    )
    .await;
    // T: referred in bijstand, Nugger on the peildatum.
    let t = registered(
        &mut anna,
        5,
        &[
            (Bijstand, d(2024, 1, 1), Some(d(2025, 6, 30))),
            (Nugger, d(2025, 7, 1), None),
        ],
    )
    .await;
    trajectory(&mut anna, &t, d(2025, 5, 1), None, None).await;
    // U: referred as Nugger, bijstand on the peildatum.
    let u = registered(
        &mut anna,
        6,
        &[
            (Nugger, d(2024, 1, 1), Some(d(2025, 4, 30))),
            (Bijstand, d(2025, 5, 1), None),
        ],
    )
    .await;
    trajectory(&mut anna, &u, d(2025, 3, 1), None, None).await;
    // V: referred in bijstand and later as Nugger: the latest decides.
    let v = registered(
        &mut anna,
        7,
        &[
            (Bijstand, d(2024, 1, 1), Some(d(2025, 6, 30))),
            (Nugger, d(2025, 7, 1), None),
        ],
    )
    .await;
    trajectory(&mut anna, &v, d(2025, 3, 1), None, None).await;
    trajectory(&mut anna, &v, d(2025, 8, 1), None, None).await;

    let r = report(&app, year_2025()).await;
    assert_eq!(count(&r.tables, T3, "totaal", "bestand"), 6);
    assert_eq!(count(&r.tables, T3, "waarvan bijstand", "bestand"), 2);
    assert_eq!(count(&r.tables, T3, "totaal", "doorverwezen"), 3);
    assert_eq!(count(&r.tables, T3, "waarvan bijstand", "doorverwezen"), 1);
    assert_eq!(count(&r.tables, T1, "bijstand", "peildatum"), 2);
    app.cleanup().await;
}

async fn doelgroepen_rows(app: TestApp) {
    let mut fb = app.beheerder();
    for code in ["JONGEREN", "STATUSHOUDERS", "ARBEIDSBEPERKT"] {
        fb.create_doelgroep(code).await;
    }
    let mut anna = app.anna();
    // a: two doelgroepen: both rows.
    let a = bijstand(&mut anna, 1).await;
    anna.assign_doelgroepen(&a.name, &["JONGEREN", "STATUSHOUDERS"], d(2024, 1, 1))
        .await;
    // b: JONGEREN, then the empty set from 2025-06-01; referred in between.
    let b = bijstand(&mut anna, 2).await;
    anna.assign_doelgroepen(&b.name, &["JONGEREN"], d(2024, 1, 1))
        .await;
    anna.assign_doelgroepen(&b.name, &[], d(2025, 6, 1)).await;
    trajectory(&mut anna, &b, d(2025, 3, 1), None, None).await;
    // c: never assigned.
    bijstand(&mut anna, 3).await;
    // d: assigned only from after the peildatum.
    let dd = bijstand(&mut anna, 4).await;
    anna.assign_doelgroepen(&dd.name, &["ARBEIDSBEPERKT"], d(2026, 1, 1))
        .await;
    // e: assigned from the peildatum.
    let e = bijstand(&mut anna, 5).await;
    anna.assign_doelgroepen(&e.name, &["STATUSHOUDERS"], d(2025, 12, 31))
        .await;
    // f: ARBEIDSBEPERKT replaced by JONGEREN before the referral.
    let f = bijstand(&mut anna, 6).await;
    anna.assign_doelgroepen(&f.name, &["ARBEIDSBEPERKT"], d(2024, 1, 1))
        .await;
    anna.assign_doelgroepen(&f.name, &["JONGEREN"], d(2025, 1, 1))
        .await;
    trajectory(&mut anna, &f, d(2025, 2, 1), None, None).await;

    let r = report(&app, year_2025()).await;
    let got: BTreeSet<&str> = labels(table(&r.tables, T4)).into_iter().collect();
    assert_eq!(
        got,
        BTreeSet::from([
            "ARBEIDSBEPERKT",
            "JONGEREN",
            "STATUSHOUDERS",
            "geen doelgroep"
        ]),
        "a row per defined code plus geen doelgroep"
    );
    assert_eq!(count(&r.tables, T3, "totaal", "bestand"), 6);
    assert_column(
        &r.tables,
        T4,
        "bestand",
        &[
            ("JONGEREN", 2),
            ("STATUSHOUDERS", 2),
            ("ARBEIDSBEPERKT", 0),
            ("geen doelgroep", 3),
        ],
    );
    assert_column(&r.tables, T4, "doorverwezen", &[("JONGEREN", 2)]);
    app.cleanup().await;
}

async fn uitkeringssoort_rows(app: TestApp) {
    use RegistrationKind::*;
    let mut anna = app.anna();
    // a: ANW with aanvullende bijstand: both rows.
    registered(
        &mut anna,
        1,
        &[(Anw, d(2024, 1, 1), None), (Bijstand, d(2024, 3, 1), None)],
    )
    .await;
    registered(&mut anna, 2, &[(Ioaw, d(2024, 1, 1), None)]).await;
    registered(&mut anna, 3, &[(Ioaz, d(2024, 1, 1), None)]).await;
    registered(&mut anna, 4, &[(Nugger, d(2024, 1, 1), None)]).await;
    // e: referred in bijstand, not in the bestand.
    let e = registered(
        &mut anna,
        5,
        &[(Bijstand, d(2024, 1, 1), Some(d(2025, 6, 30)))],
    )
    .await;
    trajectory(&mut anna, &e, d(2025, 3, 1), None, None).await;
    // f: referred in bijstand, uitval after the episode ended.
    let f = registered(
        &mut anna,
        6,
        &[(Bijstand, d(2024, 1, 1), Some(d(2025, 3, 31)))],
    )
    .await;
    trajectory(
        &mut anna,
        &f,
        d(2025, 2, 1),
        None,
        Some((d(2025, 5, 15), EndReason::Medical)),
    )
    .await;

    let r = report(&app, year_2025()).await;
    // a, b, c, d; a counts in two rows of table 5.
    assert_eq!(count(&r.tables, T3, "totaal", "bestand"), 4);
    assert_column(
        &r.tables,
        T5,
        "bestand",
        &[
            ("BIJSTAND", 1),
            ("IOAW", 1),
            ("IOAZ", 1),
            ("ANW", 1),
            ("NUGGER", 1),
            ("geen inschrijving", 0),
        ],
    );
    assert_column(&r.tables, T5, "doorverwezen", &[("BIJSTAND", 2)]);
    assert_column(
        &r.tables,
        T5,
        "uitstroom_zonder_werk",
        &[("geen inschrijving", 1)],
    );
    assert_column(&r.tables, T7, "uitstroom_zonder_werk", &[("onbekend", 1)]);
    assert_eq!(count(&r.tables, T3, "totaal", "uitstroom_zonder_werk"), 1);
    assert_eq!(
        count(&r.tables, T3, "waarvan bijstand", "uitstroom_zonder_werk"),
        0
    );
    app.cleanup().await;
}

async fn fasering_rows(app: TestApp) {
    let mut anna = app.anna();
    let a = bijstand(&mut anna, 1).await;
    anna.classify_fase(&a.name, Fase::Fase1, d(2024, 1, 1))
        .await;
    // b: ONTHEFFING from the peildatum.
    let b = bijstand(&mut anna, 2).await;
    anna.classify_fase(&b.name, Fase::Fase2, d(2024, 1, 1))
        .await;
    anna.classify_fase(&b.name, Fase::Ontheffing, d(2025, 12, 31))
        .await;
    // c: classified only after the peildatum: NIET_INGEDEELD.
    let c = bijstand(&mut anna, 3).await;
    anna.classify_fase(&c.name, Fase::Fase3, d(2026, 1, 1))
        .await;
    // d: never classified.
    bijstand(&mut anna, 4).await;
    // e: recorded out of order: the greatest valid_from wins.
    let e = bijstand(&mut anna, 5).await;
    anna.classify_fase(&e.name, Fase::Fase4, d(2025, 1, 1))
        .await;
    anna.classify_fase(&e.name, Fase::Fase2, d(2024, 6, 1))
        .await;
    // f: ONTHEFFING, then FASE_2.
    let f = bijstand(&mut anna, 6).await;
    anna.classify_fase(&f.name, Fase::Ontheffing, d(2024, 1, 1))
        .await;
    anna.classify_fase(&f.name, Fase::Fase2, d(2025, 12, 1))
        .await;
    // g: only a trede of the participatieladder: NIET_INGEDEELD.
    let g = bijstand(&mut anna, 7).await;
    trede(&mut anna, &g, v1::Trede::Trede3, d(2024, 1, 1)).await;
    // h: FASE_1 from the peildatum.
    let h = bijstand(&mut anna, 8).await;
    anna.classify_fase(&h.name, Fase::Fase1, d(2025, 12, 31))
        .await;

    let r = report(&app, year_2025()).await;
    assert_eq!(count(&r.tables, T3, "totaal", "bestand"), 8);
    assert_column(
        &r.tables,
        T6,
        "bestand",
        &[
            ("FASE_1", 2),
            ("FASE_2", 1),
            ("FASE_3", 0),
            ("FASE_4", 1),
            ("ONTHEFFING", 1),
            ("NIET_INGEDEELD", 3),
        ],
    );
    // Peildatum 2025-12-30: a FASE_1, b and f FASE_2, e FASE_4, c/d/g/h
    // NIET_INGEDEELD.
    let r = report(&app, period(d(2025, 1, 1), d(2025, 12, 30))).await;
    assert_column(
        &r.tables,
        T6,
        "bestand",
        &[
            ("FASE_1", 1),
            ("FASE_2", 2),
            ("FASE_4", 1),
            ("NIET_INGEDEELD", 4),
        ],
    );
    app.cleanup().await;
}

async fn inschrijvingsduur_boundaries(app: TestApp) {
    use RegistrationKind::*;
    let mut anna = app.anna();
    // a: exactly 12 months on 2025-12-31: 1-3y.
    registered(&mut anna, 1, &[(Bijstand, d(2024, 12, 31), None)]).await;
    // b: 11 months and 30 days: <1y.
    registered(&mut anna, 2, &[(Bijstand, d(2025, 1, 1), None)]).await;
    // c: exactly 36 months: >=3y.
    registered(&mut anna, 3, &[(Bijstand, d(2022, 12, 31), None)]).await;
    // d: 35 months and 30 days: 1-3y.
    registered(&mut anna, 4, &[(Bijstand, d(2023, 1, 1), None)]).await;
    // e: a long ended episode does not count, only the active Nugger: <1y.
    registered(
        &mut anna,
        5,
        &[
            (Bijstand, d(2015, 1, 1), Some(d(2025, 6, 30))),
            (Nugger, d(2025, 7, 1), None),
        ],
    )
    .await;
    // f: the earliest start among the active episodes (ANW 2020): >=3y.
    registered(
        &mut anna,
        6,
        &[(Anw, d(2020, 1, 1), None), (Bijstand, d(2025, 10, 1), None)],
    )
    .await;
    // g: referred after 12 months and 14 days (1-3y), uitval when nothing is
    // active any more (onbekend).
    let g = registered(
        &mut anna,
        7,
        &[(Bijstand, d(2024, 1, 1), Some(d(2025, 2, 28)))],
    )
    .await;
    trajectory(
        &mut anna,
        &g,
        d(2025, 1, 15),
        None,
        Some((d(2025, 3, 15), EndReason::NoShow)),
    )
    .await;

    let r = report(&app, year_2025()).await;
    assert_eq!(labels(table(&r.tables, T7)), DURATION_ROWS);
    assert_column(
        &r.tables,
        T7,
        "bestand",
        &[("<1y", 2), ("1-3y", 2), (">=3y", 2), ("onbekend", 0)],
    );
    assert_column(&r.tables, T7, "doorverwezen", &[("1-3y", 1)]);
    assert_column(&r.tables, T7, "uitstroom_zonder_werk", &[("onbekend", 1)]);
    app.cleanup().await;
}

async fn leeftijd_boundaries(app: TestApp) {
    let mut anna = app.anna();
    let referral = d(2025, 6, 15);
    // Ages on the referral date 2025-06-15 and on the peildatum 2025-12-31.
    let births = [
        d(2002, 6, 15),  // a: exactly 23 → 23-30; 23.5 → 23-30
        d(2002, 6, 16),  // b: 22y11m30d → <23; → 23-30
        d(1995, 6, 15),  // c: exactly 30 → 30-57.5; → 30-57.5
        d(1995, 6, 16),  // d: 29y11m30d → 23-30; → 30-57.5
        d(1967, 12, 15), // e: exactly 57y6m → >=57.5; → >=57.5
        d(1967, 12, 16), // f: 57y5m30d → 30-57.5; → >=57.5
        d(2007, 1, 1),   // g: 18 → <23; → <23
    ];
    for (i, birth) in births.iter().enumerate() {
        let client = registered_born(
            &mut anna,
            i as u32 + 1,
            *birth,
            &[(RegistrationKind::Bijstand, d(2024, 1, 1), None)],
        )
        .await;
        trajectory(&mut anna, &client, referral, None, None).await;
    }
    let r = report(&app, year_2025()).await;
    assert_eq!(labels(table(&r.tables, T8)), AGE_ROWS);
    assert_column(
        &r.tables,
        T8,
        "doorverwezen",
        &[("<23", 2), ("23-30", 2), ("30-57.5", 2), (">=57.5", 1)],
    );
    assert_column(
        &r.tables,
        T8,
        "bestand",
        &[("<23", 1), ("23-30", 2), ("30-57.5", 2), (">=57.5", 2)],
    );
    app.cleanup().await;
}

/// The counts of a column in row order.
fn in_order(tables: &[ReportTable], name: &str, column: &str) -> Vec<i64> {
    table(tables, name)
        .rows
        .iter()
        .map(|r| count(tables, name, &r.label, column))
        .collect()
}

async fn custom_bucket_edges(app: TestApp) {
    let mut anna = app.anna();
    let cases = [
        // birth, episode start; ages and durations on 2025-12-31
        (d(2008, 1, 1), d(2025, 6, 30)), // 17y11m → <18; exactly 6 months
        (d(2007, 12, 31), d(2025, 7, 1)), // exactly 18; 5 months 30 days
        (d(1998, 12, 31), d(2025, 1, 1)), // exactly 27; 11 months
        (d(1999, 1, 1), d(2020, 1, 1)),  // 26y11m; 71 months
    ];
    for (i, (birth, start)) in cases.iter().enumerate() {
        registered_born(
            &mut anna,
            i as u32 + 1,
            *birth,
            &[(RegistrationKind::Bijstand, *start, None)],
        )
        .await;
    }
    let r = report(
        &app,
        GetInflowOutflowReportRequest {
            age_edges_months: vec![216, 324],
            duration_edges_months: vec![6],
            ..year_2025()
        },
    )
    .await;
    let ages = table(&r.tables, T8);
    assert_eq!(
        ages.rows.len(),
        3,
        "two age edges, three buckets: {:?}",
        labels(ages)
    );
    assert_eq!(in_order(&r.tables, T8, "bestand"), [1, 2, 1]);
    let durations = table(&r.tables, T7);
    assert_eq!(
        durations.rows.len(),
        3,
        "one duration edge, two buckets and onbekend: {:?}",
        labels(durations)
    );
    assert_eq!(labels(durations)[2], "onbekend");
    assert_eq!(in_order(&r.tables, T7, "bestand"), [1, 3, 0]);
    let distinct: BTreeSet<&str> = labels(ages).into_iter().collect();
    assert_eq!(distinct.len(), 3, "distinct age labels {:?}", labels(ages));

    // The same data with the default edges.
    let r = report(&app, year_2025()).await;
    assert_column(&r.tables, T8, "bestand", &[("<23", 2), ("23-30", 2)]);
    assert_column(&r.tables, T7, "bestand", &[("<1y", 3), (">=3y", 1)]);
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// Per reïntegratiebedrijf and per contract
// ---------------------------------------------------------------------------

struct Owner {
    doorverwezen: i64,
    gestart: i64,
    regulier: i64,
    gesubsidieerd: i64,
    zonder_werk: i64,
    lopend: i64,
    plaatsing: f64,
    duur: f64,
    kosten: f64,
    per_werk: Option<f64>,
}

#[track_caller]
fn assert_owner(tables: &[ReportTable], name: &str, row: &str, want: Owner) {
    let what = format!("{name} / {row}");
    assert_eq!(
        count(tables, name, row, "doorverwezen"),
        want.doorverwezen,
        "{what} doorverwezen"
    );
    assert_eq!(
        count(tables, name, row, "gestart"),
        want.gestart,
        "{what} gestart"
    );
    assert_eq!(
        count(tables, name, row, "beeindigd_werk_regulier"),
        want.regulier,
        "{what} beeindigd_werk_regulier"
    );
    assert_eq!(
        count(tables, name, row, "beeindigd_werk_gesubsidieerd"),
        want.gesubsidieerd,
        "{what} beeindigd_werk_gesubsidieerd"
    );
    assert_eq!(
        count(tables, name, row, "beeindigd_zonder_werk"),
        want.zonder_werk,
        "{what} beeindigd_zonder_werk"
    );
    assert_eq!(
        count(tables, name, row, "lopend_op_peildatum"),
        want.lopend,
        "{what} lopend_op_peildatum"
    );
    assert_close(
        number(tables, name, row, "plaatsingspercentage"),
        want.plaatsing,
        &format!("{what} plaatsingspercentage (work endings / all endings)"),
    );
    assert_close(
        number(tables, name, row, "gemiddelde_duur_dagen"),
        want.duur,
        &format!("{what} gemiddelde_duur_dagen"),
    );
    assert_close(
        amount(tables, name, row, "kosten_beeindigd_cents"),
        want.kosten,
        &format!("{what} kosten_beeindigd_cents"),
    );
    match want.per_werk {
        Some(x) => assert_close(
            number(tables, name, row, "kosten_per_uitstroom_werk_cents"),
            x,
            &format!("{what} kosten_per_uitstroom_werk_cents"),
        ),
        None => assert_eq!(
            cell(tables, name, row, "kosten_per_uitstroom_werk_cents"),
            None,
            "{what} kosten_per_uitstroom_werk_cents without work endings"
        ),
    }
}

async fn per_provider_and_per_contract(app: TestApp) {
    use EndReason::*;
    let mut fb = app.beheerder();
    let p1 = fb
        .create_provider(sample_provider("WerkFit BV", "12345678"))
        .await;
    let p2 = fb
        .create_provider(sample_provider("Aan de Slag BV", "87654321"))
        .await;
    let c1 = fb.create_contract(sample_contract(&p1.name)).await;
    let c2 = fb
        .create_contract(v1::Contract {
            display_name: "Bemiddeling 2025 (tweede perceel)".into(),
            ..sample_contract(&p1.name)
        })
        .await;
    let c3 = fb.create_contract(sample_contract(&p2.name)).await;
    let p3 = fb
        .create_provider(sample_provider("Stil BV", "11223344"))
        .await;
    let c4 = fb.create_contract(sample_contract(&p3.name)).await;
    let mut anna = app.anna();
    let bem = || line("BEMIDDELING", 1); // 250_000 per trajectory
    let coaching = |hours| line("COACHING", hours); // 8_500/h, 9_000/h from 2025-07-01

    let mut seed = 0;
    let mut next = || {
        seed += 1;
        seed
    };
    // Under c1.
    let cl = bijstand(&mut anna, next()).await;
    // t1: 250_000 + 10 × 8_500 = 335_000; 2025-02-15 .. 2025-05-16 = 90 days.
    let t1 = trajectory_with(
        &mut anna,
        &cl,
        &c1.name,
        d(2025, 2, 1),
        vec![bem(), coaching(10)],
        Some(d(2025, 2, 15)),
        Some((d(2025, 5, 16), WorkRegular)),
    )
    .await;
    assert_eq!(t1.cost_cents, 335_000);
    let cl = bijstand(&mut anna, next()).await;
    // t2: 20 × 8_500 = 170_000; 2025-03-10 .. 2025-04-09 = 30 days.
    let t2 = trajectory_with(
        &mut anna,
        &cl,
        &c1.name,
        d(2025, 3, 1),
        vec![coaching(20)],
        Some(d(2025, 3, 10)),
        Some((d(2025, 4, 9), NoShow)),
    )
    .await;
    assert_eq!(t2.cost_cents, 170_000);
    let cl = bijstand(&mut anna, next()).await;
    // t3: running; 250_000 + 4 × 9_000.
    trajectory_with(
        &mut anna,
        &cl,
        &c1.name,
        d(2025, 8, 1),
        vec![bem(), coaching(4)],
        Some(d(2025, 8, 15)),
        None,
    )
    .await;
    let cl = bijstand(&mut anna, next()).await;
    // t4: referred only.
    trajectory_with(
        &mut anna,
        &cl,
        &c1.name,
        d(2025, 9, 1),
        vec![bem()],
        None,
        None,
    )
    .await;
    let cl = bijstand(&mut anna, next()).await;
    // t5: ended without a start: an ending, not in the duration; 250_000.
    trajectory_with(
        &mut anna,
        &cl,
        &c1.name,
        d(2025, 4, 1),
        vec![bem()],
        None,
        Some((d(2025, 4, 20), Refusal)),
    )
    .await;
    let cl = bijstand(&mut anna, next()).await;
    // t9: ends after the peildatum: running on it.
    trajectory_with(
        &mut anna,
        &cl,
        &c1.name,
        d(2025, 10, 1),
        vec![bem()],
        Some(d(2025, 10, 1)),
        Some((d(2026, 1, 31), WorkRegular)),
    )
    .await;
    // Under c2: t6, 2025-05-01 .. 2025-11-30 = 213 days; 250_000.
    let cl = bijstand(&mut anna, next()).await;
    trajectory_with(
        &mut anna,
        &cl,
        &c2.name,
        d(2025, 5, 1),
        vec![bem()],
        Some(d(2025, 5, 1)),
        Some((d(2025, 11, 30), WorkSubsidised)),
    )
    .await;
    // Under c3: t7, 5 × 8_500 = 42_500; 2025-06-02 .. 2025-06-12 = 10 days.
    let cl = bijstand(&mut anna, next()).await;
    trajectory_with(
        &mut anna,
        &cl,
        &c3.name,
        d(2025, 6, 1),
        vec![coaching(5)],
        Some(d(2025, 6, 2)),
        Some((d(2025, 6, 12), Medical)),
    )
    .await;
    // Eigen beheer: t8, 2 × 50_000; 2025-01-10 .. 2025-03-11 = 60 days.
    let cl = bijstand(&mut anna, next()).await;
    trajectory_with(
        &mut anna,
        &cl,
        "",
        d(2025, 1, 10),
        vec![priced_line("TRAINING", 2, 50_000)],
        Some(d(2025, 1, 10)),
        Some((d(2025, 3, 11), WorkRegular)),
    )
    .await;
    // Under c4: only referred, so no rate and no mean apply.
    let cl = bijstand(&mut anna, next()).await;
    trajectory_with(
        &mut anna,
        &cl,
        &c4.name,
        d(2025, 7, 1),
        vec![bem()],
        None,
        None,
    )
    .await;
    // Referred and ended before the period: counts nowhere in 2025 (c1
    // starts 2025-01-01, so this one is in eigen beheer).
    let cl = bijstand(&mut anna, next()).await;
    trajectory_with(
        &mut anna,
        &cl,
        "",
        d(2024, 3, 1),
        vec![priced_line("TRAINING", 1, 70_000)],
        Some(d(2024, 3, 1)),
        Some((d(2024, 12, 31), WorkRegular)),
    )
    .await;

    let r = report(&app, year_2025()).await;
    let p1_row = format!("{} (WerkFit BV)", p1.name);
    let p2_row = format!("{} (Aan de Slag BV)", p2.name);
    // P1 = c1 + c2: t1, t2, t3, t4, t5, t9, t6.
    assert_owner(
        &r.tables,
        PER_PROVIDER,
        &p1_row,
        Owner {
            doorverwezen: 7,
            gestart: 5,
            regulier: 1,
            gesubsidieerd: 1,
            zonder_werk: 2,
            lopend: 2,
            plaatsing: 2.0 / 4.0,
            duur: (90.0 + 30.0 + 213.0) / 3.0,
            kosten: (335_000 + 170_000 + 250_000 + 250_000) as f64,
            per_werk: Some(1_005_000.0 / 2.0),
        },
    );
    let t7 = Owner {
        doorverwezen: 1,
        gestart: 1,
        regulier: 0,
        gesubsidieerd: 0,
        zonder_werk: 1,
        lopend: 0,
        plaatsing: 0.0,
        duur: 10.0,
        kosten: 42_500.0,
        per_werk: None,
    };
    assert_owner(&r.tables, PER_PROVIDER, &p2_row, t7);
    let t8 = || Owner {
        doorverwezen: 1,
        gestart: 1,
        regulier: 1,
        gesubsidieerd: 0,
        zonder_werk: 0,
        lopend: 0,
        plaatsing: 1.0,
        duur: 60.0,
        kosten: 100_000.0,
        per_werk: Some(100_000.0),
    };
    assert_owner(&r.tables, PER_PROVIDER, "eigen beheer", t8());

    assert_owner(
        &r.tables,
        PER_CONTRACT,
        &c1.name,
        Owner {
            doorverwezen: 6,
            gestart: 4,
            regulier: 1,
            gesubsidieerd: 0,
            zonder_werk: 2,
            lopend: 2,
            plaatsing: 1.0 / 3.0,
            duur: (90.0 + 30.0) / 2.0,
            kosten: 755_000.0,
            per_werk: Some(755_000.0),
        },
    );
    assert_owner(
        &r.tables,
        PER_CONTRACT,
        &c2.name,
        Owner {
            doorverwezen: 1,
            gestart: 1,
            regulier: 0,
            gesubsidieerd: 1,
            zonder_werk: 0,
            lopend: 0,
            plaatsing: 1.0,
            duur: 213.0,
            kosten: 250_000.0,
            per_werk: Some(250_000.0),
        },
    );
    assert_owner(
        &r.tables,
        PER_CONTRACT,
        &c3.name,
        Owner {
            doorverwezen: 1,
            gestart: 1,
            regulier: 0,
            gesubsidieerd: 0,
            zonder_werk: 1,
            lopend: 0,
            plaatsing: 0.0,
            duur: 10.0,
            kosten: 42_500.0,
            per_werk: None,
        },
    );
    assert_owner(&r.tables, PER_CONTRACT, "eigen beheer", t8());
    assert_eq!(count(&r.tables, PER_CONTRACT, &c4.name, "doorverwezen"), 1);
    assert_eq!(
        count(&r.tables, PER_CONTRACT, &c4.name, "beeindigd_zonder_werk"),
        0
    );
    for column in [
        "plaatsingspercentage",
        "gemiddelde_duur_dagen",
        "kosten_per_uitstroom_werk_cents",
    ] {
        assert_eq!(
            cell(&r.tables, PER_CONTRACT, &c4.name, column),
            None,
            "{column} without endings does not apply"
        );
    }

    // A later price change of the contract does not change the costs.
    let version = version_of(&c1.revision);
    let mut products = c1.products.clone();
    for p in &mut products {
        for price in &mut p.prices {
            price.amount_cents *= 2;
        }
    }
    fb.contracts
        .update_contract(v1::UpdateContractRequest {
            contract: Some(v1::Contract {
                name: c1.name.clone(),
                products,
                ..Default::default()
            }),
            update_mask: mask(&["products"]),
            version,
            change: Some(reason("indexering")),
        })
        .await
        .expect("UpdateContract prices");
    let again = report(&app, year_2025()).await;
    assert_close(
        amount(
            &again.tables,
            PER_CONTRACT,
            &c1.name,
            "kosten_beeindigd_cents",
        ),
        755_000.0,
        "costs use the prices copied onto the lines",
    );
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// Duurzaamheid
// ---------------------------------------------------------------------------

async fn duurzaamheid_terugval_window(app: TestApp) {
    use EndReason::*;
    use RegistrationKind::*;
    let mut anna = app.anna();
    let referral = d(2025, 1, 15);
    let cases: Vec<(Vec<Episode>, Vec<Ending>)> = vec![
        // a: new bijstand on day 183 after the work ending: terugval.
        (
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2025, 3, 31))),
                (Bijstand, d(2025, 9, 30), None),
            ],
            vec![(referral, d(2025, 3, 31), WorkRegular)],
        ),
        // b: day 184: duurzaam.
        (
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2025, 3, 31))),
                (Bijstand, d(2025, 10, 1), None),
            ],
            vec![(referral, d(2025, 3, 31), WorkRegular)],
        ),
        // c: IOAW the day after: terugval.
        (
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2025, 5, 31))),
                (Ioaw, d(2025, 6, 1), None),
            ],
            vec![(referral, d(2025, 5, 31), WorkSubsidised)],
        ),
        // d: IOAZ starting on the day of the ending itself: not after it.
        (
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2025, 5, 30))),
                (Ioaz, d(2025, 5, 31), None),
            ],
            vec![(referral, d(2025, 5, 31), WorkRegular)],
        ),
        // e: ANW the day after: no bijstand kind.
        (
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2025, 5, 31))),
                (Anw, d(2025, 6, 1), None),
            ],
            vec![(referral, d(2025, 5, 31), WorkRegular)],
        ),
        // f: IOAW after the first work ending, before the deciding (latest)
        // one; nothing after that: duurzaam.
        (
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2025, 2, 28))),
                (Ioaw, d(2025, 4, 1), Some(d(2025, 8, 31))),
            ],
            vec![
                (referral, d(2025, 2, 28), WorkSubsidised),
                (d(2025, 4, 15), d(2025, 8, 31), WorkRegular),
            ],
        ),
        // g: new bijstand after the period, within 183 days: terugval.
        (
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2025, 11, 30))),
                (Bijstand, d(2026, 2, 1), None),
            ],
            vec![(referral, d(2025, 11, 30), WorkRegular)],
        ),
        // h: uitval, then bijstand again: not in uitstroom_werk.
        (
            vec![
                (Bijstand, d(2024, 1, 1), Some(d(2025, 3, 31))),
                (Bijstand, d(2025, 5, 1), None),
            ],
            vec![(referral, d(2025, 3, 31), NoShow)],
        ),
        // i: work ending while the bijstand just runs on: no new episode.
        (
            vec![(Bijstand, d(2024, 1, 1), None)],
            vec![(referral, d(2025, 3, 31), WorkRegular)],
        ),
    ];
    for (i, (episodes, endings)) in cases.iter().enumerate() {
        let client = registered(&mut anna, i as u32 + 1, episodes).await;
        for (referral, end, why) in endings {
            trajectory(&mut anna, &client, *referral, None, Some((*end, *why))).await;
        }
    }
    let r = report(&app, year_2025()).await;
    assert_eq!(count(&r.tables, T3, "totaal", "uitstroom_werk"), 8);
    assert_eq!(
        count(&r.tables, DUURZAAMHEID, "totaal", "uitstroom_werk"),
        8
    );
    assert_eq!(count(&r.tables, DUURZAAMHEID, "totaal", "terugval"), 3);
    assert_eq!(count(&r.tables, DUURZAAMHEID, "totaal", "duurzaam"), 5);
    assert_close(
        number(&r.tables, DUURZAAMHEID, "totaal", "aandeel_terugval"),
        3.0 / 8.0,
        "aandeel_terugval (share of uitstroom_werk)",
    );
    assert_close(
        number(&r.tables, DUURZAAMHEID, "totaal", "aandeel_duurzaam"),
        5.0 / 8.0,
        "aandeel_duurzaam (share of uitstroom_werk)",
    );
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// The partition invariant on generated data
// ---------------------------------------------------------------------------

/// A small deterministic generator (Knuth's MMIX LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u32) as usize]
    }
}

fn naive(d: Date) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32).expect("valid date")
}

fn from_naive(n: NaiveDate) -> Date {
    date(n.year(), n.month() as i32, n.day() as i32)
}

fn plus_days(d: Date, days: u32) -> Date {
    from_naive(naive(d) + chrono::Duration::days(i64::from(days)))
}

const KINDS: [RegistrationKind; 5] = [
    RegistrationKind::Bijstand,
    RegistrationKind::Ioaw,
    RegistrationKind::Ioaz,
    RegistrationKind::Anw,
    RegistrationKind::Nugger,
];
const FASES: [Fase; 5] = [
    Fase::Fase1,
    Fase::Fase2,
    Fase::Fase3,
    Fase::Fase4,
    Fase::Ontheffing,
];
const REASONS: [EndReason; 9] = [
    EndReason::WorkRegular,
    EndReason::WorkSubsidised,
    EndReason::Medical,
    EndReason::Moved,
    EndReason::NoShow,
    EndReason::Refusal,
    EndReason::CompletedWithoutWork,
    EndReason::BenefitEnded,
    EndReason::Other,
];
const CODES: [&str; 3] = ["JONGEREN", "STATUSHOUDERS", "ARBEIDSBEPERKT"];

/// What `generate` recorded for one client (valid time), for the oracle.
struct Generated {
    episodes: Vec<Episode>,
    fases: Vec<(NaiveDate, Fase)>,
    /// (referral, start, end and reason)
    trajectories: Vec<GeneratedTrajectory>,
}

fn is_bijstand_kind(kind: RegistrationKind) -> bool {
    matches!(
        kind,
        RegistrationKind::Bijstand | RegistrationKind::Ioaw | RegistrationKind::Ioaz
    )
}

impl Generated {
    fn active(&self, day: NaiveDate, bijstand_only: bool) -> bool {
        self.episodes.iter().any(|(kind, start, end)| {
            (!bijstand_only || is_bijstand_kind(*kind))
                && naive(*start) <= day
                && end.is_none_or(|e| day <= naive(e))
        })
    }

    fn fase_on(&self, day: NaiveDate) -> &'static str {
        match self
            .fases
            .iter()
            .filter(|(from, _)| *from <= day)
            .max_by_key(|(from, _)| *from)
        {
            None => "NIET_INGEDEELD",
            Some((_, Fase::Fase1)) => "FASE_1",
            Some((_, Fase::Fase2)) => "FASE_2",
            Some((_, Fase::Fase3)) => "FASE_3",
            Some((_, Fase::Fase4)) => "FASE_4",
            Some((_, Fase::Ontheffing)) => "ONTHEFFING",
            Some((_, other)) => panic!("generated fase {other:?}"),
        }
    }

    /// The evaluation day of each column of tables 3-8 for this client in
    /// [start, end], straight from the specification.
    fn evaluation_days(&self, start: NaiveDate, end: NaiveDate) -> Vec<(&'static str, NaiveDate)> {
        let in_period = |x: NaiveDate| start <= x && x <= end;
        let mut out = Vec::new();
        let latest = |dates: Vec<NaiveDate>| dates.into_iter().max();
        if let Some(day) = latest(
            self.trajectories
                .iter()
                .map(|t| t.0)
                .filter(|x| in_period(*x))
                .collect(),
        ) {
            out.push(("doorverwezen", day));
        }
        if let Some(day) = latest(
            self.trajectories
                .iter()
                .filter_map(|t| t.1)
                .filter(|x| in_period(*x))
                .collect(),
        ) {
            out.push(("ingestroomd", day));
        }
        let endings: Vec<(NaiveDate, EndReason)> = self
            .trajectories
            .iter()
            .filter_map(|t| t.2)
            .filter(|(x, _)| in_period(*x))
            .collect();
        let work = |r: &EndReason| matches!(r, EndReason::WorkRegular | EndReason::WorkSubsidised);
        if let Some(day) = latest(
            endings
                .iter()
                .filter(|(_, r)| work(r))
                .map(|(x, _)| *x)
                .collect(),
        ) {
            let regular = endings
                .iter()
                .any(|(x, r)| *x == day && *r == EndReason::WorkRegular);
            out.push((
                if regular {
                    "uitstroom_werk_regulier"
                } else {
                    "uitstroom_werk_gesubsidieerd"
                },
                day,
            ));
            out.push(("uitstroom_werk", day));
        } else if let Some(day) = latest(endings.iter().map(|(x, _)| *x).collect()) {
            out.push(("uitstroom_zonder_werk", day));
        }
        if self.active(end, false) {
            out.push(("bestand", end));
        }
        out
    }
}

/// Tables 1, 2, 3 and 6 for the generated data, computed in the test from
/// the specification; compared cell by cell with the report.
#[track_caller]
fn assert_oracle(
    generated: &[Generated],
    start: NaiveDate,
    end: NaiveDate,
    tables: &[ReportTable],
    what: &str,
) {
    let day = chrono::Duration::days(1);
    let in_period = |x: NaiveDate| start <= x && x <= end;
    let volume = |x: NaiveDate| generated.iter().filter(|g| g.active(x, true)).count() as i64;
    assert_eq!(
        count(tables, T1, "bijstand", "dag_voor_periode"),
        volume(start - day),
        "{what}: {T1} dag_voor_periode"
    );
    assert_eq!(
        count(tables, T1, "bijstand", "peildatum"),
        volume(end),
        "{what}: {T1} peildatum"
    );
    let instroom = generated
        .iter()
        .filter(|g| {
            g.episodes.iter().any(|(kind, s, _)| {
                is_bijstand_kind(*kind) && in_period(naive(*s)) && !g.active(naive(*s) - day, true)
            })
        })
        .count() as i64;
    let uitstroom = generated
        .iter()
        .filter(|g| {
            g.episodes.iter().any(|(kind, _, e)| {
                is_bijstand_kind(*kind)
                    && e.is_some_and(|e| in_period(naive(e)) && !g.active(naive(e) + day, true))
            })
        })
        .count() as i64;
    assert_eq!(
        count(tables, T2, "bijstand", "instroom"),
        instroom,
        "{what}: instroom"
    );
    assert_eq!(
        count(tables, T2, "bijstand", "uitstroom"),
        uitstroom,
        "{what}: uitstroom"
    );

    let mut t3: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    let mut t6: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for g in generated {
        for (column, x) in g.evaluation_days(start, end) {
            *t3.entry(("totaal", column)).or_default() += 1;
            if g.active(x, true) {
                *t3.entry(("waarvan bijstand", column)).or_default() += 1;
            }
            *t6.entry((g.fase_on(x), column)).or_default() += 1;
        }
    }
    for column in COLUMNS {
        for row in ["totaal", "waarvan bijstand"] {
            assert_eq!(
                count(tables, T3, row, column),
                t3.get(&(row, column)).copied().unwrap_or(0),
                "{what}: {T3} / {row} / {column}"
            );
        }
        for row in FASE_ROWS {
            assert_eq!(
                count(tables, T6, row, column),
                t6.get(&(row, column)).copied().unwrap_or(0),
                "{what}: {T6} / {row} / {column}"
            );
        }
    }
}

/// Creates `clients` clients with random episodes, fases, doelgroepen and
/// trajectories (under `contract` when referral and start lie in 2025)
/// through the API. Deterministic for a seed.
async fn generate(app: &TestApp, seed: u64, clients: u32) -> Vec<Generated> {
    let mut rng = Lcg(seed);
    let mut generated = Vec::new();
    let mut fb = app.beheerder();
    for code in CODES {
        fb.create_doelgroep(code).await;
    }
    let provider = fb
        .create_provider(sample_provider("WerkFit BV", "12345678"))
        .await;
    let contract = fb.create_contract(sample_contract(&provider.name)).await;
    let latest = d(2026, 10, 31);
    let mut anna = app.anna();
    for i in 0..clients {
        let birth = plus_days(d(1960, 1, 1), rng.below(47 * 365));
        let client = client_born(&mut anna, 5_000 + i, birth).await;
        // Episodes: one, sometimes a second one after it (gap 0..150 days)
        // or, of another kind, overlapping it.
        let first_start = plus_days(d(2022, 1, 1), rng.below(4 * 365));
        let first_end = rng
            .chance(50)
            .then(|| plus_days(first_start, rng.below(700)));
        let first_kind = rng.pick(&KINDS);
        let mut episodes = vec![(first_kind, first_start, first_end)];
        if rng.chance(50) {
            let (kind, start) = match first_end {
                Some(end) => (rng.pick(&KINDS), plus_days(end, 1 + rng.below(150))),
                None => {
                    let others: Vec<RegistrationKind> =
                        KINDS.iter().copied().filter(|k| *k != first_kind).collect();
                    (rng.pick(&others), plus_days(first_start, rng.below(500)))
                }
            };
            let end = rng.chance(50).then(|| plus_days(start, rng.below(500)));
            episodes.push((kind, start, end));
        }
        for (kind, start, end) in &episodes {
            register(&mut anna, &client, *kind, *start, *end).await;
        }
        let mut g = Generated {
            episodes: episodes.clone(),
            fases: Vec::new(),
            trajectories: Vec::new(),
        };
        // Fases: 0-2, on distinct dates.
        for k in 0..rng.below(3) {
            let from = plus_days(d(2023, 1, 1), k * 400 + rng.below(300));
            let fase = rng.pick(&FASES);
            anna.classify_fase(&client.name, fase, from).await;
            g.fases.push((naive(from), fase));
        }
        // Doelgroepen: 0-2 assignments of random subsets.
        for k in 0..rng.below(3) {
            let from = plus_days(d(2023, 6, 1), k * 300 + rng.below(250));
            let bits = rng.below(8);
            let codes: Vec<&str> = CODES
                .iter()
                .enumerate()
                .filter(|(b, _)| bits & (1 << b) != 0)
                .map(|(_, c)| *c)
                .collect();
            anna.assign_doelgroepen(&client.name, &codes, from).await;
        }
        // Trajectories: 1-3, referred while an episode is active, mostly
        // between 2024-09-01 and 2026-03-31.
        for _ in 0..1 + rng.below(3) {
            let (_, start, end) = episodes[rng.below(episodes.len() as u32) as usize];
            let start = naive(start);
            let until = end.map_or(naive(d(2026, 6, 30)), |e| {
                naive(e).min(naive(d(2026, 6, 30)))
            });
            let (mut lo, mut hi) = (
                start.max(naive(d(2024, 9, 1))),
                until.min(naive(d(2026, 3, 31))),
            );
            if lo > hi {
                (lo, hi) = (start, until);
            }
            let span = (hi - lo).num_days();
            if span < 0 {
                continue;
            }
            let referral = plus_days(from_naive(lo), rng.below(span as u32 + 1));
            let started = rng.chance(70).then(|| plus_days(referral, rng.below(60)));
            let in_2025 = |x: Date| x.year == 2025;
            let under_contract = in_2025(referral) && started.is_none_or(in_2025) && rng.chance(50);
            let ending = match started {
                Some(s) if rng.chance(60) => Some((
                    plus_days(s, rng.below(300)),
                    if rng.chance(40) {
                        rng.pick(&REASONS[..2])
                    } else {
                        rng.pick(&REASONS[2..])
                    },
                )),
                None if rng.chance(25) => {
                    Some((plus_days(referral, rng.below(60)), rng.pick(&REASONS[2..])))
                }
                _ => None,
            }
            .filter(|(end, _)| naive(*end) <= naive(latest));
            let (contract_name, lines) = if under_contract {
                (
                    contract.name.as_str(),
                    vec![
                        line("BEMIDDELING", 1),
                        line("COACHING", 1 + rng.below(20) as i32),
                    ],
                )
            } else {
                (
                    "",
                    vec![priced_line(
                        "TRAINING",
                        1 + rng.below(3) as i32,
                        10_000 * i64::from(1 + rng.below(9)),
                    )],
                )
            };
            g.trajectories.push((
                naive(referral),
                started.map(naive),
                ending.map(|(e, r)| (naive(e), r)),
            ));
            trajectory_with(
                &mut anna,
                &client,
                contract_name,
                referral,
                lines,
                started,
                ending,
            )
            .await;
        }
        generated.push(g);
    }
    generated
}

/// Tables 6, 7 and 8 each partition every column of table 3's `totaal`;
/// `uitstroom_werk` is regulier + gesubsidieerd in every row of tables 3-8;
/// `waarvan bijstand` and each doelgroep never exceed `totaal`.
#[track_caller]
fn assert_partitions(tables: &[ReportTable], what: &str) {
    for column in COLUMNS {
        let totaal = count(tables, T3, "totaal", column);
        for name in [T6, T7, T8] {
            let sum: i64 = column_of(tables, name, column).values().sum();
            assert_eq!(
                sum,
                totaal,
                "{what}: {name} column {column} sums to {sum}, table 3 totaal is {totaal}: {:?}",
                column_of(tables, name, column)
            );
        }
        assert!(
            count(tables, T3, "waarvan bijstand", column) <= totaal,
            "{what}: {column}"
        );
        for (label, n) in column_of(tables, T4, column) {
            assert!(
                n <= totaal,
                "{what}: {T4} {label} {column} = {n} > {totaal}"
            );
        }
    }
    for name in [T3, T4, T5, T6, T7, T8] {
        for row in &table(tables, name).rows {
            let get = |c: &str| count(tables, name, &row.label, c);
            assert_eq!(
                get("uitstroom_werk"),
                get("uitstroom_werk_regulier") + get("uitstroom_werk_gesubsidieerd"),
                "{what}: {name} / {}: uitstroom_werk is the disjoint union",
                row.label
            );
        }
    }
}

async fn partition_invariant_on_generated_data(app: TestApp) {
    let generated = generate(&app, 20_251_231, 40).await;
    let requests = [
        ("2025", year_2025()),
        (
            "2025 with custom edges",
            GetInflowOutflowReportRequest {
                age_edges_months: vec![200, 300, 400, 500, 600, 700],
                duration_edges_months: vec![3, 6, 24, 48],
                ..year_2025()
            },
        ),
        ("Q2 2025", period(d(2025, 4, 1), d(2025, 6, 30))),
        ("2024-07 .. 2026-06", period(d(2024, 7, 1), d(2026, 6, 30))),
        ("one day", period(d(2025, 6, 1), d(2025, 6, 1))),
    ];
    for (what, request) in requests {
        let (start, end) = (
            naive(request.period_start.unwrap()),
            naive(request.period_end.unwrap()),
        );
        let r = report(&app, request).await;
        assert_partitions(&r.tables, what);
        assert_oracle(&generated, start, end, &r.tables, what);
        if what == "2025" {
            // The generated data must exercise every column.
            for column in COLUMNS {
                assert!(
                    count(&r.tables, T3, "totaal", column) > 0,
                    "generated data leaves {column} empty"
                );
            }
        }
    }
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// as_of
// ---------------------------------------------------------------------------

async fn as_of_answers_the_same_numbers_forever(app: TestApp) {
    let mut anna = app.anna();
    let c1 = bijstand(&mut anna, 1).await;
    let t = trajectory(
        &mut anna,
        &c1,
        d(2025, 2, 1),
        Some(d(2025, 2, 1)),
        Some((d(2025, 6, 30), EndReason::WorkRegular)),
    )
    .await;
    let c2 = bijstand(&mut anna, 2).await;
    let fase_1 = anna
        .classifications
        .create_classification(v1::CreateClassificationRequest {
            parent: c2.name.clone(),
            classification: Some(v1::Classification {
                value: Some(v1::classification::Value::Fase(Fase::Fase1 as i32)),
                valid_from: Some(d(2024, 1, 1)),
                ..Default::default()
            }),
            change: None,
        })
        .await
        .expect("CreateClassification")
        .into_inner();
    let c3 = client_born(&mut anna, 3, d(1990, 5, 17)).await;
    let r3 = register(
        &mut anna,
        &c3,
        RegistrationKind::Bijstand,
        d(2024, 1, 1),
        None,
    )
    .await;
    tick().await;

    let before = report(&app, year_2025()).await;
    let at = before.as_of.expect("as_of in the response");
    assert_eq!(count(&before.tables, T3, "totaal", "uitstroom_werk"), 1);
    assert_eq!(count(&before.tables, T3, "totaal", "bestand"), 3);
    assert_column(
        &before.tables,
        T6,
        "bestand",
        &[("FASE_1", 1), ("NIET_INGEDEELD", 2)],
    );
    assert_column(&before.tables, T8, "bestand", &[("30-57.5", 3)]);
    assert_eq!(count(&before.tables, T1, "bijstand", "dag_voor_periode"), 3);
    assert_eq!(count(&before.tables, T1, "bijstand", "peildatum"), 3);
    assert_eq!(count(&before.tables, T2, "bijstand", "instroom"), 0);
    assert_eq!(count(&before.tables, T2, "bijstand", "uitstroom"), 0);
    assert_eq!(
        count(&before.tables, DUURZAAMHEID, "totaal", "uitstroom_werk"),
        1
    );
    tick().await;

    // Corrections: the end moves after the period, a new fase, the fase
    // before it corrected (a new version of the classification), a birth
    // date corrected, the registration ends, a new client.
    anna.trajectories
        .update_trajectory(v1::UpdateTrajectoryRequest {
            trajectory: Some(Trajectory {
                name: t.name.clone(),
                end_date: Some(d(2026, 1, 15)),
                end_reason: EndReason::WorkRegular as i32,
                job: Some(sample_job()),
                ..Default::default()
            }),
            update_mask: mask(&["end_date", "end_reason", "job"]),
            version: version_of(&t.revision),
            change: Some(reason("einddatum gecorrigeerd")),
        })
        .await
        .expect("UpdateTrajectory end_date");
    anna.classify_fase(&c2.name, Fase::Fase4, d(2025, 1, 1))
        .await;
    anna.classifications
        .update_classification(v1::UpdateClassificationRequest {
            classification: Some(v1::Classification {
                name: fase_1.name.clone(),
                value: Some(v1::classification::Value::Fase(Fase::Fase2 as i32)),
                ..Default::default()
            }),
            update_mask: mask(&["value"]),
            version: version_of(&fase_1.revision),
            change: Some(reason("fase gecorrigeerd")),
        })
        .await
        .expect("UpdateClassification value");
    anna.clients
        .update_client(v1::UpdateClientRequest {
            client: Some(Client {
                name: c2.name.clone(),
                birth_date: Some(d(2005, 3, 1)),
                ..Default::default()
            }),
            update_mask: mask(&["birth_date"]),
            version: version_of(&c2.revision),
            change: Some(reason("geboortedatum gecorrigeerd")),
        })
        .await
        .expect("UpdateClient birth_date");
    anna.registrations
        .update_registration(v1::UpdateRegistrationRequest {
            registration: Some(v1::Registration {
                name: r3.name.clone(),
                end_date: Some(d(2025, 10, 31)),
                ..Default::default()
            }),
            update_mask: mask(&["end_date"]),
            version: version_of(&r3.revision),
            change: Some(reason("uitkering beëindigd")),
        })
        .await
        .expect("UpdateRegistration end_date");
    registered(
        &mut anna,
        4,
        &[(RegistrationKind::Bijstand, d(2025, 3, 1), None)],
    )
    .await;

    // The same request with the same as_of: the same tables.
    let again = report(
        &app,
        GetInflowOutflowReportRequest {
            as_of: Some(at),
            ..year_2025()
        },
    )
    .await;
    assert_eq!(again.as_of, Some(at), "the as_of asked for is the one used");
    assert_eq!(again.tables, before.tables, "same as_of, same numbers");

    // Now: the corrections count.
    let now = report(&app, year_2025()).await;
    assert!(micros(now.as_of.as_ref().unwrap()) > micros(&at));
    assert_eq!(count(&now.tables, T3, "totaal", "uitstroom_werk"), 0);
    assert_eq!(
        count(&now.tables, DUURZAAMHEID, "totaal", "uitstroom_werk"),
        0
    );
    assert_eq!(count(&now.tables, T3, "totaal", "bestand"), 3);
    assert_column(
        &now.tables,
        T6,
        "bestand",
        &[("FASE_4", 1), ("NIET_INGEDEELD", 2)],
    );
    assert_column(&now.tables, T8, "bestand", &[("<23", 1), ("30-57.5", 2)]);
    assert_eq!(count(&now.tables, T1, "bijstand", "dag_voor_periode"), 3);
    assert_eq!(count(&now.tables, T1, "bijstand", "peildatum"), 3);
    assert_eq!(count(&now.tables, T2, "bijstand", "instroom"), 1);
    assert_eq!(count(&now.tables, T2, "bijstand", "uitstroom"), 1);
    assert_eq!(
        count(
            &now.tables,
            PER_CONTRACT,
            "eigen beheer",
            "lopend_op_peildatum"
        ),
        1
    );
    assert_eq!(
        count(
            &before.tables,
            PER_CONTRACT,
            "eigen beheer",
            "lopend_op_peildatum"
        ),
        0
    );

    // And once more with the old as_of, after all that.
    let once_more = report(
        &app,
        GetInflowOutflowReportRequest {
            as_of: Some(at),
            ..year_2025()
        },
    )
    .await;
    assert_eq!(once_more.tables, before.tables);

    // Before anything was recorded: nothing counts.
    let empty = report(
        &app,
        GetInflowOutflowReportRequest {
            as_of: Some(prost_types::Timestamp {
                seconds: 1_577_836_800, // 2020-01-01T00:00:00Z
                nanos: 0,
            }),
            ..year_2025()
        },
    )
    .await;
    assert_eq!(count(&empty.tables, T1, "bijstand", "peildatum"), 0);
    assert_eq!(count(&empty.tables, T3, "totaal", "bestand"), 0);
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// Bad input and roles
// ---------------------------------------------------------------------------

async fn bad_input_is_rejected(app: TestApp) {
    let mut dm = reports(&app, DM_0363);
    let cases: Vec<(&str, GetInflowOutflowReportRequest, &str)> = vec![
        (
            "no period_start",
            GetInflowOutflowReportRequest {
                period_start: None,
                ..year_2025()
            },
            "period_start",
        ),
        (
            "no period_end",
            GetInflowOutflowReportRequest {
                period_end: None,
                ..year_2025()
            },
            "period_end",
        ),
        (
            "end before start",
            period(d(2025, 12, 31), d(2025, 1, 1)),
            "period_end",
        ),
        (
            "not a calendar date",
            period(d(2025, 2, 30), d(2025, 12, 31)),
            "period_start",
        ),
        (
            "a period of more than five years",
            period(d(2019, 1, 1), d(2025, 12, 31)),
            "period_end",
        ),
        (
            "descending age edges",
            GetInflowOutflowReportRequest {
                age_edges_months: vec![360, 276],
                ..year_2025()
            },
            "age_edges_months",
        ),
        (
            "repeated age edge",
            GetInflowOutflowReportRequest {
                age_edges_months: vec![276, 276, 690],
                ..year_2025()
            },
            "age_edges_months",
        ),
        (
            "negative age edge",
            GetInflowOutflowReportRequest {
                age_edges_months: vec![-12, 276],
                ..year_2025()
            },
            "age_edges_months",
        ),
        (
            "descending duration edges",
            GetInflowOutflowReportRequest {
                duration_edges_months: vec![36, 12],
                ..year_2025()
            },
            "duration_edges_months",
        ),
        (
            "as_of in the future",
            GetInflowOutflowReportRequest {
                as_of: Some(future_timestamp()),
                ..year_2025()
            },
            "as_of",
        ),
    ];
    for (what, request, field) in cases {
        let result = dm.get_inflow_outflow_report(request).await;
        assert!(result.is_err(), "{what}: {result:?}");
        assert_invalid(result, field);
    }
    // A period of one day is fine.
    report(&app, period(d(2025, 6, 1), d(2025, 6, 1))).await;
    app.cleanup().await;
}

async fn roles_are_enforced(app: TestApp) {
    // Only the data manager reads the in- and outflow report.
    for token in [CM_ANNA, FB_0363, PROVIDER_0363, AUDITOR_0363] {
        let result = reports(&app, token)
            .get_inflow_outflow_report(year_2025())
            .await;
        assert_code(result, Code::PermissionDenied);
    }
    let result = reports(&app, "no-such-token")
        .get_inflow_outflow_report(year_2025())
        .await;
    assert_code(result, Code::Unauthenticated);

    // The data manager sees counts, never clients.
    let mut anna = app.anna();
    let client = bijstand(&mut anna, 1).await;
    let mut dm = app.clients(DM_0363);
    let result = dm
        .clients
        .get_client(v1::GetClientRequest {
            name: client.name.clone(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    let result = dm
        .clients
        .list_clients(v1::ListClientsRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    let result = dm
        .clients
        .create_client(v1::CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(sample_client(&bsn(2))),
            change: Some(reason("intake")),
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    let result = dm
        .registrations
        .list_registrations(v1::ListRegistrationsRequest {
            parent: client.name.clone(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    let result = dm
        .trajectories
        .list_trajectories(v1::ListTrajectoriesRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);

    // The caseload is for casemanagers only.
    let result = reports(&app, DM_0363)
        .get_caseload_report(v1::GetCaseloadReportRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await;
    assert_code(result, Code::PermissionDenied);
    app.cleanup().await;
}

// ---------------------------------------------------------------------------
// The command line (SQLite only)
// ---------------------------------------------------------------------------

/// Splits one CSV line into fields (RFC 4180 quoting).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn run_report_command(database_url: &str, format: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_clientvolg"))
        .args([
            "report",
            "inflow-outflow",
            "--gemeente",
            "0363",
            "--from",
            "2025-01-01",
            "--to",
            "2025-12-31",
            "--format",
            format,
            "--database-url",
            database_url,
        ])
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .output()
        .expect("run clientvolg report");
    assert!(
        output.status.success(),
        "clientvolg report --format {format} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn command_line_report_matches_the_grpc_report() {
    let app = spawn_app(
        Backend::Sqlite,
        "command_line_report_matches_the_grpc_report",
    )
    .await
    .expect("SQLite is always available");
    generate(&app, 777, 25).await;
    let grpc = report(&app, year_2025()).await;
    let url = app.database_url.clone();

    let csv = tokio::task::spawn_blocking({
        let url = url.clone();
        move || run_report_command(&url, "csv")
    })
    .await
    .unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("table,row,column,value"), "CSV header");
    let mut cells: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for line in lines {
        let fields = csv_fields(line);
        assert_eq!(fields.len(), 4, "four fields per line: {line:?}");
        let key = (fields[0].clone(), fields[1].clone(), fields[2].clone());
        assert!(
            cells.insert(key.clone(), fields[3].clone()).is_none(),
            "cell {key:?} twice"
        );
    }
    let mut expected = 0;
    for t in &grpc.tables {
        for row in &t.rows {
            for (column, value) in t.columns.iter().zip(&row.values) {
                expected += 1;
                let key = (t.name.clone(), row.label.clone(), column.clone());
                let got = cells
                    .get(&key)
                    .unwrap_or_else(|| panic!("CSV lacks {key:?}"));
                match value.value {
                    Some(Cell::Count(n)) => assert_eq!(got, &n.to_string(), "{key:?}"),
                    Some(Cell::Number(x)) => {
                        let parsed: f64 = got
                            .parse()
                            .unwrap_or_else(|_| panic!("{key:?}: not a number: {got:?}"));
                        assert!(
                            (parsed - x).abs() <= 1e-4 * x.abs().max(1.0),
                            "{key:?}: CSV {got}, gRPC {x}"
                        );
                    }
                    None => assert_eq!(got, "", "{key:?}: not applicable is empty"),
                }
            }
        }
    }
    assert_eq!(cells.len(), expected, "one CSV line per cell, no more");
    // The data is not trivial.
    assert!(count(&grpc.tables, T3, "totaal", "bestand") > 0);

    let json = tokio::task::spawn_blocking(move || run_report_command(&url, "json"))
        .await
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("--format json parses");
    let text = parsed.to_string();
    for t in &grpc.tables {
        assert!(text.contains(&t.name), "JSON mentions table {}", t.name);
    }
    app.cleanup().await;
}
