//! The admin dashboard's chart queries with 100,000 users and 1,000,000 logged webhook
//! deliveries (a week, the log's retention), on the database `DATABASE_URL` names (created and
//! filled here: give it a throwaway one). Prints each query's median and the total's median and
//! p95 over 30 runs. Run through `bench/dashboard.sh`.

use std::time::{Duration, Instant};

use backend::{
    config::DatabaseUrl,
    db::{Db, billing, dashboard},
};

const USERS: i64 = 100_000;
const DELIVERIES: i64 = 1_000_000;
const RUNS: usize = 30;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")?;
    let db = Db::connect(&DatabaseUrl::parse(&url)?).await?;
    db.migrate().await?;
    let started = Instant::now();
    seed(&db).await?;
    eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());

    let mut totals = Vec::with_capacity(RUNS);
    let mut each: [Vec<Duration>; 5] = Default::default();
    for _ in 0..RUNS {
        let all = Instant::now();
        let t = Instant::now();
        dashboard::signups_per_day(&db, 30).await?;
        each[0].push(t.elapsed());
        let t = Instant::now();
        dashboard::last_sign_ins_per_day(&db, 30).await?;
        each[1].push(t.elapsed());
        let t = Instant::now();
        dashboard::webhooks_per_hour(&db, 48).await?;
        each[2].push(t.elapsed());
        let t = Instant::now();
        dashboard::staff_login_failures_per_hour(&db, 24).await?;
        each[3].push(t.elapsed());
        let t = Instant::now();
        billing::counts_by_plan(&db).await?;
        each[4].push(t.elapsed());
        totals.push(all.elapsed());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let names = ["sign-ups/day", "last sign-ins/day", "webhooks/hour", "login failures/hour", "plans"];
    for (name, mut times) in names.into_iter().zip(each) {
        times.sort();
        println!("{name:>20}: median {:.2} ms", ms(times[RUNS / 2]));
    }
    totals.sort();
    println!("{:>20}: median {:.2} ms, p95 {:.2} ms", "all charts", ms(totals[RUNS / 2]), ms(totals[RUNS * 95 / 100]));
    Ok(())
}

/// Users created over two years and signed in over 60 days; deliveries over the last 7 days
/// (1% failed), their hourly totals as the writer keeps them; 2,000 staff login failures in a day.
async fn seed(db: &Db) -> Result<(), sqlx::Error> {
    match db {
        Db::Sqlite(sqlite) => {
            let pool = &sqlite.writer;
            let ts = |secs: &str| format!("strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-' || ({secs}) || ' seconds')");
            sqlx::query(&format!(
                "INSERT INTO users (clerk_id, email, first_name, last_name, last_sign_in_at, clerk_updated_at, created_at, updated_at) \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {USERS}) \
                 SELECT 'user_b' || i, 'u' || i || '@example.com', 'Bench', 'User' || i, {}, 0, {}, {} FROM n",
                ts("(i * 7919) % 5184000"),
                ts("(i * 104729) % 63072000"),
                ts("0"),
            ))
            .execute(pool)
            .await?;
            sqlx::query(&format!(
                "INSERT INTO webhook_events (svix_id, event_type, status, received_at) \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {DELIVERIES}) \
                 SELECT 'msg_b' || i, 'user.updated', CASE WHEN i % 100 = 0 THEN 'failed' ELSE 'processed' END, {} FROM n",
                ts("i % 604800"),
            ))
            .execute(pool)
            .await?;
            sqlx::query(
                "INSERT INTO webhook_hourly (hour, deliveries, failures) \
                 SELECT substr(received_at, 1, 13), SUM(status <> 'failed'), SUM(status = 'failed') \
                 FROM webhook_events GROUP BY 1 \
                 ON CONFLICT (hour) DO UPDATE SET deliveries = excluded.deliveries, failures = excluded.failures",
            )
            .execute(pool)
            .await?;
            sqlx::query(&format!(
                "INSERT INTO login_attempts (email, ip, created_at) \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
                 SELECT 'x' || (i % 50) || '@example.com', '10.0.0.' || (i % 200), {} FROM n",
                ts("i * 43"),
            ))
            .execute(pool)
            .await?;
            sqlx::query("ANALYZE").execute(pool).await?;
        }
        Db::Postgres(pool) => {
            sqlx::query(&format!(
                "INSERT INTO users (clerk_id, email, first_name, last_name, last_sign_in_at, clerk_updated_at, created_at, updated_at) \
                 SELECT 'user_b' || i, 'u' || i || '@example.com', 'Bench', 'User' || i, \
                     now() - ((i * 7919) % 5184000) * interval '1 second', 0, \
                     now() - ((i * 104729) % 63072000) * interval '1 second', now() \
                 FROM generate_series(1::bigint, {USERS}) i"
            ))
            .execute(pool)
            .await?;
            sqlx::query(&format!(
                "INSERT INTO webhook_events (svix_id, event_type, status, received_at) \
                 SELECT 'msg_b' || i, 'user.updated', CASE WHEN i % 100 = 0 THEN 'failed' ELSE 'processed' END, \
                     now() - (i % 604800) * interval '1 second' FROM generate_series(1::bigint, {DELIVERIES}) i"
            ))
            .execute(pool)
            .await?;
            sqlx::query(
                "INSERT INTO webhook_hourly (hour, deliveries, failures) \
                 SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24'), \
                     COUNT(*) FILTER (WHERE status <> 'failed'), COUNT(*) FILTER (WHERE status = 'failed') \
                 FROM webhook_events GROUP BY 1 \
                 ON CONFLICT (hour) DO UPDATE SET deliveries = excluded.deliveries, failures = excluded.failures",
            )
            .execute(pool)
            .await?;
            sqlx::query(
                "INSERT INTO login_attempts (email, ip, created_at) \
                 SELECT 'x' || (i % 50) || '@example.com', '10.0.0.' || (i % 200), now() - (i * 43) * interval '1 second' \
                 FROM generate_series(1, 2000) i",
            )
            .execute(pool)
            .await?;
            // As autovacuum would have by now: the visibility map lets counts use the indexes alone.
            sqlx::query("VACUUM ANALYZE").execute(pool).await?;
        }
    }
    Ok(())
}
