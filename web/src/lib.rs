//! The `server` binary's library: the axum application, its routes and middleware, and the CLI.
//! `server/src/main.rs` only hands in the site's pages and calls in here, so tests run the real
//! thing.

pub mod api;
pub mod auth;
pub mod cli;
pub mod csrf;
pub mod health;
pub mod hooks;
pub mod metrics_endpoint;
pub mod observe;
pub mod security_headers;
pub mod server_fn_status;
pub mod startup;
pub mod static_files;
pub mod telemetry;
pub mod webhook;
