//! Actions on the browser's Clerk session: signing out, and in dev mode signing in, refreshing
//! tokens and switching the active organization.
//! With real Clerk, ClerkJS does these; the server side stays the same.

use leptos::prelude::*;

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use backend::clerk::OrgClaims;
    use http::{HeaderValue, header::SET_COOKIE};
    use leptos::prelude::use_context;

    use crate::{error::AppError, state::AppState};

    /// Sets (or, with `None`, clears) Clerk's `__session` cookie on the response.
    pub fn set_session_cookie(token: Option<&str>) -> Result<(), AppError> {
        append_cookie(&match token {
            Some(token) => format!("__session={token}; Path=/; HttpOnly; SameSite=Lax"),
            None => "__session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0".to_owned(),
        })
    }

    /// Sets Clerk's `__client_uat` cookie as ClerkJS does: the Unix time of the browser's last
    /// sign-in change, `0` once signed out. A cookie token needs it, and one older than it is
    /// refused (Clerk's rules, `backend::auth::authenticator`).
    pub fn set_client_uat(at: i64) -> Result<(), AppError> {
        append_cookie(&format!("__client_uat={at}; Path=/; SameSite=Lax"))
    }

    fn append_cookie(value: &str) -> Result<(), AppError> {
        let header = HeaderValue::from_str(value).map_err(AppError::internal)?;
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.append_header(SET_COOKIE, header);
        }
        Ok(())
    }

    /// Dev mode's stand-in, or 404 when dev mode is off (the routes then do not exist).
    pub fn dev_state() -> Result<(AppState, std::sync::Arc<backend::devmode::DevClerk>), AppError> {
        let state = crate::state::app_state()?;
        match state.dev.clone() {
            Some(dev) => Ok((state, dev)),
            None => Err(AppError::NotFound),
        }
    }

    /// Dev tokens never sign anyone in as staff (staff use /admin/login with a password). Read
    /// fresh from the database: a promotion since the last token must stop the next one.
    pub async fn refuse_staff(state: &AppState, clerk_id: &ids::ClerkUserId) -> Result<(), AppError> {
        let user = backend::db::users::find_by_clerk_id(&state.db, clerk_id).await.map_err(AppError::internal)?;
        if user.is_some_and(|u| u.is_staff || u.is_superuser) {
            return Err(AppError::Forbidden("Dev sign-in cannot sign in as a staff account".into()));
        }
        Ok(())
    }

    /// Mints a dev token and sets it as the `__session` cookie.
    pub fn issue_dev_token(
        dev: &backend::devmode::DevClerk,
        sub: &ids::ClerkUserId,
        sid: &ids::ClerkSessionId,
        org: Option<&OrgClaims>,
    ) -> Result<(), AppError> {
        let token = dev.mint(sub, sid, org).map_err(AppError::internal)?;
        set_session_cookie(Some(&token))
    }
}

/// Dev mode only: signs in as `email` (created on first use), optionally in an organization.
#[server(prefix = "/api/session", endpoint = "dev-sign-in")]
pub async fn dev_sign_in(
    email: String,
    first_name: String,
    last_name: String,
    org_name: String,
    org_role: String,
) -> Result<(), AppError> {
    use backend::dev_sign_in::{DevSignInError, DevSignInForm, sign_in};

    let (state, dev) = ssr::dev_state()?;
    let form = DevSignInForm {
        email: &email,
        first_name: &first_name,
        last_name: &last_name,
        org_name: &org_name,
        org_role: &org_role,
    };
    let signed_in = match sign_in(&state.db, form).await {
        Ok(changed) => state.invalidations.settle(changed).await,
        Err(err @ (DevSignInError::InvalidEmail | DevSignInError::InvalidRole)) => {
            return Err(AppError::BadRequest(err.to_string()));
        }
        Err(DevSignInError::Database(err)) => return Err(AppError::internal(err)),
        Err(err) => return Err(AppError::Forbidden(err.to_string())),
    };
    // A new sign-in moves `__client_uat`, as ClerkJS does when its client changes; the token
    // minted next has an `iat` no earlier.
    ssr::set_client_uat(backend::clerk::verify::unix_now())?;
    ssr::issue_dev_token(&dev, &signed_in.clerk_id, &backend::devmode::new_session_id(), signed_in.org.as_ref())?;
    leptos_axum::redirect("/account");
    Ok(())
}

/// Signs out: clears the token cookie and the server session's Clerk record.
#[server(prefix = "/api/session", endpoint = "sign-out")]
pub async fn sign_out() -> Result<(), AppError> {
    let session = crate::state::server_session()?;
    backend::auth::clerk_session::clear(&session).await;
    ssr::set_session_cookie(None)?;
    // Dev mode stands in for ClerkJS, which owns this cookie (on Clerk's domain) otherwise.
    if crate::state::app_state()?.dev.is_some() {
        ssr::set_client_uat(0)?;
    }
    leptos_axum::redirect("/");
    Ok(())
}

/// Dev mode: a fresh token for the signed-in user (as ClerkJS refreshes Clerk's 60 s tokens).
/// Returns the new token's lifetime in seconds.
#[server(prefix = "/api/session", endpoint = "refresh")]
pub async fn refresh_session() -> Result<i64, AppError> {
    let (state, dev) = ssr::dev_state()?;
    // Signed out meanwhile (another tab, or a race with sign-out): nothing to refresh.
    let Some(user) = crate::auth::current_user().ok().flatten() else { return Ok(0) };
    let Some(sub) = user.user.clerk_id.clone() else { return Ok(0) };
    ssr::refuse_staff(&state, &sub).await?;
    let sid = user.clerk_session_id.clone().unwrap_or_else(backend::devmode::new_session_id);
    ssr::issue_dev_token(&dev, &sub, &sid, user.org.as_ref())?;
    Ok(dev.token_ttl())
}

/// Dev mode: makes one of the user's organizations active (ClerkJS's `setActive`).
#[server(prefix = "/api/session", endpoint = "switch-org")]
pub async fn switch_org(org_id: String) -> Result<(), AppError> {
    let (state, dev) = ssr::dev_state()?;
    let user = crate::auth::require_user()?;
    let sub = user.user.clerk_id.clone().ok_or_else(|| AppError::Forbidden("Not a Clerk user".into()))?;
    ssr::refuse_staff(&state, &sub).await?;
    let memberships =
        backend::db::memberships::with_orgs_for_user(&state.db, user.user.id).await.map_err(AppError::internal)?;
    let org = if org_id.is_empty() {
        None
    } else {
        let m = memberships
            .into_iter()
            .find(|m| m.org_clerk_id == org_id.as_str())
            .ok_or_else(|| AppError::Forbidden("You are not a member of that organization".into()))?;
        Some(backend::clerk::OrgClaims {
            id: m.org_clerk_id,
            slug: m.org_slug,
            role: Some(m.role),
            permissions: m.permissions.0,
        })
    };
    let sid = user.clerk_session_id.clone().unwrap_or_else(backend::devmode::new_session_id);
    ssr::issue_dev_token(&dev, &sub, &sid, org.as_ref())?;
    // The server session must follow too, or it would stand in with the old organization.
    let session = crate::state::server_session()?;
    backend::auth::clerk_session::clear(&session).await;
    leptos_axum::redirect("/account");
    Ok(())
}
