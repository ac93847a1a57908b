//! What the app counts, named in one place for `/metrics` (the `metrics` facade; the server
//! installs the Prometheus recorder only when `METRICS_ADDR` is set, and without it every call
//! here returns at once). Label values are `&'static str` from closed sets, never ids, emails or
//! tokens, so the number of series stays bounded whatever requests arrive.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use metrics::{counter, gauge, histogram};

static RECORDING: AtomicBool = AtomicBool::new(false);

/// Turns the calls below on: call it once a recorder is installed (the server does, for
/// `METRICS_ADDR`; so must an app that installs a recorder of its own). Until then they return
/// at once: with no recorder the `metrics` macros still build and hash every labelled key, about
/// 500 instructions a call, several calls a request.
pub fn start_recording() {
    RECORDING.store(true, Ordering::Relaxed);
}

fn recording() -> bool {
    RECORDING.load(Ordering::Relaxed)
}

/// Metric names, for the exporter's bucket settings and the docs.
pub mod names {
    pub const HTTP_REQUESTS: &str = "http_requests_total";
    pub const HTTP_DURATION: &str = "http_request_duration_seconds";
    pub const TOKEN_VERIFICATIONS: &str = "auth_token_verifications_total";
    pub const CACHE_LOOKUPS: &str = "cache_lookups_total";
    pub const WEBHOOK_DELIVERIES: &str = "webhook_deliveries_total";
    pub const WEBHOOK_BATCH_SIZE: &str = "webhook_batch_size";
    pub const WEBHOOK_COMMIT: &str = "webhook_commit_duration_seconds";
    pub const WEBHOOK_QUEUE: &str = "webhook_queue_depth";
    pub const SYNC_RUNS: &str = "sync_runs_total";
    pub const SYNC_DURATION: &str = "sync_run_duration_seconds";
    pub const SYNC_REPAIRS: &str = "sync_repairs_total";
    pub const STAFF_LOGINS: &str = "staff_login_attempts_total";
    pub const ARGON2_IN_USE: &str = "staff_password_checks_in_progress";
    pub const ARGON2_PERMITS: &str = "staff_password_check_permits";
    pub const DB_CONNECTIONS: &str = "db_pool_connections";
    pub const DB_MAX: &str = "db_pool_max_connections";
    pub const BUS_LAG: &str = "invalidation_bus_lag_seconds";
    pub const LISTENER_RECONNECTS: &str = "invalidation_listener_reconnects_total";
}

/// `HELP` lines, registered once by the exporter.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    use names::*;
    describe_counter!(HTTP_REQUESTS, "HTTP requests by route template, method and status.");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "HTTP request latency by route template and method.");
    describe_counter!(TOKEN_VERIFICATIONS, "Token verifications by token kind and outcome.");
    describe_counter!(CACHE_LOOKUPS, "Cache lookups by cache and result (hit or miss).");
    describe_counter!(WEBHOOK_DELIVERIES, "Clerk webhook deliveries by event type and outcome.");
    describe_histogram!(WEBHOOK_BATCH_SIZE, "Deliveries committed together in one group commit.");
    describe_histogram!(WEBHOOK_COMMIT, Unit::Seconds, "Time to apply and commit one webhook batch.");
    describe_gauge!(WEBHOOK_QUEUE, "Verified deliveries waiting for the webhook writer.");
    describe_counter!(SYNC_RUNS, "Sync and reconciliation runs by job and outcome.");
    describe_histogram!(SYNC_DURATION, Unit::Seconds, "Sync and reconciliation run time by job.");
    describe_counter!(SYNC_REPAIRS, "Rows a sync or reconciliation changed, by job and change.");
    describe_counter!(STAFF_LOGINS, "Staff password logins by outcome.");
    describe_gauge!(ARGON2_IN_USE, "Staff password checks (argon2) running now.");
    describe_gauge!(ARGON2_PERMITS, "Staff password checks that may run at once.");
    describe_gauge!(DB_CONNECTIONS, "Database pool connections by state (in_use, idle).");
    describe_gauge!(DB_MAX, "Database pool size limit.");
    describe_histogram!(BUS_LAG, Unit::Seconds, "Delay from publishing a cache invalidation to receiving it.");
    describe_counter!(LISTENER_RECONNECTS, "Times the Postgres invalidation listener reconnected.");
}

/// One HTTP request answered: `route` is the matched template, never the path.
pub fn http_request(method: &'static str, route: &'static str, status: http::StatusCode, took: Duration) {
    if !recording() {
        return;
    }
    counter!(names::HTTP_REQUESTS, "method" => method, "route" => route, "status" => status.as_str().to_owned())
        .increment(1);
    histogram!(names::HTTP_DURATION, "method" => method, "route" => route).record(took.as_secs_f64());
}

/// Token kinds, as `auth_token_verifications_total{kind}` names them.
pub mod kind {
    pub const SESSION: &str = "session_token";
    pub const API_KEY: &str = "api_key";
    pub const M2M: &str = "m2m_token";
    pub const OAUTH: &str = "oauth_token";
}

pub fn token_verified(kind: &'static str, outcome: &'static str) {
    if !recording() {
        return;
    }
    counter!(names::TOKEN_VERIFICATIONS, "kind" => kind, "outcome" => outcome).increment(1);
}

/// One lookup in `cache` (`session_token`, `machine_token`, `user`, `membership`, `admin`).
pub fn cache_lookup(cache: &'static str, hit: bool) {
    if !recording() {
        return;
    }
    let result = if hit { "hit" } else { "miss" };
    counter!(names::CACHE_LOOKUPS, "cache" => cache, "result" => result).increment(1);
}

/// A `try_get_with` lookup in `cache`: a miss if its loader ran (see [`Lookup::load`]), else a
/// hit; counted once, when dropped.
pub struct Lookup {
    cache: &'static str,
    loaded: std::sync::atomic::AtomicBool,
}

impl Lookup {
    pub fn new(cache: &'static str) -> Self {
        Self { cache, loaded: std::sync::atomic::AtomicBool::new(false) }
    }

    /// The cache's loader: running it makes this lookup a miss.
    pub async fn load<T>(&self, load: impl Future<Output = T>) -> T {
        self.loaded.store(true, std::sync::atomic::Ordering::Relaxed);
        load.await
    }
}

impl Drop for Lookup {
    fn drop(&mut self) {
        cache_lookup(self.cache, !*self.loaded.get_mut());
    }
}

pub fn webhook_delivery(event_type: &'static str, outcome: &'static str) {
    if !recording() {
        return;
    }
    counter!(names::WEBHOOK_DELIVERIES, "event_type" => event_type, "outcome" => outcome).increment(1);
}

pub fn webhook_batch(size: usize, took: Duration) {
    if !recording() {
        return;
    }
    histogram!(names::WEBHOOK_BATCH_SIZE).record(size as f64);
    histogram!(names::WEBHOOK_COMMIT).record(took.as_secs_f64());
}

/// A sync job (`users`, `organizations`, `billing`, `reconcile`) ended.
pub fn sync_run(job: &'static str, ok: bool, took: Duration, created: u64, updated: u64, pruned: u64) {
    if !recording() {
        return;
    }
    counter!(names::SYNC_RUNS, "job" => job, "outcome" => if ok { "ok" } else { "error" }).increment(1);
    histogram!(names::SYNC_DURATION, "job" => job).record(took.as_secs_f64());
    for (change, n) in [("created", created), ("updated", updated), ("pruned", pruned)] {
        if n > 0 {
            counter!(names::SYNC_REPAIRS, "job" => job, "change" => change).increment(n);
        }
    }
}

/// `outcome`: `success`, `invalid`, `throttled`, `busy` or `error`.
pub fn staff_login(outcome: &'static str) {
    if !recording() {
        return;
    }
    counter!(names::STAFF_LOGINS, "outcome" => outcome).increment(1);
}

pub fn password_checks(running: usize, permits: usize) {
    if !recording() {
        return;
    }
    gauge!(names::ARGON2_IN_USE).set(running as f64);
    gauge!(names::ARGON2_PERMITS).set(permits as f64);
}

pub fn db_pool(in_use: u32, idle: u32, max: u32) {
    if !recording() {
        return;
    }
    gauge!(names::DB_CONNECTIONS, "state" => "in_use").set(f64::from(in_use));
    gauge!(names::DB_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    gauge!(names::DB_MAX).set(f64::from(max));
}

pub fn webhook_queue(depth: usize) {
    if !recording() {
        return;
    }
    gauge!(names::WEBHOOK_QUEUE).set(depth as f64);
}

pub fn bus_lag(seconds: f64) {
    if !recording() {
        return;
    }
    histogram!(names::BUS_LAG).record(seconds.max(0.0));
}

pub fn listener_reconnected() {
    if !recording() {
        return;
    }
    counter!(names::LISTENER_RECONNECTS).increment(1);
}
