//! Organizations in the URL: `/orgs/{slug}` makes that organization active for its members,
//! whatever the token's, and 404s for anyone else; `/me` has none active; the settings server
//! function checks the page's organization on every call.

use crate::common;

use common::TestApp;
use fake_clerk::{FakeClerk, TEST_WEBHOOK_SECRET, session_claims};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Backend;

testkit::each_backend!(
    backend:
    an_org_url_makes_that_org_active_for_a_member,
    non_members_and_unknown_slugs_get_404_without_a_hint,
    the_settings_function_checks_the_page_org_on_every_call,
    the_personal_url_has_no_org_active,
);

/// Acme (alice admin), Beta (alice member), Gamma (bob member), mirrored through webhooks.
async fn setup(backend: Backend) -> (FakeClerk, TestApp) {
    let clerk = FakeClerk::start().await;
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)]).await;
    let alice = fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell");
    let bob = fake_clerk::user("user_bob", "bob@example.com", "Bob", "Builder");
    for user in [&alice, &bob] {
        clerk.put_user(user.clone());
        assert_eq!(app.deliver("user.created", user).await.0, StatusCode::OK);
    }
    for (id, name, slug, members) in [
        ("org_acme", "Acme", "acme", vec![(&alice, "org:admin")]),
        ("org_beta", "Beta", "beta", vec![(&alice, "org:member")]),
        ("org_gamma", "Gamma", "gamma", vec![(&bob, "org:member")]),
    ] {
        let org = fake_clerk::organization(id, name, slug);
        clerk.put_organization(org.clone());
        assert_eq!(app.deliver("organization.created", &org).await.0, StatusCode::OK);
        for (user, role) in members {
            let m = fake_clerk::membership(
                &format!("orgmem_{id}_{}", user["id"].as_str().unwrap_or_default()),
                &org,
                user,
                role,
            );
            clerk.put_membership(m.clone());
            assert_eq!(app.deliver("organizationMembership.created", &m).await.0, StatusCode::OK);
        }
    }
    (clerk, app)
}

/// A session token for `sub` with `org` (id, slug, role) active.
fn token(clerk: &FakeClerk, sub: &str, org: Option<(&str, &str, &str)>) -> String {
    let mut claims = session_claims(sub);
    if let Some((id, slug, role)) = org {
        claims["o"] = json!({ "id": id, "slg": slug, "rol": role });
    }
    clerk.mint(&claims)
}

async fn call(app: &TestApp, path: &str, token: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn page(app: &TestApp, path: &str, token: &str) -> (StatusCode, String) {
    let res = app.get_signed_in(path, token).await;
    let status = res.status();
    (status, res.text().await.expect("body"))
}

async fn an_org_url_makes_that_org_active_for_a_member(backend: Backend) {
    let (clerk, app) = setup(backend).await;
    // Beta is the token's; the URL names Acme.
    let alice = token(&clerk, "user_alice", Some(("org_beta", "beta", "member")));
    let (status, html) = page(&app, "/orgs/acme", &alice).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"data-url-org="org_acme""#), "the page names its organization for the glue");
    assert!(html.contains(">Acme<") && html.contains("org:admin"), "{html}");
    // The header (what ClerkJS is compared with) shows Acme active too.
    assert!(html.contains(r#"data-org="org_acme""#), "{html}");
    let (status, home) = call(&app, "/api/orgs/home", &alice, &[("slug", "acme")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(home, json!({ "id": "org_acme", "name": "Acme", "slug": "acme", "role": "org:admin", "members": 1 }));
    // A sub-page matches too; other pages keep the token's organization.
    let (status, settings) = page(&app, "/orgs/acme/settings", &alice).await;
    assert_eq!(status, StatusCode::OK);
    assert!(settings.contains("org-settings") && settings.contains(r#"data-org="org_acme""#), "{settings}");
    let (_, account) = page(&app, "/account", &alice).await;
    assert!(account.contains(r#"data-org="org_beta""#));
    // Anonymous visitors are sent to sign in.
    let res = app.get("/orgs/acme").await;
    assert_eq!(res.status(), StatusCode::FOUND);
}

async fn non_members_and_unknown_slugs_get_404_without_a_hint(backend: Backend) {
    let (clerk, app) = setup(backend).await;
    let bob = token(&clerk, "user_bob", Some(("org_gamma", "gamma", "member")));
    let alice = token(&clerk, "user_alice", None);
    for (who, path) in
        [(&bob, "/orgs/acme"), (&alice, "/orgs/nope"), (&alice, "/orgs/gamma"), (&bob, "/orgs/acme/settings")]
    {
        let (status, html) = page(&app, path, who).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!html.contains("Acme") && !html.contains("Gamma"), "{path}: the 404 says nothing of the organization");
    }
    for (who, slug) in [(&bob, "acme"), (&alice, "nope"), (&alice, "gamma"), (&alice, &"x".repeat(500))] {
        let (status, _) = call(&app, "/api/orgs/home", who, &[("slug", slug)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{slug}");
    }
}

async fn the_settings_function_checks_the_page_org_on_every_call(backend: Backend) {
    let (clerk, app) = setup(backend).await;
    // Bob, on his own Gamma, forges Acme as the page's organization.
    let bob = token(&clerk, "user_bob", Some(("org_gamma", "gamma", "admin")));
    let (status, body) = call(&app, "/api/orgs/rename", &bob, &[("slug", "acme"), ("name", "Hacked")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // Alice is a member of Beta, not its admin: the token's role elsewhere does not count.
    let alice_admin_elsewhere = token(&clerk, "user_alice", Some(("org_acme", "acme", "admin")));
    let (status, _) =
        call(&app, "/api/orgs/rename", &alice_admin_elsewhere, &[("slug", "beta"), ("name", "Mine")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(clerk.requests("/v1/organizations/org_").iter().all(|r| r.method != "PATCH"), "nothing reached Clerk");
    // Alice is Acme's admin, with Beta active in her token: the URL's organization decides.
    let alice = token(&clerk, "user_alice", Some(("org_beta", "beta", "member")));
    let (status, body) = call(&app, "/api/orgs/rename", &alice, &[("slug", "acme"), ("name", "Acme Two")]).await;
    assert_eq!((status, body), (StatusCode::OK, json!("Acme Two")));
    assert_eq!(clerk.organization("org_acme").map(|o| o["name"].clone()), Some(json!("Acme Two")));
    let (_, home) = call(&app, "/api/orgs/home", &alice, &[("slug", "acme")]).await;
    assert_eq!(home["name"], "Acme Two");
    let audited = backend::db::audit_log::list(&app.db, 1).await.expect("audit").items;
    assert!(audited.iter().any(|e| e.action == "organization.update"), "{audited:?}");
    // A bad name changes nothing.
    let (status, _) = call(&app, "/api/orgs/rename", &alice, &[("slug", "acme"), ("name", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_personal_url_has_no_org_active(backend: Backend) {
    let (clerk, app) = setup(backend).await;
    let alice = token(&clerk, "user_alice", Some(("org_acme", "acme", "admin")));
    let (status, html) = page(&app, "/me", &alice).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Personal account") && html.contains(r#"data-url-org="""#), "{html}");
    assert!(html.contains(r#"data-org="""#), "the header shows no organization: {html}");
    let (status, me) = call(&app, "/api/orgs/personal", &alice, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["org"], Value::Null);
}
