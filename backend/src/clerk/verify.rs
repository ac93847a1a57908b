//! Session-token verification, in Clerk's order: decode, check the algorithm, verify the RS256
//! signature, then the claims (`sub`, `azp`, `exp`, `nbf`, `iat` with the clock skew).
//! Verified tokens are cached until they expire, so the hot path is a hash lookup.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use secrecy::ExposeSecret;

use super::{
    claims::{ClaimsProblem, RawClaims, SessionClaims},
    keys::{JwksCache, KeyError, KeySource},
};
use crate::Config;

/// Why a token was not accepted. Everything but `KeysUnavailable` means "not signed in" (401).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("only RS256 tokens are accepted")]
    UnsupportedAlgorithm,
    #[error("the token has no kid")]
    MissingKid,
    #[error("no JWKS key matches the token's kid")]
    UnknownKid,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token is not a session token")]
    NotASessionToken,
    /// A token of a kind the route does not accept (Clerk's `token-type-mismatch`).
    #[error("this kind of token is not accepted here")]
    TypeNotAccepted,
    /// An API key, M2M or OAuth token Clerk does not know, or has revoked, or that expired.
    #[error("the machine token is invalid, revoked or expired")]
    MachineTokenInvalid,
    #[error("the token has no subject")]
    MissingSubject,
    #[error("the token has expired")]
    Expired,
    /// No `exp`: refused outright, as `@clerk/backend` does (not an expiry a server session covers).
    #[error("the token has no expiry (exp)")]
    MissingExpiry,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("the token's authorized party is not allowed")]
    UnauthorizedParty,
    #[error("no Clerk keys are configured")]
    NoKeysConfigured,
    /// 503: the JWKS is unreachable and nothing is cached.
    #[error("the signing keys are unavailable")]
    KeysUnavailable,
}

impl TokenError {
    /// The outcome label of `auth_token_verifications_total`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::MissingKid | Self::UnknownKid => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::NotASessionToken => "not_a_session_token",
            Self::TypeNotAccepted => "type_not_accepted",
            Self::MachineTokenInvalid => "invalid",
            Self::MissingSubject | Self::MissingExpiry => "missing_claim",
            Self::Expired => "expired",
            Self::NotYetValid | Self::IssuedInFuture => "not_yet_valid",
            Self::UnauthorizedParty => "unauthorized_party",
            Self::NoKeysConfigured => "not_configured",
            Self::KeysUnavailable => "unavailable",
        }
    }

    /// Errors a server session may paper over (Clerk also retries these by handshake).
    pub fn is_expiry(&self) -> bool {
        matches!(self, Self::Expired)
    }
}

pub struct TokenVerifier {
    keys: KeySource,
    skew: i64,
    authorized_parties: Vec<String>,
    verified: moka::sync::Cache<String, Arc<SessionClaims>, crate::CacheHasher>,
}

/// Why the verifier cannot start with the configured keys.
#[derive(Debug, thiserror::Error)]
pub enum VerifierSetupError {
    #[error("CLERK_JWT_KEY: not an RSA public key ({0})")]
    JwtKey(jsonwebtoken::errors::Error),
    #[error("CLERK_API_URL: no JWKS URL under it ({0})")]
    ApiUrl(#[from] url::ParseError),
    #[error("the dev-mode public key is not an RSA public key ({0})")]
    DevKey(jsonwebtoken::errors::Error),
}

impl TokenVerifier {
    pub fn from_config(config: &Config, http: reqwest::Client) -> Result<Self, VerifierSetupError> {
        let keys = if let Some(pem) = &config.clerk_jwt_key {
            let key = DecodingKey::from_rsa_pem(pem.expose_secret().as_bytes()).map_err(VerifierSetupError::JwtKey)?;
            KeySource::Pem(Arc::new(key))
        } else if let Some(secret) = &config.clerk_secret_key {
            let cache = JwksCache::new(http, &config.clerk_api_url, secret.clone())?;
            KeySource::Jwks(Arc::new(cache))
        } else {
            KeySource::None
        };
        Ok(Self::new(keys, config.clock_skew, config.clerk_authorized_parties.clone()))
    }

    /// Verifies with one PEM public key (dev mode's own key).
    pub fn for_pem(pem: &str, config: &Config) -> Result<Self, VerifierSetupError> {
        let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(VerifierSetupError::DevKey)?;
        Ok(Self::new(KeySource::Pem(Arc::new(key)), config.clock_skew, config.clerk_authorized_parties.clone()))
    }

    pub fn new(keys: KeySource, skew: Duration, authorized_parties: Vec<String>) -> Self {
        Self {
            keys,
            skew: skew.as_secs() as i64,
            authorized_parties,
            // Each entry leaves when its token expires (Clerk's live 60 s): a cache that kept
            // them for an hour grew by every token a browser refreshed, about 1 KB each, until
            // the capacity (found by the soak, `server/tests/api/chaos.rs`).
            verified: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .expire_after(UntilTokenExpires { skew: skew.as_secs() as i64 })
                .build_with_hasher(crate::CacheHasher::default()),
        }
    }

    /// The clock skew allowed on time claims, in seconds.
    pub fn skew(&self) -> i64 {
        self.skew
    }

    /// Verified tokens in memory (for tests and operators).
    pub fn cached_tokens(&self) -> u64 {
        self.verified.run_pending_tasks();
        self.verified.entry_count()
    }

    pub async fn verify(&self, token: &str) -> Result<Arc<SessionClaims>, TokenError> {
        let now = unix_now();
        let cached = self.verified.get(token);
        crate::measure::cache_lookup("session_token", cached.is_some());
        let verdict = match cached {
            // A cached verification never outlives the token's own exp.
            Some(claims) if claims.exp <= now - self.skew => Err(TokenError::Expired),
            Some(claims) => Ok(claims),
            // Boxed: the cold path (JWKS fetch, RSA) would otherwise size every request's future.
            None => Box::pin(self.verify_uncached(token, now)).await,
        };
        let outcome = match &verdict {
            Ok(_) => "ok",
            Err(err) => err.label(),
        };
        crate::measure::token_verified(crate::measure::kind::SESSION, outcome);
        verdict
    }

    async fn verify_uncached(&self, token: &str, now: i64) -> Result<Arc<SessionClaims>, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        // RS256 only. `@clerk/backend` names RS384 and RS512 too, but verifies with RS256 keys
        // (its JWKS and `jwtKey` both say so), so it refuses them as well: the differential
        // tests (`server/tests/api/clerk_reference.rs`) hold the two verdicts equal.
        if header.alg != Algorithm::RS256 {
            return Err(TokenError::UnsupportedAlgorithm);
        }
        // JWT-template and machine tokens are signed with the same key: refuse them by their
        // header (`cat`, `typ`) before looking at the signature.
        if !super::category::header_allows_session(token) {
            return Err(TokenError::NotASessionToken);
        }
        let key = self.key_for(header.kid.as_deref()).await?;

        // Signature first; our own claim checks follow, with Clerk's semantics.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let raw = jsonwebtoken::decode::<RawClaims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => TokenError::UnsupportedAlgorithm,
                _ => TokenError::Malformed,
            })?
            .claims;

        let nbf = raw.nbf();
        let claims = raw.into_claims().map_err(|p| match p {
            ClaimsProblem::MissingSub => TokenError::MissingSubject,
            ClaimsProblem::MachineToken => TokenError::NotASessionToken,
            ClaimsProblem::MissingExp => TokenError::MissingExpiry,
        })?;
        if !self.authorized_parties.is_empty()
            && !claims.azp.as_deref().is_some_and(|azp| self.authorized_parties.iter().any(|p| p == azp))
        {
            return Err(TokenError::UnauthorizedParty);
        }
        if claims.exp <= now - self.skew {
            return Err(TokenError::Expired);
        }
        if nbf.is_some_and(|nbf| nbf > now + self.skew) {
            return Err(TokenError::NotYetValid);
        }
        if claims.iat.is_some_and(|iat| iat > now + self.skew) {
            return Err(TokenError::IssuedInFuture);
        }

        let claims = Arc::new(claims);
        self.verified.insert(token.to_owned(), Arc::clone(&claims));
        Ok(claims)
    }

    /// The instance key that signed a token with this `kid` (any Clerk JWT: machine tokens too).
    pub async fn key_for(&self, kid: Option<&str>) -> Result<Arc<DecodingKey>, TokenError> {
        match &self.keys {
            KeySource::Pem(key) => Ok(Arc::clone(key)),
            KeySource::Jwks(cache) => {
                let kid = kid.ok_or(TokenError::MissingKid)?;
                cache.key(kid).await.map_err(|e| match e {
                    KeyError::UnknownKid => TokenError::UnknownKid,
                    KeyError::Unavailable => TokenError::KeysUnavailable,
                })
            }
            KeySource::None => Err(TokenError::NoKeysConfigured),
        }
    }
}

/// Unix seconds now: the unit of every JWT time claim.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// A cached verification lives as long as its token (plus the clock skew allowed), at most an hour.
struct UntilTokenExpires {
    skew: i64,
}

impl moka::Expiry<String, Arc<SessionClaims>> for UntilTokenExpires {
    fn expire_after_create(
        &self,
        _token: &String,
        claims: &Arc<SessionClaims>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        let left = (claims.exp + self.skew - unix_now()).clamp(1, 3600);
        Some(Duration::from_secs(left as u64))
    }
}

/// A token's claims, read without verifying anything (nothing in them may be trusted).
pub fn unverified_claims(token: &str) -> Option<serde_json::Value> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?).ok()
}

/// A token's header, read without verifying anything.
pub fn unverified_header(token: &str) -> Option<serde_json::Value> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let header = token.split('.').next()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')).ok()?).ok()
}

/// A token's `iat`, read without verifying anything: Clerk compares it with `__client_uat`
/// before verification, so a token from an older sign-in is refused even once it has expired.
/// `None` when the token does not decode or has no numeric `iat`.
pub fn unverified_iat(token: &str) -> Option<i64> {
    let iat = unverified_claims(token)?.get("iat")?.as_f64()?;
    iat.is_finite().then_some(iat.floor() as i64)
}
