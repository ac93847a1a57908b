//! A fake Clerk for tests and benchmarks, served on a random loopback port.
//!
//! It publishes a JWKS (with a second key for rotation), serves the Backend API users,
//! organizations and memberships from data the test controls, misbehaves on demand
//! (429, 5xx, hang), mints session tokens with any claims, and signs Svix webhooks. Its Frontend
//! API (`fapi`) lets the real ClerkJS sign users in against the same data.

mod api;
pub mod billing;
mod fapi;
mod keys;
mod objects;
mod svix;

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
};

use serde_json::Value;

pub use fapi::state::{FRONTEND_API, FapiSettings};
pub use keys::{KeyPair, MACHINE_CATEGORY, SESSION_CATEGORY, TEMPLATE_CATEGORY, foreign_key, test_keys};
pub use objects::{membership, organization, user};
pub use svix::{SignedWebhook, TEST_WEBHOOK_SECRET, sign_raw, sign_webhook, webhook, webhook_at, webhook_sent_at};

/// How the fake misbehaves for a request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this status and a ClerkErrors body.
    Status(u16),
    /// 429 with `Retry-After: secs`.
    RateLimited { retry_after_secs: u64 },
    /// Never answer.
    Hang,
}

/// Opens a [`FakeClerk::hold`]: held requests go on. Dropping it opens it too.
pub struct Gate(tokio::sync::watch::Sender<bool>);

impl Gate {
    pub fn release(&self) {
        let _ = self.0.send(true);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.release();
    }
}

/// A request the fake received, for assertions.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: Option<Value>,
}

#[derive(Default)]
pub(crate) struct Data {
    pub users: BTreeMap<String, Value>,
    pub organizations: BTreeMap<String, Value>,
    /// Keyed by (organization id, user id).
    pub memberships: BTreeMap<(String, String), Value>,
    /// Faults applied to requests whose path starts with the key; `count` None means forever.
    pub faults: Vec<(String, Fault, Option<u32>)>,
    pub requests: Vec<Recorded>,
    /// Whether the JWKS also publishes the rotation key.
    pub rotated: bool,
    pub fapi: fapi::state::FapiState,
    /// Organization invitations by id.
    pub invitations: BTreeMap<String, Value>,
    /// Objects created through the Backend API, for their ids.
    pub created: u64,
    /// The `password_digest` (with its hasher) each created user was given.
    pub digests: BTreeMap<String, (String, String)>,
    pub rate_limit: Option<RateLimit>,
    /// Clerk Billing's subscriptions (the Backend API's shape), by payer (`user_…`/`org_…`).
    pub billing_subscriptions: BTreeMap<String, Value>,
    /// Clerk Billing's subscription items, by id (the Backend API's shape).
    pub subscription_items: BTreeMap<String, Value>,
    /// Clerk Billing's plans, by id (the Backend API's shape).
    pub billing_plans: BTreeMap<String, Value>,
    /// API keys, M2M and OAuth tokens issued, by id.
    pub machine_tokens: BTreeMap<String, api::machines::Issued>,
    /// Requests whose path and query start with the prefix wait until its gate opens.
    pub holds: Vec<(String, tokio::sync::watch::Receiver<bool>)>,
}

/// Clerk's per-instance limit: at most `limit` Backend API requests per `window`; then 429
/// with `Retry-After` until the window ends.
#[derive(Clone, Debug)]
pub(crate) struct RateLimit {
    pub limit: u32,
    pub window: std::time::Duration,
    pub started: std::time::Instant,
    pub used: u32,
}

impl RateLimit {
    /// Counts one request; `Err(seconds)` to wait when the window is used up.
    pub fn take(&mut self) -> Result<(), u64> {
        if self.started.elapsed() >= self.window {
            self.started = std::time::Instant::now();
            self.used = 0;
        }
        if self.used < self.limit {
            self.used += 1;
            return Ok(());
        }
        Err(self.window.saturating_sub(self.started.elapsed()).as_secs_f64().ceil().max(1.0) as u64)
    }
}

#[derive(Clone)]
pub(crate) struct Shared {
    pub data: Arc<Mutex<Data>>,
    pub secret_key: Arc<str>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Data> {
        // A test that panicked while holding the lock already failed; keep serving the others.
        self.data.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running fake Clerk. Dropping it stops the server.
pub struct FakeClerk {
    addr: SocketAddr,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeClerk {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeClerk {
    pub const SECRET_KEY: &'static str = "sk_test_fakeclerkSecretKey0000000000";

    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// Serves on `addr` (e.g. a fixed port, for a browser test's web server to wait on).
    pub async fn start_on(addr: &str) -> Self {
        let shared = Shared { data: Arc::default(), secret_key: Self::SECRET_KEY.into() };
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind fake clerk");
        let addr = listener.local_addr().expect("fake clerk address");
        let router = api::router(shared.clone()).merge(fapi::router(shared.clone()));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { addr, shared, server }
    }

    /// The value for `CLERK_API_URL`.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The primary signing key (kid `ins_fake_primary`), always in the JWKS.
    pub fn key(&self) -> &'static KeyPair {
        &test_keys().0
    }

    /// The rotation key (kid `ins_fake_rotated`), in the JWKS only after [`FakeClerk::rotate`].
    pub fn rotation_key(&self) -> &'static KeyPair {
        &test_keys().1
    }

    /// Publishes the rotation key in the JWKS.
    pub fn rotate(&self) {
        self.shared.lock().rotated = true;
    }

    /// Mints a token signed by the primary key.
    pub fn mint(&self, claims: &Value) -> String {
        self.key().sign(claims)
    }

    pub fn put_user(&self, user: Value) {
        let id = user["id"].as_str().expect("user has an id").to_owned();
        self.shared.lock().users.insert(id, user);
    }

    pub fn user(&self, id: &str) -> Option<Value> {
        self.shared.lock().users.get(id).cloned()
    }

    pub fn remove_user(&self, id: &str) {
        self.shared.lock().users.remove(id);
    }

    pub fn put_organization(&self, org: Value) {
        let id = org["id"].as_str().expect("organization has an id").to_owned();
        self.shared.lock().organizations.insert(id, org);
    }

    pub fn organization(&self, id: &str) -> Option<Value> {
        self.shared.lock().organizations.get(id).cloned()
    }

    pub fn put_membership(&self, membership: Value) {
        let org = membership["organization"]["id"].as_str().expect("membership has an organization").to_owned();
        let user = membership["public_user_data"]["user_id"].as_str().expect("membership has a user").to_owned();
        self.shared.lock().memberships.insert((org, user), membership);
    }

    pub fn remove_membership(&self, org_id: &str, user_id: &str) {
        self.shared.lock().memberships.remove(&(org_id.to_owned(), user_id.to_owned()));
    }

    pub fn membership(&self, org_id: &str, user_id: &str) -> Option<Value> {
        self.shared.lock().memberships.get(&(org_id.to_owned(), user_id.to_owned())).cloned()
    }

    /// Misbehaves for every request whose path and query start with `path_prefix` (e.g.
    /// `/v1/users?limit=500&offset=1000` for the third page) until [`FakeClerk::clear_faults`].
    pub fn fail(&self, path_prefix: &str, fault: Fault) {
        self.shared.lock().faults.push((path_prefix.to_owned(), fault, None));
    }

    /// Misbehaves for the next `times` requests under `path_prefix`.
    pub fn fail_times(&self, path_prefix: &str, fault: Fault, times: u32) {
        self.shared.lock().faults.push((path_prefix.to_owned(), fault, Some(times)));
    }

    /// Gives `payer` (`user_…` or `org_…`) a subscription, as `GET /v1/users/{id}/billing/subscription`
    /// (or `/v1/organizations/…`) answers it; its items are stored for cancelling too.
    pub fn put_billing_subscription(&self, payer: &str, subscription: Value) {
        let mut data = self.shared.lock();
        for item in subscription["subscription_items"].as_array().into_iter().flatten() {
            if let Some(id) = item["id"].as_str() {
                data.subscription_items.insert(id.to_owned(), item.clone());
            }
        }
        data.billing_subscriptions.insert(payer.to_owned(), subscription);
    }

    /// Offers a plan (`billing::api_plan`), as `GET /v1/billing/plans` lists it.
    pub fn put_billing_plan(&self, plan: Value) {
        let id = plan["id"].as_str().expect("plan has an id").to_owned();
        self.shared.lock().billing_plans.insert(id, plan);
    }

    /// Stores a subscription item (its `id` keys it) for the Backend API's billing endpoints.
    pub fn put_subscription_item(&self, item: Value) {
        let id = item["id"].as_str().expect("item has an id").to_owned();
        self.shared.lock().subscription_items.insert(id, item);
    }

    pub fn subscription_item(&self, id: &str) -> Option<Value> {
        self.shared.lock().subscription_items.get(id).cloned()
    }

    /// An API key for `subject` (`user_…` or `org_…`): `(id, secret)`.
    pub fn create_api_key(
        &self,
        subject: &str,
        name: &str,
        scopes: &[&str],
        ttl_secs: Option<i64>,
    ) -> (String, String) {
        FakeClerkHandle(self.shared.clone()).create_api_key(subject, name, scopes, ttl_secs)
    }

    /// Revokes a machine token (an API key, an M2M or OAuth token) by id.
    pub fn revoke_machine_token(&self, id: &str) {
        if let Some(issued) = self.shared.lock().machine_tokens.get_mut(id) {
            issued.object["revoked"] = serde_json::json!(true);
        }
    }

    /// An opaque M2M token (`mt_…`) for the machine `mch_…`: `(id, token)`.
    pub fn create_m2m_token(&self, machine: &str, scopes: &[&str], ttl_secs: Option<i64>) -> (String, String) {
        FakeClerkHandle(self.shared.clone()).create_m2m_token(machine, scopes, ttl_secs)
    }

    /// An opaque OAuth access token (`oat_…`) for `user`, issued to `client_id`: `(id, token)`.
    pub fn create_oauth_token(
        &self,
        user: &str,
        client_id: &str,
        scopes: &[&str],
        ttl_secs: Option<i64>,
    ) -> (String, String) {
        FakeClerkHandle(self.shared.clone()).create_oauth_token(user, client_id, scopes, ttl_secs)
    }

    /// Holds every request whose path and query start with `prefix` until the returned gate is
    /// released (or dropped), at most 30 s. The request is recorded when it arrives.
    pub fn hold(&self, prefix: &str) -> Gate {
        let (open, gate) = tokio::sync::watch::channel(false);
        self.shared.lock().holds.push((prefix.to_owned(), gate));
        Gate(open)
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Lets `user_id` sign in through the Frontend API with `password`.
    pub fn set_password(&self, user_id: &str, password: &str) {
        self.shared.lock().fapi.passwords.insert(user_id.to_owned(), password.to_owned());
    }

    /// Applies Clerk's rate limit (development instances: 100 per 10 s) to the Backend API.
    pub fn rate_limit(&self, limit: u32, window: std::time::Duration) {
        let started = std::time::Instant::now();
        self.shared.lock().rate_limit = Some(RateLimit { limit, window, started, used: 0 });
    }

    pub fn invitation(&self, id: &str) -> Option<Value> {
        self.shared.lock().invitations.get(id).cloned()
    }

    /// The `(password_hasher, password_digest)` a user was created with.
    pub fn password_digest(&self, user_id: &str) -> Option<(String, String)> {
        self.shared.lock().digests.get(user_id).cloned()
    }

    /// Every request received so far whose path starts with `path_prefix`.
    pub fn requests(&self, path_prefix: &str) -> Vec<Recorded> {
        self.shared.lock().requests.iter().filter(|r| r.path.starts_with(path_prefix)).cloned().collect()
    }
}

/// Issues machine tokens into a fake's data (for the `FakeClerk` methods and the
/// `/__fake/machine-tokens` route alike).
pub(crate) struct FakeClerkHandle(pub(crate) Shared);

impl FakeClerkHandle {
    pub(crate) fn create_api_key(
        &self,
        subject: &str,
        name: &str,
        scopes: &[&str],
        ttl: Option<i64>,
    ) -> (String, String) {
        let body =
            serde_json::json!({ "name": name, "subject": subject, "scopes": scopes, "seconds_until_expiration": ttl });
        match api::machines::new_api_key(&self.0, &body) {
            Ok(key) => (
                key["id"].as_str().unwrap_or_default().to_owned(),
                key["secret"].as_str().unwrap_or_default().to_owned(),
            ),
            Err(_) => (String::new(), String::new()),
        }
    }

    pub(crate) fn create_m2m_token(&self, machine: &str, scopes: &[&str], ttl: Option<i64>) -> (String, String) {
        let object = serde_json::json!({
            "object": "machine_to_machine_token", "subject": machine, "scopes": scopes, "claims": null
        });
        api::machines::new_token(&self.0, "mt_", object, ttl)
    }

    pub(crate) fn create_oauth_token(
        &self,
        user: &str,
        client_id: &str,
        scopes: &[&str],
        ttl: Option<i64>,
    ) -> (String, String) {
        let object = serde_json::json!({
            "object": "clerk_idp_oauth_access_token", "type": "oauth_token", "client_id": client_id,
            "subject": user, "scopes": scopes
        });
        api::machines::new_token(&self.0, "oat_", object, ttl)
    }
}

/// A JWT M2M token for the machine `mch_…`, as Clerk signs one: the instance key, the machine
/// category in the header, `scopes` space-separated, a `jti`.
pub fn m2m_jwt(machine: &str, scopes: &[&str], ttl_secs: i64) -> String {
    let now = now_secs();
    let key = &test_keys().0;
    let header = serde_json::json!({ "alg": "RS256", "kid": key.kid, "typ": "JWT", "cat": MACHINE_CATEGORY });
    let claims = serde_json::json!({
        "iss": "https://fake.clerk.accounts.dev", "sub": machine, "scopes": scopes.join(" "),
        "jti": format!("mt_jwt_{:016x}", rand::random::<u64>()), "iat": now, "nbf": now - 5, "exp": now + ttl_secs,
    });
    key.sign_with_header(&header, &claims)
}

/// A JWT OAuth access token for `user` (RFC 9068: header `typ: at+jwt`, `scp`, `client_id`).
pub fn oauth_jwt(user: &str, client_id: &str, scopes: &[&str], ttl_secs: i64) -> String {
    let now = now_secs();
    let key = &test_keys().0;
    let header = serde_json::json!({ "alg": "RS256", "kid": key.kid, "typ": "at+jwt" });
    let claims = serde_json::json!({
        "iss": "https://fake.clerk.accounts.dev", "sub": user, "client_id": client_id, "scp": scopes,
        "jti": format!("oat_jwt_{:016x}", rand::random::<u64>()), "iat": now, "nbf": now - 5, "exp": now + ttl_secs,
    });
    key.sign_with_header(&header, &claims)
}

/// Claims of a fresh v2 session token for `sub`, as Clerk mints them: 60 s lifetime, `nbf` 10 s back.
pub fn session_claims(sub: &str) -> Value {
    let now = now_secs();
    serde_json::json!({
        "sub": sub,
        "sid": format!("sess_{sub}"),
        "iss": "https://fake.clerk.accounts.dev",
        "azp": "http://localhost:3000",
        "iat": now,
        "nbf": now - 10,
        "exp": now + 60,
        "v": 2,
        "fva": [0, -1],
    })
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

pub fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}
