//! Organizations in the URL: `/orgs/{slug}` (an organization's home), `/orgs/{slug}/settings`
//! (its admins rename it, written through to Clerk) and `/me` (the personal account). Every
//! server function here takes the slug from the page's route and checks membership on each call
//! (`require_url_org`), so the page's organization travels with the call whatever the token's
//! active one is; a non-member or an unknown slug gets 404, never a hint that it exists. Each page
//! carries `data-url-org` for `clerk-glue.js`, which has ClerkJS make it the active one.

use ids::ClerkOrgId;
use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_params_map};
use serde::{Deserialize, Serialize};

use crate::{error::AppError, pages::error::set_page_status};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSummary {
    pub id: ClerkOrgId,
    pub name: String,
    pub slug: String,
    /// The user's role in it (`org:admin`).
    pub role: String,
    pub members: i64,
}

/// The organization the URL names, for one of its members. 404 for anyone else.
#[server(prefix = "/api/orgs", endpoint = "home")]
pub async fn org_home(slug: String) -> Result<OrgSummary, AppError> {
    let (user, org) = crate::auth::require_url_org(&slug).await?;
    let state = crate::state::app_state()?;
    let members = backend::db::memberships::count_in_org(&state.db, &org.clerk_id).await.map_err(AppError::internal)?;
    Ok(OrgSummary {
        id: org.clerk_id,
        name: org.name,
        slug,
        role: user.org.and_then(|o| o.role).unwrap_or_default(),
        members,
    })
}

/// Renames the organization the URL names: its admins only (403 for a member who is not one,
/// and for anyone naming an organization they are not in), written through to Clerk, audited.
#[server(prefix = "/api/orgs", endpoint = "rename")]
pub async fn rename_org(slug: String, name: String) -> Result<String, AppError> {
    let (user, org) = match crate::auth::require_url_org(&slug).await {
        Err(AppError::NotFound) => Err(AppError::Forbidden("Not a member of this organization".into())),
        other => other,
    }?;
    if !user.has_org_role("admin") {
        return Err(AppError::Forbidden("Organization role admin required".into()));
    }
    let state = crate::state::app_state()?;
    let actor = backend::admin::Actor {
        user_id: user.user.id,
        is_superuser: false,
        impersonated_by: user.actor.as_ref().map(|a| a.sub.clone()),
    };
    let slug = org.slug.clone().unwrap_or_default();
    let changed = backend::admin::orgs::edit_org(&state.db, &state.clerk_writes, actor, org.id, &name, &slug)
        .await
        .map_err(crate::error::edit_error)?;
    Ok(state.invalidations.settle(changed).await.name)
}

/// The signed-in user on a personal-account page: no organization is active.
#[server(prefix = "/api/orgs", endpoint = "personal")]
pub async fn personal_home() -> Result<crate::auth::UserView, AppError> {
    let mut user = crate::auth::require_user()?;
    user.org = None;
    Ok(crate::auth::UserView::from(&user))
}

fn slug() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()))
}

/// What a failed load shows: sign-in for nobody, the not-found page for 404, the message else.
fn failed(err: AppError) -> AnyView {
    match err {
        AppError::Unauthorized(_) => view! { <Redirect path="/sign-in" /> }.into_any(),
        AppError::NotFound => view! { <crate::pages::not_found::NotFound /> }.into_any(),
        err => {
            set_page_status(&err);
            view! { <p class="error">{err.to_string()}</p> }.into_any()
        }
    }
}

#[component]
pub fn OrgHomePage() -> impl IntoView {
    let slug = slug();
    let home = Resource::new(move || slug.get(), org_home);
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || home.get().map(|result| match result {
                Ok(org) => view! {
                    <section class="org" data-url-org=org.id.to_string()>
                        <h1 data-testid="org-name">{org.name.clone()}</h1>
                        <dl class="facts">
                            <dt>"Your role"</dt>
                            <dd data-testid="org-role">{org.role.clone()}</dd>
                            <dt>"Members"</dt>
                            <dd data-testid="org-members">{org.members}</dd>
                        </dl>
                        {(org.role == "org:admin").then(|| view! {
                            <p><a href=format!("/orgs/{}/settings", org.slug)>"Settings"</a></p>
                        })}
                        // ClerkJS's switcher (real Clerk only; it goes to the chosen one's URL).
                        <div id="clerk-org-switcher" class="clerk-mount"></div>
                    </section>
                }
                    .into_any(),
                Err(err) => failed(err),
            })}
        </Transition>
    }
}

#[component]
pub fn OrgSettingsPage() -> impl IntoView {
    let slug = slug();
    let rename = ServerAction::<RenameOrg>::new();
    let home = Resource::new(move || (slug.get(), rename.version().get()), |(slug, _)| org_home(slug));
    let outcome = move || match rename.value().get() {
        Some(Ok(name)) => Some(view! { <p class="ok" role="status">"Renamed to " {name} "."</p> }.into_any()),
        Some(Err(e)) => {
            let message = e.field_message("name").unwrap_or_else(|| e.to_string());
            Some(view! { <p class="error" role="alert">{message}</p> }.into_any())
        }
        None => None,
    };
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || home.get().map(|result| match result {
                Ok(org) if org.role != "org:admin" => {
                    let err = AppError::Forbidden("Organization role admin required".into());
                    set_page_status(&err);
                    view! { <p class="error" data-url-org=org.id.to_string()>{err.to_string()}</p> }.into_any()
                }
                Ok(org) => view! {
                    <section class="org-settings" data-url-org=org.id.to_string()>
                        <h1>{org.name.clone()} " settings"</h1>
                        <ActionForm action=rename attr:class="stack-form">
                            <input type="hidden" name="slug" value=org.slug.clone() />
                            <label>"Name" <input name="name" value=org.name.clone() required maxlength="256" /></label>
                            <button type="submit">"Rename"</button>
                        </ActionForm>
                    </section>
                }
                    .into_any(),
                Err(err) => failed(err),
            })}
        </Transition>
        {outcome}
    }
}

#[component]
pub fn PersonalPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| personal_home());
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || me.get().map(|result| match result {
                Ok(user) => view! {
                    <section class="personal" data-url-org="">
                        <h1>"Personal account"</h1>
                        <p data-testid="personal-email">{user.email.clone()}</p>
                        <p data-testid="personal-org">"No organization is active here."</p>
                    </section>
                }
                    .into_any(),
                Err(err) => failed(err),
            })}
        </Transition>
    }
}
