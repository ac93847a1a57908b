//! The `login_attempts` table: failed staff logins, counted per email and per IP over a window.

use chrono::{DateTime, Utc};

use super::{Db, now};
use crate::on_pool;

/// Failures for this email, and from this IP, since `since`.
pub async fn failures_since(db: &Db, email: &str, ip: &str, since: DateTime<Utc>) -> Result<(i64, i64), sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM login_attempts WHERE email = $1 AND created_at >= $3), \
                (SELECT COUNT(*) FROM login_attempts WHERE ip = $2 AND created_at >= $3)")
        .bind(email)
        .bind(ip)
        .bind(since)
        .fetch_one(pool)
        .await)
}

pub async fn record_failure(db: &Db, email: &str, ip: &str) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => sqlx::query("INSERT INTO login_attempts (email, ip, created_at) VALUES ($1, $2, $3)")
        .bind(email)
        .bind(ip)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ()))
}

/// A successful login forgives that email's failures (not the IP's).
pub async fn clear_email(db: &Db, email: &str) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => sqlx::query("DELETE FROM login_attempts WHERE email = $1")
        .bind(email)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Deletes attempts older than `before`. Safe when every instance runs it.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query("DELETE FROM login_attempts WHERE created_at < $1")
        .bind(before)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
}
