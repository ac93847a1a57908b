//! Server sessions: tower-sessions backed by the same database, so that every instance behind
//! a load balancer sees the same sessions.

use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite, cookie::time::Duration};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::db::Db;

/// The cookie that carries our server session id (not Clerk's `__session`).
pub const COOKIE_NAME: &str = "starter_session";

/// A session store over whichever backend is configured.
#[derive(Clone, Debug)]
pub enum SessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl SessionStore {
    pub fn new(db: &Db) -> Self {
        match db {
            Db::Sqlite(pool) => Self::Sqlite(
                SqliteStore::new(pool.clone())
                    .with_table_name("tower_sessions")
                    .unwrap_or_else(|_| SqliteStore::new(pool.clone())),
            ),
            Db::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                let store = store.clone().with_schema_name("public").unwrap_or(store);
                Self::Postgres(store.clone().with_table_name("tower_sessions").unwrap_or(store))
            }
        }
    }
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for SessionStore {
    async fn create(&self, record: &mut tower_sessions::session::Record) -> tower_sessions::session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.create(record).await,
            Self::Postgres(s) => s.create(record).await,
        }
    }
    async fn save(&self, record: &tower_sessions::session::Record) -> tower_sessions::session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.save(record).await,
            Self::Postgres(s) => s.save(record).await,
        }
    }
    async fn load(
        &self,
        id: &tower_sessions::session::Id,
    ) -> tower_sessions::session_store::Result<Option<tower_sessions::session::Record>> {
        match self {
            Self::Sqlite(s) => s.load(id).await,
            Self::Postgres(s) => s.load(id).await,
        }
    }
    async fn delete(&self, id: &tower_sessions::session::Id) -> tower_sessions::session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.delete(id).await,
            Self::Postgres(s) => s.delete(id).await,
        }
    }
}

/// The session layer with our cookie policy: HttpOnly and SameSite=Lax always, Secure in production.
pub fn layer(db: &Db, production: bool) -> SessionManagerLayer<SessionStore> {
    SessionManagerLayer::new(SessionStore::new(db))
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(production)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(Duration::days(7)))
}

/// Deletes expired sessions; run periodically in the background.
pub async fn delete_expired(db: &Db) -> Result<u64, sqlx::Error> {
    let now = chrono::Utc::now();
    match db {
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
    }
}
