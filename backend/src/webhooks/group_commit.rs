//! Group commit: one writer applies the deliveries that arrived together in one transaction,
//! each inside its own savepoint, and answers each only once that transaction has committed.
//! A delivery that fails rolls back to its savepoint (503, Svix retries) and the others commit.
//! Batches form on their own: whatever queued while the previous batch committed, at most
//! [`MAX_BATCH`], so a lone delivery never waits for company.

use ids::DeliveryId;

use std::{collections::HashMap, sync::Arc};

use tokio::sync::{Mutex, mpsc, oneshot};

use super::{
    Answer, WebhookError,
    apply::{self, Applied, Status},
    hooks::{HookEvent, WebhookHooks},
    verify::{Delivery, Refusal},
};
use crate::{
    db::{Db, Tx, webhook_events},
    invalidation::{Changed, Invalidation},
    invalidation_bus::InvalidationBus,
    mirror::{MirrorError, MirrorPolicy},
};

/// The most deliveries applied in one transaction.
pub const MAX_BATCH: usize = 64;
/// Postgres takes concurrent writers: batches from this many commit in parallel.
const POSTGRES_WRITERS: usize = 3;
/// Deliveries waiting for the writer beyond this make their senders wait (backpressure).
const QUEUE: usize = 16 * MAX_BATCH;

pub(super) type Reply = Result<Answer, WebhookError>;

pub(super) struct Job {
    pub delivery: Delivery,
    pub reply: oneshot::Sender<Reply>,
}

pub(super) struct Writer {
    pub db: Db,
    pub policy: MirrorPolicy,
    pub hooks: WebhookHooks,
    pub invalidations: Arc<InvalidationBus>,
}

/// One delivery's outcome inside the batch, before the commit decides its answer.
enum Outcome {
    Applied(Box<Changed<Applied>>),
    Duplicate,
    /// The same svix-id as an earlier delivery of this batch: answered as that one settles.
    SameAs(usize),
    Failed(WebhookError),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No savepoints; the log rows in one insert. Any failure abandons the attempt.
    Fast,
    /// A savepoint per delivery, so one failure rolls back alone.
    Savepoints,
}

/// Why an attempt wrote nothing.
enum Abandoned {
    /// The fast attempt met a failure or a duplicate: run the batch again with savepoints.
    Retry,
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Abandoned {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err)
    }
}

impl Writer {
    /// Starts the writers; they stop when every sender is dropped and the queue is empty.
    /// SQLite has one (it allows one writer at a time); Postgres has a few, whose batches
    /// commit in parallel.
    pub(super) fn spawn(self) -> mpsc::Sender<Job> {
        let writers = match self.db {
            Db::Sqlite(_) => 1,
            Db::Postgres(_) => POSTGRES_WRITERS,
        };
        let (sender, queue) = mpsc::channel(QUEUE);
        let (queue, writer) = (Arc::new(Mutex::new(queue)), Arc::new(self));
        for _ in 0..writers {
            let (queue, writer) = (Arc::clone(&queue), Arc::clone(&writer));
            tokio::spawn(async move {
                let mut jobs = Vec::with_capacity(MAX_BATCH);
                // The lock is held only while taking a batch, never while applying it.
                while queue.lock().await.recv_many(&mut jobs, MAX_BATCH).await > 0 {
                    writer.run_batch(&mut jobs).await;
                }
            });
        }
        sender
    }

    async fn run_batch(&self, jobs: &mut Vec<Job>) {
        // Optimistic first: no savepoints and one insert into the log for the whole batch. If any
        // delivery fails or turns out to be a duplicate, that attempt is rolled back whole and the
        // batch runs again with a savepoint per delivery.
        let started = std::time::Instant::now();
        let attempt = match self.attempt(jobs, Mode::Fast).await {
            Err(Abandoned::Retry) => self.attempt(jobs, Mode::Savepoints).await,
            other => other,
        };
        // The queue made visible: how many waited together, and how long their commit took.
        tracing::debug!(deliveries = jobs.len(), elapsed_ms = started.elapsed().as_millis() as u64, "webhook batch");
        crate::measure::webhook_batch(jobs.len(), started.elapsed());
        let outcomes = match attempt {
            Ok(outcomes) => outcomes,
            Err(err) => {
                if let Abandoned::Database(err) = err {
                    tracing::error!(error = %err, deliveries = jobs.len(), "webhook batch not committed; Svix will retry");
                }
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(unavailable()));
                }
                return;
            }
        };

        // Committed: every instance forgets what changed (once per batch), hooks run, and only
        // now does each delivery get its answer.
        let settled: Vec<bool> =
            outcomes.iter().map(|o| matches!(o, Outcome::Applied(_) | Outcome::Duplicate)).collect();
        let mut stale = Vec::new();
        for (job, outcome) in jobs.drain(..).zip(outcomes) {
            let answer = match outcome {
                Outcome::Applied(applied) => Ok(self.after_commit(job.delivery, *applied, &mut stale)),
                Outcome::Duplicate => Ok(Answer::Duplicate),
                Outcome::SameAs(first) if settled[first] => Ok(Answer::Duplicate),
                Outcome::SameAs(_) => Err(unavailable()),
                Outcome::Failed(err) => Err(err),
            };
            let _ = job.reply.send(answer);
        }
        self.invalidations.invalidate(&stale).await;
    }

    /// Applies the batch in one transaction and commits it.
    async fn attempt(&self, jobs: &[Job], mode: Mode) -> Result<Vec<Outcome>, Abandoned> {
        let mut tx = self.db.begin().await?;
        let ids: Vec<&DeliveryId> = jobs.iter().map(|j| &j.delivery.svix_id).collect();
        // Replays cost this one query per batch, never an apply.
        let done = webhook_events::applied_among_in(tx.conn(), &ids).await?;
        let mut first_of: HashMap<&DeliveryId, usize> = HashMap::with_capacity(jobs.len());
        let mut outcomes = Vec::with_capacity(jobs.len());
        for (i, job) in jobs.iter().enumerate() {
            let delivery = &job.delivery;
            if done.contains(&delivery.svix_id) {
                outcomes.push(Outcome::Duplicate);
                continue;
            }
            if let Some(&first) = first_of.get(&delivery.svix_id) {
                outcomes.push(Outcome::SameAs(first));
                continue;
            }
            first_of.insert(&delivery.svix_id, i);
            outcomes.push(match mode {
                Mode::Savepoints => self.apply_one(&mut tx, delivery).await,
                Mode::Fast => {
                    match apply::apply(&mut tx, &self.policy, &delivery.event, delivery.fetched.as_ref()).await {
                        Ok(applied) => Outcome::Applied(Box::new(applied)),
                        Err(_) => return Err(Abandoned::Retry),
                    }
                }
            });
        }
        if mode == Mode::Fast {
            let rows: Vec<webhook_events::Applied<'_>> = jobs
                .iter()
                .zip(&outcomes)
                .filter_map(|(job, outcome)| match outcome {
                    Outcome::Applied(applied) => Some(webhook_events::Applied {
                        svix_id: &job.delivery.svix_id,
                        event_type: job.delivery.event.name(),
                        status: applied.value.status.as_str(),
                        object_id: applied.value.object_id.as_deref(),
                    }),
                    _ => None,
                })
                .collect();
            // Fewer rows than deliveries: another instance recorded one meanwhile.
            if webhook_events::record_all_in(tx.conn(), &rows).await? != rows.len() as u64 {
                return Err(Abandoned::Retry);
            }
        }
        let delivered = outcomes.iter().filter(|o| matches!(o, Outcome::Applied(_))).count();
        let failed = outcomes.iter().filter(|o| matches!(o, Outcome::Failed(_))).count();
        if delivered + failed > 0 {
            webhook_events::count_hour_in(tx.conn(), delivered as i64, failed as i64).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Applies one delivery inside its own savepoint of the batch's transaction.
    async fn apply_one(&self, tx: &mut Tx, delivery: &Delivery) -> Outcome {
        let (svix_id, event_type) = (&delivery.svix_id, delivery.event.name());
        if let Err(err) = tx.savepoint().await {
            tracing::error!(%svix_id, error = %err, "webhook not applied; Svix will retry");
            return Outcome::Failed(unavailable());
        }
        let applied = match apply::apply(tx, &self.policy, &delivery.event, delivery.fetched.as_ref()).await {
            Ok(applied) => applied,
            Err(MirrorError::Payload(err)) => {
                // A bad input changes nothing, not even the log.
                tracing::warn!(%svix_id, error = %err, "webhook payload refused");
                return self.undo(tx, svix_id, Outcome::Failed(WebhookError::Refused(Refusal::BadShape))).await;
            }
            Err(err) => {
                tracing::error!(%svix_id, %event_type, error = %err, "webhook not applied; Svix will retry");
                let outcome = self.undo(tx, svix_id, Outcome::Failed(unavailable())).await;
                // The cause stays in the log; the admin sees which kind of failure it was.
                let kind = match err {
                    MirrorError::Clerk(_) | MirrorError::NotFetched(_) => "Clerk could not be reached; Svix will retry",
                    _ => "the database refused the change; Svix will retry",
                };
                if let Err(err) = webhook_events::record_failure_in(tx.conn(), svix_id, event_type, kind).await {
                    tracing::warn!(%svix_id, error = %err, "recording a failed webhook failed");
                }
                return outcome;
            }
        };
        let status = applied.value.status.as_str();
        let object_id = applied.value.object_id.as_deref();
        match webhook_events::record_in(tx.conn(), svix_id, event_type, status, object_id).await {
            Ok(true) => match tx.release_savepoint().await {
                Ok(()) => Outcome::Applied(Box::new(applied)),
                Err(err) => {
                    tracing::error!(%svix_id, error = %err, "webhook not applied; Svix will retry");
                    Outcome::Failed(unavailable())
                }
            },
            // Another delivery of this id got there first: this one's effect must not count twice.
            Ok(false) => self.undo(tx, svix_id, Outcome::Duplicate).await,
            Err(err) => {
                tracing::error!(%svix_id, error = %err, "webhook not recorded; Svix will retry");
                self.undo(tx, svix_id, Outcome::Failed(unavailable())).await
            }
        }
    }

    /// Rolls back to the delivery's savepoint. If even that fails, the transaction is unusable
    /// and its commit fails, which answers every delivery of the batch with 503.
    async fn undo(&self, tx: &mut Tx, svix_id: &DeliveryId, outcome: Outcome) -> Outcome {
        if let Err(err) = tx.rollback_to_savepoint().await {
            tracing::error!(%svix_id, error = %err, "rolling back a webhook delivery failed");
            return Outcome::Failed(unavailable());
        }
        outcome
    }

    /// What a committed delivery changed: its invalidations join the batch's, its hooks run.
    fn after_commit(&self, delivery: Delivery, changed: Changed<Applied>, stale: &mut Vec<Invalidation>) -> Answer {
        let Changed { value: applied, stale: items } = changed;
        for item in items {
            if !stale.contains(&item) {
                stale.push(item);
            }
        }
        if let Some(event) = applied.event {
            let event_type = delivery.event.name().to_owned();
            let payload = delivery.event.data;
            self.hooks.dispatch(HookEvent { svix_id: delivery.svix_id, event_type, payload, applied: event });
        }
        match applied.status {
            Status::Processed => Answer::Processed,
            Status::Ignored => Answer::Ignored,
            Status::Stale => Answer::Stale,
        }
    }
}

fn unavailable() -> WebhookError {
    WebhookError::Unavailable("the event could not be stored".into())
}
