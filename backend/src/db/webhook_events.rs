//! The `webhook_events` table: one row per Svix delivery id, written in the same transaction
//! as the delivery's effect. It is both the idempotency record and the webhook log.

use ids::DeliveryId;

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::{Conn, Db, now, placeholders};
use crate::{on_conn, on_pool, on_writer};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct WebhookEventRow {
    pub svix_id: DeliveryId,
    pub event_type: String,
    pub status: String,
    pub error: Option<String>,
    pub object_id: Option<String>,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// Records a delivery as applied (`status` `processed`, `ignored` or `stale`) in the transaction
/// that applied it. `false` means another delivery of the same id already committed (or is
/// committing: Postgres and SQLite both make this insert wait for the first): the caller rolls
/// its effect back. A delivery recorded as `failed` is taken over: that is Svix's retry.
pub async fn record_in(
    conn: Conn<'_>,
    svix_id: &DeliveryId,
    event_type: &str,
    status: &str,
    object_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let row = Applied { svix_id, event_type, status, object_id };
    Ok(record_all_in(conn, &[row]).await? == 1)
}

/// One applied delivery's log row, for [`record_all_in`].
pub struct Applied<'a> {
    pub svix_id: &'a DeliveryId,
    pub event_type: &'a str,
    pub status: &'a str,
    pub object_id: Option<&'a str>,
}

/// [`record_in`] for many deliveries in one statement. Returns how many rows it wrote: fewer
/// than given means some id was already recorded, and the caller must roll back.
pub async fn record_all_in(conn: Conn<'_>, rows: &[Applied<'_>]) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut sql = String::from(
        "INSERT INTO webhook_events (svix_id, event_type, status, object_id, received_at, processed_at) VALUES ",
    );
    for i in 0..rows.len() {
        let p = i * 4;
        let sep = if i == 0 { "" } else { ", " };
        sql.push_str(&format!("{sep}(${}, ${}, ${}, ${}, $1, $1)", p + 2, p + 3, p + 4, p + 5));
    }
    sql.push_str(
        " ON CONFLICT (svix_id) DO UPDATE SET status = excluded.status, error = NULL, object_id = excluded.object_id, \
         received_at = excluded.received_at, processed_at = excluded.processed_at \
         WHERE webhook_events.status = 'failed'",
    );
    on_conn!(conn, c => {
        let mut query = sqlx::query(&sql).bind(now());
        for row in rows {
            query = query.bind(row.svix_id).bind(row.event_type).bind(row.status).bind(row.object_id);
        }
        query.execute(&mut *c).await.map(|r| r.rows_affected())
    })
}

/// Which of these delivery ids were already applied (a failed one was not: its retry applies it).
pub async fn applied_among_in(conn: Conn<'_>, svix_ids: &[&DeliveryId]) -> Result<HashSet<DeliveryId>, sqlx::Error> {
    if svix_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = format!(
        "SELECT svix_id FROM webhook_events WHERE svix_id IN ({}) AND status <> 'failed'",
        placeholders(svix_ids.len())
    );
    on_conn!(conn, c => {
        let mut query = sqlx::query_scalar(&sql);
        for id in svix_ids {
            query = query.bind(*id);
        }
        query.fetch_all(&mut *c).await.map(|ids: Vec<DeliveryId>| ids.into_iter().collect())
    })
}

/// Records that a delivery could not be applied (after rolling its effect back), so the admin
/// shows it. It counts as not processed: the retry takes the row over.
pub async fn record_failure_in(
    conn: Conn<'_>,
    svix_id: &DeliveryId,
    event_type: &str,
    error: &str,
) -> Result<(), sqlx::Error> {
    on_conn!(conn, c => sqlx::query(
        "INSERT INTO webhook_events (svix_id, event_type, status, error, received_at) VALUES ($1, $2, 'failed', $3, $4) \
         ON CONFLICT (svix_id) DO UPDATE SET error = excluded.error, received_at = excluded.received_at \
         WHERE webhook_events.status = 'failed'",
    )
    .bind(svix_id)
    .bind(event_type)
    .bind(error)
    .bind(now())
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// The hour a delivery counts in (`webhook_hourly.hour`): UTC, `YYYY-MM-DDTHH`.
pub fn hour_of(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H").to_string()
}

/// Adds a batch's deliveries and failures to this hour's totals, in the batch's transaction.
pub async fn count_hour_in(conn: Conn<'_>, deliveries: i64, failures: i64) -> Result<(), sqlx::Error> {
    on_conn!(conn, c => sqlx::query(
        "INSERT INTO webhook_hourly (hour, deliveries, failures) VALUES ($1, $2, $3) \
         ON CONFLICT (hour) DO UPDATE SET deliveries = webhook_hourly.deliveries + excluded.deliveries, \
             failures = webhook_hourly.failures + excluded.failures",
    )
    .bind(hour_of(now()))
    .bind(deliveries)
    .bind(failures)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// Deletes rows (and hourly totals) older than `retention`. Safe when every instance runs it.
pub async fn prune(db: &Db, retention: chrono::Duration) -> Result<u64, sqlx::Error> {
    let cutoff = now() - retention;
    let deleted = on_writer!(db, pool => sqlx::query("DELETE FROM webhook_events WHERE received_at < $1")
        .bind(cutoff)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    on_writer!(db, pool => sqlx::query("DELETE FROM webhook_hourly WHERE hour < $1")
        .bind(hour_of(cutoff))
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(deleted)
}

pub async fn find(db: &Db, svix_id: &DeliveryId) -> Result<Option<WebhookEventRow>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT svix_id, event_type, status, error, object_id, received_at, processed_at FROM webhook_events WHERE svix_id = $1",
    )
    .bind(svix_id)
    .fetch_optional(pool)
    .await)
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events").fetch_one(pool).await)
}

const EVENT_COLUMNS: &str = "svix_id, event_type, status, error, object_id, received_at, processed_at";

/// The latest deliveries, newest first (the dashboard).
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<WebhookEventRow>, sqlx::Error> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM webhook_events ORDER BY received_at DESC LIMIT $1");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(limit).fetch_all(pool).await)
}

/// The latest deliveries about one Clerk object (a user page's history).
pub async fn for_object(db: &Db, object_id: &str, limit: i64) -> Result<Vec<WebhookEventRow>, sqlx::Error> {
    let sql =
        format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE object_id = $1 ORDER BY received_at DESC LIMIT $2");
    on_pool!(db, pool => sqlx::query_as(&sql).bind(object_id).bind(limit).fetch_all(pool).await)
}
