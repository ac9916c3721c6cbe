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
