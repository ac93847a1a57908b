//! Local accounts without a Clerk user (`clerk_id IS NULL`): what `migrate-users-to-clerk`
//! reads, and how it links each to the Clerk user made for it.

use ids::{ClerkUserId, UserId};

use super::{Conn, Db, now};
use crate::{on_conn, on_pool};

/// A local account as `migrate-users-to-clerk` sends it to Clerk.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LocalAccount {
    pub id: UserId,
    pub email: String,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub is_staff: bool,
    pub password_hash: Option<String>,
}

/// How many live unlinked accounts there are, staff and not.
pub async fn count_unlinked(db: &Db, staff: bool) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE clerk_id IS NULL AND deleted_at IS NULL AND is_staff = $1")
        .bind(staff)
        .fetch_one(pool)
        .await)
}

/// The next `limit` live unlinked accounts after `after_id`, in id order (keyset paging, so rows
/// linked meanwhile do not shift the pages).
pub async fn unlinked_page(
    db: &Db,
    staff: bool,
    after_id: UserId,
    limit: i64,
) -> Result<Vec<LocalAccount>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT id, email, username, first_name, last_name, is_staff, password_hash FROM users \
         WHERE clerk_id IS NULL AND deleted_at IS NULL AND is_staff = $1 AND id > $2 ORDER BY id LIMIT $3")
        .bind(staff)
        .bind(after_id)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// Why a link was not made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotLinked {
    /// The account was linked, or deleted, meanwhile.
    Gone,
    /// Another local row already mirrors this Clerk user.
    ClerkUserTaken { local_id: i64 },
}

/// Gives account `id` the Clerk user `clerk_id`. Its password hash goes (Clerk has the password
/// now), and an inactive account stays inactive whatever Clerk says. With `replace_mirror_copy`, a row that mirrors `clerk_id` already (the webhook for a
/// user this command just created can beat the link) is deleted first, so the account keeps
/// its id and local data; otherwise such a row refuses the link.
pub async fn link_in(
    conn: Conn<'_>,
    id: UserId,
    clerk_id: &ClerkUserId,
    replace_mirror_copy: bool,
) -> Result<Result<(), NotLinked>, sqlx::Error> {
    on_conn!(conn, c => {
        let other: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE clerk_id = $1 AND id <> $2")
            .bind(clerk_id)
            .bind(id)
            .fetch_optional(&mut *c)
            .await?;
        match other {
            Some(other) if replace_mirror_copy => {
                sqlx::query("DELETE FROM users WHERE id = $1").bind(other).execute(&mut *c).await?;
            }
            Some(local_id) => return Ok(Err(NotLinked::ClerkUserTaken { local_id })),
            None => {}
        }
        // The account signs in through Clerk from now on: its password sessions (staff ones,
        // which carry the epoch) end with the password.
        let linked = sqlx::query(
            "UPDATE users SET clerk_id = $2, password_hash = NULL, updated_at = $3, \
                 staff_epoch = staff_epoch + 1, deactivated_locally = deactivated_locally OR NOT is_active \
             WHERE id = $1 AND clerk_id IS NULL AND deleted_at IS NULL")
            .bind(id)
            .bind(clerk_id)
            .bind(now())
            .execute(&mut *c)
            .await?
            .rows_affected();
        Ok(if linked == 1 { Ok(()) } else { Err(NotLinked::Gone) })
    })
}
