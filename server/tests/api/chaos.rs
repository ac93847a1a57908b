//! Chaos, measured: the real server binary under load while its database restarts, an instance
//! is killed, Clerk hangs, or it simply runs for a long time. Each case prints one `CHAOS` line
//! of figures. `CHAOS_SCALE=full` (`make chaos`) runs the sizes the README reports; the default
//! is the short version CI runs. Postgres cases use a throwaway cluster of their own.

use crate::common;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use backend::on_pool;
use common::{Http, eventually, pg_cluster::PgCluster, process::ServerProcess};
use fake_clerk::{FakeClerk, Fault, SignedWebhook, TEST_WEBHOOK_SECRET, session_claims};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn full() -> bool {
    std::env::var("CHAOS_SCALE").is_ok_and(|s| s == "full")
}

fn report(case: &str, figures: &[(&str, String)]) {
    let line: Vec<String> = figures.iter().map(|(k, v)| format!("{k}={v}")).collect();
    eprintln!("CHAOS case={case} {}", line.join(" "));
}

fn user(i: usize, name: &str) -> Value {
    let mut user = fake_clerk::user(&format!("user_c{i:06}"), &format!("c{i}@example.com"), name, "Chaos");
    user["updated_at"] = json!(1_700_000_000_000i64 + i as i64);
    user
}

fn signed(event_type: &str, data: &Value) -> SignedWebhook {
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    fake_clerk::webhook(TEST_WEBHOOK_SECRET, &id, event_type, data)
}

fn env(clerk_url: &str) -> Vec<(&str, &str)> {
    vec![
        ("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET),
        ("CLERK_SECRET_KEY", FakeClerk::SECRET_KEY),
        ("CLERK_API_URL", clerk_url),
        ("COOKIE_SECURE", "false"),
    ]
}

/// Redelivers, as Svix does, until each answers 200 (bounded).
async fn redeliver_until_applied(http: &Http, pending: Vec<SignedWebhook>) -> usize {
    let mut rounds = 0;
    let mut pending = pending;
    while !pending.is_empty() && rounds < 50 {
        rounds += 1;
        let mut still = Vec::new();
        for delivery in pending {
            if http.post_webhook(&delivery).await.0 != StatusCode::OK {
                still.push(delivery);
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    pending.len()
}

/// The mirror's live users and their first names.
async fn mirrored_names(db: &backend::Db) -> BTreeMap<String, String> {
    let rows: Vec<(String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT clerk_id, first_name FROM users WHERE clerk_id LIKE 'user_c%' AND deleted_at IS NULL")
        .fetch_all(pool).await)
    .expect("read the mirror");
    rows.into_iter().collect()
}

/// a. Postgres crashes and restarts in the middle of a stream of deliveries at about 200/s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_a_postgres_restarts_under_a_stream_of_deliveries() {
    let Some(cluster) = PgCluster::start() else {
        eprintln!("SKIPPED chaos a: no throwaway Postgres cluster here");
        return;
    };
    let url = cluster.create_database("chaos_a").await;
    let clerk = FakeClerk::start().await;
    let api = clerk.api_url();
    let mut server = ServerProcess::start(&url, &env(&api)).await;
    let pid = server.pid();
    let total = if full() { 5000 } else { 600 };

    // Each user is created, then renamed: the final state is known, and order matters.
    let mut expected = BTreeMap::new();
    let mut deliveries = Vec::with_capacity(total);
    for i in 0..total / 2 {
        let created = user(i, "Before");
        let mut renamed = user(i, "After");
        renamed["updated_at"] = json!(created["updated_at"].as_i64().unwrap_or_default() + 1);
        deliveries.push(signed("user.created", &created));
        deliveries.push(signed("user.updated", &renamed));
        expected.insert(format!("user_c{i:06}"), "After".to_owned());
    }

    let http = Arc::new(Http::new(server.base.clone()));
    let answers: Arc<Mutex<Vec<(usize, StatusCode)>>> = Arc::default();
    let sender = {
        let (http, answers) = (Arc::clone(&http), Arc::clone(&answers));
        let deliveries = deliveries.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(5));
            let mut inflight = Vec::new();
            for (i, delivery) in deliveries.into_iter().enumerate() {
                tick.tick().await;
                let (http, answers) = (Arc::clone(&http), Arc::clone(&answers));
                inflight.push(tokio::spawn(async move {
                    let status = http.post_webhook(&delivery).await.0;
                    answers.lock().expect("answers").push((i, status));
                }));
            }
            for task in inflight {
                let _ = task.await;
            }
        })
    };

    // A third of the way in, the database crashes; it comes back three seconds later.
    let third = eventually(Duration::from_secs(60), || async { answers.lock().expect("a").len() >= total / 3 }).await;
    assert!(third, "deliveries flow");
    assert!(cluster.kill(), "postgres stopped");
    let down = Instant::now();
    let unready = eventually(Duration::from_secs(5), || async {
        http.get("/readyz").await.status() == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(down.elapsed())).await;
    assert!(cluster.start_again(), "postgres restarted");
    let restarted = Instant::now();
    let ready =
        eventually(Duration::from_secs(15), || async { http.get("/readyz").await.status() == StatusCode::OK }).await;
    let ready_after = restarted.elapsed();
    sender.await.expect("sender");

    let answers = answers.lock().expect("answers").clone();
    let failed: Vec<SignedWebhook> =
        answers.iter().filter(|(_, s)| *s != StatusCode::OK).map(|(i, _)| deliveries[*i].clone()).collect();
    let errors = failed.len();
    let left = redeliver_until_applied(&http, failed).await;
    let db = backend::Db::connect(&backend::config::DatabaseUrl::parse(&url).expect("url")).await.expect("db");
    let mirror = mirrored_names(&db).await;
    let lost = expected.iter().filter(|(id, name)| mirror.get(*id) != Some(name)).count();
    report(
        "a",
        &[
            ("deliveries", total.to_string()),
            ("rate", "200/s".into()),
            ("errors_5xx", errors.to_string()),
            ("unapplied_after_redelivery", left.to_string()),
            ("lost", lost.to_string()),
            ("readyz_503_during_outage", unready.to_string()),
            ("ready_after_restart_ms", ready_after.as_millis().to_string()),
        ],
    );
    assert!(unready, "/readyz said 503 while the database was down");
    assert!(ready && ready_after < Duration::from_secs(5), "ready within 5 s of the restart: {ready_after:?}");
    assert_eq!((left, lost), (0, 0), "every delivery applied, the mirror equals Clerk's state");
    assert_eq!(mirror.len(), expected.len());
    assert!(server.running() && server.pid() == pid, "the server process was never restarted");
    db.close().await;
}

/// b. Two instances on one Postgres; one is killed with `kill -9` under mixed load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_b_an_instance_killed_under_load_loses_no_session_and_no_delivery() {
    let Some(cluster) = PgCluster::start() else {
        eprintln!("SKIPPED chaos b: no throwaway Postgres cluster here");
        return;
    };
    let url = cluster.create_database("chaos_b").await;
    let clerk = FakeClerk::start().await;
    let api = clerk.api_url();
    let mut doomed = ServerProcess::start(&url, &env(&api)).await;
    let survivor = ServerProcess::start(&url, &env(&api)).await;
    let sessions = if full() { 200 } else { 30 };

    // Signed-in browsers on the doomed instance: each gets a server session.
    let mut cookies = Vec::new();
    for i in 0..sessions {
        clerk.put_user(user(i, "Session"));
        let token = clerk.mint(&session_claims(&format!("user_c{i:06}")));
        let res = doomed.me_cookie(&format!("__session={token}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = common::server_session_cookie(&res).expect("a server session");
        cookies.push((format!("user_c{i:06}"), cookie));
    }
    let staff_db = backend::Db::connect(&backend::config::DatabaseUrl::parse(&url).expect("url")).await.expect("db");
    common::staff::create_staff_in(&staff_db, "boss@example.com", false).await;
    let staff = doomed.staff_login("boss@example.com").await;

    // Mixed load on both: deliveries, admin reads, session reads; the doomed one dies midway.
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let (a, b) = (Arc::new(Http::new(doomed.base.clone())), Arc::new(Http::new(survivor.base.clone())));
    let load = {
        let (acknowledged, cookies, staff) = (Arc::clone(&acknowledged), cookies.clone(), staff.0.clone());
        let (a, b) = (Arc::clone(&a), Arc::clone(&b));
        tokio::spawn(async move {
            let mut errors = 0usize;
            for i in 0..(if full() { 2000 } else { 300 }) {
                let target = if i % 2 == 0 { &a } else { &b };
                let data = user(10_000 + i, "Load");
                let delivery = signed("user.created", &data);
                // A killed instance refuses connections: an error, never a panic.
                let mut post = target.client.post(target.url("/webhooks/clerk")).body(delivery.body.clone());
                for (name, value) in delivery.headers() {
                    post = post.header(name, value);
                }
                match post.send().await.map(|r| r.status()) {
                    Ok(StatusCode::OK) => {
                        acknowledged.lock().expect("ack").push(data["id"].as_str().unwrap_or_default().into())
                    }
                    _ => errors += 1,
                }
                let (clerk_id, cookie) = &cookies[i % cookies.len()];
                let me = target
                    .client
                    .get(target.url("/api/me"))
                    .header("cookie", format!("{cookie}; __client_uat=1700000000"))
                    .send()
                    .await;
                match me {
                    Ok(res) if res.status() == StatusCode::OK => {
                        let who =
                            res.json::<Value>().await.ok().and_then(|v| v["clerk_id"].as_str().map(str::to_owned));
                        assert_eq!(who.as_deref(), Some(clerk_id.as_str()), "a session answered for someone else");
                    }
                    _ => errors += 1,
                }
                let admin = target.client.get(target.url("/admin/users")).header("cookie", &staff).send().await;
                if !admin.is_ok_and(|r| r.status() == StatusCode::OK) {
                    errors += 1;
                }
            }
            errors
        })
    };
    let midway = eventually(Duration::from_secs(60), || async { acknowledged.lock().expect("a").len() >= 40 }).await;
    assert!(midway, "load flows");
    let killed_at = Instant::now();
    doomed.kill_9();
    let errors = load.await.expect("load");

    // On the survivor: every session, the staff login, every acknowledged delivery.
    let mut sessions_kept = 0;
    for (clerk_id, cookie) in &cookies {
        let me = survivor.me_cookie(cookie).await;
        let who = me.json::<Value>().await.ok().and_then(|v| v["clerk_id"].as_str().map(str::to_owned));
        sessions_kept += usize::from(who.as_deref() == Some(clerk_id.as_str()));
    }
    let staff_kept = survivor.admin_page("/admin/users", &staff).await.status() == StatusCode::OK;
    let acknowledged = acknowledged.lock().expect("ack").clone();
    let mirror = mirrored_names(&staff_db).await;
    let lost = acknowledged.iter().filter(|id| !mirror.contains_key(*id)).count();
    report(
        "b",
        &[
            ("sessions", cookies.len().to_string()),
            ("sessions_kept", sessions_kept.to_string()),
            ("staff_session_kept", staff_kept.to_string()),
            ("acknowledged", acknowledged.len().to_string()),
            ("errors_during_kill", errors.to_string()),
            ("lost", lost.to_string()),
            ("measured_s_after_kill", format!("{:.1}", killed_at.elapsed().as_secs_f64())),
        ],
    );
    assert_eq!(sessions_kept, cookies.len(), "the survivor keeps every session");
    assert!(staff_kept, "and the staff session");
    assert_eq!(lost, 0, "no acknowledged delivery is lost");
    staff_db.close().await;
}

/// d. Clerk's API hangs during provisioning, a sync and membership webhooks: bounded waits and
/// 503s, nothing stuck, and recovery on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_d_clerk_hanging_gives_bounded_503s_and_recovers_on_its_own() {
    let hang = if full() { Duration::from_secs(60) } else { Duration::from_secs(12) };
    let clerk = FakeClerk::start().await;
    let api = clerk.api_url();
    let db = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/app.db", db.path().display());
    let server = ServerProcess::start(&url, &env(&api)).await;
    let org = fake_clerk::organization("org_1", "Org", "org");
    let newcomer = user(1, "New");
    clerk.put_user(newcomer.clone());
    clerk.fail("/v1/users", Fault::Hang);
    let hung_at = Instant::now();

    let token = clerk.mint(&session_claims("user_c000001"));
    let membership = fake_clerk::membership("orgmem_1", &org, &newcomer, "org:member");
    let http = Arc::new(Http::new(server.base.clone()));
    let (h1, h2, t1) = (Arc::clone(&http), Arc::clone(&http), token.clone());
    let provisioning = tokio::spawn(async move {
        let started = Instant::now();
        (h1.me_bearer(&t1).await.status(), started.elapsed())
    });
    let member_delivery = signed("organizationMembership.created", &membership);
    let d = member_delivery.clone();
    let membership_hook = tokio::spawn(async move {
        let started = Instant::now();
        (h2.post_webhook(&d).await.0, started.elapsed())
    });
    // Meanwhile everything that does not need Clerk answers at once.
    let started = Instant::now();
    for i in 0..20 {
        assert_eq!(http.deliver("user.created", &user(100 + i, "Meanwhile")).await.0, StatusCode::OK);
    }
    assert_eq!(http.get("/readyz").await.status(), StatusCode::OK);
    let meanwhile = started.elapsed();
    let (jit_status, jit_wait) = provisioning.await.expect("provisioning");
    let (hook_status, hook_wait) = membership_hook.await.expect("membership");

    tokio::time::sleep(hang.saturating_sub(hung_at.elapsed())).await;
    clerk.clear_faults();
    let recovered_at = Instant::now();
    let recovered = eventually(Duration::from_secs(15), || async {
        http.me_bearer(&token).await.status() == StatusCode::OK
            && http.post_webhook(&member_delivery).await.0 == StatusCode::OK
    })
    .await;
    let recovery = recovered_at.elapsed();
    report(
        "d",
        &[
            ("hang_s", hang.as_secs().to_string()),
            ("jit", format!("{}@{}ms", jit_status.as_u16(), jit_wait.as_millis())),
            ("membership_webhook", format!("{}@{}ms", hook_status.as_u16(), hook_wait.as_millis())),
            ("other_writes_20_ms", meanwhile.as_millis().to_string()),
            ("recovered_after_ms", recovery.as_millis().to_string()),
            ("lost", "0".into()),
        ],
    );
    assert_eq!(jit_status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(hook_status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(jit_wait < Duration::from_secs(15) && hook_wait < Duration::from_secs(15), "bounded waits");
    assert!(meanwhile < Duration::from_secs(5), "nothing else waited on Clerk: {meanwhile:?}");
    assert!(recovered, "recovered on its own once Clerk answered");
}

/// The sync under a hanging Clerk: it waits (bounded, with retries) and finishes once Clerk answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_d_a_sync_under_a_hanging_clerk_waits_boundedly_and_completes() {
    let clerk = FakeClerk::start().await;
    for i in 0..50 {
        clerk.put_user(user(i, "Synced"));
    }
    let db = testkit::TestDb::new(testkit::Backend::Sqlite).await.expect("db");
    clerk.fail_times("/v1/users?", Fault::Hang, 1);
    let started = Instant::now();
    let out = common::clerk_cli::run(&clerk, &db, &["sync-users", "--json"]).await;
    let took = started.elapsed();
    report("d-sync", &[("hung_requests", "1".into()), ("took_ms", took.as_millis().to_string())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(summary["created"], 50);
    assert!(took < Duration::from_secs(30), "one timeout, then a retry: {took:?}");
}

/// e. A soak at mixed load: memory levels off after warm-up, and descriptors do not grow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_e_a_soak_at_mixed_load_holds_memory_and_descriptors_level() {
    let length = match std::env::var("CHAOS_SOAK_SECS").ok().and_then(|s| s.parse().ok()) {
        Some(secs) => Duration::from_secs(secs),
        None if full() => Duration::from_secs(600),
        None => {
            eprintln!("SKIPPED chaos e: the soak runs with CHAOS_SCALE=full (make chaos)");
            return;
        }
    };
    let clerk = FakeClerk::start().await;
    let api = clerk.api_url();
    let db = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/app.db", db.path().display());
    let server = ServerProcess::start(&url, &env(&api)).await;
    let pid = server.pid();
    for i in 0..50 {
        clerk.put_user(user(i, "Soak"));
    }
    let sample = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss_kb: u64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0);
        (rss_kb, fds)
    };
    let started = Instant::now();
    // Warm: past a token's lifetime, when the verified-token cache holds all it ever will.
    let warm_up = (length / 2).min(Duration::from_secs(120));
    let mut after_warm_up = None;
    // RSS every tenth of the run, to tell a plateau from a leak.
    let mut series = Vec::new();
    let mut samples: HashMap<&str, (u64, usize)> = HashMap::new();
    let mut i = 0usize;
    let mut errors = 0usize;
    while started.elapsed() < length {
        // One kind of request alone (CHAOS_SOAK_MIX=me|page|hook) tells which one holds memory.
        let mix = std::env::var("CHAOS_SOAK_MIX").unwrap_or_default();
        let mut ok = true;
        if mix.is_empty() || mix.contains("me") {
            // Fresh each round: session tokens live a minute.
            let token = clerk.mint(&session_claims(&format!("user_c{:06}", i % 50)));
            ok &= server.me_bearer(&token).await.status() == StatusCode::OK;
        }
        if mix.is_empty() || mix.contains("page") {
            ok &= server.get("/").await.status() == StatusCode::OK;
        }
        if mix.is_empty() || mix.contains("hook") {
            let mut u = user(i % 50, "Soak");
            u["updated_at"] = json!(1_800_000_000_000i64 + i as i64);
            ok &= server.deliver("user.updated", &u).await.0 == StatusCode::OK;
        }
        errors += usize::from(!ok);
        i += 1;
        if after_warm_up.is_none() && started.elapsed() >= warm_up {
            after_warm_up = Some(sample());
        }
        if started.elapsed() >= length / 10 * (series.len() as u32 + 1) {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let kb = |key: &str| -> u64 {
                status
                    .lines()
                    .find(|l| l.starts_with(key))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            series.push(format!("{}/{}", kb("RssAnon:") / 1024, kb("RssFile:") / 1024));
        }
    }
    let end = sample();
    // Which kind of memory grew: the heap (RssAnon) or mapped files (RssFile, RssShmem: the
    // SQLite WAL index is a shared mapping that grows with the WAL).
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kinds: Vec<String> = status
        .lines()
        .filter(|l| l.starts_with("RssAnon") || l.starts_with("RssFile") || l.starts_with("RssShmem"))
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join("="))
        .collect();
    let wal_kb = std::fs::metadata(db.path().join("app.db-wal")).map(|m| m.len() / 1024).unwrap_or(0);
    let warm = after_warm_up.unwrap_or(end);
    samples.insert("warm", warm);
    samples.insert("end", end);
    let growth = end.0 as f64 / warm.0.max(1) as f64 - 1.0;
    report(
        "e",
        &[
            ("seconds", length.as_secs().to_string()),
            ("rounds", i.to_string()),
            ("errors", errors.to_string()),
            ("rss_kb_warm", warm.0.to_string()),
            ("rss_kb_end", end.0.to_string()),
            ("rss_growth_pct", format!("{:.1}", growth * 100.0)),
            ("fds_warm", warm.1.to_string()),
            ("fds_end", end.1.to_string()),
            ("rss_anon_file_mb_series", series.join(",")),
            ("rss_kinds_kb", kinds.join(",")),
            ("wal_kb_end", wal_kb.to_string()),
        ],
    );
    assert_eq!(errors, 0);
    assert!(growth <= 0.10, "RSS within 10% of its level after warm-up: {samples:?}");
    assert!(end.1 <= warm.1 + 2, "no descriptor growth: {samples:?}");
}
