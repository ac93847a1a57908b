//! Two real `server` processes on one Postgres database, as behind a load balancer: a webhook
//! on one invalidates the other's caches at once, sessions (staff and Clerk) are shared, and a
//! listener that loses its connection comes back. Admin changes and sync runs reach the other
//! instance's cached admin lists and staff checks, too.

use crate::common;

use std::time::Duration;

use backend::Db;
use common::{eventually, process::ServerProcess, server_session_cookie, staff};
use fake_clerk::{FakeClerk, TEST_WEBHOOK_SECRET, session_claims};
use reqwest::StatusCode;
use serde_json::json;
use testkit::{Backend, TestDb};

struct Pair {
    a: ServerProcess,
    b: ServerProcess,
    db: TestDb,
}

fn postgres_available(test: &str) -> bool {
    let available = std::env::var("TEST_DATABASE_URL").is_ok();
    if !available {
        eprintln!("SKIPPED {test}: TEST_DATABASE_URL is not set");
    }
    available
}

/// The database URL with a Postgres `application_name`, so a test can find an instance's
/// connections in `pg_stat_activity`.
fn named(url: &str, name: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={name}")
}

/// The backend pid of an instance's LISTEN connection (0 while it has none).
async fn listener_pid(db: &Db, instance: &str) -> i32 {
    let Db::Postgres(pool) = db else { return 0 };
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 \
         AND query = 'SELECT pg_backend_pid()'",
    )
    .bind(instance)
    .fetch_optional(pool)
    .await
    .expect("pg_stat_activity")
    .unwrap_or(0)
}

async fn two_instances(clerk: &FakeClerk) -> Pair {
    let db = TestDb::new(Backend::Postgres).await.expect("db");
    let api_url = clerk.api_url();
    let env = [
        ("CLERK_SECRET_KEY", FakeClerk::SECRET_KEY),
        ("CLERK_API_URL", api_url.as_str()),
        ("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET),
        ("CLERK_CACHE_TIMEOUT", "300"),
        ("ADMIN_CACHE_SECONDS", "300"),
        ("SESSION_CACHE_SECONDS", "300"),
    ];
    let a = ServerProcess::start(&named(db.url.as_str(), "instance_a"), &env).await;
    let b = ServerProcess::start(&named(db.url.as_str(), "instance_b"), &env).await;
    // Both listeners are up before anything is published.
    let listening = eventually(Duration::from_secs(10), || async {
        listener_pid(&db.db, "instance_a").await != 0 && listener_pid(&db.db, "instance_b").await != 0
    })
    .await;
    assert!(listening, "both instances listen");
    Pair { a, b, db }
}

/// A fake Clerk with Alice, two instances on it, and a session token for her.
async fn alice_on_two_instances() -> (FakeClerk, serde_json::Value, Pair, String) {
    let clerk = FakeClerk::start().await;
    let alice = fake_clerk::user("user_alice", "alice@example.com", "Alice", "L");
    clerk.put_user(alice.clone());
    let pair = two_instances(&clerk).await;
    let token = clerk.mint(&session_claims("user_alice"));
    (clerk, alice, pair, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_deleted_on_one_instance_is_refused_by_the_other_within_a_second() {
    if !postgres_available("a_user_deleted_on_one_instance_is_refused_by_the_other_within_a_second") {
        return;
    }
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "L"));
    let Pair { a, b, .. } = two_instances(&clerk).await;
    let token = clerk.mint(&session_claims("user_alice"));
    assert_eq!(b.me_bearer(&token).await.status(), StatusCode::OK, "B has the user cached");

    let (status, body) =
        a.deliver("user.deleted", &json!({ "object": "user", "id": "user_alice", "deleted": true })).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("processed")));
    let refused =
        eventually(Duration::from_secs(1), || async { b.me_bearer(&token).await.status() == StatusCode::UNAUTHORIZED })
            .await;
    assert!(refused, "B refuses the deleted user within 1 s, far inside its 300 s cache TTL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_login_on_one_instance_works_on_the_other_and_logout_there_ends_it() {
    if !postgres_available("a_staff_login_on_one_instance_works_on_the_other_and_logout_there_ends_it") {
        return;
    }
    let clerk = FakeClerk::start().await;
    let Pair { a, b, db } = two_instances(&clerk).await;
    staff::create_staff_in(&db.db, "boss@example.com", false).await;
    let cookie = a.staff_login("boss@example.com").await;
    assert_eq!(a.admin_page("/admin/users", &cookie).await.status(), StatusCode::OK, "A has the session cached");
    assert_eq!(b.admin_page("/admin/users", &cookie).await.status(), StatusCode::OK, "B serves A's session");
    let listed = b.admin_post("/api/admin/users", Some(&cookie), &[]).await;
    assert_eq!(listed.status(), StatusCode::OK);

    assert_eq!(b.admin_post("/admin/logout", Some(&cookie), &[]).await.status(), StatusCode::OK);
    let ended = eventually(Duration::from_secs(1), || async {
        a.admin_page("/admin/users", &cookie).await.status().is_redirection()
    })
    .await;
    assert!(ended, "logout on B ends the session A had cached within 1 s, far inside its 300 s session cache");
    assert_eq!(a.admin_post("/api/admin/users", Some(&cookie), &[]).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_revoked_on_one_instance_ends_the_server_session_on_the_other() {
    if !postgres_available("session_revoked_on_one_instance_ends_the_server_session_on_the_other") {
        return;
    }
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "L"));
    let Pair { a, b, .. } = two_instances(&clerk).await;
    let token = clerk.mint(&session_claims("user_alice"));
    let res = b.me_cookie(&format!("__session={token}")).await;
    let session = server_session_cookie(&res).expect("B created a server session");
    assert_eq!(b.me_cookie(&session).await.status(), StatusCode::OK);

    let revoked = json!({ "object": "session", "id": "sess_user_alice", "user_id": "user_alice", "status": "revoked" });
    assert_eq!(a.deliver("session.revoked", &revoked).await.1["status"], "processed");
    let ended = eventually(Duration::from_secs(1), || async {
        b.me_cookie(&session).await.status() == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(ended, "B drops the session it had cached within 1 s, far inside its 300 s session cache");
    let both = format!("__session={token}; {session}");
    let refused =
        eventually(Duration::from_secs(1), || async { b.me_cookie(&both).await.status() == StatusCode::UNAUTHORIZED })
            .await;
    assert!(refused, "B also refuses the ended session's unexpired token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_reconnects_after_its_connection_is_killed() {
    if !postgres_available("the_listener_reconnects_after_its_connection_is_killed") {
        return;
    }
    let (_clerk, mut alice, Pair { a, b, db }, token) = alice_on_two_instances().await;
    assert_eq!(b.me_bearer(&token).await.status(), StatusCode::OK);

    let old_pid = listener_pid(&db.db, "instance_b").await;
    let Db::Postgres(pool) = &db.db else { panic!("postgres") };
    let killed: bool =
        sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(old_pid).fetch_one(pool).await.expect("terminate");
    assert!(killed);
    let reconnected = eventually(Duration::from_secs(10), || async {
        let pid = listener_pid(&db.db, "instance_b").await;
        pid != 0 && pid != old_pid
    })
    .await;
    assert!(reconnected, "B's listener reconnects");

    // B caches the user again; a later invalidation still reaches it.
    assert_eq!(b.me_bearer(&token).await.status(), StatusCode::OK);
    alice["banned"] = json!(true);
    alice["updated_at"] = json!(alice["updated_at"].as_i64().unwrap_or_default() + 1);
    assert_eq!(a.deliver("user.updated", &alice).await.1["status"], "processed");
    let refused =
        eventually(Duration::from_secs(1), || async { b.me_bearer(&token).await.status() == StatusCode::UNAUTHORIZED })
            .await;
    assert!(refused, "the invalidation reached B after the reconnect");
}

async fn listed_names(instance: &ServerProcess, cookie: &staff::StaffCookie) -> Vec<String> {
    let res = instance.admin_post("/api/admin/users", Some(cookie), &[]).await;
    if res.status() != StatusCode::OK {
        return Vec::new();
    }
    staff::column(&res.json().await.unwrap_or_default(), "name")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_change_on_one_instance_reaches_the_others_cached_list_and_staff_check() {
    if !postgres_available("an_admin_change_on_one_instance_reaches_the_others_cached_list_and_staff_check") {
        return;
    }
    let (_clerk, _, Pair { a, b, db }, token) = alice_on_two_instances().await;
    assert_eq!(a.me_bearer(&token).await.status(), StatusCode::OK, "Alice is mirrored");
    let boss = staff::create_staff_in(&db.db, "boss@example.com", false).await;
    staff::create_staff_in(&db.db, "root@example.com", true).await;
    let boss_cookie = a.staff_login("boss@example.com").await;
    let root = a.staff_login("root@example.com").await;
    assert!(listed_names(&b, &root).await.contains(&"Alice L".to_owned()), "B caches the list");
    assert_eq!(b.admin_post("/api/admin/users", Some(&boss_cookie), &[]).await.status(), StatusCode::OK);

    let alice: serde_json::Value =
        a.admin_post("/api/admin/users", Some(&root), &[("q", "alice")]).await.json().await.expect("json");
    let id = alice["rows"][0]["id"].to_string();
    let rename = [("id", id.as_str()), ("first_name", "Alice"), ("last_name", "Lovelace"), ("is_active", "on")];
    assert_eq!(a.admin_post("/api/admin/user-update", Some(&root), &rename).await.status(), StatusCode::OK);
    let seen = eventually(Duration::from_secs(1), || async {
        listed_names(&b, &root).await.contains(&"Alice Lovelace".to_owned())
    })
    .await;
    assert!(seen, "B's cached list follows A's edit within 1 s, far inside its 300 s TTL");

    let boss_id = boss.id.to_string();
    let demote = [("id", boss_id.as_str()), ("is_active", "on")];
    assert_eq!(a.admin_post("/api/admin/user-update", Some(&root), &demote).await.status(), StatusCode::OK);
    let refused = eventually(Duration::from_secs(1), || async {
        b.admin_post("/api/admin/users", Some(&boss_cookie), &[]).await.status() == StatusCode::FORBIDDEN
    })
    .await;
    assert!(refused, "B stops honouring the demoted staff member within 1 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_run_beside_the_servers_reaches_their_caches() {
    if !postgres_available("a_sync_run_beside_the_servers_reaches_their_caches") {
        return;
    }
    let (clerk, mut alice, Pair { a, b, db }, token) = alice_on_two_instances().await;
    assert_eq!(a.me_bearer(&token).await.status(), StatusCode::OK, "Alice is mirrored");
    staff::create_staff_in(&db.db, "root@example.com", true).await;
    let root = b.staff_login("root@example.com").await;
    assert!(listed_names(&b, &root).await.contains(&"Alice L".to_owned()), "B caches the list");

    alice["last_name"] = json!("Synced");
    alice["updated_at"] = json!(alice["updated_at"].as_i64().unwrap_or_default() + 1000);
    clerk.put_user(alice);
    let api_url = clerk.api_url();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("sync-users")
        .env("DATABASE_URL", db.url.as_str())
        .env("CLERK_SECRET_KEY", FakeClerk::SECRET_KEY)
        .env("CLERK_API_URL", api_url.as_str())
        .env("RUST_LOG", "error")
        .output()
        .expect("run sync-users");
    assert!(out.status.success(), "sync-users: {}", String::from_utf8_lossy(&out.stderr));
    let seen = eventually(Duration::from_secs(1), || async {
        listed_names(&b, &root).await.contains(&"Alice Synced".to_owned())
    })
    .await;
    assert!(seen, "the sync's NOTIFY reached B's cached list");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bio_saved_on_one_instance_is_read_on_the_other_at_once() {
    if !postgres_available("a_bio_saved_on_one_instance_is_read_on_the_other_at_once") {
        return;
    }
    let (_clerk, _alice, Pair { a, b, .. }, token) = alice_on_two_instances().await;
    let bio_on = |instance: &ServerProcess| {
        let token = token.clone();
        let (client, url) = (instance.client.clone(), instance.url("/api/account/get"));
        async move {
            let res = client.post(url).bearer_auth(token).header("accept", "application/json").send().await;
            let account: serde_json::Value = res.expect("request").json().await.expect("json");
            account["bio"].as_str().unwrap_or_default().to_owned()
        }
    };
    assert_eq!(bio_on(&b).await, "", "B has the user cached, for 300 s");
    let saved = a
        .client
        .post(a.url("/api/account/bio"))
        .bearer_auth(&token)
        .header("accept", "application/json")
        .form(&[("bio", "Wrote the first program.")])
        .send()
        .await
        .expect("request");
    assert_eq!(saved.status(), StatusCode::OK);
    let seen = eventually(Duration::from_secs(1), || async { bio_on(&b).await == "Wrote the first program." }).await;
    assert!(seen, "B reads the new bio within 1 s, far inside its 300 s user cache");
}
