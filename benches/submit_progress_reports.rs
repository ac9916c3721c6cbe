//! Benchmark: bulk submission of kwartaalrapportages.
//!
//! Starts the real clientvolg server in-process on 127.0.0.1:0 against a fresh
//! SQLite file (default) or a fresh PostgreSQL database (`--database-url
//! postgres://…` or `BENCH_DATABASE_URL`; the database named in the URL is
//! only used to create and drop `clientvolg_bench_<uuid>`), sets up a provider,
//! a contract and clients with a registration and a trajectory each through
//! the gRPC API, then times only the submission of the reports in batches
//! through the generated client with the provider token, and finally the
//! idempotent replay of the first batch.
//!
//! ```text
//! cargo bench --bench submit_progress_reports
//! cargo bench --bench submit_progress_reports -- --database-url postgres://postgres@127.0.0.1:5432/postgres
//! cargo bench --bench submit_progress_reports -- --reports 20000 --batch-size 500
//! ```
//!
//! On PostgreSQL the server runs as the ordinary role `clientvolg_app` that
//! owns the fresh database, as in production, so row-level security applies.
//!
//! Exits non-zero when any report is rejected or the replay answers
//! differently.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clientvolg::proto::clientvolg::v1::{
    self as pb, client_service_client::ClientServiceClient,
    contract_service_client::ContractServiceClient,
    progress_report_service_client::ProgressReportServiceClient,
    provider_service_client::ProviderServiceClient,
    registration_service_client::RegistrationServiceClient,
    trajectory_service_client::TrajectoryServiceClient,
};
use clientvolg::proto::google::r#type::Date;
use sea_orm::{ConnectOptions, ConnectionTrait, Database};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::transport::Channel;
use tonic::{Request, Status};

const GEMEENTE: &str = "gemeenten/0363";
const CASEMANAGER: &str = "bench-cm-0363";
const BEHEERDER: &str = "bench-fb-0363";
const PROVIDER: &str = "bench-prov-0363";
const PROVIDER_KVK: &str = "12345678";
/// Reports per trajectory: the four quarters of 2024.
const QUARTERS: [&str; 4] = ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"];

const TOKENS_TOML: &str = r#"
[[token]]
token = "bench-cm-0363"
subject = "bench-cm"
role = "casemanager"
gemeente = "0363"

[[token]]
token = "bench-fb-0363"
subject = "bench-fb"
role = "functioneel_beheerder"
gemeente = "0363"

[[token]]
token = "bench-prov-0363"
subject = "bench-prov"
role = "provider"
gemeente = "0363"
provider = "12345678"
"#;

struct Args {
    reports: usize,
    batch_size: usize,
    setup_concurrency: usize,
    database_url: Option<String>,
}

fn usage() -> &'static str {
    "usage: submit_progress_reports [--reports N (10000)] [--batch-size B (1000)] \
     [--setup-concurrency C (8)] [--database-url postgres://USER@HOST:PORT/DB]\n\
     (BENCH_DATABASE_URL is used when --database-url is not given; default: a fresh SQLite file)"
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        reports: 10_000,
        batch_size: 1_000,
        setup_concurrency: 8,
        database_url: std::env::var("BENCH_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value\n{}", usage()))
        };
        let number = |name: &str, raw: String| {
            raw.replace('_', "")
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name}: not a positive number: {raw}"))
        };
        match flag.as_str() {
            // `cargo bench` passes --bench to harness = false targets.
            "--bench" => {}
            "--reports" => args.reports = number("--reports", value("--reports")?)?,
            "--batch-size" => args.batch_size = number("--batch-size", value("--batch-size")?)?,
            "--setup-concurrency" => {
                args.setup_concurrency =
                    number("--setup-concurrency", value("--setup-concurrency")?)?
            }
            "--database-url" => args.database_url = Some(value("--database-url")?),
            "-h" | "--help" => return Err(usage().to_string()),
            other => return Err(format!("unknown argument {other}\n{}", usage())),
        }
    }
    if args.batch_size > 10_000 {
        return Err("--batch-size: the server takes at most 10,000 reports per call".into());
    }
    Ok(args)
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

#[derive(Clone)]
struct Bearer(MetadataValue<Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        // Reads of personal data state their purpose (doelbinding).
        req.metadata_mut().insert(
            clientvolg::audit::PURPOSE_METADATA,
            MetadataValue::from_static("urn:clientvolg:benchmark"),
        );
        Ok(req)
    }
}

fn bearer(token: &str) -> Bearer {
    Bearer(format!("Bearer {token}").parse().expect("ascii token"))
}

fn date(year: i32, month: i32, day: i32) -> Date {
    Date { year, month, day }
}

/// A valid BSN (elfproef) for `seed`, distinct for distinct seeds below
/// 10,000,000.
fn bsn(seed: u32) -> String {
    let mut n = 10_000_000u32 + seed * 7;
    loop {
        let base = format!("{:08}", n % 100_000_000);
        if base.starts_with('0') {
            n += 1;
            continue;
        }
        let s: u32 = base
            .bytes()
            .enumerate()
            .map(|(i, b)| (9 - i as u32) * u32::from(b - b'0'))
            .sum();
        if s % 11 < 10 {
            return format!("{base}{}", s % 11);
        }
        n += 1;
    }
}

fn reason(text: &str) -> Option<pb::ChangeContext> {
    Some(pb::ChangeContext {
        reason: text.into(),
        source: 0,
    })
}

/// Referral of trajectory `i`: spread over the first weeks of 2024.
fn referral(i: usize) -> Date {
    let day = (i % 59) as i32; // 2024-01-02 .. 2024-02-29
    if day < 30 {
        date(2024, 1, 2 + day)
    } else {
        date(2024, 2, day - 29)
    }
}

/// The report for trajectory `i` in quarter `q` (0..4): the first carries
/// the start (applied to the trajectory), the third a phase advice.
fn report(trajectory: &str, i: usize, q: usize) -> pb::ProgressReport {
    pb::ProgressReport {
        trajectory: trajectory.into(),
        quarter: QUARTERS[q].into(),
        idempotency_key: format!("bench-{i}-{}", QUARTERS[q]),
        status: pb::ProgressStatus::OnTrack as i32,
        appointments_planned: 6,
        appointments_kept: 5,
        activities: vec!["sollicitatietraining".into(), "werkervaringsplaats".into()],
        instruments: vec!["BEMIDDELING".into()],
        next_steps: "Vacatures bespreken en een proefplaatsing regelen.".into(),
        // In March: after every referral (January and February), in Q1.
        start_date: (q == 0).then(|| date(2024, 3, 1 + (i % 28) as i32)),
        phase_advice: (q == 2).then(|| pb::PhaseAdvice {
            proposed_fase: pb::Fase::Fase2 as i32,
            motivation: "Werkt zelfstandig; klaar voor bemiddeling.".into(),
        }),
        remarks: "Komt afspraken na.".into(),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------
// Database
// ---------------------------------------------------------------------------

/// The ordinary role the server runs as (docs/security.md): the same name
/// as in the tests.
const APP_ROLE: &str = "clientvolg_app";

/// The URL with its user (and password) replaced by `APP_ROLE`.
fn as_app_role(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let host = rest.find('@').map_or(rest, |at| &rest[at + 1..]);
    format!("{}{APP_ROLE}:{APP_ROLE}@{host}", &url[..scheme_end])
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => format!("{}/{}", &base[..scheme_end + i], db),
        None => format!("{base}/{db}"),
    };
    match query {
        Some(q) => format!("{base}?{q}"),
        None => base,
    }
}

fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let Some(at) = rest.find('@') else {
        return url.to_string();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end], &rest[at..]),
        None => url.to_string(),
    }
}

async fn admin_execute(admin_url: &str, sql: &str) -> Result<(), String> {
    let mut opts = ConnectOptions::new(admin_url.to_string());
    opts.max_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    let admin = Database::connect(opts)
        .await
        .map_err(|e| format!("connect to {}: {e}", redact(admin_url)))?;
    let result = admin
        .execute_unprepared(sql)
        .await
        .map(|_| ())
        .map_err(|e| format!("{sql}: {e}"));
    let _ = admin.close().await;
    result
}

// ---------------------------------------------------------------------------

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (database_url, pg) = match &args.database_url {
        Some(admin_url) if admin_url.starts_with("postgres") => {
            let db = format!("clientvolg_bench_{}", uuid::Uuid::new_v4().simple());
            let create_role = format!(
                "DO $$ BEGIN \
                   CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_ROLE}' NOSUPERUSER NOBYPASSRLS; \
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            );
            let create_db = format!("CREATE DATABASE \"{db}\" OWNER {APP_ROLE}");
            for sql in [create_role, create_db] {
                if let Err(e) = admin_execute(admin_url, &sql).await {
                    eprintln!("cannot create the benchmark database: {e}");
                    return ExitCode::FAILURE;
                }
            }
            (
                as_app_role(&with_database(admin_url, &db)),
                Some((admin_url.clone(), db)),
            )
        }
        Some(other) => {
            eprintln!("--database-url must be postgres://…; leave it out for SQLite: {other}");
            return ExitCode::from(2);
        }
        None => {
            let path = dir.path().join("bench.db");
            (format!("sqlite://{}?mode=rwc", path.display()), None)
        }
    };
    let outcome = run(&args, &database_url, dir.path()).await;
    if let Some((admin_url, db)) = pg
        && let Err(e) = admin_execute(
            &admin_url,
            &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
        )
        .await
    {
        eprintln!("warning: could not drop {db}: {e}");
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args, database_url: &str, dir: &Path) -> Result<(), String> {
    let tokens_file = dir.join("tokens.toml");
    std::fs::write(&tokens_file, TOKENS_TOML).map_err(|e| format!("tokens file: {e}"))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let config = clientvolg::app::Config {
        database_url: database_url.to_string(),
        tokens_file: Some(tokens_file),
        ..Default::default()
    };
    let application = clientvolg::app::Application::build(config, listener)
        .await
        .map_err(|e| format!("Application::build: {e:?}"))?;
    let addr = application.local_addr();
    let server = tokio::spawn(async move {
        let _ = application.run_until_stopped().await;
    });
    let result = bench(args, addr, database_url).await;
    server.abort();
    let _ = server.await;
    result
}

async fn bench(args: &Args, addr: std::net::SocketAddr, database_url: &str) -> Result<(), String> {
    let backend = if database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let trajectories_needed = args.reports.div_ceil(QUARTERS.len());
    println!(
        "submit_progress_reports: {} reports in batches of {} on {backend}; {} trajectories, {} quarters each",
        args.reports,
        args.batch_size,
        trajectories_needed,
        QUARTERS.len()
    );

    // --- Set-up (not timed as part of the benchmark) ----------------------
    let setup_started = Instant::now();
    let fb = bearer(BEHEERDER);
    let provider = ProviderServiceClient::with_interceptor(channel.clone(), fb.clone())
        .create_provider(pb::CreateProviderRequest {
            parent: GEMEENTE.into(),
            provider: Some(pb::Provider {
                display_name: "WerkFit BV".into(),
                kvk_number: PROVIDER_KVK.into(),
                kind: pb::ProviderKind::Commercial as i32,
                size: pb::ProviderSize::Medium as i32,
                ..Default::default()
            }),
            change: reason("aanbesteding gegund"),
        })
        .await
        .map_err(|e| format!("CreateProvider: {e}"))?
        .into_inner();
    let contract = ContractServiceClient::with_interceptor(channel.clone(), fb)
        .create_contract(pb::CreateContractRequest {
            parent: GEMEENTE.into(),
            contract: Some(pb::Contract {
                provider: provider.name.clone(),
                display_name: "Bemiddeling 2024-2025".into(),
                start_date: Some(date(2024, 1, 1)),
                end_date: Some(date(2025, 12, 31)),
                products: vec![pb::Product {
                    code: "BEMIDDELING".into(),
                    kind: pb::ProductKind::Bemiddeling as i32,
                    description: "Bemiddeling naar werk".into(),
                    unit: pb::PriceUnit::PerTrajectory as i32,
                    prices: vec![pb::Price {
                        valid_from: Some(date(2024, 1, 1)),
                        amount_cents: 250_000,
                    }],
                }],
                payment_model: pb::PaymentModel::NoCureLessPay as i32,
                input_share_percent: Some(60),
                payment_terms: "60% bij start, 40% bij plaatsing.".into(),
                volume: Some(pb::Volume {
                    kind: pb::VolumeKind::Raamcontract as i32,
                    minimum: None,
                    maximum: None,
                }),
                report_due_days: 30,
                ..Default::default()
            }),
            change: reason("contract getekend"),
        })
        .await
        .map_err(|e| format!("CreateContract: {e}"))?
        .into_inner();

    let workers = args.setup_concurrency.min(trajectories_needed).max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let channel = channel.clone();
        let contract = contract.name.clone();
        tasks.spawn(async move {
            let cm = bearer(CASEMANAGER);
            let mut clients = ClientServiceClient::with_interceptor(channel.clone(), cm.clone());
            let mut registrations =
                RegistrationServiceClient::with_interceptor(channel.clone(), cm.clone());
            let mut trajectories = TrajectoryServiceClient::with_interceptor(channel, cm);
            let mut made = Vec::new();
            for i in (w..trajectories_needed).step_by(workers) {
                let client = clients
                    .create_client(pb::CreateClientRequest {
                        parent: GEMEENTE.into(),
                        client: Some(pb::Client {
                            bsn: bsn(i as u32),
                            given_name: "Anna".into(),
                            surname: format!("Jansen-{i}"),
                            birth_date: Some(date(1985, 1 + (i % 12) as i32, 1 + (i % 28) as i32)),
                            casemanager: "bench-cm".into(),
                            ..Default::default()
                        }),
                        change: reason("intake"),
                    })
                    .await
                    .map_err(|e| format!("CreateClient {i}: {e}"))?
                    .into_inner();
                registrations
                    .create_registration(pb::CreateRegistrationRequest {
                        parent: client.name.clone(),
                        registration: Some(pb::Registration {
                            kind: pb::RegistrationKind::Bijstand as i32,
                            start_date: Some(date(2023, 1, 1)),
                            ..Default::default()
                        }),
                        change: reason("toekenning"),
                    })
                    .await
                    .map_err(|e| format!("CreateRegistration {i}: {e}"))?;
                let trajectory = trajectories
                    .create_trajectory(pb::CreateTrajectoryRequest {
                        parent: GEMEENTE.into(),
                        trajectory: Some(pb::Trajectory {
                            client: client.name,
                            contract: contract.clone(),
                            kind: pb::TrajectoryKind::Bemiddeling as i32,
                            casemanager: "bench-cm".into(),
                            referral_date: Some(referral(i)),
                            lines: vec![pb::TrajectoryLine {
                                product_code: "BEMIDDELING".into(),
                                quantity: 1,
                                ..Default::default()
                            }],
                            ..Default::default()
                        }),
                        change: reason("doorverwijzing"),
                    })
                    .await
                    .map_err(|e| format!("CreateTrajectory {i}: {e}"))?
                    .into_inner();
                made.push((i, trajectory.name));
            }
            Ok::<_, String>(made)
        });
    }
    let mut trajectory_names = vec![String::new(); trajectories_needed];
    while let Some(joined) = tasks.join_next().await {
        for (i, name) in joined.map_err(|e| format!("setup task: {e}"))?? {
            trajectory_names[i] = name;
        }
    }
    println!(
        "setup: provider, contract and {trajectories_needed} clients with a registration and a trajectory in {:.1} s ({workers} concurrent callers)",
        setup_started.elapsed().as_secs_f64()
    );

    // --- The reports, in batches ------------------------------------------
    let reports: Vec<pb::ProgressReport> = (0..args.reports)
        .map(|k| {
            let (i, q) = (k / QUARTERS.len(), k % QUARTERS.len());
            report(&trajectory_names[i], i, q)
        })
        .collect();
    let batches: Vec<Vec<pb::ProgressReport>> = reports
        .chunks(args.batch_size)
        .map(<[pb::ProgressReport]>::to_vec)
        .collect();
    let mut submitter =
        ProgressReportServiceClient::with_interceptor(channel.clone(), bearer(PROVIDER))
            .max_decoding_message_size(64 * 1024 * 1024)
            .max_encoding_message_size(64 * 1024 * 1024);

    let started = Instant::now();
    let mut answers = Vec::with_capacity(batches.len());
    for batch in &batches {
        let answer = submitter
            .submit_progress_reports(pb::SubmitProgressReportsRequest {
                parent: GEMEENTE.into(),
                reports: batch.clone(),
            })
            .await
            .map_err(|e| format!("SubmitProgressReports: {e}"))?
            .into_inner();
        answers.push(answer);
    }
    let elapsed = started.elapsed().as_secs_f64();

    let accepted: usize = answers.iter().map(|a| a.accepted_count as usize).sum();
    let rejected: usize = answers.iter().map(|a| a.rejected_count as usize).sum();
    println!(
        "submit: {} reports in {} calls: {elapsed:.2} s, {:.0} reports/s (accepted {accepted}, rejected {rejected})",
        args.reports,
        batches.len(),
        args.reports as f64 / elapsed
    );
    if let Some(r) = answers
        .iter()
        .flat_map(|a| &a.results)
        .find(|r| r.rejection.is_some())
    {
        return Err(format!(
            "{rejected} of {} reports were rejected, e.g. {}: {:?}",
            args.reports, r.idempotency_key, r.rejection
        ));
    }
    let results: usize = answers.iter().map(|a| a.results.len()).sum();
    if accepted != args.reports || results != args.reports {
        return Err(format!(
            "accepted {accepted} and {results} results for {} reports",
            args.reports
        ));
    }
    // Spot check through a casemanager: the first trajectory holds its
    // reports and the reported start.
    let cm = bearer(CASEMANAGER);
    let listed = ProgressReportServiceClient::with_interceptor(channel.clone(), cm.clone())
        .list_progress_reports(pb::ListProgressReportsRequest {
            parent: trajectory_names[0].clone(),
            page_size: 10,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("ListProgressReports: {e}"))?
        .into_inner();
    let expected_first = args.reports.min(QUARTERS.len());
    if listed.reports.len() != expected_first {
        return Err(format!(
            "the first trajectory lists {} reports, expected {expected_first}",
            listed.reports.len()
        ));
    }
    let first = TrajectoryServiceClient::with_interceptor(channel.clone(), cm)
        .get_trajectory(pb::GetTrajectoryRequest {
            name: trajectory_names[0].clone(),
            as_of: None,
        })
        .await
        .map_err(|e| format!("GetTrajectory: {e}"))?
        .into_inner();
    if first.status != pb::TrajectoryStatus::Lopend as i32 {
        return Err(format!(
            "the reported start was not applied: status {}",
            first.status
        ));
    }

    // --- Idempotent replay of the first batch ------------------------------
    let started = Instant::now();
    let replay = submitter
        .submit_progress_reports(pb::SubmitProgressReportsRequest {
            parent: GEMEENTE.into(),
            reports: batches[0].clone(),
        })
        .await
        .map_err(|e| format!("SubmitProgressReports (replay): {e}"))?
        .into_inner();
    let replay_elapsed = started.elapsed().as_secs_f64();
    println!(
        "replay: first batch of {} reports again in {replay_elapsed:.2} s, {:.0} reports/s",
        batches[0].len(),
        batches[0].len() as f64 / replay_elapsed
    );
    if replay != answers[0] {
        return Err("the replayed batch answered differently from the first time".into());
    }
    println!(
        "ok: all {} reports accepted; the replay answered identically",
        args.reports
    );
    Ok(())
}
