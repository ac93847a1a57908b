//! `CLERK_RECONCILE_INTERVAL`: the background sync repairs what missed webhooks left, one
//! instance at a time, and the dashboard shows its last run.

use crate::common;

use std::time::Duration;

use backend::db::{reconcile_runs, users};
use common::{TestApp, eventually};
use fake_clerk::FakeClerk;
use serde_json::{Value, json};
use testkit::Backend;

testkit::each_backend!(backend: a_change_made_only_in_clerk_is_repaired_by_the_next_run_and_shown_on_the_dashboard);

const EVERY_SECOND: (&str, &str) = ("CLERK_RECONCILE_INTERVAL", "1s");

async fn finished_runs(app: &TestApp) -> Vec<reconcile_runs::ReconcileRun> {
    let mut runs = reconcile_runs::recent(&app.db, 1000).await.expect("runs");
    runs.retain(|r| r.finished_at.is_some());
    runs.reverse();
    runs
}

async fn a_change_made_only_in_clerk_is_repaired_by_the_next_run_and_shown_on_the_dashboard(backend: Backend) {
    let clerk = FakeClerk::start().await;
    let alice = fake_clerk::user("user_alice", "alice@example.com", "Alice", "A");
    let carol = fake_clerk::user("user_carol", "carol@example.com", "Carol", "C");
    for user in [&alice, &carol] {
        clerk.put_user(user.clone());
    }
    // One of two users deleted is over the default 5% prune limit: this instance is tiny.
    let app = TestApp::with_clerk(backend, &clerk, &[EVERY_SECOND, ("CLERK_PRUNE_MAX_PERCENT", "50")]).await;
    assert!(eventually(Duration::from_secs(10), || async { !finished_runs(&app).await.is_empty() }).await);

    // Changes no webhook reports: a rename, a new user, a deletion.
    let mut renamed = alice.clone();
    renamed["first_name"] = json!("Alicia");
    renamed["updated_at"] = json!(alice["updated_at"].as_i64().unwrap_or_default() + 1000);
    clerk.put_user(renamed);
    clerk.put_user(fake_clerk::user("user_bob", "bob@example.com", "Bob", "B"));
    clerk.remove_user("user_carol");

    let repaired = eventually(Duration::from_secs(10), || async {
        let alice = users::find_by_clerk_id(&app.db, &"user_alice".into()).await.ok().flatten();
        let bob = users::find_by_clerk_id(&app.db, &"user_bob".into()).await.ok().flatten();
        let carol = users::find_by_clerk_id(&app.db, &"user_carol".into()).await.ok().flatten();
        alice.is_some_and(|a| a.first_name == "Alicia")
            && bob.is_some()
            && carol.is_some_and(|c| c.deleted_at.is_some() && c.email.is_empty())
    })
    .await;
    assert!(repaired, "the next run repaired the mirror");
    let run = eventually(Duration::from_secs(5), || async {
        finished_runs(&app).await.iter().any(|r| (r.created, r.updated, r.pruned) == (1, 1, 1))
    })
    .await;
    assert!(run, "one run recorded the drift: {:?}", finished_runs(&app).await);

    app.create_staff("boss@example.com", false).await;
    let cookie = app.staff_login("boss@example.com").await;
    let d: Value = app.admin_post("/api/admin/dashboard", Some(&cookie), &[]).await.json().await.expect("json");
    assert_eq!(d["reconcile_every_secs"], 1);
    assert!(d["last_reconcile"]["started_at"].as_str().is_some_and(|s| s.ends_with("UTC")), "{d}");
    let html = app.admin_page("/admin", &cookie).await.text().await.expect("html");
    assert!(html.contains("data-testid=\"last-reconcile\""), "the dashboard shows the last run");
}

/// Two instances behind one Postgres database: runs never overlap, one per interval, and every
/// listing Clerk served belongs to a recorded run (so no instance ran unrecorded).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_take_turns_one_run_per_interval() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("SKIPPED two_instances_take_turns_one_run_per_interval: TEST_DATABASE_URL is not set");
        return;
    }
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_alice", "alice@example.com", "Alice", "A"));
    let first = TestApp::with_clerk(Backend::Postgres, &clerk, &[EVERY_SECOND]).await;
    let api_url = clerk.api_url();
    let second = first
        .spawn_beside(&[("CLERK_SECRET_KEY", FakeClerk::SECRET_KEY), ("CLERK_API_URL", &api_url), EVERY_SECOND])
        .await;
    assert!(eventually(Duration::from_secs(20), || async { finished_runs(&first).await.len() >= 4 }).await);

    // Read Clerk's count between two reads of the runs: a run records its start before it asks.
    let finished_before = finished_runs(&first).await.len();
    let listings = clerk.requests("/v1/users").iter().filter(|r| r.method == "GET" && r.path == "/v1/users").count();
    let started_after = reconcile_runs::recent(&first.db, 1000).await.expect("runs").len();
    assert!(
        (finished_before..=started_after).contains(&listings),
        "every listing belongs to a recorded run: {finished_before} <= {listings} <= {started_after}"
    );
    let runs = finished_runs(&first).await;
    for pair in runs.windows(2) {
        let (earlier, later) = (&pair[0], &pair[1]);
        let ended = earlier.finished_at.expect("finished");
        assert!(ended <= later.started_at, "runs never overlap: {earlier:?} then {later:?}");
        let gap = (later.started_at - earlier.started_at).num_milliseconds();
        assert!(gap >= 850, "one run per interval, not one per instance: {gap} ms apart");
    }
    drop(second);
}
