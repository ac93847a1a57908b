//! Mirrored users and memberships by Clerk id, cached in memory. A user Clerk knows but we do
//! not yet is provisioned just in time from the Backend API, and never linked to an existing
//! account by email or username.

use std::{sync::Arc, time::Duration};

use crate::{
    admin::cache::AdminCache,
    clerk::{
        api::{ApiError, ClerkApi},
        mapping,
    },
    db::{
        Db,
        memberships::{self, Membership},
        users::{self, Upserted, User},
    },
    invalidation::{self, Invalidation},
};

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("provisioning from Clerk: {0}")]
    Clerk(#[from] ApiError),
    #[error("provisioning from Clerk: {0}")]
    Mapping(#[from] mapping::MappingError),
}

#[derive(Clone)]
pub struct UserDirectory {
    db: Db,
    api: ClerkApi,
    users: moka::future::Cache<String, Arc<User>>,
    memberships: moka::future::Cache<(i64, String), Option<Arc<Membership>>>,
    /// Told of every user provisioned here, so the admin's lists show them at once.
    admin: Arc<AdminCache>,
}

impl UserDirectory {
    pub fn new(db: Db, api: ClerkApi, user_ttl: Duration, org_ttl: Duration, admin: Arc<AdminCache>) -> Self {
        Self {
            db,
            api,
            admin,
            users: moka::future::Cache::builder().max_capacity(100_000).time_to_live(user_ttl).build(),
            memberships: moka::future::Cache::builder().max_capacity(100_000).time_to_live(org_ttl).build(),
        }
    }

    /// The mirrored user, provisioning them from Clerk if we have no row. Concurrent calls for
    /// one id share a single load.
    pub async fn user_or_provision(&self, clerk_id: &str) -> Result<Arc<User>, Arc<DirectoryError>> {
        self.users
            .try_get_with(clerk_id.to_owned(), async {
                if let Some(user) = users::find_by_clerk_id(&self.db, clerk_id).await? {
                    return Ok(Arc::new(user));
                }
                let clerk_user = self.api.get_user(clerk_id).await?;
                let fields = mapping::user_fields(&clerk_user)?;
                match users::upsert_from_clerk(&self.db, &fields).await? {
                    Upserted::Created(user) | Upserted::Updated(user) => {
                        tracing::info!(clerk_id, "provisioned user from Clerk");
                        self.admin.invalidate();
                        invalidation::publish(&self.db, &[Invalidation::Listings]).await;
                        Ok(Arc::new(user))
                    }
                    // A webhook wrote a newer row (or a tombstone) meanwhile: use what is stored.
                    Upserted::Stale => users::find_by_clerk_id(&self.db, clerk_id)
                        .await?
                        .map(Arc::new)
                        .ok_or(DirectoryError::Database(sqlx::Error::RowNotFound)),
                }
            })
            .await
    }

    /// The mirrored user, without provisioning.
    pub async fn user(&self, clerk_id: &str) -> Result<Option<Arc<User>>, Arc<DirectoryError>> {
        if let Some(user) = self.users.get(clerk_id).await {
            return Ok(Some(user));
        }
        let found = users::find_by_clerk_id(&self.db, clerk_id).await.map_err(|e| Arc::new(e.into()))?;
        Ok(match found {
            Some(user) => {
                let user = Arc::new(user);
                self.users.insert(clerk_id.to_owned(), Arc::clone(&user)).await;
                Some(user)
            }
            None => None,
        })
    }

    /// The user's local membership in an organization (by Clerk org id), cached.
    pub async fn membership(
        &self,
        user_id: i64,
        org_clerk_id: &str,
    ) -> Result<Option<Arc<Membership>>, Arc<DirectoryError>> {
        self.memberships
            .try_get_with((user_id, org_clerk_id.to_owned()), async {
                Ok(memberships::find(&self.db, user_id, org_clerk_id).await?.map(Arc::new))
            })
            .await
    }

    pub async fn invalidate_user(&self, clerk_id: &str) {
        self.users.invalidate(clerk_id).await;
    }

    pub fn invalidate_memberships(&self) {
        self.memberships.invalidate_all();
    }

    pub fn invalidate_all(&self) {
        self.users.invalidate_all();
        self.memberships.invalidate_all();
    }
}
