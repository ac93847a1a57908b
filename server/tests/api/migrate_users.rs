//! `server migrate-users-to-clerk`, run as the real binary against the fake Clerk: local
//! accounts become Clerk users (with their password hashes) and are linked.

use crate::common;

use std::time::Duration;

use backend::{db::users, on_conn, on_pool};
use common::clerk_cli::run;
use fake_clerk::FakeClerk;
use serde_json::{Value, json};
use testkit::{Backend, TestDb};

testkit::each_backend!(
    backend:
    local_accounts_move_with_their_passwords_through_a_rate_limit_and_a_rerun_creates_nothing,
    skip_existing_links_by_verified_email_and_an_interrupted_run_is_resumed,
    dry_run_sends_and_writes_nothing,
    moving_a_staff_account_to_clerk_ends_its_password_sessions,
);

async fn moving_a_staff_account_to_clerk_ends_its_password_sessions(backend: Backend) {
    let db = TestDb::new(backend).await.expect("db");
    let clerk = FakeClerk::start().await;
    let app = common::TestApp::spawn_on(db.url.as_str(), &[]).await;
    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    assert_eq!(app.admin_page("/admin/users", &cookie).await.status(), reqwest::StatusCode::OK);

    let (report, stderr) = migrate(&clerk, &db, &["--only-staff"]).await;
    assert_eq!(report["created"], 1, "{stderr}");
    // The password is gone, and with it every session it started, on every instance.
    let ended = common::eventually(Duration::from_secs(5), || async {
        app.admin_page("/admin/users", &cookie).await.status() != reqwest::StatusCode::OK
    })
    .await;
    assert!(ended, "the staff password session ended");
}

/// One seeded local account (what an app moving to Clerk already has).
struct Account {
    email: String,
    staff: bool,
    hash: Option<String>,
}

/// Inserts accounts without a Clerk user, as an existing app's users table holds them.
async fn seed(db: &TestDb, accounts: &[Account]) -> Vec<i64> {
    let mut tx = db.db.begin().await.expect("begin");
    let mut ids = Vec::new();
    for (i, a) in accounts.iter().enumerate() {
        let now = chrono::Utc::now();
        let id: i64 = on_conn!(tx.conn(), c => sqlx::query_scalar(
            "INSERT INTO users (email, username, first_name, last_name, is_staff, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id")
            .bind(&a.email)
            .bind(format!("local_{i}"))
            .bind(format!("First{i}"))
            .bind(if i % 2 == 0 { "" } else { "Last" })
            .bind(a.staff)
            .bind(&a.hash)
            .bind(now)
            .fetch_one(&mut *c)
            .await)
        .expect("insert");
        ids.push(id);
    }
    tx.commit().await.expect("commit");
    ids
}

/// `(clerk_id, password_hash)` of a local row.
async fn link_of(db: &TestDb, id: i64) -> (Option<String>, Option<String>) {
    on_pool!(&db.db, pool => sqlx::query_as("SELECT clerk_id, password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await)
    .expect("row")
}

async fn migrate(clerk: &FakeClerk, db: &TestDb, args: &[&str]) -> (Value, String) {
    let mut all = vec!["migrate-users-to-clerk", "--json"];
    all.extend_from_slice(args);
    let out = run(clerk, db, &all).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("a JSON summary: {stderr}"));
    let failed = report["failed"].as_u64().unwrap_or_default();
    assert_eq!(out.status.success(), failed == 0, "exit status follows failures: {stderr}");
    (report, stderr)
}

fn posts(clerk: &FakeClerk) -> usize {
    clerk.requests("/v1/users").iter().filter(|r| r.method == "POST").count()
}

async fn local_accounts_move_with_their_passwords_through_a_rate_limit_and_a_rerun_creates_nothing(backend: Backend) {
    let db = TestDb::new(backend).await.expect("db");
    let hash = backend::staff::password::NewPassword::parse("correct horse battery").expect("ok").hash().expect("hash");
    let accounts: Vec<Account> = (0..1200)
        .map(|i| Account {
            // One address Clerk refuses (422): reported, and the rest go on.
            email: if i == 601 { "not-an-email".into() } else { format!("person{i}@example.com") },
            staff: i % 10 == 0,
            hash: (i % 3 == 0).then(|| hash.clone()),
        })
        .collect();
    let ids = seed(&db, &accounts).await;
    let clerk = FakeClerk::start().await;
    // Clerk's limiter, scaled so that the run crosses it: 429s with Retry-After mid-run (the
    // run makes about 250 calls a second here; 100 a second is well below on any machine).
    clerk.rate_limit(200, Duration::from_secs(2));

    let (report, stderr) = migrate(&clerk, &db, &[]).await;
    let movable: Vec<usize> = (0..1200).filter(|i| i % 10 != 0).collect();
    let hashed = movable.iter().filter(|&&i| i % 3 == 0 && i != 601).count() as u64;
    assert_eq!(report["candidates"], movable.len() as u64);
    assert_eq!(report["created"], movable.len() as u64 - 1);
    assert_eq!(report["with_password"], hashed);
    assert_eq!(report["skipped"], 120, "staff stay password-only");
    assert_eq!((report["linked"].as_u64(), report["failed"].as_u64()), (Some(0), Some(1)));
    let failure = &report["failures"][0];
    assert_eq!((failure["email"].as_str(), failure["status"].as_u64()), (Some("not-an-email"), Some(422)));
    assert_eq!(failure["message"], "email_address must be a valid email address.");
    assert!(stderr.contains("waiting") && stderr.contains("429"), "the 429s were waited out: {stderr}");

    for (i, (account, id)) in accounts.iter().zip(&ids).enumerate() {
        let (clerk_id, local_hash) = link_of(&db, *id).await;
        if account.staff || i == 601 {
            assert_eq!(clerk_id, None, "{i} stays local");
            assert_eq!(local_hash, account.hash, "{i} keeps its password here");
            continue;
        }
        let clerk_id = clerk_id.unwrap_or_else(|| panic!("{i} is linked"));
        assert_eq!(local_hash, None, "{i}: the password now lives in Clerk");
        let created = clerk.user(&clerk_id).expect("created in Clerk");
        assert_eq!(created["email_addresses"][0]["email_address"], account.email);
        assert_eq!(created["external_id"], id.to_string());
        assert_eq!(created["username"], format!("local_{i}"));
        let digest = clerk.password_digest(&clerk_id);
        assert_eq!(digest, account.hash.clone().map(|h| ("argon2id".to_owned(), h)), "{i}");
        let row = users::find_by_id(&db.db, ids::UserId(*id)).await.expect("query").expect("row");
        assert_eq!(row.clerk_updated_at, created["updated_at"].as_i64(), "mirrored from Clerk's answer");
    }

    let before = posts(&clerk);
    let (again, _) = migrate(&clerk, &db, &[]).await;
    assert_eq!((again["created"].as_u64(), again["linked"].as_u64()), (Some(0), Some(0)));
    assert_eq!((again["candidates"].as_u64(), again["failed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(posts(&clerk) - before, 1, "only the refused account is tried again");
}

async fn skip_existing_links_by_verified_email_and_an_interrupted_run_is_resumed(backend: Backend) {
    let db = TestDb::new(backend).await.expect("db");
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_bob", "bob@example.com", "Bob", "B"));
    let mut carol = fake_clerk::user("user_carol", "carol@example.com", "Carol", "C");
    carol["email_addresses"][1]["verification"]["status"] = json!("unverified");
    clerk.put_user(carol);
    let emails = ["bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com"];
    let ids = seed(&db, &emails.map(|e| Account { email: e.into(), staff: false, hash: None })).await;
    // Erin's Clerk user was made by a run killed before it could link her.
    let mut erin = fake_clerk::user("user_erin", "erin@example.com", "Erin", "E");
    erin["external_id"] = json!(ids[3].to_string());
    clerk.put_user(erin);

    let (first, _) = migrate(&clerk, &db, &[]).await;
    assert_eq!((first["created"].as_u64(), first["linked"].as_u64()), (Some(1), Some(1)), "{first}");
    assert_eq!(first["links"][0]["by"], "external_id");
    assert_eq!(link_of(&db, ids[3]).await.0.as_deref(), Some("user_erin"));
    let refused: Vec<&str> =
        first["failures"].as_array().expect("list").iter().filter_map(|f| f["email"].as_str()).collect();
    assert_eq!(refused, ["bob@example.com", "carol@example.com"], "an existing email is never linked unasked");
    assert!(first["failures"].as_array().expect("list").iter().all(|f| f["code"] == "form_identifier_exists"));
    assert_eq!(link_of(&db, ids[0]).await.0, None);

    let (second, _) = migrate(&clerk, &db, &["--skip-existing"]).await;
    assert_eq!((second["linked"].as_u64(), second["created"].as_u64()), (Some(1), Some(0)));
    let link = &second["links"][0];
    assert_eq!((link["email"].as_str(), link["by"].as_str()), (Some("bob@example.com"), Some("email")));
    assert_eq!(link_of(&db, ids[0]).await.0.as_deref(), Some("user_bob"));
    assert_eq!(second["failures"][0]["email"], "carol@example.com", "an unverified email is not proof");
    assert_eq!(link_of(&db, ids[1]).await.0, None);
    let bob = users::find_by_id(&db.db, ids::UserId(ids[0])).await.expect("query").expect("row");
    assert_eq!((bob.first_name.as_str(), bob.last_name.as_str()), ("Bob", "B"), "Clerk's data is mirrored on the link");
}

async fn dry_run_sends_and_writes_nothing(backend: Backend) {
    let db = TestDb::new(backend).await.expect("db");
    let clerk = FakeClerk::start().await;
    let accounts: Vec<Account> = (0..5)
        .map(|i| Account {
            email: format!("p{i}@example.com"),
            staff: i == 4,
            hash: (i < 2).then(|| "$argon2id$v=19$x".into()),
        })
        .collect();
    let ids = seed(&db, &accounts).await;
    let (report, _) = migrate(&clerk, &db, &["--dry-run"]).await;
    assert_eq!((report["created"].as_u64(), report["with_password"].as_u64()), (Some(4), Some(2)));
    assert_eq!((report["skipped"].as_u64(), report["dry_run"].as_bool()), (Some(1), Some(true)));
    let (staff, _) = migrate(&clerk, &db, &["--dry-run", "--only-staff"]).await;
    assert_eq!((staff["created"].as_u64(), staff["skipped"].as_u64()), (Some(1), Some(4)));
    assert!(clerk.requests("/").is_empty(), "no request reached Clerk");
    for (account, id) in accounts.iter().zip(ids) {
        assert_eq!(link_of(&db, id).await, (None, account.hash.clone()), "nothing was written");
    }
}
