//! Editing a mirrored organization and its memberships, all written through to Clerk.

use serde_json::{Map, Value};

use super::{Actor, Changes, ClerkWrites, EditError, Validation, name_ok, now_millis, record_audit};
use crate::{
    clerk::mapping,
    db::{
        Db,
        memberships::{self, MembershipFields},
        org_search::{self, Member},
        organizations::{self, ClerkOrganizationFields, Organization},
    },
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

async fn live_org(db: &Db, id: i64) -> Result<Organization, EditError> {
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
    id: i64,
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

async fn live_member(db: &Db, org: &Organization, user_id: i64) -> Result<(Member, String), EditError> {
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
    org_id: i64,
    user_id: i64,
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
    org_id: i64,
    user_id: i64,
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
fn member_changed(user_clerk_id: String) -> Changed<()> {
    Changed::new((), vec![Invalidation::User(user_clerk_id), Invalidation::Memberships])
}
