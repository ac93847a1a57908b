//! `POST /webhooks/clerk`, minus HTTP: verify the Svix signature, then apply the event exactly
//! once per `svix-id`, atomically with its `webhook_events` row (group commit: see
//! [`group_commit`]), then tell caches and hooks. A database failure rolls the event back, so
//! Svix's retry processes it.

pub(crate) mod apply;
pub mod event;
mod group_commit;
pub mod hooks;
mod verify;

use ids::{ClerkOrgId, ClerkUserId};
use std::sync::Arc;

use http::HeaderMap;
use tokio::sync::{mpsc, oneshot};

use group_commit::{Job, Writer};

pub use apply::Status;
pub use event::{ClerkEvent, EventKind};
pub use group_commit::MAX_BATCH;
pub use hooks::{AppliedEvent, HookError, HookEvent, WebhookHook, WebhookHooks};
pub use verify::{MAX_BODY_BYTES, Refusal};

use crate::{
    clerk::api::ClerkApi,
    db::{Db, organizations, users},
    invalidation_bus::InvalidationBus,
    mirror::{Fetched, MirrorPolicy, fetch_organization, fetch_user},
};

fn database(err: sqlx::Error) -> WebhookError {
    tracing::error!(error = %err, "webhook prefetch could not read the database");
    WebhookError::Unavailable("the database could not be read".into())
}

/// The answer to Svix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Processed,
    Duplicate,
    Ignored,
    Stale,
}

/// `CLERK_WEBHOOK_SIGNING_SECRET` is not a Svix secret (`whsec_…`).
#[derive(Debug, thiserror::Error)]
#[error("CLERK_WEBHOOK_SIGNING_SECRET: not a valid Svix secret ({0})")]
pub struct InvalidSigningSecret(standardwebhooks::WebhookError);

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
    api: ClerkApi,
    webhook: Option<standardwebhooks::Webhook>,
    writer: mpsc::Sender<Job>,
}

impl WebhookProcessor {
    /// Starts the webhook writer (see [`group_commit`]); call inside the Tokio runtime.
    pub fn new(
        db: Db,
        signing_secret: Option<&str>,
        invalidations: Arc<InvalidationBus>,
        api: ClerkApi,
        policy: MirrorPolicy,
        hooks: WebhookHooks,
    ) -> Result<Self, InvalidSigningSecret> {
        let webhook = signing_secret.map(standardwebhooks::Webhook::new).transpose().map_err(InvalidSigningSecret)?;
        let writer = Writer { db: db.clone(), policy, hooks, invalidations }.spawn();
        Ok(Self { db, api, webhook, writer })
    }

    /// A membership event may name a user we lack, an invitation an organization we lack. The
    /// one call back to Clerk for them happens here, before the writer, so that no write
    /// transaction waits on the network. If it fails, the delivery is answered 503 (Svix
    /// retries) without touching the writer.
    async fn prefetch(&self, delivery: &verify::Delivery) -> Result<Option<Fetched>, WebhookError> {
        let data = &delivery.event.data;
        let fetched = match delivery.event.kind {
            EventKind::Membership(_) => {
                let Some(user_id) = data["public_user_data"]["user_id"].as_str().map(ClerkUserId::from) else {
                    return Ok(None);
                };
                if users::find_by_clerk_id(&self.db, &user_id).await.map_err(database)?.is_some() {
                    return Ok(None);
                }
                fetch_user(&self.api, &user_id).await
            }
            EventKind::Invitation(_) => {
                let Some(org_id) = data["organization_id"].as_str().map(ClerkOrgId::from) else { return Ok(None) };
                if organizations::find_by_clerk_id(&self.db, &org_id).await.map_err(database)?.is_some() {
                    return Ok(None);
                }
                fetch_organization(&self.api, &org_id).await
            }
            _ => return Ok(None),
        };
        fetched.map(Some).map_err(|err| {
            tracing::warn!(svix_id = %delivery.svix_id, error = %err, "prefetch from Clerk failed; Svix will retry");
            WebhookError::Unavailable("Clerk could not be reached; Svix will retry".into())
        })
    }

    /// Verifies a delivery here (in parallel with others), then has the writer apply it, and
    /// answers once it is durable.
    pub async fn handle(&self, headers: &HeaderMap, body: &[u8]) -> Result<Answer, WebhookError> {
        // Until the signature holds, the type is the sender's word: not a label.
        let mut event_type = "unverified";
        let answer = self.verify_and_apply(headers, body, &mut event_type).await;
        let outcome = match &answer {
            Ok(answer) => answer.as_str(),
            Err(WebhookError::NotConfigured) => "not_configured",
            Err(WebhookError::Refused(_)) => "refused",
            Err(WebhookError::Unavailable(_)) => "failed",
        };
        crate::measure::webhook_delivery(event_type, outcome);
        answer
    }

    /// Verified deliveries waiting for the writer.
    pub fn queue_depth(&self) -> usize {
        self.writer.max_capacity() - self.writer.capacity()
    }

    async fn verify_and_apply(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        event_type: &mut &'static str,
    ) -> Result<Answer, WebhookError> {
        let webhook = self.webhook.as_ref().ok_or(WebhookError::NotConfigured)?;
        let mut delivery = verify::verify(webhook, headers, body)?;
        *event_type = delivery.event.type_label();
        delivery.fetched = self.prefetch(&delivery).await?;
        let (reply, answer) = oneshot::channel();
        let gone = || WebhookError::Unavailable("the server is shutting down".into());
        self.writer.send(Job { delivery, reply }).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}
