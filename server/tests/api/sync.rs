//! `server sync-users`, `sync-orgs` and `generate-usernames`, run as the real binary against the
//! fake Clerk.

use crate::common;

use std::{collections::BTreeMap, process::Stdio, time::Duration};

use backend::{db::users, on_pool};
use common::{
    clerk_cli::{command, run},
    eventually,
};
use fake_clerk::{FakeClerk, Fault};
use serde_json::{Value, json};
use testkit::{Backend, TestDb};

testkit::each_backend!(
    backend:
    all_users_are_mirrored_across_pages_and_a_second_run_changes_nothing,
    prune_tombstones_exactly_the_vanished_users,
    a_prune_during_which_an_early_user_is_deleted_tombstones_nobody_who_still_exists,
    a_prune_past_the_share_limit_prunes_nothing_and_exits_non_zero,
    a_membership_the_listing_skipped_is_kept_once_clerk_confirms_it,
    dry_run_writes_nothing,
    rate_limits_and_server_errors_are_retried,
    a_wrong_secret_key_fails_with_one_line_and_exit_1,
    a_killed_sync_is_completed_by_a_rerun,
    a_newer_local_row_is_not_overwritten,
    organizations_and_paged_memberships_are_mirrored_and_removed_ones_pruned,
    generate_usernames_fills_missing_ones_once,
);

fn user_at(i: usize) -> Value {
    let id = format!("user_{i:05}");
    let mut user = fake_clerk::user(&id, &format!("{id}@example.com"), &format!("First{i}"), &format!("Last{i}"));
    user["created_at"] = json!(1_600_000_000_000i64 + i as i64);
    user["updated_at"] = json!(1_700_000_000_000i64 + i as i64);
    user["last_sign_in_at"] = json!(1_650_000_000_000i64 + i as i64);
    if i.is_multiple_of(7) {
        user["username"] = json!(format!("name{i}"));
    }
    if i.is_multiple_of(11) {
        user["banned"] = json!(true);
    }
    user
}

async fn fake_with_users(n: usize) -> FakeClerk {
    let clerk = FakeClerk::start().await;
    for i in 0..n {
        clerk.put_user(user_at(i));
    }
    clerk
}

async fn report(clerk: &FakeClerk, db: &TestDb, args: &[&str]) -> Value {
    let out = run(clerk, db, args).await;
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON summary")
}

async fn all_users_are_mirrored_across_pages_and_a_second_run_changes_nothing(backend: Backend) {
    let clerk = fake_with_users(2345).await;
    let db = TestDb::new(backend).await.expect("db");
    let first = report(&clerk, &db, &["sync-users", "--json"]).await;
    assert_eq!(first["fetched"], 2345);
    assert_eq!(first["created"], 2345);
    assert_eq!(first["errors"], 0);
    assert_eq!(clerk.requests("/v1/users").len(), 5, "5 pages, no per-user calls");
    assert_eq!(users::count(&db.db).await.expect("count"), 2345);

    for i in [0, 7, 11, 500, 1999, 2344] {
        let expected = backend::clerk::mapping::user_fields(&user_at(i)).expect("maps");
        let row = users::find_by_clerk_id(&db.db, &expected.clerk_id).await.expect("query").expect("mirrored");
        assert_eq!(row.email, expected.email, "{i}");
        assert_eq!(row.username, expected.username, "{i}");
        assert_eq!(
            (row.first_name.as_str(), row.last_name.as_str()),
            (expected.first_name.as_str(), expected.last_name.as_str())
        );
        assert_eq!(row.image_url, expected.image_url);
        assert_eq!(row.is_active, expected.is_active, "{i}");
        assert_eq!(row.clerk_updated_at, Some(expected.clerk_updated_at));
        assert_eq!(
            row.last_sign_in_at.map(|t| t.timestamp_millis()),
            expected.last_sign_in_at.map(|t| t.timestamp_millis())
        );
    }

    let second = report(&clerk, &db, &["sync-users", "--json"]).await;
    assert_eq!((second["created"].as_u64(), second["updated"].as_u64()), (Some(0), Some(0)));
    assert_eq!(second["unchanged"], 2345);
    let out = run(&clerk, &db, &["sync-users"]).await;
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("0 changed"), "{}", String::from_utf8_lossy(&out.stdout));
}

async fn prune_tombstones_exactly_the_vanished_users(backend: Backend) {
    let clerk = fake_with_users(600).await;
    let db = TestDb::new(backend).await.expect("db");
    report(&clerk, &db, &["sync-users", "--json"]).await;
    for i in [3, 450, 599] {
        clerk.remove_user(&format!("user_{i:05}"));
    }
    let pruned = report(&clerk, &db, &["sync-users", "--prune", "--json"]).await;
    assert_eq!(pruned["pruned"], 3);
    let deleted: Vec<String> = on_pool!(&db.db, pool => sqlx::query_scalar(
        "SELECT clerk_id FROM users WHERE deleted_at IS NOT NULL ORDER BY clerk_id").fetch_all(pool).await)
    .expect("query");
    assert_eq!(deleted, vec!["user_00003", "user_00450", "user_00599"]);
}

/// Offset paging under a concurrent deletion: the first page is read, a user on it is deleted
/// in Clerk, and the second page then starts one user later, so user 500 is never listed.
async fn a_prune_during_which_an_early_user_is_deleted_tombstones_nobody_who_still_exists(backend: Backend) {
    let clerk = fake_with_users(600).await;
    let db = TestDb::new(backend).await.expect("db");
    report(&clerk, &db, &["sync-users", "--json"]).await;
    // A user Clerk lists but we cannot map counts as listed all the same.
    let mut odd = user_at(42);
    odd["updated_at"] = json!("not a timestamp");
    clerk.put_user(odd);

    let gate = clerk.hold("/v1/users?limit=500&offset=500");
    let listings = || clerk.requests("/v1/users").into_iter().filter(|r| r.path == "/v1/users").count();
    let before = listings();
    let (fake, test_db) = (&clerk, &db);
    let run = run(fake, test_db, &["sync-users", "--prune", "--json"]);
    let delete_mid_run = async {
        let second_page = eventually(Duration::from_secs(20), || async { listings() >= before + 2 }).await;
        assert!(second_page, "the run asked for its second page");
        clerk.remove_user("user_00003");
        gate.release();
    };
    let (out, ()) = tokio::join!(run, delete_mid_run);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("json");
    // User 3 was listed before it went; user 500 was never listed but Clerk still has them.
    assert_eq!(summary["pruned"], 0, "{summary}");
    let tombstones = || async {
        on_pool!(&db.db, pool => sqlx::query_scalar::<_, String>(
            "SELECT clerk_id FROM users WHERE deleted_at IS NOT NULL ORDER BY clerk_id").fetch_all(pool).await)
        .expect("query")
    };
    assert!(tombstones().await.is_empty(), "nobody who still exists is tombstoned");
    let kept = users::find_by_clerk_id(&db.db, &"user_00500".into()).await.expect("query").expect("row");
    assert!(kept.deleted_at.is_none() && !kept.email.is_empty(), "user 500 slid past the pages and is kept");
    assert_eq!(clerk.requests("/v1/users/user_00500").len(), 1, "confirmed with Clerk");
    assert!(clerk.requests("/v1/users/user_00042").is_empty(), "listed, though unmappable: not a candidate");

    // The next run sees user 3 gone, and Clerk confirms it.
    let next = report(&clerk, &db, &["sync-users", "--prune", "--json"]).await;
    assert_eq!(next["pruned"], 1, "{next}");
    assert_eq!(tombstones().await, vec!["user_00003"]);
}

/// Every local user missing at once looks like another instance's key: nothing is pruned.
async fn a_prune_past_the_share_limit_prunes_nothing_and_exits_non_zero(backend: Backend) {
    let ours = fake_with_users(40).await;
    let db = TestDb::new(backend).await.expect("db");
    report(&ours, &db, &["sync-users", "--json"]).await;
    let other_instance = FakeClerk::start().await;
    other_instance.put_user(fake_clerk::user("user_elsewhere", "else@example.com", "E", "W"));

    let out = run(&other_instance, &db, &["sync-users", "--prune"]).await;
    assert!(!out.status.success(), "the CLI exits non-zero");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The foreign instance's one user was mirrored by the listing; the prune was refused.
    assert!(stderr.contains("40 of 41 users") && stderr.contains("nothing was pruned"), "{stderr}");
    let tombstones: i64 = on_pool!(&db.db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL").fetch_one(pool).await)
    .expect("count");
    assert_eq!(tombstones, 0);
    assert!(other_instance.requests("/v1/users/").is_empty(), "refused before asking about anyone");

    // Back on our instance, the foreign user and three deleted ones (4 of 41) are over 5%;
    // the flag lets an operator who checked go ahead.
    ours.remove_user("user_00001");
    ours.remove_user("user_00002");
    ours.remove_user("user_00003");
    let out = run(&ours, &db, &["sync-users", "--prune"]).await;
    assert!(!out.status.success(), "4 of 41 is over 5%");
    let pruned = report(&ours, &db, &["sync-users", "--prune", "--max-prune-percent", "10", "--json"]).await;
    assert_eq!(pruned["pruned"], 4);
}

/// The same shift in an organization's member listing: a membership the pages skipped is kept,
/// because Clerk still lists it when asked about that user.
async fn a_membership_the_listing_skipped_is_kept_once_clerk_confirms_it(backend: Backend) {
    let clerk = fake_with_users(600).await;
    let db = TestDb::new(backend).await.expect("db");
    let org = fake_clerk::organization("org_0", "Org 0", "org-0");
    clerk.put_organization(org.clone());
    for i in 0..600 {
        clerk.put_membership(fake_clerk::membership(&format!("orgmem_{i}"), &org, &user_at(i), "org:member"));
    }
    report(&clerk, &db, &["sync-users", "--json"]).await;
    report(&clerk, &db, &["sync-orgs", "--members", "--json"]).await;

    let second = "/v1/organizations/org_0/memberships?limit=500&offset=500";
    let gate = clerk.hold(second);
    let pages = || clerk.requests("/v1/organizations/org_0/memberships").len();
    let before = pages();
    let (fake, test_db) = (&clerk, &db);
    let run = run(fake, test_db, &["sync-orgs", "--members", "--json"]);
    let delete_mid_run = async {
        let waiting = eventually(Duration::from_secs(20), || async { pages() >= before + 2 }).await;
        assert!(waiting, "the run asked for the second page");
        clerk.remove_membership("org_0", "user_00003");
        gate.release();
    };
    let (out, ()) = tokio::join!(run, delete_mid_run);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(summary["memberships"]["pruned"], 0, "{summary}");
    let confirmed = clerk.requests("/v1/organizations/org_0/memberships").len() - before;
    assert_eq!(confirmed, 3, "two pages, and one question about user 500");
    let live = || async {
        on_pool!(&db.db, pool => sqlx::query_scalar::<_, String>(
            "SELECT u.clerk_id FROM organization_memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.deleted_at IS NULL AND u.clerk_id IN ('user_00003', 'user_00500') ORDER BY u.clerk_id")
            .fetch_all(pool).await)
        .expect("query")
    };
    assert_eq!(live().await, vec!["user_00003", "user_00500"], "the skipped membership stays");
    let next = report(&clerk, &db, &["sync-orgs", "--members", "--json"]).await;
    assert_eq!(next["memberships"]["pruned"], 1, "{next}");
    assert_eq!(live().await, vec!["user_00500"], "the next run removes the one Clerk no longer has");
}

async fn dry_run_writes_nothing(backend: Backend) {
    let clerk = fake_with_users(700).await;
    let db = TestDb::new(backend).await.expect("db");
    let dry = report(&clerk, &db, &["sync-users", "--dry-run", "--json"]).await;
    assert_eq!((dry["created"].as_u64(), dry["dry_run"].as_bool()), (Some(700), Some(true)));
    assert_eq!(users::count(&db.db).await.expect("count"), 0);
}

async fn rate_limits_and_server_errors_are_retried(backend: Backend) {
    let clerk = fake_with_users(1600).await;
    let db = TestDb::new(backend).await.expect("db");
    clerk.fail_times("/v1/users?limit=500&offset=1000", Fault::RateLimited { retry_after_secs: 1 }, 1);
    clerk.fail_times("/v1/users?limit=500&offset=500", Fault::Status(500), 2);
    let started = std::time::Instant::now();
    let out = run(&clerk, &db, &["sync-users", "--json"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(summary["created"], 1600);
    assert_eq!(summary["requests"], 4 + 3, "4 pages, 1 rate-limited retry, 2 server-error retries");
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was honoured");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("waiting"), "the wait is reported: {stderr}");
    assert_eq!(users::count(&db.db).await.expect("count"), 1600);
}

async fn a_wrong_secret_key_fails_with_one_line_and_exit_1(backend: Backend) {
    let clerk = fake_with_users(3).await;
    let db = TestDb::new(backend).await.expect("db");
    let mut cmd = command(&clerk, &db, "sk_test_wrong", &["sync-users"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("runs")).await.expect("join");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("secret key") && lines[0].contains("401"), "{stderr}");
    assert_eq!(clerk.requests("/v1/users").len(), 1, "no retries on an auth failure");
}

async fn a_killed_sync_is_completed_by_a_rerun(backend: Backend) {
    let clerk = fake_with_users(2345).await;
    let db = TestDb::new(backend).await.expect("db");
    clerk.fail("/v1/users?limit=500&offset=1500", Fault::Hang);
    let mut child = command(&clerk, &db, FakeClerk::SECRET_KEY, &["sync-users"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let three_pages =
        eventually(Duration::from_secs(30), || async { users::count(&db.db).await.unwrap_or(0) >= 1500 }).await;
    assert!(three_pages, "three pages committed before the kill");
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert_eq!(users::count(&db.db).await.expect("count"), 1500, "whole pages only");

    clerk.clear_faults();
    let rerun = report(&clerk, &db, &["sync-users", "--json"]).await;
    assert_eq!((rerun["created"].as_u64(), rerun["unchanged"].as_u64()), (Some(845), Some(1500)));
    assert_eq!(users::count(&db.db).await.expect("count"), 2345, "complete, no duplicates");
}

async fn a_newer_local_row_is_not_overwritten(backend: Backend) {
    let clerk = fake_with_users(10).await;
    let db = TestDb::new(backend).await.expect("db");
    let mut newer = backend::clerk::mapping::user_fields(&user_at(4)).expect("maps");
    newer.first_name = "Local".into();
    newer.clerk_updated_at += 1_000;
    users::upsert_from_clerk(&db.db, &newer).await.expect("seed");
    let summary = report(&clerk, &db, &["sync-users", "--json"]).await;
    assert_eq!(summary["stale"], 1);
    let row = users::find_by_clerk_id(&db.db, &"user_00004".into()).await.expect("query").expect("row");
    assert_eq!(row.first_name, "Local");
}

async fn organizations_and_paged_memberships_are_mirrored_and_removed_ones_pruned(backend: Backend) {
    let clerk = fake_with_users(620).await;
    let db = TestDb::new(backend).await.expect("db");
    let orgs: Vec<Value> = (0..3)
        .map(|i| fake_clerk::organization(&format!("org_{i}"), &format!("Org {i}"), &format!("org-{i}")))
        .collect();
    for org in &orgs {
        clerk.put_organization(org.clone());
    }
    // org_0 has 600 members (two pages); org_1 has 3.
    for i in 0..600 {
        clerk.put_membership(fake_clerk::membership(&format!("orgmem_0_{i}"), &orgs[0], &user_at(i), "org:member"));
    }
    for i in 600..603 {
        clerk.put_membership(fake_clerk::membership(&format!("orgmem_1_{i}"), &orgs[1], &user_at(i), "org:admin"));
    }
    report(&clerk, &db, &["sync-users", "--json"]).await;
    let summary = report(&clerk, &db, &["sync-orgs", "--members", "--json"]).await;
    assert_eq!(summary["created"], 3);
    assert_eq!(summary["memberships"]["created"], 603);
    assert_eq!(clerk.requests("/v1/organizations/org_0/memberships").len(), 2, "both pages");

    let live = |org: &'static str| {
        let db = db.db.clone();
        async move {
            on_pool!(&db, pool => sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id \
                 WHERE o.clerk_id = $1 AND m.deleted_at IS NULL").bind(org).fetch_one(pool).await)
            .expect("count")
        }
    };
    assert_eq!(live("org_0").await, 600);
    assert_eq!(live("org_1").await, 3);

    clerk.remove_membership("org_1", "user_00601");
    let again = report(&clerk, &db, &["sync-orgs", "--members", "--json"]).await;
    assert_eq!(again["memberships"]["pruned"], 1);
    assert_eq!(again["memberships"]["created"], 0);
    assert_eq!(live("org_1").await, 2);
    let roles: BTreeMap<String, String> = on_pool!(&db.db, pool => sqlx::query_as::<_, (String, String)>(
        "SELECT u.clerk_id, m.role FROM organization_memberships m JOIN users u ON u.id = m.user_id \
         JOIN organizations o ON o.id = m.organization_id WHERE o.clerk_id = 'org_1' AND m.deleted_at IS NULL")
        .fetch_all(pool).await)
    .expect("roles")
    .into_iter()
    .collect();
    assert_eq!(roles.get("user_00600").map(String::as_str), Some("org:admin"));
}

async fn generate_usernames_fills_missing_ones_once(backend: Backend) {
    let clerk = fake_with_users(20).await;
    let db = TestDb::new(backend).await.expect("db");
    report(&clerk, &db, &["sync-users", "--json"]).await;
    let out = run(&clerk, &db, &["generate-usernames", "--prefix", "member"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // user_00000, 7 and 14 have usernames in Clerk; 17 do not.
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "17 usernames generated");
    let out = run(&clerk, &db, &["generate-usernames", "--prefix", "member"]).await;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0 usernames generated");
    let generated: i64 =
        on_pool!(&db.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username LIKE 'member_%'")
        .fetch_one(pool).await)
        .expect("count");
    assert_eq!(generated, 17);
}
