//! What every page needs to know: dev mode or Clerk, and who is signed in. One server function,
//! refetched whenever a sign-in, sign-out or organization switch completes.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    auth::UserView,
    clerk_actions::{DevSignIn, SignOut, SwitchOrg},
    compact::Postcard,
};

/// How the browser talks to Clerk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClerkMode {
    /// The local stand-in (debug builds without keys).
    Dev,
    /// Real Clerk: ClerkJS from this Frontend API host.
    Clerk { publishable_key: String, frontend_api: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub mode: ClerkMode,
    pub user: Option<UserView>,
    /// The email of the staff member logged in with a password, if any.
    pub staff: Option<String>,
    /// Dev tokens' lifetime, so the page can refresh them in time.
    pub token_ttl_secs: i64,
}

impl SiteInfo {
    pub fn dev_mode(&self) -> bool {
        self.mode == ClerkMode::Dev
    }
}

/// Postcard, and no `AppError`: its JSON encoding would put serde_json into the first download.
#[server(prefix = "/api/site", endpoint = "info", output = leptos::server_fn::codec::Postcard)]
pub async fn get_site() -> Result<SiteInfo, ServerFnError> {
    let state = crate::state::app_state().map_err(ServerFnError::new)?;
    let mode = match (&state.dev, &state.config.clerk_publishable_key) {
        (Some(_), _) => ClerkMode::Dev,
        (None, Some(pk)) => {
            ClerkMode::Clerk { publishable_key: pk.as_str().to_owned(), frontend_api: pk.frontend_api().to_owned() }
        }
        (None, None) => ClerkMode::Clerk { publishable_key: String::new(), frontend_api: String::new() },
    };
    // The header shows anonymous for a bad or expired token rather than failing the page.
    let user = match crate::auth::auth_state() {
        backend::auth::Auth::SignedIn(user) => Some(UserView::from(&user)),
        _ => None,
    };
    let staff = use_context::<backend::staff::login_session::StaffSession>().and_then(|s| s.0.map(|u| u.email.clone()));
    let token_ttl_secs = state.dev.as_ref().map(|d| d.token_ttl()).unwrap_or(60);
    Ok(SiteInfo { mode, user, staff, token_ttl_secs })
}

/// The actions that change who is signed in; pages refetch when their versions move.
#[derive(Clone, Copy)]
pub struct AuthActions {
    pub sign_in: ServerAction<DevSignIn>,
    pub sign_out: ServerAction<SignOut>,
    pub switch_org: ServerAction<SwitchOrg>,
}

pub type SiteResource = Resource<Result<SiteInfo, ServerFnError>, Postcard>;

/// Creates the site resource and the auth actions, and provides both. Called inside the router:
/// staff log in and out on the admin's own pages, so the resource is fetched again whenever the
/// browser enters or leaves the login page.
pub fn provide_site() -> SiteResource {
    let location = leptos_router::hooks::use_location();
    let on_login_page = Memo::new(move |_| location.pathname.with(|p| p == crate::admin::LOGIN_PATH));
    let versions = dev_actions();
    let site = Resource::new_with_options(move || (versions(), on_login_page.get()), |_| get_site(), false);
    provide_context(site);
    site
}

/// Dev mode's sign-in, sign-out and organization switch, whose versions the site follows. A
/// release build has no dev mode, so its wasm carries none of them (a smaller first download).
#[cfg(debug_assertions)]
fn dev_actions() -> impl Fn() -> [usize; 3] + Send + Sync + Copy + 'static {
    let actions =
        AuthActions { sign_in: ServerAction::new(), sign_out: ServerAction::new(), switch_org: ServerAction::new() };
    provide_context(actions);
    move || [actions.sign_in.version(), actions.sign_out.version(), actions.switch_org.version()].map(|v| v.get())
}

#[cfg(not(debug_assertions))]
fn dev_actions() -> impl Fn() -> [usize; 3] + Send + Sync + Copy + 'static {
    || [0; 3]
}

pub fn use_site() -> Option<SiteResource> {
    use_context::<SiteResource>()
}
