//! The repository layer, on SQLite and Postgres: migrations, upserts, order safety and races.

use backend::db::{
    memberships::{self, MembershipFields},
    organizations::{self, ClerkOrganizationFields},
    users::{self, ClerkUserFields, Upserted},
};
use serde_json::json;
use testkit::TestDb;

testkit::each_backend!(
    migrations_create_every_contract_table,
    migrations_are_idempotent,
    upsert_creates_then_updates_one_row,
    an_older_update_is_stale_and_changes_nothing,
    concurrent_upserts_of_one_clerk_id_leave_one_row,
    organizations_and_memberships_round_trip,
    a_recreated_membership_replaces_the_old_clerk_id,
);

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout() {
    let t = TestDb::new(testkit::Backend::Sqlite).await.expect("sqlite");
    let backend::Db::Sqlite(sqlite) = &t.db else { panic!("sqlite") };
    let pool = &sqlite.readers;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await.expect("pragma");
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(pool).await.expect("pragma");
    assert_eq!(fk, 1);
    let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(pool).await.expect("pragma");
    assert_eq!(timeout, 5000);
}

fn alice(updated_at: i64) -> ClerkUserFields {
    ClerkUserFields {
        clerk_id: "user_alice".into(),
        email: "alice@example.com".into(),
        username: Some("alice".into()),
        first_name: "Alice".into(),
        last_name: "Liddell".into(),
        image_url: "https://img.example/alice.png".into(),
        public_metadata: json!({ "plan": "pro" }),
        last_sign_in_at: None,
        is_active: true,
        clerk_updated_at: updated_at,
        push_username: None,
    }
}

async fn table_names(t: &TestDb) -> Vec<String> {
    let sql = match t.backend {
        testkit::Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        testkit::Backend::Postgres => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        }
    };
    backend::on_pool!(&t.db, pool => sqlx::query_scalar(sql).fetch_all(pool).await).expect("list tables")
}

async fn migrations_create_every_contract_table(t: TestDb) {
    let tables = table_names(&t).await;
    for table in [
        "users",
        "organizations",
        "organization_memberships",
        "organization_invitations",
        "webhook_events",
        "audit_log",
        "tower_sessions",
    ] {
        assert!(tables.iter().any(|t| t == table), "{table} missing from {tables:?}");
    }
}

async fn migrations_are_idempotent(t: TestDb) {
    t.db.migrate().await.expect("second migrate is a no-op");
    assert_eq!(users::count(&t.db).await.expect("count"), 0);
}

async fn upsert_creates_then_updates_one_row(t: TestDb) {
    let created = users::upsert_from_clerk(&t.db, &alice(1_000)).await.expect("insert");
    let Upserted::Created(user) = created else { panic!("expected Created, got {created:?}") };
    assert_eq!(user.email, "alice@example.com");
    assert_eq!(user.public_metadata.0, json!({ "plan": "pro" }));
    assert!(user.is_active && !user.is_staff);

    let mut newer = alice(2_000);
    newer.first_name = "Alicia".into();
    let updated = users::upsert_from_clerk(&t.db, &newer).await.expect("update");
    let Upserted::Updated(user2) = updated else { panic!("expected Updated, got {updated:?}") };
    assert_eq!(user2.id, user.id);
    assert_eq!(user2.first_name, "Alicia");
    assert_eq!(user2.created_at, user.created_at);

    let found = users::find_by_clerk_id(&t.db, &"user_alice".into()).await.expect("find").expect("exists");
    assert_eq!(found, user2);
    assert_eq!(users::count(&t.db).await.expect("count"), 1);
}

async fn an_older_update_is_stale_and_changes_nothing(t: TestDb) {
    users::upsert_from_clerk(&t.db, &alice(2_000)).await.expect("insert");
    let mut older = alice(1_000);
    older.email = "old@example.com".into();
    assert_eq!(users::upsert_from_clerk(&t.db, &older).await.expect("upsert"), Upserted::Stale);
    let found = users::find_by_clerk_id(&t.db, &"user_alice".into()).await.expect("find").expect("exists");
    assert_eq!(found.email, "alice@example.com");
    assert_eq!(found.clerk_updated_at, Some(2_000));
}

async fn concurrent_upserts_of_one_clerk_id_leave_one_row(t: TestDb) {
    let mut tasks = Vec::new();
    for i in 0..16 {
        let db = t.db.clone();
        tasks.push(tokio::spawn(async move { users::upsert_from_clerk(&db, &alice(1_000 + i)).await }));
    }
    for task in tasks {
        task.await.expect("task").expect("upsert succeeds");
    }
    assert_eq!(users::count(&t.db).await.expect("count"), 1);
    let found = users::find_by_clerk_id(&t.db, &"user_alice".into()).await.expect("find").expect("exists");
    assert_eq!(found.clerk_updated_at, Some(1_015), "the newest write wins");
}

fn acme(updated_at: i64) -> ClerkOrganizationFields {
    ClerkOrganizationFields {
        clerk_id: "org_acme".into(),
        name: "Acme".into(),
        slug: Some("acme".into()),
        image_url: String::new(),
        members_count: Some(1),
        max_allowed_memberships: Some(5),
        public_metadata: json!({}),
        clerk_updated_at: updated_at,
    }
}

async fn organizations_and_memberships_round_trip(t: TestDb) {
    let Upserted::Created(user) = users::upsert_from_clerk(&t.db, &alice(1)).await.expect("user") else {
        panic!("created")
    };
    let org = organizations::upsert_from_clerk(&t.db, &acme(1)).await.expect("org").expect("written");
    assert_eq!(organizations::upsert_from_clerk(&t.db, &acme(0)).await.expect("stale"), None);

    let membership = memberships::upsert(
        &t.db,
        &MembershipFields {
            clerk_id: "orgmem_1".into(),
            organization_id: org.id,
            user_id: user.id,
            role: "org:admin".into(),
            permissions: vec!["org:sys_memberships:manage".into()],
            clerk_updated_at: 1,
            public_metadata: json!({}),
        },
    )
    .await
    .expect("membership")
    .expect("written");
    assert_eq!(membership.permissions.0, vec!["org:sys_memberships:manage".to_string()]);

    let found = memberships::find(&t.db, user.id, &"org_acme".into()).await.expect("find").expect("member");
    assert_eq!(found.role, "org:admin");
    assert_eq!(memberships::for_user(&t.db, user.id).await.expect("list").len(), 1);
    assert_eq!(memberships::find(&t.db, user.id, &"org_other".into()).await.expect("find"), None);
}

async fn a_recreated_membership_replaces_the_old_clerk_id(t: TestDb) {
    let Upserted::Created(user) = users::upsert_from_clerk(&t.db, &alice(1)).await.expect("user") else {
        panic!("created")
    };
    let org = organizations::upsert_from_clerk(&t.db, &acme(1)).await.expect("org").expect("written");
    let mut fields = MembershipFields {
        clerk_id: "orgmem_old".into(),
        organization_id: org.id,
        user_id: user.id,
        role: "org:member".into(),
        permissions: vec![],
        clerk_updated_at: 1,
        public_metadata: json!({}),
    };
    memberships::upsert(&t.db, &fields).await.expect("first").expect("written");
    fields.clerk_id = "orgmem_new".into();
    fields.role = "org:admin".into();
    fields.clerk_updated_at = 2;
    let again = memberships::upsert(&t.db, &fields).await.expect("second").expect("written");
    assert_eq!(again.clerk_id, "orgmem_new");
    assert_eq!(memberships::for_user(&t.db, user.id).await.expect("list").len(), 1);
}
