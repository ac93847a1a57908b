//! Generated usernames written to Clerk (`PATCH /v1/users/{id}`), so that Clerk's next
//! `user.updated` carries them instead of erasing them. Rows wait in the table
//! (`username_pending_push`) until Clerk has the name, so a crash or an outage loses nothing:
//! the server pushes them in the background, `generate-usernames --push` as a backfill.

use ids::UserId;

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::usernames::free_username;
use crate::{
    clerk::api::{ApiError, ClerkApi},
    db::{Db, users},
    sync::{Fetcher, Progress, SyncError},
};

/// How often the server looks for usernames to push.
const POLL: Duration = Duration::from_secs(2);
const PAGE: i64 = 100;

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PushReport {
    pub pushed: u64,
    /// Taken in Clerk by someone else: a new name was generated, pushed on the next pass.
    pub renamed: u64,
    /// The Clerk user no longer exists.
    pub gone: u64,
    /// Clerk refused for another reason (logged); not tried again.
    pub failed: u64,
    pub requests: u64,
}

impl PushReport {
    /// Adds a later pass's counts to this one.
    pub fn add(&mut self, pass: &PushReport) {
        self.pushed += pass.pushed;
        self.renamed += pass.renamed;
        self.gone += pass.gone;
        self.failed += pass.failed;
        self.requests += pass.requests;
    }
}

/// Pushes every pending username once, rate-limit aware (429 waits, 5xx backs off).
pub async fn push_pending(
    db: &Db,
    api: &ClerkApi,
    prefix: &str,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<PushReport, SyncError> {
    let mut report = PushReport::default();
    let mut fetcher = Fetcher::new(api, progress);
    let mut after = UserId(0);
    loop {
        let page = users::pending_username_pushes(db, after, PAGE).await?;
        let Some((last, _, _)) = page.last() else { break };
        after = *last;
        for (id, clerk_id, username) in page {
            let body = json!({ "username": username });
            match fetcher.call(|| api.patch_user(&clerk_id, &body)).await {
                Ok(_) => {
                    users::username_push_done(db, id, &username).await?;
                    report.pushed += 1;
                }
                Err(SyncError::Refused(ApiError::Status { code, .. })) if code == "form_identifier_exists" => {
                    rename(db, id, &username, prefix).await?;
                    report.renamed += 1;
                }
                Err(SyncError::Refused(ApiError::Status { status: 404, .. })) => {
                    users::username_push_done(db, id, &username).await?;
                    report.gone += 1;
                }
                Err(SyncError::Refused(err)) => {
                    tracing::warn!(%clerk_id, error = %err, "Clerk refused a generated username");
                    users::username_push_done(db, id, &username).await?;
                    report.failed += 1;
                }
                Err(err) => return Err(err),
            }
        }
        progress(Progress::Done { what: "usernames pushed", done: report.pushed, total: report.pushed });
    }
    report.requests = fetcher.requests;
    Ok(report)
}

/// A fresh name, unique here, for a pending one Clerk refused.
async fn rename(db: &Db, id: UserId, old: &str, prefix: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let candidate = free_username(&mut tx, prefix).await?;
    users::replace_pending_username_in(tx.conn(), id, old, &candidate).await?;
    tx.commit().await
}

/// Pushes pending usernames every couple of seconds, for as long as the server runs. Each
/// instance does; a name pushed twice is the same PATCH twice.
pub fn spawn(db: Db, api: ClerkApi, prefix: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let quiet = |_: Progress<'_>| {};
        loop {
            tick.tick().await;
            match push_pending(&db, &api, &prefix, &quiet).await {
                Ok(report) if report == PushReport::default() => {}
                Ok(report) => tracing::info!(?report, "generated usernames written to Clerk"),
                Err(err) => tracing::warn!(error = %err, "writing generated usernames to Clerk failed; will retry"),
            }
        }
    })
}
