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
            } = *serve;
            let listener = tokio::net::TcpListener::bind(listen).await?;
            let config = Config {
                database_url: database.database_url,
                tokens_file: tokens,
                jwt: jwt.config(),
                tls: tls.config(),
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
