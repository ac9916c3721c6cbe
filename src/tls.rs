//! Optional TLS on the gRPC port, and mutual TLS for provider systems. The
//! service carries BSNs and bearer tokens, so outside a trusted network it
//! must not be spoken in plaintext; with a client CA, only systems holding a
//! certificate signed by it can even open a connection.

use std::path::{Path, PathBuf};
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The server's certificate chain, PEM.
    pub cert: PathBuf,
    /// The server's private key, PEM.
    pub key: PathBuf,
    /// With it, every client must present a certificate signed by this CA.
    pub client_ca: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} holds no PEM {what}")]
    NotPem { path: String, what: &'static str },
    #[error("{files}: {reason}")]
    Invalid { files: String, reason: String },
}

impl TlsConfig {
    /// A server builder that speaks TLS. tonic parses the PEM files only
    /// when they are handed to the builder, so this is done at start-up,
    /// where a bad file is an error rather than a failed connection later.
    pub fn server(&self) -> Result<Server, TlsError> {
        let mut config = ServerTlsConfig::new().identity(Identity::from_pem(
            read(&self.cert, "CERTIFICATE")?,
            read(&self.key, "PRIVATE KEY")?,
        ));
        if let Some(ca) = &self.client_ca {
            config = config.client_ca_root(Certificate::from_pem(read(ca, "CERTIFICATE")?));
        }
        Server::builder()
            .tls_config(config)
            .map_err(|error| TlsError::Invalid {
                files: self.files(),
                reason: chain(&error),
            })
    }

    /// The files named in an error, since tonic does not say which one is bad.
    fn files(&self) -> String {
        let mut files = format!(
            "certificate {} and key {}",
            self.cert.display(),
            self.key.display()
        );
        if let Some(ca) = &self.client_ca {
            files.push_str(&format!(" and client CA {}", ca.display()));
        }
        files
    }
}

/// The file's text, if it holds a PEM block whose label ends in `what`
/// (`PRIVATE KEY` also covers `RSA PRIVATE KEY` and `EC PRIVATE KEY`).
/// Checked here because a file without one reaches rustls as an empty list,
/// and its complaint ("peer sent no certificates") names no file.
fn read(path: &Path, what: &'static str) -> Result<String, TlsError> {
    let text = std::fs::read_to_string(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let has_block = text.lines().any(|line| {
        line.trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
            .is_some_and(|label| label.ends_with(what))
    });
    if !has_block {
        return Err(TlsError::NotPem {
            path: path.display().to_string(),
            what,
        });
    }
    Ok(text)
}

/// tonic's own message is only "transport error"; the cause is in its
/// sources.
fn chain(error: &dyn std::error::Error) -> String {
    let mut causes = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    if causes.is_empty() {
        error.to_string()
    } else {
        causes.join(": ")
    }
}
