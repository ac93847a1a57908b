//! The `users` table: Clerk users mirrored locally, and staff-only accounts.

use ids::{ClerkUserId, UserId};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::{Conn, Db, now};
use crate::{on_conn, on_pool, on_writer};

/// A mirrored user as the rest of the code sees it. The password hash is deliberately absent:
/// only the staff-login code reads it, through its own query.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub clerk_id: Option<ClerkUserId>,
    pub email: String,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub image_url: String,
    pub public_metadata: Json<Value>,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub last_login: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub clerk_updated_at: Option<i64>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Local-only: Clerk never sees it.
    pub bio: String,
    /// Deactivated by staff here; Clerk's updates do not reactivate the user.
    pub deactivated_locally: bool,
    /// When their last Clerk session ended (`session.ended/removed/revoked`).
    pub last_logout: Option<DateTime<Utc>>,
}

impl User {
    /// "first last", trimmed.
    pub fn full_name(&self) -> String {
        full_name(&self.first_name, &self.last_name)
    }

    /// A user may act only while active and not deleted.
    pub fn can_sign_in(&self) -> bool {
        self.is_active && self.deleted_at.is_none()
    }
}

/// "first last", trimmed: what pages show as a person's name.
pub fn full_name(first_name: &str, last_name: &str) -> String {
    format!("{first_name} {last_name}").trim().to_owned()
}

pub(crate) const COLUMNS: &str = "id, clerk_id, email, username, first_name, last_name, image_url, public_metadata, \
    is_active, is_staff, is_superuser, last_login, last_sign_in_at, clerk_updated_at, deleted_at, \
    created_at, updated_at, bio, deactivated_locally, last_logout";

/// The fields Clerk owns, already mapped from a Clerk User object.
#[derive(Clone, Debug, PartialEq)]
pub struct ClerkUserFields {
    pub clerk_id: ClerkUserId,
    pub email: String,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub image_url: String,
    pub public_metadata: Value,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// False when Clerk reports the user banned or locked.
    pub is_active: bool,
    /// Clerk's `updated_at`, Unix milliseconds.
    pub clerk_updated_at: i64,
    /// `Some(true)`: the username was generated here and must be written to Clerk;
    /// `Some(false)`: Clerk has it; `None`: leave the stored state alone.
    pub push_username: Option<bool>,
}

/// What an upsert did.
#[derive(Clone, Debug, PartialEq)]
pub enum Upserted {
    Created(User),
    Updated(User),
    /// The stored row is newer, or a tombstone: nothing was written.
    Stale,
}

/// Inserts or updates the user with this `clerk_id` in one statement, so concurrent upserts of
/// one id leave one row. A row with a newer `clerk_updated_at`, or a deleted one, is left alone.
pub async fn upsert_from_clerk(db: &Db, fields: &ClerkUserFields) -> Result<Upserted, sqlx::Error> {
    let mut tx = db.begin().await?;
    let upserted = upsert_from_clerk_in(tx.conn(), fields).await?;
    tx.commit().await?;
    Ok(upserted)
}

/// [`upsert_from_clerk`] inside a caller's transaction.
pub async fn upsert_from_clerk_in(conn: Conn<'_>, fields: &ClerkUserFields) -> Result<Upserted, sqlx::Error> {
    let now = now();
    let sql = format!(
        "INSERT INTO users (clerk_id, email, username, first_name, last_name, image_url, public_metadata, \
             is_active, last_sign_in_at, clerk_updated_at, created_at, updated_at, username_pending_push) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, COALESCE($12, FALSE)) \
         ON CONFLICT (clerk_id) DO UPDATE SET email = excluded.email, username = excluded.username, \
             first_name = excluded.first_name, last_name = excluded.last_name, image_url = excluded.image_url, \
             public_metadata = excluded.public_metadata, \
             is_active = excluded.is_active AND NOT users.deactivated_locally, \
             last_sign_in_at = excluded.last_sign_in_at, clerk_updated_at = excluded.clerk_updated_at, \
             updated_at = excluded.updated_at, username_pending_push = COALESCE($12, users.username_pending_push) \
         WHERE users.deleted_at IS NULL \
             AND (users.clerk_updated_at IS NULL OR users.clerk_updated_at <= excluded.clerk_updated_at) \
         RETURNING {COLUMNS}"
    );
    let row: Option<User> = on_conn!(conn, c => sqlx::query_as(&sql)
        .bind(&fields.clerk_id)
        .bind(&fields.email)
        .bind(&fields.username)
        .bind(&fields.first_name)
        .bind(&fields.last_name)
        .bind(&fields.image_url)
        .bind(Json(&fields.public_metadata))
        .bind(fields.is_active)
        .bind(fields.last_sign_in_at)
        .bind(fields.clerk_updated_at)
        .bind(now)
        .bind(fields.push_username)
        .fetch_optional(&mut *c)
        .await)?;
    Ok(match row {
        Some(user) if user.created_at == now => Upserted::Created(user),
        Some(user) => Upserted::Updated(user),
        None => Upserted::Stale,
    })
}

pub async fn find_by_clerk_id(db: &Db, clerk_id: &ClerkUserId) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE clerk_id = $1");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(clerk_id).fetch_optional(pool).await)
}

pub async fn find_by_id(db: &Db, id: UserId) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)
}

pub async fn find_by_clerk_id_in(conn: Conn<'_>, clerk_id: &ClerkUserId) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE clerk_id = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(clerk_id).fetch_optional(&mut *c).await)
}

/// Marks the user deleted and inactive. A user we never saw gets a tombstone row, so that a
/// late `user.created` cannot bring them back. Returns the tombstoned row.
/// With `erase`, every personal column is emptied; `clerk_id`, the dates and the audit trail stay.
pub async fn tombstone_in(conn: Conn<'_>, clerk_id: &ClerkUserId, erase: bool) -> Result<Option<User>, sqlx::Error> {
    let now = now();
    let erasure = if erase { ERASE_PERSONAL_DATA } else { "" };
    let sql = format!(
        "INSERT INTO users (clerk_id, is_active, deleted_at, created_at, updated_at) VALUES ($1, FALSE, $2, $2, $2) \
         ON CONFLICT (clerk_id) DO UPDATE SET is_active = FALSE, deleted_at = COALESCE(users.deleted_at, excluded.deleted_at), \
             updated_at = excluded.updated_at{erasure} \
         RETURNING {COLUMNS}"
    );
    on_conn!(conn, c => sqlx::query_as(&sql).bind(clerk_id).bind(now).fetch_optional(&mut *c).await)
}

/// Every column that says something about the person. A new personal column belongs here.
const ERASE_PERSONAL_DATA: &str = ", email = '', username = NULL, first_name = '', last_name = '', image_url = '', \
     public_metadata = '{}', bio = '', password_hash = NULL, last_login = NULL, last_sign_in_at = NULL, \
     last_logout = NULL";

/// Moves `last_login` forward (never back: session events arrive out of order).
pub async fn record_login_in(
    conn: Conn<'_>,
    clerk_id: &ClerkUserId,
    at: DateTime<Utc>,
) -> Result<Option<User>, sqlx::Error> {
    let sql = format!(
        "UPDATE users SET last_login = $2, updated_at = $3 \
         WHERE clerk_id = $1 AND deleted_at IS NULL AND (last_login IS NULL OR last_login < $2) RETURNING {COLUMNS}"
    );
    on_conn!(conn, c => sqlx::query_as(&sql).bind(clerk_id).bind(at).bind(now()).fetch_optional(&mut *c).await)
}

/// Moves `last_logout` forward (never back).
pub async fn record_logout_in(
    conn: Conn<'_>,
    clerk_id: &ClerkUserId,
    at: DateTime<Utc>,
) -> Result<Option<User>, sqlx::Error> {
    let sql = format!(
        "UPDATE users SET last_logout = $2, updated_at = $3 \
         WHERE clerk_id = $1 AND deleted_at IS NULL AND (last_logout IS NULL OR last_logout < $2) RETURNING {COLUMNS}"
    );
    on_conn!(conn, c => sqlx::query_as(&sql).bind(clerk_id).bind(at).bind(now()).fetch_optional(&mut *c).await)
}

pub async fn username_taken_in(conn: Conn<'_>, username: &str) -> Result<bool, sqlx::Error> {
    on_conn!(conn, c => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&mut *c)
        .await)
    .map(|n| n > 0)
}

/// Sets the local-only `bio`.
pub async fn set_bio(db: &Db, id: UserId, bio: &str) -> Result<Option<User>, sqlx::Error> {
    let sql =
        format!("UPDATE users SET bio = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL RETURNING {COLUMNS}");
    on_writer!(db, pool => sqlx::query_as(&sql).bind(id).bind(bio).bind(now()).fetch_optional(pool).await)
}

/// Live Clerk users without a username, for `generate-usernames`.
pub async fn ids_missing_username(db: &Db) -> Result<Vec<UserId>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT id FROM users WHERE username IS NULL AND deleted_at IS NULL AND clerk_id IS NOT NULL ORDER BY id")
        .fetch_all(pool)
        .await)
}

/// Sets a generated `username` (to be written to Clerk) unless the user got one meanwhile;
/// returns whether it was set (0 or 1).
pub async fn set_missing_username_in(conn: Conn<'_>, id: UserId, username: &str) -> Result<u64, sqlx::Error> {
    on_conn!(conn, c => sqlx::query(
        "UPDATE users SET username = $2, updated_at = $3, username_pending_push = TRUE WHERE id = $1 AND username IS NULL")
        .bind(id)
        .bind(username)
        .bind(now())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
}

pub async fn find_by_id_in(conn: Conn<'_>, id: UserId) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await)
}

/// The row, locked for the rest of the transaction: `FOR UPDATE` on Postgres; on SQLite the
/// transaction (`BEGIN IMMEDIATE`) already holds the database's write lock.
pub async fn find_by_id_for_update_in(conn: Conn<'_>, id: UserId) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    match conn {
        Conn::Sqlite(c) => sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await,
        Conn::Postgres(c) => sqlx::query_as(&format!("{sql} FOR UPDATE")).bind(id).fetch_optional(&mut *c).await,
    }
}

/// The flags only we own. `active: Some(false)` also marks the user deactivated here, so that
/// Clerk's later updates do not reactivate them; `None` leaves activity alone.
pub async fn set_local_flags_in(
    conn: Conn<'_>,
    id: UserId,
    active: Option<bool>,
    is_staff: bool,
    is_superuser: bool,
) -> Result<(), sqlx::Error> {
    on_conn!(conn, c => sqlx::query(
        "UPDATE users SET is_active = COALESCE($2, is_active), \
             deactivated_locally = COALESCE(NOT $2, deactivated_locally), \
             is_staff = $3, is_superuser = $4, updated_at = $5 WHERE id = $1")
        .bind(id)
        .bind(active)
        .bind(is_staff)
        .bind(is_superuser)
        .bind(now())
        .execute(&mut *c)
        .await
        .map(|_| ()))
}

/// Names of a staff-only account (no Clerk user owns them).
pub async fn set_names_in(
    conn: Conn<'_>,
    id: UserId,
    first_name: &str,
    last_name: &str,
    username: Option<&str>,
) -> Result<(), sqlx::Error> {
    on_conn!(conn, c => sqlx::query(
        "UPDATE users SET first_name = $2, last_name = $3, username = $4, updated_at = $5 \
         WHERE id = $1 AND clerk_id IS NULL")
        .bind(id)
        .bind(first_name)
        .bind(last_name)
        .bind(username)
        .bind(now())
        .execute(&mut *c)
        .await
        .map(|_| ()))
}

/// The Clerk users (tombstones included) whose email is `email`, case-insensitive.
pub async fn clerk_users_by_email(db: &Db, email: &str) -> Result<Vec<User>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM users WHERE clerk_id IS NOT NULL AND lower(email) = lower($1) ORDER BY id");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(email).fetch_all(pool).await)
}

/// Generated usernames Clerk does not have yet: `(id, clerk_id, username)`, after `after_id`.
pub async fn pending_username_pushes(
    db: &Db,
    after_id: UserId,
    limit: i64,
) -> Result<Vec<(UserId, ClerkUserId, String)>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT id, clerk_id, username FROM users WHERE username_pending_push AND id > $1 \
             AND clerk_id IS NOT NULL AND username IS NOT NULL AND deleted_at IS NULL ORDER BY id LIMIT $2")
        .bind(after_id)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// Clerk has `username` for user `id` now (or will never take it): nothing left to push,
/// unless the username changed meanwhile.
pub async fn username_push_done(db: &Db, id: UserId, username: &str) -> Result<(), sqlx::Error> {
    on_writer!(db, pool => sqlx::query(
        "UPDATE users SET username_pending_push = FALSE WHERE id = $1 AND username = $2")
        .bind(id)
        .bind(username)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Replaces a pending generated username that Clerk refused (someone there has it).
pub async fn replace_pending_username_in(conn: Conn<'_>, id: UserId, old: &str, new: &str) -> Result<u64, sqlx::Error> {
    on_conn!(conn, c => sqlx::query(
        "UPDATE users SET username = $3, updated_at = $4 WHERE id = $1 AND username = $2 AND username_pending_push")
        .bind(id)
        .bind(old)
        .bind(new)
        .bind(now())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
}
