//! The server binary's Backend API commands, run against the fake Clerk.

use std::process::{Command, Output};

use fake_clerk::FakeClerk;
use testkit::TestDb;

pub fn command(clerk: &FakeClerk, db: &TestDb, secret: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db.url.as_str())
        .env("CLERK_SECRET_KEY", secret)
        .env("CLERK_API_URL", clerk.api_url())
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir());
    cmd
}

/// Runs the binary without blocking the fake Clerk's runtime.
pub async fn run(clerk: &FakeClerk, db: &TestDb, args: &[&str]) -> Output {
    let mut cmd = command(clerk, db, FakeClerk::SECRET_KEY, args);
    tokio::task::spawn_blocking(move || cmd.output().expect("server runs")).await.expect("join")
}
