//! clientvolg: a cliëntvolgsysteem for the work-and-income departments of
//! Dutch municipalities. The crate is layered: `domain` holds pure types and
//! rules, `store` the append-only history in the database, `api` the gRPC
//! services, `auth` who the caller is and what they may do, `tls` the
//! optional (mutual) TLS, and `app` wires them into a running server.

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod demo;
pub mod domain;
pub mod proto;
pub mod reports;
pub mod store;
pub mod tls;
