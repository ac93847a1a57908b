//! `sync-users` and `generate-usernames`.

use std::{collections::HashSet, time::Instant};

use serde_json::Value;

use super::{Fetcher, PAGE_SIZE, Progress, SyncError, SyncOptions, SyncReport, paging::Pages, prune::prune};
use crate::{
    clerk::{api::ClerkApi, mapping},
    db::{
        Db,
        mirror_state::{Mirrored, stored_versions},
        users::{self, Upserted},
    },
    mirror::{MirrorError, MirrorPolicy, upsert_user, usernames},
};

/// How a fetched object compares with what we store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Plan {
    Create,
    Update,
    Unchanged,
    Stale,
}

/// Compares Clerk's `updated_at` with the stored one (and respects tombstones).
pub(super) fn plan(stored: Option<(Option<i64>, bool)>, incoming: i64) -> Plan {
    match stored {
        None => Plan::Create,
        Some((_, true)) => Plan::Stale,
        Some((Some(ts), false)) if ts > incoming => Plan::Stale,
        Some((Some(ts), false)) if ts == incoming => Plan::Unchanged,
        Some(_) => Plan::Update,
    }
}

pub async fn sync_users(
    db: &Db,
    api: &ClerkApi,
    policy: &MirrorPolicy,
    options: SyncOptions,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let mut report = SyncReport { dry_run: options.dry_run, ..Default::default() };
    let mut fetcher = Fetcher::new(api, progress);
    // Only --prune needs to remember every id; a plain sync stays flat in memory.
    let mut seen: HashSet<String> = HashSet::new();
    let mut pages = Pages::new(options.pause);
    while let Some(offset) = pages.next().await {
        let page = fetcher.call(|| api.list_users(PAGE_SIZE, offset)).await?;
        let list = page.as_array().ok_or_else(|| SyncError::BadResponse("GET /v1/users is not an array".into()))?;
        report.fetched += list.len() as u64;
        apply_page(db, policy, list, options, &mut report, options.prune.then_some(&mut seen)).await?;
        progress(Progress::Page { what: "users", fetched: report.fetched, total: None });
        pages.fetched(list.len());
    }
    if options.prune {
        let max = options.max_prune_percent;
        report.pruned = prune(db, &mut fetcher, policy, Mirrored::Users, &seen, options.dry_run, max).await?;
    }
    report.requests = fetcher.requests;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// One page in one transaction: a kill between pages loses nothing already committed.
async fn apply_page(
    db: &Db,
    policy: &MirrorPolicy,
    list: &[Value],
    options: SyncOptions,
    report: &mut SyncReport,
    seen: Option<&mut HashSet<String>>,
) -> Result<(), SyncError> {
    // Listed means alive, even when we could not map it: the prune must not take it for gone.
    if let Some(seen) = seen {
        seen.extend(list.iter().filter_map(|user| user["id"].as_str()).map(str::to_owned));
    }
    let mut planned = Vec::with_capacity(list.len());
    for user in list {
        match mapping::user_fields(user) {
            Ok(fields) => planned.push((user, fields)),
            Err(err) => {
                tracing::warn!(error = %err, "skipping a user Clerk sent without required fields");
                report.errors += 1;
            }
        }
    }
    let ids: Vec<String> = planned.iter().map(|(_, f)| f.clerk_id.to_string()).collect();
    let stored = stored_versions(db, Mirrored::Users, &ids).await?;
    let mut writes = Vec::new();
    for (user, fields) in planned {
        match plan(stored.get(fields.clerk_id.as_str()).copied(), fields.clerk_updated_at) {
            Plan::Unchanged => report.unchanged += 1,
            Plan::Stale => report.stale += 1,
            Plan::Create if options.dry_run => report.created += 1,
            Plan::Update if options.dry_run => report.updated += 1,
            Plan::Create | Plan::Update => writes.push(user),
        }
    }
    if writes.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for user in writes {
        match upsert_user(&mut tx, policy, user).await {
            Ok(Upserted::Created(_)) => report.created += 1,
            Ok(Upserted::Updated(_)) => report.updated += 1,
            Ok(Upserted::Stale) => report.stale += 1,
            Err(MirrorError::Database(e)) => return Err(e.into()),
            Err(err) => {
                tracing::warn!(error = %err, "skipping a user");
                report.errors += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Gives every live Clerk user without a username a generated one; returns how many.
pub async fn generate_missing_usernames(db: &Db, prefix: &str) -> Result<u64, sqlx::Error> {
    let ids = users::ids_missing_username(db).await?;
    let mut filled = 0;
    for id in ids {
        let mut tx = db.begin().await?;
        let username = usernames::free_username(&mut tx, prefix).await?;
        let done = users::set_missing_username_in(tx.conn(), id, &username).await?;
        tx.commit().await?;
        filled += done;
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::{Plan, plan};

    #[test]
    fn plans_follow_updated_at_and_tombstones() {
        assert_eq!(plan(None, 5), Plan::Create);
        assert_eq!(plan(Some((Some(4), false)), 5), Plan::Update);
        assert_eq!(plan(Some((None, false)), 5), Plan::Update);
        assert_eq!(plan(Some((Some(5), false)), 5), Plan::Unchanged);
        assert_eq!(plan(Some((Some(6), false)), 5), Plan::Stale);
        assert_eq!(plan(Some((Some(1), true)), 5), Plan::Stale);
    }
}
