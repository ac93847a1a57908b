//! The real `server` binary: `migrate`, start-up failures, exit codes and redacted logs.

use std::process::{Command, Output};

fn server(args: &[&str], env: &[(&str, &str)], dir: &std::path::Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(args).current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("server runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn migrate_creates_the_default_sqlite_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = server(&["migrate"], &[], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("data/app.db").exists(), "data/app.db is created on first run");

    let again = server(&["migrate"], &[], dir.path());
    assert!(again.status.success(), "migrate is idempotent: {}", stderr(&again));
}

#[test]
fn a_bad_setting_stops_the_start_with_one_line_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (var, value) in [("DATABASE_URL", "mysql://nope"), ("CLERK_SECRET_KEY", "pk_test_wrong")] {
        let out = server(&["migrate"], &[(var, value)], dir.path());
        assert_eq!(out.status.code(), Some(1), "{var}");
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err:?}");
        assert!(err.contains(var), "names {var}: {err:?}");
    }
}

#[test]
fn a_dotenv_file_fills_in_what_the_environment_lacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=sqlite://from-dotenv.db\n").expect("write .env");
    let out = server(&["migrate"], &[], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("from-dotenv.db").exists());
}

#[test]
fn a_usage_error_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = server(&["no-such-command"], &[], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_start_up_log_never_shows_a_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = "sk_test_NEVERLOGTHISsecret42";
    let webhook = "whsec_NEVERLOGTHISeither77";
    // An address this host does not own cannot be bound: the server logs its config, then exits 1.
    let out = server(
        &[],
        &[
            ("CLERK_SECRET_KEY", secret),
            ("CLERK_WEBHOOK_SIGNING_SECRET", webhook),
            ("LEPTOS_SITE_ADDR", "203.0.113.1:9"),
            ("LEPTOS_OUTPUT_NAME", "clerk-starter"),
            ("RUST_LOG", "debug"),
        ],
        dir.path(),
    );
    let log = stderr(&out);
    assert!(log.contains("starting"), "the config summary is logged: {log}");
    assert!(log.contains("secret_key=set (redacted)"), "{log}");
    assert!(!log.contains(secret) && !log.contains(webhook), "a secret leaked: {log}");
    assert_eq!(out.status.code(), Some(1), "cannot bind a foreign address: {log}");
}

#[test]
fn without_clerk_keys_prod_refuses_to_start_naming_the_variables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = server(&[], &[("LEPTOS_ENV", "PROD"), ("LEPTOS_OUTPUT_NAME", "clerk-starter")], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let last = err.trim().lines().last().unwrap_or_default();
    assert!(last.contains("CLERK_SECRET_KEY") && last.contains("CLERK_JWT_KEY"), "{err}");
    assert!(!dir.path().join("data/dev-signing-key.pem").exists(), "no dev key in PROD");
}

#[test]
fn the_dev_key_persists_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("data/dev-signing-key.pem");
    for _ in 0..2 {
        // Binding a foreign address fails after the dev key is loaded, so each start exits by itself.
        let out =
            server(&[], &[("LEPTOS_SITE_ADDR", "203.0.113.1:9"), ("LEPTOS_OUTPUT_NAME", "clerk-starter")], dir.path());
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    }
    let first = std::fs::read_to_string(&key).expect("the key was written to data/");
    let out =
        server(&[], &[("LEPTOS_SITE_ADDR", "203.0.113.1:9"), ("LEPTOS_OUTPUT_NAME", "clerk-starter")], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&key).expect("key"), first, "the same key after a restart");
}

#[test]
fn a_dotenv_file_in_a_parent_folder_is_not_read() {
    let parent = tempfile::tempdir().expect("tempdir");
    std::fs::write(parent.path().join(".env"), "DATABASE_URL=sqlite://from-parent.db\n").expect("write .env");
    let child = parent.path().join("child");
    std::fs::create_dir(&child).expect("mkdir");
    let out = server(&["migrate"], &[], &child);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!child.join("from-parent.db").exists() && !parent.path().join("from-parent.db").exists());
    assert!(child.join("data/app.db").exists(), "the default database, as without any .env");
}

#[test]
fn a_database_password_in_the_url_is_never_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Nothing listens on port 1: the server logs its config, fails to connect and exits 1.
    for url in [
        "postgres://postgres@127.0.0.1:1/test?password=QUERYsecret91&sslmode=disable",
        "postgres://postgres:USERINFOsecret92@127.0.0.1:1/test",
    ] {
        let out = server(&[], &[("DATABASE_URL", url), ("RUST_LOG", "debug")], dir.path());
        let log = stderr(&out);
        assert!(log.contains("127.0.0.1:1/test"), "the database is named: {log}");
        assert!(!log.contains("QUERYsecret91") && !log.contains("USERINFOsecret92"), "a password leaked: {log}");
        assert_eq!(out.status.code(), Some(1), "{log}");
    }
}
