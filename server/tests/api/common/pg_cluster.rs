//! A throwaway Postgres cluster of the test's own (`initdb`, `pg_ctl` on a free port), for tests
//! that stop, restart or kill the database: never the machine's shared one.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

impl PgCluster {
    /// Creates and starts a cluster; `None` (with the reason on stderr) where this machine
    /// cannot (no PostgreSQL server binaries, or not root to run them as `postgres`).
    pub fn start() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .find(|bin| bin.join("initdb").exists())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).ok()?.port();
        let dir = std::env::temp_dir().join(format!("clerk-starter-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).ok()?;
        let chown = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().ok()?;
        if !chown.success() {
            eprintln!("cannot chown {} to postgres (not root?)", dir.display());
            return None;
        }
        let cluster = Self { dir, bin, port };
        let data = cluster.data();
        let init =
            cluster.as_postgres("initdb", &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        if !init {
            eprintln!("initdb failed");
            return None;
        }
        cluster.start_again().then_some(cluster)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn as_postgres(&self, tool: &str, args: &[&str]) -> bool {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(tool))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start_again(&self) -> bool {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").display().to_string();
        self.as_postgres("pg_ctl", &["-D", &self.data(), "-o", &options, "-l", &log, "-w", "start"])
    }

    /// Stops the server at once, as a crash would (`-m immediate`).
    pub fn kill(&self) -> bool {
        self.as_postgres("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"])
    }

    /// A URL for database `name`, which [`Self::create_database`] made.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    pub async fn create_database(&self, name: &str) -> String {
        let admin = sqlx::PgPool::connect(&self.url("postgres")).await.expect("the cluster answers");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create database");
        admin.close().await;
        self.url(name)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
