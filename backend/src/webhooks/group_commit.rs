//! Group commit: one writer applies the deliveries that arrived together in one transaction,
//! each inside its own savepoint, and answers each only once that transaction has committed.
//! A delivery that fails rolls back to its savepoint (503, Svix retries) and the others commit.
//! Batches form on their own: whatever queued while the previous batch committed, at most
//! [`MAX_BATCH`], so a lone delivery never waits for company.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{
    Answer, WebhookError,
    apply::{self, Applied, Status},
    hooks::{HookEvent, WebhookHooks},
    verify::{Delivery, Refusal},
};
use crate::{
    clerk::api::ClerkApi,
    db::{Db, Tx, webhook_events},
    invalidation::{Invalidation, InvalidationBus},
    mirror::{MirrorError, UsernamePolicy},
};

/// The most deliveries applied in one transaction.
pub const MAX_BATCH: usize = 64;
/// Deliveries waiting for the writer beyond this make their senders wait (backpressure).
const QUEUE: usize = 16 * MAX_BATCH;

pub(super) type Reply = Result<Answer, WebhookError>;

pub(super) struct Job {
    pub delivery: Delivery,
    pub reply: oneshot::Sender<Reply>,
}

pub(super) struct Writer {
    pub db: Db,
    pub api: ClerkApi,
    pub usernames: UsernamePolicy,
    pub hooks: WebhookHooks,
    pub invalidations: Arc<InvalidationBus>,
}

/// One delivery's outcome inside the batch, before the commit decides its answer.
enum Outcome {
    Applied(Box<Applied>),
    Duplicate,
    Failed(WebhookError),
}

impl Writer {
    /// Starts the writer; it stops when every sender is dropped and the queue is empty.
    pub(super) fn spawn(self) -> mpsc::Sender<Job> {
        let (sender, mut queue) = mpsc::channel(QUEUE);
        tokio::spawn(async move {
            let mut jobs = Vec::with_capacity(MAX_BATCH);
            while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
                self.run_batch(&mut jobs).await;
            }
        });
        sender
    }

    async fn run_batch(&self, jobs: &mut Vec<Job>) {
        let mut tx = match self.db.begin().await {
            Ok(tx) => tx,
            Err(err) => {
                tracing::error!(error = %err, deliveries = jobs.len(), "webhook batch not started; Svix will retry");
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(unavailable()));
                }
                return;
            }
        };
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs.iter() {
            outcomes.push(self.apply_one(&mut tx, &job.delivery).await);
        }
        if let Err(err) = tx.commit().await {
            tracing::error!(error = %err, deliveries = jobs.len(), "webhook batch not committed; Svix will retry");
            for job in jobs.drain(..) {
                let _ = job.reply.send(Err(unavailable()));
            }
            return;
        }

        // Committed: every instance forgets what changed (once per batch), hooks run, and only
        // now does each delivery get its answer.
        let mut stale = Vec::new();
        for (job, outcome) in jobs.drain(..).zip(outcomes) {
            let answer = match outcome {
                Outcome::Applied(applied) => Ok(self.after_commit(job.delivery, *applied, &mut stale)),
                Outcome::Duplicate => Ok(Answer::Duplicate),
                Outcome::Failed(err) => Err(err),
            };
            let _ = job.reply.send(answer);
        }
        self.invalidations.invalidate(&stale).await;
    }

    /// Applies one delivery inside its own savepoint of the batch's transaction.
    async fn apply_one(&self, tx: &mut Tx, delivery: &Delivery) -> Outcome {
        let (svix_id, event_type) = (&delivery.svix_id, &delivery.event_type);
        if let Err(err) = tx.savepoint().await {
            tracing::error!(%svix_id, error = %err, "webhook not applied; Svix will retry");
            return Outcome::Failed(unavailable());
        }
        let applied = match apply::apply(tx, &self.api, &self.usernames, event_type, &delivery.data).await {
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
                    MirrorError::Clerk(_) => "Clerk could not be reached; Svix will retry",
                    _ => "the database refused the change; Svix will retry",
                };
                if let Err(err) = webhook_events::record_failure_in(tx.conn(), svix_id, event_type, kind).await {
                    tracing::warn!(%svix_id, error = %err, "recording a failed webhook failed");
                }
                return outcome;
            }
        };
        let status = applied.status.as_str();
        match webhook_events::record_in(tx.conn(), svix_id, event_type, status, applied.object_id.as_deref()).await {
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
    async fn undo(&self, tx: &mut Tx, svix_id: &str, outcome: Outcome) -> Outcome {
        if let Err(err) = tx.rollback_to_savepoint().await {
            tracing::error!(%svix_id, error = %err, "rolling back a webhook delivery failed");
            return Outcome::Failed(unavailable());
        }
        outcome
    }

    /// What a committed delivery changed: its invalidations join the batch's, its hooks run.
    fn after_commit(&self, delivery: Delivery, applied: Applied, stale: &mut Vec<Invalidation>) -> Answer {
        let mut items: Vec<Invalidation> = applied.after.users.into_iter().map(Invalidation::User).collect();
        if applied.after.memberships_changed {
            items.push(Invalidation::Memberships);
        }
        if let Some(sid) = applied.after.ended_session {
            items.push(Invalidation::SessionEnded(sid));
        }
        if applied.status == Status::Processed && items.is_empty() {
            // An organization or invitation changed: only the admin's lists show it.
            items.push(Invalidation::Listings);
        }
        for item in items {
            if !stale.contains(&item) {
                stale.push(item);
            }
        }
        if let Some(event) = applied.event {
            self.hooks.dispatch(HookEvent {
                svix_id: delivery.svix_id,
                event_type: delivery.event_type,
                payload: delivery.data,
                applied: event,
            });
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
