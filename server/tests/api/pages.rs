//! The user-facing pages over HTTP: dev-mode sign-in, the account guard, ClerkJS with real keys.

use crate::common;

use common::{TestApp, server_session_cookie};
use fake_clerk::FakeClerk;
use reqwest::StatusCode;
use testkit::Backend;

testkit::each_backend!(
    backend:
    dev_sign_in_sets_a_real_token_that_the_normal_path_verifies,
    account_redirects_anonymous_visitors_to_sign_in,
    account_renders_the_user_on_the_server,
    dev_sign_in_never_signs_in_as_staff,
    dev_sign_in_rejects_a_bad_email_and_changes_nothing,
    with_a_publishable_key_the_shell_loads_clerk_js_from_its_frontend_api,
    dev_routes_do_not_exist_with_real_keys,
    the_header_says_who_is_impersonating,
    a_hydrated_call_gets_each_errors_own_status,
    dev_tokens_claim_the_configured_plans_and_features,
);

/// Posts the dev sign-in form as a browser without JavaScript would.
async fn dev_sign_in(app: &TestApp, email: &str, org: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/session/dev-sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .header("referer", app.url("/sign-in"))
        .body(format!("email={email}&first_name=Ada&last_name=Lovelace&org_name={org}&org_role=admin"))
        .send()
        .await
        .expect("request")
}

fn session_token(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__session=") && !v.starts_with("__session=;"))
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim_start_matches("__session=").to_owned())
}

async fn dev_sign_in_sets_a_real_token_that_the_normal_path_verifies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = dev_sign_in(&app, "ada%40example.com", "Analytical").await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers().get("location").and_then(|v| v.to_str().ok()), Some("/account"));
    let token = session_token(&res).expect("a __session cookie");
    let claims = backend::clerk::verify::unverified_claims(&token).expect("a JWT");
    assert_eq!(claims["exp"].as_i64().unwrap_or_default() - claims["iat"].as_i64().unwrap_or_default(), 60);
    assert_eq!(claims["o"]["rol"], "admin");

    let me: serde_json::Value = app.me_bearer(&token).await.json().await.expect("json");
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["first_name"], "Ada");
    assert_eq!(me["org"]["role"], "org:admin");
    assert_eq!(me["is_staff"], false);

    // A tampered dev token fails like any other.
    let forged = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(app.me_bearer(&forged).await.status(), StatusCode::UNAUTHORIZED);
}

/// `CLERK_DEV_PLANS` / `CLERK_DEV_FEATURES` put Clerk's `pla` / `fea` in dev tokens, so the plan
/// guard can be tried with no Clerk account; without them a dev user has no plan.
async fn dev_tokens_claim_the_configured_plans_and_features(backend: Backend) {
    async fn has_plan(app: &TestApp, token: &str, plan: &str) -> StatusCode {
        app.client
            .post(app.url("/api/examples/plan"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(format!("plan={plan}"))
            .send()
            .await
            .expect("request")
            .status()
    }
    let app = TestApp::spawn_with(backend, &[("CLERK_DEV_PLANS", "u:pro"), ("CLERK_DEV_FEATURES", "u:export")]).await;
    let token = session_token(&dev_sign_in(&app, "ada%40example.com", "").await).expect("signed in");
    let claims = backend::clerk::verify::unverified_claims(&token).expect("a JWT");
    assert_eq!((claims["pla"].as_str(), claims["fea"].as_str()), (Some("u:pro"), Some("u:export")));
    assert_eq!(has_plan(&app, &token, "pro").await, StatusCode::OK);
    assert_eq!(has_plan(&app, &token, "user:pro").await, StatusCode::OK);
    assert_eq!(has_plan(&app, &token, "org:pro").await, StatusCode::FORBIDDEN);
    assert_eq!(has_plan(&app, &token, "team").await, StatusCode::FORBIDDEN);

    let plain = TestApp::spawn(backend).await;
    let token = session_token(&dev_sign_in(&plain, "ada%40example.com", "").await).expect("signed in");
    assert!(backend::clerk::verify::unverified_claims(&token).expect("a JWT").get("pla").is_none());
    assert_eq!(has_plan(&plain, &token, "pro").await, StatusCode::FORBIDDEN);
}

async fn account_redirects_anonymous_visitors_to_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.client.get(app.url("/account")).header("accept", "text/html").send().await.expect("request");
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers().get("location").and_then(|v| v.to_str().ok()), Some("/sign-in"));
    // A bad token is not signed in either.
    let res = app
        .client
        .get(app.url("/account"))
        .header("cookie", "__session=not.a.token; __client_uat=1700000000")
        .send()
        .await
        .expect("request");
    assert!(res.status().is_redirection(), "{}", res.status());
}

async fn account_renders_the_user_on_the_server(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let signed_in = dev_sign_in(&app, "ada%40example.com", "").await;
    let token = session_token(&signed_in).expect("token");
    let res = app.get_signed_in("/account", &token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let session = server_session_cookie(&res);
    let html = res.text().await.expect("body");
    assert!(html.contains("Ada Lovelace"), "{html}");
    assert!(html.contains("ada@example.com"));
    assert!(html.contains("data-testid=\"dev-banner\""), "the dev banner is on every page");
    assert!(session.is_some(), "the browser gets a server session");
}

async fn dev_sign_in_never_signs_in_as_staff(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = session_token(&dev_sign_in(&app, "boss%40example.com", "").await).expect("a user, not staff yet");
    let clerk_id = backend::devmode::dev_id("user", "boss@example.com");
    backend::on_writer!(&app.db, pool => sqlx::query("UPDATE users SET is_staff = TRUE WHERE clerk_id = $1")
        .bind(&clerk_id).execute(pool).await.map(|_| ()))
    .expect("promote");
    let res = dev_sign_in(&app, "boss%40example.com", "").await;
    assert_eq!(session_token(&res), None, "no token for a staff account");
    // Nor a refreshed or re-scoped one for the token minted before the promotion.
    for (path, body) in [("/api/session/refresh", ""), ("/api/session/switch-org", "org_id=")] {
        let res = app
            .client
            .post(app.url(path))
            .header("origin", &app.base)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("__session={first}; __client_uat=1700000000"))
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(session_token(&res), None, "{path} mints nothing for a staff account");
    }
}

async fn dev_sign_in_rejects_a_bad_email_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for email in ["", "not-an-email", "a%20b%40example.com", "%40example.com"] {
        let res = dev_sign_in(&app, email, "").await;
        assert_eq!(session_token(&res), None, "{email}");
    }
    assert_eq!(backend::db::users::count(&app.db).await.expect("count"), 0);
}

async fn with_a_publishable_key_the_shell_loads_clerk_js_from_its_frontend_api(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let pk = "pk_test_YWxsb3dlZC1sZW1taW5nLTkuY2xlcmsuYWNjb3VudHMuZGV2JA";
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_PUBLISHABLE_KEY", pk)]).await;
    let html = app.get("/").await.text().await.expect("body");
    assert!(
        html.contains(
            "src=\"https://allowed-lemming-9.clerk.accounts.dev/npm/@clerk/clerk-js@5/dist/clerk.browser.js\""
        ),
        "{html}"
    );
    assert!(html.contains(&format!("data-clerk-publishable-key=\"{pk}\"")), "{html}");
    assert!(html.contains("/clerk-glue.js"));
    assert!(!html.contains("dev-banner"), "no dev banner with real keys");
    let sign_in = app.get("/sign-in").await.text().await.expect("body");
    assert!(sign_in.contains("id=\"clerk-sign-in\""), "{sign_in}");
}

async fn dev_routes_do_not_exist_with_real_keys(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = TestApp::with_clerk(backend, &clerk, &[]).await;
    let res = dev_sign_in(&app, "ada%40example.com", "").await;
    assert_eq!(session_token(&res), None);
    assert_eq!(backend::db::users::count(&app.db).await.expect("count"), 0);
}

async fn the_header_says_who_is_impersonating(backend: Backend) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell"));
    let app = TestApp::with_clerk(backend, &clerk, &[]).await;
    let page = |claims: serde_json::Value| {
        let req = app.client.get(app.url("/")).header("cookie", common::clerk_cookies(&clerk.mint(&claims)));
        async move { req.send().await.expect("request").text().await.expect("body") }
    };
    let mut claims = fake_clerk::session_claims("user_alice");
    assert!(!page(claims.clone()).await.contains("impersonated by"));
    claims["act"] = serde_json::json!({ "sub": "user_support" });
    let html = page(claims).await;
    assert!(html.contains("impersonated by user_support"), "{html}");
}

/// A server-function call as the hydrated page makes it (fetch, JSON accepted).
async fn hydrated_call(app: &TestApp, path: &str, body: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(path))
        .header("origin", &app.base)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.send().await.expect("request")
}

async fn a_hydrated_call_gets_each_errors_own_status(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let form = |email: &str, role: &str| format!("email={email}&first_name=&last_name=&org_name=&org_role={role}");
    let token = session_token(&dev_sign_in(&app, "ada%40example.com", "").await).expect("signed in");
    let cookie = common::clerk_cookies(&token);
    let boss = session_token(&dev_sign_in(&app, "boss%40example.com", "").await).expect("signed in");
    backend::on_writer!(&app.db, pool => sqlx::query("UPDATE users SET is_staff = TRUE WHERE clerk_id = $1")
        .bind(backend::devmode::dev_id("user", "boss@example.com")).execute(pool).await.map(|_| ()))
    .expect("promote");
    let boss_cookie = format!("__session={boss}; __client_uat=1700000000");
    for (what, path, body, cookie, status) in [
        ("a bad email", "/api/session/dev-sign-in", form("not-an-email", ""), None, StatusCode::BAD_REQUEST),
        ("a bad role", "/api/session/dev-sign-in", form("ada%40example.com", "owner"), None, StatusCode::BAD_REQUEST),
        ("a staff account", "/api/session/dev-sign-in", form("boss%40example.com", ""), None, StatusCode::FORBIDDEN),
        (
            "not a member",
            "/api/session/switch-org",
            "org_id=org_nope".to_owned(),
            Some(cookie.as_str()),
            StatusCode::FORBIDDEN,
        ),
        ("anonymous", "/api/session/switch-org", "org_id=".to_owned(), None, StatusCode::UNAUTHORIZED),
        ("a staff refresh", "/api/session/refresh", String::new(), Some(boss_cookie.as_str()), StatusCode::FORBIDDEN),
    ] {
        let res = hydrated_call(&app, path, &body, cookie).await;
        assert_eq!(res.status(), status, "{what}: {}", res.text().await.unwrap_or_default());
    }
}
