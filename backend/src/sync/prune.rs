//! `--prune`: tombstones the local rows Clerk no longer has. Paging by offset can skip a live
//! object when an earlier one is deleted mid-run, so "not listed" is only a suspicion: each
//! candidate is confirmed with Clerk (a 404 on its own URL) before it is touched, and a run that
//! suspects more than a set share of the rows prunes nothing (a wrong instance's key looks like
//! everyone vanished).

use ids::{ClerkOrgId, ClerkUserId};

use std::collections::HashSet;

use super::{Fetcher, SyncError};
use crate::{
    clerk::api::{ApiError, ClerkApi},
    db::{Db, mirror_state::Mirrored},
    mirror::{MirrorPolicy, tombstone_organization, tombstone_user},
};

/// Whether pruning `candidates` of `live` rows stays within `max_percent`.
pub fn within_limit(candidates: usize, live: usize, max_percent: f64) -> bool {
    candidates == 0 || (candidates as f64) <= live as f64 * max_percent / 100.0
}

pub(super) async fn prune(
    db: &Db,
    fetcher: &mut Fetcher<'_>,
    policy: &MirrorPolicy,
    what: Mirrored,
    seen: &HashSet<String>,
    dry_run: bool,
    max_percent: f64,
) -> Result<u64, SyncError> {
    let local = crate::db::mirror_state::live_clerk_ids(db, what).await?;
    let live = local.len();
    let candidates: Vec<String> = local.into_iter().filter(|id| !seen.contains(id)).collect();
    if !within_limit(candidates.len(), live, max_percent) {
        let err = SyncError::PruneRefused { what: what.noun(), candidates: candidates.len(), live, max_percent };
        tracing::error!(error = %err, "prune refused: nothing was tombstoned");
        return Err(err);
    }
    let api = fetcher.api;
    let mut gone = Vec::new();
    let mut kept = 0;
    for clerk_id in candidates {
        let answer = match what {
            Mirrored::Users => {
                let id = ClerkUserId::from(clerk_id.as_str());
                fetcher.call(|| api.get_user(&id)).await
            }
            Mirrored::Organizations => {
                let id = ClerkOrgId::from(clerk_id.as_str());
                fetcher.call(|| api.get_organization(&id)).await
            }
        };
        match answer {
            Err(SyncError::Refused(ApiError::Status { status: 404, .. })) => gone.push(clerk_id),
            Ok(_) => {
                tracing::info!(%clerk_id, "not in the listing but still in Clerk: kept");
                kept += 1;
            }
            Err(err) => return Err(err),
        }
    }
    if kept > 0 {
        // Not listed, yet Clerk still has them: the listing shifted under the run.
        tracing::warn!(kept, what = what.noun(), "rows missing from the listing are still in Clerk: kept");
    }
    if dry_run || gone.is_empty() {
        return Ok(gone.len() as u64);
    }
    // Confirmed one by one above, outside the transaction: no network call holds the writer.
    let mut tx = db.begin().await?;
    for clerk_id in &gone {
        match what {
            Mirrored::Users => {
                tombstone_user(&mut tx, policy, &ClerkUserId::from(clerk_id.as_str())).await.map(|_| ())?
            }
            Mirrored::Organizations => {
                tombstone_organization(&mut tx, &ClerkOrgId::from(clerk_id.as_str())).await.map(|_| ())?
            }
        }
    }
    tx.commit().await?;
    Ok(gone.len() as u64)
}

/// Whether Clerk still lists `user_id` as a member of `org_id` (`GET
/// /v1/organizations/{id}/memberships?user_id=`), for a membership the listing did not show.
pub(super) async fn membership_exists(
    fetcher: &mut Fetcher<'_>,
    api: &ClerkApi,
    org_id: &ClerkOrgId,
    user_id: &ClerkUserId,
) -> Result<bool, SyncError> {
    let page = fetcher.call(|| api.find_membership(org_id, user_id)).await?;
    let listed = page["data"]
        .as_array()
        .is_some_and(|data| data.iter().any(|m| m["public_user_data"]["user_id"].as_str() == Some(user_id.as_str())));
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::within_limit;

    #[test]
    fn the_share_limit_counts_candidates_against_live_rows() {
        assert!(within_limit(0, 0, 5.0));
        assert!(within_limit(5, 100, 5.0));
        assert!(!within_limit(6, 100, 5.0));
        assert!(!within_limit(1, 10, 5.0), "one of ten is 10%");
        assert!(within_limit(1, 10, 10.0));
        assert!(!within_limit(3, 3, 99.0), "everyone vanishing is refused below 100%");
        assert!(within_limit(3, 3, 100.0));
    }
}
