//! Start-up: connect the store (applying migrations), load what
//! authenticates callers (JWT keys, the development token file) and the TLS
//! files, and serve every gRPC service behind the auth and logging layers.
//! Tests build the same `Application` on an ephemeral port.

use crate::api::classifications::ClassificationApi;
use crate::api::clients::ClientApi;
use crate::api::contracts::ContractApi;
use crate::api::doelgroepen::DoelgroepApi;
use crate::api::logging::RequestLogLayer;
use crate::api::processing_log::ProcessingLogApi;
use crate::api::progress_reports::ProgressReportApi;
use crate::api::providers::ProviderApi;
use crate::api::registrations::RegistrationApi;
use crate::api::reports::ReportApi;
use crate::api::trajectories::TrajectoryApi;
use crate::audit::layer::ProcessingLogLayer;
use crate::auth::Authenticator;
use crate::auth::jwt::{JwtConfig, JwtConfigError, JwtVerifier};
use crate::auth::layer::AuthLayer;
use crate::auth::tokens::{TokenFile, TokenFileError};
use crate::proto::clientvolg::v1::{
    classification_service_server::ClassificationServiceServer,
    client_service_server::ClientServiceServer, contract_service_server::ContractServiceServer,
    doelgroep_service_server::DoelgroepServiceServer,
    processing_log_service_server::ProcessingLogServiceServer,
    progress_report_service_server::ProgressReportServiceServer,
    provider_service_server::ProviderServiceServer,
    registration_service_server::RegistrationServiceServer,
    report_service_server::ReportServiceServer, trajectory_service_server::TrajectoryServiceServer,
};
use crate::store::{Store, StoreError};
use crate::tls::{TlsConfig, TlsError};
use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;

/// The largest request the server decodes.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Bulk submissions of kwartaalrapportages (up to 10,000 items) get more.
pub const MAX_BATCH_MESSAGE_BYTES: usize = 32 * 1024 * 1024;
/// How long one request may take when `Config::request_timeout` is unset.
/// A client's shorter `grpc-timeout` wins.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `sqlite://PATH?mode=rwc` or `postgres://…`.
    pub database_url: String,
    /// The development token file.
    pub tokens_file: Option<PathBuf>,
    /// JWTs from the gemeente's identity provider. Without it and without a
    /// token file, every call is unauthenticated.
    pub jwt: Option<JwtConfig>,
    /// Without it the port speaks plaintext.
    pub tls: Option<TlsConfig>,
    /// The longest a request may run before it is cut off (CANCELLED, and
    /// its transaction rolled back); `None` means DEFAULT_REQUEST_TIMEOUT.
    pub request_timeout: Option<Duration>,
    /// Connections one in- and outflow report counts on at the same time;
    /// `None`: the store's default for the database (docs/reports.md).
    pub report_parallelism: Option<NonZeroUsize>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Tokens(#[from] TokenFileError),
    #[error("JWT: {0}")]
    Jwt(#[from] JwtConfigError),
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

pub struct Application {
    listener: TcpListener,
    store: Store,
    authenticator: Authenticator,
    /// Plain, or with TLS already configured.
    server: Server,
    /// For the log: plaintext, tls or mutual tls.
    transport: &'static str,
}

impl Application {
    /// Everything that can be wrong in the configuration fails here, before
    /// the port serves a single call.
    pub async fn build(config: Config, listener: TcpListener) -> Result<Application, StartupError> {
        let jwt = config.jwt.as_ref().map(JwtVerifier::load).transpose()?;
        let tokens = config
            .tokens_file
            .as_deref()
            .map(TokenFile::load)
            .transpose()?;
        if let Some(tokens) = &tokens {
            tracing::warn!(
                tokens = tokens.len(),
                "static development tokens are enabled; never use them in production"
            );
        }
        if jwt.is_none() && tokens.is_none() {
            tracing::warn!(
                "neither JWT verification nor a token file is configured: every call except \
                 health and reflection is refused"
            );
        }
        let transport = match &config.tls {
            None => "plaintext",
            Some(tls) if tls.client_ca.is_some() => "mutual tls",
            Some(_) => "tls",
        };
        let server = match &config.tls {
            Some(tls) => tls.server()?,
            None => {
                let addr = listener.local_addr()?;
                if !addr.ip().is_loopback() {
                    tracing::warn!(
                        %addr,
                        "SERVING WITHOUT TLS on a non-loopback address: bearer tokens and \
                         personal data cross the network in plaintext; configure --tls-cert \
                         and --tls-key"
                    );
                }
                Server::builder()
            }
        }
        .timeout(config.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT));
        let mut store = Store::open(&config.database_url).await?;
        if let Some(connections) = config.report_parallelism {
            store = store.with_report_parallelism(connections);
        }
        Ok(Application {
            listener,
            store,
            authenticator: Authenticator::new(jwt, tokens),
            server,
            transport,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), StartupError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        let store = self.store;
        // Each API service: reported healthy, and limited in request size.
        macro_rules! service {
            ($server:ident, $api:ident) => {{
                health.set_serving::<$server<$api>>().await;
                $server::new($api::new(store.clone())).max_decoding_message_size(MAX_MESSAGE_BYTES)
            }};
        }
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        tracing::info!(
            addr = %self.listener.local_addr()?,
            transport = self.transport,
            "listening"
        );
        self.server
            .layer(RequestLogLayer)
            .layer(AuthLayer::new(self.authenticator))
            .layer(ProcessingLogLayer::new(store.clone()))
            .add_service(health_service)
            .add_service(reflection().build_v1()?)
            .add_service(reflection().build_v1alpha()?)
            .add_service(service!(ClientServiceServer, ClientApi))
            .add_service(service!(RegistrationServiceServer, RegistrationApi))
            .add_service(service!(ClassificationServiceServer, ClassificationApi))
            .add_service(service!(DoelgroepServiceServer, DoelgroepApi))
            .add_service(service!(ProviderServiceServer, ProviderApi))
            .add_service(service!(ContractServiceServer, ContractApi))
            .add_service(service!(TrajectoryServiceServer, TrajectoryApi))
            .add_service(service!(ReportServiceServer, ReportApi))
            .add_service(service!(ProcessingLogServiceServer, ProcessingLogApi))
            .add_service(
                service!(ProgressReportServiceServer, ProgressReportApi)
                    .max_decoding_message_size(MAX_BATCH_MESSAGE_BYTES),
            )
            .serve_with_incoming_shutdown(TcpListenerStream::new(self.listener), shutdown)
            .await?;
        Ok(())
    }
}
