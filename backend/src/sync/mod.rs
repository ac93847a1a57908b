//! Full sync from Clerk's Backend API: every page, batched transactions, rate-limit aware, and
//! safe to kill and re-run. Rows go through the same mapping and order-safe upserts as webhooks.

mod billing;
mod fetch;
pub mod migrate;
mod organizations;
mod paging;
pub mod prune;
mod users;

use std::time::Duration;

use serde::Serialize;

pub use billing::sync_billing;
pub use fetch::Fetcher;
pub use organizations::sync_organizations;
pub use users::{generate_missing_usernames, sync_users};

/// Clerk's maximum page size.
pub const PAGE_SIZE: usize = 500;

/// The `data` array of one of Clerk's `{data, total_count}` pages.
fn page_data(page: &serde_json::Value, what: &str) -> Result<Vec<serde_json::Value>, SyncError> {
    page["data"].as_array().cloned().ok_or_else(|| SyncError::BadResponse(format!("{what}: no data array")))
}

#[derive(Clone, Copy, Debug)]
pub struct SyncOptions {
    pub prune: bool,
    pub dry_run: bool,
    pub members: bool,
    /// Waited after each page, so a background run leaves room for requests.
    pub pause: Duration,
    /// A prune that would tombstone more than this share of the live rows does nothing.
    pub max_prune_percent: f64,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            prune: false,
            dry_run: false,
            members: false,
            pause: Duration::ZERO,
            max_prune_percent: crate::config::DEFAULT_PRUNE_MAX_PERCENT,
        }
    }
}

/// What a sync did (or, with `--dry-run`, would do).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct SyncReport {
    pub fetched: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub stale: u64,
    pub pruned: u64,
    pub errors: u64,
    pub requests: u64,
    pub elapsed_ms: u64,
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memberships: Option<Box<SyncReport>>,
}

impl SyncReport {
    pub fn changed(&self) -> u64 {
        self.created + self.updated + self.pruned
    }
}

impl std::fmt::Display for SyncReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}{} changed: fetched {}, created {}, updated {}, unchanged {}, stale {}, pruned {}, errors {} \
             ({} requests, {:.1}s)",
            if self.dry_run { "dry run, would have " } else { "" },
            self.changed(),
            self.fetched,
            self.created,
            self.updated,
            self.unchanged,
            self.stale,
            self.pruned,
            self.errors,
            self.requests,
            Duration::from_millis(self.elapsed_ms).as_secs_f64(),
        )?;
        if let Some(m) = &self.memberships {
            write!(f, "; memberships: {m}")?;
        }
        Ok(())
    }
}

/// A progress event for the caller to render (a bar on a terminal, lines otherwise).
#[derive(Clone, Debug)]
pub enum Progress<'a> {
    Page { what: &'a str, fetched: u64, total: Option<u64> },
    Waiting { seconds: u64, reason: String },
    Done { what: &'a str, done: u64, total: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("Clerk refused the secret key ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    #[error("Clerk kept failing: {0}")]
    Clerk(String),
    /// A 4xx other than 401, 403 and 429: Clerk will give the same answer again.
    #[error("{0}")]
    Refused(crate::clerk::api::ApiError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("unexpected response from Clerk: {0}")]
    BadResponse(String),
    /// The share limit: more rows looked gone than a deletion wave would explain (a wrong
    /// instance's key, a broken listing). Nothing was pruned.
    #[error(
        "{candidates} of {live} {what} are missing from Clerk's listing, over the {max_percent}% prune limit: \
         nothing was pruned (check CLERK_SECRET_KEY, or raise --max-prune-percent / CLERK_PRUNE_MAX_PERCENT)"
    )]
    PruneRefused { what: &'static str, candidates: usize, live: usize, max_percent: f64 },
}
