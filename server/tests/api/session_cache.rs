//! The server session cache over HTTP: with a TTL far longer than the test, logout, login and a
//! Clerk revocation still end the cached session at once; a session deleted around the app (in
//! SQL) is served from memory until the TTL, and with the cache off it ends at once.

use crate::common;

use common::{TestApp, server_session_cookie, staff::StaffCookie};
use fake_clerk::{FakeClerk, TEST_WEBHOOK_SECRET, session_claims};
use reqwest::StatusCode;
use serde_json::json;
use testkit::Backend;

testkit::each_backend!(
    backend:
    logout_and_login_end_a_cached_staff_session_at_once,
    a_clerk_revocation_ends_a_cached_session_at_once,
    a_session_deleted_around_the_app_is_served_from_memory_until_the_ttl,
    with_the_cache_off_a_session_deleted_around_the_app_ends_at_once,
);

async fn app_with_ttl(backend: Backend, clerk: &FakeClerk, ttl: &str) -> TestApp {
    let env = [("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET), ("SESSION_CACHE_SECONDS", ttl)];
    TestApp::with_clerk(backend, clerk, &env).await
}

async fn serves(app: &TestApp, cookie: &StaffCookie) -> bool {
    app.admin_page("/admin/users", cookie).await.status() == StatusCode::OK
}

async fn logout_and_login_end_a_cached_staff_session_at_once(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = app_with_ttl(backend, &clerk, "300").await;
    app.create_staff("boss@example.com", false).await;
    let first = app.staff_login("boss@example.com").await;
    assert!(serves(&app, &first).await, "the session is read, and now cached");

    // Logging in again from the same browser cycles the id: the cached old one is worthless.
    let res = app.staff_login_with("boss@example.com", common::staff::PASSWORD, Some(&first.0)).await;
    let second = StaffCookie(server_session_cookie(&res).expect("a new session cookie"));
    assert_ne!(second.0, first.0);
    assert!(!serves(&app, &first).await, "the pre-login id ends at once");
    assert!(serves(&app, &second).await);

    assert_eq!(app.admin_post("/admin/logout", Some(&second), &[]).await.status(), StatusCode::OK);
    assert!(!serves(&app, &second).await, "logout ends the cached session at once");
}

async fn a_clerk_revocation_ends_a_cached_session_at_once(backend: Backend) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "L"));
    let app = app_with_ttl(backend, &clerk, "300").await;
    let token = clerk.mint(&session_claims("user_alice"));
    let res = app.me_cookie(&format!("__session={token}")).await;
    let session = server_session_cookie(&res).expect("a server session");
    assert_eq!(app.me_cookie(&session).await.status(), StatusCode::OK, "the session is read, and now cached");

    let revoked = json!({ "object": "session", "id": "sess_user_alice", "user_id": "user_alice", "status": "revoked" });
    assert_eq!(app.deliver("session.revoked", &revoked).await.1["status"], "processed");
    assert_eq!(app.me_cookie(&session).await.status(), StatusCode::UNAUTHORIZED);
}

/// A staff session that has been read (and, with a cache, cached), then deleted in SQL behind
/// the app's back.
async fn staff_session_deleted_around_the_app(app: &TestApp) -> StaffCookie {
    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    assert!(serves(app, &cookie).await);
    backend::on_writer!(&app.db, pool => sqlx::query("DELETE FROM tower_sessions").execute(pool).await.map(|_| ()))
        .expect("delete sessions");
    cookie
}

async fn a_session_deleted_around_the_app_is_served_from_memory_until_the_ttl(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = app_with_ttl(backend, &clerk, "300").await;
    let cookie = staff_session_deleted_around_the_app(&app).await;
    assert!(serves(&app, &cookie).await, "read from memory, not the database");
}

async fn with_the_cache_off_a_session_deleted_around_the_app_ends_at_once(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = app_with_ttl(backend, &clerk, "0").await;
    let cookie = staff_session_deleted_around_the_app(&app).await;
    assert!(!serves(&app, &cookie).await, "every request reads the session row");
}
