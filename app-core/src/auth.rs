//! The signed-in user, for components (a serializable view) and for server functions (guards).
//!
//! Every protected server function starts with one guard call:
//! ```ignore
//! #[server]
//! pub async fn my_projects() -> Result<Vec<Project>, AppError> {
//!     let user = require_user()?;              // 401 unless signed in
//!     let org = require_org_role("admin")?;    // 403 unless an admin of the active org
//!     ...
//! }
//! ```

use ids::{ClerkOrgId, ClerkUserId, UserId};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Declares a page for signed-in users: wrap the route's view in it (see `lazy_pages.rs`'s
/// `Account`). On the server, an anonymous request is answered with a 302 to `/sign-in` and
/// nothing of the page renders; the route uses `SsrMode::Async`, so the status is set before
/// anything is sent. In the browser (client-side navigation) the page's own data answers 401,
/// which it renders as a `<Redirect>`.
#[component]
pub fn SignedInOnly(children: ChildrenFn) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if !matches!(auth_state(), backend::auth::Auth::SignedIn(_)) {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(http::StatusCode::FOUND);
            res.insert_header(http::header::LOCATION, http::HeaderValue::from_static(SIGN_IN_PATH));
        }
        return ().into_any();
    }
    view! { <crate::error_page::ErrorPageBoundary>{children()}</crate::error_page::ErrorPageBoundary> }.into_any()
}

/// Where [`SignedInOnly`] sends anonymous visitors.
pub const SIGN_IN_PATH: &str = "/sign-in";

/// The active organization, as pages see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgView {
    pub id: ClerkOrgId,
    pub slug: Option<String>,
    pub role: Option<String>,
    pub permissions: Vec<String>,
}

/// What a page may know about the signed-in user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: UserId,
    pub clerk_id: Option<ClerkUserId>,
    pub email: String,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub image_url: String,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub org: Option<OrgView>,
    /// Who is impersonating this user (Clerk's `act`), if anyone.
    pub actor: Option<ActorView>,
}

/// The impersonator of an impersonated session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorView {
    /// The actor's Clerk user id.
    pub sub: ClerkUserId,
}

/// Who is using the admin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminView {
    pub user_id: UserId,
    pub email: String,
    pub is_superuser: bool,
    /// Signed in with a staff password (rather than a Clerk session).
    pub password_session: bool,
    /// The Clerk user impersonating this staff member, if anyone.
    pub impersonated_by: Option<ClerkUserId>,
}

#[cfg(feature = "ssr")]
pub use guards::*;

#[cfg(feature = "ssr")]
mod guards {
    use std::sync::Arc;

    pub use backend::{
        auth::Caller,
        machine::{AcceptsToken, Machine},
    };
    use backend::{
        auth::{Auth, CurrentUser, Rejection},
        staff::login_session::StaffSession,
    };
    use leptos::prelude::use_context;

    use super::{ActorView, AdminView, OrgView, UserView};
    use crate::error::AppError;

    impl From<&CurrentUser> for UserView {
        fn from(current: &CurrentUser) -> Self {
            let u = &current.user;
            Self {
                id: u.id,
                clerk_id: u.clerk_id.clone(),
                email: u.email.clone(),
                username: u.username.clone(),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                image_url: u.image_url.clone(),
                is_staff: u.is_staff,
                is_superuser: u.is_superuser,
                org: current.org.as_ref().map(|o| OrgView {
                    id: o.id.clone(),
                    slug: o.slug.clone(),
                    role: o.role.clone(),
                    permissions: o.permissions.clone(),
                }),
                actor: current.actor.as_ref().map(|a| ActorView { sub: a.sub.clone() }),
            }
        }
    }

    /// The request's authentication state, as the auth middleware left it.
    pub fn auth_state() -> Auth {
        use_context::<Auth>().unwrap_or(Auth::Anonymous)
    }

    /// The signed-in user, or `None` when nobody is. A bad token is still an error (401),
    /// and an outage is 503, rather than quietly anonymous.
    pub fn current_user() -> Result<Option<CurrentUser>, AppError> {
        // Clerk's default for a session with a task left: nobody is signed in yet. A machine
        // token is "not a session token" here: routes take one only through `require_token`.
        auth_state().session_user().map(|user| user.cloned()).map_err(|rejection| AppError::from(&rejection))
    }

    /// The caller, for a server function that accepts more than session tokens (Clerk's
    /// `auth({ acceptsToken })`): a signed-in user or a verified API key, M2M or OAuth token of
    /// a kind in `accepts`. 401 for nobody, a bad token, or a kind not in `accepts`; 503 when
    /// Clerk cannot verify an opaque token.
    /// ```ignore
    /// let caller = require_token(AcceptsToken::SESSION_TOKEN | AcceptsToken::API_KEY).await?;
    /// let user_id = caller.user_id(); // an API key acts for its user
    /// ```
    pub async fn require_token(accepts: AcceptsToken) -> Result<Caller, AppError> {
        let state = crate::state::app_state()?;
        match state.auth.caller(&auth_state(), accepts).await {
            Ok(Some(caller)) => Ok(caller),
            Ok(None) => Err(AppError::unauthenticated()),
            Err(rejection) => Err(AppError::from(&rejection)),
        }
    }

    /// 401 unless the request carries a valid API key, M2M or OAuth token.
    pub async fn require_machine() -> Result<Arc<Machine>, AppError> {
        match require_token(AcceptsToken::MACHINE).await? {
            Caller::Machine(machine) => Ok(machine),
            Caller::User(_) => Err(AppError::Unauthorized("A machine token is required".into())),
        }
    }

    /// 401 unless the request carries a valid machine token; 403 unless it holds every scope.
    pub async fn require_scopes(scopes: &[&str]) -> Result<Arc<Machine>, AppError> {
        let machine = require_machine().await?;
        match scopes.iter().find(|scope| !machine.has_scope(scope)) {
            None => Ok(machine),
            Some(missing) => Err(AppError::Forbidden(format!("Scope {missing} required"))),
        }
    }

    /// 401 unless someone is signed in.
    pub fn require_user() -> Result<CurrentUser, AppError> {
        match current_user()? {
            Some(user) => Ok(user),
            None if matches!(auth_state(), Auth::Rejected(Rejection::Pending)) => {
                Err(AppError::from(&Rejection::Pending))
            }
            None => Err(AppError::unauthenticated()),
        }
    }

    /// 403 unless the user is staff.
    pub fn require_staff() -> Result<CurrentUser, AppError> {
        let user = require_user()?;
        if user.user.is_staff { Ok(user) } else { Err(AppError::Forbidden("Staff access required".into())) }
    }

    /// 403 unless the user is a superuser.
    pub fn require_superuser() -> Result<CurrentUser, AppError> {
        let user = require_user()?;
        match (user.user.is_superuser, &user.actor) {
            (true, None) => Ok(user),
            (true, Some(_)) => {
                Err(AppError::Forbidden("Superuser actions are refused in an impersonated session".into()))
            }
            (false, _) => Err(AppError::Forbidden("Superuser access required".into())),
        }
    }

    /// 403 in Clerk's reverification shape unless the user verified recently enough for
    /// `required` (Clerk's `has({ reverification })`); ClerkJS then asks them to verify again.
    pub fn require_reverification(
        required: backend::auth::reverification::Reverification,
    ) -> Result<CurrentUser, AppError> {
        let user = require_user()?;
        if user.has_reverified(required) { Ok(user) } else { Err(AppError::reverification(required)) }
    }

    /// 403 unless an organization is active.
    pub fn require_org() -> Result<CurrentUser, AppError> {
        let user = require_user()?;
        if user.org.is_some() { Ok(user) } else { Err(AppError::Forbidden("Organization context required".into())) }
    }

    /// 403 unless the user has `role` (`admin` or `org:admin`) in the active organization.
    pub fn require_org_role(role: &str) -> Result<CurrentUser, AppError> {
        let user = require_org()?;
        if user.has_org_role(role) {
            Ok(user)
        } else {
            Err(AppError::Forbidden(format!("Organization role {role} required")))
        }
    }

    /// 403 unless the user has `permission` in the active organization.
    pub fn require_org_permission(permission: &str) -> Result<CurrentUser, AppError> {
        let user = require_org()?;
        if user.has_org_permission(permission) {
            Ok(user)
        } else {
            Err(AppError::Forbidden(format!("Organization permission {permission} required")))
        }
    }

    /// 403 unless the user's plan, or the active organization's, includes `feature` (Clerk's
    /// `has({feature})`: `org:x` or `user:x` asks one of them, a bare `x` either).
    pub fn require_feature(feature: &str) -> Result<CurrentUser, AppError> {
        let user = require_user()?;
        if user.has_feature(feature) {
            Ok(user)
        } else {
            Err(AppError::Forbidden(format!("Feature {feature} required")))
        }
    }

    /// The organization a page's URL names (`/orgs/{slug}`), as the active one, for a server
    /// function that page calls with the slug from its route: the user (with that organization
    /// active) and the organization. 404 unless it is live here and the user is a member; checked
    /// on every call, whatever organization the token has.
    pub async fn require_url_org(
        slug: &str,
    ) -> Result<(CurrentUser, backend::db::organizations::Organization), AppError> {
        let mut user = require_user()?;
        let state = crate::state::app_state()?;
        let reference = backend::org_urls::OrgRef::Slug(slug.to_owned());
        match state.auth.org_in_url(&user, &reference).await {
            Ok(Some((org, claims))) => {
                user.org = Some(claims);
                Ok((user, org))
            }
            Ok(None) => Err(AppError::NotFound),
            Err(rejection) => Err(AppError::from(&rejection)),
        }
    }

    /// 403 unless the user's plan, or the active organization's, is `plan` (Clerk's
    /// `has({plan})` over `pla`: `org:pro` or `user:free` asks one of them, a bare `pro` either).
    pub fn require_plan(plan: &str) -> Result<CurrentUser, AppError> {
        let user = require_user()?;
        if user.has_plan(plan) { Ok(user) } else { Err(AppError::Forbidden(format!("Plan {plan} required"))) }
    }

    impl From<backend::admin::access::StaffMember> for AdminView {
        fn from(m: backend::admin::access::StaffMember) -> Self {
            let backend::admin::access::StaffMember { user_id, email, is_superuser, password_session, impersonated_by } =
                m;
            Self { user_id, email, is_superuser, password_session, impersonated_by }
        }
    }

    /// The staff member using the admin (`backend::admin::access::admin_of`, the one rule).
    /// Everyone else, anonymous included, gets 403.
    pub fn require_admin() -> Result<AdminView, AppError> {
        match backend::admin::access::admin_of(use_context::<StaffSession>().as_ref(), Some(&auth_state())) {
            Some(admin) => Ok(admin.into()),
            None => Err(AppError::Forbidden("Staff access required".into())),
        }
    }

    impl AdminView {
        pub fn actor(&self) -> backend::admin::Actor {
            backend::admin::Actor {
                user_id: self.user_id,
                is_superuser: self.is_superuser,
                impersonated_by: self.impersonated_by.clone(),
            }
        }
    }
}
