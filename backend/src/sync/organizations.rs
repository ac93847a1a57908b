//! `sync-orgs [--members]`.

use ids::ClerkUserId;
use std::{collections::HashSet, time::Instant};

use serde_json::Value;

use super::{
    Fetcher, PAGE_SIZE, Progress, SyncError, SyncOptions, SyncReport, page_data,
    paging::Pages,
    prune::{membership_exists, prune},
    users::{Plan, plan},
};
use crate::{
    clerk::{
        api::{ApiError, ClerkApi},
        mapping::{self, MembershipParts},
    },
    db::{
        Db, memberships,
        mirror_state::{Mirrored, stored_versions},
        organizations::{self, Organization},
        users,
    },
    mirror::{Fetched, MirrorError, MirrorPolicy, user_for_membership},
};

pub async fn sync_organizations(
    db: &Db,
    api: &ClerkApi,
    policy: &MirrorPolicy,
    options: SyncOptions,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let mut report = SyncReport { dry_run: options.dry_run, ..Default::default() };
    let mut members = SyncReport { dry_run: options.dry_run, ..Default::default() };
    let mut fetcher = Fetcher::new(api, progress);
    let mut seen = HashSet::new();
    let mut pages = Pages::new(options.pause);
    while let Some(offset) = pages.next().await {
        let page = fetcher.call(|| api.list_organizations(PAGE_SIZE, offset)).await?;
        let list = page_data(&page, "GET /v1/organizations")?;
        let total = page["total_count"].as_u64();
        report.fetched += list.len() as u64;
        // Listed means alive, even when it failed to map: the prune must not take it for gone.
        seen.extend(list.iter().filter_map(|org| org["id"].as_str()).map(str::to_owned));
        let orgs = apply_page(db, &list, options, &mut report).await?;
        if options.members {
            for org in &orgs {
                sync_members(db, &mut fetcher, api, policy, org, options, &mut members).await?;
            }
        }
        progress(Progress::Page { what: "organizations", fetched: report.fetched, total });
        pages.fetched(list.len());
    }
    if options.prune {
        let max = options.max_prune_percent;
        report.pruned = prune(db, &mut fetcher, policy, Mirrored::Organizations, &seen, options.dry_run, max).await?;
    }
    report.requests = fetcher.requests;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    if options.members {
        report.memberships = Some(Box::new(members));
    }
    Ok(report)
}

/// Upserts one page of organizations in one transaction; returns the live stored rows.
async fn apply_page(
    db: &Db,
    list: &[Value],
    options: SyncOptions,
    report: &mut SyncReport,
) -> Result<Vec<Organization>, SyncError> {
    let mut fields = Vec::new();
    for org in list {
        match mapping::organization_fields(org) {
            Ok(f) => fields.push(f),
            Err(err) => {
                tracing::warn!(error = %err, "skipping an organization");
                report.errors += 1;
            }
        }
    }
    let ids: Vec<String> = fields.iter().map(|f| f.clerk_id.to_string()).collect();
    let stored = stored_versions(db, Mirrored::Organizations, &ids).await?;
    let mut tx = db.begin().await?;
    for f in &fields {
        match plan(stored.get(f.clerk_id.as_str()).copied(), f.clerk_updated_at) {
            Plan::Unchanged => report.unchanged += 1,
            Plan::Stale => report.stale += 1,
            Plan::Create if options.dry_run => report.created += 1,
            Plan::Update if options.dry_run => report.updated += 1,
            p => match organizations::upsert_from_clerk_in(tx.conn(), f).await? {
                Some(_) if p == Plan::Create => report.created += 1,
                Some(_) => report.updated += 1,
                None => report.stale += 1,
            },
        }
    }
    let mut live = Vec::new();
    for f in &fields {
        if let Some(org) =
            organizations::find_by_clerk_id_in(tx.conn(), &f.clerk_id).await?.filter(|o| o.deleted_at.is_none())
        {
            live.push(org);
        }
    }
    tx.commit().await?;
    Ok(live)
}

/// Every page of one organization's memberships; local memberships Clerk no longer has are
/// removed, once Clerk confirms each. Users we lack are fetched before each page's transaction.
async fn sync_members(
    db: &Db,
    fetcher: &mut Fetcher<'_>,
    api: &ClerkApi,
    policy: &MirrorPolicy,
    org: &Organization,
    options: SyncOptions,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let mut seen_users: HashSet<ClerkUserId> = HashSet::new();
    // Back to back: one organization's members are few pages.
    let mut pages = Pages::new(std::time::Duration::ZERO);
    while let Some(offset) = pages.next().await {
        let page = fetcher.call(|| api.list_memberships(&org.clerk_id, PAGE_SIZE, offset)).await?;
        let list = page_data(&page, "GET /v1/organizations/{id}/memberships")?;
        report.fetched += list.len() as u64;
        seen_users.extend(list.iter().filter_map(|m| m["public_user_data"]["user_id"].as_str()).map(ClerkUserId::from));
        let mut all_parts = Vec::with_capacity(list.len());
        for m in &list {
            match mapping::membership_parts(m) {
                Ok(parts) => all_parts.push(parts),
                Err(err) => {
                    tracing::warn!(error = %err, "skipping a membership");
                    report.errors += 1;
                }
            }
        }
        let fetched = fetch_missing_users(db, fetcher, api, &all_parts).await?;
        let mut tx = db.begin().await?;
        for parts in all_parts {
            let fetched_user = fetched.iter().find(|(id, _)| *id == parts.user_clerk_id).map(|(_, f)| f);
            let user = match user_for_membership(&mut tx, policy, &parts.user_clerk_id, fetched_user).await {
                Ok(Some(user)) if user.deleted_at.is_none() => user,
                Ok(_) => {
                    report.stale += 1;
                    continue;
                }
                Err(MirrorError::Database(e)) => return Err(e.into()),
                Err(err) => {
                    tracing::warn!(error = %err, "skipping a membership whose user could not be fetched");
                    report.errors += 1;
                    continue;
                }
            };
            let existing = memberships::find(db, user.id, &org.clerk_id).await?;
            let fields = parts.into_fields(org.id, user.id);
            let unchanged = existing
                .as_ref()
                .is_some_and(|e| e.clerk_id == fields.clerk_id && e.clerk_updated_at == Some(fields.clerk_updated_at));
            if unchanged {
                report.unchanged += 1;
            } else if options.dry_run {
                if existing.is_some() { report.updated += 1 } else { report.created += 1 }
            } else {
                match memberships::upsert_in(tx.conn(), &fields).await? {
                    Some(_) if existing.is_some() => report.updated += 1,
                    Some(_) => report.created += 1,
                    None => report.stale += 1,
                }
            }
        }
        tx.commit().await?;
        pages.fetched(list.len());
    }

    // Not listed is a suspicion (offset paging skips rows when earlier ones go): Clerk confirms
    // each removal before the tombstone.
    let mut gone = Vec::new();
    for (id, _, user_clerk_id) in memberships::live_in_organization(db, org.id).await? {
        let Some(user_clerk_id) = user_clerk_id else { continue };
        if seen_users.contains(&user_clerk_id) || membership_exists(fetcher, api, &org.clerk_id, &user_clerk_id).await?
        {
            continue;
        }
        gone.push(id);
    }
    report.pruned += gone.len() as u64;
    if !options.dry_run && !gone.is_empty() {
        let mut tx = db.begin().await?;
        for id in gone {
            memberships::tombstone_by_id_in(tx.conn(), id).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// The page's members we do not store yet, fetched from Clerk (a 404 is `Gone`). One that cannot
/// be fetched is left out: its membership is skipped and counted as an error.
async fn fetch_missing_users(
    db: &Db,
    fetcher: &mut Fetcher<'_>,
    api: &ClerkApi,
    parts: &[MembershipParts],
) -> Result<Vec<(ClerkUserId, Fetched)>, SyncError> {
    let mut fetched: Vec<(ClerkUserId, Fetched)> = Vec::new();
    for p in parts {
        let id = &p.user_clerk_id;
        if fetched.iter().any(|(f, _)| f == id) || users::find_by_clerk_id(db, id).await?.is_some() {
            continue;
        }
        match fetcher.call(|| api.get_user(id)).await {
            Ok(user) => fetched.push((id.clone(), Fetched::Found(user))),
            Err(SyncError::Refused(ApiError::Status { status: 404, .. })) => fetched.push((id.clone(), Fetched::Gone)),
            Err(err @ SyncError::Clerk(_)) => tracing::warn!(error = %err, user = %id, "fetching a member failed"),
            Err(err) => return Err(err),
        }
    }
    Ok(fetched)
}
