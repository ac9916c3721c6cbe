//! Bearer JWTs from a gemeente's identity provider: which are accepted, which
//! are refused, and how they live beside the development token file. The
//! identity provider's keys are made here, per test binary; SQLite only, as
//! authentication does not depend on the database.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clientvolg::auth::jwt::{JwtConfig, JwtKeys};
use clientvolg::proto::clientvolg::v1::{GetClientRequest, ListClientsRequest};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;

const ISSUER: &str = "https://login.example.nl/realms/amsterdam";
const AUDIENCE: &str = "clientvolg";

/// The identity provider: an EC P-256 key (kid `ec-1`) and an RSA key
/// (kid `rsa-1`), and an impostor's keys that it never published.
struct Idp {
    ec: rcgen::KeyPair,
    rsa: rsa::RsaPrivateKey,
    impostor_ec: rcgen::KeyPair,
}

/// RSA key generation is slow in a debug build, so each binary makes its
/// keys once.
fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(|| Idp {
        ec: rcgen::KeyPair::generate().unwrap(),
        rsa: rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap(),
        impostor_ec: rcgen::KeyPair::generate().unwrap(),
    })
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The identity provider's JWKS, with an encryption key that must be skipped.
fn jwks() -> Value {
    let idp = idp();
    // An uncompressed SEC1 point: 0x04, x (32 bytes), y (32 bytes).
    let point = idp.ec.public_key_raw();
    json!({"keys": [
        {"kty": "RSA", "use": "enc", "kid": "rsa-enc", "alg": "RSA-OAEP",
         "n": b64(&idp.rsa.n().to_bytes_be()), "e": b64(&idp.rsa.e().to_bytes_be())},
        {"kty": "EC", "use": "sig", "kid": "ec-1", "crv": "P-256", "alg": "ES256",
         "x": b64(&point[1..33]), "y": b64(&point[33..])},
        {"kty": "RSA", "use": "sig", "kid": "rsa-1", "alg": "RS256",
         "n": b64(&idp.rsa.n().to_bytes_be()), "e": b64(&idp.rsa.e().to_bytes_be())},
    ]})
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The claims of a casemanager of 0363 with subject `cm-jan`, valid for five
/// minutes.
fn claims() -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "cm-jan",
        "iat": now(), "exp": now() + 300,
        "role": "casemanager", "gemeente": "0363",
    })
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

fn es256(key: &rcgen::KeyPair, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn rs256(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rsa-1".into());
    let der = idp().rsa.to_pkcs1_der().unwrap();
    let key = EncodingKey::from_rsa_der(der.as_bytes());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// A token of the identity provider's EC key.
fn jwt(claims: &Value) -> String {
    es256(&idp().ec, "ec-1", claims)
}

/// A token with a hand-made header and signature: what no library would sign.
fn forged(header: Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

struct Server {
    served: Served,
    _dir: tempfile::TempDir,
}

impl Server {
    /// JWTs from the JWKS above; the development tokens too when asked.
    async fn start(with_tokens: bool) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let jwks_path = dir.path().join("jwks.json");
        std::fs::write(&jwks_path, jwks().to_string()).unwrap();
        Server::start_with(dir, JwtKeys::Jwks(jwks_path), with_tokens).await
    }

    async fn start_with(dir: tempfile::TempDir, keys: JwtKeys, with_tokens: bool) -> Server {
        let config = clientvolg::app::Config {
            tokens_file: with_tokens.then(|| write_tokens_file(dir.path())),
            jwt: Some(JwtConfig {
                keys,
                issuer: ISSUER.into(),
                audience: AUDIENCE.into(),
            }),
            ..sqlite_config(dir.path())
        };
        let served = serve(config).await.expect("server starts");
        Server { served, _dir: dir }
    }

    async fn clients(&self, bearer: &str) -> Clients {
        let channel = Channel::from_shared(format!("http://{}", self.served.addr))
            .unwrap()
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect("connect");
        Clients::new(channel, Some(format!("Bearer {bearer}")))
    }

    /// The code a ListClients of 0363 answers with this bearer token.
    async fn list_code(&self, bearer: &str) -> Code {
        let result = self
            .clients(bearer)
            .await
            .clients
            .list_clients(ListClientsRequest {
                parent: GEMEENTE.into(),
                ..Default::default()
            })
            .await;
        match result {
            Ok(_) => Code::Ok,
            Err(status) => status.code(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_jwt_acts_as_its_subject_role_and_gemeente() {
    let server = Server::start(false).await;
    let mut jan = server.clients(&jwt(&claims())).await;
    let created = jan.create_client(sample_client(&bsn(1))).await;
    let revision = created.revision.as_ref().unwrap();
    assert_eq!(revision.actor, "cm-jan");
    let got = jan
        .clients
        .get_client(GetClientRequest {
            name: created.name.clone(),
            as_of: None,
        })
        .await
        .expect("GetClient with a JWT")
        .into_inner();
    assert_eq!(got.bsn, bsn(1));

    // The RSA key of the same set, chosen by its kid.
    let mut by_rsa = server.clients(&rs256(&claims())).await;
    assert_eq!(by_rsa.list_all_clients().await.len(), 1);

    // The gemeente claim is the tenant: 0599 sees no client of 0363.
    let rotterdam = jwt(&with(
        claims(),
        json!({"gemeente": "0599", "sub": "cm-rob"}),
    ));
    let mut rob = server.clients(&rotterdam).await;
    assert!(rob.list_all_clients_in(GEMEENTE_0599).await.is_empty());
    assert_code(
        rob.clients
            .get_client(GetClientRequest {
                name: created.name.clone(),
                as_of: None,
            })
            .await,
        Code::NotFound,
    );
    assert_eq!(server.list_code(&rotterdam).await, Code::PermissionDenied);

    // The role claim is the role: a data manager may not read clients.
    let data_manager = jwt(&with(claims(), json!({"role": "data_manager"})));
    assert_eq!(
        server.list_code(&data_manager).await,
        Code::PermissionDenied
    );

    // An audience list holding ours, and a not-before in the past, are fine.
    let listed = jwt(&with(
        claims(),
        json!({"aud": ["account", AUDIENCE], "nbf": now() - 60}),
    ));
    assert_eq!(server.list_code(&listed).await, Code::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_jwts_are_unauthenticated() {
    let server = Server::start(false).await;
    let idp = idp();
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("ec-1".into());
        // The public key as an HMAC secret: the classic algorithm confusion.
        let key = EncodingKey::from_secret(idp.ec.public_key_raw());
        jsonwebtoken::encode(&header, &claims(), &key).unwrap()
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "expired beyond the leeway",
            jwt(&with(claims(), json!({"exp": now() - 120}))),
        ),
        ("without exp", jwt(&with(claims(), json!({"exp": null})))),
        (
            "not yet valid",
            jwt(&with(claims(), json!({"nbf": now() + 600}))),
        ),
        (
            "another issuer",
            jwt(&with(
                claims(),
                json!({"iss": "https://login.example.nl/realms/rotterdam"}),
            )),
        ),
        ("without issuer", jwt(&with(claims(), json!({"iss": null})))),
        (
            "another audience",
            jwt(&with(claims(), json!({"aud": "another-app"}))),
        ),
        (
            "without audience",
            jwt(&with(claims(), json!({"aud": null}))),
        ),
        (
            "without subject",
            jwt(&with(claims(), json!({"sub": null}))),
        ),
        ("without role", jwt(&with(claims(), json!({"role": null})))),
        (
            "an unknown role",
            jwt(&with(claims(), json!({"role": "admin"}))),
        ),
        (
            "without gemeente",
            jwt(&with(claims(), json!({"gemeente": null}))),
        ),
        (
            "a gemeente that is no CBS code",
            jwt(&with(claims(), json!({"gemeente": "363"}))),
        ),
        (
            "role provider without provider claim",
            jwt(&with(claims(), json!({"role": "provider"}))),
        ),
        (
            "a provider claim for a casemanager",
            jwt(&with(claims(), json!({"provider": "rb-werkfit"}))),
        ),
        (
            "signed by a key the identity provider never published",
            es256(&idp.impostor_ec, "ec-1", &claims()),
        ),
        (
            "signed by an unknown kid",
            es256(&idp.impostor_ec, "ec-2", &claims()),
        ),
        ("HS256", hs256),
        (
            "alg none",
            forged(json!({"alg": "none", "typ": "JWT"}), &claims(), b""),
        ),
        (
            "RS256 header naming the EC key",
            forged(
                json!({"alg": "RS256", "kid": "ec-1"}),
                &claims(),
                &[0u8; 256],
            ),
        ),
        ("not a JWT at all", "dev-casemanager-0363".into()),
    ];
    for (case, token) in cases {
        assert_eq!(
            server.list_code(&token).await,
            Code::Unauthenticated,
            "{case}"
        );
    }
    // A token with a tampered payload keeps no valid signature.
    let token = jwt(&claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let tampered_claims = b64(with(claims(), json!({"gemeente": "0599"}))
        .to_string()
        .as_bytes());
    parts[1] = &tampered_claims;
    assert_eq!(
        server.list_code(&parts.join(".")).await,
        Code::Unauthenticated
    );
    // And the untampered one still works, so the refusals above are real.
    assert_eq!(server.list_code(&token).await, Code::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_pem_public_key_verifies_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("idp.pem");
    std::fs::write(&pem, idp().ec.public_key_pem()).unwrap();
    let server = Server::start_with(dir, JwtKeys::PublicKeyPem(pem), false).await;
    // A PEM key has no kid: it is tried whatever kid the token names.
    assert_eq!(server.list_code(&jwt(&claims())).await, Code::Ok);
    assert_eq!(
        server
            .list_code(&es256(&idp().ec, "rotated", &claims()))
            .await,
        Code::Ok
    );
    assert_eq!(
        server
            .list_code(&es256(&idp().impostor_ec, "ec-1", &claims()))
            .await,
        Code::Unauthenticated
    );
    assert_eq!(
        server.list_code(&rs256(&claims())).await,
        Code::Unauthenticated
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_tokens_work_beside_jwts_only_when_configured() {
    let both = Server::start(true).await;
    assert_eq!(both.list_code(CM_ANNA).await, Code::Ok);
    assert_eq!(both.list_code(&jwt(&claims())).await, Code::Ok);
    assert_eq!(
        both.list_code("not-a-listed-token").await,
        Code::Unauthenticated
    );
    let mut anna = both.clients(CM_ANNA).await;
    let created = anna.create_client(sample_client(&bsn(2))).await;
    assert_eq!(created.revision.unwrap().actor, "cm-anna");

    let jwt_only = Server::start(false).await;
    assert_eq!(jwt_only.list_code(CM_ANNA).await, Code::Unauthenticated);
    assert_eq!(jwt_only.list_code(&jwt(&claims())).await, Code::Ok);
}
