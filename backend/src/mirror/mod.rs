//! Writes to the mirror of Clerk's data that both webhooks and the sync make: one user upsert
//! (with its generated username), tombstones, and the user a membership needs.

pub mod billing;
pub mod username_push;
pub mod usernames;

use ids::{ClerkOrgId, ClerkUserId};
use serde_json::Value;

use self::usernames::assign_username;
use crate::{
    clerk::{
        api::{ApiError, ClerkApi},
        mapping::{self, MappingError},
    },
    db::{
        Tx, erasure,
        memberships::{self, MembershipOwner},
        organizations::{self, Organization},
        session_index::{EndSessions, end_clerk_sessions_in},
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
    /// A membership names a user we lack, and they were not fetched before the transaction.
    #[error("user {0} is not mirrored yet and was not fetched from Clerk")]
    NotFetched(String),
}

/// Mirrors one Clerk user object (order-safe: an older `updated_at` loses).
pub async fn upsert_user(tx: &mut Tx, policy: &MirrorPolicy, user: &Value) -> Result<Upserted, MirrorError> {
    let mut fields = mapping::user_fields(user)?;
    assign_username(tx, policy, &mut fields).await?;
    Ok(users::upsert_from_clerk_in(tx.conn(), &fields).await?)
}

/// A deleted user: tombstoned with their personal data erased (unless the policy keeps it),
/// memberships tombstoned, server sessions ended. Shared with `sync-users --prune`.
pub async fn tombstone_user(
    tx: &mut Tx,
    policy: &MirrorPolicy,
    clerk_id: &ClerkUserId,
) -> Result<Option<User>, sqlx::Error> {
    let erase = !policy.keep_deleted_user_data;
    // The address as it was: other tables name the person by it.
    let email = match erase {
        true => users::find_by_clerk_id_in(tx.conn(), clerk_id).await?.map(|u| u.email),
        false => None,
    };
    let user = users::tombstone_in(tx.conn(), clerk_id, erase).await?;
    if let Some(user) = &user {
        memberships::tombstone_all_in(tx.conn(), MembershipOwner::User(user.id)).await?;
        if erase {
            erasure::erase_person_in(tx, user.id, email.as_deref().unwrap_or_default()).await?;
        }
    }
    end_clerk_sessions_in(tx.conn(), EndSessions::ClerkUser(clerk_id)).await?;
    Ok(user)
}

/// A deleted organization: tombstoned with its memberships. Shared with `sync-orgs --prune`.
pub async fn tombstone_organization(tx: &mut Tx, clerk_id: &ClerkOrgId) -> Result<Option<Organization>, sqlx::Error> {
    let organization = organizations::tombstone_in(tx.conn(), clerk_id).await?;
    if let Some(org) = &organization {
        memberships::tombstone_all_in(tx.conn(), MembershipOwner::Organization(org.id)).await?;
    }
    Ok(organization)
}

/// An object (a user, an organization) fetched from Clerk before a write transaction began, so
/// that no transaction waits on the network.
#[derive(Clone, Debug)]
pub enum Fetched {
    Found(Value),
    /// Clerk answered 404.
    Gone,
}

/// Fetches a user from Clerk; a 404 is an answer (`Gone`), not an error.
pub async fn fetch_user(api: &ClerkApi, clerk_id: &ClerkUserId) -> Result<Fetched, ApiError> {
    found_or_gone(api.get_user(clerk_id).await)
}

/// Fetches an organization from Clerk; a 404 is an answer (`Gone`), not an error.
pub async fn fetch_organization(api: &ClerkApi, clerk_id: &ClerkOrgId) -> Result<Fetched, ApiError> {
    found_or_gone(api.get_organization(clerk_id).await)
}

fn found_or_gone(answer: Result<Value, ApiError>) -> Result<Fetched, ApiError> {
    match answer {
        Ok(object) => Ok(Fetched::Found(object)),
        Err(ApiError::Status { status: 404, .. }) => Ok(Fetched::Gone),
        Err(err) => Err(err),
    }
}

/// The local user for a membership, taken from `fetched` when we do not have them yet. Never
/// calls Clerk: it runs inside a write transaction, which must not wait on the network (on
/// SQLite that transaction holds the app's only write connection). `None` when Clerk no longer
/// knows them either.
pub async fn user_for_membership(
    tx: &mut Tx,
    policy: &MirrorPolicy,
    clerk_id: &ClerkUserId,
    fetched: Option<&Fetched>,
) -> Result<Option<User>, MirrorError> {
    if let Some(user) = users::find_by_clerk_id_in(tx.conn(), clerk_id).await? {
        return Ok(Some(user));
    }
    let clerk_user = match fetched {
        Some(Fetched::Found(user)) => user,
        Some(Fetched::Gone) => return Ok(None),
        None => return Err(MirrorError::NotFetched(clerk_id.to_string())),
    };
    upsert_user(tx, policy, clerk_user).await?;
    Ok(users::find_by_clerk_id_in(tx.conn(), clerk_id).await?)
}
