//! Server session records kept in memory for a few seconds, so that a page and the requests it
//! sets off (server functions, assets) read the session row once instead of once each.
//!
//! Every write or delete through the store drops the id here at once and, on Postgres, on every
//! other instance through the invalidation bus; sessions ended in SQL (Clerk revocations, user
//! deletions) clear the whole cache the same way. The TTL bounds only what the bus cannot see.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use moka::sync::Cache;
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};

/// Names a session in the cache and on the invalidation bus. A digest, not the id: the id is a
/// bearer secret, and NOTIFY payloads are visible to every database role that listens.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    pub fn of(id: &Id) -> Self {
        let digest = Sha256::digest(id.0.to_le_bytes());
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self(bytes)
    }

    /// The bus's text form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let mut bytes = [0; 16];
        (URL_SAFE_NO_PAD.decode_slice(text, &mut bytes).ok()? == 16).then_some(Self(bytes))
    }
}

pub struct SessionCache {
    /// Bumped by every forget, so that a load which raced one does not store what it read.
    generation: AtomicU64,
    /// None: caching is off (a TTL of zero).
    records: Option<Cache<Fingerprint, Record>>,
}

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        let records = (!ttl.is_zero()).then(|| Cache::builder().max_capacity(10_000).time_to_live(ttl).build());
        Self { generation: AtomicU64::new(0), records }
    }

    /// The cached record, while it has not expired.
    pub fn get(&self, id: &Id) -> Option<Record> {
        let record = self.records.as_ref()?.get(&Fingerprint::of(id))?;
        (record.expiry_date > tower_sessions::cookie::time::OffsetDateTime::now_utc()).then_some(record)
    }

    /// Where a load starts: pass it to [`SessionCache::put`] with what the load read.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches `record` unless something was forgotten since `generation` was read.
    pub fn put(&self, generation: u64, record: &Record) {
        let Some(records) = &self.records else { return };
        let key = Fingerprint::of(&record.id);
        records.insert(key, record.clone());
        // A forget that ran meanwhile bumped the generation before dropping its key, so either
        // it dropped this entry or this check sees the new generation.
        if self.generation() != generation {
            records.invalidate(&key);
        }
    }

    /// Drops one session (written or deleted somewhere).
    pub fn forget(&self, key: Fingerprint) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(records) = &self.records {
            records.invalidate(&key);
        }
    }

    /// Drops every session (some were ended in SQL, by a webhook or a sync).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(records) = &self.records {
            records.invalidate_all();
        }
    }
}

#[async_trait::async_trait]
impl crate::invalidation::Forget for SessionCache {
    async fn forget(&self, item: &crate::invalidation::Invalidation) {
        use crate::invalidation::Invalidation as I;
        match item {
            I::ServerSession(key) => match Fingerprint::decode(key) {
                Some(key) => SessionCache::forget(self, key),
                None => self.clear(),
            },
            // A deleted user's or an ended Clerk session's server sessions were ended in SQL.
            I::User(_) | I::SessionEnded(_) | I::ServerSessions | I::All => self.clear(),
            I::Memberships | I::Listings | I::MachineToken(_) => {}
        }
    }
}
