//! Every HTTP, CLI and README test of the server, in one test binary: one link instead of one per
//! file. Each module is one area; `common` starts servers and holds the request helpers.

#[macro_use]
mod common;

mod admin_cache;
mod admin_dashboard;
mod admin_login;
mod admin_orgs;
mod admin_users;
mod auth_sessions;
mod auth_tokens;
mod billing;
mod chaos;
mod clerk_reference;
mod cli;
mod export_user;
mod full_disk;
mod hardening;
mod health;
mod machine_tokens;
mod migrate_users;
mod multi_instance;
mod observability;
mod org_urls;
mod pages;
mod readme;
mod reconcile;
mod session_cache;
mod shutdown;
mod staff_cli;
mod staff_security;
mod static_assets;
mod sync;
mod usernames;
mod webhook_convergence;
mod webhooks;
