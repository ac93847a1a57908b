//! `server create-staff` through the real binary: create, reset, refusals, and Clerk users
//! with the same email left alone.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use backend::{
    Db,
    clerk::mapping,
    config::DatabaseUrl,
    db::{staff_accounts, users},
    staff::password,
};

fn create_staff(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.arg("create-staff")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("server runs");
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("server exits")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn db_in(dir: &std::path::Path) -> Db {
    let url = DatabaseUrl::Sqlite(format!("sqlite://{}", dir.join("data/app.db").display()));
    let db = Db::connect(&url).await.expect("connect");
    db.migrate().await.expect("migrate");
    db
}

async fn hash_of(db: &Db, email: &str) -> Option<String> {
    staff_accounts::credentials(db, email).await.expect("query").map(|c| c.password_hash)
}

#[tokio::test]
async fn create_staff_creates_an_account_then_resets_its_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = create_staff(
        dir.path(),
        &["--email", "Boss@Example.com", "--superuser", "--password-stdin"],
        Some("first password ok\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Created superuser account boss@example.com"), "{}", text(&out.stdout));
    let db = db_in(dir.path()).await;
    let first = hash_of(&db, "boss@example.com").await.expect("a password hash");
    assert!(first.starts_with("$argon2id$"));
    assert!(password::verify("first password ok", Some(&first)));

    // Again without --superuser: the password changes, the account stays a superuser.
    let out =
        create_staff(dir.path(), &["--email", "boss@example.com", "--password-stdin"], Some("second password ok\r\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Reset the password of superuser account"));
    let second = hash_of(&db, "boss@example.com").await.expect("hash");
    assert!(password::verify("second password ok", Some(&second)));
    assert!(!password::verify("first password ok", Some(&second)));
    let count: i64 =
        backend::on_pool!(&db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)
            .expect("count");
    assert_eq!(count, 1, "reset, not a second account");
}

#[tokio::test]
async fn bad_input_exits_with_one_line_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&[&str], Option<&str>, &str); 3] = [
        (&["--email", "boss@example.com", "--password-stdin"], Some("too short\n"), "at least 12 characters"),
        (&["--email", "not-an-email", "--password-stdin"], Some("long enough password\n"), "--email"),
        // No terminal to prompt on and no --password-stdin.
        (&["--email", "boss@example.com"], None, "--password-stdin"),
    ];
    for (args, stdin, expected) in cases {
        let out = create_staff(dir.path(), args, stdin);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err:?}");
        assert!(err.contains(expected), "{err:?}");
    }
    let usage = create_staff(dir.path(), &["--superuser"], None);
    assert_eq!(usage.status.code(), Some(2), "a usage error");
    let db = db_in(dir.path()).await;
    assert!(hash_of(&db, "boss@example.com").await.is_none());
}

#[tokio::test]
async fn a_clerk_user_with_the_same_email_gains_no_password_or_staff_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db_in(dir.path()).await;
    let clerk_user = fake_clerk::user("user_boss", "boss@example.com", "Boss", "B");
    users::upsert_from_clerk(&db, &mapping::user_fields(&clerk_user).expect("maps")).await.expect("mirror");

    let out =
        create_staff(dir.path(), &["--email", "boss@example.com", "--password-stdin"], Some("staff password ok\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let clerk_row = users::find_by_clerk_id(&db, &"user_boss".into()).await.expect("query").expect("row");
    assert!(!clerk_row.is_staff && !clerk_row.is_superuser);
    let clerk_hash: Option<String> = backend::on_pool!(&db, pool => sqlx::query_scalar(
        "SELECT password_hash FROM users WHERE clerk_id = 'user_boss'").fetch_one(pool).await)
    .expect("hash");
    assert_eq!(clerk_hash, None);
    let staff = staff_accounts::credentials(&db, "boss@example.com").await.expect("query").expect("staff");
    assert_ne!(staff.user_id, clerk_row.id, "a separate staff-only account");
}

/// Runs `create-staff` on a pseudo-terminal (util-linux `script`), typing `input`.
fn create_staff_on_a_terminal(dir: &std::path::Path, email: &str, input: &str) -> Output {
    let command = format!("{} create-staff --email {email}", env!("CARGO_BIN_EXE_server"));
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script runs");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(input.as_bytes()).expect("type");
    }
    child.wait_with_output().expect("exits")
}

#[tokio::test]
async fn without_password_stdin_it_prompts_twice_on_the_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED without_password_stdin_it_prompts_twice_on_the_terminal: util-linux script is missing");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = create_staff_on_a_terminal(dir.path(), "tty@example.com", "typed password 1\ntyped password 2\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("the passwords do not match"), "{}", text(&out.stdout));

    let out = create_staff_on_a_terminal(dir.path(), "tty@example.com", "typed password 1\ntyped password 1\n");
    assert!(out.status.success(), "{}", text(&out.stdout));
    let shown = text(&out.stdout);
    assert!(shown.contains("Password: ") && shown.contains("Password (again): "), "{shown}");
    let db = db_in(dir.path()).await;
    let hash = hash_of(&db, "tty@example.com").await.expect("created");
    assert!(password::verify("typed password 1", Some(&hash)));
}
