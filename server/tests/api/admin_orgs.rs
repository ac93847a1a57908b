//! The admin's organizations over HTTP: listing and detail, rename and slug, a member's role
//! and removal, all written through to the fake Clerk and audited.

use crate::common;

use backend::{
    clerk::mapping,
    db::{audit_log, invitations, memberships, org_search, organizations},
};
use common::{TestApp, staff::StaffCookie};
use fake_clerk::{FakeClerk, Fault};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Backend;

http_tests!(
    organizations_are_listed_searched_and_shown_with_members_and_invitations,
    a_rename_and_slug_change_are_written_through_and_audited,
    a_member_role_change_is_written_through_and_audited,
    a_member_removal_is_written_through_and_leaves_a_tombstone,
    bad_org_input_and_clerk_refusals_change_nothing,
    a_large_organization_pages_its_members,
);

struct Acme {
    clerk: FakeClerk,
    app: TestApp,
    cookie: StaffCookie,
    org_id: i64,
    bob_id: i64,
}

async fn setup(backend: Backend) -> Acme {
    let clerk = FakeClerk::start().await;
    let org = fake_clerk::organization("org_acme", "Acme", "acme");
    let alice = fake_clerk::user("user_alice", "alice@example.com", "Alice", "A");
    let bob = fake_clerk::user("user_bob", "bob@example.com", "Bob", "B");
    clerk.put_organization(org.clone());
    let app = TestApp::with_clerk(backend, &clerk, &[]).await;
    let stored = organizations::upsert_from_clerk(&app.db, &mapping::organization_fields(&org).expect("maps"))
        .await
        .expect("org")
        .expect("stored");
    let mut bob_id = 0;
    for (user, role) in [(&alice, "org:admin"), (&bob, "org:member")] {
        clerk.put_user(user.clone());
        let row = app.mirror(user).await;
        bob_id = row.id;
        let m = fake_clerk::membership(&format!("orgmem_{}", row.id), &org, user, role);
        clerk.put_membership(m.clone());
        let fields = mapping::membership_parts(&m).expect("maps").into_fields(stored.id, row.id);
        memberships::upsert(&app.db, &fields).await.expect("membership");
    }
    let mut tx = app.db.begin().await.expect("tx");
    let fields = invitations::InvitationFields {
        clerk_id: "orginv_1",
        organization_id: stored.id,
        email_address: "carol@example.com",
        role: "org:member",
        status: "pending",
        inviter_id: Some("user_boss"),
        public_metadata: &json!({ "team": "ops" }),
    };
    invitations::upsert_in(tx.conn(), &fields).await.expect("inv");
    tx.commit().await.expect("commit");
    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    Acme { clerk, app, cookie, org_id: stored.id, bob_id }
}

async fn post(acme: &Acme, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let res = acme.app.admin_post(path, Some(&acme.cookie), form).await;
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn organizations_are_listed_searched_and_shown_with_members_and_invitations(backend: Backend) {
    let acme = setup(backend).await;
    let (status, all) = post(&acme, "/api/admin/orgs", &[]).await;
    assert_eq!((status, all["total"].as_i64()), (StatusCode::OK, Some(1)));
    assert_eq!(post(&acme, "/api/admin/orgs", &[("q", "ACM")]).await.1["total"], 1);
    assert_eq!(post(&acme, "/api/admin/orgs", &[("q", "nothing")]).await.1["total"], 0);

    let (status, detail) = post(&acme, "/api/admin/org", &[("id", &acme.org_id.to_string())]).await;
    assert_eq!(status, StatusCode::OK);
    let members: Vec<(&str, &str)> = detail["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| (m["email"].as_str().unwrap_or_default(), m["role"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(members, [("alice@example.com", "org:admin"), ("bob@example.com", "org:member")]);
    assert_eq!(detail["invitations"][0]["email_address"], "carol@example.com");
    assert_eq!(detail["invitations"][0]["inviter"], "user_boss");
    assert_eq!(detail["invitations"][0]["public_metadata"], r#"{"team":"ops"}"#);

    let html =
        acme.app.admin_page(&format!("/admin/orgs/{}", acme.org_id), &acme.cookie).await.text().await.expect("html");
    assert!(html.contains("bob@example.com") && html.contains("carol@example.com") && html.contains("Acme"));
    let missing = post(&acme, "/api/admin/org", &[("id", "424242")]).await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
}

async fn a_rename_and_slug_change_are_written_through_and_audited(backend: Backend) {
    let acme = setup(backend).await;
    let id = acme.org_id.to_string();
    let (status, _) =
        post(&acme, "/api/admin/org-update", &[("id", &id), ("name", "Acme Corp"), ("slug", "acme-corp")]).await;
    assert_eq!(status, StatusCode::OK);
    let patch =
        acme.clerk.requests("/v1/organizations/org_acme").into_iter().find(|r| r.method == "PATCH").expect("PATCH");
    assert_eq!(patch.body, Some(json!({ "name": "Acme Corp", "slug": "acme-corp" })));
    let stored = org_search::find(&acme.app.db, acme.org_id).await.expect("query").expect("org");
    assert_eq!((stored.name.as_str(), stored.slug.as_deref()), ("Acme Corp", Some("acme-corp")));
    let audit = audit_log::for_object(&acme.app.db, "organization", &id, 10).await.expect("audit");
    assert_eq!(audit[0].action, "organization.update");
    assert_eq!(
        audit[0].changes.0,
        json!({ "name": { "before": "Acme", "after": "Acme Corp" }, "slug": { "before": "acme", "after": "acme-corp" } })
    );
}

async fn a_member_role_change_is_written_through_and_audited(backend: Backend) {
    let acme = setup(backend).await;
    let (org, bob) = (acme.org_id.to_string(), acme.bob_id.to_string());
    let (status, _) =
        post(&acme, "/api/admin/member-role", &[("org_id", &org), ("user_id", &bob), ("role", "admin")]).await;
    assert_eq!(status, StatusCode::OK);
    let patch = acme
        .clerk
        .requests("/v1/organizations/org_acme/memberships/user_bob")
        .into_iter()
        .find(|r| r.method == "PATCH")
        .expect("PATCH");
    assert_eq!(patch.body, Some(json!({ "role": "org:admin" })));
    let member = org_search::member(&acme.app.db, acme.org_id, acme.bob_id).await.expect("query").expect("member");
    assert_eq!(member.role, "org:admin");
    let audit = audit_log::for_object(&acme.app.db, "organization", &org, 10).await.expect("audit");
    assert_eq!(audit[0].action, "membership.update");
    assert_eq!(
        audit[0].changes.0,
        json!({ "member": "bob@example.com", "role": { "before": "org:member", "after": "org:admin" } })
    );
}

async fn a_member_removal_is_written_through_and_leaves_a_tombstone(backend: Backend) {
    let acme = setup(backend).await;
    let (org, bob) = (acme.org_id.to_string(), acme.bob_id.to_string());
    let (status, _) = post(&acme, "/api/admin/member-remove", &[("org_id", &org), ("user_id", &bob)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        acme.clerk.requests("/v1/organizations/org_acme/memberships/user_bob").iter().any(|r| r.method == "DELETE")
    );
    assert!(acme.clerk.membership("org_acme", "user_bob").is_none());
    assert!(org_search::member(&acme.app.db, acme.org_id, acme.bob_id).await.expect("query").is_none());
    let members = org_search::members(&acme.app.db, acme.org_id, 1).await.expect("members");
    assert_eq!((members.items.len(), members.total), (1, 1));
    let audit = audit_log::for_object(&acme.app.db, "organization", &org, 10).await.expect("audit");
    assert_eq!(audit[0].action, "membership.delete");
    // Removing again finds no member.
    assert_eq!(
        post(&acme, "/api/admin/member-remove", &[("org_id", &org), ("user_id", &bob)]).await.0,
        StatusCode::NOT_FOUND
    );
}

async fn bad_org_input_and_clerk_refusals_change_nothing(backend: Backend) {
    let acme = setup(backend).await;
    let (id, bob) = (acme.org_id.to_string(), acme.bob_id.to_string());
    let before = org_search::find(&acme.app.db, acme.org_id).await.expect("query");
    for (name, slug, field) in [("", "acme", "name"), ("Acme", "Not A Slug", "slug"), ("Acme", "-acme", "slug")] {
        let (status, body) = post(&acme, "/api/admin/org-update", &[("id", &id), ("name", name), ("slug", slug)]).await;
        assert_eq!((status, body["Validation"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)));
    }
    let (status, body) =
        post(&acme, "/api/admin/member-role", &[("org_id", &id), ("user_id", &bob), ("role", "Owner!")]).await;
    assert_eq!((status, body["Validation"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("role")));
    assert!(acme.clerk.requests("/v1/organizations").iter().all(|r| r.method == "GET"), "Clerk was not asked");

    acme.clerk.fail("/v1/organizations/org_acme", Fault::Status(422));
    let (status, body) =
        post(&acme, "/api/admin/org-update", &[("id", &id), ("name", "Renamed"), ("slug", "acme")]).await;
    assert_eq!((status, body), (StatusCode::UNPROCESSABLE_ENTITY, json!({ "ClerkRefused": "injected failure" })));
    let (status, _) = post(&acme, "/api/admin/member-remove", &[("org_id", &id), ("user_id", &bob)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    acme.clerk.clear_faults();
    acme.clerk.fail("/v1/organizations/org_acme", Fault::Status(503));
    let (status, _) =
        post(&acme, "/api/admin/member-role", &[("org_id", &id), ("user_id", &bob), ("role", "admin")]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    assert_eq!(org_search::find(&acme.app.db, acme.org_id).await.expect("query"), before);
    assert_eq!(org_search::members(&acme.app.db, acme.org_id, 1).await.expect("members").total, 2);
    assert!(audit_log::for_object(&acme.app.db, "organization", &id, 10).await.expect("audit").is_empty());
}

async fn a_large_organization_pages_its_members(backend: Backend) {
    let acme = setup(backend).await;
    let org = fake_clerk::organization("org_acme", "Acme", "acme");
    for n in 0..60 {
        let user = fake_clerk::user(&format!("user_{n:02}"), &format!("member{n:02}@example.com"), "M", "N");
        let row = acme.app.mirror(&user).await;
        let m = fake_clerk::membership(&format!("orgmem_bulk_{n}"), &org, &user, "org:member");
        let fields = mapping::membership_parts(&m).expect("maps").into_fields(acme.org_id, row.id);
        memberships::upsert(&acme.app.db, &fields).await.expect("membership");
    }
    let id = acme.org_id.to_string();
    let first = post(&acme, "/api/admin/org", &[("id", &id)]).await.1;
    assert_eq!((first["members_total"].as_i64(), first["members_pages"].as_i64()), (Some(62), Some(2)));
    assert_eq!(first["members"].as_array().map(Vec::len), Some(50));
    assert_eq!(first["members"][0]["email"], "alice@example.com", "oldest first");
    let second = post(&acme, "/api/admin/org", &[("id", &id), ("page", "2")]).await.1;
    assert_eq!((second["members_page"].as_i64(), second["members"].as_array().map(Vec::len)), (Some(2), Some(12)));

    let html = acme.app.admin_page(&format!("/admin/orgs/{id}?page=2"), &acme.cookie).await.text().await.expect("html");
    assert!(html.contains("62 total · page 2 of 2") && html.contains("member59@example.com"), "{html}");
    assert!(!html.contains("alice@example.com"), "page 2 starts past the first 50");
}
