//! API keys, M2M and OAuth tokens through real HTTP: `/api/whoami` (every kind), the guards'
//! examples, the Backend API calls behind opaque tokens (one per token, cached by hash, bounded,
//! 503 when Clerk fails), and the account page's self-service keys.

use crate::common;

use std::time::Duration;

use common::{TestApp, eventually};
use fake_clerk::{FakeClerk, Fault, session_claims};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Backend;

const VERIFY: &str = "/api_keys/verify";

async fn setup(env: &[(&str, &str)]) -> (FakeClerk, TestApp) {
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell"));
    let app = TestApp::with_clerk(Backend::Sqlite, &clerk, env).await;
    (clerk, app)
}

async fn whoami(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let res = app.client.get(app.url("/api/whoami")).bearer_auth(token).send().await.expect("request");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: &str) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_names_every_kind_of_caller() {
    let (clerk, app) = setup(&[]).await;
    let (_, user_key) = clerk.create_api_key("user_alice", "alice's script", &["projects:read"], None);
    let (_, org_key) = clerk.create_api_key("org_acme", "acme CI", &[], Some(3600));
    let (_, m2m) = clerk.create_m2m_token("mch_robot", &["jobs:run"], Some(3600));
    let (_, oauth) = clerk.create_oauth_token("user_alice", "client_mcp", &["profile"], Some(3600));
    let session = clerk.mint(&session_claims("user_alice"));
    let m2m_jwt = fake_clerk::m2m_jwt("mch_robot", &["jobs:run", "reports:read"], 600);
    let oauth_jwt = fake_clerk::oauth_jwt("user_alice", "client_mcp", &["email"], 600);
    let null = Value::Null;
    for (token, expected) in [
        (
            &session,
            json!({ "token_type": "session_token", "subject": "user_alice", "user_id": "user_alice", "org_id": null, "scopes": null, "name": null }),
        ),
        (
            &user_key,
            json!({ "token_type": "api_key", "subject": "user_alice", "user_id": "user_alice", "org_id": null, "scopes": ["projects:read"], "name": "alice's script" }),
        ),
        (
            &org_key,
            json!({ "token_type": "api_key", "subject": "org_acme", "user_id": null, "org_id": "org_acme", "scopes": [], "name": "acme CI" }),
        ),
        (
            &m2m,
            json!({ "token_type": "m2m_token", "subject": "mch_robot", "user_id": null, "org_id": null, "scopes": ["jobs:run"], "name": null }),
        ),
        (
            &m2m_jwt,
            json!({ "token_type": "m2m_token", "subject": "mch_robot", "user_id": null, "org_id": null, "scopes": ["jobs:run", "reports:read"], "name": null }),
        ),
        (
            &oauth,
            json!({ "token_type": "oauth_token", "subject": "user_alice", "user_id": "user_alice", "org_id": null, "scopes": ["profile"], "name": null }),
        ),
        (
            &oauth_jwt,
            json!({ "token_type": "oauth_token", "subject": "user_alice", "user_id": "user_alice", "org_id": null, "scopes": ["email"], "name": null }),
        ),
    ] {
        assert_eq!(whoami(&app, token).await, (StatusCode::OK, expected), "{}", &token[..6]);
    }
    let anonymous = app.get("/api/whoami").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (status, body) = whoami(&app, "ak_not_a_key_at_all").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "the machine token is invalid, revoked or expired");
    assert_ne!(body, null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn machine_tokens_are_not_session_tokens_where_a_route_does_not_accept_them() {
    let (clerk, app) = setup(&[]).await;
    let (_, key) = clerk.create_api_key("user_alice", "script", &["projects:read"], None);
    let m2m_jwt = fake_clerk::m2m_jwt("mch_robot", &["projects:read"], 600);
    let (_, oauth) = clerk.create_oauth_token("user_alice", "client_mcp", &["projects:read"], Some(600));
    for token in [&key, &m2m_jwt, &oauth] {
        let res = app.me_bearer(token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"], "the token is not a session token");
        let (status, _) = post(&app, "/api/examples/whoami", Some(token), "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // A page for signed-in users sends a machine token to sign in, as anyone anonymous.
        let page = app.client.get(app.url("/account")).bearer_auth(token).send().await.expect("request");
        assert_eq!(page.status(), StatusCode::FOUND);
    }
    // Nothing was verified: a route that does not take the kind never asks Clerk.
    assert!(clerk.requests("/api_keys/verify").is_empty());
    assert!(clerk.requests("/oauth_applications").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guards_pass_and_fail_as_documented() {
    let (clerk, app) = setup(&[]).await;
    let (_, reader) = clerk.create_api_key("user_alice", "reader", &["projects:read"], None);
    let (_, writer) = clerk.create_api_key("user_alice", "writer", &["projects:write"], None);
    let (_, org_key) = clerk.create_api_key("org_acme", "acme", &["projects:read"], None);
    let m2m_jwt = fake_clerk::m2m_jwt("mch_robot", &["projects:read"], 600);
    let session = clerk.mint(&session_claims("user_alice"));
    // require_scopes: any machine kind holding the scope.
    for (token, expected) in [
        (Some(reader.as_str()), StatusCode::OK),
        (Some(org_key.as_str()), StatusCode::OK),
        (Some(m2m_jwt.as_str()), StatusCode::OK),
        (Some(writer.as_str()), StatusCode::FORBIDDEN),
        (Some(session.as_str()), StatusCode::UNAUTHORIZED),
        (Some("ak_revoked_or_never_was"), StatusCode::UNAUTHORIZED),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let (status, body) = post(&app, "/api/examples/machine", token, "").await;
        assert_eq!(status, expected, "{token:?}: {body}");
    }
    let (_, body) = post(&app, "/api/examples/machine", Some(&writer), "").await;
    assert_eq!(body, json!({ "Forbidden": "Scope projects:read required" }));
    // require_token(SESSION_TOKEN | API_KEY): a user's key acts as that user.
    for (token, expected) in [
        (Some(session.as_str()), StatusCode::OK),
        (Some(reader.as_str()), StatusCode::OK),
        (Some(org_key.as_str()), StatusCode::FORBIDDEN),
        (Some(m2m_jwt.as_str()), StatusCode::UNAUTHORIZED),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let (status, body) = post(&app, "/api/examples/user-or-api-key", token, "").await;
        assert_eq!(status, expected, "{token:?}: {body}");
    }
    let (_, body) = post(&app, "/api/examples/user-or-api-key", Some(&reader), "").await;
    assert_eq!(body, json!("hello, user_alice by api_key"));
    let (_, body) = post(&app, "/api/examples/user-or-api-key", Some(&session), "").await;
    assert_eq!(body, json!("hello, user_alice by session_token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_requests_with_one_new_key_make_one_verify_call() {
    let (clerk, app) = setup(&[]).await;
    let (_, key) = clerk.create_api_key("user_alice", "burst", &[], None);
    // Held at Clerk until all 50 are waiting, so none can be served from a finished answer.
    let gate = clerk.hold(VERIFY);
    let requests = join_all((0..50).map(|_| whoami(&app, &key)));
    let release = async {
        assert!(eventually(Duration::from_secs(10), || async { !clerk.requests(VERIFY).is_empty() }).await);
        gate.release();
    };
    let (answers, ()) = tokio::join!(requests, release);
    assert!(answers.iter().all(|(status, _)| *status == StatusCode::OK), "{answers:?}");
    assert_eq!(clerk.requests(VERIFY).len(), 1);
    // And later requests are served from the cache.
    assert_eq!(whoami(&app, &key).await.0, StatusCode::OK);
    assert_eq!(clerk.requests(VERIFY).len(), 1);
    // The body Clerk got is `{secret}`; the cache holds no secret, only its hash.
    assert_eq!(clerk.requests(VERIFY)[0].body, Some(json!({ "secret": key })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_random_keys_leave_memory_bounded() {
    let (clerk, app) = setup(&[("CLERK_MACHINE_TOKEN_CACHE_SIZE", "100")]).await;
    let (_, good) = clerk.create_api_key("user_alice", "kept", &[], None);
    assert_eq!(whoami(&app, &good).await.0, StatusCode::OK);
    for batch in 0..20 {
        let answers = join_all((0..50).map(|i| {
            let app = &app;
            async move { whoami(app, &format!("ak_random{batch:02}{i:02}{:016x}", rand::random::<u64>())).await.0 }
        }))
        .await;
        assert!(answers.iter().all(|s| *s == StatusCode::UNAUTHORIZED));
    }
    let cached = app.auth.machines.opaque.cached().await;
    assert!(cached <= 100, "{cached} verdicts cached, capacity 100");
    assert!(cached > 0);
    // Malformed secrets are refused without asking Clerk.
    let before = clerk.requests(VERIFY).len();
    for bad in ["ak_with space", "ak_ünïcode", &format!("ak_{}", "x".repeat(600))] {
        assert_eq!(whoami(&app, bad).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(clerk.requests(VERIFY).len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_down_gives_503_and_a_429_is_waited_out() {
    let (clerk, app) = setup(&[]).await;
    let (_, key) = clerk.create_api_key("user_alice", "script", &[], None);
    clerk.fail(VERIFY, Fault::Status(500));
    let (status, body) = whoami(&app, &key).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    // Failures are not cached: Clerk back, the key works.
    clerk.clear_faults();
    assert_eq!(whoami(&app, &key).await.0, StatusCode::OK);

    let (_, other) = clerk.create_api_key("user_alice", "other", &[], None);
    let (_, third) = clerk.create_api_key("user_alice", "third", &[], None);
    clerk.fail_times(VERIFY, Fault::RateLimited { retry_after_secs: 2 }, 1);
    assert_eq!(whoami(&app, &other).await.0, StatusCode::SERVICE_UNAVAILABLE);
    let calls = clerk.requests(VERIFY).len();
    // Within Retry-After nothing new is asked; what is cached still answers.
    assert_eq!(whoami(&app, &third).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(clerk.requests(VERIFY).len(), calls);
    assert_eq!(whoami(&app, &key).await.0, StatusCode::OK);
    assert!(eventually(Duration::from_secs(5), || async { whoami(&app, &third).await.0 == StatusCode::OK }).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_at_clerk_gets_401_within_the_cache_bound() {
    let (clerk, app) = setup(&[("CLERK_MACHINE_TOKEN_CACHE_SECONDS", "2")]).await;
    let (id, key) = clerk.create_api_key("user_alice", "script", &[], None);
    assert_eq!(whoami(&app, &key).await.0, StatusCode::OK);
    clerk.revoke_machine_token(&id);
    let revoked_at = std::time::Instant::now();
    assert!(
        eventually(Duration::from_secs(5), || async { whoami(&app, &key).await.0 == StatusCode::UNAUTHORIZED }).await
    );
    assert!(revoked_at.elapsed() <= Duration::from_millis(2600), "{:?}", revoked_at.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_key_is_not_trusted_past_its_expiration() {
    let (clerk, app) = setup(&[]).await;
    let (_, key) = clerk.create_api_key("user_alice", "brief", &[], Some(2));
    assert_eq!(whoami(&app, &key).await.0, StatusCode::OK);
    assert!(
        eventually(Duration::from_secs(5), || async { whoami(&app, &key).await.0 == StatusCode::UNAUTHORIZED }).await
    );
}

/// The account page's server functions: create (after a recent verification), list, revoke;
/// the key works at once and stops at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_api_keys_are_created_listed_and_revoked() {
    let (clerk, app) = setup(&[]).await;
    app.mirror(&fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell")).await;
    let fresh = clerk.mint(&session_claims("user_alice"));
    let mut stale_claims = session_claims("user_alice");
    stale_claims["fva"] = json!([30, -1]);
    let stale = clerk.mint(&stale_claims);

    let form = "name=deploy+script&scopes=projects%3Aread+projects%3Awrite&expires_in_days=30";
    let (status, body) = post(&app, "/api/account/api-keys/create", Some(&stale), form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["clerk_error"]["reason"], "reverification-error", "{body}");
    assert!(clerk.requests("/api_keys").is_empty(), "nothing was sent to Clerk");

    let (status, created) = post(&app, "/api/account/api-keys/create", Some(&fresh), form).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let secret = created["secret"].as_str().expect("the secret, once").to_owned();
    assert_eq!(created["key"]["scopes"], json!(["projects:read", "projects:write"]));
    assert!(!created["key"]["expires"].as_str().unwrap_or_default().is_empty());
    let sent = &clerk.requests("/api_keys")[0];
    assert_eq!(sent.body.as_ref().map(|b| b["subject"].clone()), Some(json!("user_alice")));
    assert_eq!(sent.body.as_ref().map(|b| b["seconds_until_expiration"].clone()), Some(json!(30 * 86_400)));

    let (status, listed) = post(&app, "/api/account/api-keys", Some(&fresh), "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["keys"].as_array().map(Vec::len), Some(1));
    assert!(!listed.to_string().contains(&secret), "the list never carries a secret");

    let (status, who) = whoami(&app, &secret).await;
    assert_eq!((status, who["user_id"].clone()), (StatusCode::OK, json!("user_alice")));

    // Someone else's key is "not found" to alice, whether it exists or not.
    let (bob_key_id, _) = clerk.create_api_key("user_bob", "bob's", &[], None);
    let (status, _) = post(&app, "/api/account/api-keys/revoke", Some(&fresh), &format!("id={bob_key_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let id = created["key"]["id"].as_str().expect("an id").to_owned();
    let (status, _) = post(&app, "/api/account/api-keys/revoke", Some(&fresh), &format!("id={id}")).await;
    assert_eq!(status, StatusCode::OK);
    // Revoked through the app: the cached verdict went with it, no waiting for the bound.
    assert_eq!(whoami(&app, &secret).await.0, StatusCode::UNAUTHORIZED);

    // Bad input changes nothing.
    let calls = clerk.requests("/api_keys").len();
    for bad in ["name=&scopes=", "name=x&scopes=not%20ok!", "name=x&expires_in_days=3", "name=x&for_org=true"] {
        let (status, body) = post(&app, "/api/account/api-keys/create", Some(&fresh), bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    assert_eq!(clerk.requests("/api_keys").len(), calls);
}
