//! Counts for the admin dashboard, in one round trip.

use super::Db;
use crate::on_pool;

#[derive(Clone, Debug, Default, PartialEq, sqlx::FromRow)]
pub struct Counts {
    pub active_users: i64,
    pub inactive_users: i64,
    pub deleted_users: i64,
    pub staff_users: i64,
    pub organizations: i64,
    pub memberships: i64,
}

pub async fn counts(db: &Db) -> Result<Counts, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT \
            (SELECT COUNT(*) FROM users WHERE deleted_at IS NULL AND is_active) AS active_users, \
            (SELECT COUNT(*) FROM users WHERE deleted_at IS NULL AND NOT is_active) AS inactive_users, \
            (SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL) AS deleted_users, \
            (SELECT COUNT(*) FROM users WHERE is_staff AND deleted_at IS NULL) AS staff_users, \
            (SELECT COUNT(*) FROM organizations WHERE deleted_at IS NULL) AS organizations, \
            (SELECT COUNT(*) FROM organization_memberships WHERE deleted_at IS NULL) AS memberships")
        .fetch_one(pool)
        .await)
}
