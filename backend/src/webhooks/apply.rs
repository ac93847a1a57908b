//! Applies one verified event inside the delivery's transaction, from its payload and what was
//! fetched for it beforehand (never the network). Order safety lives in the repository upserts:
//! older `updated_at` loses, tombstones stay. Like every write, it returns what it made stale.

use chrono::DateTime;
use ids::{ClerkOrgId, ClerkSessionId, ClerkUserId};
use serde_json::Value;

use super::{
    event::{Change, ClerkEvent, EventKind, InvitationStep},
    hooks::AppliedEvent,
};
use crate::{
    clerk::mapping::{self, MappingError},
    db::{
        Tx, billing as db_billing, invitations, memberships, organizations,
        session_index::{EndSessions, end_clerk_sessions_in},
        users,
        users::Upserted,
    },
    invalidation::{Changed, Invalidation},
    mirror::{
        Fetched, MirrorError, MirrorPolicy, billing, tombstone_organization, tombstone_user, upsert_user,
        user_for_membership,
    },
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Processed,
    Ignored,
    Stale,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Ignored => "ignored",
            Self::Stale => "stale",
        }
    }
}

/// What one delivery did: its status, the object it was about, and the event for hooks.
pub struct Applied {
    pub status: Status,
    pub object_id: Option<String>,
    pub event: Option<AppliedEvent>,
}

impl Applied {
    fn new(status: Status, object_id: Option<String>, event: Option<AppliedEvent>) -> Self {
        Self { status, object_id, event }
    }

    /// An outcome that changed nothing anyone caches (ignored, stale).
    fn nothing(status: Status, object_id: Option<String>) -> Changed<Self> {
        Changed::nothing(Self::new(status, object_id, None))
    }
}

/// Applies `event`. `fetched` is what was fetched from Clerk for it beforehand: the user a
/// membership names, or the organization an invitation names, when we lacked them.
pub async fn apply(
    tx: &mut Tx,
    policy: &MirrorPolicy,
    event: &ClerkEvent,
    fetched: Option<&Fetched>,
) -> Result<Changed<Applied>, MirrorError> {
    let data = &event.data;
    let mut applied = match event.kind {
        EventKind::User(Change::Deleted) => user_deleted(tx, policy, data).await,
        EventKind::User(_) => user_upserted(tx, policy, data).await,
        EventKind::SessionCreated => session_created(tx, data).await,
        EventKind::SessionEnded(_) => session_ended(tx, event.name(), data).await,
        EventKind::Organization(Change::Deleted) => organization_deleted(tx, data).await,
        EventKind::Organization(_) => organization_upserted(tx, data).await,
        EventKind::Membership(change) => membership_changed(tx, policy, change, data, fetched).await,
        EventKind::Invitation(step) => invitation_changed(tx, step, data, fetched).await,
        EventKind::Subscription => subscription_changed(tx, data, event.timestamp).await,
        EventKind::SubscriptionItem => items_changed(tx, vec![billing::item(data, event.timestamp)?]).await,
        EventKind::PaymentAttempt => items_changed(tx, billing::payment_attempt_items(data, event.timestamp)?).await,
        EventKind::Other => Ok(Applied::nothing(Status::Ignored, None)),
    }?;
    if applied.value.status == Status::Processed && applied.stale.is_empty() {
        // An organization or invitation changed: only the admin's lists show it.
        applied.stale.push(Invalidation::Listings);
    }
    Ok(applied)
}

/// A subscription and the items it carries; stale when none of them was newer.
async fn subscription_changed(tx: &mut Tx, data: &Value, at: Option<i64>) -> Result<Changed<Applied>, MirrorError> {
    let (subscription, items) = billing::subscription(data, at)?;
    let object = Some(subscription.clerk_id.clone());
    let mut newer = db_billing::upsert_subscription_in(tx.conn(), &subscription).await?;
    for item in &items {
        newer |= db_billing::upsert_item_in(tx.conn(), item).await?;
    }
    let status = if newer { Status::Processed } else { Status::Stale };
    Ok(Changed::nothing(Applied::new(status, object, None)))
}

/// Subscription items on their own (an item's event, or a payment attempt's).
async fn items_changed(tx: &mut Tx, items: Vec<db_billing::ItemFields>) -> Result<Changed<Applied>, MirrorError> {
    let object = items.first().map(|i| i.clerk_id.clone());
    let mut newer = false;
    for item in &items {
        newer |= db_billing::upsert_item_in(tx.conn(), item).await?;
    }
    let status = if newer || items.is_empty() { Status::Processed } else { Status::Stale };
    Ok(Changed::nothing(Applied::new(status, object, None)))
}

/// The object's `id`, typed by what the caller knows the object is.
fn id_of<Id: From<String>>(data: &Value) -> Result<Id, MappingError> {
    data["id"].as_str().filter(|s| !s.is_empty()).map(|s| Id::from(s.to_owned())).ok_or(MappingError("id"))
}

async fn user_upserted(tx: &mut Tx, policy: &MirrorPolicy, data: &Value) -> Result<Changed<Applied>, MirrorError> {
    let clerk_id: ClerkUserId = id_of(data)?;
    let (status, event) = match upsert_user(tx, policy, data).await? {
        Upserted::Created(user) => (Status::Processed, Some(AppliedEvent::UserCreated(user))),
        Upserted::Updated(user) => (Status::Processed, Some(AppliedEvent::UserUpdated(user))),
        Upserted::Stale => (Status::Stale, None),
    };
    let applied = Applied::new(status, Some(clerk_id.to_string()), event);
    Ok(Changed::new(applied, vec![Invalidation::User(clerk_id)]))
}

async fn user_deleted(tx: &mut Tx, policy: &MirrorPolicy, data: &Value) -> Result<Changed<Applied>, MirrorError> {
    let clerk_id: ClerkUserId = id_of(data)?;
    let user = tombstone_user(tx, policy, &clerk_id).await?;
    let event = AppliedEvent::UserDeleted { clerk_id: clerk_id.clone(), user };
    let applied = Applied::new(Status::Processed, Some(clerk_id.to_string()), Some(event));
    Ok(Changed::new(applied, vec![Invalidation::User(clerk_id), Invalidation::Memberships]))
}

async fn session_created(tx: &mut Tx, data: &Value) -> Result<Changed<Applied>, MirrorError> {
    let session_id: ClerkSessionId = id_of(data)?;
    let user_id = ClerkUserId::from(data["user_id"].as_str().ok_or(MappingError("user_id"))?);
    let at = data["created_at"].as_i64().and_then(DateTime::from_timestamp_millis).unwrap_or_else(crate::db::now);
    let user = users::record_login_in(tx.conn(), &user_id, at).await?;
    let event = AppliedEvent::SessionCreated { session_id, user };
    let applied = Applied::new(Status::Processed, Some(user_id.to_string()), Some(event));
    Ok(Changed::new(applied, vec![Invalidation::User(user_id)]))
}

async fn session_ended(tx: &mut Tx, event_type: &str, data: &Value) -> Result<Changed<Applied>, MirrorError> {
    let session_id: ClerkSessionId = id_of(data)?;
    end_clerk_sessions_in(tx.conn(), EndSessions::ClerkSession(&session_id)).await?;
    crate::db::ended_sessions::record_in(tx.conn(), &session_id).await?;
    let object = data["user_id"].as_str().map(ClerkUserId::from);
    if let Some(user_id) = &object {
        let at = data["updated_at"].as_i64().and_then(DateTime::from_timestamp_millis).unwrap_or_else(crate::db::now);
        users::record_logout_in(tx.conn(), user_id, at).await?;
    }
    let event = AppliedEvent::SessionEnded { session_id: session_id.clone(), event_type: event_type.to_owned() };
    let applied = Applied::new(Status::Processed, object.as_ref().map(ToString::to_string), Some(event));
    let mut stale = vec![Invalidation::SessionEnded(session_id)];
    stale.extend(object.map(Invalidation::User));
    Ok(Changed::new(applied, stale))
}

async fn organization_upserted(tx: &mut Tx, data: &Value) -> Result<Changed<Applied>, MirrorError> {
    let fields = mapping::organization_fields(data)?;
    let object = Some(fields.clerk_id.to_string());
    let Some(org) = organizations::upsert_from_clerk_in(tx.conn(), &fields).await? else {
        return Ok(Applied::nothing(Status::Stale, object));
    };
    let event = if org.created_at == org.updated_at {
        AppliedEvent::OrganizationCreated(org)
    } else {
        AppliedEvent::OrganizationUpdated(org)
    };
    let applied = Applied::new(Status::Processed, object, Some(event));
    Ok(Changed::new(applied, vec![Invalidation::Memberships]))
}

async fn organization_deleted(tx: &mut Tx, data: &Value) -> Result<Changed<Applied>, MirrorError> {
    let clerk_id: ClerkOrgId = id_of(data)?;
    let organization = tombstone_organization(tx, &clerk_id).await?;
    let event = AppliedEvent::OrganizationDeleted { clerk_id: clerk_id.clone(), organization };
    let applied = Applied::new(Status::Processed, Some(clerk_id.into_string()), Some(event));
    Ok(Changed::new(applied, vec![Invalidation::Memberships]))
}

async fn membership_changed(
    tx: &mut Tx,
    policy: &MirrorPolicy,
    change: Change,
    data: &Value,
    fetched: Option<&Fetched>,
) -> Result<Changed<Applied>, MirrorError> {
    let parts = mapping::membership_parts(data)?;
    let object = Some(parts.clerk_id.clone());
    // The payload embeds the full organization: mirror it (order-safe) before the membership.
    organizations::upsert_from_clerk_in(tx.conn(), &mapping::organization_fields(&data["organization"])?).await?;
    let org = organizations::find_by_clerk_id_in(tx.conn(), &parts.org_clerk_id).await?;
    let user = user_for_membership(tx, policy, &parts.user_clerk_id, fetched).await?;
    let (Some(org), Some(user)) = (org, user) else {
        return Ok(Applied::nothing(Status::Ignored, object));
    };
    if org.deleted_at.is_some() || user.deleted_at.is_some() {
        return Ok(Applied::nothing(Status::Stale, object));
    }
    let user_clerk_id = parts.user_clerk_id.clone();
    let fields = parts.into_fields(org.id, user.id);
    let (status, event) = if change == Change::Deleted {
        match memberships::tombstone_in(tx.conn(), &fields).await? {
            Some(m) => (Status::Processed, Some(AppliedEvent::MembershipDeleted(Some(m)))),
            None => (Status::Stale, None),
        }
    } else {
        match memberships::upsert_in(tx.conn(), &fields).await? {
            Some(m) if change == Change::Created => (Status::Processed, Some(AppliedEvent::MembershipCreated(m))),
            Some(m) => (Status::Processed, Some(AppliedEvent::MembershipUpdated(m))),
            None => (Status::Stale, None),
        }
    };
    let applied = Applied::new(status, object, event);
    Ok(Changed::new(applied, vec![Invalidation::User(user_clerk_id), Invalidation::Memberships]))
}

async fn invitation_changed(
    tx: &mut Tx,
    step: InvitationStep,
    data: &Value,
    fetched: Option<&Fetched>,
) -> Result<Changed<Applied>, MirrorError> {
    let clerk_id: String = id_of(data)?;
    let org_clerk_id = ClerkOrgId::from(data["organization_id"].as_str().ok_or(MappingError("organization_id"))?);
    // An invitation can arrive before its organization's own event: mirror the organization
    // fetched for it (order-safe), so the invitation is not lost.
    if let Some(Fetched::Found(org)) = fetched {
        organizations::upsert_from_clerk_in(tx.conn(), &mapping::organization_fields(org)?).await?;
    }
    let org = match organizations::find_by_clerk_id_in(tx.conn(), &org_clerk_id).await? {
        Some(org) => org,
        // Clerk has no such organization: nothing to attach the invitation to.
        None if matches!(fetched, Some(Fetched::Gone)) => {
            return Ok(Applied::nothing(Status::Ignored, Some(clerk_id)));
        }
        None => return Err(MirrorError::NotFetched(org_clerk_id.into_string())),
    };
    let status = match step {
        InvitationStep::Accepted => "accepted",
        InvitationStep::Revoked => "revoked",
        InvitationStep::Created => data["status"].as_str().unwrap_or("pending"),
    };
    let empty = Value::Object(Default::default());
    let fields = invitations::InvitationFields {
        clerk_id: &clerk_id,
        organization_id: org.id,
        email_address: data["email_address"].as_str().unwrap_or_default(),
        role: data["role"].as_str().unwrap_or_default(),
        status,
        inviter_id: data["inviter_id"].as_str(),
        public_metadata: data.get("public_metadata").filter(|m| m.is_object()).unwrap_or(&empty),
    };
    let Some(invitation) = invitations::upsert_in(tx.conn(), &fields).await? else {
        return Ok(Applied::nothing(Status::Stale, Some(clerk_id)));
    };
    let event = match step {
        InvitationStep::Accepted => AppliedEvent::InvitationAccepted(invitation),
        InvitationStep::Revoked => AppliedEvent::InvitationRevoked(invitation),
        InvitationStep::Created => AppliedEvent::InvitationCreated(invitation),
    };
    Ok(Changed::nothing(Applied::new(Status::Processed, Some(clerk_id), Some(event))))
}
