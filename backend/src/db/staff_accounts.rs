//! Staff-only accounts: rows with no `clerk_id`, a password hash and the staff flag. Clerk users
//! are never touched here, whatever their email.

use super::{
    Db, now,
    users::{COLUMNS, User},
};
use crate::on_pool;

/// What a password check needs. No `Debug`: it holds a password hash.
pub struct StaffCredentials {
    pub user_id: i64,
    pub password_hash: String,
}

/// Creates the staff account for `email`, or resets its password (and reactivates it). With
/// `superuser`, the account becomes a superuser; without, an existing superuser stays one.
/// Returns the account and whether it was created.
pub async fn create_or_reset(
    db: &Db,
    email: &str,
    superuser: bool,
    password_hash: &str,
) -> Result<(User, bool), sqlx::Error> {
    let sql = format!(
        "INSERT INTO users (email, is_staff, is_superuser, password_hash, created_at, updated_at) \
         VALUES ($1, TRUE, $2, $3, $4, $4) \
         ON CONFLICT (lower(email)) WHERE clerk_id IS NULL DO UPDATE SET is_staff = TRUE, \
             is_superuser = users.is_superuser OR excluded.is_superuser, password_hash = excluded.password_hash, \
             is_active = TRUE, deleted_at = NULL, updated_at = excluded.updated_at \
         RETURNING {COLUMNS}"
    );
    let at = now();
    let user: User = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(email)
        .bind(superuser)
        .bind(password_hash)
        .bind(at)
        .fetch_one(pool)
        .await)?;
    let created = user.created_at == at;
    Ok((user, created))
}

/// The credentials of an active staff account with a password, by email (case-insensitive).
pub async fn credentials(db: &Db, email: &str) -> Result<Option<StaffCredentials>, sqlx::Error> {
    let row: Option<(i64, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, password_hash FROM users WHERE clerk_id IS NULL AND lower(email) = lower($1) \
         AND password_hash IS NOT NULL AND is_staff AND is_active AND deleted_at IS NULL")
        .bind(email)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|(user_id, password_hash)| StaffCredentials { user_id, password_hash }))
}

/// The account behind a staff session, while it may still use the admin.
pub async fn active_staff(db: &Db, id: i64) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1 AND is_staff AND is_active AND deleted_at IS NULL");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn record_login(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => sqlx::query("UPDATE users SET last_login = $2 WHERE id = $1")
        .bind(id)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ()))
}
