//! A running server on port 0 with a fresh database, and one method per endpoint.
#![allow(dead_code)]

pub mod clerk_cli;
pub mod pg_cluster;
pub mod process;
pub mod staff;

use std::collections::HashMap;

use backend::{Config, Db};
use leptos::prelude::{IntoAny, LeptosOptions};
use testkit::{Backend, TestDb};
use web::startup::{Application, Site};

/// The pages, as `server/src/main.rs` hands them to the server.
const SITE: Site =
    Site { routes: || leptos_axum::generate_route_list(app::App), shell: |options| app::shell(options).into_any() };

/// Where a server answers, and a client for it: every request helper lives here, so in-process
/// apps ([`TestApp`]) and real processes ([`process::ServerProcess`]) share them.
pub struct Http {
    pub base: String,
    pub client: reqwest::Client,
}

impl Http {
    pub fn new(base: String) -> Self {
        // A bounded wait: a request that hangs fails its test instead of stalling the run.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("client");
        Self { base, client }
    }
}

pub struct TestApp {
    pub http: Http,
    pub db: Db,
    pub auth: std::sync::Arc<backend::auth::Authenticator>,
    pub db_url: backend::config::DatabaseUrl,
    pub invalidations: std::sync::Arc<backend::invalidation_bus::InvalidationBus>,
    _test_db: Option<TestDb>,
    server: tokio::task::JoinHandle<()>,
}

impl std::ops::Deref for TestApp {
    type Target = Http;

    fn deref(&self) -> &Http {
        &self.http
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn leptos_options() -> LeptosOptions {
    leptos_options_at("target/site")
}

pub fn leptos_options_at(site_root: &str) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("clerk-starter")
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .site_addr(([127, 0, 0, 1], 0))
        .build()
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// Spawns with extra environment variables; `DATABASE_URL` is always the test database.
    pub async fn spawn_with(backend: Backend, env: &[(&str, &str)]) -> Self {
        Self::spawn_with_hooks(backend, env, backend::webhooks::WebhookHooks::new()).await
    }

    pub async fn spawn_with_hooks(
        backend: Backend,
        env: &[(&str, &str)],
        hooks: backend::webhooks::WebhookHooks,
    ) -> Self {
        Self::spawn_full(backend, env, hooks, leptos_options()).await
    }

    /// Spawns serving static files from `site_root`.
    pub async fn spawn_with_site(backend: Backend, site_root: &str) -> Self {
        Self::spawn_full(backend, &[], backend::webhooks::WebhookHooks::new(), leptos_options_at(site_root)).await
    }

    pub async fn spawn_full(
        backend: Backend,
        env: &[(&str, &str)],
        hooks: backend::webhooks::WebhookHooks,
        leptos: LeptosOptions,
    ) -> Self {
        let test_db = TestDb::new(backend).await.expect("test database");
        let url = test_db.url.clone();
        Self::spawn_at(url, Some(test_db), env, hooks, leptos).await
    }

    /// Spawns on a database the test made itself (a file on a small tmpfs, say).
    pub async fn spawn_on(url: &str, env: &[(&str, &str)]) -> Self {
        let url = backend::config::DatabaseUrl::parse(url).expect("a database URL");
        Self::spawn_at(url, None, env, backend::webhooks::WebhookHooks::new(), leptos_options()).await
    }

    /// A second instance on this one's database, as behind a load balancer.
    pub async fn spawn_beside(&self, env: &[(&str, &str)]) -> Self {
        let hooks = backend::webhooks::WebhookHooks::new();
        Self::spawn_at(self.db_url.clone(), None, env, hooks, leptos_options()).await
    }

    async fn spawn_at(
        url: backend::config::DatabaseUrl,
        test_db: Option<TestDb>,
        env: &[(&str, &str)],
        hooks: backend::webhooks::WebhookHooks,
        leptos: LeptosOptions,
    ) -> Self {
        let mut vars: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        vars.insert("DATABASE_URL".into(), url.as_str().to_owned());
        // One dev key for every test app: generating RSA keys is the slow part of a start.
        let key_file = std::env::temp_dir().join("clerk-starter-tests-dev-key.pem");
        vars.entry("CLERK_DEV_KEY_FILE".into()).or_insert_with(|| key_file.display().to_string());
        let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("valid test config");

        let app = Application::build_with_hooks(config, leptos, SITE, hooks).await.expect("application builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let db = app.db();
        let auth = app.authenticator();
        let invalidations = app.invalidations();
        let server = tokio::spawn(async move {
            let _ = app.run_until(std::future::pending()).await;
        });
        Self { http: Http::new(base), db, auth, db_url: url, invalidations, _test_db: test_db, server }
    }

    /// Spawns against a fake Clerk: its secret key and API URL, plus `env`.
    pub async fn with_clerk(backend: Backend, clerk: &fake_clerk::FakeClerk, env: &[(&str, &str)]) -> Self {
        let api_url = clerk.api_url();
        let mut all: Vec<(&str, &str)> =
            vec![("CLERK_SECRET_KEY", fake_clerk::FakeClerk::SECRET_KEY), ("CLERK_API_URL", api_url.as_str())];
        all.extend_from_slice(env);
        Self::spawn_with(backend, &all).await
    }

    /// Mirrors a Clerk user object locally, as a webhook or a sync would.
    pub async fn mirror(&self, user: &serde_json::Value) -> backend::db::users::User {
        use backend::db::users::{self, Upserted};
        let fields = backend::clerk::mapping::user_fields(user).expect("maps");
        match users::upsert_from_clerk(&self.db, &fields).await.expect("upsert") {
            Upserted::Created(u) | Upserted::Updated(u) => u,
            Upserted::Stale => panic!("stale"),
        }
    }
}

impl Http {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// `GET path` with the cookies ClerkJS leaves in a signed-in browser: the token in
    /// `__session`, and a live `__client_uat` from before it.
    pub async fn get_signed_in(&self, path: &str, token: &str) -> reqwest::Response {
        self.client.get(self.url(path)).header("cookie", clerk_cookies(token)).send().await.expect("request")
    }

    /// `GET /api/me` with a Bearer token.
    pub async fn me_bearer(&self, token: &str) -> reqwest::Response {
        self.client.get(self.url("/api/me")).bearer_auth(token).send().await.expect("request")
    }

    /// `GET /api/me` with a Cookie header (e.g. `__session=…; starter_session=…`), as a browser
    /// running ClerkJS sends it: with a non-zero `__client_uat` unless `cookie` sets one.
    pub async fn me_cookie(&self, cookie: &str) -> reqwest::Response {
        let cookie = if cookie.contains("__client_uat=") {
            cookie.to_owned()
        } else {
            format!("{cookie}; __client_uat=1700000000")
        };
        self.me_cookie_exact(&cookie).await
    }

    /// `GET /api/me` with exactly this Cookie header.
    pub async fn me_cookie_exact(&self, cookie: &str) -> reqwest::Response {
        self.client.get(self.url("/api/me")).header("cookie", cookie).send().await.expect("request")
    }

    /// Calls a server function by its path, with optional Bearer token and extra headers.
    pub async fn server_fn(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body("");
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request")
    }
}

impl Http {
    /// POSTs a signed delivery to `/webhooks/clerk`, returning the status and JSON body.
    pub async fn post_webhook(&self, delivery: &fake_clerk::SignedWebhook) -> (reqwest::StatusCode, serde_json::Value) {
        let mut req = self.client.post(self.url("/webhooks/clerk")).body(delivery.body.clone());
        for (name, value) in delivery.headers() {
            req = req.header(name, value);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Signs `data` as a `event_type` event with a fresh svix-id and delivers it.
    pub async fn deliver(
        &self,
        event_type: &str,
        data: &serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        self.post_webhook(&fake_clerk::webhook(fake_clerk::TEST_WEBHOOK_SECRET, &id, event_type, data)).await
    }
}

/// The Cookie header of a browser signed in with `token` (see [`Http::get_signed_in`]).
pub fn clerk_cookies(token: &str) -> String {
    format!("__session={token}; __client_uat=1700000000")
}

/// The `starter_session=…` pair from a response's Set-Cookie, if it set one.
pub fn server_session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("starter_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// Polls `check` every 100 ms until it returns true, for at most `limit`.
pub async fn eventually<F, Fut>(limit: std::time::Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Makes every insert into `users` fail (a trigger), as a database that refuses writes would.
pub async fn break_user_inserts(db: &Db, backend: Backend) {
    break_inserts_where(db, backend, "TRUE").await;
}

/// Makes inserts into `users` fail for this Clerk id only.
pub async fn break_user_insert_of(db: &Db, backend: Backend, clerk_id: &str) {
    assert!(clerk_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "a plain id");
    break_inserts_where(db, backend, &format!("NEW.clerk_id = '{clerk_id}'")).await;
}

async fn break_inserts_where(db: &Db, backend: Backend, condition: &str) {
    let statements = match backend {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER fail_users BEFORE INSERT ON users WHEN {condition} BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )],
        Backend::Postgres => vec![
            "CREATE FUNCTION fail_users() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$ LANGUAGE plpgsql"
                .to_owned(),
            format!(
                "CREATE TRIGGER fail_users BEFORE INSERT ON users FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION fail_users()"
            ),
        ],
    };
    for sql in &statements {
        backend::on_writer!(db, pool => sqlx::query(sql).execute(pool).await.map(|_| ())).expect("trigger");
    }
}

/// Undoes [`break_user_inserts`].
pub async fn mend_user_inserts(db: &Db, backend: Backend) {
    let sql = match backend {
        Backend::Sqlite => "DROP TRIGGER fail_users",
        Backend::Postgres => "DROP TRIGGER fail_users ON users",
    };
    backend::on_writer!(db, pool => sqlx::query(sql).execute(pool).await.map(|_| ())).expect("drop trigger");
}
