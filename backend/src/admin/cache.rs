//! Short-lived caches for the admin's hot reads: pages of the user and organization lists, the
//! dashboard's counts. Each entry is keyed by a
//! generation, and every change the invalidation bus hears of (this instance's writes and, on
//! Postgres, every other instance's) starts a new one, so no cached answer outlives a change
//! made through the app. Writes from outside it (a manual UPDATE, a sync on SQLite by another
//! process) show within the TTL.
//! Concurrent misses on one key share a single load, so an expiry under load runs the query
//! once, not once per waiting request.

use std::{
    hash::Hash,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use ids::UserId;
use moka::future::Cache;

use crate::db::{
    Db,
    listing::Page,
    org_search,
    organizations::Organization,
    stats::{self, Counts},
    user_search::{self, UserFilter, UserListItem},
};

type Keyed<K> = (u64, K);
/// A page of the user list: its filter, its number, and the row it reads on from.
type UsersKey = (UserFilter, i64, Option<UserId>);

pub struct AdminCache {
    generation: AtomicU64,
    /// None: caching is off (a TTL of zero), and every read goes to the database.
    caches: Option<Caches>,
}

struct Caches {
    users: Cache<Keyed<UsersKey>, Arc<Page<UserListItem>>>,
    orgs: Cache<Keyed<(String, i64)>, Arc<Page<Organization>>>,
    counts: Cache<Keyed<()>, Arc<Counts>>,
}

impl AdminCache {
    pub fn new(ttl: Duration) -> Arc<Self> {
        fn build<K: Hash + Eq + Send + Sync + 'static, V: Clone + Send + Sync + 'static>(ttl: Duration) -> Cache<K, V> {
            Cache::builder().max_capacity(1_000).time_to_live(ttl).build()
        }
        let caches = (!ttl.is_zero()).then(|| Caches { users: build(ttl), orgs: build(ttl), counts: build(ttl) });
        Arc::new(Self { generation: AtomicU64::new(0), caches })
    }

    /// Forgets everything cached so far. Entries of the old generation are never read again;
    /// a read that began before this call stores its answer under the old generation.
    pub fn invalidate(&self) {
        // The caches are keyed by generation, so the bump alone hides every entry; dropping them
        // only frees the memory sooner.
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(c) = &self.caches {
            c.users.invalidate_all();
            c.orgs.invalidate_all();
            c.counts.invalidate_all();
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

/// The admin's lists show users, organizations and memberships.
#[async_trait::async_trait]
impl crate::invalidation::Forget for AdminCache {
    async fn forget(&self, item: &crate::invalidation::Invalidation) {
        use crate::invalidation::Invalidation as I;
        if matches!(item, I::User(_) | I::Memberships | I::Listings | I::All) {
            self.invalidate();
        }
    }
}

impl AdminCache {
    /// [`user_search::search`], cached.
    pub async fn users(
        &self,
        db: &Db,
        filter: &UserFilter,
        page: i64,
        after: Option<UserId>,
    ) -> Result<Arc<Page<UserListItem>>, sqlx::Error> {
        let load = async { Ok(Arc::new(user_search::search(db, filter, page, after).await?)) };
        self.through(|c| &c.users, (filter.clone(), page, after), load).await
    }

    /// [`org_search::search`], cached.
    pub async fn orgs(&self, db: &Db, search: Option<&str>, page: i64) -> Result<Arc<Page<Organization>>, sqlx::Error> {
        let load = async { Ok(Arc::new(org_search::search(db, search, page).await?)) };
        self.through(|c| &c.orgs, (search.unwrap_or_default().to_owned(), page), load).await
    }

    /// [`stats::counts`], cached: six COUNTs over the mirror.
    pub async fn counts(&self, db: &Db) -> Result<Arc<Counts>, sqlx::Error> {
        let load = async { Ok(Arc::new(stats::counts(db).await?)) };
        self.through(|c| &c.counts, (), load).await
    }

    /// The cached answer for `key` in this generation, or `load`'s, which is then cached.
    async fn through<K, V>(
        &self,
        pick: impl FnOnce(&Caches) -> &Cache<Keyed<K>, V>,
        key: K,
        load: impl Future<Output = Result<V, sqlx::Error>>,
    ) -> Result<V, sqlx::Error>
    where
        K: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        let Some(cache) = self.caches.as_ref().map(pick) else { return load.await };
        let key = (self.generation(), key);
        let lookup = crate::measure::Lookup::new("admin");
        cache.try_get_with(key, lookup.load(load)).await.map_err(shared_error)
    }
}

/// The error of a load that several requests waited on: the original for the last holder,
/// else its message.
fn shared_error(err: Arc<sqlx::Error>) -> sqlx::Error {
    Arc::try_unwrap(err).unwrap_or_else(|shared| sqlx::Error::Protocol(shared.to_string()))
}
