//! The `organization_memberships` table: who belongs to which organization, with what role.

use ids::{ClerkOrgId, ClerkUserId, MembershipId, OrgId, UserId};

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::{Conn, Db, now};
use crate::{on_conn, on_pool};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Membership {
    pub id: MembershipId,
    pub clerk_id: String,
    pub organization_id: OrgId,
    pub user_id: UserId,
    pub role: String,
    pub permissions: Json<Vec<String>>,
    pub clerk_updated_at: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub public_metadata: Json<serde_json::Value>,
}

const COLUMNS: &str = "id, clerk_id, organization_id, user_id, role, permissions, clerk_updated_at, created_at, \
    updated_at, public_metadata";

#[derive(Clone, Debug, PartialEq)]
pub struct MembershipFields {
    pub clerk_id: String,
    pub organization_id: OrgId,
    pub user_id: UserId,
    pub role: String,
    pub permissions: Vec<String>,
    /// Clerk's `updated_at`, Unix milliseconds.
    pub clerk_updated_at: i64,
    pub public_metadata: serde_json::Value,
}

/// Upserts on (organization, user): a membership deleted and re-created in Clerk comes back
/// with a new `clerk_id`, which replaces the old one. An older event is ignored (`None`), and a
/// tombstone yields only to a strictly newer event.
pub async fn upsert(db: &Db, fields: &MembershipFields) -> Result<Option<Membership>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let membership = upsert_in(tx.conn(), fields).await?;
    tx.commit().await?;
    Ok(membership)
}

/// [`upsert`] inside a caller's transaction.
pub async fn upsert_in(conn: Conn<'_>, fields: &MembershipFields) -> Result<Option<Membership>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO organization_memberships (clerk_id, organization_id, user_id, role, permissions, \
             clerk_updated_at, created_at, updated_at, public_metadata) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) \
         ON CONFLICT (organization_id, user_id) DO UPDATE SET clerk_id = excluded.clerk_id, \
             role = excluded.role, permissions = excluded.permissions, public_metadata = excluded.public_metadata, \
             clerk_updated_at = excluded.clerk_updated_at, updated_at = excluded.updated_at, deleted_at = NULL \
         WHERE organization_memberships.clerk_updated_at IS NULL \
             OR (organization_memberships.deleted_at IS NULL \
                 AND organization_memberships.clerk_updated_at <= excluded.clerk_updated_at) \
             OR organization_memberships.clerk_updated_at < excluded.clerk_updated_at \
         RETURNING {COLUMNS}"
    );
    write_in(conn, &sql, fields).await
}

pub async fn for_user(db: &Db, user_id: UserId) -> Result<Vec<Membership>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM organization_memberships WHERE user_id = $1 AND deleted_at IS NULL ORDER BY id");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await)
}

/// The user's membership in the organization with this Clerk id, if any.
pub async fn find(db: &Db, user_id: UserId, org_clerk_id: &ClerkOrgId) -> Result<Option<Membership>, sqlx::Error> {
    let sql = live_in_live_organizations("", "m.user_id = $1 AND o.clerk_id = $2");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(user_id).bind(org_clerk_id).fetch_optional(pool).await)
}

/// Every live membership of a user, with its organization's Clerk id, oldest first.
pub async fn for_user_by_org(db: &Db, user_id: UserId) -> Result<Vec<(ClerkOrgId, Membership)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        org_clerk_id: ClerkOrgId,
        #[sqlx(flatten)]
        membership: Membership,
    }
    let sql = live_in_live_organizations("o.clerk_id AS org_clerk_id, ", "m.user_id = $1") + " ORDER BY m.id";
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|r| (r.org_clerk_id, r.membership)).collect())
}

/// How many live members the live organization with this Clerk id has.
pub async fn count_in_org(db: &Db, org_clerk_id: &ClerkOrgId) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM ({}) live", live_in_live_organizations("", "o.clerk_id = $1"));
    on_pool!(db, pool => sqlx::query_scalar(&sql).bind(org_clerk_id).fetch_one(pool).await)
}

/// Memberships (`m`) matching `condition` that are not deleted, in organizations (`o`) that are
/// not deleted either; `extra` columns come first.
/// The membership columns qualified with `m.`, for queries that join organizations.
fn qualified_columns() -> String {
    COLUMNS.split(", ").map(|c| format!("m.{c}")).collect::<Vec<_>>().join(", ")
}

fn live_in_live_organizations(extra: &str, condition: &str) -> String {
    let columns = qualified_columns();
    format!(
        "SELECT {extra}{columns} FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id \
         WHERE {condition} AND o.deleted_at IS NULL AND m.deleted_at IS NULL"
    )
}

/// Runs an insert-or-update whose parameters are `$1`–`$8`: the fields, the time now, then the
/// public metadata.
async fn write_in(conn: Conn<'_>, sql: &str, fields: &MembershipFields) -> Result<Option<Membership>, sqlx::Error> {
    on_conn!(conn, c => sqlx::query_as(sql)
        .bind(&fields.clerk_id)
        .bind(fields.organization_id)
        .bind(fields.user_id)
        .bind(&fields.role)
        .bind(Json(&fields.permissions))
        .bind(fields.clerk_updated_at)
        .bind(now())
        .bind(Json(&fields.public_metadata))
        .fetch_optional(&mut *c)
        .await)
}

/// Records the membership of (organization, user) as deleted, as of Clerk's `updated_at`.
/// A row is written even if we never saw the membership, so a late `created` stays dead.
/// Returns `None` when the stored row is newer.
pub async fn tombstone_in(conn: Conn<'_>, fields: &MembershipFields) -> Result<Option<Membership>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO organization_memberships (clerk_id, organization_id, user_id, role, permissions, \
             clerk_updated_at, created_at, updated_at, deleted_at, public_metadata) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, $8) \
         ON CONFLICT (organization_id, user_id) DO UPDATE SET clerk_id = excluded.clerk_id, \
             clerk_updated_at = excluded.clerk_updated_at, updated_at = excluded.updated_at, \
             deleted_at = COALESCE(organization_memberships.deleted_at, excluded.deleted_at) \
         WHERE organization_memberships.clerk_updated_at IS NULL \
             OR organization_memberships.clerk_updated_at <= excluded.clerk_updated_at \
         RETURNING {COLUMNS}"
    );
    write_in(conn, &sql, fields).await
}

/// Tombstones every live membership of a user (`user.deleted`) or an organization.
pub async fn tombstone_all_in(conn: Conn<'_>, owner: MembershipOwner) -> Result<u64, sqlx::Error> {
    let (sql, id) = match owner {
        MembershipOwner::User(id) => (
            "UPDATE organization_memberships SET deleted_at = $2, updated_at = $2 WHERE user_id = $1 AND deleted_at IS NULL",
            id.get(),
        ),
        MembershipOwner::Organization(id) => (
            "UPDATE organization_memberships SET deleted_at = $2, updated_at = $2 WHERE organization_id = $1 AND deleted_at IS NULL",
            id.get(),
        ),
    };
    on_conn!(conn, c => sqlx::query(sql).bind(id).bind(now()).execute(&mut *c).await.map(|r| r.rows_affected()))
}

/// Whose memberships [`tombstone_all_in`] ends.
#[derive(Clone, Copy, Debug)]
pub enum MembershipOwner {
    User(UserId),
    Organization(OrgId),
}

/// A user's live memberships with their organizations, for pages.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct MembershipWithOrg {
    pub org_clerk_id: ClerkOrgId,
    pub org_name: String,
    pub org_slug: Option<String>,
    pub role: String,
    pub permissions: Json<Vec<String>>,
}

pub async fn with_orgs_for_user(db: &Db, user_id: UserId) -> Result<Vec<MembershipWithOrg>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT o.clerk_id AS org_clerk_id, o.name AS org_name, o.slug AS org_slug, m.role, m.permissions \
         FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id \
         WHERE m.user_id = $1 AND m.deleted_at IS NULL AND o.deleted_at IS NULL ORDER BY o.name")
        .bind(user_id)
        .fetch_all(pool)
        .await)
}

/// `(membership id, user id)` of every live membership in the organization.
/// `(membership id, user id, the user's Clerk id)` of each live membership.
pub async fn live_in_organization(
    db: &Db,
    organization_id: OrgId,
) -> Result<Vec<(MembershipId, UserId, Option<ClerkUserId>)>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT m.id, m.user_id, u.clerk_id FROM organization_memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.organization_id = $1 AND m.deleted_at IS NULL")
        .bind(organization_id)
        .fetch_all(pool)
        .await)
}

/// Tombstones one membership by its id (Clerk no longer lists it).
pub async fn tombstone_by_id_in(conn: Conn<'_>, id: MembershipId) -> Result<(), sqlx::Error> {
    on_conn!(conn, c => sqlx::query("UPDATE organization_memberships SET deleted_at = $2, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now())
        .execute(&mut *c)
        .await
        .map(|_| ()))
}

/// A membership row for an export: tombstones included, with the organization's Clerk id.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ExportedMembership {
    pub org_clerk_id: ClerkOrgId,
    #[sqlx(flatten)]
    pub membership: Membership,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Every membership row of a user, deleted ones too, oldest first.
pub async fn all_of_user(db: &Db, user_id: UserId) -> Result<Vec<ExportedMembership>, sqlx::Error> {
    let columns = qualified_columns();
    let sql = format!(
        "SELECT o.clerk_id AS org_clerk_id, {columns}, m.deleted_at FROM organization_memberships m \
         JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = $1 ORDER BY m.id"
    );
    on_pool!(db, pool => sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await)
}
