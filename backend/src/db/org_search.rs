//! The admin's organization listing and an organization's members and invitations.

use ids::{ClerkOrgId, ClerkUserId, MembershipId, OrgId, UserId};

use chrono::{DateTime, Utc};

use super::{
    Db,
    invitations::{self, Invitation},
    listing::{Bind, Filter, Listing, PAGE_SIZE, Page, fetch_page, offset_of},
    organizations::{COLUMNS, Organization},
};
use crate::on_pool;

/// One page of organizations, newest first, optionally matching `search` (name, slug, id).
pub async fn search(db: &Db, search: Option<&str>, page: i64) -> Result<Page<Organization>, sqlx::Error> {
    let mut f = Filter::default();
    if let Some(text) = search.map(str::trim).filter(|t| !t.is_empty()) {
        f.search(text, &["name", "slug", "clerk_id"]);
    }
    let listing =
        Listing { columns: COLUMNS, from: "organizations", order_by: "created_at DESC, id DESC", key: Some("id") };
    fetch_page(db, &listing, &f, page).await
}

pub async fn find(db: &Db, id: OrgId) -> Result<Option<Organization>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM organizations WHERE id = $1");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

/// A live membership with its user, as the organization page lists it.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Member {
    pub membership_id: MembershipId,
    pub membership_clerk_id: String,
    pub role: String,
    pub joined_at: DateTime<Utc>,
    pub clerk_updated_at: Option<i64>,
    pub user_id: UserId,
    pub user_clerk_id: Option<ClerkUserId>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub public_metadata: sqlx::types::Json<serde_json::Value>,
}

const MEMBER_COLUMNS: &str = "m.id AS membership_id, m.clerk_id AS membership_clerk_id, m.role, \
    m.created_at AS joined_at, m.clerk_updated_at, u.id AS user_id, u.clerk_id AS user_clerk_id, u.email, \
    u.first_name, u.last_name, m.public_metadata";
const MEMBER_FROM: &str = "organization_memberships m JOIN users u ON u.id = m.user_id";

/// One page of an organization's live members, oldest first.
pub async fn members(db: &Db, organization_id: OrgId, page: i64) -> Result<Page<Member>, sqlx::Error> {
    let mut f = Filter::default();
    let org = f.param(Bind::Int(organization_id.get()));
    f.and(format!("m.organization_id = {org}"));
    f.and("m.deleted_at IS NULL".into());
    let listing = Listing { columns: MEMBER_COLUMNS, from: MEMBER_FROM, order_by: "m.created_at, m.id", key: None };
    fetch_page(db, &listing, &f, page).await
}

/// One live member of an organization, by user id.
pub async fn member(db: &Db, organization_id: OrgId, user_id: UserId) -> Result<Option<Member>, sqlx::Error> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM {MEMBER_FROM} WHERE m.organization_id = $1 AND m.user_id = $2 AND m.deleted_at IS NULL"
    );
    on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(organization_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await)
}

/// One page of an organization's invitations, newest first.
pub async fn invitations(db: &Db, organization_id: OrgId, page: i64) -> Result<Page<Invitation>, sqlx::Error> {
    let (page, offset) = offset_of(page);
    let sql = format!(
        "SELECT {} FROM organization_invitations WHERE organization_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
        invitations::COLUMNS
    );
    let count = "SELECT COUNT(*) FROM organization_invitations WHERE organization_id = $1";
    let (items, total) = on_pool!(db, pool => {
        let items: Vec<Invitation> =
            sqlx::query_as(&sql).bind(organization_id).bind(PAGE_SIZE).bind(offset).fetch_all(pool).await?;
        let total: i64 = sqlx::query_scalar(count).bind(organization_id).fetch_one(pool).await?;
        (items, total)
    });
    Ok(Page { items, total, page, per_page: PAGE_SIZE })
}

/// One invitation of an organization, by local id.
pub async fn invitation(db: &Db, organization_id: OrgId, id: i64) -> Result<Option<Invitation>, sqlx::Error> {
    let sql =
        format!("SELECT {} FROM organization_invitations WHERE organization_id = $1 AND id = $2", invitations::COLUMNS);
    on_pool!(db, pool => sqlx::query_as(&sql).bind(organization_id).bind(id).fetch_optional(pool).await)
}

/// A user's live memberships with their organizations, for the user page.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct UserMembership {
    pub organization_id: OrgId,
    pub org_clerk_id: ClerkOrgId,
    pub org_name: String,
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

pub async fn memberships_of_user(db: &Db, user_id: UserId) -> Result<Vec<UserMembership>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT o.id AS organization_id, o.clerk_id AS org_clerk_id, o.name AS org_name, m.role, m.created_at AS joined_at \
         FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id \
         WHERE m.user_id = $1 AND m.deleted_at IS NULL ORDER BY o.name, o.id")
        .bind(user_id)
        .fetch_all(pool)
        .await)
}
