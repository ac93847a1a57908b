-- The dashboard's charts. Webhook deliveries and failures per hour, kept by the webhook writer in
-- the same transaction as the deliveries themselves, so that charting 48 hours reads 48 rows
-- instead of counting hundreds of thousands; backfilled from the log. `hour` is UTC, 'YYYY-MM-DDTHH'.
CREATE TABLE webhook_hourly (
    hour       TEXT PRIMARY KEY NOT NULL,
    deliveries BIGINT NOT NULL DEFAULT 0,
    failures   BIGINT NOT NULL DEFAULT 0
);
INSERT INTO webhook_hourly (hour, deliveries, failures)
    SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24'),
           COUNT(*) FILTER (WHERE status <> 'failed'), COUNT(*) FILTER (WHERE status = 'failed')
    FROM webhook_events GROUP BY 1;
-- Staff login failures per hour read the last day of attempts by time.
CREATE INDEX login_attempts_created_at ON login_attempts (created_at);
