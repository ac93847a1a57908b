//! What the fake Frontend API remembers: one client per dev browser, the sessions and sign-in
//! attempts on them, and the settings a test may change.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::now_millis;

/// The Frontend API host the fake stands for: a development instance, so ClerkJS runs its
/// dev-browser handshake and tags every request with the browser's `__clerk_db_jwt`.
pub const FRONTEND_API: &str = "fake-fox-12.clerk.accounts.dev";

#[derive(Default)]
pub(crate) struct FapiState {
    /// Keyed by the dev browser (`__clerk_db_jwt`), so each browser context is its own client.
    pub clients: HashMap<String, ClientState>,
    pub sessions: BTreeMap<String, SessionState>,
    pub sign_ins: HashMap<String, SignInState>,
    /// User id → password, for the password strategy.
    pub passwords: HashMap<String, String>,
    pub settings: FapiSettings,
    next_id: u64,
}

impl FapiState {
    /// A fresh id such as `sess_3`, unique for the life of the process.
    pub fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{}{}", self.next_id, rand::random::<u32>())
    }

    pub fn client_mut(&mut self, key: &str) -> &mut ClientState {
        if !self.clients.contains_key(key) {
            let id = self.new_id("client");
            self.clients.insert(key.to_owned(), ClientState::new(id));
        }
        self.clients.get_mut(key).expect("inserted above")
    }

    /// The session `sid` if it is live and belongs to the client `key`.
    pub fn live_session(&self, key: &str, sid: &str) -> Option<&SessionState> {
        self.sessions.get(sid).filter(|s| s.client_key == key && s.status == "active")
    }

    /// Ends a session with `status` (`ended`, `removed`, `revoked`) and drops it from its client.
    pub fn end_session(&mut self, sid: &str, status: &'static str) -> Option<&SessionState> {
        let session = self.sessions.get_mut(sid)?;
        session.status = status;
        session.updated_at = now_millis();
        let key = session.client_key.clone();
        if let Some(client) = self.clients.get_mut(&key) {
            client.sessions.retain(|s| s != sid);
            if client.last_active_session_id.as_deref() == Some(sid) {
                client.last_active_session_id = None;
            }
            client.touch();
        }
        self.sessions.get(sid)
    }
}

pub(crate) struct ClientState {
    pub id: String,
    pub sessions: Vec<String>,
    pub sign_in: Option<String>,
    pub last_active_session_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ClientState {
    fn new(id: String) -> Self {
        let now = now_millis();
        Self { id, sessions: Vec::new(), sign_in: None, last_active_session_id: None, created_at: now, updated_at: now }
    }

    /// ClerkJS derives `__client_uat` from `updated_at`: bump it on every change.
    pub fn touch(&mut self) {
        self.updated_at = now_millis().max(self.updated_at + 1);
    }
}

pub(crate) struct SessionState {
    pub id: String,
    pub client_key: String,
    pub user_id: String,
    pub org_id: Option<String>,
    /// `active`, `ended`, `removed` or `revoked`.
    pub status: &'static str,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) struct SignInState {
    pub id: String,
    pub client_key: String,
    pub identifier: String,
    pub user_id: String,
    pub created_session_id: Option<String>,
    pub created_at: i64,
}

/// What a test may change while the fake runs (`POST /__fake/fapi/settings`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FapiSettings {
    /// Session token lifetime; Clerk's is 60 s. At 15 s or less ClerkJS never reuses a token.
    pub token_ttl_secs: i64,
    /// Sign tokens with a key no JWKS publishes: ClerkJS is signed in, the server refuses it.
    pub foreign_signing: bool,
    /// The tokens' `fva[0]`: how long ago the user signed in (30 asks for step-up on `strict`).
    pub first_factor_age_minutes: i64,
    /// Clerk Billing's `pla` in every token (`u:free,o:pro`), when set.
    pub plans: Option<String>,
}

impl Default for FapiSettings {
    fn default() -> Self {
        Self { token_ttl_secs: 60, foreign_signing: false, first_factor_age_minutes: 0, plans: None }
    }
}
