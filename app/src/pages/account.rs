//! `/account`: the worked example to copy. A page whose data comes from a server function that
//! starts with a guard, and a form that edits a local-only field through another one.

use ids::ClerkOrgId;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use serde::{Deserialize, Serialize};

use crate::{
    auth::UserView,
    error::AppError,
    site::{AuthActions, use_site},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipView {
    pub org_id: ClerkOrgId,
    pub org_name: String,
    pub role: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub user: UserView,
    /// The active organization's name, when one is active.
    pub org_name: Option<String>,
    pub bio: String,
    pub memberships: Vec<MembershipView>,
}

/// The signed-in user's account. 401 for anyone else.
#[server(prefix = "/api/account", endpoint = "get")]
pub async fn get_account() -> Result<Account, AppError> {
    let user = crate::auth::require_user()?;
    let state = crate::state::app_state()?;
    let memberships =
        backend::db::memberships::with_orgs_for_user(&state.db, user.user.id).await.map_err(AppError::internal)?;
    let active = user.org.as_ref().map(|o| o.id.clone());
    let org_name = memberships.iter().find(|m| Some(&m.org_clerk_id) == active.as_ref()).map(|m| m.org_name.clone());
    Ok(Account {
        user: UserView::from(&user),
        org_name,
        bio: user.user.bio.clone(),
        memberships: memberships
            .into_iter()
            .map(|m| MembershipView { org_id: m.org_clerk_id, org_name: m.org_name, role: m.role })
            .collect(),
    })
}

/// Edits the local-only `bio` (at most 280 characters).
#[server(prefix = "/api/account", endpoint = "bio")]
pub async fn update_bio(bio: String) -> Result<String, AppError> {
    use backend::account::{BioError, set_bio};

    let user = crate::auth::require_user()?;
    let state = crate::state::app_state()?;
    match set_bio(&state.db, &user.user, &bio).await {
        Ok(changed) => Ok(state.invalidations.settle(changed).await),
        Err(err @ BioError::TooLong) => Err(AppError::BadRequest(err.to_string())),
        Err(BioError::Database(err)) => Err(AppError::internal(err)),
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let save = ServerAction::<UpdateBio>::new();
    let switch = use_context::<AuthActions>().map(|a| a.switch_org);
    // Refetch after a save, and after an organization switch (which stays on this page).
    let account = Resource::new(move || (save.version().get(), switch.map(|s| s.version().get())), |_| get_account());

    view! {
        <section class="account">
            <h1>"Your account"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    account.get().map(|result| match result {
                        Ok(account) => view! { <AccountDetails account save switch /> }.into_any(),
                        Err(AppError::Unauthorized(_)) => view! { <Redirect path="/sign-in" /> }.into_any(),
                        Err(e) => {
                            crate::pages::error::set_page_status(&e);
                            view! { <p class="error">{e.to_string()}</p> }.into_any()
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn AccountDetails(
    account: Account,
    save: ServerAction<UpdateBio>,
    switch: Option<ServerAction<crate::clerk_actions::SwitchOrg>>,
) -> impl IntoView {
    let user = account.user.clone();
    let name = format!("{} {}", user.first_name, user.last_name).trim().to_owned();
    let display_name = if name.is_empty() { user.email.clone() } else { name };
    let role = user.org.as_ref().and_then(|o| o.role.clone()).unwrap_or_default();
    let active_org = user.org.as_ref().map(|o| o.id.clone()).unwrap_or_default();
    let dev_mode = use_site().and_then(|s| s.get()).and_then(|r| r.ok()).is_some_and(|i| i.dev_mode());
    let save_error = move || match save.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    let saved = move || matches!(save.value().get(), Some(Ok(_)));

    view! {
        <dl class="facts">
            <dt>"Name"</dt>
            <dd data-testid="account-name">{display_name}</dd>
            <dt>"Email"</dt>
            <dd>{user.email.clone()}</dd>
            <dt>"Clerk id"</dt>
            <dd><code>{user.clerk_id.clone().map(String::from).unwrap_or_default()}</code></dd>
            <dt>"Active organization"</dt>
            <dd data-testid="active-org">
                {match &account.org_name {
                    Some(org) => format!("{org} ({role})"),
                    None => "none".to_owned(),
                }}
            </dd>
        </dl>

        <h2>"Profile"</h2>
        <ActionForm action=save attr:class="stack-form">
            <label>
                "Bio (only stored here, never sent to Clerk)"
                <textarea name="bio" rows="3" maxlength="280">{account.bio.clone()}</textarea>
            </label>
            <button type="submit">"Save"</button>
            {move || saved().then(|| view! { <p class="ok" role="status">"Saved."</p> })}
            {move || save_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </ActionForm>

        {(!account.memberships.is_empty()).then(|| {
            let memberships = account.memberships.clone();
            view! {
                <h2>"Organizations"</h2>
                <ul class="memberships">
                    {memberships
                        .iter()
                        .map(|m| view! { <li>{m.org_name.clone()} " — " {m.role.clone()}</li> })
                        .collect_view()}
                </ul>
            }
        })}
        {match (dev_mode, switch) {
            (true, Some(switch)) if !account.memberships.is_empty() => {
                let options = account.memberships.clone();
                view! {
                    <ActionForm action=switch attr:class="inline-form">
                        <label>
                            "Active organization "
                            <select name="org_id">
                                <option value="" selected=active_org.as_str().is_empty()>"none"</option>
                                {options
                                    .into_iter()
                                    .map(|m| {
                                        let selected = m.org_id == active_org;
                                        view! { <option value=m.org_id.to_string() selected=selected>{m.org_name.clone()}</option> }
                                    })
                                    .collect_view()}
                            </select>
                        </label>
                        <button type="submit">"Switch"</button>
                    </ActionForm>
                }
                    .into_any()
            }
            (false, _) => view! { <div id="clerk-org-switcher" class="clerk-mount"></div> }.into_any(),
            _ => ().into_any(),
        }}
        <crate::pages::api_keys::ApiKeysSection />
    }
}
