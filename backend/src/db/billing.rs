//! The `subscriptions` and `subscription_items` tables: Clerk Billing, mirrored. Each write is
//! order-safe by `version` (Unix milliseconds: Clerk's `updated_at`, or the event's timestamp),
//! and an item that ended, was abandoned or expired stays so: Clerk starts a new item instead.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Conn, Db, now};
use crate::{on_conn, on_pool};

/// Who pays: a user or an organization, by Clerk id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Payer {
    pub user: Option<String>,
    pub org: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionFields {
    pub clerk_id: String,
    pub payer: Payer,
    pub status: String,
    pub active_at: Option<i64>,
    pub past_due_at: Option<i64>,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemFields {
    pub clerk_id: String,
    pub subscription_clerk_id: Option<String>,
    pub payer: Payer,
    pub plan_clerk_id: Option<String>,
    pub plan_slug: String,
    pub plan_name: String,
    pub plan_period: String,
    pub status: String,
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
    pub canceled_at: Option<i64>,
    pub past_due_at: Option<i64>,
    /// In the currency's smallest unit (cents), as Clerk's `amount.amount`.
    pub amount: Option<i64>,
    pub currency: String,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct SubscriptionItem {
    pub id: i64,
    pub clerk_id: String,
    pub subscription_clerk_id: Option<String>,
    pub payer_user_clerk_id: Option<String>,
    pub payer_org_clerk_id: Option<String>,
    pub plan_clerk_id: Option<String>,
    pub plan_slug: String,
    pub plan_name: String,
    pub plan_period: String,
    pub status: String,
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
    pub canceled_at: Option<i64>,
    pub past_due_at: Option<i64>,
    pub amount: Option<i64>,
    pub currency: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ITEM_COLUMNS: &str = "id, clerk_id, subscription_clerk_id, payer_user_clerk_id, payer_org_clerk_id, \
    plan_clerk_id, plan_slug, plan_name, plan_period, status, period_start, period_end, canceled_at, past_due_at, \
    amount, currency, version, created_at, updated_at";

/// Item statuses no later event brings back.
const FINAL: &str = "('ended', 'abandoned', 'expired')";

/// Inserts or updates the subscription; `false` when the stored one is as new or newer.
pub async fn upsert_subscription_in(conn: Conn<'_>, f: &SubscriptionFields) -> Result<bool, sqlx::Error> {
    let sql = "INSERT INTO subscriptions (clerk_id, payer_user_clerk_id, payer_org_clerk_id, status, active_at, \
             past_due_at, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (clerk_id) DO UPDATE SET payer_user_clerk_id = excluded.payer_user_clerk_id, \
             payer_org_clerk_id = excluded.payer_org_clerk_id, status = excluded.status, \
             active_at = excluded.active_at, past_due_at = excluded.past_due_at, version = excluded.version, \
             updated_at = excluded.updated_at \
         WHERE subscriptions.version < excluded.version";
    let done = on_conn!(conn, c => sqlx::query(sql)
        .bind(&f.clerk_id)
        .bind(&f.payer.user)
        .bind(&f.payer.org)
        .bind(&f.status)
        .bind(f.active_at)
        .bind(f.past_due_at)
        .bind(f.version)
        .bind(now())
        .execute(&mut *c)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(done > 0)
}

/// Inserts or updates the item; `false` when the stored one is as new or newer, or final.
pub async fn upsert_item_in(conn: Conn<'_>, f: &ItemFields) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "INSERT INTO subscription_items (clerk_id, subscription_clerk_id, payer_user_clerk_id, payer_org_clerk_id, \
             plan_clerk_id, plan_slug, plan_name, plan_period, status, period_start, period_end, canceled_at, \
             past_due_at, amount, currency, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) \
         ON CONFLICT (clerk_id) DO UPDATE SET \
             subscription_clerk_id = COALESCE(excluded.subscription_clerk_id, subscription_items.subscription_clerk_id), \
             payer_user_clerk_id = COALESCE(excluded.payer_user_clerk_id, subscription_items.payer_user_clerk_id), \
             payer_org_clerk_id = COALESCE(excluded.payer_org_clerk_id, subscription_items.payer_org_clerk_id), \
             plan_clerk_id = COALESCE(excluded.plan_clerk_id, subscription_items.plan_clerk_id), \
             plan_slug = CASE WHEN excluded.plan_slug = '' THEN subscription_items.plan_slug ELSE excluded.plan_slug END, \
             plan_name = CASE WHEN excluded.plan_name = '' THEN subscription_items.plan_name ELSE excluded.plan_name END, \
             plan_period = excluded.plan_period, status = excluded.status, period_start = excluded.period_start, \
             period_end = excluded.period_end, canceled_at = excluded.canceled_at, past_due_at = excluded.past_due_at, \
             amount = excluded.amount, currency = excluded.currency, version = excluded.version, \
             updated_at = excluded.updated_at \
         WHERE subscription_items.version < excluded.version AND subscription_items.status NOT IN {FINAL}"
    );
    let done = on_conn!(conn, c => sqlx::query(&sql)
        .bind(&f.clerk_id)
        .bind(&f.subscription_clerk_id)
        .bind(&f.payer.user)
        .bind(&f.payer.org)
        .bind(&f.plan_clerk_id)
        .bind(&f.plan_slug)
        .bind(&f.plan_name)
        .bind(&f.plan_period)
        .bind(&f.status)
        .bind(f.period_start)
        .bind(f.period_end)
        .bind(f.canceled_at)
        .bind(f.past_due_at)
        .bind(f.amount)
        .bind(&f.currency)
        .bind(f.version)
        .bind(now())
        .execute(&mut *c)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(done > 0)
}

/// A payer's items, newest period first: the current plan and its history.
pub async fn items_of(db: &Db, payer: &Payer) -> Result<Vec<SubscriptionItem>, sqlx::Error> {
    let (column, id) = match (&payer.user, &payer.org) {
        (Some(user), _) => ("payer_user_clerk_id", user),
        (None, Some(org)) => ("payer_org_clerk_id", org),
        (None, None) => return Ok(Vec::new()),
    };
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM subscription_items WHERE {column} = $1 \
         ORDER BY period_start DESC NULLS LAST, id DESC LIMIT 100"
    );
    on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_all(pool).await)
}

/// One item by Clerk id.
pub async fn item(db: &Db, clerk_id: &str) -> Result<Option<SubscriptionItem>, sqlx::Error> {
    let sql = format!("SELECT {ITEM_COLUMNS} FROM subscription_items WHERE clerk_id = $1");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(clerk_id).fetch_optional(pool).await)
}

/// A plan as Clerk lists it (`GET /v1/billing/plans`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanFields {
    pub clerk_id: String,
    pub slug: String,
    pub name: String,
    /// `user` or `org`.
    pub payer_type: String,
    pub is_default: bool,
    /// In the currency's smallest unit, as Clerk's `fee.amount`.
    pub fee_amount: Option<i64>,
    pub currency: String,
}

/// Inserts or refreshes a plan; `false` when nothing changed. Only the sync writes plans, and
/// Clerk's listing is their truth, so the newest answer wins.
pub async fn upsert_plan_in(conn: Conn<'_>, f: &PlanFields) -> Result<bool, sqlx::Error> {
    let sql = "INSERT INTO billing_plans (clerk_id, slug, name, payer_type, is_default, fee_amount, currency, synced_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (clerk_id) DO UPDATE SET slug = excluded.slug, name = excluded.name, \
             payer_type = excluded.payer_type, is_default = excluded.is_default, fee_amount = excluded.fee_amount, \
             currency = excluded.currency, synced_at = excluded.synced_at \
         WHERE billing_plans.slug <> excluded.slug OR billing_plans.name <> excluded.name \
             OR billing_plans.payer_type <> excluded.payer_type OR billing_plans.is_default <> excluded.is_default \
             OR billing_plans.fee_amount IS DISTINCT FROM excluded.fee_amount OR billing_plans.currency <> excluded.currency";
    let done = on_conn!(conn, c => sqlx::query(sql)
        .bind(&f.clerk_id)
        .bind(&f.slug)
        .bind(&f.name)
        .bind(&f.payer_type)
        .bind(f.is_default)
        .bind(f.fee_amount)
        .bind(&f.currency)
        .bind(now())
        .execute(&mut *c)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(done > 0)
}

/// One row of the plans page: a plan (known from the sync, or only from its items) and how many
/// items it has in `status` (`""` and 0 for a plan nobody is on).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PlanCount {
    pub slug: String,
    pub name: String,
    pub payer_type: String,
    pub status: String,
    pub items: i64,
}

/// Items by plan and status, every synced plan included, for the admin.
pub async fn counts_by_plan(db: &Db) -> Result<Vec<PlanCount>, sqlx::Error> {
    let sql = "SELECT p.slug, p.name, p.payer_type, COALESCE(i.status, '') AS status, COUNT(i.id) AS items \
               FROM billing_plans p LEFT JOIN subscription_items i ON i.plan_clerk_id = p.clerk_id \
               GROUP BY p.slug, p.name, p.payer_type, i.status \
               UNION ALL \
               SELECT plan_slug, MAX(plan_name), '', status, COUNT(*) FROM subscription_items i \
               WHERE i.plan_clerk_id IS NULL OR i.plan_clerk_id NOT IN (SELECT clerk_id FROM billing_plans) \
               GROUP BY plan_slug, status \
               ORDER BY 1, 4";
    on_pool!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)
}

/// A subscription's status, by Clerk id (tests and the admin).
pub async fn subscription_status(db: &Db, clerk_id: &str) -> Result<Option<(String, i64)>, sqlx::Error> {
    let sql = "SELECT status, version FROM subscriptions WHERE clerk_id = $1";
    on_pool!(db, pool => sqlx::query_as(sql).bind(clerk_id).fetch_optional(pool).await)
}

/// Who may pay, after `after` by local id: `(local id, Clerk id)` of live users with a Clerk
/// account (`orgs: false`) or of live organizations, `limit` at a time. The list is ours, so
/// paging it by id cannot skip anyone whatever changes at Clerk meanwhile.
pub async fn payers_after(db: &Db, orgs: bool, after: i64, limit: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let sql = if orgs {
        "SELECT id, clerk_id FROM organizations WHERE deleted_at IS NULL AND id > $1 ORDER BY id LIMIT $2"
    } else {
        "SELECT id, clerk_id FROM users WHERE clerk_id IS NOT NULL AND deleted_at IS NULL AND id > $1 ORDER BY id LIMIT $2"
    };
    on_pool!(db, pool => sqlx::query_as(sql).bind(after).bind(limit).fetch_all(pool).await)
}
