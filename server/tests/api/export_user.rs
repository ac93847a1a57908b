//! `server export-user`: every row about one person, and nothing about anyone else.

use crate::common;

use std::process::Command;

use backend::on_pool;
use common::TestApp;
use fake_clerk::{FakeClerk, TEST_WEBHOOK_SECRET};
use serde_json::{Value, json};
use testkit::Backend;

testkit::each_backend!(
    backend:
    export_user_holds_every_row_about_the_person_and_nothing_about_anyone_else,
    only_a_superuser_downloads_a_persons_data,
);

fn export(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("export-user")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", app.db_url.as_str())
        .output()
        .expect("server runs")
}

async fn audit(app: &TestApp, action: &str, object_type: &str, object_id: &str, changes: &str) {
    let sql = format!(
        "INSERT INTO audit_log (actor_user_id, action, object_type, object_id, changes, created_at) \
         VALUES (NULL, $1, $2, $3, '{changes}', $4)"
    );
    on_pool!(&app.db, pool => sqlx::query(&sql).bind(action).bind(object_type).bind(object_id).bind(chrono::Utc::now())
        .execute(pool).await.map(|_| ()))
    .expect("audit row");
}

async fn export_user_holds_every_row_about_the_person_and_nothing_about_anyone_else(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)]).await;
    let org = fake_clerk::organization("org_acme", "Acme", "acme");
    app.deliver("organization.created", &org).await;
    for (id, email, first, last) in
        [("user_alice", "alice@example.com", "Alice", "Liddell"), ("user_bob", "bob@example.com", "Bob", "Builder")]
    {
        let user = fake_clerk::user(id, email, first, last);
        assert_eq!(app.deliver("user.created", &user).await.1["status"], "processed");
        let membership = fake_clerk::membership(&format!("orgmem_{id}"), &org, &user, "org:member");
        assert_eq!(app.deliver("organizationMembership.created", &membership).await.1["status"], "processed");
        let invitation = json!({ "object": "organization_invitation", "id": format!("orginv_{id}"), "email_address": email,
            "role": "org:admin", "status": "pending", "organization_id": "org_acme", "created_at": 1, "updated_at": 1 });
        assert_eq!(app.deliver("organizationInvitation.created", &invitation).await.1["status"], "processed");
        let local = backend::db::users::find_by_clerk_id(&app.db, &id.into()).await.expect("query").expect("mirrored");
        audit(
            &app,
            "user.update",
            "user",
            &local.id.to_string(),
            &format!(r#"{{"last_name":{{"before":"{last}","after":"X"}}}}"#),
        )
        .await;
        audit(
            &app,
            "membership.update",
            "organization",
            "1",
            &format!(r#"{{"member":"{email}","role":{{"before":"org:member","after":"org:admin"}}}}"#),
        )
        .await;
    }

    let out = export(&app, &["--clerk-id", "user_alice"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let doc: Value = serde_json::from_str(&text).expect("one JSON document");
    assert_eq!(doc["user"]["email"], "alice@example.com");
    assert_eq!(doc["user"]["last_name"], "Liddell");
    assert_eq!(doc["memberships"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["memberships"][0]["organization"], "org_acme");
    assert_eq!(doc["invitations"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["invitations"][0]["email_address"], "alice@example.com");
    assert_eq!(doc["audit_log"].as_array().map(Vec::len), Some(2), "her account edit and her membership change");
    assert_eq!(doc["server_sessions"], 0);
    for other in ["bob", "Builder", "user_bob"] {
        assert!(!text.contains(other), "the export names someone else ({other}): {text}");
    }

    let by_email = export(&app, &["--email", "ALICE@example.com"]);
    assert!(by_email.status.success());
    assert_eq!(serde_json::from_slice::<Value>(&by_email.stdout).expect("json"), doc, "the same person by email");

    let unknown = export(&app, &["--clerk-id", "user_nobody"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(unknown.stdout.is_empty());
    assert_eq!(export(&app, &[]).status.code(), Some(2), "one of --clerk-id and --email is required");
}

async fn only_a_superuser_downloads_a_persons_data(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)]).await;
    let alice = fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell");
    app.deliver("user.created", &alice).await;
    let local =
        backend::db::users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").expect("mirrored");
    let path = format!("/admin/users/{}/export", local.id);

    app.create_staff("root@example.com", true).await;
    let root = app.staff_login("root@example.com").await;
    let res = app.admin_page(&path, &root).await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let disposition = res.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(disposition, format!("attachment; filename=\"user-{}.json\"", local.id));
    let doc: Value = res.json().await.expect("json");
    assert_eq!(doc["user"]["clerk_id"], "user_alice");
    let page = app.admin_page(&format!("/admin/users/{}", local.id), &root).await.text().await.expect("html");
    assert!(page.contains(&path), "the user page links the download for a superuser");

    app.create_staff("plain@example.com", false).await;
    let plain = app.staff_login("plain@example.com").await;
    assert_eq!(app.admin_page(&path, &plain).await.status(), reqwest::StatusCode::FORBIDDEN);
    let page = app.admin_page(&format!("/admin/users/{}", local.id), &plain).await.text().await.expect("html");
    assert!(!page.contains(&path), "no link for plain staff");
    assert_eq!(app.admin_page("/admin/users/999999/export", &root).await.status(), reqwest::StatusCode::NOT_FOUND);
    let anonymous = app.get(&path).await;
    assert_ne!(anonymous.status(), reqwest::StatusCode::OK, "anonymous visitors get no data");
}
