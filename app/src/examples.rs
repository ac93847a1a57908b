//! Server functions that show each guard. Copy one to start your own; the tests call them to
//! prove the guards answer 401 and 403 as documented.

use leptos::prelude::*;

use crate::{auth::UserView, error::AppError};

/// Any signed-in user: returns who they are.
#[server(prefix = "/api/examples", endpoint = "whoami")]
pub async fn whoami() -> Result<UserView, AppError> {
    let user = crate::auth::require_user()?;
    Ok(UserView::from(&user))
}

/// Staff only.
#[server(prefix = "/api/examples", endpoint = "staff")]
pub async fn staff_only() -> Result<String, AppError> {
    let user = crate::auth::require_staff()?;
    Ok(format!("hello, staff member {}", user.user.email))
}

/// Superusers only.
#[server(prefix = "/api/examples", endpoint = "superuser")]
pub async fn superuser_only() -> Result<String, AppError> {
    crate::auth::require_superuser()?;
    Ok("hello, superuser".into())
}

/// Anyone with an active organization: returns its id.
#[server(prefix = "/api/examples", endpoint = "org")]
pub async fn active_org() -> Result<String, AppError> {
    let user = crate::auth::require_org()?;
    Ok(user.org.map(|o| o.id.into_string()).unwrap_or_default())
}

// README: recipe start
/// Admins of the active organization: how many members it has.
#[server(prefix = "/api/examples", endpoint = "team-size")]
pub async fn team_size() -> Result<i64, AppError> {
    let user = crate::auth::require_org_role("admin")?; // 401 / 403, status set for you
    let state = crate::state::app_state()?;
    let org_id = user.org.map(|o| o.id).unwrap_or_default();
    // SQL lives in backend/src/db/; errors are logged, and answered as an opaque 500.
    backend::db::memberships::count_in_org(&state.db, &org_id).await.map_err(AppError::internal)
}
// README: recipe end

/// Admins of the active organization.
#[server(prefix = "/api/examples", endpoint = "org-admin")]
pub async fn org_admin_only() -> Result<String, AppError> {
    crate::auth::require_org_role("admin")?;
    Ok("hello, org admin".into())
}

/// Members holding the custom permission `org:posts:publish` (feature `posts`, permission
/// `publish`, defined in the Clerk Dashboard under Organizations → Roles & Permissions).
#[server(prefix = "/api/examples", endpoint = "org-permission")]
pub async fn org_permission_only() -> Result<String, AppError> {
    crate::auth::require_org_permission("org:posts:publish")?;
    Ok("hello, publisher".into())
}

/// Users whose plan (theirs, or the active organization's) includes the feature `teams`.
#[server(prefix = "/api/examples", endpoint = "feature")]
pub async fn feature_only() -> Result<String, AppError> {
    crate::auth::require_feature("teams")?;
    Ok("hello, teams user".into())
}

/// Users on the plan `plan` (theirs or the active organization's; default `pro`), as Clerk
/// Billing puts it in the token's `pla`.
#[server(prefix = "/api/examples", endpoint = "plan")]
pub async fn plan_only(#[server(default)] plan: String) -> Result<String, AppError> {
    let plan = if plan.is_empty() { "pro" } else { plan.as_str() };
    crate::auth::require_plan(plan)?;
    Ok(format!("hello, {plan} subscriber"))
}

/// Step-up: only for a user who verified recently enough for Clerk's preset `level` (`strict`
/// by default: within 10 minutes). Otherwise 403 with Clerk's reverification body, on which
/// ClerkJS asks the user to verify and the call can be made again.
#[server(prefix = "/api/examples", endpoint = "reverified")]
pub async fn reverified_only(#[server(default)] level: String) -> Result<String, AppError> {
    let level = if level.is_empty() { "strict" } else { level.as_str() };
    let required =
        level.parse().map_err(|e: backend::invalid_value::InvalidValue| AppError::BadRequest(e.to_string()))?;
    crate::auth::require_reverification(required)?;
    Ok(format!("hello, reverified ({level})"))
}

// README: machine start
/// Scripts and services (an API key, M2M or OAuth token) holding the scope `projects:read`:
/// 401 without a valid machine token, 403 without the scope. Browsers' session tokens get 401.
#[server(prefix = "/api/examples", endpoint = "machine")]
pub async fn machine_only() -> Result<String, AppError> {
    let machine = crate::auth::require_scopes(&["projects:read"]).await?;
    Ok(format!("hello, {} for {}", machine.kind.as_str(), machine.subject))
}
// README: machine end

/// A signed-in user, or an API key acting for one (a user's key acts as that user; an
/// organization's key acts for no user, so it gets 403 here).
#[server(prefix = "/api/examples", endpoint = "user-or-api-key")]
pub async fn user_or_api_key() -> Result<String, AppError> {
    use crate::auth::AcceptsToken;
    let caller = crate::auth::require_token(AcceptsToken::SESSION_TOKEN | AcceptsToken::API_KEY).await?;
    match caller.user_id() {
        Some(user) => Ok(format!("hello, {user} by {}", caller.token_type().as_str())),
        None => Err(AppError::Forbidden("This key does not act for a user".into())),
    }
}
