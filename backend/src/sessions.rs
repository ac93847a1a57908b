//! Server sessions: tower-sessions backed by the same database, so that every instance behind
//! a load balancer sees the same sessions, read through a short in-memory cache.

pub mod cache;

use std::sync::Arc;

use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite, cookie::time::Duration};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use tower_sessions::session::Record;

use self::cache::{Fingerprint, SessionCache};
use crate::{
    auth::session::{CLERK_KEY, ClerkSessionRecord},
    db::Db,
    invalidation::{self, Invalidation},
    on_pool,
};

/// The cookie that carries our server session id (not Clerk's `__session`).
pub const COOKIE_NAME: &str = "starter_session";

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
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl SessionStore {
    pub fn new(db: &Db, cache: Arc<SessionCache>) -> Self {
        let inner = match db {
            Db::Sqlite(pool) => Inner::Sqlite(
                SqliteStore::new(pool.clone())
                    .with_table_name("tower_sessions")
                    .unwrap_or_else(|_| SqliteStore::new(pool.clone())),
            ),
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
        invalidation::publish(&self.db, &[Invalidation::ServerSession(key.encode())]).await;
    }
}

impl SessionStore {
    /// Keeps `clerk_session_index` in step with the record, so Clerk sessions can be ended.
    async fn index(&self, record: &Record) -> tower_sessions::session_store::Result<()> {
        let id = record.id.to_string();
        let clerk =
            record.data.get(CLERK_KEY).and_then(|v| serde_json::from_value::<ClerkSessionRecord>(v.clone()).ok());
        let result = match clerk {
            Some(c) => on_pool!(&self.db, pool => sqlx::query(
                "INSERT INTO clerk_session_index (session_id, clerk_sid, clerk_user_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (session_id) DO UPDATE SET clerk_sid = excluded.clerk_sid, clerk_user_id = excluded.clerk_user_id",
            )
            .bind(&id)
            .bind(&c.sid)
            .bind(&c.user)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())),
            None => on_pool!(&self.db, pool => sqlx::query("DELETE FROM clerk_session_index WHERE session_id = $1")
                .bind(&id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())),
        };
        result.map(|_| ()).map_err(|e| tower_sessions::session_store::Error::Backend(e.to_string()))
    }
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> tower_sessions::session_store::Result<()> {
        match &self.inner {
            Inner::Sqlite(s) => s.create(record).await?,
            Inner::Postgres(s) => s.create(record).await?,
        }
        self.index(record).await?;
        self.changed(&record.id).await;
        Ok(())
    }
    async fn save(&self, record: &Record) -> tower_sessions::session_store::Result<()> {
        match &self.inner {
            Inner::Sqlite(s) => s.save(record).await?,
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
            Inner::Sqlite(s) => s.load(id).await?,
            Inner::Postgres(s) => s.load(id).await?,
        };
        if let Some(record) = &loaded {
            self.cache.put(generation, record);
        }
        Ok(loaded)
    }
    async fn delete(&self, id: &tower_sessions::session::Id) -> tower_sessions::session_store::Result<()> {
        match &self.inner {
            Inner::Sqlite(s) => s.delete(id).await?,
            Inner::Postgres(s) => s.delete(id).await?,
        }
        self.changed(id).await;
        on_pool!(&self.db, pool => sqlx::query("DELETE FROM clerk_session_index WHERE session_id = $1")
            .bind(id.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map(|_| ())
        .map_err(|e| tower_sessions::session_store::Error::Backend(e.to_string()))
    }
}

/// The session layer with our cookie policy: HttpOnly and SameSite=Lax always, and `Secure`
/// as `Config::cookie_secure` says (on by default in release builds).
pub fn layer(db: &Db, cache: Arc<SessionCache>, secure: bool) -> SessionManagerLayer<SessionStore> {
    SessionManagerLayer::new(SessionStore::new(db, cache))
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(Duration::days(7)))
}

/// Deletes expired sessions, and index rows left without a session; run periodically.
pub async fn delete_expired(db: &Db) -> Result<u64, sqlx::Error> {
    let now = chrono::Utc::now();
    let deleted = match db {
        Db::Sqlite(pool) => sqlx::query("DELETE FROM tower_sessions WHERE expiry_date < $1")
            .bind(now.timestamp())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Db::Postgres(pool) => sqlx::query("DELETE FROM tower_sessions WHERE expiry_date < $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }?;
    on_pool!(db, pool => sqlx::query(
        "DELETE FROM clerk_session_index WHERE session_id NOT IN (SELECT id FROM tower_sessions)")
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(deleted)
}
