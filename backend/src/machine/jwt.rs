//! M2M and OAuth access tokens in JWT form, verified locally with the instance keys (no
//! network), by the rules of `@clerk/backend`'s `verifyMachineAuthToken`: RS256, an M2M token's
//! `cat` absent or Clerk's machine category and its `typ` absent or `JWT`, an OAuth token's
//! `typ` `at+jwt`; then `sub`, `exp` (required), `nbf` and `iat` with the clock skew. Verified tokens are cached (by hash) until they expire.

use std::{sync::Arc, time::Duration};

use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{Machine, MachineError, TokenKind, kind::OAUTH_JWT_TYPES};
use crate::clerk::{TokenError, TokenVerifier, category, verify::unix_now};

/// Claims an M2M token's custom `claims` leave out (Clerk's `M2M_RESERVED_JWT_CLAIMS`).
const RESERVED: [&str; 6] = ["iss", "sub", "exp", "nbf", "iat", "jti"];

pub struct JwtMachines {
    verified: moka::sync::Cache<[u8; 32], Arc<Machine>>,
}

impl JwtMachines {
    pub fn new(capacity: u64) -> Self {
        Self { verified: moka::sync::Cache::builder().max_capacity(capacity).expire_after(UntilExpiry).build() }
    }

    pub async fn verify(
        &self,
        keys: &TokenVerifier,
        kind: TokenKind,
        token: &str,
    ) -> Result<Arc<Machine>, MachineError> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now_ms = unix_now() * 1000;
        let cached = self.verified.get(&hash);
        crate::measure::cache_lookup("machine_token", cached.is_some());
        if let Some(machine) = cached {
            return match machine.expiration {
                Some(exp) if exp <= now_ms - keys.skew() * 1000 => Err(MachineError::Invalid(kind)),
                _ => Ok(machine),
            };
        }
        let machine = Arc::new(verify_uncached(keys, kind, token).await.map_err(|err| match err {
            TokenError::KeysUnavailable => MachineError::Unavailable { retry_after: None },
            TokenError::NoKeysConfigured => MachineError::NotConfigured,
            _ => MachineError::Invalid(kind),
        })?);
        self.verified.insert(hash, Arc::clone(&machine));
        Ok(machine)
    }
}

async fn verify_uncached(keys: &TokenVerifier, kind: TokenKind, token: &str) -> Result<Machine, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.alg != Algorithm::RS256 {
        return Err(TokenError::UnsupportedAlgorithm);
    }
    let raw_header = crate::clerk::verify::unverified_header(token).ok_or(TokenError::Malformed)?;
    let typ = raw_header.get("typ");
    match kind {
        TokenKind::M2mToken => {
            let cat_ok = raw_header.get("cat").is_none_or(|c| c == category::MACHINE);
            let typ_ok = typ.is_none_or(|t| t == "JWT");
            if !cat_ok || !typ_ok {
                return Err(TokenError::Malformed);
            }
        }
        TokenKind::OauthToken => {
            if !typ.and_then(Value::as_str).is_some_and(|t| OAUTH_JWT_TYPES.contains(&t)) {
                return Err(TokenError::Malformed);
            }
        }
        _ => return Err(TokenError::NotASessionToken),
    }
    let key = keys.key_for(header.kid.as_deref()).await?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
            _ => TokenError::Malformed,
        })?
        .claims;

    let now = unix_now();
    let skew = keys.skew();
    let sub = claims.get("sub").and_then(Value::as_str).ok_or(TokenError::MissingSubject)?.to_owned();
    // No `azp` check: Clerk passes only the key, audience and skew to a machine JWT's verifyJwt.
    let exp = claims.get("exp").and_then(Value::as_f64).ok_or(TokenError::MissingExpiry)?;
    if exp <= (now - skew) as f64 {
        return Err(TokenError::Expired);
    }
    let time = |name: &str| -> Result<Option<f64>, TokenError> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or(TokenError::Malformed),
        }
    };
    if time("nbf")?.is_some_and(|nbf| nbf > (now + skew) as f64) {
        return Err(TokenError::NotYetValid);
    }
    if time("iat")?.is_some_and(|iat| iat > (now + skew) as f64) {
        return Err(TokenError::IssuedInFuture);
    }

    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let strings = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(list) => list.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let split = |v: &Value| v.as_str().map(|s| s.split(' ').filter(|p| !p.is_empty()).map(str::to_owned).collect());
    let (scopes, custom, client_id) = match kind {
        // `scopes` is a space-separated string; without it, the audience.
        TokenKind::M2mToken => {
            let scopes =
                claims.get("scopes").and_then(split).or_else(|| claims.get("aud").map(strings)).unwrap_or_default();
            let custom: Map<String, Value> = claims
                .iter()
                .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (scopes, (!custom.is_empty()).then_some(Value::Object(custom)), None)
        }
        // `scp` is a list; without it, `scope` is a space-separated string.
        _ => {
            let scopes =
                claims.get("scp").map(strings).or_else(|| claims.get("scope").and_then(split)).unwrap_or_default();
            (scopes, None, text("client_id"))
        }
    };
    Ok(Machine {
        kind,
        id: text("jti").unwrap_or_default(),
        subject: sub,
        scopes,
        claims: custom,
        name: None,
        client_id,
        expiration: Some((exp * 1000.0) as i64),
    })
}

/// A verified JWT stays cached until it expires (at most an hour).
struct UntilExpiry;

impl moka::Expiry<[u8; 32], Arc<Machine>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        machine: &Arc<Machine>,
        _at: std::time::Instant,
    ) -> Option<Duration> {
        let left_ms = machine.expiration.unwrap_or(0) - unix_now() * 1000;
        Some(Duration::from_millis(left_ms.clamp(1000, 3_600_000) as u64))
    }
}
