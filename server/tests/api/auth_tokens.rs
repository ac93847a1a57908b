//! Token verification through real HTTP: `/api/me` against the server and the fake Clerk.

use crate::common;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use common::{TestApp, eventually};
use fake_clerk::{FakeClerk, Fault, now_secs, session_claims};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use testkit::Backend;

testkit::each_backend!(
    backend:
    a_valid_bearer_token_returns_the_user,
    a_valid_cookie_token_returns_the_user,
    the_bearer_header_wins_over_the_cookie,
    an_expired_token_is_rejected_with_401,
    a_token_expired_within_the_skew_is_accepted,
    nbf_and_iat_in_the_future_are_rejected_beyond_the_skew_only,
    a_wrong_or_missing_azp_is_rejected_when_parties_are_configured,
    any_azp_is_accepted_when_no_parties_are_configured,
    an_unknown_kid_is_refetched_at_most_every_5_seconds_and_found_after_rotation,
    a_token_signed_by_a_key_not_in_the_jwks_is_rejected,
    alg_none_and_hs256_with_the_public_key_are_rejected,
    a_tampered_signature_is_rejected,
    malformed_tokens_are_401_never_500,
    cached_keys_keep_working_while_the_jwks_is_down,
    a_cold_cache_with_the_jwks_down_answers_503,
    the_jwt_key_verifies_without_fetching_the_jwks,
    v1_and_v2_organization_claims_are_read_alike,
    a_machine_token_or_missing_sub_is_rejected,
    template_and_machine_category_tokens_are_refused,
    session_ignore_and_absent_categories_are_accepted,
    a_pending_session_is_signed_out_unless_allowed,
    an_impersonated_session_shows_its_actor,
);

async fn setup(backend: Backend, env: &[(&str, &str)]) -> (FakeClerk, TestApp) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell"));
    let app = TestApp::with_clerk(backend, &clerk, env).await;
    (clerk, app)
}

fn claims_with(overrides: Value) -> Value {
    let mut claims = session_claims("user_alice");
    if let (Some(c), Some(o)) = (claims.as_object_mut(), overrides.as_object()) {
        for (k, v) in o {
            c.insert(k.clone(), v.clone());
        }
    }
    claims
}

async fn status_of(app: &TestApp, token: &str) -> StatusCode {
    app.me_bearer(token).await.status()
}

async fn a_valid_bearer_token_returns_the_user(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let res = app.me_bearer(&clerk.mint(&session_claims("user_alice"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.expect("json");
    assert_eq!(me["clerk_id"], "user_alice");
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["first_name"], "Alice");
    assert_eq!(me["is_staff"], false);
    assert_eq!(me["org"], Value::Null);
    for key in [
        "id",
        "clerk_id",
        "email",
        "username",
        "first_name",
        "last_name",
        "image_url",
        "is_staff",
        "is_superuser",
        "org",
    ] {
        assert!(me.get(key).is_some(), "{key} missing from {me}");
    }
}

async fn a_valid_cookie_token_returns_the_user(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let token = clerk.mint(&session_claims("user_alice"));
    let res = app.me_cookie(&format!("other=1; __session={token}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.expect("json")["clerk_id"], "user_alice");
}

async fn the_bearer_header_wins_over_the_cookie(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    clerk.put_user(fake_clerk::user("user_bob", "bob@example.com", "Bob", "B"));
    let res = app
        .client
        .get(app.url("/api/me"))
        .bearer_auth(clerk.mint(&session_claims("user_bob")))
        .header("cookie", common::clerk_cookies(&clerk.mint(&session_claims("user_alice"))))
        .send()
        .await
        .expect("request");
    assert_eq!(res.json::<Value>().await.expect("json")["clerk_id"], "user_bob");
}

async fn an_expired_token_is_rejected_with_401(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let now = now_secs();
    let res =
        app.me_bearer(&clerk.mint(&claims_with(json!({ "iat": now - 120, "nbf": now - 130, "exp": now - 60 })))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
    let body: Value = res.json().await.expect("json");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("expired")), "{body}");
}

async fn a_token_expired_within_the_skew_is_accepted(backend: Backend) {
    let (clerk, app) = setup(backend, &[("CLERK_CLOCK_SKEW_SECONDS", "30")]).await;
    let now = now_secs();
    let token = clerk.mint(&claims_with(json!({ "iat": now - 70, "nbf": now - 80, "exp": now - 10 })));
    assert_eq!(status_of(&app, &token).await, StatusCode::OK);
}

async fn nbf_and_iat_in_the_future_are_rejected_beyond_the_skew_only(backend: Backend) {
    let (clerk, app) = setup(backend, &[("CLERK_CLOCK_SKEW_SECONDS", "5")]).await;
    let now = now_secs();
    let cases = [
        (json!({ "nbf": now + 60 }), StatusCode::UNAUTHORIZED),
        (json!({ "nbf": now + 2 }), StatusCode::OK),
        (json!({ "iat": now + 60, "exp": now + 120 }), StatusCode::UNAUTHORIZED),
        (json!({ "iat": now + 2 }), StatusCode::OK),
    ];
    for (overrides, expected) in cases {
        let token = clerk.mint(&claims_with(overrides.clone()));
        assert_eq!(status_of(&app, &token).await, expected, "{overrides}");
    }
}

async fn a_wrong_or_missing_azp_is_rejected_when_parties_are_configured(backend: Backend) {
    let (clerk, app) =
        setup(backend, &[("CLERK_AUTHORIZED_PARTIES", "http://localhost:3000,https://app.example.com")]).await;
    let ok = clerk.mint(&claims_with(json!({ "azp": "https://app.example.com" })));
    assert_eq!(status_of(&app, &ok).await, StatusCode::OK);
    let wrong = clerk.mint(&claims_with(json!({ "azp": "https://evil.example" })));
    assert_eq!(status_of(&app, &wrong).await, StatusCode::UNAUTHORIZED);
    let mut claims = session_claims("user_alice");
    claims.as_object_mut().expect("object").remove("azp");
    assert_eq!(status_of(&app, &clerk.mint(&claims)).await, StatusCode::UNAUTHORIZED);
}

async fn any_azp_is_accepted_when_no_parties_are_configured(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let token = clerk.mint(&claims_with(json!({ "azp": "https://anything.example" })));
    assert_eq!(status_of(&app, &token).await, StatusCode::OK);
}

async fn an_unknown_kid_is_refetched_at_most_every_5_seconds_and_found_after_rotation(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let rotated_token = clerk.rotation_key().sign(&session_claims("user_alice"));

    assert_eq!(status_of(&app, &rotated_token).await, StatusCode::UNAUTHORIZED, "not in the JWKS yet");
    assert_eq!(clerk.requests("/v1/jwks").len(), 1);

    clerk.rotate();
    for _ in 0..5 {
        assert_eq!(status_of(&app, &rotated_token).await, StatusCode::UNAUTHORIZED, "refetch is rate-limited");
    }
    assert_eq!(clerk.requests("/v1/jwks").len(), 1, "no refetch within 5 seconds");

    let found =
        eventually(Duration::from_secs(8), || async { status_of(&app, &rotated_token).await == StatusCode::OK }).await;
    assert!(found, "the rotated key is found once the 5 s window has passed");
    assert_eq!(clerk.requests("/v1/jwks").len(), 2, "exactly one more fetch");
    let primary = clerk.mint(&session_claims("user_alice"));
    assert_eq!(status_of(&app, &primary).await, StatusCode::OK, "the primary key still works");
}

async fn a_token_signed_by_a_key_not_in_the_jwks_is_rejected(backend: Backend) {
    let (_clerk, app) = setup(backend, &[]).await;
    // Same kid as the real key, different private key.
    let forged = fake_clerk::foreign_key().sign(&session_claims("user_alice"));
    assert_eq!(status_of(&app, &forged).await, StatusCode::UNAUTHORIZED);
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"))
}

async fn alg_none_and_hs256_with_the_public_key_are_rejected(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let claims = session_claims("user_alice");
    let none = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT", "kid": clerk.key().kid })), b64(&claims));
    assert_eq!(status_of(&app, &none).await, StatusCode::UNAUTHORIZED);

    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(clerk.key().kid.clone());
    let key = jsonwebtoken::EncodingKey::from_secret(clerk.key().public_pem.as_bytes());
    let hs256 = jsonwebtoken::encode(&header, &claims, &key).expect("sign");
    assert_eq!(status_of(&app, &hs256).await, StatusCode::UNAUTHORIZED);
}

async fn a_tampered_signature_is_rejected(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let token = clerk.mint(&session_claims("user_alice"));
    let (rest, sig) = token.rsplit_once('.').expect("three parts");
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).expect("signature");
    bytes[10] ^= 0x01;
    let tampered = format!("{rest}.{}", URL_SAFE_NO_PAD.encode(bytes));
    assert_eq!(status_of(&app, &tampered).await, StatusCode::UNAUTHORIZED);

    // Claims swapped under the original signature.
    let (header, _) = rest.split_once('.').expect("header");
    let swapped = format!("{header}.{}.{sig}", b64(&claims_with(json!({ "sub": "user_mallory" }))));
    assert_eq!(status_of(&app, &swapped).await, StatusCode::UNAUTHORIZED);
}

async fn malformed_tokens_are_401_never_500(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let header = b64(&json!({ "alg": "RS256", "typ": "JWT", "kid": clerk.key().kid }));
    let not_json = URL_SAFE_NO_PAD.encode(b"this is not json");
    let cases = [
        "abc".to_owned(),
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        "!!!.@@@.###".to_owned(),
        format!("{header}.{not_json}.c2ln"),
        format!("{header}.{}.", b64(&json!("a string, not an object"))),
    ];
    for token in cases {
        assert_eq!(status_of(&app, &token).await, StatusCode::UNAUTHORIZED, "{token}");
    }
}

async fn cached_keys_keep_working_while_the_jwks_is_down(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    assert_eq!(status_of(&app, &clerk.mint(&session_claims("user_alice"))).await, StatusCode::OK);
    clerk.fail("/v1/jwks", Fault::Status(503));
    // A fresh token (not in the verified-token cache) still verifies with the cached key.
    let fresh = clerk.mint(&claims_with(json!({ "sid": "sess_other" })));
    assert_eq!(status_of(&app, &fresh).await, StatusCode::OK);
}

async fn a_cold_cache_with_the_jwks_down_answers_503(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    clerk.fail("/v1/jwks", Fault::Status(500));
    let res = app.me_bearer(&clerk.mint(&session_claims("user_alice"))).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.json::<Value>().await.expect("json error body")["error"].is_string());
}

async fn the_jwt_key_verifies_without_fetching_the_jwks(backend: Backend) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell"));
    let pem = clerk.key().public_pem.clone();
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_JWT_KEY", pem.as_str())]).await;
    assert_eq!(status_of(&app, &clerk.mint(&session_claims("user_alice"))).await, StatusCode::OK);
    let forged = fake_clerk::foreign_key().sign(&session_claims("user_alice"));
    assert_eq!(status_of(&app, &forged).await, StatusCode::UNAUTHORIZED);
    assert!(clerk.requests("/v1/jwks").is_empty(), "networkless: the JWKS is never fetched");
}

async fn v1_and_v2_organization_claims_are_read_alike(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    // v2 as Clerk encodes it: permissions are feature-scoped, one mask per org feature.
    let v2 = claims_with(json!({
        "v": 2, "fea": "o:dashboard",
        "o": { "id": "org_1", "slg": "acme", "rol": "admin", "per": "manage,read", "fpm": "1" }
    }));
    let mut v1 = claims_with(json!({
        "org_id": "org_1", "org_slug": "acme", "org_role": "org:admin", "org_permissions": ["org:dashboard:manage"]
    }));
    v1.as_object_mut().expect("object").remove("v");
    for claims in [v2, v1] {
        let me: Value = app.me_bearer(&clerk.mint(&claims)).await.json().await.expect("json");
        assert_eq!(
            me["org"],
            json!({ "id": "org_1", "slug": "acme", "role": "org:admin", "permissions": ["org:dashboard:manage"] })
        );
    }
}

async fn a_machine_token_or_missing_sub_is_rejected(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let machine = clerk.mint(&claims_with(json!({ "sub": "mch_123" })));
    assert_eq!(status_of(&app, &machine).await, StatusCode::UNAUTHORIZED);
    let mut no_sub = session_claims("user_alice");
    no_sub.as_object_mut().expect("object").remove("sub");
    assert_eq!(status_of(&app, &clerk.mint(&no_sub)).await, StatusCode::UNAUTHORIZED);
}

async fn template_and_machine_category_tokens_are_refused(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let claims = session_claims("user_alice");
    for cat in [fake_clerk::TEMPLATE_CATEGORY, fake_clerk::MACHINE_CATEGORY] {
        let header = json!({ "alg": "RS256", "kid": clerk.key().kid, "typ": "JWT", "cat": cat });
        let token = clerk.key().sign_with_header(&header, &claims);
        let res = app.me_bearer(&token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{cat}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"], "the token is not a session token", "{cat}");
    }
    let machine =
        clerk.key().sign_with_header(&json!({ "alg": "RS256", "kid": clerk.key().kid, "typ": "at+jwt" }), &claims);
    assert_eq!(status_of(&app, &machine).await, StatusCode::UNAUTHORIZED);
}

async fn session_ignore_and_absent_categories_are_accepted(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let claims = session_claims("user_alice");
    let kid = clerk.key().kid.clone();
    for header in [
        json!({ "alg": "RS256", "kid": kid, "typ": "JWT", "cat": fake_clerk::SESSION_CATEGORY }),
        json!({ "alg": "RS256", "kid": kid, "cat": "cl_I7d4PD111III" }),
        json!({ "alg": "RS256", "kid": kid }),
    ] {
        assert_eq!(status_of(&app, &clerk.key().sign_with_header(&header, &claims)).await, StatusCode::OK, "{header}");
    }
}

async fn a_pending_session_is_signed_out_unless_allowed(backend: Backend) {
    let pending = claims_with(json!({ "v": 2, "sts": "pending" }));
    let (clerk, app) = setup(backend, &[]).await;
    let res = app.me_bearer(&clerk.mint(&pending)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.expect("json");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("pending")), "{body}");
    // Guards see nobody: whoami is 401 with the same reason.
    let res = app.server_fn("/api/examples/whoami", Some(&clerk.mint(&pending)), &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.expect("body").contains("pending"));

    let (clerk, app) = setup(backend, &[("CLERK_ALLOW_PENDING_SESSIONS", "true")]).await;
    let res = app.me_bearer(&clerk.mint(&pending)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn an_impersonated_session_shows_its_actor(backend: Backend) {
    let (clerk, app) = setup(backend, &[]).await;
    let plain: Value = app.me_bearer(&clerk.mint(&session_claims("user_alice"))).await.json().await.expect("json");
    assert_eq!(plain["actor"], Value::Null);
    let act = claims_with(
        json!({ "act": { "sub": "user_support", "sid": "sess_support", "iss": "https://dashboard.clerk.com" } }),
    );
    let me: Value = app.me_bearer(&clerk.mint(&act)).await.json().await.expect("json");
    assert_eq!(me["actor"], json!({ "sub": "user_support" }));
}
