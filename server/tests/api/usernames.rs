//! Generated usernames stay: written to Clerk in the background (and by
//! `generate-usernames --push`), given to users provisioned just in time, and never dropped by
//! an admin edit.

use crate::common;

use std::time::Duration;

use backend::db::users;
use common::{TestApp, clerk_cli::run, eventually};
use fake_clerk::{FakeClerk, Fault, TEST_WEBHOOK_SECRET, session_claims};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{Backend, TestDb};

testkit::each_backend!(
    backend:
    a_generated_username_reaches_clerk_and_survives_later_updates,
    a_user_provisioned_just_in_time_gets_a_username_too,
    an_admin_edit_never_drops_a_generated_username,
    generate_usernames_push_backfills_clerk_through_a_rate_limit,
);

const GENERATE: (&str, &str) = ("CLERK_AUTO_GENERATE_USERNAME", "true");
const WEBHOOKS: (&str, &str) = ("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET);

async fn username(app: &TestApp, clerk_id: &str) -> Option<String> {
    users::find_by_clerk_id(&app.db, &clerk_id.into()).await.expect("query").and_then(|u| u.username)
}

/// Waits until Clerk holds `expected` as the user's username.
async fn clerk_has(clerk: &FakeClerk, clerk_id: &str, expected: &str) -> bool {
    eventually(Duration::from_secs(10), || async { clerk.user(clerk_id).is_some_and(|u| u["username"] == expected) })
        .await
}

async fn a_generated_username_reaches_clerk_and_survives_later_updates(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let alice = fake_clerk::user("user_alice", "alice@example.com", "Alice", "A");
    clerk.put_user(alice.clone());
    let app = TestApp::with_clerk(backend, &clerk, &[GENERATE, WEBHOOKS]).await;
    assert_eq!(app.deliver("user.created", &alice).await.0, StatusCode::OK);
    let generated = username(&app, "user_alice").await.expect("generated");
    assert!(generated.starts_with("user_"), "{generated}");

    assert!(clerk_has(&clerk, "user_alice", &generated).await, "written to Clerk");
    let patch = clerk.requests("/v1/users/user_alice").into_iter().find(|r| r.method == "PATCH").expect("a PATCH");
    assert_eq!(patch.body, Some(json!({ "username": generated })));
    // The pusher marks the row done after Clerk answers, so that mark can trail Clerk's copy.
    let pushed = eventually(Duration::from_secs(10), || async {
        users::pending_username_pushes(&app.db, ids::UserId(0), 10).await.expect("query").is_empty()
    });
    assert!(pushed.await, "the push is marked done");

    // Clerk's next user.updated carries it now.
    let mut renamed = clerk.user("user_alice").expect("user");
    renamed["first_name"] = json!("Alicia");
    renamed["updated_at"] = json!(renamed["updated_at"].as_i64().unwrap_or_default() + 1);
    assert_eq!(app.deliver("user.updated", &renamed).await.0, StatusCode::OK);
    let row = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").expect("row");
    assert_eq!((row.first_name.as_str(), row.username.as_deref()), ("Alicia", Some(generated.as_str())));

    // One that lacks it (sent before Clerk had it, say) does not erase it either.
    let mut without = renamed.clone();
    without["username"] = Value::Null;
    without["updated_at"] = json!(renamed["updated_at"].as_i64().unwrap_or_default() + 1);
    assert_eq!(app.deliver("user.updated", &without).await.0, StatusCode::OK);
    assert_eq!(username(&app, "user_alice").await, Some(generated));
}

async fn a_user_provisioned_just_in_time_gets_a_username_too(backend: Backend) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_bob", "bob@example.com", "Bob", "B"));
    let app = TestApp::with_clerk(backend, &clerk, &[GENERATE]).await;
    let res = app.me_bearer(&clerk.mint(&session_claims("user_bob"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let generated = username(&app, "user_bob").await.expect("provisioned with a username");
    assert!(clerk_has(&clerk, "user_bob", &generated).await, "written to Clerk");
}

async fn an_admin_edit_never_drops_a_generated_username(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let carol = fake_clerk::user("user_carol", "carol@example.com", "Carol", "C");
    clerk.put_user(carol.clone());
    let app = TestApp::with_clerk(backend, &clerk, &[GENERATE, WEBHOOKS]).await;
    assert_eq!(app.deliver("user.created", &carol).await.0, StatusCode::OK);
    let row = users::find_by_clerk_id(&app.db, &"user_carol".into()).await.expect("query").expect("row");
    let generated = row.username.clone().expect("generated");
    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    let id = row.id.to_string();
    let form = |username: &'static str| {
        vec![
            ("id", id.clone()),
            ("first_name", "Caroline".into()),
            ("last_name", "C".into()),
            ("username", username.into()),
            ("is_active", "on".into()),
        ]
    };

    let cleared = app.admin_post("/api/admin/user-update", Some(&cookie), &as_refs(&form(""))).await;
    assert_eq!(cleared.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = cleared.json().await.expect("json");
    assert_eq!(body["Validation"][0]["field"], "username");

    // Clerk likely lacks the name still (it is pushed every 2 s): its answer to the rename then
    // has none, and the stored one stays.
    let mut form = form("");
    form[3].1 = generated.clone();
    let res = app.admin_post("/api/admin/user-update", Some(&cookie), &as_refs(&form)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let after = users::find_by_id(&app.db, row.id).await.expect("query").expect("row");
    assert_eq!((after.first_name.as_str(), after.username), ("Caroline", Some(generated)));
}

fn as_refs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn generate_usernames_push_backfills_clerk_through_a_rate_limit(backend: Backend) {
    let clerk = FakeClerk::start().await;
    for i in 0..30 {
        let id = format!("user_{i:05}");
        clerk.put_user(fake_clerk::user(&id, &format!("{id}@example.com"), "P", &format!("{i}")));
    }
    let db = TestDb::new(backend).await.expect("db");
    assert!(run(&clerk, &db, &["sync-users"]).await.status.success());
    clerk.fail_times("/v1/users/user_00010", Fault::RateLimited { retry_after_secs: 1 }, 2);

    let out = run(&clerk, &db, &["generate-usernames", "--prefix", "member", "--push"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("30 usernames generated\n30 pushed to Clerk"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("waiting"), "the 429 was waited out");
    for i in 0..30 {
        let id = format!("user_{i:05}");
        let local = users::find_by_clerk_id(&db.db, &id.as_str().into()).await.expect("query").and_then(|u| u.username);
        let local = local.expect("generated");
        assert!(local.starts_with("member_"));
        assert_eq!(clerk.user(&id).expect("user")["username"], local.as_str(), "{id}");
    }
    let again = run(&clerk, &db, &["generate-usernames", "--prefix", "member", "--push"]).await;
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("0 usernames generated\n0 pushed"));
}
