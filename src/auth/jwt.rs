//! Verifies the JWTs a gemeente's identity provider issues, so that
//! production callers share no secret with this server: it holds only the
//! provider's public keys (a JWKS file or one PEM key), its issuer name and
//! the audience it writes for clientvolg. Only RS256 and ES256 are accepted:
//! `none` proves nothing, and an HMAC algorithm would let anyone holding the
//! verification key mint tokens.

use super::Principal;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rsa::traits::PublicKeyParts;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// How far the identity provider's clock may be ahead of or behind ours.
const LEEWAY_SECONDS: u64 = 30;

/// Shorter RSA keys are breakable; identity providers use 2048 bits or more.
const MIN_RSA_BITS: usize = 2048;

/// Where the identity provider's public keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtKeys {
    /// A JWKS document (`{"keys": [...]}`), as the provider publishes it.
    Jwks(PathBuf),
    /// One RSA or EC P-256 public key in PEM.
    PublicKeyPem(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    pub keys: JwtKeys,
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The `aud` every token must carry (one of them, if it is a list).
    pub audience: String,
}

#[derive(Debug, thiserror::Error)]
pub enum JwtConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error("JWT verification needs a non-empty {0}")]
    Missing(&'static str),
}

/// One public key and the checks a token signed with it must pass.
struct VerifyingKey {
    /// The JWKS `kid`; a PEM key has none and is tried for any token.
    kid: Option<String>,
    key: DecodingKey,
    /// Names exactly the key's algorithm: the library refuses a validation
    /// that mixes algorithm families.
    validation: Validation,
}

impl VerifyingKey {
    fn algorithm(&self) -> Algorithm {
        self.validation.algorithms[0]
    }
}

pub struct JwtVerifier {
    keys: Vec<VerifyingKey>,
}

/// The claims beyond the registered ones that make a principal. Optional
/// here so that a missing one is reported by name.
#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    role: Option<String>,
    gemeente: Option<String>,
    provider: Option<String>,
}

impl JwtVerifier {
    pub fn load(config: &JwtConfig) -> Result<JwtVerifier, JwtConfigError> {
        if config.issuer.trim().is_empty() {
            return Err(JwtConfigError::Missing("issuer"));
        }
        if config.audience.trim().is_empty() {
            return Err(JwtConfigError::Missing("audience"));
        }
        let (path, keys) = match &config.keys {
            JwtKeys::Jwks(path) => (path, read(path).and_then(|text| from_jwks(path, &text))?),
            JwtKeys::PublicKeyPem(path) => {
                let key = pem_key(&read(path)?).map_err(|reason| invalid(path, reason))?;
                (path, vec![(None, key)])
            }
        };
        let keys = keys
            .into_iter()
            .map(|(kid, (algorithm, key))| VerifyingKey {
                kid,
                key,
                validation: validation(algorithm, config),
            })
            .collect::<Vec<_>>();
        tracing::info!(
            keys = keys.len(),
            path = %path.display(),
            issuer = %config.issuer,
            audience = %config.audience,
            "JWT verification enabled"
        );
        Ok(JwtVerifier { keys })
    }

    /// The principal a valid token names; `None` for anything else, with
    /// the reason (never the token) in the debug log.
    pub fn verify(&self, token: &str) -> Option<Principal> {
        match self.principal(token) {
            Ok(principal) => Some(principal),
            Err(reason) => {
                tracing::debug!(%reason, "bearer token is not a valid JWT");
                None
            }
        }
    }

    fn principal(&self, token: &str) -> Result<Principal, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
            // An algorithm outside the library's list, such as `none`, fails here.
            ErrorKind::Json(_) => "unreadable header or unsupported algorithm".to_string(),
            _ => describe(&e),
        })?;
        let mut reason = format!("no configured key for {:?} with this kid", header.alg);
        // A key matches on algorithm, and on kid where both name one.
        let candidates = self.keys.iter().filter(|k| {
            k.algorithm() == header.alg
                && match (&k.kid, &header.kid) {
                    (Some(ours), Some(theirs)) => ours == theirs,
                    _ => true,
                }
        });
        for key in candidates {
            match jsonwebtoken::decode::<Claims>(token, &key.key, &key.validation) {
                Ok(data) => {
                    let Claims {
                        sub,
                        role,
                        gemeente,
                        provider,
                    } = data.claims;
                    let role = role.ok_or("no `role` claim")?;
                    let gemeente = gemeente.ok_or("no `gemeente` claim")?;
                    return Principal::from_parts(
                        sub.unwrap_or_default(),
                        &role,
                        &gemeente,
                        provider,
                    );
                }
                Err(e) => reason = describe(&e),
            }
        }
        Err(reason)
    }
}

fn validation(algorithm: Algorithm, config: &JwtConfig) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    validation
}

/// Why verification failed, without echoing any part of the token.
fn describe(error: &Error) -> String {
    match error.kind() {
        ErrorKind::Json(_) => "malformed claims".to_string(),
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) => "malformed encoding".to_string(),
        _ => error.to_string(),
    }
}

fn read(path: &Path) -> Result<String, JwtConfigError> {
    std::fs::read_to_string(path).map_err(|source| JwtConfigError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn invalid(path: &Path, reason: String) -> JwtConfigError {
    JwtConfigError::Invalid {
        path: path.display().to_string(),
        reason,
    }
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

/// The members of a JSON Web Key that matter here; others are ignored.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    alg: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

type Keys = Vec<(Option<String>, (Algorithm, DecodingKey))>;

/// Every usable signing key of a JWKS. A provider's set often also holds
/// encryption keys or other algorithms; those are skipped with a warning,
/// and only a set without any usable key is an error.
fn from_jwks(path: &Path, text: &str) -> Result<Keys, JwtConfigError> {
    let jwks: Jwks = serde_json::from_str(text)
        .map_err(|e| invalid(path, format!("not a JWKS document: {e}")))?;
    let mut keys = Vec::new();
    for (index, jwk) in jwks.keys.iter().enumerate() {
        match jwk_key(jwk) {
            Ok(key) => keys.push((jwk.kid.clone(), key)),
            Err(reason) => tracing::warn!(
                path = %path.display(),
                key = index + 1,
                kid = jwk.kid.as_deref().unwrap_or(""),
                "JWKS key skipped: {reason}"
            ),
        }
    }
    if keys.is_empty() {
        return Err(invalid(
            path,
            "no usable key: needs an RSA key (RS256, at least 2048 bits) or an EC P-256 key (ES256) for signing".into(),
        ));
    }
    Ok(keys)
}

fn jwk_key(jwk: &Jwk) -> Result<(Algorithm, DecodingKey), String> {
    if jwk.usage.as_deref().is_some_and(|usage| usage != "sig") {
        return Err("not a signing key".into());
    }
    // JWK members are unpadded base64url (RFC 7518).
    let member = |value: &Option<String>, name: &str| {
        let value = value
            .as_deref()
            .ok_or_else(|| format!("{} key without `{name}`", jwk.kty))?;
        URL_SAFE_NO_PAD
            .decode(value.trim_end_matches('='))
            .map_err(|_| format!("`{name}` is not base64url"))
    };
    match (jwk.kty.as_str(), jwk.alg.as_deref()) {
        ("RSA", None | Some("RS256")) => rsa_key(&member(&jwk.n, "n")?, &member(&jwk.e, "e")?),
        ("EC", None | Some("ES256")) => {
            if jwk.crv.as_deref() != Some("P-256") {
                return Err("EC key not on curve P-256".into());
            }
            // The uncompressed SEC1 point: 0x04, x, y.
            let mut point = vec![0x04];
            point.extend(member(&jwk.x, "x")?);
            point.extend(member(&jwk.y, "y")?);
            p256_key(&point)
        }
        (kty, alg) => Err(format!(
            "key type {kty} with algorithm {} is not supported",
            alg.unwrap_or("(none)")
        )),
    }
}

/// An RSA (SPKI or PKCS#1) or EC P-256 (SPKI) public key in PEM.
fn pem_key(text: &str) -> Result<(Algorithm, DecodingKey), String> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::DecodePublicKey;
    use rsa::pkcs1::DecodeRsaPublicKey;
    if let Ok(key) = rsa::RsaPublicKey::from_public_key_pem(text)
        .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(text))
    {
        return rsa_key(&key.n().to_bytes_be(), &key.e().to_bytes_be());
    }
    if let Ok(key) = p256::PublicKey::from_public_key_pem(text) {
        return p256_key(key.to_encoded_point(false).as_bytes());
    }
    Err("not an RSA or EC P-256 public key in PEM (-----BEGIN PUBLIC KEY-----)".into())
}

/// Checks an RSA key here, at start-up, rather than failing every token.
fn rsa_key(n: &[u8], e: &[u8]) -> Result<(Algorithm, DecodingKey), String> {
    let key = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(n),
        rsa::BigUint::from_bytes_be(e),
    )
    .map_err(|e| format!("invalid RSA key: {e}"))?;
    if key.n().bits() < MIN_RSA_BITS {
        return Err(format!(
            "RSA key of {} bits; at least {MIN_RSA_BITS} are required",
            key.n().bits()
        ));
    }
    Ok((Algorithm::RS256, DecodingKey::from_rsa_raw_components(n, e)))
}

/// Checks that the point lies on P-256 (a P-384 key would never verify).
fn p256_key(point: &[u8]) -> Result<(Algorithm, DecodingKey), String> {
    p256::PublicKey::from_sec1_bytes(point).map_err(|_| "not a valid EC P-256 public key")?;
    Ok((Algorithm::ES256, DecodingKey::from_ec_der(point)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// An RSA modulus of `bits` bits; its factors do not matter for loading.
    fn modulus(bits: usize) -> String {
        b64(&vec![0xC3; bits / 8])
    }

    fn ec_jwk(key: &rcgen::KeyPair, crv: &str) -> serde_json::Value {
        let point = key.public_key_raw();
        let half = (point.len() - 1) / 2;
        json!({"kty": "EC", "crv": crv, "x": b64(&point[1..=half]), "y": b64(&point[half + 1..])})
    }

    fn load(jwks: serde_json::Value) -> Result<Keys, JwtConfigError> {
        from_jwks(Path::new("jwks.json"), &jwks.to_string())
    }

    #[test]
    fn takes_the_signing_keys_of_a_jwks_and_skips_the_rest() {
        let p256 = rcgen::KeyPair::generate().unwrap();
        let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let keys = load(json!({"keys": [
            {"kty": "RSA", "kid": "a", "n": modulus(2048), "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": modulus(2048), "e": "AQAB"},
            {"kty": "RSA", "kid": "short", "n": modulus(1024), "e": "AQAB"},
            {"kty": "RSA", "kid": "ps256", "alg": "PS256", "n": modulus(2048), "e": "AQAB"},
            ec_jwk(&p384, "P-384"),
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "off-curve", "crv": "P-256", "x": b64(&[1; 32]), "y": b64(&[2; 32])},
            ec_jwk(&p256, "P-256"),
        ]}))
        .unwrap();
        let found: Vec<(Option<&str>, Algorithm)> = keys
            .iter()
            .map(|(kid, (algorithm, _))| (kid.as_deref(), *algorithm))
            .collect();
        assert_eq!(
            found,
            [(Some("a"), Algorithm::RS256), (None, Algorithm::ES256)]
        );
    }

    #[test]
    fn refuses_a_jwks_without_usable_keys() {
        for jwks in [
            json!({"keys": []}),
            json!({"keys": [{"kty": "RSA", "n": modulus(1024), "e": "AQAB"}]}),
            json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}),
            json!({"keys": [{"kty": "RSA", "e": "AQAB"}]}),
            json!({"not": "a jwks"}),
        ] {
            assert!(
                matches!(load(jwks.clone()), Err(JwtConfigError::Invalid { .. })),
                "{jwks}"
            );
        }
    }

    #[test]
    fn reads_rsa_and_p256_public_keys_in_pem() {
        let p256 = rcgen::KeyPair::generate().unwrap();
        assert_eq!(pem_key(&p256.public_key_pem()).unwrap().0, Algorithm::ES256);
        let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        assert!(pem_key(&p384.public_key_pem()).is_err());
        // A private key is not what is asked for.
        assert!(pem_key(&p256.serialize_pem()).is_err());
        assert!(pem_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").is_err());
    }

    #[test]
    fn needs_issuer_and_audience() {
        let config = |issuer: &str, audience: &str| JwtConfig {
            keys: JwtKeys::Jwks("does-not-matter.json".into()),
            issuer: issuer.into(),
            audience: audience.into(),
        };
        assert!(matches!(
            JwtVerifier::load(&config("", "clientvolg")),
            Err(JwtConfigError::Missing("issuer"))
        ));
        assert!(matches!(
            JwtVerifier::load(&config("https://idp", " ")),
            Err(JwtConfigError::Missing("audience"))
        ));
        assert!(matches!(
            JwtVerifier::load(&config("https://idp", "clientvolg")),
            Err(JwtConfigError::Read { .. })
        ));
    }
}
