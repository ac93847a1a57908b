//! A mirror that repairs itself (`CLERK_RECONCILE_INTERVAL`): every interval, one instance (a
//! Postgres advisory lock; on SQLite the only one) runs the users and organizations sync with
//! `--prune` and `--members`, pausing between pages so requests keep the upper hand. Anything it
//! changes is drift, which means a webhook was missed: it is logged at `warn`.

use std::{sync::Arc, time::Duration};

use chrono::Utc;

use crate::{
    clerk::api::ClerkApi,
    db::{
        Db,
        reconcile_runs::{self, Totals},
    },
    invalidation::Invalidation,
    invalidation_bus::InvalidationBus,
    mirror::MirrorPolicy,
    sync::{self, Progress, SyncOptions, SyncReport},
};

/// Between two pages of the background sync: low priority, cheap in total (200 pages for
/// 100,000 users cost 4 s).
const PAGE_PAUSE: Duration = Duration::from_millis(20);
/// How often an instance checks whether a run is due (when the interval is longer).
const MAX_POLL: Duration = Duration::from_secs(60);
/// Runs kept in `reconcile_runs`.
const KEEP_RUNS: i64 = 100;

pub struct Reconciler {
    pub db: Db,
    pub api: ClerkApi,
    pub policy: MirrorPolicy,
    pub interval: Duration,
    /// `CLERK_PRUNE_MAX_PERCENT`.
    pub max_prune_percent: f64,
    pub invalidations: Arc<InvalidationBus>,
    /// Names this process in `reconcile_runs`.
    pub instance: String,
}

impl Reconciler {
    /// Checks every `min(interval, 60 s)` and runs when the newest run (by any instance) is
    /// an interval old: one run per interval however many instances there are.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.interval.min(MAX_POLL));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                if let Err(err) = self.run_if_due().await {
                    tracing::warn!(error = %err, "reconciliation could not run");
                }
            }
        })
    }

    /// Runs if no other instance is running and the last run is an interval old.
    pub async fn run_if_due(&self) -> Result<Option<Totals>, sqlx::Error> {
        let Some(lock) = reconcile_runs::try_lock(&self.db).await? else { return Ok(None) };
        let result = self.run_locked().await;
        lock.release().await;
        result
    }

    async fn run_locked(&self) -> Result<Option<Totals>, sqlx::Error> {
        // Instances' clocks tick apart: a run a little under an interval ago is this round's.
        let due_after = chrono::Duration::from_std(self.interval.mul_f64(0.9)).unwrap_or(chrono::Duration::MAX);
        if let Some(last) = reconcile_runs::last_started(&self.db).await?
            && Utc::now() - last < due_after
        {
            return Ok(None);
        }
        let id = reconcile_runs::start(&self.db, &self.instance).await?;
        let started = std::time::Instant::now();
        let options = SyncOptions {
            prune: true,
            dry_run: false,
            members: true,
            pause: PAGE_PAUSE,
            max_prune_percent: self.max_prune_percent,
        };
        let quiet = |_: Progress<'_>| {};
        let users = timed(sync::sync_users(&self.db, &self.api, &self.policy, options, &quiet)).await;
        let orgs = timed(sync::sync_organizations(&self.db, &self.api, &self.policy, options, &quiet)).await;
        let billing = timed(sync::sync_billing(&self.db, &self.api, options, &quiet)).await;
        let mut totals = Totals::default();
        let mut errors = Vec::new();
        for (what, (result, took)) in [("users", users), ("organizations", orgs), ("billing", billing)] {
            match result {
                Ok(report) => {
                    add(&mut totals, &report);
                    crate::measure::sync_run(what, true, took, report.created, report.updated, report.pruned);
                }
                Err(err) => {
                    errors.push(format!("{what}: {err}"));
                    crate::measure::sync_run(what, false, took, 0, 0, 0);
                }
            }
        }
        let error = (!errors.is_empty()).then(|| errors.join("; "));
        reconcile_runs::finish(&self.db, id, totals, error.as_deref()).await?;
        reconcile_runs::prune(&self.db, KEEP_RUNS).await?;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let (created, updated, pruned) = (totals.created, totals.updated, totals.pruned);
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        crate::measure::sync_run(
            "reconcile",
            error.is_none(),
            started.elapsed(),
            count(created),
            count(updated),
            count(pruned),
        );
        if created + updated + pruned > 0 {
            tracing::warn!(
                created,
                updated,
                pruned,
                elapsed_ms,
                "reconciliation corrected drift: webhooks were missed"
            );
            self.invalidations.invalidate(&[Invalidation::All]).await;
        } else {
            tracing::info!(elapsed_ms, "reconciliation found no drift");
        }
        if let Some(error) = &error {
            tracing::warn!(error = %error, "reconciliation stopped early");
        }
        Ok(Some(totals))
    }
}

/// `job`'s result and how long it took.
async fn timed<T>(job: impl Future<Output = T>) -> (T, std::time::Duration) {
    let started = std::time::Instant::now();
    let result = job.await;
    (result, started.elapsed())
}

/// This process in `reconcile_runs`: its pid, and a random tag that tells apart instances
/// on different hosts (or in one test process).
pub fn instance_name() -> String {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    format!("pid {} ({})", std::process::id(), &tag[..8])
}

fn add(totals: &mut Totals, report: &SyncReport) {
    totals.created += report.created as i64;
    totals.updated += report.updated as i64;
    totals.pruned += report.pruned as i64;
    totals.errors += report.errors as i64;
    if let Some(members) = &report.memberships {
        add(totals, members);
    }
}
