//! Your webhook hooks: register them here and they run after every applied Clerk event.
//! See `backend::webhooks::hooks` for the event types.

use backend::webhooks::{AppliedEvent, HookError, HookEvent, WebhookHook, WebhookHooks};

// README: hook start
/// An example hook: where a welcome email would go. Register it with `.with(WelcomeEmail)`.
pub struct WelcomeEmail;

#[async_trait::async_trait]
impl WebhookHook for WelcomeEmail {
    async fn on_event(&self, event: &HookEvent) -> Result<(), HookError> {
        if let AppliedEvent::UserCreated(user) = &event.applied {
            tracing::info!(user_id = %user.id, "send a welcome email here");
        }
        Ok(())
    }
}
// README: hook end

/// The hooks the server runs. Add yours with `.with(MyHook)`.
pub fn registered() -> WebhookHooks {
    WebhookHooks::new()
}
