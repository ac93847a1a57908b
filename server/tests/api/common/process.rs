//! The real `server` binary as a child process, as it runs in production: for tests that need
//! several instances on one database.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use super::Http;

pub struct ServerProcess {
    pub http: Http,
    child: Child,
}

impl std::ops::Deref for ServerProcess {
    type Target = Http;

    fn deref(&self) -> &Http {
        &self.http
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServerProcess {
    /// Starts `server` on a free port with `DATABASE_URL` and `env`, and waits (bounded) until
    /// `/readyz` answers 200.
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        Self::start_with_log(database_url, env, None).await
    }

    /// [`Self::start`], writing the server's log (stderr) to `log` when given.
    pub async fn start_with_log(database_url: &str, env: &[(&str, &str)], log: Option<&std::path::Path>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_OUTPUT_NAME", "clerk-starter")
            .env("CLERK_DEV_KEY_FILE", std::env::temp_dir().join("clerk-starter-tests-dev-key.pem"))
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(match log.map(std::fs::File::create) {
                Some(Ok(file)) => Stdio::from(file),
                _ => Stdio::inherit(),
            });
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn server");
        let process = Self { http: Http::new(format!("http://127.0.0.1:{port}")), child };
        let ready = super::eventually(Duration::from_secs(20), || async {
            process.client.get(process.url("/readyz")).send().await.is_ok_and(|r| r.status().is_success())
        })
        .await;
        assert!(ready, "the server process came up on port {port}");
        process
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no shutdown, no flush, as a crashed host.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the process still runs (it was never restarted or killed).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}
