//! `reconcile_runs`: one row per background reconciliation, and the lock that lets one
//! instance at a time run it.

use chrono::{DateTime, Utc};

use super::{Db, now};
use crate::{on_pool, on_writer};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ReconcileRun {
    pub id: i64,
    pub instance: String,
    pub started_at: DateTime<Utc>,
    /// None while it runs (or if its instance died mid-run).
    pub finished_at: Option<DateTime<Utc>>,
    pub created: i64,
    pub updated: i64,
    pub pruned: i64,
    pub errors: i64,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
}

/// What a run changed, summed over users, organizations and memberships.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub created: i64,
    pub updated: i64,
    pub pruned: i64,
    pub errors: i64,
}

/// Held while a run goes on. On Postgres, a session-level advisory lock on its own connection
/// (it is released with the connection if the process dies); on SQLite, where the database
/// serves one instance, nothing.
pub struct RunLock(Option<sqlx::pool::PoolConnection<sqlx::Postgres>>);

/// Arbitrary, fixed: the advisory lock key of the reconciliation.
const LOCK_KEY: i64 = 0x636c_6572_6b72_6563;

/// Takes the lock if no other instance holds it.
pub async fn try_lock(db: &Db) -> Result<Option<RunLock>, sqlx::Error> {
    let Db::Postgres(pool) = db else { return Ok(Some(RunLock(None))) };
    let mut conn = pool.acquire().await?;
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(LOCK_KEY).fetch_one(&mut *conn).await?;
    Ok(locked.then_some(RunLock(Some(conn))))
}

impl RunLock {
    pub async fn release(self) {
        let Some(mut conn) = self.0 else { return };
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(LOCK_KEY).execute(&mut *conn).await;
        if unlocked.is_err() {
            // A connection that may still hold the lock must not go back to the pool.
            let _ = sqlx::Connection::close(conn.detach()).await;
        }
    }
}

/// When the newest run started.
pub async fn last_started(db: &Db) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT MAX(started_at) FROM reconcile_runs").fetch_one(pool).await)
}

/// Records a run as started; returns its id.
pub async fn start(db: &Db, instance: &str) -> Result<i64, sqlx::Error> {
    on_writer!(db, pool => sqlx::query_scalar(
        "INSERT INTO reconcile_runs (instance, started_at) VALUES ($1, $2) RETURNING id")
        .bind(instance)
        .bind(now())
        .fetch_one(pool)
        .await)
}

pub async fn finish(db: &Db, id: i64, totals: Totals, error: Option<&str>) -> Result<(), sqlx::Error> {
    on_writer!(db, pool => sqlx::query(
        "UPDATE reconcile_runs SET finished_at = $2, created = $3, updated = $4, pruned = $5, errors = $6, error = $7 \
         WHERE id = $1")
        .bind(id)
        .bind(now())
        .bind(totals.created)
        .bind(totals.updated)
        .bind(totals.pruned)
        .bind(totals.errors)
        .bind(error)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// The newest `limit` runs, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<ReconcileRun>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT id, instance, started_at, finished_at, created, updated, pruned, errors, error FROM reconcile_runs \
         ORDER BY started_at DESC, id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// Keeps the newest `keep` runs.
pub async fn prune(db: &Db, keep: i64) -> Result<u64, sqlx::Error> {
    on_writer!(db, pool => sqlx::query(
        "DELETE FROM reconcile_runs WHERE id NOT IN (SELECT id FROM reconcile_runs ORDER BY id DESC LIMIT $1)")
        .bind(keep)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
}
