//! Where verification keys come from: a PEM public key (networkless), or the instance's JWKS,
//! cached by `kid`. An unknown `kid` triggers at most one refetch every 5 seconds, and keys
//! already cached keep working while the JWKS endpoint is down.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use jsonwebtoken::{DecodingKey, jwk::JwkSet};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// How often an unknown `kid` may trigger a JWKS fetch.
const REFETCH_INTERVAL: Duration = Duration::from_secs(5);
/// Known keys are refreshed in the background after this long, like Clerk's own SDKs.
const REFRESH_AFTER: Duration = Duration::from_secs(300);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("no key with this kid in the JWKS")]
    UnknownKid,
    #[error("the JWKS could not be fetched and no key is cached")]
    Unavailable,
}

pub enum KeySource {
    /// `CLERK_JWT_KEY`: one key, no network. The token's `kid` is not matched.
    Pem(Arc<DecodingKey>),
    Jwks(Arc<JwksCache>),
    /// No Clerk instance configured: every token fails as unverifiable.
    None,
}

pub struct JwksCache {
    http: reqwest::Client,
    url: Url,
    secret_key: SecretString,
    keys: moka::sync::Cache<String, Arc<DecodingKey>>,
    /// When we last tried to fetch, and when we last succeeded.
    fetches: Mutex<(Option<Instant>, Option<Instant>)>,
    fetch_lock: tokio::sync::Mutex<()>,
}

impl JwksCache {
    pub fn new(http: reqwest::Client, api_url: &Url, secret_key: SecretString) -> Result<Self, url::ParseError> {
        Ok(Self {
            http,
            url: api_url.join("/v1/jwks")?,
            secret_key,
            keys: moka::sync::Cache::builder().max_capacity(64).build(),
            fetches: Mutex::new((None, None)),
            fetch_lock: tokio::sync::Mutex::new(()),
        })
    }

    pub async fn key(self: &Arc<Self>, kid: &str) -> Result<Arc<DecodingKey>, KeyError> {
        if let Some(key) = self.keys.get(kid) {
            if self.last_success().is_some_and(|t| t.elapsed() > REFRESH_AFTER) && self.may_fetch() {
                let this = Arc::clone(self);
                tokio::spawn(async move { this.refetch().await });
            }
            return Ok(key);
        }
        // One fetch at a time; whoever waited may find the key already there.
        let _guard = self.fetch_lock.lock().await;
        if let Some(key) = self.keys.get(kid) {
            return Ok(key);
        }
        if self.may_fetch() {
            self.refetch_locked().await;
        }
        match self.keys.get(kid) {
            Some(key) => Ok(key),
            None if self.keys.entry_count() == 0 && self.last_success().is_none() => Err(KeyError::Unavailable),
            None => Err(KeyError::UnknownKid),
        }
    }

    fn last_success(&self) -> Option<Instant> {
        self.fetches.lock().map(|f| f.1).unwrap_or(None)
    }

    fn may_fetch(&self) -> bool {
        self.fetches.lock().map(|f| f.0.is_none_or(|t| t.elapsed() >= REFETCH_INTERVAL)).unwrap_or(false)
    }

    async fn refetch(&self) {
        let _guard = self.fetch_lock.lock().await;
        if self.may_fetch() {
            self.refetch_locked().await;
        }
    }

    async fn refetch_locked(&self) {
        if let Ok(mut f) = self.fetches.lock() {
            f.0 = Some(Instant::now());
        }
        match self.fetch().await {
            Ok(set) => {
                let fresh: Vec<(String, Arc<DecodingKey>)> = set
                    .keys
                    .iter()
                    .filter_map(|jwk| Some((jwk.common.key_id.clone()?, Arc::new(DecodingKey::from_jwk(jwk).ok()?))))
                    .collect();
                // Keys dropped from the JWKS were rotated out: stop trusting them.
                self.keys.invalidate_all();
                for (kid, key) in fresh {
                    self.keys.insert(kid, key);
                }
                if let Ok(mut f) = self.fetches.lock() {
                    f.1 = Some(Instant::now());
                }
                tracing::debug!("JWKS refreshed");
            }
            Err(err) => tracing::warn!(error = %err, "fetching the JWKS failed; cached keys stay in use"),
        }
    }

    async fn fetch(&self) -> Result<JwkSet, reqwest::Error> {
        self.http
            .get(self.url.clone())
            .bearer_auth(self.secret_key.expose_secret())
            .timeout(Duration::from_secs(5))
            .send()
            .await?
            .error_for_status()?
            .json::<JwkSet>()
            .await
    }
}
