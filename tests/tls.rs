//! TLS and mutual TLS on the gRPC port, and start-up refusing bad security
//! configuration. The certificates are made here, in a temporary directory;
//! SQLite only, as the transport does not depend on the database.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clientvolg::app::{Config, StartupError};
use clientvolg::auth::jwt::{JwtConfig, JwtKeys};
use clientvolg::proto::clientvolg::v1::ListClientsRequest;
use clientvolg::tls::TlsConfig;
use common::*;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

type Ca = CertifiedIssuer<'static, KeyPair>;

fn ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A certificate signed by `ca` for `names`, and its key, both PEM.
fn leaf(ca: &Ca, names: &[&str], usage: ExtendedKeyUsagePurpose) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params.extended_key_usages = vec![usage];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// The files of a deployment: the server's certificate from one CA, and a
/// client CA for provider systems.
struct Pki {
    dir: tempfile::TempDir,
    server_ca: String,
    client_ca: Ca,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let server_ca = ca("clientvolg test server CA");
        let (cert, key) = leaf(
            &server_ca,
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let client_ca = ca("clientvolg test provider CA");
        let pki = Pki {
            dir,
            server_ca: server_ca.pem(),
            client_ca,
        };
        pki.write("server.pem", &cert);
        pki.write("server.key", &key);
        pki.write("client-ca.pem", &pki.client_ca.pem());
        pki
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn tls(&self, mutual: bool) -> TlsConfig {
        TlsConfig {
            cert: self.path("server.pem"),
            key: self.path("server.key"),
            client_ca: mutual.then(|| self.path("client-ca.pem")),
        }
    }

    /// A client that trusts the server's CA, with a client certificate if given.
    fn client_tls(&self, identity: Option<(String, String)>) -> ClientTlsConfig {
        let config = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.server_ca))
            .domain_name("localhost");
        match identity {
            Some((cert, key)) => config.identity(Identity::from_pem(cert, key)),
            None => config,
        }
    }

    /// A certificate of a provider system, signed by the client CA.
    fn provider_identity(&self) -> (String, String) {
        leaf(
            &self.client_ca,
            &["werkfit.example.nl"],
            ExtendedKeyUsagePurpose::ClientAuth,
        )
    }

    async fn serve(&self, mutual: bool) -> Served {
        let config = Config {
            tokens_file: Some(write_tokens_file(self.dir.path())),
            tls: Some(self.tls(mutual)),
            ..sqlite_config(self.dir.path())
        };
        serve(config).await.expect("server with TLS starts")
    }
}

/// Connects (with TLS when given) and returns the channel, or why not.
async fn connect(
    addr: std::net::SocketAddr,
    tls: Option<ClientTlsConfig>,
) -> Result<Channel, String> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut endpoint = Channel::from_shared(format!("{scheme}://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5));
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls).map_err(|e| e.to_string())?;
    }
    endpoint.connect().await.map_err(|e| format!("{e:?}"))
}

/// A health check over a fresh connection: Ok, or why it failed.
async fn health(addr: std::net::SocketAddr, tls: Option<ClientTlsConfig>) -> Result<(), String> {
    let channel = connect(addr, tls).await?;
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .map(|_| ())
        .map_err(|status| status.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_clients_that_trust_its_ca_and_refuses_plaintext() {
    let pki = Pki::new();
    let served = pki.serve(false).await;
    health(served.addr, Some(pki.client_tls(None)))
        .await
        .expect("a TLS client trusting the CA");

    // Authentication works as before on top of TLS.
    let channel = connect(served.addr, Some(pki.client_tls(None)))
        .await
        .unwrap();
    let mut anna = Clients::new(channel, Some(format!("Bearer {CM_ANNA}")));
    let created = anna.create_client(sample_client(&bsn(1))).await;
    assert_eq!(created.revision.unwrap().actor, "cm-anna");

    assert!(
        health(served.addr, None).await.is_err(),
        "a plaintext client must not get an answer"
    );
    // A client that does not trust the server's CA refuses the server.
    let stranger = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca("another CA").pem()))
        .domain_name("localhost");
    assert!(health(served.addr, Some(stranger)).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_admits_only_certificates_of_the_client_ca() {
    let pki = Pki::new();
    let served = pki.serve(true).await;

    let provider = pki.client_tls(Some(pki.provider_identity()));
    health(served.addr, Some(provider.clone()))
        .await
        .expect("a provider system with a certificate from the client CA");
    let channel = connect(served.addr, Some(provider)).await.unwrap();
    let mut anna = Clients::new(channel, Some(format!("Bearer {CM_ANNA}")));
    anna.clients
        .list_clients(ListClientsRequest {
            parent: GEMEENTE.into(),
            ..Default::default()
        })
        .await
        .expect("an authenticated call over mutual TLS");

    assert!(
        health(served.addr, Some(pki.client_tls(None)))
            .await
            .is_err(),
        "a client without a certificate must be refused"
    );
    let impostor = leaf(
        &ca("not the client CA"),
        &["werkfit.example.nl"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    assert!(
        health(served.addr, Some(pki.client_tls(Some(impostor))))
            .await
            .is_err(),
        "a certificate from another CA must be refused"
    );
    assert!(health(served.addr, None).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_security_configuration_fails_at_start() {
    let pki = Pki::new();
    let garbage = pki.write("garbage.pem", "not a PEM file\n");
    let other_key = pki.write("other.key", &KeyPair::generate().unwrap().serialize_pem());
    let missing = pki.path("missing.pem");
    let start = |tls: Option<TlsConfig>, jwt: Option<JwtConfig>| {
        let config = Config {
            tls,
            jwt,
            ..sqlite_config(pki.dir.path())
        };
        async move {
            match serve(config).await {
                Ok(_) => panic!("started with a bad configuration"),
                Err(error) => error,
            }
        }
    };
    let tls = |cert: &Path, key: &Path, client_ca: Option<&Path>| TlsConfig {
        cert: cert.into(),
        key: key.into(),
        client_ca: client_ca.map(Path::to_path_buf),
    };
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let tls_cases = [
        ("missing certificate", tls(&missing, &key, None)),
        ("certificate not PEM", tls(&garbage, &key, None)),
        ("key not PEM", tls(&cert, &garbage, None)),
        ("key of another certificate", tls(&cert, &other_key, None)),
        ("missing client CA", tls(&cert, &key, Some(&missing))),
        ("client CA not PEM", tls(&cert, &key, Some(&garbage))),
    ];
    for (case, config) in tls_cases {
        let error = start(Some(config), None).await;
        assert!(matches!(error, StartupError::Tls(_)), "{case}: {error}");
    }

    let jwks = |name: &str, text: &str| JwtKeys::Jwks(pki.write(name, text));
    let jwt = |keys: JwtKeys, issuer: &str| JwtConfig {
        keys,
        issuer: issuer.into(),
        audience: "clientvolg".into(),
    };
    let jwt_cases = [
        (
            "missing JWKS",
            jwt(JwtKeys::Jwks(missing.clone()), "https://idp"),
        ),
        (
            "JWKS not JSON",
            jwt(jwks("not-json.json", "not json"), "https://idp"),
        ),
        (
            "JWKS with only a secret key",
            jwt(
                jwks(
                    "secret.json",
                    r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#,
                ),
                "https://idp",
            ),
        ),
        (
            "PEM that is no public key",
            jwt(JwtKeys::PublicKeyPem(garbage.clone()), "https://idp"),
        ),
        (
            "no issuer",
            jwt(
                JwtKeys::PublicKeyPem(
                    pki.write("idp.pem", &KeyPair::generate().unwrap().public_key_pem()),
                ),
                "",
            ),
        ),
    ];
    for (case, config) in jwt_cases {
        let error = start(None, Some(config)).await;
        assert!(matches!(error, StartupError::Jwt(_)), "{case}: {error}");
    }
}
