//! The admin dashboard's time series: sign-ups and last sign-ins per day, webhook deliveries
//! and failures per hour (from the `webhook_hourly` totals), staff login failures per hour. Each
//! reads an index range only, and buckets come back zero-filled, oldest first.

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::{Db, now};
use crate::on_pool;

/// `(bucket, count)`: a day (`YYYY-MM-DD`) or an hour (`YYYY-MM-DDTHH`), UTC.
pub type Counts = Vec<(String, i64)>;

/// How a column's timestamps become buckets in each backend's SQL.
#[derive(Clone, Copy)]
enum Bucket {
    Day,
    Hour,
}

impl Bucket {
    fn key(self, at: DateTime<Utc>) -> String {
        match self {
            Self::Day => at.format("%Y-%m-%d").to_string(),
            // The key `webhook_hourly` is written under.
            Self::Hour => super::webhook_events::hour_of(at),
        }
    }

    fn step(self) -> Duration {
        match self {
            Self::Day => Duration::days(1),
            Self::Hour => Duration::hours(1),
        }
    }

    fn sqlite(self, column: &str) -> String {
        match self {
            Self::Day => format!("substr({column}, 1, 10)"),
            Self::Hour => format!("substr({column}, 1, 13)"),
        }
    }

    /// `(unit, format)`: rows are grouped by `date_trunc(unit)`, and only the groups formatted
    /// (`to_char` on every row costs twice as much).
    fn postgres(self) -> (&'static str, &'static str) {
        match self {
            Self::Day => ("day", "YYYY-MM-DD"),
            Self::Hour => ("hour", "YYYY-MM-DD\"T\"HH24"),
        }
    }
}

/// The last `n` buckets ending with the current one, each with its value from `rows` (or the
/// default: nothing counted).
fn zero_filled<T: Copy + Default>(bucket: Bucket, n: i64, rows: Vec<(String, T)>) -> Vec<(String, T)> {
    let found: std::collections::HashMap<String, T> = rows.into_iter().collect();
    let newest = now();
    (0..n)
        .rev()
        .map(|back| {
            let key = bucket.key(newest - bucket.step() * back as i32);
            let value = found.get(&key).copied().unwrap_or_default();
            (key, value)
        })
        .collect()
}

/// Rows of `table` per bucket of `column`, over the last `n` buckets.
async fn per_bucket(db: &Db, table: &str, column: &str, bucket: Bucket, n: i64) -> Result<Counts, sqlx::Error> {
    let since = now() - bucket.step() * (n - 1) as i32;
    // From the start of the oldest bucket, so its count is whole.
    let since = since.duration_trunc(bucket.step()).unwrap_or(since);
    let rows: Vec<(String, i64)> = match db {
        Db::Sqlite(sqlite) => {
            let key = bucket.sqlite(column);
            let sql = format!("SELECT {key} AS bucket, COUNT(*) FROM {table} WHERE {column} >= $1 GROUP BY 1");
            sqlx::query_as(&sql).bind(since).fetch_all(&sqlite.readers).await?
        }
        Db::Postgres(pool) => {
            let (unit, format) = bucket.postgres();
            let sql = format!(
                "SELECT to_char(b, '{format}'), n FROM (SELECT date_trunc('{unit}', {column} AT TIME ZONE 'UTC') AS b, \
                 COUNT(*) AS n FROM {table} WHERE {column} >= $1 GROUP BY 1) counted"
            );
            sqlx::query_as(&sql).bind(since).fetch_all(pool).await?
        }
    };
    Ok(zero_filled(bucket, n, rows))
}

/// Users created per day, over the last `days` days.
pub async fn signups_per_day(db: &Db, days: i64) -> Result<Counts, sqlx::Error> {
    per_bucket(db, "users", "created_at", Bucket::Day, days).await
}

/// Users whose last sign-in fell on each of the last `days` days.
pub async fn last_sign_ins_per_day(db: &Db, days: i64) -> Result<Counts, sqlx::Error> {
    per_bucket(db, "users", "last_sign_in_at", Bucket::Day, days).await
}

/// Staff login failures per hour, over the last `hours` hours (attempts are kept a day; a
/// failure that a success later forgave is gone).
pub async fn staff_login_failures_per_hour(db: &Db, hours: i64) -> Result<Counts, sqlx::Error> {
    per_bucket(db, "login_attempts", "created_at", Bucket::Hour, hours).await
}

/// `(hour, deliveries, failures)` over the last `hours` hours.
pub async fn webhooks_per_hour(db: &Db, hours: i64) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    let since = Bucket::Hour.key(now() - Duration::hours(hours - 1));
    let rows: Vec<(String, i64, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT hour, deliveries, failures FROM webhook_hourly WHERE hour >= $1")
        .bind(&since)
        .fetch_all(pool)
        .await)?;
    let rows = rows.into_iter().map(|(hour, d, f)| (hour, (d, f))).collect();
    Ok(zero_filled(Bucket::Hour, hours, rows).into_iter().map(|(hour, (d, f))| (hour, d, f)).collect())
}
