//! The admin's organizations over HTTP: listing and detail, rename and slug, a member's role
//! and removal, all written through to the fake Clerk and audited.

use crate::common;

use backend::{
    clerk::mapping,
    db::{audit_log, invitations, memberships, org_search, organizations},
};
use common::{TestApp, staff::StaffCookie};
use fake_clerk::{FakeClerk, Fault, TEST_WEBHOOK_SECRET};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Backend;

testkit::each_backend!(
    backend:
    organizations_are_listed_searched_and_shown_with_members_and_invitations,
    a_rename_and_slug_change_are_written_through_and_audited,
    a_member_role_change_is_written_through_and_audited,
    a_member_removal_is_written_through_and_leaves_a_tombstone,
    bad_org_input_and_clerk_refusals_change_nothing,
    a_large_organization_pages_its_members,
    an_invitation_goes_through_clerk_and_is_revoked_audited,
    invitation_webhooks_in_any_order_leave_the_admin_invitation_final,
    invitations_are_listed_in_pages,
);

/// Invites through the admin; returns the invitation's local id and Clerk id.
async fn invite(acme: &Acme, email: &str) -> (String, String) {
    let org = acme.org_id.to_string();
    let form = [("org_id", org.as_str()), ("email_address", email), ("role", "org:admin")];
    let (status, body) = post(acme, "/api/admin/org-invite", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, detail) = post(acme, "/api/admin/org", &[("id", &org)]).await;
    let row = detail["invitations"].as_array().expect("list").iter().find(|i| i["email_address"] == email).cloned();
    let row = row.expect("listed");
    let stored = invitations::addressed_to(&acme.app.db, email).await.expect("query");
    (row["id"].to_string(), stored[0].clerk_id.clone())
}

struct Acme {
    clerk: FakeClerk,
    app: TestApp,
    cookie: StaffCookie,
    org_id: ids::OrgId,
    bob_id: ids::UserId,
}

async fn setup(backend: Backend) -> Acme {
    let clerk = FakeClerk::start().await;
    let org = fake_clerk::organization("org_acme", "Acme", "acme");
    let alice = fake_clerk::user("user_alice", "alice@example.com", "Alice", "A");
    let bob = fake_clerk::user("user_bob", "bob@example.com", "Bob", "B");
    clerk.put_organization(org.clone());
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)]).await;
    let stored = organizations::upsert_from_clerk(&app.db, &mapping::organization_fields(&org).expect("maps"))
        .await
        .expect("org")
        .expect("stored");
    let mut bob_id = ids::UserId(0);
    for (user, role) in [(&alice, "org:admin"), (&bob, "org:member")] {
        clerk.put_user(user.clone());
        let row = app.mirror(user).await;
        bob_id = row.id;
        let mut m = fake_clerk::membership(&format!("orgmem_{}", row.id), &org, user, role);
        if role == "org:member" {
            m["public_metadata"] = json!({ "seat": 7 });
        }
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
    let metadata: Vec<&str> =
        detail["members"].as_array().expect("members").iter().filter_map(|m| m["public_metadata"].as_str()).collect();
    assert_eq!(metadata, ["", r#"{"seat":7}"#], "membership metadata is mirrored and shown");
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

async fn an_invitation_goes_through_clerk_and_is_revoked_audited(backend: Backend) {
    let acme = setup(backend).await;
    let org = acme.org_id.to_string();
    let (id, clerk_id) = invite(&acme, "dave@example.com").await;
    let sent = acme.clerk.requests("/v1/organizations/org_acme/invitations");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body, Some(json!({ "email_address": "dave@example.com", "role": "org:admin" })));
    assert_eq!(acme.clerk.invitation(&clerk_id).expect("in Clerk")["status"], "pending");
    let (_, detail) = post(&acme, "/api/admin/org", &[("id", &org)]).await;
    assert_eq!(
        (detail["invitations_total"].as_i64(), detail["invitations"][0]["status"].as_str()),
        (Some(2), Some("pending"))
    );

    // Bad input and Clerk's refusals change nothing.
    let bad =
        post(&acme, "/api/admin/org-invite", &[("org_id", &org), ("email_address", "nope"), ("role", "org:member")])
            .await;
    assert_eq!(
        (bad.0, bad.1["Validation"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("email_address"))
    );
    let twice = post(
        &acme,
        "/api/admin/org-invite",
        &[("org_id", &org), ("email_address", "dave@example.com"), ("role", "org:member")],
    )
    .await;
    assert_eq!(twice.0, StatusCode::UNPROCESSABLE_ENTITY, "Clerk refuses a second pending invitation: {}", twice.1);
    assert_eq!(
        acme.clerk.requests("/v1/organizations/org_acme/invitations").len(),
        2,
        "the bad email never reached Clerk"
    );
    assert_eq!(invitations::addressed_to(&acme.app.db, "dave@example.com").await.expect("query").len(), 1);

    let (status, _) =
        post(&acme, "/api/admin/org-invitation-revoke", &[("org_id", &org), ("invitation_id", &id)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(acme.clerk.invitation(&clerk_id).expect("in Clerk")["status"], "revoked");
    let stored = invitations::addressed_to(&acme.app.db, "dave@example.com").await.expect("query");
    assert_eq!(stored[0].status, "revoked");
    let again = post(&acme, "/api/admin/org-invitation-revoke", &[("org_id", &org), ("invitation_id", &id)]).await;
    assert_eq!(again.0, StatusCode::FORBIDDEN, "a final invitation stays final");

    let audit = audit_log::for_object(&acme.app.db, "organization", &org, 10).await.expect("audit");
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions[..2], ["invitation.revoke", "invitation.create"]);
    assert_eq!(audit[0].changes.0["status"], json!({ "before": "pending", "after": "revoked" }));
}

async fn invitation_webhooks_in_any_order_leave_the_admin_invitation_final(backend: Backend) {
    let acme = setup(backend).await;
    // (events after the admin's invite, final status)
    let cases: [(&str, &[&str], &str); 3] = [
        ("erin@example.com", &["organizationInvitation.accepted", "organizationInvitation.created"], "accepted"),
        ("frank@example.com", &["organizationInvitation.revoked", "organizationInvitation.accepted"], "revoked"),
        ("gina@example.com", &["organizationInvitation.created", "organizationInvitation.accepted"], "accepted"),
    ];
    for (email, events, expected) in cases {
        let (_, clerk_id) = invite(&acme, email).await;
        let sent = acme.clerk.invitation(&clerk_id).expect("in Clerk");
        for event in events {
            let mut data = sent.clone();
            data["status"] = json!(match *event {
                "organizationInvitation.accepted" => "accepted",
                "organizationInvitation.revoked" => "revoked",
                _ => "pending",
            });
            let (status, _) = acme.app.deliver(event, &data).await;
            assert_eq!(status, StatusCode::OK, "{email} {event}");
        }
        let stored = invitations::addressed_to(&acme.app.db, email).await.expect("query");
        assert_eq!(stored[0].status, expected, "{email}: {events:?}");
    }
    // Revoked here first: a late created or accepted changes nothing.
    let (id, clerk_id) = invite(&acme, "hal@example.com").await;
    let org = acme.org_id.to_string();
    post(&acme, "/api/admin/org-invitation-revoke", &[("org_id", &org), ("invitation_id", &id)]).await;
    let mut late = acme.clerk.invitation(&clerk_id).expect("in Clerk");
    for (event, status) in
        [("organizationInvitation.created", "pending"), ("organizationInvitation.accepted", "accepted")]
    {
        late["status"] = json!(status);
        acme.app.deliver(event, &late).await;
    }
    assert_eq!(invitations::addressed_to(&acme.app.db, "hal@example.com").await.expect("query")[0].status, "revoked");
}

async fn invitations_are_listed_in_pages(backend: Backend) {
    let acme = setup(backend).await;
    let mut tx = acme.app.db.begin().await.expect("tx");
    for i in 0..60 {
        let (clerk_id, email) = (format!("orginv_bulk_{i}"), format!("bulk{i}@example.com"));
        let fields = invitations::InvitationFields {
            clerk_id: &clerk_id,
            organization_id: acme.org_id,
            email_address: &email,
            role: "org:member",
            status: if i % 2 == 0 { "pending" } else { "accepted" },
            inviter_id: None,
            public_metadata: &json!({}),
        };
        invitations::upsert_in(tx.conn(), &fields).await.expect("inv");
    }
    tx.commit().await.expect("commit");
    let org = acme.org_id.to_string();
    let (_, first) = post(&acme, "/api/admin/org", &[("id", &org)]).await;
    assert_eq!(
        (first["invitations"].as_array().map(Vec::len), first["invitations_pages"].as_i64()),
        (Some(50), Some(2))
    );
    let (_, second) = post(&acme, "/api/admin/org", &[("id", &org), ("ipage", "2")]).await;
    assert_eq!(
        (second["invitations"].as_array().map(Vec::len), second["invitations_total"].as_i64()),
        (Some(11), Some(61))
    );
    let html =
        acme.app.admin_page(&format!("/admin/orgs/{org}?ipage=2"), &acme.cookie).await.text().await.expect("html");
    assert!(html.contains("61 total · page 2 of 2") && html.contains("?ipage=1"), "the invitations pager");
    assert_eq!(html.matches(">Revoke</button>").count(), 6, "only pending ones can be revoked: {html}");
}
