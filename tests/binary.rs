//! The `clientvolg` binary: `migrate` and `serve`, and what it logs (SQLite
//! only, in a temporary directory).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clientvolg::proto::clientvolg::v1::{Client, CreateClientRequest, GetClientRequest};
use common::*;
use tonic::Code;

const BIN: &str = env!("CARGO_BIN_EXE_clientvolg");

fn command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .env_remove("CLIENTVOLG_LISTEN")
        .env_remove("CLIENTVOLG_TOKENS");
    for name in [
        "CLIENTVOLG_JWT_JWKS",
        "CLIENTVOLG_JWT_PUBLIC_KEY",
        "CLIENTVOLG_JWT_ISSUER",
        "CLIENTVOLG_JWT_AUDIENCE",
        "CLIENTVOLG_TLS_CERT",
        "CLIENTVOLG_TLS_KEY",
        "CLIENTVOLG_TLS_CLIENT_CA",
    ] {
        cmd.env_remove(name);
    }
    cmd
}

fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("clientvolg.db").display())
}

/// Removes ANSI escape sequences, in case colours are used anyway.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A running `clientvolg serve` whose stderr (and stdout) lines are collected.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    fn start(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn clientvolg serve");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(strip_ansi(&line));
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx2.send(strip_ansi(&line));
            }
        });
        Server {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits (at most 60 s) for a log line containing `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => {
                    let status = self.child.try_wait();
                    panic!(
                        "no log line containing {needle:?} (process: {status:?}); log so far:\n{}",
                        self.seen.join("\n")
                    );
                }
            }
        }
    }

    /// Kills the process and returns every line it wrote.
    fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line);
        }
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_addr(line: &str) -> std::net::SocketAddr {
    let start = line.find("addr=").expect("addr= in the listening line") + "addr=".len();
    let rest = &line[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == ',' || c == '}')
        .unwrap_or(rest.len());
    rest[..end]
        .trim_matches('"')
        .parse()
        .unwrap_or_else(|e| panic!("cannot parse address in {line:?}: {e}"))
}

async fn connect(addr: std::net::SocketAddr) -> tonic::transport::Channel {
    tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect to clientvolg serve")
}

fn authed(
    channel: tonic::transport::Channel,
) -> clientvolg::proto::clientvolg::v1::client_service_client::ClientServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>,
> {
    clientvolg::proto::clientvolg::v1::client_service_client::ClientServiceClient::with_interceptor(
        channel,
        Bearer::new(CM_ANNA),
    )
}

#[test]
fn migrate_exits_zero_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    for attempt in 1..=2 {
        let out = command()
            .args(["migrate", "--database-url", &url])
            .output()
            .expect("run clientvolg migrate");
        assert!(
            out.status.success(),
            "migrate (attempt {attempt}) exited {:?}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(dir.path().join("clientvolg.db").exists());

    // The database URL can also come from DATABASE_URL.
    let url2 = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("from-env.db").display()
    );
    let out = command()
        .arg("migrate")
        .env("DATABASE_URL", &url2)
        .output()
        .expect("run clientvolg migrate with DATABASE_URL");
    assert!(
        out.status.success(),
        "migrate with DATABASE_URL exited {:?}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("from-env.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_requests_without_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let tokens = write_tokens_file(dir.path());

    let out = command()
        .args(["migrate", "--database-url", &url])
        .output()
        .expect("run clientvolg migrate");
    assert!(
        out.status.success(),
        "migrate exited {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    let mut cmd = command();
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &url,
        "--tokens",
        tokens.to_str().unwrap(),
    ]);
    let mut server = Server::start(cmd);
    let listening = server.wait_for("listening");
    assert!(listening.contains("addr=127.0.0.1:"), "{listening}");
    let addr = parse_addr(&listening);
    assert_ne!(addr.port(), 0, "the real port is logged, not 0");

    let channel = connect(addr).await;
    let mut clients = authed(channel.clone());

    let the_bsn = bsn(800);
    let given_name = "Zebedeus";
    let surname = "Quackenbusch";
    let created = clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(Client {
                given_name: given_name.into(),
                surname_prefix: "ter".into(),
                surname: surname.into(),
                ..sample_client(&the_bsn)
            }),
            change: Some(reason("intake")),
        })
        .await
        .expect("CreateClient through the binary")
        .into_inner();
    assert_eq!(created.revision.as_ref().unwrap().actor, "cm-anna");

    // A rejected request, carrying personal data that must not be logged.
    let bad_bsn = "987654320";
    assert!(!elfproef(bad_bsn));
    let result = clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(Client {
                given_name: "Xantippe".into(),
                surname: "Vlielandt".into(),
                ..sample_client(bad_bsn)
            }),
            change: None,
        })
        .await;
    assert_code(result, Code::InvalidArgument);

    // A duplicate: its error must not echo the BSN into the log either.
    let result = clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(Client {
                given_name: given_name.into(),
                surname: surname.into(),
                ..sample_client(&the_bsn)
            }),
            change: None,
        })
        .await;
    assert_code(result, Code::AlreadyExists);

    let result = clients
        .get_client(GetClientRequest {
            name: format!("clients/{}", uuid::Uuid::new_v4()),
            as_of: None,
        })
        .await;
    assert_code(result, Code::NotFound);
    let got = clients
        .get_client(GetClientRequest {
            name: created.name.clone(),
            as_of: None,
        })
        .await
        .expect("GetClient through the binary")
        .into_inner();
    assert_eq!(got.surname, surname);

    // Without a token.
    let mut anonymous =
        clientvolg::proto::clientvolg::v1::client_service_client::ClientServiceClient::new(
            channel.clone(),
        );
    let result = anonymous
        .get_client(GetClientRequest {
            name: created.name.clone(),
            as_of: None,
        })
        .await;
    assert_code(result, Code::Unauthenticated);

    let ok_line =
        server.wait_for("method=/clientvolg.v1.ClientService/CreateClient status=Ok latency_ms=");
    assert!(!ok_line.contains(&the_bsn));
    server.wait_for("method=/clientvolg.v1.ClientService/CreateClient status=InvalidArgument");
    server.wait_for("method=/clientvolg.v1.ClientService/CreateClient status=AlreadyExists");
    server.wait_for("method=/clientvolg.v1.ClientService/GetClient status=NotFound");
    server.wait_for("method=/clientvolg.v1.ClientService/GetClient status=Ok");
    server.wait_for("method=/clientvolg.v1.ClientService/GetClient status=Unauthenticated");

    let log = server.stop();
    let text = log.join("\n");
    for secret in [
        the_bsn.as_str(),
        bad_bsn,
        given_name,
        surname,
        "Xantippe",
        "Vlielandt",
    ] {
        assert!(
            !text.contains(secret),
            "the log contains personal data {secret:?}:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reads_configuration_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let tokens = write_tokens_file(dir.path());
    let mut cmd = command();
    cmd.arg("serve")
        .env("CLIENTVOLG_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", &url)
        .env("CLIENTVOLG_TOKENS", &tokens);
    let mut server = Server::start(cmd);
    let listening = server.wait_for("listening");
    let addr = parse_addr(&listening);
    let mut clients = authed(connect(addr).await);
    // serve migrates by itself: the database was never migrated explicitly.
    let created = clients
        .create_client(CreateClientRequest {
            parent: GEMEENTE.into(),
            client: Some(sample_client(&bsn(810))),
            change: None,
        })
        .await
        .expect("CreateClient through the binary configured by env")
        .into_inner();
    assert_eq!(created.revision.unwrap().version, 1);
    server.stop();
}
