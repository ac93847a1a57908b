//! `POST /webhooks/clerk` through real HTTP, with deliveries signed by the fake Clerk.

use crate::common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use backend::{
    db::{users, webhook_events},
    on_pool,
};
use common::{TestApp, server_session_cookie};
use fake_clerk::{FakeClerk, Fault, TEST_WEBHOOK_SECRET, now_secs, session_claims, sign_raw, webhook, webhook_at};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Backend;

testkit::each_backend!(
    backend:
    user_events_create_update_and_tombstone_the_row,
    a_deleted_users_personal_data_is_erased_from_the_tombstone,
    a_deleted_users_personal_data_is_erased_from_every_table,
    keep_deleted_user_data_keeps_it,
    session_created_records_the_last_login,
    session_end_events_record_the_last_logout_moving_forward_only,
    session_revoked_ends_the_server_session_on_the_next_request,
    a_revoked_sessions_token_is_refused_by_an_instance_started_later,
    organization_events_mirror_the_organization,
    membership_events_mirror_the_membership_and_fetch_an_unknown_user,
    a_member_fetch_that_hangs_holds_up_no_other_delivery,
    invitation_events_track_the_status,
    unknown_event_types_are_ignored_and_logged,
    every_refused_delivery_is_400_and_writes_nothing,
    a_replay_is_a_duplicate_and_changes_nothing,
    standard_webhooks_headers_are_accepted_as_svix_sends_them,
    ten_concurrent_deliveries_of_one_id_apply_once,
    out_of_order_user_events_never_go_back_in_time,
    a_late_membership_created_after_deleted_stays_deleted,
    a_database_failure_is_503_and_the_retry_is_processed,
    one_failure_among_200_concurrent_deliveries_fails_alone,
    generated_usernames_are_stable_across_updates,
    a_missing_secret_answers_503,
);

async fn setup(backend: Backend) -> (FakeClerk, TestApp) {
    setup_with(backend, &[]).await
}

async fn setup_with(backend: Backend, env: &[(&str, &str)]) -> (FakeClerk, TestApp) {
    let clerk = FakeClerk::start().await;
    let mut all = vec![("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)];
    all.extend_from_slice(env);
    let app = TestApp::with_clerk(backend, &clerk, &all).await;
    (clerk, app)
}

fn alice_at(updated_at: i64) -> Value {
    let mut user = fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell");
    user["updated_at"] = json!(updated_at);
    user
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    on_pool!(&app.db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await).expect("count")
}

async fn user_events_create_update_and_tombstone_the_row(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    let (status, body) = app.deliver("user.created", &alice_at(1_000)).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("processed")));
    let row = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").expect("created");
    assert_eq!(row.email, "alice@example.com", "the primary address, not the first listed");
    assert_eq!(row.image_url, "https://img.clerk.com/user_alice.png");
    assert!(row.last_sign_in_at.is_some());

    let mut updated = alice_at(2_000);
    updated["first_name"] = json!("Alicia");
    updated["public_metadata"] = json!({ "plan": "pro" });
    updated["locked"] = json!(true);
    assert_eq!(app.deliver("user.updated", &updated).await.1["status"], "processed");
    let row = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").expect("exists");
    assert_eq!(row.first_name, "Alicia");
    assert_eq!(row.public_metadata.0, json!({ "plan": "pro" }));
    assert!(!row.is_active, "locked users are inactive");

    let deleted = json!({ "object": "user", "id": "user_alice", "deleted": true });
    assert_eq!(app.deliver("user.deleted", &deleted).await.1["status"], "processed");
    let row = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").expect("tombstone");
    assert!(row.deleted_at.is_some() && !row.is_active);

    let stored = webhook_events::count(&app.db).await.expect("count");
    assert_eq!(stored, 3, "each delivery is logged");
}

/// Every text column of the user's row, by name (JSON columns are checked through `User`).
async fn text_columns(app: &TestApp, clerk_id: &str) -> Vec<(String, String)> {
    use sqlx::{Column, Row};
    let sql = "SELECT * FROM users WHERE clerk_id = $1";
    on_pool!(&app.db, pool => {
        let row = sqlx::query(sql).bind(clerk_id).fetch_one(pool).await.expect("the tombstone");
        row.columns()
            .iter()
            .filter_map(|c| row.try_get::<Option<String>, _>(c.ordinal()).ok().flatten().map(|v| (c.name().to_owned(), v)))
            .collect()
    })
}

async fn deleted_alice(env: &[(&str, &str)], backend: Backend) -> (TestApp, Vec<(String, String)>, users::User) {
    let (_clerk, app) = setup_with(backend, env).await;
    let mut alice = alice_at(1_000);
    alice["public_metadata"] = json!({ "plan": "pro" });
    alice["username"] = json!("alice_l");
    assert_eq!(app.deliver("user.created", &alice).await.1["status"], "processed");
    on_pool!(&app.db, pool => sqlx::query("UPDATE users SET bio = $1 WHERE clerk_id = $2")
        .bind("Alice Liddell, Oxford")
        .bind("user_alice")
        .execute(pool)
        .await
        .map(|_| ()))
    .expect("bio");
    let deleted = json!({ "object": "user", "id": "user_alice", "deleted": true });
    assert_eq!(app.deliver("user.deleted", &deleted).await.1["status"], "processed");
    let columns = text_columns(&app, "user_alice").await;
    let row = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").expect("tombstone");
    (app, columns, row)
}

async fn a_deleted_users_personal_data_is_erased_from_the_tombstone(backend: Backend) {
    let (_app, columns, row) = deleted_alice(&[], backend).await;
    for (name, value) in &columns {
        // The clerk_id stays (and search columns built from it); nothing else may name her.
        let lower = value.to_lowercase().replace("user_alice", "");
        assert!(
            !["alice", "liddell", "oxford", "img.clerk.com", "pro"].iter().any(|s| lower.contains(s)),
            "column {name} still holds personal data: {value}"
        );
    }
    assert!(columns.iter().any(|(name, v)| name == "clerk_id" && v == "user_alice"), "the clerk_id stays");
    assert_eq!(row.public_metadata.0, json!({}));
    assert_eq!((row.username, row.last_sign_in_at), (None, None));
    assert!(row.deleted_at.is_some() && !row.is_active);
}

/// Every row of every table, as text (SQLite: each column, blobs read lossily; Postgres: the row
/// as JSON), for a search for personal data.
async fn every_row_as_text(app: &TestApp) -> Vec<(String, String)> {
    use sqlx::{Column, Row};
    let mut rows = Vec::new();
    match &app.db {
        backend::Db::Sqlite(sqlite) => {
            let pool = &sqlite.readers;
            let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(pool)
                .await
                .expect("tables");
            for table in tables {
                for row in sqlx::query(&format!("SELECT * FROM \"{table}\"")).fetch_all(pool).await.expect("rows") {
                    for c in row.columns() {
                        let text = row.try_get::<Option<String>, _>(c.ordinal()).ok().flatten().or_else(|| {
                            row.try_get::<Option<Vec<u8>>, _>(c.ordinal())
                                .ok()
                                .flatten()
                                .map(|b| String::from_utf8_lossy(&b).into_owned())
                        });
                        if let Some(text) = text {
                            rows.push((format!("{table}.{}", c.name()), text));
                        }
                    }
                }
            }
        }
        backend::Db::Postgres(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
            )
            .fetch_all(pool)
            .await
            .expect("tables");
            for table in tables {
                let sql = format!("SELECT row_to_json(t)::text FROM \"{table}\" t");
                for text in sqlx::query_scalar::<_, String>(&sql).fetch_all(pool).await.expect("rows") {
                    rows.push((table.clone(), text));
                }
            }
        }
    }
    rows
}

async fn a_deleted_users_personal_data_is_erased_from_every_table(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    let org = fake_clerk::organization("org_wonder", "Wonderland", "wonderland");
    assert_eq!(app.deliver("organization.created", &org).await.1["status"], "processed");
    let mut alice = alice_at(1_000);
    alice["username"] = json!("alice_l");
    assert_eq!(app.deliver("user.created", &alice).await.1["status"], "processed");
    let mut membership = fake_clerk::membership("orgmem_alice", &org, &alice, "org:admin");
    membership["public_metadata"] = json!({ "title": "Alice Liddell, Oxford" });
    assert_eq!(app.deliver("organizationMembership.created", &membership).await.1["status"], "processed");
    let invitation = json!({
        "object": "organization_invitation", "id": "orginv_alice", "organization_id": "org_wonder",
        "email_address": "Alice@Example.com", "role": "org:member", "status": "pending",
        "public_metadata": { "invited_as": "Alice Liddell" },
        "created_at": 1_700_000_000_000i64, "updated_at": 1_700_000_000_000i64
    });
    assert_eq!(app.deliver("organizationInvitation.created", &invitation).await.1["status"], "processed");
    // What the admin's audit log writes about her: an edit, a role change, an invitation.
    let alice_id = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("q").expect("alice").id;
    for (action, object_type, object_id, changes) in [
        (
            "user.update",
            "user",
            alice_id.to_string(),
            json!({ "first_name": { "before": "Alice", "after": "Alicia" } }),
        ),
        (
            "membership.update",
            "organization",
            "org_wonder".into(),
            json!({ "member": "alice@example.com", "role": { "before": "org:member", "after": "org:admin" } }),
        ),
        (
            "invitation.create",
            "organization",
            "org_wonder".into(),
            json!({ "email": "alice@example.com", "role": "org:member" }),
        ),
    ] {
        let record = backend::db::audit_log::AuditRecord {
            actor_user_id: alice_id,
            action,
            object_type,
            object_id: &object_id,
            changes: &changes,
        };
        let mut tx = app.db.begin().await.expect("tx");
        backend::db::audit_log::record_in(tx.conn(), &record).await.expect("audit");
        tx.commit().await.expect("commit");
    }
    let found = |rows: &[(String, String)]| -> Vec<String> {
        rows.iter()
            .filter(|(_, v)| {
                let lower =
                    v.to_lowercase().replace("user_alice", "").replace("orgmem_alice", "").replace("orginv_alice", "");
                ["alice", "liddell", "oxford"].iter().any(|s| lower.contains(s))
            })
            .map(|(where_, _)| where_.clone())
            .collect()
    };
    assert!(!found(&every_row_as_text(&app).await).is_empty(), "the search finds her before");

    let deleted = json!({ "object": "user", "id": "user_alice", "deleted": true });
    assert_eq!(app.deliver("user.deleted", &deleted).await.1["status"], "processed");
    let left = found(&every_row_as_text(&app).await);
    assert!(left.is_empty(), "personal data left in: {left:?}");
}

async fn keep_deleted_user_data_keeps_it(backend: Backend) {
    let (_app, _columns, row) = deleted_alice(&[("CLERK_KEEP_DELETED_USER_DATA", "true")], backend).await;
    assert_eq!((row.email.as_str(), row.first_name.as_str()), ("alice@example.com", "Alice"));
    assert_eq!(row.public_metadata.0, json!({ "plan": "pro" }));
    assert!(row.deleted_at.is_some() && !row.is_active);
}

async fn session_created_records_the_last_login(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    app.deliver("user.created", &alice_at(1_000)).await;
    let session = json!({ "object": "session", "id": "sess_1", "user_id": "user_alice", "status": "active",
        "created_at": 1_700_000_000_000i64, "updated_at": 1_700_000_000_000i64 });
    assert_eq!(app.deliver("session.created", &session).await.1["status"], "processed");
    let row = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").expect("exists");
    assert_eq!(row.last_login.map(|t| t.timestamp()), Some(1_700_000_000));
}

async fn session_end_events_record_the_last_logout_moving_forward_only(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    app.deliver("user.created", &alice_at(1_000)).await;
    let ended = |id: &str, status: &str, at: i64| {
        json!({ "object": "session", "id": id, "user_id": "user_alice", "status": status,
            "created_at": 1_600_000_000_000i64, "updated_at": at })
    };
    let last_logout = || async {
        users::find_by_clerk_id(&app.db, &"user_alice".into())
            .await
            .expect("query")
            .expect("exists")
            .last_logout
            .map(|t| t.timestamp())
    };
    assert_eq!(last_logout().await, None);
    for (event, status, id, at, expected) in [
        ("session.ended", "ended", "sess_1", 1_700_000_000_000i64, 1_700_000_000),
        ("session.revoked", "revoked", "sess_2", 1_700_000_100_000, 1_700_000_100),
        // An older event arriving late does not move it back.
        ("session.removed", "removed", "sess_3", 1_700_000_050_000, 1_700_000_100),
    ] {
        assert_eq!(app.deliver(event, &ended(id, status, at)).await.1["status"], "processed", "{event}");
        assert_eq!(last_logout().await, Some(expected), "{event}");
    }
}

async fn session_revoked_ends_the_server_session_on_the_next_request(backend: Backend) {
    let (clerk, app) = setup(backend).await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell"));
    let token = clerk.mint(&session_claims("user_alice"));
    let res = app.me_cookie(&format!("__session={token}")).await;
    let session = server_session_cookie(&res).expect("server session");
    assert_eq!(app.me_cookie(&session).await.status(), StatusCode::OK);

    let revoked = json!({ "object": "session", "id": "sess_user_alice", "user_id": "user_alice", "status": "revoked" });
    assert_eq!(app.deliver("session.revoked", &revoked).await.1["status"], "processed");
    assert_eq!(app.me_cookie(&session).await.status(), StatusCode::UNAUTHORIZED, "the server session is gone");
    let both = format!("__session={token}; {session}");
    assert_eq!(
        app.me_cookie(&both).await.status(),
        StatusCode::UNAUTHORIZED,
        "the unexpired token of the ended session too"
    );
}

/// Revocations live in the database: an instance that starts after the webhook (a restart, a
/// new replica) still refuses the ended session's unexpired token.
async fn a_revoked_sessions_token_is_refused_by_an_instance_started_later(backend: Backend) {
    let (clerk, app) = setup(backend).await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "Liddell"));
    let token = clerk.mint(&session_claims("user_alice"));
    assert_eq!(app.me_bearer(&token).await.status(), StatusCode::OK);
    let revoked = json!({ "object": "session", "id": "sess_user_alice", "user_id": "user_alice", "status": "revoked" });
    assert_eq!(app.deliver("session.revoked", &revoked).await.1["status"], "processed");

    let api_url = clerk.api_url();
    let later = app
        .spawn_beside(&[("CLERK_SECRET_KEY", fake_clerk::FakeClerk::SECRET_KEY), ("CLERK_API_URL", api_url.as_str())])
        .await;
    let res = later.me_bearer(&token).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.expect("json")["error"], "Session ended");
    // Another session of the same user is not affected.
    let other = clerk.mint(&{
        let mut c = session_claims("user_alice");
        c["sid"] = json!("sess_other");
        c
    });
    assert_eq!(later.me_bearer(&other).await.status(), StatusCode::OK);
}

async fn organization_events_mirror_the_organization(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    let mut org = fake_clerk::organization("org_acme", "Acme", "acme");
    org["updated_at"] = json!(1_000);
    assert_eq!(app.deliver("organization.created", &org).await.1["status"], "processed");
    org["name"] = json!("Acme Inc");
    org["updated_at"] = json!(2_000);
    assert_eq!(app.deliver("organization.updated", &org).await.1["status"], "processed");
    let row =
        backend::db::organizations::find_by_clerk_id(&app.db, &"org_acme".into()).await.expect("query").expect("org");
    assert_eq!(row.name, "Acme Inc");
    assert_eq!(row.max_allowed_memberships, Some(5));

    let deleted = json!({ "object": "organization", "id": "org_acme", "slug": "acme", "deleted": true });
    assert_eq!(app.deliver("organization.deleted", &deleted).await.1["status"], "processed");
    org["updated_at"] = json!(3_000);
    assert_eq!(app.deliver("organization.updated", &org).await.1["status"], "stale", "tombstones win");
    let row =
        backend::db::organizations::find_by_clerk_id(&app.db, &"org_acme".into()).await.expect("query").expect("org");
    assert!(row.deleted_at.is_some() && !row.is_active);
}

async fn membership_events_mirror_the_membership_and_fetch_an_unknown_user(backend: Backend) {
    let (clerk, app) = setup(backend).await;
    let org = fake_clerk::organization("org_acme", "Acme", "acme");
    let bob = fake_clerk::user("user_bob", "bob@example.com", "Bob", "Builder");
    clerk.put_user(bob.clone());
    let mut membership = fake_clerk::membership("orgmem_1", &org, &bob, "org:member");
    membership["updated_at"] = json!(1_000);

    // Bob is unknown locally: the one call back to Clerk fetches him.
    assert_eq!(app.deliver("organizationMembership.created", &membership).await.1["status"], "processed");
    assert_eq!(clerk.requests("/v1/users/user_bob").len(), 1);
    let bob_row = users::find_by_clerk_id(&app.db, &"user_bob".into()).await.expect("query").expect("fetched");
    let m =
        backend::db::memberships::find(&app.db, bob_row.id, &"org_acme".into()).await.expect("query").expect("member");
    assert_eq!(m.role, "org:member");

    membership["role"] = json!("org:admin");
    membership["updated_at"] = json!(2_000);
    assert_eq!(app.deliver("organizationMembership.updated", &membership).await.1["status"], "processed");
    let m =
        backend::db::memberships::find(&app.db, bob_row.id, &"org_acme".into()).await.expect("query").expect("member");
    assert_eq!(m.role, "org:admin");

    membership["updated_at"] = json!(3_000);
    assert_eq!(app.deliver("organizationMembership.deleted", &membership).await.1["status"], "processed");
    assert_eq!(backend::db::memberships::find(&app.db, bob_row.id, &"org_acme".into()).await.expect("query"), None);

    // Re-created with a new id for the same (org, user).
    let mut again = fake_clerk::membership("orgmem_2", &org, &bob, "org:member");
    again["updated_at"] = json!(4_000);
    assert_eq!(app.deliver("organizationMembership.created", &again).await.1["status"], "processed");
    let m =
        backend::db::memberships::find(&app.db, bob_row.id, &"org_acme".into()).await.expect("query").expect("member");
    assert_eq!(m.clerk_id, "orgmem_2");
}

/// The call back to Clerk for an unknown member happens before the writer: a Clerk that hangs
/// delays that delivery only, never the writes queued behind it.
async fn a_member_fetch_that_hangs_holds_up_no_other_delivery(backend: Backend) {
    let (clerk, app) = setup(backend).await;
    let org = fake_clerk::organization("org_acme", "Acme", "acme");
    let bob = fake_clerk::user("user_bob", "bob@example.com", "Bob", "Builder");
    clerk.put_user(bob.clone());
    clerk.fail("/v1/users/user_bob", Fault::Hang);
    let membership = fake_clerk::membership("orgmem_1", &org, &bob, "org:member");
    let app = Arc::new(app);
    let pending = {
        let app = Arc::clone(&app);
        tokio::spawn(async move { app.deliver("organizationMembership.created", &membership).await })
    };
    let asked =
        common::eventually(Duration::from_secs(10), || async { !clerk.requests("/v1/users/user_bob").is_empty() });
    assert!(asked.await, "the member is being fetched");

    let started = Instant::now();
    assert_eq!(app.deliver("user.created", &alice_at(1_000)).await.1["status"], "processed");
    assert!(started.elapsed() < Duration::from_secs(3), "waited {:?} behind the hanging fetch", started.elapsed());
    assert!(!pending.is_finished(), "the membership delivery is still waiting for Clerk");
    pending.abort();
}

async fn invitation_events_track_the_status(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    app.deliver("organization.created", &fake_clerk::organization("org_acme", "Acme", "acme")).await;
    let invitation = |id: &str, status: &str| {
        json!({ "object": "organization_invitation", "id": id, "email_address": "new@example.com",
            "role": "org:member", "status": status, "organization_id": "org_acme", "inviter_id": "user_boss",
            "public_metadata": { "team": "ops" }, "created_at": 1, "updated_at": 1 })
    };
    let row = |id: &'static str| {
        let db = app.db.clone();
        async move {
            let sql = "SELECT id, clerk_id, organization_id, email_address, role, status, created_at, updated_at, \
                       inviter_id, public_metadata FROM organization_invitations WHERE clerk_id = $1";
            on_pool!(&db, pool => sqlx::query_as::<_, backend::db::invitations::Invitation>(sql).bind(id).fetch_one(pool).await)
                .expect("row")
        }
    };
    assert_eq!(
        app.deliver("organizationInvitation.created", &invitation("orginv_1", "pending")).await.1["status"],
        "processed"
    );
    let created = row("orginv_1").await;
    assert_eq!(
        (created.inviter_id.as_deref(), &created.public_metadata.0),
        (Some("user_boss"), &json!({ "team": "ops" }))
    );
    // Accepted and revoked are final, whatever arrives later or in whichever order.
    let pending = ("organizationInvitation.created", "pending");
    for (id, status, late) in [
        ("orginv_1", "accepted", [pending, ("organizationInvitation.revoked", "revoked")]),
        ("orginv_2", "revoked", [pending, ("organizationInvitation.accepted", "accepted")]),
    ] {
        let event = format!("organizationInvitation.{status}");
        assert_eq!(app.deliver(&event, &invitation(id, status)).await.1["status"], "processed", "{id}");
        for (event, late_status) in late {
            assert_eq!(app.deliver(event, &invitation(id, late_status)).await.1["status"], "stale", "{id} {event}");
        }
        assert_eq!(row(id).await.status, status);
    }
    assert_eq!(count(&app, "organization_invitations").await, 2);
}

async fn unknown_event_types_are_ignored_and_logged(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    let (status, body) = app.deliver("email.created", &json!({ "id": "ema_1" })).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "ignored" })));
    assert_eq!(webhook_events::count(&app.db).await.expect("count"), 1);
}

type Headers = Vec<(&'static str, String)>;

async fn every_refused_delivery_is_400_and_writes_nothing(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    let good = webhook(TEST_WEBHOOK_SECRET, "msg_good", "user.created", &alice_at(1));
    let send = |headers: Vec<(&'static str, String)>, body: String| {
        let mut req = app.client.post(app.url("/webhooks/clerk")).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        async move {
            let res = req.send().await.expect("request");
            (res.status(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let all = good.headers().to_vec();
    let mut cases: Vec<(&str, Headers, String)> = Vec::new();
    for skip in 0..3 {
        let headers = all.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, h)| h.clone()).collect();
        cases.push(("a missing header", headers, good.body.clone()));
    }
    let mut bad_sig = all.clone();
    bad_sig[2].1 = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into();
    cases.push(("a bad signature", bad_sig, good.body.clone()));
    cases.push(("a body changed after signing", all.clone(), good.body.replace("Alice", "Mallory")));
    let wrong_secret = webhook("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_good", "user.created", &alice_at(1));
    cases.push(("another secret", wrong_secret.headers().to_vec(), wrong_secret.body.clone()));
    for offset in [-400, 400] {
        let d = webhook_at(TEST_WEBHOOK_SECRET, "msg_time", "user.created", &alice_at(1), now_secs() + offset);
        cases.push(("a timestamp beyond 5 minutes", d.headers().to_vec(), d.body.clone()));
    }
    let huge = format!("{{\"type\":\"user.created\",\"data\":{{\"pad\":\"{}\"}}}}", "x".repeat(1_100_000));
    let d = sign_raw(TEST_WEBHOOK_SECRET, "msg_huge", now_secs(), huge);
    cases.push(("an oversized body", d.headers().to_vec(), d.body.clone()));
    for body in [
        "[1,2,3]",
        "\"a string\"",
        "not json",
        "{\"data\":{}}",
        "{\"type\":5,\"data\":{}}",
        "{\"type\":\"user.created\",\"data\":null}",
        "{\"type\":\"user.created\",\"data\":[]}",
        "{\"type\":\"user.created\",\"data\":{\"id\":\"user_x\"}}",
    ] {
        let d = sign_raw(TEST_WEBHOOK_SECRET, "msg_shape", now_secs(), body.to_owned());
        cases.push(("a malformed body", d.headers().to_vec(), d.body.clone()));
    }

    for (what, headers, body) in cases {
        let (status, json) = send(headers, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}");
        assert!(json["error"].is_string(), "{what}: {json}");
    }
    assert_eq!(webhook_events::count(&app.db).await.expect("count"), 0);
    assert_eq!(users::count(&app.db).await.expect("count"), 0);
}

async fn a_replay_is_a_duplicate_and_changes_nothing(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    let delivery = webhook(TEST_WEBHOOK_SECRET, "msg_replay", "user.created", &alice_at(1_000));
    assert_eq!(app.post_webhook(&delivery).await.1["status"], "processed");
    // A later change, then the replay of the first delivery.
    let mut newer = alice_at(2_000);
    newer["first_name"] = json!("Alicia");
    app.deliver("user.updated", &newer).await;
    let (status, body) = app.post_webhook(&delivery).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "duplicate" })));
    let row = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").expect("exists");
    assert_eq!(row.first_name, "Alicia");
}

/// Svix also sends the Standard Webhooks names (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`); a delivery with only those is verified and applied, its id is the
/// same idempotency key as `svix-id`, and a bad signature under them is still refused.
async fn standard_webhooks_headers_are_accepted_as_svix_sends_them(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    let delivery = webhook(TEST_WEBHOOK_SECRET, "msg_standard", "user.created", &alice_at(1_000));
    let post = |headers: [(&'static str, String); 3]| {
        let mut req = app.client.post(app.url("/webhooks/clerk")).body(delivery.body.clone());
        for (name, value) in headers {
            req = req.header(name, value);
        }
        req.send()
    };
    let res = post(delivery.standard_headers()).await.expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.expect("json")["status"], "processed");
    assert!(users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").is_some());
    // The same delivery under Svix's names is the same delivery.
    assert_eq!(app.post_webhook(&delivery).await.1["status"], "duplicate");
    let mut forged = delivery.standard_headers();
    forged[2].1 = "v1,AAAA".into();
    assert_eq!(post(forged).await.expect("request").status(), StatusCode::BAD_REQUEST);
}

async fn ten_concurrent_deliveries_of_one_id_apply_once(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    let app = Arc::new(app);
    let delivery = Arc::new(webhook(TEST_WEBHOOK_SECRET, "msg_race", "user.created", &alice_at(1_000)));
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, delivery) = (Arc::clone(&app), Arc::clone(&delivery));
        tasks.push(tokio::spawn(async move { app.post_webhook(&delivery).await }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        let (status, body) = task.await.expect("task");
        assert_eq!(status, StatusCode::OK, "{body}");
        statuses.push(body["status"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(statuses.iter().filter(|s| *s == "processed").count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| *s == "duplicate").count(), 9, "{statuses:?}");
    assert_eq!(webhook_events::count(&app.db).await.expect("count"), 1);
    assert_eq!(users::count(&app.db).await.expect("count"), 1);
}

async fn out_of_order_user_events_never_go_back_in_time(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    // updated (newer) before created (older)
    let mut updated = alice_at(2_000);
    updated["first_name"] = json!("Newer");
    assert_eq!(app.deliver("user.updated", &updated).await.1["status"], "processed");
    assert_eq!(app.deliver("user.created", &alice_at(1_000)).await.1["status"], "stale");
    // an old update after a new one
    let mut old = alice_at(1_500);
    old["first_name"] = json!("Older");
    assert_eq!(app.deliver("user.updated", &old).await.1["status"], "stale");
    let row = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").expect("exists");
    assert_eq!(row.first_name, "Newer");
    // an update after deleted
    app.deliver("user.deleted", &json!({ "id": "user_alice", "deleted": true, "object": "user" })).await;
    assert_eq!(app.deliver("user.updated", &alice_at(9_000)).await.1["status"], "stale");
    let row = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").expect("exists");
    assert!(row.deleted_at.is_some() && !row.is_active, "no resurrection");
    // a deleted user we never saw stays deleted when its created arrives late
    app.deliver("user.deleted", &json!({ "id": "user_ghost", "deleted": true, "object": "user" })).await;
    let ghost = fake_clerk::user("user_ghost", "ghost@example.com", "G", "H");
    assert_eq!(app.deliver("user.created", &ghost).await.1["status"], "stale");
}

async fn a_late_membership_created_after_deleted_stays_deleted(backend: Backend) {
    let (clerk, app) = setup(backend).await;
    let org = fake_clerk::organization("org_acme", "Acme", "acme");
    let bob = fake_clerk::user("user_bob", "bob@example.com", "Bob", "Builder");
    clerk.put_user(bob.clone());
    let mut m = fake_clerk::membership("orgmem_1", &org, &bob, "org:member");
    m["updated_at"] = json!(1_000);
    assert_eq!(app.deliver("organizationMembership.deleted", &m).await.1["status"], "processed");
    assert_eq!(app.deliver("organizationMembership.created", &m).await.1["status"], "stale");
    let bob_row = users::find_by_clerk_id(&app.db, &"user_bob".into()).await.expect("query").expect("bob");
    assert_eq!(backend::db::memberships::find(&app.db, bob_row.id, &"org_acme".into()).await.expect("query"), None);
}

async fn a_database_failure_is_503_and_the_retry_is_processed(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    common::break_user_inserts(&app.db, backend).await;
    let delivery = webhook(TEST_WEBHOOK_SECRET, "msg_retry", "user.created", &alice_at(1_000));
    let (status, body) = app.post_webhook(&delivery).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(!body.to_string().contains("disk on fire"), "database errors stay in the log: {body}");
    let failed = webhook_events::find(&app.db, &"msg_retry".into()).await.expect("query").expect("a failure row");
    assert_eq!(failed.status, "failed", "recorded for the admin, not as processed");
    assert!(!failed.error.unwrap_or_default().contains("disk on fire"), "the cause stays in the log");
    assert_eq!(users::count(&app.db).await.expect("count"), 0);

    common::mend_user_inserts(&app.db, backend).await;
    assert_eq!(app.post_webhook(&delivery).await.1["status"], "processed", "Svix's retry is applied");
    assert_eq!(users::count(&app.db).await.expect("count"), 1);
    assert_eq!(
        webhook_events::find(&app.db, &"msg_retry".into()).await.expect("query").expect("row").status,
        "processed"
    );
    assert_eq!(app.post_webhook(&delivery).await.1["status"], "duplicate", "and only once");
}

/// Group commit: deliveries that arrive together share a transaction, yet each stands alone.
async fn one_failure_among_200_concurrent_deliveries_fails_alone(backend: Backend) {
    let (_clerk, app) = setup(backend).await;
    common::break_user_insert_of(&app.db, backend, "user_doomed").await;
    let app = Arc::new(app);
    let ids: Vec<String> =
        (0..200).map(|i| if i == 137 { "user_doomed".to_owned() } else { format!("user_{i:04}") }).collect();
    let mut tasks = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let user = fake_clerk::user(id, &format!("{id}@example.com"), "Load", "Test");
        let delivery = webhook(TEST_WEBHOOK_SECRET, &format!("msg_{i}"), "user.created", &user);
        let app = Arc::clone(&app);
        tasks.push(tokio::spawn(async move { app.post_webhook(&delivery).await }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    for (i, (status, body)) in answers.iter().enumerate() {
        if i == 137 {
            assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "the broken one: {body}");
        } else {
            assert_eq!((*status, body["status"].as_str()), (StatusCode::OK, Some("processed")), "delivery {i}");
        }
    }
    assert_eq!(users::count(&app.db).await.expect("count"), 199, "the other 199 are applied");
    assert!(
        users::find_by_clerk_id(&app.db, &"user_doomed".into()).await.expect("query").is_none(),
        "the failed one is absent"
    );
    let failed = webhook_events::find(&app.db, &"msg_137".into()).await.expect("query").expect("its failure is logged");
    assert_eq!(failed.status, "failed");

    common::mend_user_inserts(&app.db, backend).await;
    let doomed = fake_clerk::user("user_doomed", "user_doomed@example.com", "Load", "Test");
    let retry = webhook(TEST_WEBHOOK_SECRET, "msg_137", "user.created", &doomed);
    assert_eq!(app.post_webhook(&retry).await.1["status"], "processed", "Svix's retry applies it");
    assert_eq!(users::count(&app.db).await.expect("count"), 200);
}

async fn generated_usernames_are_stable_across_updates(backend: Backend) {
    let (_clerk, app) = setup_with(
        backend,
        &[("CLERK_AUTO_GENERATE_USERNAME", "true"), ("CLERK_AUTO_GENERATE_USERNAME_PREFIX", "member")],
    )
    .await;
    app.deliver("user.created", &alice_at(1_000)).await;
    let first = users::find_by_clerk_id(&app.db, &"user_alice".into())
        .await
        .expect("query")
        .expect("exists")
        .username
        .expect("generated");
    assert!(first.starts_with("member_") && first.len() == "member_".len() + 8, "{first}");
    for at in [2_000, 3_000] {
        app.deliver("user.updated", &alice_at(at)).await;
    }
    let later = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").expect("exists").username;
    assert_eq!(later.as_deref(), Some(first.as_str()), "generated once, never regenerated");
    // A username set in Clerk wins.
    let mut named = alice_at(4_000);
    named["username"] = json!("alice");
    app.deliver("user.updated", &named).await;
    let named_row = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").expect("exists");
    assert_eq!(named_row.username.as_deref(), Some("alice"));
}

async fn a_missing_secret_answers_503(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let app = TestApp::with_clerk(backend, &clerk, &[]).await;
    let (status, body) = app.deliver("user.created", &alice_at(1)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["error"].is_string());
    assert_eq!(users::count(&app.db).await.expect("count"), 0);
}

/// The fake's signer and the library the server verifies with (`standardwebhooks`) both agree
/// with Svix's own crate.
#[test]
fn the_fake_signer_and_the_verifier_agree_with_the_svix_crate() {
    let svix = svix::webhooks::Webhook::new(TEST_WEBHOOK_SECRET).expect("secret");
    let ours = standardwebhooks::Webhook::new(TEST_WEBHOOK_SECRET).expect("secret");
    for (id, ts, body) in
        [("msg_1", 1_700_000_000, "{}"), ("msg_2", 1_649_367_553, "{\"type\":\"user.created\",\"data\":{}}")]
    {
        let expected = svix.sign(id, ts, body.as_bytes()).expect("sign");
        assert_eq!(fake_clerk::sign_webhook(TEST_WEBHOOK_SECRET, id, ts, body), expected);
        assert_eq!(ours.sign(id, ts, body.as_bytes()).expect("sign"), expected);
    }
}

/// A hook that panics on every event.
struct PanickingHook(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl backend::webhooks::WebhookHook for PanickingHook {
    async fn on_event(&self, _event: &backend::webhooks::HookEvent) -> Result<(), backend::webhooks::HookError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("hook exploded");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_hook_still_yields_200_and_a_stored_row() {
    let calls = Arc::new(AtomicUsize::new(0));
    let hooks = backend::webhooks::WebhookHooks::new().with(PanickingHook(Arc::clone(&calls)));
    let app =
        TestApp::spawn_with_hooks(Backend::Sqlite, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)], hooks)
            .await;
    let (status, body) = app.deliver("user.created", &alice_at(1_000)).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("processed")));
    assert!(users::find_by_clerk_id(&app.db, &"user_alice".into()).await.expect("query").is_some());
    let ran =
        common::eventually(std::time::Duration::from_secs(5), || async { calls.load(Ordering::SeqCst) == 1 }).await;
    assert!(ran, "the hook ran");
    // The server is still healthy after the panic.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}
