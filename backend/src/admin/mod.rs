//! What staff change from the admin. Clerk-owned fields are written through to Clerk first and
//! stored from Clerk's answer; local fields are stored directly. Every change is audited in the
//! transaction that makes it.

pub mod access;
pub mod billing;
pub mod cache;
pub mod charts;
pub mod orgs;
pub mod staff;
pub mod users;

use ids::{ClerkUserId, UserId};
use serde_json::{Map, Value, json};

use crate::{
    clerk::api::{ApiError, ClerkApi},
    db::{
        Tx,
        audit_log::{self, AuditRecord},
    },
};

/// The staff member making a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub is_superuser: bool,
    /// The Clerk user impersonating that staff member (Clerk's `act.sub`), if anyone: the audit
    /// log records it with the change.
    pub impersonated_by: Option<ClerkUserId>,
}

/// Where Clerk-owned changes go: the Backend API, or in dev mode the local stand-in (the row).
#[derive(Clone)]
pub enum ClerkWrites {
    Api(ClerkApi),
    DevLocal,
}

/// A message for one form field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("not found")]
    NotFound,
    #[error("{}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Forbidden(String),
    /// Clerk refused the change (4xx); its message is for the staff member.
    #[error("Clerk refused the change: {0}")]
    ClerkRefused(String),
    /// Clerk could not be reached or failed (5xx): nothing was changed.
    #[error("Clerk is unavailable: {0}")]
    ClerkUnavailable(String),
    #[error("Clerk's answer could not be read: {0}")]
    ClerkAnswer(String),
    /// Password checks are saturated (see `staff::verify_gate`): try again shortly.
    #[error("The server is busy checking passwords. Try again in a moment.")]
    Busy,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<ApiError> for EditError {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::Status { status, message, .. }
                if (400..500).contains(&status) && status != 401 && status != 429 =>
            {
                Self::ClerkRefused(message)
            }
            other => Self::ClerkUnavailable(other.to_string()),
        }
    }
}

/// Collects field errors, then fails with all of them at once.
#[derive(Default)]
struct Validation(Vec<FieldError>);

impl Validation {
    fn check(&mut self, ok: bool, field: &'static str, message: &str) {
        if !ok {
            self.0.push(FieldError { field, message: message.to_owned() });
        }
    }

    fn finish(self) -> Result<(), EditError> {
        if self.0.is_empty() { Ok(()) } else { Err(EditError::Invalid(self.0)) }
    }
}

/// `{"field": {"before": …, "after": …}}` for each field whose value differs.
#[derive(Default)]
struct Changes(Map<String, Value>);

impl Changes {
    fn field(&mut self, name: &str, before: impl Into<Value>, after: impl Into<Value>) {
        let (before, after) = (before.into(), after.into());
        if before != after {
            self.0.insert(name.to_owned(), json!({ "before": before, "after": after }));
        }
    }

    /// Context that is not itself a change (which member a role change was for).
    fn context(&mut self, name: &str, value: impl Into<Value>) {
        self.0.insert(name.to_owned(), value.into());
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

/// Records `changes` to the object in the audit log, in the change's transaction; nothing when
/// nothing changed.
async fn record_audit(
    tx: &mut Tx,
    actor: Actor,
    action: &str,
    object_type: &str,
    object_id: &str,
    changes: Changes,
) -> Result<(), sqlx::Error> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut changes = changes.into_value();
    if let (Some(by), Value::Object(map)) = (&actor.impersonated_by, &mut changes) {
        map.insert("impersonated_by".into(), Value::String(by.to_string()));
    }
    let record = AuditRecord { actor_user_id: actor.user_id, action, object_type, object_id, changes: &changes };
    audit_log::record_in(tx.conn(), &record).await
}

/// Text a person typed into a name field: trimmed, at most 256 characters, no control characters.
fn name_ok(value: &str) -> bool {
    value.chars().count() <= 256 && !value.chars().any(char::is_control)
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
