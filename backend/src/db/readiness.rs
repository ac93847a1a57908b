//! `/readyz`'s question: can this instance serve reads and writes? A real read of the
//! migrations table (a corrupted file or an older schema fails it), and on SQLite, after a
//! failed commit, a real write. One check runs at a time and its answer serves for a second, so
//! an unauthenticated flood of probes costs at most one check a second.

use std::{
    path::Path,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use sqlx::sqlite::SqliteConnectOptions;
use tokio::sync::Mutex;

use super::{Db, SqliteDb};

/// How long one answer serves.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// A check that takes longer is an answer too: not ready.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Why `/readyz` says no.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("database unreadable: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database file is not an SQLite database")]
    NotADatabase,
    #[error("schema behind this binary (latest applied migration: {applied:?})")]
    Schema { applied: Option<i64> },
    #[error("writes are failing: {0}")]
    Writes(sqlx::Error),
    #[error("the readiness check timed out")]
    TimedOut,
    #[error("the database's disk is full ({available} bytes free)")]
    DiskFull { available: u64 },
}

/// A check's answer, shared by every caller until the next check.
type Answer = Result<(), Arc<NotReady>>;

/// The cached readiness of one database.
pub struct Readiness {
    db: Db,
    last: Mutex<Option<(Instant, Answer)>>,
}

impl Readiness {
    pub fn new(db: Db) -> Self {
        Self { db, last: Mutex::new(None) }
    }

    /// `Ok` or the reason, at most [`FRESH_FOR`] old. Callers during a check wait for its answer.
    pub async fn check(&self) -> Answer {
        let mut last = self.last.lock().await;
        if let Some((at, answer)) = last.as_ref()
            && at.elapsed() < FRESH_FOR
        {
            return answer.clone();
        }
        let answer = match tokio::time::timeout(CHECK_TIMEOUT, self.db.check_ready()).await {
            Ok(answer) => answer,
            Err(_) => Err(NotReady::TimedOut),
        }
        .map_err(|err| {
            tracing::warn!(error = %err, "readiness check failed");
            Arc::new(err)
        });
        *last = Some((Instant::now(), answer.clone()));
        answer
    }
}

impl Db {
    /// One uncached readiness check (see the module doc). On SQLite it reads the file's header
    /// and reads through a fresh connection: pooled connections, and the WAL (which holds every
    /// page not yet checkpointed), keep answering from memory after the file itself was
    /// overwritten.
    pub async fn check_ready(&self) -> Result<(), NotReady> {
        let applied: Option<i64> = match self {
            Self::Sqlite(sqlite) => {
                use sqlx::Connection;
                let pool = &sqlite.readers;
                if pool.is_closed() {
                    return Err(NotReady::Database(sqlx::Error::PoolClosed));
                }
                let file = pool.connect_options().get_filename().to_owned();
                check_free_space(&file)?;
                check_sqlite_header(&file).await?;
                let mut conn = sqlx::SqliteConnection::connect_with(&pool.connect_options()).await?;
                let version = sqlx::query_scalar(LATEST_APPLIED).fetch_one(&mut conn).await;
                let _ = conn.close().await;
                if sqlite.write_failing.load(Ordering::Relaxed) {
                    probe_write(self, sqlite).await?;
                }
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
}

/// After a failed commit: a real write, committed through the app's write connection (a
/// rewrite of the newest migration's row, which changes nothing). Its success clears the flag.
async fn probe_write(db: &Db, sqlite: &SqliteDb) -> Result<(), NotReady> {
    let probe = async {
        let mut tx = db.begin().await?;
        crate::on_conn!(tx.conn(), c => sqlx::query(
            "UPDATE _sqlx_migrations SET installed_on = installed_on \
             WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        tx.commit().await
    };
    probe.await.map_err(NotReady::Writes)?;
    debug_assert!(!sqlite.write_failing.load(Ordering::Relaxed));
    Ok(())
}

/// Below this much free space beside the database, writes are about to fail (or already do):
/// a commit needs room for its WAL frames, a checkpoint for the pages it copies.
const MIN_FREE_BYTES: u64 = 1 << 20;

/// A full disk fails writes while reads go on, so only a look at the file system tells.
#[cfg(unix)]
fn check_free_space(file: &Path) -> Result<(), NotReady> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match rustix::fs::statvfs(dir) {
        Ok(fs) => {
            let available = fs.f_bavail.saturating_mul(fs.f_frsize);
            if available < MIN_FREE_BYTES { Err(NotReady::DiskFull { available }) } else { Ok(()) }
        }
        // No answer is not a verdict: the reads and the header check still run.
        Err(_) => Ok(()),
    }
}

#[cfg(not(unix))]
fn check_free_space(_file: &Path) -> Result<(), NotReady> {
    Ok(())
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
