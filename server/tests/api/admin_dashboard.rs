//! The admin dashboard over HTTP: the counts, the charts (bars as tall as their counts), and the
//! latest webhook events with failures highlighted.

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
    assert!(html.contains("data-chart=\"signups\""), "the charts are in the server's HTML");

    // Known sign-up days: two users yesterday, one the day before, the staff account today.
    let now = chrono::Utc::now();
    for (clerk_id, days) in [("user_a", 1), ("user_b", 1), ("user_c", 2)] {
        let at = now - chrono::Duration::days(days);
        backend::on_writer!(&app.db, pool => sqlx::query("UPDATE users SET created_at = $1 WHERE clerk_id = $2")
            .bind(at).bind(clerk_id).execute(pool).await.map(|_| ()))
        .expect("update");
    }
    let dashboard = app.admin_json("/api/admin/dashboard", &cookie, &[]).await;
    let charts: Vec<&str> = dashboard["charts"].as_str().expect("charts").split("<figure").skip(1).collect();
    assert_eq!(charts.len(), 5, "sign-ups, active users, webhooks, staff logins, plans");
    let chart = |id: &str| *charts.iter().find(|c| c.contains(&format!("data-chart=\"{id}\""))).expect("chart");
    let bars = |html: &str, class: &str| -> Vec<(f64, i64)> {
        html.split("<rect ")
            .skip(1)
            .filter(|r| r.starts_with(&format!("class=\"{class}\"")))
            .map(|r| {
                let attr = |name: &str| r.split(&format!(" {name}=\"")).nth(1).and_then(|v| v.split('"').next());
                let height = attr("height").and_then(|v| v.parse().ok()).expect("height");
                let value = attr("data-value").and_then(|v| v.parse().ok()).expect("value");
                (height, value)
            })
            .collect()
    };
    // Heights follow the counts: the tallest bar is the plot's 150 units, the rest in proportion.
    let proportional = |bars: &[(f64, i64)], max: i64| {
        bars.iter().all(|&(h, v)| (h - (v as f64 * 150.0 / max as f64 * 100.0).round() / 100.0).abs() < 1e-9)
    };
    let signups = bars(chart("signups"), "s0");
    assert_eq!(signups.len(), 30, "a bar per day");
    // Summed, so that a test running across midnight still holds.
    assert_eq!(signups.iter().map(|b| b.1).sum::<i64>(), 4, "{signups:?}");
    assert_eq!(signups.iter().map(|b| b.1).max(), Some(2), "{signups:?}");
    assert!(proportional(&signups, 2), "{signups:?}");
    assert_eq!(signups.iter().filter(|b| b.0 == 150.0).count(), 1, "{signups:?}");
    // The six processed deliveries and the one that failed, within the last hour or two.
    let delivered = bars(chart("webhooks"), "s0");
    let failed = bars(chart("webhooks"), "s1");
    assert_eq!((delivered.len(), failed.len()), (48, 48));
    let recent = |bars: &[(f64, i64)]| bars[46].1 + bars[47].1;
    assert_eq!((recent(&delivered), recent(&failed)), (6, 1), "{delivered:?} {failed:?}");
    let max = delivered.iter().chain(&failed).map(|b| b.1).max().unwrap_or(1);
    assert!(proportional(&delivered, max) && proportional(&failed, max), "{delivered:?} {failed:?}");
    let html = chart("webhooks");
    assert!(html.contains("<title id=\"chart-webhooks-t\">") && html.contains("<desc id=\"chart-webhooks-d\">"));
    assert!(html.contains("<table class=\"sr-only\""), "the numbers as a table");
}
