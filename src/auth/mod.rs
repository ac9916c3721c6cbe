//! Who is calling, and what they may do. Authentication turns a bearer token
//! into a `Principal`; `policy` decides per RPC, in one table, which roles
//! may call it. Tenancy (a caller only ever reaches its own gemeente) is
//! enforced by every store query taking the caller's gemeente.

pub mod layer;
pub mod policy;
pub mod tokens;

use crate::domain::gemeente::GemeenteCode;
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

/// Turns bearer tokens into principals. Only the static token file of the
/// development set-up exists so far; JWT verification will be another
/// variant behind the same call.
#[derive(Clone, Default)]
pub struct Authenticator {
    tokens: Option<Arc<tokens::TokenFile>>,
}

impl Authenticator {
    pub fn with_tokens(tokens: tokens::TokenFile) -> Self {
        Authenticator {
            tokens: Some(Arc::new(tokens)),
        }
    }

    pub fn authenticate(&self, bearer: &str) -> Option<Principal> {
        self.tokens.as_ref()?.principal(bearer).cloned()
    }
}
