//! Extension hooks: your code, run after each applied event (the Rust counterpart of the
//! original package's signals). Hooks run in their own tasks after the transaction commits, so
//! a hook that fails or panics is logged and never loses the event or changes Svix's answer.
//!
//! ```ignore
//! struct WelcomeEmail;
//!
//! #[async_trait::async_trait]
//! impl WebhookHook for WelcomeEmail {
//!     async fn on_event(&self, event: &HookEvent) -> Result<(), HookError> {
//!         if let AppliedEvent::UserCreated(user) = &event.applied {
//!             send_welcome(&user.email).await?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let hooks = WebhookHooks::new().with(WelcomeEmail);
//! ```

use ids::{ClerkOrgId, ClerkSessionId, ClerkUserId, DeliveryId};
use std::sync::Arc;

use serde_json::Value;

use crate::db::{invitations::Invitation, memberships::Membership, organizations::Organization, users::User};

pub type HookError = Box<dyn std::error::Error + Send + Sync>;

/// What an event changed, with the stored row as it is after the change.
#[derive(Clone, Debug)]
pub enum AppliedEvent {
    UserCreated(User),
    UserUpdated(User),
    UserDeleted { clerk_id: ClerkUserId, user: Option<User> },
    SessionCreated { session_id: ClerkSessionId, user: Option<User> },
    SessionEnded { session_id: ClerkSessionId, event_type: String },
    OrganizationCreated(Organization),
    OrganizationUpdated(Organization),
    OrganizationDeleted { clerk_id: ClerkOrgId, organization: Option<Organization> },
    MembershipCreated(Membership),
    MembershipUpdated(Membership),
    MembershipDeleted(Option<Membership>),
    InvitationCreated(Invitation),
    InvitationAccepted(Invitation),
    InvitationRevoked(Invitation),
}

/// One applied delivery: the Svix id, Clerk's event type and `data` payload, and what it changed.
#[derive(Clone, Debug)]
pub struct HookEvent {
    pub svix_id: DeliveryId,
    pub event_type: String,
    pub payload: Value,
    pub applied: AppliedEvent,
}

#[async_trait::async_trait]
pub trait WebhookHook: Send + Sync + 'static {
    async fn on_event(&self, event: &HookEvent) -> Result<(), HookError>;
}

/// The registered hooks. Cheap to clone.
#[derive(Clone, Default)]
pub struct WebhookHooks(Vec<Arc<dyn WebhookHook>>);

impl WebhookHooks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, hook: impl WebhookHook) -> Self {
        self.0.push(Arc::new(hook));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs every hook in its own task; failures and panics are logged.
    pub(crate) fn dispatch(&self, event: HookEvent) {
        if self.0.is_empty() {
            return;
        }
        let event = Arc::new(event);
        for hook in &self.0 {
            let hook = Arc::clone(hook);
            let ev = Arc::clone(&event);
            let task = tokio::spawn(async move { hook.on_event(&ev).await });
            let svix_id = event.svix_id.clone();
            tokio::spawn(async move {
                match task.await {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => tracing::warn!(%svix_id, error = %err, "a webhook hook failed"),
                    Err(join) => tracing::error!(%svix_id, error = %join, "a webhook hook panicked"),
                }
            });
        }
    }
}
