//! The database: one handle over SQLite (the embedded default) or Postgres, its migrations,
//! and the repositories: every statement on the app's tables lives here. (The only SQL outside
//! is the invalidation bus's `pg_notify` and `pg_backend_pid`, which touch no table.)

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::config::DatabaseUrl;

pub mod audit_log;
mod conn;
pub mod ended_sessions;
pub mod invitations;
pub mod listing;
pub mod local_accounts;
pub mod login_attempts;
pub mod memberships;
pub mod mirror_state;
pub mod org_search;
pub mod organizations;
pub mod reconcile_runs;
pub mod server_sessions;
pub mod staff_accounts;
pub mod stats;
pub mod user_search;
pub mod users;
pub mod webhook_events;

pub use conn::{Conn, Tx};

/// Runs the same body against whichever pool is configured, for reads (on SQLite, the readers).
/// The body is compiled once per backend, so a query that uses only portable SQL is written once.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.readers;
                $body
            }
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// [`on_pool!`] for a statement that writes: on SQLite it runs on the one write connection.
#[macro_export]
macro_rules! on_writer {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.writer;
                $body
            }
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// A connection pool for the configured backend. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// SQLite allows one writer at a time. Every write in this process goes through one connection,
/// so writers wait their turn in the pool's queue instead of spinning on `SQLITE_BUSY`; reads run
/// in parallel on the others (WAL mode).
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub readers: SqlitePool,
    pub writer: SqlitePool,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Db {
    /// Connects without touching the schema. SQLite files (and their folder) are created on
    /// first use, in WAL mode with foreign keys on and a busy timeout.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, sqlx::Error> {
        match url {
            DatabaseUrl::Sqlite(raw) => {
                let options = SqliteConnectOptions::from_str(raw)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5));
                if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
                    ensure_dir(dir)?;
                }
                // The busy timeout still covers other processes (the CLI's commands) writing.
                let writer = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options.clone())
                    .await?;
                let readers = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
                Ok(Self::Sqlite(SqliteDb { readers, writer }))
            }
            DatabaseUrl::Postgres(raw) => {
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect(raw)
                    .await?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    /// Applies pending migrations for this backend.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        on_writer!(self, pool => self.migrator().run(pool).await)
    }

    /// For `/readyz`: a real read of the migrations table, so a corrupted file or a missing
    /// schema makes the instance unready, not only a lost connection. On SQLite it also reads
    /// the file's header and reads through a fresh connection: pooled connections, and the WAL
    /// (which holds every page not yet checkpointed), keep answering from memory after the
    /// file itself was overwritten.
    pub async fn check_ready(&self) -> Result<(), NotReady> {
        let applied: Option<i64> = match self {
            Self::Sqlite(SqliteDb { readers: pool, .. }) => {
                use sqlx::Connection;
                if pool.is_closed() {
                    return Err(NotReady::Database(sqlx::Error::PoolClosed));
                }
                check_sqlite_header(pool.connect_options().get_filename()).await?;
                let mut conn = sqlx::SqliteConnection::connect_with(&pool.connect_options()).await?;
                let version = sqlx::query_scalar(LATEST_APPLIED).fetch_one(&mut conn).await;
                let _ = conn.close().await;
                version?
            }
            Self::Postgres(pool) => sqlx::query_scalar(LATEST_APPLIED).fetch_one(pool).await?,
        };
        let expected = self.migrator().iter().map(|m| m.version).max();
        match (applied, expected) {
            (Some(applied), Some(expected)) if applied >= expected => Ok(()),
            (applied, _) => Err(NotReady::Schema { applied }),
        }
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self {
            Self::Sqlite(_) => &SQLITE_MIGRATIONS,
            Self::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(sqlite) => {
                sqlite.writer.close().await;
                sqlite.readers.close().await;
            }
            Self::Postgres(pool) => pool.close().await,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Reads the main file's header (page 1) through SQLite, past the WAL: an `immutable`
/// connection neither locks nor looks at the WAL. Never open the file ourselves: closing any
/// descriptor of it drops every POSIX lock this process holds on it (SQLite's connections'
/// included), and another process (the CLI) then takes itself for the last connection and
/// resets the WAL under the server's feet. SQLite's own close waits for those locks.
async fn check_sqlite_header(path: &Path) -> Result<(), NotReady> {
    use sqlx::{ConnectOptions, Connection};
    let options = SqliteConnectOptions::new().filename(path).immutable(true).read_only(true);
    let mut conn = options.connect().await?;
    let read = sqlx::query_scalar::<_, i64>("PRAGMA page_count").fetch_one(&mut conn).await;
    let _ = conn.close().await;
    match read {
        Ok(pages) if pages > 0 => Ok(()),
        // An emptied file: SQLite would take it for a new database.
        Ok(_) => Err(NotReady::NotADatabase),
        Err(sqlx::Error::Database(err)) if err.message().contains("not a database") => Err(NotReady::NotADatabase),
        Err(err) => Err(NotReady::Database(err)),
    }
}

/// The newest migration that completed; a failed one leaves `success` false.
const LATEST_APPLIED: &str = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";

/// Why `/readyz` says no.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("database unreadable: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database file is not an SQLite database")]
    NotADatabase,
    #[error("schema behind this binary (latest applied migration: {applied:?})")]
    Schema { applied: Option<i64> },
}

fn ensure_dir(dir: &Path) -> Result<(), sqlx::Error> {
    std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)
}

/// `$1, $2, …, $count`: the bind parameters of an `IN (…)` list.
pub(crate) fn placeholders(count: usize) -> String {
    (1..=count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The current time, truncated to microseconds so that it round-trips through Postgres.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}
