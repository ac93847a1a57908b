//! Billing in the admin: a user's or organization's subscription items (the current plan and its
//! history), counts by plan and status, and a superuser's cancellation of an item at the end of
//! its period through the Backend API (`DELETE /v1/billing/subscription_items/{id}`, `end_now`
//! left out as `@clerk/backend` 3.25.0 leaves it out when false), audited.

use ids::{OrgId, UserId};

use super::{Actor, Changes, ClerkWrites, EditError, record_audit};
use crate::{
    db::{
        Db,
        billing::{self, Payer, SubscriptionItem},
        org_search, users,
    },
    invalidation::{Changed, Invalidation},
    mirror,
};

/// The items a user pays for, newest period first.
pub async fn of_user(db: &Db, id: UserId) -> Result<Vec<SubscriptionItem>, EditError> {
    let user = users::find_by_id(db, id).await?.ok_or(EditError::NotFound)?;
    let payer = Payer { user: user.clerk_id.map(String::from), org: None };
    Ok(billing::items_of(db, &payer).await?)
}

/// The items an organization pays for, newest period first.
pub async fn of_org(db: &Db, id: OrgId) -> Result<Vec<SubscriptionItem>, EditError> {
    let org = org_search::find(db, id).await?.ok_or(EditError::NotFound)?;
    let payer = Payer { user: None, org: Some(org.clerk_id.into_string()) };
    Ok(billing::items_of(db, &payer).await?)
}

/// Cancels an item at the end of its period, through Clerk; superusers only. The answer is
/// mirrored at once (order-safe, like a webhook).
pub async fn cancel_item(
    db: &Db,
    writes: &ClerkWrites,
    actor: Actor,
    item_clerk_id: &str,
) -> Result<Changed<SubscriptionItem>, EditError> {
    if !actor.is_superuser || actor.impersonated_by.is_some() {
        return Err(EditError::Forbidden("Superuser access required".into()));
    }
    let before = billing::item(db, item_clerk_id).await?.ok_or(EditError::NotFound)?;
    if matches!(before.status.as_str(), "canceled" | "ended" | "abandoned" | "expired") {
        return Err(EditError::Forbidden(format!("This item is already {}", before.status)));
    }
    let ClerkWrites::Api(api) = writes else {
        return Err(EditError::Forbidden("Billing lives in Clerk: dev mode cannot cancel".into()));
    };
    let answer = api.cancel_subscription_item(item_clerk_id).await?;
    let fields = mirror::billing::item(&answer, None).map_err(|e| EditError::ClerkAnswer(e.to_string()))?;
    let mut tx = db.begin().await?;
    billing::upsert_item_in(tx.conn(), &fields).await?;
    let mut changes = Changes::default();
    changes.field("status", before.status.clone(), fields.status.clone());
    changes.field("canceled_at", before.canceled_at, fields.canceled_at);
    changes.context("plan", before.plan_slug.clone());
    record_audit(&mut tx, actor, "subscription_item.cancel", "subscription_item", item_clerk_id, changes).await?;
    tx.commit().await?;
    let after = billing::item(db, item_clerk_id).await?.ok_or(EditError::NotFound)?;
    Ok(Changed::new(after, vec![Invalidation::Listings]))
}
