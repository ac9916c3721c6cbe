//! Shared harness for the integration tests: spawns a clientvolg server on a
//! random port against a fresh SQLite or PostgreSQL database, with a tokens
//! file holding one token per role, and hands out typed gRPC clients that send
//! a bearer token.
//!
//! Every test file does `#[macro_use] mod common;` and writes its tests as
//! `async fn name(app: TestApp)`, then lists them in `both_databases!(...)`,
//! which generates `name::sqlite` and `name::postgres` tests.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use clientvolg::proto::clientvolg::v1::{
    ChangeContext, Client, CreateClientRequest, EducationLevel, ListClientVersionsRequest,
    ListClientVersionsResponse, ListClientsRequest,
    classification_service_client::ClassificationServiceClient,
    client_service_client::ClientServiceClient, contract_service_client::ContractServiceClient,
    doelgroep_service_client::DoelgroepServiceClient,
    processing_log_service_client::ProcessingLogServiceClient,
    progress_report_service_client::ProgressReportServiceClient,
    provider_service_client::ProviderServiceClient,
    registration_service_client::RegistrationServiceClient,
    trajectory_service_client::TrajectoryServiceClient,
};
use clientvolg::proto::google::r#type::Date;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

/// Casemanager of 0363, subject `cm-anna`.
pub const CM_ANNA: &str = "tok-cm-anna-0363";
/// Second casemanager of 0363, subject `cm-bert`.
pub const CM_BERT: &str = "tok-cm-bert-0363";
/// Casemanager of 0599, subject `cm-carla`.
pub const CM_0599: &str = "tok-cm-carla-0599";
/// Functioneel beheerder of 0363, subject `fb-dirk`.
pub const FB_0363: &str = "tok-fb-dirk-0363";
/// Data manager of 0363, subject `dm-eva`.
pub const DM_0363: &str = "tok-dm-eva-0363";
/// Provider (reïntegratiebedrijf) of 0363, subject `prov-frank`.
pub const PROVIDER_0363: &str = "tok-prov-frank-0363";
/// Auditor of 0363, subject `aud-gerda`.
pub const AUDITOR_0363: &str = "tok-aud-gerda-0363";
/// A second provider principal of 0363, subject `prov-henk`, KvK 87654321
/// ("another provider").
pub const PROVIDER_OTHER_0363: &str = "tok-prov-henk-0363";
/// A provider principal of 0599, subject `prov-ina`, KvK 12345678 (the same
/// KvK as PROVIDER_0363, in another gemeente).
pub const PROVIDER_0599: &str = "tok-prov-ina-0599";
/// The KvK number of PROVIDER_0363.
pub const PROVIDER_KVK: &str = "12345678";
/// The KvK number of PROVIDER_OTHER_0363.
pub const OTHER_PROVIDER_KVK: &str = "87654321";

pub const GEMEENTE: &str = "gemeenten/0363";
pub const GEMEENTE_0599: &str = "gemeenten/0599";

const TOKENS_TOML: &str = r#"
[[token]]
token = "tok-cm-anna-0363"
subject = "cm-anna"
role = "casemanager"
gemeente = "0363"

[[token]]
token = "tok-cm-bert-0363"
subject = "cm-bert"
role = "casemanager"
gemeente = "0363"

[[token]]
token = "tok-cm-carla-0599"
subject = "cm-carla"
role = "casemanager"
gemeente = "0599"

[[token]]
token = "tok-fb-dirk-0363"
subject = "fb-dirk"
role = "functioneel_beheerder"
gemeente = "0363"

[[token]]
token = "tok-dm-eva-0363"
subject = "dm-eva"
role = "data_manager"
gemeente = "0363"

[[token]]
token = "tok-prov-frank-0363"
subject = "prov-frank"
role = "provider"
gemeente = "0363"
provider = "12345678"

[[token]]
token = "tok-aud-gerda-0363"
subject = "aud-gerda"
role = "auditor"
gemeente = "0363"

[[token]]
token = "tok-prov-henk-0363"
subject = "prov-henk"
role = "provider"
gemeente = "0363"
provider = "87654321"

[[token]]
token = "tok-prov-ina-0599"
subject = "prov-ina"
role = "provider"
gemeente = "0599"
provider = "12345678"
"#;

/// Writes the tokens file used by every test into `dir` and returns its path.
pub fn write_tokens_file(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("tokens.toml");
    std::fs::write(&path, TOKENS_TOML).expect("write tokens file");
    path
}

// ---------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn postgres_admin_url() -> String {
    std::env::var("CLIENTVOLG_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// The URL with any password replaced by `***`, for messages.
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

/// Replaces the database name in a PostgreSQL URL, keeping any query string.
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

/// The ordinary role the server runs as in the PostgreSQL tests: not a
/// superuser and without BYPASSRLS, the owner of each test database.
pub const APP_ROLE: &str = "clientvolg_app";

/// Creates `APP_ROLE` once per cluster; tests running in parallel may race
/// to create it, and the loser's error is harmless.
async fn ensure_app_role(admin: &DatabaseConnection) {
    let sql = format!(
        "DO $$ BEGIN \
           CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_ROLE}' NOSUPERUSER NOBYPASSRLS; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    );
    admin
        .execute_unprepared(&sql)
        .await
        .unwrap_or_else(|e| panic!("CREATE ROLE {APP_ROLE}: {e}"));
}

/// Replaces the user (and password) of a PostgreSQL URL.
fn with_user(url: &str, user: &str, password: &str) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &url[scheme_end..];
    let host = rest.find('@').map(|at| &rest[at + 1..]).unwrap_or(rest);
    format!("{}{user}:{password}@{host}", &url[..scheme_end])
}

async fn connect_admin(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .max_connections(1)
        .sqlx_logging(false);
    Database::connect(opts).await
}

/// Opens a separate raw connection to a test database (for SQL the API does
/// not offer, e.g. proving the history tables are append-only).
pub async fn raw_connection(url: &str) -> DatabaseConnection {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .max_connections(1)
        .sqlx_logging(false);
    Database::connect(opts)
        .await
        .unwrap_or_else(|e| panic!("raw connection to {url}: {e}"))
}

// ---------------------------------------------------------------------------
// The test application
// ---------------------------------------------------------------------------

/// A running clientvolg server with its own fresh database.
pub struct TestApp {
    pub backend: Backend,
    pub addr: std::net::SocketAddr,
    /// What the server connects with: on PostgreSQL an ordinary role, so that
    /// row-level security applies to it as in production.
    pub database_url: String,
    /// The same database as a superuser (on SQLite: the same URL), for SQL
    /// that looks past the service, as a database administrator would.
    pub admin_database_url: String,
    pub channel: Channel,
    pub tokens_file: PathBuf,
    /// Name of the PostgreSQL database to drop at the end (None for SQLite).
    pg_database: Option<String>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// Spawns the application on `backend`. Returns None (after printing a loud
/// SKIPPED line) when PostgreSQL is wanted but unreachable and `CI` is not
/// `true`; in CI an unreachable PostgreSQL fails the test.
pub async fn spawn_app(backend: Backend, test_name: &str) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("tempdir");
    let tokens_file = write_tokens_file(dir.path());

    let (database_url, admin_database_url, pg_database) = match backend {
        Backend::Sqlite => {
            let path = dir.path().join("clientvolg.db");
            let url = format!("sqlite://{}?mode=rwc", path.display());
            (url.clone(), url, None)
        }
        Backend::Postgres => {
            let admin_url = postgres_admin_url();
            let admin = match connect_admin(&admin_url).await {
                Ok(c) => c,
                Err(e) => {
                    let shown = redact(&admin_url);
                    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
                        panic!(
                            "PostgreSQL not reachable at {shown} (CI=true, so this is a failure; \
                             set CLIENTVOLG_TEST_POSTGRES_URL): {e}"
                        );
                    }
                    // Written to the real stderr, not through eprintln!, so
                    // that the test harness does not swallow it.
                    use std::io::Write as _;
                    let _ = writeln!(
                        std::io::stderr(),
                        "\n!!!!!!!!!! SKIPPED (PostgreSQL not reachable at {shown}: {e}): {test_name} !!!!!!!!!!\n"
                    );
                    return None;
                }
            };
            ensure_app_role(&admin).await;
            let db = format!("clientvolg_test_{}", uuid::Uuid::new_v4().simple());
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{db}\" OWNER {APP_ROLE}"))
                .await
                .unwrap_or_else(|e| panic!("CREATE DATABASE {db}: {e}"));
            let _ = admin.close().await;
            let admin_db_url = with_database(&admin_url, &db);
            (
                with_user(&admin_db_url, APP_ROLE, APP_ROLE),
                admin_db_url,
                Some(db),
            )
        }
    };

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let config = clientvolg::app::Config {
        database_url: database_url.clone(),
        tokens_file: Some(tokens_file.clone()),
        ..Default::default()
    };
    let application = match clientvolg::app::Application::build(config, listener).await {
        Ok(a) => a,
        Err(e) => {
            if let Some(db) = &pg_database {
                drop_pg_database(db.clone());
            }
            panic!("Application::build on {backend:?} failed: {e:?}");
        }
    };
    let addr = application.local_addr();
    let server = tokio::spawn(async move {
        let _ = application.run_until_stopped().await;
    });

    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect to test server");

    Some(TestApp {
        backend,
        addr,
        database_url,
        admin_database_url,
        channel,
        tokens_file,
        pg_database,
        server: Some(server),
        _dir: dir,
    })
}

/// A configuration on a fresh SQLite database in `dir` and nothing else; the
/// tests of start-up options (JWT, TLS) add theirs.
pub fn sqlite_config(dir: &std::path::Path) -> clientvolg::app::Config {
    clientvolg::app::Config {
        database_url: format!("sqlite://{}?mode=rwc", dir.join("clientvolg.db").display()),
        ..Default::default()
    }
}

/// A server started with its own configuration on an ephemeral port of
/// 127.0.0.1; stopped on drop.
pub struct Served {
    pub addr: std::net::SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

pub async fn serve(
    config: clientvolg::app::Config,
) -> Result<Served, clientvolg::app::StartupError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let application = clientvolg::app::Application::build(config, listener).await?;
    let addr = application.local_addr();
    let server = tokio::spawn(async move {
        let _ = application.run_until_stopped().await;
    });
    Ok(Served { addr, server })
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Drops a PostgreSQL test database, from a separate thread with its own
/// runtime so that it also works from `Drop` (e.g. while a test panics).
fn drop_pg_database(db: String) {
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime for cleanup");
        rt.block_on(async move {
            let admin_url = postgres_admin_url();
            match connect_admin(&admin_url).await {
                Ok(admin) => {
                    if let Err(e) = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"
                        ))
                        .await
                    {
                        eprintln!("warning: could not drop test database {db}: {e}");
                    }
                    let _ = admin.close().await;
                }
                Err(e) => eprintln!("warning: could not drop test database {db}: {e}"),
            }
        });
    });
    let _ = handle.join();
}

impl TestApp {
    /// Typed clients that send `authorization: Bearer <token>`.
    pub fn clients(&self, token: &str) -> Clients {
        Clients::new(self.channel.clone(), Some(format!("Bearer {token}")))
    }

    /// Typed clients that send the given raw `authorization` value, or none.
    pub fn clients_with_authorization(&self, authorization: Option<&str>) -> Clients {
        Clients::new(self.channel.clone(), authorization.map(str::to_string))
    }

    /// Typed clients that send `authorization: Bearer <token>` and the given
    /// purpose metadata, or none.
    pub fn clients_with_purpose(&self, token: &str, purpose: Option<&str>) -> Clients {
        Clients::with_bearer(
            self.channel.clone(),
            Bearer::raw(Some(format!("Bearer {token}")), purpose),
        )
    }

    /// The auditor of 0363.
    pub fn auditor(&self) -> Clients {
        self.clients(AUDITOR_0363)
    }

    /// Casemanager cm-anna of 0363.
    pub fn anna(&self) -> Clients {
        self.clients(CM_ANNA)
    }

    /// Casemanager cm-bert of 0363.
    pub fn bert(&self) -> Clients {
        self.clients(CM_BERT)
    }

    /// Casemanager cm-carla of 0599.
    pub fn carla(&self) -> Clients {
        self.clients(CM_0599)
    }

    /// Functioneel beheerder of 0363.
    pub fn beheerder(&self) -> Clients {
        self.clients(FB_0363)
    }

    /// The provider principal of 0363 (prov-frank, KvK 12345678).
    pub fn provider(&self) -> Clients {
        self.clients(PROVIDER_0363)
    }

    /// The other provider principal of 0363 (prov-henk, KvK 87654321).
    pub fn other_provider(&self) -> Clients {
        self.clients(PROVIDER_OTHER_0363)
    }

    /// Stops the server and drops the PostgreSQL database. Also done on drop;
    /// calling it at the end of a test makes the intent explicit.
    pub async fn cleanup(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Some(db) = self.pg_database.take() {
            drop_pg_database(db);
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown();
    }
}

// ---------------------------------------------------------------------------
// Clients with a bearer token
// ---------------------------------------------------------------------------

/// The purpose (doelbinding) every test client states, unless a test asks
/// for clients without one.
pub const PURPOSE: &str = "urn:clientvolg:test:re-integratie";

/// Sends the `authorization` value and the purpose metadata, each when set.
#[derive(Clone)]
pub struct Bearer {
    authorization: Option<MetadataValue<Ascii>>,
    purpose: Option<MetadataValue<Ascii>>,
}

impl Bearer {
    /// Sends `authorization: Bearer <token>` and the test purpose.
    pub fn new(token: &str) -> Self {
        Bearer::raw(Some(format!("Bearer {token}")), Some(PURPOSE))
    }

    /// Sends exactly these values.
    pub fn raw(authorization: Option<String>, purpose: Option<&str>) -> Self {
        Bearer {
            authorization: authorization.map(|a| a.parse().expect("ascii authorization")),
            purpose: purpose.map(|p| p.parse().expect("ascii purpose")),
        }
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(v) = &self.authorization {
            req.metadata_mut().insert("authorization", v.clone());
        }
        if let Some(v) = &self.purpose {
            req.metadata_mut().insert("clientvolg-purpose", v.clone());
        }
        Ok(req)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;

#[derive(Clone)]
pub struct Clients {
    pub clients: ClientServiceClient<Authed>,
    pub registrations: RegistrationServiceClient<Authed>,
    pub classifications: ClassificationServiceClient<Authed>,
    pub doelgroepen: DoelgroepServiceClient<Authed>,
    pub providers: ProviderServiceClient<Authed>,
    pub contracts: ContractServiceClient<Authed>,
    pub trajectories: TrajectoryServiceClient<Authed>,
    pub progress_reports: ProgressReportServiceClient<Authed>,
    pub processing_log: ProcessingLogServiceClient<Authed>,
}

impl Clients {
    /// Clients that send `authorization` (when given) and the test purpose.
    pub fn new(channel: Channel, authorization: Option<String>) -> Self {
        Clients::with_bearer(channel, Bearer::raw(authorization, Some(PURPOSE)))
    }

    pub fn with_bearer(channel: Channel, bearer: Bearer) -> Self {
        Clients {
            clients: ClientServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            registrations: RegistrationServiceClient::with_interceptor(
                channel.clone(),
                bearer.clone(),
            ),
            classifications: ClassificationServiceClient::with_interceptor(
                channel.clone(),
                bearer.clone(),
            ),
            doelgroepen: DoelgroepServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            providers: ProviderServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            contracts: ContractServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            trajectories: TrajectoryServiceClient::with_interceptor(
                channel.clone(),
                bearer.clone(),
            ),
            progress_reports: ProgressReportServiceClient::with_interceptor(
                channel.clone(),
                bearer.clone(),
            ),
            processing_log: ProcessingLogServiceClient::with_interceptor(channel, bearer),
        }
    }

    /// Creates a client in 0363 and returns it; panics on failure.
    pub async fn create_client(&mut self, client: Client) -> Client {
        self.clients
            .create_client(CreateClientRequest {
                parent: GEMEENTE.into(),
                client: Some(client),
                change: Some(reason("intake")),
            })
            .await
            .expect("CreateClient")
            .into_inner()
    }

    /// Every client of 0363 visible now (follows all pages).
    pub async fn list_all_clients(&mut self) -> Vec<Client> {
        self.list_all_clients_in(GEMEENTE).await
    }

    pub async fn list_all_clients_in(&mut self, parent: &str) -> Vec<Client> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .clients
                .list_clients(ListClientsRequest {
                    parent: parent.into(),
                    page_size: 500,
                    page_token: token.clone(),
                    ..Default::default()
                })
                .await
                .expect("ListClients")
                .into_inner();
            out.extend(page.clients);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }

    /// Every version of a client, oldest first (follows all pages).
    pub async fn client_versions(&mut self, name: &str) -> Vec<Client> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page: ListClientVersionsResponse = self
                .clients
                .list_client_versions(ListClientVersionsRequest {
                    name: name.into(),
                    page_size: 500,
                    page_token: token.clone(),
                    as_of: None,
                })
                .await
                .expect("ListClientVersions")
                .into_inner();
            out.extend(page.versions);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }
}

// ---------------------------------------------------------------------------
// Test data
// ---------------------------------------------------------------------------

/// The elfproef: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is divisible by 11.
pub fn elfproef(bsn: &str) -> bool {
    if bsn.len() != 9 || !bsn.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let d: Vec<i64> = bsn.bytes().map(|b| (b - b'0') as i64).collect();
    let sum: i64 = (0..8).map(|i| (9 - i as i64) * d[i]).sum::<i64>() - d[8];
    sum % 11 == 0
}

/// A valid BSN derived from `seed` (different seeds give different BSNs for
/// seeds below 10,000,000).
pub fn bsn(seed: u32) -> String {
    let mut n = 10_000_000u32 + seed * 7;
    loop {
        let base = format!("{:08}", n % 100_000_000);
        if base.starts_with('0') {
            n += 1;
            continue;
        }
        let d: Vec<u32> = base.bytes().map(|b| (b - b'0') as u32).collect();
        let s: u32 = (0..8).map(|i| (9 - i as u32) * d[i]).sum();
        let check = s % 11;
        if check < 10 {
            let bsn = format!("{base}{check}");
            assert!(elfproef(&bsn), "generated BSN {bsn} fails the elfproef");
            return bsn;
        }
        n += 1;
    }
}

/// A BSN that fails the elfproef.
pub const INVALID_BSN: &str = "123456789";

pub fn date(year: i32, month: i32, day: i32) -> Date {
    Date { year, month, day }
}

pub fn today() -> Date {
    use chrono::Datelike;
    let d = chrono::Utc::now().date_naive();
    date(d.year(), d.month() as i32, d.day() as i32)
}

pub fn days_from_today(days: i64) -> Date {
    use chrono::Datelike;
    let d = chrono::Utc::now().date_naive() + chrono::Duration::days(days);
    date(d.year(), d.month() as i32, d.day() as i32)
}

/// A complete, valid client of casemanager cm-anna.
pub fn sample_client(bsn: &str) -> Client {
    Client {
        bsn: bsn.into(),
        given_name: "Johanna".into(),
        surname_prefix: "van der".into(),
        surname: "Berg".into(),
        birth_date: Some(date(1990, 5, 17)),
        education_level: EducationLevel::VmboMbo1 as i32,
        work_experience: "Tien jaar orderpicker.".into(),
        skills: vec!["heftruck".into(), "Engels".into()],
        wishes: "Werk in de logistiek, parttime.".into(),
        notes: "Komt afspraken na.".into(),
        casemanager: "cm-anna".into(),
        ..Default::default()
    }
}

pub fn reason(text: &str) -> ChangeContext {
    ChangeContext {
        reason: text.into(),
        source: 0,
    }
}

pub fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

pub fn micros(ts: &prost_types::Timestamp) -> i64 {
    ts.seconds * 1_000_000 + (ts.nanos as i64) / 1_000
}

pub fn timestamp_from_micros(us: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: us.div_euclid(1_000_000),
        nanos: (us.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

/// The record_time of a resource's revision, in microseconds.
pub fn record_micros(revision: &Option<clientvolg::proto::clientvolg::v1::Revision>) -> i64 {
    let rev = revision.as_ref().expect("revision present");
    micros(rev.record_time.as_ref().expect("record_time present"))
}

/// A transaction time strictly between two record times (or the first one
/// when they are adjacent).
pub fn between(earlier_us: i64, later_us: i64) -> prost_types::Timestamp {
    assert!(
        earlier_us < later_us,
        "record times must grow: {earlier_us} !< {later_us}"
    );
    timestamp_from_micros(earlier_us + (later_us - earlier_us) / 2)
}

pub fn future_timestamp() -> prost_types::Timestamp {
    let now = chrono::Utc::now().timestamp_micros();
    timestamp_from_micros(now + 3_600 * 1_000_000)
}

/// Sleeps a few milliseconds so that the next write gets a clearly later
/// record_time (only used where an `as_of` between two writes is needed).
pub async fn tick() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

// ---------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------

/// Asserts that a call failed with `code`.
#[track_caller]
pub fn assert_code<T: std::fmt::Debug>(
    result: Result<tonic::Response<T>, Status>,
    code: Code,
) -> Status {
    match result {
        Ok(resp) => panic!("expected {code:?}, got OK: {:?}", resp.into_inner()),
        Err(status) => {
            assert_eq!(
                status.code(),
                code,
                "expected {code:?}, got {:?}: {}",
                status.code(),
                status.message()
            );
            status
        }
    }
}

/// Asserts INVALID_ARGUMENT with a google.rpc.BadRequest naming `field` (or a
/// sub-path of it such as `field[3]` or `field.x`).
#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<tonic::Response<T>, Status>, field: &str) {
    let status = assert_code(result, Code::InvalidArgument);
    let bad = status.get_details_bad_request().unwrap_or_else(|| {
        panic!(
            "INVALID_ARGUMENT for `{field}` without google.rpc.BadRequest details: {}",
            status.message()
        )
    });
    let fields: Vec<&str> = bad
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    let matches = fields.iter().any(|f| {
        *f == field
            || f.strip_prefix(field)
                .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
    });
    assert!(
        matches,
        "BadRequest should name `{field}`, names {fields:?} ({})",
        status.message()
    );
}

/// Generates, for each listed `async fn name(app: TestApp)`, a module `name`
/// with the tests `sqlite` and `postgres`.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    let app = $crate::common::spawn_app(
                        $crate::common::Backend::Sqlite,
                        concat!(module_path!(), "::sqlite"),
                    )
                    .await
                    .expect("SQLite is always available");
                    super::$name(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    let Some(app) = $crate::common::spawn_app(
                        $crate::common::Backend::Postgres,
                        concat!(module_path!(), "::postgres"),
                    )
                    .await
                    else {
                        return;
                    };
                    super::$name(app).await;
                }
            }
        )*
    };
}

// ---------------------------------------------------------------------------
// Providers, contracts and trajectories
// ---------------------------------------------------------------------------

use clientvolg::proto::clientvolg::v1;

/// A complete, valid provider.
pub fn sample_provider(display_name: &str, kvk_number: &str) -> v1::Provider {
    v1::Provider {
        display_name: display_name.into(),
        kvk_number: kvk_number.into(),
        kind: v1::ProviderKind::Commercial as i32,
        size: v1::ProviderSize::Medium as i32,
        specialisations: vec!["jongeren".into(), "statushouders".into()],
        ..Default::default()
    }
}

pub fn price(valid_from: Date, amount_cents: i64) -> v1::Price {
    v1::Price {
        valid_from: Some(valid_from),
        amount_cents,
    }
}

pub fn product(
    code: &str,
    kind: v1::ProductKind,
    unit: v1::PriceUnit,
    prices: Vec<v1::Price>,
) -> v1::Product {
    v1::Product {
        code: code.into(),
        kind: kind as i32,
        description: format!("Product {code}"),
        unit: unit as i32,
        prices,
    }
}

/// Price of BEMIDDELING in the sample contract (per trajectory, one price).
pub const BEMIDDELING_PRICE: i64 = 250_000;
/// Prices of COACHING in the sample contract (per hour): from 2025-01-01 and
/// from 2025-07-01.
pub const COACHING_PRICE_H1: i64 = 8_500;
pub const COACHING_PRICE_H2: i64 = 9_000;

/// A complete, valid contract with `provider` running through 2025, without
/// target group, with the products BEMIDDELING (one price) and COACHING (two
/// dated prices).
pub fn sample_contract(provider: &str) -> v1::Contract {
    v1::Contract {
        provider: provider.into(),
        display_name: "Bemiddeling en coaching 2025".into(),
        start_date: Some(date(2025, 1, 1)),
        end_date: Some(date(2025, 12, 31)),
        target_fases: vec![],
        target_doelgroepen: vec![],
        products: vec![
            product(
                "BEMIDDELING",
                v1::ProductKind::Bemiddeling,
                v1::PriceUnit::PerTrajectory,
                vec![price(date(2025, 1, 1), BEMIDDELING_PRICE)],
            ),
            product(
                "COACHING",
                v1::ProductKind::Coaching,
                v1::PriceUnit::PerHour,
                vec![
                    price(date(2025, 1, 1), COACHING_PRICE_H1),
                    price(date(2025, 7, 1), COACHING_PRICE_H2),
                ],
            ),
        ],
        payment_model: v1::PaymentModel::NoCureLessPay as i32,
        input_share_percent: Some(60),
        payment_terms: "60% bij start, 40% bij plaatsing.".into(),
        result_agreements: Some(v1::ResultAgreements {
            target_placement_percent: Some(40),
            max_duration_months: Some(12),
            description: "Plaatsing: minstens zes maanden werk.".into(),
        }),
        volume: Some(v1::Volume {
            kind: v1::VolumeKind::Raamcontract as i32,
            minimum: Some(10),
            maximum: Some(100),
        }),
        report_due_days: 30,
        ..Default::default()
    }
}

/// A trajectory line; `unit_price_cents` is only meaningful in eigen beheer.
pub fn line(code: &str, quantity: i32) -> v1::TrajectoryLine {
    v1::TrajectoryLine {
        product_code: code.into(),
        quantity,
        ..Default::default()
    }
}

/// A trajectory line in eigen beheer with its price.
pub fn priced_line(code: &str, quantity: i32, unit_price_cents: i64) -> v1::TrajectoryLine {
    v1::TrajectoryLine {
        product_code: code.into(),
        quantity,
        unit_price_cents,
        ..Default::default()
    }
}

/// A trajectory of cm-anna under `contract` (empty: eigen beheer).
pub fn sample_trajectory(
    client: &str,
    contract: &str,
    referral: Date,
    lines: Vec<v1::TrajectoryLine>,
) -> v1::Trajectory {
    v1::Trajectory {
        client: client.into(),
        contract: contract.into(),
        kind: v1::TrajectoryKind::Bemiddeling as i32,
        casemanager: "cm-anna".into(),
        referral_date: Some(referral),
        lines,
        ..Default::default()
    }
}

pub fn sample_job() -> v1::Job {
    v1::Job {
        contract_kind: v1::JobContractKind::Temporary as i32,
        hours_per_week: 32.0,
        job_title: "Magazijnmedewerker".into(),
        employer_name: "Logistiek Amsterdam BV".into(),
    }
}

impl Clients {
    /// Creates a provider in 0363 (as whoever these clients are); panics on
    /// failure.
    pub async fn create_provider(&mut self, provider: v1::Provider) -> v1::Provider {
        self.providers
            .create_provider(v1::CreateProviderRequest {
                parent: GEMEENTE.into(),
                provider: Some(provider),
                change: Some(reason("aanbesteding gegund")),
            })
            .await
            .expect("CreateProvider")
            .into_inner()
    }

    /// Creates a contract in 0363; panics on failure.
    pub async fn create_contract(&mut self, contract: v1::Contract) -> v1::Contract {
        self.contracts
            .create_contract(v1::CreateContractRequest {
                parent: GEMEENTE.into(),
                contract: Some(contract),
                change: Some(reason("contract getekend")),
            })
            .await
            .expect("CreateContract")
            .into_inner()
    }

    /// Defines a doelgroep code in 0363; panics on failure.
    pub async fn create_doelgroep(&mut self, code: &str) {
        self.doelgroepen
            .create_doelgroep(v1::CreateDoelgroepRequest {
                parent: GEMEENTE.into(),
                doelgroep: Some(v1::Doelgroep {
                    code: code.into(),
                    display_name: format!("Doelgroep {code}"),
                    ..Default::default()
                }),
                change: None,
            })
            .await
            .expect("CreateDoelgroep");
    }

    /// Creates a client in 0363 with a registration episode of `kind` from
    /// `start` (to `end`, inclusive, if given).
    pub async fn create_registered_client(
        &mut self,
        seed: u32,
        kind: v1::RegistrationKind,
        start: Date,
        end: Option<Date>,
    ) -> Client {
        let client = self.create_client(sample_client(&bsn(seed))).await;
        self.registrations
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
            .expect("CreateRegistration");
        client
    }

    /// A client in bijstand since 2024-01-01, still running.
    pub async fn create_bijstand_client(&mut self, seed: u32) -> Client {
        self.create_registered_client(seed, v1::RegistrationKind::Bijstand, date(2024, 1, 1), None)
            .await
    }

    /// Classifies a client in `fase` from `from`.
    pub async fn classify_fase(&mut self, client: &str, fase: v1::Fase, from: Date) {
        self.classifications
            .create_classification(v1::CreateClassificationRequest {
                parent: client.into(),
                classification: Some(v1::Classification {
                    value: Some(v1::classification::Value::Fase(fase as i32)),
                    valid_from: Some(from),
                    ..Default::default()
                }),
                change: None,
            })
            .await
            .expect("CreateClassification");
    }

    /// Assigns a client the doelgroepen `codes` from `from`.
    pub async fn assign_doelgroepen(&mut self, client: &str, codes: &[&str], from: Date) {
        self.doelgroepen
            .create_doelgroep_assignment(v1::CreateDoelgroepAssignmentRequest {
                parent: client.into(),
                assignment: Some(v1::DoelgroepAssignment {
                    codes: codes.iter().map(|c| c.to_string()).collect(),
                    valid_from: Some(from),
                    ..Default::default()
                }),
                change: None,
            })
            .await
            .expect("CreateDoelgroepAssignment");
    }

    /// Creates a trajectory in 0363; panics on failure.
    pub async fn create_trajectory(&mut self, trajectory: v1::Trajectory) -> v1::Trajectory {
        self.trajectories
            .create_trajectory(create_trajectory_req(trajectory))
            .await
            .expect("CreateTrajectory")
            .into_inner()
    }

    pub async fn get_trajectory(&mut self, name: &str) -> v1::Trajectory {
        self.trajectories
            .get_trajectory(v1::GetTrajectoryRequest {
                name: name.into(),
                as_of: None,
            })
            .await
            .expect("GetTrajectory")
            .into_inner()
    }

    /// Starts a trajectory; panics on failure.
    pub async fn start_trajectory(
        &mut self,
        name: &str,
        start: Date,
        version: i64,
    ) -> v1::Trajectory {
        self.trajectories
            .start_trajectory(start_req(name, start, version))
            .await
            .expect("StartTrajectory")
            .into_inner()
    }

    /// Ends a trajectory; panics on failure.
    pub async fn end_trajectory(
        &mut self,
        name: &str,
        end: Date,
        end_reason: v1::EndReason,
        job: Option<v1::Job>,
        version: i64,
    ) -> v1::Trajectory {
        self.trajectories
            .end_trajectory(end_req(name, end, end_reason, job, version))
            .await
            .expect("EndTrajectory")
            .into_inner()
    }

    /// Every trajectory matching `filter` (its parent, page_size and
    /// page_token are set here), following all pages of `page_size`.
    pub async fn list_trajectories(
        &mut self,
        filter: v1::ListTrajectoriesRequest,
        page_size: i32,
    ) -> Vec<v1::Trajectory> {
        let mut out = Vec::new();
        let mut token = String::new();
        let mut pages = 0;
        loop {
            let page = self
                .trajectories
                .list_trajectories(v1::ListTrajectoriesRequest {
                    parent: GEMEENTE.into(),
                    page_size,
                    page_token: token.clone(),
                    ..filter.clone()
                })
                .await
                .expect("ListTrajectories")
                .into_inner();
            pages += 1;
            assert!(
                page_size <= 0 || page.trajectories.len() <= page_size as usize,
                "page of {} exceeds page_size {page_size}",
                page.trajectories.len()
            );
            assert!(pages < 1000, "ListTrajectories does not end");
            out.extend(page.trajectories);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }

    /// Every version of a trajectory, oldest first (follows all pages).
    pub async fn trajectory_versions(&mut self, name: &str) -> Vec<v1::Trajectory> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .trajectories
                .list_trajectory_versions(v1::ListTrajectoryVersionsRequest {
                    name: name.into(),
                    page_size: 2,
                    page_token: token.clone(),
                    as_of: None,
                })
                .await
                .expect("ListTrajectoryVersions")
                .into_inner();
            out.extend(page.versions);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }

    /// Every version of a contract, oldest first (follows all pages).
    pub async fn contract_versions(&mut self, name: &str) -> Vec<v1::Contract> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .contracts
                .list_contract_versions(v1::ListContractVersionsRequest {
                    name: name.into(),
                    page_size: 2,
                    page_token: token.clone(),
                    as_of: None,
                })
                .await
                .expect("ListContractVersions")
                .into_inner();
            out.extend(page.versions);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }

    /// Every version of a provider, oldest first (follows all pages).
    pub async fn provider_versions(&mut self, name: &str) -> Vec<v1::Provider> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .providers
                .list_provider_versions(v1::ListProviderVersionsRequest {
                    name: name.into(),
                    page_size: 2,
                    page_token: token.clone(),
                    as_of: None,
                })
                .await
                .expect("ListProviderVersions")
                .into_inner();
            out.extend(page.versions);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }
}

pub fn create_trajectory_req(trajectory: v1::Trajectory) -> v1::CreateTrajectoryRequest {
    v1::CreateTrajectoryRequest {
        parent: GEMEENTE.into(),
        trajectory: Some(trajectory),
        change: Some(reason("doorverwijzing")),
    }
}

pub fn start_req(name: &str, start: Date, version: i64) -> v1::StartTrajectoryRequest {
    v1::StartTrajectoryRequest {
        name: name.into(),
        start_date: Some(start),
        version,
        change: Some(reason("instroom gemeld")),
    }
}

pub fn end_req(
    name: &str,
    end: Date,
    end_reason: v1::EndReason,
    job: Option<v1::Job>,
    version: i64,
) -> v1::EndTrajectoryRequest {
    v1::EndTrajectoryRequest {
        name: name.into(),
        end_date: Some(end),
        end_reason: end_reason as i32,
        job,
        version,
        change: Some(reason("uitstroom gemeld")),
    }
}

/// The version number of a resource's revision.
pub fn version_of(revision: &Option<v1::Revision>) -> i64 {
    revision.as_ref().expect("revision present").version
}

/// Asserts FAILED_PRECONDITION with a google.rpc.PreconditionFailure whose
/// violation `type` is `rule`, and a message starting with `<rule>: `.
#[track_caller]
pub fn assert_precondition<T: std::fmt::Debug>(
    result: Result<tonic::Response<T>, Status>,
    rule: &str,
) -> Status {
    let status = assert_code(result, Code::FailedPrecondition);
    let failure = status.get_details_precondition_failure().unwrap_or_else(|| {
        panic!(
            "FAILED_PRECONDITION for `{rule}` without google.rpc.PreconditionFailure details: {}",
            status.message()
        )
    });
    let types: Vec<&str> = failure
        .violations
        .iter()
        .map(|v| v.r#type.as_str())
        .collect();
    assert!(
        types.contains(&rule),
        "PreconditionFailure should name rule `{rule}`, names {types:?} ({})",
        status.message()
    );
    assert!(
        status.message().starts_with(&format!("{rule}: ")),
        "message should start with `{rule}: `: {}",
        status.message()
    );
    status
}

/// Asserts FAILED_PRECONDITION with a PreconditionFailure naming any rule;
/// returns the rule names.
#[track_caller]
pub fn assert_some_precondition<T: std::fmt::Debug>(
    result: Result<tonic::Response<T>, Status>,
) -> Vec<String> {
    let status = assert_code(result, Code::FailedPrecondition);
    let failure = status
        .get_details_precondition_failure()
        .unwrap_or_else(|| {
            panic!(
                "FAILED_PRECONDITION without google.rpc.PreconditionFailure details: {}",
                status.message()
            )
        });
    let types: Vec<String> = failure
        .violations
        .iter()
        .map(|v| v.r#type.clone())
        .collect();
    assert!(!types.is_empty(), "PreconditionFailure without violations");
    types
}

// ---------------------------------------------------------------------------
// Kwartaalrapportages
// ---------------------------------------------------------------------------

/// A minimal valid kwartaalrapportage for `trajectory` in `quarter`.
pub fn sample_report(trajectory: &str, quarter: &str, key: &str) -> v1::ProgressReport {
    v1::ProgressReport {
        trajectory: trajectory.into(),
        quarter: quarter.into(),
        idempotency_key: key.into(),
        status: v1::ProgressStatus::OnTrack as i32,
        appointments_planned: 6,
        appointments_kept: 5,
        activities: vec!["sollicitatietraining".into()],
        next_steps: "Twee vacatures bespreken.".into(),
        ..Default::default()
    }
}

impl Clients {
    /// Submits a batch of reports to 0363; panics when the call itself
    /// fails (item rejections are in the response).
    pub async fn submit_reports(
        &mut self,
        reports: Vec<v1::ProgressReport>,
    ) -> v1::SubmitProgressReportsResponse {
        self.progress_reports
            .submit_progress_reports(v1::SubmitProgressReportsRequest {
                parent: GEMEENTE.into(),
                reports,
            })
            .await
            .expect("SubmitProgressReports")
            .into_inner()
    }

    pub async fn get_report(&mut self, name: &str) -> v1::ProgressReport {
        self.progress_reports
            .get_progress_report(v1::GetProgressReportRequest {
                name: name.into(),
                as_of: None,
            })
            .await
            .expect("GetProgressReport")
            .into_inner()
    }

    /// Every report of a trajectory, by quarter (follows all pages).
    pub async fn list_reports(&mut self, trajectory: &str) -> Vec<v1::ProgressReport> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .progress_reports
                .list_progress_reports(v1::ListProgressReportsRequest {
                    parent: trajectory.into(),
                    page_size: 2,
                    page_token: token.clone(),
                    as_of: None,
                })
                .await
                .expect("ListProgressReports")
                .into_inner();
            assert!(page.reports.len() <= 2, "page exceeds page_size 2");
            out.extend(page.reports);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }

    /// Every version of a report, oldest first (follows all pages).
    pub async fn report_versions(&mut self, name: &str) -> Vec<v1::ProgressReport> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .progress_reports
                .list_progress_report_versions(v1::ListProgressReportVersionsRequest {
                    name: name.into(),
                    page_size: 2,
                    page_token: token.clone(),
                    as_of: None,
                })
                .await
                .expect("ListProgressReportVersions")
                .into_inner();
            assert!(page.versions.len() <= 2, "page exceeds page_size 2");
            out.extend(page.versions);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }

    /// Every trajectory assigned to the calling provider (follows all pages
    /// of `page_size`).
    pub async fn assigned_trajectories(&mut self, page_size: i32) -> Vec<v1::AssignedTrajectory> {
        let mut out = Vec::new();
        let mut token = String::new();
        let mut pages = 0;
        loop {
            let page = self
                .progress_reports
                .list_assigned_trajectories(v1::ListAssignedTrajectoriesRequest {
                    parent: GEMEENTE.into(),
                    page_size,
                    page_token: token.clone(),
                })
                .await
                .expect("ListAssignedTrajectories")
                .into_inner();
            pages += 1;
            assert!(
                page_size <= 0 || page.trajectories.len() <= page_size as usize,
                "page of {} exceeds page_size {page_size}",
                page.trajectories.len()
            );
            assert!(pages < 1000, "ListAssignedTrajectories does not end");
            out.extend(page.trajectories);
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }
}

/// The report name and version of an accepted item; panics on a rejection.
#[track_caller]
pub fn accepted(result: &v1::ProgressReportResult) -> (String, i64) {
    assert!(
        result.rejection.is_none(),
        "item {} ({}) was rejected: {:?}",
        result.index,
        result.idempotency_key,
        result.rejection
    );
    assert!(
        !result.report.is_empty() && result.report_version >= 1,
        "accepted item {} without report name or version: {result:?}",
        result.index
    );
    (result.report.clone(), result.report_version)
}

/// Asserts an item was rejected with `code`; `what` is the field (for
/// INVALID_ARGUMENT and NOT_FOUND, a sub-path such as `what[3]` or `what.x`
/// also matches) or the rule (for FAILED_PRECONDITION).
#[track_caller]
pub fn assert_rejected(result: &v1::ProgressReportResult, code: &str, what: &str) {
    let rejection = result.rejection.as_ref().unwrap_or_else(|| {
        panic!(
            "item {} ({}) should be rejected with {code} `{what}`, was accepted as {} v{}",
            result.index, result.idempotency_key, result.report, result.report_version
        )
    });
    assert_eq!(
        rejection.code, code,
        "item {} ({}): wrong code: {rejection:?}",
        result.index, result.idempotency_key
    );
    if code == "FAILED_PRECONDITION" {
        assert_eq!(
            rejection.rule, what,
            "item {} ({}): wrong rule: {rejection:?}",
            result.index, result.idempotency_key
        );
    } else {
        let f = rejection.field.as_str();
        assert!(
            f == what
                || f.strip_prefix(what)
                    .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.')),
            "item {} ({}): rejection should name field `{what}`: {rejection:?}",
            result.index,
            result.idempotency_key
        );
    }
    assert!(
        !rejection.message.is_empty(),
        "item {}: rejection without message",
        result.index
    );
    assert!(
        result.report.is_empty() && result.report_version == 0,
        "a rejected item names no report: {result:?}"
    );
}
