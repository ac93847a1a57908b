//! Your webhook hooks: register them here and they run after every applied Clerk event.
//! See `backend::webhooks::hooks` for the event types, and the README for an example.

use backend::webhooks::WebhookHooks;

/// The hooks the server runs. Add yours with `.with(MyHook)`.
pub fn registered() -> WebhookHooks {
    WebhookHooks::new()
}
