//! Machine callers: Clerk API keys (`ak_…`), M2M tokens (`mt_…`, or JWTs whose `sub` is a
//! `mch_…` machine) and OAuth access tokens (`oat_…`, or JWTs typed `at+jwt`). Opaque tokens
//! are verified by the Backend API ([`opaque`]), JWTs locally with the instance keys
//! ([`jwt`]). A route accepts them only when it says so
//! ([`AcceptsToken`]); by default a machine token is "not a session token".

pub mod jwt;
mod kind;
pub mod opaque;

pub use jwt::JwtMachines;
pub use kind::{API_KEY_PREFIX, M2M_TOKEN_PREFIX, MACHINE_SUBJECT_PREFIX, OAUTH_TOKEN_PREFIX};
pub use kind::{AcceptsToken, TokenKind};
pub use opaque::OpaqueVerifier;

use std::sync::Arc;

use ids::{ClerkOrgId, ClerkUserId};
use serde::Serialize;
use serde_json::Value;

/// A verified machine token: what Clerk's auth object says of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Machine {
    /// `ApiKey`, `M2mToken` or `OauthToken`.
    pub kind: TokenKind,
    /// The token's id (`ak_…`'s `id`, a JWT's `jti`).
    pub id: String,
    /// `user_…` or `org_…` for an API key, `mch_…` for an M2M token, the user for OAuth.
    pub subject: String,
    pub scopes: Vec<String>,
    /// Custom claims, if any.
    pub claims: Option<Value>,
    /// An API key's name.
    pub name: Option<String>,
    /// An OAuth token's client.
    pub client_id: Option<String>,
    /// When the token stops being valid, in Unix milliseconds (`None`: never).
    pub expiration: Option<i64>,
}

impl Machine {
    /// The user the token acts for, as Clerk's `toAuth()` gives it: an API key whose subject is
    /// a user, or an OAuth token's subject. M2M tokens act for no user.
    pub fn user_id(&self) -> Option<ClerkUserId> {
        match self.kind {
            TokenKind::ApiKey if self.subject.starts_with("user_") => Some(ClerkUserId::from(self.subject.as_str())),
            TokenKind::OauthToken => Some(ClerkUserId::from(self.subject.as_str())),
            _ => None,
        }
    }

    /// The organization an API key whose subject is an organization belongs to.
    pub fn org_id(&self) -> Option<ClerkOrgId> {
        (self.kind == TokenKind::ApiKey && self.subject.starts_with("org_"))
            .then(|| ClerkOrgId::from(self.subject.as_str()))
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// A machine token from the `Authorization` header, not yet verified: routes that accept its
/// kind verify it on first use (an opaque one costs a Backend API call), the rest refuse it
/// without looking further.
#[derive(Clone)]
pub struct MachineCredential {
    pub kind: TokenKind,
    token: Arc<str>,
}

impl MachineCredential {
    pub fn new(kind: TokenKind, token: &str) -> Self {
        Self { kind, token: token.into() }
    }

    /// The secret itself: for the verifier only.
    pub fn secret(&self) -> &str {
        &self.token
    }
}

/// Never the secret, not even in a debug log.
impl std::fmt::Debug for MachineCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MachineCredential").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// Why a machine token did not authenticate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MachineError {
    /// 401: unknown, revoked, expired or malformed.
    #[error("the {} is invalid, revoked or expired", .0.as_str().replace('_', " "))]
    Invalid(TokenKind),
    /// 401: verifying opaque tokens needs `CLERK_SECRET_KEY`.
    #[error("machine tokens cannot be verified without CLERK_SECRET_KEY")]
    NotConfigured,
    /// 503: Clerk could not answer (down, timing out, or rate limiting us for `retry_after` s).
    #[error("Clerk could not verify the token")]
    Unavailable { retry_after: Option<u64> },
}

/// Both verifiers: JWTs locally, opaque tokens through the Backend API.
pub struct MachineVerifier {
    pub opaque: OpaqueVerifier,
    pub jwt: JwtMachines,
}

impl MachineVerifier {
    pub fn new(api: crate::clerk::api::ClerkApi, positive_ttl: std::time::Duration, capacity: u64) -> Self {
        Self { opaque: OpaqueVerifier::new(api, positive_ttl, capacity), jwt: JwtMachines::new(capacity) }
    }

    /// Verifies a machine token, as Clerk's `verifyMachineAuthToken` does: a JWT-shaped one
    /// locally with `keys`, any other through the Backend API.
    pub async fn verify(
        &self,
        keys: &crate::clerk::TokenVerifier,
        credential: &MachineCredential,
    ) -> Result<Arc<Machine>, MachineError> {
        let secret = credential.secret();
        let verdict = if TokenKind::is_jwt(secret) {
            self.jwt.verify(keys, credential.kind, secret).await
        } else {
            self.opaque.verify(credential.kind, secret).await
        };
        let outcome = match &verdict {
            Ok(_) => "ok",
            Err(MachineError::Invalid(_)) => "invalid",
            Err(MachineError::NotConfigured) => "not_configured",
            Err(MachineError::Unavailable { .. }) => "unavailable",
        };
        crate::measure::token_verified(credential.kind.as_str(), outcome);
        verdict
    }
}
