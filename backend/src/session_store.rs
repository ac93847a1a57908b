//! Server sessions: tower-sessions backed by the same database, so that every instance behind
//! a load balancer sees the same sessions, read through a short in-memory cache.

pub mod cache;

use std::sync::Arc;

use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite, cookie::time::Duration};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use tower_sessions::session::Record;

use self::cache::{Fingerprint, SessionCache};
use crate::{
    auth::clerk_session::{CLERK_KEY, ClerkSessionRecord},
    db::{Db, session_index},
    invalidation::Invalidation,
    invalidation_bus,
};

/// The cookie that carries our server session id (not Clerk's `__session`), over plain HTTP.
pub const COOKIE_NAME: &str = "starter_session";
/// The same cookie when it is `Secure`: the `__Host-` prefix makes browsers refuse it unless it
/// was set over HTTPS, by this host, for `/`, so a sibling subdomain or a plain-HTTP response
/// cannot plant one.
pub const SECURE_COOKIE_NAME: &str = "__Host-starter_session";

/// The session cookie's name for this `Secure` setting.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_COOKIE_NAME } else { COOKIE_NAME }
}

/// A session store over whichever backend is configured, which also maintains
/// `clerk_session_index` and keeps [`SessionCache`] in step with every write.
#[derive(Clone)]
pub struct SessionStore {
    inner: Inner,
    db: Db,
    cache: Arc<SessionCache>,
}

/// Leaves the cache out: its records hold session data, which must never reach a log.
impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore").field("inner", &self.inner).finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
enum Inner {
    /// Loads on the readers, writes on the one write connection (see `db::SqliteDb`).
    Sqlite {
        read: SqliteStore,
        write: SqliteStore,
    },
    Postgres(PostgresStore),
}

impl SessionStore {
    pub fn new(db: &Db, cache: Arc<SessionCache>) -> Self {
        let inner = match db {
            Db::Sqlite(sqlite) => {
                let store = |pool: &sqlx::SqlitePool| {
                    SqliteStore::new(pool.clone())
                        .with_table_name("tower_sessions")
                        .unwrap_or_else(|_| SqliteStore::new(pool.clone()))
                };
                Inner::Sqlite { read: store(&sqlite.readers), write: store(&sqlite.writer) }
            }
            Db::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                let store = store.clone().with_schema_name("public").unwrap_or(store);
                Inner::Postgres(store.clone().with_table_name("tower_sessions").unwrap_or(store))
            }
        };
        Self { inner, db: db.clone(), cache }
    }

    /// After a write or delete of `id`: this instance's cache drops it now, the others on
    /// Postgres when the NOTIFY reaches them.
    async fn changed(&self, id: &tower_sessions::session::Id) {
        let key = Fingerprint::of(id);
        self.cache.forget(key);
        invalidation_bus::publish(&self.db, &[Invalidation::ServerSession(key.encode())]).await;
    }
}

impl SessionStore {
    /// Keeps `clerk_session_index` in step with the record, so Clerk sessions can be ended.
    async fn index(&self, record: &Record) -> tower_sessions::session_store::Result<()> {
        let clerk =
            record.data.get(CLERK_KEY).and_then(|v| serde_json::from_value::<ClerkSessionRecord>(v.clone()).ok());
        let clerk = clerk.as_ref().map(|c| (c.sid.as_ref(), &c.user));
        session_index::index(&self.db, &record.id.to_string(), clerk).await.map_err(backend_error)
    }
}

fn backend_error(err: sqlx::Error) -> tower_sessions::session_store::Error {
    tower_sessions::session_store::Error::Backend(err.to_string())
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> tower_sessions::session_store::Result<()> {
        match &self.inner {
            Inner::Sqlite { write, .. } => write.create(record).await?,
            Inner::Postgres(s) => s.create(record).await?,
        }
        self.index(record).await?;
        self.changed(&record.id).await;
        Ok(())
    }
    async fn save(&self, record: &Record) -> tower_sessions::session_store::Result<()> {
        match &self.inner {
            Inner::Sqlite { write, .. } => write.save(record).await?,
            Inner::Postgres(s) => s.save(record).await?,
        }
        self.index(record).await?;
        self.changed(&record.id).await;
        Ok(())
    }
    async fn load(
        &self,
        id: &tower_sessions::session::Id,
    ) -> tower_sessions::session_store::Result<Option<tower_sessions::session::Record>> {
        if let Some(hit) = self.cache.get(id) {
            return Ok(Some(hit));
        }
        let generation = self.cache.generation();
        let loaded = match &self.inner {
            Inner::Sqlite { read, .. } => read.load(id).await?,
            Inner::Postgres(s) => s.load(id).await?,
        };
        if let Some(record) = &loaded {
            self.cache.put(generation, record);
        }
        Ok(loaded)
    }
    async fn delete(&self, id: &tower_sessions::session::Id) -> tower_sessions::session_store::Result<()> {
        match &self.inner {
            Inner::Sqlite { write, .. } => write.delete(id).await?,
            Inner::Postgres(s) => s.delete(id).await?,
        }
        self.changed(id).await;
        session_index::unindex(&self.db, &id.to_string()).await.map_err(backend_error)
    }
}

/// The session layer with our cookie policy: HttpOnly and SameSite=Lax always, and `Secure`
/// as `Config::cookie_secure` says (on by default in release builds).
pub fn layer(db: &Db, cache: Arc<SessionCache>, secure: bool) -> SessionManagerLayer<SessionStore> {
    SessionManagerLayer::new(SessionStore::new(db, cache))
        .with_name(cookie_name(secure))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(Duration::days(7)))
}
