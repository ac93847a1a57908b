//! The state every handler and server function shares.

use std::{ops::Deref, sync::Arc};

use axum::extract::FromRef;
use backend::{
    Config, Db,
    admin::{ClerkWrites, cache::AdminCache},
    auth::Authenticator,
    db::Readiness,
    devmode::DevClerk,
    invalidation_bus::InvalidationBus,
    session_store::cache::SessionCache,
    webhooks::WebhookProcessor,
};
use leptos::prelude::*;

/// Cloned several times per request (middleware, Leptos's context), so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    /// `/readyz`'s cached answer.
    pub readiness: Arc<Readiness>,
    pub config: Arc<Config>,
    pub auth: Arc<Authenticator>,
    pub webhooks: Arc<WebhookProcessor>,
    /// Cache invalidation, here and on every other instance.
    pub invalidations: Arc<InvalidationBus>,
    /// The admin's cached lists and staff accounts (dropped through `invalidations`).
    pub admin_cache: Arc<AdminCache>,
    /// Server session records read recently (dropped through `invalidations`).
    pub sessions: Arc<SessionCache>,
    /// Where the admin's Clerk-owned changes are written.
    pub clerk_writes: ClerkWrites,
    /// The local stand-in for Clerk, in dev mode only.
    pub dev: Option<Arc<DevClerk>>,
}

/// The state, from a server function's context. Fails (rather than panics) if the server did
/// not provide it, which would be a wiring bug.
pub fn app_state() -> Result<AppState, crate::error::AppError> {
    use_context::<AppState>()
        .ok_or_else(|| crate::error::AppError::internal("application state is missing from context"))
}

/// The request's server session (ours, not Clerk's), which the session layer always provides.
pub fn server_session() -> Result<tower_sessions::Session, crate::error::AppError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<tower_sessions::Session>().cloned())
        .ok_or_else(|| crate::error::AppError::internal("no server session in the request"))
}
