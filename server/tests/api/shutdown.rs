//! SIGTERM with webhooks in flight: the real binary answers each request it accepted, applies
//! nothing it did not answer, and exits 0; afterwards `webhook_events` and `users` agree.

use std::{process::Stdio, sync::Arc, time::Duration};

use backend::db::{users, webhook_events};
use fake_clerk::{FakeClerk, TEST_WEBHOOK_SECRET, webhook};
use testkit::{Backend, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_fifty_webhooks_in_flight_answers_or_skips_each_one() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!(
            "SKIPPED sigterm_with_fifty_webhooks_in_flight_answers_or_skips_each_one: TEST_DATABASE_URL is not set"
        );
        return;
    }
    let clerk = FakeClerk::start().await;
    let db = TestDb::new(Backend::Postgres).await.expect("db");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db.url.as_str())
        .env("CLERK_SECRET_KEY", FakeClerk::SECRET_KEY)
        .env("CLERK_API_URL", clerk.api_url())
        .env("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "clerk-starter")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn server");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    let mut ready = false;
    for _ in 0..100 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the server came up");

    let client = Arc::new(client);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (client, url) = (Arc::clone(&client), format!("{base}/webhooks/clerk"));
        let user = fake_clerk::user(&format!("user_sig_{i:02}"), &format!("u{i}@example.com"), "S", "T");
        let delivery = webhook(TEST_WEBHOOK_SECRET, &format!("msg_sig_{i}"), "user.created", &user);
        tasks.push(tokio::spawn(async move {
            let mut req = client.post(url).body(delivery.body.clone());
            for (k, v) in delivery.headers() {
                req = req.header(k, v);
            }
            match req.send().await {
                Ok(res) => Some(res.status().as_u16()),
                Err(_) => None,
            }
        }));
    }
    let pid = child.id().to_string();
    let signalled = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(signalled.success());

    let mut answered = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        answered.push((i, task.await.expect("task")));
    }
    let mut exit = None;
    for _ in 0..300 {
        if let Some(status) = child.try_wait().expect("wait") {
            exit = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = exit.expect("the server exits within 30 s of SIGTERM");
    assert_eq!(status.code(), Some(0), "exit 0 after SIGTERM");

    let applied = answered.iter().filter(|(_, a)| a.is_some()).count();
    eprintln!("SIGTERM with 50 in flight: {applied} answered, {} refused", 50 - applied);
    for (i, answer) in &answered {
        let row = users::find_by_clerk_id(&db.db, &format!("user_sig_{i:02}").into()).await.expect("query");
        match answer {
            Some(200) => assert!(row.is_some(), "{i}: answered 200 but not applied"),
            Some(code) => panic!("{i}: unexpected status {code}"),
            None => assert!(row.is_none(), "{i}: not answered but applied"),
        }
    }
    assert_eq!(
        webhook_events::count(&db.db).await.expect("count"),
        users::count(&db.db).await.expect("count"),
        "the webhook log and the users table agree"
    );
}
