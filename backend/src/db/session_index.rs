//! The server sessions' table (`tower_sessions`, owned by tower-sessions) and the index beside
//! it that maps each session to its Clerk session and user, so they can be ended together.

use ids::{ClerkSessionId, ClerkUserId};

use crate::{
    db::{Conn, Db},
    on_conn, on_pool, on_writer,
};

/// Records which Clerk session and user server session `session_id` stands for, or with
/// `None` that it stands for none.
pub async fn index(
    db: &Db,
    session_id: &str,
    clerk: Option<(Option<&ClerkSessionId>, &ClerkUserId)>,
) -> Result<(), sqlx::Error> {
    match clerk {
        Some((sid, user)) => on_writer!(db, pool => sqlx::query(
            "INSERT INTO clerk_session_index (session_id, clerk_sid, clerk_user_id) VALUES ($1, $2, $3) \
             ON CONFLICT (session_id) DO UPDATE SET clerk_sid = excluded.clerk_sid, clerk_user_id = excluded.clerk_user_id",
        )
        .bind(session_id)
        .bind(sid)
        .bind(user)
        .execute(pool)
        .await
        .map(|_| ())),
        None => unindex(db, session_id).await,
    }
}

pub async fn unindex(db: &Db, session_id: &str) -> Result<(), sqlx::Error> {
    on_writer!(db, pool => sqlx::query("DELETE FROM clerk_session_index WHERE session_id = $1")
        .bind(session_id)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Deletes expired sessions, and index rows left without a session; run periodically.
pub async fn delete_expired(db: &Db) -> Result<u64, sqlx::Error> {
    let now = chrono::Utc::now();
    // tower-sessions stores the expiry as unix seconds on SQLite and as a timestamp on Postgres.
    let deleted = match db {
        Db::Sqlite(sqlite) => sqlx::query("DELETE FROM tower_sessions WHERE expiry_date < $1")
            .bind(now.timestamp())
            .execute(&sqlite.writer)
            .await
            .map(|r| r.rows_affected()),
        Db::Postgres(pool) => sqlx::query("DELETE FROM tower_sessions WHERE expiry_date < $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }?;
    on_writer!(db, pool => sqlx::query(
        "DELETE FROM clerk_session_index WHERE session_id NOT IN (SELECT id FROM tower_sessions)")
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(deleted)
}

/// Which server sessions to end.
#[derive(Clone, Copy, Debug)]
pub enum EndSessions<'a> {
    /// Every server session of this Clerk session (`sess_…`).
    ClerkSession(&'a ClerkSessionId),
    /// Every server session of this Clerk user (`user_…`).
    ClerkUser(&'a ClerkUserId),
}

/// `auth::clerk_session::end_clerk_sessions` inside a caller's transaction, which must then publish
/// [`Invalidation::SessionEnded`] or [`Invalidation::ServerSessions`] once committed.
pub async fn end_clerk_sessions_in(conn: Conn<'_>, which: EndSessions<'_>) -> Result<u64, sqlx::Error> {
    let (column, value) = match which {
        EndSessions::ClerkSession(sid) => ("clerk_sid", sid.as_str()),
        EndSessions::ClerkUser(user) => ("clerk_user_id", user.as_str()),
    };
    let delete_sessions = format!(
        "DELETE FROM tower_sessions WHERE id IN (SELECT session_id FROM clerk_session_index WHERE {column} = $1)"
    );
    let delete_index = format!("DELETE FROM clerk_session_index WHERE {column} = $1");
    on_conn!(conn, c => {
        let ended = sqlx::query(&delete_sessions).bind(value).execute(&mut *c).await?.rows_affected();
        sqlx::query(&delete_index).bind(value).execute(&mut *c).await?;
        Ok(ended)
    })
}

/// How many live server sessions stand for the Clerk user (a count: the ids are bearer secrets).
pub async fn count_for_clerk_user(db: &Db, clerk_user_id: &ClerkUserId) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM clerk_session_index WHERE clerk_user_id = $1 AND session_id IN (SELECT id FROM tower_sessions)")
        .bind(clerk_user_id)
        .fetch_one(pool)
        .await)
}
