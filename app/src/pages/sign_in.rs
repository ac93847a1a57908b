//! `/sign-in`: Clerk's SignIn component, or in dev mode a simple form that creates or picks a
//! local user and sets a real, locally signed session token.

use leptos::prelude::*;

use crate::{
    error::AppError,
    site::{ClerkMode, use_site},
};

/// Dev mode only: signs in as `email` (created on first use), optionally in an organization.
#[server(prefix = "/api/session", endpoint = "dev-sign-in")]
pub async fn dev_sign_in(
    email: String,
    first_name: String,
    last_name: String,
    org_name: String,
    org_role: String,
) -> Result<(), AppError> {
    use backend::{
        clerk::OrgClaims,
        db::{memberships, organizations, users},
        devmode::{dev_id, new_session_id},
        invalidation::Invalidation,
    };
    use serde_json::json;

    let (state, dev) = crate::session::ssr::dev_state()?;
    let Some(email) = backend::email::EmailAddress::parse(&email) else {
        return Err(AppError::BadRequest("Enter a valid email address".into()));
    };
    let email = email.as_str().to_owned();
    let role = match org_role.as_str() {
        "" | "member" | "org:member" => "org:member",
        "admin" | "org:admin" => "org:admin",
        _ => return Err(AppError::BadRequest("The role must be member or admin".into())),
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    let clerk_id = dev_id("user", &email);
    let existing = users::find_by_clerk_id(&state.db, &clerk_id).await.map_err(AppError::internal)?;
    // Dev sign-in never signs in as staff: staff use /admin/login with a password.
    if existing.as_ref().is_some_and(|u| u.is_staff || u.is_superuser) {
        return Err(AppError::Forbidden("Dev sign-in cannot sign in as a staff account".into()));
    }
    let fields = users::ClerkUserFields {
        clerk_id: clerk_id.clone(),
        email: email.clone(),
        username: existing.as_ref().and_then(|u| u.username.clone()),
        first_name: first_name.trim().chars().take(100).collect(),
        last_name: last_name.trim().chars().take(100).collect(),
        image_url: String::new(),
        public_metadata: json!({}),
        last_sign_in_at: Some(chrono::Utc::now()),
        is_active: true,
        clerk_updated_at: now_ms,
    };
    let user = match users::upsert_from_clerk(&state.db, &fields).await.map_err(AppError::internal)? {
        users::Upserted::Created(u) | users::Upserted::Updated(u) => u,
        users::Upserted::Stale => return Err(AppError::Forbidden("That account was deleted".into())),
    };
    // The header, the guards and the admin's lists all see the new name at once.
    state.invalidations.invalidate(&[Invalidation::User(clerk_id.clone())]).await;

    let org_name = org_name.trim();
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
            clerk_id: dev_id("org", org_name),
            name: org_name.chars().take(100).collect(),
            slug: Some(slug.clone()),
            image_url: String::new(),
            members_count: None,
            max_allowed_memberships: None,
            public_metadata: json!({}),
            clerk_updated_at: now_ms,
        };
        organizations::upsert_from_clerk(&state.db, &org_fields).await.map_err(AppError::internal)?;
        let org = organizations::find_by_clerk_id(&state.db, &org_fields.clerk_id)
            .await
            .map_err(AppError::internal)?
            .filter(|o| o.deleted_at.is_none())
            .ok_or_else(|| AppError::Forbidden("That organization was deleted".into()))?;
        let membership = memberships::MembershipFields {
            clerk_id: format!("orgmem_dev_{}_{}", org.id, user.id),
            organization_id: org.id,
            user_id: user.id,
            role: role.to_owned(),
            permissions: vec!["org:sys_profile:read".into()],
            clerk_updated_at: now_ms,
        };
        memberships::upsert(&state.db, &membership).await.map_err(AppError::internal)?;
        state.invalidations.invalidate(&[Invalidation::Memberships]).await;
        Some(OrgClaims {
            id: org.clerk_id,
            slug: Some(slug),
            role: Some(role.to_owned()),
            permissions: membership.permissions,
        })
    };

    crate::session::ssr::issue_dev_token(&dev, &clerk_id, &new_session_id(), org.as_ref())?;
    leptos_axum::redirect("/account");
    Ok(())
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let site = use_site();
    view! {
        <section class="sign-in">
            <h1>"Sign in"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    site.and_then(|s| s.get())
                        .map(|info| match info {
                            Ok(info) if info.mode == ClerkMode::Dev => view! { <DevSignInForm /> }.into_any(),
                            Ok(_) => view! { <div id="clerk-sign-in" class="clerk-mount"></div> }.into_any(),
                            Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn DevSignInForm() -> impl IntoView {
    let action = use_context::<crate::site::AuthActions>().map(|a| a.sign_in).unwrap_or_default();
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <p class="muted">
            "Dev mode: sign-in is simulated. Enter any email; the same email signs in as the same user."
        </p>
        <ActionForm action=action attr:class="stack-form">
            <label>"Email" <input type="email" name="email" required autocomplete="email" /></label>
            <label>"First name (optional)" <input type="text" name="first_name" /></label>
            <label>"Last name (optional)" <input type="text" name="last_name" /></label>
            <label>"Organization (optional)" <input type="text" name="org_name" /></label>
            <label>
                "Role in it"
                <select name="org_role">
                    <option value="member">"member"</option>
                    <option value="admin">"admin"</option>
                </select>
            </label>
            <button type="submit">"Sign in"</button>
            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </ActionForm>
    }
}
