//! The admin's read cache over HTTP: with a TTL far longer than the test, every change made
//! through the app (an admin edit, a webhook) still shows at once in the lists and the
//! dashboard's counts, a demoted staff member is refused at once, and a write made around the
//! app shows within the TTL.

use crate::common;

use std::time::Duration;

use backend::db::users;
use common::{
    TestApp, eventually,
    staff::{self, StaffCookie},
};
use fake_clerk::{FakeClerk, TEST_WEBHOOK_SECRET};
use reqwest::StatusCode;
use serde_json::Value;
use testkit::Backend;

testkit::each_backend!(
    backend:
    admin_edits_and_webhooks_show_in_cached_lists_at_once,
    a_staff_member_demoted_through_the_admin_is_refused_at_once,
    a_user_provisioned_just_in_time_shows_in_cached_lists_at_once,
    writes_around_the_app_show_within_the_ttl,
    with_the_cache_off_every_read_is_fresh,
);

async fn app_with_ttl(backend: Backend, clerk: &FakeClerk, ttl: &str) -> TestApp {
    let env = [("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET), ("ADMIN_CACHE_SECONDS", ttl)];
    TestApp::with_clerk(backend, clerk, &env).await
}

/// Alice, in the fake Clerk and mirrored here.
async fn alice(app: &TestApp, clerk: &FakeClerk) -> users::User {
    let alice = fake_clerk::user("user_alice", "alice@example.com", "Alice", "L");
    clerk.put_user(alice.clone());
    app.mirror(&alice).await
}

async fn listed(app: &TestApp, path: &str, cookie: &StaffCookie, form: &[(&str, &str)]) -> Value {
    app.admin_json(path, cookie, form).await
}

fn names(list: &Value) -> Vec<String> {
    staff::column(list, "name")
}

async fn admin_edits_and_webhooks_show_in_cached_lists_at_once(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = app_with_ttl(backend, &clerk, "300").await;
    let alice = alice(&app, &clerk).await;
    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    let users_path = "/api/admin/users";
    assert!(names(&listed(&app, users_path, &cookie, &[]).await).contains(&"Alice L".to_owned()));
    let dashboard = "/api/admin/dashboard";
    assert_eq!(listed(&app, dashboard, &cookie, &[]).await["active_users"], 2, "Alice and the staff member");

    let id = alice.id.to_string();
    let form = [("id", id.as_str()), ("first_name", "Alice"), ("last_name", "Lovelace"), ("is_active", "on")];
    assert_eq!(app.admin_post("/api/admin/user-update", Some(&cookie), &form).await.status(), StatusCode::OK);
    assert!(names(&listed(&app, users_path, &cookie, &[]).await).contains(&"Alice Lovelace".to_owned()));

    let bob = fake_clerk::user("user_bob", "bob@example.com", "Bob", "B");
    assert_eq!(app.deliver("user.created", &bob).await.1["status"], "processed");
    let after = listed(&app, users_path, &cookie, &[]).await;
    assert_eq!(after["total"], 3, "the webhook's user is counted at once");
    assert_eq!(listed(&app, dashboard, &cookie, &[]).await["active_users"], 3, "and on the dashboard");

    let orgs_path = "/api/admin/orgs";
    assert_eq!(listed(&app, orgs_path, &cookie, &[]).await["total"], 0);
    let org = fake_clerk::organization("org_acme", "Acme", "acme");
    assert_eq!(app.deliver("organization.created", &org).await.1["status"], "processed");
    let orgs = listed(&app, orgs_path, &cookie, &[]).await;
    assert_eq!((orgs["total"].as_i64(), orgs["rows"][0]["name"].as_str()), (Some(1), Some("Acme")));
    assert_eq!(listed(&app, dashboard, &cookie, &[]).await["organizations"], 1);
}

async fn a_staff_member_demoted_through_the_admin_is_refused_at_once(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = app_with_ttl(backend, &clerk, "300").await;
    let boss = app.create_staff("boss@example.com", false).await;
    app.create_staff("root@example.com", true).await;
    let boss_cookie = app.staff_login("boss@example.com").await;
    let root = app.staff_login("root@example.com").await;
    assert_eq!(app.admin_post("/api/admin/users", Some(&boss_cookie), &[]).await.status(), StatusCode::OK);

    let id = boss.id.to_string();
    let demote = [("id", id.as_str()), ("is_active", "on")];
    assert_eq!(app.admin_post("/api/admin/user-update", Some(&root), &demote).await.status(), StatusCode::OK);
    let res = app.admin_post("/api/admin/users", Some(&boss_cookie), &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no longer staff, whatever the cache held");
    assert!(app.admin_page("/admin/users", &boss_cookie).await.status().is_redirection());
}

async fn a_user_provisioned_just_in_time_shows_in_cached_lists_at_once(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = app_with_ttl(backend, &clerk, "300").await;
    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    assert_eq!(listed(&app, "/api/admin/users", &cookie, &[]).await["total"], 1, "the staff member alone");

    // Known to Clerk, not to us: the first request with her token creates her row.
    clerk.put_user(fake_clerk::user("user_grace", "grace@example.com", "Grace", "Hopper"));
    let token = clerk.mint(&fake_clerk::session_claims("user_grace"));
    assert_eq!(app.me_bearer(&token).await.status(), StatusCode::OK);
    let after = listed(&app, "/api/admin/users", &cookie, &[]).await;
    assert_eq!(after["total"], 2);
    assert!(names(&after).contains(&"Grace Hopper".to_owned()));
}

/// Changes a user's name in the database directly, as another program would.
async fn rename_around_the_app(app: &TestApp, clerk_id: &str, first_name: &str) {
    backend::on_writer!(&app.db, pool => sqlx::query("UPDATE users SET first_name = $1 WHERE clerk_id = $2")
        .bind(first_name)
        .bind(clerk_id)
        .execute(pool)
        .await
        .map(|_| ()))
    .expect("update");
}

async fn writes_around_the_app_show_within_the_ttl(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = app_with_ttl(backend, &clerk, "1").await;
    alice(&app, &clerk).await;
    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    assert!(names(&listed(&app, "/api/admin/users", &cookie, &[]).await).contains(&"Alice L".to_owned()));

    rename_around_the_app(&app, "user_alice", "Alicia").await;
    let seen = eventually(Duration::from_secs(3), || async {
        names(&listed(&app, "/api/admin/users", &cookie, &[]).await).contains(&"Alicia L".to_owned())
    })
    .await;
    assert!(seen, "a 1 s TTL bounds how long a write around the app stays unseen");
}

async fn with_the_cache_off_every_read_is_fresh(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = app_with_ttl(backend, &clerk, "0").await;
    alice(&app, &clerk).await;
    let boss = app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    assert!(names(&listed(&app, "/api/admin/users", &cookie, &[]).await).contains(&"Alice L".to_owned()));

    rename_around_the_app(&app, "user_alice", "Alicia").await;
    assert!(names(&listed(&app, "/api/admin/users", &cookie, &[]).await).contains(&"Alicia L".to_owned()));
    backend::on_writer!(&app.db, pool => sqlx::query("UPDATE users SET is_staff = FALSE WHERE id = $1")
        .bind(boss.id)
        .execute(pool)
        .await
        .map(|_| ()))
    .expect("demote");
    assert_eq!(app.admin_post("/api/admin/users", Some(&cookie), &[]).await.status(), StatusCode::FORBIDDEN);
}
