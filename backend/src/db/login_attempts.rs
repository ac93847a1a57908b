//! The `login_attempts` table: staff login attempts, counted per (email, client), per client and
//! per email over a window. An attempt is recorded *before* its password is checked, in the
//! statement that checks the counts, so parallel attempts see each other.

use chrono::{DateTime, Utc};

use super::{Conn, Db, now};
use crate::{on_conn, on_pool, on_writer};

/// The limits one reservation is checked against, over attempts since `since`.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub since: DateTime<Utc>,
    /// Attempts for one email from one client.
    pub per_pair: i64,
    /// Attempts from one client, whatever the email.
    pub per_client: i64,
    /// Attempts for one email from every client. Once reached, it refuses only a client that has
    /// itself made `email_wide_floor` attempts on this email: strangers cannot lock a staff member
    /// out, and one typo under attack does not either.
    pub per_email: i64,
    pub email_wide_floor: i64,
}

/// Records an attempt for `email` from `client` unless a limit is reached: `Some(id)` of the
/// new row, or `None` when refused. Atomic per client.
pub async fn reserve(db: &Db, email: &str, client: &str, limits: Limits) -> Result<Option<i64>, sqlx::Error> {
    const RESERVE: &str = "INSERT INTO login_attempts (email, ip, created_at) SELECT $1, $2, $3 \
        WHERE (SELECT COUNT(*) FROM login_attempts WHERE email = $1 AND ip = $2 AND created_at >= $4) < $5 \
          AND (SELECT COUNT(*) FROM login_attempts WHERE ip = $2 AND created_at >= $4) < $6 \
          AND NOT ((SELECT COUNT(*) FROM login_attempts WHERE email = $1 AND created_at >= $4) >= $7 \
                   AND (SELECT COUNT(*) FROM login_attempts WHERE email = $1 AND ip = $2 AND created_at >= $4) >= $8) \
        RETURNING id";
    // One write transaction either way: on SQLite `BEGIN IMMEDIATE` holds the write lock; on
    // Postgres the advisory lock serializes one client's attempts.
    let mut tx = db.begin().await?;
    if let Conn::Postgres(c) = tx.conn() {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("login_attempts:{client}"))
            .execute(&mut *c)
            .await?;
    }
    let id = on_conn!(tx.conn(), c => sqlx::query_scalar(RESERVE)
        .bind(email)
        .bind(client)
        .bind(now())
        .bind(limits.since)
        .bind(limits.per_pair)
        .bind(limits.per_client)
        .bind(limits.per_email)
        .bind(limits.email_wide_floor)
        .fetch_optional(&mut *c)
        .await)?;
    tx.commit().await?;
    Ok(id)
}

/// Takes back a reservation whose password was never checked (the server was too busy).
pub async fn release(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    on_writer!(db, pool => sqlx::query("DELETE FROM login_attempts WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// A successful login forgives this client's attempts on this email (the reservation included),
/// not other clients' and not this client's on other emails.
pub async fn forgive(db: &Db, email: &str, client: &str) -> Result<(), sqlx::Error> {
    on_writer!(db, pool => sqlx::query("DELETE FROM login_attempts WHERE email = $1 AND ip = $2")
        .bind(email)
        .bind(client)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Attempts recorded so far for `email` (every client), for tests and the closing numbers.
pub async fn count_for_email(db: &Db, email: &str) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM login_attempts WHERE email = $1")
        .bind(email)
        .fetch_one(pool)
        .await)
}

/// Deletes attempts older than `before`. Safe when every instance runs it.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    on_writer!(db, pool => sqlx::query("DELETE FROM login_attempts WHERE created_at < $1")
        .bind(before)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
}
