//! The admin's users over HTTP: search, filters and paging on 1,000 users, edits written
//! through to Clerk (and refused by it), local flags, the audit trail, and escaping.

use crate::common;

use backend::{
    clerk::mapping,
    db::{audit_log, users},
};
use common::{
    TestApp,
    staff::{self, StaffCookie},
};
use fake_clerk::{FakeClerk, Fault, TEST_WEBHOOK_SECRET};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Backend;

testkit::each_backend!(
    backend:
    search_filters_and_pages_over_a_thousand_users,
    an_edit_is_written_through_to_clerk_then_stored_and_audited,
    a_write_through_refused_by_clerk_changes_nothing_and_shows_clerks_message,
    invalid_fields_are_refused_beside_their_field_without_calling_clerk,
    only_a_superuser_changes_staff_access,
    a_user_deactivated_here_stays_inactive_after_clerk_updates,
    dev_mode_takes_the_write_locally,
    user_supplied_text_is_escaped_in_admin_pages,
    an_edit_made_under_impersonation_records_the_impersonator,
    a_value_clerk_holds_never_blocks_an_edit_of_another_field,
    a_page_that_shows_an_error_answers_with_its_status,
);

async fn list(app: &TestApp, cookie: &StaffCookie, form: &[(&str, &str)]) -> Value {
    app.admin_json("/api/admin/users", cookie, form).await
}

fn emails(list: &Value) -> Vec<String> {
    staff::column(list, "email")
}

async fn search_filters_and_pages_over_a_thousand_users(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("boss@example.com", true).await;
    let cookie = app.staff_login("boss@example.com").await;
    let mut tx = app.db.begin().await.expect("tx");
    for i in 0..1000 {
        let mut user = fake_clerk::user(
            &format!("user_{i:04}"),
            &format!("u{i:04}@example.com"),
            if i % 100 == 7 { "Grace" } else { "Ada" },
            &format!("Hopper{i}"),
        );
        user["banned"] = json!(i % 10 == 0);
        let fields = mapping::user_fields(&user).expect("maps");
        users::upsert_from_clerk_in(tx.conn(), &fields).await.expect("seed");
        if i % 50 == 1 {
            // Kept data (as CLERK_KEEP_DELETED_USER_DATA): the sort assertions below count these emails.
            users::tombstone_in(tx.conn(), &format!("user_{i:04}").into(), false).await.expect("tombstone");
        }
    }
    tx.commit().await.expect("commit");
    backend::on_writer!(&app.db, pool => sqlx::query("UPDATE users SET is_staff = TRUE WHERE clerk_id IN ('user_0003', 'user_0253')").execute(pool).await.map(|_| ())).expect("staff");

    let all = list(&app, &cookie, &[]).await;
    assert_eq!(
        (all["total"].as_i64(), all["pages"].as_i64(), all["rows"].as_array().map(Vec::len)),
        (Some(1001), Some(21), Some(50))
    );
    assert_eq!(emails(&all)[0], "u0999@example.com", "newest first");

    let grace = list(&app, &cookie, &[("q", "GRACE")]).await;
    assert_eq!(grace["total"], 10, "case-insensitive name search");
    assert!(emails(&grace).iter().all(|e| e.ends_with("07@example.com")));
    assert_eq!(list(&app, &cookie, &[("q", "user_0042")]).await["total"], 1, "by clerk_id");
    assert_eq!(list(&app, &cookie, &[("q", "hopper12")]).await["total"], 11, "by last name: 12 and 120–129");
    assert_eq!(list(&app, &cookie, &[("q", "u0500@")]).await["total"], 1, "by email");
    assert_eq!(list(&app, &cookie, &[("q", "%")]).await["total"], 0, "wildcards match literally");
    assert_eq!(list(&app, &cookie, &[("q", "9@")]).await["total"], 100, "under three characters: a scan");
    for query_syntax in ["\"", "a\"b", "hopper12 OR ada", "hop*", "NEAR(ada grace)"] {
        assert_eq!(list(&app, &cookie, &[("q", query_syntax)]).await["total"], 0, "{query_syntax} is literal text");
    }
    assert_eq!(
        list(&app, &cookie, &[("q", "ada hopper99")]).await["total"],
        11,
        "spaces are literal too: 99 and 990–999"
    );
    // A write outside a transaction (autocommitted through the pool) is found at once: SQLite's
    // index catches up later, and until then a search also reads the rows the triggers noted.
    // (Each query differs in case: the admin's read cache does not know about this write.)
    backend::on_writer!(&app.db, pool => sqlx::query("UPDATE users SET last_name = 'Zebedee' WHERE clerk_id = 'user_0005'")
        .execute(pool).await.map(|_| ()))
    .expect("rename");
    for (caught_up, new_name, old_name) in [(false, "zebedee", "hopper5"), (true, "ZEBEDEE", "HOPPER5")] {
        if caught_up {
            backend::db::search_index::catch_up(&app.db).await.expect("index");
        }
        assert_eq!(list(&app, &cookie, &[("q", new_name)]).await["total"], 1, "new name, caught up: {caught_up}");
        // 5, 50–59 and 500–599, without user_0005.
        assert_eq!(list(&app, &cookie, &[("q", old_name)]).await["total"], 110, "old name, caught up: {caught_up}");
    }
    if let backend::db::Db::Sqlite(_) = &app.db {
        let pending: i64 =
            backend::on_writer!(&app.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users_search_pending")
            .fetch_one(pool).await)
            .expect("pending");
        assert_eq!(pending, 0, "caught up");
    }

    // 100 banned, plus 20 deleted (tombstones are inactive); the staff account is active.
    assert_eq!(list(&app, &cookie, &[("active", "no")]).await["total"], 120);
    assert_eq!(list(&app, &cookie, &[("deleted", "yes")]).await["total"], 20);
    assert_eq!(list(&app, &cookie, &[("staff", "yes")]).await["total"], 3);
    assert_eq!(list(&app, &cookie, &[("active", "yes"), ("deleted", "no"), ("q", "grace")]).await["total"], 10);

    // Joined dates: user_0000–0099 in March 2024, 0100–0199 on 2024-04-01, the rest today.
    for (range, at) in [
        ("'user_0000' AND 'user_0099'", "2024-03-15T12:00:00Z"),
        ("'user_0100' AND 'user_0199'", "2024-04-01T23:59:59Z"),
    ] {
        let at: chrono::DateTime<chrono::Utc> = at.parse().expect("time");
        let sql = format!("UPDATE users SET created_at = $1 WHERE clerk_id BETWEEN {range}");
        backend::on_writer!(&app.db, pool => sqlx::query(&sql).bind(at).execute(pool).await.map(|_| ()))
            .expect("dates");
    }
    let joined = |from: &'static str, to: &'static str| [("joined_from", from), ("joined_to", to)];
    assert_eq!(list(&app, &cookie, &joined("2024-03-01", "2024-03-31")).await["total"], 100);
    assert_eq!(list(&app, &cookie, &joined("2024-04-01", "2024-04-01")).await["total"], 100, "both ends inclusive");
    assert_eq!(list(&app, &cookie, &joined("2024-03-16", "")).await["total"], 901, "open-ended");
    assert_eq!(list(&app, &cookie, &[("joined_to", "2024-03-31"), ("active", "no")]).await["total"], 12, "combined");
    let bad = app.admin_post("/api/admin/users", Some(&cookie), &[("joined_from", "31/12/2024")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json::<Value>().await.expect("json")["Validation"][0]["field"], "joined_from");

    let by_email = list(&app, &cookie, &[("sort", "email"), ("page", "3")]).await;
    assert_eq!(by_email["page"], 3);
    assert_eq!(emails(&by_email).first().map(String::as_str), Some("u0099@example.com"));
    let last = list(&app, &cookie, &[("page", "21")]).await;
    assert_eq!(last["rows"].as_array().map(Vec::len), Some(1));
    let beyond = list(&app, &cookie, &[("page", "99")]).await;
    assert_eq!((beyond["rows"].as_array().map(Vec::len), beyond["total"].as_i64()), (Some(0), Some(1001)));

    // Next reads on from the previous page's last row (keyset paging): page by page, the same
    // rows and total as by OFFSET, ties in `created_at` included.
    for sort in ["created", "email"] {
        let mut after = String::new();
        for page in 1..=21 {
            let page = page.to_string();
            let by_offset = list(&app, &cookie, &[("sort", sort), ("page", &page)]).await;
            let by_seek = list(&app, &cookie, &[("sort", sort), ("page", &page), ("after", &after)]).await;
            assert_eq!(
                (&by_seek["rows"], &by_seek["total"]),
                (&by_offset["rows"], &by_offset["total"]),
                "{sort}, page {page}"
            );
            after = by_seek["rows"]
                .as_array()
                .and_then(|rows| rows.last())
                .map(|row| row["id"].to_string())
                .unwrap_or_default();
        }
    }
    // A row that is gone (or never was) falls back to the page by OFFSET; a bad id is refused.
    let page_two = list(&app, &cookie, &[("page", "2")]).await;
    assert_eq!(list(&app, &cookie, &[("page", "2"), ("after", "99999999")]).await["rows"], page_two["rows"]);
    let bad = app.admin_post("/api/admin/users", Some(&cookie), &[("after", "x'; DROP TABLE users")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json::<Value>().await.expect("json")["Validation"][0]["field"], "after");

    // The page itself renders the query's results on the server, with links that keep it.
    let html = app.admin_page("/admin/users?q=grace&active=yes&page=1", &cookie).await.text().await.expect("html");
    assert!(html.contains("u0007@example.com") && !html.contains("u0008@example.com"));
    assert!(html.contains("10 total · page 1 of 1"), "{html}");
    // Without a search, Next names this page's last row; with one, it pages by number.
    let first = app.admin_page("/admin/users", &cookie).await.text().await.expect("html");
    let last_id = list(&app, &cookie, &[]).await["rows"][49]["id"].to_string();
    assert!(first.contains(&format!("?page=2&amp;after={last_id}\"")), "{first}");
    let searched = app.admin_page("/admin/users?q=ada", &cookie).await.text().await.expect("html");
    assert!(searched.contains("page=2\" rel=\"next\"") && !searched.contains("after="), "{searched}");
}

async fn setup_with_clerk(backend: Backend) -> (FakeClerk, TestApp, StaffCookie, users::User) {
    let clerk = FakeClerk::start().await;
    let mut alice = fake_clerk::user("user_alice", "alice@example.com", "Alice", "L");
    alice["username"] = json!("alice_l");
    clerk.put_user(alice.clone());
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)]).await;
    let row = app.mirror(&alice).await;
    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    (clerk, app, cookie, row)
}

fn edit_form<'a>(id: &'a str, first: &'a str, last: &'a str, username: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("id", id), ("first_name", first), ("last_name", last), ("username", username), ("is_active", "on")]
}

async fn an_edit_is_written_through_to_clerk_then_stored_and_audited(backend: Backend) {
    let (clerk, app, cookie, row) = setup_with_clerk(backend).await;
    let id = row.id.to_string();
    let res =
        app.admin_post("/api/admin/user-update", Some(&cookie), &edit_form(&id, "Alice", "Lovelace", "alice_l")).await;
    assert_eq!(res.status(), StatusCode::OK);

    let patches = clerk.requests("/v1/users/user_alice");
    let patch = patches.iter().find(|r| r.method == "PATCH").expect("a PATCH reached Clerk");
    assert_eq!(patch.body, Some(json!({ "last_name": "Lovelace" })), "only the changed Clerk-owned field");
    assert_eq!(clerk.user("user_alice").expect("user")["last_name"], "Lovelace");

    let stored = users::find_by_id(&app.db, row.id).await.expect("query").expect("row");
    assert_eq!(stored.last_name, "Lovelace");
    assert!(stored.clerk_updated_at >= row.clerk_updated_at);
    let audit = audit_log::for_object(&app.db, "user", &id, 10).await.expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "user.update");
    assert_eq!(audit[0].actor_email.as_deref(), Some("boss@example.com"));
    assert_eq!(audit[0].changes.0, json!({ "last_name": { "before": "L", "after": "Lovelace" } }));

    // The search index follows the rename.
    assert_eq!(list(&app, &cookie, &[("q", "lovelace")]).await["total"], 1);

    // A save that changes nothing calls nobody and records nothing.
    let before = clerk.requests("/v1/users").len();
    app.admin_post("/api/admin/user-update", Some(&cookie), &edit_form(&id, "Alice", "Lovelace", "alice_l")).await;
    assert_eq!(clerk.requests("/v1/users").len(), before);
    assert_eq!(audit_log::for_object(&app.db, "user", &id, 10).await.expect("audit").len(), 1);

    // The audit page lists it.
    let html = app.admin_page("/admin/audit", &cookie).await.text().await.expect("html");
    assert!(html.contains("user.update") && html.contains("Lovelace") && html.contains("boss@example.com"));
}

async fn a_write_through_refused_by_clerk_changes_nothing_and_shows_clerks_message(backend: Backend) {
    let (clerk, app, cookie, row) = setup_with_clerk(backend).await;
    let id = row.id.to_string();
    // Clerk refuses to clear the username (422, "Username is invalid.").
    let res = app.admin_post("/api/admin/user-update", Some(&cookie), &edit_form(&id, "Alicia", "L", "")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body, json!({ "ClerkRefused": "Username is invalid." }));
    assert_eq!(users::find_by_id(&app.db, row.id).await.expect("query").expect("row"), row, "row unchanged");
    assert!(audit_log::for_object(&app.db, "user", &id, 10).await.expect("audit").is_empty());

    // Any other 4xx carries Clerk's message too; posted without JavaScript, the page shows it.
    clerk.fail_times("/v1/users/user_alice", Fault::Status(422), 1);
    let res = app
        .client
        .post(app.url("/api/admin/user-update"))
        .header("origin", &app.base)
        .header("cookie", &cookie.0)
        .header("accept", "text/html")
        .header("referer", app.url(&format!("/admin/users/{id}")))
        .form(&edit_form(&id, "Alicia", "L", "alice_l"))
        .send()
        .await
        .expect("request");
    assert!(res.status().is_redirection());
    let back = res.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
    let html = app.admin_page(back.trim_start_matches(&app.base), &cookie).await.text().await.expect("html");
    assert!(html.contains("Clerk refused the change: injected failure"), "{html}");
    assert_eq!(users::find_by_id(&app.db, row.id).await.expect("query").expect("row").first_name, "Alice");
}

async fn invalid_fields_are_refused_beside_their_field_without_calling_clerk(backend: Backend) {
    let (clerk, app, cookie, row) = setup_with_clerk(backend).await;
    let id = row.id.to_string();
    let long = "x".repeat(300);
    let cases = [
        (edit_form(&id, &long, "L", "alice_l"), "first_name"),
        (edit_form(&id, "Alice", "L\u{7}", "alice_l"), "last_name"),
        (edit_form(&id, "Alice", "L", "a b"), "username"),
        (edit_form(&id, "Alice", "L", "abc"), "username"),
    ];
    for (form, field) in cases {
        let res = app.admin_post("/api/admin/user-update", Some(&cookie), &form).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["Validation"][0]["field"], field);
    }
    assert!(clerk.requests("/v1/users/user_alice").iter().all(|r| r.method != "PATCH"));
    assert_eq!(users::find_by_id(&app.db, row.id).await.expect("query").expect("row"), row);
    let missing = app.admin_post("/api/admin/user-update", Some(&cookie), &edit_form("999999", "A", "B", "")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

async fn only_a_superuser_changes_staff_access(backend: Backend) {
    let (_clerk, app, cookie, row) = setup_with_clerk(backend).await;
    let id = row.id.to_string();
    let mut form = edit_form(&id, "Alice", "L", "alice_l");
    form.push(("is_staff", "on"));
    let res = app.admin_post("/api/admin/user-update", Some(&cookie), &form).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!users::find_by_id(&app.db, row.id).await.expect("query").expect("row").is_staff);

    app.create_staff("root@example.com", true).await;
    let root = app.staff_login("root@example.com").await;
    assert_eq!(app.admin_post("/api/admin/user-update", Some(&root), &form).await.status(), StatusCode::OK);
    assert!(users::find_by_id(&app.db, row.id).await.expect("query").expect("row").is_staff);
}

async fn a_user_deactivated_here_stays_inactive_after_clerk_updates(backend: Backend) {
    let (clerk, app, cookie, row) = setup_with_clerk(backend).await;
    let id = row.id.to_string();
    let form = [("id", id.as_str()), ("first_name", "Alice"), ("last_name", "L"), ("username", "alice_l")];
    assert_eq!(app.admin_post("/api/admin/user-update", Some(&cookie), &form).await.status(), StatusCode::OK);
    assert!(clerk.requests("/v1/users/user_alice").iter().all(|r| r.method != "PATCH"), "a local field only");

    let mut newer = clerk.user("user_alice").expect("user");
    newer["first_name"] = json!("Ally");
    newer["updated_at"] = json!(fake_clerk::now_millis() + 1000);
    let (status, body) = app.deliver("user.updated", &newer).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("processed")));
    let stored = users::find_by_id(&app.db, row.id).await.expect("query").expect("row");
    assert_eq!((stored.first_name.as_str(), stored.is_active), ("Ally", false), "Clerk's names, our flag");
}

async fn dev_mode_takes_the_write_locally(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let row = app.mirror(&fake_clerk::user("user_dev", "dev@example.com", "Dev", "User")).await;
    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    let id = row.id.to_string();
    let res = app.admin_post("/api/admin/user-update", Some(&cookie), &edit_form(&id, "Devi", "User", "devi")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let stored = users::find_by_id(&app.db, row.id).await.expect("query").expect("row");
    assert_eq!((stored.first_name.as_str(), stored.username.as_deref()), ("Devi", Some("devi")));
    assert_eq!(audit_log::for_object(&app.db, "user", &id, 10).await.expect("audit").len(), 1);
}

async fn user_supplied_text_is_escaped_in_admin_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut evil = fake_clerk::user(
        "user_evil",
        "evil@example.com",
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)>",
    );
    evil["public_metadata"] = json!({ "note": "</pre><script>alert(3)</script>" });
    let row = app.mirror(&evil).await;
    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    for path in [format!("/admin/users/{}", row.id), "/admin/users?q=evil".to_owned()] {
        let html = app.admin_page(&path, &cookie).await.text().await.expect("html");
        assert!(html.contains("evil@example.com"), "{path}");
        assert!(!html.contains("<script>alert"), "{path}: a script tag from user data");
        assert!(!html.contains("<img src=x"), "{path}: markup from user data");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || html.contains("&lt;script>alert(1)&lt;/script>"),
            "{path}"
        );
    }
}

/// A Clerk user who is staff, impersonated from Clerk's dashboard (`act`), edits a user: the
/// audit entry names the impersonator beside the staff member.
async fn an_edit_made_under_impersonation_records_the_impersonator(backend: Backend) {
    let (clerk, app, _cookie, row) = setup_with_clerk(backend).await;
    let staff = fake_clerk::user("user_staff", "staff@example.com", "Sam", "Staff");
    clerk.put_user(staff.clone());
    let staff_row = app.mirror(&staff).await;
    backend::on_writer!(&app.db, pool => sqlx::query("UPDATE users SET is_staff = TRUE WHERE id = $1")
        .bind(staff_row.id).execute(pool).await.map(|_| ()))
    .expect("promote");
    let mut claims = fake_clerk::session_claims("user_staff");
    claims["act"] = json!({ "sub": "user_support", "sid": "sess_support" });
    let token = clerk.mint(&claims);
    let id = row.id.to_string();
    let res = app
        .client
        .post(app.url("/api/admin/user-update"))
        .header("origin", &app.base)
        .header("accept", "application/json")
        .bearer_auth(&token)
        .form(&edit_form(&id, "Alice", "Impersonated", "alice_l"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let audit = audit_log::for_object(&app.db, "user", &id, 10).await.expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_email.as_deref(), Some("staff@example.com"));
    assert_eq!(
        audit[0].changes.0,
        json!({ "last_name": { "before": "L", "after": "Impersonated" }, "impersonated_by": "user_support" })
    );
}

async fn a_value_clerk_holds_never_blocks_an_edit_of_another_field(backend: Backend) {
    let (clerk, app, cookie, _) = setup_with_clerk(backend).await;
    // An instance that allows 2-letter usernames.
    let mut bo = fake_clerk::user("user_bo", "bo@example.com", "Bo", "Li");
    bo["username"] = json!("bo");
    clerk.put_user(bo.clone());
    let row = app.mirror(&bo).await;
    let id = row.id.to_string();
    let res = app.admin_post("/api/admin/user-update", Some(&cookie), &edit_form(&id, "Bo", "Lindqvist", "bo")).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap_or_default());
    let patches: Vec<Value> = clerk
        .requests("/v1/users/user_bo")
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .filter_map(|r| r.body)
        .collect();
    assert_eq!(patches, vec![json!({ "last_name": "Lindqvist" })], "only what changed goes to Clerk");
    let stored = users::find_by_id(&app.db, row.id).await.expect("query").expect("row");
    assert_eq!((stored.last_name.as_str(), stored.username.as_deref()), ("Lindqvist", Some("bo")));
}

/// The server renders the error in place of the page, and the response carries its status:
/// pages and server functions alike, with no call site setting one.
async fn a_page_that_shows_an_error_answers_with_its_status(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("boss@example.com", true).await;
    let cookie = app.staff_login("boss@example.com").await;
    for path in ["/admin/users/999999", "/admin/orgs/424242"] {
        let res = app.admin_page(path, &cookie).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(res.text().await.expect("html").contains("Not found."), "{path}");
    }
    assert_eq!(app.admin_page("/admin/users", &cookie).await.status(), StatusCode::OK);
}
