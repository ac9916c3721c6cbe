//! The gRPC services, one per file. Each handler parses its request into
//! domain types (`convert`), calls the store, and maps the result back; every
//! failure goes through `error::ApiError`, the one place that chooses a
//! status code.

pub mod classifications;
pub mod clients;
pub mod codec;
pub mod contracts;
pub mod convert;
pub mod doelgroepen;
pub mod error;
pub mod logging;
pub mod processing_log;
pub mod progress_reports;
pub mod providers;
pub mod registrations;
pub mod reports;
pub mod trajectories;
