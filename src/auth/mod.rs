//! Who is calling, and what they may do. Authentication turns a bearer token
//! into a `Principal`; `policy` decides per RPC, in one table, which roles
//! may call it. Tenancy (a caller only ever reaches its own gemeente) is
//! enforced by every store query taking the caller's gemeente.

pub mod jwt;
pub mod layer;
pub mod policy;
pub mod tokens;

use crate::domain::client::SUBJECT_MAX;
use crate::domain::gemeente::GemeenteCode;
use crate::domain::provider::KvkNumber;
use std::sync::Arc;

/// The roles of the system. Each maps to a column in `policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Casemanager,
    FunctioneelBeheerder,
    DataManager,
    Provider,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Casemanager,
        Role::FunctioneelBeheerder,
        Role::DataManager,
        Role::Provider,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Casemanager => "casemanager",
            Role::FunctioneelBeheerder => "functioneel_beheerder",
            Role::DataManager => "data_manager",
            Role::Provider => "provider",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    pub gemeente: GemeenteCode,
    /// For the provider role: which reïntegratiebedrijf the caller speaks for.
    pub provider: Option<String>,
}

impl Principal {
    /// Checks what a token file entry or a JWT says about its caller. Both
    /// sources follow one rule, so a principal means the same wherever it
    /// came from.
    pub fn from_parts(
        subject: String,
        role: &str,
        gemeente: &str,
        provider: Option<String>,
    ) -> Result<Principal, String> {
        if subject.trim().is_empty() {
            return Err("subject is required".into());
        }
        // The subject is written as `actor` into every version a caller
        // records, a column of at most SUBJECT_MAX characters: a longer one
        // would fail every write in the database instead of at the door.
        if subject.chars().count() > SUBJECT_MAX {
            return Err(format!("subject is longer than {SUBJECT_MAX} characters"));
        }
        let role = Role::parse(role).ok_or_else(|| format!("unknown role {role:?}"))?;
        let gemeente = GemeenteCode::parse(gemeente).map_err(|e| e.to_string())?;
        if (role == Role::Provider) != provider.is_some() {
            return Err("`provider` is required for role provider and only allowed there".into());
        }
        if let Some(kvk) = &provider {
            KvkNumber::parse(kvk).map_err(|e| format!("provider: {e}"))?;
        }
        Ok(Principal {
            subject,
            role,
            gemeente,
            provider,
        })
    }
}

/// Turns bearer tokens into principals, from two sources: JWTs signed by the
/// gemeente's identity provider (production), and the static token file
/// (development). Each is off unless configured; with neither, every call
/// that needs a caller is refused.
#[derive(Clone, Default)]
pub struct Authenticator {
    jwt: Option<Arc<jwt::JwtVerifier>>,
    tokens: Option<Arc<tokens::TokenFile>>,
}

impl Authenticator {
    pub fn new(jwt: Option<jwt::JwtVerifier>, tokens: Option<tokens::TokenFile>) -> Self {
        Authenticator {
            jwt: jwt.map(Arc::new),
            tokens: tokens.map(Arc::new),
        }
    }

    /// A JWT first, when a verifier is configured; then the token file.
    pub fn authenticate(&self, bearer: &str) -> Option<Principal> {
        if let Some(principal) = self.jwt.as_ref().and_then(|jwt| jwt.verify(bearer)) {
            return Some(principal);
        }
        self.tokens.as_ref()?.principal(bearer).cloned()
    }
}
