//! The `organization_invitations` table: invitations and their status.

use chrono::{DateTime, Utc};

use super::{Conn, Db, now};
use crate::{on_conn, on_pool};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Invitation {
    pub id: i64,
    pub clerk_id: String,
    pub organization_id: i64,
    pub email_address: String,
    pub role: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) const COLUMNS: &str = "id, clerk_id, organization_id, email_address, role, status, created_at, updated_at";

/// Inserts or updates by Clerk id. Final statuses (accepted, revoked) are not overwritten by a
/// late `pending`.
pub async fn upsert_in(
    conn: Conn<'_>,
    clerk_id: &str,
    organization_id: i64,
    email_address: &str,
    role: &str,
    status: &str,
) -> Result<Option<Invitation>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO organization_invitations (clerk_id, organization_id, email_address, role, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) \
         ON CONFLICT (clerk_id) DO UPDATE SET email_address = excluded.email_address, role = excluded.role, \
             status = excluded.status, updated_at = excluded.updated_at \
         WHERE organization_invitations.status = 'pending' OR excluded.status <> 'pending' \
         RETURNING {COLUMNS}"
    );
    on_conn!(conn, c => sqlx::query_as(&sql)
        .bind(clerk_id)
        .bind(organization_id)
        .bind(email_address)
        .bind(role)
        .bind(status)
        .bind(now())
        .fetch_optional(&mut *c)
        .await)
}

/// Every invitation addressed to `email` (case-insensitive), oldest first.
pub async fn addressed_to(db: &Db, email: &str) -> Result<Vec<Invitation>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM organization_invitations WHERE lower(email_address) = lower($1) ORDER BY id");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(email).fetch_all(pool).await)
}
