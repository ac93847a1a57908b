//! Writes to the mirror of Clerk's data that both webhooks and the sync make: one user upsert
//! (with its generated username), tombstones, and the user a membership needs.

pub mod username_push;
pub mod usernames;

use serde_json::Value;

use self::usernames::assign_username;
use crate::{
    auth::clerk_session::{EndSessions, end_clerk_sessions_in},
    clerk::{
        api::{ApiError, ClerkApi},
        mapping::{self, MappingError},
    },
    db::{
        Tx,
        memberships::{self, MembershipOwner},
        organizations::{self, Organization},
        users::{self, Upserted, User},
    },
};

/// How the mirror writes what Clerk sends. Read from the config once, at startup.
#[derive(Clone, Debug, Default)]
pub struct MirrorPolicy {
    /// `Some(prefix)` when `CLERK_AUTO_GENERATE_USERNAME` is on.
    pub username_prefix: Option<String>,
    /// `CLERK_KEEP_DELETED_USER_DATA`: a deleted user's tombstone keeps their personal data.
    /// Off by default: erasure is what a deletion in Clerk asks of every copy.
    pub keep_deleted_user_data: bool,
}

impl MirrorPolicy {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            username_prefix: config.auto_generate_username.then(|| config.username_prefix.clone()),
            keep_deleted_user_data: config.keep_deleted_user_data,
        }
    }
}

/// Why a mirror write failed.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("fetching from Clerk: {0}")]
    Clerk(#[from] ApiError),
    #[error("payload: {0}")]
    Payload(#[from] MappingError),
}

/// Mirrors one Clerk user object (order-safe: an older `updated_at` loses).
pub async fn upsert_user(tx: &mut Tx, policy: &MirrorPolicy, user: &Value) -> Result<Upserted, MirrorError> {
    let mut fields = mapping::user_fields(user)?;
    assign_username(tx, policy, &mut fields).await?;
    Ok(users::upsert_from_clerk_in(tx.conn(), &fields).await?)
}

/// A deleted user: tombstoned with their personal data erased (unless the policy keeps it),
/// memberships tombstoned, server sessions ended. Shared with `sync-users --prune`.
pub async fn tombstone_user(tx: &mut Tx, policy: &MirrorPolicy, clerk_id: &str) -> Result<Option<User>, sqlx::Error> {
    let erase = !policy.keep_deleted_user_data;
    let user = users::tombstone_in(tx.conn(), clerk_id, erase).await?;
    if let Some(user) = &user {
        memberships::tombstone_all_in(tx.conn(), MembershipOwner::User, user.id).await?;
    }
    end_clerk_sessions_in(tx.conn(), EndSessions::ClerkUser(clerk_id)).await?;
    Ok(user)
}

/// A deleted organization: tombstoned with its memberships. Shared with `sync-orgs --prune`.
pub async fn tombstone_organization(tx: &mut Tx, clerk_id: &str) -> Result<Option<Organization>, sqlx::Error> {
    let organization = organizations::tombstone_in(tx.conn(), clerk_id).await?;
    if let Some(org) = &organization {
        memberships::tombstone_all_in(tx.conn(), MembershipOwner::Organization, org.id).await?;
    }
    Ok(organization)
}

/// A user fetched from Clerk before a write transaction began, so that no transaction waits on
/// the network.
#[derive(Clone, Debug)]
pub enum Fetched {
    User(Value),
    /// Clerk answered 404.
    Gone,
}

/// Fetches a user from Clerk; a 404 is an answer (`Gone`), not an error.
pub async fn fetch_user(api: &ClerkApi, clerk_id: &str) -> Result<Fetched, ApiError> {
    match api.get_user(clerk_id).await {
        Ok(user) => Ok(Fetched::User(user)),
        Err(ApiError::Status { status: 404, .. }) => Ok(Fetched::Gone),
        Err(err) => Err(err),
    }
}

/// The local user for a membership, taken from `fetched` or else fetched from Clerk if we do
/// not have them yet. `None` when Clerk no longer knows them either.
pub async fn user_for_membership(
    tx: &mut Tx,
    api: &ClerkApi,
    policy: &MirrorPolicy,
    clerk_id: &str,
    fetched: Option<&Fetched>,
) -> Result<Option<User>, MirrorError> {
    if let Some(user) = users::find_by_clerk_id_in(tx.conn(), clerk_id).await? {
        return Ok(Some(user));
    }
    let fetched = match fetched {
        Some(fetched) => fetched.clone(),
        None => fetch_user(api, clerk_id).await?,
    };
    let clerk_user = match fetched {
        Fetched::User(user) => user,
        Fetched::Gone => return Ok(None),
    };
    upsert_user(tx, policy, &clerk_user).await?;
    Ok(users::find_by_clerk_id_in(tx.conn(), clerk_id).await?)
}
