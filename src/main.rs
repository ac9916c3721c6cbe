//! The `clientvolg` command: serve the gRPC API, or apply migrations.

use clap::{Parser, Subcommand};
use clientvolg::app::{Application, Config};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

const DEFAULT_DATABASE_URL: &str = "sqlite://data/clientvolg.db?mode=rwc";

#[derive(Parser)]
#[command(
    name = "clientvolg",
    version,
    about = "Cliëntvolgsysteem for work and income"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Database {
    /// sqlite://PATH?mode=rwc or postgres://USER@HOST/DB
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations and serve the gRPC API.
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, env = "CLIENTVOLG_LISTEN", default_value = "127.0.0.1:50051")]
        listen: SocketAddr,
        #[command(flatten)]
        database: Database,
        /// Development token file (TOML); without it every call is refused.
        #[arg(long, env = "CLIENTVOLG_TOKENS")]
        tokens: Option<PathBuf>,
    },
    /// Apply pending migrations and exit.
    Migrate {
        #[command(flatten)]
        database: Database,
    },
    /// Fill a gemeente with realistic synthetic clients, episodes, fases,
    /// doelgroepen, providers, contracts and trajectories (for trying the
    /// reports and for benchmarks; never on production data).
    DemoData {
        /// CBS code of the gemeente to fill.
        #[arg(long)]
        gemeente: String,
        /// How many clients.
        #[arg(long, default_value_t = 1000)]
        clients: u64,
        /// The same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        database: Database,
    },
    /// Produce a report straight from the database (for data managers with
    /// database access; the gRPC ReportService serves the same report).
    Report {
        #[command(subcommand)]
        report: ReportCommand,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The MOSA-style in- and outflow report (tables 1-8, per provider and
    /// contract, duurzaamheid).
    InflowOutflow {
        /// CBS code of the gemeente, e.g. 0363.
        #[arg(long)]
        gemeente: String,
        /// First day of the period (YYYY-MM-DD).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last day of the period (YYYY-MM-DD), the peildatum.
        #[arg(long)]
        to: chrono::NaiveDate,
        /// Count as known at this moment (RFC 3339, e.g. 2026-01-15T12:00:00Z).
        #[arg(long)]
        as_of: Option<chrono::DateTime<chrono::Utc>>,
        /// Age bucket edges in months, comma separated.
        #[arg(long, value_delimiter = ',', default_values_t = [276u32, 360, 690])]
        age_edges: Vec<u32>,
        /// Registration-duration bucket edges in months, comma separated.
        #[arg(long, value_delimiter = ',', default_values_t = [12u32, 36])]
        duration_edges: Vec<u32>,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        #[command(flatten)]
        database: Database,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Csv,
    Json,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::env::var_os("NO_COLOR").is_none())
        .init();
    match run(Cli::parse().command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::Serve {
            listen,
            database,
            tokens,
        } => {
            let listener = tokio::net::TcpListener::bind(listen).await?;
            let config = Config {
                database_url: database.database_url,
                tokens_file: tokens,
            };
            Application::build(config, listener)
                .await?
                .run_until(shutdown_signal())
                .await?;
        }
        Command::Migrate { database } => {
            clientvolg::store::Store::open(&database.database_url).await?;
            tracing::info!("migrations applied");
        }
        Command::Report { report } => print_report(report).await?,
        Command::DemoData {
            gemeente,
            clients,
            seed,
            database,
        } => {
            let store = clientvolg::store::Store::open(&database.database_url).await?;
            let gemeente = clientvolg::domain::gemeente::GemeenteCode::parse(&gemeente)?;
            let started = std::time::Instant::now();
            let generated = clientvolg::demo::generate(&store, &gemeente, clients, seed).await?;
            tracing::info!(
                clients = generated.clients,
                episodes = generated.episodes,
                trajectories = generated.trajectories,
                corrections = generated.corrections,
                seconds = started.elapsed().as_secs_f64(),
                "demo data generated"
            );
        }
    }
    Ok(())
}

async fn print_report(command: ReportCommand) -> Result<(), Box<dyn std::error::Error>> {
    use clientvolg::domain::{gemeente::GemeenteCode, history::RecordedAt};
    use clientvolg::reports::{Edges, ReportRequest, render};
    let ReportCommand::InflowOutflow {
        gemeente,
        from,
        to,
        as_of,
        age_edges,
        duration_edges,
        format,
        database,
    } = command;
    ReportRequest::check_period(from, to)?;
    let store = clientvolg::store::Store::open(&database.database_url).await?;
    if as_of.is_some_and(|at| at > chrono::Utc::now()) {
        return Err("--as-of lies in the future".into());
    }
    let request = ReportRequest {
        gemeente: GemeenteCode::parse(&gemeente)?,
        period_start: from,
        period_end: to,
        horizon: store.horizon(as_of.map(RecordedAt::from_datetime)).await?,
        age_edges: Edges::new(age_edges)?,
        duration_edges: Edges::new(duration_edges)?,
    };
    let report = store.inflow_outflow_report(&request).await?;
    match format {
        Format::Csv => print!("{}", render::csv(&report.tables)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(())
}

/// Ctrl-C or SIGTERM (docker stop) ends the server gracefully.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
