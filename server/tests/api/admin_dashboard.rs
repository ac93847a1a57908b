//! The admin dashboard over HTTP: the counts, and the latest webhook events with failures
//! highlighted.

use crate::common;

use common::TestApp;
use fake_clerk::{FakeClerk, TEST_WEBHOOK_SECRET};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Backend;

testkit::each_backend!(backend: the_dashboard_counts_the_mirror_and_highlights_failed_webhooks);

async fn the_dashboard_counts_the_mirror_and_highlights_failed_webhooks(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)]).await;
    for (id, email) in [("user_a", "a@example.com"), ("user_b", "b@example.com"), ("user_c", "c@example.com")] {
        assert_eq!(app.deliver("user.created", &fake_clerk::user(id, email, "A", "B")).await.0, StatusCode::OK);
    }
    app.deliver("user.deleted", &json!({ "object": "user", "id": "user_c", "deleted": true })).await;
    let org = fake_clerk::organization("org_1", "One", "one");
    app.deliver("organization.created", &org).await;
    let user_a = fake_clerk::user("user_a", "a@example.com", "A", "B");
    app.deliver("organizationMembership.created", &fake_clerk::membership("orgmem_1", &org, &user_a, "org:admin"))
        .await;

    // A delivery the database refuses: recorded as failed (without the database's words).
    common::break_user_inserts(&app.db, backend).await;
    let (status, _) = app.deliver("user.created", &fake_clerk::user("user_d", "d@example.com", "D", "E")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    common::mend_user_inserts(&app.db, backend).await;

    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    let res = app.admin_post("/api/admin/dashboard", Some(&cookie), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let d: Value = res.json().await.expect("json");
    let counts = (
        d["active_users"].as_i64(),
        d["deleted_users"].as_i64(),
        d["staff_users"].as_i64(),
        d["organizations"].as_i64(),
        d["memberships"].as_i64(),
    );
    assert_eq!(counts, (Some(3), Some(1), Some(1), Some(1), Some(1)), "a, b and the staff account are active");
    let events = d["events"].as_array().expect("events");
    assert_eq!(events.len(), 7);
    let failed: Vec<&Value> = events.iter().filter(|e| e["status"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["event_type"], "user.created");
    assert!(!failed[0]["error"].as_str().unwrap_or_default().contains("disk on fire"));

    let html = app.admin_page("/admin", &cookie).await.text().await.expect("html");
    assert_eq!(html.matches("<tr class=\"failed\"").count(), 1, "the failed delivery is highlighted");
}
