//! The `organization_invitations` table: invitations and their status.

use chrono::{DateTime, Utc};
use ids::OrgId;
use serde_json::Value;
use sqlx::types::Json;

use super::{Conn, Db, now};
use crate::{on_conn, on_pool};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Invitation {
    pub id: i64,
    pub clerk_id: String,
    pub organization_id: OrgId,
    pub email_address: String,
    pub role: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The Clerk user who sent it, when Clerk says.
    pub inviter_id: Option<String>,
    pub public_metadata: Json<Value>,
}

pub(crate) const COLUMNS: &str =
    "id, clerk_id, organization_id, email_address, role, status, created_at, updated_at, inviter_id, public_metadata";

/// An invitation as Clerk sends it, mapped.
#[derive(Clone, Debug)]
pub struct InvitationFields<'a> {
    pub clerk_id: &'a str,
    pub organization_id: OrgId,
    pub email_address: &'a str,
    pub role: &'a str,
    /// `pending`, or a final `accepted`, `revoked` or `expired`.
    pub status: &'a str,
    pub inviter_id: Option<&'a str>,
    pub public_metadata: &'a Value,
}

/// Inserts or updates by Clerk id. Only a pending invitation changes: accepted, revoked and
/// expired are final whatever order their webhooks arrive in (None: nothing changed).
pub async fn upsert_in(conn: Conn<'_>, fields: &InvitationFields<'_>) -> Result<Option<Invitation>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO organization_invitations \
             (clerk_id, organization_id, email_address, role, status, inviter_id, public_metadata, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (clerk_id) DO UPDATE SET email_address = excluded.email_address, role = excluded.role, \
             status = excluded.status, inviter_id = COALESCE(excluded.inviter_id, organization_invitations.inviter_id), \
             public_metadata = excluded.public_metadata, updated_at = excluded.updated_at \
         WHERE organization_invitations.status = 'pending' \
         RETURNING {COLUMNS}"
    );
    on_conn!(conn, c => sqlx::query_as(&sql)
        .bind(fields.clerk_id)
        .bind(fields.organization_id)
        .bind(fields.email_address)
        .bind(fields.role)
        .bind(fields.status)
        .bind(fields.inviter_id)
        .bind(Json(fields.public_metadata))
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

pub async fn find_by_clerk_id_in(conn: Conn<'_>, clerk_id: &str) -> Result<Option<Invitation>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM organization_invitations WHERE clerk_id = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(clerk_id).fetch_optional(&mut *c).await)
}
