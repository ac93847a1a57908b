//! Staff login over HTTP: credentials, lockout, session cycling, logout, who may see the admin,
//! and CSRF refusal of cross-site writes.

use crate::common;

use common::{
    TestApp, server_session_cookie,
    staff::{PASSWORD, StaffCookie},
};
use fake_clerk::{FakeClerk, session_claims};
use reqwest::StatusCode;
use testkit::Backend;

testkit::each_backend!(
    backend:
    a_staff_member_logs_in_and_sees_the_dashboard,
    a_wrong_password_and_an_unknown_email_get_the_same_answer,
    a_login_form_posted_without_javascript_redirects_to_next_or_back_with_the_error,
    five_failures_for_one_email_lock_it_out_even_with_the_right_password,
    twenty_failures_from_one_ip_lock_that_ip_out,
    login_cycles_the_session_id_and_the_old_id_stops_working,
    logout_deletes_the_server_session,
    anonymous_and_non_staff_visitors_are_redirected_to_login_with_next,
    admin_server_functions_refuse_non_staff_with_403,
    cross_site_posts_are_refused_and_change_nothing,
    a_clerk_user_marked_staff_may_use_the_admin_through_their_clerk_session,
);

fn location(res: &reqwest::Response) -> String {
    res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

async fn error_text(res: reqwest::Response) -> String {
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    body.as_object().and_then(|o| o.values().next()).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
}

async fn a_staff_member_logs_in_and_sees_the_dashboard(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("Boss@Example.com", true).await;
    let cookie = app.staff_login("boss@example.com").await;
    let res = app.admin_page("/admin", &cookie).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.expect("html");
    assert!(html.contains("Dashboard") && html.contains("active users"), "{html}");
    // The header names the staff member rather than offering a Clerk sign-in.
    assert!(html.contains(r#"data-testid="header-staff""#) && html.contains("Boss@Example.com · staff</a>"), "{html}");
    assert!(!html.contains("sign-in-link"), "{html}");
    let home = app.admin_page("/", &cookie).await.text().await.expect("html");
    assert!(home.contains(r#"data-testid="header-staff""#), "on the public pages too: {home}");
    // The login is recorded on the account.
    let user = backend::db::staff_accounts::active_staff(&app.db, ids::UserId(1)).await.expect("query").expect("staff");
    assert!(user.last_login.is_some());
}

async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("boss@example.com", false).await;
    let wrong = app.staff_login_with("boss@example.com", "not the password at all", None).await;
    let unknown = app.staff_login_with("nobody@example.com", PASSWORD, None).await;
    assert_eq!((wrong.status(), unknown.status()), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert!(server_session_cookie(&wrong).is_none() && server_session_cookie(&unknown).is_none());
    let (wrong, unknown) = (error_text(wrong).await, error_text(unknown).await);
    assert_eq!(wrong, "Invalid email or password.");
    assert_eq!(wrong, unknown, "no user enumeration");
}

async fn a_login_form_posted_without_javascript_redirects_to_next_or_back_with_the_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("boss@example.com", false).await;
    let post = |password: &'static str| {
        app.client
            .post(app.url("/admin/login"))
            .header("origin", &app.base)
            .header("accept", "text/html")
            .header("referer", app.url("/admin/login?next=%2Fadmin%2Fusers"))
            .form(&[("email", "boss@example.com"), ("password", password), ("next", "/admin/users?q=ada")])
            .send()
    };
    let failed = post("wrong password here").await.expect("request");
    assert!(failed.status().is_redirection());
    let back = location(&failed);
    assert!(back.starts_with(&app.url("/admin/login?next=%2Fadmin%2Fusers")) && back.contains("__err="), "{back}");
    let page = app.client.get(&back).send().await.expect("request").text().await.expect("html");
    assert!(page.contains("Invalid email or password."), "the error is rendered on the server");

    let ok = post(PASSWORD).await.expect("request");
    assert!(ok.status().is_redirection());
    assert_eq!(location(&ok), "/admin/users?q=ada");
    assert!(server_session_cookie(&ok).is_some());
}

async fn five_failures_for_one_email_lock_it_out_even_with_the_right_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("boss@example.com", false).await;
    for _ in 0..5 {
        let res = app.staff_login_with("boss@example.com", "wrong password here", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.staff_login_with("boss@example.com", PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(server_session_cookie(&res).is_none());
    assert!(error_text(res).await.contains("Try again in 15 minutes"));
    // Another account from the same IP is unaffected.
    app.create_staff("other@example.com", false).await;
    assert_eq!(app.staff_login_with("other@example.com", PASSWORD, None).await.status(), StatusCode::OK);
}

async fn twenty_failures_from_one_ip_lock_that_ip_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("boss@example.com", false).await;
    for i in 0..20 {
        let res = app.staff_login_with(&format!("guess{i}@example.com"), "wrong password here", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let res = app.staff_login_with("boss@example.com", PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn login_cycles_the_session_id_and_the_old_id_stops_working(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("boss@example.com", false).await;
    let first = app.staff_login("boss@example.com").await;
    let again = app.staff_login_with("boss@example.com", PASSWORD, Some(&first.0)).await;
    assert_eq!(again.status(), StatusCode::OK);
    let second = StaffCookie(server_session_cookie(&again).expect("a new cookie"));
    assert_ne!(first, second, "the session id changes at login");
    assert_eq!(app.admin_page("/admin", &second).await.status(), StatusCode::OK);
    let old = app.admin_page("/admin", &first).await;
    assert!(old.status().is_redirection() && location(&old).starts_with("/admin/login"), "the old id is no session");
}

async fn logout_deletes_the_server_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    let sessions = || async {
        backend::on_pool!(&app.db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM tower_sessions").fetch_one(pool).await).expect("count")
    };
    assert_eq!(sessions().await, 1);
    let res = app.admin_post("/admin/logout", Some(&cookie), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(sessions().await, 0, "the store row is gone");
    let after = app.admin_page("/admin/users", &cookie).await;
    assert!(after.status().is_redirection() && location(&after).starts_with("/admin/login"));
}

async fn anonymous_and_non_staff_visitors_are_redirected_to_login_with_next(backend: Backend) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "L"));
    let app = TestApp::with_clerk(backend, &clerk, &[]).await;
    let res = app.get("/admin/users?q=ada&page=2").await;
    assert!(res.status().is_redirection());
    assert_eq!(location(&res), "/admin/login?next=%2Fadmin%2Fusers%3Fq%3Dada%26page%3D2");
    for path in ["/admin", "/admin/users/1", "/admin/orgs", "/admin/orgs/1", "/admin/audit"] {
        let res = app.get(path).await;
        assert!(res.status().is_redirection() && location(&res).starts_with("/admin/login?next="), "{path}");
    }
    // A signed-in Clerk user who is not staff is sent to the login page too.
    let token = clerk.mint(&session_claims("user_alice"));
    let res = app.get_signed_in("/admin", &token).await;
    assert!(res.status().is_redirection() && location(&res).starts_with("/admin/login"));
    // The login page itself is open.
    assert_eq!(app.get("/admin/login").await.status(), StatusCode::OK);
}

async fn admin_server_functions_refuse_non_staff_with_403(backend: Backend) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "L"));
    let app = TestApp::with_clerk(backend, &clerk, &[]).await;
    let token = clerk.mint(&session_claims("user_alice"));
    for path in ["/api/admin/users", "/api/admin/dashboard", "/api/admin/audit", "/api/admin/orgs"] {
        let signed_in = app
            .client
            .post(app.url(path))
            .header("origin", &app.base)
            .header("cookie", common::clerk_cookies(&token))
            .form(&[("q", "")])
            .send()
            .await
            .expect("request");
        assert_eq!(signed_in.status(), StatusCode::FORBIDDEN, "{path} for a non-staff Clerk user");
        assert_eq!(app.admin_post(path, None, &[]).await.status(), StatusCode::FORBIDDEN, "{path} anonymously");
    }
    let edit = app.admin_post("/api/admin/user-update", None, &[("id", "1"), ("first_name", "X")]).await;
    assert_eq!(edit.status(), StatusCode::FORBIDDEN);
}

async fn cross_site_posts_are_refused_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let boss = app.create_staff("boss@example.com", true).await;
    let cookie = app.staff_login("boss@example.com").await;
    let forged = |origin: Option<&'static str>| {
        let mut req = app.client.post(app.url("/api/admin/user-update")).header("cookie", &cookie.0).form(&[
            ("id", boss.id.to_string()),
            ("first_name", "Mallory".into()),
            ("is_active", "on".into()),
            ("is_staff", "on".into()),
        ]);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        req.send()
    };
    for origin in [Some("https://evil.example"), Some("null"), None] {
        let res = forged(origin).await.expect("request");
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "origin {origin:?}");
    }
    let logout = app
        .client
        .post(app.url("/admin/logout"))
        .header("cookie", &cookie.0)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("request");
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);
    let row = backend::db::users::find_by_id(&app.db, boss.id).await.expect("query").expect("row");
    assert_eq!(row.first_name, "", "nothing changed");
    assert_eq!(app.admin_page("/admin", &cookie).await.status(), StatusCode::OK, "still logged in");
    // The same request from our own origin goes through.
    let ok = app
        .admin_post(
            "/api/admin/user-update",
            Some(&cookie),
            &[
                ("id", &boss.id.to_string()),
                ("first_name", "Boss"),
                ("is_active", "on"),
                ("is_staff", "on"),
                ("is_superuser", "on"),
            ],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
}

async fn a_clerk_user_marked_staff_may_use_the_admin_through_their_clerk_session(backend: Backend) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "L"));
    let app = TestApp::with_clerk(backend, &clerk, &[]).await;
    let token = clerk.mint(&session_claims("user_alice"));
    assert_eq!(app.me_bearer(&token).await.status(), StatusCode::OK, "provisioned");
    backend::on_writer!(&app.db, pool => sqlx::query("UPDATE users SET is_staff = TRUE WHERE clerk_id = 'user_alice'").execute(pool).await.map(|_| ())).expect("update");
    app.auth.directory.invalidate_user(&"user_alice".into()).await;
    let res = app.get_signed_in("/admin", &token).await;
    assert_eq!(res.status(), StatusCode::OK);
    // It has no password, so it cannot use the password login.
    assert_eq!(app.staff_login_with("alice@example.com", PASSWORD, None).await.status(), StatusCode::UNAUTHORIZED);
}
