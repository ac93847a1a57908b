//! The server boots on a random port: health checks and the SSR home page.

use crate::common;

use common::TestApp;
use reqwest::StatusCode;
use testkit::Backend;

testkit::each_backend!(
    backend:
    healthz_answers_200,
    readyz_answers_200_while_the_database_answers,
    readyz_answers_503_when_the_database_is_gone,
    readyz_answers_503_when_the_schema_is_missing,
    home_page_renders_html_on_the_server,
    an_unknown_page_is_a_404_page,
);

async fn healthz_answers_200(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn readyz_answers_200_while_the_database_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

async fn readyz_answers_503_when_the_database_is_gone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    match &app.db {
        // Postgres: really take the database away from under the server.
        backend::Db::Postgres(pool) => {
            let name: String = sqlx::query_scalar("SELECT current_database()").fetch_one(pool).await.expect("name");
            let admin = std::env::var("TEST_DATABASE_URL").expect("set for postgres tests");
            let admin = sqlx::PgPool::connect(&admin).await.expect("admin connection");
            sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).execute(&admin).await.expect("drop");
        }
        // SQLite lives in-process: closing the shared pool is the way it goes away.
        db @ backend::Db::Sqlite(_) => db.close().await,
    }
    assert_ready_within_2s(&app, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK, "the process still runs");
}

async fn readyz_answers_503_when_the_schema_is_missing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    backend::on_writer!(&app.db, pool => sqlx::query("DROP TABLE _sqlx_migrations").execute(pool).await.map(|_| ()))
        .expect("drop");
    assert_ready_within_2s(&app, StatusCode::SERVICE_UNAVAILABLE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_answers_503_when_the_sqlite_file_is_overwritten() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    let path = app.db_url.as_str().trim_start_matches("sqlite://").to_owned();
    // What a bad restore or a stray `cp` does: the pool keeps its open handles to the file.
    std::fs::write(&path, vec![0x5a_u8; 64 * 1024]).expect("overwrite");
    assert_ready_within_2s(&app, StatusCode::SERVICE_UNAVAILABLE).await;
}

/// `/readyz` must leave the server's SQLite locks alone. Reading the file's header through a
/// descriptor of our own, then closing it, dropped every lock the process held on the file: the
/// CLI, writing beside the running server, then took itself for the database's only user and
/// emptied the WAL on exit, and the server's next read failed with `disk I/O error`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_keeps_the_servers_sqlite_locks_for_other_processes_to_see() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.create_staff("first@example.com", false).await;
    let cookie = app.staff_login("first@example.com").await;
    let wal = format!("{}-wal", app.db_url.as_str().trim_start_matches("sqlite://"));
    for round in 0..3 {
        assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
        let mut cli = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["create-staff", "--email", &format!("cli-{round}@example.com"), "--password-stdin"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", app.db_url.as_str())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("server runs");
        if let Some(mut stdin) = cli.stdin.take() {
            std::io::Write::write_all(&mut stdin, b"a long enough password\n").expect("stdin");
        }
        assert!(cli.wait().expect("server exits").success(), "create-staff");
        let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert!(wal_len > 0, "round {round}: the CLI took itself for the only connection and reset the WAL");
        assert_eq!(app.admin_page("/admin/users", &cookie).await.status(), StatusCode::OK, "round {round}");
    }
}

/// The probe answers `want` within the bound a load balancer relies on: its answer may be up to
/// a second old (it is cached), and a fresh check takes at most 2 s.
async fn assert_ready_within_2s(app: &TestApp, want: StatusCode) {
    let started = std::time::Instant::now();
    let answered = common::eventually(std::time::Duration::from_millis(3500), || async {
        app.get("/readyz").await.status() == want
    })
    .await;
    assert!(answered, "readyz did not answer {want} within {:?}", started.elapsed());
}

async fn home_page_renders_html_on_the_server(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.get("/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let body = res.text().await.expect("body");
    assert!(body.contains("<h1>Leptos + Clerk starter</h1>"), "{body}");
    assert!(body.contains("Clicked 0 times"), "{body}");
    assert!(body.contains("/pkg/clerk-starter.js"), "hydration script is referenced: {body}");
}

async fn an_unknown_page_is_a_404_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.expect("body").contains("Page not found"));
}
