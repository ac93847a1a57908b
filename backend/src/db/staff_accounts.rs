//! Staff-only accounts: rows with no `clerk_id`, a password hash and the staff flag. Clerk users
//! are never touched here, whatever their email.

use ids::UserId;

use super::{
    Conn, Db, now,
    users::{COLUMNS, User},
};
use crate::{on_conn, on_pool, on_writer};

/// What a password check needs. No `Debug`: it holds a password hash.
pub struct StaffCredentials {
    pub user_id: UserId,
    pub password_hash: String,
    /// The staff epoch this hash belongs to: a session may start only under it.
    pub epoch: i64,
}

/// Creates the staff account for `email`, or resets its password (and reactivates it). With
/// `superuser`, the account becomes a superuser; without, an existing superuser stays one.
/// A reset bumps the account's staff epoch, which ends its existing sessions.
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
             is_active = TRUE, deleted_at = NULL, updated_at = excluded.updated_at, \
             staff_epoch = users.staff_epoch + 1 \
         RETURNING {COLUMNS}"
    );
    let at = now();
    let user: User = on_writer!(db, pool => sqlx::query_as(&sql)
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
    let row: Option<(UserId, String, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, password_hash, staff_epoch FROM users WHERE clerk_id IS NULL AND lower(email) = lower($1) \
         AND password_hash IS NOT NULL AND is_staff AND is_active AND deleted_at IS NULL")
        .bind(email)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|(user_id, password_hash, epoch)| StaffCredentials { user_id, password_hash, epoch }))
}

/// An account that may use the admin, by id.
pub async fn active_staff(db: &Db, id: UserId) -> Result<Option<User>, sqlx::Error> {
    Ok(active_staff_with_epoch(db, id).await?.map(|(user, _)| user))
}

/// An account that may use the admin, with its staff epoch (see [`bump_epoch`]).
pub async fn active_staff_with_epoch(db: &Db, id: UserId) -> Result<Option<(User, i64)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        staff_epoch: i64,
    }
    let sql = format!(
        "SELECT {COLUMNS}, staff_epoch FROM users WHERE id = $1 AND is_staff AND is_active AND deleted_at IS NULL"
    );
    let row: Option<Row> = on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
    Ok(row.map(|r| (r.user, r.staff_epoch)))
}

/// Ends every staff session of account `id`, on every instance: sessions carry the epoch they
/// logged in under, and one that no longer matches is refused (and never comes back).
pub async fn bump_epoch_in(conn: Conn<'_>, id: UserId) -> Result<(), sqlx::Error> {
    on_conn!(conn, c => sqlx::query("UPDATE users SET staff_epoch = staff_epoch + 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|_| ()))
}

/// Sets a new password hash for staff-only account `id` and ends its sessions. False when there
/// is no such account.
pub async fn set_password_in(conn: Conn<'_>, id: UserId, password_hash: &str) -> Result<bool, sqlx::Error> {
    let changed = on_conn!(conn, c => sqlx::query(
        "UPDATE users SET password_hash = $2, staff_epoch = staff_epoch + 1, updated_at = $3 \
         WHERE id = $1 AND clerk_id IS NULL AND is_staff AND deleted_at IS NULL")
        .bind(id)
        .bind(password_hash)
        .bind(now())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

/// [`set_password_in`], only while the stored hash is still `old_hash` (the one just checked):
/// false when a reset got in first, which then wins.
pub async fn replace_password_in(
    conn: Conn<'_>,
    id: UserId,
    old_hash: &str,
    new_hash: &str,
) -> Result<bool, sqlx::Error> {
    let changed = on_conn!(conn, c => sqlx::query(
        "UPDATE users SET password_hash = $3, staff_epoch = staff_epoch + 1, updated_at = $4 \
         WHERE id = $1 AND password_hash = $2 AND clerk_id IS NULL AND is_staff AND deleted_at IS NULL")
        .bind(id)
        .bind(old_hash)
        .bind(new_hash)
        .bind(now())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

pub async fn epoch_in(conn: Conn<'_>, id: UserId) -> Result<i64, sqlx::Error> {
    on_conn!(conn, c => sqlx::query_scalar("SELECT staff_epoch FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *c)
        .await)
}

/// The staff-only account with this email (case-insensitive), if any.
pub async fn find_id_by_email(db: &Db, email: &str) -> Result<Option<i64>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT id FROM users WHERE clerk_id IS NULL AND lower(email) = lower($1)")
        .bind(email)
        .fetch_optional(pool)
        .await)
}

/// Inserts a new staff-only account; the unique index on its email refuses a duplicate.
pub async fn create_in(conn: Conn<'_>, email: &str, superuser: bool, password_hash: &str) -> Result<User, sqlx::Error> {
    let sql = format!(
        "INSERT INTO users (email, is_staff, is_superuser, password_hash, created_at, updated_at) \
         VALUES ($1, TRUE, $2, $3, $4, $4) RETURNING {COLUMNS}"
    );
    on_conn!(conn, c => sqlx::query_as(&sql)
        .bind(email)
        .bind(superuser)
        .bind(password_hash)
        .bind(now())
        .fetch_one(&mut *c)
        .await)
}

/// The stored hash of staff account `id`, to check a current password. No `Debug` use: secret.
pub async fn password_hash(db: &Db, id: UserId) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT password_hash FROM users WHERE id = $1 AND clerk_id IS NULL AND password_hash IS NOT NULL")
        .bind(id)
        .fetch_optional(pool)
        .await)
}

pub async fn record_login(db: &Db, id: UserId) -> Result<(), sqlx::Error> {
    on_writer!(db, pool => sqlx::query("UPDATE users SET last_login = $2 WHERE id = $1")
        .bind(id)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Every staff account (password or Clerk), by email; the admin lists them on one page.
pub async fn list(db: &Db) -> Result<Vec<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE is_staff AND deleted_at IS NULL ORDER BY email, id LIMIT 500");
    on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)
}
