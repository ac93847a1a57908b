//! `ended_clerk_sessions`: Clerk sessions a webhook ended, kept until their tokens cannot be
//! valid any more, so instances started later refuse them too.

use ids::ClerkSessionId;

use super::{Conn, Db, now};
use crate::{on_conn, on_pool, on_writer};

/// How long an ended session is remembered: longer than any session token lives (Clerk's are
/// 60 s; custom lifetimes stay well under a day).
pub fn retention() -> chrono::Duration {
    chrono::Duration::hours(24)
}

/// Records `sid` as ended, in the caller's transaction (with the webhook that ended it).
pub async fn record_in(conn: Conn<'_>, sid: &ClerkSessionId) -> Result<(), sqlx::Error> {
    let until = now() + retention();
    on_conn!(conn, c => sqlx::query(
        "INSERT INTO ended_clerk_sessions (clerk_sid, expires_at) VALUES ($1, $2) \
         ON CONFLICT (clerk_sid) DO UPDATE SET expires_at = excluded.expires_at",
    )
    .bind(sid)
    .bind(until)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// Every session still remembered as ended, for an instance that is starting.
pub async fn active(db: &Db) -> Result<Vec<ClerkSessionId>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT clerk_sid FROM ended_clerk_sessions WHERE expires_at > $1")
        .bind(now())
        .fetch_all(pool)
        .await)
}

pub async fn prune(db: &Db) -> Result<u64, sqlx::Error> {
    on_writer!(db, pool => sqlx::query("DELETE FROM ended_clerk_sessions WHERE expires_at <= $1")
        .bind(now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
}
