//! The `organization_memberships` table: who belongs to which organization, with what role.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::{Db, now};
use crate::on_pool;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Membership {
    pub id: i64,
    pub clerk_id: String,
    pub organization_id: i64,
    pub user_id: i64,
    pub role: String,
    pub permissions: Json<Vec<String>>,
    pub clerk_updated_at: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, clerk_id, organization_id, user_id, role, permissions, clerk_updated_at, created_at, updated_at";

#[derive(Clone, Debug, PartialEq)]
pub struct MembershipFields {
    pub clerk_id: String,
    pub organization_id: i64,
    pub user_id: i64,
    pub role: String,
    pub permissions: Vec<String>,
    /// Clerk's `updated_at`, Unix milliseconds.
    pub clerk_updated_at: i64,
}

/// Upserts on (organization, user): a membership deleted and re-created in Clerk comes back
/// with a new `clerk_id`, which replaces the old one. An older event is ignored (`None`).
pub async fn upsert(db: &Db, fields: &MembershipFields) -> Result<Option<Membership>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO organization_memberships (clerk_id, organization_id, user_id, role, permissions, \
             clerk_updated_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (organization_id, user_id) DO UPDATE SET clerk_id = excluded.clerk_id, \
             role = excluded.role, permissions = excluded.permissions, \
             clerk_updated_at = excluded.clerk_updated_at, updated_at = excluded.updated_at \
         WHERE organization_memberships.clerk_updated_at IS NULL \
             OR organization_memberships.clerk_updated_at <= excluded.clerk_updated_at \
         RETURNING {COLUMNS}"
    );
    on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(&fields.clerk_id)
        .bind(fields.organization_id)
        .bind(fields.user_id)
        .bind(&fields.role)
        .bind(Json(&fields.permissions))
        .bind(fields.clerk_updated_at)
        .bind(now())
        .fetch_optional(pool)
        .await)
}

pub async fn for_user(db: &Db, user_id: i64) -> Result<Vec<Membership>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM organization_memberships WHERE user_id = $1 ORDER BY id");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await)
}

/// The user's membership in the organization with this Clerk id, if any.
pub async fn find(db: &Db, user_id: i64, org_clerk_id: &str) -> Result<Option<Membership>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id \
         WHERE m.user_id = $1 AND o.clerk_id = $2 AND o.deleted_at IS NULL",
        COLUMNS.split(", ").map(|c| format!("m.{c}")).collect::<Vec<_>>().join(", ")
    );
    on_pool!(db, pool => sqlx::query_as(&sql).bind(user_id).bind(org_clerk_id).fetch_optional(pool).await)
}
