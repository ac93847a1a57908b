//! The user in every request: hybrid server sessions, just-in-time provisioning, inactive users,
//! organization context, and each guard's 401 and 403.

use crate::common;

use std::time::Duration;

use backend::{
    auth::clerk_session::{EndSessions, end_clerk_sessions},
    db::users,
    on_writer,
};
use common::{TestApp, eventually, server_session_cookie};
use fake_clerk::{FakeClerk, Fault, now_secs, session_claims};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Backend;

testkit::each_backend!(
    backend:
    an_expired_token_is_covered_by_the_server_session_until_the_window_ends,
    an_absent_token_is_covered_by_the_server_session_while_clerk_says_signed_in,
    client_uat_zero_signs_out_at_once_and_removes_the_record,
    no_token_and_no_client_uat_is_signed_out,
    a_cookie_token_follows_clerks_client_uat_rules,
    a_token_without_exp_is_refused_even_with_a_server_session,
    a_valid_token_for_a_different_sub_replaces_the_session_user,
    bearer_requests_do_not_create_server_sessions,
    session_cookies_are_http_only_and_lax_and_secure_in_production,
    ending_a_clerk_session_ends_its_server_sessions_at_once,
    an_unknown_user_is_provisioned_just_in_time,
    provisioning_fails_with_503_and_creates_nothing,
    a_user_clerk_does_not_know_is_asked_for_once_per_token,
    a_429_from_clerk_is_waited_out_before_asking_again,
    an_inactive_or_deleted_user_is_denied,
    a_clerk_user_is_never_linked_to_a_staff_account_by_email,
    x_organization_id_is_honoured_only_for_local_members,
    random_organization_ids_do_not_grow_the_membership_cache,
    guards_answer_401_for_anonymous_and_bad_tokens,
    guards_answer_403_without_the_right_role,
    guards_let_the_right_users_through,
);

const ALICE: &str = "user_alice";

async fn setup(backend: Backend, env: &[(&str, &str)]) -> (FakeClerk, TestApp) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user(ALICE, "alice@example.com", "Alice", "Liddell"));
    clerk.put_user(fake_clerk::user("user_bob", "bob@example.com", "Bob", "Builder"));
    let app = TestApp::with_clerk(backend, &clerk, env).await;
    (clerk, app)
}

fn expired_claims(sub: &str) -> Value {
    let now = now_secs();
    let mut claims = session_claims(sub);
    claims["iat"] = json!(now - 200);
    claims["nbf"] = json!(now - 210);
    claims["exp"] = json!(now - 140);
    claims
}

async fn clerk_id_of(res: reqwest::Response) -> Option<String> {
    if res.status() != StatusCode::OK {
        return None;
    }
    res.json::<Value>().await.ok().and_then(|v| v["clerk_id"].as_str().map(str::to_owned))
}

/// Signs in by cookie, returning the server session cookie the server set.
async fn browser_sign_in(app: &TestApp, clerk: &FakeClerk, sub: &str, existing: Option<&str>) -> String {
    let token = clerk.mint(&session_claims(sub));
    let cookie = match existing {
        Some(session) => format!("__session={token}; {session}"),
        None => format!("__session={token}"),
    };
    let res = app.me_cookie(&cookie).await;
    assert_eq!(res.status(), StatusCode::OK);
    server_session_cookie(&res).or(existing.map(str::to_owned)).expect("a server session cookie")
}

async fn an_expired_token_is_covered_by_the_server_session_until_the_window_ends(backend: Backend) {
    let (clerk, app) = setup(backend, &[("CLERK_SESSION_REVALIDATION_SECONDS", "2")]).await;
    let session = browser_sign_in(&app, &clerk, ALICE, None).await;
    let expired = clerk.mint(&expired_claims(ALICE));

    let res = app.me_cookie(&format!("__session={expired}; {session}")).await;
    assert_eq!(clerk_id_of(res).await.as_deref(), Some(ALICE), "the session stands in for the expired token");

    // Without the server session, the same expired token is refused.
    assert_eq!(app.me_cookie(&format!("__session={expired}")).await.status(), StatusCode::UNAUTHORIZED);

    let denied = eventually(Duration::from_secs(6), || async {
        app.me_cookie(&format!("__session={expired}; {session}")).await.status() == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(denied, "after the revalidation window the session no longer stands in");
}

async fn an_absent_token_is_covered_by_the_server_session_while_clerk_says_signed_in(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let session = browser_sign_in(&app, &clerk, ALICE, None).await;
    let res = app.me_cookie_exact(&format!("{session}; __client_uat=1700000000")).await;
    assert_eq!(clerk_id_of(res).await.as_deref(), Some(ALICE));
    // An expired token with __client_uat > 0 is covered too.
    let expired = clerk.mint(&expired_claims(ALICE));
    let res = app.me_cookie_exact(&format!("__session={expired}; {session}; __client_uat=1700000000")).await;
    assert_eq!(clerk_id_of(res).await.as_deref(), Some(ALICE));
}

/// ClerkJS signing out: `__session` removed, `__client_uat=0`. The very next request is signed
/// out, and the server session no longer holds the Clerk record (a later request that looks
/// signed in to Clerk again gets nothing from it).
async fn client_uat_zero_signs_out_at_once_and_removes_the_record(backend: Backend) {
    let (clerk, app) = setup(backend, &[("CLERK_SESSION_REVALIDATION_SECONDS", "300")]).await;
    let session = browser_sign_in(&app, &clerk, ALICE, None).await;
    assert_eq!(app.me_cookie_exact(&format!("{session}; __client_uat=0")).await.status(), StatusCode::UNAUTHORIZED);
    let res = app.me_cookie_exact(&format!("{session}; __client_uat=1700000000")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the record is gone");
    // Even an expired token with the cleared client is refused.
    let session = browser_sign_in(&app, &clerk, ALICE, None).await;
    let expired = clerk.mint(&expired_claims(ALICE));
    let res = app.me_cookie_exact(&format!("__session={expired}; {session}; __client_uat=0")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn no_token_and_no_client_uat_is_signed_out(backend: Backend) {
    let (clerk, app) = setup(backend, &[("CLERK_SESSION_REVALIDATION_SECONDS", "300")]).await;
    let session = browser_sign_in(&app, &clerk, ALICE, None).await;
    assert_eq!(app.me_cookie_exact(&session).await.status(), StatusCode::UNAUTHORIZED);
    let res = app.me_cookie_exact(&format!("{session}; __client_uat=1700000000")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the record is gone");
}

/// Clerk's cookie rules (`authenticateRequest`, @clerk/backend 3.25.0): a cookie token needs an
/// active `__client_uat` (`session-token-but-no-client-uat`), and one minted before the client
/// last changed is signed out (`session-token-iat-before-client-uat`), its server session with it.
async fn a_cookie_token_follows_clerks_client_uat_rules(backend: Backend) {
    let (clerk, app) = setup(backend, &[("CLERK_SESSION_REVALIDATION_SECONDS", "300")]).await;
    let claims = session_claims(ALICE);
    let iat = claims["iat"].as_i64().expect("iat");
    let token = clerk.mint(&claims);
    for client_uat in ["", "; __client_uat=0", "; __client_uat=garbage"] {
        let res = app.me_cookie_exact(&format!("__session={token}{client_uat}")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{client_uat:?}");
    }
    let res = app.me_cookie_exact(&format!("__session={token}; __client_uat={iat}")).await;
    assert_eq!(clerk_id_of(res).await.as_deref(), Some(ALICE), "minted at the client's last change: signed in");

    let session = browser_sign_in(&app, &clerk, ALICE, None).await;
    let changed_later = iat + 1;
    let res = app.me_cookie_exact(&format!("__session={token}; {session}; __client_uat={changed_later}")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "a token from before the client's last change");
    let res = app.me_cookie_exact(&format!("{session}; __client_uat={changed_later}")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "and the server session's record went with it");
}

/// A token without `exp` is refused outright, as Clerk does; it is not an expired token that a
/// server session may cover.
async fn a_token_without_exp_is_refused_even_with_a_server_session(backend: Backend) {
    let (clerk, app) = setup(backend, &[("CLERK_SESSION_REVALIDATION_SECONDS", "300")]).await;
    let session = browser_sign_in(&app, &clerk, ALICE, None).await;
    let mut claims = session_claims(ALICE);
    claims.as_object_mut().expect("an object").remove("exp");
    let token = clerk.mint(&claims);
    let res = app.me_cookie(&format!("__session={token}; {session}")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_bearer(&token).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        clerk_id_of(app.me_cookie(&session).await).await.as_deref(),
        Some(ALICE),
        "the session itself is intact"
    );
}

async fn a_valid_token_for_a_different_sub_replaces_the_session_user(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let alice_session = browser_sign_in(&app, &clerk, ALICE, None).await;
    let bob_session = browser_sign_in(&app, &clerk, "user_bob", Some(&alice_session)).await;
    assert_ne!(alice_session, bob_session, "the session id is cycled when the user changes");
    assert_eq!(clerk_id_of(app.me_cookie(&bob_session).await).await.as_deref(), Some("user_bob"));
    assert_eq!(app.me_cookie(&alice_session).await.status(), StatusCode::UNAUTHORIZED, "the old id is gone");
}

async fn bearer_requests_do_not_create_server_sessions(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let res = app.me_bearer(&clerk.mint(&session_claims(ALICE))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(server_session_cookie(&res), None);
}

async fn session_cookies_are_http_only_and_lax_and_secure_in_production(backend: Backend) {
    // These tests are debug builds, where the default is plain; a release build defaults to
    // Secure (the release browser suite checks the cookie it gets).
    for (env, secure) in [
        (&[("LEPTOS_ENV", "DEV")][..], false),
        (&[("LEPTOS_ENV", "PROD")][..], true),
        (&[("COOKIE_SECURE", "true")][..], true),
        (&[("LEPTOS_ENV", "PROD"), ("COOKIE_SECURE", "false")][..], false),
    ] {
        let (clerk, app) = setup(backend, env).await;
        let res = app.me_cookie(&format!("__session={}", clerk.mint(&session_claims(ALICE)))).await;
        let set_cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("starter_session=") || v.starts_with("__Host-starter_session="))
            .expect("a session cookie")
            .to_owned();
        // A Secure cookie carries the __Host- prefix: only this host, over HTTPS, may set it.
        assert_eq!(set_cookie.starts_with("__Host-starter_session="), secure, "{env:?}: {set_cookie}");
        assert!(set_cookie.contains("Path=/") && !set_cookie.contains("Domain"), "{set_cookie}");
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
        assert_eq!(set_cookie.contains("Secure"), secure, "{env:?}: {set_cookie}");
    }
}

async fn ending_a_clerk_session_ends_its_server_sessions_at_once(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let session = browser_sign_in(&app, &clerk, ALICE, None).await;
    let other = browser_sign_in(&app, &clerk, "user_bob", None).await;

    let ended = end_clerk_sessions(&app.invalidations, EndSessions::ClerkSession(&format!("sess_{ALICE}").into()))
        .await
        .expect("end");
    assert_eq!(ended, 1);
    assert_eq!(app.me_cookie(&session).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(clerk_id_of(app.me_cookie(&other).await).await.as_deref(), Some("user_bob"), "others are untouched");

    let ended = end_clerk_sessions(&app.invalidations, EndSessions::ClerkUser(&"user_bob".into())).await.expect("end");
    assert_eq!(ended, 1);
    assert_eq!(app.me_cookie(&other).await.status(), StatusCode::UNAUTHORIZED);
}

async fn an_unknown_user_is_provisioned_just_in_time(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    assert_eq!(users::find_by_clerk_id(&app.db, &ALICE.into()).await.expect("query"), None);
    assert_eq!(app.me_bearer(&clerk.mint(&session_claims(ALICE))).await.status(), StatusCode::OK);
    let row = users::find_by_clerk_id(&app.db, &ALICE.into()).await.expect("query").expect("provisioned");
    assert_eq!(row.email, "alice@example.com");
    assert_eq!(row.last_name, "Liddell");
    assert_eq!(clerk.requests("/v1/users/user_alice").len(), 1);

    // Later requests are served from the mirror and the cache.
    assert_eq!(app.me_bearer(&clerk.mint(&session_claims(ALICE))).await.status(), StatusCode::OK);
    assert_eq!(clerk.requests("/v1/users/user_alice").len(), 1);
}

async fn provisioning_fails_with_503_and_creates_nothing(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    clerk.fail("/v1/users", Fault::Status(500));
    let res = app.me_bearer(&clerk.mint(&session_claims(ALICE))).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(users::count(&app.db).await.expect("count"), 0, "no empty user is created");

    clerk.clear_faults();
    clerk.remove_user("user_bob");
    let res = app.me_bearer(&clerk.mint(&session_claims("user_bob"))).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "a user Clerk does not know is not invented");
    assert_eq!(users::count(&app.db).await.expect("count"), 0);
}

/// One valid token for a user Clerk answers 404 for: a hundred requests make one Backend API call.
async fn a_user_clerk_does_not_know_is_asked_for_once_per_token(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let token = clerk.mint(&session_claims("user_ghost"));
    for _ in 0..100 {
        assert_eq!(app.me_bearer(&token).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(clerk.requests("/v1/users/user_ghost").len(), 1);
}

async fn a_429_from_clerk_is_waited_out_before_asking_again(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    // Two seconds: the two requests below must fall inside it even on a loaded machine.
    clerk.fail_times("/v1/users/user_bob", Fault::RateLimited { retry_after_secs: 2 }, 1);
    let token = clerk.mint(&session_claims("user_bob"));
    assert_eq!(app.me_bearer(&token).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.me_bearer(&token).await.status(), StatusCode::SERVICE_UNAVAILABLE, "within Retry-After");
    assert_eq!(clerk.requests("/v1/users/user_bob").len(), 1, "not asked again within Retry-After");
    let served =
        eventually(Duration::from_secs(8), || async { app.me_bearer(&token).await.status() == StatusCode::OK }).await;
    assert!(served, "asked again once Retry-After has passed");
}

async fn an_inactive_or_deleted_user_is_denied(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let mut banned = fake_clerk::user(ALICE, "alice@example.com", "Alice", "Liddell");
    banned["banned"] = json!(true);
    clerk.put_user(banned);
    let res = app.me_bearer(&clerk.mint(&session_claims(ALICE))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.expect("json")["error"], "User is inactive");

    // A tombstoned row stays denied and is not re-provisioned.
    let bob = fake_clerk::user("user_bob", "bob@example.com", "Bob", "Builder");
    app.mirror(&bob).await;
    on_writer!(&app.db, pool => sqlx::query("UPDATE users SET deleted_at = updated_at, is_active = FALSE WHERE clerk_id = 'user_bob'")
        .execute(pool).await.map(|_| ()))
    .expect("tombstone");
    assert_eq!(app.me_bearer(&clerk.mint(&session_claims("user_bob"))).await.status(), StatusCode::UNAUTHORIZED);
}

async fn a_clerk_user_is_never_linked_to_a_staff_account_by_email(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let now = backend::db::now();
    on_writer!(&app.db, pool => sqlx::query(
        "INSERT INTO users (email, is_staff, is_superuser, password_hash, created_at, updated_at) \
         VALUES ('alice@example.com', TRUE, TRUE, 'argon2-hash', $1, $1)")
        .bind(now).execute(pool).await.map(|_| ()))
    .expect("staff account");
    let me: Value = app.me_bearer(&clerk.mint(&session_claims(ALICE))).await.json().await.expect("json");
    assert_eq!(me["is_staff"], false);
    assert_eq!(me["is_superuser"], false);
    assert_eq!(users::count(&app.db).await.expect("count"), 2, "a separate row, not a link");
}

async fn seed_membership(app: &TestApp, clerk: &FakeClerk, org_id: &str, role: &str) {
    // Provision Alice first, then mirror an organization and her membership.
    assert_eq!(app.me_bearer(&clerk.mint(&session_claims(ALICE))).await.status(), StatusCode::OK);
    let user = users::find_by_clerk_id(&app.db, &ALICE.into()).await.expect("query").expect("alice");
    let org = backend::db::organizations::upsert_from_clerk(
        &app.db,
        &backend::db::organizations::ClerkOrganizationFields {
            clerk_id: org_id.into(),
            name: "Other".into(),
            slug: Some("other".into()),
            image_url: String::new(),
            members_count: None,
            max_allowed_memberships: None,
            public_metadata: json!({}),
            clerk_updated_at: 1,
        },
    )
    .await
    .expect("org")
    .expect("written");
    backend::db::memberships::upsert(
        &app.db,
        &backend::db::memberships::MembershipFields {
            clerk_id: format!("orgmem_{org_id}"),
            organization_id: org.id,
            user_id: user.id,
            role: role.into(),
            permissions: vec!["org:sys_memberships:manage".into()],
            clerk_updated_at: 1,
            public_metadata: serde_json::json!({}),
        },
    )
    .await
    .expect("membership")
    .expect("written");
}

async fn x_organization_id_is_honoured_only_for_local_members(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    seed_membership(&app, &clerk, "org_member", "org:admin").await;
    let token = clerk.mint(&session_claims(ALICE));
    let me_with = |org: &'static str| {
        let req = app.client.get(app.url("/api/me")).bearer_auth(&token).header("x-organization-id", org);
        async move { req.send().await.expect("request").json::<Value>().await.expect("json") }
    };
    let me = me_with("org_member").await;
    assert_eq!(me["org"]["id"], "org_member");
    assert_eq!(me["org"]["role"], "org:admin");
    assert_eq!(me_with("org_stranger").await["org"], Value::Null, "not a member: ignored");
}

/// An attacker with one valid token sends a thousand made-up organization ids, well- and
/// ill-shaped: the membership cache holds one entry for the user, not one per value.
async fn random_organization_ids_do_not_grow_the_membership_cache(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    seed_membership(&app, &clerk, "org_member", "org:admin").await;
    let token = clerk.mint(&session_claims(ALICE));
    let send = |org: String| {
        let req = app.client.get(app.url("/api/me")).bearer_auth(&token).header("x-organization-id", org);
        async move { req.send().await.expect("request").status() }
    };
    assert_eq!(send("org_member".into()).await, StatusCode::OK);
    let before = app.auth.directory.cached_membership_entries().await;
    assert_eq!(before, 1);
    for i in 0..1000u32 {
        let org =
            if i % 2 == 0 { format!("org_{}", uuid::Uuid::new_v4().simple()) } else { format!("not an id {i} ✗") };
        assert_eq!(send(org).await, StatusCode::OK);
    }
    assert_eq!(app.auth.directory.cached_membership_entries().await, before);
}

async fn guards_answer_401_for_anonymous_and_bad_tokens(backend: Backend) {
    let (_clerk, app) = setup(backend, &[]).await;
    for path in ["/api/examples/whoami", "/api/examples/staff", "/api/examples/org-admin", "/api/examples/team-size"] {
        assert_eq!(app.server_fn(path, None, &[]).await.status(), StatusCode::UNAUTHORIZED, "{path} anonymous");
        assert_eq!(
            app.server_fn(path, Some("not.a.token"), &[]).await.status(),
            StatusCode::UNAUTHORIZED,
            "{path} bad token"
        );
    }
    assert_eq!(app.get("/api/me").await.status(), StatusCode::UNAUTHORIZED);
}

async fn guards_answer_403_without_the_right_role(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let plain = clerk.mint(&session_claims(ALICE));
    let member = clerk.mint(&{
        let mut c = session_claims(ALICE);
        // A real v2 shape: `org:posts:read` only (mask 1 over per=read,publish).
        c["fea"] = json!("o:posts");
        c["o"] = json!({ "id": "org_1", "slg": "acme", "rol": "member", "per": "read,publish", "fpm": "1" });
        c
    });
    let cases = [
        ("/api/examples/staff", &plain, "Staff access required"),
        ("/api/examples/superuser", &plain, "Superuser access required"),
        ("/api/examples/org", &plain, "Organization context required"),
        ("/api/examples/org-admin", &member, "Organization role admin required"),
        ("/api/examples/team-size", &member, "Organization role admin required"),
        ("/api/examples/org-permission", &member, "Organization permission org:posts:publish required"),
    ];
    for (path, token, message) in cases {
        let res = app.server_fn(path, Some(token), &[]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        let body = res.text().await.expect("body");
        assert!(body.contains(message), "{path}: {body}");
    }
}

async fn guards_let_the_right_users_through(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let plain = clerk.mint(&session_claims(ALICE));
    let res = app.server_fn("/api/examples/whoami", Some(&plain), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.expect("json")["clerk_id"], ALICE);

    let admin = clerk.mint(&{
        let mut c = session_claims(ALICE);
        c["fea"] = json!("o:posts");
        c["o"] = json!({ "id": "org_1", "slg": "acme", "rol": "admin", "per": "read,publish", "fpm": "3" });
        c
    });
    for path in ["/api/examples/org", "/api/examples/org-admin", "/api/examples/org-permission"] {
        assert_eq!(app.server_fn(path, Some(&admin), &[]).await.status(), StatusCode::OK, "{path}");
    }
    // The README's recipe: no organization mirrored here yet, so no members.
    let res = app.server_fn("/api/examples/team-size", Some(&admin), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.expect("json"), json!(0));

    // Staff and superuser flags come from the local row.
    on_writer!(&app.db, pool => sqlx::query("UPDATE users SET is_staff = TRUE, is_superuser = TRUE WHERE clerk_id = $1")
        .bind(ALICE).execute(pool).await.map(|_| ()))
    .expect("promote");
    app_invalidate(&app, ALICE).await;
    for path in ["/api/examples/staff", "/api/examples/superuser"] {
        assert_eq!(app.server_fn(path, Some(&plain), &[]).await.status(), StatusCode::OK, "{path}");
    }
}

/// The user cache holds rows for `CLERK_CACHE_TIMEOUT`; tests that edit rows directly drop it.
async fn app_invalidate(app: &TestApp, clerk_id: &str) {
    app.auth.directory.invalidate_user(&clerk_id.into()).await;
}
