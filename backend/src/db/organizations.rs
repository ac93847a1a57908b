//! The `organizations` table: Clerk organizations mirrored locally.

use ids::{ClerkOrgId, OrgId};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::{Conn, Db, now};
use crate::{on_conn, on_pool};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Organization {
    pub id: OrgId,
    pub clerk_id: ClerkOrgId,
    pub name: String,
    pub slug: Option<String>,
    pub image_url: String,
    pub members_count: Option<i64>,
    pub max_allowed_memberships: Option<i64>,
    pub public_metadata: Json<Value>,
    pub is_active: bool,
    pub clerk_updated_at: Option<i64>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) const COLUMNS: &str = "id, clerk_id, name, slug, image_url, members_count, max_allowed_memberships, \
    public_metadata, is_active, clerk_updated_at, deleted_at, created_at, updated_at";

/// The fields Clerk owns, already mapped from a Clerk Organization object.
#[derive(Clone, Debug, PartialEq)]
pub struct ClerkOrganizationFields {
    pub clerk_id: ClerkOrgId,
    pub name: String,
    pub slug: Option<String>,
    pub image_url: String,
    pub members_count: Option<i64>,
    pub max_allowed_memberships: Option<i64>,
    pub public_metadata: Value,
    /// Clerk's `updated_at`, Unix milliseconds.
    pub clerk_updated_at: i64,
}

/// Inserts or updates in one statement; a newer or deleted row is left alone (`None`).
pub async fn upsert_from_clerk(db: &Db, fields: &ClerkOrganizationFields) -> Result<Option<Organization>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let org = upsert_from_clerk_in(tx.conn(), fields).await?;
    tx.commit().await?;
    Ok(org)
}

/// [`upsert_from_clerk`] inside a caller's transaction.
pub async fn upsert_from_clerk_in(
    conn: Conn<'_>,
    fields: &ClerkOrganizationFields,
) -> Result<Option<Organization>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO organizations (clerk_id, name, slug, image_url, members_count, max_allowed_memberships, \
             public_metadata, clerk_updated_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         ON CONFLICT (clerk_id) DO UPDATE SET name = excluded.name, slug = excluded.slug, \
             image_url = excluded.image_url, \
             members_count = COALESCE(excluded.members_count, organizations.members_count), \
             max_allowed_memberships = excluded.max_allowed_memberships, \
             public_metadata = excluded.public_metadata, clerk_updated_at = excluded.clerk_updated_at, \
             updated_at = excluded.updated_at \
         WHERE organizations.deleted_at IS NULL \
             AND (organizations.clerk_updated_at IS NULL OR organizations.clerk_updated_at <= excluded.clerk_updated_at) \
         RETURNING {COLUMNS}"
    );
    on_conn!(conn, c => sqlx::query_as(&sql)
        .bind(&fields.clerk_id)
        .bind(&fields.name)
        .bind(&fields.slug)
        .bind(&fields.image_url)
        .bind(fields.members_count)
        .bind(fields.max_allowed_memberships)
        .bind(Json(&fields.public_metadata))
        .bind(fields.clerk_updated_at)
        .bind(now())
        .fetch_optional(&mut *c)
        .await)
}

pub async fn find_by_clerk_id(db: &Db, clerk_id: &ClerkOrgId) -> Result<Option<Organization>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM organizations WHERE clerk_id = $1");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(clerk_id).fetch_optional(pool).await)
}

/// A live organization by its slug (Clerk's slugs are unique and lowercase).
pub async fn find_by_slug(db: &Db, slug: &str) -> Result<Option<Organization>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM organizations WHERE slug = $1 AND deleted_at IS NULL");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(slug).fetch_optional(pool).await)
}

pub async fn find_by_clerk_id_in(conn: Conn<'_>, clerk_id: &ClerkOrgId) -> Result<Option<Organization>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM organizations WHERE clerk_id = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(clerk_id).fetch_optional(&mut *c).await)
}

/// Marks the organization deleted (inserting a tombstone if we never saw it).
pub async fn tombstone_in(conn: Conn<'_>, clerk_id: &ClerkOrgId) -> Result<Option<Organization>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO organizations (clerk_id, is_active, deleted_at, created_at, updated_at) VALUES ($1, FALSE, $2, $2, $2) \
         ON CONFLICT (clerk_id) DO UPDATE SET is_active = FALSE, \
             deleted_at = COALESCE(organizations.deleted_at, excluded.deleted_at), updated_at = excluded.updated_at \
         RETURNING {COLUMNS}"
    );
    on_conn!(conn, c => sqlx::query_as(&sql).bind(clerk_id).bind(now()).fetch_optional(&mut *c).await)
}
