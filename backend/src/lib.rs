//! Server-only domain code shared by the Leptos app (under `ssr`) and the `server` binary:
//! configuration, the database and its repositories, and server sessions.

pub mod account;
pub mod admin;
pub mod api_keys;
pub mod auth;
pub mod clerk;
pub mod config;
pub mod db;
pub mod dev_sign_in;
pub mod devmode;
pub mod email;
pub mod export;
pub mod invalid_value;
pub mod invalidation;
pub mod invalidation_bus;
pub mod machine;
pub mod measure;
pub mod mirror;
pub mod org_urls;
pub mod proxy;
pub mod reconcile;
pub mod session_store;
pub mod staff;
pub mod sync;
pub mod webhooks;

pub use config::{Config, ConfigError};
pub use db::Db;

/// The hasher of the caches read on every request (verified tokens, users, memberships, ended
/// sessions): foldhash, seeded per process, at about half SipHash's cost on these keys.
pub(crate) type CacheHasher = foldhash::quality::RandomState;
