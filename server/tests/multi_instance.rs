//! Two instances on one Postgres database: a webhook on one invalidates the other's caches at
//! once, and the other's listener survives losing its connection.

mod common;

use std::time::Duration;

use common::{TestApp, eventually};
use fake_clerk::{FakeClerk, TEST_WEBHOOK_SECRET, session_claims};
use reqwest::StatusCode;
use serde_json::json;
use testkit::Backend;

fn postgres_available(test: &str) -> bool {
    let available = std::env::var("TEST_DATABASE_URL").is_ok();
    if !available {
        eprintln!("SKIPPED {test}: TEST_DATABASE_URL is not set");
    }
    available
}

async fn two_instances(clerk: &FakeClerk) -> (TestApp, TestApp) {
    let api_url = clerk.api_url();
    let env = [
        ("CLERK_SECRET_KEY", FakeClerk::SECRET_KEY),
        ("CLERK_API_URL", api_url.as_str()),
        ("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET),
        ("CLERK_CACHE_TIMEOUT", "300"),
    ];
    let a = TestApp::spawn_with(Backend::Postgres, &env).await;
    let b = a.spawn_beside(&env).await;
    // Both listeners are up before anything is published.
    let listening = eventually(Duration::from_secs(5), || async {
        a.invalidations.listener_pid() != 0 && b.invalidations.listener_pid() != 0
    })
    .await;
    assert!(listening, "both instances listen");
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_deleted_on_one_instance_is_refused_by_the_other_within_a_second() {
    if !postgres_available("a_user_deleted_on_one_instance_is_refused_by_the_other_within_a_second") {
        return;
    }
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "L"));
    let (a, b) = two_instances(&clerk).await;
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
async fn the_listener_reconnects_after_its_connection_is_killed() {
    if !postgres_available("the_listener_reconnects_after_its_connection_is_killed") {
        return;
    }
    let clerk = FakeClerk::start().await;
    let mut alice = fake_clerk::user("user_alice", "alice@example.com", "Alice", "L");
    clerk.put_user(alice.clone());
    let (a, b) = two_instances(&clerk).await;
    let token = clerk.mint(&session_claims("user_alice"));
    assert_eq!(b.me_bearer(&token).await.status(), StatusCode::OK);

    let old_pid = b.invalidations.listener_pid();
    let backend::Db::Postgres(pool) = &a.db else { panic!("postgres") };
    let killed: bool =
        sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(old_pid).fetch_one(pool).await.expect("terminate");
    assert!(killed);
    let reconnected = eventually(Duration::from_secs(10), || async {
        let pid = b.invalidations.listener_pid();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_revoked_on_one_instance_ends_the_server_session_on_the_other() {
    if !postgres_available("session_revoked_on_one_instance_ends_the_server_session_on_the_other") {
        return;
    }
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "L"));
    let (a, b) = two_instances(&clerk).await;
    let token = clerk.mint(&session_claims("user_alice"));
    let res = b.me_cookie(&format!("__session={token}")).await;
    let session = common::server_session_cookie(&res).expect("B created a server session");
    assert_eq!(b.me_cookie(&session).await.status(), StatusCode::OK);

    let revoked = json!({ "object": "session", "id": "sess_user_alice", "user_id": "user_alice", "status": "revoked" });
    assert_eq!(a.deliver("session.revoked", &revoked).await.1["status"], "processed");
    assert_eq!(b.me_cookie(&session).await.status(), StatusCode::UNAUTHORIZED, "the shared session row is gone");
    let both = format!("__session={token}; {session}");
    let refused =
        eventually(Duration::from_secs(1), || async { b.me_cookie(&both).await.status() == StatusCode::UNAUTHORIZED })
            .await;
    assert!(refused, "B also refuses the ended session's unexpired token");
}
