//! Everything we store about one person, as one JSON document (`server export-user`): their
//! user row, memberships, the invitations addressed to them, the audit entries about them, and
//! how many server sessions they have (a count: session ids are bearer secrets).

use ids::{ClerkUserId, UserId};
use serde_json::{Value, json};

use crate::db::{Db, audit_log, invitations, memberships, session_index, users};

/// Whom to export.
#[derive(Clone, Copy, Debug)]
pub enum Person<'a> {
    /// The local user id (staff password accounts have no Clerk id).
    Local(UserId),
    ClerkId(&'a ClerkUserId),
    /// A Clerk user's email, case-insensitive; it must name exactly one.
    Email(&'a str),
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no user with that Clerk id or email")]
    NotFound,
    #[error("{0} Clerk users have that email: export by --clerk-id")]
    Ambiguous(usize),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

pub async fn export_person(db: &Db, who: Person<'_>) -> Result<Value, ExportError> {
    let user = match who {
        Person::Local(id) => users::find_by_id(db, id).await?.ok_or(ExportError::NotFound)?,
        Person::ClerkId(id) => users::find_by_clerk_id(db, id).await?.ok_or(ExportError::NotFound)?,
        Person::Email(email) => {
            let mut found = users::clerk_users_by_email(db, email).await?;
            match found.len() {
                0 => return Err(ExportError::NotFound),
                1 => found.remove(0),
                n => return Err(ExportError::Ambiguous(n)),
            }
        }
    };
    let memberships = memberships::all_of_user(db, user.id).await?;
    // A tombstone's email may be erased: then no invitation can be matched to them any more.
    let invitations =
        if user.email.is_empty() { Vec::new() } else { invitations::addressed_to(db, &user.email).await? };
    let audit = audit_log::about_user(db, user.id, &user.email).await?;
    let sessions = match &user.clerk_id {
        Some(clerk_id) => session_index::count_for_clerk_user(db, clerk_id).await?,
        None => 0,
    };
    Ok(json!({
        "user": user_json(&user),
        "memberships": memberships.iter().map(membership_json).collect::<Vec<_>>(),
        "invitations": invitations.iter().map(invitation_json).collect::<Vec<_>>(),
        "audit_log": audit.iter().map(audit_json).collect::<Vec<_>>(),
        "server_sessions": sessions,
    }))
}

/// Every column but the password hash, which `User` never carries.
fn user_json(u: &users::User) -> Value {
    json!({
        "id": u.id, "clerk_id": u.clerk_id, "email": u.email, "username": u.username,
        "first_name": u.first_name, "last_name": u.last_name, "image_url": u.image_url,
        "public_metadata": u.public_metadata.0, "bio": u.bio, "is_active": u.is_active,
        "is_staff": u.is_staff, "is_superuser": u.is_superuser, "deactivated_locally": u.deactivated_locally,
        "last_login": u.last_login, "last_logout": u.last_logout, "last_sign_in_at": u.last_sign_in_at, "deleted_at": u.deleted_at,
        "created_at": u.created_at, "updated_at": u.updated_at,
    })
}

fn membership_json(m: &memberships::ExportedMembership) -> Value {
    json!({
        "clerk_id": m.membership.clerk_id, "organization": m.org_clerk_id, "role": m.membership.role,
        "permissions": m.membership.permissions.0, "deleted_at": m.deleted_at,
        "created_at": m.membership.created_at, "updated_at": m.membership.updated_at,
    })
}

fn invitation_json(i: &invitations::Invitation) -> Value {
    json!({
        "clerk_id": i.clerk_id, "email_address": i.email_address, "role": i.role, "status": i.status,
        "inviter_id": i.inviter_id, "public_metadata": i.public_metadata.0,
        "created_at": i.created_at, "updated_at": i.updated_at,
    })
}

fn audit_json(a: &audit_log::AuditEntry) -> Value {
    json!({
        "id": a.id, "actor_user_id": a.actor_user_id, "action": a.action, "object_type": a.object_type,
        "object_id": a.object_id, "changes": a.changes.0, "created_at": a.created_at,
    })
}
