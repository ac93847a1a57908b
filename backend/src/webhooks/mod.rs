//! `POST /webhooks/clerk`, minus HTTP: verify the Svix signature, then apply the event exactly
//! once per `svix-id`, in one transaction with its `webhook_events` row, then tell caches and
//! hooks. Any database failure rolls everything back, so Svix's retry processes it.

pub(crate) mod apply;
pub mod hooks;
pub mod usernames;
mod verify;

use std::sync::Arc;

use http::HeaderMap;

pub use apply::Status;
pub use hooks::{AppliedEvent, HookError, HookEvent, WebhookHook, WebhookHooks};
pub use usernames::UsernamePolicy;
pub use verify::{MAX_BODY_BYTES, Refusal};

use crate::{
    clerk::api::ClerkApi,
    db::{Db, webhook_events},
    invalidation::{Invalidation, InvalidationBus},
};

/// The answer to Svix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Processed,
    Duplicate,
    Ignored,
    Stale,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
            Self::Stale => "stale",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// 503: no signing secret configured.
    #[error("CLERK_WEBHOOK_SIGNING_SECRET is not configured")]
    NotConfigured,
    /// 400: refused before anything was written.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// 503: nothing was recorded; Svix will retry.
    #[error("{0}")]
    Unavailable(String),
}

pub struct WebhookProcessor {
    db: Db,
    webhook: Option<svix::webhooks::Webhook>,
    invalidations: Arc<InvalidationBus>,
    api: ClerkApi,
    usernames: UsernamePolicy,
    hooks: WebhookHooks,
}

impl WebhookProcessor {
    pub fn new(
        db: Db,
        signing_secret: Option<&str>,
        invalidations: Arc<InvalidationBus>,
        api: ClerkApi,
        usernames: UsernamePolicy,
        hooks: WebhookHooks,
    ) -> Result<Self, String> {
        let webhook = signing_secret
            .map(svix::webhooks::Webhook::new)
            .transpose()
            .map_err(|e| format!("CLERK_WEBHOOK_SIGNING_SECRET: not a valid Svix secret ({e})"))?;
        Ok(Self { db, webhook, invalidations, api, usernames, hooks })
    }

    /// Best effort: a database that cannot take the failure row either is already logged.
    async fn record_failure(&self, svix_id: &str, event_type: &str, error: &str) {
        if let Err(err) = webhook_events::record_failure(&self.db, svix_id, event_type, error).await {
            tracing::warn!(%svix_id, error = %err, "recording a failed webhook failed");
        }
    }

    pub async fn handle(&self, headers: &HeaderMap, body: &[u8]) -> Result<Answer, WebhookError> {
        let webhook = self.webhook.as_ref().ok_or(WebhookError::NotConfigured)?;
        let delivery = verify::verify(webhook, headers, body)?;

        let unavailable = |e: &dyn std::fmt::Display| {
            tracing::error!(svix_id = %delivery.svix_id, event_type = %delivery.event_type, error = %e, "webhook not applied; Svix will retry");
            WebhookError::Unavailable("the event could not be stored".into())
        };
        let mut tx = self.db.begin().await.map_err(|e| unavailable(&e))?;
        if !webhook_events::claim_in(tx.conn(), &delivery.svix_id, &delivery.event_type)
            .await
            .map_err(|e| unavailable(&e))?
        {
            return Ok(Answer::Duplicate);
        }
        let applied =
            match apply::apply(&mut tx, &self.api, &self.usernames, &delivery.event_type, &delivery.data).await {
                Ok(applied) => applied,
                Err(apply::ApplyError::Payload(e)) => {
                    // A bad input changes nothing, not even the log.
                    tracing::warn!(svix_id = %delivery.svix_id, error = %e, "webhook payload refused");
                    return Err(WebhookError::Refused(Refusal::BadShape));
                }
                Err(e) => {
                    let err = unavailable(&e);
                    drop(tx);
                    // The cause stays in the log; the admin sees which kind of failure it was.
                    let kind = match e {
                        apply::ApplyError::Clerk(_) => "Clerk could not be reached; Svix will retry",
                        _ => "the database refused the change; Svix will retry",
                    };
                    self.record_failure(&delivery.svix_id, &delivery.event_type, kind).await;
                    return Err(err);
                }
            };
        webhook_events::finish_in(tx.conn(), &delivery.svix_id, applied.status.as_str(), applied.object_id.as_deref())
            .await
            .map_err(|e| unavailable(&e))?;
        tx.commit().await.map_err(|e| unavailable(&e))?;

        // Committed: make every instance's caches and sessions agree, then run hooks.
        let mut stale: Vec<Invalidation> = applied.after.users.iter().cloned().map(Invalidation::User).collect();
        if applied.after.memberships_changed {
            stale.push(Invalidation::Memberships);
        }
        if let Some(sid) = &applied.after.ended_session {
            stale.push(Invalidation::SessionEnded(sid.clone()));
        }
        if applied.status == apply::Status::Processed && stale.is_empty() {
            // An organization or invitation changed: only the admin's lists show it.
            stale.push(Invalidation::Listings);
        }
        self.invalidations.invalidate(&stale).await;
        if let Some(event) = applied.event {
            self.hooks.dispatch(HookEvent {
                svix_id: delivery.svix_id,
                event_type: delivery.event_type,
                payload: delivery.data,
                applied: event,
            });
        }
        Ok(match applied.status {
            Status::Processed => Answer::Processed,
            Status::Ignored => Answer::Ignored,
            Status::Stale => Answer::Stale,
        })
    }
}
