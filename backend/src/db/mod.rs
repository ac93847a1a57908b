//! The database: one handle over SQLite (the embedded default) or Postgres, its migrations,
//! and the repositories: every statement on the app's tables lives here. (The only SQL outside
//! is the invalidation bus's `pg_notify` and `pg_backend_pid`, which touch no table.)

use std::{
    path::Path,
    str::FromStr,
    sync::{Arc, atomic::AtomicBool},
    time::Duration,
};

use sqlx::{
    PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::config::DatabaseUrl;

pub mod audit_log;
pub mod billing;
mod conn;
pub mod dashboard;
pub mod ended_sessions;
pub mod erasure;
pub mod invitations;
pub mod listing;
pub mod local_accounts;
pub mod login_attempts;
pub mod memberships;
pub mod mirror_state;
pub mod org_search;
pub mod organizations;
pub mod readiness;
pub mod reconcile_runs;
pub mod search_index;
pub mod session_index;
pub mod staff_accounts;
pub mod stats;
pub mod user_search;
pub mod users;
pub mod webhook_events;

pub use conn::{Conn, Tx};
pub use readiness::{NotReady, Readiness};

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
    /// Set when a commit failed (a full disk, an I/O error), cleared by the next one that
    /// succeeds: readiness fails in between.
    pub(crate) write_failing: Arc<AtomicBool>,
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
                    // Freed pages are zeroed: an erased person's data does not linger in them.
                    .pragma("secure_delete", "on")
                    .busy_timeout(Duration::from_secs(5));
                if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
                    ensure_dir(dir)?;
                }
                // The busy timeout still covers other processes (the CLI's commands) writing.
                // No ping before each use (sqlx's default): a local file's connection does not go
                // stale, and on SQLite every call is a round trip to the connection's own thread.
                // The writer is checked as it is given back instead (below).
                let writer = SqlitePoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_release(|conn, _| {
                        Box::pin(async move {
                            use sqlx::Connection;
                            // The ping runs after any ROLLBACK a dropped transaction queued. A
                            // connection still inside a transaction then (its COMMIT or ROLLBACK
                            // failed, as on a full disk) would refuse every later BEGIN: it is
                            // the app's only writer, so it is closed and the next write opens a
                            // fresh one.
                            conn.ping().await?;
                            let usable = !conn.is_in_transaction();
                            if !usable {
                                tracing::error!(
                                    "the SQLite write connection was left inside a failed transaction; replacing it"
                                );
                            }
                            Ok(usable)
                        })
                    })
                    .connect_with(options.clone())
                    .await?;
                let readers = SqlitePoolOptions::new()
                    .max_connections(8)
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await?;
                Ok(Self::Sqlite(SqliteDb { readers, writer, write_failing: Arc::default() }))
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

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self {
            Self::Sqlite(_) => &SQLITE_MIGRATIONS,
            Self::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Connections `(in use, idle, at most)`, over both SQLite pools.
    pub fn pool_stats(&self) -> (u32, u32, u32) {
        let one = |size: u32, idle: usize, max: u32| (size.saturating_sub(idle as u32), idle as u32, max);
        match self {
            Self::Sqlite(db) => {
                let r = one(db.readers.size(), db.readers.num_idle(), db.readers.options().get_max_connections());
                let w = one(db.writer.size(), db.writer.num_idle(), db.writer.options().get_max_connections());
                (r.0 + w.0, r.1 + w.1, r.2 + w.2)
            }
            Self::Postgres(pool) => one(pool.size(), pool.num_idle(), pool.options().get_max_connections()),
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
