//! Backend API calls with the sync's fault policy: 429 waits for `Retry-After` (bounded),
//! 5xx and timeouts back off exponentially with jitter, 401/403 stop at once, and any other 4xx
//! is Clerk's answer about this request (`SyncError::Refused`).

use std::time::Duration;

use serde_json::Value;

use super::{Progress, SyncError};
use crate::clerk::api::{ApiError, ClerkApi};

const MAX_ATTEMPTS: u32 = 6;
const MAX_RETRY_AFTER: u64 = 60;

pub struct Fetcher<'a> {
    pub api: &'a ClerkApi,
    pub progress: &'a (dyn Fn(Progress<'_>) + Sync),
    pub requests: u64,
    /// Base backoff; tests shorten it.
    pub backoff: Duration,
}

impl<'a> Fetcher<'a> {
    pub fn new(api: &'a ClerkApi, progress: &'a (dyn Fn(Progress<'_>) + Sync)) -> Self {
        Self { api, progress, requests: 0, backoff: Duration::from_millis(250) }
    }

    /// Runs `call` until it succeeds, applying the fault policy.
    pub async fn call<F, Fut>(&mut self, mut call: F) -> Result<Value, SyncError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Value, ApiError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.requests += 1;
            let err = match call().await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            let wait = match &err {
                ApiError::Status { status: 401 | 403, message, .. } => {
                    let status = if let ApiError::Status { status, .. } = err { status } else { 401 };
                    return Err(SyncError::Unauthorized { status, message: message.clone() });
                }
                ApiError::NotConfigured => return Err(SyncError::Clerk(err.to_string())),
                ApiError::Status { status: 429, retry_after, .. } => {
                    Duration::from_secs(retry_after.unwrap_or(1).clamp(1, MAX_RETRY_AFTER))
                }
                ApiError::Status { status, .. } if *status < 500 => return Err(SyncError::Refused(err)),
                _ => self.backoff * 2u32.pow(attempt.min(6) - 1) + jitter(self.backoff),
            };
            if attempt >= MAX_ATTEMPTS {
                return Err(SyncError::Clerk(format!("{err} (after {attempt} attempts)")));
            }
            (self.progress)(Progress::Waiting { seconds: wait.as_secs().max(1), reason: err.to_string() });
            tokio::time::sleep(wait).await;
        }
    }
}

/// Up to `base` of random delay, so many clients do not retry in step.
fn jitter(base: Duration) -> Duration {
    let r = uuid::Uuid::new_v4().as_u128() as u64 % 1000;
    base.mul_f64(r as f64 / 1000.0)
}
