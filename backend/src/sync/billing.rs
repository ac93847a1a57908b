//! `server sync-billing`: Clerk's plans (`GET /v1/billing/plans`, for users and for
//! organizations), then every mirrored user's and organization's subscription, from the
//! Backend API (`GET /v1/users/{id}/billing/subscription`, `/v1/organizations/{id}/…`; 404 is
//! "none"), written with the webhooks' order-safe upserts. Payers are paged from our own tables
//! by id, a transaction per page, so a run can be killed and started again at no cost.

use std::time::Instant;

use super::{Fetcher, PAGE_SIZE, Progress, SyncError, SyncOptions, SyncReport, page_data, paging::Pages};
use crate::{
    clerk::api::{ApiError, ClerkApi},
    db::{
        Db,
        billing::{self, Payer},
    },
    mirror,
};

const PAYERS_PER_PAGE: i64 = 200;

pub async fn sync_billing(
    db: &Db,
    api: &ClerkApi,
    options: SyncOptions,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let mut report = SyncReport { dry_run: options.dry_run, ..Default::default() };
    let mut fetcher = Fetcher::new(api, progress);
    sync_plans(db, api, &mut fetcher, options, &mut report).await?;
    for orgs in [false, true] {
        let (payers, what) =
            if orgs { ("organizations", "organizations' billing") } else { ("users", "users' billing") };
        let mut after = 0;
        loop {
            let page = billing::payers_after(db, orgs, after, PAYERS_PER_PAGE).await?;
            let Some(&(last, _)) = page.last() else { break };
            let mut found = Vec::new();
            for (_, clerk_id) in &page {
                let answer = fetcher.call(|| async {
                    match api.billing_subscription(payers, clerk_id).await {
                        // No subscription: an empty answer, not a failure.
                        Err(ApiError::Status { status: 404, .. }) => Ok(serde_json::Value::Null),
                        other => other,
                    }
                });
                let answer = answer.await?;
                if answer.is_null() {
                    continue;
                }
                report.fetched += 1;
                let payer = if orgs {
                    Payer { user: None, org: Some(clerk_id.clone()) }
                } else {
                    Payer { user: Some(clerk_id.clone()), org: None }
                };
                match mirror::billing::subscription_of(&answer, &payer) {
                    Ok(rows) => found.push(rows),
                    Err(err) => {
                        tracing::warn!(error = %err, payer = %clerk_id, "skipping a subscription");
                        report.errors += 1;
                    }
                }
            }
            if !options.dry_run && !found.is_empty() {
                let mut tx = db.begin().await?;
                for (subscription, items) in &found {
                    let mut newer = billing::upsert_subscription_in(tx.conn(), subscription).await?;
                    for item in items {
                        newer |= billing::upsert_item_in(tx.conn(), item).await?;
                    }
                    if newer { report.updated += 1 } else { report.unchanged += 1 }
                }
                tx.commit().await?;
            }
            progress(Progress::Page { what, fetched: report.fetched, total: None });
            after = last;
            if !options.pause.is_zero() {
                tokio::time::sleep(options.pause).await;
            }
        }
    }
    report.requests = fetcher.requests;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Every plan, for users and for organizations; a page per transaction. Plans are only added or
/// refreshed, never removed, so paging by offset cannot lose one.
async fn sync_plans(
    db: &Db,
    api: &ClerkApi,
    fetcher: &mut Fetcher<'_>,
    options: SyncOptions,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    for payer_type in ["user", "org"] {
        let mut pages = Pages::new(options.pause);
        while let Some(offset) = pages.next().await {
            let page = fetcher.call(|| api.list_billing_plans(payer_type, PAGE_SIZE, offset)).await?;
            let list = page_data(&page, "GET /v1/billing/plans")?;
            report.fetched += list.len() as u64;
            let mut plans = Vec::new();
            for plan in &list {
                match mirror::billing::plan(plan) {
                    Ok(fields) => plans.push(fields),
                    Err(err) => {
                        tracing::warn!(error = %err, "skipping a plan");
                        report.errors += 1;
                    }
                }
            }
            if !options.dry_run && !plans.is_empty() {
                let mut tx = db.begin().await?;
                for plan in &plans {
                    if billing::upsert_plan_in(tx.conn(), plan).await? {
                        report.updated += 1
                    } else {
                        report.unchanged += 1
                    }
                }
                tx.commit().await?;
            }
            (fetcher.progress)(Progress::Page {
                what: "plans",
                fetched: report.fetched,
                total: page["total_count"].as_u64(),
            });
            pages.fetched(list.len());
        }
    }
    Ok(())
}
