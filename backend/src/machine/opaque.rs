//! Opaque machine tokens (`ak_…`, `mt_…`, `oat_…`), verified by the Backend API's verify
//! endpoints (`POST /api_keys/verify {secret}`, `/m2m_tokens/verify {token}`,
//! `/oauth_applications/access_tokens/verify {access_token}`: no `/v1`, as `@clerk/backend`
//! 3.25.0 calls them with `skipApiVersionInUrl`; 404 means unknown, revoked or expired). Verdicts are cached by the SHA-256 of the secret (never the secret): a good one
//! until the token expires but at most `CLERK_MACHINE_TOKEN_CACHE_SECONDS` (60), so a
//! revocation elsewhere takes effect within that; a bad one for [`NEGATIVE_TTL`]. Concurrent
//! checks of one token wait for one call. Clerk down answers 503, never "signed in"; a 429 stops
//! every uncached check until its `Retry-After` has passed.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};

use super::{Machine, MachineError, TokenKind};
use crate::clerk::{
    api::{ApiError, ClerkApi},
    verify::unix_now,
};

/// How long a refused token is refused without asking again.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(5);
/// Clerk's secrets are short; anything longer, or with other characters, is refused unasked.
const MAX_SECRET_LEN: usize = 512;

#[derive(Clone)]
enum Verdict {
    Valid(Arc<Machine>),
    Invalid,
}

pub struct OpaqueVerifier {
    api: ClerkApi,
    verdicts: moka::future::Cache<[u8; 32], Verdict>,
    /// Until when Clerk asked us (429) not to call again.
    backoff_until: Mutex<Option<Instant>>,
}

impl OpaqueVerifier {
    pub fn new(api: ClerkApi, positive_ttl: Duration, capacity: u64) -> Self {
        Self {
            api,
            verdicts: moka::future::Cache::builder()
                .max_capacity(capacity)
                .expire_after(VerdictExpiry { positive_ttl })
                .support_invalidation_closures()
                .build(),
            backoff_until: Mutex::new(None),
        }
    }

    /// Verdicts in memory (for tests and operators).
    pub async fn cached(&self) -> u64 {
        self.verdicts.run_pending_tasks().await;
        self.verdicts.entry_count()
    }

    pub async fn verify(&self, kind: TokenKind, secret: &str) -> Result<Arc<Machine>, MachineError> {
        if secret.len() > MAX_SECRET_LEN || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(MachineError::Invalid(kind));
        }
        let key: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let cached = self.verdicts.get(&key).await;
        crate::measure::cache_lookup("machine_token", cached.is_some());
        if let Some(verdict) = cached {
            return verdict.into_result(kind);
        }
        if let Some(retry_after) = self.backing_off() {
            return Err(MachineError::Unavailable { retry_after: Some(retry_after) });
        }
        // One call for every concurrent request with this token; failures are not cached.
        let verdict = self.verdicts.try_get_with(key, self.ask_clerk(kind, secret)).await.map_err(|e| (*e).clone())?;
        verdict.into_result(kind)
    }

    /// Drops every cached verdict for the token with this id (revoked through this app).
    pub fn forget(&self, token_id: &str) {
        let id = token_id.to_owned();
        // Only fails when closures are unsupported, which the builder enables.
        let _ = self.verdicts.invalidate_entries_if(move |_, v| matches!(v, Verdict::Valid(m) if m.id == id));
    }

    fn backing_off(&self) -> Option<u64> {
        let until = *self.backoff_until.lock().unwrap_or_else(|p| p.into_inner());
        until.and_then(|until| until.checked_duration_since(Instant::now())).map(|left| left.as_secs().max(1))
    }

    async fn ask_clerk(&self, kind: TokenKind, secret: &str) -> Result<Verdict, MachineError> {
        let (path, body) = match kind {
            TokenKind::ApiKey => ("/api_keys/verify", serde_json::json!({ "secret": secret })),
            TokenKind::M2mToken => ("/m2m_tokens/verify", serde_json::json!({ "token": secret })),
            TokenKind::OauthToken => {
                ("/oauth_applications/access_tokens/verify", serde_json::json!({ "access_token": secret }))
            }
            TokenKind::SessionToken => return Ok(Verdict::Invalid),
        };
        match self.api.verify_token(path, &body).await {
            Ok(object) => Ok(match machine_from_json(kind, &object) {
                Some(machine) => Verdict::Valid(Arc::new(machine)),
                None => Verdict::Invalid,
            }),
            Err(ApiError::NotConfigured) => Err(MachineError::NotConfigured),
            // Clerk's own SDK reads 404 (and any refusal of the input) as an invalid token.
            Err(ApiError::Status { status: 400 | 404 | 422, .. }) => Ok(Verdict::Invalid),
            Err(ApiError::Status { status: 429, retry_after, .. }) => {
                let wait = retry_after.unwrap_or(1).clamp(1, 60);
                *self.backoff_until.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(Instant::now() + Duration::from_secs(wait));
                tracing::warn!(retry_after = wait, "Clerk rate-limited machine-token verification");
                Err(MachineError::Unavailable { retry_after: Some(wait) })
            }
            Err(err) => {
                // 401/403 (our secret key is refused), 5xx and transport errors: nobody signs in.
                tracing::warn!(error = %err, kind = kind.as_str(), "verifying a machine token failed");
                Err(MachineError::Unavailable { retry_after: None })
            }
        }
    }
}

impl Verdict {
    fn into_result(self, kind: TokenKind) -> Result<Arc<Machine>, MachineError> {
        match self {
            // An entry outlives its token by at most a second of rounding.
            Self::Valid(m) if m.expiration.is_none_or(|exp| exp > unix_now() * 1000) => Ok(m),
            _ => Err(MachineError::Invalid(kind)),
        }
    }
}

/// Clerk's `APIKey`, `M2MToken` and `IdPOAuthAccessToken` objects. `None` when the object says
/// the token is revoked or expired, or lacks its id or subject.
pub fn machine_from_json(kind: TokenKind, object: &serde_json::Value) -> Option<Machine> {
    if object["revoked"].as_bool() == Some(true) || object["expired"].as_bool() == Some(true) {
        return None;
    }
    let text = |field: &str| object[field].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let scopes = object["scopes"]
        .as_array()
        .map(|list| list.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    Some(Machine {
        kind,
        id: text("id")?,
        subject: text("subject")?,
        scopes,
        claims: object.get("claims").filter(|c| c.is_object()).cloned(),
        name: text("name"),
        client_id: text("client_id"),
        expiration: object["expiration"].as_i64(),
    })
}

struct VerdictExpiry {
    positive_ttl: Duration,
}

impl moka::Expiry<[u8; 32], Verdict> for VerdictExpiry {
    fn expire_after_create(&self, _key: &[u8; 32], verdict: &Verdict, _created_at: Instant) -> Option<Duration> {
        Some(match verdict {
            Verdict::Valid(machine) => match machine.expiration {
                Some(exp_ms) => {
                    let left = Duration::from_millis((exp_ms - unix_now() * 1000).max(0) as u64);
                    left.min(self.positive_ttl)
                }
                None => self.positive_ttl,
            },
            Verdict::Invalid => NEGATIVE_TTL,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn clerk_objects_become_machines() {
        let key = json!({
            "object": "api_key", "id": "ak_id_1", "type": "api_key", "name": "ci", "subject": "org_1",
            "scopes": ["read", 3], "claims": { "tier": "gold" }, "revoked": false, "expired": false,
            "expiration": null
        });
        let machine = machine_from_json(TokenKind::ApiKey, &key).expect("a valid key");
        assert_eq!(machine.scopes, ["read"]);
        assert_eq!(machine.org_id().map(|o| o.to_string()), Some("org_1".into()));
        assert_eq!(machine.user_id(), None);
        assert_eq!(machine.name.as_deref(), Some("ci"));
        for (field, value) in
            [("revoked", json!(true)), ("expired", json!(true)), ("id", json!(null)), ("subject", json!(""))]
        {
            let mut bad = key.clone();
            bad[field] = value;
            assert!(machine_from_json(TokenKind::ApiKey, &bad).is_none(), "{field}");
        }
    }
}
