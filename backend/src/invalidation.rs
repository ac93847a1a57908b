//! What every instance must forget after a write, as plain data: the [`Invalidation`]s, the
//! [`Changed`] a write returns, and the [`Forget`] trait a cache implements to subscribe to the
//! bus (`crate::invalidation_bus`). It imports nothing of this crate, so every module may use it.

use ids::{ClerkSessionId, ClerkUserId};
use serde::{Deserialize, Serialize};

/// The NOTIFY channel, named after the project (`cargo leptos new --git` renames it; see
/// cargo-generate.toml for how the comments below do that).
pub const CHANNEL: &str = /*{% if false %}*/ "clerk_starter_invalidations" /*{% else %}{{ "*" }}/ "{{crate_name}}_invalidations" /{{ "*" }}{% endif %}*/;

/// One thing every instance must forget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Invalidation {
    User(ClerkUserId),
    Memberships,
    SessionEnded(ClerkSessionId),
    /// A server session was written or deleted (by its fingerprint, never its id).
    ServerSession(String),
    /// Server sessions were ended in SQL: every cached one goes.
    ServerSessions,
    /// Mirrored users or organizations changed: the admin's cached lists and staff accounts go.
    Listings,
    /// A machine token (an API key, by its id) was revoked through this app: its cached
    /// verdict goes at once rather than within `CLERK_MACHINE_TOKEN_CACHE_SECONDS`.
    MachineToken(String),
    /// Everything cached (after a sync, say).
    All,
}

/// What a write did: its result, and what every instance must forget because of it. Write paths
/// return it and handlers hand it to `InvalidationBus::settle`, so no handler names a cache.
#[must_use = "settle it on the invalidation bus, or the caches keep the old values"]
#[derive(Debug)]
pub struct Changed<T> {
    pub value: T,
    pub stale: Vec<Invalidation>,
}

impl<T> Changed<T> {
    pub fn new(value: T, stale: Vec<Invalidation>) -> Self {
        Self { value, stale }
    }

    /// A write that changed nothing anyone caches.
    pub fn nothing(value: T) -> Self {
        Self { value, stale: Vec::new() }
    }
}

/// A cache that forgets what an invalidation names. Caches subscribe to the bus with it, so the
/// bus names no cache and no cache module imports the bus.
#[async_trait::async_trait]
pub trait Forget: Send + Sync {
    async fn forget(&self, item: &Invalidation);
}
