//! Dev mode's sign-in: creates or updates the local user (and organization and membership) that
//! a dev token then names, as Clerk's sign-in and its webhooks would. Returns what it changed,
//! for the caller to settle on the invalidation bus.

use ids::{ClerkOrgId, ClerkUserId};
use serde_json::json;

use crate::{
    clerk::OrgClaims,
    db::{Db, memberships, organizations, users},
    devmode::dev_id,
    email::EmailAddress,
    invalidation::{Changed, Invalidation},
};

/// The dev sign-in form, as submitted.
pub struct DevSignInForm<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    /// Empty: no organization.
    pub org_name: &'a str,
    /// `member` or `admin` (with or without `org:`); empty means member.
    pub org_role: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum DevSignInError {
    #[error("Enter a valid email address")]
    InvalidEmail,
    #[error("The role must be member or admin")]
    InvalidRole,
    /// Staff use /admin/login with a password.
    #[error("Dev sign-in cannot sign in as a staff account")]
    Staff,
    #[error("That account was deleted")]
    UserDeleted,
    #[error("That organization was deleted")]
    OrganizationDeleted,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Who to mint a dev token for.
pub struct DevSignedIn {
    pub clerk_id: ClerkUserId,
    pub org: Option<OrgClaims>,
}

pub async fn sign_in(db: &Db, form: DevSignInForm<'_>) -> Result<Changed<DevSignedIn>, DevSignInError> {
    let email = EmailAddress::parse(form.email).ok_or(DevSignInError::InvalidEmail)?;
    let email = email.as_str().to_owned();
    let role = match form.org_role {
        "" | "member" | "org:member" => "org:member",
        "admin" | "org:admin" => "org:admin",
        _ => return Err(DevSignInError::InvalidRole),
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    let clerk_id = ClerkUserId::new(dev_id("user", &email));
    let existing = users::find_by_clerk_id(db, &clerk_id).await?;
    if existing.as_ref().is_some_and(|u| u.is_staff || u.is_superuser) {
        return Err(DevSignInError::Staff);
    }
    let fields = users::ClerkUserFields {
        clerk_id: clerk_id.clone(),
        email,
        username: existing.as_ref().and_then(|u| u.username.clone()),
        first_name: form.first_name.trim().chars().take(100).collect(),
        last_name: form.last_name.trim().chars().take(100).collect(),
        image_url: String::new(),
        public_metadata: json!({}),
        last_sign_in_at: Some(chrono::Utc::now()),
        is_active: true,
        clerk_updated_at: now_ms,
        push_username: None,
    };
    let user = match users::upsert_from_clerk(db, &fields).await? {
        users::Upserted::Created(u) | users::Upserted::Updated(u) => u,
        users::Upserted::Stale => return Err(DevSignInError::UserDeleted),
    };
    // The header, the guards and the admin's lists all see the new name at once.
    let mut changed = vec![Invalidation::User(clerk_id.clone())];

    let org_name = form.org_name.trim();
    let org = if org_name.is_empty() {
        None
    } else {
        let slug: String = org_name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .trim_matches('-')
            .to_owned();
        let org_fields = organizations::ClerkOrganizationFields {
            clerk_id: ClerkOrgId::new(dev_id("org", org_name)),
            name: org_name.chars().take(100).collect(),
            slug: Some(slug.clone()),
            image_url: String::new(),
            members_count: None,
            max_allowed_memberships: None,
            public_metadata: json!({}),
            clerk_updated_at: now_ms,
        };
        organizations::upsert_from_clerk(db, &org_fields).await?;
        let org = organizations::find_by_clerk_id(db, &org_fields.clerk_id)
            .await?
            .filter(|o| o.deleted_at.is_none())
            .ok_or(DevSignInError::OrganizationDeleted)?;
        let membership = memberships::MembershipFields {
            clerk_id: format!("orgmem_dev_{}_{}", org.id, user.id),
            organization_id: org.id,
            user_id: user.id,
            role: role.to_owned(),
            permissions: vec!["org:sys_profile:read".into()],
            clerk_updated_at: now_ms,
            public_metadata: json!({}),
        };
        memberships::upsert(db, &membership).await?;
        changed.push(Invalidation::Memberships);
        Some(OrgClaims {
            id: org.clerk_id,
            slug: Some(slug),
            role: Some(role.to_owned()),
            permissions: membership.permissions,
        })
    };
    Ok(Changed::new(DevSignedIn { clerk_id, org }, changed))
}
