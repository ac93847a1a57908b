//! Cache invalidation across instances. Every instance drops the same cache entries when a
//! write changes something: locally at once (each subscribed cache forgets), and on Postgres
//! through LISTEN/NOTIFY so that the other instances follow within milliseconds rather than a
//! cache TTL. On SQLite (one instance by nature) publishing is a no-op with the same interface.

use std::{
    sync::{
        Arc,
        atomic::{AtomicI32, Ordering},
    },
    time::Duration,
};

use sqlx::postgres::PgListener;

use crate::{
    db::Db,
    invalidation::{CHANNEL, Changed, Forget, Invalidation},
};

/// Applies invalidations to the subscribed caches and publishes them to the other instances.
pub struct InvalidationBus {
    db: Db,
    subscribers: Vec<Arc<dyn Forget>>,
    /// The backend pid of this instance's listener connection (0 when none), for operators and tests.
    listener_pid: AtomicI32,
}

impl InvalidationBus {
    /// The bus over `subscribers`: every cache of this process that holds mirrored data.
    pub fn new(db: Db, subscribers: Vec<Arc<dyn Forget>>) -> Arc<Self> {
        Arc::new(Self { db, subscribers, listener_pid: AtomicI32::new(0) })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn listener_pid(&self) -> i32 {
        self.listener_pid.load(Ordering::Relaxed)
    }

    /// Forgets what a write made stale, here and on every instance, and hands back its result.
    pub async fn settle<T>(&self, changed: Changed<T>) -> T {
        if !changed.stale.is_empty() {
            // Boxed: rare, and its NOTIFY would otherwise size every request's future.
            Box::pin(self.invalidate(&changed.stale)).await;
        }
        changed.value
    }

    /// Drops the entries here, then tells the other instances. A failed NOTIFY is logged: the
    /// others then catch up within their cache TTL.
    pub async fn invalidate(&self, items: &[Invalidation]) {
        for item in items {
            self.apply(item).await;
        }
        publish(&self.db, items).await;
    }

    async fn apply(&self, item: &Invalidation) {
        for subscriber in &self.subscribers {
            subscriber.forget(item).await;
        }
    }

    async fn clear(&self) {
        self.apply(&Invalidation::All).await;
    }

    /// On Postgres, listens for other instances' invalidations until the task is aborted. A lost
    /// connection is re-established, and caches are cleared once since notifications may have
    /// been missed meanwhile.
    pub fn spawn_listener(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let Db::Postgres(pool) = &self.db else { return None };
        let (pool, bus) = (pool.clone(), Arc::clone(self));
        Some(tokio::spawn(async move {
            let mut first = true;
            loop {
                let mut listener = match connect(&pool).await {
                    Ok(listener) => listener,
                    Err(err) => {
                        tracing::warn!(error = %err, "invalidation listener cannot connect; retrying in 1 s");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                if let Ok(pid) = sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()").fetch_one(&mut listener).await
                {
                    bus.listener_pid.store(pid, Ordering::Relaxed);
                }
                if !first {
                    crate::measure::listener_reconnected();
                    tracing::warn!(
                        "invalidation listener reconnected; cleared caches in case notifications were missed"
                    );
                    bus.clear().await;
                }
                first = false;
                loop {
                    match listener.try_recv().await {
                        Ok(Some(note)) => match serde_json::from_str::<Note>(note.payload()) {
                            Ok(note) => {
                                let items = match note {
                                    Note::Stamped { at, items } => {
                                        let now = chrono::Utc::now().timestamp_millis();
                                        crate::measure::bus_lag((now - at) as f64 / 1000.0);
                                        items
                                    }
                                    Note::Plain(items) => items,
                                };
                                for item in &items {
                                    bus.apply(item).await;
                                }
                            }
                            Err(err) => tracing::warn!(error = %err, "ignoring a malformed invalidation"),
                        },
                        Ok(None) | Err(_) => {
                            tracing::warn!("invalidation listener lost its connection; reconnecting");
                            bus.clear().await;
                            break;
                        }
                    }
                }
            }
        }))
    }
}

const MAX_NOTIFY_BYTES: usize = 7900;

/// A NOTIFY payload: the items, stamped with when they were published (Unix ms, for the lag
/// metric). A bare list is what instances before the stamp sent; both are read during a rollout.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Note {
    Stamped { at: i64, items: Vec<Invalidation> },
    Plain(Vec<Invalidation>),
}

/// Tells every instance listening on Postgres to drop `items`, in one NOTIFY; a no-op on
/// SQLite. Processes without caches of their own (the sync commands) call it directly.
pub async fn publish(db: &Db, items: &[Invalidation]) {
    let Db::Postgres(pool) = db else { return };
    if items.is_empty() {
        return;
    }
    let at = chrono::Utc::now().timestamp_millis();
    let Ok(mut payload) = serde_json::to_string(&Note::Stamped { at, items: items.to_vec() }) else { return };
    // NOTIFY payloads stop at 8000 bytes; a batch that names more drops everything instead.
    if payload.len() > MAX_NOTIFY_BYTES
        && let Ok(all) = serde_json::to_string(&Note::Stamped { at, items: vec![Invalidation::All] })
    {
        payload = all;
    }
    if let Err(err) = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(pool).await {
        tracing::warn!(error = %err, "publishing a cache invalidation failed");
    }
}

async fn connect(pool: &sqlx::PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
