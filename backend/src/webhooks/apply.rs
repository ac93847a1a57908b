//! Applies one verified event inside the delivery's transaction, from its payload alone (a
//! membership naming a user we lack is the one call back to Clerk). Order safety lives in the
//! repository upserts: older `updated_at` loses, tombstones stay.

use chrono::DateTime;
use serde_json::Value;

use super::hooks::AppliedEvent;
use crate::{
    clerk::mapping::{self, MappingError},
    db::{
        Tx, invitations, memberships, organizations,
        server_sessions::{EndSessions, end_clerk_sessions_in},
        users,
        users::Upserted,
    },
    mirror::{
        Fetched, MirrorError, MirrorPolicy, tombstone_organization, tombstone_user, upsert_user, user_for_membership,
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

/// Cache and session work to do once the transaction has committed.
#[derive(Debug, Default)]
pub struct AfterCommit {
    pub users: Vec<String>,
    pub memberships_changed: bool,
    pub ended_session: Option<String>,
}

pub struct Applied {
    pub status: Status,
    pub object_id: Option<String>,
    pub event: Option<AppliedEvent>,
    pub after: AfterCommit,
}

impl Applied {
    fn new(status: Status, object_id: Option<String>, event: Option<AppliedEvent>) -> Self {
        Self { status, object_id, event, after: AfterCommit::default() }
    }
}

/// `fetched` is the user a membership event names, when it was fetched from Clerk beforehand.
pub async fn apply(
    tx: &mut Tx,
    policy: &MirrorPolicy,
    event_type: &str,
    data: &Value,
    fetched: Option<&Fetched>,
) -> Result<Applied, MirrorError> {
    match event_type {
        "user.created" | "user.updated" => user_upserted(tx, policy, data).await,
        "user.deleted" => user_deleted(tx, policy, data).await,
        "session.created" => session_created(tx, data).await,
        "session.ended" | "session.removed" | "session.revoked" => session_ended(tx, event_type, data).await,
        "organization.created" | "organization.updated" => organization_upserted(tx, data).await,
        "organization.deleted" => organization_deleted(tx, data).await,
        "organizationMembership.created" | "organizationMembership.updated" | "organizationMembership.deleted" => {
            membership_changed(tx, policy, event_type, data, fetched).await
        }
        "organizationInvitation.created" | "organizationInvitation.accepted" | "organizationInvitation.revoked" => {
            invitation_changed(tx, event_type, data, fetched).await
        }
        _ => Ok(Applied::new(Status::Ignored, None, None)),
    }
}

fn id_of(data: &Value) -> Result<String, MappingError> {
    data["id"].as_str().filter(|s| !s.is_empty()).map(str::to_owned).ok_or(MappingError("id"))
}

async fn user_upserted(tx: &mut Tx, policy: &MirrorPolicy, data: &Value) -> Result<Applied, MirrorError> {
    let clerk_id = id_of(data)?;
    let (status, event) = match upsert_user(tx, policy, data).await? {
        Upserted::Created(user) => (Status::Processed, Some(AppliedEvent::UserCreated(user))),
        Upserted::Updated(user) => (Status::Processed, Some(AppliedEvent::UserUpdated(user))),
        Upserted::Stale => (Status::Stale, None),
    };
    let mut applied = Applied::new(status, Some(clerk_id.clone()), event);
    applied.after.users.push(clerk_id);
    Ok(applied)
}

async fn user_deleted(tx: &mut Tx, policy: &MirrorPolicy, data: &Value) -> Result<Applied, MirrorError> {
    let clerk_id = id_of(data)?;
    let user = tombstone_user(tx, policy, &clerk_id).await?;
    let event = AppliedEvent::UserDeleted { clerk_id: clerk_id.clone(), user };
    let mut applied = Applied::new(Status::Processed, Some(clerk_id.clone()), Some(event));
    applied.after.users.push(clerk_id);
    applied.after.memberships_changed = true;
    Ok(applied)
}

async fn session_created(tx: &mut Tx, data: &Value) -> Result<Applied, MirrorError> {
    let session_id = id_of(data)?;
    let user_id = data["user_id"].as_str().ok_or(MappingError("user_id"))?.to_owned();
    let at = data["created_at"].as_i64().and_then(DateTime::from_timestamp_millis).unwrap_or_else(crate::db::now);
    let user = users::record_login_in(tx.conn(), &user_id, at).await?;
    let mut applied =
        Applied::new(Status::Processed, Some(user_id.clone()), Some(AppliedEvent::SessionCreated { session_id, user }));
    applied.after.users.push(user_id);
    Ok(applied)
}

async fn session_ended(tx: &mut Tx, event_type: &str, data: &Value) -> Result<Applied, MirrorError> {
    let session_id = id_of(data)?;
    end_clerk_sessions_in(tx.conn(), EndSessions::ClerkSession(&session_id)).await?;
    crate::db::ended_sessions::record_in(tx.conn(), &session_id).await?;
    let object = data["user_id"].as_str().map(str::to_owned);
    if let Some(user_id) = &object {
        let at = data["updated_at"].as_i64().and_then(DateTime::from_timestamp_millis).unwrap_or_else(crate::db::now);
        users::record_logout_in(tx.conn(), user_id, at).await?;
    }
    let event = AppliedEvent::SessionEnded { session_id: session_id.clone(), event_type: event_type.to_owned() };
    let mut applied = Applied::new(Status::Processed, object.clone(), Some(event));
    applied.after.ended_session = Some(session_id);
    applied.after.users.extend(object);
    Ok(applied)
}

async fn organization_upserted(tx: &mut Tx, data: &Value) -> Result<Applied, MirrorError> {
    let fields = mapping::organization_fields(data)?;
    let object = Some(fields.clerk_id.clone());
    let Some(org) = organizations::upsert_from_clerk_in(tx.conn(), &fields).await? else {
        return Ok(Applied::new(Status::Stale, object, None));
    };
    let event = if org.created_at == org.updated_at {
        AppliedEvent::OrganizationCreated(org)
    } else {
        AppliedEvent::OrganizationUpdated(org)
    };
    let mut applied = Applied::new(Status::Processed, object, Some(event));
    applied.after.memberships_changed = true;
    Ok(applied)
}

async fn organization_deleted(tx: &mut Tx, data: &Value) -> Result<Applied, MirrorError> {
    let clerk_id = id_of(data)?;
    let organization = tombstone_organization(tx, &clerk_id).await?;
    let event = AppliedEvent::OrganizationDeleted { clerk_id: clerk_id.clone(), organization };
    let mut applied = Applied::new(Status::Processed, Some(clerk_id), Some(event));
    applied.after.memberships_changed = true;
    Ok(applied)
}

async fn membership_changed(
    tx: &mut Tx,
    policy: &MirrorPolicy,
    event_type: &str,
    data: &Value,
    fetched: Option<&Fetched>,
) -> Result<Applied, MirrorError> {
    let parts = mapping::membership_parts(data)?;
    let object = Some(parts.clerk_id.clone());
    // The payload embeds the full organization: mirror it (order-safe) before the membership.
    organizations::upsert_from_clerk_in(tx.conn(), &mapping::organization_fields(&data["organization"])?).await?;
    let org = organizations::find_by_clerk_id_in(tx.conn(), &parts.org_clerk_id).await?;
    let user = user_for_membership(tx, policy, &parts.user_clerk_id, fetched).await?;
    let (Some(org), Some(user)) = (org, user) else {
        return Ok(Applied::new(Status::Ignored, object, None));
    };
    if org.deleted_at.is_some() || user.deleted_at.is_some() {
        return Ok(Applied::new(Status::Stale, object, None));
    }
    let user_clerk_id = parts.user_clerk_id.clone();
    let fields = parts.into_fields(org.id, user.id);
    let (status, event) = if event_type == "organizationMembership.deleted" {
        match memberships::tombstone_in(tx.conn(), &fields).await? {
            Some(m) => (Status::Processed, Some(AppliedEvent::MembershipDeleted(Some(m)))),
            None => (Status::Stale, None),
        }
    } else {
        match memberships::upsert_in(tx.conn(), &fields).await? {
            Some(m) if event_type == "organizationMembership.created" => {
                (Status::Processed, Some(AppliedEvent::MembershipCreated(m)))
            }
            Some(m) => (Status::Processed, Some(AppliedEvent::MembershipUpdated(m))),
            None => (Status::Stale, None),
        }
    };
    let mut applied = Applied::new(status, object, event);
    applied.after.users.push(user_clerk_id);
    applied.after.memberships_changed = true;
    Ok(applied)
}

async fn invitation_changed(
    tx: &mut Tx,
    event_type: &str,
    data: &Value,
    fetched: Option<&Fetched>,
) -> Result<Applied, MirrorError> {
    let clerk_id = id_of(data)?;
    let org_clerk_id = data["organization_id"].as_str().ok_or(MappingError("organization_id"))?;
    // An invitation can arrive before its organization's own event: mirror the organization
    // fetched for it (order-safe), so the invitation is not lost.
    if let Some(Fetched::Found(org)) = fetched {
        organizations::upsert_from_clerk_in(tx.conn(), &mapping::organization_fields(org)?).await?;
    }
    let org = match organizations::find_by_clerk_id_in(tx.conn(), org_clerk_id).await? {
        Some(org) => org,
        // Clerk has no such organization: nothing to attach the invitation to.
        None if matches!(fetched, Some(Fetched::Gone)) => {
            return Ok(Applied::new(Status::Ignored, Some(clerk_id), None));
        }
        None => return Err(MirrorError::NotFetched(org_clerk_id.to_owned())),
    };
    let status = match event_type {
        "organizationInvitation.accepted" => "accepted",
        "organizationInvitation.revoked" => "revoked",
        _ => data["status"].as_str().unwrap_or("pending"),
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
        return Ok(Applied::new(Status::Stale, Some(clerk_id), None));
    };
    let event = match event_type {
        "organizationInvitation.accepted" => AppliedEvent::InvitationAccepted(invitation),
        "organizationInvitation.revoked" => AppliedEvent::InvitationRevoked(invitation),
        _ => AppliedEvent::InvitationCreated(invitation),
    };
    Ok(Applied::new(Status::Processed, Some(clerk_id), Some(event)))
}
