//! Editing a mirrored organization and its memberships, all written through to Clerk.

use ids::{ClerkUserId, OrgId, UserId};

use serde_json::{Map, Value};

use super::{Actor, Changes, ClerkWrites, EditError, Validation, name_ok, now_millis, record_audit};
use crate::{
    clerk::mapping,
    db::{
        Db,
        invitations::{self, Invitation, InvitationFields},
        memberships::{self, MembershipFields},
        org_search::{self, Member},
        organizations::{self, ClerkOrganizationFields, Organization},
    },
    email::EmailAddress,
    invalidation::{Changed, Invalidation},
};

/// Clerk's slug rule: lowercase letters, digits and `-`, not at either end.
fn slug_ok(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-')
        && !value.ends_with('-')
}

/// `admin` or `org:admin` (and custom `org:…` roles): Clerk's form, with the prefix.
pub fn parse_role(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let name = raw.strip_prefix("org:").unwrap_or(raw);
    let ok = !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    ok.then(|| format!("org:{name}"))
}

async fn live_org(db: &Db, id: OrgId) -> Result<Organization, EditError> {
    let org = org_search::find(db, id).await?.ok_or(EditError::NotFound)?;
    if org.deleted_at.is_some() {
        return Err(EditError::Forbidden("A deleted organization cannot be edited".into()));
    }
    Ok(org)
}

/// Renames the organization and/or changes its slug, through Clerk.
pub async fn edit_org(
    db: &Db,
    writes: &ClerkWrites,
    actor: Actor,
    id: OrgId,
    name: &str,
    slug: &str,
) -> Result<Changed<Organization>, EditError> {
    let before = live_org(db, id).await?;
    let (name, slug) = (name.trim().to_owned(), slug.trim().to_owned());
    let mut v = Validation::default();
    v.check(!name.is_empty() && name_ok(&name), "name", "Required; at most 256 characters");
    v.check(slug_ok(&slug), "slug", "Lowercase letters, digits and -, at most 64 characters");
    v.finish()?;

    let mut patch = Map::new();
    if name != before.name {
        patch.insert("name".into(), Value::from(name.clone()));
    }
    if Some(&slug) != before.slug.as_ref() {
        patch.insert("slug".into(), Value::from(slug.clone()));
    }
    if patch.is_empty() {
        return Ok(Changed::nothing(before));
    }
    let fields = match writes {
        ClerkWrites::Api(api) => {
            let answer = api.patch_organization(&before.clerk_id, &Value::Object(patch)).await?;
            mapping::organization_fields(&answer).map_err(|e| EditError::ClerkAnswer(e.to_string()))?
        }
        ClerkWrites::DevLocal => ClerkOrganizationFields {
            clerk_id: before.clerk_id.clone(),
            name,
            slug: Some(slug),
            image_url: before.image_url.clone(),
            members_count: before.members_count,
            max_allowed_memberships: before.max_allowed_memberships,
            public_metadata: before.public_metadata.0.clone(),
            clerk_updated_at: now_millis().max(before.clerk_updated_at.unwrap_or(0) + 1),
        },
    };
    let mut tx = db.begin().await?;
    organizations::upsert_from_clerk_in(tx.conn(), &fields).await?;
    let after = organizations::find_by_clerk_id_in(tx.conn(), &before.clerk_id).await?.ok_or(EditError::NotFound)?;
    let mut changes = Changes::default();
    changes.field("name", before.name.clone(), after.name.clone());
    changes.field("slug", before.slug.clone(), after.slug.clone());
    record_audit(&mut tx, actor, "organization.update", "organization", &id.to_string(), changes).await?;
    tx.commit().await?;
    // Memberships carry the organization's name.
    Ok(Changed::new(after, vec![Invalidation::Memberships]))
}

async fn live_member(db: &Db, org: &Organization, user_id: UserId) -> Result<(Member, ClerkUserId), EditError> {
    let member = org_search::member(db, org.id, user_id).await?.ok_or(EditError::NotFound)?;
    let user_clerk_id =
        member.user_clerk_id.clone().ok_or_else(|| EditError::Forbidden("This member has no Clerk account".into()))?;
    Ok((member, user_clerk_id))
}

/// Changes a member's role, through Clerk's membership endpoint.
pub async fn change_role(
    db: &Db,
    writes: &ClerkWrites,
    actor: Actor,
    org_id: OrgId,
    user_id: UserId,
    role: &str,
) -> Result<Changed<()>, EditError> {
    let org = live_org(db, org_id).await?;
    let Some(role) = parse_role(role) else {
        return Err(EditError::Invalid(vec![super::FieldError { field: "role", message: "Not a valid role".into() }]));
    };
    let (member, user_clerk_id) = live_member(db, &org, user_id).await?;
    if role == member.role {
        return Ok(Changed::nothing(()));
    }
    let fields = match writes {
        ClerkWrites::Api(api) => {
            let answer = api.patch_membership(&org.clerk_id, &user_clerk_id, &role).await?;
            let parts = mapping::membership_parts(&answer).map_err(|e| EditError::ClerkAnswer(e.to_string()))?;
            parts.into_fields(org.id, user_id)
        }
        ClerkWrites::DevLocal => MembershipFields {
            clerk_id: member.membership_clerk_id.clone(),
            organization_id: org.id,
            user_id,
            role: role.clone(),
            permissions: vec![],
            clerk_updated_at: now_millis().max(member.clerk_updated_at.unwrap_or(0) + 1),
            public_metadata: member.public_metadata.0.clone(),
        },
    };
    let mut tx = db.begin().await?;
    memberships::upsert_in(tx.conn(), &fields).await?;
    let mut changes = Changes::default();
    changes.field("role", member.role.clone(), fields.role.clone());
    changes.context("member", member.email.clone());
    record_audit(&mut tx, actor, "membership.update", "organization", &org.id.to_string(), changes).await?;
    tx.commit().await?;
    Ok(member_changed(user_clerk_id))
}

/// Removes a member, through Clerk; the local row becomes a tombstone.
pub async fn remove_member(
    db: &Db,
    writes: &ClerkWrites,
    actor: Actor,
    org_id: OrgId,
    user_id: UserId,
) -> Result<Changed<()>, EditError> {
    let org = live_org(db, org_id).await?;
    let (member, user_clerk_id) = live_member(db, &org, user_id).await?;
    let mut updated_at = now_millis().max(member.clerk_updated_at.unwrap_or(0));
    if let ClerkWrites::Api(api) = writes {
        let answer = api.delete_membership(&org.clerk_id, &user_clerk_id).await?;
        updated_at = updated_at.max(answer["updated_at"].as_i64().unwrap_or(0));
    }
    let fields = MembershipFields {
        clerk_id: member.membership_clerk_id.clone(),
        organization_id: org.id,
        user_id,
        role: member.role.clone(),
        permissions: vec![],
        clerk_updated_at: updated_at,
        public_metadata: member.public_metadata.0.clone(),
    };
    let mut tx = db.begin().await?;
    memberships::tombstone_in(tx.conn(), &fields).await?;
    let mut changes = Changes::default();
    changes.field("role", member.role.clone(), Value::Null);
    changes.context("member", member.email.clone());
    record_audit(&mut tx, actor, "membership.delete", "organization", &org.id.to_string(), changes).await?;
    tx.commit().await?;
    Ok(member_changed(user_clerk_id))
}

/// A membership changed: its user's cached organizations and every cached membership list go.
fn member_changed(user_clerk_id: ClerkUserId) -> Changed<()> {
    Changed::new((), vec![Invalidation::User(user_clerk_id), Invalidation::Memberships])
}

/// Invites `email` to the organization with `role`, through Clerk (which sends the email); the
/// invitation is stored from Clerk's answer and audited.
pub async fn invite(
    db: &Db,
    writes: &ClerkWrites,
    actor: Actor,
    org_id: OrgId,
    email: &str,
    role: &str,
) -> Result<Changed<Invitation>, EditError> {
    let org = live_org(db, org_id).await?;
    let email = EmailAddress::parse(email);
    let role = parse_role(role);
    let mut v = Validation::default();
    v.check(email.is_some(), "email_address", "Enter an email address like name@example.com");
    v.check(role.is_some(), "role", "Not a valid role");
    v.finish()?;
    let (Some(email), Some(role)) = (email, role) else { return Err(EditError::NotFound) };
    let answer = match writes {
        ClerkWrites::Api(api) => {
            let body = serde_json::json!({ "email_address": email.as_str(), "role": role });
            api.create_invitation(&org.clerk_id, &body).await?
        }
        ClerkWrites::DevLocal => serde_json::json!({
            "id": format!("orginv_dev_{}", uuid::Uuid::new_v4().simple()),
            "email_address": email.as_str(),
            "role": role,
            "status": "pending",
            "public_metadata": {},
        }),
    };
    let mut tx = db.begin().await?;
    let stored = store_answer(&mut tx, org.id, &answer, "pending").await?;
    let mut changes = Changes::default();
    changes.field("status", Value::Null, stored.status.clone());
    changes.context("email", stored.email_address.clone());
    changes.context("role", stored.role.clone());
    record_audit(&mut tx, actor, "invitation.create", "organization", &org.id.to_string(), changes).await?;
    tx.commit().await?;
    Ok(Changed::new(stored, vec![Invalidation::Listings]))
}

/// Revokes a pending invitation, through Clerk.
pub async fn revoke_invitation(
    db: &Db,
    writes: &ClerkWrites,
    actor: Actor,
    org_id: OrgId,
    invitation_id: i64,
) -> Result<Changed<Invitation>, EditError> {
    let org = live_org(db, org_id).await?;
    let invitation = org_search::invitation(db, org.id, invitation_id).await?.ok_or(EditError::NotFound)?;
    if invitation.status != "pending" {
        return Err(EditError::Forbidden(format!("This invitation is {} already", invitation.status)));
    }
    let answer = match writes {
        ClerkWrites::Api(api) => api.revoke_invitation(&org.clerk_id, &invitation.clerk_id).await?,
        ClerkWrites::DevLocal => serde_json::json!({
            "id": invitation.clerk_id,
            "email_address": invitation.email_address,
            "role": invitation.role,
            "public_metadata": invitation.public_metadata.0,
        }),
    };
    let mut tx = db.begin().await?;
    let stored = store_answer(&mut tx, org.id, &answer, "revoked").await?;
    let mut changes = Changes::default();
    changes.field("status", invitation.status.clone(), stored.status.clone());
    changes.context("email", stored.email_address.clone());
    record_audit(&mut tx, actor, "invitation.revoke", "organization", &org.id.to_string(), changes).await?;
    tx.commit().await?;
    Ok(Changed::new(stored, vec![Invalidation::Listings]))
}

/// Mirrors Clerk's invitation answer. A webhook that got there first may have made it final:
/// then the stored row stands.
async fn store_answer(
    tx: &mut crate::db::Tx,
    org_id: OrgId,
    answer: &Value,
    default_status: &str,
) -> Result<Invitation, EditError> {
    let clerk_id = answer["id"].as_str().filter(|s| !s.is_empty()).ok_or(EditError::ClerkAnswer("no id".into()))?;
    let empty = Value::Object(Default::default());
    let fields = InvitationFields {
        clerk_id,
        organization_id: org_id,
        email_address: answer["email_address"].as_str().unwrap_or_default(),
        role: answer["role"].as_str().unwrap_or_default(),
        status: answer["status"].as_str().unwrap_or(default_status),
        inviter_id: answer["inviter_id"].as_str(),
        public_metadata: answer.get("public_metadata").filter(|m| m.is_object()).unwrap_or(&empty),
    };
    if let Some(stored) = invitations::upsert_in(tx.conn(), &fields).await? {
        return Ok(stored);
    }
    invitations::find_by_clerk_id_in(tx.conn(), clerk_id).await?.ok_or(EditError::NotFound)
}
