//! The staff half of a server session: which staff account is logged in. It lives beside the
//! Clerk record under its own key, in the shared database, so any instance can serve it.

use ids::UserId;

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use std::sync::Arc;

use crate::db::{Db, staff_accounts, users::User};

pub const STAFF_KEY: &str = "staff";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffSessionRecord {
    pub user_id: UserId,
    /// Unix seconds.
    pub logged_in_at: i64,
    /// The account's staff epoch at login: a password reset, deactivation or demotion bumps it,
    /// which ends this session.
    #[serde(default)]
    pub epoch: i64,
}

/// Starts a staff session for account `user_id` under staff `epoch`. The session id is cycled first, so an
/// id planted before login (session fixation) is worthless after it.
pub async fn start(session: &Session, user_id: UserId, epoch: i64) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    let record = StaffSessionRecord { user_id, logged_in_at: chrono::Utc::now().timestamp(), epoch };
    session.insert(STAFF_KEY, record).await?;
    // Written now rather than at the end of the response, so the next request (on any
    // instance) finds it even if this response is slow to finish.
    session.save().await
}

/// Ends the whole server session: the store row is deleted and the cookie cleared.
pub async fn end(session: &Session) -> Result<(), tower_sessions::session::Error> {
    session.flush().await
}

/// The staff account this session is logged in as, while it is still active staff under the
/// epoch it logged in with. Read fresh on every request (one primary-key lookup, staff only): a
/// change made by another process, such as `server create-staff`, must end the session at once.
/// A session that ended loses its staff record.
pub async fn resolve(db: &Db, session: &Session) -> Result<Option<Arc<User>>, sqlx::Error> {
    let record = match session.get::<StaffSessionRecord>(STAFF_KEY).await {
        Ok(Some(record)) => record,
        Ok(None) => return Ok(None),
        Err(err) => {
            tracing::warn!(error = %err, "reading the staff session failed");
            return Ok(None);
        }
    };
    match staff_accounts::active_staff_with_epoch(db, record.user_id).await? {
        Some((user, epoch)) if epoch == record.epoch => Ok(Some(Arc::new(user))),
        _ => {
            if let Err(err) = session.remove::<StaffSessionRecord>(STAFF_KEY).await {
                tracing::warn!(error = %err, "dropping an ended staff session failed");
            }
            Ok(None)
        }
    }
}

/// The staff account logged in on this request, if any: what the auth middleware leaves in the
/// request (and the Leptos context) for the admin guard.
#[derive(Clone, Debug, Default)]
pub struct StaffSession(pub Option<Arc<User>>);
