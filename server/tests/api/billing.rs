//! Clerk Billing through its webhooks: every event type of the pinned `@clerk/backend` lands in
//! `subscriptions` / `subscription_items`, deliveries in any order and duplicated converge, an
//! older event changes nothing, and an ended item stays ended.

use crate::common;

use backend::db::billing::{self, Payer};
use common::TestApp;
use fake_clerk::{TEST_WEBHOOK_SECRET, billing as fake, webhook_sent_at};
use reqwest::StatusCode;
use serde_json::Value;
use testkit::Backend;

testkit::each_backend!(
    backend:
    every_billing_event_type_lands_in_its_rows,
    shuffled_duplicated_billing_deliveries_converge,
    an_older_billing_event_changes_nothing_and_ended_stays_ended,
);

const T0: i64 = 1_800_000_000_000;

async fn app(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)]).await
}

/// Delivers `data` as `event_type`, sent at `at` (ms); returns the recorded status.
async fn send(app: &TestApp, id: &str, event_type: &str, data: &Value, at: i64) -> String {
    let (status, body) = app.post_webhook(&webhook_sent_at(TEST_WEBHOOK_SECRET, id, event_type, data, at)).await;
    assert_eq!(status, StatusCode::OK, "{event_type}: {body}");
    body["status"].as_str().unwrap_or_default().to_owned()
}

async fn item_status(app: &TestApp, id: &str) -> Option<String> {
    billing::item(&app.db, id).await.expect("query").map(|i| i.status)
}

async fn every_billing_event_type_lands_in_its_rows(backend: Backend) {
    let app = app(backend).await;
    let pro = fake::plan("cplan_pro", "pro", "Pro", 2_000);
    let handled: Vec<&str> = backend::webhooks::ClerkEvent::handled()
        .filter(|n| n.starts_with("subscription") || n.starts_with("paymentAttempt"))
        .collect();
    assert_eq!(handled.len(), 16, "{handled:?}");
    let mut at = T0;
    for (i, event_type) in handled.iter().enumerate() {
        at += 1_000;
        let id = format!("msg_billing_{i}");
        match *event_type {
            t if t.starts_with("subscriptionItem.") => {
                // `pastDue` → `past_due`, `freeTrialEnding` keeps the item active.
                let status = match &t["subscriptionItem.".len()..] {
                    "pastDue" => "past_due",
                    "freeTrialEnding" | "created" | "updated" => "active",
                    other => other,
                };
                let item_id = format!("csub_item_{i}");
                let item = fake::subscription_item(&item_id, &pro, status, "user_alice", at);
                assert_eq!(send(&app, &id, t, &item, at).await, "processed", "{t}");
                assert_eq!(item_status(&app, &item_id).await.as_deref(), Some(status), "{t}");
                let row = billing::item(&app.db, &item_id).await.expect("query").expect("row");
                assert_eq!(
                    (row.plan_slug.as_str(), row.amount, row.payer_user_clerk_id.as_deref()),
                    ("pro", Some(2_000), Some("user_alice"))
                );
            }
            t if t.starts_with("subscription.") => {
                let status = if t.ends_with("pastDue") { "past_due" } else { "active" };
                let item_id = format!("csub_item_s{i}");
                let items = vec![fake::subscription_item(&item_id, &pro, status, "org_acme", at)];
                let sub_id = format!("csub_{i}");
                let sub = fake::subscription(&sub_id, "org_acme", status, items, at);
                assert_eq!(send(&app, &id, t, &sub, at).await, "processed", "{t}");
                let stored = billing::subscription_status(&app.db, &sub_id).await.expect("query");
                assert_eq!(stored, Some((status.to_owned(), at)), "{t}");
                let row = billing::item(&app.db, &item_id).await.expect("query").expect("item row");
                assert_eq!(
                    (row.subscription_clerk_id.as_deref(), row.payer_org_clerk_id.as_deref()),
                    (Some(sub_id.as_str()), Some("org_acme"))
                );
            }
            t => {
                let item_id = format!("csub_item_p{i}");
                let items = vec![fake::subscription_item(&item_id, &pro, "active", "user_bob", at)];
                let attempt = fake::payment_attempt(&format!("cpa_{i}"), "user_bob", "paid", items, at);
                assert_eq!(send(&app, &id, t, &attempt, at).await, "processed", "{t}");
                assert_eq!(item_status(&app, &item_id).await.as_deref(), Some("active"), "{t}");
            }
        }
    }
    let alice = billing::items_of(&app.db, &Payer { user: Some("user_alice".into()), org: None }).await.expect("items");
    assert_eq!(alice.len(), 10, "one item per subscriptionItem event");
    let counts = billing::counts_by_plan(&app.db).await.expect("counts");
    assert!(
        counts.iter().any(|c| c.slug == "pro" && c.name == "Pro" && c.status == "active" && c.items >= 4),
        "{counts:?}"
    );
}

/// One item's life (active → past_due → active → canceled → ended) and its subscription's,
/// delivered in many orders with duplicates: the rows end as the last version says.
async fn shuffled_duplicated_billing_deliveries_converge(backend: Backend) {
    let pro = fake::plan("cplan_pro", "pro", "Pro", 2_000);
    let steps = [
        ("active", "subscriptionItem.active"),
        ("past_due", "subscriptionItem.pastDue"),
        ("active", "subscriptionItem.active"),
        ("canceled", "subscriptionItem.canceled"),
        ("ended", "subscriptionItem.ended"),
    ];
    let mut events: Vec<(String, String, Value, i64)> = steps
        .iter()
        .enumerate()
        .map(|(i, (status, t))| {
            let at = T0 + i as i64 * 1_000;
            (
                format!("msg_item_{i}"),
                (*t).to_owned(),
                fake::subscription_item("csub_item_1", &pro, status, "user_alice", T0),
                at,
            )
        })
        .collect();
    for (i, status) in ["active", "past_due", "active"].iter().enumerate() {
        let at = T0 + 500 + i as i64 * 1_000;
        let sub = fake::subscription("csub_1", "user_alice", status, vec![], at);
        events.push((format!("msg_sub_{i}"), "subscription.updated".into(), sub, at));
    }
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..4 {
        let app = app(backend).await;
        let mut order: Vec<usize> = (0..events.len()).chain(0..events.len()).collect(); // each twice
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        for &i in &order {
            let (id, t, data, at) = &events[i];
            send(&app, id, t, data, *at).await;
        }
        assert_eq!(item_status(&app, "csub_item_1").await.as_deref(), Some("ended"), "round {round}: {order:?}");
        let sub = billing::subscription_status(&app.db, "csub_1").await.expect("query");
        assert_eq!(sub, Some(("active".into(), T0 + 2_500)), "round {round}");
    }
}

async fn an_older_billing_event_changes_nothing_and_ended_stays_ended(backend: Backend) {
    let app = app(backend).await;
    let pro = fake::plan("cplan_pro", "pro", "Pro", 2_000);
    let item = |status: &str| fake::subscription_item("csub_item_9", &pro, status, "user_alice", T0);
    assert_eq!(send(&app, "m1", "subscriptionItem.pastDue", &item("past_due"), T0 + 5_000).await, "processed");
    assert_eq!(send(&app, "m2", "subscriptionItem.active", &item("active"), T0 + 1_000).await, "stale");
    assert_eq!(item_status(&app, "csub_item_9").await.as_deref(), Some("past_due"));
    assert_eq!(send(&app, "m3", "subscriptionItem.ended", &item("ended"), T0 + 6_000).await, "processed");
    assert_eq!(send(&app, "m4", "subscriptionItem.active", &item("active"), T0 + 9_000).await, "stale");
    assert_eq!(item_status(&app, "csub_item_9").await.as_deref(), Some("ended"));
    // The same delivery again is a duplicate, whatever it says.
    let (_, again) = app
        .post_webhook(&webhook_sent_at(TEST_WEBHOOK_SECRET, "m3", "subscriptionItem.ended", &item("ended"), T0 + 6_000))
        .await;
    assert_eq!(again["status"], "duplicate");
}

/// The admin: a user's items on their page, counts by plan on `/admin/plans`, and a superuser's
/// cancel at period end written through to Clerk, mirrored and audited; plain staff may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_shows_billing_and_a_superuser_cancels_at_period_end() {
    let clerk = fake_clerk::FakeClerk::start().await;
    let app =
        TestApp::with_clerk(Backend::Sqlite, &clerk, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)]).await;
    let alice = fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell");
    let stored = app.mirror(&alice).await;
    let pro = fake::plan("cplan_pro", "pro", "Pro", 2_000);
    // A minute ago: Clerk's answer to the cancel is newer.
    let at = fake_clerk::now_millis() - 60_000;
    let item = fake::subscription_item("csub_item_a", &pro, "active", "user_alice", at);
    send(&app, "msg_a", "subscriptionItem.active", &item, at).await;
    let mut api_item = item.clone();
    api_item["updated_at"] = serde_json::json!(at);
    clerk.put_subscription_item(api_item);

    app.create_staff("root@example.com", true).await;
    app.create_staff("staff@example.com", false).await;
    let root = app.staff_login("root@example.com").await;
    let staff = app.staff_login("staff@example.com").await;
    let id = stored.id.0.to_string();
    let billing = app.admin_json("/api/admin/billing", &root, &[("kind", "user"), ("id", &id)]).await;
    assert_eq!(billing["items"][0]["plan"], "Pro (pro)");
    assert_eq!(billing["items"][0]["status"], "active");
    let counts = app.admin_json("/api/admin/plans", &root, &[]).await;
    // Known only from its items (no sync yet): no payer type.
    assert_eq!(counts, serde_json::json!([["Pro", "", "active", 1]]));
    let page = app.admin_page("/admin/plans", &root).await;
    assert_eq!(page.status(), StatusCode::OK);

    let refused = app.admin_post("/api/admin/billing-cancel", Some(&staff), &[("id", "csub_item_a")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(clerk.requests("/v1/billing").is_empty(), "nothing reached Clerk");
    let done = app.admin_json("/api/admin/billing-cancel", &root, &[("id", "csub_item_a")]).await;
    assert_eq!(done, "canceled");
    let sent = clerk.requests("/v1/billing/subscription_items/csub_item_a");
    assert_eq!(sent.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(), ["DELETE"]);
    assert_eq!(item_status(&app, "csub_item_a").await.as_deref(), Some("canceled"));
    let audit = backend::db::audit_log::list(&app.db, 1).await.expect("audit").items;
    assert!(audit.iter().any(|e| e.action == "subscription_item.cancel" && e.object_id == "csub_item_a"), "{audit:?}");
    // Twice is refused, and Clerk is not asked again.
    let again = app.admin_post("/api/admin/billing-cancel", Some(&root), &[("id", "csub_item_a")]).await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert_eq!(clerk.requests("/v1/billing").len(), 1);
}

/// `server sync-billing`: Clerk's plans, then every mirrored user's and organization's
/// subscription, a page of 200 payers at a time, waiting out a 429, and `--dry-run` writing nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_billing_mirrors_every_payers_subscription() {
    let clerk = fake_clerk::FakeClerk::start().await;
    let db = testkit::TestDb::new(Backend::Sqlite).await.expect("db");
    let at = fake_clerk::now_millis() - 60_000;
    for i in 0..250 {
        let id = format!("user_{i:05}");
        let user = fake_clerk::user(&id, &format!("{id}@example.com"), "First", "Last");
        clerk.put_user(user);
        if i % 5 == 0 {
            let item = fake::api_subscription_item(&format!("csub_item_{i}"), "pro", "Pro", 2_000, "active", at);
            clerk.put_billing_subscription(&id, fake::api_subscription(&format!("csub_{i}"), "active", vec![item], at));
        }
    }
    let org = fake_clerk::organization("org_acme", "Acme", "acme");
    clerk.put_organization(org);
    // Three plans; nobody is on Enterprise, yet the admin lists it.
    clerk.put_billing_plan(fake::api_plan("pro", "Pro", 2_000, "user"));
    clerk.put_billing_plan(fake::api_plan("team", "Team", 9_900, "org"));
    clerk.put_billing_plan(fake::api_plan("enterprise", "Enterprise", 50_000, "org"));
    let item = fake::api_subscription_item("csub_item_acme", "team", "Team", 9_900, "past_due", at);
    clerk.put_billing_subscription("org_acme", fake::api_subscription("csub_acme", "past_due", vec![item], at));
    let out = common::clerk_cli::run(&clerk, &db, &["sync-users"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = common::clerk_cli::run(&clerk, &db, &["sync-orgs"]).await;
    assert!(out.status.success());

    let dry = common::clerk_cli::run(&clerk, &db, &["sync-billing", "--dry-run", "--json"]).await;
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    let summary: Value = serde_json::from_slice(&dry.stdout).expect("json");
    assert_eq!(
        (summary["fetched"].clone(), summary["dry_run"].clone()),
        (serde_json::json!(3 + 51), serde_json::json!(true))
    );
    assert!(billing::counts_by_plan(&db.db).await.expect("counts").is_empty(), "a dry run writes nothing");

    clerk.fail_times("/v1/users/user_00210/billing", fake_clerk::Fault::RateLimited { retry_after_secs: 1 }, 1);
    let started = std::time::Instant::now();
    let out = common::clerk_cli::run(&clerk, &db, &["sync-billing", "--json"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(summary["fetched"], 3 + 51);
    assert_eq!(summary["updated"], 3 + 51);
    assert_eq!(
        summary["requests"],
        2 + 250 + 1 + 1,
        "plans for users and orgs, every user, the org, the retry after 429"
    );
    // The fake filters by `payer_type` (without it each plan would be fetched twice): one call
    // for each payer type, in the dry run and in this one.
    assert_eq!(clerk.requests("/v1/billing/plans").len(), 2 + 2);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "Retry-After was honoured");
    let counts = billing::counts_by_plan(&db.db).await.expect("counts");
    let rows: Vec<(&str, &str, &str, i64)> =
        counts.iter().map(|c| (c.slug.as_str(), c.payer_type.as_str(), c.status.as_str(), c.items)).collect();
    assert_eq!(rows, [("enterprise", "org", "", 0), ("pro", "user", "active", 50), ("team", "org", "past_due", 1)]);
    let acme = billing::items_of(&db.db, &Payer { user: None, org: Some("org_acme".into()) }).await.expect("items");
    assert_eq!((acme[0].amount, acme[0].currency.as_str()), (Some(9_900), "USD"));
    // Again: nothing is newer.
    let again = common::clerk_cli::run(&clerk, &db, &["sync-billing", "--json"]).await;
    let summary: Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(
        (summary["updated"].clone(), summary["unchanged"].clone()),
        (serde_json::json!(0), serde_json::json!(3 + 51))
    );
}
