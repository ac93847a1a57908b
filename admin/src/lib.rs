//! The admin, for staff: log in with a password, then list, search and edit the mirrored users,
//! organizations and memberships, and read the audit log. Every server function here starts
//! with `require_admin()`.

pub mod audit;
pub mod billing;
pub mod dashboard;
pub mod layout;
pub mod login;
pub mod orgs;
pub mod staff;
pub mod users;

use ids::DeliveryId;
use serde::{Deserialize, Serialize};

/// The staff login page, for links. Who may use the admin is decided by the server, through
/// `backend::admin::access` (whose `LOGIN_PATH` a test holds equal to this one).
pub const LOGIN_PATH: &str = "/admin/login";

// Each page module names these as `crate::…`, as it did inside the app crate.
#[cfg(feature = "ssr")]
use app_core::state;
use app_core::{error, error_page};

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn the_login_path_is_the_one_the_server_redirects_to() {
        assert_eq!(super::LOGIN_PATH, backend::admin::access::LOGIN_PATH);
    }
}

/// An audit entry, as the admin shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// (field, before, after); no `before` for context such as the member concerned.
    pub changes: Vec<(String, Option<String>, String)>,
}

/// A webhook delivery, as the admin shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub svix_id: DeliveryId,
    pub event_type: String,
    pub status: String,
    pub error: Option<String>,
    pub object_id: Option<String>,
    pub received_at: String,
}

impl EventView {
    /// Deliveries that did not end as processed, duplicate, ignored or stale need a look.
    pub fn failed(&self) -> bool {
        !matches!(self.status.as_str(), "processed" | "duplicate" | "ignored" | "stale")
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use backend::db::{audit_log::AuditEntry, webhook_events::WebhookEventRow};
    use serde_json::Value;

    use super::{AuditView, EventView};
    use app_core::{
        auth::{AdminView, require_admin},
        error::AppError,
        state::AppState,
    };

    /// The client as login throttling counts it (the auth middleware leaves it on admin paths).
    pub fn client_ip() -> String {
        leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<backend::staff::ClientIp>().cloned())
            .map(|ip| ip.0)
            .unwrap_or_else(|| "unknown".into())
    }

    /// The guard and the state, for the first line of every admin server function.
    pub fn admin() -> Result<(AdminView, AppState), AppError> {
        let admin = require_admin()?;
        let state = app_core::state::app_state()?;
        Ok((admin, state))
    }

    /// `2026-12-01 20:41 UTC`. Written out rather than with `format`, which parses its pattern
    /// on every call: a page formats a hundred of these.
    pub fn time(at: chrono::DateTime<chrono::Utc>) -> String {
        use chrono::{Datelike, Timelike};
        format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", at.year(), at.month(), at.day(), at.hour(), at.minute())
    }

    fn show(value: &Value) -> String {
        match value {
            Value::Null => "—".into(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    impl From<AuditEntry> for AuditView {
        fn from(e: AuditEntry) -> Self {
            let changes = match &e.changes.0 {
                Value::Object(map) => map
                    .iter()
                    .map(|(field, change)| match (change.get("before"), change.get("after")) {
                        (Some(before), Some(after)) => (field.clone(), Some(show(before)), show(after)),
                        _ => (field.clone(), None, show(change)),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Self {
                id: e.id,
                at: time(e.created_at),
                actor: e.actor_email.unwrap_or_else(|| "(deleted account)".into()),
                action: e.action,
                object_type: e.object_type,
                object_id: e.object_id,
                changes,
            }
        }
    }

    impl From<WebhookEventRow> for EventView {
        fn from(e: WebhookEventRow) -> Self {
            Self {
                svix_id: e.svix_id,
                event_type: e.event_type,
                status: e.status,
                error: e.error,
                object_id: e.object_id,
                received_at: time(e.received_at),
            }
        }
    }
}
