//! Mirrored users and memberships by Clerk id, cached in memory. A user Clerk knows but we do
//! not yet is provisioned just in time from the Backend API, and never linked to an existing
//! account by email or username.

use ids::{ClerkOrgId, ClerkUserId, UserId};

use std::{sync::Arc, time::Duration};

use crate::{
    CacheHasher,
    clerk::{
        api::{ApiError, ClerkApi},
        mapping,
    },
    db::{
        Db,
        memberships::{self, Membership},
        users::{self, Upserted, User},
    },
    invalidation::{Changed, Invalidation},
    mirror::{self, MirrorError, MirrorPolicy},
};

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("provisioning from Clerk: {0}")]
    Clerk(#[from] ApiError),
    #[error("provisioning from Clerk: {0}")]
    Mapping(#[from] mapping::MappingError),
    /// Clerk answered 404 or 429 for this user recently; not asked again until `until`.
    #[error("Clerk refused this user recently; not asking again before {until}")]
    RecentlyRefused { until: i64 },
}

impl From<MirrorError> for DirectoryError {
    fn from(err: MirrorError) -> Self {
        match err {
            MirrorError::Database(e) => Self::Database(e),
            MirrorError::Clerk(e) => Self::Clerk(e),
            MirrorError::Payload(e) => Self::Mapping(e),
            // Provisioning fetches before its transaction; nothing here waits for a prefetch.
            MirrorError::NotFetched(_) => Self::Database(sqlx::Error::RowNotFound),
        }
    }
}

/// A user's memberships, each with its organization's Clerk id.
type UserMemberships = Arc<Vec<(ClerkOrgId, Arc<Membership>)>>;

#[derive(Clone)]
pub struct UserDirectory {
    db: Db,
    api: ClerkApi,
    /// Provisioned users get a generated username like any other mirrored user.
    policy: MirrorPolicy,
    users: moka::future::Cache<ClerkUserId, Arc<User>, CacheHasher>,
    /// Each user's memberships, by user id: one entry per user whatever organization ids
    /// requests name, so a flood of made-up `X-Organization-Id` values cannot grow it.
    memberships: moka::future::Cache<UserId, UserMemberships, CacheHasher>,
    /// Subjects Clerk just refused (404 until the token's `exp`, 429 for its `Retry-After`), so
    /// one valid token cannot make every request call the Backend API. Bounded: the key is a
    /// verified `sub`, and entries die within the hour tokens may live.
    refused: moka::sync::Cache<ClerkUserId, i64>,
}

impl UserDirectory {
    pub fn new(db: Db, api: ClerkApi, policy: MirrorPolicy, user_ttl: Duration, org_ttl: Duration) -> Self {
        Self {
            db,
            api,
            policy,
            users: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(user_ttl)
                .build_with_hasher(CacheHasher::default()),
            refused: moka::sync::Cache::builder().max_capacity(10_000).time_to_live(Duration::from_secs(3600)).build(),
            memberships: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(org_ttl)
                .build_with_hasher(CacheHasher::default()),
        }
    }

    /// The mirrored user, provisioning them from Clerk if we have no row. Concurrent calls for
    /// one id share a single load. `token_exp` bounds how long a 404 from Clerk is believed.
    /// A provisioning is a write: the call that made it returns what it made stale (the admin's
    /// lists), for the caller to settle on the bus.
    pub async fn user_or_provision(
        &self,
        clerk_id: &ClerkUserId,
        token_exp: i64,
    ) -> Result<Changed<Arc<User>>, Arc<DirectoryError>> {
        // The warm path is one lookup; the load (a query, maybe a Backend API call and a
        // transaction) is boxed, so its large future is built only on a miss.
        if let Some(user) = self.users.get(clerk_id).await {
            crate::measure::cache_lookup("user", true);
            return Ok(Changed::nothing(user));
        }
        Box::pin(self.load_or_provision(clerk_id, token_exp)).await
    }

    async fn load_or_provision(
        &self,
        clerk_id: &ClerkUserId,
        token_exp: i64,
    ) -> Result<Changed<Arc<User>>, Arc<DirectoryError>> {
        let provisioned = std::sync::atomic::AtomicBool::new(false);
        let lookup = crate::measure::Lookup::new("user");
        let user = self
            .users
            .try_get_with(
                clerk_id.to_owned(),
                lookup.load(async {
                    if let Some(user) = users::find_by_clerk_id(&self.db, clerk_id).await? {
                        return Ok(Arc::new(user));
                    }
                    let now = crate::clerk::verify::unix_now();
                    // Through the whole second `until`: whole seconds from before the call, so a
                    // strict `>` could ask again almost at once after a `Retry-After: 1`.
                    if let Some(until) = self.refused.get(clerk_id).filter(|&until| until >= now) {
                        return Err(DirectoryError::RecentlyRefused { until });
                    }
                    let clerk_user = self.api.get_user(clerk_id).await.inspect_err(|err| {
                        if let Some(until) = refused_until(err, now, token_exp) {
                            self.refused.insert(clerk_id.to_owned(), until);
                        }
                    })?;
                    let mut tx = self.db.begin().await?;
                    let upserted = mirror::upsert_user(&mut tx, &self.policy, &clerk_user).await?;
                    tx.commit().await?;
                    match upserted {
                        Upserted::Created(user) | Upserted::Updated(user) => {
                            tracing::info!(%clerk_id, "provisioned user from Clerk");
                            provisioned.store(true, std::sync::atomic::Ordering::Relaxed);
                            Ok(Arc::new(user))
                        }
                        // A webhook wrote a newer row (or a tombstone) meanwhile: use what is stored.
                        Upserted::Stale => users::find_by_clerk_id(&self.db, clerk_id)
                            .await?
                            .map(Arc::new)
                            .ok_or(DirectoryError::Database(sqlx::Error::RowNotFound)),
                    }
                }),
            )
            .await?;
        Ok(match provisioned.load(std::sync::atomic::Ordering::Relaxed) {
            true => Changed::new(user, vec![Invalidation::Listings]),
            false => Changed::nothing(user),
        })
    }

    /// The mirrored user, without provisioning.
    pub async fn user(&self, clerk_id: &ClerkUserId) -> Result<Option<Arc<User>>, Arc<DirectoryError>> {
        let cached = self.users.get(clerk_id).await;
        crate::measure::cache_lookup("user", cached.is_some());
        if let Some(user) = cached {
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

    /// The database the directory reads.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The user's local membership in an organization (by Clerk org id), from the user's
    /// cached memberships.
    pub async fn membership(
        &self,
        user_id: UserId,
        org_clerk_id: &ClerkOrgId,
    ) -> Result<Option<Arc<Membership>>, Arc<DirectoryError>> {
        let lookup = crate::measure::Lookup::new("membership");
        let all = self
            .memberships
            .try_get_with(
                user_id,
                lookup.load(async {
                    let rows = memberships::for_user_by_org(&self.db, user_id).await?;
                    Ok(Arc::new(rows.into_iter().map(|(org, m)| (org, Arc::new(m))).collect::<Vec<_>>()))
                }),
            )
            .await?;
        Ok(all.iter().find(|(org, _)| org == org_clerk_id).map(|(_, m)| Arc::clone(m)))
    }

    /// How many entries the membership cache holds (for tests and operators).
    pub async fn cached_membership_entries(&self) -> u64 {
        self.memberships.run_pending_tasks().await;
        self.memberships.entry_count()
    }

    pub async fn invalidate_user(&self, clerk_id: &ClerkUserId) {
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

/// Until when a Backend API refusal of a user stands: a 404 until the token that named them
/// expires, a 429 for its `Retry-After` (1 s to an hour). Anything else is not remembered.
fn refused_until(err: &ApiError, now: i64, token_exp: i64) -> Option<i64> {
    let ApiError::Status { status, retry_after, .. } = err else { return None };
    let until = match status {
        404 => token_exp,
        429 => now + retry_after.unwrap_or(1).clamp(1, 3600) as i64,
        _ => return None,
    };
    (until > now).then_some(until)
}
