//! The `clientvolg` command: serve the gRPC API, or apply migrations.

use clap::{Parser, Subcommand};
use clientvolg::app::{Application, Config};
use clientvolg::auth::jwt::{JwtConfig, JwtKeys};
use clientvolg::tls::TlsConfig;
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
    /// Connections one in- and outflow report counts on at the same time
    /// (default: 2 on PostgreSQL, 1 on SQLite); about the database server's
    /// cores.
    #[arg(
        long,
        env = "CLIENTVOLG_REPORT_PARALLELISM",
        value_name = "CONNECTIONS"
    )]
    report_parallelism: Option<std::num::NonZeroUsize>,
}

impl Database {
    async fn open(&self) -> Result<clientvolg::store::Store, clientvolg::store::StoreError> {
        let store = clientvolg::store::Store::open(&self.database_url).await?;
        Ok(match self.report_parallelism {
            Some(connections) => store.with_report_parallelism(connections),
            None => store,
        })
    }
}

/// JWTs from the gemeente's identity provider: the way production callers
/// authenticate.
#[derive(clap::Args)]
struct Jwt {
    /// JWKS file (JSON) with the identity provider's signing keys.
    #[arg(
        long,
        env = "CLIENTVOLG_JWT_JWKS",
        value_name = "FILE",
        group = "jwt_key",
        requires_all = ["jwt_issuer", "jwt_audience"]
    )]
    jwt_jwks: Option<PathBuf>,
    /// The identity provider's public key (RSA or EC P-256), PEM.
    #[arg(
        long,
        env = "CLIENTVOLG_JWT_PUBLIC_KEY",
        value_name = "PEM",
        group = "jwt_key",
        requires_all = ["jwt_issuer", "jwt_audience"]
    )]
    jwt_public_key: Option<PathBuf>,
    /// The `iss` every JWT must carry.
    #[arg(
        long,
        env = "CLIENTVOLG_JWT_ISSUER",
        value_name = "ISS",
        requires = "jwt_key"
    )]
    jwt_issuer: Option<String>,
    /// The `aud` every JWT must carry.
    #[arg(
        long,
        env = "CLIENTVOLG_JWT_AUDIENCE",
        value_name = "AUD",
        requires = "jwt_key"
    )]
    jwt_audience: Option<String>,
}

impl Jwt {
    fn config(self) -> Option<JwtConfig> {
        let keys = match (self.jwt_jwks, self.jwt_public_key) {
            (Some(jwks), _) => JwtKeys::Jwks(jwks),
            (None, Some(pem)) => JwtKeys::PublicKeyPem(pem),
            (None, None) => return None,
        };
        Some(JwtConfig {
            keys,
            // clap requires both with a key; empty ones are refused at start.
            issuer: self.jwt_issuer.unwrap_or_default(),
            audience: self.jwt_audience.unwrap_or_default(),
        })
    }
}

/// TLS on the gRPC port, and mutual TLS for provider systems.
#[derive(clap::Args)]
struct Tls {
    /// The server's certificate chain, PEM.
    #[arg(
        long,
        env = "CLIENTVOLG_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The server's private key, PEM.
    #[arg(
        long,
        env = "CLIENTVOLG_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// Mutual TLS: clients must present a certificate signed by this CA (PEM).
    #[arg(
        long,
        env = "CLIENTVOLG_TLS_CLIENT_CA",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    tls_client_ca: Option<PathBuf>,
}

impl Tls {
    fn config(self) -> Option<TlsConfig> {
        Some(TlsConfig {
            cert: self.tls_cert?,
            key: self.tls_key?,
            client_ca: self.tls_client_ca,
        })
    }
}

#[derive(clap::Args)]
struct Serve {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "CLIENTVOLG_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    #[command(flatten)]
    database: Database,
    /// Development token file (TOML); never in production.
    #[arg(long, env = "CLIENTVOLG_TOKENS")]
    tokens: Option<PathBuf>,
    #[command(flatten)]
    jwt: Jwt,
    #[command(flatten)]
    tls: Tls,
    /// The longest one request may run, in seconds; a client's shorter
    /// deadline (grpc-timeout) wins.
    #[arg(long, env = "CLIENTVOLG_REQUEST_TIMEOUT", value_name = "SECONDS", default_value_t = clientvolg::app::DEFAULT_REQUEST_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations and serve the gRPC API.
    // Boxed: its options outweigh the other commands many times.
    Serve(Box<Serve>),
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
        /// Write the same data in large batches instead of one transaction
        /// per fact (for benchmark-sized data; the gemeente must have no
        /// clients yet).
        #[arg(long)]
        bulk: bool,
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
        Command::Serve(serve) => {
            let Serve {
                listen,
                database,
                tokens,
                jwt,
                tls,
                request_timeout,
            } = *serve;
            let listener = tokio::net::TcpListener::bind(listen).await?;
            let config = Config {
                database_url: database.database_url,
                tokens_file: tokens,
                jwt: jwt.config(),
                tls: tls.config(),
                request_timeout: Some(std::time::Duration::from_secs(request_timeout)),
                report_parallelism: database.report_parallelism,
            };
            Application::build(config, listener)
                .await?
                .run_until(shutdown_signal())
                .await?;
        }
        Command::Migrate { database } => {
            database.open().await?;
            tracing::info!("migrations applied");
        }
        Command::Report { report } => print_report(report).await?,
        Command::DemoData {
            gemeente,
            clients,
            seed,
            bulk,
            database,
        } => {
            let store = database.open().await?;
            let gemeente = clientvolg::domain::gemeente::GemeenteCode::parse(&gemeente)?;
            let started = std::time::Instant::now();
            let generated = if bulk {
                clientvolg::demo::generate_bulk(&store, &gemeente, clients, seed).await?
            } else {
                clientvolg::demo::generate(&store, &gemeente, clients, seed).await?
            };
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
    let store = database.open().await?;
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
